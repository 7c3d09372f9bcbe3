"""Events streamed by the exercise engine (counters, session, cues)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What happened. Values are the ``kind`` strings of the JSON Lines log."""

    REP = "rep"  #: a counted repetition (data: start_s, end_s, duration_s, peak, checks)
    REP_REJECTED = "rep_rejected"  #: a movement too fast / too slow (tags: the reason)
    HOLD = "hold"  #: a finished hold (data: start_s, end_s, duration_s, good_form, phase)
    HOLD_REJECTED = "hold_rejected"  #: a hold shorter than the minimum
    HOLD_TARGET = "hold_target"  #: a hold reached its prescribed duration
    STEP = "step"  #: a side step (side = direction of travel, the subject's own)
    STEP_PARTIAL = "step_partial"  #: half a step cut by the start or end of the input
    SIDE_TIME = "side_time"  #: a timed bout on one side ended (data: duration_s)
    TIMER_TARGET = "timer_target"  #: the time on one side reached the prescription
    SIDE_SWITCH = "side_switch"  #: the working side changed (data: from)
    SET_COMPLETE = "set_complete"  #: a set ended (data: the set's summary)
    REST_OVER = "rest_over"  #: the prescribed rest after a set has elapsed
    CUE = "cue"  #: a coaching message shown (data: text, rule, priority)


@dataclass(frozen=True)
class Event:
    """One thing that happened at ``t_s`` (seconds on the input's clock).

    Attributes:
        kind: :class:`EventKind`.
        t_s: when it happened (for a finished rep/hold: when it was confirmed).
        side: the subject's own ``"left"``/``"right"`` (direction of travel for steps),
            or ``None`` when the event has no side.
        counter: name of the counter that produced it (``"rep"``, ``"hold"``, ...),
            ``"session"`` or ``"cues"``.
        data: kind-specific values (times in seconds).
        tags: short labels cue rules can match (``"too_fast"``, a failed check name...).
    """

    kind: EventKind
    t_s: float
    side: str | None = None
    counter: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: kind, t_s, side, counter, tags, then the data keys."""
        out: dict[str, Any] = {"kind": str(self.kind), "t_s": round(float(self.t_s), 3),
                               "side": self.side, "counter": self.counter}
        if self.tags:
            out["tags"] = list(self.tags)
        for k, v in self.data.items():
            out[k] = round(v, 3) if isinstance(v, float) else v
        return out

    def matches(self, pattern: str) -> bool:
        """``"kind"`` or ``"kind:tag"`` (the pattern syntax of cue rules' ``on``)."""
        kind, _, tag = pattern.partition(":")
        return kind == self.kind and (not tag or tag in self.tags)
