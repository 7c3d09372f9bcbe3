"""``itbcoach score``: score a step-down test or an exercise from a video or landmark file"""

from __future__ import annotations

import argparse

from itbcoach.cli.main import not_yet


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``score`` subcommand."""
    p = sub.add_parser("score", help="score a step-down test or an exercise from a video or landmark file")
    p.set_defaults(func=not_yet("score", "issue 4"))
