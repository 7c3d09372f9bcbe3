"""Helpers of the fault matrix: odd output targets, full disks, one-line checks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path


@contextlib.contextmanager
def small_filesystem(folder: Path, size_kb: int = 64, read_only: bool = False):
    """A tiny tmpfs at ``folder`` (root only); yields False when it cannot be mounted."""
    folder.mkdir(parents=True, exist_ok=True)
    opts = f"size={size_kb}k" + (",ro" if read_only else "")
    if os.geteuid() != 0:
        yield False
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(folder)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``itbcoach ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "itbcoach", *args], capture_output=True,
                          text=True, timeout=timeout, check=False, cwd=cwd,
                          env={**os.environ, **(env or {})})


def one_line(err: str) -> str:
    """The single ``itbcoach:`` line of ``err`` (MediaPipe's own ``INFO``/``W0000`` log
    lines aside); fails when there are several or a traceback."""
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines()
             if ln.strip() and not ln.startswith(("INFO:", "W0000", "I0000", "WARNING: All log"))
             and not ln.startswith("wrote ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("itbcoach: "), err
    return lines[0]


def temp_leftovers(*folders: Path) -> list[Path]:
    """Temporary output files (``.<name>.<pid>.<hex>.part*``) left in ``folders``."""
    out: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            out += [p for p in folder.rglob(".*") if ".part" in p.name]
    return out
