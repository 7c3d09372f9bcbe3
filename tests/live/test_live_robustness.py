"""The live loop when things go wrong: a second person in view (nothing counts, the
framing line asks for one person) and a camera lost mid-session (session saved, one
line, exit 3). Real footage and the real model; the vanishing camera is a test double
of the frame source (a real video file that raises InputError mid-run), injected
through ``run_live(source=...)`` or by replacing ``open_source`` for the CLI."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from itbcoach.cli.main import main
from itbcoach.config import load_config
from itbcoach.errors import ExitCode, InputError
from itbcoach.live.coach import ExerciseCoach, Frame
from itbcoach.live.loop import LiveOptions, run_live
from itbcoach.pose.people import ONE_PERSON_INSTRUCTION
from itbcoach.pose.sources import VideoFileSource
from itbcoach.report.history import History

CONFIG = load_config(use_user_file=False)
CAMERA_GONE = ("camera 0 stopped delivering frames for 2 s (unplugged or taken by another "
               "app); reconnect it and start again")


@dataclass
class RecordingCoach:
    """An ExerciseCoach that also keeps every frame the loop handed it."""

    inner: ExerciseCoach
    frames: list[Frame] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def update(self, frame: Frame) -> list:
        self.frames.append(frame)
        return self.inner.update(frame)


class VanishingCamera:
    """A real video played as a camera that disappears at ``fail_at_ms``: iteration
    raises the InputError :class:`~itbcoach.pose.sources.CameraSource` raises when its
    camera stops delivering frames."""

    def __init__(self, path: Path, fail_at_ms: int) -> None:
        self.inner = VideoFileSource(path, realtime=True)
        self.size, self.fps, self.name = self.inner.size, self.inner.fps, "camera 0"
        self.fail_at_ms = fail_at_ms
        self.delivered = 0
        self.closed = False

    def __iter__(self) -> Iterator[Any]:
        for frame in self.inner:
            if frame.timestamp_ms >= self.fail_at_ms:
                raise InputError(CAMERA_GONE)
            self.delivered += 1
            yield frame

    @property
    def dropped(self) -> int:
        return self.inner.dropped

    def close(self) -> None:
        self.closed = True
        self.inner.close()


def test_second_person_stops_counting_and_asks_for_one(two_people_video, model_path,
                                                       tmp_path):
    coach = RecordingCoach(ExerciseCoach(CONFIG, "squat"))
    stats = run_live(CONFIG, coach, LiveOptions(
        source=str(two_people_video), realtime=True, window=False, mute=True,
        history=tmp_path / "h.sqlite", model=str(model_path)))
    assert stats.status == "source ended"
    # ~1 check per second of a 5.2 s clip (a busy worker can skip one)
    assert 3 <= len(stats.people_check_ms) <= 6
    frames = coach.frames
    multi = [f for f in frames if f.people >= 2]
    assert multi and stats.multi_person_results == len(multi)
    for f in multi:  # while two people are seen, the coach gets "not ok" + the line
        assert f.framing_ok is False and f.instruction == ONE_PERSON_INSTRUCTION
    # after the first check that saw both, every later frame is gated
    first = frames.index(multi[0])
    assert len(multi) >= 0.5 * (len(frames) - first)
    with History(tmp_path / "h.sqlite") as h:
        (session,) = h.sessions()
        assert h.events(session.id, type="rep") == []


def test_camera_lost_mid_session_saves_what_was_done(shared_videos, model_path, tmp_path):
    db = tmp_path / "h.sqlite"
    camera = VanishingCamera(shared_videos / "sidestep_front_small_01.mp4", fail_at_ms=3000)
    coach = RecordingCoach(ExerciseCoach(CONFIG, "side-step"))
    with pytest.raises(InputError) as err:
        run_live(CONFIG, coach, LiveOptions(source="0", window=False, mute=True, history=db,
                                            model=str(model_path)), source=camera)
    assert camera.closed and camera.delivered > 30
    with History(db) as h:
        (session,) = h.sessions()
        events = h.events(session.id)
    assert str(err.value) == f"{CAMERA_GONE} — session {session.id} saved ({len(events)} events)"
    assert session.status == "camera lost" and session.kind == "live"
    steps = [e for e in events if e.type == "step"]
    assert steps, [e.type for e in events]  # steps finished before the camera went
    assert all(e.t_s < 3.0 for e in steps)
    assert max(f.t_s for f in coach.frames) < 3.0
    # one person throughout: the second-person check never gated a frame
    assert all(f.people <= 1 for f in coach.frames)
    assert session.summary is not None and session.summary["task"] == "side-step"


def test_cli_camera_lost_is_one_line_exit_3(shared_videos, model_path, tmp_path,
                                            monkeypatch, capfd):
    import itbcoach.pose.sources as sources

    db = tmp_path / "h.sqlite"
    monkeypatch.setattr(sources, "open_source", lambda *a, **k: VanishingCamera(
        shared_videos / "sidestep_front_small_01.mp4", fail_at_ms=1500))
    code = main(["live", "--task", "side-step", "--no-window", "--mute", "--history",
                 str(db), "--model", str(model_path)])
    out, err = capfd.readouterr()
    assert code == ExitCode.INPUT == 3
    assert out == ""
    (line,) = err.strip().splitlines()
    with History(db) as h:
        (session,) = h.sessions()
        n = len(h.events(session.id))
    assert line == f"itbcoach: {CAMERA_GONE} — session {session.id} saved ({n} events)"
    assert session.status == "camera lost"



class BrokenCoach(RecordingCoach):
    """Fails on the 5th frame, like a bug in a coach."""

    def update(self, frame: Frame) -> list:
        if len(self.frames) >= 5:
            raise RuntimeError("coach bug")
        return super().update(frame)


def test_unexpected_error_marks_the_session_failed(shared_videos, model_path, tmp_path):
    db = tmp_path / "h.sqlite"
    coach = BrokenCoach(ExerciseCoach(CONFIG, "side-step"))
    source = VideoFileSource(shared_videos / "sidestep_front_small_01.mp4", realtime=True)
    with pytest.raises(RuntimeError, match="coach bug"):
        run_live(CONFIG, coach, LiveOptions(source="0", window=False, mute=True, history=db,
                                            model=str(model_path)), source=source)
    with History(db) as h:
        (session,) = h.sessions()
    assert session.status == "failed"  # not "completed"
    assert session.ended_at is not None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 DISPLAY is Linux's")
def test_no_display_fails_before_a_session_is_opened(shared_videos, model_path, tmp_path,
                                                     monkeypatch):
    from itbcoach.errors import UserError

    monkeypatch.delenv("DISPLAY", raising=False)
    db = tmp_path / "h.sqlite"
    source = VideoFileSource(shared_videos / "sidestep_front_small_01.mp4")
    with pytest.raises(UserError, match="no display"):
        run_live(CONFIG, ExerciseCoach(CONFIG, "side-step"),
                 LiveOptions(source="0", window=True, mute=True, history=db,
                             model=str(model_path)), source=source)
    assert not db.exists()  # no empty "completed" session left behind
