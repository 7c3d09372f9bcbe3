"""H.264 writer: browser-playable mp4, exact frame count, atomic on failure."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from itbcoach.report.video import H264Writer


def test_writes_h264_yuv420p_with_all_frames(tmp_path) -> None:
    out = tmp_path / "a.mp4"
    with H264Writer(out, 30, (321, 241)) as w:  # odd size is padded to even
        for i in range(45):
            img = np.zeros((241, 321, 3), np.uint8)
            cv2.circle(img, (40 + 5 * i, 120), 30, (0, 0, 255), -1)
            w.write(img)
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(s)]
    assert len(frames) == 45
    assert frames[0].shape == (242, 322, 3)
    # the red disc moved: its centre of mass follows the drawing within 2 px
    red = frames[20][..., 2] > 150
    assert abs(np.argwhere(red)[:, 1].mean() - (40 + 5 * 20)) < 2
    assert not list(tmp_path.glob(".*part*"))


def test_failed_write_leaves_no_file(tmp_path) -> None:
    out = tmp_path / "b.mp4"
    with pytest.raises(ValueError, match="frame size"), H264Writer(out, 25, (64, 48)) as w:
        w.write(np.zeros((48, 64, 3), np.uint8))
        w.write(np.zeros((10, 10, 3), np.uint8))
    assert not out.exists() and not list(tmp_path.iterdir())


def test_an_encoder_failure_reaches_the_caller_and_leaves_no_file(tmp_path, monkeypatch):
    """Encoding runs on a worker thread: its error must surface in write() or close()."""

    def broken(*args, **kwargs):
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(av.VideoFrame, "from_ndarray", broken)
    out = tmp_path / "c.mp4"
    with pytest.raises(RuntimeError, match="encoder exploded"):
        with H264Writer(out, 25, (64, 48)) as w:
            for _ in range(20):
                w.write(np.zeros((48, 64, 3), np.uint8))
    assert not out.exists() and not list(tmp_path.iterdir())
