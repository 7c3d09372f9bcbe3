"""The programme coach (`itbcoach live --program`) replayed on synthetic movements."""

from __future__ import annotations

import itertools

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
    done = coach.result().exercises
    assert [r.task for r in done] == ["squat", "monster-walk"]
    assert done[0].reps == truth_a.reps
    assert done[1].steps == truth_b.steps
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
    # guided ([live] guided): each exercise starts with its card
    assert coach.guided and coach.current.phase == "card"
    assert isinstance(coach.current.inner, ExerciseCoach) and coach.current.task == "glute-iso"


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
    assert [r.task for r in coach.result().exercises] == ["squat"]
    assert coach.result().exercises[0].reps == truth.reps
    assert [e.kind for e in events].count(EventKind.SET_COMPLETE) == 1
    assert coach.view_state(squat[-1].t_s).title == "1/1 · Squat"
    assert coach.finish(squat[-1].t_s) == []


def test_hold_exercise_shows_its_hold_clock() -> None:
    """A hold exercise live: the prescription's ``hold_s`` is a [min, max] range; the
    overlay's clock runs against its minimum (30 s for glute-iso) while a hold is on."""
    config = load_config(use_user_file=False)
    coach = ExerciseCoach(config, "glute-iso")
    synth, truth = render_exercise("glute-iso", ExerciseScript(reps=2, hold_s=5.0))
    seq = synth.pose
    metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks)
    framing = assess_framing(seq, config.framing, view=coach.view)
    clocks, events = [], []
    for i in range(len(seq)):
        f = Frame(float(seq.times_s[i]), i, metrics[i], seq.landmarks[i].astype(float),
                  seq.visibility[i], seq.image_size, bool(framing.ok[i]),
                  framing.instruction(i))
        events += coach.update(f)
        view = coach.view_state(f.t_s)
        clocks.append((f.t_s, view.hold_fraction, view.hold_text))
    events += coach.finish(float(seq.times_s[-1]))
    # mid-hold (4 s into the first 5.8 s hold): about 4 - debounce of 30 s shown
    _t, fraction, text = min(clocks, key=lambda c: abs(c[0] - (truth.holds[0].start_s + 4)))
    assert fraction == pytest.approx(3.7 / 30.0, abs=0.5 / 30) and text in ("3 s", "4 s")
    assert max(c[1] or 0 for c in clocks) < 6.0 / 30.0  # never beyond the hold
    assert [e.kind for e in events].count(EventKind.HOLD) == 2
    assert coach.result().holds[0]["duration_s"] == pytest.approx(5.8, abs=0.6)


def test_monster_walk_counter_counts_both_ways_and_rest_shows_the_set() -> None:
    """A set of side steps walks one way then back: the counter keeps counting when the
    walk changes direction (6 steps = 3 each way, of 2 x 6), and the rest between sets
    shows the finished set, not 0."""
    config = load_config(use_user_file=False)
    coach = ExerciseCoach(config, "monster-walk")
    stream, truth = frames("monster-walk", 0.0, coach.view, config)
    assert truth.steps == {"left": 3, "right": 3}
    shown = []
    for f in stream:
        coach.update(f)
        shown.append(coach.view_state(f.t_s).counter)
    done = [int(c.split("/")[0]) for c in shown]
    assert shown[-1] == "6/12"
    assert all(b >= a for a, b in itertools.pairwise(done))  # never resets
    t_end = stream[-1].t_s
    coach.finish(t_end)  # the set closes (short of the prescription): rest
    rest = coach.view_state(t_end + 1.0)
    assert rest.banner == "Rest" and rest.counter == "6/12"
