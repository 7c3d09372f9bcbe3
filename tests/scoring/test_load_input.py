"""load_input: a raw landmark file is masked and smoothed exactly as a video is, unless
its optional ``masked`` / ``smoothed`` keys say that was done; so `itbcoach score X.npz`
and `itbcoach score X.mp4` score the same landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.errors import InputError
from itbcoach.landmarks import load_npz, load_npz_processing, save_npz
from itbcoach.pose import postprocess
from itbcoach.scoring import load_input
from itbcoach.tasks import score_task

CONFIG = load_config(use_user_file=False)
CLIP = "sidestep_front_small_01.mp4"  # 4.1 s, one person stepping side to side


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


@pytest.fixture(scope="module")
def raw(video_landmarks):
    seq, _meta = video_landmarks(CLIP)  # raw model output (not masked, not smoothed)
    return seq


def test_raw_file_is_processed_like_a_video(raw, tmp_path):
    path = save_npz(tmp_path / "raw.npz", raw)  # no processing keys: an older file
    assert load_npz_processing(path) == {"masked": False, "smoothed": False}
    seq, meta = load_input(path, CONFIG)
    video_like = postprocess(raw, CONFIG)  # what extract_landmarks(video) returns
    assert same(seq.landmarks, video_like.landmarks)
    assert same(seq.world_landmarks, video_like.world_landmarks)
    assert not same(seq.landmarks, raw.landmarks)  # it really was processed
    assert meta == {"source": str(path), "kind": "landmarks", "masked": True,
                    "smoothed": True, "file_masked": False, "file_smoothed": False}
    # the exercise scorer (which does not smooth by itself) counts the same steps
    from_file = score_task(seq, "side-step", CONFIG, meta=meta).to_json()
    from_video = score_task(video_like, "side-step", CONFIG,
                            meta={"masked": True, "smoothed": True}).to_json()
    assert from_file["steps"] == from_video["steps"]
    assert from_file["events"] == from_video["events"]


def test_explicitly_raw_file_is_processed(raw, tmp_path):
    path = save_npz(tmp_path / "raw.npz", raw, masked=False, smoothed=False)
    seq, meta = load_input(path, CONFIG)
    assert same(seq.landmarks, postprocess(raw, CONFIG).landmarks)
    assert meta["file_smoothed"] is False


def test_smoothed_file_is_taken_as_it_is(raw, tmp_path):
    done = postprocess(raw, CONFIG)
    path = save_npz(tmp_path / "smooth.npz", done, masked=True, smoothed=True)
    assert load_npz_processing(path) == {"masked": True, "smoothed": True}
    seq, meta = load_input(path, CONFIG)
    assert same(seq.landmarks, load_npz(path).landmarks)  # not smoothed a second time
    assert not same(seq.landmarks, postprocess(done, CONFIG).landmarks)
    assert meta["file_masked"] is True and meta["file_smoothed"] is True


def test_masked_only_file_is_smoothed_not_masked_again(raw, tmp_path):
    masked = postprocess(raw, CONFIG, smooth=False)
    path = save_npz(tmp_path / "masked.npz", masked, masked=True, smoothed=False)
    seq, _ = load_input(path, CONFIG)
    assert same(seq.landmarks, postprocess(masked, CONFIG, mask=False).landmarks)


def test_bad_processing_key_is_one_line(raw, tmp_path):
    path = tmp_path / "bad.npz"
    good = save_npz(tmp_path / "good.npz", raw)
    with np.load(good) as data:
        np.savez(path, **{k: data[k] for k in data.files}, smoothed=np.array([1, 0]))
    with pytest.raises(InputError) as err:
        load_input(path, CONFIG)
    assert str(err.value) == (f"{path}: 'smoothed' must be a true/false scalar, got int64 "
                              "(2,)")
