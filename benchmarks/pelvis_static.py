"""Does MediaPipe's hip line follow a *clean* pelvic drop? Static renders (issue 5, item 4).

Left stance leg, trunk upright, the free right leg hanging vertically (its hip abduction
compensates the obliquity, so the free foot stays under its hip: unlike the step-down
script, which swings the free leg with the pelvis). Pelvic obliquity -5, 0, 5, 10 deg at
stance-knee flexion 0, 30, 50 deg; each pose rendered at 640x480 and run through
PoseLandmarker (IMAGE mode). Prints and writes ``benchmarks/results/pelvis_static.json``:
the projected rig hip line, MediaPipe's image hip line and its world-landmark hip line.

Usage (needs ``[synth]``): ``python benchmarks/pelvis_static.py``
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def _tilt(right: np.ndarray, left: np.ndarray, world: bool = False) -> float:
    """Hip line, + = the subject's left hip higher (image y down; world y down too)."""
    horiz = np.hypot(right[0] - left[0], right[2] - left[2]) if world \
        else abs(right[0] - left[0])
    return float(np.degrees(np.arctan2(right[1] - left[1], horiz)))


def main() -> int:
    import cv2

    from itbcoach.config import load_config
    from itbcoach.landmarks import Landmark as L
    from itbcoach.pose import extract_landmarks
    from itbcoach.synth.anny_body import PARTS, _load_anny
    from itbcoach.synth.clip import ClipOptions, _colors, get_body
    from itbcoach.synth.motion import Motion
    from itbcoach.synth.render import Box, Renderer, Scene

    _load_anny()
    body = get_body(())
    cfg = load_config(use_user_file=False)
    opts = ClipOptions()
    cam = opts.camera()
    size = np.array([opts.width, opts.height], float)
    left_shoe = (body.vertex_part == PARTS.index("shoes")) & \
        (body.rest_vertices_anny[:, 0] > 0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (kf, obl) in enumerate((k, o) for k in (0.0, 30.0, 50.0)
                                      for o in (0.0, 5.0, 10.0, -5.0)):
            hf = 0.6 * kf
            m = Motion.neutral(np.zeros(1), body.dims, hands_on_waist=True)
            m = m.replace(pelvis_obliquity=np.array([obl]))
            m = m.set_side("left", knee_flexion=kf, hip_flexion=hf, ankle_dorsiflexion=kf - hf)
            m = m.set_side("right", hip_flexion=hf + 10.0, knee_flexion=0.5 * kf + 10.0,
                           hip_abduction=obl)
            pb = body.pose(m)
            v = pb.vertices[0].copy()
            dz = 0.20 - float(v[left_shoe, 2].min())  # left sole on a 20 cm step
            v[:, 2] += dz
            lm = pb.landmarks.copy()
            lm[..., 2] += dz
            image, _ = cam.project(lm)
            px = image[0, :, :2] * size
            scene = Scene(boxes=(Box((0.0, 0.2, 0.1), (0.42, 0.44, 0.2)),), noise_sd=2.0)
            with Renderer(cam, body.faces, _colors(body, 0), scene, seed=i) as r:
                frame = r.render(v)
            path = Path(tmp) / f"pose{i:02d}.png"
            cv2.imwrite(str(path), frame)
            seq, _ = extract_landmarks(path, cfg, progress=False)
            q = seq.landmarks[0, :, :2].astype(float) * size
            w = seq.world_landmarks[0].astype(float) if seq.world_landmarks is not None \
                else np.full((33, 3), np.nan)
            row = {"stance_knee_flexion": kf, "set_obliquity": obl,
                   "rig_projected": _tilt(px[L.RIGHT_HIP], px[L.LEFT_HIP]),
                   "mediapipe_image": _tilt(q[L.RIGHT_HIP], q[L.LEFT_HIP]),
                   "mediapipe_world": _tilt(w[L.RIGHT_HIP], w[L.LEFT_HIP], world=True)}
            rows.append(row)
            print(" ".join(f"{k} {v:+6.2f}" for k, v in row.items()), flush=True)
    for key in ("mediapipe_image", "mediapipe_world"):
        x = np.array([r["set_obliquity"] for r in rows])
        y = np.array([r[key] for r in rows])
        k = np.array([r["stance_knee_flexion"] for r in rows])
        # slope within each knee angle (offsets removed), pooled
        xc = np.concatenate([x[k == a] - x[k == a].mean() for a in np.unique(k)])
        yc = np.concatenate([y[k == a] - y[k == a].mean() for a in np.unique(k)])
        print(f"{key}: slope {float(xc @ yc / (xc @ xc)):.2f}, level-pelvis reading "
              f"{', '.join(f'{y[(k == a) & (x == 0)][0]:+.1f}' for a in np.unique(k))} "
              f"at stance knee {', '.join(f'{a:.0f}' for a in np.unique(k))} deg")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pelvis_static.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
