"""Live coaches: what the person is asked to do, frame by frame.

A coach turns one processed frame (time, metrics row, framing) into events and into the
task part of the overlay. It never reads a clock or touches the camera: the live loop
(:mod:`itbcoach.live.loop`) feeds it, so tests can replay any timeline.

* :class:`ExerciseCoach` wraps the exercise engine's :class:`~itbcoach.exercises.session.
  Session` (reps, holds, steps, timers, sets, rest, cues) for one task id.
* :class:`ProgramCoach` runs the whole programme in order, resting between exercises.
* :class:`~itbcoach.live.stepdown.StepdownCoach` guides the step-down test.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from itbcoach.config import Config
from itbcoach.exercises.events import Event, EventKind
from itbcoach.feedback.overlay import OverlayState
from itbcoach.stream import Frame

if TYPE_CHECKING:
    from itbcoach.exercises import ExerciseResult, ProgramResult
    from itbcoach.report.measures import LengthScale
    from itbcoach.scoring import TaskResult


class Coach(Protocol):
    """What the live loop drives."""

    task: str
    view: str  # "frontal" | "side" | "any" | "lying": the framing gate's view

    def update(self, frame: Frame) -> list[Event]:
        """Feed one frame; returns the events that happened."""
        ...

    def key(self, key: str, t_s: float) -> list[Event]:
        """A key press (``"space"``, ``"r"``, ``"n"``, ``"y"``, ...)."""
        ...

    def view_state(self, t_s: float) -> OverlayState:
        """The task's part of the overlay (the loop adds skeleton, framing, FPS)."""
        ...

    @property
    def done(self) -> bool:
        """Finished: the loop may stop."""
        ...

    def finish(self, t_s: float) -> list[Event]:
        """Close what is open (the session ends); returns the last events."""
        ...

    def result(self) -> TaskResult:
        """The session's typed result (as ``score`` returns it)."""
        ...

    def length_scale(self) -> LengthScale | None:
        """How the result's lengths are shown (the step-down's ``measures``), or None."""
        ...


def result_json(coach: Coach, config: Config) -> dict[str, Any]:
    """The coach's result as ``score --json`` writes it (the step-down with its
    ``measures`` block); made only where it is written (``--json``, the history)."""
    from itbcoach.report.measures import result_json as as_json

    return as_json(coach.result(), config.stepdown, coach.length_scale())


def speech(event: Event) -> str | None:
    """What the voice says for ``event`` (None = nothing).

    An event that carries its own words (``data["say"]``: a rep with its correction, a
    leg's result, the pain question) is spoken as it is shown; other events get a
    short phrase for their kind (counts as numbers, which the engine reads as words).
    """
    kind = event.kind
    data = event.data if isinstance(event.data, dict) else {}
    if "say" in data:  # the event's own words ("" = nothing to say)
        return str(data["say"]) or None
    if kind == EventKind.CUE:
        return str(data.get("text") or "") or None
    if kind in (EventKind.REP, EventKind.STEP):
        n = data.get("count") or data.get("n")
        return str(n) if n else None
    if kind == EventKind.HOLD:
        return f"done, {float(data.get('duration_s', 0)):.0f} seconds"
    return {EventKind.HOLD_TARGET: "hold complete", EventKind.SIDE_SWITCH: "switch sides",
            EventKind.TIMER_TARGET: "time, switch sides",
            EventKind.SET_COMPLETE: "set complete, rest",
            EventKind.REST_OVER: "next set, go"}.get(kind)


def introduction(name: str, instruction: str) -> str:
    """What the voice says when an exercise starts: its name and how it is done."""
    return f"{name.rstrip('.')}. {instruction.rstrip('.')}."


def utterance(events: list[Event]) -> str | None:
    """One line for the events of one frame (or one key press), in order.

    The voice keeps only its newest line (it must not lag behind the picture), so what
    happens at the same moment is said together: "3, slow down", both legs' results.
    """
    parts = list(dict.fromkeys(p for p in map(speech, events) if p))
    return ". ".join(parts) if parts else None


@dataclass
class ExerciseCoach:
    """Coach one exercise of the programme with the exercise engine.

    Args:
        config: the configuration (exercise definitions, prescriptions, cues).
        task: exercise id, e.g. ``"monster-walk"``.
    """

    config: Config
    task: str
    view: str = field(init=False)
    paused: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        from itbcoach.exercises.definitions import get_exercise
        from itbcoach.exercises.session import Session

        self.exercise = get_exercise(self.config, self.task)
        self.view = self.exercise.gate_view
        self.session = Session(self.exercise)
        self._t = 0.0
        self._t0: float | None = None
        self._frames = 0
        self._pose_frames = 0
        self._view_ok = 0
        self._count: dict[str, int] = {}

    def update(self, frame: Frame) -> list[Event]:
        """Feed the engine (paused: nothing counts; bad framing: the engine sees NaN)."""
        self._t = frame.t_s
        intro = []
        if self._t0 is None:  # the exercise starts: say what it is and how it is done
            self._t0 = frame.t_s
            text = introduction(self.exercise.name, self.exercise.config.instruction)
            intro = [Event(EventKind.CUE, frame.t_s, None, self.task,
                           {"text": text, "say": text, "record_as": "introduction"})]
        self._frames += 1
        if np.isfinite(frame.metrics).any():
            self._pose_frames += 1
            self._view_ok += bool(frame.framing_ok)
        if self.paused:
            return intro
        events = self.session.push(frame)
        out = intro
        for ev in events:
            if ev.kind in (EventKind.REP, EventKind.STEP, EventKind.HOLD):
                key = f"{ev.kind}:{ev.side}"
                self._count[key] = self._count.get(key, 0) + 1
                ev = Event(ev.kind, ev.t_s, ev.side, ev.counter,
                           {**ev.data, "count": self._count[key]}, ev.tags)
            out.append(ev)
        return out

    @property
    def started_s(self) -> float | None:
        """Source time of the exercise's first frame, s (None before it)."""
        return self._t0

    def key(self, key: str, t_s: float) -> list[Event]:
        """``space`` pauses/resumes counting."""
        if key == "space":
            self.paused = not self.paused
        return []

    def view_state(self, t_s: float) -> OverlayState:
        """Counter = units done in this set on the current side; the progress line."""
        prog = self.session.progress()
        unit = prog.unit
        counter = None if unit == "s" else f"{int(prog.done)}/{int(prog.target)}"
        hold = None
        hold_text = None
        if unit == "s" or self.exercise.primary == "hold":
            target = prog.target if unit == "s" else \
                self.exercise.config.prescription.hold_s.min
            seconds = prog.done if unit == "s" else self._hold_seconds()
            if target > 0:
                hold = min(1.0, seconds / target)
                hold_text = f"{seconds:.0f} s"
        cue = self.session.cue_engine.current(t_s)
        return OverlayState(
            title=self.exercise.name, counter=counter, counter_label=unit,
            progress=("paused — space to resume" if self.paused else prog.text()),
            hold_fraction=hold, hold_text=hold_text, cue=cue,
            cue_level="warn" if cue else "info",
            banner=("Rest" if prog.resting else None),
            # how it is done, large, until the first rep/step/hold of the set is counted
            instruction=(self.exercise.config.instruction
                         if prog.done == 0 and not prog.resting else None),
            keys="space pause · f fullscreen · q quit")

    def _hold_seconds(self) -> float:
        """Good-form seconds of the hold in progress (0 when none)."""
        group = self.session.groups.get("hold")
        return max((float(m.elapsed_s) for m in group.members), default=0.0) \
            if group is not None else 0.0

    @property
    def done(self) -> bool:
        """Every prescribed set is done."""
        return bool(self.session.progress().finished)

    def finish(self, t_s: float) -> list[Event]:
        """Close the open set."""
        return self.session.finish(t_s)

    def result(self) -> ExerciseResult:
        """The engine's result (sets, reps, holds, steps, cues), as offline."""
        from itbcoach.exercises import CameraCheck, ExerciseResult

        share = self._view_ok / self._pose_frames if self._pose_frames else 0.0
        camera = CameraCheck(self.exercise.config.view,
                             share >= self.config.framing.min_view_share, share, "")
        return ExerciseResult(self.task, self.exercise, self.session.sets,
                              self.session.events, camera, self._frames, self._pose_frames,
                              self._t - (self._t0 or self._t), {"source": "live"})

    def length_scale(self) -> LengthScale | None:
        """None: an exercise shows no step-down lengths."""
        return None


@dataclass
class ProgramCoach:
    """The whole programme in order, with a rest between exercises.

    Args:
        config: the configuration.
        tasks: exercise ids in order (default: the programme list of the config).
        rest_s: rest between exercises, seconds.
        guided: each exercise starts with its card, posture check and countdown
            (:class:`~itbcoach.live.guide.GuidedExercise`).
        window: a person watches a window (guided without one: the card's short time).
    """

    config: Config
    tasks: tuple[str, ...]
    rest_s: float
    guided: bool = False
    window: bool = True
    view: str = field(init=False, default="any")
    task: str = field(init=False, default="program")

    def __post_init__(self) -> None:
        self.index = 0
        self.results: list[ExerciseResult] = []
        #: (first frame s, end s) of each finished exercise, for its report
        self.spans: list[tuple[float, float]] = []
        self.current = self._make(self.tasks[0])
        self.view = self.current.view
        self._rest_until: float | None = None

    def _make(self, task: str) -> Any:
        """The coach of one exercise (guided or not)."""
        if self.guided:
            from itbcoach.live.guide import GuidedExercise

            return GuidedExercise(self.config, task, self.window)
        return ExerciseCoach(self.config, task)

    def warm_up(self) -> None:
        """Guided: load the first demo clip, and the others in the background."""
        if self.guided:
            from itbcoach.live.guide import preload_demos

            self.current.warm_up()
            preload_demos(self.config, self.tasks[1:])

    def update(self, frame: Frame) -> list[Event]:
        """Feed the current exercise; move on after it is done and the rest is over."""
        if self.done:  # the result screen after the last exercise: nothing more counts
            return []
        if self._rest_until is not None:
            if frame.t_s < self._rest_until:
                return []
            self._rest_until = None
            # silent: the next exercise introduces itself on its first frame
            return [Event(EventKind.REST_OVER, frame.t_s, data={"say": ""})]
        events = self.current.update(frame)
        if self.current.done:
            events += self._next(frame.t_s)
        return events

    def _close_current(self, t_s: float) -> list[Event]:
        events = self.current.finish(t_s)
        self.results.append(self.current.result())
        start = self.current.started_s
        self.spans.append((t_s if start is None else start, t_s))
        return events

    def _next(self, t_s: float) -> list[Event]:
        events = self._close_current(t_s)
        self.index += 1
        if self.index < len(self.tasks):
            self.current = self._make(self.tasks[self.index])
            self.view = self.current.view
            self._rest_until = t_s + self.rest_s
            rest = f"Rest {self.rest_s:.0f} seconds. " if self.rest_s >= 1 else ""
            events.append(Event(EventKind.CUE, t_s, None, "program", {
                "text": f"rest {self.rest_s:.0f} seconds", "record_as": "rest",
                "say": f"Well done. {rest}Next: {self.current.exercise.name.rstrip('.')}"}))
        return events

    def key(self, key: str, t_s: float) -> list[Event]:
        """``n`` skips to the next exercise (during a rest: ends the rest); others go to
        the current one."""
        if key == "n" and self._rest_until is not None:
            self._rest_until = t_s
            return []
        if key == "n" and self.index < len(self.tasks):
            return self._next(t_s)
        return self.current.key(key, t_s)

    def view_state(self, t_s: float) -> OverlayState:
        """The current exercise's view, with the programme position."""
        view = self.current.view_state(t_s)
        n = min(self.index + 1, len(self.tasks))  # the last one while its result shows
        keys = "space start now" if view.card is not None else "space pause"
        view = replace(view, title=f"{n}/{len(self.tasks)} · {view.title}",
                       keys=f"{keys} · n next exercise · f fullscreen · q quit")
        if self._rest_until is not None:  # the camera, the rest time, what comes next
            view = replace(view, banner=f"Rest {max(0.0, self._rest_until - t_s):.0f} s",
                           progress=f"next: {self.current.exercise.name}", card=None,
                           countdown=None, instruction=None,
                           keys="n skip the rest · f fullscreen · q quit")
        return view

    @property
    def done(self) -> bool:
        """All exercises done."""
        return self.index >= len(self.tasks)

    def finish(self, t_s: float) -> list[Event]:
        """Close the exercise under way."""
        if self.index < len(self.tasks):
            events = self._close_current(t_s)
            self.index = len(self.tasks)
            return events
        return []

    def result(self) -> ProgramResult:
        """One result per exercise done."""
        from itbcoach.exercises import ProgramResult

        return ProgramResult(list(self.results))

    def length_scale(self) -> LengthScale | None:
        """None: exercises show no step-down lengths."""
        return None
