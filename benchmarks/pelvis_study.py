"""Pelvic drop on renders: the hip line vs fitted corrections, validated on held-out clips.

Usage (needs ``[synth]`` renders, e.g. from ``itbcoach eval``)::

    python benchmarks/pelvis_study.py                       # ~/.cache/itbcoach/synth/seed0
    python benchmarks/pelvis_study.py DIR [DIR ...] --folds 4

For every counted rep of every rendered step-down clip in the folders it compares the
true drop (projected rig hip line) with (a) the scorer's hip-line estimator and (b)
linear corrections of :mod:`itbcoach.scoring.pelvis_fit` fitted on the other clips
(leave-clips-out), then fits the chosen feature set on all clips and applies it to real
footage where the pelvis stays about level (``../shared/sample_videos``: a frontal squat
and lateral lunges), where no drop may be claimed. Writes
``benchmarks/results/pelvis_study.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SHARED = REPO.parent / "shared" / "sample_videos"

SETS = {
    "hip line x gain": ("hip_line",),
    "hip line + knees": ("hip_line", "stance_knee_flexion", "free_knee_flexion"),
    "hip line + knees + trunk": ("hip_line", "stance_knee_flexion", "free_knee_flexion",
                                 "trunk_lean"),
    "all": ("hip_line", "stance_knee_flexion", "free_knee_flexion", "trunk_lean",
            "knee_line"),
    "hip line + knee asymmetry": ("hip_line", "knee_asymmetry"),
    "hip line + knee asymmetry + trunk": ("hip_line", "knee_asymmetry", "trunk_lean"),
}
#: Real clips with a level pelvis: (file, stance leg to assume, what the pelvis does).
LEVEL_CLIPS = (("squat_front_01.mp4", 0, "frontal squat, level pelvis"),
               ("squat_front_01.mp4", 1, "frontal squat, level pelvis"),
               ("lunge_lateral_front_01.mp4", 1, "lateral lunges on the right leg"))


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, check=False, cwd=REPO)
    return out.stdout.strip() or "unknown"


def _real_check(weights: dict[str, float], config) -> list[dict]:
    """Largest |drop| claimed over whole real clips (baseline: their first 0.5 s)."""
    from itbcoach.kernel import compute_metrics
    from itbcoach.pose import extract_landmarks
    from itbcoach.scoring.pelvis import pelvic_drop
    from itbcoach.scoring.pelvis_fit import pelvic_drop_fitted

    rows = []
    cache: dict[str, np.ndarray] = {}
    for name, stance, what in LEVEL_CLIPS:
        path = SHARED / name
        if not path.is_file():
            logging.warning("real footage not found: %s", path)
            continue
        if name not in cache:
            seq, _ = extract_landmarks(path, config, progress=False)
            cache[name] = compute_metrics(seq.landmarks.astype(np.float64), seq.image_size,
                                          seq.world_landmarks)
            cache[name + ":t"] = seq.times_s
        met, t = cache[name], cache[name + ":t"]
        base = met[t < t[0] + 0.5]
        raw = pelvic_drop(met, base, stance)
        fitted = pelvic_drop_fitted(met, base, stance, weights=weights)
        rows.append({"clip": name, "stance": ("left", "right")[stance], "what": what,
                     "hip_line_peak": raw.peak_deg, "fitted_peak": fitted.peak_deg})
    return rows


def main(argv: list[str] | None = None) -> int:
    from itbcoach.config import load_config
    from itbcoach.synth.pelvis_study import clip_samples, cross_validate, fit, score

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="*", type=Path,
                    default=[Path.home() / ".cache" / "itbcoach" / "synth" / "seed0"])
    ap.add_argument("--folds", type=int, default=4, help="cross-validation folds")
    ap.add_argument("--use", default="hip line + knees + trunk", choices=list(SETS),
                    help="feature set fitted on all clips and checked on real footage")
    ap.add_argument("--no-real", action="store_true", help="skip the real-footage check")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = load_config(use_user_file=False)
    threshold = config.stepdown.pelvic_drop_deg
    videos = sorted(v for d in args.dirs for v in d.glob("*.mp4") if not v.name.startswith("."))
    # the landmarks `itbcoach eval` cached for these clips
    samples = [s for v in videos for s in clip_samples(v, config, v.parent / "landmarks")]
    clips = sorted({s.clip for s in samples})
    if len(clips) < 2:
        print("need at least 2 rendered step-down clips", file=sys.stderr)
        return 2
    rows = [("hip line (scorer today)", score(samples, [s.x[:, 0] for s in samples],
                                              threshold), None)]
    for label, cols in SETS.items():
        sc, ws = cross_validate(samples, cols, folds=min(args.folds, len(clips)),
                                threshold=threshold)
        rows.append((f"{label} (held-out)", sc, np.mean(ws, axis=0).round(3).tolist()))
    final_cols = SETS[args.use]
    w_all = fit(samples, final_cols)
    weights = {c: round(float(v), 4) for c, v in zip(final_cols, w_all, strict=True)}
    real = [] if args.no_real else _real_check(weights, config)
    stamp = datetime.date.today().isoformat()
    lines = [f"Pelvic drop on {len(clips)} rendered step-down clips ({len(samples)} reps), "
             f"{stamp}, commit {_commit()}; {args.folds}-fold leave-clips-out; criterion "
             f"|peak| >= {threshold} deg.", "",
             "| estimator | frame MAE | frame bias | rep MAE | rep bias | sensitivity | "
             "specificity | mean weights |", "|---|---|---|---|---|---|---|---|"]
    for label, sc, w in rows:
        lines.append(f"| {label} | {sc['frame_mae']:.2f} | {sc['frame_bias']:+.2f} | "
                     f"{sc['rep_mae']:.2f} | {sc['rep_bias']:+.2f} | "
                     f"{sc['sensitivity']:.2f} ({sc['positives']}) | "
                     f"{sc['specificity']:.2f} ({sc['negatives']}) | {w or ''} |")
    lines += ["", f"Weights fitted on all clips ({args.use}): `{weights}`", ""]
    if real:
        lines += ["| real clip (level pelvis) | stance assumed | hip-line peak | fitted peak |",
                  "|---|---|---|---|"]
        lines += [f"| {r['clip']} ({r['what']}) | {r['stance']} | {r['hip_line_peak']:+.1f} |"
                  f" {r['fitted_peak']:+.1f} |" for r in real]
    md = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pelvis_study.md").write_text(md)
    (RESULTS / "pelvis_study.json").write_text(json.dumps(
        {"date": stamp, "commit": _commit(), "clips": clips, "reps": len(samples),
         "rows": [{"estimator": lab, **sc, "weights": w} for lab, sc, w in rows],
         "final": {"set": args.use, "weights": weights}, "real": real}, indent=1))
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
