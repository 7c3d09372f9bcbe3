"""The ``itbcoach`` command: a thin argparse layer over the library.

Every subcommand lives in its own module of :mod:`itbcoach.cli` exposing
``register(subparsers) -> None`` (adds its parser and sets ``func``) where ``func(args)``
returns an exit code. Errors the user can act on are :class:`itbcoach.errors.UserError`
and reach the terminal as one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from itbcoach import __version__
from itbcoach.config import Config, parse_override
from itbcoach.errors import ExitCode, UserError
from itbcoach.pose.native_log import filtered_stderr
from itbcoach.tasks import load_config

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ("score", "live", "landmarks", "models", "history", "synth", "eval", "config")

log = logging.getLogger("itbcoach")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="itbcoach",
        description="Camera coach for iliotibial band syndrome (ITBS) rehab: the lateral "
                    "step-down test and the exercise programme, live or from video.")
    parser.add_argument("--version", action="version", version=f"itbcoach {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("--config", metavar="TOML", default=None,
                        help="user config file overriding the shipped defaults")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                        dest="overrides",
                        help="override one config key for this run, e.g. "
                             "--set pose.model_variant=lite (repeatable)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"itbcoach.cli.{name.replace('-', '_')}_cmd")
        module.register(sub)
    return parser


_signalled = False  # set by the first interrupting signal of a `main` call


def _raise_interrupt(signum: int, _frame: object) -> None:
    global _signalled
    _signalled = True
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _signals_as_ctrl_c() -> Callable[[], None]:
    """SIGTERM and SIGHUP end a command as Ctrl-C does (outputs finalised, sessions
    closed, exit 130); returns the function that puts the old handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    sigs = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    old = {sig: signal.signal(sig, _raise_interrupt) for sig in sigs}

    def restore() -> None:
        for sig, handler in old.items():
            signal.signal(sig, handler)

    return restore


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    import itbcoach

    global _signalled
    _signalled = False
    restore: Callable[[], None] = lambda: None  # noqa: E731
    try:
        # (inside the try: a Ctrl-C pending while the handler is swapped raises here)
        if signal.getsignal(signal.SIGINT) is itbcoach._quiet_interrupt:
            signal.signal(signal.SIGINT, _raise_interrupt)  # start-up is over
        restore = _signals_as_ctrl_c()
        code = _main(argv)
    except KeyboardInterrupt:  # e.g. Ctrl-C while the command modules are imported
        print("itbcoach: interrupted", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    except Exception:
        if not _signalled:
            raise
        # a Ctrl-C inside an extension module's import surfaces as that import's error
        # (numba: "ImportError: numba._devicearray failed to import")
        print("itbcoach: interrupted", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    finally:
        restore()
    if code == ExitCode.INTERRUPTED:
        _forget_unhandled_interrupt()
    return code


def _forget_unhandled_interrupt() -> None:
    """Make ``python -m itbcoach`` end with exit code 130 after a handled Ctrl-C.

    CPython 3.11 keeps a note of a KeyboardInterrupt that escaped an ``exec()`` of a
    string (the dataclasses and numba imports run some) and, if the note is still set
    when the interpreter exits, ends the process by SIGINT instead of our exit code,
    although we caught the interrupt further up. A string ``exec()`` clears the note.
    Measured under load: 3 of 150 interrupted starts died by SIGINT without this, 0 of
    350 with it.
    """
    exec("pass")


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    # Native log lines (MediaPipe, TFLite, absl) stay off the terminal unless -vv.
    with filtered_stderr(enabled=args.verbose < 2):
        try:
            return int(args.func(args) or 0)
        except UserError as exc:
            print(f"itbcoach: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("itbcoach: interrupted", file=sys.stderr)
            return ExitCode.INTERRUPTED
        except BrokenPipeError:
            return ExitCode.OK


def load_cli_config(args: argparse.Namespace) -> Config:
    """The configuration for this run: defaults, ``--config`` file, ``--set`` overrides."""
    overrides = dict(parse_override(o) for o in getattr(args, "overrides", []) or [])
    return load_config(getattr(args, "config", None), overrides)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
