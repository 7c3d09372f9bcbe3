"""`itbcoach live --program` end to end: all eight programme exercises through the live
loop, the real model on sample clips played as the camera, ``n`` pressed between them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.live.coach import ProgramCoach
from itbcoach.live.loop import LiveOptions, run_live
from itbcoach.pose.sources import Frame, VideoFileSource
from itbcoach.report.history import History

pytestmark = pytest.mark.slow  # every frame of 8 clips through the model: ~3.5 min

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"
#: Each programme exercise's own sample clip.
CLIPS = {"asmr-itb": "exercise_asmr_itb.mp4",
         "psoas-activator": "exercise_psoas_activator.mp4",
         "tibial-rotation": "exercise_tibial_rotation.mp4",
         "monster-walk": "exercise_monster_walk.mp4",
         "midline-hinge": "exercise_midline_hinge.mp4",
         "lunge-twist": "exercise_lunge_twist.mp4", "glute-iso": "exercise_glute_iso.mp4",
         "heel-taps": "exercise_heel_taps.mp4"}


class ClipsAsCamera:
    """The clips one after the other as one camera (ids and times keep increasing);
    ``boundaries`` counts the clips that ended, for the scripted key presses. Every
    frame is analysed, as ``itbcoach live --source FILE`` reads a file (the same
    sentences at the same source times every run)."""

    every_frame = True

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        first = VideoFileSource(paths[0])
        self.size, self.fps = first.size, first.fps
        first.close()
        self.boundaries = 0

    def __iter__(self):
        frame_id, t0 = 0, 0
        for path in self.paths:
            src = VideoFileSource(path)
            assert src.size == self.size, path
            last = t0
            try:
                for f in src:
                    last = t0 + f.timestamp_ms
                    yield Frame(f.image, frame_id, last)
                    frame_id += 1
            finally:
                src.close()
            t0 = last + 40
            self.boundaries += 1

    def close(self) -> None:
        pass


class NextAtEachClip:
    """Stands in for the window: presses ``n`` once after each clip ends (not the last)."""

    closed = False

    def __init__(self, source: ClipsAsCamera) -> None:
        self.source, self.pressed, self.shown = source, 0, 0

    def show(self, image: np.ndarray) -> str | None:
        self.shown += 1
        if self.pressed < min(self.source.boundaries, len(self.source.paths) - 1):
            self.pressed += 1
            return "n"
        return None

    def close(self) -> None:
        pass


def test_programme_runs_all_eight_exercises_live(model_path: Path, tmp_path: Path) -> None:
    config = load_config(use_user_file=False, overrides={"live.program_rest_s": 0.0})
    tasks = config.live.program
    assert len(tasks) == 8 and set(tasks) == set(CLIPS)
    source = ClipsAsCamera([SAMPLES / CLIPS[t] for t in tasks])
    window = NextAtEachClip(source)
    # guided, as `itbcoach live --program --no-window`: each exercise's card ends when
    # its posture is seen (or after live.card_no_window_s), then the countdown
    coach = ProgramCoach(config, tasks, rest_s=config.live.program_rest_s, guided=True,
                         window=False)
    db = tmp_path / "h.sqlite"
    said = tmp_path / "said.txt"
    stats = run_live(config, coach, LiveOptions(history=db, model=str(model_path),
                                                mute=True, window=False, result_hold_s=0.0,
                                                speech_log=said, person="Ana",
                                                report=True),
                     window=window, source=source)  # type: ignore[arg-type]
    assert stats.status == "source ended" and window.pressed == 7
    assert coach.done
    done = coach.result().exercises
    assert [r.task for r in done] == list(tasks)
    assert all(r.frames > 0 for r in done)
    with History(db) as h:
        (session,) = h.sessions()
    assert session.task == "program" and session.status == "source ended"
    assert [r["task"] for r in session.summary["exercises"]] == list(tasks)
    # the walk was counted as steps (the loop drops frames while the model is busy, so
    # not every step of the clip need be seen)
    walk = done[tasks.index("monster-walk")]
    assert walk.exercise.primary == "step" and walk.to_json()["unit"] == "steps"
    # each exercise introduces itself (name, how it is done, the posture and camera
    # instruction of its card), in programme order, then counts down
    lines = [line.split("\t", 1)[1] for line in said.read_text().splitlines()]
    intros = [text for text in lines
              if any(text.startswith(config.exercises[t].name + ". ") for t in tasks)]
    assert intros == [f"{config.exercises[t].name}. {config.exercises[t].instruction}. "
                      f"{config.exercises[t].card.setup}." for t in tasks]
    assert lines.count("Go") == len(tasks)
    # the posture check: every card ended on the posture (before live.card_no_window_s)
    times = [float(line.split("\t", 1)[0]) for line in said.read_text().splitlines()]
    for task in tasks:
        i = lines.index(next(x for x in intros if x.startswith(config.exercises[task].name)))
        assert lines[i + 1] == "3" and times[i + 1] - times[i] < config.live.card_no_window_s, task
    # one report per exercise and the programme's summary page, linked from the history
    assert session.person == "Ana" and stats.report is not None
    assert session.report == str(stats.report) and stats.report.name == "index.html"
    index = stats.report.read_text()
    for i, task in enumerate(tasks, 1):
        page = stats.report.parent / f"{i}-{task}" / "report.html"
        assert f"{i}-{task}/report.html" in index
        assert config.exercises[task].name in page.read_text()
    # `itbcoach history` lists the session with its person label and the summary page
    listing = subprocess.run([sys.executable, "-m", "itbcoach", "history", "--db", str(db)],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    assert listing[1].split()[4:6] == ["Ana", "program"]
    assert listing[2].strip() == f"report: {stats.report.resolve().as_uri()}"
