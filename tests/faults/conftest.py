"""Fixtures of the fault matrix: a small scored input, odd output targets, full disks."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def stepdown_npz(tmp_path_factory) -> Path:
    """A synthetic step-down (2 reps per leg, left pelvis dropping 10 deg) as landmarks:
    scoring it takes well under a second, no model."""
    from itbcoach.landmarks import save_npz
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown

    spec = StepdownSpec(legs=(LegSpec("left", reps=2, pelvic_drop_deg=10.0),
                              LegSpec("right", reps=2)), lead_s=1.0, rest_s=0.6,
                        step_on_off=False)
    synth, _ = render_stepdown(spec)
    path = tmp_path_factory.mktemp("inputs") / "stepdown.npz"
    save_npz(path, synth.pose)
    return path




def _cut(src: Path, out: Path, frames: int) -> Path:
    from itbcoach.pose.sources import VideoFileSource
    from itbcoach.report.video import H264Writer

    with VideoFileSource(src) as source, H264Writer(out, source.fps, source.size,
                                                    preset="ultrafast") as writer:
        for frame in source:
            writer.write(frame.image)
            if writer.frames == frames:
                break
    return out


SQUAT = Path(__file__).resolve().parents[2] / "sample_videos" / "exercise_squat.mp4"


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> Path:
    """The first 45 frames (1.5 s) of a shipped sample video: a real clip that goes
    through the model in about a second."""
    return _cut(SQUAT, tmp_path_factory.mktemp("clips") / "tiny.mp4", 45)


@pytest.fixture(scope="session")
def short_clips(tmp_path_factory) -> list[Path]:
    """Three cuts of a shipped sample video (150, 150 and 60 frames) for batch runs."""
    folder = tmp_path_factory.mktemp("batch-clips")
    return [_cut(SQUAT, folder / f"{name}.mp4", n)
            for name, n in (("a", 150), ("b", 150), ("c", 60))]
