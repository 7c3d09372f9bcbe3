"""Synthetic bodies with exact ground truth: motion description, kinematics, scripts.

* :mod:`itbcoach.synth.motion` -- the joint-angle motion description (:class:`Motion`,
  :class:`BodyDims`) and its conventions.
* :mod:`itbcoach.synth.kinematics` -- forward kinematics, the 33 BlazePose landmarks, a
  pinhole camera and :func:`render_sequence` (-> :class:`itbcoach.landmarks.PoseSequence`).
* :mod:`itbcoach.synth.stepdown` -- the lateral step-down script with ground-truth reps
  and faults.
"""

from itbcoach.synth.kinematics import (
    Camera,
    Noise,
    Skeleton,
    SynthSequence,
    forward_kinematics,
    ground_truth,
    landmarks_3d,
    render_sequence,
)
from itbcoach.synth.motion import BodyDims, Motion, Side, frame_times, smoothstep

__all__ = [
    "BodyDims",
    "Camera",
    "Motion",
    "Noise",
    "Side",
    "Skeleton",
    "SynthSequence",
    "forward_kinematics",
    "frame_times",
    "ground_truth",
    "landmarks_3d",
    "render_sequence",
    "smoothstep",
]
