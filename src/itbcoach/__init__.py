"""itbcoach: a camera coach for iliotibial band syndrome rehab."""

import os as _os
import signal as _signal
import sys as _sys

__version__ = "0.1.0"


def _quiet_interrupt(_signum: int, _frame: object) -> None:
    """Ctrl-C while the command starts up (imports): nothing to save yet, so one line and
    exit 130 instead of an import traceback. ``itbcoach.cli.main.main`` puts Python's
    own handler back before any work starts."""
    _os.write(2, b"itbcoach: interrupted\n")
    _os._exit(130)


# only when this import is the start of the `itbcoach` command (`python -m itbcoach`
# while the module is located, or the console script), never in a program that merely
# imports the library
if _sys.argv and (_sys.argv[0] == "-m" or _os.path.basename(_sys.argv[0]) == "itbcoach") \
        and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _quiet_interrupt)
