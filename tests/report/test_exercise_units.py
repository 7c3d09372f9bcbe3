"""Exercise plots and overlays name the counted signal in the user's terms, with units
and the counter's thresholds (no raw expression, no bare "rep signal: 0.67")."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.exercises import score_exercise
from itbcoach.kernel import compute_metrics
from itbcoach.report.annotate import AnnotationPlan
from itbcoach.report.html import exercise_panels
from itbcoach.synth.exercises import ExerciseScript, render_exercise


@pytest.fixture(scope="module")
def config():
    return load_config(use_user_file=False)


@pytest.mark.parametrize(("task", "title", "unit", "enter_label"), [
    ("lunge-twist", "Counted: knee flexion of the straighter knee", "deg",
     "rep starts past 55 deg"),
    ("squat", "Counted: hip drop", "share of the standing hip height", "rep starts past 0.1"),
])
def test_counted_signal_panel_has_a_name_a_unit_and_its_thresholds(config, task, title, unit,
                                                                   enter_label) -> None:
    synth, _ = render_exercise(task, ExerciseScript(reps=2))
    seq = synth.pose
    result = score_exercise(seq, task, config)
    metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks)
    panels = exercise_panels(seq, metrics, result)
    counted = panels[0]
    assert (counted.title, counted.unit) == (title, unit)
    rep = config.exercises[task].rep
    assert [t.value for t in counted.thresholds] == [rep.enter, rep.exit]
    assert counted.thresholds[0].label == enter_label
    assert "(" not in counted.title  # no raw expression


def test_overlay_shows_the_counted_knee_angle_in_degrees(config) -> None:
    from itbcoach.kernel import Metric

    synth, _ = render_exercise("lunge-twist", ExerciseScript(reps=1))
    seq = synth.pose
    metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks)
    plan = AnnotationPlan(seq, score_exercise(seq, "lunge-twist", config), config, metrics)
    straighter = np.fmin(metrics[:, Metric.KNEE_FLEXION_3D_LEFT],
                         metrics[:, Metric.KNEE_FLEXION_3D_RIGHT])
    i = int(np.nanargmax(straighter))  # the bottom of the lunge
    rows = dict(plan.state(i).metrics)
    assert rows["knee flexion of the straighter knee"] == f"{straighter[i]:.0f} deg"
    assert straighter[i] > 55.0


@pytest.mark.parametrize(("task", "sided"), [("squat", False), ("lunge-twist", True)])
def test_rep_card_has_per_side_counts_only_for_one_sided_exercises(config, task: str,
                                                                   sided: bool) -> None:
    from itbcoach.report.html import _exercise_html

    synth, _ = render_exercise(task, ExerciseScript(reps=2))
    html = "".join(_exercise_html(score_exercise(synth.pose, task, config)))
    card = html.split("<div>Reps</div>")[1].split("</div></div>")[0]
    assert ("left 2 · right 2" in card) is sided
    assert ("left" in card) is sided
