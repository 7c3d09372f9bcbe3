"""Real clips the counters were not tuned on: ``../shared/real_clips`` (MANIFEST.md).

Lunges from the side, from a 30 deg front-oblique view and from the front, a split
squat, hinges, squat variants, through the real PoseLandmarker (session-cached
``real_clip_landmarks``) and the same per-frame processing as ``itbcoach score`` and
live. Each count must equal the MANIFEST's, with the MANIFEST's sides where it states
them; a clip whose view the exercise does not accept must be refused with an
instruction (and is still counted right here, so the refusal is about the view, not a
wrong count).

Not asserted: ``deadlift_oblique_01`` (a conventional deadlift from the floor starts and
ends at the bottom; no exercise here counts a rep that begins in its deepest position:
``midline-hinge`` gives 0).
"""

from __future__ import annotations

import pytest

from itbcoach.config import load_config
from itbcoach.exercises import score_exercise

pytestmark = pytest.mark.slow

#: clip -> (task, MANIFEST count, sides in order or None, the gate accepts the view; None
#: = either: the good-morning clip's 30-40 deg view is on the 40 deg limit, 50% of frames)
CLIPS = {
    "lunge_oblique_02.mp4": ("lunge-twist", 2, ["right", "right"], False),
    "lunge_side_01.mp4": ("split-squat", 5, ["right"] * 5, True),
    "lunge_side_02.mp4": ("split-squat", 8, ["left", "right"] * 4, True),
    "reverse_lunge_side_01.mp4": ("split-squat", 2, None, True),
    "split_squat_side_01.mp4": ("split-squat", 2, None, True),
    "lateral_lunge_frontal_01.mp4": ("lateral-lunge", 2, ["left", "left"], True),
    "curtsy_lunge_frontal_01.mp4": ("lunge-twist", 2, ["right", "right"], True),
    "hip_hinge_oblique_01.mp4": ("midline-hinge", 3, None, None),
    "single_leg_deadlift_side_01.mp4": ("single-leg-hinge", 1, ["left"], True),
    "band_squat_oblique_01.mp4": ("squat", 2, None, True),
}


@pytest.fixture(scope="module")
def config():
    return load_config(use_user_file=False)


@pytest.mark.parametrize("name", list(CLIPS))
def test_real_clip_count(real_clip_landmarks, config, name: str) -> None:
    task, count, sides, accepted = CLIPS[name]
    raw, meta = real_clip_landmarks(name)  # the model's output, unmasked and unfiltered
    # masked and filtered frame by frame by the session's processor, as score and live do
    result = score_exercise(raw, task, config, meta={**meta, "masked": False,
                                                     "smoothed": False})
    assert result.ok
    assert result.reps["total"] == count
    if sides is not None:
        assert [e.side for e in result.events if e.kind == "rep"] == sides
    if accepted is not None:
        assert result.camera.ok is accepted, result.camera.instruction
    if not result.camera.ok:
        assert result.camera.instruction.endswith(f"for {result.exercise.name.lower()}")
