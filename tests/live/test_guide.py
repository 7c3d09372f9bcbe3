"""The guided start of an exercise (card -> posture check -> countdown -> coach),
replayed on synthetic movements with their own timeline."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.exercises.events import EventKind
from itbcoach.feedback.overlay import CARD_ACCENT, GOOD, draw_overlay
from itbcoach.kernel import compute_metrics
from itbcoach.live.coach import Frame, ProgramCoach, result_json, speech, utterance
from itbcoach.live.guide import DEMO_FPS, DEMO_S, DEMO_WIDTH, GuidedExercise, load_demo
from itbcoach.pose.framing import assess_framing
from itbcoach.synth.exercises import ExerciseScript, render_exercise

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"


def squat_frames(config, still_s: float = 6.0) -> tuple[list[Frame], object]:
    """Nobody for 2 s, the first pose held still for ``still_s`` s, then 3 squats."""
    synth, truth = render_exercise("squat", ExerciseScript(reps=3))
    seq = synth.pose
    metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks)
    framing = assess_framing(seq, config.framing, view="any")
    dt = float(seq.times_s[1] - seq.times_s[0])
    nan = np.full_like(metrics[0], np.nan)
    out = [Frame(i * dt, i, nan, np.full((33, 3), np.nan), np.zeros(33), seq.image_size,
                 False, "Step into the picture") for i in range(round(2.0 / dt))]
    n_still = round(still_s / dt)
    rows = [0] * n_still + list(range(len(seq)))
    for i in rows:
        out.append(Frame(len(out) * dt, len(out), metrics[i], seq.landmarks[i].astype(float),
                         seq.visibility[i], seq.image_size, bool(framing.ok[i]),
                         framing.instruction(i)))
    return out, truth


def spoken(events) -> list[tuple[float, str]]:
    """``(t_s, words)`` of the events the voice speaks."""
    return [(e.t_s, text) for e in events if (text := speech(e))]


def test_card_waits_for_the_posture_then_counts_down_and_coaches() -> None:
    config = load_config(use_user_file=False)
    coach = GuidedExercise(config, "squat", window=True)
    frames, truth = squat_frames(config)
    events, phases = [], []
    for f in frames:
        events += coach.update(f)
        phases.append(coach.phase)
    said = spoken(events)
    card = config.exercises["squat"].card
    assert [text for _t, text in said][:5] == [
        f"Squat. Feet about hip-width, squat down and stand back up. {card.setup}.",
        "3", "2", "1", "Go"]
    # the person is in view and standing from 2 s on: the card (at least 4 s) ends at
    # 4 s, when the posture has been held 2 s (>= 1 s), then one number a second
    assert said[0][0] == 0.0
    assert [t for t, _ in said[1:5]] == pytest.approx([4.0, 5.0, 6.0, 7.0], abs=0.05)
    assert phases.count("card") == sum(f.t_s < said[1][0] for f in frames)
    counts = [text for _t, text in said[5:]]
    n = truth.reps["total"]
    assert counts[:n] == [str(k) for k in range(1, n + 1)]
    assert coach.result().reps == truth.reps
    # what is drawn in each phase
    assert coach.view_state(frames[-1].t_s).card is None
    # the history's summary, as live writes it (the Coach protocol, typed until here)
    assert result_json(coach, config)["reps"] == truth.reps


def test_wrong_posture_keeps_the_card_and_no_window_moves_on() -> None:
    """The side-lying release while the person stands (the issue's case): with a window
    the card stays (amber status) as long as the person stands; without a window it
    lasts ``live.card_no_window_s``."""
    config = load_config(use_user_file=False)
    frames, _truth = squat_frames(config, still_s=20.0)
    standing = frames[: 22 * 30]
    watched = GuidedExercise(config, "asmr-itb", window=True)
    for f in standing:
        watched.update(f)
    assert watched.phase == "card"
    view = watched.view_state(standing[-1].t_s)
    assert view.card is not None and not view.card.ready
    assert view.instruction == config.exercises["asmr-itb"].card.setup
    headless = GuidedExercise(config, "asmr-itb", window=False)
    events = [e for f in standing for e in headless.update(f)]
    said = spoken(events)
    assert [t for t, text in said if text == "3"] == pytest.approx(
        [config.live.card_no_window_s], abs=0.05)
    # space on the card starts the countdown at once
    keyed = GuidedExercise(config, "asmr-itb", window=True)
    keyed.update(standing[0])
    keyed.key("space", standing[0].t_s)
    assert keyed.phase == "countdown"


def test_programme_rest_shows_the_camera_then_the_next_card() -> None:
    config = load_config(use_user_file=False)
    coach = ProgramCoach(config, ("squat", "glute-iso"), rest_s=10.0, guided=True)
    frames, _truth = squat_frames(config)
    for f in frames:
        coach.update(f)
    t = frames[-1].t_s
    events = coach.key("n", t)
    assert "Next: Glute isometric (banded wall sit)" in (utterance(events) or "")
    rest = coach.view_state(t + 1.0)
    assert rest.banner == "Rest 9 s" and rest.card is None and rest.countdown is None
    assert coach.key("n", t + 2.0) == []  # n during the rest ends the rest
    after = coach.update(replace(frames[0], t_s=t + 2.1))
    assert [e.kind for e in after] == [EventKind.REST_OVER]
    intro = coach.update(replace(frames[0], t_s=t + 2.2))
    assert utterance(intro).startswith("Glute isometric (banded wall sit). ")
    assert coach.view_state(t + 2.2).card is not None


def test_demo_loop_is_the_most_active_stretch_of_the_render() -> None:
    path = SAMPLES / "exercise_asmr_itb.mp4"
    if not path.is_file():
        pytest.skip("sample_videos/exercise_asmr_itb.mp4 is not in this checkout")
    frames = load_demo(path)
    assert len(frames) == round(DEMO_S * DEMO_FPS)
    assert frames[0].shape == (240, DEMO_WIDTH, 3)
    # the render starts still: the loop is taken later, where the leg moves
    still = np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean()
    assert still > 1.0


def test_card_is_drawn_large_on_a_dark_panel() -> None:
    """The card at 1280x720: amber frame, the demo inside it, the how-to lines in white
    on a panel at most 30% as bright as the camera picture behind it."""
    config = load_config(use_user_file=False)
    coach = GuidedExercise(config, "asmr-itb")
    coach.warm_up()
    frames, _ = squat_frames(config)
    coach.update(frames[100])
    canvas = np.full((720, 1280, 3), 200, np.uint8)  # a bright room behind the person
    img = draw_overlay(canvas, coach.view_state(frames[100].t_s))
    amber = (np.abs(img.astype(int) - CARD_ACCENT).sum(axis=2) < 30)
    assert amber.sum() > 4000  # the card's frame and the demo's
    rows = np.flatnonzero(amber.sum(axis=1) > 600)  # the card's top and bottom edges
    top, bottom = rows[0], rows[-1]
    inside = img[top + 10:bottom - 10, 40:600]
    dark = inside.max(axis=2) < 80
    assert dark.mean() > 0.6  # the panel behind the text is dark
    white = inside.min(axis=2) > 235
    assert white.sum() > 3000  # the how-to lines
    assert not (np.abs(img.astype(int) - GOOD).sum(axis=2) < 30).any()  # not ready yet
