"""The on-screen window (OpenCV HighGUI): show a frame, read a key, notice closing."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys

import cv2
import numpy as np

from itbcoach.errors import InputError

#: cv2.waitKey codes -> key names used by the coaches.
KEYS = {32: "space", 27: "q", ord("q"): "q", ord("r"): "r", ord("n"): "n", ord("y"): "y",
        ord("f"): "f", 13: "enter", 10: "enter"}


def screen_size() -> tuple[int, int] | None:
    """The X11 screen's ``(width, height)`` in pixels (Linux; None elsewhere or when it
    cannot be read)."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    name = ctypes.util.find_library("X11")
    if not name:
        return None
    with contextlib.suppress(OSError, AttributeError):
        x11 = ctypes.cdll.LoadLibrary(name)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
        x11.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        dpy = x11.XOpenDisplay(None)
        if not dpy:
            return None
        try:
            scr = x11.XDefaultScreen(dpy)
            return int(x11.XDisplayWidth(dpy, scr)), int(x11.XDisplayHeight(dpy, scr))
        finally:
            x11.XCloseDisplay(dpy)
    return None


#: The window counts as closed by the user after this many polls in a row without it.
HIDDEN_POLLS = 3


class Window:
    """A resizable window without toolbar; :meth:`show` displays a frame (best drawn at
    :meth:`size`: the window stretches what it gets) and returns the key pressed; ``f``
    toggles fullscreen (handled here, not returned).

    Args:
        title: the window title.
        fullscreen: start fullscreen (``--fullscreen``).

    Raises:
        InputError: no display is available (exit 3, like a missing camera; the message
            suggests ``--no-window``).
    """

    def __init__(self, title: str = "itbcoach", fullscreen: bool = False) -> None:
        self.title = title
        self.closed = False
        self.fullscreen = fullscreen
        self._shown = False
        self._normal_size: tuple[int, int] | None = None
        self._hidden = 0
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            # OpenCV's Qt build aborts the whole process (SIGABRT) without an X display
            raise InputError("cannot open a window: no display (DISPLAY is not set); run "
                            "from a desktop session, or use --no-window")
        try:
            # free ratio: the live loop draws at the window's size itself, letterboxing
            # the camera picture (sharp text that uses the whole width)
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL | cv2.WINDOW_FREERATIO |
                            cv2.WINDOW_GUI_NORMAL)
        except cv2.error as exc:
            raise InputError(f"cannot open a window ({str(exc).splitlines()[-1].strip()}); "
                            "run with a display, or use --no-window") from None

    def size(self) -> tuple[int, int] | None:
        """The picture area's ``(width, height)`` in pixels, once shown (the live loop
        draws its overlay at this size, so text stays sharp and large when the window is
        enlarged or fullscreen)."""
        if not self._shown:
            return None
        try:
            _x, _y, w, h = cv2.getWindowImageRect(self.title)
        except cv2.error:
            return None
        return (w, h) if w > 0 and h > 0 else None

    def set_fullscreen(self, on: bool) -> None:
        """Switch fullscreen on or off. The window is also moved to the corner and sized
        to the screen (X11): without a window manager (a kiosk, a virtual display) the
        fullscreen flag alone changes nothing."""
        self.fullscreen = on
        cv2.setWindowProperty(self.title, cv2.WND_PROP_FULLSCREEN,
                              cv2.WINDOW_FULLSCREEN if on else cv2.WINDOW_NORMAL)
        screen = screen_size()
        if screen is None:
            return
        if on:
            self._normal_size = self._normal_size or self.size()
            cv2.moveWindow(self.title, 0, 0)
            cv2.resizeWindow(self.title, *screen)
        elif self._normal_size is not None:
            cv2.resizeWindow(self.title, *self._normal_size)

    def show(self, frame: np.ndarray) -> str | None:
        """Display ``frame`` (BGR) and poll the keyboard for 1 ms."""
        first = not self._shown
        if first:
            h, w = frame.shape[:2]
            cv2.resizeWindow(self.title, w, h)
            self._normal_size = (w, h)
            self._shown = True
        cv2.imshow(self.title, frame)
        if first and self.fullscreen:
            self.set_fullscreen(True)
        code = cv2.waitKey(1)
        # closed by the user: invisible on several polls in a row (a window being moved
        # or resized to fullscreen can read invisible for a moment)
        hidden = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        self._hidden = self._hidden + 1 if hidden else 0
        if self._hidden >= HIDDEN_POLLS:
            self.closed = True
        if code < 0:
            return None
        key = KEYS.get(code & 0xFF)
        if key == "f":
            self.set_fullscreen(not self.fullscreen)
            self._hidden = 0
            return None
        return key

    def close(self) -> None:
        """Destroy the window."""
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass
