"""Load the TOML configuration into frozen dataclasses, validated once.

Layers, later wins: the defaults shipped in ``itbcoach/config/defaults.toml`` (the only
place defaults live), then a user TOML (``--config FILE``, or ``$ITBCOACH_CONFIG``, or
``config.toml`` in the platform config dir when it exists), then ``--set key=value``
overrides from the command line. Every key of a user file must exist in the defaults;
a wrong key or type is a :class:`~itbcoach.errors.ConfigError` naming the dotted key.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import functools
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from itbcoach.errors import ConfigError

T = TypeVar("T")

DEFAULTS_RESOURCE = "defaults.toml"


def default_toml_text() -> str:
    """The shipped defaults file, comments included."""
    return resources.files("itbcoach.config").joinpath(DEFAULTS_RESOURCE).read_text("utf-8")


@dataclasses.dataclass(frozen=True)
class Range:
    """The allowed values of a numeric key, as declared in ``defaults.toml``.

    Attributes:
        lo, hi: bounds (``-inf``/``inf`` when open-ended).
        lo_open, hi_open: the bound itself is excluded.
        unit: what the number counts (``s``, ``deg``, ``body scales``...), may be empty.
    """

    lo: float
    hi: float
    lo_open: bool
    hi_open: bool
    unit: str

    def __contains__(self, value: float) -> bool:
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below

    def __str__(self) -> str:
        def num(x: float) -> str:
            return f"{x:g}"

        text = (f"{'(' if self.lo_open else '['}{num(self.lo)}, {num(self.hi)}"
                f"{')' if self.hi_open else ']'}")
        return f"{text} {self.unit}".rstrip()


_INTERVAL = re.compile(r"^([\[(])\s*([^,]+?)\s*,\s*([^\])]+?)\s*([\])])\s*(.*)$")
_KEY_RANGE = re.compile(r"^([A-Za-z0-9_]+)\s*=[^#]*#\s*range:\s*(.+)$")
_PATTERN_RANGE = re.compile(r"^#\s*range\s+([^:\s]+):\s*(.+)$")
_TABLE = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]\]?")


def _interval(text: str) -> Range:
    m = _INTERVAL.match(text.strip())
    if not m:
        raise ValueError(f"bad range {text!r} in defaults.toml")  # a bug in the shipped file
    return Range(float(m.group(2)), float(m.group(3)), m.group(1) == "(",
                 m.group(4) == ")", m.group(5).strip())


@functools.cache
def declared_ranges() -> tuple[dict[str, Range], tuple[tuple[str, Range], ...]]:
    """The ranges declared in ``defaults.toml``: exact dotted keys, and ``*`` patterns
    (in file order, the first match wins). Parsed once."""
    exact: dict[str, Range] = {}
    patterns: list[tuple[str, Range]] = []
    table = ""
    for line in default_toml_text().splitlines():
        if m := _TABLE.match(line):
            table = m.group(1)
        elif m := _KEY_RANGE.match(line):
            exact[f"{table}.{m.group(1)}"] = _interval(m.group(2))
        elif m := _PATTERN_RANGE.match(line):
            patterns.append((m.group(1), _interval(m.group(2))))
    return exact, tuple(patterns)


def range_of(dotted: str) -> Range | None:
    """The declared range of a dotted key (array-of-table indices left out, e.g.
    ``exercises.squat.cues.priority``), or None."""
    exact, patterns = declared_ranges()
    if dotted in exact:
        return exact[dotted]
    for pattern, rng in patterns:
        if fnmatch.fnmatchcase(dotted, pattern):
            return rng
    return None


def check_ranges(data: Mapping[str, Any], where: str, prefix: str = "") -> None:
    """Check every number of a raw config dict: finite, and inside its declared range.

    Raises:
        ConfigError: ``<where>: '<key>' = <value> is out of range; allowed: <range> <unit>``.
    """
    for key, value in data.items():
        if key == "__open__":
            continue
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            check_ranges(value, where, f"{dotted}.")
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, Mapping):
                    check_ranges(item, where, f"{dotted}.")
                else:
                    _check_number(dotted, item, value, where)
        else:
            _check_number(dotted, value, value, where)


def _check_number(dotted: str, value: Any, shown: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    rng = range_of(dotted)
    allowed = f"allowed: {rng}" if rng is not None else "allowed: a finite number"
    if not math.isfinite(value) or (rng is not None and value not in rng):
        raise ConfigError(f"{where}: '{dotted}' = {_show(shown)} is out of range; {allowed}")


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else f"{value}"


def user_config_path() -> Path | None:
    """The user config file used when ``--config`` is not given, if any exists."""
    env = os.environ.get("ITBCOACH_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    path = Path(platformdirs.user_config_dir("itbcoach")) / "config.toml"
    return path if path.is_file() else None


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a TOML file; any problem is one ConfigError line naming the file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


def parse_override(text: str) -> tuple[str, Any]:
    """``"a.b=1.5"`` -> ``("a.b", 1.5)``; the value is read as TOML, else as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--set expects KEY=VALUE (e.g. stepdown.reps_per_side=3), "
                          f"got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def merge(base: Mapping[str, Any], over: Mapping[str, Any], where: str,
          prefix: str = "") -> dict[str, Any]:
    """Deep-merge ``over`` into ``base``; keys of ``over`` must exist in ``base``."""
    out = dict(base)
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            hint = difflib.get_close_matches(key, list(base), n=1)
            did = f" (did you mean '{prefix}{hint[0]}'?)" if hint else ""
            raise ConfigError(f"{where}: unknown key '{dotted}'{did}")
        if isinstance(base[key], dict) and not _is_open_table(base[key]):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: '{dotted}' must be a table")
            out[key] = merge(base[key], value, where, f"{dotted}.")
        elif isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: '{dotted}' must be a table")
            merged = dict(base[key])
            for sub, subval in value.items():
                if sub in base[key] and isinstance(subval, dict):
                    merged[sub] = merge(base[key][sub], subval, where, f"{dotted}.{sub}.")
                elif isinstance(subval, dict) and "extends" in subval:
                    merged[sub] = _extend(merged, sub, subval, where, dotted)
                else:
                    merged[sub] = subval
            out[key] = merged
        else:
            out[key] = value
    return out


def _extend(siblings: Mapping[str, Any], name: str, table: Mapping[str, Any], where: str,
            dotted: str) -> dict[str, Any]:
    """A new entry of an open table that copies a sibling (``extends = "<key>"``) and
    overrides the keys it gives (checked against the sibling's keys)."""
    parent = table["extends"]
    if not isinstance(parent, str) or parent not in siblings or parent == "__open__":
        known = ", ".join(k for k in siblings if k != "__open__")
        raise ConfigError(f"{where}: '{dotted}.{name}.extends' must name an existing entry "
                          f"({known}), got {parent!r}")
    rest = {k: v for k, v in table.items() if k != "extends"}
    return merge(siblings[parent], rest, where, f"{dotted}.{name}.")


def _is_open_table(table: Mapping[str, Any]) -> bool:
    """Tables whose keys are names chosen by the user (e.g. ``[exercises.<id>]``)."""
    return bool(table.get("__open__", False))


def set_dotted(data: dict[str, Any], key: str, value: Any, where: str) -> dict[str, Any]:
    """Apply one ``--set`` override to a raw config dict (validated by :func:`merge`)."""
    nested: Any = value
    for part in reversed(key.split(".")):
        nested = {part: nested}
    return merge(data, nested, where)


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints`` once per dataclass (it compiles every string annotation)."""
    return typing.get_type_hints(cls)


def build(cls: type[T], data: Any, path: str = "") -> T:
    """Build dataclass ``cls`` from a TOML table, checking each field's type."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"'{path or 'config'}' must be a table")
    hints = _type_hints(cls)
    kwargs = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key != "__open__" and key not in fields:
            raise ConfigError(f"unknown key '{path}.{key}'".replace("'.", "'"))
    for name, field in fields.items():
        dotted = f"{path}.{name}" if path else name
        if name not in data:
            if field.default is dataclasses.MISSING and \
                    field.default_factory is dataclasses.MISSING:
                raise ConfigError(f"missing key '{dotted}'")
            continue
        kwargs[name] = _convert(hints[name], data[name], dotted)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"'{path}': {exc}" if path else str(exc)) from None


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (value == "" and type(None) in args):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, path)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"'{path}': bad value {value!r}")
    if origin is typing.Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(f"'{path}' must be one of {choices}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp) and getattr(tp, "TOML_ARRAY", False):
        names = [f.name for f in dataclasses.fields(tp)]
        if not isinstance(value, list | tuple) or len(value) != len(names):
            raise ConfigError(f"'{path}' must be an array of {len(names)} items "
                              f"[{', '.join(names)}], got {value!r}")
        return build(tp, dict(zip(names, value, strict=True)), path)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"'{path}' must be a table")
        return types.MappingProxyType({k: _convert(args[1], v, f"{path}.{k}")
                                       for k, v in value.items() if k != "__open__"})
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"'{path}' must be an array, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"'{path}' must have {len(args)} items, got {len(value)}")
        return tuple(_convert(a, v, f"{path}[{i}]")
                     for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"'{path}' must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"'{path}' must be a whole number, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"'{path}' must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"'{path}' must be a string, got {value!r}")
        return value
    if tp is Any:
        return value
    raise ConfigError(f"'{path}': unsupported config type {tp}")  # pragma: no cover


def load_raw(path: str | os.PathLike[str] | None = None,
             overrides: Mapping[str, Any] | None = None,
             use_user_file: bool = True) -> dict[str, Any]:
    """Defaults, user file and overrides merged into one raw dict (validated keys)."""
    data = tomllib.loads(default_toml_text())
    user = Path(path) if path is not None else (user_config_path() if use_user_file else None)
    if user is not None:
        data = merge(data, read_toml(user), str(user))
    for key, value in (overrides or {}).items():
        data = set_dotted(data, key, value, "--set")
    return data
