"""Offline scoring at scale: batch scaling (--jobs 1 vs 2) and annotated-video overhead.

One run, same videos, real model, through the real command line (a fresh interpreter per
run, so imports and model loading are counted on both sides):

* **Batch scaling**: ``itbcoach score <videos> --task squat --report-dir OUT --jobs N
  --force`` for N = 1 and N = 2; speedup = wall(1) / wall(2) (issue 8 target >= 1.7x on
  2 cores). Two batches: every clip of ``../shared/sample_videos`` (15 real clips, 3980
  frames, 68-964 frames each: the target is judged on it), and 6 short clips of 72-156
  frames, where start-up and the last job are a larger share of the run.
* **Annotation overhead**: ``itbcoach score VIDEO --task squat`` with and without
  ``--annotate OUT.mp4``, alternated ``--repeat`` times, best of each; overhead =
  (annotated - plain) / plain in wall time and in CPU time of the child (target <= 15%).
  The job's own stage timings (``landmarks`` + ``score`` vs ``annotate``) are reported
  too, from a library run.

The machine's load average is recorded before and after: on a shared machine other
processes change wall times (CPU times much less); runs are alternated and the best of
``--repeat`` kept.

    python benchmarks/batch_bench.py [--videos DIR] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]
#: Short real clips (4-5 s, 960x540) plus two portrait 720x1280 clips.
SHORT_BATCH = ("sidetap_front_small_01.mp4", "sidestep_front_small_01.mp4",
               "kneelift_front_small_01.mp4", "squat_sidestep_front_small_01.mp4",
               "squat_overhead_front_good_01.mp4", "squat_overhead_front_bad_01.mp4")
ANNOTATE = ("squat_front_01.mp4", "squat_sidestep_front_small_01.mp4")
TARGETS = {"batch_speedup_2_jobs": 1.7, "annotate_overhead": 0.15}


def cli(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``itbcoach ARGS`` in a fresh interpreter; (wall s, child CPU s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "itbcoach", *args], env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 4):
        raise SystemExit(f"itbcoach {' '.join(args)} failed ({proc.returncode}):\n"
                         f"{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path,
                        default=Path(os.environ.get("ITBCOACH_SHARED", REPO.parent / "shared"))
                        / "sample_videos")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from itbcoach.pose.models import resolve_model

    model = str(resolve_model("full", progress=False))
    tmp = Path(tempfile.mkdtemp(prefix="itbcoach-batch-bench-"))
    env = {**os.environ, "ITBCOACH_HISTORY": str(tmp / "history.sqlite")}
    common = ["--task", "squat", "--model", model, "--no-progress", "--no-history"]
    load_before = os.getloadavg()

    sets = {"all": sorted(str(p) for p in args.videos.glob("*.mp4")),
            "short": [str(args.videos / v) for v in SHORT_BATCH]}
    batches: dict[str, dict[str, object]] = {}
    for label, videos in sets.items():
        runs: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        for _ in range(args.repeat):  # alternated, best of each
            for jobs in (1, 2):
                wall, cpu = cli(["score", *videos, *common, "--report-dir",
                                 str(tmp / f"{label}{jobs}"), "--jobs", str(jobs), "--force"],
                                env)
                runs[jobs].append((wall, cpu))
                print(f"{label}: batch of {len(videos)} videos, --jobs {jobs}: {wall:6.1f} s "
                      f"wall, {cpu:6.1f} s CPU")
        batch: dict[str, object] = {
            f"jobs_{j}": {"wall_s": round(min(w for w, _ in r), 2),
                          "cpu_s": round(min(c for _, c in r), 2),
                          "runs_wall_s": [round(w, 2) for w, _ in r]}
            for j, r in runs.items()}
        speedup = min(w for w, _ in runs[1]) / min(w for w, _ in runs[2])
        batch["videos"] = [Path(v).name for v in videos]
        batch["speedup_2_jobs"] = round(speedup, 3)
        batches[label] = batch
        print(f"  {label}: speedup --jobs 2 vs 1: {speedup:.2f}x (target >= "
              f"{TARGETS['batch_speedup_2_jobs']}x)")
    speedup = float(batches["all"]["speedup_2_jobs"])  # type: ignore[arg-type]

    annotate: dict[str, dict[str, float]] = {}
    for name in ANNOTATE:
        video = str(args.videos / name)
        plain, ann = [], []
        for r in range(args.repeat):
            plain.append(cli(["score", video, *common], env))
            ann.append(cli(["score", video, *common, "--annotate", str(tmp / f"a{r}.mp4")],
                           env))
        pw, pc = min(w for w, _ in plain), min(c for _, c in plain)
        aw, ac = min(w for w, _ in ann), min(c for _, c in ann)
        annotate[name] = {"plain_wall_s": round(pw, 2), "annotated_wall_s": round(aw, 2),
                          "overhead_wall": round((aw - pw) / pw, 3),
                          "plain_cpu_s": round(pc, 2), "annotated_cpu_s": round(ac, 2),
                          "overhead_cpu": round((ac - pc) / pc, 3)}
        print(f"{name}: score {pw:.1f} s, with --annotate {aw:.1f} s -> "
              f"+{100 * (aw - pw) / pw:.0f}% wall, +{100 * (ac - pc) / pc:.0f}% CPU")

    # the job's own stage timings, in this process (imports and model load excluded)
    from itbcoach.config import load_config
    from itbcoach.report.job import ScoreJob, run_job

    config = load_config(use_user_file=False)
    stages = {}
    for name in ANNOTATE:
        out = run_job(ScoreJob(str(args.videos / name), "squat", annotate=str(tmp / "s.mp4"),
                               model=model), config)
        t = out.timings
        stages[name] = {k: round(v, 2) for k, v in t.items()}
        stages[name]["annotate_vs_scoring_wall"] = round(
            t["annotate"] / (t["landmarks"] + t["score"]), 3)
        stages[name]["annotate_vs_scoring_cpu"] = round(
            t["annotate_cpu"] / (t["landmarks_cpu"] + t["score_cpu"]), 3)
        frames = out.result["frames"] if out.result else 0
        stages[name]["frames"] = frames
        print(f"{name}: {frames} frames; landmarks+score {t['landmarks_cpu'] + t['score_cpu']:.1f}"
              f" s CPU, annotate {t['annotate_cpu']:.1f} s CPU "
              f"({100 * stages[name]['annotate_vs_scoring_cpu']:.0f}%); wall "
              f"{t['landmarks'] + t['score']:.1f} s vs {t['annotate']:.1f} s "
              f"({100 * stages[name]['annotate_vs_scoring_wall']:.0f}%)")
    load_after = os.getloadavg()
    worst = max(a["overhead_wall"] for a in annotate.values())
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                 capture_output=True, text=True).stdout.strip(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "batch": batches,
        "batch_speedup_2_jobs": round(speedup, 3),
        "annotate": annotate,
        "annotate_stage_timings": stages,
        "video_preset": config.report.video_preset,
        "targets": TARGETS,
        "targets_met": {"batch_speedup_2_jobs": speedup >= TARGETS["batch_speedup_2_jobs"],
                        "annotate_overhead": worst <= TARGETS["annotate_overhead"]},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "batch.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}; "
          f"wrote {RESULTS / 'batch.json'}")


if __name__ == "__main__":
    main()
