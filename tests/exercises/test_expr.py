"""The metric-expression language of exercise definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from itbcoach.exercises.expr import ExprError, compile_expr, has_side, substitute, truth
from itbcoach.kernel import NUM_METRICS, Metric


def row(**values: float) -> np.ndarray:
    """A metric vector with the named metrics set, everything else NaN."""
    r = np.full(NUM_METRICS, np.nan)
    for name, v in values.items():
        r[Metric[name.upper()]] = v
    return r


def test_arithmetic_and_metric_lookup() -> None:
    e = compile_expr("(knee_flexion_left + knee_flexion_right) / 2 - 3 * -1")
    assert e(0.0, row(knee_flexion_left=40.0, knee_flexion_right=60.0)) == 53.0
    assert e.metrics == {"knee_flexion_left", "knee_flexion_right"}
    assert compile_expr("2 * 3").is_constant


def test_comparisons_chain_and_kleene_logic() -> None:
    r = row(trunk_lean=5.0, pelvic_obliquity=12.0)
    assert compile_expr("0 < trunk_lean < 10")(0, r) == 1.0
    assert compile_expr("trunk_lean > 10 or pelvic_obliquity > 10")(0, r) == 1.0
    assert compile_expr("trunk_lean > 10 and pelvic_obliquity > 10")(0, r) == 0.0
    assert compile_expr("not trunk_lean > 10")(0, r) == 1.0
    # NaN is "unknown": false and unknown = false, true and unknown = unknown
    assert compile_expr("trunk_lean > 10 and fppa_left > 0")(0, r) == 0.0
    assert math.isnan(compile_expr("trunk_lean < 10 and fppa_left > 0")(0, r))
    assert compile_expr("trunk_lean < 10 or fppa_left > 0")(0, r) == 1.0
    assert truth(compile_expr("fppa_left > 0")(0, r)) is None
    assert truth(1.0) is True and truth(0.0) is False


def test_nan_aware_reductions_and_helpers() -> None:
    r = row(knee_flexion_left=30.0)
    assert compile_expr("max(knee_flexion_left, knee_flexion_right)")(0, r) == 30.0
    assert compile_expr("mean(knee_flexion_left, knee_flexion_right, 10)")(0, r) == 20.0
    assert math.isnan(compile_expr("min(fppa_left, fppa_right)")(0, r))
    assert compile_expr("nan_to(knee_flexion_3d_left, knee_flexion_left)")(0, r) == 30.0
    assert compile_expr("clip(knee_flexion_left, 0, 20)")(0, r) == 20.0
    assert compile_expr("sign(-knee_flexion_left) * abs(-2)")(0, r) == -2.0
    assert math.isnan(compile_expr("knee_flexion_left / (knee_flexion_left - 30)")(0, r))


def test_side_placeholders() -> None:
    assert substitute("knee_y_{other} - knee_y_{side}", "left") == "knee_y_right - knee_y_left"
    assert substitute("{sign} * trunk_lean", "right") == "-1 * trunk_lean"
    assert has_side("fppa_{side}") and not has_side("fppa_left")
    e = compile_expr("{sign} * pelvic_obliquity", "right")
    assert e(0, row(pelvic_obliquity=30.0)) == -30.0
    with pytest.raises(ExprError, match="no side is given"):
        compile_expr("fppa_{side} > 0")


def test_streaming_functions_keep_state_and_reset() -> None:
    ema = compile_expr("ema(hip_y, 1.0)")
    assert ema(0.0, row(hip_y=0.0)) == 0.0
    # one time constant later the EMA has covered 1 - 1/e of a step
    assert ema(1.0, row(hip_y=1.0)) == pytest.approx(1 - math.exp(-1))
    ema.reset()
    assert ema(5.0, row(hip_y=7.0)) == 7.0

    runmax = compile_expr("runmax(hip_y, 2)")
    values = [runmax(t, row(hip_y=v)) for t, v in [(0, 5.0), (1, 1.0), (2, 2.0), (2.5, 1.0),
                                                  (3.5, 0.5)]]
    assert values == [5.0, 5.0, 5.0, 2.0, 2.0]  # 5 leaves the 2 s window after t = 2
    assert compile_expr("runmin(hip_y, 1)")(0, row(hip_y=3.0)) == 3.0

    rate = compile_expr("rate(hip_y, 0)")
    rate(0.0, row(hip_y=1.0))
    assert rate(0.5, row(hip_y=2.0)) == pytest.approx(2.0)  # units per second

    lag = compile_expr("lag(hip_y, 1)")
    out = [lag(t, row(hip_y=t * 10)) for t in (0.0, 0.5, 1.0, 1.5)]
    assert math.isnan(out[0]) and math.isnan(out[1]) and out[2:] == [0.0, 5.0]

    # NaN samples are skipped by the window functions
    skip = compile_expr("runmax(fppa_left, 5)")
    assert math.isnan(skip(0, row()))
    assert skip(1, row(fppa_left=4.0)) == 4.0
    assert skip(2, row()) == 4.0


@pytest.mark.parametrize(("source", "message"), [
    ("knee_flexon_left > 3", "unknown metric 'knee_flexon_left' (did you mean "
                             "'knee_flexion_left'?)"),
    ("__import__('os')", "only numbers are allowed"),
    ("hip_y.real", "is not allowed"),
    ("[hip_y]", "is not allowed"),
    ("lambda: 1", "is not allowed"),
    ("hip_y ** 2", "is not allowed"),
    ("hip_y == 2", "only < <= > >= comparisons"),
    ("foo(hip_y)", "unknown function foo()"),
    ("ema(hip_y, hip_y)", "must be a non-negative number of seconds"),
    ("abs(hip_y, 2)", "abs() takes 1 argument(s), got 2"),
    ("hip_y >", "cannot parse"),
])
def test_bad_expressions_are_rejected_with_one_line(source: str, message: str) -> None:
    with pytest.raises(ExprError) as err:
        compile_expr(source, where="exercises.x.rep.metric")
    assert message in str(err.value)
    assert str(err.value).startswith("exercises.x.rep.metric: ")
    assert "\n" not in str(err.value)
