"""``itbcoach models``: list, fetch, verify the pose model bundles"""

from __future__ import annotations

import argparse

from itbcoach.cli.main import not_yet


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand."""
    p = sub.add_parser("models", help="list, fetch, verify the pose model bundles")
    p.set_defaults(func=not_yet("models", "issue 3"))
