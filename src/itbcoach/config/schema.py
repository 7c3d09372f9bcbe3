"""Typed configuration: one frozen dataclass per TOML section.

Field defaults are *not* set here: the shipped ``defaults.toml`` is the single source of
truth, and :func:`itbcoach.config.load_config` fills every field from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PoseConfig:
    """``[pose]``: model choice and MediaPipe thresholds."""

    model_variant: Literal["lite", "full", "heavy"]
    model_path: str
    num_poses: int
    min_pose_detection_confidence: float
    min_pose_presence_confidence: float
    min_tracking_confidence: float
    min_visibility: float

    def __post_init__(self) -> None:
        if self.num_poses < 1:
            raise ValueError("num_poses must be at least 1")


@dataclass(frozen=True)
class SmoothingConfig:
    """``[smoothing]``: One-Euro (live) and zero-phase (offline) filters."""

    one_euro_min_cutoff: float
    one_euro_beta: float
    one_euro_d_cutoff: float
    offline_cutoff_hz: float
    outlier_threshold: float
    outlier_window_s: float
    max_gap_s: float


@dataclass(frozen=True)
class FramingConfig:
    """``[framing]``: whole body in view, distance, facing, lighting."""

    edge_margin: float
    min_body_height: float
    max_body_height: float
    frontal_min_shoulder_width: float
    side_max_shoulder_width: float
    min_mean_visibility: float


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    pose: PoseConfig
    smoothing: SmoothingConfig
    framing: FramingConfig
