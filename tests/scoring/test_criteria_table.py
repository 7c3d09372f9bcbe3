"""One table of step-down criteria: every layer takes its ids and words from it."""

from __future__ import annotations

from itbcoach.scoring.criteria import IDS, TABLE


def test_every_layer_reads_the_one_criteria_table() -> None:
    from itbcoach.live import stepdown as live
    from itbcoach.report import annotate, stepdown_view
    from itbcoach.scoring import stepdown as scoring
    from itbcoach.synth import stepdown as synth

    assert IDS == ("arm_strategy", "trunk_lean", "pelvis_not_level",
                   "knee_medial_to_second_toe", "knee_medial_to_foot", "unsteady")
    assert scoring.CRITERIA == synth.FAULTS == IDS
    assert stepdown_view.CRITERIA_LABELS == {c.id: c.label for c in TABLE}
    assert annotate.FAULT_TEXT == {c.id: c.flag for c in TABLE}
    assert annotate.FAULT_SHORT == {c.id: c.short for c in TABLE}
    assert live.FAULT_TEXT == {c.id: c.cue for c in TABLE}
    assert live.ADVICE == {c.id: c.advice for c in TABLE}
    assert all(c.label and c.flag and c.short and c.cue and c.advice and c.measured_from
               for c in TABLE)


def test_score_card_says_what_each_criterion_is_measured_from() -> None:
    from itbcoach.report.stepdown_view import _source
    from itbcoach.scoring.stepdown import StepdownRep

    rep = StepdownRep("left", 0, 1.0, 1.5, 2.0, 30, 45, 60, True, 1.0,
                      metrics={"wrist_rise": 0.1})
    assert _source([rep], "pelvis_not_level") == "hip landmark line"
    assert _source([rep], "unsteady") == "heel descent timing, knee wobble"
    rep.metrics["wrist_rise"] = float("nan")  # wrists hidden: the elbows are used
    assert _source([rep], "arm_strategy") == "elbow away from the trunk (wrists hidden)"
