"""The programme coach (`itbcoach live --program`) replayed on synthetic movements."""

from __future__ import annotations

import pytest

from itbcoach.config import load_config
from itbcoach.exercises.events import EventKind
from itbcoach.kernel import compute_metrics
from itbcoach.live.coach import ExerciseCoach, Frame, ProgramCoach
from itbcoach.pose.framing import assess_framing
from itbcoach.synth.exercises import ExerciseScript, render_exercise


def frames(task: str, t0: float, view: str, config):
    synth, truth = render_exercise(task, ExerciseScript(reps=3))
    seq = synth.pose
    metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks)
    framing = assess_framing(seq, config.framing, view=view)
    out = [Frame(t0 + float(seq.times_s[i]), i, metrics[i], seq.landmarks[i].astype(float),
                 seq.visibility[i], seq.image_size, bool(framing.ok[i]),
                 framing.instruction(i)) for i in range(len(seq))]
    return out, truth


def test_programme_runs_exercises_in_order_with_rest() -> None:
    config = load_config(use_user_file=False)
    coach = ProgramCoach(config, ("squat", "monster-walk"), rest_s=5.0)
    first, truth_a = frames("squat", 0.0, coach.view, config)
    events = [e for f in first for e in coach.update(f)]
    t = first[-1].t_s
    events += coach.key("n", t)  # the person moves on before the prescription is met
    assert coach.current.task == "monster-walk"
    resting = coach.view_state(t + 1.0)
    assert resting.banner == "Rest 4 s" and resting.progress.startswith("next: ")
    second, truth_b = frames("monster-walk", t + 5.5, coach.current.view, config)
    events += [e for f in second for e in coach.update(f)]
    events += coach.finish(second[-1].t_s)
    assert coach.done
    done = coach.result()["exercises"]
    assert [r["task"] for r in done] == ["squat", "monster-walk"]
    assert done[0]["reps"] == truth_a.reps
    assert done[1]["steps"] == truth_b.steps
    assert [e.kind for e in events].count(EventKind.REST_OVER) == 1
    rests = [e for e in events if e.kind == EventKind.REST_OVER]
    assert rests[0].t_s == pytest.approx(t + 5.5, abs=0.05)  # first frame after the rest


def test_programme_order_comes_from_the_config() -> None:
    config = load_config(use_user_file=False, overrides={
        "live.program": ["glute-iso", "squat"], "live.program_rest_s": 12.0})
    from itbcoach.cli.live_cmd import make_coach

    coach = make_coach(config, None, program=True)
    assert isinstance(coach, ProgramCoach)
    assert coach.tasks == ("glute-iso", "squat") and coach.rest_s == 12.0
    assert isinstance(coach.current, ExerciseCoach) and coach.current.task == "glute-iso"


def test_programme_stays_finished_during_the_result_screen() -> None:
    """After the last exercise the loop keeps feeding frames (result screen): the
    programme must not finish the last exercise again on every frame."""
    config = load_config(use_user_file=False, overrides={
        "exercises.squat.prescription.sets": 1, "exercises.squat.prescription.reps": [3, 3]})
    coach = ProgramCoach(config, ("squat",), rest_s=5.0)
    squat, truth = frames("squat", 0.0, coach.view, config)
    events = []
    for f in squat:
        events += coach.update(f)
    assert coach.done and coach.index == 1
    assert [r["task"] for r in coach.result()["exercises"]] == ["squat"]
    assert coach.result()["exercises"][0]["reps"] == truth.reps
    assert [e.kind for e in events].count(EventKind.SET_COMPLETE) == 1
    assert coach.view_state(squat[-1].t_s).title == "1/1 · Squat"
    assert coach.finish(squat[-1].t_s) == []
