"""The pelvic-drop estimator of the step-down test, kept behind one function.

Known measurement risk (issue 4): on renders with a known pelvic drop, MediaPipe's hip
landmarks read only about 25-45% of the true drop (slope 0.25, r 0.37), while knee angle
and trunk lean track well. Everything the scorer knows about the pelvis comes from
:func:`pelvic_drop`, so a better estimator (another landmark combination, a learned
correction, a calibrated gain from the synthetic renders of issue 5) replaces this one
function without touching the scorer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from itbcoach.kernel import Metric
from itbcoach.landmarks import Landmark as L


@dataclass(frozen=True)
class PelvicDrop:
    """Pelvic drop over one rep.

    Attributes:
        series: ``(N,)`` degrees per frame of the rep, + = the free side lower than in the
            rep's standing baseline (a drop), - = higher (a hike). NaN where unknown.
        peak_deg: the value of largest magnitude (signed), NaN when no frame is known.
        peak_index: index into ``series`` of that value (-1 when unknown).
        method: a short name of the estimator (reported in the JSON).
    """

    series: np.ndarray
    peak_deg: float
    peak_index: int
    method: str


def pelvic_drop(metrics: np.ndarray, baseline: np.ndarray, stance: int,
                gain: float = 1.0, landmarks: np.ndarray | None = None) -> PelvicDrop:
    """Drop of the free side of the pelvis relative to standing, per frame of a rep.

    The current estimator is the kernel's ``pelvic_obliquity`` (hip landmark line vs
    image horizontal, + = subject's left hip higher) minus its median over the rep's
    standing baseline, signed so that + is the free (non-stance) side going down, and
    divided by ``gain`` (the landmark-to-true slope; 1.0 until calibrated).

    Args:
        metrics: ``(N, K)`` kernel metrics of the rep's frames (smoothed landmarks).
        baseline: ``(M, K)`` kernel metrics of the standing frames just before the rep.
        stance: 0 = left stance leg, 1 = right.
        gain: measured/true slope of the estimator (see the module docstring).
        landmarks: ``(N, 33, 3)`` image landmarks of the rep (unused by this estimator;
            available to better ones).

    Returns:
        :class:`PelvicDrop`.
    """
    del landmarks
    obl = metrics[:, Metric.PELVIC_OBLIQUITY]
    base_vals = baseline[:, Metric.PELVIC_OBLIQUITY] if len(baseline) else obl[:1]
    base = np.nanmedian(base_vals) if np.isfinite(base_vals).any() else np.nan
    # left stance: the free side is the right; right hip lower = left higher = obliquity +
    sign = 1.0 if stance == 0 else -1.0
    series = sign * (obl - base) / gain
    if not np.isfinite(series).any():
        return PelvicDrop(series, float("nan"), -1, "hip-line obliquity")
    idx = int(np.nanargmax(np.abs(series)))
    return PelvicDrop(series, float(series[idx]), idx, "hip-line obliquity")


# --- the hand line: hands on the hips as pelvic markers (issue 15) ----------------------

#: Landmarks averaged into one hand point per side (left, right): the wrists. On the
#: step-down samples (hands riding the pelvis exactly, render version 7) MediaPipe's
#: wrist line read the drop within 2.3 deg (10.1-10.6 for 10.6; 0.0-2.3 for level
#: reps), while its index, pinky and thumb points follow the forearm, not the hand
#: (16-20 deg for 10.6; the mean of the four 3-6 deg off on level reps).
HAND_POINTS = ((L.LEFT_WRIST,), (L.RIGHT_WRIST,))
_HIPS = (L.LEFT_HIP, L.RIGHT_HIP)

#: Values of :attr:`PelvisReading.source`.
SOURCES = ("hands", "hips", "not assessable")


def hand_points(px: np.ndarray) -> np.ndarray:
    """``(T, 2, 2)`` hand points in pixels (left, right): mean of the finite ones of
    :data:`HAND_POINTS` per side (NaN when none is finite).

    Args:
        px: ``(T, 33, >=2)`` landmarks in pixels, *not* masked by visibility (MediaPipe
            gives hands on the waist a visibility of 0.4-0.5 while their positions are
            good; :func:`hands_on_hips` checks their geometry instead).
    """
    out = np.full((px.shape[0], 2, 2), np.nan)
    for side, ids in enumerate(HAND_POINTS):
        pts = px[:, list(ids), :2]
        ok = np.isfinite(pts).all(axis=2)
        n = ok.sum(axis=1)
        s = np.where(ok[..., None], pts, 0.0).sum(axis=1)
        out[:, side] = np.where(n[:, None] > 0, s / np.maximum(n, 1)[:, None], np.nan)
    return out


def hands_on_hips(hands: np.ndarray, hips: np.ndarray, scale: float,
                  max_dist: float, min_above: float) -> np.ndarray:
    """``(T,)`` per frame: both hand points within ``max_dist`` body scales of their
    own hip landmark and at least ``min_above`` body scales above it (the hands rest on
    the iliac crests, above the hip joints; hands hanging at the sides are as near but
    below).

    Args:
        hands: ``(T, 2, 2)`` from :func:`hand_points`.
        hips: ``(T, 2, 2)`` left and right hip landmarks, pixels.
        scale: body scale (torso length), pixels.
        max_dist, min_above: thresholds, body scales.
    """
    d = np.linalg.norm(hands - hips, axis=2) / scale
    above = (hips[..., 1] - hands[..., 1]) / scale  # image y grows downward
    with np.errstate(invalid="ignore"):
        return ((d <= max_dist) & (above >= min_above)).all(axis=1)


def _line_deg(pts: np.ndarray) -> np.ndarray:
    """Tilt of the right -> left line, + = the subject's left higher in the image
    (the kernel's ``pelvic_obliquity`` convention, valid from the front or behind)."""
    r, lf = pts[..., 1, :], pts[..., 0, :]
    return np.degrees(np.arctan2(r[..., 1] - lf[..., 1], np.abs(r[..., 0] - lf[..., 0])))


@dataclass(frozen=True)
class PelvisReading:
    """The pelvis of one rep read from the hands, or why it cannot be.

    Attributes:
        source: ``"hands"`` (the hand line), ``"hips"`` (the hip-landmark line, a
            fallback with known low accuracy) or ``"not assessable"``.
        drop_deg: free side lower at the bottom than standing, degrees (+ drop, - hike);
            NaN when not assessable.
        confidence: 0..1, share of the rep's frames with both hands on the hips times
            how still the hands stayed on them (1 up to half of ``max_motion``).
        on_fraction: share of the rep's frames with both hands on the hips.
        hand_motion: largest change of a hand's offset from its hip over the rep vs
            standing, body scales.
    """

    source: str
    drop_deg: float
    confidence: float
    on_fraction: float
    hand_motion: float


def hand_line_drop(hands_base: np.ndarray, hips_base: np.ndarray, hands_rep: np.ndarray,
                   hips_rep: np.ndarray, bottom: int, stance: int, scale: float, *,
                   max_dist: float, min_above: float, max_motion: float, min_on: float,
                   bottom_half_window: int = 2) -> PelvisReading:
    """Pelvic drop of one rep from the line through the hands on the hips.

    The hands resting on the iliac crests move with the pelvis (Piva's protocol), so the
    change of the hand line from the rep's standing window to its bottom is the drop.
    The rep is read from the hands when both hands are on the hips (:func:`hands_on_hips`)
    in at least ``min_on`` of its frames and in its standing window and bottom, and no
    hand moved more than ``max_motion`` body scales relative to its hip (a hand leaving
    the waist, the arm strategy, makes the line meaningless); else it is not assessable.

    Args:
        hands_base, hips_base: ``(M, 2, 2)`` hand points and hip landmarks (pixels) of
            the standing window before the rep.
        hands_rep, hips_rep: ``(N, 2, 2)`` the same over the rep.
        bottom: index into the rep of its deepest frame.
        stance: 0 = left stance leg, 1 = right.
        scale: body scale (torso length), pixels.
        max_dist, min_above, max_motion, min_on: the rule's thresholds (``[stepdown]``
            config ``hands_*``).
        bottom_half_window: frames either side of ``bottom`` averaged, frames.

    Returns:
        :class:`PelvisReading`.
    """
    on_rep = hands_on_hips(hands_rep, hips_rep, scale, max_dist, min_above)
    on_base = hands_on_hips(hands_base, hips_base, scale, max_dist, min_above)
    on_fraction = float(on_rep.mean()) if on_rep.size else 0.0
    b0, b1 = max(0, bottom - bottom_half_window), bottom + bottom_half_window + 1
    nan = float("nan")
    if not on_base.any() or not on_rep[b0:b1].any() or on_fraction < min_on:
        return PelvisReading("not assessable", nan, 0.0, on_fraction, nan)
    rel_base = np.nanmedian((hands_base - hips_base)[on_base], axis=0)  # (2, 2)
    motion = np.linalg.norm(hands_rep - hips_rep - rel_base, axis=2) / scale  # (N, 2)
    hand_motion = float(np.nanmax(motion)) if np.isfinite(motion).any() else nan
    if not math.isfinite(hand_motion) or hand_motion > max_motion:
        return PelvisReading("not assessable", nan, 0.0, on_fraction, hand_motion)
    base = float(np.nanmedian(_line_deg(hands_base[on_base])))
    sel = hands_rep[b0:b1][on_rep[b0:b1]]
    now = float(np.nanmedian(_line_deg(sel)))
    # left stance: the free side is the right; right lower = left higher = line +
    sign = 1.0 if stance == 0 else -1.0
    # full confidence up to half the limit (a real drop read by hip landmarks that lag
    # the pelvis already moves the hand-to-hip offsets by ~0.06), then linear to 0
    conf = on_fraction * min(1.0, 2.0 * (max_motion - hand_motion) / max_motion)
    return PelvisReading("hands", sign * (now - base), round(conf, 3), on_fraction,
                         hand_motion)


def rep_pelvis(px_raw: np.ndarray, baseline: slice, rep: slice, bottom: int, stance: int,
               scale: float, *, max_dist: float, min_above: float, max_motion: float,
               min_on: float) -> PelvisReading:
    """:func:`hand_line_drop` of one rep from unmasked pixel landmarks of the recording.

    Args:
        px_raw: ``(T, 33, >=2)`` landmarks in pixels, not masked by visibility.
        baseline: the rep's standing window (frame indices).
        rep: the rep's frames.
        bottom: frame index of the rep's deepest point.
    """
    hands = hand_points(px_raw)
    hips = px_raw[:, list(_HIPS), :2]
    return hand_line_drop(hands[baseline], hips[baseline], hands[rep], hips[rep],
                          bottom - rep.start, stance, scale, max_dist=max_dist,
                          min_above=min_above, max_motion=max_motion, min_on=min_on)


def frame_hands_on_hips(landmarks: np.ndarray, image_size: tuple[int, int], scale: float,
                        max_dist: float, min_above: float) -> bool | None:
    """One frame: are both hands on the hips (:func:`hands_on_hips`)? None when unknown
    (no person, no body scale yet, a hand or hip not seen).

    Args:
        landmarks: ``(33, >=2)`` normalised image landmarks (hand points kept down to
            ``pose.hand_min_visibility``, as :class:`itbcoach.stream.Frame` has them).
        image_size: ``(width, height)`` pixels.
        scale: body scale (torso length), pixels.
        max_dist, min_above: ``stepdown.hands_hip_max_dist`` / ``hands_min_above``.
    """
    if not np.isfinite(scale) or scale <= 0:
        return None
    px = landmarks[None, :, :2] * np.asarray(image_size, float)
    hands = hand_points(px)
    hips = px[:, list(_HIPS), :2]
    if not (np.isfinite(hands).all() and np.isfinite(hips).all()):
        return None
    return bool(hands_on_hips(hands, hips, scale, max_dist, min_above)[0])
