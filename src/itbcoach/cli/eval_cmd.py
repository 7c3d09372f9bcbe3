"""``itbcoach eval``: accuracy report on synthetic renders"""

from __future__ import annotations

import argparse

from itbcoach.cli.main import not_yet


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval`` subcommand."""
    p = sub.add_parser("eval", help="accuracy report on synthetic renders")
    p.set_defaults(func=not_yet("eval", "issue 5"))
