"""Streaming counters: reps, holds, side steps and timed bouts per side.

Every counter is a small state machine fed one frame at a time::

    events = counter.update(t_s, metrics_row)

``t_s`` is the frame time in seconds (strictly increasing; the counter never reads a
clock), ``metrics_row`` the kernel's metric vector ``(K,)`` of that frame
(:func:`itbcoach.kernel.compute_metrics`, NaN when no pose). Counters read metrics through
expressions (:mod:`itbcoach.exercises.expr`) given as text, so an exercise is data.
Each has ``reset()``, read-only counts, ``active`` (a rep / hold / step / bout is in
progress) and ``side`` (the side being worked right now, or ``None``).

Kinds:

* :class:`RepCounter` -- two thresholds with hysteresis on one signal, debounce,
  minimum/maximum rep duration, side attribution, per-rep checks.
* :class:`HoldTimer` -- enter/stay conditions, time counted only while the position and
  the form hold, a grace period for brief lapses.
* :class:`SideStepCounter` -- lateral displacement of the two feet: a step is the lead
  foot stepping out (stance widens) and the trailing foot following (stance narrows
  with both feet displaced the same way).
* :class:`SideTimer` -- time spent in a position, per side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from itbcoach.exercises.events import Event, EventKind
from itbcoach.exercises.expr import SIDES, Expr, compile_expr, has_side, truth

INF = math.inf


def _sided_exprs(source: str, side: str | None, where: str) -> dict[str | None, Expr]:
    """``{None: expr}`` for a side-free source, else one compiled expr per side."""
    if not has_side(source):
        return {None: compile_expr(source, None, where)}
    if side is not None:
        return {side: compile_expr(source, side, where)}
    return {s: compile_expr(source, s, where) for s in SIDES}


def _pick(values: dict[str, float], how: str) -> str | None:
    good = {s: v for s, v in values.items() if v == v}
    if not good:
        return None
    if len(good) == 1:
        return next(iter(good))
    fn = max if how == "max" else min
    best = fn(good.values())
    winners = [s for s, v in good.items() if v == best]
    return winners[0] if len(winners) == 1 else None


@dataclass(frozen=True)
class RepCheck:
    """A per-rep check: ``when`` evaluated during the rep.

    ``mode``: ``"any"`` = true at some frame of the rep, ``"all"`` = true at every frame
    where it is known, ``"peak"`` = true at the rep's peak frame. A failed check adds the
    tag ``"no-<name>"`` to the rep event (cue rules match it with ``on = "rep:no-<name>"``).
    """

    name: str
    when: str
    mode: str = "any"

    def __post_init__(self) -> None:
        if self.mode not in ("any", "all", "peak"):
            raise ValueError(f"check {self.name!r}: mode must be any, all or peak, "
                             f"got {self.mode!r}")


class RepCounter:
    """Counts repetitions of a movement from one signal with two thresholds.

    With ``direction="up"`` a rep starts when the signal rises above ``enter`` and ends
    when it falls back below ``exit`` (``exit < enter``: hysteresis); ``"down"`` mirrors
    it (``exit > enter``). Each crossing must persist ``debounce_s``. The rep runs from
    the last sample at rest (beyond ``exit``) before the rise to the first sample back at
    rest; reps shorter than ``min_duration_s`` or longer than ``max_duration_s`` are
    rejected (event ``rep_rejected``, tag ``too_fast``/``too_slow``): the minimum is a
    noise filter, a rep that is merely rushed is counted with the tag ``fast``
    (shorter than ``fast_s``). A rep needs a rest
    sample first, so a recording that starts mid-rep does not count the half rep.
    Missing samples (NaN) are skipped; a gap longer than ``max_gap_s`` abandons the rep
    in progress.

    Sides: a ``metric`` with ``{side}`` needs ``side`` (one counter per side, see
    :func:`itbcoach.exercises.definitions.build_counters`); otherwise ``side_by``
    (an expression with ``{side}``) attributes each rep to the side that is the largest
    (``side_pick="max"``) or smallest in most of the rep's frames beyond ``enter`` until
    the signal first nears its peak: a vote taken on the way into the movement, so frames
    where the pose model swapped left and right (common side-on at the end of range) do
    not flip the side.

    Args:
        metric: signal expression.
        enter, exit: thresholds in the signal's units.
        direction: ``"up"`` or ``"down"``.
        min_duration_s, max_duration_s: accepted rep durations, s.
        debounce_s: a crossing must persist this long, s.
        max_gap_s: longest tolerated run of missing samples, s.
        side: fixed side of this counter (``"left"``/``"right"``) or ``None``.
        side_by, side_pick: side attribution for a side-free metric.
        checks: per-rep checks.
        fast_s: counted reps shorter than this carry the tag ``fast`` (for a "slow
            down" cue; 0 = never).
        name: counter name put on its events.
    """

    def __init__(self, metric: str, *, enter: float, exit: float, direction: str = "up",
                 min_duration_s: float = 0.0, max_duration_s: float = INF,
                 debounce_s: float = 0.0, max_gap_s: float = 0.5,
                 side: str | None = None, side_by: str = "", side_pick: str = "max",
                 checks: Sequence[RepCheck] = (), fast_s: float = 0.0,
                 name: str = "rep") -> None:
        if direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")
        self._s = 1.0 if direction == "up" else -1.0
        if not self._s * enter > self._s * exit:
            rel = "below" if direction == "up" else "above"
            raise ValueError(f"exit ({exit}) must be {rel} enter ({enter}) for "
                             f"direction '{direction}'")
        if side_pick not in ("max", "min"):
            raise ValueError(f"side_pick must be 'max' or 'min', got {side_pick!r}")
        if has_side(metric) and side is None:
            raise ValueError(f"metric {metric!r} has {{side}}: give side='left' or 'right'")
        self.name = name
        self.fixed_side = side
        self.enter, self.exit, self.direction = enter, exit, direction
        self.min_duration_s, self.max_duration_s = min_duration_s, max_duration_s
        self.debounce_s, self.max_gap_s = debounce_s, max_gap_s
        self.side_pick = side_pick
        self.fast_s = fast_s
        self._metric = compile_expr(metric, side, f"{name}.metric")
        self._side_by = {} if (side is not None or not side_by) else \
            {s: compile_expr(side_by, s, f"{name}.side_by") for s in SIDES}
        if side_by and side is None and not has_side(side_by):
            raise ValueError(f"side_by {side_by!r} must use {{side}}")
        self.checks = tuple(checks)
        self._check_exprs = [_sided_exprs(c.when, side, f"{name}.checks.{c.name}")
                             for c in self.checks]
        self._exprs = [self._metric, *self._side_by.values(),
                       *(e for d in self._check_exprs for e in d.values())]
        self.reset()

    # -- read-only state ------------------------------------------------------------
    @property
    def count(self) -> int:
        """Reps counted so far."""
        return len(self._reps)

    @property
    def counts(self) -> dict[str, int]:
        """Reps per side: ``{"left", "right", "none"}``."""
        out = {"left": 0, "right": 0, "none": 0}
        for ev in self._reps:
            out[ev.side or "none"] += 1
        return out

    @property
    def reps(self) -> tuple[Event, ...]:
        """The counted reps' events."""
        return tuple(self._reps)

    @property
    def active(self) -> bool:
        """A rep is in progress."""
        return self._active

    @property
    def side(self) -> str | None:
        """This counter's fixed side, or the leading side of the rep in progress."""
        if self.fixed_side is not None:
            return self.fixed_side
        if self._active and self._side_by:
            return self._voted_side()
        return None

    def _voted_side(self) -> str | None:
        """The side most frames voted for until the signal first came within 10 % of its
        peak (all frames when those tie; then the better mean value)."""
        near = self._peak - 0.1 * (self._peak - self._s * self.enter)
        reached = next((t for t, v, _ in self._vote_log if v >= near), INF)
        before = [side for t, _, side in self._vote_log if t <= reached]
        lv, rv = before.count("left"), before.count("right")
        if lv == rv:
            lv, rv = self._votes["left"], self._votes["right"]
        if lv != rv:
            return "left" if lv > rv else "right"
        return _pick({s: (self._side_sum[s] / self._side_n[s]) if self._side_n[s]
                      else math.nan for s in SIDES}, self.side_pick)

    @property
    def signal(self) -> float:
        """The signal's latest value (for overlays)."""
        return self._last_value

    def reset(self) -> None:
        """Back to the initial state (counts cleared)."""
        for e in self._exprs:
            e.reset()
        self._reps: list[Event] = []
        self._active = False
        self._t_rest: float | None = None
        self._above_since: float | None = None
        self._below_since: float | None = None
        self._last_valid: float | None = None
        self._last_value = math.nan
        self._last_v = -INF
        self._start_rep(math.nan)

    def _start_rep(self, t_start: float) -> None:
        self._rep_start = t_start
        self._peak, self._peak_t = -INF, math.nan
        self._side_sum = dict.fromkeys(SIDES, 0.0)
        self._side_n = dict.fromkeys(SIDES, 0)
        self._votes = dict.fromkeys(SIDES, 0)
        self._vote_log: list[tuple[float, float, str]] = []
        self._check_any = [dict.fromkeys(d, False) for d in self._check_exprs]
        self._check_all = [dict.fromkeys(d, True) for d in self._check_exprs]
        self._check_peak: list[dict[str | None, bool | None]] = \
            [dict.fromkeys(d) for d in self._check_exprs]

    # -- streaming ------------------------------------------------------------------
    def update(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one frame; returns the events it completed."""
        x = self._metric(t_s, row)
        side_vals = {s: e(t_s, row) for s, e in self._side_by.items()}
        check_vals = [{s: truth(e(t_s, row)) for s, e in d.items()}
                      for d in self._check_exprs]
        self._last_value = x
        v = self._s * x
        events: list[Event] = []
        if v != v:
            if self._last_valid is not None and t_s - self._last_valid > self.max_gap_s:
                self._active = False
                self._t_rest = None
                self._above_since = self._below_since = None
            return events
        self._last_valid = t_s
        self._last_v = v
        enter, exit_ = self._s * self.enter, self._s * self.exit
        if not self._active:
            if v <= exit_:
                self._t_rest = t_s
            if v > enter and self._t_rest is not None:
                if self._above_since is None:
                    self._above_since = t_s
                if t_s - self._above_since >= self.debounce_s:
                    self._active = True
                    self._below_since = None
                    self._start_rep(self._t_rest)
            else:
                self._above_since = None
        if self._active:
            if v > self._peak:
                self._peak, self._peak_t = v, t_s
                for i, vals in enumerate(check_vals):
                    self._check_peak[i].update(vals)
            if v > enter:
                for s, val in side_vals.items():
                    if val == val:
                        self._side_sum[s] += val
                        self._side_n[s] += 1
                if len(side_vals) == 2 and all(x == x for x in side_vals.values()):
                    voted = _pick(side_vals, self.side_pick)
                    if voted is not None:
                        self._votes[voted] += 1
                        self._vote_log.append((t_s, v, voted))
            for i, vals in enumerate(check_vals):
                for s, ok in vals.items():
                    if ok is True:
                        self._check_any[i][s] = True
                    elif ok is False:
                        self._check_all[i][s] = False
            if v < exit_:
                if self._below_since is None:
                    self._below_since = t_s
                if t_s - self._below_since >= self.debounce_s:
                    events.append(self._finish(t_s, self._below_since))
            else:
                self._below_since = None
        return events

    def finish(self, t_s: float) -> list[Event]:
        """End of input: a rep on its way back counts.

        A rep still in progress counts when the signal has come back at least half way
        from its peak toward ``exit`` (the recording ended during the return); otherwise
        it is reported as ``rep_rejected`` with the tag ``incomplete``.
        """
        if not self._active or self._last_valid is None:
            return []
        back = self._peak - max(self._last_v, self._s * self.exit)
        if back >= 0.5 * (self._peak - self._s * self.exit):
            return [self._finish(t_s, self._last_valid)]
        self._active = False
        return [Event(EventKind.REP_REJECTED, t_s, self.side, self.name,
                      {"start_s": self._rep_start, "end_s": self._last_valid,
                       "peak": self._s * self._peak, "reason": "incomplete"},
                      ("incomplete",))]

    def _finish(self, t_s: float, t_end: float) -> Event:
        self._active = False
        self._t_rest = t_s
        self._above_since = None
        side = self.fixed_side
        if side is None and self._side_by:
            side = self._voted_side()
        duration = t_end - self._rep_start
        checks: dict[str, bool | None] = {}
        for i, c in enumerate(self.checks):
            exprs = self._check_exprs[i]
            key = None if None in exprs else side
            if key not in exprs:
                checks[c.name] = None
                continue
            if c.mode == "any":
                checks[c.name] = self._check_any[i][key]
            elif c.mode == "all":
                checks[c.name] = self._check_all[i][key]
            else:
                checks[c.name] = self._check_peak[i][key]
        data = {"start_s": self._rep_start, "end_s": t_end, "duration_s": duration,
                "peak": self._s * self._peak, "peak_s": self._peak_t}
        if duration < self.min_duration_s or duration > self.max_duration_s:
            reason = "too_fast" if duration < self.min_duration_s else "too_slow"
            return Event(EventKind.REP_REJECTED, t_s, side, self.name,
                         {**data, "reason": reason}, (reason,))
        if checks:
            data["checks"] = checks
        tags = tuple(f"no-{k}" for k, ok in checks.items() if ok is False)
        if duration < self.fast_s:
            tags += ("fast",)
        ev = Event(EventKind.REP, t_s, side, self.name, data, tags)
        self._reps.append(ev)
        return ev


class HoldTimer:
    """Times a held position: enter/stay conditions, form condition, grace for lapses.

    The hold starts when ``enter`` has been true for ``debounce_s`` (from the first true
    sample) and ends when ``stay`` (default: ``enter``) has been false or unknown for
    longer than ``grace_s`` (at the first such sample). Its ``duration_s`` counts only
    the time when ``stay`` **and** ``form`` were true (left Riemann sum over frame
    intervals, each capped at ``max_dt_s``); a stretch where they are unknown (pose lost,
    shorter than ``grace_s``) counts only if the hold then resumes in good form.
    ``good_form`` is false when the form condition failed for longer than ``grace_s``
    at some point of the hold. A hold shorter than ``min_hold_s`` is rejected; one whose
    duration reaches ``target_s`` (> 0) emits ``hold_target`` once.

    Args:
        enter, stay, form: condition expressions (``form`` empty = always good).
        debounce_s, grace_s, min_hold_s, target_s, max_dt_s: seconds.
        side: fixed side for ``{side}`` expressions, or ``None``.
        phase: name of the position (e.g. ``"in"``/``"out"``), put on the events.
        name: counter name put on the events.
    """

    def __init__(self, enter: str, stay: str = "", form: str = "", *,
                 debounce_s: float = 0.0, grace_s: float = 0.5, min_hold_s: float = 0.0,
                 target_s: float = 0.0, max_dt_s: float = 0.25, side: str | None = None,
                 phase: str = "", name: str = "hold") -> None:
        for src in (enter, stay, form):
            if has_side(src) and side is None:
                raise ValueError(f"{src!r} has {{side}}: give side='left' or 'right'")
        self.name, self.phase, self.fixed_side = name, phase, side
        self.debounce_s, self.grace_s = debounce_s, grace_s
        self.min_hold_s, self.target_s, self.max_dt_s = min_hold_s, target_s, max_dt_s
        where = f"{name}.{phase}" if phase else name
        self._enter = compile_expr(enter, side, f"{where}.enter")
        self._stay = compile_expr(stay, side, f"{where}.stay") if stay else None
        self._form = compile_expr(form, side, f"{where}.form") if form else None
        self.reset()

    @property
    def holds(self) -> tuple[Event, ...]:
        """Finished holds (events)."""
        return tuple(self._holds)

    @property
    def count(self) -> int:
        """Finished holds."""
        return len(self._holds)

    @property
    def active(self) -> bool:
        """A hold is in progress and the position is held (not in a lapse)."""
        return self._holding and self._lapse is None

    @property
    def side(self) -> str | None:
        """This timer's side."""
        return self.fixed_side

    @property
    def elapsed_s(self) -> float:
        """Good-form time of the hold in progress (0 when none), s."""
        return self._good if self._holding else 0.0

    def reset(self) -> None:
        """Back to the initial state."""
        for e in (self._enter, self._stay, self._form):
            if e is not None:
                e.reset()
        self._holds: list[Event] = []
        self._holding = False
        self._pending: float | None = None
        self._good = 0.0
        self._bad_form_s = 0.0
        self._prev_t: float | None = None
        self._prev_cls = "out"
        self._unknown = 0.0
        self._lapse: float | None = None
        self._bad_since: float | None = None
        self._good_form = True
        self._target_sent = False
        self._start = math.nan

    @staticmethod
    def _classify(pos: bool | None, form: bool | None) -> str:
        if pos is False:
            return "out"
        if pos is None or form is None:
            return "unknown"
        return "good" if form else "bad"

    def _account(self, dt: float, now: str) -> None:
        """Credit the interval since the previous sample to the previous sample's class;
        time of an unknown stretch (pose lost) is credited once the hold resumes in good
        form, and dropped otherwise."""
        prev = self._prev_cls
        if prev == "good":
            self._good += dt
        elif prev == "bad":
            self._bad_form_s += dt
        elif prev == "unknown":
            self._unknown += dt
        if now == "good":
            self._good += self._unknown
            self._unknown = 0.0
        elif now in ("bad", "out"):
            self._unknown = 0.0

    def update(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one frame; returns the events it completed."""
        e = truth(self._enter(t_s, row))
        p = truth(self._stay(t_s, row)) if self._stay is not None else e
        f = truth(self._form(t_s, row)) if self._form is not None else True
        dt = 0.0 if self._prev_t is None else min(t_s - self._prev_t, self.max_dt_s)
        self._prev_t = t_s
        events: list[Event] = []
        if not self._holding:
            if e is True:
                if self._pending is None:
                    self._pending, self._good, self._bad_form_s = t_s, 0.0, 0.0
                    self._unknown = 0.0
                    self._prev_cls = "out"
                self._account(dt, self._classify(e, f))
                if t_s - self._pending >= self.debounce_s:
                    self._holding = True
                    self._start = self._pending
                    self._lapse = self._bad_since = None
                    self._good_form, self._target_sent = True, False
            elif e is None and self._pending is not None and \
                    t_s - self._pending < self.debounce_s + self.grace_s:
                self._account(dt, "unknown")  # pose lost while settling in: keep waiting
            else:
                self._pending = None
            self._prev_cls = self._classify(e, f)
            if not self._holding:
                return events
            p = e  # the entering frame: stay == enter
        else:
            self._account(dt, self._classify(p, f))
        if p is True:
            self._lapse = None
        else:
            if self._lapse is None:
                self._lapse = t_s
            if t_s - self._lapse > self.grace_s:
                events.append(self._finish(t_s, self._lapse))
                self._prev_cls = "out"
                return events
        if f is False and p is True:
            if self._bad_since is None:
                self._bad_since = t_s
            if t_s - self._bad_since > self.grace_s:
                self._good_form = False
        elif f is True:
            self._bad_since = None
        if self.target_s > 0 and not self._target_sent and self._good >= self.target_s:
            self._target_sent = True
            events.append(Event(EventKind.HOLD_TARGET, t_s, self.fixed_side, self.name,
                                {"start_s": self._start, "duration_s": self._good,
                                 "phase": self.phase}))
        self._prev_cls = self._classify(p, f)
        return events

    def finish(self, t_s: float) -> list[Event]:
        """End a hold still in progress at the end of the input."""
        if not self._holding:
            return []
        end = self._lapse if self._lapse is not None else t_s
        return [self._finish(t_s, end)]

    def _finish(self, t_s: float, t_end: float) -> Event:
        self._holding = False
        self._pending = None
        data = {"start_s": self._start, "end_s": t_end, "duration_s": self._good,
                "good_form": self._good_form, "bad_form_s": self._bad_form_s,
                "phase": self.phase}
        if self._good < self.min_hold_s:
            return Event(EventKind.HOLD_REJECTED, t_s, self.fixed_side, self.name,
                         {**data, "reason": "too_short"}, ("too_short",))
        tags = () if self._good_form else ("bad_form",)
        ev = Event(EventKind.HOLD, t_s, self.fixed_side, self.name, data, tags)
        self._holds.append(ev)
        return ev


class SideStepCounter:
    """Counts side steps from the lateral positions of the two feet.

    ``left_foot`` / ``right_foot`` are expressions giving each foot's position along the
    subject's own left (body scales, + = toward the subject's left; e.g.
    ``"ankle_x_left * facing"``). With ``s = left - right`` the stance width:

    * **narrow** (stance): ``s`` is tracked down to its minimum ``s0``; when
      ``s > s0 + open`` for ``debounce_s`` the stance has opened: the **lead** foot is the
      one that moved more since the narrow stance, and sets the direction (left foot
      out = travelling left, right foot out = travelling right);
    * **wide**: ``s`` is tracked up to its maximum ``s1``; when it closes by
      ``close_fraction * (s1 - s0)`` (for ``debounce_s``) the trailing foot has come in.
      It is a step when the trailing foot moved toward the travel direction by at least
      ``follow_fraction`` of the lead foot's displacement (otherwise the lead foot came
      back: a tap, not a step). Steps outside ``min_duration_s..max_duration_s`` (lead
      out to trail in) are rejected (``too_fast``/``too_slow``); counted steps shorter
      than ``fast_s`` carry the tag ``fast``.

    Missing samples: a gap longer than ``max_gap_s`` forgets a narrow stance, but an
    open one is kept until ``max_duration_s`` after it opened, so a step whose trailing
    foot came in while the feet were not measured (the lead foot at the picture's edge)
    still closes when they are seen again. When the feet come back from such a gap with
    a foot moved by more than ``open`` and no step comes of it (no open stance, or the
    open one closes as a tap or is rejected or forgotten), a step may have been made out
    of sight: the time is kept in :attr:`unseen` (the recording's verdict refuses the
    view: the walk leaves the picture).

    Events ``step`` carry ``side`` = the direction of travel (the subject's own) and, in
    the units of the foot expressions, ``opening`` (the step width: widest minus
    narrowest stance), ``narrow`` (the stance before the step), ``lead`` and ``travel``
    (the lead and trailing feet's displacements).
    """

    def __init__(self, left_foot: str, right_foot: str, *, open: float,
                 close_fraction: float = 0.5, follow_fraction: float = 0.5,
                 debounce_s: float = 0.0, min_duration_s: float = 0.0,
                 max_duration_s: float = INF, max_gap_s: float = 0.5,
                 fast_s: float = 0.0, name: str = "step") -> None:
        if open <= 0:
            raise ValueError(f"open must be positive, got {open}")
        if not 0 < close_fraction <= 1 or not 0 < follow_fraction <= 1:
            raise ValueError("close_fraction and follow_fraction must be in (0, 1]")
        self.name = name
        self.open, self.close_fraction, self.follow_fraction = open, close_fraction, \
            follow_fraction
        self.debounce_s, self.max_gap_s = debounce_s, max_gap_s
        self.min_duration_s, self.max_duration_s = min_duration_s, max_duration_s
        self.fast_s = fast_s
        self._left = compile_expr(left_foot, None, f"{name}.left_foot")
        self._right = compile_expr(right_foot, None, f"{name}.right_foot")
        self.reset()

    @property
    def counts(self) -> dict[str, int]:
        """Steps per direction of travel ``{"left", "right"}``."""
        out = {"left": 0, "right": 0}
        for ev in self._steps:
            out[ev.side or "left"] += 1
        return out

    @property
    def count(self) -> int:
        """All steps."""
        return len(self._steps)

    @property
    def steps(self) -> tuple[Event, ...]:
        """The counted steps' events."""
        return tuple(self._steps)

    @property
    def active(self) -> bool:
        """The stance is open (a step in progress)."""
        return self._wide

    @property
    def unseen(self) -> tuple[float, ...]:
        """Times (s) the feet came back from a gap in the measurement having moved by
        more than ``open`` outside an open stance: a step may have gone uncounted."""
        return tuple(self._unseen)

    @property
    def side(self) -> str | None:
        """Direction of the step in progress."""
        return self._dir if self._wide else None

    def reset(self) -> None:
        """Back to the initial state."""
        self._left.reset()
        self._right.reset()
        self._steps: list[Event] = []
        self._state = "start"
        self._wide = False
        self._s0 = INF
        self._ref = (math.nan, math.nan)
        self._s1 = -INF
        self._at_max = (math.nan, math.nan)
        self._since: float | None = None
        self._t_open = math.nan
        self._t_first = math.nan
        self._dir: str | None = None
        self._last_valid: float | None = None
        self._last_feet = (math.nan, math.nan)
        self._unseen: list[float] = []
        self._pending: float | None = None

    def update(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one frame; returns the events it completed."""
        ul, ur = self._left(t_s, row), self._right(t_s, row)
        events: list[Event] = []
        if ul != ul or ur != ur:
            # an open stance survives a longer gap (the feet are compared in the same
            # fixed-camera frame when they reappear): the trailing foot often closes the
            # step while the lead foot is out at the edge of the picture
            if self._last_valid is not None and t_s - self._last_valid > self.max_gap_s \
                    and not (self._wide and t_s - self._t_open <= self.max_duration_s):
                self.reset_stance()
            return events
        if self._last_valid is not None and t_s - self._last_valid > self.max_gap_s \
                and max(abs(ul - self._last_feet[0]), abs(ur - self._last_feet[1])) > self.open:
            if self._wide:  # the trailing foot may have come in unseen: fine if it counts
                self._pending = t_s
            else:
                self._unseen.append(t_s)
        self._last_valid, self._last_feet = t_s, (ul, ur)
        s = ul - ur
        if self._state == "wide":
            return self._update_wide(t_s, s, ul, ur)
        if s < self._s0:
            self._s0, self._ref = s, (ul, ur)
        if self._state == "start":
            if math.isnan(self._t_first):
                self._t_first = t_s
            if s > self._s1:
                self._s1, self._at_max = s, (ul, ur)
            if self._s1 - s > self.open and s <= self._s0 + 1e-12:
                events.extend(self._start_closed(t_s, ul, ur))
                return events
        if s > self._s0 + self.open:
            if self._since is None:
                self._since = t_s
            if t_s - self._since >= self.debounce_s:
                dl, dr = ul - self._ref[0], ur - self._ref[1]
                self._dir = "left" if abs(dl) >= abs(dr) else "right"
                self._state, self._wide = "wide", True
                self._t_open, self._since = self._since, None
                self._s1, self._at_max = s, (ul, ur)
        else:
            self._since = None
        return events

    def reset_stance(self) -> None:
        """Forget the stance (after the pose was lost): the next stance starts afresh."""
        if self._pending is not None:
            self._unseen.append(self._pending)
            self._pending = None
        self._state, self._wide, self._since = "start", False, None
        self._s0, self._s1, self._t_first = INF, -INF, math.nan

    def _start_closed(self, t_s: float, ul: float, ur: float) -> list[Event]:
        """The input began with the stance open and it has closed: the second half of a
        step whose lead foot went out before the first frame."""
        dl, dr = ul - self._at_max[0], ur - self._at_max[1]
        # the trailing foot moved in; the lead foot is on the side of travel
        direction = "left" if abs(dr) >= abs(dl) else "right"
        trail = dr if direction == "left" else -dl
        self._state, self._since = "narrow", None
        self._s0, self._ref = ul - ur, (ul, ur)
        if trail < self.follow_fraction * self.open:
            return []
        return [Event(EventKind.STEP_PARTIAL, t_s, direction, self.name,
                      {"start_s": self._t_first, "end_s": t_s, "travel": trail,
                       "reason": "started_open"}, ("started_open",))]

    def _update_wide(self, t_s: float, s: float, ul: float, ur: float) -> list[Event]:
        if s > self._s1:
            self._s1, self._at_max = s, (ul, ur)
        if s < self._s1 - self.close_fraction * (self._s1 - self._s0):
            if self._since is None:
                self._since = t_s
            if t_s - self._since >= self.debounce_s:
                return self._close(t_s, ul, ur)
        else:
            self._since = None
        return []

    def finish(self, t_s: float) -> list[Event]:
        """End of input: a step whose lead foot is out but whose trailing foot has not
        followed is reported as ``step_partial`` (not counted)."""
        if self._state != "wide":
            return []
        self._state, self._wide = "narrow", False
        return [Event(EventKind.STEP_PARTIAL, t_s, self._dir, self.name,
                      {"start_s": self._t_open, "end_s": t_s, "reason": "ended_open"},
                      ("ended_open",))]

    def _close(self, t_s: float, ul: float, ur: float) -> list[Event]:
        travel_left = self._dir == "left"
        lead = (self._at_max[0] - self._ref[0]) if travel_left else \
            (self._ref[1] - self._at_max[1])
        trail = (ur - self._ref[1]) if travel_left else (self._ref[0] - ul)
        t_end = self._since if self._since is not None else t_s
        duration = t_end - self._t_open
        data = {"start_s": self._t_open, "end_s": t_end, "duration_s": duration,
                "opening": self._s1 - self._s0, "narrow": self._s0, "lead": lead,
                "travel": trail}
        self._state, self._wide, self._since = "narrow", False, None
        self._s0, self._ref = ul - ur, (ul, ur)
        pending, self._pending = self._pending, None
        if lead <= 0 or trail < self.follow_fraction * lead:
            if pending is not None:  # the feet moved out of sight and no step came of it
                self._unseen.append(pending)
            return []  # the lead foot came back: a tap, not a step
        if duration < self.min_duration_s or duration > self.max_duration_s:
            reason = "too_fast" if duration < self.min_duration_s else "too_slow"
            if pending is not None:
                self._unseen.append(pending)
            return [Event(EventKind.REP_REJECTED, t_s, self._dir, self.name,
                          {**data, "reason": reason}, (reason,))]
        ev = Event(EventKind.STEP, t_s, self._dir, self.name, data,
                   ("fast",) if duration < self.fast_s else ())
        self._steps.append(ev)
        return [ev]


class SideTimer:
    """Time spent in a position, per side.

    Time accumulates while ``active`` is true and the side is known: the side is the one
    whose ``side_by`` value (an expression with ``{side}``) is the largest
    (``side_pick="max"``) or smallest. A bout on one side ends when the other side has
    led for ``debounce_s`` or the position has been left for longer than ``grace_s``;
    it emits ``side_time`` when it lasted at least ``min_s``, and ``timer_target`` once
    when its time reaches ``target_s`` (> 0). Frames without a pose inside a bout count
    for the bout when it resumes on the same side.
    """

    def __init__(self, active: str, side_by: str, *, side_pick: str = "max",
                 debounce_s: float = 0.5, grace_s: float = 1.0, min_s: float = 0.0,
                 target_s: float = 0.0, max_dt_s: float = 0.25, name: str = "timer") -> None:
        if not has_side(side_by):
            raise ValueError(f"side_by {side_by!r} must use {{side}}")
        if side_pick not in ("max", "min"):
            raise ValueError(f"side_pick must be 'max' or 'min', got {side_pick!r}")
        self.name, self.side_pick = name, side_pick
        self.debounce_s, self.grace_s, self.min_s = debounce_s, grace_s, min_s
        self.target_s, self.max_dt_s = target_s, max_dt_s
        self._active = compile_expr(active, None, f"{name}.active")
        self._side_by = {s: compile_expr(side_by, s, f"{name}.side_by") for s in SIDES}
        self.reset()

    @property
    def active(self) -> bool:
        """A bout is in progress."""
        return self._side is not None

    @property
    def side(self) -> str | None:
        """Side of the bout in progress."""
        return self._side

    @property
    def elapsed_s(self) -> float:
        """Time of the bout in progress, s."""
        return self._time if self._side is not None else 0.0

    def reset(self) -> None:
        """Back to the initial state."""
        self._active.reset()
        for e in self._side_by.values():
            e.reset()
        self._bouts: list[Event] = []
        self._side: str | None = None
        self._start = math.nan
        self._time = 0.0
        self._prev_t: float | None = None
        self._prev_ok = False
        self._prev_unknown = False
        self._unknown = 0.0
        self._other_since: float | None = None
        self._off_since: float | None = None
        self._target_sent = False

    def update(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one frame; returns the events it completed."""
        on = truth(self._active(t_s, row))
        side = _pick({s: e(t_s, row) for s, e in self._side_by.items()}, self.side_pick)
        dt = 0.0 if self._prev_t is None else min(t_s - self._prev_t, self.max_dt_s)
        self._prev_t = t_s
        events: list[Event] = []
        ok = on is True and side is not None
        if self._side is not None:
            # the interval since the last frame goes to the last frame's state; an unknown
            # stretch (pose lost) is credited when the same side resumes
            if self._prev_ok:
                self._time += dt
            elif self._prev_unknown:
                self._unknown += dt
            if ok and side == self._side:
                self._time += self._unknown
                self._unknown = 0.0
            elif on is not None and side is not None:
                self._unknown = 0.0
        self._prev_unknown = on is None or side is None
        if self._side is None:
            if ok:
                self._side, self._start, self._time = side, t_s, 0.0
                self._target_sent = False
                self._other_since = self._off_since = None
            self._prev_ok = ok
            return events
        if ok and side == self._side:
            self._other_since = self._off_since = None
        elif ok:
            self._off_since = None
            if self._other_since is None:
                self._other_since = t_s
            if t_s - self._other_since >= self.debounce_s:
                events.extend(self._end(t_s, self._other_since))
                self._side, self._start = side, self._other_since
                self._time = t_s - self._other_since
                self._target_sent = False
                self._other_since = None
        else:
            if self._off_since is None:
                self._off_since = t_s
            if t_s - self._off_since > self.grace_s:
                events.extend(self._end(t_s, self._off_since))
                self._side = None
        if self._side is not None and self.target_s > 0 and not self._target_sent \
                and self._time >= self.target_s:
            self._target_sent = True
            events.append(Event(EventKind.TIMER_TARGET, t_s, self._side, self.name,
                                {"start_s": self._start, "duration_s": self._time}))
        self._prev_ok = ok and side == self._side
        return events

    def finish(self, t_s: float) -> list[Event]:
        """End the bout in progress at the end of the input."""
        if self._side is None:
            return []
        end = self._off_since if self._off_since is not None else t_s
        out = self._end(t_s, end)
        self._side = None
        return out

    def _end(self, t_s: float, t_end: float) -> list[Event]:
        if self._time < self.min_s:
            return []
        ev = Event(EventKind.SIDE_TIME, t_s, self._side, self.name,
                   {"start_s": self._start, "end_s": t_end, "duration_s": self._time})
        self._bouts.append(ev)
        return [ev]


class StepdownRepCounter:
    """Reps of the step-down movement (heel taps), segmented by the step-down test's own
    streaming segmenter (:class:`itbcoach.scoring.segmentation.StepdownSegmenter`), one
    per stance leg.

    The segmenter arms on stable standing, follows the free heel's depth below the stance
    foot, and disarms when the stance foot moves (stepping on or off the step), so
    stepping up and down is never a rep. Its ``"rep"`` events become ``rep`` (side = the
    stance leg), ``"partial"`` ones ``rep_rejected`` with the tag ``partial``.

    Args:
        depth, foot_x, foot_y, hip_y: expressions with ``{side}`` = the stance leg giving
            the segmenter's inputs in torso lengths (image axes, y down).
        params: the segmenter's thresholds
            (the ``[stepdown]`` section).
    """

    def __init__(self, depth: str, foot_x: str, foot_y: str, hip_y: str, params: object,
                 name: str = "stepdown") -> None:
        from itbcoach.scoring.segmentation import StepdownSegmenter

        self.name = name
        self._exprs = {s: tuple(compile_expr(src, s if has_side(src) else None,
                                             f"{name}.{key}")
                                for key, src in (("depth", depth), ("foot_x", foot_x),
                                                 ("foot_y", foot_y), ("hip_y", hip_y)))
                       for s in SIDES}
        self._seg = {s: StepdownSegmenter(params) for s in SIDES}  # type: ignore[arg-type]
        self.reset()

    @property
    def count(self) -> int:
        """Reps counted."""
        return len(self._reps)

    @property
    def reps(self) -> tuple[Event, ...]:
        """The counted reps' events."""
        return tuple(self._reps)

    @property
    def active(self) -> bool:
        """A rep is under way on either leg."""
        return self.side is not None

    @property
    def side(self) -> str | None:
        """Stance leg of the rep under way: one that has gone at least ``min_depth``
        down (a shallow dip of the wrong stance hypothesis, e.g. the free foot lifted at
        the top, is not a rep under way)."""
        for s in SIDES:
            if self._deep[s]:
                return s
        return None

    def reset(self) -> None:
        """Back to the initial state."""
        for exprs in self._exprs.values():
            for e in exprs:
                e.reset()
        for seg in self._seg.values():
            seg.reset()
        self._reps: list[Event] = []
        self._index = 0
        self._deep = dict.fromkeys(SIDES, False)

    def update(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one frame; returns the events it completed."""
        from itbcoach.scoring.segmentation import State, StepSample

        events: list[Event] = []
        for s, seg in self._seg.items():
            d, fx, fy, hy = (e(t_s, row) for e in self._exprs[s])
            events.extend(self._convert(s, t_s, seg.update(self._index,
                                                           StepSample(t_s, d, fx, fy, hy))))
            base = seg.baseline_depth
            if seg.state is not State.DOWN or base is None:
                self._deep[s] = False
            elif d - base >= seg.params.min_depth:
                self._deep[s] = True
        self._index += 1
        return events

    def finish(self, t_s: float) -> list[Event]:
        """End of input (a rep cut by the end is not counted)."""
        out: list[Event] = []
        for s, seg in self._seg.items():
            out.extend(self._convert(s, t_s, seg.flush()))
        return out

    def _convert(self, side: str, t_s: float, raw: list) -> list[Event]:
        out = []
        for ev in raw:
            data = {"start_s": ev.start_s, "end_s": ev.end_s, "bottom_s": ev.bottom_s,
                    "duration_s": ev.end_s - ev.start_s, "peak": ev.depth,
                    "hip_descent": ev.hip_descent}
            if ev.kind == "rep":
                e = Event(EventKind.REP, t_s, side, self.name, data)
                self._reps.append(e)
            else:
                e = Event(EventKind.REP_REJECTED, t_s, side, self.name,
                          {**data, "reason": ev.reason}, (ev.kind,))
            out.append(e)
        return out
