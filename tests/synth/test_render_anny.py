"""Synthetic renders: projection consistency, anny posing, a clip end to end.

These need the optional ``[synth]`` extra (torch, anny, moderngl); they skip cleanly
when it is not installed. The anny tests are marked slow: the first ``anny.Anny()``
build takes ~70 s (cached afterwards).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from itbcoach.synth.kinematics import Camera
from itbcoach.synth.motion import Motion


def _renderer_or_skip():
    pytest.importorskip("moderngl")
    from itbcoach.errors import InputError
    from itbcoach.synth.render import Renderer, Scene

    return Renderer, Scene, InputError


def test_pixels_match_the_camera_projection():
    """A small bright cube lands on the pixel Camera.project gives for its centre."""
    renderer_cls, scene_cls, input_error = _renderer_or_skip()
    cam = Camera.orbit(distance=3.0, azimuth_deg=10.0, height=1.2, target=(0, 0, 0.9),
                       width=320, height_px=240, hfov_deg=60.0)
    centre = np.array([0.05, 0.12, 1.1])
    h = 0.02
    corners = np.array([[x, y, z] for x in (-h, h) for y in (-h, h) for z in (-h, h)]) + centre
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    colors = np.ones((8, 3), np.float32)
    dark = scene_cls(floor_color=(0, 0, 0), wall_color=(0, 0, 0), noise_sd=0.0)
    try:
        r = renderer_cls(cam, faces, colors, dark)
    except input_error as exc:
        pytest.skip(f"no headless OpenGL here: {exc}")
    with r:
        img = r.render(corners.astype(np.float32))
    ys, xs = np.nonzero(img.max(axis=2) > 40)
    assert xs.size > 4
    image, _ = cam.project(np.broadcast_to(centre, (1, 33, 3)).copy())
    u, v = image[0, 0, 0] * cam.width, image[0, 0, 1] * cam.height
    # pixel centres sit at +0.5
    assert abs((xs.mean() + 0.5) - u) < 0.6
    assert abs((ys.mean() + 0.5) - v) < 0.6


@pytest.fixture(scope="module")
def body(synth_stack):
    from itbcoach.synth.anny_body import AnnyBody

    return AnnyBody()


@pytest.mark.slow
def test_anny_rig_follows_the_motion_angles(body):
    """Pelvic obliquity, knee flexion and trunk lean of the posed rig equal the set
    angles (the rig is what the ground truth measures)."""
    from itbcoach.synth.kinematics import ground_truth

    t = np.arange(3) / 30.0
    m = Motion.neutral(t, body.dims, hands_on_waist=True)
    m = m.replace(pelvis_obliquity=np.array([0.0, -10.0, 6.0]))
    m = m.set_side("left", knee_flexion=np.array([0.0, 30.0, 60.0]))
    posed = body.pose(m)
    gt = ground_truth(m, body.dims, posed.skeleton())
    np.testing.assert_allclose(gt["pelvic_obliquity"], [0.0, -10.0, 6.0], atol=0.05)
    np.testing.assert_allclose(gt["knee_flexion_left"], [0.0, 30.0, 60.0], atol=0.5)
    # hip-centre midpoint placed where the motion says
    np.testing.assert_allclose(posed.joints["pelvis"], m.pelvis_pos, atol=1e-5)
    # standing: the soles touch the floor (lowest vertex within 5 mm of z = 0)
    assert abs(float(posed.vertices[0][:, 2].min())) < 0.005
    lean = Motion.neutral(t[:1], body.dims).replace(trunk_lateral=12.0)
    g2 = ground_truth(lean, body.dims, body.pose(lean).skeleton())
    assert 8.0 < g2["trunk_lean"][0] <= 12.5  # toward the subject's left, spread over spine


@pytest.mark.slow
def test_stepdown_clip_writes_video_and_truth(body, tmp_path):
    """A short clip: the mp4 has one frame per ground-truth frame, the JSON's reps and
    expected faults come from the script, and the projected truth reads the drop."""
    _renderer_or_skip()
    import cv2

    from itbcoach.synth.clip import ClipOptions, load_truth, stepdown_clip
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec

    spec = StepdownSpec(legs=(LegSpec("right", reps=1, pelvic_drop_deg=10.0),),
                        step_on_off=False, lead_s=0.3, rest_s=0.3, descent_s=0.8,
                        ascent_s=0.7, fps=15.0)
    out = tmp_path / "sd.mp4"
    try:
        stepdown_clip(spec, out, options=ClipOptions(width=320, height=240, seed=3))
    except Exception as exc:  # moderngl context failure surfaces as InputError
        from itbcoach.errors import InputError

        if isinstance(exc, InputError) and "OpenGL" in str(exc):
            pytest.skip(str(exc))
        raise
    doc = load_truth(out)
    cap = cv2.VideoCapture(str(out))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    assert n == doc["frames"] == len(doc["frames_truth"]["t_ms"])
    assert doc["expected"]["right"]["count"] == 1
    assert doc["expected"]["right"]["faults"]["pelvis_not_level"] is True
    obl = np.array(doc["frames_truth"]["projected"]["pelvic_obliquity"], float)
    # right stance: the left (free) side drops -> obliquity goes negative by ~10 deg
    assert -11.5 < np.nanmin(obl) - obl[0] < -8.5
    lm = np.array(doc["frames_truth"]["landmarks"], float)
    assert lm.shape == (doc["frames"], 33, 3)
    assert np.all((lm[..., :2] > 0) & (lm[..., :2] < 1))
    json.dumps(doc)  # serialisable as written


@pytest.mark.slow
@pytest.mark.parametrize("side", ["left", "right"])
def test_rendered_hands_ride_with_the_pelvis(body, side):
    """On the rendered body (its spine bends above the hips) the wrist line follows a
    10 deg drop with a 10 deg trunk lean within 1 deg: the clip's hand placement
    measures the rendered wrists and corrects them."""
    import dataclasses

    from itbcoach.synth.clip import _hands_on_body, _take
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec

    spec = StepdownSpec(legs=(LegSpec(side, reps=1, pelvic_drop_deg=10.0,
                                      trunk_lean_deg=10.0),),
                        lead_s=1.0, step_on_off=False)
    spec = dataclasses.replace(spec, stature=round(body.dims.stature, 4))
    motion, truth = _hands_on_body(spec, body)
    rep = truth.reps[0]
    idx = np.array([round(rep.start_s * spec.fps), round(rep.bottom_s * spec.fps)])
    posed = body.pose(_take(motion, idx), hand_hold=truth.hand_hold[idx])
    j = posed.joints
    v = j["wrist_l"] - j["wrist_r"]
    line = np.degrees(np.arctan2(v[:, 2], v[:, 1]))  # + = left hand higher
    sign = 1.0 if side == "left" else -1.0
    assert sign * (line[1] - line[0]) == pytest.approx(10.0, abs=1.0)
    # the whole hand rides with the pelvis: the wrist, index, pinky and thumb points
    # (their mean is the scorer's hand point) follow the drop too, not the forearm
    from itbcoach.synth.hands import hand_centroids

    c = hand_centroids(posed.landmarks)
    v = c[:, 0] - c[:, 1]
    line = np.degrees(np.arctan2(v[:, 2], v[:, 1]))
    assert sign * (line[1] - line[0]) == pytest.approx(10.0, abs=1.0)


@pytest.mark.slow
def test_hands_rest_on_a_loose_shirt(body):
    """With a 3 cm loose shirt the wrists sit 3 cm further out (within 5 mm), and still
    follow a 10 deg drop within 1 deg."""
    import dataclasses

    from itbcoach.synth.clip import _hands_on_body, _take
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec

    spec = StepdownSpec(legs=(LegSpec("left", reps=1, pelvic_drop_deg=10.0),),
                        lead_s=1.0, step_on_off=False)
    spec = dataclasses.replace(spec, stature=round(body.dims.stature, 4))
    width, line = [], []
    for loose in (0.0, 0.03):
        motion, truth = _hands_on_body(spec, body, outward_m=loose)
        rep = truth.reps[0]
        idx = np.array([round(rep.start_s * spec.fps), round(rep.bottom_s * spec.fps)])
        j = body.pose(_take(motion, idx)).joints
        v = j["wrist_l"] - j["wrist_r"]
        width.append(np.linalg.norm(v[0]))
        line.append(np.degrees(np.arctan2(v[:, 2], v[:, 1])))
    assert width[1] - width[0] == pytest.approx(0.06, abs=0.01)  # 3 cm each side
    assert line[1][1] - line[1][0] == pytest.approx(10.0, abs=1.0)
    band = body.waist_band
    assert band.max() == 1.0 and 0.05 < np.mean(band > 0) < 0.4


@pytest.mark.slow
def test_synth_cli_renders_a_loose_shirt_and_refuses_a_wrong_one(synth_stack, tmp_path):
    """`itbcoach synth stepdown ... --loose-shirt 0.03` writes the option into the truth
    JSON; an impossible value is one line and exit 3 (bad input), no file."""
    import subprocess
    import sys

    out = tmp_path / "shirt.mp4"
    common = [sys.executable, "-m", "itbcoach", "synth", "stepdown", str(out), "--reps",
              "1", "--lead", "0.3", "--width", "320", "--height", "240", "--no-progress"]
    proc = subprocess.run([*common, "--loose-shirt", "0.03"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["options"]["shirt_loose_m"] == 0.03
    out.unlink()
    out.with_suffix(".json").unlink()
    bad = subprocess.run([*common, "--loose-shirt", "-1"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 3
    assert bad.stderr.strip().splitlines() == [
        "itbcoach: --loose-shirt -1: give how far the shirt stands off the waist in "
        "metres, 0 to 0.1 (e.g. 0.03)"]
    assert not out.exists()
