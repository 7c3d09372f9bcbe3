"""Live step-down cost per frame over a long session: flat, not growing with the session.

A 10-minute session (30 fps, 18,000 frames) of step-down reps, replayed through the live
path without the model: the synthetic renderer's landmarks (two legs, 2 px noise)
repeated back to back with continuing timestamps, each frame through the shared
:class:`~itbcoach.stream.FrameProcessor` (mask, One-Euro, kernel, framing) and the live
:class:`~itbcoach.live.stepdown.StepdownCoach` (its target raised so every rep of the
session is counted and measured). Reports the time per frame (mean, p50, p99, max) in
the first and the last minute, the median and mean of every minute (a trend shows
there; a busy machine shows as noise), the process RSS after each minute, and writes
``benchmarks/results/stepdown_session.json``.

(Before the streaming session the coach re-scored the whole growing buffer at every rep:
O(N^2) over a session; issue 14.)

    python benchmarks/stepdown_session_bench.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from itbcoach.config import load_config
from itbcoach.landmarks import PoseSequence
from itbcoach.live.stepdown import StepdownCoach
from itbcoach.stream import FrameProcessor
from itbcoach.synth.kinematics import Noise
from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown

RESULTS = Path(__file__).resolve().parent / "results"
FPS = 30.0


def rss_mb() -> float:
    """Resident set size now, MB (Linux)."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def stats_ms(seconds: list[float]) -> dict[str, float]:
    """Mean, p50, p99 and max of per-frame times, ms."""
    a = np.asarray(seconds) * 1000.0
    return {"mean": round(float(a.mean()), 3), "p50": round(float(np.percentile(a, 50)), 3),
            "p99": round(float(np.percentile(a, 99)), 3), "max": round(float(a.max()), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    config = load_config(use_user_file=False)
    spec = StepdownSpec(legs=(LegSpec("left", reps=5), LegSpec("right", reps=5)), fps=FPS)
    synth, _ = render_stepdown(spec, noise=Noise(image_px=2.0, seed=3))
    block: PoseSequence = synth.pose
    period_ms = int(block.timestamps_ms[-1]) + round(1000 / FPS)
    total = round(args.minutes * 60 * FPS)
    coach = StepdownCoach(config)
    coach.target = 10**6  # count the whole session (no pain question after 5 reps)
    coach.warm_up()
    processor = FrameProcessor(config)
    per_frame: list[float] = []
    rss: list[tuple[float, float]] = [(0.0, rss_mb())]
    reps = 0
    for i in range(total):
        k, j = divmod(i, len(block))
        one = block.slice(j, j + 1)
        one = PoseSequence(one.landmarks, one.visibility, one.presence,
                           one.timestamps_ms + k * period_ms, one.image_size,
                           one.world_landmarks)
        t0 = time.perf_counter()
        frame = processor(one, i, coach.view)
        reps += sum(e.kind == "rep" for e in coach.update(frame))
        per_frame.append(time.perf_counter() - t0)
        if (i + 1) % round(60 * FPS) == 0:
            rss.append(((i + 1) / FPS, rss_mb()))
    minute = round(60 * FPS)
    out = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "minutes": args.minutes, "frames": total,
        "reps_counted": reps,
        "first_minute_ms": stats_ms(per_frame[:minute]),
        "last_minute_ms": stats_ms(per_frame[-minute:]),
        "p50_ms_per_minute": [round(float(np.percentile(per_frame[i:i + minute], 50)) * 1000,
                                    3) for i in range(0, total - minute + 1, minute)],
        "mean_ms_per_minute": [round(float(np.mean(per_frame[i:i + minute])) * 1000, 3)
                               for i in range(0, total - minute + 1, minute)],
        "rss_mb": [(round(t), round(m, 1)) for t, m in rss],
        "kept_frames_at_end": len(coach.session._kept),
    }
    print(json.dumps(out, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stepdown_session.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
