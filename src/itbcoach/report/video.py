"""H.264/mp4 writing that plays in a browser.

OpenCV's pip wheels cannot encode H.264 (no libx264), so annotated videos and renders are
written with PyAV (FFmpeg's libraries, libx264 included in its wheels): H.264 High
profile, yuv420p, ``+faststart`` so a browser starts playing before the download ends.
Writes go through :class:`itbcoach.output.PendingOutput` (a temporary file put in place
on success, removed on any failure).
"""

from __future__ import annotations

import os
import queue
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np


class H264Writer:
    """Write BGR uint8 frames to an H.264 mp4.

    Args:
        path: output ``.mp4``.
        fps: frame rate (may be fractional, e.g. 29.97).
        size: ``(width, height)``; odd sizes are padded by one pixel (yuv420p needs even).
        crf: x264 constant rate factor (18 = visually lossless, 23 = default, 28 = small).
        preset: x264 speed preset.
        wall_clock: every frame is written with its own time (``write(frame, t_s)``,
            millisecond timestamps), so a recording whose frames came irregularly (a
            live session dropping frames) plays at the speed it happened; otherwise
            frames are ``1 / fps`` apart.
    """

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int],
                 crf: int = 23, preset: str = "veryfast", wall_clock: bool = False) -> None:
        import av

        from itbcoach.output import PendingOutput, output_error

        self.path = Path(path)
        self._out = PendingOutput(self.path)
        self._tmp = self._out.tmp
        self.size = (int(size[0]), int(size[1]))
        self._even = (self.size[0] + self.size[0] % 2, self.size[1] + self.size[1] % 2)
        try:
            self._container = av.open(str(self._tmp), mode="w", format="mp4",
                                      options={"movflags": "+faststart"})
        except OSError as exc:
            self._out.discard()
            raise output_error(self.path, exc) from None
        rate = Fraction(fps).limit_denominator(1001)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = self._even
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": preset}
        self.wall_clock = wall_clock
        self._last_pts = -1
        if wall_clock:
            self._stream.codec_context.time_base = Fraction(1, 1000)
        self.frames = 0
        self._closed = False
        # encoding runs on its own thread (PyAV releases the GIL inside the codec), so
        # the caller's decoding and drawing overlap with x264
        self._queue: queue.Queue[tuple[np.ndarray, int | None] | None] = queue.Queue(
            maxsize=8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode_loop, name="h264-encode",
                                        daemon=True)
        self._thread.start()

    def _encode_loop(self) -> None:
        import av

        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain after a failure; the caller sees the error
            yuv, pts = item
            try:
                frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                if pts is not None:
                    frame.pts, frame.time_base = pts, Fraction(1, 1000)
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
            except BaseException as exc:  # re-raised in the caller's thread
                self._error = exc

    def write(self, frame_bgr: np.ndarray, t_s: float | None = None) -> None:
        """Append one ``(h, w, 3)`` BGR uint8 frame of the writer's size; ``t_s`` = its
        time in seconds from the start (``wall_clock`` writers only)."""
        import cv2

        pts = None
        if self.wall_clock:
            if t_s is None:
                raise ValueError("a wall_clock writer needs each frame's time t_s")
            pts = max(round(t_s * 1000.0), self._last_pts + 1)
            self._last_pts = pts

        h, w = frame_bgr.shape[:2]
        if (w, h) != self.size:
            raise ValueError(f"frame size {(w, h)} != writer size {self.size}")
        if self._even != self.size:
            frame_bgr = np.pad(frame_bgr, ((0, self._even[1] - h), (0, self._even[0] - w),
                                           (0, 0)), mode="edge")
        if self._error is not None:  # the encoder failed: stop now, clean up
            self.close(keep=False)
        # BGR -> I420 in OpenCV: faster than swscale's bgr24 path, same BT.601 matrix
        yuv = cv2.cvtColor(np.ascontiguousarray(frame_bgr), cv2.COLOR_BGR2YUV_I420)
        self._queue.put((yuv, pts))
        self.frames += 1

    def close(self, keep: bool = True) -> Path:
        """Flush and finish; ``keep=False`` discards the partial file.

        Raises:
            OutputError: the file could not be written (disk full, folder gone...); the
                partial file is removed and the target left as it was.
        """
        from itbcoach.output import output_error

        if self._closed:
            return self.path
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        try:
            try:
                if self._error is not None:
                    keep = False
                elif keep:
                    for packet in self._stream.encode():
                        self._container.mux(packet)
            finally:
                self._container.close()
        except BaseException as exc:
            self._out.discard()
            if isinstance(exc, OSError):
                raise output_error(self.path, exc) from None
            raise
        if keep:
            self._out.commit()
        else:
            self._out.discard()
        if self._error is not None:
            if isinstance(self._error, OSError):
                raise output_error(self.path, self._error) from None
            raise self._error
        return self.path

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(keep=exc_type is None)
