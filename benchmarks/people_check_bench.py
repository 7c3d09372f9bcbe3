"""Cost of the second-person check (``pose.people_check_interval_s``), offline and live.

* **offline**: :func:`itbcoach.pose.extract_landmarks` on a real video with the check on
  (one frame per second through an IMAGE-mode landmarker looking for 2 poses) and off
  (``people_check_interval_s = 0``), rounds interleaved, best round of each. Reports
  frames/s both ways, the ratio, and the check's own time per checked frame.
* **live**: :func:`itbcoach.live.loop.run_live` on a 640x480 30 fps file played as a
  camera (the live benchmark's test video), check on and off: results per second,
  capture-to-display latency, and the check's time per run (it runs in a worker thread).

On a shared 2-core machine other processes change wall times: the load average is
recorded and the sides are interleaved.

    python benchmarks/people_check_bench.py [--video PATH] [--rounds 2] [--live-seconds 20]

Writes ``benchmarks/results/people_check.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_VIDEO = ROOT.parent / "shared" / "sample_videos" / "squat_front_01.mp4"


def offline(video: Path, interval: float, model: Path) -> dict:
    from itbcoach.config import load_config
    from itbcoach.pose import extract_landmarks

    config = load_config(use_user_file=False,
                         overrides={"pose.people_check_interval_s": interval})
    t0, c0 = time.perf_counter(), time.process_time()
    seq, meta = extract_landmarks(video, config, model=model, progress=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    check = meta.get("people_check") or {}
    return {"frames": len(seq), "wall_s": wall, "fps": len(seq) / wall, "cpu_s": cpu,
            "checked": check.get("checked", 0), "ms_per_check": check.get("ms_per_check")}


def live(video: Path, interval: float, model: Path, seconds: float) -> dict:
    from itbcoach.config import load_config
    from itbcoach.live.coach import ExerciseCoach
    from itbcoach.live.loop import LiveOptions, run_live

    config = load_config(use_user_file=False,
                         overrides={"pose.people_check_interval_s": interval})
    c0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        stats = run_live(config, ExerciseCoach(config, "squat"), LiveOptions(
            source=str(video), realtime=True, window=False, mute=True, model=str(model),
            history=Path(tmp) / "h.sqlite", max_seconds=seconds))
    out = stats.to_json()
    out["results_per_s"] = stats.results / stats.wall_s if stats.wall_s else 0.0
    out["cpu_s"] = time.process_time() - c0
    out["people_check_ms_mean"] = (float(np.mean(stats.people_check_ms))
                                   if stats.people_check_ms else None)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--live-seconds", type=float, default=15.0)
    ap.add_argument("--live-rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS / "people_check.json")
    args = ap.parse_args()

    from itbcoach.pose.models import resolve_model

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from live_bench import make_video

    model = resolve_model("full", progress=False)
    load_before = os.getloadavg()
    offline(args.video, 0.0, model)  # warm-up (numba, file cache), not recorded
    rounds = []
    for r in range(args.rounds):
        on, off = offline(args.video, 1.0, model), offline(args.video, 0.0, model)
        rounds.append({"on": on, "off": off})
        print(f"offline round {r + 1}: check on {on['fps']:.1f} fps, {on['cpu_s']:.2f} CPU s "
              f"({on['checked']} checks, {on['ms_per_check']} ms each) | off {off['fps']:.1f} "
              f"fps, {off['cpu_s']:.2f} CPU s", flush=True)
    best_on = max(r["on"]["fps"] for r in rounds)
    best_off = max(r["off"]["fps"] for r in rounds)
    ms = [r["on"]["ms_per_check"] for r in rounds]
    cpu_on = min(r["on"]["cpu_s"] for r in rounds)
    cpu_off = min(r["off"]["cpu_s"] for r in rounds)
    checks = rounds[0]["on"]["checked"]
    with tempfile.TemporaryDirectory() as tmp:
        cam = Path(tmp) / "camera.mp4"
        make_video(args.video, cam, args.live_seconds + 2)
        live_rounds: list[dict] = []
        for r in range(args.live_rounds):
            on, off = (live(cam, 1.0, model, args.live_seconds),
                       live(cam, 0.0, model, args.live_seconds))
            live_rounds.append({"on": on, "off": off})
            print(f"live round {r + 1}: check on {on['results_per_s']:.1f} results/s, "
                  f"latency p50 {on['latency_ms_p50']:.0f} ms, {on['people_checks']} checks "
                  f"of {on['people_check_ms_p50']:.0f} ms (p50) | off "
                  f"{off['results_per_s']:.1f} results/s, latency p50 "
                  f"{off['latency_ms_p50']:.0f} ms; CPU {on['cpu_s']:.1f} vs {off['cpu_s']:.1f} s",
                  flush=True)
    live_best_on = max((r["on"]["results_per_s"] for r in live_rounds), default=np.nan)
    live_best_off = max((r["off"]["results_per_s"] for r in live_rounds), default=np.nan)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "video": args.video.name,
        "offline": {"rounds": rounds, "best_fps_on": best_on, "best_fps_off": best_off,
                    "ratio_on_vs_off": best_on / best_off,
                    "cpu_s_on": cpu_on, "cpu_s_off": cpu_off,
                    "cpu_ms_per_check": 1000 * (cpu_on - cpu_off) / checks if checks else None,
                    "ms_per_check_min": min(ms), "ms_per_check_median": float(np.median(ms))},
        "live": {"rounds": live_rounds, "seconds": args.live_seconds,
                 "video": "640x480 @ 30 fps", "best_results_per_s_on": live_best_on,
                 "best_results_per_s_off": live_best_off,
                 "ratio_on_vs_off": live_best_on / live_best_off},
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"offline: on {best_on:.1f} fps vs off {best_off:.1f} fps = x{best_on / best_off:.3f}; "
          f"check {min(ms)}-{max(ms)} ms per checked frame; CPU {cpu_off:.2f} -> {cpu_on:.2f} s "
          f"(+{100 * (cpu_on / cpu_off - 1):.1f}%); live: on {live_best_on:.1f} vs "
          f"off {live_best_off:.1f} results/s = x{live_best_on / live_best_off:.3f}; "
          f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
