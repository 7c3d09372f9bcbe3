"""Cue rules: conditions on kernel metrics (or events) -> one coaching message at a time.

A rule fires either

* on a **condition** (``when``, an expression, see :mod:`itbcoach.exercises.expr`) that
  has been true for ``min_true_s`` while its ``during`` gate is open (``"always"``,
  ``"set"`` = a set is under way, ``"active"`` = a rep/hold/step is in progress,
  ``"idle"`` = none is), or
* on an **event** (``on = "kind"`` or ``"kind:tag"``, e.g. ``"rep_rejected:too_fast"``,
  ``"rep:no-twist"``, ``"timer_target"``).

Only one cue is on screen at a time: a cue stays at least ``min_show_s``; meanwhile no
other cue is shown (event cues wait up to :data:`EVENT_CUE_TTL_S` for their turn). When
several rules are ready the highest ``priority`` wins (ties: the first rule). A rule
does not fire again within ``min_interval_s`` of its last showing. Rules with
``{side}`` are evaluated for the side being worked (both sides, either one enough,
when no side is known).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from itbcoach.exercises.events import Event, EventKind
from itbcoach.exercises.expr import SIDES, Expr, compile_expr, has_side, truth

GATES = ("always", "set", "active", "idle")

#: An event cue that cannot be shown at once (another cue is on screen) waits this long.
EVENT_CUE_TTL_S = 3.0


@dataclass(frozen=True)
class CueRule:
    """One cue rule (see the module docstring). Times in seconds."""

    name: str
    text: str
    when: str = ""
    on: str = ""
    during: str = "set"
    priority: int = 1
    min_interval_s: float = 5.0
    min_show_s: float = 1.5
    min_true_s: float = 0.3

    def __post_init__(self) -> None:
        if bool(self.when) == bool(self.on):
            raise ValueError(f"cue {self.name!r}: give exactly one of 'when' (a condition) "
                             f"or 'on' (an event)")
        if self.during not in GATES:
            raise ValueError(f"cue {self.name!r}: during must be one of {', '.join(GATES)}, "
                             f"got {self.during!r}")
        if not self.text:
            raise ValueError(f"cue {self.name!r}: text is empty")


class CueEngine:
    """Streams cue rules; ``update`` returns the ``cue`` events shown at this frame."""

    def __init__(self, rules: Sequence[CueRule]) -> None:
        self.rules = tuple(rules)
        self._exprs: list[dict[str | None, Expr]] = []
        for r in self.rules:
            if not r.when:
                self._exprs.append({})
            elif has_side(r.when):
                self._exprs.append({s: compile_expr(r.when, s, f"cues.{r.name}.when")
                                    for s in SIDES})
            else:
                self._exprs.append({None: compile_expr(r.when, None, f"cues.{r.name}.when")})
        self.reset()

    def reset(self) -> None:
        """Forget every state (nothing on screen)."""
        for d in self._exprs:
            for e in d.values():
                e.reset()
        self._true_since: list[dict[str | None, float | None]] = \
            [dict.fromkeys(d) for d in self._exprs]
        self._last_shown: list[float] = [-np.inf] * len(self.rules)
        self._pending: list[tuple[int, float, str | None]] = []  # rule, expiry, side
        self._current: int | None = None
        self._shown_at = -np.inf
        self._shown: list[Event] = []

    @property
    def shown(self) -> tuple[Event, ...]:
        """Every cue event shown so far."""
        return tuple(self._shown)

    def current(self, t_s: float) -> str | None:
        """Text on screen at ``t_s`` (the last cue, for ``min_show_s``), else ``None``."""
        if self._current is None:
            return None
        rule = self.rules[self._current]
        return rule.text if t_s < self._shown_at + rule.min_show_s else None

    def update(self, t_s: float, row: np.ndarray, *, gates: Mapping[str, bool],
               side: str | None = None, events: Sequence[Event] = ()) -> list[Event]:
        """Feed one frame.

        Args:
            t_s: frame time, s.
            row: metric vector ``(K,)``.
            gates: which ``during`` gates are open now (``"always"`` is implied).
            side: the side being worked, or ``None``.
            events: the events of this frame (for ``on`` rules).

        Returns:
            The ``cue`` event shown at this frame, if any (at most one).
        """
        ready: list[tuple[int, str | None]] = []
        for i, rule in enumerate(self.rules):
            exprs = self._exprs[i]
            if not exprs:
                for ev in events:
                    if ev.kind != EventKind.CUE and ev.matches(rule.on):
                        self._pending.append((i, t_s + EVENT_CUE_TTL_S, ev.side))
                        break
                continue
            open_ = rule.during == "always" or gates.get(rule.during, False)
            fired_side: str | None = None
            fired = False
            for key, e in exprs.items():
                ok = truth(e(t_s, row)) is True  # evaluated every frame (stateful exprs)
                since = self._true_since[i]
                if ok:
                    if since[key] is None:
                        since[key] = t_s
                else:
                    since[key] = None
                relevant = key is None or side is None or key == side
                if open_ and relevant and since[key] is not None \
                        and t_s - since[key] >= rule.min_true_s:
                    fired, fired_side = True, (key if key is not None else side)
            if fired:
                ready.append((i, fired_side))
        self._pending = [p for p in self._pending if p[1] >= t_s]
        ready.extend((i, s) for i, _, s in self._pending)
        if self._current is not None and \
                t_s < self._shown_at + self.rules[self._current].min_show_s:
            return []
        best: tuple[int, str | None] | None = None
        for i, s in ready:
            rule = self.rules[i]
            if t_s - self._last_shown[i] < rule.min_interval_s:
                continue
            if best is None or rule.priority > self.rules[best[0]].priority:
                best = (i, s)
        if best is None:
            return []
        i, s = best
        rule = self.rules[i]
        self._pending = [p for p in self._pending if p[0] != i]
        self._current, self._shown_at, self._last_shown[i] = i, t_s, t_s
        ev = Event(EventKind.CUE, t_s, s, "cues",
                   {"text": rule.text, "rule": rule.name, "priority": rule.priority})
        self._shown.append(ev)
        return [ev]
