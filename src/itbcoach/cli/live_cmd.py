"""``itbcoach live``: coach live from the camera (or a video played as one)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from itbcoach.cli.main import load_cli_config
from itbcoach.config import Config
from itbcoach.errors import ExitCode, UserError
from itbcoach.live.coach import Coach, result_json
from itbcoach.live.loop import LiveStats
from itbcoach.output import OutputError, check_target, is_stdout, write_output


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``live`` subcommand."""
    p = sub.add_parser(
        "live", help="coach live from the camera",
        description="Open the camera, show the mirrored picture with the skeleton and "
                    "coaching on top, and guide the step-down test or an exercise.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--task", help="stepdown, or an exercise id (e.g. monster-walk)")
    what.add_argument("--program", action="store_true",
                      help="the whole exercise programme in order, with rests")
    p.add_argument("--source", default="0",
                   help="camera index (default 0), or a video file / image folder")
    p.add_argument("--realtime", action="store_true",
                   help="play a video --source at its own pace, like a camera (drops "
                        "frames when slower)")
    p.add_argument("--mute", action="store_true",
                   help="no voice cues (as voice.mute = true; --speech-log still writes)")
    p.add_argument("--person", metavar="NAME", default=None,
                   help="who is training: the label stored with the session (default: "
                        "[history] person of the config)")
    p.add_argument("--no-report", action="store_true",
                   help="do not write the HTML report into the history folder")
    p.add_argument("--speech-log", metavar="FILE.txt", type=Path, default=None,
                   help="write every sentence the coach says, one a line: seconds since "
                        "the start, a tab, the sentence")
    p.add_argument("--speech-wav", metavar="FILE.wav", type=Path, default=None,
                   help="after the session, write what was said as one wav file, each "
                        "sentence at its time (needs espeak-ng)")
    p.add_argument("--no-window", action="store_true",
                   help="run without a window (e.g. with --record)")
    p.add_argument("--fullscreen", action="store_true",
                   help="open the window fullscreen (the f key toggles it)")
    p.add_argument("--no-mirror", action="store_true", help="do not mirror the picture")
    p.add_argument("--width", type=int, default=None, help="requested camera width, px")
    p.add_argument("--height", type=int, default=None, help="requested camera height, px")
    p.add_argument("--fps", type=float, default=None, help="requested camera frame rate")
    p.add_argument("--model", metavar="PATH", default=None, help="explicit .task bundle")
    p.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
    p.add_argument("--history", metavar="DB", type=Path, default=None,
                   help="history database (default: $ITBCOACH_HISTORY or the data dir)")
    p.add_argument("--record", metavar="OUT.mp4", type=Path, default=None,
                   help="also save what is shown as an H.264 video")
    p.add_argument("--stats", metavar="OUT.json", type=Path, default=None,
                   help="write loop statistics (fps, latency) as JSON")
    p.add_argument("--json", metavar="OUT.json", type=Path, default=None,
                   help="write the session's result as JSON: the schema of `itbcoach "
                        "score --json` plus a \"live\" object (also after Ctrl-C)")
    p.set_defaults(func=run)


def make_coach(config: Config, task: str | None, program: bool,
               window: bool = True) -> Coach:
    """The coach for ``--task`` / ``--program`` (exercises start with their card when
    ``[live] guided``; ``window`` False: ``--no-window``)."""
    from itbcoach.exercises.definitions import exercise_ids
    from itbcoach.live.coach import ExerciseCoach, ProgramCoach

    guided = config.live.guided
    if program:
        return ProgramCoach(config, config.live.program, rest_s=config.live.program_rest_s,
                            guided=guided, window=window)
    if task == "stepdown":
        from itbcoach.live.stepdown import StepdownCoach

        return StepdownCoach(config)
    if task not in exercise_ids(config):
        raise UserError(f"unknown task {task!r}; choose stepdown or one of: "
                        f"{', '.join(exercise_ids(config))}", ExitCode.USAGE)
    if guided:
        from itbcoach.live.guide import GuidedExercise

        return GuidedExercise(config, task, window)
    return ExerciseCoach(config, task)


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach live``."""
    from itbcoach.live.loop import LiveInterrupted, LiveOptions, run_live

    for flag, value in (("--max-seconds", args.max_seconds), ("--fps", args.fps),
                        ("--width", args.width), ("--height", args.height)):
        if value is not None and not (math.isfinite(value) and value > 0):
            unit = " of seconds" if flag == "--max-seconds" else ""
            raise UserError(f"{flag} must be a positive number{unit}, got {value}",
                            ExitCode.USAGE)
    check_target(args.record, "--record")
    check_target(args.stats, "--stats", stdout_ok=True)
    check_target(args.json, "--json", stdout_ok=True)
    config = load_cli_config(args)
    coach = make_coach(config, args.task, args.program, window=not args.no_window)
    options = LiveOptions(
        source=args.source, realtime=args.realtime, mirror=not args.no_mirror,
        mute=args.mute, window=not args.no_window, width=args.width, height=args.height,
        fps=args.fps, model=args.model, max_seconds=args.max_seconds, history=args.history,
        record=args.record, result_hold_s=config.live.result_hold_s,
        speech_log=args.speech_log, speech_wav=args.speech_wav,
        fullscreen=args.fullscreen,
        person=args.person if args.person is not None else config.history.person,
        report=config.history.live_reports and not args.no_report)
    try:
        stats = run_live(config, coach, options)
    except LiveInterrupted as exc:
        errors = _write_stats(args, exc.stats)
        if args.json is not None:
            errors += _write_result(args.json, coach, config, exc.stats, args.source)
        print(f"itbcoach: interrupted — session {exc.stats.session_id} and everything "
              f"finished so far are saved ({_where(args)})"
              + (f"; but {errors[0].removeprefix('cannot write ')}" if errors else ""),
              file=sys.stderr)
        return ExitCode.INTERRUPTED
    json_errors = (_write_result(args.json, coach, config, stats, args.source)
                   if args.json is not None else [])
    print(f"session {stats.session_id} saved: {stats.events} events, {stats.status}, "
          f"{stats.display_fps:.1f} fps shown ({_where(args)})",
          file=sys.stderr if is_stdout(args.stats) or is_stdout(args.json) else sys.stdout)
    if stats.report is not None:
        print(f"report: {stats.report}",
              file=sys.stderr if is_stdout(args.stats) or is_stdout(args.json) else sys.stdout)
    errors = _write_stats(args, stats) + json_errors
    if errors:
        print(f"itbcoach: {errors[0]}", file=sys.stderr)
        return ExitCode.INPUT
    return ExitCode.OK


def _write_stats(args: argparse.Namespace, stats: LiveStats) -> list[str]:
    """Write ``--stats``; returns the output errors of the run (the recording's first)."""
    errors = [stats.output_error] if stats.output_error else []
    if args.stats is not None:
        try:
            write_output(args.stats, json.dumps(stats.to_json(), indent=2) + "\n",
                         stdout_ok=True)
        except OutputError as exc:
            errors.append(str(exc))
    return errors


def _write_result(path: Path, coach: Coach, config: Config, stats: LiveStats | None,
                  source: str) -> list[str]:
    """Write the coach's result (as ``score --json`` writes it) plus the live-only
    fields; returns the output error, if any (``-`` writes to stdout)."""
    live = {"source": source, "status": stats.status if stats else "interrupted",
            "session_id": stats.session_id if stats else None,
            "frames_captured": stats.captured if stats else None,
            "frames_analysed": stats.results if stats else None,
            "display_fps": round(stats.display_fps, 2) if stats else None}
    try:
        write_output(path, json.dumps({**result_json(coach, config), "live": live},
                                      indent=2) + "\n",
                     stdout_ok=True)
    except OutputError as exc:
        return [str(exc)]
    return []


def _where(args: argparse.Namespace) -> str:
    from itbcoach.report.history import default_path

    return f"history: {args.history or default_path()}"
