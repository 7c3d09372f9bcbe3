"""Exercise definitions: ``[exercises.<id>]`` config -> a validated :class:`ExerciseDef`.

An :class:`ExerciseDef` is immutable and holds only data (expression texts, thresholds,
prescription, cue rules). :func:`build_counters` makes fresh, stateful counters from it
for one session; every expression is compiled once when the definition is built, so a
typo in a user's TOML is a :class:`~itbcoach.errors.ConfigError` naming the key before
any frame is processed.

Side handling, decided by the data:

* a counter expression containing ``{side}`` -> one counter per side (each counts its
  own side; for movements done one side at a time, e.g. knee lifts);
* otherwise a ``side_by`` expression with ``{side}`` -> one counter whose reps are
  attributed to the side picked by ``side_pick`` (e.g. the front leg of a split squat
  is the side whose knee is higher: ``side_by = "knee_y_{side}"``, ``side_pick = "min"``);
* neither -> reps without a side (both legs at once, e.g. squats).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from itbcoach.config import Config
from itbcoach.config.schema import ExerciseConfig, StepdownConfig
from itbcoach.errors import ConfigError
from itbcoach.exercises.counters import (
    HoldTimer,
    RepCheck,
    RepCounter,
    SideStepCounter,
    SideTimer,
    StepdownRepCounter,
)
from itbcoach.exercises.cues import CueRule
from itbcoach.exercises.events import Event, EventKind
from itbcoach.exercises.expr import SIDES, ExprError, compile_expr, has_side, needs_world

#: What each view means for the framing gate.
VIEWS = ("frontal", "side", "either")

#: The unit a primary counter counts (prescriptions, progress, summaries, history).
UNITS = {"rep": "reps", "hold": "holds", "step": "steps", "timer": "s", "stepdown": "reps"}


@dataclass(frozen=True)
class ExerciseDef:
    """One exercise, validated.

    Attributes:
        task: the task id (``[exercises.<task>]``).
        config: its configuration table.
        cues: cue rules with the ``[exercise_cues]`` timing filled in.
    """

    task: str
    config: ExerciseConfig
    cues: tuple[CueRule, ...]
    stepdown_params: StepdownConfig | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """Display name."""
        return self.config.name

    @property
    def primary(self) -> str:
        """Counter kind that drives sets and progress."""
        return self.config.primary

    @property
    def per_side(self) -> bool:
        """Prescription is per side (per direction for side steps)."""
        return self.config.prescription.per_side

    @property
    def gate_view(self) -> str:
        """The framing gate's view: ``frontal``, ``side``, ``any`` or ``lying`` (lying
        exercises skip the view test: a side-lying body seen from the front has its
        shoulders stacked, which the gate would call side-on; nor are its image limb
        lengths judged as a side-on body's, see :mod:`itbcoach.pose.framing`)."""
        if self.config.posture == "lying":
            return "lying"
        return {"frontal": "frontal", "side": "side"}.get(self.config.view, "any")


def exercise_ids(config: Config) -> tuple[str, ...]:
    """Task ids of every configured exercise, sorted."""
    return tuple(sorted(config.exercises))


def get_exercise(config: Config, task: str) -> ExerciseDef:
    """The validated definition of ``task``.

    Raises:
        ConfigError: unknown task id (the message lists the known ones) or an invalid
            definition (the message names the key).
    """
    if task not in config.exercises:
        known = ", ".join(("stepdown", *exercise_ids(config)))
        raise ConfigError(f"unknown task '{task}' (known: {known})")
    return build_exercise(task, config.exercises[task], config)


def _cue_rules(task: str, ex: ExerciseConfig, config: Config) -> tuple[CueRule, ...]:
    d = config.exercise_cues
    rules = []
    for i, c in enumerate(ex.cues):
        name = c.name or f"cue{i + 1}"
        try:
            rules.append(CueRule(
                name=name, text=c.text, when=c.when, on=c.on,
                during=c.during if c.during is not None else d.during,
                priority=c.priority if c.priority is not None else d.priority,
                min_interval_s=c.min_interval_s if c.min_interval_s is not None
                else d.min_interval_s,
                min_show_s=c.min_show_s if c.min_show_s is not None else d.min_show_s,
                min_true_s=c.min_true_s if c.min_true_s is not None else d.min_true_s))
        except ValueError as exc:
            raise ConfigError(f"exercises.{task}.cues[{i}]: {exc}") from None
    return tuple(rules)


def build_exercise(task: str, ex: ExerciseConfig, config: Config) -> ExerciseDef:
    """Validate ``ex`` (compile every expression once) into an :class:`ExerciseDef`."""
    d = ExerciseDef(task, ex, _cue_rules(task, ex, config),
                    config.stepdown if ex.stepdown is not None else None)
    try:
        build_counters(d)
        from itbcoach.exercises.cues import CueEngine

        CueEngine(d.cues)
    except (ExprError, ValueError) as exc:
        raise ConfigError(f"exercises.{task}: {exc}") from None
    return d


# -- counter groups: what the session drives ------------------------------------------

class CounterGroup:
    """One kind of counter of an exercise: one or more state machines updated together.

    ``update`` returns their events; :attr:`units` are the events that count toward the
    prescription (reps, holds cycles, steps, timed bouts).
    """

    kind: str = ""

    def __init__(self, members: list) -> None:
        self.members = members

    def update(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one frame to every member."""
        out: list[Event] = []
        for m in self.members:
            out.extend(m.update(t_s, row))
        return out

    def finish(self, t_s: float) -> list[Event]:
        """Close whatever is in progress at the end of the input."""
        out: list[Event] = []
        for m in self.members:
            fin: Callable[[float], list[Event]] | None = getattr(m, "finish", None)
            if fin is not None:
                out.extend(fin(t_s))
        return out

    def reset(self) -> None:
        """Reset every member."""
        for m in self.members:
            m.reset()

    @property
    def active(self) -> bool:
        """Something is in progress."""
        return any(m.active for m in self.members)

    @property
    def side(self) -> str | None:
        """Side of what is in progress."""
        for m in self.members:
            if m.active and m.side is not None:
                return m.side
        return None

    def is_unit(self, ev: Event) -> bool:
        """Does ``ev`` count toward the prescription?"""
        return ev.kind == EventKind.REP


class RepGroup(CounterGroup):
    """Rep counters (one, or one per side)."""

    kind = "rep"


class HoldGroup(CounterGroup):
    """Hold timers (per phase, per side); a **rep** is one hold of every phase.

    With one phase each good hold is a rep; with several (e.g. ``in`` then ``out``) a rep
    is emitted when every phase has had a hold since the last rep (same side).
    """

    kind = "hold"

    def __init__(self, members: list[HoldTimer], phases: tuple[str, ...]) -> None:
        super().__init__(members)
        self.phases = phases
        self._done: dict[str | None, set[str]] = {}
        self._first: dict[str | None, float] = {}

    def reset(self) -> None:
        """Reset every member and the phase bookkeeping."""
        super().reset()
        self._done, self._first = {}, {}

    def _on_hold(self, ev: Event) -> Event | None:
        done = self._done.setdefault(ev.side, set())
        if not done:
            self._first[ev.side] = float(ev.data["start_s"])
        done.add(str(ev.data["phase"]))
        if not done.issuperset(self.phases):
            return None
        holds = [h for m in self.members if m.side == ev.side
                 for h in m.holds if h.data["start_s"] >= self._first[ev.side]]
        self._done[ev.side] = set()
        return Event(EventKind.REP, ev.t_s, ev.side, "hold",
                     {"start_s": self._first[ev.side], "end_s": float(ev.data["end_s"]),
                      "duration_s": float(ev.data["end_s"]) - self._first[ev.side],
                      "holds": len(holds),
                      "good_form": all(bool(h.data["good_form"]) for h in holds)})

    def update(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one frame; adds a ``rep`` event after each completed cycle of phases."""
        return self._with_reps(super().update(t_s, row))

    def finish(self, t_s: float) -> list[Event]:
        """Close holds in progress (a completed cycle still counts)."""
        return self._with_reps(super().finish(t_s))

    def _with_reps(self, events: list[Event]) -> list[Event]:
        out: list[Event] = []
        for ev in events:
            out.append(ev)
            if ev.kind == EventKind.HOLD:
                rep = self._on_hold(ev)
                if rep is not None:
                    out.append(rep)
        return out


class StepGroup(CounterGroup):
    """The side-step counter."""

    kind = "step"

    def is_unit(self, ev: Event) -> bool:
        """Steps count."""
        return ev.kind == EventKind.STEP


class StepdownGroup(CounterGroup):
    """Step-down reps (heel taps)."""

    kind = "stepdown"


class TimerGroup(CounterGroup):
    """The per-side timer."""

    kind = "timer"

    def is_unit(self, ev: Event) -> bool:
        """Timed bouts count."""
        return ev.kind == EventKind.SIDE_TIME


def build_counters(d: ExerciseDef) -> dict[str, CounterGroup]:
    """Fresh counters for one session, keyed by kind (``rep``, ``hold``, ``step``,
    ``timer``), the primary first."""
    ex, p = d.config, d.config.prescription
    groups: dict[str, CounterGroup] = {}
    if ex.rep is not None:
        r = ex.rep
        checks = [RepCheck(c.name, c.when, c.mode) for c in r.checks]
        kw = dict(enter=r.enter, exit=r.exit, direction=r.direction,
                  min_duration_s=r.min_duration_s,
                  max_duration_s=r.max_duration_s if r.max_duration_s > 0 else math.inf,
                  debounce_s=r.debounce_s, max_gap_s=r.max_gap_s, checks=checks,
                  fast_s=r.fast_s)
        if has_side(r.metric):
            members = [RepCounter(r.metric, side=s, **kw) for s in SIDES]
        else:
            members = [RepCounter(r.metric, side_by=r.side_by, side_pick=r.side_pick, **kw)]
        groups["rep"] = RepGroup(members)
    if ex.hold is not None:
        h = ex.hold
        target = p.hold_s.min if ex.primary == "hold" else 0.0
        members_h: list[HoldTimer] = []
        sided = any(has_side(x) for ph in h.phases for x in (ph.enter, ph.stay)) \
            or has_side(h.form)
        for ph in h.phases:
            for s in (SIDES if sided else (None,)):
                members_h.append(HoldTimer(
                    ph.enter, ph.stay, h.form, debounce_s=h.debounce_s, grace_s=h.grace_s,
                    min_hold_s=h.min_hold_s, target_s=target, side=s, phase=ph.name))
        groups["hold"] = HoldGroup(members_h, tuple(ph.name for ph in h.phases))
    if ex.step is not None:
        st = ex.step
        groups["step"] = StepGroup([SideStepCounter(
            st.left_foot, st.right_foot, open=st.open, close_fraction=st.close_fraction,
            follow_fraction=st.follow_fraction, debounce_s=st.debounce_s,
            min_duration_s=st.min_duration_s,
            max_duration_s=st.max_duration_s if st.max_duration_s > 0 else math.inf,
            max_gap_s=st.max_gap_s, fast_s=st.fast_s)])
    if ex.timer is not None:
        tm = ex.timer
        target = p.time_per_side_s.min if ex.primary == "timer" else 0.0
        groups["timer"] = TimerGroup([SideTimer(
            tm.active, tm.side_by, side_pick=tm.side_pick, debounce_s=tm.debounce_s,
            grace_s=tm.grace_s, min_s=tm.min_s, target_s=target)])
    if ex.stepdown is not None:
        sd = ex.stepdown
        groups["stepdown"] = StepdownGroup([StepdownRepCounter(
            sd.depth, sd.foot_x, sd.foot_y, sd.hip_y, d.stepdown_params)])
    primary = groups.pop(ex.primary)
    return {ex.primary: primary, **groups}


def counting_expressions(ex: ExerciseConfig) -> list[tuple[str, str]]:
    """``(key, source)`` of every expression a counter of ``ex`` reads (not the cues):
    what must be measurable for anything to be counted."""
    out: list[tuple[str, str]] = []
    if ex.rep is not None:
        out.append(("rep.metric", ex.rep.metric))
        if ex.rep.side_by:
            out.append(("rep.side_by", ex.rep.side_by))
    if ex.hold is not None:
        out += [(f"hold.phases.{ph.name}.{k}", v) for ph in ex.hold.phases
                for k, v in (("enter", ph.enter), ("stay", ph.stay)) if v]
        if ex.hold.form:
            out.append(("hold.form", ex.hold.form))
    if ex.step is not None:
        out += [("step.left_foot", ex.step.left_foot), ("step.right_foot", ex.step.right_foot)]
    if ex.timer is not None:
        out += [("timer.active", ex.timer.active), ("timer.side_by", ex.timer.side_by)]
    if ex.stepdown is not None:
        out += [(f"stepdown.{k}", getattr(ex.stepdown, k)) for k in ("depth", "foot_x",
                                                                     "foot_y", "hip_y")]
    return out


def world_only_inputs(d: ExerciseDef) -> tuple[str, ...]:
    """Keys of the counting expressions of ``d`` that read world (3D) landmarks with no
    2D fallback (see :func:`~itbcoach.exercises.expr.needs_world`): an input without
    world landmarks can count nothing for them."""
    return tuple(key for key, src in counting_expressions(d.config)
                 if any(needs_world(src, s) for s in (SIDES if has_side(src) else (None,))))


def check_expression(source: str, where: str) -> None:
    """Compile ``source`` for both sides (or none) to validate it.

    Raises:
        ExprError: the expression is invalid (the message names ``where``).
    """
    for s in (SIDES if has_side(source) else (None,)):
        compile_expr(source, s, where)


@functools.lru_cache(maxsize=512)
def check_exercise_config(ex: ExerciseConfig) -> None:
    """Validate every expression and threshold of one ``[exercises.<id>]`` table.

    Called when the configuration is loaded, so a typo in a user's TOML is reported by
    ``itbcoach config check`` (as a :class:`~itbcoach.errors.ConfigError` naming the
    exercise) before anything runs. Results are cached per (immutable) table.

    Raises:
        ValueError: the first problem found, naming the key.
    """
    exprs: list[tuple[str, str]] = []
    if ex.rep is not None:
        r = ex.rep
        exprs += [("rep.metric", r.metric)]
        if r.side_by:
            if not has_side(r.side_by):
                raise ValueError(f"rep.side_by {r.side_by!r} must use {{side}}")
            exprs.append(("rep.side_by", r.side_by))
        exprs += [(f"rep.checks.{c.name}", c.when) for c in r.checks]
        up = r.direction == "up"
        if (r.exit >= r.enter) if up else (r.exit <= r.enter):
            raise ValueError(f"rep.exit ({r.exit}) must be {'below' if up else 'above'} "
                             f"rep.enter ({r.enter}) for direction '{r.direction}'")
    if ex.hold is not None:
        exprs += [(f"hold.phases.{ph.name}.{k}", v) for ph in ex.hold.phases
                  for k, v in (("enter", ph.enter), ("stay", ph.stay)) if v]
        if ex.hold.form:
            exprs.append(("hold.form", ex.hold.form))
    if ex.step is not None:
        exprs += [("step.left_foot", ex.step.left_foot), ("step.right_foot", ex.step.right_foot)]
    if ex.timer is not None:
        if not has_side(ex.timer.side_by):
            raise ValueError(f"timer.side_by {ex.timer.side_by!r} must use {{side}}")
        exprs += [("timer.active", ex.timer.active), ("timer.side_by", ex.timer.side_by)]
    if ex.stepdown is not None:
        sd = ex.stepdown
        exprs += [(f"stepdown.{k}", getattr(sd, k)) for k in ("depth", "foot_x", "foot_y",
                                                              "hip_y")]
    for i, c in enumerate(ex.cues):
        CueRule(c.name or f"cue{i + 1}", c.text, when=c.when, on=c.on,
                during=c.during or "set")
        if c.when:
            exprs.append((f"cues[{i}].when", c.when))
    for where, src in exprs:
        check_expression(src, where)
