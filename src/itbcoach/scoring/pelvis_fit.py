"""A pelvic-drop estimator corrected with weights fitted on synthetic renders (issue 5).

MediaPipe's hip landmarks do not follow the pelvis during a step-down: on renders with
exact ground truth the hip line reads a drop that grows with stance-knee flexion on a
level pelvis, and reads little or none of a real drop (see "Pelvic drop" in
docs/accuracy.md and :mod:`itbcoach.synth.pelvis_study`). This estimator combines the hip-line
change with leg and trunk quantities MediaPipe measures well, with linear weights fitted
on renders and validated on renders they were not fitted on.

It has the signature of :func:`itbcoach.scoring.pelvis.pelvic_drop`, so the scorer can
switch to it in that one function. Every feature is the frame's kernel metric minus its
median over the rep's standing baseline, signed by the stance leg:

* ``hip_line`` -- pelvic obliquity change, + = free side lower (the current estimator);
* ``stance_knee_flexion`` / ``free_knee_flexion`` -- 2D knee flexion change, degrees;
* ``trunk_lean`` -- lateral trunk lean change, + = toward the stance leg, degrees;
* ``knee_line`` -- free knee lower than the stance knee, change, degrees of the line
  between the knees over the hip width (``atan`` of height difference / hip width);
* ``knee_asymmetry`` -- stance minus free knee flexion change, degrees: the posture that
  makes a level pelvis look tilted (a flexed stance thigh lifts that side's outline); 0
  in symmetric movements such as a squat.
"""

from __future__ import annotations

import numpy as np

from itbcoach.kernel import Metric
from itbcoach.scoring.pelvis import PelvicDrop

#: Feature names, in column order of :func:`features`.
FEATURES = ("hip_line", "stance_knee_flexion", "free_knee_flexion", "trunk_lean",
            "knee_line", "knee_asymmetry")

#: Weights of :data:`FEATURES` fitted by ``benchmarks/pelvis_study.py`` (see there and
#: docs/accuracy.md for the data, the date and the held-out error). ``None`` until fitted.
WEIGHTS: dict[str, float] | None = None


#: How well the scorer's hip-line estimator did on renders with a known drop
#: (``benchmarks/pelvis_study.py``, 2026-11-21, the 60 seeded clips of ``itbcoach eval``
#: / 181 reps, 49 with a true drop >= 5 deg): per-rep peak error, and the ``>= 5 deg``
#: criterion per rep.
HIP_LINE_VALIDATION = {"rep_mae_deg": 5.5, "sensitivity": 0.31, "specificity": 0.83,
                       "reps": 181}


def confidence_note(validation: dict[str, float] | None = None) -> str:
    """One line for reports saying how far the pelvic-drop reading can be trusted.

    Args:
        validation: measured performance (default :data:`HIP_LINE_VALIDATION`).

    Returns:
        e.g. ``"pelvic drop: low confidence (on renders with known drop the estimate is
        off by 5.5 deg per rep on average; it finds 48% of drops and is wrong on 16% of
        level reps)"``.
    """
    v = validation or HIP_LINE_VALIDATION
    good = v["sensitivity"] >= 0.95 and v["specificity"] >= 0.95 and v["rep_mae_deg"] <= 2.0
    level = "validated" if good else "low confidence"
    return (f"pelvic drop: {level} (on renders with known drop the estimate is off by "
            f"{v['rep_mae_deg']:.1f} deg per rep on average; it finds "
            f"{v['sensitivity']:.0%} of drops and is wrong on {1 - v['specificity']:.0%} "
            f"of level reps)")


def _base(base: np.ndarray, col: int) -> float:
    v = base[:, col] if len(base) else np.array([np.nan])
    return float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")


def features(metrics: np.ndarray, baseline: np.ndarray, stance: int) -> np.ndarray:
    """Baseline-relative, stance-signed features ``(N, len(FEATURES))`` of a rep.

    Args:
        metrics: ``(N, K)`` kernel metrics of the rep's frames.
        baseline: ``(M, K)`` kernel metrics of the standing frames before the rep
            (empty: the rep's first frame is the baseline).
        stance: 0 = left stance leg, 1 = right.

    Returns:
        ``(N, F)`` degrees; NaN where a metric is missing.
    """
    if not len(baseline):
        baseline = metrics[:1]
    sign = 1.0 if stance == 0 else -1.0
    st, fr = ("LEFT", "RIGHT") if stance == 0 else ("RIGHT", "LEFT")

    def rel(col: int) -> np.ndarray:
        return metrics[:, col] - _base(baseline, col)

    # free knee lower than the stance knee (image y down), over the hip width
    def knee_tilt(m: np.ndarray) -> np.ndarray:
        dy = m[:, Metric[f"KNEE_Y_{fr}"]] - m[:, Metric[f"KNEE_Y_{st}"]]
        return np.degrees(np.arctan2(dy, np.maximum(m[:, Metric.HIP_WIDTH], 1e-6)))

    kt = knee_tilt(metrics)
    kb = knee_tilt(baseline)
    kb0 = float(np.nanmedian(kb)) if np.isfinite(kb).any() else float("nan")
    stance_knee = rel(Metric[f"KNEE_FLEXION_{st}"])
    free_knee = rel(Metric[f"KNEE_FLEXION_{fr}"])
    cols = [
        sign * rel(Metric.PELVIC_OBLIQUITY),
        stance_knee,
        free_knee,
        sign * rel(Metric.TRUNK_LEAN),
        kt - kb0,
        stance_knee - free_knee,
    ]
    return np.stack(cols, axis=1)


def pelvic_drop_fitted(metrics: np.ndarray, baseline: np.ndarray, stance: int,
                       gain: float = 1.0, landmarks: np.ndarray | None = None,
                       weights: dict[str, float] | None = None) -> PelvicDrop:
    """Drop of the free side of the pelvis per frame of a rep, corrected (see module).

    Same contract as :func:`itbcoach.scoring.pelvis.pelvic_drop`: ``series`` in degrees,
    + = the free side lower than in the standing baseline; ``gain`` divides the result.

    Args:
        metrics: ``(N, K)`` kernel metrics of the rep's frames.
        baseline: ``(M, K)`` kernel metrics of the standing frames before the rep.
        stance: 0 = left stance leg, 1 = right.
        gain: measured/true slope left after the correction (1.0).
        landmarks: unused (the contract's argument).
        weights: feature weights (default :data:`WEIGHTS`).

    Raises:
        ValueError: no weights given and none fitted yet.
    """
    del landmarks
    w = weights if weights is not None else WEIGHTS
    if w is None:
        raise ValueError("pelvis_fit.WEIGHTS are not fitted; run benchmarks/pelvis_study.py")
    x = features(metrics, baseline, stance)
    vec = np.array([w.get(name, 0.0) for name in FEATURES])
    used = vec != 0
    series = (x[:, used] @ vec[used]) / gain
    if not np.isfinite(series).any():
        return PelvicDrop(series, float("nan"), -1, "fitted")
    idx = int(np.nanargmax(np.abs(series)))
    return PelvicDrop(series, float(series[idx]), idx, "fitted")


__all__ = ["FEATURES", "HIP_LINE_VALIDATION", "WEIGHTS", "confidence_note", "features",
           "pelvic_drop_fitted"]
