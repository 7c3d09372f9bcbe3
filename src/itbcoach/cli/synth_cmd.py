"""``itbcoach synth``: render synthetic ground-truth clips"""

from __future__ import annotations

import argparse

from itbcoach.cli.main import not_yet


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``synth`` subcommand."""
    p = sub.add_parser("synth", help="render synthetic ground-truth clips")
    p.set_defaults(func=not_yet("synth", "issue 5"))
