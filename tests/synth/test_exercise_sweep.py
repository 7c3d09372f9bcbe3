"""The exercise accuracy rows and the robustness sweep behind them."""

from __future__ import annotations

import math

import pytest

from itbcoach.config import load_config
from itbcoach.synth.evaluate import duration_errors, exercise_rows, exercise_table
from itbcoach.synth.exercise_sweep import run_case, sweep_cases


def test_rows_give_count_mae_exact_rate_and_duration_errors() -> None:
    counts = [
        {"task": "glute-iso", "true_count": 2, "count": 2, "hold_errors_s": [0.2, 0.4]},
        {"task": "glute-iso", "true_count": 2, "count": 1, "hold_errors_s": [0.6]},
        {"task": "glute-iso", "true_count": 2, "count": 0, "refused": True},
        {"task": "squat", "true_count": 3, "count": 3},
    ]
    rows = {r["task"]: r for r in exercise_rows(counts)}
    g = rows["glute-iso"]
    assert (g["n"], g["refused"], g["count_mae"], g["exact"]) == (2, 1, 0.5, 0.5)
    assert g["hold_mae_s"] == pytest.approx(0.4)
    assert math.isnan(rows["squat"]["hold_mae_s"]) and rows["squat"]["exact"] == 1.0
    table = exercise_table(list(rows.values()), "test")
    assert table[2] == "| glute-iso | 2 | 1 | 0.50 | 0.50 | 0.40 | n/a |"


def test_duration_errors_charge_a_missing_hold_its_whole_length() -> None:
    truth = {"holds": [{"duration_s": 5.0}, {"duration_s": 6.0}],
             "timers": {"left": 12.0, "right": 12.0}}
    got = {"holds": [{"duration_s": 4.5}], "timers": [{"side": "left", "duration_s": 11.0}]}
    err = duration_errors(got, truth)
    assert err["hold_errors_s"] == pytest.approx([0.5, 6.0])
    assert err["timer_errors_s"] == pytest.approx([1.0, 12.0])


def test_sweep_cases_and_one_case_end_to_end() -> None:
    cases = sweep_cases(("squat",))
    labels = [c.label for c in cases]
    assert len(cases) == 22 and "portrait yaw -40" in labels and "slow reps, pauses" in labels
    config = load_config(use_user_file=False)
    row = run_case(cases[0], config)
    assert (row["task"], row["case"], row["refused"]) == ("squat", "landscape yaw +0", False)
    assert row["count"] == row["true_count"] == 2
    far = run_case(next(c for c in cases if c.label == "portrait yaw +40"), config)
    assert far["count"] == far["true_count"] or far["refused"]
