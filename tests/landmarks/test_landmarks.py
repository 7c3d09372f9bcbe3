"""The landmark container and the .npz interchange file."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.landmarks import (
    Landmark,
    LandmarkFileError,
    PoseSequence,
    load_npz,
    save_npz,
)


def make_seq(t: int = 5, world: bool = True) -> PoseSequence:
    rng = np.random.default_rng(0)
    lm = rng.random((t, 33, 3)).astype(np.float32)
    lm[2] = np.nan  # a frame without a pose
    vis = rng.random((t, 33)).astype(np.float32)
    vis[2] = np.nan
    return PoseSequence(lm, vis, vis.copy(), np.arange(t) * 33 + 10, (1280, 720),
                        rng.random((t, 33, 3)).astype(np.float32) if world else None)


def test_landmark_enum_is_blazepose() -> None:
    assert len(Landmark) == 33
    assert Landmark.LEFT_HIP == 23 and Landmark.RIGHT_FOOT_INDEX == 32
    assert Landmark.LEFT_SHOULDER.name == "LEFT_SHOULDER"


def test_container_properties() -> None:
    seq = make_seq()
    assert len(seq) == 5
    assert seq.detected.tolist() == [True, True, False, True, True]
    assert seq.detection_rate == pytest.approx(0.8)
    assert seq.times_s[1] == pytest.approx(0.043)
    px = seq.pixels()
    assert px.shape == (5, 33, 2)
    assert px[0, 0, 0] == pytest.approx(seq.landmarks[0, 0, 0] * 1280, rel=1e-6)
    assert len(seq.slice(1, 3)) == 2 and seq.slice(1, 3).world_landmarks.shape == (2, 33, 3)
    assert len(PoseSequence.empty((640, 480))) == 0
    seq.landmarks[3, Landmark.LEFT_WRIST] = np.nan  # a masked arm keeps the frame
    seq.landmarks[4, Landmark.RIGHT_HIP, 0] = np.nan  # a torso point loses it
    assert seq.detected.tolist() == [True, True, False, True, False]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"landmarks": np.zeros((5, 32, 3))}, r"landmarks must have shape \(T, 33, 3\)"),
    ({"visibility": np.zeros((4, 33))}, r"visibility must have shape \(5, 33\)"),
    ({"timestamps_ms": np.array([0, 1, 1, 2, 3])}, "strictly increasing"),
    ({"timestamps_ms": np.arange(4)}, r"timestamps_ms must have shape \(5,\)"),
    ({"image_size": (0, 480)}, "image_size must be positive"),
    ({"world_landmarks": np.zeros((5, 33, 2))}, r"world_landmarks must have shape"),
])
def test_shapes_validated_at_construction(kwargs: dict, message: str) -> None:
    base = {"landmarks": np.zeros((5, 33, 3)), "visibility": np.zeros((5, 33)),
            "presence": np.zeros((5, 33)), "timestamps_ms": np.arange(5),
            "image_size": (640, 480)}
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        PoseSequence(**base)


@pytest.mark.parametrize("world", [True, False])
def test_npz_round_trip_is_exact(tmp_path, world: bool) -> None:
    seq = make_seq(world=world)
    path = save_npz(tmp_path / "sub" / "a.npz", seq)
    back = load_npz(path)
    np.testing.assert_array_equal(back.landmarks, seq.landmarks)
    np.testing.assert_array_equal(back.visibility, seq.visibility)
    np.testing.assert_array_equal(back.presence, seq.presence)
    np.testing.assert_array_equal(back.timestamps_ms, seq.timestamps_ms)
    assert back.image_size == (1280, 720)
    if world:
        np.testing.assert_array_equal(back.world_landmarks, seq.world_landmarks)
    else:
        assert back.world_landmarks is None
    with np.load(path) as data:
        assert data["landmarks"].dtype == np.float32 and data["landmarks"].shape == (5, 33, 4)
        assert data["timestamps_ms"].dtype == np.int64
        assert data["image_size"].tolist() == [1280, 720]
    assert not list(tmp_path.glob("sub/*.tmp"))  # atomic write leaves no temp file


def test_npz_without_optional_keys(tmp_path) -> None:
    lm = np.full((2, 33, 4), 0.5, np.float32)
    np.savez(tmp_path / "min.npz", landmarks=lm, timestamps_ms=np.array([0, 33]),
             image_size=np.array([640, 480]))
    seq = load_npz(tmp_path / "min.npz")
    assert seq.world_landmarks is None
    assert seq.presence.shape == (2, 33) and np.all(seq.presence == 1.0)


def test_npz_errors_name_the_problem(tmp_path) -> None:
    with pytest.raises(LandmarkFileError, match="landmark file not found"):
        load_npz(tmp_path / "nope.npz")
    np.savez(tmp_path / "bad.npz", landmarks=np.zeros((2, 33, 4)))
    with pytest.raises(LandmarkFileError, match=r"missing key.*timestamps_ms, image_size"):
        load_npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "shape.npz", landmarks=np.zeros((2, 33, 3)),
             timestamps_ms=np.arange(2), image_size=np.array([640, 480]))
    with pytest.raises(LandmarkFileError, match=r"'landmarks' must have shape \(T, 33, 4\)"):
        load_npz(tmp_path / "shape.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(LandmarkFileError, match=r"cannot read as \.npz"):
        load_npz(tmp_path / "junk.npz")
    np.savez(tmp_path / "ts.npz", landmarks=np.zeros((2, 33, 4)),
             timestamps_ms=np.array([5, 5]), image_size=np.array([640, 480]))
    with pytest.raises(LandmarkFileError, match="strictly increasing"):
        load_npz(tmp_path / "ts.npz")


def test_npz_gets_the_umask_mode_not_mkstemps_0600(tmp_path) -> None:
    import os

    old = os.umask(0o022)
    try:
        path = save_npz(tmp_path / "a.npz", make_seq(world=False))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # like any file the user writes
