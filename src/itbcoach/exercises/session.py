"""Session model: sets, sides, rest, progress against the prescription, streamed events.

:class:`Session` drives the counters of one exercise frame by frame::

    session = Session(exercise, on_event=JsonlEventWriter("session.jsonl"))
    for t_s, row in frames:
        for event in session.update(t_s, row):
            ...                       # rep done, hold done, side switched, cue, ...
        overlay(session.progress().text())   # "set 2 of 2 — 3 of 5 reps — left side"
    session.finish(t_end)

Sets: a set starts with the first activity of the primary counter and ends either when
the prescription is met (every side reached the maximum reps / steps / time; for holds
the maximum number of holds) or when nothing happened for ``prescription.set_gap_s``.
After a set the session rests for ``prescription.rest_s`` (event ``rest_over`` when it
has elapsed). A rep on the other side than the previous one emits ``side_switch``.

Persistence: every event is passed to ``on_event`` the moment it happens (the live
coach and the history store persist through it). :class:`JsonlEventWriter` is the
append-only JSON Lines writer: one line per event, flushed and fsynced at once, so a
crash loses at most the event being written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from itbcoach.exercises.cues import CueEngine
from itbcoach.exercises.definitions import UNITS, CounterGroup, ExerciseDef, build_counters
from itbcoach.exercises.events import Event, EventKind
from itbcoach.exercises.expr import SIDES
from itbcoach.pose.framing import INSTRUCTIONS, Problem
from itbcoach.stream import Frame

EventCallback = Callable[[Event], None]

#: The framing gate's instructions for a view problem alone (see :meth:`Session.push`).
VIEW_INSTRUCTIONS = frozenset(INSTRUCTIONS[p] for p in (Problem.FACE_CAMERA, Problem.TURN_SIDE))


@dataclass
class SetRecord:
    """One set as it happened (times in seconds on the input clock)."""

    index: int
    start_s: float
    end_s: float = float("nan")
    units: list[Event] = field(default_factory=list)
    holds: list[Event] = field(default_factory=list)
    reps: list[Event] = field(default_factory=list)
    steps: list[Event] = field(default_factory=list)
    timers: list[Event] = field(default_factory=list)
    complete: bool = False

    def counts(self) -> dict[str, int]:
        """Primary units per side ``{"left", "right", "none", "total"}``."""
        out = {"left": 0, "right": 0, "none": 0}
        for ev in self.units:
            out[ev.side or "none"] += 1
        out["total"] = len(self.units)
        return out

    def seconds(self) -> dict[str, float]:
        """Timed seconds per side (timer exercises)."""
        out = {"left": 0.0, "right": 0.0}
        for ev in self.timers:
            if ev.side in out:
                out[ev.side] += float(ev.data["duration_s"])
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary of the set."""
        reps = {"left": 0, "right": 0, "total": 0}
        for ev in self.reps:
            if ev.side in SIDES:
                reps[ev.side] += 1
            reps["total"] += 1
        steps = {"left": 0, "right": 0}
        for ev in self.steps:
            steps[ev.side or "left"] += 1
        return {"index": self.index, "start_s": round(self.start_s, 3),
                "end_s": round(self.end_s, 3), "complete": self.complete,
                "reps": reps, "steps": steps,
                "holds": [hold_json(ev) for ev in self.holds],
                "timers": [{"side": ev.side, "start_s": round(float(ev.data["start_s"]), 3),
                            "duration_s": round(float(ev.data["duration_s"]), 3)}
                           for ev in self.timers]}


def hold_json(ev: Event) -> dict[str, Any]:
    """The ``holds`` entry of a hold event."""
    d = ev.data
    out = {"side": ev.side, "start_s": round(float(d["start_s"]), 3),
           "end_s": round(float(d["end_s"]), 3), "duration_s": round(float(d["duration_s"]), 3),
           "good_form": bool(d["good_form"])}
    if d.get("phase"):
        out["phase"] = d["phase"]
    return out


@dataclass(frozen=True)
class Progress:
    """Where the session stands against the prescription.

    Attributes:
        set_index: current set (1-based; the next one while resting, 0 before any).
        sets: prescribed sets.
        done: units done in this set on the current side (reps, holds), steps in
            both directions, or seconds (timer / hold in progress); while resting, those
            of the last set.
        target: prescribed maximum for ``done`` (steps: per direction x 2).
        unit: ``"reps"``, ``"holds"``, ``"steps"`` or ``"s"``.
        side: side being worked (direction for steps), or ``None``.
        resting: between sets.
        rest_left_s: rest remaining, s.
        finished: every prescribed set is done.
    """

    set_index: int
    sets: int
    done: float
    target: float
    unit: str
    side: str | None
    resting: bool
    rest_left_s: float
    finished: bool

    def text(self) -> str:
        """One line for the overlay, e.g. ``"set 2 of 2 — 3 of 5 reps — left side"``."""
        if self.finished:
            return f"all {self.sets} sets done"
        if self.resting:
            return f"rest {max(self.rest_left_s, 0):.0f} s — next: set {self.set_index} of " \
                   f"{self.sets}"
        parts = [f"set {max(self.set_index, 1)} of {self.sets}"]
        if self.unit == "s":
            parts.append(f"{self.done:.0f} of {self.target:.0f} s")
        else:
            parts.append(f"{int(self.done)} of {int(self.target)} {self.unit}")
        if self.side is not None:
            parts.append(f"moving {self.side}" if self.unit == "steps" else
                         f"{self.side} side")
        return " — ".join(parts)


class Session:
    """Sets, sides, rest and progress for one exercise, fed frame by frame.

    Args:
        exercise: the validated definition.
        on_event: called with every event the moment it happens (persistence hook).
    """

    def __init__(self, exercise: ExerciseDef, on_event: EventCallback | None = None) -> None:
        self.exercise = exercise
        self.groups: dict[str, CounterGroup] = build_counters(exercise)
        self.primary = self.groups[exercise.primary]
        self.cue_engine = CueEngine(exercise.cues)
        self._on_event = on_event
        self.reset()

    def reset(self) -> None:
        """Start over (counters, sets, cues)."""
        for g in self.groups.values():
            g.reset()
        self.cue_engine.reset()
        self.sets: list[SetRecord] = []
        self.events: list[Event] = []
        self._current: SetRecord | None = None
        self._side: str | None = None
        self._last_activity = -np.inf
        self._rest_until: float | None = None
        self._t = -np.inf

    # -- state ----------------------------------------------------------------------
    @property
    def in_set(self) -> bool:
        """A set is under way."""
        return self._current is not None

    @property
    def side(self) -> str | None:
        """The side being worked: of the movement in progress, else the last one."""
        for g in (self.primary, *self.groups.values()):
            if g.active and g.side is not None:
                return g.side
        return self._side

    def progress(self) -> Progress:
        """Progress against the prescription at the last frame."""
        p = self.exercise.config.prescription
        kind = self.exercise.primary
        finished = len([s for s in self.sets if s.complete]) >= p.sets
        resting = self._current is None and self._rest_until is not None
        rest_left = (self._rest_until - self._t) if resting and self._rest_until else 0.0
        cur = self._current
        # between sets (and after the last one) the last set stays on show
        shown = cur if cur is not None else (self.sets[-1] if self.sets else None)
        side = self.side
        if kind == "timer":
            secs = shown.seconds() if shown else {"left": 0.0, "right": 0.0}
            done = secs.get(side or "left", 0.0) + self.primary.members[0].elapsed_s
            unit, target = "s", p.time_per_side_s.max
        else:
            counts = shown.counts() if shown else {"left": 0, "right": 0, "none": 0,
                                                   "total": 0}
            unit = UNITS[kind]
            target = p.reps.max
            if kind == "step":  # a set walks both ways: every step counts toward it
                done, target = counts["total"], target * (2 if self.exercise.per_side else 1)
            else:
                done = counts.get((side or "none") if self.exercise.per_side else "total", 0)
            if kind == "hold" and self.primary.active and p.hold_s.max > 0:
                held = max(m.elapsed_s for m in self.primary.members)
                done, target, unit = held, p.hold_s.min, "s"
        index = len(self.sets) + (0 if cur else 1) if (cur or self.sets) else 1
        return Progress(index, p.sets, float(done), float(target), unit, side, resting,
                        float(rest_left), finished)

    # -- streaming ------------------------------------------------------------------
    def push(self, frame: Frame) -> list[Event]:
        """Feed one processed frame: its metrics, or NaN when the framing gate failed
        (the body is not seen as the exercise needs: nothing may count). Live and
        offline both feed the session this way.

        A frame refused for the view alone ("Turn to face the camera" / "Turn side-on")
        still counts: the movement itself turns the trunk (the twist at the bottom of a
        lunge reads side-on from a 30 deg camera), and blanking those frames cut reps
        in two. The view is judged over the recording (:func:`itbcoach.exercises.
        check_camera`, refused with an instruction beyond the exercise's accepted yaw)
        and shown live; a frame whose body is not measurable (no person, out of the
        picture, implausible) counts nothing.
        """
        ok = frame.framing_ok or frame.instruction in VIEW_INSTRUCTIONS
        row = frame.metrics if ok else np.full_like(frame.metrics, np.nan)
        return self.update(frame.t_s, row)

    def update(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one frame (``row`` = metric vector ``(K,)``); returns its events."""
        self._t = t_s
        events: list[Event] = []
        for g in self.groups.values():
            events.extend(g.update(t_s, row))
        events.extend(self._bookkeeping(t_s, events))
        gates = {"always": True, "set": self.in_set or self.primary.active,
                 "active": any(g.active for g in self.groups.values())}
        gates["idle"] = not gates["active"]
        events.extend(self.cue_engine.update(t_s, row, gates=gates, side=self.side,
                                             events=events))
        for ev in events:
            self._emit(ev)
        return events

    def finish(self, t_s: float | None = None) -> list[Event]:
        """End of input: close holds/bouts in progress and the open set."""
        t = self._t if t_s is None else t_s
        events: list[Event] = []
        for g in self.groups.values():
            events.extend(g.finish(t))
        events.extend(self._bookkeeping(t, events))
        if self._current is not None:
            events.extend(self._close_set(t, self._last_activity))
        for ev in events:
            self._emit(ev)
        return events

    def _emit(self, ev: Event) -> None:
        self.events.append(ev)
        if self._on_event is not None:
            self._on_event(ev)

    def _bookkeeping(self, t_s: float, events: list[Event]) -> list[Event]:
        out: list[Event] = []
        units = [ev for ev in events if self.primary.is_unit(ev)]
        if self.primary.active or units:
            self._last_activity = t_s
        if self._current is None and (self.primary.active or units):
            start = min([float(ev.data.get("start_s", t_s)) for ev in units] + [t_s])
            self._current = SetRecord(len(self.sets) + 1, start)
            self._rest_until = None
        cur = self._current
        for ev in events:
            if cur is None:
                break
            if ev.kind == EventKind.HOLD:
                cur.holds.append(ev)
            elif ev.kind == EventKind.REP:
                cur.reps.append(ev)
            elif ev.kind == EventKind.STEP:
                cur.steps.append(ev)
            elif ev.kind == EventKind.SIDE_TIME:
                cur.timers.append(ev)
        for ev in units:
            if cur is None:
                break
            cur.units.append(ev)
            if ev.side is not None:
                if self._side is not None and ev.side != self._side:
                    out.append(Event(EventKind.SIDE_SWITCH, t_s, ev.side, "session",
                                     {"from": self._side, "set": cur.index}))
                self._side = ev.side
        if cur is not None and units and self._prescription_met(cur):
            end = max(float(ev.data.get("end_s", t_s)) for ev in units)
            out.extend(self._close_set(t_s, end, complete=True))
        elif cur is not None and not self.primary.active and \
                t_s - self._last_activity >= self.exercise.config.prescription.set_gap_s:
            out.extend(self._close_set(t_s, self._last_activity))
        if self._current is None and self._rest_until is not None and t_s >= self._rest_until:
            out.append(Event(EventKind.REST_OVER, t_s, None, "session",
                             {"next_set": len(self.sets) + 1}))
            self._rest_until = None
        return out

    def _prescription_met(self, cur: SetRecord) -> bool:
        p = self.exercise.config.prescription
        if self.exercise.primary == "timer":
            hi = p.time_per_side_s.max
            secs = cur.seconds()
            return hi > 0 and all(secs[s] >= hi for s in SIDES)
        hi = p.reps.max
        if hi <= 0:
            return False
        counts = cur.counts()
        if self.exercise.per_side:
            return all(counts[s] >= hi for s in SIDES)
        return counts["total"] >= hi

    def _close_set(self, t_s: float, end_s: float, complete: bool = False) -> list[Event]:
        cur = self._current
        if cur is None:
            return []
        cur.end_s = end_s
        p = self.exercise.config.prescription
        counts = cur.counts()
        if not complete:
            lo = p.reps.min
            if self.exercise.primary == "timer":
                lo_s = p.time_per_side_s.min
                complete = lo_s > 0 and all(v >= lo_s for v in cur.seconds().values())
            elif self.exercise.per_side:
                complete = lo > 0 and all(counts[s] >= lo for s in SIDES)
            else:
                complete = lo > 0 and counts["total"] >= lo
        cur.complete = complete
        self.sets.append(cur)
        self._current = None
        self._rest_until = end_s + p.rest_s
        return [Event(EventKind.SET_COMPLETE, t_s, None, "session",
                      {"set": cur.index, "complete": complete, "start_s": cur.start_s,
                       "end_s": end_s, "counts": {k: v for k, v in counts.items()
                                                  if k != "none" or v}})]


class JsonlEventWriter:
    """Append-only JSON Lines persistence of events: one line each, flushed and fsynced
    the moment it is written.

    Args:
        path: the ``.jsonl`` file (created with its parent folder; appended to).
        extra: keys added to every line (e.g. ``{"task": "squat", "session": id}``).
    """

    def __init__(self, path: str | os.PathLike[str],
                 extra: Mapping[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.extra = dict(extra or {})
        self._fh: IO[str] | None = self.path.open("a", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        """Write one event and make it durable."""
        if self._fh is None:
            raise ValueError(f"{self.path}: writer is closed")
        line = json.dumps({**self.extra, **event.to_json()}, default=_json_default)
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Close the file (further writes raise)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> JsonlEventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read back a JSON Lines event log (a torn last line, from a crash, is skipped)."""
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out
