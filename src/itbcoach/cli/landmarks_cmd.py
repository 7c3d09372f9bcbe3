"""``itbcoach landmarks``: extract pose landmarks from a video into the .npz interchange format"""

from __future__ import annotations

import argparse

from itbcoach.cli.main import not_yet


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``landmarks`` subcommand."""
    p = sub.add_parser("landmarks",
                       help="extract pose landmarks from a video into the .npz file format")
    p.set_defaults(func=not_yet("landmarks", "issue 3"))
