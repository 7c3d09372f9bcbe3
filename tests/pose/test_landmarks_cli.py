"""``itbcoach landmarks`` and :func:`extract_landmarks` on the real footage: detection
rate per video (>= MANIFEST), timestamps, exact NPZ round trip, and the bad inputs
(truncated video, missing file, no person) as one line plus a non-zero exit."""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest

from itbcoach.cli.main import main
from itbcoach.errors import ExitCode
from itbcoach.landmarks import load_npz, save_npz

SHORT = "squat_overhead_front_good_02.mp4"  # 68 frames: the clip the CLI tests re-run


def manifest_rates(shared_videos) -> dict[str, float]:
    """``file -> pose rate`` from the MANIFEST table (share, 0..1)."""
    rates = {}
    for line in (shared_videos / "MANIFEST.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 10 and cells[0].endswith(".mp4"):
            m = re.fullmatch(r"(\d+(?:\.\d+)?)%", cells[9])
            assert m, f"no pose rate in MANIFEST row {cells[0]}: {cells[9]!r}"
            rates[cells[0]] = float(m.group(1)) / 100.0
    return rates


def test_manifest_lists_every_sample_video(shared_videos):
    rates = manifest_rates(shared_videos)
    assert sorted(rates) == sorted(p.name for p in shared_videos.glob("*.mp4"))
    assert len(rates) == 15


VIDEOS = [
    "hiphinge_singleleg_side_01.mp4", "kneelift_front_small_01.mp4",
    "lunge_lateral_front_01.mp4", "lunge_split_side_01.mp4", "sidestep_front_small_01.mp4",
    "sidetap_front_small_01.mp4", "splitsquat_bulgarian_oblique_01.mp4",
    "squat_front_01.mp4", "squat_overhead_front_02.mp4", "squat_overhead_front_bad_01.mp4",
    "squat_overhead_front_bad_02.mp4", "squat_overhead_front_good_01.mp4",
    "squat_overhead_front_good_02.mp4", "squat_overhead_side_good_01.mp4",
    "squat_sidestep_front_small_01.mp4",
]


@pytest.mark.parametrize("name", VIDEOS)
def test_real_video_detection_rate_and_timestamps(shared_videos, video_landmarks, name):
    seq, meta = video_landmarks(name)
    want = manifest_rates(shared_videos)[name]
    assert meta["detection_rate"] >= want
    assert seq.detection_rate >= want
    ts = seq.timestamps_ms
    assert ts[0] == 0 and np.all(np.diff(ts) > 0)
    cap = cv2.VideoCapture(str(shared_videos / name))
    container = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    # Every frame decoded (MANIFEST: counts match ffprobe, except the hip-hinge edit list).
    assert len(seq) == meta["frames"] == (190 if name.startswith("hiphinge") else container)
    assert ts[-1] == pytest.approx((len(seq) - 1) * 1000 / fps, abs=35)
    assert meta["kind"] == "video" and meta["model_variant"] == "full"
    assert meta["image_size"] == list(seq.image_size)
    assert meta["framing"]["frames"] == len(seq)
    assert meta["warnings"] == []


def test_npz_round_trip_is_exact(video_landmarks, tmp_path):
    seq, _ = video_landmarks("hiphinge_singleleg_side_01.mp4")
    back = load_npz(save_npz(tmp_path / "a.npz", seq))
    for name in ("landmarks", "visibility", "presence", "world_landmarks", "timestamps_ms"):
        a, b = getattr(seq, name), getattr(back, name)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), name
    assert back.image_size == seq.image_size == (1080, 1080)


def test_cli_writes_the_raw_landmarks_and_a_summary(shared_videos, video_landmarks,
                                                    tmp_path, capfd):
    out = tmp_path / "short.npz"
    rc = main(["landmarks", str(shared_videos / SHORT), "-o", str(out), "--no-progress"])
    cap = capfd.readouterr()
    assert rc == ExitCode.OK
    assert cap.err == ""  # no MediaPipe/TFLite log noise
    assert f"wrote {out}" in cap.out
    assert re.search(r"frames:\s+68\n", cap.out)
    assert "detection rate:  100.0%" in cap.out
    assert re.search(r"fps achieved:\s+\d+\.\d frames/s", cap.out)
    got = load_npz(out)
    ref, _ = video_landmarks(SHORT)
    assert len(got) == 68 and got.timestamps_ms.tolist() == ref.timestamps_ms.tolist()
    np.testing.assert_allclose(got.landmarks, ref.landmarks, atol=1e-6)
    np.testing.assert_allclose(got.world_landmarks, ref.world_landmarks, atol=1e-6)


def test_cli_smooth_and_json(shared_videos, tmp_path, capfd):
    out, meta = tmp_path / "s.npz", tmp_path / "s.json"
    rc = main(["landmarks", str(shared_videos / SHORT), "-o", str(out), "--smooth",
               "--json", str(meta), "--view", "frontal", "--no-progress"])
    assert rc == ExitCode.OK
    assert "smoothed:        yes" in capfd.readouterr().out
    info = json.loads(meta.read_text())
    assert info["smoothed"] and info["masked"] and info["frames"] == 68
    assert info["framing"]["view"] == "frontal" and info["framing"]["ok_share"] == 1.0
    seq = load_npz(out)
    low = seq.visibility < 0.5
    assert np.isnan(seq.landmarks[low]).all()  # masked, not trusted


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_truncated_video_one_line_exit_3(shared_videos, tmp_path, capfd):
    data = (shared_videos / SHORT).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    rc = main(["landmarks", str(cut), "-o", str(tmp_path / "o.npz"), "--no-progress"])
    cap = capfd.readouterr()
    assert rc == ExitCode.INPUT == 3
    line = _one_line(cap.err)
    assert line.startswith(f"itbcoach: {cut} is truncated or corrupt: decoding stopped")
    assert not (tmp_path / "o.npz").exists()


@pytest.mark.parametrize("kind", ["missing", "garbage", "bad-output"])
def test_bad_inputs_one_line_exit_3(tmp_path, capfd, kind, shared_videos):
    src, out = tmp_path / "in.mp4", tmp_path / "o.npz"
    if kind == "garbage":
        src.write_bytes(b"\x00\x01 not a video" * 64)
    if kind == "bad-output":
        src, out = shared_videos / SHORT, tmp_path / "o.csv"
    rc = main(["landmarks", str(src), "-o", str(out), "--no-progress"])
    assert rc == ExitCode.INPUT
    line = _one_line(capfd.readouterr().err)
    expected = {"missing": "itbcoach: input not found", "garbage": "itbcoach: cannot open",
                "bad-output": "itbcoach: output must end in .npz"}[kind]
    assert line.startswith(expected)


def test_no_person_gives_empty_but_valid_result(tmp_path, capfd):
    video = tmp_path / "nobody.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    rng = np.random.default_rng(0)
    for _ in range(20):
        writer.write(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
    writer.release()
    out = tmp_path / "nobody.npz"
    rc = main(["landmarks", str(video), "-o", str(out), "--no-progress"])
    cap = capfd.readouterr()
    assert rc == ExitCode.NO_RESULT == 4
    assert _one_line(cap.err).startswith(
        f"itbcoach: no person detected in any of the 20 frames of {video}")
    assert "detection rate:  0.0%" in cap.out
    seq = load_npz(out)
    assert len(seq) == 20 and np.isnan(seq.landmarks).all() and seq.detection_rate == 0.0
    assert np.all(np.diff(seq.timestamps_ms) > 0)


def test_image_folder_and_single_image(shared_videos, tmp_path, capfd):
    cap = cv2.VideoCapture(str(shared_videos / SHORT))
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        ok, img = cap.read()
        assert ok
        cv2.imwrite(str(folder / f"f{i}.png"), img)
    cap.release()
    out = tmp_path / "folder.npz"
    assert main(["landmarks", str(folder), "-o", str(out), "--no-progress"]) == 0
    seq = load_npz(out)
    assert seq.timestamps_ms.tolist() == [0, 33, 67, 100, 133, 167]
    assert seq.detection_rate == 1.0 and seq.image_size == (720, 1280)
    assert "(images, 720x1280" in capfd.readouterr().out
    one = tmp_path / "one.npz"
    assert main(["landmarks", str(folder / "f0.png"), "-o", str(one), "--no-progress"]) == 0
    still = load_npz(one)
    assert len(still) == 1 and still.detection_rate == 1.0
    # IMAGE mode on the first frame agrees with VIDEO mode on it.
    assert np.abs(still.landmarks[0, :, :2] - seq.landmarks[0, :, :2]).max() < 0.01
