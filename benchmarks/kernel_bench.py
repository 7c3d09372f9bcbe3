"""Geometry kernel speed: compiled kernel vs the naive per-angle reference, one run.

Measures, for the full metric set:
* single-frame latency (p50, p99) of ``compute_frame`` (the live path) and of
  ``compute_metrics`` on one frame (the general API), against the naive reference;
* batch throughput (frames/s) of ``compute_metrics`` on 100k frames against the reference
  (timed on a subset and extrapolated; it needs ~200 us a frame).

Prints a table with the ratios and writes ``benchmarks/results/kernel.json``.

    python benchmarks/kernel_bench.py [--frames 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from itbcoach.kernel import NUM_METRICS, compute_frame, compute_metrics
from itbcoach.kernel.reference import reference_frame

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"single_p50_us": 10.0, "single_speedup": 5.0, "batch_fps": 3e6}


def poses(n: int, seed: int = 0) -> np.ndarray:
    """``(n, 33, 3)`` float32 plausible standing poses with jitter (normalised coords)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.3, 0.7, (33, 3)).astype(np.float32)
    base[:, 2] *= 0.1
    return (base + rng.normal(0, 0.02, (n, 33, 3))).astype(np.float32)


def latencies_us(fn, frames: np.ndarray, n: int) -> np.ndarray:
    """Per-call wall time of ``fn(frame)`` in microseconds, cycling through ``frames``."""
    out = np.empty(n)
    k = len(frames)
    clock = time.perf_counter_ns
    for i in range(n):
        f = frames[i % k]
        t0 = clock()
        fn(f)
        out[i] = clock() - t0
    return out / 1000.0


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=RESULTS.parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--single-calls", type=int, default=50_000)
    args = ap.parse_args()

    size = (1280, 720)
    singles = poses(256, seed=1)
    buf = np.empty(NUM_METRICS)
    compute_frame(singles[0], size, out=buf)  # compile / load the cache
    compute_metrics(poses(10_000), size)

    lat_fast = latencies_us(lambda f: compute_frame(f, size, out=buf), singles,
                            args.single_calls)
    lat_api = latencies_us(lambda f: compute_metrics(f, size), singles, args.single_calls)
    lat_ref = latencies_us(lambda f: reference_frame(f, size), singles,
                           max(200, args.single_calls // 50))

    batch = poses(args.frames)
    best = min(_timed(lambda: compute_metrics(batch, size)) for _ in range(args.repeat))
    ref_n = 2_000
    ref_t = _timed(lambda: [reference_frame(f, size) for f in batch[:ref_n]])

    res = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "metrics": NUM_METRICS,
        "single_frame_us": {
            "compute_frame": _pct(lat_fast),
            "compute_metrics": _pct(lat_api),
            "naive_reference": _pct(lat_ref),
        },
        "batch": {
            "frames": args.frames,
            "kernel_fps": args.frames / best,
            "naive_fps": ref_n / ref_t,
        },
    }
    sp_live = res["single_frame_us"]["naive_reference"]["p50"] / res["single_frame_us"][
        "compute_frame"]["p50"]
    sp_api = res["single_frame_us"]["naive_reference"]["p50"] / res["single_frame_us"][
        "compute_metrics"]["p50"]
    sp_batch = res["batch"]["kernel_fps"] / res["batch"]["naive_fps"]
    res["ratios"] = {"single_live_vs_naive": sp_live, "single_api_vs_naive": sp_api,
                     "batch_vs_naive": sp_batch}
    res["targets_met"] = {
        "single_p50_le_10us": res["single_frame_us"]["compute_frame"]["p50"]
        <= TARGETS["single_p50_us"],
        "single_ge_5x_naive": sp_live >= TARGETS["single_speedup"],
        "batch_ge_3M_fps": res["batch"]["kernel_fps"] >= TARGETS["batch_fps"],
    }

    s = res["single_frame_us"]
    print(f"kernel benchmark ({NUM_METRICS} metrics, {res['machine']}, commit {res['commit']})")
    print(f"{'':28s}{'p50 us':>10s}{'p99 us':>10s}")
    for name, row in s.items():
        print(f"{name:28s}{row['p50']:10.2f}{row['p99']:10.2f}")
    print(f"single frame speed-up vs naive: {sp_live:.0f}x (compute_frame), "
          f"{sp_api:.0f}x (compute_metrics)")
    print(f"batch: kernel {res['batch']['kernel_fps'] / 1e6:.2f} M frames/s, naive "
          f"{res['batch']['naive_fps'] / 1e3:.2f} k frames/s, ratio {sp_batch:.0f}x")
    print("targets:", ", ".join(f"{k}={'yes' if v else 'NO'}"
                                for k, v in res["targets_met"].items()))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kernel.json").write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {RESULTS / 'kernel.json'}")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _pct(us: np.ndarray) -> dict[str, float]:
    return {"p50": float(np.percentile(us, 50)), "p99": float(np.percentile(us, 99))}


if __name__ == "__main__":
    main()
