"""The MediaPipe PoseLandmarker adapter: the only module of itbcoach importing mediapipe.

Three running modes, one result type:

* :class:`VideoLandmarker` (``RunningMode.VIDEO``) for files: synchronous, one result per
  frame; timestamps must strictly increase (a repeated or decreasing one is bumped to
  ``previous + 1`` ms, so container quirks never reach MediaPipe).
* :class:`LiveLandmarker` (``RunningMode.LIVE_STREAM``) for the camera:
  :meth:`LiveLandmarker.submit` returns at once and drops the frame when the model is
  still busy; results arrive on a queue with their frame id and timestamp. Dropped frames
  are expected.
* :class:`ImageLandmarker` (``RunningMode.IMAGE``) for stills.

Every result is converted in one pass into :class:`PoseCandidates` (all poses of the
frame, keeping z, visibility, presence and world landmarks). :class:`TargetSelector`
picks the person to follow when several are present: the largest and most central one
at the start, then the one nearest to the last position.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision

from itbcoach.config.schema import PoseConfig
from itbcoach.errors import ModelError
from itbcoach.landmarks import NUM_LANDMARKS, Landmark, PoseSequence
from itbcoach.pose import native_log

log = logging.getLogger(__name__)

_RunningMode = vision.RunningMode

#: Landmarks whose mean position is a person's centre (shoulders and hips).
_TORSO = np.array([Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER,
                   Landmark.LEFT_HIP, Landmark.RIGHT_HIP])


class _StderrGate:
    """Process-wide: fd 2 points at ``/dev/null`` while at least one holder is inside.

    Reference-counted under a lock, so silencing from several threads at once (the
    live loop's landmarker and the people check's worker) always restores the real
    stderr when the last holder leaves.
    """

    _lock = threading.Lock()
    _count = 0
    _saved: int | None = None

    @classmethod
    def enter(cls) -> bool:
        """Silence fd 2 (or count one more holder); False when it cannot be silenced."""
        if native_log.active():  # the process-wide filter already drops the noise
            return False
        with cls._lock:
            if cls._count == 0:
                try:
                    sys.stderr.flush()
                    saved = os.dup(2)
                except (OSError, ValueError):  # no real fd 2 (e.g. embedded interpreter)
                    return False
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
                cls._saved = saved
            cls._count += 1
            return True

    @classmethod
    def leave(cls) -> None:
        """One holder less; the last one restores the real fd 2."""
        with cls._lock:
            cls._count -= 1
            if cls._count == 0 and cls._saved is not None:
                os.dup2(cls._saved, 2)
                os.close(cls._saved)
                cls._saved = None


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence the C++ log lines MediaPipe/TFLite print while a task is created.

    (``INFO: Created TensorFlow Lite XNNPACK delegate``, absl warnings.) They would
    break the one-line error contract of the CLI. Skipped when the log level is DEBUG.
    """
    if log.isEnabledFor(logging.DEBUG) or not _StderrGate.enter():
        yield
        return
    try:
        yield
    finally:
        _StderrGate.leave()


class _StderrSilencer:
    """Start/stop version of :func:`_quiet_native_stderr` for LIVE_STREAM mode, where
    MediaPipe logs from its own thread (idempotent, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = False

    def start(self) -> None:
        with self._lock:
            if self._active or log.isEnabledFor(logging.DEBUG):
                return
            self._active = _StderrGate.enter()

    def stop(self) -> None:
        with self._lock:
            if not self._active:
                return
            _StderrGate.leave()
            self._active = False


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class PoseCandidates:
    """All poses MediaPipe found in one frame.

    Attributes:
        landmarks: ``(P, 33, 3)`` float32, normalised x, y (y down) and relative z.
        visibility: ``(P, 33)`` float32.
        presence: ``(P, 33)`` float32.
        world_landmarks: ``(P, 33, 3)`` float32 metres, hip-centred.
    """

    landmarks: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world_landmarks: np.ndarray

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])

    @classmethod
    def none(cls) -> PoseCandidates:
        """No pose."""
        z = np.zeros((0, NUM_LANDMARKS), np.float32)
        z3 = np.zeros((0, NUM_LANDMARKS, 3), np.float32)
        return cls(z3, z, z.copy(), z3.copy())

    @classmethod
    def from_result(cls, result: Any) -> PoseCandidates:
        """Convert a MediaPipe ``PoseLandmarkerResult`` (one pass over the landmarks)."""
        poses = result.pose_landmarks
        if not poses:
            return cls.none()
        img = np.array([[(p.x, p.y, p.z,
                          np.nan if p.visibility is None else p.visibility,
                          np.nan if p.presence is None else p.presence) for p in pose]
                        for pose in poses], dtype=np.float32)
        worlds = result.pose_world_landmarks
        if worlds and len(worlds) == len(poses):
            world = np.array([[(p.x, p.y, p.z) for p in pose] for pose in worlds],
                             dtype=np.float32)
        else:
            world = np.full((len(poses), NUM_LANDMARKS, 3), np.nan, np.float32)
        return cls(img[..., :3], img[..., 3], img[..., 4], world)

    def take(self, index: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pose ``index`` as ``(landmarks (33,3), visibility, presence, world)``; NaN if None."""
        if index is None:
            nan3 = np.full((NUM_LANDMARKS, 3), np.nan, np.float32)
            nan1 = np.full(NUM_LANDMARKS, np.nan, np.float32)
            return nan3, nan1, nan1.copy(), nan3.copy()
        return (self.landmarks[index], self.visibility[index], self.presence[index],
                self.world_landmarks[index])


#: Two poses whose torso centres are closer than this many torso lengths are the same
#: person detected twice (seen on squat_overhead_front_02 with ``num_poses = 2``).
DUPLICATE_DISTANCE = 0.5


def _distinct_people(cand: PoseCandidates, centers: np.ndarray,
                     image_size: tuple[int, int]) -> int:
    """Poses that are distinct people: MediaPipe sometimes returns the same person
    twice; a pose whose torso centre lies within half a torso length of an earlier
    one is a duplicate. ``centers`` are the torso centres in pixels ``(P, 2)``."""
    return distinct_count(centers, pose_centres(cand, image_size)[1])


def pose_centres(cand: PoseCandidates,
                 image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Torso centres ``(P, 2)`` and torso lengths ``(P,)`` of every pose, in pixels."""
    size = np.asarray(image_size, dtype=np.float64)
    px = cand.landmarks[:, :, :2].astype(np.float64) * size
    sh = 0.5 * (px[:, Landmark.LEFT_SHOULDER] + px[:, Landmark.RIGHT_SHOULDER])
    hip = 0.5 * (px[:, Landmark.LEFT_HIP] + px[:, Landmark.RIGHT_HIP])
    with np.errstate(all="ignore"):
        centers = np.nanmean(px[:, _TORSO], axis=1)
    return centers, np.linalg.norm(sh - hip, axis=1)


def distinct_count(centers: np.ndarray, torso: np.ndarray) -> int:
    """How many of the poses (torso centres ``(P, 2)`` and lengths ``(P,)``, pixels, in
    one frame's coordinates) are distinct people: one within
    :data:`DUPLICATE_DISTANCE` torso lengths of an earlier one is the same person."""
    kept: list[int] = []
    for i in range(len(centers)):
        if not any(np.linalg.norm(centers[i] - centers[j])
                   < DUPLICATE_DISTANCE * max(torso[i], torso[j]) for j in kept):
            kept.append(i)
    return len(kept)


def count_people(cand: PoseCandidates, image_size: tuple[int, int]) -> int:
    """Distinct people among the poses of one frame (duplicates merged; 0 when none).

    Args:
        cand: the poses MediaPipe returned for the frame.
        image_size: ``(width, height)`` of the frame in pixels.
    """
    n = len(cand)
    if n <= 1:
        return n
    xy = cand.landmarks[:, _TORSO, :2].astype(np.float64)
    with np.errstate(all="ignore"):
        centers = np.nanmean(xy, axis=1) * np.asarray(image_size, dtype=np.float64)
    return _distinct_people(cand, centers, image_size)


class TargetSelector:
    """Chooses which detected person to follow, frame after frame.

    At the first frame with a pose it takes the largest and most central person (score
    = image-height share of the pose times ``1 - distance of its torso centre from the
    frame centre``, distance in half-diagonals). Afterwards it takes the pose whose torso
    centre is nearest (in pixels) to the last chosen one. It counts frames with more
    than one person (:attr:`multi_person_frames`) so callers can warn.

    Args:
        image_size: ``(width, height)`` in pixels.
    """

    def __init__(self, image_size: tuple[int, int]) -> None:
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.reset()

    def reset(self) -> None:
        """Forget the target."""
        self.center_px: np.ndarray | None = None
        self.multi_person_frames = 0
        self.max_people = 0
        #: Distinct people in the frame of the last :meth:`select` call.
        self.last_people = 0

    def _centers_px(self, cand: PoseCandidates) -> np.ndarray:
        xy = cand.landmarks[:, _TORSO, :2].astype(np.float64)
        with np.errstate(all="ignore"):
            c = np.nanmean(xy, axis=1)
        return c * np.asarray(self.image_size, dtype=np.float64)

    def _count_people(self, cand: PoseCandidates, centers: np.ndarray) -> int:
        return _distinct_people(cand, centers, self.image_size)

    def select(self, cand: PoseCandidates) -> int | None:
        """Index of the target pose in ``cand``, or None when there is no pose."""
        n = len(cand)
        self.last_people = 0
        if n == 0:
            return None
        centers = self._centers_px(cand)
        people = self._count_people(cand, centers) if n > 1 else 1
        self.last_people = people
        self.max_people = max(self.max_people, people)
        if people > 1:
            self.multi_person_frames += 1
        if n == 1:
            index = 0
        elif self.center_px is None:
            w, h = self.image_size
            y = cand.landmarks[:, :, 1].astype(np.float64)
            with np.errstate(all="ignore"):
                height = np.clip(np.nanmax(y, axis=1), 0, 1) - np.clip(np.nanmin(y, axis=1), 0, 1)
            half_diag = 0.5 * float(np.hypot(w, h))
            dist = np.linalg.norm(centers - np.array([w / 2, h / 2]), axis=1) / half_diag
            score = np.nan_to_num(height) * (1.0 - np.clip(np.nan_to_num(dist, nan=1.0), 0, 1))
            index = int(np.argmax(score))
        else:
            dist = np.linalg.norm(centers - self.center_px, axis=1)
            index = int(np.argmin(np.nan_to_num(dist, nan=np.inf)))
        if np.all(np.isfinite(centers[index])):
            self.center_px = centers[index]
        return index

    def warning(self, frames: int) -> str | None:
        """A one-line warning when several people were seen, else None."""
        if not self.multi_person_frames:
            return None
        return (f"{self.max_people} people in view in {self.multi_person_frames} of {frames} "
                "frames; followed the person largest and nearest the centre at the start "
                "(film one person alone for reliable results)")


# --------------------------------------------------------------------------- adapters
def to_mp_image(image_bgr: np.ndarray) -> mp.Image:
    """A MediaPipe image (sRGB) from a BGR uint8 ``(H, W, 3)`` array (copies once)."""
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"expected a BGR uint8 (H, W, 3) image, got {image_bgr.dtype} "
                         f"{image_bgr.shape}")
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)


def image_columns(image: Any, x0: int, x1: int) -> mp.Image:
    """Pixel columns ``x0:x1`` of a BGR array or a MediaPipe image, as a MediaPipe image
    (for checks that look at part of a frame)."""
    if isinstance(image, mp.Image):
        rgb = image.numpy_view()
        return mp.Image(image_format=mp.ImageFormat.SRGB,
                        data=np.ascontiguousarray(rgb[:, x0:x1, :3]))
    return to_mp_image(np.ascontiguousarray(np.asarray(image)[:, x0:x1]))


def _as_mp_image(image: Any) -> mp.Image:
    return image if isinstance(image, mp.Image) else to_mp_image(np.asarray(image))


#: MediaPipe logs a calculator warning ("Using NORM_RECT without IMAGE_DIMENSIONS") to
#: stderr the first time in a process that it projects a pose; until then synchronous
#: detections run with the native stderr silenced.
_pose_seen_in_process = False


def _detect_quietly(detect: Any, *args: Any) -> PoseCandidates:
    global _pose_seen_in_process
    if _pose_seen_in_process:
        return PoseCandidates.from_result(detect(*args))
    with _quiet_native_stderr():
        result = detect(*args)
    if result.pose_landmarks:
        _pose_seen_in_process = True
    return PoseCandidates.from_result(result)


class _Task:
    """Creates and owns one MediaPipe PoseLandmarker; a context manager."""

    mode: Any = _RunningMode.IMAGE

    def __init__(self, model_path: str | os.PathLike[str], config: PoseConfig, *,
                 num_poses: int | None = None, result_callback: Any = None) -> None:
        self.model_path = Path(model_path)
        self.config = config
        self.num_poses = int(num_poses if num_poses is not None else config.num_poses)
        if not self.model_path.is_file():
            raise ModelError(f"pose model not found: {self.model_path}; run "
                             "'itbcoach models fetch' or pass --model PATH")
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=self.mode,
            num_poses=self.num_poses,
            min_pose_detection_confidence=config.min_pose_detection_confidence,
            min_pose_presence_confidence=config.min_pose_presence_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
            output_segmentation_masks=False,
            result_callback=result_callback,
        )
        try:
            with _quiet_native_stderr():
                self._task = vision.PoseLandmarker.create_from_options(options)
        except (ValueError, RuntimeError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"cannot load pose model {self.model_path} ({first}); run "
                             "'itbcoach models verify' or fetch it again") from None

    def close(self) -> None:
        """Release the MediaPipe task (safe to call twice)."""
        task = getattr(self, "_task", None)
        if task is not None:
            self._task = None
            with _quiet_native_stderr():  # 1.2.x logs "DestroyAccelerator" per model
                task.close()

    def __enter__(self) -> _Task:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoLandmarker(_Task):
    """``RunningMode.VIDEO``: synchronous detection on successive frames of one video.

    Args:
        model_path: the ``.task`` bundle.
        config: the ``[pose]`` section (thresholds, ``num_poses``).
        num_poses: override ``config.num_poses``.

    Raises:
        ModelError: the bundle is missing or MediaPipe cannot load it.
    """

    mode = _RunningMode.VIDEO

    def __init__(self, model_path: str | os.PathLike[str], config: PoseConfig, *,
                 num_poses: int | None = None) -> None:
        super().__init__(model_path, config, num_poses=num_poses)
        self._last_ts: int | None = None
        #: Timestamps that had to be bumped to stay strictly increasing.
        self.bumped_timestamps = 0

    #: Build the MediaPipe image from a BGR frame (use as a source's ``prepare`` hook so
    #: the colour conversion runs in the decode thread).
    prepare = staticmethod(to_mp_image)

    def detect(self, image: Any, timestamp_ms: int) -> PoseCandidates:
        """Poses in ``image`` (BGR array or a prepared MediaPipe image) at ``timestamp_ms``.

        Returns:
            All poses found (``len == 0`` when none).
        """
        ts = int(timestamp_ms)
        if self._last_ts is not None and ts <= self._last_ts:
            ts = self._last_ts + 1
            self.bumped_timestamps += 1
        self._last_ts = ts
        return _detect_quietly(self._task.detect_for_video, _as_mp_image(image), ts)


class ImageLandmarker(_Task):
    """``RunningMode.IMAGE``: independent stills (no tracking between calls)."""

    mode = _RunningMode.IMAGE

    def detect(self, image: Any) -> PoseCandidates:
        """Poses in ``image`` (BGR array or a prepared MediaPipe image)."""
        return _detect_quietly(self._task.detect, _as_mp_image(image))


@dataclass(frozen=True)
class LiveResult:
    """One live-stream result.

    Attributes:
        frame_id: the id passed to :meth:`LiveLandmarker.submit`.
        timestamp_ms: the timestamp passed to :meth:`LiveLandmarker.submit`.
        pose: a one-frame :class:`PoseSequence` of the target person (NaN if none).
        num_people: distinct people MediaPipe found in the frame (duplicates
            merged; at most ``num_poses``).
        latency_s: wall time from submit to result, seconds.
    """

    frame_id: int
    timestamp_ms: int
    pose: PoseSequence
    num_people: int
    latency_s: float


#: MediaPipe timestamp of the blank warm-up frame of :class:`LiveLandmarker` (the first
#: real frame then gets at least 0).
_WARMUP_TS = -1


class LiveLandmarker(_Task):
    """``RunningMode.LIVE_STREAM``: non-blocking submit, results on a queue.

    :meth:`submit` returns at once; it drops the frame (returns False) while
    ``max_in_flight`` frames are still being processed. MediaPipe may drop frames too;
    a submission older than a newer result, or older than ``stale_after_s``, counts as
    dropped. Results carry their frame id and timestamp. The target person is chosen
    with :class:`TargetSelector`.

    Args:
        model_path: the ``.task`` bundle.
        config: the ``[pose]`` section.
        image_size: ``(width, height)`` of the frames (for target selection and the
            result's ``PoseSequence``).
        max_in_flight: frames processed at once before submissions are dropped.
        queue_size: results kept when the consumer is slow (oldest dropped first).
        stale_after_s: a submission without result after this long counts as dropped.

    Example:
        >>> with LiveLandmarker(model, cfg.pose, (1280, 720)) as live:
        ...     for frame in camera:
        ...         live.submit(frame.image, frame.frame_id, frame.timestamp_ms)
        ...         for res in live.poll():
        ...             draw(res.pose)
    """

    mode = _RunningMode.LIVE_STREAM

    def __init__(self, model_path: str | os.PathLike[str], config: PoseConfig,
                 image_size: tuple[int, int], *, num_poses: int | None = None,
                 max_in_flight: int = 1, queue_size: int = 4,
                 stale_after_s: float = 1.0) -> None:
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.selector = TargetSelector(self.image_size)
        self.results: queue.Queue[LiveResult] = queue.Queue(maxsize=max(1, queue_size))
        self.max_in_flight = max(1, max_in_flight)
        self.stale_after_s = stale_after_s
        self._lock = threading.Lock()
        #: notified whenever a submission leaves ``_pending`` (answered or given up)
        self._idle = threading.Condition(self._lock)
        self._pending: dict[int, tuple[int, int, float]] = {}  # mp ts -> id, ts, t0
        self._last_ts: int | None = None
        #: Frames refused by :meth:`submit` (busy) and frames MediaPipe never answered.
        self.dropped_busy = 0
        self.dropped_by_model = 0
        self.submitted = 0
        #: Results discarded because the consumer did not poll (oldest first).
        self.dropped_results = 0
        self.errors = 0
        self._warm = threading.Event()
        self._silencer = _StderrSilencer()
        super().__init__(model_path, config, num_poses=num_poses,
                         result_callback=self._on_result)
        self._warm_up()

    def _warm_up(self) -> None:
        """Run one blank frame through the graph before the camera's first frame (the
        first inference of a graph is the slowest)."""
        with _quiet_native_stderr():
            self._task.detect_async(to_mp_image(np.zeros((64, 64, 3), np.uint8)),
                                    _WARMUP_TS)
            if not self._warm.wait(self.stale_after_s * 5):
                log.debug("live landmarker warm-up got no result")
        self._last_ts = _WARMUP_TS

    def _expire(self, now: float) -> None:
        for key in [k for k, (_, _, t0) in self._pending.items()
                    if now - t0 > self.stale_after_s]:
            del self._pending[key]
            self.dropped_by_model += 1

    def submit(self, frame_bgr: np.ndarray, frame_id: int, timestamp_ms: int) -> bool:
        """Hand a frame to the model without waiting.

        Args:
            frame_bgr: ``(H, W, 3)`` uint8 BGR, un-mirrored.
            frame_id: the frame's id (returned with its result).
            timestamp_ms: capture time in ms; a non-increasing one is bumped internally.

        Returns:
            True if accepted, False if dropped because the model is busy.
        """
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if len(self._pending) >= self.max_in_flight:
                self.dropped_busy += 1
                return False
            ts = int(timestamp_ms)
            mp_ts = ts if self._last_ts is None or ts > self._last_ts else self._last_ts + 1
            self._last_ts = mp_ts
            self._pending[mp_ts] = (int(frame_id), ts, now)
            self.submitted += 1
        if not _pose_seen_in_process:  # see _detect_quietly; restored on the first pose
            self._silencer.start()
        try:
            self._task.detect_async(to_mp_image(frame_bgr), mp_ts)
        except BaseException:
            with self._lock:
                self._pending.pop(mp_ts, None)
                self._idle.notify_all()
            raise
        return True

    def _on_result(self, result: Any, _image: Any, mp_ts: int) -> None:
        global _pose_seen_in_process
        if not self._warm.is_set():
            if int(mp_ts) == _WARMUP_TS:
                self._warm.set()
                return
        if result.pose_landmarks:
            _pose_seen_in_process = True  # MediaPipe's one-time log line is out
            self._silencer.stop()
        now = time.monotonic()
        with self._lock:
            info = self._pending.get(int(mp_ts))
            for older in [k for k in self._pending if k < mp_ts]:
                del self._pending[older]
                self.dropped_by_model += 1
        if info is None:
            return
        try:  # the frame stays in flight until its result can be polled
            self._deliver(result, *info, now)
        finally:
            with self._lock:
                self._pending.pop(int(mp_ts), None)
                self._idle.notify_all()

    def _deliver(self, result: Any, frame_id: int, ts: int, t0: float, now: float) -> None:
        try:
            cand = PoseCandidates.from_result(result)
            lm, vis, pres, world = cand.take(self.selector.select(cand))
            people = self.selector.last_people
            pose = PoseSequence(lm[None], vis[None], pres[None], np.array([ts]),
                                self.image_size, world[None])
        except Exception:  # never let a conversion error kill MediaPipe's thread
            self.errors += 1
            log.exception("live pose result could not be converted")
            return
        item = LiveResult(frame_id, ts, pose, people, now - t0)
        while True:
            try:
                self.results.put_nowait(item)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.results.get_nowait()
                    self.dropped_results += 1

    def poll(self) -> list[LiveResult]:
        """All results available now (oldest first), without waiting."""
        out = []
        while True:
            try:
                out.append(self.results.get_nowait())
            except queue.Empty:
                return out

    def get(self, timeout: float | None = None) -> LiveResult | None:
        """The next result, waiting up to ``timeout`` seconds; None on timeout."""
        try:
            return self.results.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Release the MediaPipe task and restore stderr (safe to call twice)."""
        try:
            super().close()
        finally:
            self._silencer.stop()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every submitted frame has been answered (or given up on); returns
        False on timeout. For sources whose every frame is analysed."""
        deadline = time.monotonic() + timeout_s
        with self._idle:  # woken by the result callback: no polling delay
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def wait_result(self, timeout_s: float) -> bool:
        """Wait until a result can be polled, or nothing is in flight (no result is
        coming); returns False on timeout. For live sources: unlike :meth:`wait_idle`,
        a frame submitted while waiting does not keep the caller waiting for its
        answer too (two results would then be polled at once, the older never shown)."""
        deadline = time.monotonic() + timeout_s
        with self._idle:  # notified after each result is queued
            while self.results.empty() and self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    @property
    def in_flight(self) -> int:
        """Frames submitted and not yet answered."""
        with self._lock:
            return len(self._pending)
