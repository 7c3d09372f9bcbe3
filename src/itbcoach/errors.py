"""Errors the user can act on.

Anything raised as :class:`UserError` reaches the terminal as one line on stderr
(``itbcoach: <message>``) and the process exits with :attr:`UserError.exit_code`,
never with a traceback. Messages say what was wrong and what to do.
"""

from __future__ import annotations


class ExitCode:
    """Process exit codes of the CLI."""

    OK = 0
    FAILURE = 1  # the job ran but found a problem (e.g. some batch inputs failed)
    USAGE = 2  # bad command line or config
    INPUT = 3  # unreadable / missing / corrupt input (video, landmark file, camera)
    NO_RESULT = 4  # the input was read but nothing could be measured (no person, framing)
    MODEL = 5  # the pose model could not be fetched, assembled or loaded
    INTERRUPTED = 130  # Ctrl-C (after saving what was done)


class UserError(Exception):
    """An error with a one-line, actionable message and an exit code."""

    exit_code: int = ExitCode.FAILURE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(UserError):
    """A configuration file or value is invalid (names the bad key)."""

    exit_code = ExitCode.USAGE


class InputError(UserError):
    """An input (video, landmark file, camera, image folder) is missing or unreadable."""

    exit_code = ExitCode.INPUT


class NoResultError(UserError):
    """The input was read but nothing could be measured (no person, bad framing)."""

    exit_code = ExitCode.NO_RESULT


class ModelError(UserError):
    """The pose model could not be fetched, assembled or loaded."""

    exit_code = ExitCode.MODEL
