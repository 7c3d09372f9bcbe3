"""The synthetic body: angle conventions, forward kinematics, camera and ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.kernel import Metric, compute_metrics
from itbcoach.landmarks import Landmark as L
from itbcoach.synth import (
    BodyDims,
    Camera,
    Motion,
    Noise,
    forward_kinematics,
    frame_times,
    render_sequence,
)
from itbcoach.synth.kinematics import (
    decompose_xyz,
    decompose_yxz,
    decompose_zxy,
    rx,
    ry,
    rz,
)

DIMS = BodyDims.from_stature(1.70)


def _one(**changes) -> Motion:
    return Motion.neutral(frame_times(1 / 30, 30), DIMS).replace(**changes)


def test_cardan_decompositions_round_trip():
    rng = np.random.default_rng(0)
    a, b, c = rng.uniform(-80, 80, (3, 200))
    for compose, decompose in (((lambda a, b, c: ry(a) @ rx(b) @ rz(c)), decompose_yxz),
                               ((lambda a, b, c: rx(a) @ ry(b) @ rz(c)), decompose_xyz),
                               ((lambda a, b, c: rz(a) @ rx(b) @ ry(c)), decompose_zxy)):
        got = decompose(compose(a, b, c))
        np.testing.assert_allclose(got, (a, b, c), atol=1e-9)


def test_neutral_posture_matches_anthropometric_heights():
    j = forward_kinematics(_one(), DIMS).joints
    h = DIMS.stature
    # Drillis & Contini heights: hip 0.530 H, knee 0.285 H, ankle 0.039 H, shoulder 0.818 H
    assert j["hip_l"][0, 2] == pytest.approx(0.530 * h, abs=1e-9)
    assert j["knee_r"][0, 2] == pytest.approx(0.285 * h, abs=1e-9)
    assert j["ankle_l"][0, 2] == pytest.approx(0.039 * h, abs=1e-9)
    assert j["shoulder_r"][0, 2] == pytest.approx(0.818 * h, abs=1e-9)
    assert j["heel_l"][0, 2] == pytest.approx(0.0, abs=1e-9)
    assert j["toe_r"][0, 2] == pytest.approx(0.0, abs=1e-9)
    # +y is the subject's left
    assert j["hip_l"][0, 1] > 0 > j["hip_r"][0, 1]
    # hands on the waist: wrist above the hip, within 12% of stature of it, at the side
    for tag, sign in (("l", 1), ("r", -1)):
        wrist, hip = j[f"wrist_{tag}"][0], j[f"hip_{tag}"][0]
        assert np.linalg.norm(wrist - hip) < 0.12 * h
        assert wrist[2] > hip[2]
        assert sign * wrist[1] > sign * hip[1]


@pytest.mark.parametrize("side", [0, 1])
def test_leg_angle_signs(side):
    tag = "lr"[side]
    lateral = 1.0 if side == 0 else -1.0  # lab y of the leg's lateral direction

    def knee(**kw):
        arr = {k: np.zeros((1, 2)) for k in kw}
        for k, v in kw.items():
            arr[k][:, side] = v
        return forward_kinematics(_one(**arr), DIMS).joints

    base = knee()
    flexed = knee(hip_flexion=30.0)
    assert flexed[f"knee_{tag}"][0, 0] > base[f"knee_{tag}"][0, 0] + 0.1  # forward
    abducted = knee(hip_abduction=20.0)
    assert lateral * (abducted[f"knee_{tag}"][0, 1] - base[f"knee_{tag}"][0, 1]) > 0.1
    kf = knee(knee_flexion=60.0)
    assert kf[f"ankle_{tag}"][0, 0] < base[f"ankle_{tag}"][0, 0] - 0.3  # shank goes back
    # internal rotation of a flexed knee swings the foot laterally
    ir = knee(knee_flexion=60.0, hip_rotation=30.0)
    assert lateral * (ir[f"ankle_{tag}"][0, 1] - kf[f"ankle_{tag}"][0, 1]) > 0.05
    df = knee(ankle_dorsiflexion=20.0)
    assert df[f"toe_{tag}"][0, 2] > 0.05  # toes up
    out = knee(foot_progression=20.0)
    assert lateral * (out[f"toe_{tag}"][0, 1] - base[f"toe_{tag}"][0, 1]) > 0.05


def test_pelvis_and_trunk_signs_and_ground_truth():
    synth = render_sequence(_one(pelvis_obliquity=7.0), DIMS)
    j = forward_kinematics(synth.motion, DIMS).joints
    assert j["hip_l"][0, 2] > j["hip_r"][0, 2]  # + = left hip up
    assert synth.truth["pelvic_obliquity"][0] == pytest.approx(7.0, abs=1e-9)
    assert synth.truth["trunk_lean"][0] == pytest.approx(-7.0, abs=1e-9)  # rigid trunk
    lean = render_sequence(_one(trunk_lateral=10.0), DIMS)
    assert lean.truth["trunk_lean"][0] == pytest.approx(10.0, abs=1e-9)  # + = to the left
    flex = render_sequence(_one(trunk_flexion=20.0), DIMS)
    assert flex.truth["trunk_flexion"][0] == pytest.approx(20.0, abs=1e-9)


def test_frontal_camera_projection_matches_the_kernel():
    motion = _one(pelvis_obliquity=6.0, trunk_lateral=9.0)  # global lean 9 - 6 = 3
    synth = render_sequence(motion, DIMS, Camera.orbit(distance=3.0, height=0.9,
                                                       target=(0, 0, 0.9)))
    lm = synth.clean.landmarks[0]
    # facing the camera: the subject's left appears on the image right
    assert lm[L.LEFT_HIP, 0] > lm[L.RIGHT_HIP, 0]
    m = compute_metrics(synth.clean.landmarks, synth.clean.image_size)[0]
    assert m[Metric.PELVIC_OBLIQUITY] == pytest.approx(6.0, abs=0.3)
    assert m[Metric.TRUNK_LEAN] == pytest.approx(3.0, abs=0.3)
    assert m[Metric.FACING] == 1.0
    # world landmarks: hip-centred, metres, y down
    w = synth.clean.world_landmarks[0]
    np.testing.assert_allclose(0.5 * (w[L.LEFT_HIP] + w[L.RIGHT_HIP]), 0.0, atol=1e-6)
    assert w[L.NOSE, 1] < -0.5
    # z: depth relative to the hips, scaled like x; the nose is nearer the camera
    assert lm[L.NOSE, 2] < 0.0


@pytest.mark.parametrize("azimuth", [-20.0, 20.0])
def test_camera_azimuth_reads_as_body_yaw(azimuth):
    synth = render_sequence(_one(), DIMS, Camera.orbit(azimuth_deg=azimuth))
    m = compute_metrics(synth.clean.landmarks, synth.clean.image_size)[0]
    assert m[Metric.BODY_YAW] == pytest.approx(-azimuth, abs=0.5)


def test_noise_is_seeded_and_dropout_makes_nan_frames():
    motion = Motion.neutral(frame_times(3.0, 30), DIMS)
    noise = Noise(image_px=2.0, frame_dropout=0.05, dropout_frames=3, seed=7)
    a = render_sequence(motion, DIMS, noise=noise)
    b = render_sequence(motion, DIMS, noise=noise)
    np.testing.assert_array_equal(a.pose.landmarks, b.pose.landmarks)
    lost = ~a.pose.detected
    assert 0 < lost.sum() < len(a.pose)
    assert a.clean.detected.all()
    px = (a.pose.landmarks - a.clean.landmarks)[~lost][..., :2] * np.array([1280, 720])
    assert np.std(px) == pytest.approx(2.0, rel=0.1)


def test_motion_validates_shapes():
    with pytest.raises(ValueError, match="pelvis_pos"):
        Motion.neutral(frame_times(1.0, 30), DIMS).replace(pelvis_pos=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="stature"):
        BodyDims.from_stature(170)
