"""``itbcoach score``: score a step-down test or an exercise from videos or landmark files.

One input: the result is printed (and written with ``--json``, ``--report DIR``,
``--annotate OUT.mp4``). Several inputs, or ``--report-dir OUT``: a batch, scored in
``--jobs`` worker processes into ``OUT/<stem>/`` folders, resumable, past bad files.
Every finished result goes into the history database unless ``--no-history``.

The command only parses flags and prints; the work is done by library code:
:func:`itbcoach.report.job.run_job` and :func:`itbcoach.report.batch.run_batch`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from itbcoach.cli.main import load_cli_config
from itbcoach.config import parse_override
from itbcoach.errors import ExitCode, UserError
from itbcoach.output import check_target, is_stdout

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``score`` subcommand."""
    p = sub.add_parser(
        "score", help="score a step-down test or an exercise from videos or landmark files",
        description="Score the lateral step-down test (--task stepdown) or count an exercise "
                    "from a video or a landmark .npz file; several inputs (or --report-dir) "
                    "run as a batch.")
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="video file(s) or landmark .npz file(s)")
    p.add_argument("--task", required=True,
                   help="stepdown, or an exercise id (see `itbcoach config defaults`)")
    p.add_argument("--side", choices=("auto", "left", "right"), default="auto",
                   help="stance leg for the step-down (default: detected)")
    p.add_argument("--pain", choices=("yes", "no"), default=None,
                   help="was the step-down painful? (asked when a terminal is attached)")
    p.add_argument("--json", metavar="OUT.json", type=Path, default=None,
                   help="write the result as JSON (one input; '-' = standard output, "
                        "the summary then goes to stderr)")
    p.add_argument("--report", metavar="DIR", type=Path, default=None,
                   help="write report.html, result.json and metrics.csv into DIR (one input)")
    p.add_argument("--annotate", metavar="OUT.mp4", nargs="?", const="", default=None,
                   help="write the video with skeleton, guide lines, rep counter, fault "
                        "flags and a closing score card burnt in (H.264 mp4). Without a "
                        "path: annotated.mp4 in the --report / --report-dir folder, else "
                        "<input stem>.annotated.mp4 in the current folder")
    p.add_argument("--height-cm", type=float, default=None, metavar="CM",
                   help="the person's height: step-down lengths in cm from it (default: "
                        "[report] height_cm, else MediaPipe's 3D pose)")
    p.add_argument("--report-dir", metavar="OUT", type=Path, default=None,
                   help="batch: one folder per input in OUT/<stem>/ (report, result, "
                        "metrics, annotated.mp4 with --annotate)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="batch: worker processes (default 1; each loads its own model)")
    p.add_argument("--force", action="store_true",
                   help="batch: rescore inputs whose output folder is already finished")
    p.add_argument("--backend", choices=("process", "ray"), default="process",
                   help="batch: local processes (default) or Ray tasks "
                        "(pip install 'itbcoach[ray]'; RAY_ADDRESS joins a cluster)")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="explicit .task model bundle (default: from the cache)")
    p.add_argument("--allow-multiple", action="store_true",
                   help="accept videos with several people in view (otherwise refused, "
                        "exit 4; a batch lists them as failures): follow the person "
                        "largest and most central at the start (slower)")
    p.add_argument("--no-history", action="store_true",
                   help="do not record the result in the history database "
                        "($ITBCOACH_HISTORY or the platform data dir)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--person", metavar="NAME", default=None,
                   help="who was filmed: the label stored with the result in the history "
                        "(default: [history] person of the config)")
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


class _HistorySink:
    """Records finished results; a broken database is reported once, never fatal."""

    def __init__(self, enabled: bool, person: str | None = None) -> None:
        self.history: Any = None
        self.person = person
        if not enabled:
            return
        from itbcoach.report.history import History

        try:
            self.history = History()
        except UserError as exc:
            print(f"itbcoach: history not recorded: {exc}", file=sys.stderr)

    def record(self, result: dict[str, Any] | None, source: str) -> None:
        if self.history is None or result is None:
            return
        from itbcoach.report.job import record_result

        try:
            record_result(self.history, result, source, person=self.person)
        except UserError as exc:
            print(f"itbcoach: history not recorded: {exc}", file=sys.stderr)
        except Exception as exc:  # one bad file / a sqlite error must not stop the run
            print(f"itbcoach: history not recorded: {type(exc).__name__}: {exc}",
                  file=sys.stderr)

    def close(self) -> None:
        if self.history is not None:
            self.history.close()


def resolve_inputs(args: argparse.Namespace) -> None:
    """Give back an input that ``--annotate`` (optional value) took as its path.

    ``--annotate`` takes an optional ``OUT.mp4``, so ``score --annotate X.mp4 --task
    stepdown`` parses ``X.mp4`` as the output. Its value is the output path only in a
    single-input run that has an input of its own; otherwise (no input left, or a batch,
    where outputs always go into ``OUT/<stem>/``) it was an input and is moved back.

    Raises:
        UserError: no input at all (exit 2), or the output path is the input (exit 2).
    """
    if args.annotate and (not args.inputs or args.report_dir is not None):
        args.inputs = [args.annotate, *args.inputs]
        args.annotate = ""
    if not args.inputs:
        raise UserError("score needs at least one INPUT (a video or a landmark .npz)",
                        ExitCode.USAGE)
    if args.annotate and len(args.inputs) == 1 and \
            Path(args.annotate).resolve() == Path(args.inputs[0]).resolve():
        raise UserError(f"--annotate {args.annotate} would overwrite the input; give "
                        "another OUT.mp4 (or none)", ExitCode.USAGE)


def default_annotated_path(args: argparse.Namespace) -> str:
    """Where ``--annotate`` without a path writes: the report folder, else the current
    folder as ``<input stem>.annotated.mp4``."""
    if args.report is not None:
        return str(args.report / "annotated.mp4")
    return f"{Path(args.inputs[0]).stem}.annotated.mp4"


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach score``."""
    from itbcoach.report.job import ScoreJob, run_job

    resolve_inputs(args)
    if args.height_cm is not None:
        if not 80 <= args.height_cm <= 250:
            raise UserError(f"--height-cm {args.height_cm:g}: give the person's standing "
                            "height in cm (80-250)", ExitCode.USAGE)
        args.overrides = [*(getattr(args, "overrides", None) or []),
                          f"report.height_cm={args.height_cm:g}"]
    config = load_cli_config(args)
    overrides = tuple(parse_override(o) for o in getattr(args, "overrides", []) or [])
    batch = args.report_dir is not None or len(args.inputs) > 1
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1", ExitCode.USAGE)
    if batch:
        if args.report_dir is None:
            raise UserError("scoring several inputs needs --report-dir OUT (one folder per "
                            "input)", ExitCode.USAGE)
        if args.json is not None or args.report is not None or args.annotate:
            raise UserError("in a batch (--report-dir) every output goes into OUT/<stem>/: "
                            "drop --json/--report and give --annotate without a path",
                            ExitCode.USAGE)
    check_target(args.json, "--json", stdout_ok=True)
    check_target(args.report, "--report")
    check_target(args.annotate or None, "--annotate")
    check_target(args.report_dir, "--report-dir")
    template = ScoreJob(
        input=args.inputs[0], task=args.task, side=args.side,
        pain=(args.pain == "yes") if args.pain is not None else None, model=args.model,
        config_path=getattr(args, "config", None), overrides=overrides,
        progress=not args.no_progress, allow_multiple=args.allow_multiple)
    # fail early on an unknown task or a bad config, before any video is decoded
    if args.task != "stepdown":
        from itbcoach.exercises import get_exercise

        get_exercise(config, args.task)
    sink = _HistorySink(not args.no_history,
                        args.person if args.person is not None else config.history.person)
    try:
        if batch:
            return _run_batch(args, template, sink)
        annotate = default_annotated_path(args) if args.annotate == "" else args.annotate
        job = ScoreJob(**{**template.__dict__, "pain": _ask_pain(args),
                          "report_dir": str(args.report) if args.report else None,
                          "annotate": annotate,
                          "json_path": str(args.json) if args.json else None})
        outcome = run_job(job, config)
        print(outcome.summary, file=sys.stderr if is_stdout(job.json_path) else sys.stdout)
        for path in outcome.outputs:
            if not is_stdout(path):
                print(f"wrote {path}", file=sys.stderr)
        sink.record(outcome.result, str(Path(job.input).resolve()))
        if outcome.output_error:  # after the result, which is in the history anyway
            print(f"itbcoach: {outcome.output_error}", file=sys.stderr)
        return outcome.exit_code
    finally:
        sink.close()


def _run_batch(args: argparse.Namespace, template: Any, sink: _HistorySink) -> int:
    from itbcoach.report.batch import run_batch

    def on_result(outcome: Any) -> None:
        sink.record(outcome.result, str(Path(outcome.input).resolve()))

    summary = run_batch(args.inputs, template, args.report_dir, jobs=args.jobs,
                        force=args.force, annotate=args.annotate is not None,
                        progress=not args.no_progress, backend=args.backend,
                        on_result=on_result)
    print(summary.text())
    if summary.interrupted:
        print(f"itbcoach: interrupted — {len(summary.done)} finished input(s) saved, "
              f"{summary.not_run} not scored; run the same command again to finish",
              file=sys.stderr)
    return summary.exit_code
