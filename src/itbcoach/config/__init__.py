"""Configuration: shipped TOML defaults -> user TOML -> CLI overrides -> frozen dataclasses."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from itbcoach.config.loader import (
    build,
    check_ranges,
    default_toml_text,
    load_raw,
    parse_override,
    range_of,
)
from itbcoach.config.schema import Config


def load_config(path: str | os.PathLike[str] | None = None,
                overrides: Mapping[str, Any] | None = None,
                use_user_file: bool = True) -> Config:
    """Load and validate the configuration.

    Args:
        path: user TOML file; ``None`` = ``$ITBCOACH_CONFIG`` or the platform config file.
        overrides: dotted keys to values, e.g. ``{"pose.model_variant": "lite"}``.
        use_user_file: look for the platform/user file when ``path`` is None.

    Raises:
        ConfigError: unreadable file, unknown key, wrong type, or a number that is not
            finite or outside the range declared next to its default (the message names
            the key, the value and the allowed range).
    """
    from itbcoach.config.loader import user_config_path
    from itbcoach.errors import ConfigError

    source = str(path) if path is not None else str(user_config_path() or "defaults")
    try:
        raw = load_raw(path, None, use_user_file)
        check_ranges(raw, source)
        base = build(Config, raw)
        if not overrides:
            return base
        source = "--set"
        raw = load_raw(path, overrides, use_user_file)
        check_ranges(raw, source)
        return build(Config, raw)
    except ConfigError as exc:
        if str(exc).startswith(source):
            raise
        raise ConfigError(f"{source}: {exc}") from None


def config_to_json(value: object) -> object:
    """The configuration (or any part of it) as plain JSON-ready values."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: config_to_json(getattr(value, f.name))
                for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: config_to_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [config_to_json(v) for v in value]
    return value


def config_digest(config: Config) -> str:
    """A short hash of the effective configuration (equal configs, equal digests)."""
    import hashlib
    import json

    text = json.dumps(config_to_json(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


__all__ = ["Config", "check_ranges", "config_digest", "config_to_json", "default_toml_text",
           "load_config", "parse_override", "range_of"]
