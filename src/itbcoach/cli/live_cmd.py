"""``itbcoach live``: coach live from the camera"""

from __future__ import annotations

import argparse

from itbcoach.cli.main import not_yet


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``live`` subcommand."""
    p = sub.add_parser("live", help="coach live from the camera")
    p.set_defaults(func=not_yet("live", "issue 7"))
