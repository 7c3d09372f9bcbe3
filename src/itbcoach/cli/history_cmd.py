"""``itbcoach history``: list past sessions and plot trends"""

from __future__ import annotations

import argparse

from itbcoach.cli.main import not_yet


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``history`` subcommand."""
    p = sub.add_parser("history", help="list past sessions and plot trends")
    p.set_defaults(func=not_yet("history", "issue 8"))
