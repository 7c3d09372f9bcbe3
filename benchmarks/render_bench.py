"""Where a synthetic render's time goes: one short held-out step-down clip, per stage.

Renders case ``--case`` of ``synth.dataset.wide_cases`` cut to one rep of its first leg
at ``--size`` (default 1280x720) into a temporary folder, with wall-clock timers around
the stages of ``synth.clip.stepdown_clip``: posing (anny: rest model, forward kinematics,
skinning; the hands are solved in 2 passes on every 4th frame, the sole settled on ~30
frames, then every frame posed), and per frame the vertex normals, the draw (4x
multisampled, llvmpipe), the multisample resolve, the read-back, the pixel noise and the
H.264 encoding. Prints the table and writes ``benchmarks/results/render_bench.json``.

Usage (needs ``[synth]``): ``python benchmarks/render_bench.py [--case 1] [--size 1280x720]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", type=int, default=1, help="wide_cases index (default 1)")
    ap.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT (default 1280x720)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))

    import moderngl

    from itbcoach.synth import anny_body, clip, render
    from itbcoach.synth.dataset import wide_cases

    case = wide_cases(args.case + 1)[args.case]
    assert case.spec is not None
    legs = tuple(dataclasses.replace(leg, reps=1) for leg in case.spec.legs[:1])
    spec = dataclasses.replace(case.spec, legs=legs)
    opts = dataclasses.replace(case.options, width=w, height=h)
    clip.get_body(opts.phenotype)  # the body build is cached per process: not counted

    stages: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - t
        return wrapper

    anny_body.AnnyBody.pose = timed("pose", anny_body.AnnyBody.pose)
    render.vertex_normals = timed("normals", render.vertex_normals)

    orig_render = render.Renderer.render

    def frame(self, vertices):
        t = time.perf_counter()
        self.ctx.finish()  # nothing queued: the draw below is timed on its own
        out = orig_render(self, vertices)
        stages["frame_total"] = stages.get("frame_total", 0.0) + time.perf_counter() - t
        return out

    render.Renderer.render = frame
    frames = [0]

    def progress(i: int, n: int) -> None:
        frames[0] = n

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        clip.stepdown_clip(spec, Path(tmp) / "bench.mp4", options=opts, progress=progress)
        total = time.perf_counter() - t0
    # draw / resolve / noise split on the last body pose (synchronous, 8 frames)
    body = clip.get_body(opts.phenotype)
    from itbcoach.synth.motion import Motion

    verts = body.pose(Motion.neutral(np.zeros(1), body.dims)).vertices[0]
    split: dict[str, float] = {}
    with render.Renderer(opts.camera(0.95), body.faces, clip._colors(body, opts.palette),
                         render.Scene(noise_sd=opts.noise_sd), seed=1) as r:
        for _ in range(8):
            r.fbo_ms.use()
            r.ctx.enable(moderngl.DEPTH_TEST)
            t = time.perf_counter()
            r.ctx.clear(0.0, 0.0, 0.0, 1.0)
            r.static.render(moderngl.TRIANGLES)
            r.body_vao.render(moderngl.TRIANGLES)
            r.ctx.finish()
            t1 = time.perf_counter()
            r.ctx.copy_framebuffer(r.fbo, r.fbo_ms)
            r.ctx.finish()
            t2 = time.perf_counter()
            r.render(verts)
            t3 = time.perf_counter()
            for k, v in (("draw_4x", t1 - t), ("resolve", t2 - t1), ("render_call", t3 - t2)):
                split[k] = split.get(k, 0.0) + v / 8
    n = frames[0]
    out = {"case": case.name, "size": [w, h], "frames": n, "total_s": round(total, 2),
           "per_frame_s": round(total / max(n, 1), 4),
           "stages_s": {k: round(v, 2) for k, v in stages.items()},
           "per_frame_split_s": {k: round(v, 4) for k, v in split.items()},
           "load_1min": round(os.getloadavg()[0], 1)}
    print(json.dumps(out, indent=1))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "render_bench.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
