"""Fault matrix, live: signals end a session like Ctrl-C; killed sessions are repaired."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_helpers import one_line, temp_leftovers

from itbcoach.cli.main import main
from itbcoach.report.history import STALE_MESSAGE, History

SQUAT = Path(__file__).resolve().parents[2] / "sample_videos" / "exercise_squat.mp4"


def _start_live(tmp_path: Path, model_path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "itbcoach", "live", "--task", "squat", "--source", str(SQUAT),
         "--realtime", "--no-window", "--mute", "--model", str(model_path), "--history",
         str(tmp_path / "h.sqlite"), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=tmp_path)


def _wait_recording(tmp_path: Path, proc: subprocess.Popen[str], after_s: float) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if [p for p in tmp_path.glob(".rec.mp4.*.part.mp4") if p.stat().st_size > 0]:
            time.sleep(after_s)  # the session is under way
            return
        time.sleep(0.05)
    raise AssertionError(f"the live session did not start: {proc.communicate()[1]}")


def _video_frames(path: Path) -> tuple[int, float]:
    """Frames of a video and the time of its last frame, s."""
    import av

    with av.open(str(path)) as c:
        st = c.streams.video[0]
        times = [float(f.pts * f.time_base) for f in c.decode(st)]
    return len(times), times[-1]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_signal_ends_the_session_with_everything_saved(model_path, tmp_path, sig) -> None:
    (tmp_path / "rec.mp4").write_text("earlier recording\n")
    proc = _start_live(tmp_path, model_path, "--record", "rec.mp4", "--stats", "stats.json")
    _wait_recording(tmp_path, proc, after_s=2.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    with History(tmp_path / "h.sqlite") as h:
        (session,) = h.sessions()
    assert one_line(err) == (f"itbcoach: interrupted — session {session.id} and everything "
                             f"finished so far are saved (history: {tmp_path / 'h.sqlite'})")
    assert session.status == "interrupted" and session.ended_at is not None
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["status"] == "interrupted" and stats["displayed"] > 10
    frames, last_s = _video_frames(tmp_path / "rec.mp4")  # finalised, replaced the old
    assert frames == stats["displayed"]
    # wall-clock timing: each frame is stamped with the time it was shown since the
    # session started, so the last one is just before the session's end, however many
    # frames were dropped (a fixed-rate video put it at frames / fps)
    # (the JSON rounds wall_s to 0.01 s and the video stamps to 1 ms: a last frame 4 ms
    # before the end read 2.654 s against a wall_s of 2.65)
    assert stats["wall_s"] - 1.0 < last_s <= stats["wall_s"] + 0.006, (last_s,
                                                                         stats["wall_s"])
    assert temp_leftovers(tmp_path) == []


def test_a_killed_session_is_closed_as_failed_at_the_next_start(model_path, stepdown_npz,
                                                                tmp_path, monkeypatch,
                                                                capsys) -> None:
    proc = _start_live(tmp_path, model_path, "--record", "rec.mp4")
    _wait_recording(tmp_path, proc, after_s=0.5)
    proc.kill()  # kill -9: nothing runs in the process
    proc.communicate(timeout=30)
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        (session,) = h.sessions()
    assert session.status == "running"
    monkeypatch.setenv("ITBCOACH_HISTORY", str(db))
    assert main(["score", str(stepdown_npz), "--task", "stepdown", "--no-progress",
                 "--json", str(tmp_path / "r.json")]) == 0
    with History(db) as h:
        killed, scored = h.sessions()
    assert (killed.id, killed.status) == (session.id, "failed")
    assert killed.summary == {"message": STALE_MESSAGE}
    assert scored.status == "completed"
    # the killed run's temporary video is removed by the next write to the same name
    proc = _start_live(tmp_path, model_path, "--record", "rec.mp4", "--max-seconds", "1")
    proc.communicate(timeout=90)
    assert proc.returncode == 0 and temp_leftovers(tmp_path) == []


def test_a_session_of_a_live_process_is_left_open(tmp_path) -> None:
    with History(tmp_path / "h.sqlite") as h:
        mine = h.start_session("live", "squat")
        h.start_session("live", "squat")  # the second start repairs nothing: we are alive
        assert [s.status for s in h.sessions()] == ["running", "running"]
        h._db.execute("UPDATE sessions SET summary = ? WHERE id = ?",
                      (json.dumps({"pid": 2**22 + 7, "host": os.uname().nodename}), mine))
        assert h.close_stale() == [mine]


def test_max_seconds_must_be_positive(capsys) -> None:
    assert main(["live", "--task", "squat", "--max-seconds", "-1", "--no-window"]) == 2
    assert one_line(capsys.readouterr().err) == (
        "itbcoach: --max-seconds must be a positive number of seconds, got -1.0")


def test_no_display_is_one_line_exit_3(monkeypatch, model_path, tmp_path, capsys) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    code = main(["live", "--task", "squat", "--source", str(SQUAT), "--mute", "--model",
                 str(model_path), "--history", str(tmp_path / "h.sqlite")])
    assert code == 3
    assert one_line(capsys.readouterr().err) == (
        "itbcoach: cannot open a window: no display (DISPLAY is not set); run from a "
        "desktop session, or use --no-window")
