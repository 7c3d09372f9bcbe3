"""The on-screen window (OpenCV HighGUI): show a frame, read a key, notice closing."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from itbcoach.errors import InputError

#: cv2.waitKey codes -> key names used by the coaches.
KEYS = {32: "space", 27: "q", ord("q"): "q", ord("r"): "r", ord("n"): "n", ord("y"): "y",
        13: "enter", 10: "enter"}


class Window:
    """A resizable window; :meth:`show` displays a frame and returns the key pressed.

    Raises:
        InputError: no display is available (exit 3, like a missing camera; the message
            suggests ``--no-window``).
    """

    def __init__(self, title: str = "itbcoach") -> None:
        self.title = title
        self.closed = False
        self._shown = False
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            # OpenCV's Qt build aborts the whole process (SIGABRT) without an X display
            raise InputError("cannot open a window: no display (DISPLAY is not set); run "
                            "from a desktop session, or use --no-window")
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO)
        except cv2.error as exc:
            raise InputError(f"cannot open a window ({str(exc).splitlines()[-1].strip()}); "
                            "run with a display, or use --no-window") from None

    def show(self, frame: np.ndarray) -> str | None:
        """Display ``frame`` (BGR) and poll the keyboard for 1 ms."""
        if not self._shown:
            h, w = frame.shape[:2]
            cv2.resizeWindow(self.title, w, h)
            self._shown = True
        cv2.imshow(self.title, frame)
        code = cv2.waitKey(1)
        if self._shown and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            self.closed = True
        if code < 0:
            return None
        return KEYS.get(code & 0xFF)

    def close(self) -> None:
        """Destroy the window."""
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass
