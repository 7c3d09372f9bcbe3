"""Frame sources: a video file, a camera, a video played as a camera, a folder of images.

Every source is a context manager and an iterator of :class:`Frame` objects carrying the
picture (BGR uint8, ``(H, W, 3)``, already rotated upright), a frame id and a timestamp in
whole milliseconds. Sources never run pose inference and never draw.

Two kinds of delivery:

* **Every frame** (offline): :class:`VideoFileSource` and :class:`ImageFolderSource`
  decode in a background thread into a bounded queue ending with an end marker, so
  decoding overlaps with whatever the consumer does and no frame is skipped.
  Timestamps come from the container (presentation times), made strictly increasing.
* **Newest frame wins** (live): :class:`CameraSource` and ``VideoFileSource(path,
  realtime=True)`` capture in a background thread into a one-slot buffer; a slow
  consumer gets the newest frame and the frames in between are dropped (counted in
  :attr:`dropped`; frame ids show the gaps). Camera timestamps are a monotonic clock at
  capture, in ms since the source was opened; a file played in real time keeps the
  container's timestamps, which then coincide with the elapsed time.

Any problem the user can act on (missing file, undecodable or truncated video, wrong
camera index) is an :class:`~itbcoach.errors.InputError` with one line of text.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from itbcoach.errors import InputError

# FFmpeg prints decoder complaints ("Invalid NAL unit size", "moov atom not found")
# straight to stderr; we report a broken file as one InputError line instead. OpenCV
# reads these variables once, at its first use of FFmpeg (setdefault: a user's own
# OPENCV_FFMPEG_DEBUG setting wins).
os.environ.setdefault("OPENCV_FFMPEG_DEBUG", "1")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

import cv2  # after the environment above

log = logging.getLogger(__name__)

#: Suffixes read by :class:`ImageFolderSource` (lower case).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

#: Decoding may stop this many frames short of the container's frame count before the
#: file counts as truncated: edit lists make the count over-report by a few frames (the
#: sample hip-hinge clip says 192 and decodes 190). The larger of the two applies.
TRUNCATION_TOLERANCE_FRAMES = 3
TRUNCATION_TOLERANCE_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured or decoded picture.

    Attributes:
        image: ``(H, W, 3)`` uint8, BGR, upright (rotation metadata applied).
        frame_id: index of the frame in its source (0-based). Live sources count every
            captured frame, so dropped frames show up as gaps.
        timestamp_ms: whole milliseconds, strictly increasing within a source.
        prepared: whatever the source's ``prepare`` hook made of ``image`` in the decode
            thread (e.g. a MediaPipe image), else ``None``.
        captured_s: ``time.monotonic()`` when a live source captured the frame (a
            camera's read, a real-time file's due time), for capture-to-display
            latency; NaN for frames read as fast as they decode.
    """

    image: np.ndarray
    frame_id: int
    timestamp_ms: int
    prepared: Any = None
    captured_s: float = math.nan


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's text (OpenCV's are multi-line)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _quiet_opencv() -> None:
    """Silence OpenCV's own warnings (e.g. probing a missing camera); errors are ours."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class _End:
    """End-of-stream marker in a frame queue."""


_END = _End()


@dataclass(frozen=True, slots=True)
class _Failure:
    """An exception raised in a producer thread, handed to the consumer."""

    error: BaseException


class Timestamper:
    """Turns container presentation times into strictly increasing whole milliseconds.

    Rounds to the nearest millisecond, shifts a negative first time to 0, falls back to
    ``frame_index * 1000 / fps`` when the container gives no time, and bumps a
    duplicate or decreasing time to ``previous + 1`` (counted in :attr:`adjusted`).
    MediaPipe's VIDEO and LIVE_STREAM modes reject a timestamp that does not increase.
    """

    def __init__(self, fps: float) -> None:
        self.fps = fps if fps > 0 and math.isfinite(fps) else 30.0
        self.adjusted = 0
        self._last: int | None = None
        self._offset: float | None = None

    def __call__(self, frame_index: int, position_ms: float | None) -> int:
        """Timestamp of frame ``frame_index`` whose container time is ``position_ms``."""
        raw = position_ms
        if raw is None or not math.isfinite(raw) or (raw <= 0.0 and frame_index > 0):
            raw = frame_index * 1000.0 / self.fps
        if self._offset is None:
            self._offset = -raw if raw < 0 else 0.0
        ts = round(raw + self._offset)
        if self._last is not None and ts <= self._last:
            ts = self._last + 1
            self.adjusted += 1
        self._last = ts
        return ts


class _LatestSlot:
    """A one-item buffer where the newest item wins; counts the items overwritten."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: Any = None
        self._has_item = False
        self._closed = False
        self._error: BaseException | None = None
        self.dropped = 0

    def put(self, item: Any) -> None:
        with self._cond:
            if self._has_item:
                self.dropped += 1
            self._item, self._has_item = item, True
            self._cond.notify_all()

    def close(self, error: BaseException | None = None) -> None:
        with self._cond:
            self._closed = True
            self._error = error
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> Any:
        """The newest unread item; ``_END`` once closed and drained; raises on failure."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._has_item or self._closed, timeout):
                raise TimeoutError
            if self._has_item:
                item, self._item, self._has_item = self._item, None, False
                return item
            if self._error is not None:
                raise self._error
            return _END


class _FrameSource:
    """Base: context manager, iterator of frames, ``close()`` releases everything."""

    #: ``(width, height)`` of the delivered frames in pixels.
    size: tuple[int, int]
    #: Nominal frame rate (frames per second) of the source.
    fps: float
    #: Human-readable name of the source, for messages.
    name: str
    #: Called in the capture thread with every frame a live source captures, the moment
    #: it is captured (before the consumer can take it), e.g. to hand it to the model
    #: while the consumer is still busy drawing the previous one. Must not block long;
    #: an exception is logged and the hook removed.
    on_frame: Callable[[Frame], None] | None = None

    def _captured(self, frame: Frame) -> None:
        """Run :attr:`on_frame` (capture thread)."""
        hook = self.on_frame
        if hook is None:
            return
        try:
            hook(frame)
        except Exception:
            log.exception("the frame hook failed; it is removed")
            self.on_frame = None

    def __enter__(self) -> _FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @property
    def every_frame(self) -> bool:
        """Every frame must be analysed, in order (a file read as fast as it decodes);
        False for a camera or a file played in real time, where the newest frame wins."""
        return False

    @property
    def dropped(self) -> int:
        """Frames captured but never delivered (live sources); 0 for offline sources."""
        return 0


class _QueuedReader:
    """Runs a frame generator in a thread into a bounded queue ending with ``_END``."""

    def __init__(self, produce: Callable[[threading.Event], Iterator[Frame]],
                 maxsize: int, name: str) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, maxsize))
        self._stop = threading.Event()
        self._produce = produce
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for frame in self._produce(self._stop):
                if not self._put(frame):
                    return
        except BaseException as exc:  # handed to the consumer, re-raised there
            self._put(_Failure(exc))
            return
        self._put(_END)

    def __iter__(self) -> Iterator[Frame]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)


def _check_path(path: Path) -> None:
    if not path.exists():
        raise InputError(f"video not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video file")


class _VideoDecoder:
    """Frames of one video file through FFmpeg (PyAV), upright, as BGR uint8.

    PyAV rather than ``cv2.VideoCapture``: OpenCV's colour conversion takes ~56 ms of CPU
    a frame on phone videos tagged with Display-P3 primaries (the iPhone default; the
    ``squat_overhead_*`` clips of ``../shared``: 32 ms a frame of wall time on two cores),
    where PyAV decodes and converts the frame in ~3 ms. Other videos give the same pixels
    as before.

    ``threads``: decoder threads; 0 = FFmpeg's choice (frame and slice threads), 1 = decode
    on the calling thread only. Threads cost CPU of their own (720p H.264: 1.0-1.1 ms a
    frame with FFmpeg's threads, 0.75 ms without), which only pays when a core would
    otherwise idle: a process that may run on one core alone (a pinned batch worker)
    always decodes single-threaded.

    Raises:
        InputError: the file cannot be opened as a video.
    """

    def __init__(self, path: Path, threads: int = 0) -> None:
        import av

        _check_path(path)
        try:
            self._container = av.open(str(path), mode="r")
        except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot open {path} as a video (corrupt, truncated or not a "
                             "video); check the file or re-export it as .mp4") from exc
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{path} has no video track; check the file or re-export it "
                             "as .mp4")
        self._stream = self._container.streams.video[0]
        if threads == 1 or _usable_cores() == 1:
            self._stream.thread_type = "NONE"
        else:
            self._stream.thread_type = "AUTO"
            self._stream.thread_count = max(0, int(threads))
        #: Nominal frame rate (0 = unknown).
        self.fps = _stated_fps(self._stream)
        #: Frame count the container states (0 = unknown): see :func:`_stated_frames`.
        self.frame_count = _stated_frames(self._container, self._stream, self.fps)
        self._start = int(self._stream.start_time or 0)
        self._frames = self._container.decode(self._stream)

    def read(self) -> tuple[np.ndarray, float | None] | None:
        """The next frame and its presentation time in ms (None: unknown); None at the
        end of the decodable data (a decoding error also ends it: the caller compares the
        count with :attr:`frame_count`)."""
        import av

        try:
            frame = next(self._frames)
        except StopIteration:
            return None
        except (av.FFmpegError, OSError, ValueError) as exc:
            log.debug("decoding stopped: %s", _first_line(exc))
            return None
        image = _to_bgr(frame)
        if frame.pts is None or frame.time_base is None:
            return image, None
        # from the track's start, as OpenCV's CAP_PROP_POS_MSEC
        return image, float((frame.pts - self._start) * frame.time_base) * 1000.0

    def close(self) -> None:
        self._container.close()


def _stated_fps(stream: Any) -> float:
    """A video track's nominal frame rate (0 = unknown)."""
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else 0.0
    return fps if fps > 0 and math.isfinite(fps) else 0.0


def _stated_frames(container: Any, stream: Any, fps: float) -> int:
    """The frame count a container states (0 = unknown); when the track does not say,
    the container's duration times the frame rate ``fps`` (as OpenCV reports it)."""
    count = int(stream.frames or 0)
    if count <= 0 and container.duration and fps:
        count = math.floor(container.duration / 1e6 * fps + 0.5)
    return max(count, 0)


def probe_video(path: str | os.PathLike[str]) -> tuple[int, int, int]:
    """``(frames, width, height)`` a video file's header states, without decoding;
    ``(0, 0, 0)`` when it cannot be read (the error shows when the file is decoded)."""
    import av

    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                return 0, 0, 0
            stream = container.streams.video[0]
            ctx = stream.codec_context
            frames = _stated_frames(container, stream, _stated_fps(stream))
            return frames, int(ctx.width), int(ctx.height)
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        return 0, 0, 0


def _usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _to_bgr(frame: Any) -> np.ndarray:
    """A PyAV video frame as upright BGR uint8 ``(H, W, 3)``.

    swscale's conversion: the same pixels ``cv2.VideoCapture`` gives for standard
    BT.601/709 videos (what the pose model saw when thresholds were set). OpenCV's
    I420 -> BGR is no cheaper (720p: 0.45 ms of CPU a frame with the copy out of the
    planes, swscale 0.42 ms; the annotation pass took the same CPU with either), so there
    is one conversion for the model and for drawing.
    """
    image = frame.to_ndarray(format="bgr24")
    # display matrix: degrees counter-clockwise; turn the picture upright
    turns = round(float(getattr(frame, "rotation", 0) or 0) / 90.0) % 4
    if turns:
        image = np.ascontiguousarray(np.rot90(image, k=turns))
    return image


class VideoFileSource(_FrameSource):
    """Frames of a video file, decoded in a background thread.

    Offline (default): every frame, in order, through a bounded queue. Timestamps are the
    container's presentation times (robust to variable frame rate: see
    :class:`Timestamper`). Rotation metadata is applied (frames come out upright). When
    decoding stops clearly short of the container's frame count the file is truncated or
    corrupt and iteration raises :class:`InputError` after the last good frame.

    ``realtime=True`` plays the file at its own pace as a stand-in for a camera: frames
    are released when their timestamp is due on the wall clock and the newest frame wins
    (a slow consumer sees gaps in ``frame_id``; :attr:`dropped` counts them).

    Args:
        path: the video file.
        realtime: play at real-time pace, newest frame wins.
        queue_size: frames decoded ahead in offline mode (memory: ``queue_size`` frames).
        prepare: optional ``f(bgr_image) -> object`` run in the decode thread; its result
            is :attr:`Frame.prepared` (used to build MediaPipe images off the main thread).
        decode_threads: FFmpeg decoder threads (0 = FFmpeg's choice, 1 = none beyond the
            decode thread; always 1 in a process pinned to one core).

    Raises:
        InputError: the file is missing, a folder, or cannot be opened or decoded.
    """

    def __init__(self, path: str | os.PathLike[str], *, realtime: bool = False,
                 queue_size: int = 8,
                 prepare: Callable[[np.ndarray], Any] | None = None,
                 decode_threads: int = 0) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self.realtime = realtime
        self._queue_size = queue_size
        self._prepare = prepare
        self._cap: _VideoDecoder | None = _VideoDecoder(self.path, decode_threads)
        self.fps = self._cap.fps or 30.0
        #: Frame count the container states (may be off by a few frames; 0 = unknown).
        self.frame_count = self._cap.frame_count
        first = self._cap.read()
        if first is None or first[0].ndim != 3:
            self.close()
            raise InputError(f"cannot decode any frame of {self.path} (corrupt or "
                             "unsupported video); check the file or re-export it as .mp4")
        self._first, self._first_pos = first
        self.size = (int(self._first.shape[1]), int(self._first.shape[0]))
        self.timestamper = Timestamper(self.fps)
        #: Frames delivered (offline) or decoded (realtime) so far.
        self.frames_decoded = 0
        self._reader: _QueuedReader | None = None
        self._slot: _LatestSlot | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._started = False

    # -- decoding ---------------------------------------------------------------------
    def _decode(self, stop: threading.Event) -> Iterator[Frame]:
        cap = self._cap
        assert cap is not None
        index = 0
        image, pos = self._first, self._first_pos
        self._first = None
        while image is not None and not stop.is_set():
            ts = self.timestamper(index, pos)
            prepared = self._prepare(image) if self._prepare is not None else None
            self.frames_decoded = index + 1
            yield Frame(image, index, ts, prepared)
            index += 1
            item = cap.read()
            image, pos = item if item is not None else (None, None)
        if not stop.is_set():
            self._check_complete(index)

    def _check_complete(self, decoded: int) -> None:
        expected = self.frame_count
        if expected <= 0:
            return
        tolerance = max(TRUNCATION_TOLERANCE_FRAMES,
                        math.ceil(TRUNCATION_TOLERANCE_SHARE * expected))
        if decoded < expected - tolerance:
            raise InputError(
                f"{self.path} is truncated or corrupt: decoding stopped after {decoded} of "
                f"{expected} frames; re-copy or re-export the video")
        if self.timestamper.adjusted:
            log.info("%s: %d duplicate or decreasing timestamps were bumped by 1 ms",
                     self.path, self.timestamper.adjusted)

    def _realtime_run(self) -> None:
        slot = self._slot
        assert slot is not None
        start = time.monotonic()
        try:
            for frame in self._decode(self._stop):
                due = start + frame.timestamp_ms / 1000.0
                while not self._stop.is_set():
                    wait = due - time.monotonic()
                    if wait <= 0:
                        break
                    self._stop.wait(min(wait, 0.05))
                if self._stop.is_set():
                    break
                frame = dataclasses.replace(frame, captured_s=time.monotonic())
                self._captured(frame)  # first: the consumer finds its frame submitted
                slot.put(frame)
        except BaseException as exc:  # handed to the consumer, re-raised there
            slot.close(exc)
            return
        slot.close()

    # -- public API -------------------------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        if self._started:
            raise RuntimeError("a VideoFileSource can be iterated once")
        if self._cap is None:
            raise RuntimeError("the source is closed")
        self._started = True
        if not self.realtime:
            self._reader = _QueuedReader(self._decode, self._queue_size,
                                         f"decode:{self.path.name}")
            return iter(self._reader)
        self._slot = _LatestSlot()
        self._thread = threading.Thread(target=self._realtime_run,
                                        name=f"play:{self.path.name}", daemon=True)
        self._thread.start()
        return self._iter_slot()

    def _iter_slot(self) -> Iterator[Frame]:
        assert self._slot is not None
        while True:
            item = self._slot.get()
            if item is _END:
                return
            yield item

    @property
    def every_frame(self) -> bool:
        """Read frame by frame (not ``realtime``): every frame is analysed."""
        return not self.realtime

    @property
    def dropped(self) -> int:
        return self._slot.dropped if self._slot is not None else 0

    def close(self) -> None:
        """Stop the decode thread and release the file (safe to call twice)."""
        self._stop.set()
        if self._reader is not None:
            self._reader.stop()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self._cap is not None:
            self._cap.close()
            self._cap = None


class CameraSource(_FrameSource):
    """Frames from a camera by index; a capture thread keeps only the newest frame.

    Frame ids count every captured frame (gaps = frames the consumer never took);
    timestamps are ``time.monotonic()`` at capture, in whole ms since the camera opened.
    The camera is released in ``finally`` when the capture thread ends and in
    :meth:`close`.

    Args:
        index: camera index (0 = default camera).
        width, height: requested resolution in pixels (the camera may pick another; the
            delivered size is :attr:`size`).
        fps: requested frame rate.
        read_timeout_s: consecutive seconds without a frame before the camera counts as
            lost.

    Raises:
        InputError: no camera with that index, or it is busy / gives no picture; while
            iterating: the camera stopped delivering frames for ``read_timeout_s`` or
            its driver failed (OpenCV's error becomes one line; never a traceback).
    """

    def __init__(self, index: int = 0, *, width: int | None = None,
                 height: int | None = None, fps: float | None = None,
                 read_timeout_s: float = 2.0) -> None:
        self.index = int(index)
        self.name = f"camera {self.index}"
        self._read_timeout_s = read_timeout_s
        _quiet_opencv()
        try:
            cap = cv2.VideoCapture(self.index)
        except cv2.error as exc:
            raise InputError(f"cannot open camera {self.index} ({_first_line(exc)}); check "
                             "the camera or try another --source") from None
        try:
            if not cap.isOpened():
                raise InputError(f"cannot open camera {self.index}: no such camera or it is "
                                 "busy; close other apps using it or try another --source")
            if width:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, float(width))
            if height:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, float(height))
            if fps:
                cap.set(cv2.CAP_PROP_FPS, float(fps))
            try:
                ok, first = cap.read()
            except cv2.error:
                ok, first = False, None
            if not ok or first is None:
                raise InputError(f"camera {self.index} opened but gives no picture (busy or "
                                 "blocked by privacy settings); close other apps using it")
        except BaseException:
            cap.release()
            raise
        self._cap: cv2.VideoCapture | None = cap
        self.size = (int(first.shape[1]), int(first.shape[0]))
        got_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = got_fps if got_fps > 0 and math.isfinite(got_fps) else float(fps or 30.0)
        self._t0 = time.monotonic()
        self._slot = _LatestSlot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        cap = self._cap
        assert cap is not None
        frame_id, last_ts, last_ok = 0, -1, time.monotonic()
        error: BaseException | None = None
        try:
            while not self._stop.is_set():
                ok, image = cap.read()
                now = time.monotonic()
                if not ok or image is None:
                    if now - last_ok > self._read_timeout_s:
                        error = InputError(
                            f"camera {self.index} stopped delivering frames for "
                            f"{self._read_timeout_s:g} s (unplugged or taken by another "
                            "app); reconnect it and start again")
                        break
                    time.sleep(0.01)
                    continue
                last_ok = now
                ts = max(round((now - self._t0) * 1000.0), last_ts + 1)
                last_ts = ts
                frame = Frame(image, frame_id, ts, captured_s=now)
                self._captured(frame)  # first: the consumer finds its frame submitted
                self._slot.put(frame)
                frame_id += 1
        except InputError as exc:
            error = exc
        except Exception as exc:  # e.g. cv2.error from the driver: one line, no traceback
            log.debug("camera %d failed", self.index, exc_info=True)
            error = InputError(f"camera {self.index} failed while capturing "
                               f"({_first_line(exc)}); reconnect it and start again")
        except BaseException as exc:  # handed to the consumer, re-raised there
            error = exc
        finally:
            cap.release()
            self._slot.close(error)

    def __iter__(self) -> Iterator[Frame]:
        if self._thread is not None:
            raise RuntimeError("a CameraSource can be iterated once")
        if self._cap is None:
            raise RuntimeError("the camera is closed")
        self._thread = threading.Thread(target=self._run, name=f"camera:{self.index}",
                                        daemon=True)
        self._thread.start()
        return self._iter_slot()

    def _iter_slot(self) -> Iterator[Frame]:
        while True:
            try:
                # a driver whose read() blocks on unplug never reaches the capture
                # thread's own lost-camera check: time out here as well
                item = self._slot.get(timeout=self._read_timeout_s + 1.0)
            except TimeoutError:
                raise InputError(
                    f"{self.name} stopped delivering frames for "
                    f"{self._read_timeout_s + 1.0:g} s (unplugged or taken by another "
                    "app); reconnect it and start again") from None
            if item is _END:
                return
            yield item

    @property
    def dropped(self) -> int:
        return self._slot.dropped

    def close(self) -> None:
        """Stop capturing and release the camera (safe to call twice)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def _natural_key(path: Path) -> list[Any]:
    """Sort ``frame2.png`` before ``frame10.png``."""
    return [int(tok) if tok.isdigit() else tok.lower()
            for tok in re.split(r"(\d+)", path.name)]


def list_images(folder: str | os.PathLike[str]) -> list[Path]:
    """Image files of ``folder`` in natural order (``2`` before ``10``).

    Raises:
        InputError: not a folder, or no image in it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"image folder not found: {folder}")
    files = sorted((p for p in folder.iterdir()
                    if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
    if not files:
        raise InputError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}")
    return files


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """One image file as BGR uint8 ``(H, W, 3)`` (EXIF orientation applied).

    Raises:
        InputError: missing or unreadable image.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image not found: {path}")
    _quiet_opencv()
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"cannot read {path} as an image (corrupt or unsupported format)")
    return image


class ImageFolderSource(_FrameSource):
    """The images of a folder, in natural name order, as frames of a sequence.

    Timestamps are ``index * 1000 / fps`` rounded to whole ms. Every image must have the
    size of the first one. Images are read ahead in a background thread.

    Args:
        folder: the folder.
        fps: the frame rate the images were taken at (sets the timestamps).
        queue_size: images read ahead.
        prepare: as for :class:`VideoFileSource`.

    Raises:
        InputError: no such folder, no images, an unreadable image, or a size change
            (the last two while iterating).
    """

    def __init__(self, folder: str | os.PathLike[str], *, fps: float = 30.0,
                 queue_size: int = 8,
                 prepare: Callable[[np.ndarray], Any] | None = None) -> None:
        self.path = Path(folder)
        self.name = str(self.path)
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = float(fps)
        self.files = list_images(self.path)
        self.frame_count = len(self.files)
        first = read_image(self.files[0])
        self.size = (int(first.shape[1]), int(first.shape[0]))
        self._first: np.ndarray | None = first
        self._prepare = prepare
        self._queue_size = queue_size
        self._reader: _QueuedReader | None = None
        self.timestamper = Timestamper(self.fps)

    def _produce(self, stop: threading.Event) -> Iterator[Frame]:
        for index, path in enumerate(self.files):
            if stop.is_set():
                return
            if index == 0 and self._first is not None:
                image, self._first = self._first, None
            else:
                image = read_image(path)
            if (image.shape[1], image.shape[0]) != self.size:
                raise InputError(
                    f"{path} is {image.shape[1]}x{image.shape[0]} but the first image is "
                    f"{self.size[0]}x{self.size[1]}; all images of a sequence need one size")
            prepared = self._prepare(image) if self._prepare is not None else None
            yield Frame(image, index, self.timestamper(index, None), prepared)

    def __iter__(self) -> Iterator[Frame]:
        if self._reader is not None:
            raise RuntimeError("an ImageFolderSource can be iterated once")
        self._reader = _QueuedReader(self._produce, self._queue_size,
                                     f"images:{self.path.name}")
        return iter(self._reader)

    @property
    def every_frame(self) -> bool:
        """A folder is read image by image: every frame is analysed."""
        return True

    def close(self) -> None:
        """Stop the reader thread (safe to call twice)."""
        if self._reader is not None:
            self._reader.stop()


def open_source(spec: str | int | os.PathLike[str], *, realtime: bool = False,
                width: int | None = None, height: int | None = None,
                fps: float | None = None) -> _FrameSource:
    """Open a source from a command-line spec.

    Args:
        spec: a camera index (``0`` or ``"0"``), a video file or a folder of images.
        realtime: for a video file, play it at real-time pace as a camera stand-in.
        width, height, fps: camera request (ignored for files); ``fps`` also sets the
            timestamps of an image folder (default 30).

    Raises:
        InputError: as the chosen source class does.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec), width=width, height=height, fps=fps)
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path, fps=fps or 30.0)
    return VideoFileSource(path, realtime=realtime)
