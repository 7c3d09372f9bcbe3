"""The geometry kernel: landmarks ``[..., 33, C]`` -> metrics ``[..., K]``.

One pure function, :func:`compute_metrics`, serves one live frame and a whole recording.
It is compiled with numba from the metric table (:mod:`itbcoach.kernel.table`, whose
docstring fixes every convention); see docs/architecture.md ("Kernel speed") for why numba and
for the measured latency. Angles use ``atan2(|u x v|, u . v)``, exact near 0 and 180
degrees, through an inlined atan2 (:func:`_atan2`, error < 1e-9 deg) that halves the
batch cost against libm's. Division follows numpy's error model: x/0 is inf or NaN, never
an exception, and NaN input gives NaN output without warnings.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from itbcoach.kernel.table import NUM_METRICS, TABLE, Kind

_RAD2DEG = 180.0 / math.pi
_LS, _RS, _LH, _RH = 11, 12, 23, 24

#: Batches at least this long run on all cores.
PARALLEL_MIN_FRAMES = 4096

_FLEXION = int(Kind.FLEXION)
_FLEXION_3D = int(Kind.FLEXION_3D)
_ANGLE = int(Kind.ANGLE)
_FPPA = int(Kind.FPPA)
_MEDIAL_OFFSET = int(Kind.MEDIAL_OFFSET)
_TILT = int(Kind.TILT)
_LATERAL_LEAN = int(Kind.LATERAL_LEAN)
_INCLINE = int(Kind.INCLINE)
_DISTANCE = int(Kind.DISTANCE)
_FOOT_ROTATION = int(Kind.FOOT_ROTATION)
_YAW = int(Kind.YAW)
_TWIST = int(Kind.TWIST)
_WIDTH = int(Kind.WIDTH)
_GAP_RATIO = int(Kind.GAP_RATIO)
_HEIGHT_DIFF = int(Kind.HEIGHT_DIFF)
_MID_Y = int(Kind.MID_Y)
_MID_X = int(Kind.MID_X)
_SCALE = int(Kind.SCALE)
_BODY_HEIGHT = int(Kind.BODY_HEIGHT)
_FACING = int(Kind.FACING)
_INCLINE_3D = int(Kind.INCLINE_3D)


_TAN15 = 0.2679491924311227
_SQRT3 = 1.7320508075688772


@numba.njit(cache=True, error_model="numpy", inline="always")
def _atan2(y, x):
    """``math.atan2`` to ~1e-11 rad, about twice as fast (no libm call).

    Octant reduction, then ``atan(a) = pi/6 + atan((a*sqrt3 - 1)/(a + sqrt3))`` for
    ``a > tan 15 deg`` and the Taylor series to a^15 (truncation < 1e-11, plus rounding). NaN in,
    NaN out; signed zeros as libm.
    """
    ax = abs(x)
    ay = abs(y)
    swap = ay > ax
    mx = ay if swap else ax
    mn = ax if swap else ay
    a = mn / mx
    a = 0.0 if mx == 0.0 else a
    red = a > _TAN15
    a = (a * _SQRT3 - 1.0) / (a + _SQRT3) if red else a
    s = a * a
    r = a * (1.0 + s * (-1.0 / 3 + s * (1.0 / 5 + s * (-1.0 / 7 + s * (
        1.0 / 9 + s * (-1.0 / 11 + s * (1.0 / 13 - s / 15)))))))
    r = r + 0.5235987755982988 if red else r
    r = 1.5707963267948966 - r if swap else r
    r = math.pi - r if x < 0.0 else r
    return math.copysign(r, y) + 0.0 * x


@numba.njit(cache=True, error_model="numpy", inline="always")
def _angle2(ax, ay, bx, by, cx, cy):
    ux, uy = ax - bx, ay - by
    vx, vy = cx - bx, cy - by
    return _atan2(abs(ux * vy - uy * vx), ux * vx + uy * vy) * _RAD2DEG


@numba.njit(cache=True, error_model="numpy", inline="always")
def _angle3(a, b, c):
    ux, uy, uz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    vx, vy, vz = c[0] - b[0], c[1] - b[1], c[2] - b[2]
    cx = uy * vz - uz * vy
    cy = uz * vx - ux * vz
    cz = ux * vy - uy * vx
    return _atan2(math.sqrt(cx * cx + cy * cy + cz * cz), ux * vx + uy * vy + uz * vz) \
        * _RAD2DEG


@numba.njit(cache=True, error_model="numpy", inline="always")
def _px(lm, i, w):
    """x (or z, channel 2) of landmark ``i`` in pixels, in float64 whatever the input."""
    return np.float64(lm[i, 0]) * w


@numba.njit(cache=True, error_model="numpy", inline="always")
def _py(lm, i, h):
    return np.float64(lm[i, 1]) * h


@numba.njit(cache=True, error_model="numpy", inline="always")
def _pz(lm, i, w):
    return np.float64(lm[i, 2]) * w


@numba.njit(cache=True, error_model="numpy", inline="always")
def _yaw(lm, a, b, w):
    return _atan2(_pz(lm, a, w) - _pz(lm, b, w), _px(lm, a, w) - _px(lm, b, w)) * _RAD2DEG



@numba.njit(cache=True, error_model="numpy")
def _frame(lm, w, h, world, has_world, kinds, pts, consts, out):
    """Fill ``out (K,)`` from one frame ``lm (33, C)``; see the table for each kind."""
    hx = (_px(lm, _LH, w) + _px(lm, _RH, w)) * 0.5
    hy = (_py(lm, _LH, h) + _py(lm, _RH, h)) * 0.5
    sx = (_px(lm, _LS, w) + _px(lm, _RS, w)) * 0.5
    sy = (_py(lm, _LS, h) + _py(lm, _RS, h)) * 0.5
    scale = math.sqrt((sx - hx) ** 2 + (sy - hy) ** 2)
    inv = 1.0 / scale if scale > 0.0 else math.nan  # NaN scale stays NaN
    side_dx = (_px(lm, _LH, w) - _px(lm, _RH, w)) + (_px(lm, _LS, w) - _px(lm, _RS, w))
    lat = 1.0 if side_dx > 0.0 else (-1.0 if side_dx < 0.0 else math.nan)
    for k in range(kinds.shape[0]):
        kind = kinds[k]
        a, b, c, d = pts[k, 0], pts[k, 1], pts[k, 2], pts[k, 3]
        if kind == _FLEXION:
            out[k] = 180.0 - _angle2(_px(lm, a, w), _py(lm, a, h), _px(lm, b, w), _py(lm, b, h),
                                     _px(lm, c, w), _py(lm, c, h))
        elif kind == _FLEXION_3D:
            out[k] = 180.0 - _angle3(world[a], world[b], world[c]) if has_world else math.nan
        elif kind == _ANGLE:
            out[k] = _angle2(_px(lm, a, w), _py(lm, a, h), _px(lm, b, w), _py(lm, b, h),
                             _px(lm, c, w), _py(lm, c, h))
        elif kind == _FPPA:
            ax, ay = _px(lm, a, w), _py(lm, a, h)  # hip
            bx, by = _px(lm, b, w), _py(lm, b, h)  # knee
            cx, cy = _px(lm, c, w), _py(lm, c, h)  # ankle
            mag = 180.0 - _angle2(ax, ay, bx, by, cx, cy)
            # sign of the knee's x offset from the hip->ankle line at the knee's height:
            # the cross product gives "rightward" for a line pointing down the image,
            # times uy flips it for a line pointing up
            ux, uy = cx - ax, cy - ay
            right = -(ux * (by - ay) - uy * (bx - ax))
            medial = lat if d == 1 else -lat  # image-x sign of the medial direction
            s = right * medial * uy
            out[k] = mag if s > 0.0 else (-mag if s < 0.0 else mag * 0.0 * s)
        elif kind == _MEDIAL_OFFSET:
            medial = lat if c == 1 else -lat
            out[k] = (_px(lm, a, w) - _px(lm, b, w)) * medial * inv - consts[k]
        elif kind == _TILT:
            out[k] = _atan2(_py(lm, a, h) - _py(lm, b, h),
                                abs(_px(lm, a, w) - _px(lm, b, w))) * _RAD2DEG
        elif kind == _LATERAL_LEAN or kind == _INCLINE:
            lx = (_px(lm, a, w) + _px(lm, b, w)) * 0.5
            ly = (_py(lm, a, h) + _py(lm, b, h)) * 0.5
            ux = (_px(lm, c, w) + _px(lm, d, w)) * 0.5
            uy = (_py(lm, c, h) + _py(lm, d, h)) * 0.5
            if kind == _LATERAL_LEAN:
                out[k] = _atan2((ux - lx) * lat, ly - uy) * _RAD2DEG
            else:
                out[k] = _atan2(abs(ux - lx), ly - uy) * _RAD2DEG
        elif kind == _DISTANCE:
            dx = _px(lm, a, w) - _px(lm, b, w)
            dy = _py(lm, a, h) - _py(lm, b, h)
            out[k] = math.sqrt(dx * dx + dy * dy) * inv
        elif kind == _FOOT_ROTATION:
            lateral = lat if c == 0 else -lat
            out[k] = _atan2((_px(lm, b, w) - _px(lm, a, w)) * lateral,
                                _py(lm, b, h) - _py(lm, a, h)) * _RAD2DEG
        elif kind == _YAW:
            out[k] = _yaw(lm, a, b, w)
        elif kind == _TWIST:
            t = _yaw(lm, a, b, w) - _yaw(lm, c, d, w)
            if t > 180.0:
                t -= 360.0
            elif t < -180.0:
                t += 360.0
            out[k] = t
        elif kind == _WIDTH:
            out[k] = abs(_px(lm, a, w) - _px(lm, b, w)) * inv
        elif kind == _GAP_RATIO:
            den = abs(_px(lm, c, w) - _px(lm, d, w))
            out[k] = abs(_px(lm, a, w) - _px(lm, b, w)) / den if den != 0.0 else math.nan
        elif kind == _HEIGHT_DIFF:
            out[k] = (_py(lm, b, h) - _py(lm, a, h)) * inv
        elif kind == _MID_Y:
            out[k] = (_py(lm, a, h) + _py(lm, b, h)) * 0.5 * inv
        elif kind == _MID_X:
            out[k] = (_px(lm, a, w) + _px(lm, b, w)) * 0.5 * inv
        elif kind == _SCALE:
            out[k] = scale
        elif kind == _BODY_HEIGHT:
            yb, yc = _py(lm, b, 1.0), _py(lm, c, 1.0)
            out[k] = max(yb, yc) - _py(lm, a, 1.0) if yb == yb and yc == yc else math.nan
        elif kind == _FACING:
            out[k] = lat
        elif kind == _INCLINE_3D:
            if has_world:
                vx = (world[c, 0] + world[d, 0] - world[a, 0] - world[b, 0]) * 0.5
                vy = (world[c, 1] + world[d, 1] - world[a, 1] - world[b, 1]) * 0.5
                vz = (world[c, 2] + world[d, 2] - world[a, 2] - world[b, 2]) * 0.5
                out[k] = math.atan2(math.sqrt(vx * vx + vz * vz), -vy) * _RAD2DEG
            else:
                out[k] = math.nan
        else:
            out[k] = math.nan


@numba.njit(cache=True, error_model="numpy")
def _run_serial(lm, w, h, world, has_world, kinds, pts, consts, out):
    for t in range(lm.shape[0]):
        _frame(lm[t], w, h, world[t * np.int64(has_world)], has_world, kinds, pts, consts,
               out[t])


@numba.njit(cache=True, error_model="numpy", parallel=True)
def _run_parallel(lm, w, h, world, has_world, kinds, pts, consts, out):
    for t in numba.prange(lm.shape[0]):
        _frame(lm[t], w, h, world[t * np.int64(has_world)], has_world, kinds, pts, consts,
               out[t])


_NO_WORLD = np.full((1, 33, 3), np.nan)


def compute_metrics(landmarks: np.ndarray, image_size: tuple[int, int],
                    world_landmarks: np.ndarray | None = None) -> np.ndarray:
    """Per-frame metrics of one or many frames.

    Args:
        landmarks: ``[..., 33, C]`` normalised image landmarks, ``C >= 3`` (x, y, z; a
            4th channel such as visibility is ignored). Missing = NaN.
        image_size: ``(width, height)`` in pixels of the frames the landmarks came from.
        world_landmarks: optional ``[..., 33, 3]`` metres, same leading shape.

    Returns:
        ``[..., K]`` float64, columns in the order of :data:`itbcoach.kernel.METRIC_NAMES`
        (index with :class:`itbcoach.kernel.Metric`).
    """
    lm = np.asarray(landmarks)
    lead = lm.shape[:-2]
    flat = lm.reshape(-1, lm.shape[-2], lm.shape[-1])
    if flat.shape[1] != 33 or flat.shape[2] < 3:
        raise ValueError(f"landmarks must have shape [..., 33, >=3], got {lm.shape}")
    if world_landmarks is None:
        world, has_world = _NO_WORLD, False
    else:
        world = np.asarray(world_landmarks).reshape(-1, 33, 3)
        if world.shape[0] != flat.shape[0]:
            raise ValueError(f"world_landmarks shape {np.shape(world_landmarks)} does not "
                             f"match landmarks {lm.shape}")
        has_world = True
    out = np.empty((flat.shape[0], NUM_METRICS))
    run = _run_parallel if flat.shape[0] >= PARALLEL_MIN_FRAMES else _run_serial
    run(flat, float(image_size[0]), float(image_size[1]), world, has_world,
        TABLE.kinds, TABLE.points, TABLE.consts, out)
    return out.reshape(*lead, NUM_METRICS)


def compute_frame(landmarks: np.ndarray, image_size: tuple[int, int],
                  world_landmarks: np.ndarray | None = None,
                  out: np.ndarray | None = None) -> np.ndarray:
    """Metrics of one live frame ``(33, C)`` -> ``(K,)``, the low-overhead path.

    The same compiled code as :func:`compute_metrics`; ``out`` may be passed to reuse a
    buffer.
    """
    if out is None:
        out = np.empty(NUM_METRICS)
    if world_landmarks is None:
        _frame(landmarks, float(image_size[0]), float(image_size[1]), _NO_WORLD[0], False,
               TABLE.kinds, TABLE.points, TABLE.consts, out)
    else:
        _frame(landmarks, float(image_size[0]), float(image_size[1]), world_landmarks, True,
               TABLE.kinds, TABLE.points, TABLE.consts, out)
    return out
