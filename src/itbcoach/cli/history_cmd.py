"""``itbcoach history``: list past sessions; plot the trend of a task."""

from __future__ import annotations

import argparse
from pathlib import Path

from itbcoach.errors import ExitCode, NoResultError, UserError
from itbcoach.output import check_target
from itbcoach.report.history import History, SessionRow


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``history`` subcommand."""
    p = sub.add_parser("history", help="list past sessions and plot trends",
                       description="List the sessions stored in the local history database "
                                   "and plot the trend of a task over time.")
    p.add_argument("--task", default=None, help="only this task (e.g. stepdown)")
    p.add_argument("--plot", metavar="OUT.png", type=Path, default=None,
                   help="write a trend plot of --task")
    p.add_argument("--db", metavar="PATH", type=Path, default=None,
                   help="history database (default: $ITBCOACH_HISTORY or the platform "
                        "data dir)")
    p.set_defaults(func=run)


def _summary(s: SessionRow) -> str:
    summ = s.summary or {}
    if not isinstance(summ, dict):
        return ""
    if s.task == "stepdown" and summ.get("sides"):
        return ", ".join(f"{side['side']} {side.get('score')} ({side.get('category')})"
                         for side in summ["sides"])
    if "reps" in summ and isinstance(summ["reps"], dict):
        return f"reps {summ['reps'].get('total', 0)}"
    return str(summ.get("message", ""))


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach history``."""
    check_target(args.plot, "--plot")
    with History(args.db, create=False) as history:
        sessions = history.sessions(args.task)
        if not sessions:
            what = f" for task {args.task}" if args.task else ""
            raise NoResultError(f"no sessions{what} in {history.path} yet")
        print(f"{'id':>4}  {'started (UTC)':19}  {'kind':7}  {'task':16}  {'status':11}  "
              f"{'events':>6}  summary")
        for s in sessions:
            print(f"{s.id:>4}  {s.started_at[:19].replace('T', ' '):19}  {s.kind:7}  "
                  f"{s.task:16}  {s.status:11}  {s.events:>6}  {_summary(s)}")
        if args.plot is not None:
            if not args.task:
                raise UserError("--plot needs --task (e.g. --task stepdown)", ExitCode.USAGE)
            from itbcoach.report.trends import plot_trend

            n = plot_trend(history, args.task, args.plot)
            print(f"trend plot: {args.plot} ({n} points)")
    return ExitCode.OK
