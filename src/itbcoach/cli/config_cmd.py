"""``itbcoach config``: show the shipped defaults, check a file, show effective values."""

from __future__ import annotations

import argparse
import dataclasses
import json

from itbcoach.cli.main import load_cli_config
from itbcoach.config import default_toml_text
from itbcoach.errors import ExitCode
from itbcoach.tasks import load_config


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``config`` subcommand."""
    p = sub.add_parser("config", help="show the defaults, check a config file, "
                                      "print the effective configuration")
    action = p.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    action.add_parser("defaults", help="print the shipped defaults.toml (with comments)")
    check = action.add_parser("check", help="validate a config file")
    check.add_argument("file", help="TOML file to check")
    action.add_parser("show", help="print the effective configuration as JSON")
    p.set_defaults(func=run)


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}  # type: ignore[union-attr]
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach config ACTION``."""
    if args.config_action == "defaults":
        print(default_toml_text(), end="")
    elif args.config_action == "check":
        load_config(args.file)
        print(f"{args.file}: ok")
    else:
        print(json.dumps(_plain(load_cli_config(args)), indent=2))
    return ExitCode.OK
