"""``itbcoach eval``: accuracy of the full pipeline on seeded synthetic renders.

Renders (cached) a seeded set of step-down clips with :mod:`itbcoach.synth`, runs video
-> landmarks -> kernel -> scorer on each and writes per-angle MAE/bias/slope, per-criterion
sensitivity/specificity, category agreement (exact, Cohen's kappa) and rep-count error.
Needs the ``[synth]`` extra.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from itbcoach.cli.main import load_cli_config
from itbcoach.errors import ExitCode


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval`` subcommand."""
    p = sub.add_parser("eval", help="accuracy report on synthetic renders (needs [synth])",
                       description="Render a seeded set of step-down clips with exact ground "
                                   "truth (cached), run the full pipeline on them and "
                                   "report the error.")
    p.add_argument("--count", type=int, default=60, help="number of clips (default 60)")
    p.add_argument("--seed", type=int, default=0, help="set seed (default 0)")
    p.add_argument("--cache", type=Path, default=None,
                   help="clip folder (default: ~/.cache/itbcoach/synth/seed<SEED>)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/accuracy.md"),
                   help="Markdown report (a .json beside it); default "
                        "benchmarks/results/accuracy.md")
    p.add_argument("--clips", type=Path, nargs="*", default=[], metavar="CLIP.mp4",
                   help="more rendered clips with their .json truth to evaluate, e.g. "
                        "sample_videos/exercise_*.mp4 (exercise rep/step counts)")
    p.add_argument("--wide", action="store_true",
                   help="the held-out set of issue 15 instead (hands on / one off / both "
                        "off, 640x480-1920x1080, camera 2-4 m, yaw +-20 deg, height "
                        "0.6-1.3 m; synth.dataset.wide_cases; default seed 15)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach eval``."""
    from itbcoach.synth.anny_body import _load_anny

    _load_anny()
    from itbcoach.synth.evaluate import run_report

    cases = None
    seed, tag = args.seed, f"seed{args.seed}"
    if args.wide:
        from itbcoach.synth.dataset import wide_cases

        seed = args.seed or 15
        cases, tag = wide_cases(args.count, seed), f"wide{seed}"
    cache = args.cache or Path.home() / ".cache" / "itbcoach" / "synth" / tag
    _summary, md = run_report(args.count, seed, cache, args.out, load_cli_config(args),
                              progress=not args.no_progress, clips=args.clips, cases=cases)
    print(md)
    return ExitCode.OK
