"""CameraSource read failures become one InputError line. There is no camera here, so
OpenCV's VideoCapture is replaced by a stub that delivers real frames and then fails
the way a driver does: reads that return nothing, or an exception from the driver."""

from __future__ import annotations

import time
from typing import ClassVar

import cv2
import numpy as np
import pytest

import itbcoach.pose.sources as sources
from itbcoach.errors import InputError
from itbcoach.pose.sources import CameraSource


class StubCapture:
    """``cv2.VideoCapture(index)`` stand-in: ``frames`` good reads, then ``failure``
    (``"empty"``: ``(False, None)`` forever; ``"error"``: raises ``cv2.error``)."""

    instances: ClassVar[list[StubCapture]] = []

    def __init__(self, index: int, frames: int = 5, failure: str = "empty") -> None:
        # failure "block": read() hangs (some V4L2 drivers on unplug) until released
        self.index, self.left, self.failure = index, frames, failure
        self.released = False
        StubCapture.instances.append(self)

    def isOpened(self) -> bool:  # OpenCV's name
        return True

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.left > 0:
            self.left -= 1
            return True, np.full((48, 64, 3), 100, np.uint8)
        if self.failure == "block":
            while not self.released:
                time.sleep(0.01)
            return False, None
        if self.failure == "error":
            raise cv2.error("OpenCV(4.x) /io/videoio/cap_v4l.cpp:1000: error: (-2:Unspecified "
                            "error) VIDIOC_DQBUF: No such device\nin function 'read'\n")
        return False, None

    def release(self) -> None:
        self.released = True


@pytest.fixture
def stub(monkeypatch):
    StubCapture.instances.clear()

    def install(**kwargs):
        monkeypatch.setattr(sources.cv2, "VideoCapture",
                            lambda index, *a: StubCapture(index, **kwargs))

    return install


def test_camera_that_stops_delivering_is_one_line(stub):
    stub(frames=5, failure="empty")
    got = []
    with CameraSource(0, read_timeout_s=0.2) as cam:
        assert cam.size == (64, 48)
        with pytest.raises(InputError) as err:
            got.extend(f.frame_id for f in cam)
    # the constructor's probe read takes 1 frame; the newest-wins slot may skip some
    assert 1 <= len(got) <= 4 and got == sorted(got)
    assert str(err.value) == ("camera 0 stopped delivering frames for 0.2 s (unplugged or "
                              "taken by another app); reconnect it and start again")
    assert StubCapture.instances[0].released


def test_driver_error_while_capturing_is_one_line(stub):
    stub(frames=3, failure="error")
    with CameraSource(2) as cam, pytest.raises(InputError) as err:
        list(cam)
    assert str(err.value) == (
        "camera 2 failed while capturing (OpenCV(4.x) /io/videoio/cap_v4l.cpp:1000: error: "
        "(-2:Unspecified error) VIDIOC_DQBUF: No such device); reconnect it and start again")
    assert "\n" not in str(err.value)
    assert StubCapture.instances[0].released


def test_camera_without_a_picture_is_one_line(stub):
    stub(frames=0, failure="error")  # opens, but the first read fails in the driver
    with pytest.raises(InputError, match=r"^camera 1 opened but gives no picture \(busy or "
                                         r"blocked by privacy settings\); close other apps"):
        CameraSource(1)
    assert StubCapture.instances[0].released


def test_camera_whose_read_blocks_times_out_as_one_line(stub):
    """The capture thread is stuck inside read(): the consumer still gets one line."""
    stub(frames=3, failure="block")
    with CameraSource(4, read_timeout_s=0.2) as cam, pytest.raises(InputError) as err:
        list(cam)
    assert str(err.value) == ("camera 4 stopped delivering frames for 1.2 s (unplugged or "
                              "taken by another app); reconnect it and start again")
