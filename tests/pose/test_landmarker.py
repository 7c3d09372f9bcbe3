"""The MediaPipe adapter on real frames: IMAGE, VIDEO and LIVE_STREAM modes, result
conversion, target-person selection with two real people, and model errors."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.errors import ModelError
from itbcoach.landmarks import Landmark as L
from itbcoach.pose.landmarker import (
    ImageLandmarker,
    LiveLandmarker,
    PoseCandidates,
    TargetSelector,
    VideoLandmarker,
)
from itbcoach.pose.sources import VideoFileSource

CONFIG = load_config(use_user_file=False)
SRC = Path(__file__).resolve().parents[2] / "src" / "itbcoach"


def first_frames(path: Path, n: int) -> list[np.ndarray]:
    with VideoFileSource(path) as src:
        out = []
        for frame in src:
            out.append(frame.image)
            if len(out) == n:
                return out
    return out


@pytest.fixture(scope="module")
def squat_frames(shared_videos) -> list[np.ndarray]:
    return first_frames(shared_videos / "squat_front_01.mp4", 30)


def test_only_the_adapter_runs_mediapipe():
    # Model supply (pose/models.py, pose/tflite_metadata.py) may read mediapipe's schema
    # modules to build bundles; only the adapter imports the tasks (the inference API).
    importers = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
        if re.search(r"^\s*(import mediapipe|from mediapipe)", p.read_text(), re.M))
    assert set(importers) <= {"pose/landmarker.py", "pose/models.py",
                              "pose/tflite_metadata.py"}
    tasks = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
        if re.search(r"^\s*(import mediapipe\s*$|import mediapipe as|from mediapipe"
                     r"(\.tasks\.python)? import)", p.read_text(), re.M))
    assert tasks == ["pose/landmarker.py"]


def test_image_mode_keeps_z_visibility_presence_and_world(model_path, squat_frames,
                                                          video_landmarks):
    with ImageLandmarker(model_path, CONFIG.pose) as lmk:
        cand = lmk.detect(squat_frames[0])
    assert len(cand) == 1
    lm, vis, pres, world = cand.take(0)
    assert lm.shape == (33, 3) and world.shape == (33, 3)
    assert np.isfinite(lm).all() and np.isfinite(world).all()
    assert np.ptp(lm[:, 2]) > 0.1  # relative depth kept, not zeros
    assert ((vis > 0) & (vis <= 1)).all() and ((pres > 0) & (pres <= 1)).all()
    assert vis[[L.LEFT_HIP, L.RIGHT_HIP, L.NOSE]].min() > 0.9
    hip_mid = world[[L.LEFT_HIP, L.RIGHT_HIP]].mean(axis=0)
    assert np.linalg.norm(hip_mid) < 0.05  # world origin at the hip midpoint (metres)
    # Same picture through the VIDEO-mode pipeline (first frame): same pose.
    raw, _ = video_landmarks("squat_front_01.mp4")
    assert np.abs(raw.landmarks[0, :, :2] - lm[:, :2]).max() < 0.01


def test_video_mode_bumps_non_increasing_timestamps(model_path, squat_frames):
    with VideoLandmarker(model_path, CONFIG.pose) as lmk:
        got = [len(lmk.detect(img, ts)) for img, ts in
               zip(squat_frames[:4], (100, 100, 50, 200), strict=True)]
        assert lmk.bumped_timestamps == 2
    assert got == [1, 1, 1, 1]


def test_live_stream_drops_when_busy_and_returns_ids_and_timestamps(model_path,
                                                                      squat_frames):
    h, w = squat_frames[0].shape[:2]
    accepted: dict[int, int] = {}
    results = []
    with LiveLandmarker(model_path, CONFIG.pose, (w, h)) as live:
        for i, img in enumerate(squat_frames):
            ts = 1000 + 33 * i
            if live.submit(img, i, ts):
                accepted[i] = ts
            time.sleep(0.005)  # a 200 fps "camera": faster than the model
            results += live.poll()
        deadline = time.monotonic() + 10.0
        while live.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        results += live.poll()
        assert live.dropped_busy > 0
        assert live.dropped_busy + live.submitted == len(squat_frames)
        assert len(results) + live.dropped_by_model == live.submitted == len(accepted)
    assert results, "no live result arrived"
    ids = [r.frame_id for r in results]
    assert ids == sorted(ids)
    for r in results:
        assert accepted[r.frame_id] == r.timestamp_ms
        assert r.pose.timestamps_ms.tolist() == [r.timestamp_ms]
        assert r.pose.image_size == (w, h) and r.pose.detected[0] and r.num_people == 1
        assert r.latency_s > 0



def test_wait_result_returns_with_one_result_to_poll(model_path, squat_frames):
    """The live loop's wait: back as soon as a result can be polled (also while another
    frame is in flight), at once when nothing is in flight."""
    h, w = squat_frames[0].shape[:2]
    with LiveLandmarker(model_path, CONFIG.pose, (w, h), max_in_flight=2) as live:
        assert live.wait_result(0.0)  # nothing in flight: no result is coming
        assert live.submit(squat_frames[0], 0, 1000)
        assert live.submit(squat_frames[1], 1, 1033)
        assert live.wait_result(10.0)
        first = live.poll()
        assert [r.frame_id for r in first][:1] == [0]
        assert live.wait_result(10.0)
        rest = first[1:] + live.poll()
        assert [r.frame_id for r in rest] == [1] or live.dropped_by_model == 1
        assert live.wait_result(0.0) and live.in_flight == 0

def test_two_real_people_target_is_kept_and_warned(model_path, shared_videos):
    # Two real people (two sample clips) on one 2160x1280 canvas: at the start the right
    # one is central; then both walk right, the left one into the centre. The selector
    # must keep following its person, not jump to whoever is central.
    a = first_frames(shared_videos / "squat_overhead_front_good_01.mp4", 8)
    b = first_frames(shared_videos / "squat_overhead_front_good_02.mp4", 8)
    selector = TargetSelector((2160, 1280))
    chosen_x = []
    with VideoLandmarker(model_path, CONFIG.pose, num_poses=2) as lmk:
        for i in range(8):
            canvas = np.full((1280, 2160, 3), 200, np.uint8)
            canvas[:, 90 * i:90 * i + 720] = b[i]
            canvas[:, 720 + 90 * i:1440 + 90 * i] = a[i]
            cand = lmk.detect(canvas, 33 * i)
            assert len(cand) == 2
            lm = cand.take(selector.select(cand))[0]
            chosen_x.append(float(lm[[L.LEFT_HIP, L.RIGHT_HIP], 0].mean()) * 2160)
    expected = [720 + 90 * i + 360 for i in range(8)]
    assert np.abs(np.array(chosen_x) - expected).max() < 60
    assert selector.multi_person_frames == 8
    assert selector.warning(8).startswith("2 people in view in 8 of 8 frames")


def _cand(centers: list[tuple[float, float]], heights: list[float]) -> PoseCandidates:
    """Synthetic poses: torso centred at ``centers`` (normalised) with given heights."""
    n = len(centers)
    lm = np.zeros((n, 33, 3), np.float32)
    for k, ((cx, cy), hgt) in enumerate(zip(centers, heights, strict=True)):
        lm[k, :, 0] = cx
        lm[k, :, 1] = np.linspace(cy - hgt / 2, cy + hgt / 2, 33)
        lm[k, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER], 1] = cy - hgt / 6
        lm[k, [L.LEFT_HIP, L.RIGHT_HIP], 1] = cy + hgt / 6
        lm[k, [L.LEFT_SHOULDER, L.LEFT_HIP], 0] = cx + 0.02
        lm[k, [L.RIGHT_SHOULDER, L.RIGHT_HIP], 0] = cx - 0.02
    ones = np.ones((n, 33), np.float32)
    return PoseCandidates(lm, ones, ones, np.zeros((n, 33, 3), np.float32))


def test_selector_start_rule_tracking_and_duplicates():
    sel = TargetSelector((1000, 1000))
    assert sel.select(PoseCandidates.none()) is None
    # Start: score = height share * (1 - distance from the centre in half-diagonals):
    # small central 0.2, large near-central 0.45 * 0.79, large at the edge 0.5 * 0.36.
    assert sel.select(_cand([(0.5, 0.5), (0.35, 0.5), (0.05, 0.5)], [0.2, 0.45, 0.5])) == 1
    # Then the nearest to the last position, even if another is larger or more central.
    assert sel.select(_cand([(0.15, 0.5), (0.45, 0.5)], [0.5, 0.4])) == 1
    assert sel.select(_cand([(0.52, 0.5), (0.3, 0.5)], [0.4, 0.5])) == 0
    assert sel.multi_person_frames == 3 and sel.max_people == 3
    # The same person returned twice (centres within half a torso) is one person.
    sel2 = TargetSelector((1000, 1000))
    assert sel2.select(_cand([(0.5, 0.5), (0.51, 0.5)], [0.6, 0.6])) in (0, 1)
    assert sel2.multi_person_frames == 0 and sel2.warning(1) is None


def test_model_errors_are_one_line(tmp_path):
    with pytest.raises(ModelError, match="pose model not found"):
        VideoLandmarker(tmp_path / "missing.task", CONFIG.pose)
    bad = tmp_path / "bad.task"
    bad.write_bytes(b"this is not a model bundle")
    with pytest.raises(ModelError) as err:
        VideoLandmarker(bad, CONFIG.pose)
    assert str(err.value).startswith(f"cannot load pose model {bad}")
    assert "\n" not in str(err.value)
