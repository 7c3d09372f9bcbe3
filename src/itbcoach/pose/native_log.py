"""Keep MediaPipe's native log lines off the user's terminal, and real errors on it.

MediaPipe 1.2's C++ code (LiteRT/TFLite's logger, absl/glog, XNNPACK) writes lines such as
``INFO: [accelerator_registry.cc:43] DestroyAccelerator: ...`` or ``W0000 00:00:17...
landmark_projection_calculator.cc:81] ...`` straight to file descriptor 2, from whichever
thread it likes and at any moment (task creation, the first pose, closing). No
environment setting of 1.2.x turns them off (``GLOG_minloglevel``, ``TF_CPP_MIN_LOG_LEVEL``
measured: no effect), and a redirect scoped around a few calls misses the lines its
worker threads print later.

So the command line runs behind a filter: :func:`filtered_stderr` points fd 2 at a pipe
read by a tiny child process (this file run as a script, stdlib only), which drops native
log lines with their continuation lines and passes every other byte (Python tracebacks of
worker processes, a native FATAL line and the crash's stack trace) to the real stderr.
Native ERROR lines are dropped too: MediaPipe's Python API raises each such error as an
exception, which the command reports as one line. ``-vv`` shows everything. Python's own
``sys.stderr`` is re-pointed at the real stderr, so the project's lines bypass the filter
and progress bars keep their carriage returns. A child process, not a thread, so that a
native abort still gets its last lines out: the child reads until every writer is gone.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator

log = logging.getLogger(__name__)

#: Lines of MediaPipe's native loggers: LiteRT/TFLite's minimal logger (``INFO: ...``,
#: ``ERROR: ...``, also absl's "Logging before InitGoogle()" notice), absl/glog's prefix
#: lines (``W0000 00:00:1796286225.201902  3649 file.cc:81] ...``: before absl is
#: initialised the seconds field is the raw epoch) and OpenCV's (``[ WARN:0@1.2] ...``).
NATIVE_LINE = re.compile(
    rb"^(?:(?:INFO|WARNING|ERROR|VERBOSE|DEBUG): "
    rb"|[IWE]\d{4} [\d:.]+\s+\d+ [^\s:]+:\d+\] "
    rb"|\[ ?(?:INFO|WARN|ERROR|DEBUG|VERBOSE)[:\]])")

#: A fatal native line: it and everything after it (the crash's stack trace) is shown.
FATAL_LINE = re.compile(rb"^(?:FATAL: |F\d{4} [\d:.]+\s+\d+ [^\s:]+:\d+\] |\*\*\* )")

#: Lines that open a multi-line native message (an ERROR line, or absl's status stack
#: trace printed before the ERROR line it belongs to).
_BLOCK_START = re.compile(rb"^(?:ERROR: |E\d{4} |Stack trace:|\s+@\s+0x[0-9a-f]+\s)")

#: Lines that are never part of a native message (end a block at once).
_NOT_NATIVE = re.compile(rb"^(?:Traceback \(most recent call last\)|itbcoach)")

#: A partial line that may still become a native one (held back until complete).
_MAYBE_NATIVE = re.compile(rb"^(?:[A-Z]{0,7}|[IWEF]\d{0,4}[ 0-9:.]*|\[ ?[A-Z]*)$")


class NativeLogFilter:
    """Line filter: drops native log lines (and the lines continuing them), keeps the rest.

    A dropped ERROR line (or absl's stack trace before it) starts a block that runs to
    the next blank line: MediaPipe's ERROR messages go on over several lines with a
    "Source Location Trace". A FATAL
    line and everything after it pass, so a native crash is always visible. ``\\r``
    ends a line too, so a progress bar drawn by a child process passes as it is drawn.
    """

    def __init__(self) -> None:
        self._buf = b""
        self._in_block = False
        self._fatal = False

    def feed(self, data: bytes) -> bytes:
        """The bytes to pass on for ``data`` (a partial last line is kept back)."""
        self._buf += data
        *lines, self._buf = re.split(rb"(?<=[\r\n])", self._buf)
        return b"".join(self._line(line) for line in lines)

    def pending(self) -> bytes:
        """A partial line that cannot become a native line (passed on after a pause)."""
        if self._buf and (self._fatal or not _MAYBE_NATIVE.match(self._buf[:32])) \
                and not NATIVE_LINE.match(self._buf):
            out, self._buf = self._line(self._buf), b""
            return out
        return b""

    def flush(self) -> bytes:
        """Whatever is left at the end of the stream."""
        out, self._buf = self._line(self._buf) if self._buf else b"", b""
        return out

    def _line(self, line: bytes) -> bytes:
        if self._fatal or FATAL_LINE.match(line):
            self._fatal = True
            return line
        if NATIVE_LINE.match(line) or _BLOCK_START.match(line):
            self._in_block = self._in_block or bool(_BLOCK_START.match(line))
            return b""
        if self._in_block and not _NOT_NATIVE.match(line):
            if not line.strip(b" \t\r\n"):
                self._in_block = False
            return b""
        self._in_block = False
        return line


def _child_main() -> None:  # pragma: no cover - runs as the filter process
    """Copy stdin to stdout through :class:`NativeLogFilter` until every writer is gone."""
    import select
    import signal

    for name in ("SIGINT", "SIGTERM"):  # the parent decides; we end at EOF
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    flt, out = NativeLogFilter(), sys.stdout.fileno()

    def emit(data: bytes) -> None:
        if data:
            with contextlib.suppress(OSError):
                os.write(out, data)

    while True:
        if flt._buf and not select.select([0], [], [], 0.05)[0]:
            emit(flt.pending())
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            emit(flt.flush())
            return
        emit(flt.feed(chunk))


#: Set while :func:`filtered_stderr` is active (the landmarker then leaves fd 2 alone).
_active = False


def active() -> bool:
    """True while the process's fd 2 runs through the native-log filter."""
    return _active


@contextlib.contextmanager
def filtered_stderr(enabled: bool = True) -> Iterator[None]:
    """Run the block with native log noise filtered out of fd 2 (see the module doc).

    Args:
        enabled: False leaves stderr untouched (``-vv`` shows the native lines).

    Falls back to doing nothing where fd 2 cannot be redirected (no real fd 2, no
    ``select`` on pipes) or the child cannot start. Nesting is a no-op.
    """
    global _active
    if not enabled or _active or os.name != "posix":
        yield
        return
    try:
        sys.stderr.flush()
        real = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        read_end, write_end = os.pipe()
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__],
            stdin=read_end, stdout=real, stderr=subprocess.DEVNULL, close_fds=True,
            start_new_session=False)
    except OSError as exc:
        os.close(real)
        log.debug("native log filter not started: %s", exc)
        yield
        return
    os.close(read_end)
    old_stderr = sys.stderr
    os.dup2(write_end, 2)
    os.close(write_end)
    replaced = _points_at_fd2(old_stderr)
    if replaced:
        sys.stderr = io.TextIOWrapper(io.FileIO(real, "w", closefd=False),
                                      encoding=getattr(old_stderr, "encoding", None) or "utf-8",
                                      errors="backslashreplace", line_buffering=True,
                                      write_through=True)
    _active = True
    try:
        yield
    finally:
        _active = False
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        if replaced:
            sys.stderr = old_stderr
        os.dup2(real, 2)  # our copy of the pipe's write end is gone: the child sees EOF
        os.close(real)
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a worker process still holds the pipe
            log.debug("native log filter still draining a child's stderr")


def _points_at_fd2(stream: object) -> bool:
    try:
        return stream.fileno() == 2  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


if __name__ == "__main__":  # pragma: no cover
    _child_main()
