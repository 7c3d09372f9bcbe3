"""Real people on real footage: every clip of ../shared/sample_videos counted exactly.

Landmarks come from the real PoseLandmarker through the session-cached
``video_landmarks`` fixture (one model run per clip per test session), then the same
per-frame processing as ``itbcoach score`` and ``itbcoach live`` (masking, the causal
filter, the kernel, the framing gate).

Counts are the MANIFEST's. Sides are asserted where the MANIFEST states them. The
step-touch clip ("about 4 step-touches, 2 each way") is asserted as exactly 4 steps, 2
toward each side, counting a step whose first or second half is cut by the clip's edge
as the engine reports it (``steps_partial``): the first step's lead foot goes out in the
first 0.4 s and the last trailing foot arrives in the last frames.
"""

from __future__ import annotations

import pytest

from itbcoach.config import load_config
from itbcoach.exercises import score_exercise

pytestmark = pytest.mark.slow

#: clip -> (task, expected reps total, expected sides in order or None)
CLIPS = {
    "squat_front_01.mp4": ("squat", 5, None),
    "lunge_lateral_front_01.mp4": ("lateral-lunge", 10, ["right"] * 10),
    "lunge_split_side_01.mp4": ("split-squat", 11, None),
    "squat_sidestep_front_small_01.mp4": ("squat", 2, None),
    "kneelift_front_small_01.mp4": ("knee-lift", 4, ["right", "left", "right", "left"]),
    "sidetap_front_small_01.mp4": ("side-tap", 4, ["left", "right", "left", "right"]),
    "hiphinge_singleleg_side_01.mp4": ("single-leg-hinge", 2, ["left", "left"]),
    "splitsquat_bulgarian_oblique_01.mp4": ("split-squat", 4, None),
    "squat_overhead_front_02.mp4": ("squat", 1, None),
    "squat_overhead_front_good_01.mp4": ("squat", 1, None),
    "squat_overhead_front_good_02.mp4": ("squat", 1, None),
    "squat_overhead_front_bad_01.mp4": ("squat", 1, None),
    "squat_overhead_front_bad_02.mp4": ("squat", 1, None),
    "squat_overhead_side_good_01.mp4": ("squat", 1, None),
}


@pytest.fixture(scope="module")
def config():
    return load_config(use_user_file=False)


def scored(video_landmarks, config, name: str, task: str):
    raw, meta = video_landmarks(name)  # raw: masked and filtered as live does, by the score
    return score_exercise(raw, task, config, meta=meta)


@pytest.mark.parametrize("name", list(CLIPS))
def test_manifest_count(video_landmarks, config, name: str) -> None:
    task, count, sides = CLIPS[name]
    result = scored(video_landmarks, config, name, task)
    assert result.ok
    assert result.reps["total"] == count
    if sides is not None:
        assert [e.side for e in result.events if e.kind == "rep"] == sides
    assert result.camera.ok, result.camera.instruction


def test_step_touch_clip(video_landmarks, config) -> None:
    result = scored(video_landmarks, config, "sidestep_front_small_01.mp4", "side-step")
    steps, partial = result.steps, result.steps_partial
    assert {k: steps[k] + partial[k] for k in steps} == {"left": 2, "right": 2}
    assert steps["left"] + steps["right"] >= 2  # the two in the middle are whole
    order = [e.side for e in result.events if e.kind in ("step", "step_partial")]
    assert order == ["left", "right", "left", "right"]
