"""Frame sources: real video decoding, timestamps, rotation, truncation, real-time play,
image folders and the camera's error path. No model runs here."""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from itbcoach.errors import InputError
from itbcoach.pose.sources import (
    CameraSource,
    ImageFolderSource,
    Timestamper,
    VideoFileSource,
    list_images,
    open_source,
    probe_video,
)


def write_video(path: Path, frames: int, size: tuple[int, int] = (64, 48),
                fps: float = 30.0) -> Path:
    """A small mp4 whose frame i has a white block at the top-left and gray level i."""
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(frames):
        img = np.full((h, w, 3), (i * 7) % 200, np.uint8)
        img[: h // 5, : w // 3] = 255
        writer.write(img)
    writer.release()
    return path


def set_rotation_90(path: Path) -> None:
    """Patch the track header's display matrix to a 90 degree rotation (as phones do)."""
    data = bytearray(path.read_bytes())
    i = data.find(b"tkhd")
    version = data[i + 4]
    off = i + 8 + (32 if version == 1 else 20) + 8 + 8
    data[off:off + 36] = struct.pack(">9i", 0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- video file (offline)

def test_every_frame_with_container_timestamps(shared_videos):
    # The container says 192 frames, 190 decode (edit list); 23.976 fps.
    with VideoFileSource(shared_videos / "hiphinge_singleleg_side_01.mp4") as src:
        assert src.frame_count == 192
        assert src.size == (1080, 1080)
        frames = [(f.frame_id, f.timestamp_ms, f.image.shape) for f in src]
    ids = [f[0] for f in frames]
    ts = np.array([f[1] for f in frames])
    assert ids == list(range(190))
    assert frames[0][2] == (1080, 1080, 3)
    assert np.all(np.diff(ts) > 0)
    assert ts[0] == 0
    assert ts[-1] == round(189 * 1001 / 24)  # 7883 ms


def test_variable_frame_rate_timestamps_come_from_the_container(shared_videos):
    # AeroLearn clips are VFR: the 2nd frame is 56.67 ms after the first.
    with VideoFileSource(shared_videos / "kneelift_front_small_01.mp4") as src:
        ts = [f.timestamp_ms for f in src]
    assert len(ts) == 156
    assert ts[:4] == [0, 57, 90, 123]
    assert ts[-1] == 5195
    assert np.all(np.diff(ts) > 0)


def test_timestamper_rounds_bumps_duplicates_and_shifts_negative_start():
    stamp = Timestamper(fps=30.0)
    assert [stamp(0, -20.0), stamp(1, 13.4), stamp(2, 13.4), stamp(3, 10.0)] == [0, 33, 34, 35]
    assert stamp.adjusted == 2
    fallback = Timestamper(fps=25.0)  # container gives no time after frame 0
    assert [fallback(i, 0.0) for i in range(3)] == [0, 40, 80]
    assert [fallback(3, float("nan"))] == [120]


def test_rotation_metadata_is_applied(tmp_path):
    path = write_video(tmp_path / "rot.mp4", 5, size=(64, 48))
    set_rotation_90(path)
    with VideoFileSource(path) as src:
        assert src.size == (48, 64)
        first = next(iter(src)).image
    assert first.shape == (64, 48, 3)
    # The white block (top-left before rotation) is at the top-right after 90 deg cw.
    ys, xs = np.nonzero(first[..., 0] > 240)
    assert ys.mean() < 16 and xs.mean() > 32


def test_truncated_video_is_one_clear_input_error(shared_videos, tmp_path):
    data = (shared_videos / "squat_overhead_front_good_01.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    with VideoFileSource(cut) as src, pytest.raises(InputError) as err:
        for _ in src:
            pass
    msg = str(err.value)
    assert "truncated or corrupt" in msg and "of 72 frames" in msg and "\n" not in msg


def test_unreadable_missing_and_folder_inputs(shared_videos, tmp_path):
    data = (shared_videos / "squat_front_01.mp4").read_bytes()  # moov atom at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cannot open .*cut\.mp4 as a video"):
        VideoFileSource(cut)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(InputError, match="cannot open"):
        VideoFileSource(junk)
    with pytest.raises(InputError, match="video not found"):
        VideoFileSource(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="is a folder"):
        VideoFileSource(tmp_path)


def test_prepare_hook_runs_in_the_decode_thread(tmp_path):
    path = write_video(tmp_path / "v.mp4", 6)
    threads = set()

    def prepare(image):
        threads.add(threading.current_thread().name)
        return int(image[-1, -1, 0])

    with VideoFileSource(path, prepare=prepare) as src:
        got = [(f.prepared, int(f.image[-1, -1, 0])) for f in src]
    assert len(got) == 6
    assert all(p == v for p, v in got)
    assert threads == {"decode:v.mp4"}


def test_close_early_stops_the_decoder(tmp_path):
    path = write_video(tmp_path / "v.mp4", 60)
    src = VideoFileSource(path, queue_size=2)
    it = iter(src)
    assert [next(it).frame_id for _ in range(3)] == [0, 1, 2]
    src.close()
    assert not any(t.name == "decode:v.mp4" and t.is_alive() for t in threading.enumerate())


# ----------------------------------------------------------- video file as a camera

def test_realtime_play_keeps_pace_and_newest_frame_wins(tmp_path):
    path = write_video(tmp_path / "v.mp4", 30, fps=30.0)  # 1 s
    t0 = time.monotonic()
    with VideoFileSource(path, realtime=True) as src:
        got = []
        for frame in src:
            got.append(frame.frame_id)
            time.sleep(0.1)  # a consumer at ~10 fps
        dropped = src.dropped
    elapsed = time.monotonic() - t0
    assert elapsed >= 29 / 30  # never faster than the video itself
    assert got == sorted(got) and len(set(got)) == len(got)
    assert dropped > 0 and len(got) < 30
    assert len(got) + dropped == 30  # every decoded frame was either taken or dropped
    assert got[-1] == 29  # the last frame is still delivered



def test_realtime_frame_hook_runs_before_the_consumer_gets_the_frame(tmp_path):
    """A live source's ``on_frame`` (the hand-over to the model) has run for every frame
    the consumer takes: the live loop never finds its frame not yet submitted (it then
    polled nothing, and two results the next time, one never shown)."""
    path = write_video(tmp_path / "v.mp4", 20, fps=60.0)
    hooked: list[int] = []
    with VideoFileSource(path, realtime=True) as src:
        src.on_frame = lambda f: (time.sleep(0.005), hooked.append(f.frame_id))
        got = [(frame.frame_id, frame.frame_id in hooked) for frame in src]
    assert hooked == list(range(20))
    assert got and all(seen for _fid, seen in got), got

# --------------------------------------------------------------------- image folders

def test_image_folder_in_natural_order_with_timestamps(tmp_path):
    for name, level in (("frame10.png", 30), ("frame2.png", 20), ("frame1.png", 10)):
        cv2.imwrite(str(tmp_path / name), np.full((20, 30, 3), level, np.uint8))
    (tmp_path / "notes.txt").write_text("ignored")
    assert [p.name for p in list_images(tmp_path)] == ["frame1.png", "frame2.png",
                                                       "frame10.png"]
    with ImageFolderSource(tmp_path, fps=30.0) as src:
        assert src.size == (30, 20)
        frames = [(f.frame_id, f.timestamp_ms, int(f.image[0, 0, 0])) for f in src]
    assert frames == [(0, 0, 10), (1, 33, 20), (2, 67, 30)]


def test_image_folder_errors(tmp_path):
    with pytest.raises(InputError, match="no images"):
        ImageFolderSource(tmp_path)
    cv2.imwrite(str(tmp_path / "a1.png"), np.zeros((20, 30, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "a2.png"), np.zeros((21, 30, 3), np.uint8))
    with ImageFolderSource(tmp_path) as src, pytest.raises(InputError, match="one size"):
        list(src)
    (tmp_path / "a2.png").write_bytes(b"broken")
    with ImageFolderSource(tmp_path) as src, pytest.raises(InputError, match=r"a2\.png"):
        list(src)


# ----------------------------------------------------------------------------- camera

def test_wrong_camera_index_is_one_clear_input_error(capfd):
    with pytest.raises(InputError) as err:
        CameraSource(97)
    assert str(err.value).startswith("cannot open camera 97: no such camera or it is busy")
    assert capfd.readouterr().err == ""  # OpenCV's own warnings are silenced


def test_open_source_dispatches_on_the_spec(tmp_path):
    with pytest.raises(InputError, match="camera 98"):
        open_source("98")
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    with open_source(tmp_path) as src:
        assert isinstance(src, ImageFolderSource)
    video = write_video(tmp_path / "v.mp4", 3)
    with open_source(str(video), realtime=True) as src:
        assert isinstance(src, VideoFileSource) and src.realtime


# ------------------------------------------------------------------ decoding (PyAV)

def test_decoded_pixels_equal_opencvs_for_a_standard_video(shared_videos):
    # The pose model must see what it saw when the thresholds were set (OpenCV decoding).
    path = shared_videos / "kneelift_front_small_01.mp4"
    cap = cv2.VideoCapture(str(path))
    with VideoFileSource(path) as src:
        for k, frame in zip(range(10), src, strict=False):
            ok, ref = cap.read()
            assert ok and frame.frame_id == k
            assert np.array_equal(frame.image, ref)
    cap.release()


def test_display_p3_phone_video_decodes_upright(shared_videos):
    # iPhone clip re-encoded with Display-P3 primaries (OpenCV spent 56 ms of CPU a frame
    # converting its colours); 72 frames, portrait 720x1280.
    with VideoFileSource(shared_videos / "squat_overhead_front_good_01.mp4") as src:
        assert src.size == (720, 1280) and src.frame_count == 72
        frames = [(f.image.shape, f.timestamp_ms) for f in src]
    assert len(frames) == 72
    assert frames[0] == ((1280, 720, 3), 0)
    assert np.all(np.diff([f[1] for f in frames]) > 0)


def test_probe_reads_frames_and_size_from_the_header(shared_videos, tmp_path):
    assert probe_video(shared_videos / "kneelift_front_small_01.mp4") == (156, 960, 540)
    # portrait phone clip: the coded size (the display rotation is applied when decoding)
    assert probe_video(shared_videos / "squat_overhead_front_good_01.mp4") == (72, 720, 1280)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    assert probe_video(text) == (0, 0, 0)
    assert probe_video(tmp_path / "missing.mp4") == (0, 0, 0)


def test_decoder_threads_follow_the_request_and_the_cores(tmp_path):
    import os

    path = write_video(tmp_path / "v.mp4", 5)
    with VideoFileSource(path, decode_threads=1) as src:
        assert src._cap._stream.thread_type.name == "NONE"
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs CPU affinity control and two usable cores")
    with VideoFileSource(path) as src:
        assert src._cap._stream.thread_type.name == "AUTO"
    usable = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(usable)})  # this thread only (a pinned batch worker)
    try:
        with VideoFileSource(path) as src:
            assert src._cap._stream.thread_type.name == "NONE"
            assert len(list(src)) == 5
    finally:
        os.sched_setaffinity(0, usable)
