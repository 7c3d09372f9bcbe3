"""Exercise accuracy report: one row per exercise (count MAE, exact rate, hold-duration
and time-per-side error), on the rendered clips and on the robustness sweep.

Usage::

    python benchmarks/exercise_accuracy.py             # sweep + rendered clips
    python benchmarks/exercise_accuracy.py --no-renders  # the sweep only (~3-5 min)

* Rendered clips: every ``sample_videos/exercise_*.mp4`` with its truth JSON, through the
  real PoseLandmarker (landmarks cached in ``~/.cache/itbcoach/eval/landmarks``), then
  ``itbcoach score``'s post-processing and engine (:func:`itbcoach.synth.evaluate`).
* Sweep: :mod:`itbcoach.synth.exercise_sweep` (yaw 0/+-15/+-30/+-40 deg landscape and
  portrait, 480p/1080p, 2.5/4.5 m, 1.55/1.92 m bodies, fast reps, slow reps with pauses)
  on generated landmarks with MediaPipe-like noise; views the gate refuses are counted
  as refused, not in the error columns.

Writes ``benchmarks/results/exercise_accuracy.md`` (+ ``.json``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "exercise_accuracy.md"


def main(argv: list[str] | None = None) -> int:
    from itbcoach.config import load_config
    from itbcoach.synth.evaluate import (
        LANDMARK_CACHE,
        _commit,
        evaluate_clip,
        exercise_rows,
        exercise_table,
    )
    from itbcoach.synth.exercise_sweep import run_sweep

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-renders", action="store_true", help="skip the rendered clips")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    config = load_config(use_user_file=False)
    sweep = run_sweep(config, progress=lambda i, n: print(f"\rsweep {i}/{n}", end="",
                                                          file=sys.stderr))
    print(file=sys.stderr)
    rendered = []
    if not args.no_renders:
        for clip in sorted((REPO / "sample_videos").glob("exercise_*.mp4")):
            res = evaluate_clip(clip, config, landmark_cache=LANDMARK_CACHE)
            rendered += res.sides
            print(f"{clip.name}: {res.sides[0]['count']} of {res.sides[0]['true_count']}",
                  file=sys.stderr)
    stamp = datetime.date.today().isoformat()
    lines = [f"Exercise accuracy, {stamp}, commit {_commit()}", ""]
    if rendered:
        lines += [*exercise_table(exercise_rows(rendered),
                                  "rendered clips, real PoseLandmarker"), ""]
    lines += exercise_table(exercise_rows(sweep), "sweep, generated landmarks")
    refused = [f"- {r['task']}, {r['case']}: {r['instruction']}" for r in sweep
               if r["refused"]]
    wrong = [f"- {r['task']}, {r['case']}: counted {r['count']} of {r['true_count']}"
             for r in sweep if not r["refused"] and r["count"] != r["true_count"]]
    lines += ["", f"Sweep cases refused by the gate ({len(refused)}):", *refused,
              "", f"Accepted sweep cases counted wrong ({len(wrong)}):", *(wrong or ["- none"])]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(
        {"date": stamp, "commit": _commit(), "rendered": rendered, "sweep": sweep},
        indent=1, default=str))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
