"""Streaming rep segmentation of the lateral step-down, one stance leg per segmenter.

The signal is the **depth**: how far the free heel is below the stance foot in the image,
in body scales (torso lengths), + = lower. Standing on the step it sits near a baseline
(the free foot hangs about level with the step); at the bottom of a rep the free heel
touches the floor, one step height lower (~0.4 body scales for a 20 cm step). Standing on
the floor on both feet, squatting, lunging or stepping sideways keep it near 0 or make it
negative, so none of them can look like a rep.

States::

    WAIT --(stable standing for settle_s)--> STANDING --(depth > base + enter)--> DOWN
    DOWN --(depth back < base + exit)--> STANDING   (emits a "rep" or "partial" event,
                                                     or nothing if it was no attempt)
    DOWN --(stance foot moved / pose lost > grace_s / too long)--> WAIT ("aborted")
    STANDING --(stance foot moved)--> WAIT

Time is an input: :meth:`StepdownSegmenter.update` takes one :class:`StepSample` per frame
and returns the events it completed; nothing reads a clock.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import numpy as np

from itbcoach.config.schema import StepdownConfig
from itbcoach.landmarks import Landmark as L

#: ``(heel, toe)`` landmarks of the left and right foot.
_FEET = ((L.LEFT_HEEL, L.LEFT_FOOT_INDEX), (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX))


class FootFill:
    """Puts back a foot's heel or toe that visibility masking removed.

    A planted foot keeps its shape: while one of its two points is missing, the other
    one plus the heel-to-toe vector last seen with both (at most ``hold_s`` ago) stands
    in for it. Streaming, time an input; one instance per stream.

    Args:
        hold_s: how long a heel-to-toe vector stays usable, s (0 = never fill).
    """

    def __init__(self, hold_s: float) -> None:
        self.hold_s = float(hold_s)
        self._last: list[tuple[float, np.ndarray] | None] = [None, None]

    def __call__(self, t_s: float, px: np.ndarray) -> np.ndarray:
        """``(33, 2)`` pixel landmarks of one frame -> a copy with the feet filled."""
        out = px.copy()
        for side, (heel, toe) in enumerate(_FEET):
            h_ok, t_ok = np.isfinite(px[heel]).all(), np.isfinite(px[toe]).all()
            if h_ok and t_ok:
                self._last[side] = (t_s, px[toe] - px[heel])
                continue
            last = self._last[side]
            if last is None or t_s - last[0] > self.hold_s or not (h_ok or t_ok):
                continue
            if h_ok:
                out[toe] = px[heel] + last[1]
            else:
                out[heel] = px[toe] - last[1]
        return out


@dataclass(frozen=True)
class StepSample:
    """One frame for the segmenter (body scales, image axes: x right, y down).

    Attributes:
        t_s: time, s.
        depth: free heel below the stance foot (NaN = unknown).
        foot_x, foot_y: stance foot position.
        hip_y: hip midpoint height (image y, down).
    """

    t_s: float
    depth: float
    foot_x: float
    foot_y: float
    hip_y: float

    @property
    def valid(self) -> bool:
        """All values known."""
        return all(math.isfinite(v) for v in (self.depth, self.foot_x, self.foot_y,
                                               self.hip_y))


@dataclass(frozen=True)
class RepEvent:
    """A completed rep, a partial one, or an aborted movement.

    Attributes:
        kind: ``"rep"`` (deep enough, counted unless the scorer's relative check says
            otherwise), ``"partial"`` (returned to standing without reaching
            ``min_depth`` or without the hip going down) or ``"aborted"`` (see
            ``reason``).
        start_index, bottom_index, end_index: frame indices (as passed to ``update``).
        start_s, bottom_s, end_s: times, s.
        depth: peak depth above the baseline, body scales.
        hip_descent: peak hip descent below the baseline, body scales.
        baseline_start, baseline_end: frame range ``[start, end)`` of the standing
            baseline.
        reason: why a movement was aborted or partial ("" for reps).
    """

    kind: Literal["rep", "partial", "aborted"]
    start_index: int
    bottom_index: int
    end_index: int
    start_s: float
    bottom_s: float
    end_s: float
    depth: float
    hip_descent: float
    baseline_start: int
    baseline_end: int
    reason: str = ""


class State(Enum):
    """Segmenter states."""

    WAIT = "wait"
    STANDING = "standing"
    DOWN = "down"


@dataclass
class _Frame:
    index: int
    t: float
    depth: float
    foot_x: float
    foot_y: float
    hip_y: float


class StepdownSegmenter:
    """Streaming segmenter for one stance leg (see the module docstring).

    Args:
        params: the ``[stepdown]`` section; the segmenter reads ``enter_depth``,
            ``exit_depth``, ``start_tol`` and ``min_depth`` (body scales above the standing
            baseline), ``min_hip_descent``, ``stable_tol``, ``standing_depth_max`` and
            ``foot_tol`` (body scales), ``settle_s``, ``grace_s``, ``max_rep_s`` and
            ``baseline_s`` (seconds); see ``defaults.toml`` for what each means.
    """

    def __init__(self, params: StepdownConfig) -> None:
        self.params = params
        self.reset()

    def reset(self) -> None:
        """Forget everything (state WAIT)."""
        self._state = State.WAIT
        self._recent: deque[_Frame] = deque()  # valid frames within settle/baseline window
        self._base: tuple[float, float, float, float] | None = None  # depth, fx, fy, hip
        self._base_range = (0, 0)
        self._anchor = 0.0  # standing depth when armed: the baseline never creeps above it
        self._rebase = False  # a rep just ended: the next stable window may re-set it
        self._rep: list[_Frame] = []
        self._lost_since: float | None = None
        self._last_t: float | None = None
        self._reps = 0

    @property
    def state(self) -> State:
        """Current state."""
        return self._state

    @property
    def count(self) -> int:
        """Reps emitted so far (kind ``"rep"``)."""
        return self._reps

    @property
    def baseline_depth(self) -> float | None:
        """Standing depth baseline, body scales (None until armed)."""
        return None if self._base is None else self._base[0]

    @property
    def oldest_needed(self) -> int | None:
        """Index of the oldest frame a rep in progress (or the next one) may refer to:
        its baseline window or its start (None while unarmed)."""
        if self._base is None:
            return None
        first = self._base_range[0]
        return min(first, self._rep[0].index) if self._rep else first

    # -- internals ---------------------------------------------------------------------
    def _window(self, seconds: float) -> list[_Frame]:
        if not self._recent:
            return []
        t_end = self._recent[-1].t
        return [f for f in self._recent if f.t >= t_end - seconds - 1e-9]

    def _set_baseline(self) -> None:
        win = self._window(self.params.baseline_s)
        if len(win) < 2:
            return
        arr = np.array([(f.depth, f.foot_x, f.foot_y, f.hip_y) for f in win])
        med = np.median(arr, axis=0)
        self._base = (float(med[0]), float(med[1]), float(med[2]), float(med[3]))
        self._base_range = (win[0].index, win[-1].index + 1)

    def _stable(self) -> bool:
        p = self.params
        if not self._recent or self._recent[-1].t - self._recent[0].t < p.settle_s - 1e-9:
            return False
        win = self._window(p.settle_s)
        depth = [f.depth for f in win]
        fx = [f.foot_x for f in win]
        fy = [f.foot_y for f in win]
        return (max(depth) - min(depth) <= p.stable_tol
                and abs(float(np.median(depth))) <= p.standing_depth_max
                and max(fx) - min(fx) <= p.foot_tol and max(fy) - min(fy) <= p.foot_tol)

    def _foot_moved(self, f: _Frame) -> bool:
        assert self._base is not None
        return math.hypot(f.foot_x - self._base[1], f.foot_y - self._base[2]) > \
            self.params.foot_tol

    def _disarm(self) -> None:
        self._state = State.WAIT
        self._base = None
        self._recent.clear()
        self._rep = []

    def _finish(self, kind: str, reason: str, end: _Frame | None = None) -> RepEvent:
        assert self._base is not None
        p = self.params
        frames = self._rep
        base_d, _, _, base_hip = self._base
        depths = np.array([f.depth for f in frames])
        peak = float(depths.max()) - base_d
        # bottom: first frame within a small tolerance of the deepest point
        near = np.flatnonzero(depths >= depths.max() - max(p.start_tol * 0.5, 0.05 * peak))
        bottom = frames[int(near[0])]
        hip = float(max(f.hip_y for f in frames)) - base_hip
        last = end or frames[-1]
        if kind == "done":
            if peak >= p.min_depth and hip >= p.min_hip_descent:
                kind, reason = "rep", ""
                self._reps += 1
            else:
                kind = "partial"
                reason = (f"the heel went down {peak:.2f} body scales "
                          f"(a rep needs {p.min_depth:.2f})" if peak < p.min_depth else
                          f"the hip went down only {hip:.2f} body scales "
                          f"(a rep needs {p.min_hip_descent:.2f})")
        b0, b1 = self._base_range
        b1 = min(b1, frames[0].index)
        return RepEvent(kind, frames[0].index, bottom.index, last.index, frames[0].t,
                        bottom.t, last.t, peak, hip, min(b0, b1), b1,
                        reason)  # type: ignore[arg-type]

    def _attempted(self) -> bool:
        """The movement looked like a step-down at all: the free heel went below the
        stance foot (not just lower than it hung) and the hip went down by at least half
        a rep's descent. Anything else (the free foot swinging, the other leg's reps seen
        from this leg's side) is not reported."""
        assert self._base is not None
        p = self.params
        deepest = max(f.depth for f in self._rep)
        hip = max(f.hip_y for f in self._rep) - self._base[3]
        return deepest >= p.enter_depth and hip >= 0.5 * p.min_hip_descent

    # -- public ------------------------------------------------------------------------
    def update(self, index: int, sample: StepSample) -> list[RepEvent]:
        """Feed one frame; returns the events completed by it (usually none).

        Args:
            index: frame index (carried into the events).
            sample: the frame's values; NaNs mean the pose (or a needed point) is lost.
        """
        p = self.params
        if self._last_t is not None and sample.t_s <= self._last_t:
            raise ValueError("sample times must increase")
        self._last_t = sample.t_s
        events: list[RepEvent] = []
        if not sample.valid:
            if self._lost_since is None:
                self._lost_since = sample.t_s
            if sample.t_s - self._lost_since > p.grace_s:
                if self._state is State.DOWN and self._rep:
                    events.append(self._finish("aborted", "the pose was lost mid-rep"))
                if self._state is not State.WAIT:
                    self._disarm()
            return events
        self._lost_since = None
        f = _Frame(index, sample.t_s, sample.depth, sample.foot_x, sample.foot_y,
                   sample.hip_y)

        if self._state is State.DOWN:
            assert self._base is not None
            self._rep.append(f)
            rel = f.depth - self._base[0]
            if self._foot_moved(f):
                events.append(self._finish(
                    "aborted", "the stance foot moved (stepping off or changing legs)"))
                self._disarm()
                self._recent.append(f)
                return events
            if f.t - self._rep[0].t > p.max_rep_s:
                events.append(self._finish("aborted", f"longer than {p.max_rep_s:g} s"))
                self._disarm()
                self._recent.append(f)
                return events
            peak = max(x.depth for x in self._rep) - self._base[0]
            if rel < p.exit_depth and peak >= p.enter_depth:
                # back up: end where the depth is back near the baseline (or now)
                if self._attempted():
                    events.append(self._finish("done", ""))
                self._state = State.STANDING
                self._rebase = True
                self._recent.clear()
                self._recent.append(f)
            return events

        self._recent.append(f)
        horizon = max(p.settle_s, p.baseline_s) + 0.5
        while self._recent and self._recent[0].t < f.t - horizon:
            self._recent.popleft()

        if self._state is State.WAIT:
            if self._stable():
                self._set_baseline()  # needs 2 frames in the window: sparse live input
                if self._base is not None:
                    self._state = State.STANDING
                    self._anchor = self._base[0]
            return events

        # STANDING
        assert self._base is not None
        if self._foot_moved(f):
            self._disarm()
            self._recent.append(f)
            return events
        rel = f.depth - self._base[0]
        if rel > p.enter_depth:
            # start: the last recent frame still near the baseline, then every frame since
            start = 0
            frames = list(self._recent)
            for i in range(len(frames) - 1, -1, -1):
                if frames[i].depth - self._base[0] <= p.start_tol:
                    start = i
                    break
            self._rep = frames[start:]
            self._state = State.DOWN
            return events
        if self._stable():
            # Refresh the baseline from stable standing. While standing it may only go
            # down (the free foot hanging higher); a slow descent looks "stable" over
            # settle_s and must not drag it along. Once after each rep it may be re-set,
            # up to start_tol above the level at arming.
            win = self._window(p.baseline_s)
            level = float(np.median([w.depth for w in win]))
            if level < self._base[0] or (self._rebase and level <= self._anchor + p.start_tol):
                self._set_baseline()
                self._anchor = min(self._anchor, level)
                self._rebase = False
        return events

    def flush(self) -> list[RepEvent]:
        """End of the recording: a rep still in progress is reported as aborted."""
        events: list[RepEvent] = []
        if self._state is State.DOWN and self._rep:
            events.append(self._finish("aborted", "the recording ended mid-rep"))
        self._disarm()
        return events
