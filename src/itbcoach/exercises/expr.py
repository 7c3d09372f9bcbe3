"""Metric expressions: the small, safe language exercise definitions are written in.

An exercise's TOML names its signals and conditions as expressions over the kernel's
per-frame metrics (:data:`itbcoach.kernel.METRIC_NAMES`), e.g.::

    metric = "max(knee_flexion_left, knee_flexion_right)"
    when   = "knee_ankle_gap_ratio < 0.9 and knee_flexion_{side} > 30"

Grammar (parsed with :mod:`ast`, never evaluated as Python; anything else is rejected):

* numbers, metric names, ``+ - * /``, unary ``-``, parentheses;
* comparisons ``< <= > >=`` (chains allowed) -> 1.0 / 0.0;
* ``and``, ``or``, ``not`` over conditions (Kleene logic: NaN = unknown);
* functions: ``abs(x)``, ``sign(x)``, ``min(a, b, ...)``, ``max(...)``, ``mean(...)``
  (these three ignore NaN arguments; NaN only when all are NaN), ``clip(x, lo, hi)``,
  ``nan_to(x, value)``, and the **streaming** functions, whose state lives in the
  compiled expression and which see every frame (they are never short-circuited):

  - ``ema(x, tau_s)``: exponential moving average with time constant ``tau_s`` seconds;
  - ``rate(x, tau_s)``: time derivative of ``ema(x, tau_s)``, units per second;
  - ``runmax(x, window_s)`` / ``runmin(x, window_s)``: max / min over the last
    ``window_s`` seconds (NaN samples skipped);
  - ``lag(x, seconds)``: the value of ``x`` about ``seconds`` ago (the newest sample at
    least that old; NaN before).

Placeholders substituted before parsing, for per-side definitions: ``{side}`` ->
``left``/``right``, ``{other}`` -> the opposite side, ``{sign}`` -> ``1``/``-1``
(+1 for the subject's left).

NaN (a missing landmark) propagates through arithmetic; a comparison with NaN is NaN
("unknown"), ``x and NaN`` is NaN unless ``x`` is false, ``x or NaN`` is NaN unless ``x``
is true. Callers decide what unknown means (a lapse for a hold, "no cue" for a cue).
"""

from __future__ import annotations

import ast
import difflib
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from itbcoach.kernel import METRIC_NAMES

NAN = math.nan
SIDES = ("left", "right")
_METRIC_INDEX = {name: i for i, name in enumerate(METRIC_NAMES)}

Fn = Callable[[float, np.ndarray], float]


class ExprError(ValueError):
    """An expression could not be compiled (the message says why, in one line)."""


def substitute(source: str, side: str | None) -> str:
    """Fill the ``{side}``, ``{other}``, ``{sign}`` placeholders for one side."""
    if side is None:
        if has_side(source):
            raise ExprError(f"{source!r} uses {{side}}/{{other}}/{{sign}} but no side is given")
        return source
    if side not in SIDES:
        raise ExprError(f"side must be 'left' or 'right', got {side!r}")
    other = "right" if side == "left" else "left"
    return (source.replace("{side}", side).replace("{other}", other)
            .replace("{sign}", "1" if side == "left" else "-1"))


def has_side(source: str) -> bool:
    """True if ``source`` contains a per-side placeholder."""
    return any(p in source for p in ("{side}", "{other}", "{sign}"))


def _truth(x: float) -> float:
    return NAN if x != x else (1.0 if x != 0.0 else 0.0)


@dataclass
class _Stateful:
    """Base of the streaming function nodes: ``reset()`` clears the state."""

    def reset(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass
class _Ema(_Stateful):
    tau: float
    value: float = NAN
    t: float = NAN

    def reset(self) -> None:
        self.value, self.t = NAN, NAN

    def step(self, t: float, x: float) -> float:
        if x != x:
            return self.value
        if self.value != self.value or self.tau <= 0.0:
            self.value = x
        else:
            dt = max(t - self.t, 0.0)
            a = 1.0 - math.exp(-dt / self.tau)
            self.value += a * (x - self.value)
        self.t = t
        return self.value


@dataclass
class _Rate(_Stateful):
    tau: float
    ema: _Ema = field(init=False)
    prev: float = NAN
    prev_t: float = NAN
    value: float = NAN

    def __post_init__(self) -> None:
        self.ema = _Ema(self.tau)

    def reset(self) -> None:
        self.ema.reset()
        self.prev, self.prev_t, self.value = NAN, NAN, NAN

    def step(self, t: float, x: float) -> float:
        if x != x:
            return NAN
        s = self.ema.step(t, x)
        if self.prev == self.prev and t > self.prev_t:
            self.value = (s - self.prev) / (t - self.prev_t)
        self.prev, self.prev_t = s, t
        return self.value


@dataclass
class _RunExtreme(_Stateful):
    window: float
    sign: float  # +1 max, -1 min
    buf: deque = field(default_factory=deque)

    def reset(self) -> None:
        self.buf.clear()

    def step(self, t: float, x: float) -> float:
        buf = self.buf
        if x == x:
            v = self.sign * x
            while buf and buf[-1][1] <= v:
                buf.pop()
            buf.append((t, v))
        while buf and buf[0][0] < t - self.window:
            buf.popleft()
        return self.sign * buf[0][1] if buf else NAN


@dataclass
class _Lag(_Stateful):
    delay: float
    buf: deque = field(default_factory=deque)

    def reset(self) -> None:
        self.buf.clear()

    def step(self, t: float, x: float) -> float:
        buf = self.buf
        buf.append((t, x))
        out = NAN
        while len(buf) > 1 and buf[1][0] <= t - self.delay:
            buf.popleft()
        if buf[0][0] <= t - self.delay:
            out = buf[0][1]
        return out


_STATEFUL = {"ema": lambda p: _Ema(p), "rate": lambda p: _Rate(p),
             "runmax": lambda p: _RunExtreme(p, 1.0), "runmin": lambda p: _RunExtreme(p, -1.0),
             "lag": lambda p: _Lag(p)}


def _nan_reduce(values: Sequence[float], how: str) -> float:
    good = [v for v in values if v == v]
    if not good:
        return NAN
    if how == "min":
        return min(good)
    if how == "max":
        return max(good)
    return sum(good) / len(good)


class Expr:
    """A compiled expression: ``expr(t_s, row) -> float`` where ``row`` is one frame's
    metric vector ``(K,)``. Streaming functions keep state; :meth:`reset` clears it.

    Attributes:
        source: the text after placeholder substitution.
        metrics: names of the metrics it reads.
        is_constant: no metric is read (e.g. ``"1"``).
    """

    def __init__(self, source: str, side: str | None = None) -> None:
        self.source = substitute(source, side)
        self._state: list[_Stateful] = []
        self.metrics: set[str] = set()
        try:
            tree = ast.parse(self.source.strip() or "nan", mode="eval")
        except SyntaxError as exc:
            raise ExprError(f"cannot parse {self.source!r}: {exc.msg}") from None
        self._fn = self._compile(tree.body)
        self.is_constant = not self.metrics

    def __call__(self, t_s: float, row: np.ndarray) -> float:
        return self._fn(t_s, row)

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"

    def reset(self) -> None:
        """Clear the state of every streaming function."""
        for s in self._state:
            s.reset()

    # -- compiler --------------------------------------------------------------------
    def _compile(self, node: ast.AST) -> Fn:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ExprError(f"{self.source!r}: only numbers are allowed, got "
                                f"{node.value!r}")
            c = float(node.value)
            return lambda t, r: c
        if isinstance(node, ast.Name):
            name = node.id
            if name in ("nan", "NaN"):
                return lambda t, r: NAN
            if name not in _METRIC_INDEX:
                hint = difflib.get_close_matches(name, METRIC_NAMES, n=1)
                did = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise ExprError(f"{self.source!r}: unknown metric '{name}'{did}")
            self.metrics.add(name)
            i = _METRIC_INDEX[name]
            return lambda t, r: float(r[i])
        if isinstance(node, ast.UnaryOp):
            f = self._compile(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda t, r: -f(t, r)
            if isinstance(node.op, ast.UAdd):
                return f
            if isinstance(node.op, ast.Not):
                def _not(t: float, r: np.ndarray) -> float:
                    v = _truth(f(t, r))
                    return v if v != v else 1.0 - v
                return _not
        if isinstance(node, ast.BinOp):
            a, b = self._compile(node.left), self._compile(node.right)
            op = node.op
            if isinstance(op, ast.Add):
                return lambda t, r: a(t, r) + b(t, r)
            if isinstance(op, ast.Sub):
                return lambda t, r: a(t, r) - b(t, r)
            if isinstance(op, ast.Mult):
                return lambda t, r: a(t, r) * b(t, r)
            if isinstance(op, ast.Div):
                def _div(t: float, r: np.ndarray) -> float:
                    x, y = a(t, r), b(t, r)
                    return x / y if y != 0.0 else NAN
                return _div
        if isinstance(node, ast.BoolOp):
            parts = [self._compile(v) for v in node.values]
            if isinstance(node.op, ast.And):
                def _and(t: float, r: np.ndarray) -> float:
                    vals = [_truth(p(t, r)) for p in parts]  # no short-circuit: state
                    if 0.0 in vals:
                        return 0.0
                    return NAN if any(v != v for v in vals) else 1.0
                return _and

            def _or(t: float, r: np.ndarray) -> float:
                vals = [_truth(p(t, r)) for p in parts]
                if 1.0 in vals:
                    return 1.0
                return NAN if any(v != v for v in vals) else 0.0
            return _or
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ExprError(f"{self.source!r}: '{ast.unparse(node)}' is not allowed "
                        f"(numbers, metric names, + - * /, comparisons, and/or/not and "
                        f"the listed functions only)")

    def _compare(self, node: ast.Compare) -> Fn:
        fns = [self._compile(node.left)] + [self._compile(c) for c in node.comparators]
        ops = []
        for op in node.ops:
            if isinstance(op, ast.Lt):
                ops.append(lambda x, y: x < y)
            elif isinstance(op, ast.LtE):
                ops.append(lambda x, y: x <= y)
            elif isinstance(op, ast.Gt):
                ops.append(lambda x, y: x > y)
            elif isinstance(op, ast.GtE):
                ops.append(lambda x, y: x >= y)
            else:
                raise ExprError(f"{self.source!r}: only < <= > >= comparisons are allowed")

        def _cmp(t: float, r: np.ndarray) -> float:
            vals = [f(t, r) for f in fns]
            if any(v != v for v in vals):
                return NAN
            return 1.0 if all(op(vals[i], vals[i + 1]) for i, op in enumerate(ops)) else 0.0
        return _cmp

    def _call(self, node: ast.Call) -> Fn:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ExprError(f"{self.source!r}: call functions by name with plain arguments")
        name = node.func.id
        args = [self._compile(a) for a in node.args]
        n = len(args)

        def need(k: int) -> None:
            if n != k:
                raise ExprError(f"{self.source!r}: {name}() takes {k} argument(s), got {n}")

        if name == "abs":
            need(1)
            f = args[0]
            return lambda t, r: abs(f(t, r))
        if name == "sign":
            need(1)
            f = args[0]

            def _sign(t: float, r: np.ndarray) -> float:
                v = f(t, r)
                return v if v != v else float((v > 0) - (v < 0))
            return _sign
        if name in ("min", "max", "mean"):
            if n < 1:
                raise ExprError(f"{self.source!r}: {name}() needs at least one argument")
            return lambda t, r: _nan_reduce([a(t, r) for a in args], name)
        if name == "clip":
            need(3)
            f, lo, hi = args
            return lambda t, r: min(max(f(t, r), lo(t, r)), hi(t, r))
        if name == "nan_to":
            need(2)
            f, g = args

            def _nan_to(t: float, r: np.ndarray) -> float:
                v, w = f(t, r), g(t, r)
                return w if v != v else v
            return _nan_to
        if name in _STATEFUL:
            need(2)
            param = node.args[1]
            if not isinstance(param, ast.Constant) or isinstance(param.value, bool) \
                    or not isinstance(param.value, int | float) or param.value < 0:
                raise ExprError(f"{self.source!r}: the 2nd argument of {name}() must be a "
                                f"non-negative number of seconds")
            state = _STATEFUL[name](float(param.value))
            self._state.append(state)
            f = args[0]
            return lambda t, r: state.step(t, f(t, r))
        known = "abs, sign, min, max, mean, clip, nan_to, " + ", ".join(_STATEFUL)
        raise ExprError(f"{self.source!r}: unknown function {name}() (known: {known})")


#: Metrics computed from the world (3D) landmarks: NaN when an input has none.
WORLD_METRICS = frozenset(n for n in METRIC_NAMES if "_3d" in n)


def needs_world(source: str, side: str | None = None) -> bool:
    """Does ``source`` become NaN whenever the world (3D) landmarks are missing?

    True when a :data:`WORLD_METRICS` name is read without a 2D fallback: a metric that
    is missing propagates through arithmetic and comparisons; ``nan_to(x, y)`` needs them
    only if both ``x`` and ``y`` do; ``min``/``max``/``mean`` (which skip NaN) only if
    every argument does.

    Raises:
        ExprError: ``source`` cannot be parsed.
    """
    src = substitute(source, side)
    try:
        tree = ast.parse(src.strip() or "nan", mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot parse {src!r}: {exc.msg}") from None

    def needs(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in WORLD_METRICS
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("nan_to", "min", "max", "mean") and node.args:
            return all(needs(a) for a in node.args)
        return any(needs(c) for c in ast.iter_child_nodes(node))

    return needs(tree.body)


def truth(value: float) -> bool | None:
    """A condition's value as True / False / None (unknown)."""
    if value != value:
        return None
    return value != 0.0


def compile_expr(source: str, side: str | None = None, where: str = "") -> Expr:
    """Compile ``source`` (for ``side`` when it has placeholders); errors name ``where``."""
    try:
        return Expr(source, side)
    except ExprError as exc:
        raise ExprError(f"{where}: {exc}" if where else str(exc)) from None
