"""One pose frame -> mask -> causal filter -> kernel -> framing: a :class:`Frame`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from itbcoach.config import Config
from itbcoach.kernel import NUM_METRICS
from itbcoach.landmarks import PoseSequence
from itbcoach.pose.framing import assess_framing


@dataclass
class Frame:
    """One processed frame, as every task session receives it.

    Attributes:
        t_s: capture time in seconds (the source's clock).
        frame_id: the source's frame id.
        metrics: ``(K,)`` kernel metrics (NaN when no person).
        landmarks: ``(33, 3)`` normalised, masked and smoothed landmarks (NaN when no
            person).
        visibility: ``(33,)``.
        image_size: ``(width, height)``.
        framing_ok: the framing gate passed for the asked view.
        instruction: the framing instruction ("" when fine).
        people: poses seen in the picture.
        world: ``(33, 3)`` masked and smoothed world landmarks, metres, or None.
        raw: ``(33, 3)`` masked landmarks before the causal filter (for measurements
            that filter a closed window of frames themselves), or None.
        raw_world: ``(33, 3)`` the same for the world landmarks, or None.
    """

    t_s: float
    frame_id: int
    metrics: np.ndarray
    landmarks: np.ndarray
    visibility: np.ndarray
    image_size: tuple[int, int]
    framing_ok: bool
    instruction: str
    people: int = 1
    world: np.ndarray | None = None
    raw: np.ndarray | None = None
    raw_world: np.ndarray | None = None


class FrameProcessor:
    """Masks low-visibility points (hand points with a consistent geometry are kept
    down to ``pose.hand_min_visibility``: :func:`~itbcoach.pose.smoothing.hands_kept`),
    filters causally (One-Euro, image and world
    landmarks), computes the kernel metrics and assesses the framing of one frame.

    Stateful (the filters): one processor per stream, frames in time order.

    Args:
        config: the configuration (``[pose]``, ``[smoothing]``, ``[framing]``).
        smooth: False for landmarks that were already smoothed (a landmark file that
            says so): they are only masked.
    """

    def __init__(self, config: Config, smooth: bool = True) -> None:
        self.config = config
        self.smooth = smooth
        from itbcoach.pose.smoothing import OneEuroFilter  # numba: not for config loading

        self._image = OneEuroFilter.from_config(config.smoothing)
        self._world = OneEuroFilter.from_config(config.smoothing)

    def __call__(self, pose: PoseSequence, frame_id: int, view: str = "any",
                 people: int = 1) -> Frame:
        """Process the one frame of ``pose`` (a 1-frame sequence, raw model output).

        Args:
            pose: the frame's landmarks (NaN when no person).
            frame_id: the source's frame id.
            view: the view the framing gate asks for (``frontal``, ``side``, ``any``, ``lying``).
            people: poses seen in the picture.
        """
        t_s = float(pose.timestamps_ms[0]) / 1000.0
        framing = assess_framing(pose, self.config.framing, view=view)
        vis = pose.visibility[0]
        pc = self.config.pose
        low = ~(vis >= pc.min_visibility)
        if pc.hand_min_visibility < pc.min_visibility:  # hands on the hips: kept
            from itbcoach.pose.smoothing import hands_kept

            low &= ~hands_kept(pose.landmarks, pose.visibility, pose.image_size,
                               pc.hand_min_visibility, pc.min_visibility)[0]
        raw = pose.landmarks[0].astype(np.float64)
        raw[low] = np.nan
        landmarks = self._image(t_s, raw) if self.smooth else raw
        world = w_raw = None
        if pose.world_landmarks is not None:
            w_raw = pose.world_landmarks[0].astype(np.float64)
            w_raw[low] = np.nan
            world = self._world(t_s, w_raw) if self.smooth else w_raw
        from itbcoach.kernel import compute_frame  # numba loads with the first frame

        metrics = compute_frame(landmarks, pose.image_size, world, out=np.empty(NUM_METRICS))
        return Frame(t_s, frame_id, metrics, landmarks, vis, pose.image_size,
                     bool(framing.ok[0]), framing.instruction(0), people, world, raw, w_raw)


def replay(seq: PoseSequence, config: Config, view: str = "any",
           smooth: bool = True) -> Iterator[Frame]:
    """The frames of a recording through one :class:`FrameProcessor`, in order (frame
    ids are the indices)."""
    processor = FrameProcessor(config, smooth=smooth)
    for i in range(len(seq)):
        yield processor(seq.slice(i, i + 1), i, view)
