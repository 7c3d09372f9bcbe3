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




@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> Path:
    """The first 45 frames (1.5 s) of a shipped sample video: a real clip that goes
    through the model in about a second."""
    from itbcoach.pose.sources import VideoFileSource
    from itbcoach.report.video import H264Writer

    src = Path(__file__).resolve().parents[2] / "sample_videos" / "exercise_squat.mp4"
    out = tmp_path_factory.mktemp("clips") / "tiny.mp4"
    with VideoFileSource(src) as source, H264Writer(out, source.fps, source.size,
                                                    preset="ultrafast") as writer:
        for frame in source:
            writer.write(frame.image)
            if writer.frames == 45:
                break
    return out
