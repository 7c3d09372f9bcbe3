"""The streaming counters on hand-built metric streams (exact events)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from itbcoach.exercises import EventKind, HoldTimer, RepCheck, RepCounter, SideStepCounter
from itbcoach.exercises.counters import SideTimer
from itbcoach.kernel import NUM_METRICS, Metric

FPS = 30.0


def stream(duration_s: float, fps: float = FPS, **signals) -> tuple[np.ndarray, np.ndarray]:
    """``(t (T,), rows (T, K))``: each named metric from a function of time (NaN elsewhere)."""
    t = np.arange(round(duration_s * fps)) / fps
    rows = np.full((t.size, NUM_METRICS), np.nan)
    for name, fn in signals.items():
        rows[:, Metric[name.upper()]] = np.vectorize(fn, otypes=[float])(t)
    return t, rows


def run(counter, t: np.ndarray, rows: np.ndarray, finish: bool = True) -> list:
    events = []
    for ti, r in zip(t, rows, strict=True):
        events += counter.update(float(ti), r)
    if finish and hasattr(counter, "finish"):
        events += counter.finish(float(t[-1]))
    return events


def bumps(t: float, starts: list[float], width: float, height: float,
          base: float = 0.0) -> float:
    """Raised-cosine bumps of ``width`` s starting at ``starts``."""
    for s in starts:
        if s <= t <= s + width:
            return base + height * 0.5 * (1 - math.cos(2 * math.pi * (t - s) / width))
    return base


# --- RepCounter --------------------------------------------------------------------------

def test_rep_counter_counts_exact_reps_with_hysteresis_and_times() -> None:
    starts = [1.0, 3.0, 5.0, 7.5]
    t, rows = stream(10, knee_flexion_left=lambda x: bumps(x, starts, 1.5, 90.0))
    c = RepCounter("knee_flexion_left", enter=60, exit=20)
    events = run(c, t, rows)
    reps = [e for e in events if e.kind == EventKind.REP]
    assert c.count == 4 == len(reps)
    for s, ev in zip(starts, reps, strict=True):
        # a bump is above 20 deg between 0.15 and 0.85 of its width: the rep runs from the
        # last rest sample to the first one back at rest (one frame of slack)
        assert ev.data["start_s"] == pytest.approx(s + 0.15 * 1.5, abs=1.5 / FPS)
        assert ev.data["end_s"] == pytest.approx(s + 0.85 * 1.5, abs=1.5 / FPS)
        assert ev.data["peak"] == pytest.approx(90.0, abs=0.5)
        assert ev.side is None


def test_rep_counter_ignores_spikes_shorter_than_debounce_and_dips_above_exit() -> None:
    def sig(x: float) -> float:
        v = bumps(x, [1.0], 2.0, 90.0)
        if 4.0 <= x < 4.05:  # a 2-frame spike to 100
            v = 100.0
        if 1.9 <= x <= 2.1:  # a dip at the top that stays above exit
            v = 30.0
        return v

    t, rows = stream(6, knee_flexion_left=sig)
    c = RepCounter("knee_flexion_left", enter=60, exit=20, debounce_s=0.1)
    run(c, t, rows)
    assert c.count == 1


def test_rep_counter_rejects_too_fast_and_too_slow_and_tags_fast() -> None:
    # above exit (20) for 2/3 of each bump: 0.2 s, 10.7 s, 0.6 s
    t, rows = stream(21, hip_flexion_left=lambda x: bumps(x, [1.0], 0.3, 80.0)
                     + bumps(x, [2.0], 16.0, 80.0) + bumps(x, [19.0], 0.9, 80.0))
    c = RepCounter("hip_flexion_left", enter=50, exit=20, min_duration_s=0.25,
                   max_duration_s=10.0, fast_s=0.8)
    events = run(c, t, rows)
    rejected = [e.tags for e in events if e.kind == EventKind.REP_REJECTED]
    assert rejected == [("too_fast",), ("too_slow",)]
    assert c.count == 1
    assert c.reps[0].tags == ("fast",)


def test_rep_counter_direction_down() -> None:
    t, rows = stream(6, knee_y_left=lambda x: 3.0 - bumps(x, [1.0, 3.5], 1.5, 0.8))
    c = RepCounter("knee_y_left", enter=2.5, exit=2.9, direction="down")
    run(c, t, rows)
    assert c.count == 2
    assert c.reps[0].data["peak"] == pytest.approx(2.2, abs=0.01)
    with pytest.raises(ValueError, match=r"exit .* must be above enter"):
        RepCounter("knee_y_left", enter=2.9, exit=2.5, direction="down")


def test_rep_counter_needs_rest_first_and_abandons_after_a_long_gap() -> None:
    def sig(x: float) -> float:
        if x < 1.0:
            return 80.0  # starts mid-rep: not counted
        if 3.0 <= x < 3.8:
            return math.nan  # pose lost mid-rep for 0.8 s: abandoned
        return bumps(x, [2.5], 2.0, 90.0) + bumps(x, [5.0], 1.5, 90.0)

    t, rows = stream(8, knee_flexion_left=sig)
    c = RepCounter("knee_flexion_left", enter=60, exit=20, max_gap_s=0.5)
    run(c, t, rows)
    assert [round(e.data["start_s"]) for e in c.reps] == [5]


def test_rep_counter_finish_counts_a_rep_cut_on_its_way_back() -> None:
    t, rows = stream(2.7, knee_flexion_left=lambda x: bumps(x, [1.0], 2.0, 90.0))
    c = RepCounter("knee_flexion_left", enter=60, exit=20)
    events = run(c, t, rows)  # ends at 2.67 s: the bump is back down to ~26 deg
    assert c.count == 1 and events[-1].kind == EventKind.REP
    t, rows = stream(1.9, knee_flexion_left=lambda x: bumps(x, [1.0], 2.0, 90.0))
    c = RepCounter("knee_flexion_left", enter=60, exit=20)
    events = run(c, t, rows)  # ends near the top: not a rep
    assert c.count == 0 and events[-1].tags == ("incomplete",)


def test_rep_counter_side_by_and_checks() -> None:
    # hinge: the left hip flexes more in reps 1-2, the right in rep 3; twist only in rep 1
    def sig(x: float) -> float:
        return bumps(x, [1.0, 3.0, 5.0], 1.5, 70.0)

    t, rows = stream(7, hip_flexion_left=lambda x: sig(x) * (1.0 if x < 4.5 else 0.6),
                     hip_flexion_right=lambda x: sig(x) * (0.6 if x < 4.5 else 1.0),
                     shoulder_hip_twist=lambda x: bumps(x, [1.0], 1.5, 30.0) -
                     bumps(x, [5.0], 1.5, 30.0))
    c = RepCounter("max(hip_flexion_left, hip_flexion_right)", enter=50, exit=20,
                   side_by="hip_flexion_{side}", side_pick="max",
                   checks=[RepCheck("twist", "{sign} * shoulder_hip_twist > 15"),
                           RepCheck("peak-twist", "{sign} * shoulder_hip_twist > 15", "peak")])
    run(c, t, rows)
    assert [e.side for e in c.reps] == ["left", "left", "right"]
    assert [e.data["checks"]["twist"] for e in c.reps] == [True, False, True]
    assert [e.data["checks"]["peak-twist"] for e in c.reps] == [True, False, True]
    assert c.reps[1].tags == ("no-twist", "no-peak-twist")
    assert c.counts == {"left": 2, "right": 1, "none": 0}


def test_rep_counter_reset_and_errors() -> None:
    t, rows = stream(4, knee_flexion_left=lambda x: bumps(x, [1.0], 1.5, 90.0))
    c = RepCounter("ema(knee_flexion_left, 0.05)", enter=60, exit=20)
    run(c, t, rows)
    assert c.count == 1
    c.reset()
    assert c.count == 0 and not c.active
    run(c, t, rows)
    assert c.count == 1
    with pytest.raises(ValueError, match="has \\{side\\}"):
        RepCounter("knee_flexion_{side}", enter=60, exit=20)
    with pytest.raises(ValueError, match="direction"):
        RepCounter("hip_y", enter=1, exit=0, direction="sideways")


# --- HoldTimer ---------------------------------------------------------------------------

def test_hold_timer_duration_counts_only_good_form() -> None:
    # in position 1.0-9.0 s; knees cave 4.0-6.0 s (2 s without good form)
    t, rows = stream(11, knee_flexion_3d_left=lambda x: 90.0 if 1.0 <= x < 9.0 else 5.0,
                     knee_ankle_gap_ratio=lambda x: 0.8 if 4.0 <= x < 6.0 else 1.2)
    h = HoldTimer("knee_flexion_3d_left > 60", form="knee_ankle_gap_ratio > 0.95",
                  grace_s=0.5, target_s=5.0)
    events = run(h, t, rows)
    holds = [e for e in events if e.kind == EventKind.HOLD]
    assert len(holds) == 1
    d = holds[0].data
    assert d["duration_s"] == pytest.approx(6.0, abs=1.5 / FPS)
    assert d["bad_form_s"] == pytest.approx(2.0, abs=1.5 / FPS)
    assert d["good_form"] is False and holds[0].tags == ("bad_form",)
    assert d["start_s"] == pytest.approx(1.0, abs=1 / FPS)
    assert d["end_s"] == pytest.approx(9.0, abs=1 / FPS)
    target = [e for e in events if e.kind == EventKind.HOLD_TARGET]
    assert len(target) == 1 and target[0].t_s == pytest.approx(8.0, abs=2 / FPS)


def test_hold_timer_grace_keeps_the_hold_and_credits_lost_frames() -> None:
    def sig(x: float) -> float:
        if 3.0 <= x < 3.2:
            return math.nan  # pose lost 0.2 s: credited once the hold resumes
        if 5.0 <= x < 5.3:
            return 10.0  # out of position 0.3 s (< grace): not counted, hold goes on
        return 90.0 if 1.0 <= x < 8.0 else 5.0

    t, rows = stream(10, knee_flexion_3d_left=sig)
    h = HoldTimer("knee_flexion_3d_left > 60", grace_s=0.5)
    run(h, t, rows)
    assert h.count == 1
    assert h.holds[0].data["duration_s"] == pytest.approx(7.0 - 0.3, abs=1.5 / FPS)
    assert h.holds[0].data["good_form"] is True


def test_hold_timer_lapse_longer_than_grace_splits_and_short_holds_are_rejected() -> None:
    t, rows = stream(12, hip_flexion_left=lambda x: 40.0 if (1 <= x < 4 or 5 <= x < 6.5
                                                              or 8 <= x < 11) else 0.0)
    h = HoldTimer("hip_flexion_left > 30", stay="hip_flexion_left > 20", grace_s=0.5,
                  min_hold_s=2.0, debounce_s=0.2)
    events = run(h, t, rows)
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.HOLD, EventKind.HOLD_REJECTED, EventKind.HOLD]
    assert [round(e.data["duration_s"], 1) for e in events] == [3.0, 1.5, 3.0]


def test_hold_timer_finish_closes_a_hold_in_progress() -> None:
    t, rows = stream(5, hip_flexion_left=lambda x: 40.0 if x >= 1 else 0.0)
    h = HoldTimer("hip_flexion_left > 30")
    events = run(h, t, rows)
    assert events[-1].kind == EventKind.HOLD
    assert events[-1].data["duration_s"] == pytest.approx(t[-1] - 1.0, abs=1 / FPS)


# --- SideStepCounter ----------------------------------------------------------------------

def _feet(moves: list[tuple[float, str, float]], duration: float, half: float = 0.4):
    """Foot positions (subject-left axis) from moves ``(start_s, foot, delta)`` of 0.5 s."""
    def pos(foot: str, base: float):
        def fn(x: float) -> float:
            p = base
            for s, f, d in moves:
                if f == foot:
                    p += d * min(max((x - s) / 0.5, 0.0), 1.0)
            return p
        return fn
    # facing = +1: subject's left on the image right, so image x == subject-left axis
    return stream(duration, ankle_x_left=pos("l", half), ankle_x_right=pos("r", -half),
                  facing=lambda x: 1.0)


def test_side_steps_count_each_direction_and_ignore_taps() -> None:
    moves = [(1.0, "l", 1.0), (2.0, "r", 1.0),    # step toward the left
             (3.0, "l", 1.0), (4.0, "r", 1.0),    # and another
             (5.0, "r", -1.0), (6.0, "l", -1.0),  # step toward the right
             (7.0, "r", -1.0), (7.6, "r", 1.0)]   # a tap: the right foot out and back
    t, rows = _feet(moves, 9.0)
    c = SideStepCounter("ankle_x_left * facing", "ankle_x_right * facing", open=0.3)
    events = run(c, t, rows)
    assert [(e.kind, e.side) for e in events] == [(EventKind.STEP, "left")] * 2 + \
        [(EventKind.STEP, "right")]
    assert c.counts == {"left": 2, "right": 1}
    assert events[0].data["lead"] == pytest.approx(1.0, abs=0.01)


def test_side_steps_facing_away_and_rushed_steps() -> None:
    # a subject facing away (facing -1): image positions are mirrored
    moves = [(1.0, "l", 1.0), (1.3, "r", 1.0)]
    t, rows = _feet(moves, 3.0)
    rows[:, Metric.ANKLE_X_LEFT] *= -1
    rows[:, Metric.ANKLE_X_RIGHT] *= -1
    rows[:, Metric.FACING] = -1.0
    c = SideStepCounter("ankle_x_left * facing", "ankle_x_right * facing", open=0.3,
                        fast_s=0.8)
    run(c, t, rows)
    assert c.counts == {"left": 1, "right": 0}
    assert c.steps[0].tags == ("fast",)


def test_an_open_stance_survives_a_gap_in_the_feet_but_a_narrow_one_is_forgotten() -> None:
    """The lead foot goes out, then the feet are not measured for 1.2 s (at the picture's
    edge) while the trailing foot follows: the step still counts when they reappear;
    after max_duration_s without them the open stance is forgotten."""
    moves = [(1.0, "l", 1.0), (2.0, "r", 1.0)]
    t, rows = _feet(moves, 5.0)
    rows[(t > 1.8) & (t < 3.0)] = np.nan  # the trailing foot's move is not seen
    c = SideStepCounter("ankle_x_left * facing", "ankle_x_right * facing", open=0.3,
                        max_gap_s=0.5, max_duration_s=8.0)
    events = run(c, t, rows)
    assert [(e.kind, e.side) for e in events] == [(EventKind.STEP, "left")]
    assert events[0].data["travel"] == pytest.approx(1.0, abs=0.01)
    assert events[0].data["opening"] == pytest.approx(1.0, abs=0.01)
    # the same gap beyond max_duration_s after the stance opened: nothing counted
    c = SideStepCounter("ankle_x_left * facing", "ankle_x_right * facing", open=0.3,
                        max_gap_s=0.5, max_duration_s=1.0)
    assert run(c, t, rows) == []


def _steps_with_a_gap(moves: list[tuple[float, str, float]], end_s: float,
                      gap: tuple[float, float]) -> SideStepCounter:
    """A side-step counter fed ``moves`` with the feet unmeasured inside ``gap`` (s)."""
    t, rows = _feet(moves, end_s)
    rows[(t > gap[0]) & (t < gap[1])] = np.nan
    c = SideStepCounter("ankle_x_left * facing", "ankle_x_right * facing", open=0.3,
                        max_gap_s=0.5, max_duration_s=8.0)
    run(c, t, rows)
    return c


def test_a_whole_step_out_of_sight_is_reported_as_unseen() -> None:
    """A whole step (lead out, trailing in) while the feet are not measured: nothing can
    count it, but the feet came back 1.0 away from where they left (> open): the time
    is kept in ``unseen`` (the recording is refused). The open-stance gap of the test
    above is not unseen: the step was counted."""
    moves = [(1.0, "l", 1.0), (2.0, "r", 1.0), (4.0, "l", 1.0), (5.0, "r", 1.0)]
    c = _steps_with_a_gap(moves, 7.0, (3.8, 5.8))
    assert c.counts == {"left": 1, "right": 0}
    assert c.unseen == (pytest.approx(5.8, abs=1 / FPS),)
    c = _steps_with_a_gap(moves[:2], 5.0, (1.8, 3.0))
    assert c.counts == {"left": 1, "right": 0} and c.unseen == ()
    # an open stance whose feet moved out of sight but closed as no step (here the lead
    # foot came back unseen): unseen too
    c = _steps_with_a_gap([(1.0, "l", 1.0), (2.0, "l", -1.0)], 5.0, (1.8, 3.0))
    assert c.counts == {"left": 0, "right": 0}
    assert c.unseen == (pytest.approx(3.0, abs=1 / FPS),)


def test_side_steps_partial_at_start_and_end_are_reported_not_counted() -> None:
    # the input starts with the left foot already out (the trailing right foot follows),
    # and ends with the right foot out but the left one not yet following
    moves = [(0.5, "r", 1.0), (2.0, "r", -1.0), (3.0, "l", -1.0), (4.5, "r", -1.0)]
    t, rows = _feet(moves, 5.5, half=0.9)
    c = SideStepCounter("ankle_x_left * facing", "ankle_x_right * facing", open=0.3)
    events = run(c, t, rows)
    assert [(e.kind, e.side) for e in events] == [
        (EventKind.STEP_PARTIAL, "left"), (EventKind.STEP, "right"),
        (EventKind.STEP_PARTIAL, "right")]
    assert c.counts == {"left": 0, "right": 1}


# --- SideTimer ----------------------------------------------------------------------------

def test_side_timer_bouts_per_side_with_switch_and_target() -> None:
    # lying on the left side (left hip up) 0-20 s, turning over 20-21 s, right 21-40 s
    def obliquity(x: float) -> float:
        return 90.0 if x < 20 else (-90.0 if x >= 21 else 90.0 - 180.0 * (x - 20))

    t, rows = stream(40, trunk_incline=lambda x: 85.0, pelvic_obliquity=obliquity)
    tm = SideTimer("trunk_incline > 60", "{sign} * pelvic_obliquity", debounce_s=1.0,
                   target_s=15.0)
    events = run(tm, t, rows)
    bouts = [e for e in events if e.kind == EventKind.SIDE_TIME]
    assert [e.side for e in bouts] == ["left", "right"]
    assert bouts[0].data["duration_s"] == pytest.approx(20.5, abs=2 / FPS)
    assert bouts[1].data["duration_s"] == pytest.approx(40 - 20.5 - 1 / FPS, abs=2 / FPS)
    targets = [(e.side, round(e.t_s)) for e in events if e.kind == EventKind.TIMER_TARGET]
    assert targets == [("left", 15), ("right", 36)]


def test_side_timer_ends_a_bout_after_grace() -> None:
    t, rows = stream(20, trunk_incline=lambda x: 85.0 if (x < 5 or x >= 10) else 0.0,
                     pelvic_obliquity=lambda x: 90.0)
    tm = SideTimer("trunk_incline > 60", "{sign} * pelvic_obliquity", grace_s=1.0)
    bouts = [e for e in run(tm, t, rows) if e.kind == EventKind.SIDE_TIME]
    assert [round(e.data["duration_s"], 1) for e in bouts] == [5.0, 10.0]
