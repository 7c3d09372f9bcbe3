"""Kernel metrics against hand-built landmark configurations with known answers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from itbcoach.kernel import (
    FOOT_HALF_BREADTH,
    METRIC_NAMES,
    NUM_METRICS,
    Metric,
    compute_frame,
    compute_metrics,
)
from itbcoach.kernel.core import PARALLEL_MIN_FRAMES
from itbcoach.kernel.reference import reference_frame, reference_metrics
from itbcoach.landmarks import Landmark as L

TOL = 1e-6  # degrees / body scales for exact constructions

# A subject standing square to the camera, in pixels of a 640x480 frame (y down). The
# subject's left is on the image's right. Torso length (shoulder mid -> hip mid) = 150 px.
STANDING_PX = {
    L.NOSE: (320, 50, 0), L.LEFT_EYE: (328, 42, 0), L.RIGHT_EYE: (312, 42, 0),
    L.LEFT_EAR: (338, 48, 0), L.RIGHT_EAR: (302, 48, 0),
    L.LEFT_SHOULDER: (360, 100, 0), L.RIGHT_SHOULDER: (280, 100, 0),
    L.LEFT_ELBOW: (370, 170, 0), L.RIGHT_ELBOW: (270, 170, 0),
    L.LEFT_WRIST: (372, 240, 0), L.RIGHT_WRIST: (268, 240, 0),
    L.LEFT_HIP: (350, 250, 0), L.RIGHT_HIP: (290, 250, 0),
    L.LEFT_KNEE: (350, 350, 0), L.RIGHT_KNEE: (290, 350, 0),
    L.LEFT_ANKLE: (350, 450, 0), L.RIGHT_ANKLE: (290, 450, 0),
    L.LEFT_HEEL: (350, 460, 0), L.RIGHT_HEEL: (290, 460, 0),
    L.LEFT_FOOT_INDEX: (350, 470, 0), L.RIGHT_FOOT_INDEX: (290, 470, 0),
}


def frame(px: dict[L, tuple[float, float, float]] | None = None,
          size: tuple[int, int] = (640, 480), **moves: tuple[float, float, float]) -> np.ndarray:
    """Normalised ``(33, 3)`` landmarks from pixel positions (unlisted points at the hips).

    The base pose is :data:`STANDING_PX` scaled from 640x480 into ``size`` about the
    frame centre with one isotropic factor, so angles are unchanged for any aspect ratio.
    """
    pts = dict(STANDING_PX if px is None else px)
    pts.update({L[k.upper()]: v for k, v in moves.items()})
    w, h = size
    k = min(w / 640, h / 480)
    out = np.empty((33, 3))
    for i in range(33):
        x, y, z = pts.get(L(i), (320, 250, 0))
        out[i] = ((w / 2 + (x - 320) * k) / w, (h / 2 + (y - 240) * k) / h, z * k / w)
    return out


def m(lm: np.ndarray, size: tuple[int, int] = (640, 480), world: np.ndarray | None = None,
      ) -> np.ndarray:
    return compute_metrics(lm, size, world)


SIZES = [(640, 480), (1280, 720), (720, 1280), (1080, 1080)]


@pytest.mark.parametrize("size", SIZES)
def test_standing_pose_is_neutral(size: tuple[int, int]) -> None:
    out = m(frame(size=size), size)
    for name in ("pelvic_obliquity", "shoulder_obliquity", "trunk_lean", "trunk_incline",
                 "fppa_left", "fppa_right", "knee_flexion_left", "knee_flexion_right",
                 "foot_rotation_left", "foot_rotation_right", "body_yaw",
                 "shoulder_hip_twist"):
        assert out[Metric[name.upper()]] == pytest.approx(0.0, abs=TOL), name
    assert out[Metric.BODY_SCALE] == pytest.approx(150 * min(size[0] / 640, size[1] / 480))
    assert out[Metric.FACING] == 1.0
    assert out[Metric.SHOULDER_WIDTH] == pytest.approx(80 / 150)
    assert out[Metric.HIP_WIDTH] == pytest.approx(60 / 150)
    assert out[Metric.KNEE_ANKLE_GAP_RATIO] == pytest.approx(1.0)
    assert out[Metric.ANKLE_SEPARATION] == pytest.approx(60 / 150)
    assert out[Metric.KNEE_OFFSET_TOE_LEFT] == pytest.approx(0.0, abs=TOL)
    assert out[Metric.KNEE_OFFSET_FOOT_RIGHT] == pytest.approx(-FOOT_HALF_BREADTH, abs=TOL)
    k = min(size[0] / 640, size[1] / 480)
    assert out[Metric.BODY_HEIGHT] == pytest.approx(410 * k / size[1])


def tilted(points: dict, pivot: tuple[float, float], names: tuple[L, ...], deg: float) -> dict:
    """Rotate ``names`` about ``pivot`` by ``deg`` (positive = counter-clockwise on screen)."""
    out = dict(points)
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    for n in names:
        x, y, z = out[n]
        dx, dy = x - pivot[0], y - pivot[1]
        # screen CCW with y down: x' = x cos + y sin, y' = -x sin + y cos
        out[n] = (pivot[0] + dx * c + dy * s, pivot[1] - dx * s + dy * c, z)
    return out


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("deg", [7.0, -7.0, 15.0])
def test_pelvic_obliquity_exact(size: tuple[int, int], deg: float) -> None:
    # CCW on screen raises the image-right point = the subject's left hip
    pts = tilted(STANDING_PX, (320, 250), (L.LEFT_HIP, L.RIGHT_HIP), deg)
    out = m(frame(pts, size), size)
    assert out[Metric.PELVIC_OBLIQUITY] == pytest.approx(deg, abs=TOL)


def test_obliquity_sign_is_anatomical_when_facing_away() -> None:
    # back to the camera: the subject's left hip appears on the image's left
    pts = {k: (640 - x, y, z) for k, (x, y, z) in STANDING_PX.items()}
    pts[L.LEFT_HIP] = (pts[L.LEFT_HIP][0], 240, 0)  # left hip 10 px higher
    out = m(frame(pts))
    assert out[Metric.FACING] == -1.0
    assert out[Metric.PELVIC_OBLIQUITY] == pytest.approx(math.degrees(math.atan2(10, 60)))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("deg", [12.0, -8.0])
def test_trunk_lean_exact(size: tuple[int, int], deg: float) -> None:
    # rotate the shoulders about the hip midpoint; screen CW (negative) moves the
    # shoulders to the image right = toward the subject's left = positive lean
    pts = tilted(STANDING_PX, (320, 250), (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), -deg)
    out = m(frame(pts, size), size)
    assert out[Metric.TRUNK_LEAN] == pytest.approx(deg, abs=TOL)
    assert out[Metric.TRUNK_INCLINE] == pytest.approx(abs(deg), abs=TOL)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("valgus", [20.0, -10.0])
def test_fppa_sign_and_magnitude_both_legs(size: tuple[int, int], valgus: float) -> None:
    shift = 100 * math.tan(math.radians(valgus / 2))  # knee 100 px below hip and above ankle
    # medial for the left leg is toward the image left (the right hip) when facing us
    pts = dict(STANDING_PX)
    pts[L.LEFT_KNEE] = (350 - shift, 350, 0)
    pts[L.RIGHT_KNEE] = (290 + shift, 350, 0)
    out = m(frame(pts, size), size)
    assert out[Metric.FPPA_LEFT] == pytest.approx(valgus, abs=TOL)
    assert out[Metric.FPPA_RIGHT] == pytest.approx(valgus, abs=TOL)
    assert out[Metric.KNEE_FLEXION_LEFT] == pytest.approx(abs(valgus), abs=TOL)
    # knee gap narrows with valgus
    assert out[Metric.KNEE_ANKLE_GAP_RATIO] == pytest.approx((60 - 2 * shift) / 60)


def test_fppa_valgus_stays_positive_when_facing_away() -> None:
    pts = {k: (640 - x, y, z) for k, (x, y, z) in STANDING_PX.items()}
    # left leg now on the image left; medial (toward the right hip) is image right
    pts[L.LEFT_KNEE] = (pts[L.LEFT_KNEE][0] + 10, 350, 0)
    out = m(frame(pts))
    assert out[Metric.FPPA_LEFT] == pytest.approx(2 * math.degrees(math.atan2(10, 100)))


@pytest.mark.parametrize("size", SIZES)
def test_knee_offsets_vs_toe_and_foot_border(size: tuple[int, int]) -> None:
    pts = dict(STANDING_PX)
    pts[L.LEFT_KNEE] = (350 - 30, 350, 0)  # 30 px = 0.2 torso medial
    pts[L.RIGHT_KNEE] = (290 - 15, 350, 0)  # 15 px lateral for the right leg
    out = m(frame(pts, size), size)
    assert out[Metric.KNEE_OFFSET_TOE_LEFT] == pytest.approx(0.2, abs=TOL)
    assert out[Metric.KNEE_OFFSET_FOOT_LEFT] == pytest.approx(0.2 - FOOT_HALF_BREADTH, abs=TOL)
    assert out[Metric.KNEE_OFFSET_TOE_RIGHT] == pytest.approx(-0.1, abs=TOL)


def test_side_view_knee_and_hip_flexion() -> None:
    # side-on squat: thigh horizontal forward (image right), shank vertical
    pts = dict(STANDING_PX)
    for side in ("LEFT", "RIGHT"):
        pts[L[f"{side}_SHOULDER"]] = (320, 100, 0)
        pts[L[f"{side}_HIP"]] = (320, 250, 0)
        pts[L[f"{side}_KNEE"]] = (420, 250, 0)
        pts[L[f"{side}_ANKLE"]] = (420, 350, 0)
    out = m(frame(pts))
    assert out[Metric.KNEE_FLEXION_LEFT] == pytest.approx(90.0, abs=TOL)
    assert out[Metric.HIP_FLEXION_RIGHT] == pytest.approx(90.0, abs=TOL)
    assert np.isnan(out[Metric.FACING])  # left and right overlap exactly
    assert np.isnan(out[Metric.FPPA_LEFT]) and np.isnan(out[Metric.TRUNK_LEAN])


def test_3d_flexion_from_world_landmarks() -> None:
    world = np.zeros((33, 3))
    world[L.LEFT_HIP] = (0.1, 0.0, 0.0)
    world[L.LEFT_KNEE] = (0.1, 0.4, 0.0)
    a = math.radians(60)
    world[L.LEFT_ANKLE] = (0.1, 0.4 + 0.4 * math.cos(a), 0.4 * math.sin(a))  # shank 60 deg back
    world[L.LEFT_SHOULDER] = (0.1, -0.5, 0.0)
    out = m(frame(), world=world)
    assert out[Metric.KNEE_FLEXION_3D_LEFT] == pytest.approx(60.0, abs=TOL)
    assert out[Metric.HIP_FLEXION_3D_LEFT] == pytest.approx(0.0, abs=1e-5)
    assert np.isnan(m(frame())[Metric.KNEE_FLEXION_3D_LEFT])  # no world -> NaN


def test_arm_abduction_and_wrist_distance() -> None:
    pts = dict(STANDING_PX)
    pts[L.LEFT_ELBOW] = (460, 100, 0)  # arm straight out sideways
    pts[L.LEFT_WRIST] = (560, 100, 0)
    out = m(frame(pts))
    assert out[Metric.ARM_ABDUCTION_LEFT] == pytest.approx(90 + math.degrees(math.atan2(10, 150)))
    assert out[Metric.WRIST_HIP_DISTANCE_LEFT] == pytest.approx(math.hypot(210, 150) / 150)


def test_foot_rotation_toe_out_positive_both_feet() -> None:
    pts = dict(STANDING_PX)
    d = 10 * math.tan(math.radians(30))
    pts[L.LEFT_FOOT_INDEX] = (350 + d, 470, 0)  # lateral for the left foot = image right
    pts[L.RIGHT_FOOT_INDEX] = (290 + d, 470, 0)  # image right = medial for the right foot
    out = m(frame(pts))
    assert out[Metric.FOOT_ROTATION_LEFT] == pytest.approx(30.0, abs=TOL)
    assert out[Metric.FOOT_ROTATION_RIGHT] == pytest.approx(-30.0, abs=TOL)


def test_yaw_and_twist_from_depth() -> None:
    pts = dict(STANDING_PX)
    # hips turned 20 deg toward the subject's left: left hip further from the camera
    hw = 30 / math.cos(math.radians(20))
    dx, dz = hw * math.cos(math.radians(20)), hw * math.sin(math.radians(20))
    pts[L.LEFT_HIP] = (320 + dx, 250, dz)
    pts[L.RIGHT_HIP] = (320 - dx, 250, -dz)
    out = m(frame(pts))
    assert out[Metric.BODY_YAW] == pytest.approx(20.0, abs=TOL)
    assert out[Metric.SHOULDER_HIP_TWIST] == pytest.approx(-20.0, abs=TOL)


def test_ankle_and_heel_heights() -> None:
    pts = dict(STANDING_PX)
    pts[L.LEFT_ANKLE] = (350, 420, 0)  # left foot up on a step, 30 px = 0.2 torso higher
    pts[L.LEFT_HEEL] = (350, 430, 0)
    out = m(frame(pts))
    assert out[Metric.ANKLE_HEIGHT_DIFF] == pytest.approx(0.2)
    assert out[Metric.HEEL_HEIGHT_DIFF] == pytest.approx(0.2)
    assert out[Metric.ANKLE_Y_LEFT] == pytest.approx(420 / 150)
    assert out[Metric.HIP_Y] == pytest.approx(250 / 150)
    assert out[Metric.HIP_X] == pytest.approx(320 / 150)


def test_nan_in_nan_out_without_warnings() -> None:
    lm = np.stack([frame()] * 3)
    lm[1] = np.nan  # a frame without a pose
    lm[2, L.LEFT_KNEE] = np.nan  # one missing landmark
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = m(lm)
    assert np.isnan(out[1]).all()
    missing = {n for n, v in zip(METRIC_NAMES, out[2], strict=True) if np.isnan(v)}
    assert {"fppa_left", "knee_offset_toe_left", "knee_flexion_left",
            "hip_flexion_left", "knee_ankle_gap_ratio", "knee_y_left"} <= missing
    assert not np.isnan(out[2, Metric.FPPA_RIGHT])
    assert not np.isnan(out[2, Metric.PELVIC_OBLIQUITY])


def realistic_poses(n: int, seed: int = 0) -> np.ndarray:
    """Standing poses with +-15 px jitter on every landmark (normalised, 640x480)."""
    rng = np.random.default_rng(seed)
    base = frame()
    jitter = rng.normal(0, 15, (n, 33, 3)) / np.array([640, 480, 640])
    return base + jitter


def test_single_frame_and_batch_paths_are_identical() -> None:
    lm = realistic_poses(PARALLEL_MIN_FRAMES + 10)
    world = realistic_poses(len(lm), seed=1)
    batch = compute_metrics(lm, (640, 480), world)  # parallel path
    small = compute_metrics(lm[:20], (640, 480), world[:20])  # serial path
    np.testing.assert_array_equal(batch[:20], small)
    for i in (0, 7, len(lm) - 1):
        np.testing.assert_array_equal(compute_frame(lm[i], (640, 480), world[i]), batch[i])
        np.testing.assert_array_equal(compute_metrics(lm[i], (640, 480), world[i]), batch[i])
    # arbitrary leading shape
    shaped = compute_metrics(lm[:12].reshape(3, 4, 33, 3), (640, 480))
    assert shaped.shape == (3, 4, NUM_METRICS)
    np.testing.assert_array_equal(shaped.reshape(12, -1), compute_metrics(lm[:12], (640, 480)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_kernel_equals_naive_reference(dtype: type) -> None:
    lm = realistic_poses(400).astype(dtype)
    world = (realistic_poses(400, seed=2) * 0.5).astype(dtype)
    fast = compute_metrics(lm, (1280, 720), world)
    slow = reference_metrics(lm, (1280, 720), world)
    assert fast.shape == slow.shape == (400, NUM_METRICS)
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-4)


def test_reference_single_frame_matches() -> None:
    lm = realistic_poses(1)[0]
    np.testing.assert_allclose(compute_frame(lm, (640, 480)), reference_frame(lm, (640, 480)),
                               atol=1e-4)


def test_bad_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"\[\.\.\., 33, >=3\]"):
        compute_metrics(np.zeros((5, 17, 3)), (640, 480))
    with pytest.raises(ValueError, match="world_landmarks"):
        compute_metrics(np.zeros((5, 33, 3)), (640, 480), np.zeros((4, 33, 3)))


def test_inlined_atan2_matches_libm_everywhere() -> None:
    from itbcoach.kernel.core import _atan2

    rng = np.random.default_rng(3)
    ys = np.concatenate([rng.normal(size=2000), [0.0, -0.0, 1.0, -1.0, 0.0, 1e-300, np.nan, 1.0]])
    xs = np.concatenate([rng.normal(size=2000), [-1.0, -1.0, 0.0, 0.0, 0.0, -1.0, 1.0, np.nan]])
    got = np.array([_atan2(y, x) for y, x in zip(ys, xs, strict=True)])
    want = np.arctan2(ys, xs)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-11)  # rad, = 1.1e-9 deg
    assert math.copysign(1, _atan2(-0.0, -1.0)) == -1.0  # signed zeros as libm


def test_metric_names_load_without_numba(run_python):
    # the configuration (exercise expressions) and the batch parent need only the metric
    # table; numba's ~0.25 s import waits for the first computation
    out = run_python("import sys\n"
                     "from itbcoach.config import load_config\n"
                     "import itbcoach.report.batch\n"
                     "load_config(use_user_file=False)\n"
                     "print('numba' in sys.modules)\n"
                     "from itbcoach.kernel import compute_metrics\n"
                     "print('numba' in sys.modules, compute_metrics.__module__)\n")
    assert out.split() == ["False", "True", "itbcoach.kernel.core"]
