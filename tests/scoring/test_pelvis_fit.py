"""The fitted pelvic-drop estimator: feature signs, the weighted sum, the contract."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.kernel import Metric
from itbcoach.scoring.pelvis_fit import FEATURES, features, pelvic_drop_fitted


def _metrics(n: int, **cols: np.ndarray | float) -> np.ndarray:
    m = np.zeros((n, len(Metric)))
    m[:, Metric.HIP_WIDTH] = 0.4
    for name, v in cols.items():
        m[:, Metric[name.upper()]] = v
    return m


@pytest.mark.parametrize("stance", [0, 1])
def test_features_are_baseline_relative_and_signed_by_stance(stance):
    sign = 1.0 if stance == 0 else -1.0
    st, fr = ("left", "right") if stance == 0 else ("right", "left")
    base = _metrics(5, pelvic_obliquity=2.0, trunk_lean=-1.0,
                    **{f"knee_flexion_{st}": 3.0, f"knee_y_{st}": 2.0, f"knee_y_{fr}": 2.0})
    # free side 4 deg lower, stance knee +30 deg, trunk 5 deg toward the stance leg,
    # free knee 0.04 body scales lower than the stance knee
    rep = _metrics(3, pelvic_obliquity=2.0 + sign * 4.0, trunk_lean=-1.0 + sign * 5.0,
                   **{f"knee_flexion_{st}": 33.0, f"knee_y_{st}": 2.0,
                      f"knee_y_{fr}": 2.04})
    x = features(rep, base, stance)
    assert x.shape == (3, len(FEATURES))
    got = dict(zip(FEATURES, x[0], strict=True))
    assert got["hip_line"] == pytest.approx(4.0)
    assert got["stance_knee_flexion"] == pytest.approx(30.0)
    assert got["free_knee_flexion"] == pytest.approx(0.0)
    assert got["trunk_lean"] == pytest.approx(5.0)
    assert got["knee_line"] == pytest.approx(np.degrees(np.arctan2(0.04, 0.4)))
    assert got["knee_asymmetry"] == pytest.approx(30.0)  # stance minus free knee


def test_estimate_is_the_weighted_sum_with_the_peak_of_largest_magnitude():
    base = _metrics(4)
    rep = _metrics(5, pelvic_obliquity=np.array([0.0, 2.0, 6.0, -9.0, 1.0]),
                   knee_flexion_left=np.array([0.0, 10.0, 20.0, 30.0, 5.0]))
    w = {"hip_line": 0.5, "stance_knee_flexion": -0.1}
    pd = pelvic_drop_fitted(rep, base, 0, weights=w)
    np.testing.assert_allclose(pd.series, [0.0, 0.0, 1.0, -7.5, 0.0], atol=1e-9)
    assert pd.peak_deg == pytest.approx(-7.5) and pd.peak_index == 3
    assert pd.method == "fitted"
    # gain divides, as in the hip-line estimator
    assert pelvic_drop_fitted(rep, base, 0, gain=2.0, weights=w).peak_deg == \
        pytest.approx(-3.75)
    # a missing metric makes its frames unknown, never 0
    rep[2, Metric.KNEE_FLEXION_LEFT] = np.nan
    assert np.isnan(pelvic_drop_fitted(rep, base, 0, weights=w).series[2])


def test_no_weights_is_an_error_that_says_what_to_run():
    import itbcoach.scoring.pelvis_fit as pf

    if pf.WEIGHTS is not None:
        pytest.skip("weights are fitted")
    with pytest.raises(ValueError, match="pelvis_study"):
        pelvic_drop_fitted(_metrics(3), _metrics(3), 0)


def test_confidence_note_says_low_unless_the_targets_are_met():
    from itbcoach.scoring.pelvis_fit import confidence_note

    low = confidence_note({"rep_mae_deg": 7.6, "sensitivity": 0.55, "specificity": 0.70})
    assert low == ("pelvic drop: low confidence (on renders with known drop the estimate "
                   "is off by 7.6 deg per rep on average; it finds 55% of drops and is "
                   "wrong on 30% of level reps)")
    ok = confidence_note({"rep_mae_deg": 1.5, "sensitivity": 0.96, "specificity": 0.97})
    assert ok.startswith("pelvic drop: validated (")
