"""``itbcoach config``: show the shipped defaults, check a file, show effective values."""

from __future__ import annotations

import argparse
import json

from itbcoach.cli.main import load_cli_config
from itbcoach.config import config_to_json, default_toml_text
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


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach config ACTION``."""
    if args.config_action == "defaults":
        print(default_toml_text(), end="")
    elif args.config_action == "check":
        load_config(args.file)
        print(f"{args.file}: ok")
    else:
        print(json.dumps(config_to_json(load_cli_config(args)), indent=2))
    return ExitCode.OK
