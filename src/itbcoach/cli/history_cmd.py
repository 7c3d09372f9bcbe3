"""``itbcoach history``: list past sessions; plot the trend of a task."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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


def exercise_summary(summ: dict[str, Any]) -> str:
    """What one exercise session counted, in its own unit (steps, holds, reps, s).

    Sessions saved before results named their ``unit`` get it from what they hold.
    """
    unit = summ.get("unit") or ("steps" if summ.get("steps") else
                                "holds" if summ.get("holds") else
                                "s" if summ.get("timers") else "reps")
    if unit == "steps":
        steps = summ.get("steps") or {}
        left, right = int(steps.get("left", 0)), int(steps.get("right", 0))
        return f"steps {left + right} (left {left}, right {right})"
    if unit == "holds":
        holds = summ.get("holds") or []
        held = sum(float(h.get("duration_s", 0.0)) for h in holds)
        return f"holds {len(holds)} ({held:.0f} s held)"
    if unit == "s":
        per_side: dict[str, float] = {}
        for tm in summ.get("timers") or []:
            side = str(tm.get("side"))
            per_side[side] = per_side.get(side, 0.0) + float(tm.get("duration_s", 0.0))
        return ", ".join(f"{side} {secs:.0f} s" for side, secs in per_side.items()) or "0 s"
    return f"reps {(summ.get('reps') or {}).get('total', 0)}"


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
