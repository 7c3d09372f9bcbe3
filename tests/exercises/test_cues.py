"""Cue rules: persistence, interval, one cue at a time, priority, events, sides, gates."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.exercises import CueEngine, CueRule, Event, EventKind
from itbcoach.kernel import NUM_METRICS, Metric

OPEN = {"always": True, "set": True, "active": True, "idle": False}


def frames(duration: float, fps: float = 30.0, **fns):
    t = np.arange(int(duration * fps)) / fps
    rows = np.full((t.size, NUM_METRICS), np.nan)
    for name, fn in fns.items():
        rows[:, Metric[name.upper()]] = [fn(x) for x in t]
    return t, rows


def feed(engine: CueEngine, t, rows, gates=OPEN, side=None, events_at=None):
    shown = []
    for ti, r in zip(t, rows, strict=True):
        evs = (events_at or {}).get(round(float(ti), 2), [])
        shown += engine.update(float(ti), r, gates=gates, side=side, events=evs)
    return shown


def test_condition_must_persist_and_respects_min_interval() -> None:
    # lean > 10 deg: a 0.1 s blip (ignored), then 1-9 s continuously
    t, rows = frames(10, trunk_lean=lambda x: 15.0 if (0.5 <= x < 0.6 or 1 <= x < 9) else 0.0)
    eng = CueEngine([CueRule("tall", "Stay tall", when="abs(trunk_lean) > 10",
                             min_true_s=0.3, min_interval_s=4.0, min_show_s=1.0)])
    shown = feed(eng, t, rows)
    assert [round(e.t_s, 1) for e in shown] == [1.3, 5.3]
    assert shown[0].kind == EventKind.CUE and shown[0].data["text"] == "Stay tall"
    assert eng.current(6.0) == "Stay tall" and eng.current(6.4) is None


def test_one_cue_at_a_time_priority_and_min_show() -> None:
    t, rows = frames(6, trunk_lean=lambda x: 15.0 if x >= 1 else 0.0,
                     knee_ankle_gap_ratio=lambda x: 0.8 if x >= 1.5 else 1.2)
    eng = CueEngine([
        CueRule("tall", "Stay tall", when="abs(trunk_lean) > 10", priority=1,
                min_true_s=0.0, min_interval_s=10.0, min_show_s=2.0),
        CueRule("knees", "Knees out", when="knee_ankle_gap_ratio < 0.9", priority=5,
                min_true_s=0.0, min_interval_s=10.0, min_show_s=2.0)])
    shown = feed(eng, t, rows)
    # "Stay tall" is on screen 1.0-3.0 s; "Knees out" (higher priority) waits its turn
    assert [(e.data["rule"], round(e.t_s, 1)) for e in shown] == [("tall", 1.0),
                                                                  ("knees", 3.0)]


def test_higher_priority_wins_when_both_ready() -> None:
    t, rows = frames(2, trunk_lean=lambda x: 15.0, knee_ankle_gap_ratio=lambda x: 0.8)
    eng = CueEngine([
        CueRule("tall", "Stay tall", when="abs(trunk_lean) > 10", priority=1, min_true_s=0.2),
        CueRule("knees", "Knees out", when="knee_ankle_gap_ratio < 0.9", priority=3,
                min_true_s=0.2)])
    shown = feed(eng, t, rows)
    assert shown[0].data["rule"] == "knees"


def test_event_rules_and_their_waiting() -> None:
    t, rows = frames(8)
    rep_fast = Event(EventKind.REP, 2.0, "left", "rep", {}, ("fast",))
    rep_ok = Event(EventKind.REP, 4.0, "left", "rep", {})
    target = Event(EventKind.TIMER_TARGET, 6.0, "right", "timer", {})
    eng = CueEngine([CueRule("slow", "Slow down", on="rep:fast", min_interval_s=0.0),
                     CueRule("switch", "Switch sides", on="timer_target", priority=3)])
    shown = feed(eng, t, rows, events_at={2.0: [rep_fast], 4.0: [rep_ok], 6.0: [target]})
    assert [(e.data["text"], round(e.t_s, 1), e.side) for e in shown] == [
        ("Slow down", 2.0, "left"), ("Switch sides", 6.0, "right")]


def test_side_rules_follow_the_worked_side_and_gates() -> None:
    t, rows = frames(3, fppa_left=lambda x: -15.0, fppa_right=lambda x: 0.0)
    rule = CueRule("knee", "Don't let the knee fall out", when="fppa_{side} < -10",
                   during="active", min_true_s=0.2)
    assert feed(CueEngine([rule]), t, rows, side="right") == []
    shown = feed(CueEngine([rule]), t, rows, side="left")
    assert len(shown) == 1 and shown[0].side == "left"
    # unknown side: either side is enough
    assert feed(CueEngine([rule]), t, rows, side=None)[0].side == "left"
    # gate closed: nothing
    closed = dict(OPEN, active=False)
    assert feed(CueEngine([rule]), t, rows, gates=closed, side="left") == []


def test_rule_validation() -> None:
    with pytest.raises(ValueError, match="exactly one of 'when'"):
        CueRule("x", "text", when="hip_y > 1", on="rep")
    with pytest.raises(ValueError, match="during must be one of"):
        CueRule("x", "text", when="hip_y > 1", during="sometimes")
    with pytest.raises(ValueError, match="text is empty"):
        CueRule("x", "", when="hip_y > 1")
