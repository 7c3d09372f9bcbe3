"""``itbcoach landmarks``: extract pose landmarks from a video into the .npz interchange format.

Thin layer over :func:`itbcoach.pose.extract_landmarks`: parse flags, run, save, print a
summary. By default the file holds the model's raw output (visibility kept, nothing
masked or filtered) so later processing can change; ``--smooth`` stores the processed
landmarks instead (low-visibility points masked, outliers rejected, short gaps filled,
zero-phase low-pass).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from itbcoach.cli.main import load_cli_config
from itbcoach.errors import ExitCode, InputError
from itbcoach.output import check_target, is_stdout, write_output


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``landmarks`` subcommand."""
    p = sub.add_parser(
        "landmarks", help="extract pose landmarks from a video into the .npz file format",
        description="Run the pose model over every frame of a video (or a folder of "
                    "images, or one image) and save the target person's landmarks as an "
                    "itbcoach .npz file (see docs/pose-and-landmarks.md).")
    p.add_argument("input", metavar="INPUT", type=Path,
                   help="video file, folder of images (one sequence) or image file")
    p.add_argument("-o", "--output", metavar="OUT.npz", type=Path, required=True,
                   help="landmark file to write")
    p.add_argument("--model-variant", choices=("lite", "full", "heavy"), default=None,
                   help="pose model bundle (default: pose.model_variant, 'full')")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="explicit .task model bundle (overrides --model-variant)")
    p.add_argument("--num-poses", type=int, default=None, metavar="N",
                   help="people the model looks for in every frame; >1 keeps the target "
                        "person and warns about others (default: pose.num_poses)")
    p.add_argument("--allow-multiple", action="store_true",
                   help="accept a video with several people in view (otherwise refused, "
                        "exit 4): follow the person largest and most central at the "
                        "start (the model then looks for 2 poses in every frame: slower)")
    p.add_argument("--smooth", action="store_true",
                   help="mask low-visibility points and smooth (outlier rejection, gap "
                        "filling, zero-phase low-pass) before saving")
    p.add_argument("--view", choices=("frontal", "side", "any"), default="any",
                   help="view the framing check expects (default: any)")
    p.add_argument("--json", metavar="META.json", type=Path, default=None,
                   help="also write the run's metadata (summary, framing) as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach landmarks``; returns the exit code (4 when no person was found)."""
    from itbcoach.landmarks import save_npz
    from itbcoach.pose import extract_landmarks

    check_target(args.output, "-o/--output")
    check_target(args.json, "--json", stdout_ok=True)
    if args.output.suffix.lower() != ".npz":
        raise InputError(f"output must end in .npz, got {args.output}")
    if args.num_poses is not None and args.num_poses < 1:
        raise InputError(f"--num-poses must be at least 1, got {args.num_poses}")
    overrides = list(getattr(args, "overrides", []) or [])
    if args.model_variant:
        overrides.append(f"pose.model_variant={json.dumps(args.model_variant)}")
    if args.num_poses is not None:
        overrides.append(f"pose.num_poses={args.num_poses}")
    args.overrides = overrides
    config = load_cli_config(args)
    seq, meta = extract_landmarks(args.input, config, model=args.model,
                                  progress=not args.no_progress, mask=args.smooth,
                                  smooth=args.smooth, view=args.view,
                                  allow_multiple=args.allow_multiple)
    save_npz(args.output, seq, masked=bool(meta["masked"]), smoothed=bool(meta["smoothed"]))
    if args.json is not None:
        write_output(args.json, json.dumps(meta, indent=2, default=str) + "\n",
                     stdout_ok=True)
    print(summary(meta, args.output), file=sys.stderr if is_stdout(args.json) else sys.stdout)
    if meta["frames"] and meta["detection_rate"] == 0.0:
        print(f"itbcoach: no person detected in any of the {meta['frames']} frames of "
              f"{args.input}; film the whole body, head to feet, in good light "
              f"(wrote an all-NaN {args.output})", file=sys.stderr)
        return ExitCode.NO_RESULT
    for warning in meta.get("warnings", []):
        print(f"itbcoach: warning: {warning}", file=sys.stderr)
    return ExitCode.OK


def summary(meta: dict, output: Path) -> str:
    """The human-readable summary printed after extraction."""
    framing = meta.get("framing", {})
    w, h = meta.get("image_size", (0, 0))
    lines = [
        f"wrote {output}",
        f"  source:          {meta['source']} ({meta['kind']}, {w}x{h}, "
        f"{meta['fps']:.2f} fps)",
        f"  frames:          {meta['frames']}",
        f"  detection rate:  {100 * meta['detection_rate']:.1f}%",
        f"  fps achieved:    {meta['fps_achieved']:.1f} frames/s "
        f"({meta['elapsed_s']:.1f} s, model {meta['model_variant']})",
        f"  smoothed:        {'yes' if meta.get('smoothed') else 'no (raw model output)'}",
    ]
    people = meta.get("people_check")
    if people and people.get("checked"):
        lines.append(f"  people check:    2+ people in {people['multi_person']} of "
                     f"{people['checked']} checked frames")
    if framing and meta["detection_rate"] > 0:
        facing = ", ".join(f"{k} {100 * v:.0f}%" for k, v in framing["facing"].items() if v)
        lines.append(f"  framing ok:      {100 * framing['ok_share']:.0f}% of frames"
                     f" (whole body in view {100 * framing['body_in_frame_share']:.0f}%;"
                     f" facing {facing})")
        if framing["instruction"]:
            lines.append(f"  framing advice:  {framing['instruction']}")
    return "\n".join(lines)
