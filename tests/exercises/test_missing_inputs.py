"""Inputs that lack what an exercise counts from: a 2D fallback where the condition can
be judged in 2D, otherwise one line and exit 4, never a silent zero."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.errors import NoResultError
from itbcoach.exercises import get_exercise, score_exercise, world_only_inputs
from itbcoach.exercises.expr import needs_world
from itbcoach.landmarks.io import save_npz
from itbcoach.synth.exercises import ExerciseScript, default_noise, render_exercise

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("source", "needs"), [
    ("knee_flexion_3d_left > 70", True),
    ("nan_to(knee_flexion_3d_left, knee_flexion_left) > 70", False),
    ("mean(knee_flexion_3d_left, knee_flexion_3d_right) > 70", True),
    ("mean(knee_flexion_3d_left, knee_flexion_left)", False),
    ("nan_to(trunk_incline_3d, trunk_incline) < 45 and hip_flexion_3d_{side} > 3", True),
    ("nan_to(knee_flexion_3d_{side} > 3, knee_y_{side} < 1) or trunk_incline < 5", False),
    ("nan_to(trunk_incline_3d, hip_flexion_3d_left)", True),
    ("knee_y_left - hip_y", False),
])
def test_needs_world_follows_the_fallbacks(source: str, needs: bool) -> None:
    assert needs_world(source, "left") is needs


def test_only_a_3d_only_counter_needs_world_landmarks() -> None:
    config = load_config(use_user_file=False)
    needing = {t: world_only_inputs(get_exercise(config, t)) for t in config.exercises}
    assert {t: k for t, k in needing.items() if k} == {}


#: A user's exercise that judges the wall sit from 3D knee angles only.
USER_TOML = ('[exercises.wall-sit-3d]\nextends = "glute-iso"\n\n'
             '[[exercises.wall-sit-3d.hold.phases]]\nname = "sit"\n'
             'enter = "mean(knee_flexion_3d_left, knee_flexion_3d_right) > 70"\n'
             'stay = "mean(knee_flexion_3d_left, knee_flexion_3d_right) > 65"\n')


@pytest.fixture(scope="module")
def user_toml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("user") / "user.toml"
    path.write_text(USER_TOML)
    return path


def test_a_user_exercise_counting_from_3d_only_needs_world_landmarks(user_toml) -> None:
    user = load_config(user_toml)
    assert world_only_inputs(get_exercise(user, "wall-sit-3d")) == (
        "hold.phases.sit.enter", "hold.phases.sit.stay")


@pytest.fixture(scope="module")
def wall_sit_2d(tmp_path_factory) -> tuple[Path, object]:
    """Three wall-sit holds (landmarks of the synthetic script, MediaPipe-like noise)
    saved without world landmarks."""
    synth, truth = render_exercise("glute-iso", ExerciseScript(reps=3, hold_s=6.0),
                                   noise=default_noise(3))
    seq = dataclasses.replace(synth.pose, world_landmarks=None)
    path = tmp_path_factory.mktemp("no_world") / "wall_sit_2d.npz"
    save_npz(path, seq)
    return path, truth


def _score(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "itbcoach", *args, "--no-history"],
                          capture_output=True, text=True, timeout=120)


def test_glute_iso_counts_holds_in_2d_without_world_landmarks(wall_sit_2d, tmp_path) -> None:
    path, truth = wall_sit_2d
    out = tmp_path / "r.json"
    proc = _score("score", str(path), "--task", "glute-iso", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["reps"]["total"] == 3
    want = [h.duration_s for h in truth.holds]
    got = [h["duration_s"] for h in res["holds"]]
    assert len(got) == 3 and np.abs(np.subtract(got, want)).max() < 0.5


def test_a_3d_only_exercise_refuses_a_file_without_world_landmarks(wall_sit_2d,
                                                                   user_toml) -> None:
    path, _ = wall_sit_2d
    proc = _score("--config", str(user_toml), "score", str(path), "--task", "wall-sit-3d")
    assert proc.returncode == 4
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("itbcoach:")]
    assert lines == ["itbcoach: wall-sit-3d needs 3D landmarks (hold.phases.sit.enter, "
                     "hold.phases.sit.stay); this file has none: re-extract it from the "
                     "video with `itbcoach landmarks VIDEO -o OUT.npz`"]
    assert proc.stdout == ""


def test_the_refusal_is_raised_by_the_library_too(wall_sit_2d, user_toml) -> None:
    from itbcoach.landmarks.io import load_npz

    path, _ = wall_sit_2d
    seq = load_npz(path)
    config = load_config(user_toml)
    with pytest.raises(NoResultError, match="wall-sit-3d needs 3D landmarks"):
        score_exercise(seq, "wall-sit-3d", config)
    # the same file with world landmarks counts
    synth, _ = render_exercise("glute-iso", ExerciseScript(reps=1, hold_s=6.0))
    assert score_exercise(synth.pose, "wall-sit-3d", config).reps["total"] == 1
