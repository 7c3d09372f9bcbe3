"""The lateral step-down test as one streaming session that live and offline both feed.

:class:`StepdownSession` takes processed frames one at a time
(:class:`itbcoach.stream.Frame`: masked, causally filtered landmarks and their kernel
metrics). Per frame it turns pixels into torso lengths with a running body scale, feeds
one :class:`~itbcoach.scoring.segmentation.StepdownSegmenter` per stance leg and keeps a
bounded window of recent frames. When a segmenter closes a rep, the rep is measured from
its own standing baseline window and its own frames (``measure_delay_s`` later, so the
centred metric average has its half window after the end) and returned as a typed
:class:`~itbcoach.scoring.stepdown.StepdownRep`; :meth:`StepdownSession.finish`
aggregates per stance leg into a :class:`~itbcoach.scoring.stepdown.StepdownResult`.

:func:`score_stepdown` is the offline command: the recording's frames replayed through
the same :class:`~itbcoach.stream.FrameProcessor` and session, so a clip scored offline
and the same clip played to ``itbcoach live`` get the same answer. (The offline
zero-phase filter was measured against this causal path on the five step-down sample
clips: no criterion, count or score changed, so there is one path: docs/streaming.md.)
"""

from __future__ import annotations

import dataclasses
import math
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from itbcoach.config import Config
from itbcoach.kernel import Metric
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import PoseSequence
from itbcoach.scoring.segmentation import (
    FootFill,
    RepEvent,
    State,
    StepdownSegmenter,
    StepSample,
)
from itbcoach.scoring.stepdown import (
    SIDES,
    SideResult,
    StepdownRep,
    StepdownResult,
    _compare,
    _r,
    _Recording,
    _smooth_columns,
    aggregate_side,
    foot_border,
    measure_rep,
    pelvis_reading,
    refine_bounds,
    rep_metrics,
    side_signals,
)
from itbcoach.stream import Frame, replay

FEET = [L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX]


@dataclass
class _Kept:
    """One frame in the session's window (what measuring a rep needs)."""

    index: int
    frame_id: int
    t_s: float
    raw: np.ndarray  # (33, 3) masked image landmarks before the causal filter
    visibility: np.ndarray  # (33,)
    world: np.ndarray | None  # (33, 3) masked world landmarks before the filter
    signals: np.ndarray  # (2 stances, 4): depth, foot_x, foot_y, hip_y (filtered)


@dataclass
class ViewStats:
    """Running counts for the view checks (whole session, O(1) per frame)."""

    frames: int = 0
    detected: int = 0
    feet_seen: int = 0
    # medians at the end need the values: 8 bytes a frame each (array, not list)
    shoulder_widths: array[float] = field(default_factory=lambda: array("d"))
    yaws: array[float] = field(default_factory=lambda: array("d"))
    facings: array[float] = field(default_factory=lambda: array("d"))
    torso_m: array[float] = field(default_factory=lambda: array("d"))  # 3D, metres

    def add(self, frame: Frame) -> None:
        """Count one frame."""
        m = frame.metrics
        self.frames += 1
        if math.isfinite(m[Metric.BODY_SCALE]):
            self.detected += 1
            self.shoulder_widths.append(float(m[Metric.SHOULDER_WIDTH]))
            self.feet_seen += bool(np.isfinite(frame.landmarks[FEET, 1]).all())
        for values, col in ((self.yaws, Metric.BODY_YAW), (self.facings, Metric.FACING)):
            if math.isfinite(m[col]):
                values.append(float(m[col]))
        world = frame.raw_world if frame.raw is not None else frame.world
        if world is not None:  # the length scale of the report's cm (report.measures)
            torso = float(np.linalg.norm(0.5 * (world[L.LEFT_SHOULDER] + world[L.RIGHT_SHOULDER])
                                         - 0.5 * (world[L.LEFT_HIP] + world[L.RIGHT_HIP])))
            if math.isfinite(torso) and torso > 0:
                self.torso_m.append(torso)

    def problem(self, config: Config) -> str | None:
        """A plain message when the session cannot show a step-down, else None."""
        cfg = config.stepdown
        if self.frames == 0:
            return "the recording has no frames"
        if not self.detected:
            return "no person was found in the recording; film the whole body in good light"
        rate = self.detected / self.frames
        if rate < cfg.min_detection_rate:
            return (f"a person was found in only {rate:.0%} of the frames; film the whole "
                    "body, well lit, from 2-4 m")
        width = float(np.nanmedian(self.shoulder_widths))
        if width < config.framing.frontal_min_shoulder_width:
            return (f"the person is not facing the camera (shoulder width {width:.2f} torso "
                    f"lengths, needs >= {config.framing.frontal_min_shoulder_width:.2f}); "
                    "the step-down test is filmed from the front")
        feet = self.feet_seen / self.detected
        if feet < cfg.min_feet_visible:
            return (f"the feet are visible in only {feet:.0%} of the frames with a person; "
                    "keep both feet and the step in view")
        return None


class StepdownSession:
    """The step-down test fed frame by frame (see the module docstring).

    Args:
        config: the configuration (``[stepdown]`` thresholds).
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.cfg = config.stepdown
        self.segmenters = (StepdownSegmenter(self.cfg), StepdownSegmenter(self.cfg))
        self.image_size: tuple[int, int] | None = None
        #: Measured reps per stance leg, in order (counted ones and partial ones).
        self.reps: dict[str, list[StepdownRep]] = {s: [] for s in SIDES}
        self.partial: dict[str, list[StepdownRep]] = {s: [] for s in SIDES}
        #: Movements that were not reps (stepping off, pose lost...), JSON-ready.
        self.ignored: list[dict[str, Any]] = []
        self.view = ViewStats()
        self._kept: deque[_Kept] = deque()
        self._scale: deque[tuple[float, float, float]] = deque()  # t, body scale, facing
        self._index = 0
        self._pending: list[tuple[int, RepEvent]] = []
        self._last_end = [-1, -1]
        self._depths: tuple[list[float], list[float]] = ([], [])  # candidate rep depths
        self._t = -math.inf
        self._feet = FootFill(self.cfg.foot_fill_s)  # for the rep counter's signals
        #: Both hands on the hips in the last frame (None: unknown), the rule of the
        #: per-rep pelvis reading (:func:`~itbcoach.scoring.pelvis.frame_hands_on_hips`).
        self.hands_on_hips: bool | None = None

    # -- feeding ------------------------------------------------------------------------
    def push(self, frame: Frame) -> list[StepdownRep]:
        """Feed one frame (times must increase); returns the reps measured now."""
        if frame.t_s <= self._t:
            raise ValueError(f"frame times must increase ({frame.t_s} after {self._t})")
        self._t = frame.t_s
        self.image_size = frame.image_size
        self.view.add(frame)
        scale, facing = self._running_scale(frame)
        from itbcoach.scoring.pelvis import frame_hands_on_hips

        self.hands_on_hips = frame_hands_on_hips(
            frame.raw if frame.raw is not None else frame.landmarks, frame.image_size, scale,
            self.cfg.hands_hip_max_dist, self.cfg.hands_min_above)
        px = self._feet(frame.t_s, frame.landmarks[:, :2]
                        * np.asarray(frame.image_size, float))[None]
        signals = np.empty((2, 4))
        for stance in (0, 1):
            sig = side_signals(px, scale, stance, facing)
            signals[stance] = (sig.depth[0], sig.foot_x[0], sig.foot_y[0], sig.hip_y[0])
        index = self._index
        self._index += 1
        raw = frame.raw if frame.raw is not None else frame.landmarks
        world = frame.raw_world if frame.raw is not None else frame.world
        self._kept.append(_Kept(index, frame.frame_id, frame.t_s, raw, frame.visibility,
                                world, signals))
        for stance, seg in enumerate(self.segmenters):
            d, fx, fy, hy = signals[stance]
            for ev in seg.update(index, StepSample(frame.t_s, d, fx, fy, hy)):
                self._pending.append((stance, ev))
        out = self._measure_due(frame.t_s - self.cfg.measure_delay_s)
        self._forget(frame.t_s)
        return out

    def _running_scale(self, frame: Frame) -> tuple[float, float]:
        """Body scale (pixels) and facing (+1/-1): medians over the last
        ``scale_window_s`` of frames outside reps (a rep's forward lean shortens the torso
        seen from the front; a scale following it would move the planted foot)."""
        m = frame.metrics
        moving = any(seg.state is State.DOWN for seg in self.segmenters)
        if math.isfinite(m[Metric.BODY_SCALE]) and not moving:  # held during a rep
            self._scale.append((frame.t_s, float(m[Metric.BODY_SCALE]),
                                float(m[Metric.FACING])))
        while self._scale and self._scale[0][0] < self._scale[-1][0] - self.cfg.scale_window_s:
            self._scale.popleft()
        return self._scale_now()

    def _scale_now(self) -> tuple[float, float]:
        if not self._scale:
            return math.nan, 1.0
        arr = np.array(self._scale)
        facing = float(np.nanmedian(arr[:, 2])) if np.isfinite(arr[:, 2]).any() else 1.0
        return float(np.median(arr[:, 1])), (-1.0 if facing < 0 else 1.0)

    def _forget(self, t_s: float) -> None:
        """Drop frames no rep can refer to any more (and any older than ``history_s``)."""
        needed = [i for i in (s.oldest_needed for s in self.segmenters) if i is not None]
        needed += [min(ev.start_index, ev.baseline_start) for _, ev in self._pending]
        oldest = min(needed, default=self._index)
        horizon = t_s - (self.cfg.max_rep_s + self.cfg.baseline_s + self.cfg.settle_s + 1.0)
        while self._kept and (self._kept[0].t_s < t_s - self.cfg.history_s or
                              (self._kept[0].t_s < horizon and self._kept[0].index < oldest)):
            self._kept.popleft()

    # -- measuring ----------------------------------------------------------------------
    def _measure_due(self, until_s: float) -> list[StepdownRep]:
        out: list[StepdownRep] = []
        while self._pending and self._pending[0][1].end_s <= until_s:
            stance, ev = self._pending.pop(0)
            rep = self._measure(stance, ev)
            if rep is not None and rep.counted:
                out.append(rep)
        return out

    def _measure(self, stance: int, ev: RepEvent) -> StepdownRep | None:
        """Measure one closed movement from the kept frames (None: not a rep)."""
        cfg, side = self.cfg, SIDES[stance]
        lower = self._last_end[stance] + 1
        self._last_end[stance] = ev.end_index
        if ev.kind == "aborted":
            if ev.depth >= cfg.enter_depth:
                self.ignored.append({"side": side, "start_s": _r(ev.start_s),
                                     "end_s": _r(ev.end_s), "reason": ev.reason})
            return None
        if ev.kind == "rep":
            self._depths[stance].append(ev.depth)
        offset = self._kept[0].index
        local = _shift(ev, -offset)
        kept = list(self._kept)
        rec = self._recording(kept)
        times = rec.times
        scale, _ = self._scale_now()
        sig = side_signals(rec.landmarks[..., :2] * np.asarray(rec.image_size, float), scale,
                           stance, rec.facing)
        local = refine_bounds(local, sig.depth, times, max(lower - offset, 0), len(kept),
                              cfg.start_tol)
        typical = float(np.median(self._depths[stance])) if self._depths[stance] else 0.0
        if ev.kind != "rep" or ev.depth < cfg.partial_fraction * typical:
            reason = ev.reason or (f"the heel went down {ev.depth:.2f} body scales, less "
                                   f"than {cfg.partial_fraction:.0%} of this side's usual "
                                   f"{typical:.2f}")
            rep = StepdownRep(side, len(self.partial[side]), local.start_s, local.bottom_s,
                              local.end_s, local.start_index + offset,
                              local.bottom_index + offset, local.end_index + offset, False,
                              ev.depth, reason=reason)
            self.partial[side].append(rep)
            return rep
        metrics, yaw, note, turn = rep_metrics(rec, local, cfg)
        rep = measure_rep(local, stance, metrics, sig, times, rec.landmarks, cfg,
                          len(self.reps[side]), foot_border(rec.world, local, stance, cfg),
                          image_metrics=rec.smoothed)
        rep.metrics["yaw_corrected_deg"] = yaw
        rep.use_pelvis(pelvis_reading(rec, local, stance, cfg), cfg.pelvic_drop_deg,
                       cfg.pelvis_hip_fallback)
        rep.metrics["turn_image_deg"], rep.metrics["turn_3d_deg"] = turn
        if note:
            rep.notes.append(note)
        rep.worst_frame_ids = {k: kept[i].frame_id for k, i in rep.worst_frame.items()
                               if 0 <= i < len(kept)}
        rep.start_frame += offset
        rep.bottom_frame += offset
        rep.end_frame += offset
        rep.worst_frame = {k: (i + offset if i >= 0 else -1)
                           for k, i in rep.worst_frame.items()}
        self.reps[side].append(rep)
        return rep

    def _recording(self, kept: list[_Kept]) -> _Recording:
        """The kept frames as a recording, filtered as a closed window: outlier
        rejection, short-gap interpolation and the zero-phase low-pass of
        :func:`~itbcoach.pose.smoothing.smooth_offline` (a rep is measured after it
        closed, so its filter may look both ways; the running filter would halve a 3 Hz
        knee wobble)."""
        assert self.image_size is not None
        has_world = all(k.world is not None for k in kept)
        seq = PoseSequence(np.stack([k.raw for k in kept]),
                           np.stack([k.visibility for k in kept]),
                           np.stack([k.visibility for k in kept]),
                           np.array([round(k.t_s * 1000) for k in kept], np.int64),
                           self.image_size,
                           np.stack([k.world for k in kept]) if has_world else None)  # type: ignore[misc]
        from itbcoach.pose.smoothing import smooth_offline  # numba loads on first use

        seq = smooth_offline(seq, self.config.smoothing)
        times = seq.times_s
        from itbcoach.kernel import compute_metrics  # numba loads on first use

        metrics = compute_metrics(seq.landmarks, seq.image_size)
        fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and \
            times[-1] > times[0] else 30.0
        n_smooth = round(self.cfg.metric_window_s * fps / 2)
        scale, facing = self._scale_now()
        raw_px = np.stack([k.raw[:, :2] for k in kept]) * np.asarray(self.image_size, float)
        return _Recording(seq.landmarks, self.image_size, times, metrics,
                          _smooth_columns(metrics, n_smooth), n_smooth, facing,
                          seq.world_landmarks, raw_px, scale)

    # -- corrections and the end ---------------------------------------------------------
    def drop_last(self, side: str) -> StepdownRep | None:
        """Forget the last counted rep of ``side`` (the person redoes it)."""
        return self.reps[side].pop() if self.reps[side] else None

    def count(self, side: str) -> int:
        """Counted reps of ``side`` so far."""
        return len(self.reps[side])

    def finish(self, side: str = "auto", pain: bool | None = None,
               meta: dict[str, Any] | None = None) -> StepdownResult:
        """End of input: close what is open, aggregate per stance leg.

        Args:
            side: ``"auto"`` (every leg with reps), ``"left"`` or ``"right"`` only.
            pain: the person's answer (True/False) or None when not asked.
            meta: information about the input (kept in the JSON).
        """
        if side not in ("auto", "left", "right"):
            raise ValueError(f"side must be auto, left or right, got {side!r}")
        for stance, seg in enumerate(self.segmenters):
            self._pending += [(stance, ev) for ev in seg.flush()]
        self._pending.sort(key=lambda p: p[1].end_s)
        self._measure_due(math.inf)
        return self.result(side, pain, meta)

    def result(self, side: str = "auto", pain: bool | None = None,
               meta: dict[str, Any] | None = None) -> StepdownResult:
        """The test result from the reps measured so far (see :meth:`finish`)."""
        meta = dict(meta or {})
        meta.setdefault("frames", self.view.frames)
        problem = self.view.problem(self.config)
        if problem:
            return StepdownResult(False, [], f"no step-down scored: {problem}", None, [],
                                  [], meta)
        wanted = SIDES if side == "auto" else (side,)
        sides = [r for r in (aggregate_side(s, self.reps[s], self.partial[s], self.cfg, pain)
                             for s in wanted) if r is not None]
        ignored = [i for i in self.ignored if i["side"] in wanted]
        message = None if sides else self._no_reps_message(side)
        comparison = _compare(sides, self.cfg.fppa_sdd_deg) if len(sides) == 2 else None
        return StepdownResult(bool(sides), sides, message, comparison, ignored,
                              self._confidence(sides), meta)

    def _no_reps_message(self, side: str) -> str:
        other = [s for s in SIDES if s != side and self.reps[s]] if side != "auto" else []
        if other:
            return (f"no step-down reps found standing on the {side} leg; "
                    f"{len(self.reps[other[0]])} rep(s) were found standing on the "
                    f"{other[0]} leg (use --side auto or --side {other[0]}; a mirrored "
                    "video swaps the sides)")
        return ("no step-down reps found: no heel went down below a still foot on a step "
                f"(at least {self.cfg.min_depth:.2f} torso lengths, ~9 cm) and back up with "
                "the knee bending; film the test from the front with the step and both "
                "feet in view")

    def _confidence(self, sides: list[SideResult]) -> list[str]:
        notes: list[str] = []
        facing = float(np.median(self.view.facings)) if self.view.facings else 1.0
        if facing < 0:
            notes.append("the subject's left appears on the image left (seen from behind, "
                         "or labels from a mirrored picture): sides follow the landmark "
                         "labels")
        yaw = float(np.median(self.view.yaws)) if self.view.yaws else math.nan
        # the image depth over-reads a turn (a render 8 deg off square read 24-26 deg);
        # when the reps' 3D pose says the body faced the camera, no warning
        turn3d = [abs(r.metrics.get("turn_3d_deg", math.nan)) for s in sides for r in s.reps]
        turn3d = [v for v in turn3d if math.isfinite(v)]
        square_3d = bool(turn3d) and float(np.median(turn3d)) <= self.cfg.yaw_note_deg
        if math.isfinite(yaw) and abs(yaw) > self.cfg.yaw_note_deg and not square_3d:
            notes.append(f"the body is turned about {abs(yaw):.0f} deg from the camera: "
                         "trunk lean and FPPA mix in sagittal motion; face the camera")
        yaws = [abs(r.metrics.get("yaw_corrected_deg", 0.0)) for s in sides for r in s.reps]
        if any(yaws):
            notes.append(f"{sum(1 for y in yaws if y)} rep(s) measured after turning the "
                         f"body back to square-on by up to {max(yaws):.0f} deg (landmark "
                         "depth; less reliable than filming square-on)")
        notes += _turn_notes([r for s in sides for r in s.reps if r.notes],
                             self.cfg.yaw_correct_max_deg)
        if any(r.pelvis_source == "hips" for s in sides for r in s.reps):
            from itbcoach.scoring.pelvis_fit import confidence_note

            notes.append(confidence_note())  # how far the pelvic reading can be trusted
        return notes


def _turn_notes(reps: list[StepdownRep], max_deg: float) -> list[str]:
    """One line per reason a turned rep was measured as filmed (the reps' own notes say
    it rep by rep): too far to turn back, or the two turn estimates disagree."""
    def span(values: list[float]) -> str:
        lo, hi = (f"{abs(v):.0f}" for v in (min(values, key=abs), max(values, key=abs)))
        return lo if lo == hi else f"{lo}-{hi}"

    image = [r.metrics.get("turn_image_deg", math.nan) for r in reps]
    far = [y for y in image if abs(y) > max_deg]
    torn = [(y, r.metrics.get("turn_3d_deg", math.nan))
            for y, r in zip(image, reps, strict=True) if not abs(y) > max_deg]
    out = []
    if far:
        out.append(f"{len(far)} rep(s) filmed turned {span(far)} deg from the camera: too far "
                   "to turn back to square-on, measured as filmed (face the camera)")
    if torn:
        out.append(f"{len(torn)} rep(s) measured as filmed, not turned back to square-on: "
                   f"the image depth read a {span([y for y, _ in torn])} deg turn, the 3D "
                   f"pose {span([w for _, w in torn])} deg")
    return out


def _shift(ev: RepEvent, by: int) -> RepEvent:
    """``ev`` with every frame index moved by ``by`` (a baseline before the kept frames
    is clamped to the first kept frame)."""
    b0 = max(ev.baseline_start + by, 0)
    b1 = max(ev.baseline_end + by, b0)
    return dataclasses.replace(ev, start_index=ev.start_index + by,
                               bottom_index=ev.bottom_index + by,
                               end_index=ev.end_index + by, baseline_start=b0,
                               baseline_end=b1)


def score_stepdown(seq: PoseSequence, config: Config, side: str = "auto",
                   pain: bool | None = None,
                   meta: dict[str, Any] | None = None) -> StepdownResult:
    """Score a lateral step-down recording: its frames replayed through
    :class:`~itbcoach.stream.FrameProcessor` and :class:`StepdownSession`.

    Args:
        seq: landmarks of the recording, raw (masked or not); ``meta["smoothed"]`` True
            means they were already smoothed (they are then only masked).
        config: the configuration.
        side: ``"auto"``, ``"left"`` or ``"right"`` (the leg on the step).
        pain: the person's answer (True/False) or None when unknown.
        meta: information about the input (kept in the JSON).

    Returns:
        :class:`StepdownResult`; ``ok`` is False (with ``message``) when no rep was found.
    """
    if side not in ("auto", "left", "right"):
        raise ValueError(f"side must be auto, left or right, got {side!r}")
    meta = dict(meta or {})
    session = StepdownSession(config)
    for frame in replay(seq, config, view="frontal", smooth=not meta.get("smoothed")):
        session.push(frame)
    return session.finish(side, pain, meta)
