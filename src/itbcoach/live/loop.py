"""The real-time loop: capture -> PoseLandmarker (LIVE_STREAM) -> smoothing -> kernel ->
coach -> overlay -> window, with voice cues and every event saved as it happens.

Threads: the frame source captures in its own thread (newest frame wins); MediaPipe runs
inference in its own thread and calls back; this loop submits frames without waiting
(dropped while the model is busy, never queued, so lag cannot build up), processes each
result in order and draws it **on the frame it belongs to** (kept in a small ring
buffer). When no result arrives for a while (nobody in view, model stalled), the newest
frame is shown with the last result and the corner says "last result". About once a
second the newest frame also goes to the second-person check
(:class:`~itbcoach.pose.people.PeopleMonitor`, its own worker thread); while it sees two
people the coach is told the framing is not ok ("Only one person in view, please").

Inference always runs on the un-mirrored frame, so MediaPipe's left/right are the
subject's own; only the picture on screen is mirrored (like a mirror), coordinates
with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from itbcoach.config import Config
from itbcoach.errors import InputError
from itbcoach.feedback.overlay import GuideLine, draw_overlay
from itbcoach.feedback.voice import Voice
from itbcoach.kernel import NUM_METRICS, compute_frame
from itbcoach.live.coach import Coach, Frame, speech
from itbcoach.live.window import Window
from itbcoach.output import OutputError

log = logging.getLogger(__name__)

RING_FRAMES = 16


@dataclass
class LiveOptions:
    """How to run the loop (the CLI flags of ``itbcoach live``)."""

    source: str = "0"
    realtime: bool = False
    mirror: bool = True
    mute: bool = False
    window: bool = True
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    model: str | None = None
    max_seconds: float | None = None
    history: Path | None = None
    record: Path | None = None  # also write the displayed frames to this mp4
    result_hold_s: float = 10.0  # keep the result on screen (window only; q closes)


@dataclass
class LiveStats:
    """What happened in a run (for the summary line and the benchmark)."""

    captured: int = 0
    submitted: int = 0
    results: int = 0
    displayed: int = 0
    dropped_busy: int = 0
    source_dropped: int = 0
    events: int = 0
    wall_s: float = 0.0
    latency_ms: list[float] = field(default_factory=list)  # capture -> display, per frame
    inference_ms: list[float] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (t, RSS MB)
    people_check_ms: list[float] = field(default_factory=list)  # per second-person check
    multi_person_results: int = 0  # results gated because 2+ people were in view
    status: str = "completed"
    session_id: int | None = None
    output_error: str | None = None  # the --record video could not be written

    @property
    def display_fps(self) -> float:
        """Frames shown per second of wall time."""
        return self.displayed / self.wall_s if self.wall_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary with latency percentiles."""
        lat = np.asarray(self.latency_ms) if self.latency_ms else np.array([np.nan])
        inf = np.asarray(self.inference_ms) if self.inference_ms else np.array([np.nan])
        return {
            "captured": self.captured, "submitted": self.submitted, "results": self.results,
            "displayed": self.displayed, "dropped_busy": self.dropped_busy,
            "source_dropped": self.source_dropped, "events": self.events,
            "wall_s": round(self.wall_s, 2), "display_fps": round(self.display_fps, 2),
            "latency_ms_p50": float(np.nanpercentile(lat, 50)),
            "latency_ms_p95": float(np.nanpercentile(lat, 95)),
            "inference_ms_p50": float(np.nanpercentile(inf, 50)),
            "people_checks": len(self.people_check_ms),
            "people_check_ms_p50": (float(np.percentile(self.people_check_ms, 50))
                                    if self.people_check_ms else None),
            "multi_person_results": self.multi_person_results,
            "status": self.status,
        }


def _rss_mb() -> float:
    """Resident set size now, MB (Linux /proc; else the peak from getrusage)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open(f"/proc/{os.getpid()}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mirror_x(points: np.ndarray, width: int) -> np.ndarray:
    """Pixel coordinates ``(..., 2)`` mirrored left-right in a frame ``width`` wide."""
    out = np.array(points, dtype=float, copy=True)
    out[..., 0] = (width - 1) - out[..., 0]
    return out


def mirror_guides(guides: tuple[GuideLine, ...], width: int) -> tuple[GuideLine, ...]:
    """Guide lines mirrored with the picture."""
    return tuple(replace(g, p0=(width - 1 - g.p0[0], g.p0[1]),
                         p1=(width - 1 - g.p1[0], g.p1[1])) for g in guides)


class LiveInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM/SIGHUP) ended the session; raised after everything was saved.

    Attributes:
        stats: the run's :class:`LiveStats` (status ``interrupted``).
    """

    def __init__(self, stats: LiveStats, signal_name: str = "") -> None:
        super().__init__(signal_name)
        self.stats = stats


class Recorder:
    """Saves the session to the history database as it happens.

    Every event is one transaction; ``close`` stores the final status and summary.
    """

    def __init__(self, path: Path | None, task: str, source: str) -> None:
        from itbcoach.report.history import History

        self.history = History(path)
        self.session_id = self.history.start_session("live", task, source)
        self.events = 0

    def add(self, event: Any) -> None:
        """Persist one finished event (``data["record_as"]`` overrides its type)."""
        data = event.to_json() if hasattr(event, "to_json") else dict(event.data)
        kind = str(data.pop("record_as", None) or event.kind)
        self.history.add_event(self.session_id, kind, data, t_s=event.t_s, side=event.side)
        self.events += 1

    def close(self, status: str, summary: dict[str, Any] | None) -> None:
        """End the session and close the database."""
        try:
            self.history.end_session(self.session_id, status, summary)
        finally:
            self.history.close()


def run_live(config: Config, coach: Coach, options: LiveOptions,
             window: Window | None = None, source: Any = None) -> LiveStats:
    """Run the live coach until it is done, the source ends, ``q``, or Ctrl-C.

    Every finished event is saved the moment it happens; on any ending (also
    KeyboardInterrupt or the camera vanishing) the session is closed with its status.
    KeyboardInterrupt is re-raised after saving.

    Args:
        config: the configuration.
        coach: what to coach (:class:`~itbcoach.live.coach.Coach`).
        options: how to run (source spec, window, history...).
        window: a window to draw into (default: a new one when ``options.window``).
        source: an already opened frame source (anything with ``size``, ``fps``,
            iteration over :class:`~itbcoach.pose.sources.Frame` and ``close()``) used
            instead of opening ``options.source``; the loop closes it. This is the seam
            for tests and embedding (e.g. a source that fails mid-run).

    Returns:
        The run's :class:`LiveStats` (status ``completed`` | ``quit`` | ``source ended`` |
        ``time limit`` | ``interrupted``).

    Raises:
        InputError: the source failed mid-run (camera unplugged, file truncated): the
            session is saved first with status ``camera lost`` and the message says
            so (``"<what happened> — session N saved (K events)"``).
        LiveInterrupted: (a KeyboardInterrupt) after saving, status ``interrupted``,
            carrying the stats.
    """
    from itbcoach.pose.framing import assess_framing
    from itbcoach.pose.landmarker import LiveLandmarker
    from itbcoach.pose.models import resolve_model
    from itbcoach.pose.people import ONE_PERSON_INSTRUCTION, PeopleMonitor
    from itbcoach.pose.smoothing import OneEuroFilter
    from itbcoach.pose.sources import open_source

    stats = LiveStats()
    if source is None:
        source = open_source(options.source, realtime=options.realtime, width=options.width,
                             height=options.height, fps=options.fps)
    recorder: Recorder | None = None
    voice: Voice | None = None
    writer = None
    landmarker = None
    monitor: PeopleMonitor | None = None
    lost: InputError | None = None
    coach_finished = False
    t_end = 0.0
    t0 = time.monotonic()  # reset when the loop starts; wall time if it never does
    stop = _StopSignals().install()  # restored in the finally below
    try:
        size = source.size
        model = resolve_model(config.pose.model_variant,
                              explicit=options.model or config.pose.model_path or None)
        landmarker = LiveLandmarker(model, config.pose, size)
        if config.pose.people_check_interval_s > 0 and config.pose.num_poses < 2:
            monitor = PeopleMonitor(model, config.pose, size)
        if window is None and options.window:  # before the session: no empty session
            window = Window(f"itbcoach — {coach.task}")
        recorder = Recorder(options.history, coach.task, str(options.source))
        stats.session_id = recorder.session_id
        voice = Voice(enabled=not options.mute)
        if options.record is not None:
            from itbcoach.report.video import H264Writer

            # wall-clock timestamps: frames dropped or shown late keep their real times
            writer = H264Writer(options.record, getattr(source, "fps", 30.0), size,
                                wall_clock=True)
        # compile the kernel and let the coach load what it needs now, not mid-session
        # (a fresh install compiles for seconds; a real-time source does not wait)
        compute_frame(np.full((33, 3), 0.5), size)
        warm_up = getattr(coach, "warm_up", None)
        if callable(warm_up):
            warm_up()
        smoother = OneEuroFilter.from_config(config.smoothing)
        world_smoother = OneEuroFilter.from_config(config.smoothing)
        ring: deque[tuple[Any, float]] = deque(maxlen=RING_FRAMES)
        thumbs = _Thumbnails(options.mirror) if hasattr(coach, "thumbnail_frames") else None
        metrics = np.full(NUM_METRICS, np.nan)
        last_px: np.ndarray | None = None
        last_instruction = ""
        last_shown = time.monotonic()
        fps_times: deque[float] = deque(maxlen=30)
        t0 = time.monotonic()
        next_rss = t0
        quit_requested = False
        finished_at: float | None = None
        for frame in source:
            stop.check()  # Ctrl-C, SIGTERM, SIGHUP: stop here, between two frames
            now = time.monotonic()
            stats.captured += 1
            ring.append((frame, now))
            if landmarker.submit(frame.image, frame.frame_id, frame.timestamp_ms):
                stats.submitted += 1
            if monitor is not None:
                monitor.offer(frame.image, frame.timestamp_ms)
            to_show: list[tuple[Any, float, bool]] = []
            for res in landmarker.poll():
                stats.results += 1
                stats.inference_ms.append(res.latency_s * 1000.0)
                t_s = res.timestamp_ms / 1000.0
                t_end = max(t_end, t_s)
                pose = res.pose
                framing = assess_framing(pose, config.framing, view=coach.view)
                vis = pose.visibility[0]
                raw = pose.landmarks[0].astype(np.float64)
                raw[~(vis >= config.pose.min_visibility)] = np.nan
                smooth = smoother(t_s, raw)
                world = None
                if pose.world_landmarks is not None:
                    w_raw = pose.world_landmarks[0].astype(np.float64)
                    w_raw[~(vis >= config.pose.min_visibility)] = np.nan
                    world = world_smoother(t_s, w_raw)
                compute_frame(smooth, size, world, out=metrics)
                last_instruction = framing.instruction(0)
                framing_ok = bool(framing.ok[0])
                people = max(res.num_people, monitor.people if monitor is not None else 0)
                if people >= 2:  # nothing counts while someone else is in view
                    last_instruction, framing_ok = ONE_PERSON_INSTRUCTION, False
                    stats.multi_person_results += 1
                cf = Frame(t_s, res.frame_id, metrics.copy(), smooth, vis, size,
                           framing_ok, last_instruction, people)
                # the frame this result belongs to (drawn on it, thumbnailed from it)
                own = next(((f, tc) for f, tc in ring if f.frame_id == res.frame_id), None)
                if thumbs is not None and own is not None:
                    thumbs.add(res.frame_id, own[0].image)
                for ev in ([] if coach.done else coach.update(cf)):  # result screen
                    recorder.add(ev)
                    stats.events += 1
                    if thumbs is not None:
                        thumbs.keep(ev.data.get("worst_frame_ids", {}).values())
                    said = speech(ev)
                    if said:
                        voice.say(said)
                last_px = smooth[:, :2] * np.array(size, dtype=float)
                if own is not None:
                    to_show.append((own[0], own[1], False))
            if not to_show and now - last_shown > config.live.stale_after_s:
                to_show.append((frame, now, True))
            for shown, t_cap, stale in to_show[-1:]:  # only the newest result is shown
                t_show = max(t_end, shown.timestamp_ms / 1000.0)
                img = _compose(shown.image, coach, t_show, last_px, last_instruction,
                               options.mirror, stale, fps_times, stats, thumbs)
                if writer is not None:
                    try:
                        writer.write(img, time.monotonic() - t0)
                    except OutputError as exc:  # disk full: coaching goes on, unrecorded
                        stats.output_error, writer = str(exc), None
                key = window.show(img) if window is not None else None
                done_at = time.monotonic()
                stats.displayed += 1
                stats.latency_ms.append((done_at - t_cap) * 1000.0)
                fps_times.append(done_at)
                last_shown = done_at
                if key == "q" or (window is not None and window.closed):
                    quit_requested = True
                elif key:
                    for ev in coach.key(key, t_show):
                        recorder.add(ev)
                        stats.events += 1
            if now >= next_rss:
                stats.rss_mb.append((now - t0, _rss_mb()))
                next_rss = now + 1.0
            if quit_requested:
                stats.status = "quit"
                break
            if coach.done:
                stats.status = "completed"
                if window is None or options.result_hold_s <= 0:
                    break
                finished_at = now if finished_at is None else finished_at
                if now - finished_at >= options.result_hold_s:
                    break
            if options.max_seconds is not None and now - t0 >= options.max_seconds:
                stats.status = "time limit"
                break
        else:
            stats.status = "source ended"
            if window is not None and options.result_hold_s > 0 and ring:
                # a file (or a camera that ended) still gets its result screen
                coach_finished = True
                for ev in coach.finish(t_end):
                    recorder.add(ev)
                    stats.events += 1
                last = ring[-1][0]
                until = time.monotonic() + options.result_hold_s
                while time.monotonic() < until and not window.closed:
                    stop.check()
                    img = _compose(last.image, coach, t_end, last_px, "", options.mirror,
                                   False, fps_times, stats, thumbs)
                    if window.show(img) == "q":
                        break
                    time.sleep(0.05)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (see itbcoach.cli.main)
        stats.status = "interrupted"
        raise LiveInterrupted(stats, str(exc)) from None
    except InputError as exc:
        stats.status = "camera lost"
        if recorder is None:
            raise
        lost = exc  # re-raised below, once the session is saved
    except BaseException:
        stats.status = "failed"  # not "completed": the session ended on an error
        raise
    finally:
        stats.wall_s = time.monotonic() - t0
        if monitor is not None:
            monitor.close()
            stats.people_check_ms = list(monitor.check_ms)
        if landmarker is not None:
            stats.dropped_busy = landmarker.dropped_busy
            landmarker.close()
        with contextlib.suppress(Exception):
            stats.source_dropped = int(getattr(source, "dropped", 0) or 0)
        source.close()
        if recorder is not None:
            try:
                for ev in ([] if coach_finished else coach.finish(t_end)):
                    recorder.add(ev)
                    stats.events += 1
            finally:
                recorder.close(stats.status, _safe_result(coach))
        if voice is not None:
            voice.close(wait=False)
        if writer is not None:
            try:
                writer.close()
            except OutputError as exc:
                stats.output_error = str(exc)
        if window is not None:
            window.close()
        stop.restore()
    if lost is not None and recorder is not None:
        raise InputError(f"{lost} — session {recorder.session_id} saved "
                         f"({recorder.events} events)") from None
    return stats


class _StopSignals:
    """Ctrl-C, SIGTERM and SIGHUP during a session end it between two frames.

    The first signal only sets :attr:`name`; the loop calls :meth:`check` once a frame
    and raises KeyboardInterrupt there, never inside MediaPipe's callbacks, a lock or
    the history's transaction. A second signal (a stalled camera, a slow shutdown)
    raises at once. Only in the main thread (elsewhere signals cannot be handled).
    """

    def __init__(self) -> None:
        self.name: str | None = None
        self._old: dict[int, Any] = {}

    def install(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in ("SIGINT", "SIGTERM", "SIGHUP"):
                if hasattr(signal, sig):
                    num = getattr(signal, sig)
                    self._old[num] = signal.signal(num, self._handle)
        return self

    def _handle(self, signum: int, _frame: object) -> None:
        if self.name is not None:
            raise KeyboardInterrupt(self.name)
        self.name = signal.Signals(signum).name

    def check(self) -> None:
        """Raise KeyboardInterrupt when a stop signal came."""
        if self.name is not None:
            raise KeyboardInterrupt(self.name)

    def restore(self) -> None:
        """Put the previous handlers back."""
        for num, handler in self._old.items():
            signal.signal(num, handler)
        self._old = {}


def _safe_result(coach: Coach) -> dict[str, Any] | None:
    try:
        return coach.result()
    except Exception:  # the session is saved either way; the summary is a convenience
        log.exception("could not summarise the session")
        return None


class _Thumbnails:
    """Small copies of the recent analysed frames, and the ones a coach asked to keep
    (the worst frame of each fault, shown on the step-down result screen)."""

    WIDTH = 240
    RECENT = 256  # frames: longer than a rep, so its worst frame is still here

    def __init__(self, mirror: bool) -> None:
        self.mirror = mirror
        self.recent: dict[int, np.ndarray] = {}
        self.kept: dict[int, np.ndarray] = {}

    def add(self, frame_id: int, image: np.ndarray) -> None:
        import cv2

        h, w = image.shape[:2]
        small = cv2.resize(image, (self.WIDTH, max(1, round(h * self.WIDTH / w))),
                           interpolation=cv2.INTER_AREA)
        self.recent[frame_id] = small[:, ::-1].copy() if self.mirror else small
        while len(self.recent) > self.RECENT:
            del self.recent[next(iter(self.recent))]

    def keep(self, frame_ids: Any) -> None:
        for fid in frame_ids:
            if fid in self.recent:
                self.kept[fid] = self.recent[fid]


def _compose(image: np.ndarray, coach: Coach, t_s: float, px: np.ndarray | None,
             instruction: str, mirror: bool, stale: bool, fps_times: deque[float],
             stats: LiveStats, thumbs: _Thumbnails | None = None) -> np.ndarray:
    """The displayed picture: the (mirrored) frame with the overlay drawn on it."""
    w = image.shape[1]
    img = image[:, ::-1].copy() if mirror else image.copy()
    view = coach.view_state(t_s)
    pts = None if px is None else (mirror_x(px, w) if mirror else px)
    fps = None
    if len(fps_times) >= 2 and fps_times[-1] > fps_times[0]:
        fps = (len(fps_times) - 1) / (fps_times[-1] - fps_times[0])
    state = replace(
        view, landmarks_px=pts,
        guides=mirror_guides(view.guides, w) if mirror else view.guides,
        framing=instruction or None, fps=fps,
        latency_ms=stats.latency_ms[-1] if stats.latency_ms else None, stale=stale)
    if thumbs is not None and coach.done:
        state = replace(state, thumbnails=tuple(
            (label, thumbs.kept[fid]) for label, fid in coach.thumbnail_frames()  # type: ignore[attr-defined]
            if fid in thumbs.kept))
    return draw_overlay(img, state)
