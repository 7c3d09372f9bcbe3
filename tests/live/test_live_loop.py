"""The live loop on real footage played as a camera: saved sessions, SIGINT, window."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.live.coach import ExerciseCoach
from itbcoach.live.loop import LiveOptions, mirror_x, run_live
from itbcoach.report.history import History


def test_mirror_x() -> None:
    pts = np.array([[0.0, 5.0], [639.0, 7.0], [np.nan, 1.0]])
    out = mirror_x(pts, 640)
    assert out[0].tolist() == [639.0, 5.0] and out[1].tolist() == [0.0, 7.0]
    assert np.isnan(out[2, 0])


def test_file_played_as_camera_saves_every_event(shared_videos: Path, model_path: Path,
                                                 tmp_path: Path) -> None:
    config = load_config(use_user_file=False)
    coach = ExerciseCoach(config, "side-step")
    db = tmp_path / "h.sqlite"
    stats = run_live(config, coach, LiveOptions(
        source=str(shared_videos / "sidestep_front_small_01.mp4"), realtime=True,
        window=False, mute=True, history=db, model=str(model_path),
        record=tmp_path / "shown.mp4"))
    assert stats.status == "source ended"
    # how many frames get analysed depends on the CPU (the benchmark measures it); every
    # result is drawn once, on its own frame or, when late, marked as the last result
    assert 0 < stats.results <= stats.submitted <= stats.captured
    assert stats.displayed >= stats.results * 0.9
    with History(db) as h:
        (session,) = h.sessions()
        events = h.events(session.id)
    assert session.kind == "live" and session.task == "side-step"
    assert session.status == "source ended"
    assert len(events) == stats.events
    steps = [e for e in events if e.type == "step"]
    assert len(steps) == session.summary["steps"]["left"] + session.summary["steps"]["right"]
    assert (tmp_path / "shown.mp4").stat().st_size > 10_000


SLOW_CLIP = "lunge_lateral_front_01.mp4"  # 32 s, 10 lateral lunges


def test_sigint_mid_run_keeps_finished_reps(shared_videos: Path, model_path: Path,
                                            tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    env = {**os.environ, "ITBCOACH_HISTORY": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "itbcoach", "live", "--task", "lateral-lunge", "--source",
         str(shared_videos / SLOW_CLIP), "--realtime", "--no-window", "--mute",
         "--model", str(model_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 90
    reps_before = 0
    while time.time() < deadline:
        time.sleep(1.0)
        if db.exists():
            with History(db) as h:
                reps_before = len(h.events(type="rep"))
            if reps_before >= 2:
                break
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert reps_before >= 2, err
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("itbcoach: interrupted")
    assert "Traceback" not in err
    with History(db) as h:
        (session,) = h.sessions()
        reps_after = len(h.events(session.id, type="rep"))
    assert session.status == "interrupted"
    assert reps_after >= reps_before  # nothing finished was lost


needs_xvfb = pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("import") is None,
                                reason="Xvfb and ImageMagick's import are needed "
                                       "(apt-get install xvfb imagemagick)")


@needs_xvfb
def test_window_under_xvfb_shows_skeleton_and_counter(shared_videos: Path, model_path: Path,
                                                      tmp_path: Path) -> None:
    display = ":93"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        env = {**os.environ, "DISPLAY": display, "ITBCOACH_HISTORY": str(tmp_path / "h.db")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "itbcoach", "live", "--task", "squat", "--source",
             str(shared_videos / "squat_front_01.mp4"), "--realtime", "--mute",
             "--model", str(model_path)], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        shots = []
        for i in range(3):
            time.sleep(3.5)
            shot = tmp_path / f"screen{i}.png"
            subprocess.run(["import", "-display", display, "-window", "root", str(shot)],
                           check=True, timeout=20)
            shots.append(shot)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    finally:
        xvfb.terminate()
        xvfb.wait()
    import cv2

    from itbcoach.feedback.overlay import LEFT_COLOR, RIGHT_COLOR

    img = cv2.imread(str(shots[-1]))
    assert img is not None
    keep = Path(os.environ.get("ITBCOACH_SCREENSHOTS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(keep / "live_window.png"), img)

    def near(color: tuple[int, int, int]) -> int:
        return int((np.abs(img.astype(int) - color).sum(axis=2) < 40).sum())

    assert near(LEFT_COLOR) > 300 and near(RIGHT_COLOR) > 300  # the skeleton
    top_right = img[:200, -400:]
    assert (top_right.min(axis=2) > 240).sum() > 500  # the big white counter digits
    assert "session" in out and "saved" in out
