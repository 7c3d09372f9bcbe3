"""The lateral step-down test (Piva et al. 2006), scored from landmarks.

The subject faces the camera, stands on one leg on a step (about 20 cm) with the hands on
the waist and slowly lowers the free heel to touch the floor, then returns; 5 reps, then
the other leg. Each rep scores 1 point per fault seen on video:

* ``arm_strategy``: a hand leaves the waist (or, when the wrists are masked, an elbow
  rises away from the trunk);
* ``trunk_lean``: the trunk leans to either side;
* ``pelvis_not_level``: the free side of the pelvis drops or hikes;
* ``knee_medial_to_second_toe``: the knee moves medial to the second toe (+1), or
  ``knee_medial_to_foot``: medial to the medial border of the foot (+2 instead);
* ``unsteady``: the descent is not controlled (drops onto the heel, wobbles, pauses to
  rebalance, rests weight on the free foot);

plus 1 for pain (asked, not seen). A criterion counts for a side when it is present in
at least ``rep_fraction`` of the counted reps. Total 0-1 good, 2-3 medium, 4+ poor.

This module holds the criteria, the result types and the measuring functions; the
streaming session that runs them (segment reps per stance leg with
:class:`~itbcoach.scoring.segmentation.StepdownSegmenter`, measure each rep against the
standing baseline just before it with :func:`measure_rep`, aggregate per side with
:func:`aggregate_side`) is :class:`itbcoach.scoring.session.StepdownSession`, and
:func:`itbcoach.scoring.session.score_stepdown` replays a recording through it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from itbcoach.config.schema import StepdownConfig
from itbcoach.kernel import Metric, compute_metrics
from itbcoach.landmarks import Landmark as L
from itbcoach.scoring.criteria import IDS
from itbcoach.scoring.pelvis import PelvisReading, pelvic_drop
from itbcoach.scoring.segmentation import RepEvent

log = logging.getLogger(__name__)

SIDES = ("left", "right")
#: The criteria seen on video, in Piva's order.
CRITERIA = IDS
CATEGORIES = ((1, "good"), (3, "medium"), (math.inf, "poor"))


def category(score: int) -> str:
    """Piva category of a total: 0-1 good, 2-3 medium, 4+ poor."""
    for top, name in CATEGORIES:
        if score <= top:
            return name
    return "poor"  # pragma: no cover


def piva_score(criteria: dict[str, bool], pain: bool | None) -> int:
    """Total: 1 per criterion, 2 (instead of 1) for the knee medial to the foot, 1 for
    pain."""
    knee = 2 if criteria["knee_medial_to_foot"] else int(criteria["knee_medial_to_second_toe"])
    return (int(criteria["arm_strategy"]) + int(criteria["trunk_lean"])
            + int(criteria["pelvis_not_level"]) + knee + int(criteria["unsteady"])
            + int(bool(pain)))


# --- results --------------------------------------------------------------------------

def _r(value: float, nd: int = 3) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), nd)


@dataclass
class StepdownRep:
    """One rep (counted or partial) with its faults, metrics and evidence."""

    side: str
    index: int
    start_s: float
    bottom_s: float
    end_s: float
    start_frame: int
    bottom_frame: int
    end_frame: int
    counted: bool
    depth: float
    faults: dict[str, bool] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    worst_frame: dict[str, int] = field(default_factory=dict)
    unsteady_signs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str = ""
    #: The source's frame id of each worst frame (live thumbnails; not in the JSON).
    worst_frame_ids: dict[str, int] = field(default_factory=dict, compare=False)
    #: Where the pelvis was read: "hands" (the hand line), "hips" (the hip-landmark
    #: line, a fallback), "not assessable"; "" = not read (partial reps).
    pelvis_source: str = ""
    #: 0..1 (hands: share of frames on the hips x stillness; 0 otherwise); NaN unread.
    pelvis_confidence: float = float("nan")

    def use_pelvis(self, reading: PelvisReading, threshold_deg: float,
                   hip_fallback: bool) -> None:
        """Take the pelvis criterion from ``reading`` (the hand line); when it is not
        assessable keep the hip-landmark line only if ``hip_fallback`` (source "hips")."""
        self.metrics["pelvic_drop_hips_deg"] = self.metrics.get("pelvic_drop_deg", math.nan)
        self.metrics["hand_motion"] = reading.hand_motion
        self.metrics["hands_on_fraction"] = reading.on_fraction
        if reading.source == "hands":
            self.pelvis_source, self.pelvis_confidence = "hands", reading.confidence
            self.metrics["pelvic_drop_deg"] = reading.drop_deg
            self.faults["pelvis_not_level"] = abs(reading.drop_deg) >= threshold_deg
            self.worst_frame["pelvis_not_level"] = self.bottom_frame
        elif hip_fallback:
            self.pelvis_source, self.pelvis_confidence = "hips", 0.0
        else:
            self.pelvis_source, self.pelvis_confidence = "not assessable", 0.0
            self.metrics["pelvic_drop_deg"] = math.nan
            self.faults["pelvis_not_level"] = False
            self.worst_frame["pelvis_not_level"] = -1

    @property
    def pelvis_assessable(self) -> bool:
        """Could the pelvis criterion be judged on this rep?"""
        return self.pelvis_source != "not assessable"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out: dict[str, Any] = {
            "index": self.index, "start_s": _r(self.start_s), "bottom_s": _r(self.bottom_s),
            "end_s": _r(self.end_s), "start_frame": self.start_frame,
            "bottom_frame": self.bottom_frame, "end_frame": self.end_frame,
            "counted": self.counted, "depth": _r(self.depth),
            "faults": {c: self.faults[c] for c in CRITERIA if c in self.faults},
            "metrics": {k: _r(v) for k, v in self.metrics.items()},
            "worst_frame": dict(self.worst_frame),
            "unsteady_signs": list(self.unsteady_signs),
            "notes": list(self.notes),
        }
        if self.pelvis_source:
            out["pelvis"] = {"source": self.pelvis_source,
                             "confidence": _r(self.pelvis_confidence, 2)}
            if not self.pelvis_assessable:
                out["faults"]["pelvis_not_level"] = None
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class SideResult:
    """Test-level result of one stance leg."""

    side: str
    reps: list[StepdownRep]
    partial: list[StepdownRep]
    criteria: dict[str, bool]
    counts: dict[str, int]
    pain: bool | None
    score: int
    category: str
    peaks: dict[str, float]
    notes: list[str] = field(default_factory=list)
    #: (lowest, highest) total when a criterion could not be judged, else None; then
    #: ``score`` is the lowest and ``category`` names the range (e.g. "medium-poor")
    score_range: tuple[int, int] | None = None
    #: criteria that could not be judged (their ``criteria`` value is False)
    unknown: list[str] = field(default_factory=list)

    @property
    def score_text(self) -> str:
        """``"3"`` or, when a criterion could not be judged, the range ``"2-3"``."""
        if self.score_range and self.score_range[0] != self.score_range[1]:
            return f"{self.score_range[0]}-{self.score_range[1]}"
        return str(self.score)

    @property
    def pelvis_label(self) -> str:
        """Where the pelvis was read, e.g. ``"hands 3/3, confidence 0.93"`` ("" unread)."""
        return _pelvis_label(self.reps)

    @property
    def hands_off_reps(self) -> list[int]:
        """Rep numbers (1-based) whose pelvis could not be read: the hands were not
        both on the hips (the live test lists them)."""
        return [r.index + 1 for r in self.reps if r.pelvis_source == "not assessable"]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the issue's shape plus extras)."""
        criteria: dict[str, bool | None] = dict(self.criteria)
        for c in self.unknown:
            criteria[c] = None
        return {"side": self.side, "reps": [r.to_json() for r in self.reps],
                "partial_reps": [r.to_json() for r in self.partial],
                "criteria": criteria, "criteria_rep_counts": dict(self.counts),
                "pain": self.pain, "score": self.score,
                "score_range": list(self.score_range) if self.score_range else None,
                "score_text": self.score_text, "category": self.category,
                "pelvis_source": self.pelvis_label, "hands_left_hips": self.hands_off_reps,
                "median_metrics": {k: _r(v) for k, v in self.peaks.items()},
                "notes": list(self.notes)}


@dataclass
class StepdownResult:
    """Everything :func:`score_stepdown` found.

    Attributes:
        ok: at least one counted rep.
        sides: per stance leg with counted reps, left first.
        message: one plain line when nothing could be scored (else None).
        comparison: side-to-side differences (both sides scored) or None.
        ignored: movements that were not reps (aborted: stepping off, pose lost...).
        confidence: notes on measurement quality (view, detection, known limits).
        meta: information about the input.
    """

    ok: bool
    sides: list[SideResult]
    message: str | None
    comparison: dict[str, Any] | None
    ignored: list[dict[str, Any]]
    confidence: list[str]
    meta: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``itbcoach score --task stepdown --json``."""
        out: dict[str, Any] = {"task": "stepdown", "ok": self.ok,
                               "sides": [s.to_json() for s in self.sides]}
        if self.message:
            out["message"] = self.message
        out["comparison"] = self.comparison
        out["ignored_movements"] = self.ignored
        out["confidence"] = list(self.confidence)
        out["input"] = {k: v for k, v in self.meta.items()
                        if isinstance(v, str | int | float | bool) or v is None}
        return out

    def summary(self) -> str:
        """Human-readable result for the terminal."""
        lines = ["Lateral step-down test (Piva)"]
        if not self.ok:
            lines.append(f"  {self.message}")
        for s in self.sides:
            pain = {True: "yes", False: "no", None: "not asked"}[s.pain]
            lines.append(f"  Standing on the {s.side} leg: {len(s.reps)} rep(s)"
                         + (f", {len(s.partial)} partial (not counted)" if s.partial else "")
                         + f" -> score {s.score_text} ({s.category})")
            for name in CRITERIA:
                n = s.counts.get(name, 0)
                mark = "?" if name in s.unknown else ("x" if s.criteria[name] else " ")
                label = s.pelvis_label if name == "pelvis_not_level" else ""
                lines.append(f"    [{mark}] {name.replace('_', ' ')} ({n}/{len(s.reps)} reps"
                             + (f"; pelvis from {label}" if label else "") + ")")
            lines.append(f"    [{'x' if s.pain else ' '}] pain ({pain})")
            pk = s.peaks
            lines.append(
                "    median per rep: pelvic drop {:+.1f} deg, trunk lean {:+.1f} deg, FPPA "
                "{:+.1f} deg, knee vs 2nd toe {:+.2f}, vs foot border {:+.2f} body scales"
                .format(*(pk.get(k, float("nan")) for k in (
                    "pelvic_drop_deg", "trunk_lean_deg", "fppa_deg",
                    "knee_offset_second_toe", "knee_offset_foot"))))
            lines.extend(f"    {note}" for note in s.notes)
        if self.comparison:
            c = self.comparison
            lines.append(f"  Side to side: score left {c['score_left']} vs right "
                         f"{c['score_right']}; " + "; ".join(c["notes"]))
        for note in self.confidence:
            lines.append(f"  note: {note}")
        return "\n".join(lines)


# --- signals --------------------------------------------------------------------------

@dataclass(frozen=True)
class Signals:
    """Per-frame signals of one stance hypothesis (body scales, image axes)."""

    depth: np.ndarray
    foot_x: np.ndarray
    foot_y: np.ndarray
    hip_y: np.ndarray
    knee_lateral: np.ndarray  # stance knee vs stance ankle, + = medial


def side_signals(px: np.ndarray, scale: float, stance: int, facing: float) -> Signals:
    """Segmentation signals for stance leg ``stance`` (0 left, 1 right).

    Args:
        px: ``(T, 33, 2)`` pixel landmarks.
        scale: body scale, pixels (torso length).
        stance: stance side.
        facing: +1 when the subject's left is on the image right (facing the camera).
    """
    s_heel, s_toe, s_knee, s_ankle = ((L.LEFT_HEEL, L.LEFT_FOOT_INDEX, L.LEFT_KNEE,
                                       L.LEFT_ANKLE) if stance == 0 else
                                      (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX, L.RIGHT_KNEE,
                                       L.RIGHT_ANKLE))
    f_heel = L.RIGHT_HEEL if stance == 0 else L.LEFT_HEEL
    foot = 0.5 * (px[:, s_heel] + px[:, s_toe]) / scale
    hip = 0.5 * (px[:, L.LEFT_HIP, 1] + px[:, L.RIGHT_HIP, 1]) / scale
    depth = px[:, f_heel, 1] / scale - foot[:, 1]
    # medial = toward the other leg: for the left leg facing the camera that is image -x
    medial = -facing if stance == 0 else facing
    knee_lat = (px[:, s_knee, 0] - px[:, s_ankle, 0]) / scale * medial
    return Signals(depth, foot[:, 0], foot[:, 1], hip, knee_lat)


def _smooth1d(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average over ``2n+1`` samples, NaN-aware (edges use what exists)."""
    if n <= 0:
        return x.copy()
    ok = np.isfinite(x)
    v = np.where(ok, x, 0.0)
    k = np.ones(2 * n + 1)
    num = np.convolve(v, k, mode="same")
    den = np.convolve(ok.astype(float), k, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~ok] = np.nan
    return out


def _smooth_columns(x: np.ndarray, n: int) -> np.ndarray:
    """:func:`_smooth1d` on every column of ``(T, K)``."""
    if n <= 0 or x.shape[0] == 0:
        return x.copy()
    ok = np.isfinite(x)
    v = np.where(ok, x, 0.0)
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), v]), axis=0)
    cn = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), ok.astype(float)]), axis=0)
    idx = np.arange(x.shape[0])
    lo = np.clip(idx - n, 0, x.shape[0])
    hi = np.clip(idx + n + 1, 0, x.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[hi] - c[lo]) / (cn[hi] - cn[lo])
    out[~ok] = np.nan
    return out


def derotate(landmarks: np.ndarray, image_size: tuple[int, int],
             yaw_deg: float) -> np.ndarray:
    """Image landmarks turned about the vertical axis through the hip midpoint.

    The subject seen ``yaw_deg`` from square-on (the kernel's ``body_yaw`` convention)
    is turned back to face the camera: x and the MediaPipe depth z (both scaled by the
    image width) are rotated by ``-yaw_deg`` about the hip midpoint; y is unchanged
    (weak perspective). Frontal-plane metrics of the result no longer mix in sagittal
    motion (a 20 deg turn makes 15 deg of forward trunk flexion read as ~5 deg of
    lateral lean).

    Args:
        landmarks: ``(N, 33, 3)`` normalised image landmarks.
        image_size: ``(width, height)``.
        yaw_deg: body yaw, degrees (0 = square-on).

    Returns:
        ``(N, 33, 3)`` float64 landmarks.
    """
    w = float(image_size[0])
    lm = np.asarray(landmarks, dtype=np.float64).copy()
    hx = 0.5 * (lm[:, L.LEFT_HIP, 0] + lm[:, L.RIGHT_HIP, 0])
    hz = 0.5 * (lm[:, L.LEFT_HIP, 2] + lm[:, L.RIGHT_HIP, 2])
    dx = (lm[..., 0] - hx[:, None]) * w
    dz = (lm[..., 2] - hz[:, None]) * w
    th = math.radians(yaw_deg)
    c, s = math.cos(th), math.sin(th)
    lm[..., 0] = hx[:, None] + (dx * c + dz * s) / w
    lm[..., 2] = hz[:, None] + (-dx * s + dz * c) / w
    return lm


def refine_bounds(ev: RepEvent, depth: np.ndarray, times_s: np.ndarray, lower: int,
                  upper: int, start_tol: float) -> RepEvent:
    """Move a rep's start back / end forward to where the depth stops changing, and put
    its bottom at the first frame within a small tolerance of the deepest point.

    The segmenter marks the start where the depth was last within ``start_tol`` of the
    baseline and the end at the exit threshold (both inside the slow ends of the
    movement); offline we follow the smoothed depth while it keeps rising (back in time)
    or falling (forward), within ``[lower, upper)``.
    """
    ds = _smooth1d(depth, 1)
    i = ev.start_index
    while i - 1 >= lower and np.isfinite(ds[i - 1]) and ds[i - 1] < ds[i]:
        i -= 1
    j = ev.end_index
    while j + 1 < upper and np.isfinite(ds[j + 1]) and ds[j + 1] < ds[j]:
        j += 1
    seg = _smooth1d(depth, 2)[i:j + 1]
    if np.isfinite(seg).any():
        top = float(np.nanpercentile(seg, 95.0))  # robust to noise peaks
        near = np.flatnonzero(seg >= top - max(0.5 * start_tol, 0.03 * top))
        k = i + int(near[0]) if near.size else ev.bottom_index
    else:
        k = ev.bottom_index
    return dataclasses.replace(ev, start_index=i, end_index=j, bottom_index=k,
                               start_s=float(times_s[i]), end_s=float(times_s[j]),
                               bottom_s=float(times_s[k]))


def _gradient(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    if x.size < 2:
        return np.zeros_like(x)
    return np.gradient(x, t)


# --- per-rep measurement --------------------------------------------------------------

def foot_border(world: np.ndarray | None, ev: RepEvent, stance: int,
                cfg: StepdownConfig) -> float:
    """Distance from the second toe to the medial border of the stance foot, body scales
    (torso lengths), from the person's own proportions: ``foot_border_per_height`` x the
    3D distance from the eyes to the stance heel over the 3D torso length, medians over
    the rep's standing baseline; the kernel's ``FOOT_HALF_BREADTH`` when there are no 3D
    landmarks or the factor is 0.

    Args:
        world: ``(T, 33, 3)`` world landmarks (metres) of the recording, or None.
    """
    from itbcoach.kernel import FOOT_HALF_BREADTH

    if world is None or cfg.foot_border_per_height <= 0:
        return FOOT_HALF_BREADTH
    a, b = (ev.baseline_start, ev.baseline_end) if ev.baseline_end > ev.baseline_start \
        else (ev.start_index, ev.start_index + 1)
    w = world[a:b]
    heel = L.LEFT_HEEL if stance == 0 else L.RIGHT_HEEL
    eyes = 0.5 * (w[:, L.LEFT_EYE] + w[:, L.RIGHT_EYE])
    torso = np.linalg.norm(0.5 * (w[:, L.LEFT_SHOULDER] + w[:, L.RIGHT_SHOULDER])
                           - 0.5 * (w[:, L.LEFT_HIP] + w[:, L.RIGHT_HIP]), axis=1)
    ratio = np.linalg.norm(eyes - w[:, heel], axis=1) / torso
    if not np.isfinite(ratio).any():
        return FOOT_HALF_BREADTH
    return cfg.foot_border_per_height * float(np.nanmedian(ratio))


def knee_vs_planted_toe(m: np.ndarray, stance: int, image_m: np.ndarray,
                        image_base: np.ndarray) -> np.ndarray:
    """Stance knee vs the second toe where the foot stands, body scales, + = medial.

    The stance foot is planted through a step-down, so the toe is taken where it was
    over the standing baseline, not frame by frame: MediaPipe drags its foot point along
    with a knee that moves medially (on the renders the planted toe "moved" 0.01-0.06
    body scales medially at the bottom of knee-in reps, hiding up to half of the
    offset). The per-frame offset (the kernel's ``knee_offset_toe``, from ``m``) is
    corrected by how far the toe's image x has moved from its baseline median; that
    drift is read on the image as seen (``image_m``/``image_base``), where a planted
    foot stays still, also when ``m`` was turned to square-on (:func:`derotate` turns
    each frame about its own hip midpoint, which moves in a rep). Frames whose toe
    drift is unknown keep the per-frame offset.

    Args:
        m: ``(N, K)`` metrics of the rep's frames (possibly yaw-corrected).
        stance: 0 left, 1 right.
        image_m: ``(N, K)`` the same frames' metrics from the image as seen (``m`` itself
            when the rep was not yaw-corrected).
        image_base: ``(B, K)`` the standing baseline's metrics from the image as seen.
    """
    sg = "LEFT" if stance == 0 else "RIGHT"
    per_frame = m[:, Metric[f"KNEE_OFFSET_TOE_{sg}"]]
    toe_base = image_base[:, Metric[f"TOE_X_{sg}"]] * image_base[:, Metric.BODY_SCALE]
    if not np.isfinite(toe_base).any():
        return per_frame
    scale = image_m[:, Metric.BODY_SCALE]
    # medial = toward the other leg; FACING +1: the subject's left on the image right
    medial = image_m[:, Metric.FACING] * (-1.0 if stance == 0 else 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        drift = (image_m[:, Metric[f"TOE_X_{sg}"]] * scale - float(np.nanmedian(toe_base))) \
            / scale * medial
    return np.where(np.isfinite(drift), per_frame + drift, per_frame)


def measure_rep(ev: RepEvent, stance: int, metrics: np.ndarray, sig: Signals,
                times_s: np.ndarray, landmarks: np.ndarray, cfg: StepdownConfig,
                index: int, border: float | None = None,
                image_metrics: np.ndarray | None = None) -> StepdownRep:
    """Faults, peak metrics and worst frames of one rep.

    Every peak is taken over the rep's frames against the median of the rep's standing
    baseline (the segmenter's window just before the rep) where the criterion is a
    change (pelvis, trunk, hands); knee positions are absolute (where the knee is over
    the foot) over the loaded part of the rep (depth >= ``loaded_fraction`` of the peak);
    the medial border of the foot lies ``border`` body scales medial of the second toe
    (:func:`foot_border`; None = the kernel's fixed ``knee_offset_foot``). The knee is
    measured against the planted toe (:func:`knee_vs_planted_toe`), whose drift is read
    on ``image_metrics`` (the smoothed metrics of the image as seen, when ``metrics``
    were yaw-corrected; default ``metrics``).
    """
    side = SIDES[stance]
    a, b = ev.start_index, ev.end_index + 1
    base = metrics[ev.baseline_start:ev.baseline_end]
    if not len(base):
        base = metrics[a:a + 1]
    m = metrics[a:b]
    t = times_s[a:b]
    sg = "LEFT" if stance == 0 else "RIGHT"
    out: dict[str, float] = {}
    worst: dict[str, int] = {}
    faults: dict[str, bool] = {}

    def base_med(col: int) -> float:
        return _base_median(base, col)

    # pelvis (one estimator function, see scoring/pelvis.py)
    pd = pelvic_drop(m, base, stance, cfg.pelvic_drop_gain, landmarks[a:b])
    out["pelvic_drop_deg"] = pd.peak_deg
    worst["pelvis_not_level"] = a + pd.peak_index if pd.peak_index >= 0 else -1
    faults["pelvis_not_level"] = bool(abs(pd.peak_deg) >= cfg.pelvic_drop_deg) \
        if math.isfinite(pd.peak_deg) else False

    # trunk lean vs the baseline, + = toward the stance leg
    lean_sign = 1.0 if stance == 0 else -1.0
    lean = lean_sign * (m[:, Metric.TRUNK_LEAN] - base_med(Metric.TRUNK_LEAN))
    v, i = _peak_abs(lean)
    out["trunk_lean_deg"] = v
    worst["trunk_lean"] = a + i if i >= 0 else -1
    faults["trunk_lean"] = bool(math.isfinite(v) and abs(v) >= cfg.trunk_lean_deg)

    # knee over the foot, loaded part of the rep
    depth = sig.depth[a:b] - np.nanmedian(sig.depth[ev.baseline_start:ev.baseline_end]) \
        if ev.baseline_end > ev.baseline_start else sig.depth[a:b] - sig.depth[a]
    loaded = depth >= cfg.loaded_fraction * ev.depth
    im = metrics if image_metrics is None else image_metrics
    ibase = im[ev.baseline_start:ev.baseline_end] if ev.baseline_end > ev.baseline_start \
        else im[a:a + 1]
    toe = np.where(loaded, knee_vs_planted_toe(m, stance, im[a:b], ibase), np.nan)
    foot = np.where(loaded, m[:, Metric[f"KNEE_OFFSET_FOOT_{sg}"]], np.nan) \
        if border is None else toe - border
    fppa = np.where(loaded, m[:, Metric[f"FPPA_{sg}"]], np.nan)
    v, i = _peak_max(toe)
    out["knee_offset_second_toe"] = v
    worst["knee_medial_to_second_toe"] = a + i if i >= 0 else -1
    faults["knee_medial_to_second_toe"] = bool(math.isfinite(v) and v > cfg.knee_toe_margin)
    v, i = _peak_max(foot)
    out["knee_offset_foot"] = v
    worst["knee_medial_to_foot"] = a + i if i >= 0 else -1
    faults["knee_medial_to_foot"] = bool(math.isfinite(v) and v > cfg.knee_foot_margin)
    v, i = _peak_max(fppa)
    out["fppa_deg"] = v
    out["fppa_change_deg"] = v - base_med(Metric[f"FPPA_{sg}"]) if math.isfinite(v) \
        else float("nan")
    worst["fppa"] = a + i if i >= 0 else -1

    # arm strategy: a wrist moves away from its hip (the hand leaves the waist)
    arm, arm_i, faults["arm_strategy"] = _arm_strategy(m, base, cfg)
    out.update(arm)
    worst["arm_strategy"] = a + arm_i if arm_i >= 0 else -1

    # unsteady: descent control
    signs, uworst, umetrics = _descent_control(ev, depth, sig.knee_lateral[a:b], t, cfg)
    out.update(umetrics)
    faults["unsteady"] = bool(signs)
    worst["unsteady"] = a + uworst if uworst >= 0 else -1
    return StepdownRep(side, index, ev.start_s, ev.bottom_s, ev.end_s, ev.start_index,
                       ev.bottom_index, ev.end_index, True, ev.depth, faults, out, worst,
                       signs)


def _peak_abs(x: np.ndarray) -> tuple[float, int]:
    """Value and index of the largest ``|x|`` (NaN, -1 when all NaN)."""
    if not np.isfinite(x).any():
        return float("nan"), -1
    i = int(np.nanargmax(np.abs(x)))
    return float(x[i]), i


def _peak_max(x: np.ndarray) -> tuple[float, int]:
    """Value and index of the largest ``x`` (NaN, -1 when all NaN)."""
    if not np.isfinite(x).any():
        return float("nan"), -1
    i = int(np.nanargmax(x))
    return float(x[i]), i


def _base_median(base: np.ndarray, col: int) -> float:
    """Median of metric ``col`` over the baseline frames (NaN when unknown)."""
    v = base[:, col]
    return float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")


def _arm_strategy(m: np.ndarray, base: np.ndarray,
                  cfg: StepdownConfig) -> tuple[dict[str, float], int, bool]:
    """Piva's arm strategy over a rep's metrics ``m``: the largest rise of a wrist's
    distance from its hip above the baseline (body scales; the hand leaves the waist),
    or, when the wrists are masked (hands on the waist read as low visibility), of an
    arm's abduction (deg). Returns the two rises, the worst frame within the rep (-1
    when unknown) and the fault."""
    def largest_rise(metric: str) -> tuple[float, int]:
        best, best_i = float("nan"), -1
        for arm in ("LEFT", "RIGHT"):
            col = Metric[f"{metric}_{arm}"]
            v, i = _peak_max(m[:, col] - _base_median(base, col))
            if math.isfinite(v) and (best_i < 0 or v > best):
                best, best_i = v, i
        return best, best_i

    wrist, wrist_i = largest_rise("WRIST_HIP_DISTANCE")
    abd, abd_i = largest_rise("ARM_ABDUCTION")
    values = {"wrist_rise": wrist, "arm_abduction_change_deg": abd}
    if math.isfinite(wrist):
        return values, wrist_i, bool(wrist >= cfg.arm_rise)
    return values, abd_i, bool(math.isfinite(abd) and abd >= cfg.arm_abduction_deg)


def _descent_control(ev: RepEvent, depth: np.ndarray, knee_lat: np.ndarray, t: np.ndarray,
                     cfg: StepdownConfig) -> tuple[list[str], int, dict[str, float]]:
    """Signs of an uncontrolled descent.

    Args:
        ev: the rep (indices relative to the recording).
        depth: ``(N,)`` depth above the rep's baseline over the rep's frames.
        knee_lat: ``(N,)`` stance knee vs ankle, + = medial, body scales.
        t: ``(N,)`` times, s.
        cfg: thresholds.

    Returns:
        ``(signs, worst frame index within the rep or -1, metrics)``.
    """
    n = t.size
    fps = (n - 1) / (t[-1] - t[0]) if n > 1 and t[-1] > t[0] else 30.0
    d = _smooth1d(depth, max(1, round(cfg.velocity_window_s * fps / 2)))
    v = _gradient(d, t)  # body scales / s, + = going down
    bottom = min(max(ev.bottom_index - ev.start_index, 1), n - 1)
    peak = ev.depth
    signs: list[str] = []
    worst = -1
    out: dict[str, float] = {}
    descent_s = float(t[bottom] - t[0])
    vd = v[:bottom]
    vmax = float(np.nanmax(vd)) if np.isfinite(vd).any() else float("nan")
    out["descent_s"] = descent_s
    out["descent_peak_speed"] = vmax
    d5 = _smooth1d(depth, 2)
    top = float(np.nanpercentile(d5, 95.0)) if np.isfinite(d5).any() else peak
    # 1. drops onto the heel: a controlled (minimum-jerk) descent takes ~1.4x as long
    #    from half depth to the floor (97%) as from 10% to half depth; a drop covers the
    #    second half in a rush (ratio ~0.3-0.5). Independent of where the start is seen.
    def crossing(level: float) -> float:
        above = np.flatnonzero(d5[:bottom + 1] >= level * top)
        return float(t[above[0]]) if above.size else float("nan")

    t10, t50, t97 = crossing(0.1), crossing(0.5), float(t[bottom])
    half = (t97 - t50) / (t50 - t10) if t50 > t10 else float("nan")
    out["second_half_time_ratio"] = half
    if math.isfinite(half) and half <= cfg.sudden_half_ratio:
        signs.append("drops onto the heel")
        worst = bottom
    # 2. pauses to rebalance: the descent stops between 15% and 85% of the depth
    mid = (d[:bottom] >= 0.15 * peak) & (d[:bottom] <= 0.85 * peak)
    slow = mid & (vd < cfg.pause_speed_fraction * vmax)
    run, best_run, best_end = 0, 0, -1
    for k, is_slow in enumerate(slow):
        run = run + 1 if is_slow else 0
        if run > best_run:
            best_run, best_end = run, k
    pause_s = best_run / fps
    out["descent_pause_s"] = pause_s
    if pause_s >= cfg.pause_min_s:
        signs.append("pauses to rebalance")
        worst = best_end if worst < 0 else worst
    # 3. lateral knee wobble: detrended knee-over-ankle position, robust peak to peak
    trend = _smooth1d(knee_lat, max(1, round(cfg.wobble_window_s * fps / 2)))
    resid = np.where(depth >= 0.3 * peak, _smooth1d(knee_lat, 1) - trend, np.nan)
    if np.isfinite(resid).any():
        lo_q, hi_q = np.nanpercentile(resid, [5.0, 95.0])
        wobble = float(hi_q - lo_q)  # robust to single-frame spikes; ~0.98 pp of a sine
        w_i = int(np.nanargmax(np.abs(resid)))
    else:
        wobble, w_i = float("nan"), -1
    out["knee_wobble"] = wobble
    if math.isfinite(wobble) and wobble >= cfg.wobble_pp:
        signs.append("knee wobbles")
        worst = w_i if worst < 0 else worst
    # 4. rests on the free foot: longer near the lowest point than the movement's own
    #    speed explains. A minimum-jerk movement spends as long within 10% of its end as
    #    it takes from 10% to 50% of the way (0.245 vs 0.255 of its duration), so the
    #    expected time near the bottom is the 10->50% time of the descent plus the 50->10%
    #    time of the ascent; the excess is time spent resting there.
    near = d5 >= top * (1.0 - cfg.bottom_depth_tol)
    dwell = float(np.count_nonzero(near)) / fps
    after = np.flatnonzero((np.arange(n) > bottom) & (d5 <= 0.5 * top))
    a50 = int(after[0]) if after.size else -1
    after10 = np.flatnonzero((np.arange(n) > max(a50, bottom)) & (d5 <= 0.1 * top))
    a10 = int(after10[0]) if after10.size else -1
    approach = (t50 - t10) + (float(t[a10] - t[a50]) if a50 >= 0 and a10 >= 0
                              else t50 - t10)
    rest = dwell - approach if math.isfinite(approach) else dwell
    out["bottom_dwell_s"] = dwell
    out["bottom_rest_s"] = rest
    if rest >= cfg.bottom_rest_s:
        signs.append("rests on the free foot")
        worst = bottom if worst < 0 else worst
    return signs, worst, out


@dataclass(frozen=True)
class _Recording:
    """What the per-rep measurement needs about the whole recording."""

    landmarks: np.ndarray  # (T, 33, 3) prepared image landmarks
    image_size: tuple[int, int]
    times: np.ndarray
    metrics: np.ndarray  # (T, K) raw kernel metrics
    smoothed: np.ndarray  # (T, K) metrics averaged over metric_window_s
    n_smooth: int  # half window of that average, frames
    facing: float
    world: np.ndarray | None  # (T, 33, 3) world landmarks, metres
    raw_px: np.ndarray | None = None  # (T, 33, 2) masked, unfiltered pixels (hand line)
    scale: float = float("nan")  # body scale, pixels


def _wrap(deg: np.ndarray) -> np.ndarray:
    return (deg + 180.0) % 360.0 - 180.0


def rep_yaw(rec: _Recording, ev: RepEvent) -> tuple[float, float]:
    """Body yaw of a rep, degrees, 0 = square-on (kernel ``body_yaw`` convention).

    Medians over the rep's standing baseline of the hip line's yaw from the image
    landmarks (x and the depth z) and, when present, from the world landmarks. Returns
    ``(image_yaw, world_yaw)`` (NaN when unknown).
    """
    a, b = (ev.baseline_start, ev.baseline_end) if ev.baseline_end > ev.baseline_start \
        else (ev.start_index, ev.start_index + 1)
    flip = 180.0 if rec.facing < 0 else 0.0  # seen from behind: the hip line is reversed
    img = _wrap(rec.metrics[a:b, Metric.BODY_YAW] + flip)
    out = [float(np.nanmedian(img)) if np.isfinite(img).any() else float("nan")]
    world = float("nan")
    if rec.world is not None:
        d = rec.world[a:b, L.LEFT_HIP] - rec.world[a:b, L.RIGHT_HIP]
        w = _wrap(np.degrees(np.arctan2(d[:, 2], d[:, 0])) + flip)
        if np.isfinite(w).any():
            world = float(np.nanmedian(w))
    return out[0], world


def rep_metrics(rec: _Recording, ev: RepEvent,
                cfg: StepdownConfig) -> tuple[np.ndarray, float, str, tuple[float, float]]:
    """Smoothed metrics for measuring one rep, yaw-corrected when the body is turned.

    The rep is turned back to square-on (:func:`derotate`) when the image-landmark yaw
    is within ``[yaw_correct_min_deg, yaw_correct_max_deg]`` and, when world landmarks
    exist, their yaw agrees within ``yaw_agree_deg`` (MediaPipe's depth is the weak
    point of this correction: on a square-on render it read 6-8 deg).

    Returns a full-length ``(T, K)`` array (only the rep's frames and its baseline differ
    from the recording's smoothed metrics), the yaw applied (0 when none), a note
    ("" or why a large yaw was not corrected) and the measured ``(image_yaw,
    world_yaw)`` of :func:`rep_yaw`.
    """
    turn = yaw, world = rep_yaw(rec, ev)
    if not math.isfinite(yaw) or abs(yaw) < cfg.yaw_correct_min_deg:
        return rec.smoothed, 0.0, "", turn
    if abs(yaw) > cfg.yaw_correct_max_deg:
        return rec.smoothed, 0.0, f"turned {abs(yaw):.0f} deg: too far to correct", turn
    if math.isfinite(world) and abs(world - yaw) > cfg.yaw_agree_deg:
        return rec.smoothed, 0.0, (f"turned {abs(yaw):.0f} deg by the image depth but "
                                   f"{abs(world):.0f} by the 3D pose: not corrected"), turn
    pad = rec.n_smooth
    a = max(0, min(ev.baseline_start, ev.start_index) - pad)
    b = min(len(rec.times), ev.end_index + 1 + pad)
    lm = derotate(rec.landmarks[a:b], rec.image_size, yaw)
    local = _smooth_columns(compute_metrics(lm, rec.image_size), rec.n_smooth)
    out = rec.smoothed.copy()
    out[a:b] = local
    return out, yaw, "", turn


def aggregate_side(side: str, reps: list[StepdownRep], partial: list[StepdownRep],
                   cfg: StepdownConfig, pain: bool | None) -> SideResult | None:
    """A stance leg's test result from its measured reps (None without a counted rep).

    A criterion is present when at least ``rep_fraction`` of the counted reps show it;
    the score adds pain; the medians of the per-rep peaks describe the leg.
    """
    if not reps:
        return None
    counts = {c: sum(r.faults[c] for r in reps) for c in CRITERIA}
    need = cfg.rep_fraction * len(reps)
    criteria = {c: counts[c] >= need - 1e-9 for c in CRITERIA}
    score = piva_score(criteria, pain)
    score_range, unknown = _pelvis_range(reps, counts["pelvis_not_level"], need, criteria,
                                         pain)
    cat = category(score) if score_range is None else _range_category(*score_range)
    keys = ("pelvic_drop_deg", "trunk_lean_deg", "fppa_deg", "knee_offset_second_toe",
            "knee_offset_foot", "wrist_rise", "knee_wobble", "bottom_dwell_s")
    peaks = {}
    for k in keys:
        vals = np.array([r.metrics.get(k, np.nan) for r in reps], float)
        peaks[k] = float(np.nanmedian(vals)) if np.isfinite(vals).any() else float("nan")
    notes = []
    if math.isfinite(peaks["fppa_deg"]) and peaks["fppa_deg"] > cfg.fppa_note_deg:
        notes.append(f"knee FPPA {peaks['fppa_deg']:.0f} deg, above the controls' mean + 1 "
                     f"SD ({cfg.fppa_note_deg:g} deg; single-leg squat norms, Herrington "
                     "2014)")
    return SideResult(side, list(reps), list(partial), criteria, counts, pain, score,
                      cat, peaks, notes, score_range, unknown)


def pelvis_reading(rec: _Recording, ev: RepEvent, stance: int,
                   cfg: StepdownConfig) -> PelvisReading:
    """The hand-line pelvis reading of one rep (:func:`scoring.pelvis.rep_pelvis`) from
    the recording's masked, unfiltered pixels (``rec.raw_px``)."""
    from itbcoach.scoring.pelvis import rep_pelvis

    base = slice(ev.baseline_start, ev.baseline_end) if ev.baseline_end > ev.baseline_start \
        else slice(ev.start_index, ev.start_index + 1)
    assert rec.raw_px is not None
    return rep_pelvis(rec.raw_px, base, slice(ev.start_index, ev.end_index + 1),
                      ev.bottom_index, stance, rec.scale, max_dist=cfg.hands_hip_max_dist,
                      min_above=cfg.hands_min_above, max_motion=cfg.hands_max_motion,
                      min_on=cfg.hands_min_on)


def _pelvis_range(reps: list[StepdownRep], found: int, need: float,
                  criteria: dict[str, bool], pain: bool | None
                  ) -> tuple[tuple[int, int] | None, list[str]]:
    """Score range when reps with the pelvis not assessable could decide the criterion.

    The criterion is present when ``found`` reps (of the assessable ones) reach ``need``;
    absent when even counting every unassessable rep as a drop would not; else unknown
    and the total is a range (low end: criterion absent, high end: present).
    """
    unknown = sum(not r.pelvis_assessable for r in reps)
    if not unknown or found >= need - 1e-9 or found + unknown < need - 1e-9:
        return None, []
    lo = piva_score(dict(criteria, pelvis_not_level=False), pain)
    return (lo, lo + 1), ["pelvis_not_level"]


def _range_category(lo: int, hi: int) -> str:
    """Category of a score range: one name when both ends agree, else "good-medium"."""
    a, b = category(lo), category(hi)
    return a if a == b else f"{a}-{b}"


def _pelvis_label(reps: list[StepdownRep]) -> str:
    """``"hands 3/3, confidence 0.93"`` style label of where the pelvis was read (the
    lowest confidence of the reps read from the hands); "" when no rep was read."""
    srcs = [r.pelvis_source for r in reps if r.pelvis_source]
    if not srcs:
        return ""
    parts = [f"{n} {srcs.count(n)}/{len(reps)}" for n in ("hands", "hips", "not assessable")
             if n in srcs]
    conf = [r.pelvis_confidence for r in reps if r.pelvis_source == "hands"]
    tail = f", confidence {min(conf):.2f}" if conf else ""
    return ", ".join(parts) + tail


def _compare(sides: list[SideResult], sdd: float) -> dict[str, Any]:
    left, right = sides[0], sides[1]
    notes = []
    diff = {}
    for k in ("pelvic_drop_deg", "trunk_lean_deg", "fppa_deg", "knee_offset_second_toe"):
        a, b = left.peaks.get(k, np.nan), right.peaks.get(k, np.nan)
        diff[k] = _r(a - b)
    fd = left.peaks.get("fppa_deg", np.nan) - right.peaks.get("fppa_deg", np.nan)
    if math.isfinite(fd):
        notes.append(f"FPPA differs by {abs(fd):.1f} deg"
                     + (f" (at least the ~{sdd:g} deg smallest detectable difference)"
                        if abs(fd) >= sdd else " (within measurement error)"))
    only = [c for c in CRITERIA if left.criteria[c] != right.criteria[c]]
    if only:
        notes.append("criteria on one side only: " + ", ".join(
            f"{c.replace('_', ' ')} ({'left' if left.criteria[c] else 'right'})"
            for c in only))
    if left.score != right.score:
        worse = "left" if left.score > right.score else "right"
        notes.append(f"the {worse} leg scores worse")
    else:
        notes.append("same score")
    return {"score_left": left.score, "score_right": right.score,
            "category_left": left.category, "category_right": right.category,
            "difference_left_minus_right": diff,
            "criteria_one_side": only, "notes": notes}
