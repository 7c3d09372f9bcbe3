"""The guided step-down coach, replayed on synthetic landmark sequences (no camera)."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.exercises.events import EventKind
from itbcoach.kernel import compute_metrics
from itbcoach.live.coach import Frame
from itbcoach.live.stepdown import StepdownCoach
from itbcoach.pose.framing import assess_framing
from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown


@pytest.fixture(scope="module")
def config():
    return load_config(use_user_file=False)


def replay(coach: StepdownCoach, seq, config, keys: dict[int, str] | None = None):
    metrics = compute_metrics(seq.landmarks, seq.image_size)
    framing = assess_framing(seq, config.framing, view="frontal")
    events = []
    for i in range(len(seq)):
        t = float(seq.times_s[i])
        events += coach.update(Frame(t, i, metrics[i], seq.landmarks[i].astype(float),
                                     seq.visibility[i], seq.image_size, bool(framing.ok[i]),
                                     framing.instruction(i)))
        if keys and i in keys:
            events += coach.key(keys[i], t)
    events += coach.finish(float(seq.times_s[-1]))
    return events


def test_guided_test_counts_both_legs_and_scores(config) -> None:
    spec = StepdownSpec(legs=(LegSpec("left", reps=5),
                              LegSpec("right", reps=5, pelvic_drop_deg=10.0)))
    synth, _ = render_stepdown(spec)
    coach = StepdownCoach(config)
    events = replay(coach, synth.pose, config)
    reps = [e for e in events if e.kind == EventKind.REP]
    assert [(e.side, e.data["count"]) for e in reps] == \
        [("left", n) for n in range(1, 6)] + [("right", n) for n in range(1, 6)]
    # per-rep feedback names the fault on the faulty leg only
    assert all("pelvis" in e.data["say"] for e in reps if e.side == "right")
    assert not any(e.tags for e in reps if e.side == "left")
    assert [e.side for e in events if e.kind == EventKind.SIDE_SWITCH] == ["right"]
    assert coach.done and coach.phase == "result"
    result = coach.result()
    scores = {s.side: (s.score, s.category, len(s.reps)) for s in result.sides}
    assert scores == {"left": (0, "good", 5), "right": (1, "good", 5)}
    sides = [e for e in events if e.data.get("record_as") == "stepdown_side"]
    assert {e.side for e in sides} == {"left", "right"}
    view = coach.view_state(float(synth.pose.times_s[-1]))
    assert view.banner == "left: 0 (good)  ·  right: 1 (good)"
    assert "right: pelvis not level" in view.faults


def test_pain_answer_counts_and_redo_drops_a_rep(config) -> None:
    synth, truth = render_stepdown(StepdownSpec(legs=(LegSpec("left", reps=3),),
                                                step_on_off=False))
    seq = synth.pose
    coach = StepdownCoach(config)
    coach.target = 3
    # press r right after the first rep is judged, then answer "yes" at the pain question
    first_end = next(r for r in truth.reps if r.counted).end_s
    redo_at = int(np.searchsorted(seq.times_s, first_end + 0.6))
    events = replay(coach, seq, config, keys={redo_at: "r"})
    assert [e.kind for e in events].count(EventKind.REP_REJECTED) == 1
    assert len(coach.reps["left"]) == 2  # 3 done, 1 redone
    assert coach.phase != "pain"
    coach2 = StepdownCoach(config)
    coach2.target = 3
    replay(coach2, seq, config)
    coach2.next_side(float(seq.times_s[-1]))  # skip the right leg
    assert coach2.phase == "pain"
    coach2.key("y", float(seq.times_s[-1]) + 1)
    (left,) = coach2.result().sides
    assert left.pain is True and left.score == 1  # pain alone adds one point


def test_nothing_counts_while_paused_or_badly_framed(config) -> None:
    synth, _ = render_stepdown(StepdownSpec(legs=(LegSpec("left", reps=3),),
                                            step_on_off=False))
    seq = synth.pose
    coach = StepdownCoach(config)
    coach.key("space", 0.0)
    events = replay(coach, seq, config)
    assert not [e for e in events if e.kind == EventKind.REP]
    assert coach.result().sides == []
    assert not coach.result().ok


def test_coach_follows_an_early_switch_of_legs(config) -> None:
    """Three reps per leg (fewer than the five asked): the title follows the stance."""
    synth, _ = render_stepdown(StepdownSpec(legs=(LegSpec("left", reps=3),
                                                  LegSpec("right", reps=3))))
    coach = StepdownCoach(config)
    replay(coach, synth.pose, config)
    assert {k: len(v) for k, v in coach.reps.items()} == {"left": 3, "right": 3}
    assert coach.order[coach.side_index] == "right"


def test_pelvic_guide_uses_the_configured_threshold() -> None:
    """The pelvic guide line turns red at ``stepdown.pelvic_drop_deg`` (not a fixed 5°)."""
    from itbcoach.feedback.overlay import BAD, GOOD
    from itbcoach.kernel import Metric

    synth, _ = render_stepdown(StepdownSpec(legs=(LegSpec("left", reps=1),)))
    seq = synth.pose
    metrics = compute_metrics(seq.landmarks, seq.image_size)[0].copy()
    metrics[Metric.PELVIC_OBLIQUITY] = 8.0
    colours = []
    for threshold in (5.0, 10.0):
        cfg = load_config(use_user_file=False,
                          overrides={"stepdown.pelvic_drop_deg": threshold})
        coach = StepdownCoach(cfg)
        coach.update(Frame(0.0, 0, metrics, seq.landmarks[0].astype(float),
                           seq.visibility[0], seq.image_size, True, ""))
        colours.append(coach.view_state(0.0).guides[0].color)
    assert colours == [BAD, GOOD]


def test_voice_says_what_is_shown(config) -> None:
    """Each rep is spoken with its count and correction, the pain question is asked and
    each leg's result is spoken after the answer (a key press), together in one line
    (the voice keeps only its newest line)."""
    from itbcoach.live.coach import utterance

    spec = StepdownSpec(legs=(LegSpec("left", reps=2),
                              LegSpec("right", reps=2, pelvic_drop_deg=10.0)))
    synth, _ = render_stepdown(spec)
    seq = synth.pose
    coach = StepdownCoach(config)
    coach.target = 2
    metrics = compute_metrics(seq.landmarks, seq.image_size)
    framing = assess_framing(seq, config.framing, view="frontal")
    said = []
    for i in range(len(seq)):
        events = coach.update(Frame(float(seq.times_s[i]), i, metrics[i],
                                    seq.landmarks[i].astype(float), seq.visibility[i],
                                    seq.image_size, bool(framing.ok[i]),
                                    framing.instruction(i)))
        said.append(utterance(events))
    said.append(utterance(coach.key("n", float(seq.times_s[-1]) + 1)))
    said = [s for s in said if s]
    reps = [s for s in said if s[0].isdigit()]
    assert reps[:2] == ["1", "2. switch legs: stand on your right leg"]
    assert reps[2:] == ["1, keep your pelvis level",
                        "2, keep your pelvis level. was it painful? press y or n"]
    assert said[-1] == "left leg: good. right leg: good"


@pytest.mark.parametrize("hands", ["both", "none"])
def test_each_leg_starts_with_the_hands_on_the_hips(config, hands) -> None:
    """Before a leg starts the coach says "hands on your hips" until both hands are on
    the hips (the session's per-frame rule); the result lists the reps without them."""
    synth, _ = render_stepdown(StepdownSpec(legs=(LegSpec("left", reps=2, hands=hands),),
                                            step_on_off=False, lead_s=8.0))
    seq = synth.pose
    # the screen during the instructions (2 s in: set-up held 1.5 s)
    early = StepdownCoach(config)
    metrics = compute_metrics(seq.landmarks, seq.image_size)
    for i in range(60):
        early.update(Frame(float(seq.times_s[i]), i, metrics[i],
                           seq.landmarks[i].astype(float), seq.visibility[i], seq.image_size,
                           True, ""))
    assert early.phase == "instructions"
    shown = early.view_state(2.0).cue
    assert shown == ("Hands on your hips" if hands == "none" else
                     "Hands on hips. Slowly lower the other heel to the floor, then back up.")
    coach = StepdownCoach(config)
    coach.target = 2
    events = replay(coach, seq, config)
    cues = [e.data["say"] for e in events if e.kind == EventKind.CUE]
    first_rep = next(e.t_s for e in events if e.kind == EventKind.REP)
    result = coach.result()
    (side,) = result.sides
    doc = side.to_json()
    if hands == "both":
        assert "hands on your hips" not in cues
        assert side.hands_off_reps == [] and doc["hands_left_hips"] == []
        assert [r.pelvis_source for r in side.reps] == ["hands"] * 2
    else:
        # said on entering the instructions (1.5 s) and every 5 s until the first rep
        said = [e.t_s for e in events if e.kind == EventKind.CUE and
                e.data["say"] == "hands on your hips"]
        assert said[0] == pytest.approx(1.5, abs=0.05) and len(said) >= 2
        switch = next(e.t_s for e in events if e.kind == EventKind.SIDE_SWITCH)
        assert not [t for t in said if first_rep <= t < switch]  # not while counting
        assert [t for t in said if t >= switch]  # and again before the right leg
        assert side.hands_off_reps == [1, 2] and doc["hands_left_hips"] == [1, 2]
        assert doc["criteria"]["pelvis_not_level"] is None
        assert side.score_text == "0-1" and side.category == "good"
        assert "left: hands off the hips in rep 1, 2" in \
            coach.view_state(float(synth.pose.times_s[-1])).faults
