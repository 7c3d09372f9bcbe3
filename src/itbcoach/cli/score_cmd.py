"""``itbcoach score``: score a step-down test or an exercise from videos or landmark files.

The command only parses flags, loads inputs and writes outputs; the work is done by
:func:`itbcoach.scoring.score_task` (library code, usable without the CLI).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from itbcoach.cli.main import load_cli_config
from itbcoach.errors import ExitCode, InputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``score`` subcommand."""
    p = sub.add_parser(
        "score", help="score a step-down test or an exercise from a video or landmark file",
        description="Score the lateral step-down test (--task stepdown) or count an exercise "
                    "from a video or a landmark .npz file.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="video file(s) or landmark .npz file(s)")
    p.add_argument("--task", required=True,
                   help="stepdown, or an exercise id (see `itbcoach config defaults`)")
    p.add_argument("--side", choices=("auto", "left", "right"), default="auto",
                   help="stance leg for the step-down (default: detected)")
    p.add_argument("--pain", choices=("yes", "no"), default=None,
                   help="was the step-down painful? (asked when a terminal is attached)")
    p.add_argument("--json", metavar="OUT.json", type=Path, default=None,
                   help="write the result as JSON")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="explicit .task model bundle (default: from the cache)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _ask_pain(args: argparse.Namespace) -> bool | None:
    if args.pain is not None:
        return args.pain == "yes"
    if args.task != "stepdown" or not sys.stdin.isatty():
        return None
    try:
        answer = input("Was the step-down painful? [y/n/enter = skip] ").strip().lower()
    except EOFError:
        return None
    return True if answer.startswith("y") else False if answer.startswith("n") else None


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach score``."""
    from itbcoach.scoring import load_input, score_task

    config = load_cli_config(args)
    if len(args.inputs) > 1:
        raise InputError("scoring several inputs at once is not available yet; "
                         "pass one INPUT")
    path = Path(args.inputs[0])
    seq, meta = load_input(path, config, model=args.model, progress=not args.no_progress)
    result = score_task(seq, args.task, config, side=args.side, pain=_ask_pain(args),
                        meta=meta)
    print(result.summary())
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return ExitCode.OK if result.ok else ExitCode.NO_RESULT
