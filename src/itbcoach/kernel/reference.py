"""A deliberately naive reference of the kernel, in the common peer style.

One Python call per metric, numpy on tiny arrays, ``arccos`` of a normalised dot
product. It exists to check the compiled kernel (tests demand agreement to 1e-4 deg)
and as the baseline of ``benchmarks/kernel_bench.py``. Do not use it in the app.
"""

from __future__ import annotations

import numpy as np

from itbcoach.kernel.table import METRICS, Kind, MetricSpec


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    ba, bc = a - b, c - b
    cos = np.dot(ba, bc) / (np.linalg.norm(ba) * np.linalg.norm(bc))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _yaw(p: np.ndarray, a: int, b: int) -> float:
    d = p[a] - p[b]
    return float(np.degrees(np.arctan2(d[2], d[0])))


def _metric(spec: MetricSpec, p: np.ndarray, world: np.ndarray | None, h: float,
            scale: float, lat: float) -> float:
    pt = spec.points
    xy = p[:, :2]
    kind = spec.kind
    if kind == Kind.FLEXION:
        return 180.0 - _angle(xy[pt[0]], xy[pt[1]], xy[pt[2]])
    if kind == Kind.FLEXION_3D:
        if world is None:
            return float("nan")
        return 180.0 - _angle(world[pt[0]], world[pt[1]], world[pt[2]])
    if kind == Kind.ANGLE:
        return _angle(xy[pt[0]], xy[pt[1]], xy[pt[2]])
    if kind == Kind.FPPA:
        hip, knee, ankle = xy[pt[0]], xy[pt[1]], xy[pt[2]]
        mag = 180.0 - _angle(hip, knee, ankle)
        t = (knee[1] - hip[1]) / (ankle[1] - hip[1])
        line_x = hip[0] + t * (ankle[0] - hip[0])
        medial = lat if pt[3] == 1 else -lat
        return float(np.sign((knee[0] - line_x) * medial) * mag)
    if kind == Kind.MEDIAL_OFFSET:
        medial = lat if pt[2] == 1 else -lat
        return float((xy[pt[0]][0] - xy[pt[1]][0]) * medial / scale - spec.const)
    if kind == Kind.TILT:
        d = xy[pt[0]] - xy[pt[1]]
        return float(np.degrees(np.arctan2(d[1], abs(d[0]))))
    if kind in (Kind.LATERAL_LEAN, Kind.INCLINE):
        low = (xy[pt[0]] + xy[pt[1]]) / 2
        up = (xy[pt[2]] + xy[pt[3]]) / 2
        v = up - low
        vertical = np.array([0.0, -1.0])
        ang = _angle(low + v, low, low + vertical)
        return ang if kind == Kind.INCLINE else float(np.sign(v[0] * lat) * ang)
    if kind == Kind.DISTANCE:
        return float(np.linalg.norm(xy[pt[0]] - xy[pt[1]]) / scale)
    if kind == Kind.FOOT_ROTATION:
        d = xy[pt[1]] - xy[pt[0]]
        lateral = lat if pt[2] == 0 else -lat
        return float(np.degrees(np.arctan2(d[0] * lateral, d[1])))
    if kind == Kind.YAW:
        return _yaw(p, pt[0], pt[1])
    if kind == Kind.TWIST:
        t = _yaw(p, pt[0], pt[1]) - _yaw(p, pt[2], pt[3])
        return float((t + 180.0) % 360.0 - 180.0)
    if kind == Kind.WIDTH:
        return float(abs(xy[pt[0]][0] - xy[pt[1]][0]) / scale)
    if kind == Kind.GAP_RATIO:
        return float(abs(xy[pt[0]][0] - xy[pt[1]][0]) / abs(xy[pt[2]][0] - xy[pt[3]][0]))
    if kind == Kind.HEIGHT_DIFF:
        return float((xy[pt[1]][1] - xy[pt[0]][1]) / scale)
    if kind == Kind.MID_Y:
        return float((xy[pt[0]][1] + xy[pt[1]][1]) / 2 / scale)
    if kind == Kind.MID_X:
        return float((xy[pt[0]][0] + xy[pt[1]][0]) / 2 / scale)
    if kind == Kind.SCALE:
        return scale
    if kind == Kind.BODY_HEIGHT:
        return float((max(xy[pt[1]][1], xy[pt[2]][1]) - xy[pt[0]][1]) / h)
    if kind == Kind.FACING:
        return lat
    if kind == Kind.INCLINE_3D:
        if world is None:
            return float("nan")
        v = (world[pt[2]] + world[pt[3]]) / 2 - (world[pt[0]] + world[pt[1]]) / 2
        return _angle(np.array([0.0, -1.0, 0.0]), np.zeros(3), v)
    raise ValueError(f"unknown kind {kind}")


def reference_frame(landmarks: np.ndarray, image_size: tuple[int, int],
                    world_landmarks: np.ndarray | None = None) -> np.ndarray:
    """Metrics of one frame ``(33, >=3)`` -> ``(K,)``, the slow obvious way."""
    w, h = image_size
    p = np.asarray(landmarks, dtype=np.float64)[:, :3] * np.array([w, h, w])
    if not np.isfinite(p[[11, 12, 23, 24]]).all():
        return np.full(len(METRICS), np.nan)
    hips = (p[23, :2] + p[24, :2]) / 2
    shoulders = (p[11, :2] + p[12, :2]) / 2
    scale = float(np.linalg.norm(shoulders - hips))
    lat = float(np.sign((p[23, 0] - p[24, 0]) + (p[11, 0] - p[12, 0])))
    world = None if world_landmarks is None else np.asarray(world_landmarks, np.float64)
    with np.errstate(all="ignore"):
        return np.array([_metric(m, p, world, h, scale, lat) for m in METRICS])


def reference_metrics(landmarks: np.ndarray, image_size: tuple[int, int],
                      world_landmarks: np.ndarray | None = None) -> np.ndarray:
    """``(T, 33, C)`` -> ``(T, K)``, one frame at a time."""
    lm = np.asarray(landmarks)
    world = [None] * len(lm) if world_landmarks is None else world_landmarks
    return np.array([reference_frame(f, image_size, w) for f, w in zip(lm, world, strict=True)])
