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
from dataclasses import replace
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
            # the overlay is up: the skeleton drawn (the clip plays) or the exercise
            # card's amber frame (the card is drawn over the skeleton)
            if img is not None and any(
                    (np.abs(img.astype(int) - color).sum(axis=2) < 40).sum() > 200
                    for color in ((255, 170, 60), (0, 215, 255))):
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


# -- every state of the live screen, fullscreen at 1280x720 ------------------------------

#: The states of the live screen, in the order a session shows them.
STATES = ("setup", "card", "countdown", "reps", "hold", "rest", "result")


def _frames(seq, config, view: str):
    """Processed frames of a synthetic pose sequence (as the live loop feeds a coach)."""
    from itbcoach.kernel import compute_metrics
    from itbcoach.live.coach import Frame
    from itbcoach.pose.framing import assess_framing

    metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks)
    framing = assess_framing(seq, config.framing, view=view)
    return [Frame(float(seq.times_s[i]), i, metrics[i], seq.landmarks[i].astype(float),
                  seq.visibility[i], seq.image_size, bool(framing.ok[i]),
                  framing.instruction(i)) for i in range(len(seq))]


def _picture(name: str, index: int) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(SAMPLES / name))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, img = cap.read()
    cap.release()
    assert ok, name
    return img


def coach_states(config) -> dict[str, tuple]:
    """Each state: ``(coach, t_s, picture name, picture frame)``; the coaches are driven
    into the state by synthetic movements with known timelines (the picture behind is
    the sample render of the same exercise, with its own skeleton)."""
    from itbcoach.live.coach import ExerciseCoach, ProgramCoach
    from itbcoach.live.guide import GuidedExercise
    from itbcoach.live.stepdown import StepdownCoach
    from itbcoach.synth.exercises import ExerciseScript, render_exercise
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown

    out: dict[str, tuple] = {}
    squat = render_exercise("squat", ExerciseScript(reps=3))[0].pose
    frames = _frames(squat, config, "any")
    still = [replace(frames[0], t_s=i / 30, frame_id=i)
             for i in range(150)]  # 5 s standing still before the squats
    moving = [replace(f, t_s=5.0 + f.t_s, frame_id=150 + i) for i, f in enumerate(frames)]
    setup = StepdownCoach(config)
    sd_frames = _frames(render_stepdown(StepdownSpec(legs=(
        LegSpec("left", reps=3), LegSpec("right", reps=3, pelvic_drop_deg=10.0))))[0].pose,
        config, "frontal")
    setup.update(sd_frames[0])
    out["setup"] = (setup, sd_frames[0].t_s, "stepdown_both_legs.mp4", 0)
    card = GuidedExercise(config, "asmr-itb")
    card.warm_up()
    card.update(still[0])
    out["card"] = (card, 1.3, "exercise_squat.mp4", 0)  # standing: not the right posture
    guided = GuidedExercise(config, "squat")
    guided.warm_up()
    for f in still:
        guided.update(f)
        if guided.phase == "countdown":
            break
    out["countdown"] = (guided, f.t_s + 0.1, "exercise_squat.mp4", 0)
    reps = GuidedExercise(config, "squat")
    for f in still + moving:
        reps.update(f)
        if reps.phase == "coach" and reps.inner.session.progress().done >= 2:
            break
    out["reps"] = (reps, f.t_s, "exercise_squat.mp4", 200)
    hold = ExerciseCoach(config, "glute-iso")
    hold_seq = render_exercise("glute-iso", ExerciseScript(reps=2, hold_s=20.0))[0].pose
    for f in _frames(hold_seq, config, hold.view):
        hold.update(f)
        view = hold.view_state(f.t_s)
        if view.hold_fraction is not None and view.hold_fraction > 0.3:
            break
    out["hold"] = (hold, f.t_s, "exercise_glute_iso.mp4", 300)
    program = ProgramCoach(config, ("squat", "glute-iso"), rest_s=30.0, guided=True)
    for f in still + moving:
        program.update(f)
    program.key("n", moving[-1].t_s)
    out["rest"] = (program, moving[-1].t_s + 3.0, "exercise_glute_iso.mp4", 0)
    result = StepdownCoach(config)
    for f in sd_frames:
        result.update(f)
    result.finish(sd_frames[-1].t_s)
    for t in (sd_frames[-1].t_s + 20.0, sd_frames[-1].t_s + 40.0):  # no pain answer
        result.update(replace(sd_frames[-1], t_s=t))
    out["result"] = (result, sd_frames[-1].t_s + 40.0, "stepdown_both_legs.mp4", 400)
    return out


def shoot_states(out_dir: Path, model_path: str) -> None:
    """Show each state in a fullscreen window (this process's DISPLAY) and save a
    screenshot of the whole screen per state (``out_dir/live_<state>.png``)."""
    from collections import deque

    import cv2

    from itbcoach.config import load_config
    from itbcoach.live.loop import LiveStats, _compose, _Thumbnails
    from itbcoach.live.window import Window
    from itbcoach.pose.landmarker import ImageLandmarker

    config = load_config(use_user_file=False)
    states = coach_states(config)
    window = Window("itbcoach — screens", fullscreen=True)
    window.show(np.zeros((480, 640, 3), np.uint8))
    for _ in range(20):
        cv2.waitKey(20)
    size = window.size()
    with ImageLandmarker(model_path, config.pose) as model:
        for name in STATES:
            coach, t_s, clip, index = states[name]
            img = _picture(clip, index)
            h, w = img.shape[:2]
            lm = model.detect(img).take(0)[0]
            px = lm[:, :2] * np.array([w, h], float)
            thumbs = None
            if hasattr(coach, "thumbnail_frames"):
                thumbs = _Thumbnails(mirror=True)
                for _label, fid in coach.thumbnail_frames():
                    thumbs.add(fid, _picture(clip, 200 + 40 * len(thumbs.recent)))
                    thumbs.keep([fid])
            canvas = _compose(img, coach, t_s, px, "", True, False, deque(), LiveStats(),
                              thumbs, size)
            for _ in range(40):  # ~1 s: painted even on a loaded machine
                window.show(canvas)
                cv2.waitKey(25)
            subprocess.run(["import", "-window", "root", str(out_dir / f"live_{name}.png")],
                           check=True, timeout=30)
    window.close()


def _luminance(img: np.ndarray) -> np.ndarray:
    """Relative luminance (WCAG 2) of BGR uint8 pixels, 0..1."""
    c = img.astype(float) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin[..., 2] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 0] * 0.0722


def instruction_contrast(img: np.ndarray) -> float:
    """WCAG contrast ratio of the main instruction's top line: its white glyphs against
    the panel between them (the pixels of the line's box away from any glyph)."""
    import cv2

    h = img.shape[0]
    top0 = int(h * 0.45)
    ink = (img[top0:].min(axis=2) > 235).astype(np.uint8)
    _n, _labels, stats, _c = cv2.connectedComponentsWithStats(ink, connectivity=8)
    glyphs = [s for s in stats[1:] if s[3] >= 0.02 * h and 3 <= s[2] <= 0.1 * h]
    top = min(int(s[1]) for s in glyphs)
    line = [s for s in glyphs if s[1] < top + 0.03 * h]
    x0, x1 = min(s[0] for s in line), max(s[0] + s[2] for s in line)
    y1 = max(s[1] + s[3] for s in line)
    box = img[top0 + top:top0 + y1, x0:x1]
    lum = _luminance(box)
    near_ink = cv2.dilate((box.min(axis=2) > 120).astype(np.uint8), np.ones((5, 5), np.uint8))
    panel = float(np.median(lum[near_ink == 0]))
    return (1.0 + 0.05) / (panel + 0.05)


def check_states(shots: dict[str, np.ndarray]) -> None:
    """The checks of :func:`test_every_state_is_drawn_readable_fullscreen` on the
    screenshots (asserts)."""
    import cv2

    from itbcoach.feedback.overlay import BAD, CARD_ACCENT, GOOD, LEFT_COLOR

    def near(img: np.ndarray, color: tuple[int, int, int], tol: int = 40) -> np.ndarray:
        return np.abs(img.astype(int) - color).sum(axis=2) < tol

    assert all(img is not None and img.shape[:2] == (H, W) for img in shots.values())
    # the main instruction: capitals >= 5% of the height, on a high-contrast panel
    for name in ("setup", "card", "countdown"):
        cap = instruction_cap_height(shots[name])
        assert cap >= 0.05 * H, f"{name}: instruction capitals {cap} px < 5% of {H}"
        contrast = instruction_contrast(shots[name])
        assert contrast >= 7.0, f"{name}: contrast {contrast:.1f} < 7"
    # card: the amber frames of the card and of its demo clip
    assert near(shots["card"], CARD_ACCENT).sum() > 5000
    # countdown: the green ring around its digit, 44% of the height across
    ring = near(shots["countdown"], GOOD, 60)
    assert ring.sum() > 5000
    rows = np.flatnonzero(ring.any(axis=1))
    assert rows[-1] - rows[0] >= 0.4 * H
    # reps: the counter's digits >= 10% of the height, the skeleton >= 5 px thick
    assert counter_height(shots["reps"]) >= 0.1 * H
    bones = near(shots["reps"], LEFT_COLOR).astype(np.uint8)
    assert cv2.distanceTransform(bones, cv2.DIST_L2, 3).max() >= 2.5
    # hold: the hold ring (its grey track) in the top right quarter
    assert near(shots["hold"][: H // 2, W // 2:], (80, 80, 80), 12).sum() > 1500
    # rest: the large "Rest 27 s" banner mid-screen, no card
    mid = shots["rest"][int(H * 0.35):int(H * 0.65)]
    white = (mid.min(axis=2) > 235).astype(np.uint8)
    _n, _l, stats, _c = cv2.connectedComponentsWithStats(white, connectivity=8)
    assert max(s[3] for s in stats[1:]) >= 0.08 * H
    assert near(shots["rest"], CARD_ACCENT).sum() < 500
    # result: the faults in red, the worst frames framed in red
    assert near(shots["result"], BAD, 60).sum() > 400


@needs_xvfb
@pytest.mark.slow
def test_every_state_is_drawn_readable_fullscreen(model_path: Path, tmp_path: Path) -> None:
    """Setup, card, countdown, reps, hold, rest and result, each shown in the real
    fullscreen window on a 1280x720 virtual display and checked from the screenshot's
    pixels: its distinctive element is drawn, and where there is a main instruction its
    capitals are at least 5% of the screen height, on a panel with a contrast of at
    least 7:1 (readable in a dim room as in a bright one)."""
    import cv2

    keep = Path(os.environ.get("ITBCOACH_SCREENSHOTS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", f"{W}x{H}x24",
                             "-nolisten", "tcp"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        display = ":" + xvfb.stdout.readline().strip()  # type: ignore[union-attr]
        proc = subprocess.run([sys.executable, __file__, str(keep), str(model_path)],
                              env={**os.environ, "DISPLAY": display}, capture_output=True,
                              text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
    finally:
        xvfb.terminate()
        xvfb.wait()
    shots = {name: cv2.imread(str(keep / f"live_{name}.png")) for name in STATES}
    check_states(shots)


if __name__ == "__main__":  # the screenshot driver, run by the test with DISPLAY set
    shoot_states(Path(sys.argv[1]), sys.argv[2])
