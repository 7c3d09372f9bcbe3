"""``itbcoach history``: list past sessions; plot the trend of a task."""

from __future__ import annotations

import argparse
from pathlib import Path

from itbcoach.errors import ExitCode, NoResultError, UserError
from itbcoach.output import check_target
from itbcoach.report.history import History, SessionRow, exercise_summary


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``history`` subcommand."""
    p = sub.add_parser("history", help="list past sessions and plot trends",
                       description="List the sessions stored in the local history database "
                                   "and plot the trend of a task over time.")
    p.add_argument("--task", default=None, help="only this task (e.g. stepdown)")
    p.add_argument("--person", metavar="NAME", default=None,
                   help="only the sessions of this person label")
    p.add_argument("--plot", metavar="OUT.png", type=Path, default=None,
                   help="write a trend plot of --task")
    p.add_argument("--db", metavar="PATH", type=Path, default=None,
                   help="history database (default: $ITBCOACH_HISTORY or the platform "
                        "data dir)")
    p.set_defaults(func=run)


def _summary(s: SessionRow) -> str:
    summ = s.summary if isinstance(s.summary, dict) else {}
    if s.task == "stepdown" and summ.get("sides"):
        return ", ".join(f"{side['side']} {side.get('score')} ({side.get('category')})"
                         for side in summ["sides"])
    if isinstance(summ.get("exercises"), list):  # a programme: one short part each
        return "; ".join(f"{ex.get('task')} {exercise_summary(ex)}"
                         for ex in summ["exercises"] if isinstance(ex, dict))
    if "reps" in summ and isinstance(summ["reps"], dict):
        return exercise_summary(summ)
    return str(summ.get("message", ""))


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach history``."""
    check_target(args.plot, "--plot")
    with History(args.db, create=False) as history:
        sessions = [s for s in history.sessions(args.task)
                    if args.person is None or (s.person or "") == args.person]
        if not sessions:
            what = f" for task {args.task}" if args.task else ""
            what += f" of {args.person}" if args.person is not None else ""
            raise NoResultError(f"no sessions{what} in {history.path} yet")
        print(f"{'id':>4}  {'started (UTC)':19}  {'kind':7}  {'person':12}  {'task':16}  "
              f"{'status':11}  {'events':>6}  summary")
        for s in sessions:
            print(f"{s.id:>4}  {s.started_at[:19].replace('T', ' '):19}  {s.kind:7}  "
                  f"{(s.person or '-')[:12]:12}  {s.task:16}  {s.status:11}  {s.events:>6}  "
                  f"{_summary(s)}")
            if s.report:  # the report written after a live session: one click away
                print(f"{'':6}report: {Path(s.report).resolve().as_uri()}")
        if args.plot is not None:
            if not args.task:
                raise UserError("--plot needs --task (e.g. --task stepdown)", ExitCode.USAGE)
            from itbcoach.cli.main import load_cli_config
            from itbcoach.report.trends import plot_trend

            n = plot_trend(history, args.task, args.plot, config=load_cli_config(args),
                           person=args.person)
            print(f"trend plot: {args.plot} ({n} points)")
    return ExitCode.OK
