"""Offline voice cues that never block the video loop.

Engine choice: the ``espeak-ng`` program (Debian/Ubuntu ``espeak-ng``, Homebrew
``espeak-ng``), run as a subprocess. It is maintained, fully offline, starts in tens of
milliseconds and needs no Python binding with native code of its own; on macOS the
built-in ``say`` is used when espeak-ng is absent. (pyttsx3 wraps the same engines
behind a blocking event loop, which is what a video loop must avoid.) With no engine
the coach stays silent and says so once in the log.

:class:`Voice` speaks from a worker thread. ``say()`` only puts the text in a one-slot
mailbox: when cues come faster than speech, the newest wins and stale ones are dropped,
so the voice never lags behind the picture.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence

log = logging.getLogger(__name__)


def find_engine() -> list[str] | None:
    """The command prefix of an offline speech engine, or ``None``."""
    for exe in ("espeak-ng", "espeak"):
        path = shutil.which(exe)
        if path:
            return [path, "-s", "165"]
    if sys.platform == "darwin" and shutil.which("say"):
        return ["say"]
    return None


class Voice:
    """Speak short cues on a background thread; ``say`` never blocks.

    Args:
        command: engine command prefix (the text is appended as the last argument);
            default: :func:`find_engine`.
        enabled: ``False`` for ``--mute``: ``say`` does nothing.
    """

    def __init__(self, command: Sequence[str] | None = None, enabled: bool = True) -> None:
        self.command = list(command) if command is not None else find_engine()
        self.enabled = enabled and self.command is not None
        if enabled and self.command is None:
            log.warning("no offline speech engine found (install espeak-ng); voice cues off")
        self._pending: str | None = None
        self._cv = threading.Condition()
        self._closed = False
        self.spoken: list[str] = []  # what was actually spoken, in order
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
            self._thread.start()

    def say(self, text: str) -> None:
        """Queue ``text``, replacing anything not yet spoken. Returns at once."""
        if not self.enabled or not text:
            return
        with self._cv:
            self._pending = text
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._pending is None and not self._closed:
                    self._cv.wait()
                if self._closed and self._pending is None:
                    return
                text, self._pending = self._pending, None
            try:
                subprocess.run([*self.command, text], stdout=subprocess.DEVNULL,  # type: ignore[misc]
                               stderr=subprocess.DEVNULL, timeout=15, check=False)
                self.spoken.append(text)
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.warning("voice engine failed (%s); voice cues off", exc)
                self.enabled = False
                return

    def close(self, wait: bool = True) -> None:
        """Stop the worker after the cue being spoken (pending ones are dropped)."""
        with self._cv:
            self._closed = True
            self._pending = None
            self._cv.notify()
        if wait and self._thread is not None:
            self._thread.join(timeout=20)

    def __enter__(self) -> Voice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
