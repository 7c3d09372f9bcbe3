"""Is more than one person in view? A sparse check beside the main landmarker.

With ``pose.num_poses = 1`` (the default, for speed) MediaPipe tracks one person and a
second one is invisible. So every ``pose.people_check_interval_s`` seconds of the
recording one frame also goes through an IMAGE-mode landmarker looking for 2 poses,
and the distinct people in it are counted
(:func:`~itbcoach.pose.landmarker.count_people`):

* :class:`PeopleCheck` (offline, synchronous): :func:`~itbcoach.pose.extract_landmarks`
  asks :meth:`PeopleCheck.due` for every frame and checks the due ones; at the end
  :meth:`PeopleCheck.problem` says whether to refuse the video.
* :class:`PeopleMonitor` (live): :meth:`PeopleMonitor.offer` hands the newest frame to a
  worker thread when a check is due and the worker is idle, and returns at once; the
  loop reads :attr:`PeopleMonitor.people`, the count of the last finished check.

Time is an input (frame timestamps, ms); nothing here reads the clock except to
measure its own cost.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import numpy as np

from itbcoach.config.schema import PoseConfig

log = logging.getLogger(__name__)

#: What the live coach shows (and the framing gate says) while a second person is seen.
ONE_PERSON_INSTRUCTION = "Only one person in view, please"

#: Poses the check's landmarker looks for (2 is enough to know "more than one").
CHECK_NUM_POSES = 2
#: MediaPipe's person detector sees a letterboxed square (224 px): in a frame much wider
#: than high people shrink until it finds none (two people side by side in 1280 x 360:
#: 0 found in the whole frame, 1 in each half). A frame wider than this (width / height)
#: is also checked in overlapping tiles :data:`TILE_WIDTH` heights wide, half overlapping.
TILE_ASPECT = 2.0
TILE_WIDTH = 1.5


def tiles(width: int, height: int) -> list[tuple[int, int]]:
    """``(x0, x1)`` pixel columns of the tiles a frame is checked in (one = the frame)."""
    if width <= TILE_ASPECT * height:
        return [(0, width)]
    tw = min(width, round(TILE_WIDTH * height))
    n = int(np.ceil((width - tw) / (tw / 2))) + 1
    return [(int(x0), int(x0) + tw) for x0 in np.linspace(0, width - tw, n).round()]


def people_message(max_people: int, multi: int, checked: int, interval_s: float,
                   stopped: tuple[float, float] | None = None) -> str:
    """The one-line refusal: how often several people were seen and what to do.

    ``stopped``: ``(at_s, duration_s)`` when the check stopped the recording early.
    """
    if checked == 1:
        where = "in the picture"
    elif interval_s == 1.0:
        where = f"in {multi} of {checked} checked seconds"
    else:
        where = f"in {multi} of {checked} checked frames (one every {interval_s:g} s)"
    if stopped is not None:
        where += f" (stopped at {stopped[0]:.0f} s of {stopped[1]:.0f} s)"
    return (f"{max_people} people in view {where}; film one person at a time (or pass "
            "--allow-multiple to follow the largest person)")


class PeopleCheck:
    """Counts people on one frame per ``interval_s`` of a recording (offline).

    Args:
        model_path: the ``.task`` bundle (the same one as the main landmarker).
        config: the ``[pose]`` section (thresholds; ``people_check_*`` keys).
        image_size: ``(width, height)`` of the frames in pixels.
        own_model: run the IMAGE-mode check landmarker. False when the main landmarker
            already looks for several poses (``num_poses >= 2``): the caller then passes
            its own per-frame count to :meth:`record` and no extra model runs.

    Raises:
        ModelError: the bundle is missing or MediaPipe cannot load it.
    """

    def __init__(self, model_path: str | os.PathLike[str], config: PoseConfig,
                 image_size: tuple[int, int], *, own_model: bool = True) -> None:
        from itbcoach.pose.landmarker import ImageLandmarker

        self.interval_ms = float(config.people_check_interval_s) * 1000.0
        self.interval_s = float(config.people_check_interval_s)
        self.min_share = float(config.people_check_min_share)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self._landmarker = (ImageLandmarker(model_path, config, num_poses=CHECK_NUM_POSES)
                            if own_model else None)
        self._next_ms: float | None = None
        #: Frames checked, frames with 2+ people, most people in one frame.
        self.checked = 0
        self.multi = 0
        self.max_people = 0
        #: Timestamps (ms) of the checked frames and the people counted in each.
        self.times_ms: list[int] = []
        self.counts: list[int] = []
        #: Wall seconds spent in the check's own inference.
        self.elapsed_s = 0.0
        #: ``(at_ms, duration_ms)`` once :meth:`settled` ended the recording early.
        self.stopped: tuple[float, float] | None = None

    def due(self, timestamp_ms: int) -> bool:
        """Whether the frame at ``timestamp_ms`` should be checked (the first one is)."""
        return self._next_ms is None or timestamp_ms >= self._next_ms

    def record(self, people: int, timestamp_ms: int) -> None:
        """Count one checked frame with ``people`` distinct people."""
        # the next check is one interval after this one's due time (a steady cadence when
        # frames arrive a little late), or after this frame when it came an interval late
        base = self._next_ms
        if base is None or timestamp_ms - base >= self.interval_ms:
            base = float(timestamp_ms)
        self._next_ms = base + self.interval_ms
        self.checked += 1
        self.multi += people >= 2
        self.max_people = max(self.max_people, people)
        self.times_ms.append(int(timestamp_ms))
        self.counts.append(int(people))

    def check(self, image: Any, timestamp_ms: int) -> int:
        """Run the check landmarker on ``image`` (BGR array or MediaPipe image), record
        and return the number of distinct people."""
        from itbcoach.pose.landmarker import count_people

        if self._landmarker is None:
            raise RuntimeError("this PeopleCheck has no model of its own; use record()")
        t0 = time.perf_counter()
        spans = tiles(*self.image_size)
        if len(spans) == 1:
            people = count_people(self._landmarker.detect(image), self.image_size)
        else:
            people = self._count_tiled(image, spans)
        self.elapsed_s += time.perf_counter() - t0
        self.record(people, timestamp_ms)
        return people

    def _count_tiled(self, image: Any, spans: list[tuple[int, int]]) -> int:
        """Distinct people over the whole frame and its tiles (a person seen in two
        overlapping tiles counts once)."""
        from itbcoach.pose.landmarker import distinct_count, image_columns, pose_centres

        assert self._landmarker is not None
        h = self.image_size[1]
        centres, torsos = [], []
        for x0, x1 in [(0, self.image_size[0]), *spans]:
            cand = self._landmarker.detect(image if x1 - x0 == self.image_size[0]
                                           else image_columns(image, x0, x1))
            if len(cand):
                c, t = pose_centres(cand, (x1 - x0, h))
                centres.append(c + np.array([x0, 0.0]))
                torsos.append(t)
        if not centres:
            return 0
        return distinct_count(np.concatenate(centres), np.concatenate(torsos))

    @property
    def share(self) -> float:
        """Share of the checked frames with 2 or more people (0 when none checked)."""
        return self.multi / self.checked if self.checked else 0.0

    def settled(self, timestamp_ms: float, duration_ms: float) -> bool:
        """Whether the refusal is already certain at ``timestamp_ms`` of a recording of
        ``duration_ms``: even if every check still to come saw one person, 2+ people
        would be in ``min_share`` of them. The caller may then stop reading the video
        (a 60 s recording with two people is refused after ~20 s instead of 60 s).

        At most ``duration / interval + 1`` frames get checked; one more is allowed, and
        once as many were checked the container understated its length and nothing is
        decided early.
        """
        if duration_ms <= 0 or not self.multi:
            return False
        most = int(duration_ms // self.interval_ms) + 2
        if self.checked >= most or self.multi < self.min_share * most:
            return False
        self.stopped = (float(timestamp_ms), float(duration_ms))
        return True

    def problem(self) -> str | None:
        """The refusal line when 2+ people were in view in at least ``min_share`` of the
        checked frames, else None."""
        if not self.checked or not self.multi or self.share < self.min_share:
            return None
        stopped = None if self.stopped is None else (self.stopped[0] / 1000.0,
                                                      self.stopped[1] / 1000.0)
        return people_message(self.max_people, self.multi, self.checked, self.interval_s,
                              stopped)

    def summary(self) -> dict[str, Any]:
        """JSON-ready record of the check (stored in the extraction's meta)."""
        return {"interval_s": self.interval_s, "checked": self.checked,
                "multi_person": self.multi, "max_people": self.max_people,
                "share": round(self.share, 3), "min_share": self.min_share,
                "own_model": self._landmarker is not None,
                "ms_per_check": (round(1000.0 * self.elapsed_s / self.checked, 1)
                                 if self.checked and self._landmarker is not None else None)}

    def close(self) -> None:
        """Release the check landmarker (safe to call twice)."""
        if self._landmarker is not None:
            self._landmarker.close()

    def __enter__(self) -> PeopleCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PeopleMonitor:
    """Live second-person check in a worker thread; never blocks the caller.

    :meth:`offer` is called with every captured frame; when a check is due (one per
    ``interval_s`` of capture time) and the worker is idle, the frame goes to the
    worker, which runs an IMAGE-mode landmarker looking for 2 poses. :attr:`people` is
    the count of the last finished check (0 before the first one).

    Args:
        model_path: the ``.task`` bundle.
        config: the ``[pose]`` section (``people_check_interval_s``).
        image_size: ``(width, height)`` of the frames in pixels.

    Raises:
        ModelError: the bundle is missing or MediaPipe cannot load it.
    """

    def __init__(self, model_path: str | os.PathLike[str], config: PoseConfig,
                 image_size: tuple[int, int]) -> None:
        self._check = PeopleCheck(model_path, config, image_size)
        self._cond = threading.Condition()
        self._job: tuple[np.ndarray, int] | None = None
        self._busy = False
        self._closed = False
        #: People counted by the last finished check, and its frame's timestamp (ms).
        self.people = 0
        self.checked_ms: int | None = None
        #: Per-check inference time, ms (for the loop statistics).
        self.check_ms: list[float] = []
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="people-check", daemon=True)
        self._thread.start()

    def offer(self, image: np.ndarray, timestamp_ms: int) -> bool:
        """Hand ``image`` (BGR, not modified afterwards) to the worker if a check is due
        and the worker idle; returns whether it was taken."""
        with self._cond:
            if self._closed or self._busy or not self._check.due(timestamp_ms):
                return False
            self._busy = True
            self._job = (image, int(timestamp_ms))
            self._cond.notify_all()
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self._closed)
                if self._closed:
                    return
                assert self._job is not None
                image, ts = self._job
                self._job = None
            t0 = time.perf_counter()
            try:
                people = self._check.check(image, ts)
            except Exception:  # a failed check must not stop the live loop
                self.errors += 1
                log.exception("people check failed")
                people = self.people
            dt = (time.perf_counter() - t0) * 1000.0
            with self._cond:
                self.people, self.checked_ms = people, ts
                self.check_ms.append(dt)
                self._busy = False

    @property
    def checked(self) -> int:
        """Checks finished so far."""
        return self._check.checked

    @property
    def max_people(self) -> int:
        """Most people seen in one checked frame."""
        return self._check.max_people

    def close(self) -> None:
        """Stop the worker and release its landmarker (safe to call twice)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
        self._check.close()
