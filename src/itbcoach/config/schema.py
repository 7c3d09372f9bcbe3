"""Typed configuration: one frozen dataclass per TOML section.

Field defaults are *not* set here: the shipped ``defaults.toml`` is the single source of
truth, and :func:`itbcoach.config.load_config` fills every field from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    hand_min_visibility: float
    image_folder_fps: float
    people_check_interval_s: float
    people_check_min_share: float

    def __post_init__(self) -> None:
        if self.num_poses < 1:
            raise ValueError("num_poses must be at least 1")
        if self.people_check_interval_s < 0:
            raise ValueError("people_check_interval_s must be >= 0 (0 turns the check off)")
        if not 0.0 < self.people_check_min_share <= 1.0:
            raise ValueError("people_check_min_share must be in (0, 1]")


@dataclass(frozen=True)
class SmoothingConfig:
    """``[smoothing]``: One-Euro (live) and zero-phase (offline) filters."""

    one_euro_min_cutoff: float
    one_euro_beta: float
    one_euro_d_cutoff: float
    offline_cutoff_hz: float
    outlier_threshold: float
    outlier_window_s: float
    outlier_min_sd_px: float
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
    side_limb_torso_max: float
    world_limb_torso_mean_max: float
    world_limb_torso_max: float
    min_frame_side_px: int
    min_brightness: float
    min_view_share: float
    walk_out_max_s: float


@dataclass(frozen=True)
class Range:
    """A prescribed ``[min, max]`` (written as a two-item TOML array); ``max == 0`` means
    the prescription does not ask for it.

    Not a tuple on purpose: code reads ``.min`` / ``.max`` by name, so a range can never
    be mistaken for a number (``float(range)`` is a TypeError at the call, not a crash
    mid-session).
    """

    min: float
    max: float

    #: The loader reads this dataclass from an array of its fields, in order.
    TOML_ARRAY = True

    def __post_init__(self) -> None:
        if not 0 <= self.min <= self.max:
            raise ValueError("must be [min, max] with 0 <= min <= max")

    def to_json(self) -> list[float]:
        """``[min, max]``, as in the TOML."""
        return [self.min, self.max]


@dataclass(frozen=True)
class CountRange(Range):
    """A prescribed ``[min, max]`` count (whole numbers)."""

    min: int
    max: int


@dataclass(frozen=True)
class PrescriptionConfig:
    """``[exercises.<id>.prescription]``: what the programme asks for.

    ``reps`` counts the primary unit (reps, holds, steps per direction); ``hold_s`` is
    seconds per hold; ``time_per_side_s`` seconds per side (timer exercises).
    """

    sets: int
    reps: CountRange
    per_side: bool
    hold_s: Range
    time_per_side_s: Range
    rest_s: float
    set_gap_s: float

    def __post_init__(self) -> None:
        if self.sets < 1:
            raise ValueError("sets must be at least 1")
        if self.set_gap_s <= 0:
            raise ValueError("set_gap_s must be positive")


@dataclass(frozen=True)
class RepCheckConfig:
    """``[[exercises.<id>.rep.checks]]``: a condition checked during each rep."""

    name: str
    when: str
    mode: Literal["any", "all", "peak"]


@dataclass(frozen=True)
class RepConfig:
    """``[exercises.<id>.rep]``: a rep counter (two thresholds with hysteresis)."""

    metric: str
    enter: float
    exit: float
    direction: Literal["up", "down"]
    min_duration_s: float
    max_duration_s: float
    debounce_s: float
    max_gap_s: float
    side_by: str
    side_pick: Literal["max", "min"]
    checks: tuple[RepCheckConfig, ...]
    fast_s: float
    label: str = ""
    unit: str = ""


@dataclass(frozen=True)
class HoldPhaseConfig:
    """``[[exercises.<id>.hold.phases]]``: one held position."""

    name: str
    enter: str
    stay: str


@dataclass(frozen=True)
class HoldConfig:
    """``[exercises.<id>.hold]``: a hold timer (one or more positions in turn)."""

    phases: tuple[HoldPhaseConfig, ...]
    form: str
    debounce_s: float
    grace_s: float
    min_hold_s: float

    def __post_init__(self) -> None:
        if not self.phases:
            raise ValueError("hold needs at least one phase")


@dataclass(frozen=True)
class StepConfig:
    """``[exercises.<id>.step]``: a side-step counter."""

    left_foot: str
    right_foot: str
    open: float
    close_fraction: float
    follow_fraction: float
    debounce_s: float
    min_duration_s: float
    max_duration_s: float
    max_gap_s: float
    fast_s: float


@dataclass(frozen=True)
class StepdownRepConfig:
    """``[exercises.<id>.stepdown]``: reps segmented by the step-down test's segmenter
    (thresholds from ``[stepdown]``), one per stance leg; the expressions (with
    ``{side}`` = the stance leg) give its inputs in torso lengths."""

    depth: str
    foot_x: str
    foot_y: str
    hip_y: str


@dataclass(frozen=True)
class TimerConfig:
    """``[exercises.<id>.timer]``: time in a position per side."""

    active: str
    side_by: str
    side_pick: Literal["max", "min"]
    debounce_s: float
    grace_s: float
    min_s: float


@dataclass(frozen=True)
class CueConfig:
    """``[[exercises.<id>.cues]]``: one cue rule. Unset timing keys (absent from the
    table) take the values of ``[exercise_cues]``."""

    name: str
    text: str
    when: str
    on: str
    during: Literal["always", "set", "active", "idle"] | None = None
    priority: int | None = None
    min_interval_s: float | None = None
    min_show_s: float | None = None
    min_true_s: float | None = None


@dataclass(frozen=True)
class ExerciseCueDefaults:
    """``[exercise_cues]``: timing of cue rules that do not set their own."""

    during: Literal["always", "set", "active", "idle"]
    priority: int
    min_interval_s: float
    min_show_s: float
    min_true_s: float


@dataclass(frozen=True)
class CardConfig:
    """``[exercises.<id>.card]``: the card shown live before the exercise starts.

    Attributes:
        how: how it is done, at most two short lines.
        setup: the posture and camera instruction ("Lie on your side facing the
            camera"), shown and spoken until the right posture is seen.
        demo: the exercise's own render (a file in the repository's ``sample_videos``
            folder, or an absolute path) looped on the card; "" = none.
        ready: the posture check (a metric expression) when the posture's own
            (``[live.ready]``) does not fit the exercise's start; "" = the posture's.
    """

    how: tuple[str, ...] = ()
    setup: str = ""
    demo: str = ""
    ready: str = ""

    def __post_init__(self) -> None:
        if len(self.how) > 2:
            raise ValueError(f"card.how takes at most two lines, got {len(self.how)}")


@dataclass(frozen=True)
class ExerciseConfig:
    """``[exercises.<id>]``: one exercise as data (see docs/exercises.md).

    The counter tables that do not apply are absent (``None``).
    """

    name: str
    instruction: str
    view: Literal["frontal", "side", "either"]
    posture: Literal["standing", "seated", "lying"]
    primary: Literal["rep", "hold", "step", "timer", "stepdown"]
    prescription: PrescriptionConfig
    cues: tuple[CueConfig, ...]
    rep: RepConfig | None = None
    hold: HoldConfig | None = None
    step: StepConfig | None = None
    timer: TimerConfig | None = None
    stepdown: StepdownRepConfig | None = None
    max_yaw_deg: float = 0.0
    card: CardConfig | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_yaw_deg <= 90.0:
            raise ValueError(f"max_yaw_deg must be within 0..90 (0 = no limit), got "
                             f"{self.max_yaw_deg}")
        if getattr(self, self.primary) is None:
            raise ValueError(f"primary counter '{self.primary}' has no [{self.primary}] "
                             f"table")


@dataclass(frozen=True)
class StepdownConfig:
    """``[stepdown]``: the lateral step-down test (segmentation, view, Piva criteria)."""

    reps_per_side: int
    enter_depth: float
    exit_depth: float
    start_tol: float
    min_depth: float
    partial_fraction: float
    min_hip_descent: float
    settle_s: float
    stable_tol: float
    standing_depth_max: float
    foot_tol: float
    grace_s: float
    foot_fill_s: float
    max_rep_s: float
    baseline_s: float
    scale_window_s: float
    measure_delay_s: float
    history_s: float
    min_detection_rate: float
    min_feet_visible: float
    yaw_note_deg: float
    yaw_correct_min_deg: float
    yaw_correct_max_deg: float
    yaw_agree_deg: float
    metric_window_s: float
    rep_fraction: float
    pelvic_drop_deg: float
    pelvic_drop_gain: float
    hands_hip_max_dist: float
    hands_min_above: float
    hands_max_motion: float
    hands_min_on: float
    pelvis_hip_fallback: bool
    trunk_lean_deg: float
    knee_toe_margin: float
    foot_border_per_height: float
    knee_foot_margin: float
    loaded_fraction: float
    fppa_note_deg: float
    fppa_sdd_deg: float
    arm_rise: float
    arm_abduction_deg: float
    velocity_window_s: float
    sudden_half_ratio: float
    pause_speed_fraction: float
    pause_min_s: float
    wobble_pp: float
    wobble_window_s: float
    bottom_depth_tol: float
    bottom_rest_s: float

    def __post_init__(self) -> None:
        if not 0 < self.exit_depth < self.enter_depth:
            raise ValueError("need 0 < exit_depth < enter_depth")
        if not 0 < self.start_tol <= self.exit_depth:
            raise ValueError("need 0 < start_tol <= exit_depth")
        if not 0 < self.rep_fraction <= 1:
            raise ValueError("rep_fraction must be in (0, 1]")
        if self.pelvic_drop_gain <= 0:
            raise ValueError("pelvic_drop_gain must be positive")
        if self.history_s < self.max_rep_s + self.baseline_s + self.measure_delay_s + 1.0:
            raise ValueError("history_s must cover max_rep_s + baseline_s + "
                             "measure_delay_s + 1 s")
        if not 0 < self.hands_min_on <= 1:
            raise ValueError("hands_min_on must be in (0, 1]")


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: offline outputs (annotated video, HTML report)."""

    video_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"]
    video_crf: int
    fault_window_s: float
    rep_cue_s: float
    height_cm: float
    closing_card_s: float

    def __post_init__(self) -> None:
        if not 0 <= self.video_crf <= 51:
            raise ValueError("video_crf must be in 0..51")
        if self.height_cm != 0 and not 80 <= self.height_cm <= 250:
            raise ValueError("height_cm must be 0 (unknown) or a height in cm, 80-250")
        if self.closing_card_s < 0:
            raise ValueError("closing_card_s must be >= 0")


@dataclass(frozen=True)
class LiveConfig:
    """``[live]``: the programme order, the live screen's timings and the guided start
    of each exercise (card, posture check, countdown)."""

    program: tuple[str, ...]
    program_rest_s: float
    result_hold_s: float
    stale_after_s: float
    guided: bool
    card_min_s: float
    ready_hold_s: float
    card_no_window_s: float
    countdown_s: int
    ready: Mapping[str, str]


@dataclass(frozen=True)
class HistoryConfig:
    """``[history]``: the person label of sessions and the live sessions' reports."""

    person: str
    live_reports: bool

    def __post_init__(self) -> None:
        if len(self.person) > 60 or any(not c.isprintable() for c in self.person):
            raise ValueError("person must be a short printable label (at most 60 "
                             "characters)")


@dataclass(frozen=True)
class VoiceConfig:
    """``[voice]``: the offline speech engine's voice, rate and volume, and mute."""

    voice: str
    rate_wpm: int
    volume: int
    mute: bool

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_+./-]*", self.voice):
            raise ValueError(f"voice must be an espeak-ng voice name such as en-us "
                             f"(see `espeak-ng --voices`), not {self.voice!r}")
        if not 80 <= self.rate_wpm <= 450:
            raise ValueError("rate_wpm must be in 80..450 (words per minute)")
        if not 0 <= self.volume <= 200:
            raise ValueError("volume must be in 0..200 (100 = normal)")


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    pose: PoseConfig
    smoothing: SmoothingConfig
    framing: FramingConfig
    exercise_cues: ExerciseCueDefaults
    exercises: Mapping[str, ExerciseConfig]
    stepdown: StepdownConfig
    report: ReportConfig
    live: LiveConfig
    history: HistoryConfig
    voice: VoiceConfig

    def __post_init__(self) -> None:
        if not self.live.program:
            raise ValueError("live.program is empty; list at least one exercise id")
        unknown = [t for t in self.live.program if t not in self.exercises]
        if unknown:
            raise ValueError(f"live.program names unknown exercise(s) {', '.join(unknown)} "
                             f"(known: {', '.join(self.exercises)})")
