"""The exercise movement scripts: keyframes, leg IK, planted feet, truth bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.synth.exercises import (
    SCRIPTS,
    ExerciseScript,
    Keys,
    foot_frame,
    pelvis_frame,
    render_exercise,
    solve_leg,
)
from itbcoach.synth.kinematics import forward_kinematics
from itbcoach.synth.motion import BodyDims, Motion


def test_keys_minimum_jerk_between_keyframes() -> None:
    k = Keys(a=0.0, b=5.0)
    k.wait(1.0).move(2.0, a=10.0).wait(1.0).set(b=-1.0)
    t = np.array([0.0, 1.0, 2.0, 3.0, 3.5, 4.5])
    ch = k.sample(t)
    assert ch["a"].tolist() == pytest.approx([0.0, 0.0, 5.0, 10.0, 10.0, 10.0])
    assert ch["b"][:4].tolist() == [5.0] * 4 and ch["b"][-1] == -1.0
    assert k.t == 4.0 and k.value("a") == 10.0


def test_leg_ik_reaches_the_target_with_the_knee_where_asked() -> None:
    dims = BodyDims.from_stature(1.70)
    n = 50
    rng = np.random.default_rng(0)
    hip = np.tile([0.0, 0.09, 0.85], (n, 1))
    # ankle targets within reach (< 0.79 m of the 0.83 m leg): forward/back, sideways,
    # up to 0.25 m higher than standing
    ankle = hip + np.column_stack([rng.uniform(-0.3, 0.3, n), rng.uniform(-0.1, 0.2, n),
                                   -rng.uniform(0.45, 0.7, n)])
    knee_dir = np.tile([1.0, 0.0, 0.0], (n, 1))
    rp = pelvis_frame(np.zeros(n), np.zeros(n), np.zeros(n))
    rf = foot_frame(np.zeros(n), np.zeros(n))
    angles = solve_leg(hip, ankle, knee_dir, rp, rf, dims, "left")
    z2 = np.zeros((n, 2))
    fields = {k: z2.copy() for k in ("hip_flexion", "hip_abduction", "hip_rotation",
                                       "knee_flexion", "ankle_dorsiflexion",
                                       "ankle_inversion", "foot_progression")}
    for k, v in angles.items():
        fields[k][:, 0] = v
    pelvis = hip - np.array([0.0, dims.hip_width / 2, 0.0])
    m = Motion(t_s=np.arange(n) / 30, pelvis_pos=pelvis, pelvis_obliquity=np.zeros(n),
               pelvis_tilt=np.zeros(n), pelvis_yaw=np.zeros(n), trunk_flexion=np.zeros(n),
               trunk_lateral=np.zeros(n), trunk_rotation=np.zeros(n),
               shoulder_abduction=z2, shoulder_flexion=z2, shoulder_rotation=z2,
               elbow_flexion=z2, **fields)
    j = forward_kinematics(m, dims).joints
    assert np.abs(j["ankle_l"] - ankle).max() < 1e-6
    # the knee bends forward (toward knee_dir) of the hip-ankle line
    mid = (j["hip_l"] + j["ankle_l"]) / 2
    assert np.all(j["knee_l"][:, 0] > mid[:, 0])
    # the foot ends flat: heel and toe at the same height
    assert np.abs(j["heel_l"][:, 2] - j["toe_l"][:, 2]).max() < 1e-6


@pytest.mark.parametrize("task", ["squat", "lateral-lunge", "glute-iso", "side-tap"])
def test_planted_feet_stay_planted(task: str) -> None:
    synth, _ = render_exercise(task, ExerciseScript(reps=2))
    j = forward_kinematics(synth.motion, synth.dims).joints
    for tag in ("l", "r"):
        if task == "side-tap":
            continue
        ankle = j[f"ankle_{tag}"]
        assert np.ptp(ankle[:, 0]) < 0.005 and np.ptp(ankle[:, 1]) < 0.005
        assert j[f"heel_{tag}"][:, 2].min() > -0.005  # never below the floor
    if task == "side-tap":  # stance foot fixed while the other taps out 0.45 m
        spread = [np.ptp(j[f"ankle_{tag}"][:, 1]) for tag in ("l", "r")]
        assert sorted(spread) == pytest.approx([0.35, 0.35], abs=0.01)


def test_scripts_return_truth_matching_their_options() -> None:
    for task, fn in SCRIPTS.items():
        s = ExerciseScript(reps=2, sides=("right", "left"), time_per_side_s=15.0)
        motion, truth = fn(s)
        assert truth.task == task and len(motion) > 30
        if task in ("monster-walk", "side-step"):
            assert truth.steps == {"left": 2, "right": 2}
        elif task in ("squat", "glute-iso", "tibial-rotation"):
            assert truth.reps["total"] == 2
        elif task != "asmr-itb":
            assert truth.reps == {"left": 2, "right": 2, "total": 4}
    _, truth = SCRIPTS["psoas-activator"](ExerciseScript(reps=2, hold_s=5.0))
    assert [h.side for h in truth.holds] == ["left", "left", "right", "right"]
    # 5 s held + half of the 0.8 s straightening + half of the 1 s lowering
    assert all(h.duration_s == pytest.approx(5.9) for h in truth.holds)
    _, truth = SCRIPTS["glute-iso"](ExerciseScript(reps=1, hold_s=9.0, faults=("knees_in",)))
    assert truth.holds[0].duration_s == pytest.approx(9.8 - 3.0) and not truth.holds[0].good_form
    assert truth.cues == {"knees-out"}
