"""Pelvic drop from the free leg: the free hip placed above the free knee (issue 5).

In the step-down the free leg hangs straight, so its hip should sit one thigh length
(measured in the standing baseline, pixels) above the free knee, which MediaPipe tracks
far better than the hip. This compares, per counted rep of the rendered clips that
``itbcoach eval`` cached, the true drop (projected rig hip line, + = free side down, peak
over the rep) with MediaPipe's hip line and with the line from MediaPipe's stance hip to
that knee-derived free hip ("free knee"; "free ankle" stacks shank and thigh instead).
Writes ``benchmarks/results/pelvis_free_knee.json``.

    python benchmarks/pelvis_free_knee.py [DIR]    # default ~/.cache/itbcoach/synth/seed0
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE_FRAMES = 15


def rep_peaks(video: Path, config) -> list[dict[str, float]]:
    """True and estimated peak drops of every counted rep of one rendered clip."""
    from itbcoach.landmarks import Landmark as L
    from itbcoach.synth.clip import load_truth
    from itbcoach.synth.evaluate import cached_landmarks

    doc = load_truth(video)
    if doc["kind"] != "stepdown":
        return []
    seq, _ = cached_landmarks(video, config, video.parent / "landmarks")
    px = seq.pixels().astype(float)
    truth = np.asarray(doc["frames_truth"]["projected"]["pelvic_obliquity"], float)
    t_s = np.asarray(doc["frames_truth"]["t_ms"], float) / 1000.0
    out = []
    for rep in doc["reps"]:
        if not rep["counted"]:
            continue
        left = rep["side"] == "left"
        sh, fh = (L.LEFT_HIP, L.RIGHT_HIP) if left else (L.RIGHT_HIP, L.LEFT_HIP)
        fk = L.RIGHT_KNEE if left else L.LEFT_KNEE
        fa = L.RIGHT_ANKLE if left else L.LEFT_ANKLE
        a = int(np.searchsorted(t_s, rep["start_s"]))
        e = int(np.searchsorted(t_s, rep["end_s"])) + 1
        base = slice(max(a - BASELINE_FRAMES, 0), a)
        r = slice(a, e)
        thigh = np.nanmedian(px[base, fk, 1] - px[base, fh, 1])
        shank = np.nanmedian(px[base, fa, 1] - px[base, fk, 1])
        width = np.nanmedian(np.abs(px[base, fh, 0] - px[base, sh, 0]))

        def drop(free_y: np.ndarray, sh=sh, width=width, r=r, base=base) -> np.ndarray:
            """Image y down: + = free hip lower than the stance hip, from baseline."""
            ang = np.degrees(np.arctan2(free_y - px[:, sh, 1], width))
            return ang[r] - np.nanmedian(ang[base])

        y = truth[r] - np.nanmedian(truth[base])
        y = y if left else -y

        def peak(x: np.ndarray) -> float:
            return float(x[np.nanargmax(np.abs(x))])

        leg = next(g for g in doc["spec"]["legs"] if g["side"] == rep["side"])
        bottom = int(np.searchsorted(t_s, rep["bottom_s"]))
        hip_line = drop(px[:, fh, 1])
        out.append({"clip": video.stem, "side": rep["side"], "true": peak(y),
                    "set_lean": float(leg["trunk_lean_deg"]),
                    "true_bottom": float(y[min(bottom - a, len(y) - 1)]),
                    "hip_bottom": float(hip_line[min(bottom - a, len(hip_line) - 1)]),
                    "hip line": peak(drop(px[:, fh, 1])),
                    "free knee": peak(drop(px[:, fk, 1] - thigh)),
                    "free ankle": peak(drop(px[:, fa, 1] - shank - thigh))})
    return out


def main(argv: list[str]) -> int:
    from itbcoach.config import load_config

    folder = Path(argv[0]) if argv else Path.home() / ".cache" / "itbcoach" / "synth" / "seed0"
    config = load_config(use_user_file=False)
    threshold = config.stepdown.pelvic_drop_deg
    reps = [p for v in sorted(folder.glob("stepdown_*.mp4")) for p in rep_peaks(v, config)]
    if not reps:
        print(f"no rendered step-down clips with cached landmarks in {folder}", file=sys.stderr)
        return 2
    true = np.array([p["true"] for p in reps])
    pos = np.abs(true) >= threshold
    summary = {}
    print(f"{len(reps)} reps ({pos.sum()} with a true drop >= {threshold} deg)")
    for name in ("hip line", "free knee", "free ankle"):
        est = np.array([p[name] for p in reps])
        err = est - true
        hit = np.abs(est) >= threshold
        summary[name] = {
            "rep_mae": float(np.abs(err).mean()), "rep_bias": float(err.mean()),
            "r": float(np.corrcoef(true, est)[0, 1]), "slope": float(np.polyfit(true, est, 1)[0]),
            "sensitivity": float((hit & pos).sum() / pos.sum()),
            "specificity": float((~hit & ~pos).sum() / (~pos).sum())}
        s = summary[name]
        print(f"  {name:10s} rep MAE {s['rep_mae']:.2f}  bias {s['rep_bias']:+.2f}  r {s['r']:.2f}"
              f"  slope {s['slope']:.2f}  sensitivity {s['sensitivity']:.2f}"
              f"  specificity {s['specificity']:.2f}")
    # what the hip line reads at the bottom: a x true drop + b x set trunk lean + offsets
    ok = np.array([np.isfinite(p["hip_bottom"]) for p in reps])
    x = np.array([[p["true_bottom"], p["set_lean"], p["side"] == "left",
                   p["side"] == "right"] for p in reps], float)[ok]
    hb = np.array([p["hip_bottom"] for p in reps])[ok]
    coef, *_ = np.linalg.lstsq(x, hb, rcond=None)
    resid = float((hb - x @ coef).std())
    summary["hip_line_at_bottom"] = {"per_deg_true_drop": float(coef[0]),
                                     "per_deg_trunk_lean": float(coef[1]),
                                     "offset_left_stance": float(coef[2]),
                                     "offset_right_stance": float(coef[3]),
                                     "residual_sd": resid}
    print(f"  hip line at the bottom = {coef[0]:.2f} x true drop {coef[1]:+.2f} x trunk lean"
          f" {coef[2]:+.1f} (left stance) / {coef[3]:+.1f} (right stance), residual SD"
          f" {resid:.1f} deg")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pelvis_free_knee.json").write_text(json.dumps(
        {"date": datetime.date.today().isoformat(), "folder": str(folder), "reps": len(reps),
         "threshold_deg": threshold, "summary": summary}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
