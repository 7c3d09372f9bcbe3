"""Counting from signals that survive a turned camera (synthetic yaw sweeps).

The movement scripts are filmed by cameras turned around the subject; the counts must
stay exact (and the sides right) wherever the exercise is meant to be filmed. The two
conditions of the real-clip failures are reproduced: alternating forward lunges, hands
on the hips, a phone in portrait close by (2.2 m, 25 fps) 0-40 deg to the side, which the
former hip-drop signal of ``lunge-twist`` counted about twice per lunge (9 for 5 at 0 and
+15 deg); and seated tibial rotation, whose "both feet past 25 deg" held at 0 deg only.
"""

from __future__ import annotations

import pytest

from itbcoach.config import load_config
from itbcoach.exercises import score_exercise
from itbcoach.synth.exercises import ExerciseScript, default_noise, render_exercise
from itbcoach.synth.kinematics import Camera

YAWS = (0, 15, -15, 30, -30, 40, -40)


@pytest.fixture(scope="module")
def config():
    return load_config(use_user_file=False)


@pytest.mark.parametrize("yaw", YAWS)
def test_forward_lunges_from_a_close_portrait_phone(config, yaw: int) -> None:
    cam = Camera.orbit(distance=2.2, azimuth_deg=yaw, height=1.0, target=(0.15, 0.0, 0.9),
                       width=360, height_px=640, hfov_deg=45.0)
    script = ExerciseScript(reps=1, sides=("left", "right", "left", "right", "left"),
                            fps=25.0, variant="forward")
    synth, truth = render_exercise("lunge-twist", script, noise=default_noise(70 + yaw),
                                   camera=cam)
    assert truth.reps == {"left": 3, "right": 2, "total": 5}
    result = score_exercise(synth.pose, "lunge-twist", config)
    assert result.reps == truth.reps
    assert [e.side for e in result.events if e.kind == "rep"] == list(script.sides)


@pytest.mark.parametrize("yaw", [0, 15, -15, 30, -30])
def test_tibial_rotation_holds_with_the_camera_turned(config, yaw: int) -> None:
    cam = Camera.orbit(distance=3.4, azimuth_deg=yaw, height=1.0, target=(0.0, 0.0, 0.65))
    synth, truth = render_exercise("tibial-rotation", ExerciseScript(reps=3),
                                   noise=default_noise(40 + yaw), camera=cam)
    result = score_exercise(synth.pose, "tibial-rotation", config)
    assert result.reps == truth.reps == {"left": 0, "right": 0, "total": 3}
    assert [h["phase"] for h in result.holds] == [h.phase for h in truth.holds]
    for got, want in zip(result.holds, truth.holds, strict=True):
        assert got["duration_s"] == pytest.approx(want.duration_s, abs=0.3)
