"""The guided start of an exercise, for someone 2 m from the screen with no hand free.

:class:`GuidedExercise` wraps an :class:`~itbcoach.live.coach.ExerciseCoach`:

``card`` -> ``countdown`` -> ``coach``

* **card**: the exercise's name, how it is done (two lines) and a looping demo clip made
  from the project's own render of the exercise, over the dimmed camera picture; the
  posture/camera instruction is the large main line. All of it comes from the exercise's
  ``[exercises.<id>.card]`` table; the introduction and the instruction are spoken. The
  card stays until the framing gate passes *and* the posture check of ``[live.ready]``
  (lying / seated / standing) holds for ``live.ready_hold_s``, and at least
  ``live.card_min_s``. Without a window nobody reads it: it ends when the posture is
  seen or after ``live.card_no_window_s``. ``space`` starts at once.
* **countdown**: ``live.countdown_s`` seconds, each number drawn large and spoken.
* **coach**: the exercise coach counts (its own introduction is not repeated).

Like every coach it never reads a clock: times are the frames' own.
"""

from __future__ import annotations

import logging
import math
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from itbcoach.config import Config
from itbcoach.exercises import ExerciseResult
from itbcoach.exercises.events import Event, EventKind
from itbcoach.exercises.expr import compile_expr, truth
from itbcoach.feedback.overlay import CardView, OverlayState
from itbcoach.live.coach import ExerciseCoach, introduction
from itbcoach.stream import Frame

log = logging.getLogger(__name__)

#: Where ``card.demo`` names are looked up (the repository's rendered sample clips).
SAMPLE_DIR = Path(__file__).resolve().parents[3] / "sample_videos"
#: The demo loop: this many seconds of the clip (the most active stretch), this many
#: frames per second, this many pixels wide (about 0.1 MB a frame: ~7 MB for a demo).
DEMO_S, DEMO_FPS, DEMO_WIDTH = 4.0, 10.0, 320


def demo_path(name: str) -> Path | None:
    """The file of a card's ``demo`` (absolute, or in :data:`SAMPLE_DIR`); None when
    empty or missing (the card is shown without a demo)."""
    if not name:
        return None
    path = Path(name) if Path(name).is_absolute() else SAMPLE_DIR / name
    return path if path.is_file() else None


@lru_cache(maxsize=16)
def load_demo(path: Path, seconds: float = DEMO_S, fps: float = DEMO_FPS,
              width: int = DEMO_WIDTH) -> tuple[np.ndarray, ...]:
    """Frames of the demo loop: the clip decoded once, subsampled to ``fps``, downscaled
    to ``width`` px, and the ``seconds`` long stretch with the most motion kept (a render
    starts standing still). Empty when the clip cannot be read."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        src_fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        step = max(1, round(src_fps / fps))
        frames: list[np.ndarray] = []
        i = 0
        while True:
            ok = cap.grab()
            if not ok:
                break
            if i % step == 0:
                ok, img = cap.retrieve()
                if not ok:
                    break
                h, w = img.shape[:2]
                frames.append(cv2.resize(img, (width, max(1, round(h * width / w))),
                                         interpolation=cv2.INTER_AREA))
            i += 1
    finally:
        cap.release()
    n = max(1, round(seconds * fps))
    if len(frames) <= n:
        return tuple(frames)
    stack = np.stack([f[::4, ::4].astype(np.int16) for f in frames])
    motion = np.abs(np.diff(stack, axis=0)).mean(axis=(1, 2, 3))  # (len - 1,)
    window = np.convolve(motion, np.ones(n - 1), mode="valid")
    start = int(np.argmax(window))
    return tuple(frames[start:start + n])


class DemoLoop:
    """A demo clip loaded in the background (the live loop never waits for decoding) and
    played in a loop: :meth:`frame` gives the picture for a time, None until loaded."""

    def __init__(self, path: Path | None) -> None:
        self.frames: tuple[np.ndarray, ...] = ()
        self._thread: threading.Thread | None = None
        if path is not None:
            self._thread = threading.Thread(target=self._load, args=(path,), daemon=True,
                                            name="itbcoach-demo")
            self._thread.start()

    def _load(self, path: Path) -> None:
        try:
            self.frames = load_demo(path)
        except Exception:  # a broken demo only costs the picture
            log.exception("could not load the demo clip %s", path)

    def wait(self, timeout_s: float = 10.0) -> None:
        """Block until loaded (tests, warm-up)."""
        if self._thread is not None:
            self._thread.join(timeout_s)

    def frame(self, t_s: float) -> np.ndarray | None:
        """The loop's frame at ``t_s`` seconds since the card appeared."""
        frames = self.frames
        if not frames:
            return None
        return frames[int(max(0.0, t_s) * DEMO_FPS) % len(frames)]


class GuidedExercise:
    """One exercise with its card, posture check and countdown (module docstring).

    Args:
        config: the configuration (``[live]`` timings and ``[live.ready]`` checks, the
            exercise's ``card`` table).
        task: exercise id.
        window: a person watches a window (False: ``--no-window``, the card's fixed
            short time applies).
    """

    def __init__(self, config: Config, task: str, window: bool = True) -> None:
        self.config = config
        self.inner = ExerciseCoach(config, task)
        self.task = task
        self.exercise = self.inner.exercise
        self.view = self.inner.view
        self.window = window
        cfg = self.exercise.config
        self.card = cfg.card
        self.how = self.card.how if self.card is not None and self.card.how else \
            (cfg.instruction,)
        self.setup = self.card.setup if self.card is not None else ""
        source, where = config.live.ready.get(cfg.posture, ""), f"live.ready.{cfg.posture}"
        if self.card is not None and self.card.ready:
            source, where = self.card.ready, f"exercises.{task}.card.ready"
        self.ready = compile_expr(source, where=where) if source else None
        self.demo = DemoLoop(demo_path(self.card.demo) if self.card is not None else None)
        self.phase = "card"
        self._card_t: float | None = None
        self._ready_since: float | None = None
        self._ready_now = False
        self._countdown_t: float | None = None
        self._said = -1  # last countdown number spoken

    def warm_up(self) -> None:
        """Load the demo now (before the session's clock starts)."""
        self.demo.wait()

    @property
    def started_s(self) -> float | None:
        """Source time of the exercise's first counted frame, s (None before it)."""
        return self.inner.started_s

    @property
    def paused(self) -> bool:
        return self.inner.paused

    def _is_ready(self, frame: Frame) -> bool:
        if not frame.framing_ok or frame.people >= 2:
            return False
        if self.ready is None:
            return True
        return truth(self.ready(frame.t_s, frame.metrics)) is True

    def update(self, frame: Frame) -> list[Event]:
        """Advance the card / countdown; then feed the exercise coach."""
        t = frame.t_s
        events: list[Event] = []
        if self.phase == "card":
            if self._card_t is None:
                self._card_t = t
                events.append(self._introduce(t))
            ready = self._is_ready(frame)
            self._ready_now = ready
            self._ready_since = (self._ready_since if self._ready_since is not None
                                 else t) if ready else None
            live = self.config.live
            held = self._ready_since is not None and \
                t - self._ready_since >= live.ready_hold_s
            shown = t - self._card_t
            if (held and (shown >= live.card_min_s or not self.window)) or \
                    (not self.window and shown >= live.card_no_window_s):
                events += self._start_countdown(t)
            else:
                return events
        if self.phase == "countdown":
            assert self._countdown_t is not None
            left = self.config.live.countdown_s - (t - self._countdown_t)
            if left > 0:
                n = math.ceil(left)
                if n != self._said:
                    self._said = n
                    events.append(Event(EventKind.CUE, t, None, self.task, {
                        "text": str(n), "say": str(n), "record_as": "countdown"}))
                return events
            self.phase = "coach"
            events.append(Event(EventKind.CUE, t, None, self.task, {
                "text": "go", "say": "Go", "record_as": "countdown"}))
        # the coach phase: the card already introduced the exercise
        return events + [ev for ev in self.inner.update(frame)
                         if ev.data.get("record_as") != "introduction"]

    def _introduce(self, t: float) -> Event:
        text = introduction(self.exercise.name, self.exercise.config.instruction)
        if self.setup:
            text = f"{text} {self.setup.rstrip('.')}."
        return Event(EventKind.CUE, t, None, self.task,
                     {"text": text, "say": text, "record_as": "introduction"})

    def _start_countdown(self, t: float) -> list[Event]:
        self.phase = "countdown" if self.config.live.countdown_s > 0 else "coach"
        self._countdown_t = t
        return []

    def key(self, key: str, t_s: float) -> list[Event]:
        """On the card ``space`` starts now; while coaching the exercise's keys."""
        if self.phase == "card" and key in ("space", "enter"):
            return self._start_countdown(t_s)
        if self.phase == "coach":
            return self.inner.key(key, t_s)
        return []

    def view_state(self, t_s: float) -> OverlayState:
        """The card, the countdown ring, or the exercise's own view."""
        name = self.exercise.name
        if self.phase == "card":
            shown = 0.0 if self._card_t is None else t_s - self._card_t
            status = "Ready, starting" if self._ready_now else \
                f"Waiting for the position: {self.exercise.config.posture}"
            return OverlayState(
                title=name, progress="get into position",
                card=CardView(self.how, self.demo.frame(shown), self._ready_now, status),
                instruction=self.setup or self.exercise.config.instruction,
                keys="space start now · f fullscreen · q quit")
        if self.phase == "countdown":
            left = self.config.live.countdown_s - (t_s - (self._countdown_t or t_s))
            return OverlayState(title=name, progress="get ready",
                                countdown=max(1, math.ceil(left)),
                                instruction="Get ready",
                                keys="f fullscreen · q quit")
        return self.inner.view_state(t_s)

    @property
    def done(self) -> bool:
        return self.phase == "coach" and self.inner.done

    def finish(self, t_s: float) -> list[Event]:
        return self.inner.finish(t_s)

    def result(self) -> ExerciseResult:
        """The exercise's typed result (from its first counted frame)."""
        return self.inner.result()

    def length_scale(self) -> None:
        """None: an exercise shows no step-down lengths."""
        return None


def preload_demos(config: Config, tasks: tuple[str, ...] | list[str]) -> None:
    """Decode the demo clips of ``tasks`` in a background thread (cached), so each card
    shows its demo from its first frame."""
    paths = [demo_path(c.demo) for t in tasks
             if (c := config.exercises[t].card) is not None]

    def load() -> None:
        for path in paths:
            if path is not None:
                try:
                    load_demo(path)
                except Exception:
                    log.exception("could not load the demo clip %s", path)

    threading.Thread(target=load, daemon=True, name="itbcoach-demos").start()
