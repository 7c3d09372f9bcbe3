"""What the live coach says (``--speech-log``) and the report it leaves, as the user runs
it: ``itbcoach live`` in a subprocess with a sample clip as the camera, read frame by
frame (so the same sentences come at the same source times every run)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

from itbcoach.report.history import History

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_videos"


def live(args: list[str], tmp_path: Path, model_path: Path) -> tuple[list[tuple[float, str]],
                                                                      str, Path]:
    """Run ``itbcoach live ... --no-window --mute --speech-log``; returns the log lines
    ``(t_s, sentence)``, stdout and the history database."""
    db = tmp_path / "history" / "h.sqlite"
    log = tmp_path / "said.txt"
    proc = subprocess.run(
        [sys.executable, "-m", "itbcoach", *args, "--no-window", "--mute", "--model",
         str(model_path), "--speech-log", str(log)],
        env={**os.environ, "ITBCOACH_HISTORY": str(db)}, capture_output=True, text=True,
        timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [(float(t), text) for t, text in
             (line.split("\t", 1) for line in log.read_text().splitlines())]
    return lines, proc.stdout, db


def test_stepdown_says_corrections_with_counts_results_and_asks_about_pain(
        model_path: Path, tmp_path: Path) -> None:
    # 3 reps per leg in the clip: the guide asks for 3 so it reaches the pain question
    lines, out, db = live(["--set", "stepdown.reps_per_side=3", "live", "--task", "stepdown",
                           "--source", str(SAMPLES / "stepdown_both_legs.mp4"),
                           "--person", "Ana"], tmp_path, model_path)
    said = [text for _t, text in lines]
    assert said == [
        "Stand on the step on your left leg, hands on your hips",
        "1", "2", "3. switch legs: stand on your right leg",  # the pelvis from the hands
        "1, keep your trunk upright", "2, keep your trunk upright",
        "3, keep your trunk upright. was it painful? press y or n",
        "left leg: good. right leg: medium"]
    times = [t for t, _text in lines]
    assert times == sorted(times) and times[0] == 1.5  # setup held 1.5 s (SETUP_OK_S)
    assert 40.0 < times[-1] <= 1278 / 30  # the result when the clip (42.6 s) ends
    # the report after the session: the offline report, linked from the history
    with History(db) as h:
        (session,) = h.sessions()
    assert session.person == "Ana" and session.report is not None
    page = Path(session.report)
    assert page == db.parent / "reports" / f"{session.id:04d}-stepdown" / "report.html"
    text = page.read_text()
    assert "Lateral step-down test" in text and "<svg" in text  # the plots
    assert text.count("data:image/jpeg;base64") >= 2  # worst frames of the faults
    assert f"report: {page}" in out


def test_exercise_is_introduced_then_counted(model_path: Path, tmp_path: Path) -> None:
    """The guided start: the card's introduction and posture instruction, the posture
    seen after ``live.ready_hold_s`` (1 s; no window: no minimum card time), a countdown
    (1 s here: the render's first squat starts at ~2 s), then the counts."""
    lines, _out, db = live(["--set", "live.countdown_s=1", "live", "--task", "squat",
                            "--source", str(SAMPLES / "exercise_squat.mp4")],
                           tmp_path, model_path)
    assert [text for _t, text in lines] == [
        "Squat. Feet about hip-width, squat down and stand back up. "
        "Stand facing the camera, whole body in view.",
        "1", "Go", "1", "2", "3", "set complete, rest"]
    times = [t for t, _text in lines]
    assert times[:3] == [0.0, 1.0, 2.0] and times == sorted(times)
    assert all(b - a > 1.5 for a, b in itertools.pairwise(times[3:6]))  # reps
    with History(db) as h:
        (session,) = h.sessions()
    assert session.person is None and session.report is not None  # no [history] person
    assert "Exercise: Squat" in Path(session.report).read_text()
    listing = subprocess.run([sys.executable, "-m", "itbcoach", "history", "--db", str(db)],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    assert listing[0].split()[:5] == ["id", "started", "(UTC)", "kind", "person"]
    assert listing[1].split()[4:6] == ["-", "squat"] and listing[1].endswith("reps 3")
    assert listing[2].strip() == f"report: {Path(session.report).resolve().as_uri()}"
