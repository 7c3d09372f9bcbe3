"""The pelvic-drop estimator of the step-down test, kept behind one function.

Known measurement risk (issue 4): on renders with a known pelvic drop, MediaPipe's hip
landmarks read only about 25-45% of the true drop (slope 0.25, r 0.37), while knee angle
and trunk lean track well. Everything the scorer knows about the pelvis comes from
:func:`pelvic_drop`, so a better estimator (another landmark combination, a learned
correction, a calibrated gain from the synthetic renders of issue 5) replaces this one
function without touching the scorer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from itbcoach.kernel import Metric


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
