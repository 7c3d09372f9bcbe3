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
import itertools
import logging
import math
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
from itbcoach.feedback.voice import SpeechLog, Voice, check_voice, find_engine
from itbcoach.kernel import compute_frame
from itbcoach.live.coach import Coach, result_json, utterance
from itbcoach.live.window import Window
from itbcoach.output import OutputError
from itbcoach.stream import FrameProcessor

log = logging.getLogger(__name__)

RING_FRAMES = 16
#: Longest wait for the answer to a frame just submitted from a live source, s: the
#: result is shown the moment it comes (not when the next frame arrives, up to a frame
#: period later); a model that stalls longer is not waited for.
RESULT_WAIT_S = 0.25
#: The loop's stages, in order, timed per frame shown with its own result (ms between a
#: stage's start and the next's): captured -> handed to the model (waiting for it to be
#: free), inference (image conversion included), the result waiting for the loop,
#: kernel + session + coach, drawing, display.
STAGES = ("capture", "inference", "pickup", "analyse", "draw", "display")


class _Feeder:
    """Hands frames to the model: the newest frame wins, submitted the moment the model
    is free. A live source calls :meth:`offer` from its capture thread
    (:attr:`~itbcoach.pose.sources._FrameSource.on_frame`), so inference of the next
    frame starts while the loop still draws the previous one; the loop calls
    :meth:`kick` after taking a result (a frame that came while the model was busy goes
    in then). Submissions are serialised by one lock (MediaPipe needs increasing
    timestamps)."""

    def __init__(self, landmarker: Any, ring: deque[tuple[Any, float]],
                 stats: LiveStats) -> None:
        self.landmarker, self.ring, self.stats = landmarker, ring, stats
        self.lock = threading.Lock()
        self.latest: tuple[Any, float] | None = None
        #: frame id -> (captured, handed to the model), monotonic s
        self.submitted_at: dict[int, tuple[float, float]] = {}
        self.hooked = False
        self.closed = False

    def close(self, source: Any) -> None:
        """Stop taking frames (before the model is closed)."""
        if self.hooked:
            source.on_frame = None
        with self.lock:
            self.closed = True

    def offer(self, frame: Any, t_cap: float | None = None) -> bool:
        """A new frame (any thread): kept in the ring, submitted if the model is free;
        returns True when submitted."""
        if t_cap is None:
            captured = getattr(frame, "captured_s", math.nan)
            t_cap = captured if math.isfinite(captured) else time.monotonic()
        with self.lock:
            if self.closed:
                return False
            self.ring.append((frame, t_cap))
            self.latest = (frame, t_cap)
            if self.hooked:
                self.stats.captured += 1
            return self._submit()

    def kick(self) -> bool:
        """Submit the newest waiting frame if the model is free (loop thread)."""
        with self.lock:
            return self._submit()

    def _submit(self) -> bool:
        if self.latest is None or self.landmarker.in_flight:
            return False
        frame, t_cap = self.latest
        self.latest = None
        t_sub = time.monotonic()
        if not self.landmarker.submit(frame.image, frame.frame_id, frame.timestamp_ms):
            return False
        self.stats.submitted += 1
        self.submitted_at[frame.frame_id] = (t_cap, t_sub)
        if len(self.submitted_at) > RING_FRAMES:
            del self.submitted_at[next(iter(self.submitted_at))]
        return True

    def frame(self, frame_id: int) -> tuple[Any, float] | None:
        """The ring's frame with ``frame_id`` and its capture time (None when gone)."""
        with self.lock:
            return next(((f, tc) for f, tc in self.ring if f.frame_id == frame_id), None)
#: Longest wait for the model's answer to one frame of a source whose every frame is
#: analysed, s (far above the slowest inference seen, ~0.3 s on a loaded laptop).
IDLE_TIMEOUT_S = 10.0


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
    speech_log: Path | None = None  # every sentence said, with its time
    speech_wav: Path | None = None  # ... and synthesised into one wav at the end
    person: str | None = None  # the person label of the session (history)
    fullscreen: bool = False  # open the window fullscreen (f toggles)
    report: bool = False  # write the HTML report into the history folder (CLI: on)
    #: keep the result on screen, s (window only; q closes); None: ``live.result_hold_s``
    result_hold_s: float | None = None
    #: wait for the answer to the frame just submitted (live sources) and show it at
    #: once; False: take results when the next frame arrives (the loop before issue 16;
    #: kept for benchmarks/live_bench.py --compare)
    wait_for_result: bool = True


@dataclass
class LiveStats:
    """What happened in a run (for the summary line and the benchmark)."""

    captured: int = 0
    submitted: int = 0
    results: int = 0
    displayed: int = 0
    dropped_busy: int = 0
    #: results analysed but not drawn: a newer one was already there (the loop was late)
    results_not_shown: int = 0
    source_dropped: int = 0
    events: int = 0
    wall_s: float = 0.0
    latency_ms: list[float] = field(default_factory=list)  # capture -> display, per frame
    inference_ms: list[float] = field(default_factory=list)
    #: per frame shown with its own result: ms spent in each of :data:`STAGES`
    stage_ms: list[tuple[float, ...]] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (t, RSS MB)
    people_check_ms: list[float] = field(default_factory=list)  # per second-person check
    multi_person_results: int = 0  # results gated because 2+ people were in view
    status: str = "completed"
    session_id: int | None = None
    report: Path | None = None  # the session's HTML report, when written
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
            "results_not_shown": self.results_not_shown,
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
            "stage_ms_p50": self.stage_p50(),
        }

    def stage_p50(self) -> dict[str, float] | None:
        """Median ms per stage of :data:`STAGES` (None before any frame was shown)."""
        if not self.stage_ms:
            return None
        med = np.median(np.asarray(self.stage_ms, float), axis=0)
        return {name: round(float(v), 2) for name, v in zip(STAGES, med, strict=True)}


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

    def __init__(self, path: Path | None, task: str, source: str,
                 person: str | None = None) -> None:
        from itbcoach.report.history import History

        self.history = History(path)
        self.session_id = self.history.start_session("live", task, source, person)
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
    from itbcoach.pose.sources import open_source

    if source is None:
        source = open_source(options.source, realtime=options.realtime, width=options.width,
                             height=options.height, fps=options.fps)
    if options.result_hold_s is None:
        options = replace(options, result_hold_s=config.live.result_hold_s)
    run = _Run(config, coach, options, window, source)
    lost: InputError | None = None
    stop = _StopSignals().install()  # restored in the finally below
    run.stop = stop
    try:
        run.open()
        for frame in source:
            stop.check()  # Ctrl-C, SIGTERM, SIGHUP: stop here, between two frames
            if run.step(frame):
                break
        else:
            run.stats.status = "source ended"
            run.result_screen()
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (see itbcoach.cli.main)
        run.stats.status = "interrupted"
        raise LiveInterrupted(run.stats, str(exc)) from None
    except InputError as exc:
        run.stats.status = "camera lost"
        if run.recorder is None:
            raise
        lost = exc  # re-raised below, once the session is saved
    except BaseException:
        run.stats.status = "failed"  # not "completed": the session ended on an error
        raise
    finally:
        try:
            run.close()
        finally:
            stop.restore()
    if lost is not None and run.recorder is not None:
        raise InputError(f"{lost} — session {run.recorder.session_id} saved "
                         f"({run.recorder.events} events)") from None
    return run.stats


class _Run:
    """One live run: its resources (opened in :meth:`open`, released in :meth:`close`),
    the per-result processing (:meth:`analyse`), the display (:meth:`show`) and one
    captured frame of the loop (:meth:`step`)."""

    def __init__(self, config: Config, coach: Coach, options: LiveOptions,
                 window: Window | None, source: Any) -> None:
        self.config, self.coach, self.options = config, coach, options
        self.window, self.source = window, source
        self.stats = LiveStats()
        self.recorder: Recorder | None = None
        self.voice: Voice | None = None
        self.speech: SpeechLog | None = None
        self.t_first: float | None = None  # source time of the first result, s
        self.poses: list[Any] = []  # every analysed frame's landmarks, for the report
        self.model_path: str | None = None
        self.writer: Any = None
        self.landmarker: Any = None
        self.monitor: Any = None
        self.processor = FrameProcessor(config)
        self.stop: _StopSignals | None = None  # set by run_live
        self.every_frame = bool(getattr(source, "every_frame", False))
        self.coach_finished = False
        self.t_end = 0.0
        self.t0 = time.monotonic()  # reset when the loop starts; wall time if it never does
        self.next_rss = self.t0
        self.finished_at: float | None = None
        # display state
        self.ring: deque[tuple[Any, float]] = deque(maxlen=RING_FRAMES)
        self.thumbs = _Thumbnails(options.mirror) if hasattr(coach, "thumbnail_frames") \
            else None
        self.last_px: np.ndarray | None = None
        self.last_instruction = ""
        self.last_shown = time.monotonic()
        self.fps_times: deque[float] = deque(maxlen=30)
        self.feeder: _Feeder | None = None  # set in open()

    def open(self) -> None:
        """Model, second-person check, window, history session, voice, recording."""
        from itbcoach.pose.landmarker import LiveLandmarker
        from itbcoach.pose.models import resolve_model
        from itbcoach.pose.people import PeopleMonitor

        config, options, size = self.config, self.options, self.source.size
        model = resolve_model(config.pose.model_variant,
                              explicit=options.model or config.pose.model_path or None)
        self.landmarker = LiveLandmarker(model, config.pose, size)
        self.model_path = str(model)
        self.feeder = _Feeder(self.landmarker, self.ring, self.stats)
        if not self.every_frame and options.wait_for_result and \
                hasattr(self.source, "on_frame"):
            # frames go to the model from the capture thread, the moment they come
            self.feeder.hooked = True
            self.source.on_frame = self.feeder.offer
        if config.pose.people_check_interval_s > 0 and config.pose.num_poses < 2:
            self.monitor = PeopleMonitor(model, config.pose, size)
        if self.window is None and options.window:  # before the session: no empty session
            self.window = Window(f"itbcoach — {self.coach.task}", options.fullscreen)
        self.recorder = Recorder(options.history, self.coach.task, str(options.source),
                                 options.person)
        self.stats.session_id = self.recorder.session_id
        command = find_engine(config.voice)
        muted = options.mute or config.voice.mute
        if not muted or options.speech_wav is not None:
            check_voice(command, config.voice.voice)
        self.speech = SpeechLog(options.speech_log, options.speech_wav, command)
        self.voice = Voice(command, enabled=not muted)
        if options.record is not None:
            from itbcoach.report.video import H264Writer

            # wall-clock timestamps: frames dropped or shown late keep their real times
            self.writer = H264Writer(options.record, getattr(self.source, "fps", 30.0), size,
                                     wall_clock=True)
        # compile the kernel and let the coach load what it needs now, not mid-session
        # (a fresh install compiles for seconds; a real-time source does not wait)
        compute_frame(np.full((33, 3), 0.5), size)
        warm_up = getattr(self.coach, "warm_up", None)
        if callable(warm_up):
            warm_up()
        self.t0 = self.next_rss = self.last_shown = time.monotonic()

    def record(self, events: list[Any], t_s: float) -> None:
        """Save, count, keep the thumbnails of and speak the events of one moment
        (``t_s``: its source time, s)."""
        assert self.recorder is not None and self.voice is not None
        for ev in events:
            self.recorder.add(ev)
            self.stats.events += 1
            if self.thumbs is not None:
                self.thumbs.keep(ev.data.get("worst_frame_ids", {}).values())
        self.say(utterance(events), t_s)

    def say(self, text: str | None, t_s: float) -> None:
        """Speak ``text`` and log it with its time since the first analysed frame."""
        if not text:
            return
        if self.speech is not None:
            self.speech.add(max(0.0, t_s - (self.t_first or 0.0)), text)
        if self.voice is not None:
            self.voice.say(text)

    def analyse(self, res: Any) -> tuple[Any, float] | None:
        """One model result: the processed frame to the coach; returns the captured frame
        it belongs to (with its capture time) when still in the ring."""
        from itbcoach.pose.people import ONE_PERSON_INSTRUCTION

        stats, coach = self.stats, self.coach
        stats.results += 1
        stats.inference_ms.append(res.latency_s * 1000.0)
        if self.options.report:
            self.poses.append(res.pose)
        self.t_end = max(self.t_end, res.timestamp_ms / 1000.0)
        self.t_first = res.timestamp_ms / 1000.0 if self.t_first is None else self.t_first
        people = max(res.num_people, self.monitor.people if self.monitor is not None else 0)
        frame = self.processor(res.pose, res.frame_id, coach.view, people)
        if people >= 2:  # nothing counts while someone else is in view
            frame = replace(frame, framing_ok=False, instruction=ONE_PERSON_INSTRUCTION)
            stats.multi_person_results += 1
        self.last_instruction = frame.instruction
        own = self.feeder.frame(res.frame_id) if self.feeder is not None else None
        if self.thumbs is not None and own is not None:
            self.thumbs.add(res.frame_id, own[0].image)
        self.record([] if coach.done else coach.update(frame), frame.t_s)  # done: result
        self.last_px = frame.landmarks[:, :2] * np.array(self.source.size, dtype=float)
        return own

    def show(self, shown: Any, t_cap: float, stale: bool,
             times: tuple[float, ...] | None = None) -> None:
        """Draw the overlay on ``shown``, display and record it, handle the key.

        ``times``: the monotonic times of the frame's stages up to the end of the
        analysis (:data:`STAGES`), to which drawing and display are added."""
        t_show = max(self.t_end, shown.timestamp_ms / 1000.0)
        img = _compose(shown.image, self.coach, t_show, self.last_px, self.last_instruction,
                       self.options.mirror, stale, self.fps_times, self.stats, self.thumbs,
                       self.display_size())
        t_drawn = time.monotonic()
        if self.writer is not None:  # the video keeps the camera's size
            frame_out = img if img.shape[:2] == shown.image.shape[:2] else \
                fit_into(img, tuple(self.source.size))[0]
            try:
                self.writer.write(frame_out, time.monotonic() - self.t0)
            except OutputError as exc:  # disk full: coaching goes on, unrecorded
                self.stats.output_error, self.writer = str(exc), None
        key = self.window.show(img) if self.window is not None else None
        done_at = time.monotonic()
        self.stats.displayed += 1
        self.stats.latency_ms.append((done_at - t_cap) * 1000.0)
        if times is not None:
            marks = (*times, t_drawn, done_at)
            self.stats.stage_ms.append(tuple(
                round((b - a) * 1000.0, 3) for a, b in itertools.pairwise(marks)))
        self.fps_times.append(done_at)
        self.last_shown = done_at
        if key == "q" or (self.window is not None and self.window.closed):
            self.stats.status = "quit"
        elif key:
            self.record(self.coach.key(key, t_show), t_show)

    def display_size(self) -> tuple[int, int] | None:
        """Draw at the window's size (sharp large text in a big or fullscreen window);
        no window, or a stand-in without ``size()``: at the camera's size."""
        size = getattr(self.window, "size", None)
        return size() if callable(size) else None

    def step(self, frame: Any) -> bool:
        """One frame from the source: submit it (unless the capture thread did), wait
        for the model's answer (live sources, up to :data:`RESULT_WAIT_S`) and show the
        newest result the moment it comes; returns True when the run should stop
        (``stats.status`` says why)."""
        now = time.monotonic()
        feeder = self.feeder
        assert feeder is not None
        if not feeder.hooked:
            self.stats.captured += 1
            if self.every_frame:  # a file read frame by frame: no frame is dropped
                self.landmarker.wait_idle(IDLE_TIMEOUT_S)
            feeder.offer(frame)
        if self.monitor is not None:
            self.monitor.offer(frame.image, frame.timestamp_ms)
        shown_any = False
        # a hooked source: a frame that waited for the busy model is submitted by kick();
        # its answer is shown in this step too, not when the next frame comes
        for _ in range(2 if feeder.hooked else 1):
            if self.every_frame:
                self.landmarker.wait_idle(IDLE_TIMEOUT_S)
            elif feeder.hooked:  # the frame was submitted before the loop got it
                self.landmarker.wait_result(RESULT_WAIT_S)
            elif self.options.wait_for_result:
                self.landmarker.wait_idle(RESULT_WAIT_S)
            results = self.landmarker.poll()
            picked = time.monotonic()
            kicked = feeder.kick()  # a frame that came while the model was busy: its turn
            to_show = [(own, res) for res in results if (own := self.analyse(res))]
            if to_show:
                (shown, t_cap), res = to_show[-1]  # only the newest result is shown
                self.stats.results_not_shown += len(to_show) - 1
                marks = feeder.submitted_at.pop(res.frame_id, None)
                times = None if marks is None else \
                    (*marks, marks[1] + res.latency_s, picked, time.monotonic())
                self.show(shown, t_cap, stale=False, times=times)
                shown_any = True
            if not kicked or self.stats.status == "quit" or self.coach.done:
                break
        if not shown_any and now - self.last_shown > self.config.live.stale_after_s:
            captured = getattr(frame, "captured_s", math.nan)
            self.show(frame, captured if math.isfinite(captured) else now, stale=True)
        if now >= self.next_rss:
            self.stats.rss_mb.append((now - self.t0, _rss_mb()))
            self.next_rss = now + 1.0
        return self._should_stop(now)

    def _should_stop(self, now: float) -> bool:
        if self.stats.status == "quit":
            return True
        if self.coach.done:
            self.stats.status = "completed"
            if self.window is None or (self.options.result_hold_s or 0) <= 0:
                return True
            self.finished_at = now if self.finished_at is None else self.finished_at
            if now - self.finished_at >= (self.options.result_hold_s or 0):
                return True
        if self.options.max_seconds is not None and now - self.t0 >= self.options.max_seconds:
            self.stats.status = "time limit"
            return True
        return False

    def result_screen(self) -> None:
        """The source ended: a window still shows the result for ``result_hold_s``."""
        window = self.window
        if window is None or (self.options.result_hold_s or 0) <= 0 or not self.ring:
            return
        self.coach_finished = True
        self.record(self.coach.finish(self.t_end), self.t_end)
        last = self.ring[-1][0]
        until = time.monotonic() + (self.options.result_hold_s or 0)
        while time.monotonic() < until and not window.closed:
            if self.stop is not None:
                self.stop.check()
            img = _compose(last.image, self.coach, self.t_end, self.last_px, "",
                           self.options.mirror, False, self.fps_times, self.stats,
                           self.thumbs, self.display_size())
            if window.show(img) == "q":
                break
            time.sleep(0.05)

    def close(self) -> None:
        """Release everything; close the session with its status and summary."""
        stats = self.stats
        stats.wall_s = time.monotonic() - self.t0
        if self.feeder is not None:
            self.feeder.close(self.source)
        if self.monitor is not None:
            self.monitor.close()
            stats.people_check_ms = list(self.monitor.check_ms)
        if self.landmarker is not None:
            stats.dropped_busy = self.landmarker.dropped_busy
            self.landmarker.close()
        with contextlib.suppress(Exception):
            stats.source_dropped = int(getattr(self.source, "dropped", 0) or 0)
        self.source.close()
        if self.recorder is not None:
            try:
                last = [] if self.coach_finished else self.coach.finish(self.t_end)
                for ev in last:
                    self.recorder.add(ev)
                    stats.events += 1
                if self.speech is not None:  # logged (and in the wav), too late to speak
                    text = utterance(last)
                    if text:
                        self.speech.add(max(0.0, self.t_end - (self.t_first or 0.0)), text)
                if self.options.report:
                    self._write_report()
            finally:
                self.recorder.close(stats.status, _safe_result(self.coach, self.config))
        if self.speech is not None:
            self.speech.close()
        if self.voice is not None:
            self.voice.close(wait=False)
        if self.writer is not None:
            try:
                self.writer.close()
            except OutputError as exc:
                stats.output_error = str(exc)
        if self.window is not None:
            self.window.close()


    def _write_report(self) -> None:
        """The offline HTML report of this session into the history folder, linked from
        the session (a failure is logged: the session itself is saved either way)."""
        from itbcoach.report.live import join_frames, live_meta, live_report_dir, write_live_report

        recorder = self.recorder
        if recorder is None or not self.poses:
            return
        try:
            result = self.coach.result()
            seq = join_frames(self.poses, tuple(self.source.size))
            video = Path(str(self.options.source))
            # thumbnails need the video's frame numbers to be the sequence's indices
            video_ok = self.every_frame and video.is_file() and len(seq) == self.stats.captured
            out = live_report_dir(recorder.history.path, recorder.session_id, self.coach.task)
            page = write_live_report(
                out, seq, result, self.config,
                live_meta(seq, str(self.options.source), self.config, self.model_path),
                spans=getattr(self.coach, "spans", ()), video=video if video_ok else None,
                scale=self.coach.length_scale())
            recorder.history.set_report(recorder.session_id, page)
            self.stats.report = page
        except Exception:
            log.exception("could not write the session's report")


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


def _safe_result(coach: Coach, config: Config) -> dict[str, Any] | None:
    """The coach's result JSON for the history (None when it cannot be made)."""
    try:
        return result_json(coach, config)
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


def fit_into(image: np.ndarray, size: tuple[int, int] | None
             ) -> tuple[np.ndarray, float, tuple[int, int]]:
    """``image`` scaled to fit ``size`` = (width, height), centred on black bars.

    Returns the canvas, the scale and the ``(x, y)`` offset of the picture on it (a
    point ``p`` of ``image`` is at ``p * scale + offset``). ``size`` None or equal to the
    image's: a copy, scale 1.
    """
    import cv2

    h, w = image.shape[:2]
    if size is None or tuple(size) == (w, h):
        return image.copy(), 1.0, (0, 0)
    cw, ch = size
    scale = min(cw / w, ch / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.zeros((ch, cw, 3), np.uint8)
    ox, oy = (cw - nw) // 2, (ch - nh) // 2
    canvas[oy:oy + nh, ox:ox + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return canvas, scale, (ox, oy)


def _compose(image: np.ndarray, coach: Coach, t_s: float, px: np.ndarray | None,
             instruction: str, mirror: bool, stale: bool, fps_times: deque[float],
             stats: LiveStats, thumbs: _Thumbnails | None = None,
             size: tuple[int, int] | None = None) -> np.ndarray:
    """The displayed picture: the (mirrored) frame, fitted into ``size`` (the window's
    picture area; None: the frame's own size), with the overlay drawn on it at that
    size."""
    import cv2

    h, w = image.shape[:2]
    # cv2.flip, not image[:, ::-1]: numpy copies a negative-stride view ~50x slower (12 ms
    # of a 640x480 frame on the benchmark machine vs ~0.2 ms)
    if mirror and (size is None or tuple(size) == (w, h)):
        img, scale, offset = cv2.flip(image, 1), 1.0, (0, 0)  # a new array: drawn on
    else:
        img, scale, offset = fit_into(cv2.flip(image, 1) if mirror else image, size)
    view = coach.view_state(t_s)
    pts = None if px is None else (mirror_x(px, w) if mirror else px)
    guides = mirror_guides(view.guides, w) if mirror else view.guides
    if scale != 1.0 or offset != (0, 0):  # frame pixels -> canvas pixels
        pts = None if pts is None else pts * scale + np.asarray(offset, float)

        def move(p: tuple[float, float]) -> tuple[float, float]:
            return (p[0] * scale + offset[0], p[1] * scale + offset[1])

        guides = tuple(replace(g, p0=move(g.p0), p1=move(g.p1)) for g in guides)
    fps = None
    if len(fps_times) >= 2 and fps_times[-1] > fps_times[0]:
        fps = (len(fps_times) - 1) / (fps_times[-1] - fps_times[0])
    state = replace(
        view, landmarks_px=pts, guides=guides, framing=instruction or None, fps=fps,
        latency_ms=stats.latency_ms[-1] if stats.latency_ms else None, stale=stale)
    if thumbs is not None and coach.done:
        state = replace(state, thumbnails=tuple(
            (label, thumbs.kept[fid]) for label, fid in coach.thumbnail_frames()  # type: ignore[attr-defined]
            if fid in thumbs.kept))
    return draw_overlay(img, state)
