"""Offline landmark extraction: a video, a folder of images or one image -> PoseSequence.

:func:`extract_landmarks` is the library entry point behind ``itbcoach landmarks`` and
``itbcoach score VIDEO``. Decoding runs in a background thread (bounded queue) which also
builds the MediaPipe image, so the main thread only runs the model; the model runs in
VIDEO mode over every frame with the container's timestamps; the target person is kept
with :class:`~itbcoach.pose.landmarker.TargetSelector`; about once a second a frame also
goes through the second-person check (:class:`~itbcoach.pose.people.PeopleCheck`) and a
video with two people in view is refused; then framing is assessed on the raw
landmarks, low-visibility landmarks are masked and the sequence is smoothed offline.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from itbcoach.config import Config
from itbcoach.errors import InputError, NoResultError
from itbcoach.landmarks import NUM_LANDMARKS, PoseSequence
from itbcoach.pose.framing import assess_framing
from itbcoach.pose.smoothing import keep_hands, mask_low_visibility, smooth_offline
from itbcoach.pose.sources import (
    IMAGE_SUFFIXES,
    Frame,
    ImageFolderSource,
    VideoFileSource,
    read_image,
)

if TYPE_CHECKING:
    from itbcoach.pose.landmarker import TargetSelector
    from itbcoach.pose.people import PeopleCheck

log = logging.getLogger(__name__)

#: Brightness is sampled on every n-th pixel row and column (mean luma 0..255).
_BRIGHTNESS_STRIDE = 8


def frame_brightness(image_bgr: np.ndarray) -> float:
    """Mean luma (0..255, BT.601 weights) of a BGR frame, from a strided subsample."""
    sub = image_bgr[::_BRIGHTNESS_STRIDE, ::_BRIGHTNESS_STRIDE].astype(np.float32)
    return float(sub[..., 0].mean() * 0.114 + sub[..., 1].mean() * 0.587
                 + sub[..., 2].mean() * 0.299)


def _prepare(image_bgr: np.ndarray) -> tuple[Any, float]:
    """Decode-thread hook: the MediaPipe image and the frame's brightness."""
    from itbcoach.pose.landmarker import to_mp_image

    return to_mp_image(image_bgr), frame_brightness(image_bgr)


def _resolve(config: Config, model: str | os.PathLike[str] | None, progress: bool) -> Path:
    from itbcoach.pose.models import resolve_model

    explicit = model or config.pose.model_path or None
    return Path(resolve_model(config.pose.model_variant, explicit=explicit, progress=progress))


def _progress_bar(total: int | None, enabled: bool, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total or None, disable=not enabled, unit="frame", desc=desc,
                leave=False, dynamic_ncols=True, mininterval=0.5)


def extract_landmarks(path: str | os.PathLike[str], config: Config,
                      model: str | os.PathLike[str] | None = None, progress: bool = True,
                      *, mask: bool = True, smooth: bool = True,
                      view: str = "any",
                      allow_multiple: bool = False) -> tuple[PoseSequence, dict[str, Any]]:
    """Landmarks of the target person in a video file, an image folder or one image.

    Args:
        path: a video file, a folder of images (frames of one sequence, natural name
            order, timestamps from ``config.pose.image_folder_fps``) or one image file
            (IMAGE mode, one frame).
        config: the configuration (``[pose]``, ``[smoothing]``, ``[framing]``).
        model: explicit ``.task`` bundle; default ``config.pose.model_path`` or the cache.
        progress: show a progress bar on stderr.
        mask: set landmarks below ``config.pose.min_visibility`` to NaN.
        smooth: outlier rejection, short-gap interpolation and zero-phase low-pass
            (:func:`~itbcoach.pose.smoothing.smooth_offline`).
        view: required view for the framing summary: ``"frontal"``, ``"side"`` or
            ``"any"``.
        allow_multiple: accept a recording with several people in view: the model then
            looks for ``max(2, num_poses)`` poses in every frame (slower: 62 -> 38
            frames/s at 720p) so :class:`~itbcoach.pose.landmarker.TargetSelector`
            follows the person largest and most central at the start, and the
            second-person check is skipped (a warning still counts the frames).

    Returns:
        ``(sequence, meta)``. The sequence has one row per decoded frame (NaN where no
        person was found); ``meta`` holds ``source``, ``kind`` (``"video"``,
        ``"images"`` or ``"image"``), ``model_variant``, ``model_path``, ``fps``,
        ``frames``, ``detection_rate`` (share of frames with a pose, before masking),
        ``framing`` (see :meth:`~itbcoach.pose.framing.FramingResult.summary`),
        ``num_people_max``, ``multi_person_frames``, ``timestamps_adjusted``,
        ``elapsed_s``, ``fps_achieved``, ``smoothed``, ``masked``, ``people_check``
        (see :meth:`~itbcoach.pose.people.PeopleCheck.summary`; None when off) and
        ``warnings`` (list of one-line strings, e.g. no person found).

    Raises:
        InputError: missing, unreadable, truncated or corrupt input.
        NoResultError: two or more people in view in at least
            ``pose.people_check_min_share`` of the checked frames (unless
            ``allow_multiple``).
        ModelError: the pose model cannot be found, assembled or loaded.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        return _extract_image(path, config, model, progress, mask=mask, view=view,
                              allow_multiple=allow_multiple)
    num_poses = max(2, config.pose.num_poses) if allow_multiple else config.pose.num_poses
    check_people = config.pose.people_check_interval_s > 0 and not allow_multiple

    source: VideoFileSource | ImageFolderSource
    if path.is_dir():
        source = ImageFolderSource(path, fps=config.pose.image_folder_fps, prepare=_prepare)
        kind = "images"
    else:
        source = VideoFileSource(path, prepare=_prepare)
        kind = "video"
    t0 = time.perf_counter()
    with source:
        w, h = source.size
        if min(w, h) < config.framing.min_frame_side_px:
            raise NoResultError(
                f"{path.name} is only {w}x{h} pixels, too small to measure a person "
                f"(the shorter side needs {config.framing.min_frame_side_px} px or more); "
                "record at a higher resolution, e.g. 640x480")
        model_path = _resolve(config, model, progress)
        run = _run_model(source, path.name, model_path, config, num_poses, check_people,
                         progress)
    check, selector = run.check, run.selector
    if check is not None:
        problem = check.problem()
        if problem:
            raise NoResultError(problem)
    raw = run.sequence(source.size)
    n = len(raw)
    warnings: list[str] = []
    multi = selector.warning(n)
    if multi:
        warnings.append(multi)
    meta = _finish(raw, path, kind, config, model_path, source.fps, warnings,
                   np.asarray(run.brightness), view)
    meta["multi_person_frames"] = selector.multi_person_frames
    meta["num_people_max"] = selector.max_people
    meta["num_poses"] = num_poses
    meta["people_check"] = check.summary() if check is not None else None
    meta["timestamps_adjusted"] = int(source.timestamper.adjusted + run.bumped)
    meta["loop_s"] = run.loop_s
    seq = postprocess(raw, config, mask=mask, smooth=smooth)
    meta["masked"], meta["smoothed"] = mask, smooth
    meta["elapsed_s"] = time.perf_counter() - t0
    meta["fps_achieved"] = n / meta["elapsed_s"] if meta["elapsed_s"] > 0 else 0.0
    for w in warnings:
        log.info("%s", w)
    return seq, meta


@dataclass
class _ModelRun:
    """What one pass of the pose model over a source collected, one row per frame."""

    selector: TargetSelector
    check: PeopleCheck | None
    landmarks: list[np.ndarray] = field(default_factory=list)
    visibility: list[np.ndarray] = field(default_factory=list)
    presence: list[np.ndarray] = field(default_factory=list)
    world: list[np.ndarray] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)
    brightness: list[float] = field(default_factory=list)
    loop_s: float = 0.0
    bumped: int = 0

    def sequence(self, size: tuple[int, int]) -> PoseSequence:
        """The raw (unmasked, unsmoothed) sequence of the collected rows."""
        n = len(self.timestamps_ms)
        return PoseSequence(
            np.stack(self.landmarks) if n else np.zeros((0, NUM_LANDMARKS, 3), np.float32),
            np.stack(self.visibility) if n else np.zeros((0, NUM_LANDMARKS), np.float32),
            np.stack(self.presence) if n else np.zeros((0, NUM_LANDMARKS), np.float32),
            np.asarray(self.timestamps_ms, dtype=np.int64), size,
            np.stack(self.world) if n else np.zeros((0, NUM_LANDMARKS, 3), np.float32))


def _run_model(source: VideoFileSource | ImageFolderSource, name: str, model_path: Path,
               config: Config, num_poses: int, check_people: bool,
               progress: bool) -> _ModelRun:
    """Run the pose model over every frame of an open ``source`` (VIDEO mode), keeping
    the target person's landmarks; the second-person check (when ``check_people``)
    may stop it early once the recording is refused whatever the rest shows."""
    from itbcoach.pose.landmarker import TargetSelector, VideoLandmarker
    from itbcoach.pose.people import PeopleCheck

    run = _ModelRun(TargetSelector(source.size), None)
    bar = _progress_bar(source.frame_count, progress, name)
    try:
        if check_people:  # the main model sees every person itself when num_poses > 1
            run.check = PeopleCheck(model_path, config.pose, source.size,
                                    own_model=num_poses < 2)
        check = run.check
        # the container's length (0 = unknown: the check then runs to the end)
        duration_ms = (1000.0 * source.frame_count / source.fps
                       if source.frame_count and source.fps else 0.0)
        with VideoLandmarker(model_path, config.pose, num_poses=num_poses) as landmarker:
            t_loop = time.perf_counter()
            frame: Frame
            for frame in source:
                mp_image, brightness = frame.prepared
                cand = landmarker.detect(mp_image, frame.timestamp_ms)
                lm, vis, pres, world = cand.take(run.selector.select(cand))
                if check is not None and check.due(frame.timestamp_ms):
                    if num_poses >= 2:
                        check.record(run.selector.last_people, frame.timestamp_ms)
                    else:
                        check.check(mp_image, frame.timestamp_ms)
                    if check.settled(frame.timestamp_ms, duration_ms):
                        break  # refused whatever the rest shows: stop early
                run.landmarks.append(lm)
                run.visibility.append(vis)
                run.presence.append(pres)
                run.world.append(world)
                run.timestamps_ms.append(frame.timestamp_ms)
                run.brightness.append(brightness)
                bar.update(1)
            run.loop_s = time.perf_counter() - t_loop
            run.bumped = landmarker.bumped_timestamps
    finally:
        bar.close()
        if run.check is not None:
            run.check.close()
    return run


def postprocess(raw: PoseSequence, config: Config, *, mask: bool = True,
                smooth: bool = True) -> PoseSequence:
    """What :func:`extract_landmarks` does after the model: mask points below
    ``pose.min_visibility`` (NaN), then :func:`~itbcoach.pose.smoothing.smooth_offline`
    (outliers, short gaps, zero-phase low-pass). Also used for raw landmark files."""
    seq = mask_low_visibility(raw, config.pose.min_visibility) if mask else raw
    if mask and config.pose.hand_min_visibility < config.pose.min_visibility:
        seq = keep_hands(seq, raw, config.pose.hand_min_visibility,
                         min_elbow_visibility=config.pose.min_visibility)
    return smooth_offline(seq, config.smoothing) if smooth else seq


def _finish(raw: PoseSequence, path: Path, kind: str, config: Config, model_path: Path,
            fps: float, warnings: list[str], brightness: np.ndarray,
            view: str) -> dict[str, Any]:
    n = len(raw)
    rate = raw.detection_rate
    if n and not raw.detected.any():
        warnings.insert(0, f"no person detected in any of the {n} frames of {path}; "
                           "film the whole body, head to feet, in good light")
    framing = assess_framing(raw, config.framing, view=view, brightness=brightness)
    return {
        "source": str(path),
        "kind": kind,
        "model_variant": config.pose.model_variant,
        "model_path": str(model_path),
        "num_poses": config.pose.num_poses,
        "fps": float(fps),
        "frames": n,
        "image_size": list(raw.image_size),
        "detection_rate": rate,
        "framing": framing.summary(),
        "warnings": warnings,
    }


def _extract_image(path: Path, config: Config, model: str | os.PathLike[str] | None,
                   progress: bool, *, mask: bool, view: str,
                   allow_multiple: bool) -> tuple[PoseSequence, dict[str, Any]]:
    from itbcoach.pose.landmarker import ImageLandmarker, TargetSelector
    from itbcoach.pose.people import CHECK_NUM_POSES, PeopleCheck

    t0 = time.perf_counter()
    image = read_image(path)
    size = (int(image.shape[1]), int(image.shape[0]))
    model_path = _resolve(config, model, progress)
    check_people = config.pose.people_check_interval_s > 0 and not allow_multiple
    # one still: looking for 2 poses costs one call, so the image itself is the check
    num_poses = config.pose.num_poses
    if check_people or allow_multiple:
        num_poses = max(CHECK_NUM_POSES, num_poses)
    with ImageLandmarker(model_path, config.pose, num_poses=num_poses) as landmarker:
        cand = landmarker.detect(image)
    selector = TargetSelector(size)
    lm, vis, pres, world = cand.take(selector.select(cand))
    check = None
    if check_people:
        check = PeopleCheck(model_path, config.pose, size, own_model=False)
        check.record(selector.last_people, 0)
        problem = check.problem()
        if problem:
            raise NoResultError(problem)
    raw = PoseSequence(lm[None], vis[None], pres[None], np.array([0]), size, world[None])
    warnings: list[str] = []
    multi = selector.warning(1)
    if multi:
        warnings.append(multi)
    meta = _finish(raw, path, "image", config, model_path, 0.0, warnings,
                   np.array([frame_brightness(image)]), view)
    meta.update(multi_person_frames=selector.multi_person_frames,
                num_people_max=selector.max_people, timestamps_adjusted=0,
                masked=mask, smoothed=False, num_poses=num_poses,
                people_check=check.summary() if check is not None else None)
    seq = postprocess(raw, config, mask=mask, smooth=False)
    meta["elapsed_s"] = time.perf_counter() - t0
    meta["fps_achieved"] = 1.0 / meta["elapsed_s"] if meta["elapsed_s"] > 0 else 0.0
    for w in warnings:
        log.info("%s", w)
    return seq, meta
