"""Framing / view gate: real full-body videos pass, real crops with the head or feet cut
off fail with the right instruction (geometry, not visibility), plus edits of a real pose
for distance, facing, light, and the single-frame API."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import PoseSequence
from itbcoach.pose.framing import INSTRUCTIONS, Facing, Problem, assess_framing
from itbcoach.pose.landmarker import VideoLandmarker
from itbcoach.pose.sources import VideoFileSource

CONFIG = load_config(use_user_file=False)
FRAMING = CONFIG.framing

FRONTAL = ("squat_front_01.mp4", "lunge_lateral_front_01.mp4", "kneelift_front_small_01.mp4",
           "squat_overhead_front_good_02.mp4")
SIDE = ("hiphinge_singleleg_side_01.mp4", "lunge_split_side_01.mp4",
        "squat_overhead_side_good_01.mp4")


@pytest.mark.parametrize("name", FRONTAL + SIDE)
def test_real_full_body_videos_pass_the_gate(video_landmarks, name):
    raw, _ = video_landmarks(name)
    res = assess_framing(raw, FRAMING, view="any")
    det = res.detected
    assert det.mean() >= 0.99
    assert res.ok[det].mean() == 1.0
    assert res.plausible[det].all()
    assert res.feet_in_frame[det].all() and res.head_in_frame[det].all()
    assert res.summary()["instruction"] == ""


@pytest.mark.parametrize(("name", "facing", "share"), [
    *((n, Facing.FRONT, 0.99) for n in FRONTAL),
    ("hiphinge_singleleg_side_01.mp4", Facing.SIDE, 0.99),
    ("lunge_split_side_01.mp4", Facing.SIDE, 0.99),
    # turns oblique at the bottom: 62% side frames as decoded now (Display-P3 colours
    # kept), at least 70% when OpenCV converted them to sRGB; borderline frames flip
    ("squat_overhead_side_good_01.mp4", Facing.SIDE, 0.6),
])
def test_facing_matches_the_manifest_view(video_landmarks, name, facing, share):
    raw, _ = video_landmarks(name)
    res = assess_framing(raw, FRAMING)
    assert (res.facing[res.detected] == facing).mean() >= share


def test_masked_input_keeps_the_person_but_not_hidden_feet(video_landmarks):
    from itbcoach.pose.smoothing import mask_low_visibility

    raw, _ = video_landmarks("hiphinge_singleleg_side_01.mp4")  # far side poorly visible
    masked = mask_low_visibility(raw, CONFIG.pose.min_visibility)
    assert np.isnan(masked.landmarks).any()
    res = assess_framing(masked, FRAMING, view="side")
    assert res.detected.all() and res.ok.mean() >= 0.95
    gone = masked.landmarks.copy()
    gone[:, [L.RIGHT_ANKLE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX]] = np.nan
    res = assess_framing(dataclasses.replace(masked, landmarks=gone), FRAMING)
    assert (res.problem == Problem.FEET_OUT).all()


def test_wrong_view_gets_a_turn_instruction(video_landmarks):
    side, _ = video_landmarks("hiphinge_singleleg_side_01.mp4")
    res = assess_framing(side, FRAMING, view="frontal")
    assert res.summary()["main_problem"] == "face_camera"
    assert res.instruction(0) == "Turn to face the camera"
    front, _ = video_landmarks("squat_front_01.mp4")
    res = assess_framing(front, FRAMING, view="side")
    assert (res.problem == Problem.TURN_SIDE).all()
    assert res.summary()["instruction"] == "Turn side-on to the camera"
    assert assess_framing(front, FRAMING, view="frontal").ok.all()


# ------------------------------------------------------------ real crops, real model

def _crop_run(shared_videos, model_path, name, y0, y1, x0=0.0, x1=1.0, step=4,
              frames=160) -> PoseSequence:
    """The real model (VIDEO mode) over every ``step``-th frame of a crop of a video."""
    rows, ts = [], []
    with VideoFileSource(shared_videos / name) as src, \
            VideoLandmarker(model_path, CONFIG.pose) as lmk:
        for f in src:
            if f.frame_id >= frames:
                break
            if f.frame_id % step:
                continue
            h, w = f.image.shape[:2]
            crop = np.ascontiguousarray(f.image[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)])
            cand = lmk.detect(crop, f.timestamp_ms)
            rows.append(cand.take(0 if len(cand) else None))
            ts.append(f.timestamp_ms)
            size = (crop.shape[1], crop.shape[0])
    return PoseSequence(*(np.stack([r[k] for r in rows]) for k in range(3)), np.array(ts),
                        size, np.stack([r[3] for r in rows]))


def test_feet_cut_off_is_caught_even_with_confident_points(shared_videos, model_path):
    seq = _crop_run(shared_videos, model_path, "squat_front_01.mp4", 0.0, 0.75, 0.25, 0.75)
    res = assess_framing(seq, FRAMING)
    det = res.detected
    assert det.mean() == 1.0
    assert (res.problem[det] == Problem.FEET_OUT).all()
    assert res.summary()["instruction"] == "Step back so your feet are visible"


def test_collapsed_pose_with_head_cut_off_is_not_trusted(shared_videos, model_path):
    # Side view cropped below the shoulders: MediaPipe still returns a "whole body"
    # squeezed onto the legs, every point inside the picture, most with high visibility.
    seq = _crop_run(shared_videos, model_path, "lunge_split_side_01.mp4", 0.45, 1.0,
                    0.2, 0.8)
    res = assess_framing(seq, FRAMING)
    det = res.detected
    assert det.mean() >= 0.9
    inside = res.body_in_frame[det]
    assert inside.mean() > 0.5  # the bounds alone would pass most frames ...
    bad = np.isin(res.problem[det], [Problem.IMPLAUSIBLE, Problem.HEAD_OUT, Problem.FEET_OUT])
    assert bad.mean() >= 0.35  # ... geometry rejects a large share of them
    assert res.summary()["main_problem"] == "implausible"
    assert res.summary()["instruction"] == INSTRUCTIONS[Problem.IMPLAUSIBLE]


# ------------------------------------------------------------ edits of a real pose

@pytest.fixture(scope="module")
def standing(video_landmarks) -> PoseSequence:
    raw, _ = video_landmarks("squat_front_01.mp4")
    return raw.slice(0, 1)


def _edit(seq: PoseSequence, lm: np.ndarray) -> PoseSequence:
    return dataclasses.replace(seq, landmarks=lm.astype(np.float32))


def test_moves_of_a_real_pose_give_the_right_instruction(standing):
    lm = standing.landmarks.copy()
    assert assess_framing(standing, FRAMING).problem[0] == Problem.NONE
    down = lm.copy()
    down[..., 1] += 1.0 - np.nanmax(lm[0, :, 1]) + 0.05  # feet 5% below the bottom edge
    assert assess_framing(_edit(standing, down), FRAMING).instruction(0) == \
        "Step back so your feet are visible"
    up = lm.copy()
    up[..., 1] -= np.nanmin(lm[0, [L.NOSE, L.LEFT_EAR, L.RIGHT_EAR], 1]) + 0.02
    assert assess_framing(_edit(standing, up), FRAMING).problem[0] == Problem.HEAD_OUT
    aside = lm.copy()
    aside[..., 0] += 1.0 - np.nanmax(lm[0, :, 0]) + 0.02
    assert assess_framing(_edit(standing, aside), FRAMING).problem[0] == Problem.SIDES_OUT
    small = lm.copy()
    small[..., :2] = 0.5 + (lm[..., :2] - 0.5) * 0.4  # the person 2.5x further away
    res = assess_framing(_edit(standing, small), FRAMING)
    assert res.problem[0] == Problem.TOO_FAR
    assert res.body_height[0] == pytest.approx(
        0.4 * assess_framing(standing, FRAMING).body_height[0], rel=1e-3)
    assert res.instruction(0) == "Come closer to the camera"


def test_facing_back_side_light_and_visibility(standing):
    lm = standing.landmarks.copy()
    mirrored = lm.copy()
    mirrored[..., 0] = 1.0 - lm[..., 0]  # left on the image's left: back to the camera
    res = assess_framing(_edit(standing, mirrored), FRAMING, view="frontal")
    assert res.facing[0] == Facing.BACK and res.problem[0] == Problem.FACE_CAMERA
    side = lm.copy()
    mid = 0.5 * (lm[0, L.LEFT_SHOULDER, 0] + lm[0, L.RIGHT_SHOULDER, 0])
    side[..., 0] = mid + (lm[..., 0] - mid) * 0.1  # everything squeezed to the midline
    res = assess_framing(_edit(standing, side), FRAMING)
    assert res.facing[0] == Facing.SIDE
    assert assess_framing(standing, FRAMING, brightness=20.0).problem[0] == Problem.DARK
    assert assess_framing(standing, FRAMING, brightness=120.0).problem[0] == Problem.NONE
    dim = dataclasses.replace(standing, visibility=standing.visibility * 0.5)
    assert assess_framing(dim, FRAMING).problem[0] == Problem.LOW_VISIBILITY


def test_world_limbs_longer_than_the_torso_are_implausible(standing):
    world = standing.world_landmarks.copy()
    hip = world[0, [L.LEFT_HIP, L.RIGHT_HIP]].mean(axis=0)
    shoulder = world[0, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]].mean(axis=0)
    world[0, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]] -= 0.5 * (shoulder - hip)  # torso halved
    res = assess_framing(dataclasses.replace(standing, world_landmarks=world), FRAMING)
    assert not res.plausible[0] and res.problem[0] == Problem.IMPLAUSIBLE


def test_single_frame_arrays_and_no_person(standing):
    res = assess_framing(standing.landmarks[0], FRAMING, visibility=standing.visibility[0],
                         image_size=standing.image_size)
    assert len(res) == 1 and res.ok[0] and res.instructions == [""]
    nan = np.full((33, 3), np.nan)
    res = assess_framing(nan, FRAMING, visibility=np.full(33, np.nan), image_size=(640, 480))
    assert res.problem[0] == Problem.NO_PERSON
    assert res.instruction() == "Step into view: no person is detected"
    assert res.summary()["frames"] == 1 and res.summary()["ok_share"] == 0.0
    with pytest.raises(ValueError, match="view must be one of"):
        assess_framing(standing, FRAMING, view="back")
    with pytest.raises(ValueError, match="needs visibility"):
        assess_framing(standing.landmarks, FRAMING)
