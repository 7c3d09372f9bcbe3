"""One name, unit and sign per step-down measure; lengths in cm from a stated scale."""

from __future__ import annotations

import math

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.landmarks import Landmark as L
from itbcoach.report import measures as ms
from itbcoach.report.stepdown_view import (
    compare_text,
    criterion_lines,
    reps_csv,
    restate_medians,
)
from itbcoach.scoring.stepdown import SideResult, StepdownRep, StepdownResult


def test_length_scale_prefers_the_height_then_the_world_landmarks() -> None:
    world = np.full((4, 33, 3), np.nan)
    world[:, L.LEFT_SHOULDER] = world[:, L.RIGHT_SHOULDER] = (0.0, -0.5, 0.0)
    world[:, L.LEFT_HIP] = world[:, L.RIGHT_HIP] = (0.0, 0.0, 0.0)
    by_height = ms.length_scale(world, 175.0)
    assert (by_height.source, by_height.unit) == ("height", "cm")
    assert by_height.cm_per_body_scale == pytest.approx(0.288 * 175.0)
    assert "175 cm" in by_height.describe()
    by_world = ms.length_scale(world, 0.0)
    assert by_world.source == "world" and by_world.cm_per_body_scale == pytest.approx(50.0)
    assert "3D pose" in by_world.describe()
    none = ms.length_scale(None, None)
    assert (none.source, none.unit, none.length(0.1)) == ("none", "torso lengths", 0.1)


def test_values_thresholds_and_signs_in_shown_units() -> None:
    cfg = load_config(use_user_file=False).stepdown
    scale = ms.LengthScale(50.0, "height", 173.6)
    knee = ms.MEASURES_BY_KEY["knee_offset_second_toe"]
    pelvis = ms.MEASURES_BY_KEY["pelvic_drop_deg"]
    assert ms.threshold(knee, cfg, scale) == pytest.approx(cfg.knee_toe_margin * 50.0)
    assert ms.threshold(pelvis, cfg, scale) == cfg.pelvic_drop_deg
    assert ms.fmt(knee, ms.display(knee, 0.11, scale), scale) == "+5.5 cm"
    assert ms.fmt(pelvis, -0.04, scale) == "+0.0 deg"  # no "-0.0"
    assert ms.fmt(pelvis, -6.6, scale) == "-6.6 deg"
    assert math.isnan(ms.display(knee, None, scale))


def test_side_to_side_compares_sizes_not_signed_values() -> None:
    """A +5.3 deg drop and a -6.6 deg hike differ by 1.3 deg in size, not 11.9."""
    scale = ms.LengthScale(None, "none")
    pelvis = ms.MEASURES_BY_KEY["pelvic_drop_deg"]
    assert compare_text(pelvis, 5.3, -6.6, scale) == "right larger by 1.3 deg"
    fppa = ms.MEASURES_BY_KEY["fppa_deg"]
    assert compare_text(fppa, -3.2, 25.7, scale) == "right further in by 28.9 deg"


def _result(wrist: float | None) -> StepdownResult:
    nan = float("nan")
    reps = [StepdownRep("left", i, 1.0 + i, 1.5 + i, 2.0 + i, 30 * i, 30 * i + 15,
                        30 * i + 30, True, 1.0,
                        faults={"pelvis_not_level": i < 2, "arm_strategy": False},
                        metrics={"pelvic_drop_deg": [6.0, -5.5, 1.0][i],
                                 "wrist_rise": nan if wrist is None else wrist,
                                 "arm_abduction_change_deg": nan}) for i in range(3)]
    side = SideResult("left", reps, [], {"arm_strategy": False, "pelvis_not_level": True},
                      {"arm_strategy": 0, "pelvis_not_level": 2}, None, 1, "good", {})
    return StepdownResult(True, [side], None, None, [], [
        "pelvic drop: low confidence (on renders with known drop ...)"], {})


def test_score_card_lines_carry_confidence_and_not_assessable() -> None:
    lines = {c.criterion: c for c in criterion_lines(_result(None), _result(None).sides[0])}
    assert (lines["pelvis_not_level"].state, lines["pelvis_not_level"].confidence,
            lines["pelvis_not_level"].reps) == ("yes", "low confidence", "2/3")
    assert lines["arm_strategy"].state == "not assessable"
    lines = {c.criterion: c for c in criterion_lines(_result(0.05), _result(0.05).sides[0])}
    assert (lines["arm_strategy"].state, lines["arm_strategy"].confidence) == ("no",
                                                                               "measured")


def test_reps_csv_and_measures_json_agree() -> None:
    cfg = load_config(use_user_file=False).stepdown
    scale = ms.LengthScale(50.0, "world")
    result = _result(0.1)
    rows = reps_csv(result, scale).splitlines()
    assert rows[0].startswith("side,rep,start_s,end_s,pelvic drop (deg),trunk lean (deg),"
                              "knee inside 2nd toe (cm)")
    assert [r.split(",")[4] for r in rows[1:]] == ["+6.0", "-5.5", "+1.0"]
    block = ms.measures_json(result, cfg, scale)
    assert [r["pelvic_drop_deg"] for r in block["reps"]] == [6.0, -5.5, 1.0]
    assert block["reps"][0]["wrist_rise"] == 5.0  # 0.1 body scales x 50 cm
    assert block["length_scale"]["source"] == "world"


def test_terminal_summary_speaks_the_reports_units() -> None:
    summary = ("Lateral step-down test (Piva)\n  Standing on the left leg: 3 rep(s)\n"
               "    median per rep: pelvic drop +1.0 deg, ... +0.11 body scales\n  note: x")
    out = restate_medians(summary, _result(0.1), ms.LengthScale(50.0, "world"))
    line = out.split("\n")[2]
    assert line.startswith("    median per rep: pelvic drop +1.0 deg, trunk lean –, ")
    assert "hand off waist +5.0 cm" in line and "body scales" not in out
    assert out.split("\n")[3] == "  note: x"
