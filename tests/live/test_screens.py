"""Readable from 2 m: ``itbcoach live --fullscreen`` under a 1280x720 virtual display,
screenshots checked from the pixels (the main instruction's capital letters at least 5%
of the screen height) and kept for people to look at (``ITBCOACH_SCREENSHOTS=DIR``;
the committed ones are in docs/screens/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_videos"
W, H = 1280, 720

needs_xvfb = pytest.mark.skipif(
    any(shutil.which(p) is None for p in ("Xvfb", "import", "xdotool")),
    reason="Xvfb, xdotool and ImageMagick's import are needed "
           "(apt-get install xvfb xdotool imagemagick)")


def instruction_cap_height(img: np.ndarray) -> int:
    """Height in pixels of the first letter (a capital) of the main instruction: white
    text in the lower part of the screen, the top line of the block, its leftmost glyph
    taller than 2% of the screen (the small key-hint line is not)."""
    import cv2

    h = img.shape[0]
    top0 = int(h * 0.45)
    ink = (img[top0:].min(axis=2) > 235).astype(np.uint8)
    _n, _labels, stats, _c = cv2.connectedComponentsWithStats(ink, connectivity=8)
    glyphs = [s for s in stats[1:] if s[3] >= 0.02 * h and 3 <= s[2] <= 0.1 * h]
    assert glyphs, "no large white text in the lower part of the screen"
    top = min(int(s[1]) for s in glyphs)
    line = [s for s in glyphs if s[1] < top + 0.03 * h]
    return int(min(line, key=lambda s: s[0])[3])


@needs_xvfb
def test_fullscreen_exercise_instruction_is_readable_from_two_metres(
        model_path: Path, tmp_path: Path) -> None:
    """The side-lying release started while the person stands (the issue's case): its
    instruction stays up (nothing is counted), large, on a fullscreen 1280x720 window."""
    import cv2

    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", f"{W}x{H}x24",
                             "-nolisten", "tcp"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    shot = tmp_path / "screen.png"
    try:
        display = ":" + xvfb.stdout.readline().strip()  # type: ignore[union-attr]
        env = {**os.environ, "DISPLAY": display, "ITBCOACH_HISTORY": str(tmp_path / "h.db")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "itbcoach", "live", "--task", "asmr-itb", "--source",
             str(SAMPLES / "exercise_heel_taps.mp4"), "--realtime", "--fullscreen", "--mute",
             "--no-report", "--model", str(model_path)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        img = None
        while time.time() < deadline and proc.poll() is None:
            subprocess.run(["import", "-display", display, "-window", "root", str(shot)],
                           check=True, timeout=20)
            img = cv2.imread(str(shot))
            # the skeleton is drawn: the clip is playing and the overlay is up
            if img is not None and (np.abs(img.astype(int) - (255, 170, 60)).sum(axis=2)
                                    < 40).sum() > 200:
                time.sleep(2.0)  # into the clip
                subprocess.run(["import", "-display", display, "-window", "root",
                                str(shot)], check=True, timeout=20)
                img = cv2.imread(str(shot))
                break
            time.sleep(0.5)
        proc.terminate()
        proc.communicate(timeout=60)
    finally:
        xvfb.terminate()
        xvfb.wait()
    assert img is not None and img.shape[:2] == (H, W)
    keep = Path(os.environ.get("ITBCOACH_SCREENSHOTS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(keep / "live_exercise_fullscreen.png"), img)
    # fullscreen: the picture fills the screen's height (no window border or toolbar)
    rows = np.flatnonzero(img.max(axis=(1, 2)) > 20)
    assert rows[0] <= 2 and rows[-1] >= H - 3
    cap = instruction_cap_height(img)
    assert cap >= 0.05 * H, f"instruction capitals {cap} px < 5% of {H}"


def counter_height(img: np.ndarray) -> int:
    """Height in pixels of the tallest white glyph in the top right corner, where the
    rep counter is (right of the letterboxed picture's centre part)."""
    import cv2

    h, w = img.shape[:2]
    ink = (img[: h // 4, int(w * 0.82):].min(axis=2) > 235).astype(np.uint8)
    _n, _labels, stats, _c = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return int(max((s[3] for s in stats[1:]), default=0))


@needs_xvfb
def test_fullscreen_stepdown_reps_and_result_screens(model_path: Path, tmp_path: Path) -> None:
    """The guided step-down fullscreen: during the reps the counter's digits are at least
    10% of the screen height; the result screen shows the fault thumbnails (red frames).
    Both screenshots are kept (docs/screens/live_fullscreen_stepdown_*.png)."""
    import cv2

    from itbcoach.feedback.overlay import BAD, LEFT_COLOR

    def near(img: np.ndarray | None, color: tuple[int, int, int], tol: int = 40) -> int:
        if img is None:
            return 0
        return int((np.abs(img.astype(int) - color).sum(axis=2) < tol).sum())

    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", f"{W}x{H}x24",
                             "-nolisten", "tcp"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    reps, result = tmp_path / "reps.png", tmp_path / "result.png"
    try:
        display = ":" + xvfb.stdout.readline().strip()  # type: ignore[union-attr]
        env = {**os.environ, "DISPLAY": display, "ITBCOACH_HISTORY": str(tmp_path / "h.db")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "itbcoach", "live", "--task", "stepdown", "--source",
             str(SAMPLES / "stepdown_both_legs.mp4"), "--realtime", "--fullscreen", "--mute",
             "--no-report", "--model", str(model_path)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def shoot(path: Path) -> np.ndarray | None:
            subprocess.run(["import", "-display", display, "-window", "root", str(path)],
                           check=True, timeout=20)
            return cv2.imread(str(path))

        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if near(shoot(reps), LEFT_COLOR) > 200:  # the clip plays: skeleton drawn
                break
            time.sleep(0.5)
        time.sleep(12.0)  # into the first leg's reps (the clip: reps from ~6 s)
        img_reps = shoot(reps)
        img_result = None
        while proc.poll() is None:  # the result screen (live.result_hold_s) until exit
            img = shoot(result)
            if near(img, BAD, 60) > 400 and counter_height(img) == 0:
                img_result = img
                break
            time.sleep(1.0)
        proc.communicate(timeout=240)
        assert proc.returncode == 0
    finally:
        xvfb.terminate()
        xvfb.wait()
    keep = Path(os.environ.get("ITBCOACH_SCREENSHOTS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    assert img_reps is not None and img_result is not None
    cv2.imwrite(str(keep / "live_fullscreen_stepdown_reps.png"), img_reps)
    cv2.imwrite(str(keep / "live_fullscreen_stepdown_result.png"), img_result)
    assert counter_height(img_reps) >= 0.1 * H  # "2/5" readable across the room
