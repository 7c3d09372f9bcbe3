"""``itbcoach synth``: render synthetic clips with exact ground truth (needs ``[synth]``).

* ``itbcoach synth stepdown OUT.mp4 --side left --reps 3 --pelvic-drop 10 ...`` -- one
  step-down clip and ``OUT.json``.
* ``itbcoach synth exercise squat OUT.mp4 --reps 3`` -- one exercise clip.
* ``itbcoach synth set DIR --count 60 --seed 0`` -- the seeded evaluation set (cached).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from itbcoach.errors import ExitCode, InputError


def _add_look(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("camera, body and look")
    g.add_argument("--width", type=int, default=640, help="frame width, px (default 640)")
    g.add_argument("--height", type=int, default=480, help="frame height, px (default 480)")
    g.add_argument("--camera-distance", type=float, default=2.7,
                   help="camera distance from the subject, m (default 2.7)")
    g.add_argument("--camera-yaw", type=float, default=0.0,
                   help="camera azimuth around the subject, deg, + = toward the subject's "
                        "left (default 0 = square-on)")
    g.add_argument("--camera-height", type=float, default=1.0,
                   help="camera height above the floor, m (default 1.0)")
    g.add_argument("--fov", type=float, default=60.0, help="horizontal field of view, deg")
    g.add_argument("--body", metavar="KEY=VALUE", action="append", default=[],
                   help="anny phenotype value in 0..1: gender, age, muscle, weight, height, "
                        "proportions (repeatable)")
    g.add_argument("--palette", type=int, default=0, help="clothing colour set (0-3)")
    g.add_argument("--loose-shirt", type=float, default=0.0, metavar="M",
                   help="a loose untucked shirt over the waist, its band M metres off the "
                        "body (0-0.1; default 0 = fitted; step-down hands rest on it)")
    g.add_argument("--light", type=float, default=1.0, help="light strength factor")
    g.add_argument("--noise", type=float, default=2.0, help="pixel noise SD, 8-bit levels")
    g.add_argument("--seed", type=int, default=0, help="noise seed")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``synth`` subcommand."""
    p = sub.add_parser("synth", help="render synthetic ground-truth clips (needs [synth])",
                       description="Render a human body (anny) doing the step-down test "
                                   "with exactly known joint angles: an mp4 plus a "
                                   "ground-truth JSON. Needs: pip install 'itbcoach[synth]'.")
    s = p.add_subparsers(dest="synth_command", metavar="WHAT")
    sd = s.add_parser("stepdown", help="one step-down clip")
    sd.add_argument("out", type=Path, metavar="OUT.mp4")
    sd.add_argument("--side", choices=("left", "right", "both"), default="left",
                    help="stance leg(s) (default left)")
    sd.add_argument("--reps", type=int, default=3, help="reps per leg (default 3)")
    sd.add_argument("--pelvic-drop", type=float, default=0.0,
                    help="free side of the pelvis down at the bottom, deg")
    sd.add_argument("--knee-medial", type=float, default=None,
                    help="stance knee medial of the second toe at the bottom, m "
                         "(default: aligned, 2 cm lateral)")
    sd.add_argument("--trunk-lean", type=float, default=0.0,
                    help="trunk lean toward the stance leg at the bottom, deg")
    sd.add_argument("--arm-abduction", type=float, default=0.0,
                    help="arm abduction at the bottom (hands leave the waist), deg")
    sd.add_argument("--wobble", type=float, default=0.0,
                    help="lateral knee wobble amplitude, m")
    sd.add_argument("--sudden-drop", action="store_true", help="fall the last part")
    sd.add_argument("--faults-on", choices=("left", "right", "both"), default="both",
                    help="with --side both: the leg the fault flags apply to (the other "
                         "leg is clean; default both)")
    sd.add_argument("--hands", choices=("both", "left", "right", "none"), default="both",
                    help="hands resting on the hips (default both; a hand not on the hip "
                         "hangs at the side)")
    sd.add_argument("--hand-slip", type=float, default=0.0,
                    help="amplitude of slow slides of the hands on the hips, m")
    sd.add_argument("--lead", type=float, default=1.0,
                    help="standing time before the first and after the last rep, s")
    sd.add_argument("--descent", type=float, default=1.6, help="descent time, s")
    sd.add_argument("--ascent", type=float, default=1.4, help="ascent time, s")
    sd.add_argument("--step-height", type=float, default=0.20, help="step height, m")
    _add_look(sd)
    sd.set_defaults(func=run_stepdown)
    ex = s.add_parser("exercise", help="one exercise clip (seated ones on a bench, "
                                       "side-lying on a mat)")
    ex.add_argument("task", help="exercise id, e.g. monster-walk, midline-hinge, "
                    "lunge-twist, glute-iso, heel-taps, squat, side-step")
    ex.add_argument("out", type=Path, metavar="OUT.mp4")
    ex.add_argument("--reps", type=int, default=3, help="reps (per side) (default 3)")
    ex.add_argument("--hold", type=float, default=None,
                    help="hold time of held exercises (glute-iso), s (default: script's)")
    ex.add_argument("--time-per-side", type=float, default=None,
                    help="time on each side of the side-lying release (asmr-itb), s "
                         "(default: script's)")
    ex.add_argument("--fault", action="append", default=[],
                    help="inject a scripted fault (repeatable; names per exercise script, "
                         "e.g. knees_in for glute-iso, knee_medial for heel-taps)")
    _add_look(ex)
    ex.set_defaults(func=run_exercise)
    st = s.add_parser("set", help="the seeded evaluation set of step-down clips (cached)")
    st.add_argument("out_dir", type=Path, metavar="DIR")
    st.add_argument("--count", type=int, default=60, help="number of clips (default 60)")
    st.add_argument("--seed", type=int, default=0, help="set seed (default 0)")
    st.add_argument("--no-progress", action="store_true", help="no progress bar")
    st.set_defaults(func=run_set)
    p.set_defaults(func=lambda _a: (p.print_help(), ExitCode.USAGE)[1])


def _options(args: argparse.Namespace):
    from itbcoach.synth.clip import ClipOptions

    pheno = []
    for item in args.body:
        key, sep, value = item.partition("=")
        try:
            val = float(value)
        except ValueError:
            val = float("nan")
        if not sep or not 0.0 <= val <= 1.0:
            raise InputError(f"--body {item!r}: use KEY=VALUE with a value in 0..1, "
                             f"e.g. --body weight=0.7")
        pheno.append((key.strip(), val))
    if not 0.0 <= args.loose_shirt <= 0.1:
        raise InputError(f"--loose-shirt {args.loose_shirt:g}: give how far the shirt "
                         "stands off the waist in metres, 0 to 0.1 (e.g. 0.03)")
    return ClipOptions(width=args.width, height=args.height,
                       camera_distance=args.camera_distance, camera_azimuth=args.camera_yaw,
                       camera_height=args.camera_height, hfov_deg=args.fov,
                       phenotype=tuple(pheno), palette=args.palette, light_scale=args.light,
                       noise_sd=args.noise, seed=args.seed,
                       shirt_loose_m=args.loose_shirt)


def _bar(total_desc: str, disabled: bool):
    from tqdm import tqdm

    bar = tqdm(total=0, unit="frame", desc=total_desc, disable=disabled)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def run_stepdown(args: argparse.Namespace) -> int:
    """Render one step-down clip."""
    from itbcoach.synth.anny_body import _load_anny

    _load_anny()
    from itbcoach.synth.clip import stepdown_clip
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec

    if args.out.suffix.lower() != ".mp4":
        raise InputError(f"output must be an .mp4 file, got {args.out}")
    sides = ("left", "right") if args.side == "both" else (args.side,)
    faulty = set(sides) if args.faults_on == "both" else {args.faults_on}
    hands = {"hands": args.hands, "hand_slip_m": args.hand_slip}
    legs = tuple(LegSpec(s, reps=args.reps, pelvic_drop_deg=args.pelvic_drop,
                         knee_medial_m=args.knee_medial, trunk_lean_deg=args.trunk_lean,
                         arm_abduction_deg=args.arm_abduction, wobble_m=args.wobble,
                         sudden_drop=args.sudden_drop, **hands) if s in faulty else
                 LegSpec(s, reps=args.reps, **hands) for s in sides)
    spec = StepdownSpec(legs=legs, step_on_off=len(legs) > 1, lead_s=args.lead,
                        descent_s=args.descent, ascent_s=args.ascent,
                        step_height=args.step_height, seed=args.seed)
    bar, update = _bar("rendering", args.no_progress)
    try:
        doc = stepdown_clip(spec, args.out, options=_options(args), progress=update)
    finally:
        bar.close()
    exp = doc["expected"]
    for side, e in exp.items():
        faults = [k for k, v in e["faults"].items() if v] or ["none"]
        print(f"{args.out}: {side} leg, {e['count']} reps, expected faults: "
              f"{', '.join(faults)}; Piva score {e['score']}")
    return ExitCode.OK


def run_exercise(args: argparse.Namespace) -> int:
    """Render one exercise clip."""
    from itbcoach.synth.anny_body import _load_anny

    _load_anny()
    from itbcoach.synth.clip import exercise_clip

    if args.out.suffix.lower() != ".mp4":
        raise InputError(f"output must be an .mp4 file, got {args.out}")
    bar, update = _bar("rendering", args.no_progress)
    try:
        doc = exercise_clip(args.task, args.out, options=_options(args), reps=args.reps,
                            faults=tuple(args.fault), hold_s=args.hold,
                            time_per_side_s=args.time_per_side, progress=update)
    finally:
        bar.close()
    exp = doc["expected"]
    steps = f", steps {exp['steps']}" if any(exp.get("steps", {}).values()) else ""
    print(f"{args.out}: {args.task}, expected reps {exp['reps']}{steps}, cues "
          f"{exp.get('cues') or 'none'}")
    return ExitCode.OK


def run_set(args: argparse.Namespace) -> int:
    """Render the seeded evaluation set."""
    from itbcoach.synth.anny_body import _load_anny

    _load_anny()
    from itbcoach.synth.dataset import generate, stepdown_cases

    paths = generate(stepdown_cases(args.count, args.seed), args.out_dir,
                     progress=not args.no_progress)
    print(f"{len(paths)} clips in {args.out_dir}")
    return ExitCode.OK
