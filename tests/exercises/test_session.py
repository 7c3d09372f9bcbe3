"""Session model: sets, sides, rest, progress, streamed and persisted events."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.exercises import (
    EventKind,
    JsonlEventWriter,
    Session,
    get_exercise,
    read_jsonl,
)
from itbcoach.kernel import NUM_METRICS, Metric


@pytest.fixture(scope="module")
def config():
    return load_config(use_user_file=False)


def knee_lift_stream(plan: list[tuple[float, str]], duration: float, fps: float = 30.0):
    """Knee lifts (0.9 s raised-cosine, 0.6 torso lengths) at ``(start_s, side)``."""
    t = np.arange(int(duration * fps)) / fps
    rows = np.full((t.size, NUM_METRICS), np.nan)
    ky = {"left": np.full(t.size, 3.0), "right": np.full(t.size, 3.0)}
    for start, side in plan:
        inside = (t >= start) & (t <= start + 0.9)
        ky[side][inside] -= 0.6 * 0.5 * (1 - np.cos(2 * np.pi * (t[inside] - start) / 0.9))
    rows[:, Metric.KNEE_Y_LEFT] = ky["left"]
    rows[:, Metric.KNEE_Y_RIGHT] = ky["right"]
    rows[:, Metric.PELVIC_OBLIQUITY] = 0.0
    return t, rows


def run(session: Session, t, rows) -> list:
    events = []
    for ti, r in zip(t, rows, strict=True):
        events += session.update(float(ti), r)
    events += session.finish(float(t[-1]))
    return events


def test_sets_split_by_rest_and_sides_switch(config) -> None:
    ex = get_exercise(config, "knee-lift")  # per side, set gap 10 s
    plan = [(1 + 1.5 * i, "left") for i in range(3)] + \
           [(6 + 1.5 * i, "right") for i in range(3)] + \
           [(30 + 1.5 * i, "left") for i in range(2)]
    t, rows = knee_lift_stream(plan, 36)
    events = run(Session(ex), t, rows)
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.REP) == 8
    switches = [(e.side, e.data["from"]) for e in events if e.kind == EventKind.SIDE_SWITCH]
    assert switches == [("right", "left"), ("left", "right")]
    sets = [e.data for e in events if e.kind == EventKind.SET_COMPLETE]
    assert [s["counts"] for s in sets] == [{"left": 3, "right": 3, "total": 6},
                                           {"left": 2, "right": 0, "total": 2}]
    assert [s["complete"] for s in sets] == [False, False]  # prescription 10-15 per side
    # the first set closed set_gap_s (10 s) after its last rep, rest_over 60 s after that
    first_close = next(e for e in events if e.kind == EventKind.SET_COMPLETE)
    assert first_close.t_s == pytest.approx(sets[0]["end_s"] + 10.0, abs=0.05)


def test_set_completes_at_prescription_and_progress_text(config) -> None:
    ex = get_exercise(config, "glute-iso")  # 1 hold per set, 30-45 s
    t = np.arange(0, 50, 1 / 30)
    rows = np.full((t.size, NUM_METRICS), np.nan)
    sit = (t >= 1) & (t < 33)
    rows[:, Metric.KNEE_FLEXION_3D_LEFT] = np.where(sit, 90.0, 5.0)
    rows[:, Metric.KNEE_FLEXION_3D_RIGHT] = np.where(sit, 90.0, 5.0)
    rows[:, Metric.TRUNK_INCLINE_3D] = 5.0
    rows[:, Metric.KNEE_ANKLE_GAP_RATIO] = 1.2
    rows[:, Metric.HIP_Y] = 2.0
    s = Session(ex)
    texts = {}
    events = []
    for ti, r in zip(t, rows, strict=True):
        events += s.update(float(ti), r)
        if round(ti, 2) in (0.5, 10.0, 40.0):
            texts[round(ti, 2)] = s.progress().text()
    assert texts[0.5] == "set 1 of 3 — 0 of 1 holds"
    assert texts[10.0] == "set 1 of 3 — 9 of 30 s"
    assert texts[40.0] == "rest 53 s — next: set 2 of 3"
    hold = next(e for e in events if e.kind == EventKind.HOLD)
    assert hold.data["duration_s"] == pytest.approx(32.0, abs=0.05)
    done = next(e for e in events if e.kind == EventKind.SET_COMPLETE)
    assert done.data["complete"] is True and done.t_s == pytest.approx(33.0, abs=0.6)
    cues = [e.data["text"] for e in events if e.kind == EventKind.CUE]
    assert cues == ["Time — relax"]  # the hold target (30 s) reached, no form cue


def test_rest_over_and_finished(config) -> None:
    ex = get_exercise(config, "squat")
    s = Session(ex)
    row = np.full(NUM_METRICS, np.nan)
    out = []
    s._rest_until = 5.0  # as after a set that ended at 5 - rest_s
    for ti in np.arange(0, 6, 0.5):
        out += s.update(float(ti), row)
    assert [e.kind for e in out] == [EventKind.REST_OVER]
    assert s.progress().text() == "set 1 of 3 — 0 of 12 reps"


def test_every_event_reaches_on_event_and_the_jsonl_log(config, tmp_path) -> None:
    ex = get_exercise(config, "knee-lift")
    t, rows = knee_lift_stream([(1, "left"), (2.5, "right")], 5)
    log = tmp_path / "sub" / "session.jsonl"
    seen = []
    with JsonlEventWriter(log, extra={"task": "knee-lift"}) as writer:
        def hook(ev):
            seen.append(ev)
            writer(ev)
            # persisted at once: the line is on disk before the next event happens
            assert read_jsonl(log)[-1]["kind"] == ev.kind
        events = run(Session(ex, on_event=hook), t, rows)
    assert seen == events
    lines = read_jsonl(log)
    assert [ln["kind"] for ln in lines] == [str(e.kind) for e in events]
    assert lines[0]["task"] == "knee-lift" and lines[0]["side"] == "left"
    assert math.isclose(lines[0]["t_s"], round(events[0].t_s, 3))
    with pytest.raises(ValueError, match="closed"):
        writer(events[0])


def test_read_jsonl_skips_a_torn_last_line(tmp_path) -> None:
    p = tmp_path / "log.jsonl"
    p.write_text(json.dumps({"kind": "rep", "t_s": 1.0}) + "\n" + '{"kind": "re')
    assert read_jsonl(p) == [{"kind": "rep", "t_s": 1.0}]


@pytest.mark.parametrize(("instruction", "reps"), [
    ("", 3), ("Turn to face the camera", 3), ("Turn side-on to the camera", 3),
    ("Move to the centre of the frame", 0), ("Step into view: no person is detected", 0)])
def test_frames_refused_for_the_view_alone_still_count(config, instruction: str,
                                                       reps: int) -> None:
    """``push``: a frame the gate refuses only for the view (the movement's own twist
    reads side-on for a moment) reaches the counters; one whose body is not measurable
    counts nothing."""
    from itbcoach.stream import Frame

    t, rows = knee_lift_stream([(1.0, "left"), (2.5, "left"), (4.0, "left")], 6.0)
    session = Session(get_exercise(config, "knee-lift"))
    for i, (ti, r) in enumerate(zip(t, rows, strict=True)):
        session.push(Frame(float(ti), i, r, np.zeros((33, 3)), np.ones(33), (640, 480),
                           framing_ok=not instruction, instruction=instruction))
    session.finish(float(t[-1]))
    assert sum(s.counts()["total"] for s in session.sets) == reps
