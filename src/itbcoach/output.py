"""The one writer of every file the program produces.

Every output (result JSON, report folder, metrics CSV, annotated or recorded mp4, trend
plot, landmark ``.npz``, live statistics, batch markers) goes through
:class:`PendingOutput`: the content is written to a temporary file and then

* a **regular file** or a missing path is replaced atomically (``os.replace`` of a
  temporary file in the same folder; the old content stays whole until the new one is
  complete, and a reader never sees half a file);
* a **symbolic link** is followed: the file it points to is replaced, the link stays;
* an existing **device or FIFO** (``/dev/null``, ``/dev/stdout``, a named pipe) is
  written in place, never replaced by a file;
* a **socket** or a **folder** is refused with one line;
* ``-`` means standard output for the text outputs that allow it (JSON, CSV).

Temporary files are named ``.<name>.<pid>.<random>.part<suffix>`` and removed on every
failure path; one left behind by a process that was killed (``kill -9``) is removed by
the next write to the same target. Any problem is an :class:`OutputError`: one line
(``cannot write <path>: <reason>; <what to do>``), exit code 3.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from itbcoach.errors import ExitCode, UserError

#: The path that means standard output.
STDOUT = "-"


class OutputError(UserError):
    """An output file could not be written (the work itself was done)."""

    exit_code = ExitCode.INPUT


_HINTS = {
    errno.ENOSPC: "free some disk space or write elsewhere",
    errno.EDQUOT: "free some disk space or write elsewhere",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
    errno.EROFS: "the disk is read-only; write elsewhere",
    errno.EISDIR: "give a file name, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a part of the path is a file, not a folder",
    errno.ENAMETOOLONG: "use a shorter name",
    errno.EPIPE: "the reader of the pipe went away",
}


def output_error(path: str | os.PathLike[str], exc: BaseException) -> OutputError:
    """The one-line :class:`OutputError` for ``exc`` raised while writing ``path``."""
    if isinstance(exc, OutputError):
        return exc
    code = getattr(exc, "errno", None)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    hint = _HINTS.get(code or -1, "check the path, free space and permissions")
    return OutputError(f"cannot write {path}: {reason}; {hint}")


def is_stdout(path: str | os.PathLike[str] | None) -> bool:
    """``path`` is ``-`` (standard output)."""
    return path is not None and os.fspath(path) == STDOUT


def check_target(path: str | os.PathLike[str] | None, flag: str,
                 stdout_ok: bool = False) -> None:
    """Refuse ``-`` for an output that cannot go to standard output (usage error, exit 2).

    Called by the commands before any work, so a mistyped flag costs nothing.
    """
    if is_stdout(path) and not stdout_ok:
        raise UserError(f"{flag} cannot write to standard output ('-'); give a file name",
                        ExitCode.USAGE)


def _kind(path: Path) -> str:
    """``missing`` | ``regular`` | ``folder`` | ``socket`` | ``device`` (char/block
    device or FIFO: written in place)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:
        return "missing"  # reported by the write itself (ENOTDIR)
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours
        return True
    return True


def sweep_stale(folder: Path, name: str | None = None) -> int:
    """Remove temporary files for ``name`` (None: any name) in ``folder`` left by dead
    processes.

    Returns:
        How many were removed.
    """
    stem = re.escape(name) if name is not None else ".+"
    pattern = re.compile(rf"^\.{stem}\.(\d+)\.[0-9a-f]+\.part")
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        m = pattern.match(entry.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed


class PendingOutput:
    """One output being written: write to :attr:`tmp`, then :meth:`commit` or
    :meth:`discard` (a ``with`` block does either).

    Args:
        path: the target (``-`` is refused here: use :func:`write_output`).

    Raises:
        OutputError: the target is a folder or a socket, or its folder cannot be made.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if is_stdout(path):
            raise OutputError(f"cannot write {path}: this output cannot go to standard "
                              "output; give a file name")
        self.target = Path(os.path.realpath(self.path))  # symlinks followed
        self.kind = _kind(self.target)
        if self.kind == "folder":
            raise OutputError(f"cannot write {path}: it is a folder; give a file name")
        if self.kind == "socket":
            raise OutputError(f"cannot write {path}: it is a socket; give a file name")
        try:
            if self.kind == "device":  # built aside, then copied into the device
                folder = Path(tempfile.gettempdir())
            else:
                folder = self.target.parent
                folder.mkdir(parents=True, exist_ok=True)
                sweep_stale(folder, self.target.name)
            self.tmp = folder / (f".{self.target.name}.{os.getpid()}."
                                 f"{secrets.token_hex(4)}.part{self.target.suffix}")
            # claim the name now (exclusive create), so the folder is known writable
            os.close(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise output_error(path, exc) from None
        self.done = False

    def commit(self) -> Path:
        """Put the written temporary file in place; returns the target path."""
        if self.done:
            return self.path
        self.done = True
        try:
            if self.kind == "device":
                with open(self.tmp, "rb") as src, open(self.target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            else:
                fd = os.open(self.tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.chmod(self.tmp, self._mode())
                os.replace(self.tmp, self.target)
        except OSError as exc:
            raise output_error(self.path, exc) from None
        finally:
            self._remove_tmp()
        return self.path

    def discard(self) -> None:
        """Drop the temporary file; the target is untouched."""
        self.done = True
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        try:
            self.tmp.unlink(missing_ok=True)
        except OSError:
            pass

    def _mode(self) -> int:
        """The existing file's permissions, else what a plain ``open`` would give."""
        if self.kind == "regular":
            try:
                return stat.S_IMODE(self.target.stat().st_mode)
            except OSError:
                pass
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask

    def __enter__(self) -> Path:
        return self.tmp

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.discard()
            if isinstance(exc, OSError):
                raise output_error(self.path, exc) from None
            return
        self.commit()


@contextmanager
def output_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """``with output_path(p) as tmp:`` write ``tmp`` (any library that takes a path);
    it is committed on success and removed on any error (an ``OSError`` becomes an
    :class:`OutputError`)."""
    with PendingOutput(path) as tmp:
        yield tmp


def write_output(path: str | os.PathLike[str], data: str | bytes,
                 stdout_ok: bool = False) -> Path:
    """Write ``data`` to ``path`` (``-`` = standard output when ``stdout_ok``).

    Raises:
        OutputError: one line naming the path, the reason and what to do.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if is_stdout(path) and stdout_ok:
        try:
            sys.stdout.flush()
            sys.stdout.buffer.write(raw)
            sys.stdout.flush()
        except OSError as exc:
            raise output_error("standard output", exc) from None
        return Path(STDOUT)
    with output_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(raw)
    return Path(path)


__all__ = ["STDOUT", "OutputError", "PendingOutput", "check_target", "is_stdout",
           "output_error", "output_path", "sweep_stale", "write_output"]
