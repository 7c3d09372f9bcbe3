"""Tasks: the layer above scoring (the step-down test) and exercises.

* :func:`load_config` is :func:`itbcoach.config.load_config` plus the checks that need
  the exercise engine (every expression of every ``[exercises.<id>]`` compiled once), so
  a typo in a user's TOML is one line naming the key before anything runs. The config
  layer itself knows nothing of exercises.
* :func:`score_task` scores a recording as ``"stepdown"`` or an exercise id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from itbcoach.config import Config
from itbcoach.config import load_config as load_base_config
from itbcoach.errors import ConfigError
from itbcoach.exercises import score_exercise
from itbcoach.exercises.definitions import check_exercise_config
from itbcoach.landmarks import PoseSequence
from itbcoach.scoring import TaskResult


def validate(config: Config) -> None:
    """Check every exercise definition (expressions, thresholds, cues).

    Raises:
        ConfigError: the first problem, naming ``exercises.<id>`` and the key.
    """
    for task, ex in config.exercises.items():
        try:
            check_exercise_config(ex)
        except ValueError as exc:
            raise ConfigError(f"'exercises.{task}': {exc}") from None


def load_config(path: str | os.PathLike[str] | None = None,
                overrides: Mapping[str, Any] | None = None,
                use_user_file: bool = True) -> Config:
    """Load, validate and check the exercises of the configuration.

    Args: as :func:`itbcoach.config.load_config`.

    Raises:
        ConfigError: unreadable file, unknown key, wrong type or an invalid exercise (the
            message names the source and the key).
    """
    config = load_base_config(path, overrides, use_user_file)
    try:
        validate(config)
    except ConfigError as exc:
        if overrides:
            where = "--set"
        elif path is not None:
            where = str(path)
        else:
            from itbcoach.config.loader import user_config_path

            where = str(user_config_path() or "defaults") if use_user_file else "defaults"
        raise ConfigError(f"{where}: {exc}") from None
    return config


def score_task(seq: PoseSequence, task: str, config: Config, *, side: str = "auto",
               pain: bool | None = None, meta: dict[str, Any] | None = None) -> TaskResult:
    """Score ``seq`` as ``task`` ("stepdown" or an exercise id)."""
    if task == "stepdown":
        from itbcoach.scoring.session import score_stepdown  # numba: not for config

        return score_stepdown(seq, config, side=side, pain=pain, meta=meta)
    return score_exercise(seq, task, config, meta=meta)
