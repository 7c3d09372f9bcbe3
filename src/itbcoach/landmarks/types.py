"""Landmark indices and the typed landmark container.

Conventions used everywhere in itbcoach:

* Image landmarks are MediaPipe's normalised coordinates: ``x`` in [0, 1] from the
  image's left edge, ``y`` in [0, 1] from the top edge (**image y points down**), ``z``
  the relative depth MediaPipe returns (origin at the hip midpoint, smaller = nearer the
  camera, roughly the scale of ``x``).
* World landmarks are metres, origin at the hip midpoint, as MediaPipe gives them.
* ``LEFT_*`` / ``RIGHT_*`` are the **subject's own** left and right, as long as the
  landmarker ran on the un-mirrored camera frame. A subject facing the camera has their
  left side on the image's right.
* A missing pose (or a landmark that was masked) is NaN, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

NUM_LANDMARKS = 33


class Landmark(IntEnum):
    """BlazePose / MediaPipe PoseLandmarker landmark indices (33 points)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


#: Skeleton edges for drawing (pairs of landmark indices).
POSE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
    (15, 17), (15, 19), (15, 21), (17, 19), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31),
    (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
)


def _as_float32(name: str, value: np.ndarray, shape: tuple[int | None, ...]) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(arr.shape, shape, strict=True)
    ):
        want_s = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want_s}, got {tuple(arr.shape)}")
    return arr


@dataclass(frozen=True, eq=False)
class PoseSequence:
    """Pose landmarks of one person over ``T`` frames.

    Attributes:
        landmarks: ``(T, 33, 3)`` float32 image landmarks ``x, y, z`` (normalised, y down).
        visibility: ``(T, 33)`` float32 in [0, 1].
        presence: ``(T, 33)`` float32 in [0, 1] (NaN where the source gave none).
        timestamps_ms: ``(T,)`` int64, strictly increasing.
        image_size: ``(width, height)`` in pixels.
        world_landmarks: ``(T, 33, 3)`` float32 metres, or ``None``.

    Frames without a detected pose are NaN in every float array.
    """

    landmarks: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    timestamps_ms: np.ndarray
    image_size: tuple[int, int]
    world_landmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        lm = _as_float32("landmarks", self.landmarks, (None, NUM_LANDMARKS, 3))
        t = lm.shape[0]
        vis = _as_float32("visibility", self.visibility, (t, NUM_LANDMARKS))
        pres = _as_float32("presence", self.presence, (t, NUM_LANDMARKS))
        ts = np.asarray(self.timestamps_ms)
        if ts.shape != (t,):
            raise ValueError(f"timestamps_ms must have shape ({t},), got {tuple(ts.shape)}")
        if ts.size and not np.issubdtype(ts.dtype, np.integer):
            if not np.all(np.isfinite(ts)) or np.any(ts != np.round(ts)):
                raise ValueError("timestamps_ms must be whole milliseconds")
        ts = ts.astype(np.int64)
        if t > 1 and np.any(np.diff(ts) <= 0):
            raise ValueError("timestamps_ms must be strictly increasing")
        w, h = (int(v) for v in self.image_size)
        if w <= 0 or h <= 0:
            raise ValueError(f"image_size must be positive (width, height), got {(w, h)}")
        world = self.world_landmarks
        if world is not None:
            world = _as_float32("world_landmarks", world, (t, NUM_LANDMARKS, 3))
        for name, arr in (("landmarks", lm), ("visibility", vis), ("presence", pres),
                          ("timestamps_ms", ts), ("world_landmarks", world)):
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "image_size", (w, h))

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])

    @property
    def times_s(self) -> np.ndarray:
        """``(T,)`` float64 timestamps in seconds."""
        return self.timestamps_ms.astype(np.float64) / 1000.0

    @property
    def detected(self) -> np.ndarray:
        """``(T,)`` bool: a pose was found in the frame.

        A frame counts when both shoulders and both hips are known, so masking a few
        low-visibility points (a side view hides one arm) does not lose the frame.
        """
        torso = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP,
                 Landmark.RIGHT_HIP]
        return np.isfinite(self.landmarks[:, torso, :2]).all(axis=(1, 2))

    @property
    def detection_rate(self) -> float:
        """Share of frames with a pose, 0 for an empty sequence."""
        return float(self.detected.mean()) if len(self) else 0.0

    def pixels(self) -> np.ndarray:
        """``(T, 33, 2)`` float64 image coordinates in pixels (x right, y down)."""
        w, h = self.image_size
        return self.landmarks[..., :2].astype(np.float64) * np.array([w, h], dtype=np.float64)

    def slice(self, start: int, stop: int) -> PoseSequence:
        """Frames ``start:stop`` as a new sequence."""
        world = None if self.world_landmarks is None else self.world_landmarks[start:stop]
        return PoseSequence(self.landmarks[start:stop], self.visibility[start:stop],
                            self.presence[start:stop], self.timestamps_ms[start:stop],
                            self.image_size, world)

    @classmethod
    def empty(cls, image_size: tuple[int, int], with_world: bool = False) -> PoseSequence:
        """A valid sequence with no frames."""
        world = np.zeros((0, NUM_LANDMARKS, 3), np.float32) if with_world else None
        return cls(np.zeros((0, NUM_LANDMARKS, 3), np.float32),
                   np.zeros((0, NUM_LANDMARKS), np.float32),
                   np.zeros((0, NUM_LANDMARKS), np.float32),
                   np.zeros((0,), np.int64), image_size, world)
