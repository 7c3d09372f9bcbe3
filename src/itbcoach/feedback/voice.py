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
import tempfile
import threading
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from itbcoach.config.schema import VoiceConfig
from itbcoach.errors import ExitCode, UserError

log = logging.getLogger(__name__)


def find_engine(config: VoiceConfig | None = None) -> list[str] | None:
    """The command prefix of an offline speech engine with ``config``'s voice, rate and
    volume (espeak-ng ``-v -s -a``; macOS ``say -r``), or ``None``."""
    for exe in ("espeak-ng", "espeak"):
        path = shutil.which(exe)
        if path:
            if config is None:
                return [path, "-s", "150"]
            return [path, "-v", config.voice, "-s", str(config.rate_wpm),
                    "-a", str(config.volume)]
    if sys.platform == "darwin" and shutil.which("say"):
        return ["say"] if config is None else ["say", "-r", str(config.rate_wpm)]
    return None


def check_voice(command: Sequence[str] | None, voice: str) -> None:
    """Raise a :class:`UserError` when an espeak engine does not know ``voice``."""
    if not command or "espeak" not in Path(command[0]).name:
        return
    try:
        rc = subprocess.run([*command, "-q", "x"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=15, check=False).returncode
    except (OSError, subprocess.TimeoutExpired):
        return  # the engine itself fails: the voice turns itself off with a warning
    if rc != 0:
        raise UserError(f"voice.voice = {voice!r} is not an espeak-ng voice; choose one "
                        "of `espeak-ng --voices` (e.g. en-us)", ExitCode.USAGE)


class SpeechLog:
    """Everything the coach says, one line per sentence: ``<t_s>\t<sentence>``.

    ``t_s`` is seconds since the session's first analysed frame (the source's own clock,
    so a video file played frame by frame gives the same log every run). Lines are
    flushed as they are written (a Ctrl-C keeps them). With ``wav``, :meth:`close` also
    synthesises the sentences into one mono wav file, each starting at its time (or when
    the one before it ends, as a speaker would).

    Args:
        path: the text log, or ``None`` (wav only).
        wav: the wav file, or ``None``.
        command: espeak-ng command prefix for the wav (``-w FILE`` and the text are added).
    """

    def __init__(self, path: Path | None, wav: Path | None = None,
                 command: Sequence[str] | None = None) -> None:
        self.path, self.wav = path, wav
        self.command = list(command) if command else None
        if wav is not None and (self.command is None or "espeak" not in
                                Path(self.command[0]).name):
            raise UserError("--speech-wav needs espeak-ng (apt-get install espeak-ng)",
                            ExitCode.USAGE)
        self.lines: list[tuple[float, str]] = []
        self._fh: TextIO | None = None
        if path is not None:
            try:
                self._fh = open(path, "w", encoding="utf-8")
            except OSError as exc:
                raise UserError(f"cannot write the speech log {path}: {exc.strerror}",
                                ExitCode.USAGE) from None

    def add(self, t_s: float, text: str) -> None:
        """Log ``text`` said at ``t_s`` seconds."""
        self.lines.append((t_s, text))
        if self._fh is not None:
            self._fh.write(f"{t_s:.2f}\t{text}\n")
            self._fh.flush()

    def close(self) -> None:
        """Close the log; write the wav when asked."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self.wav is not None and self.command is not None:
            write_speech_wav(self.wav, self.lines, self.command)


def write_speech_wav(path: Path, lines: list[tuple[float, str]],
                     command: Sequence[str]) -> None:
    """Synthesise ``(t_s, sentence)`` lines into one mono 16-bit wav at ``path``."""
    rate, chunks, end = 22050, [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (t_s, text) in enumerate(lines):
            part = Path(tmp) / f"{i}.wav"
            subprocess.run([*command, "-w", str(part), text], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30, check=False)
            if not part.exists():
                continue
            with wave.open(str(part)) as w:
                rate = w.getframerate()
                samples = np.frombuffer(w.readframes(w.getnframes()), np.int16)
            start = max(round(t_s * rate), end)
            chunks.append((start, samples))
            end = start + len(samples)
    audio = np.zeros(end, np.int16)
    for start, samples in chunks:
        audio[start:start + len(samples)] = samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(audio.tobytes())


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
