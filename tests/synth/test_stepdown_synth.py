"""The synthetic step-down script: its ground truth is exact."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.synth.stepdown import (
    FAULTS,
    LegSpec,
    StepdownSpec,
    render_stepdown,
    stepdown_motion,
)


def _frames(times: np.ndarray, start: float, end: float) -> np.ndarray:
    return np.flatnonzero((times >= start - 1e-6) & (times <= end + 1e-6))


@pytest.mark.parametrize("side", ["left", "right"])
def test_stance_foot_planted_and_free_heel_touches_the_floor(side):
    spec = StepdownSpec(legs=(LegSpec(side, reps=3),), step_on_off=False)
    synth, truth = render_stepdown(spec)
    other = "right" if side == "left" else "left"
    tr = synth.truth
    t = synth.motion.t_s
    assert [r.side for r in truth.reps] == [side] * 3
    for rep in truth.reps:
        idx = _frames(t, rep.start_s, rep.end_s)
        assert rep.start_s < rep.bottom_s < rep.end_s
        # the stance foot stays on the step (20 cm), flat
        assert np.abs(tr[f"heel_z_{side}"][idx] - 0.20).max() < 1e-6
        assert np.abs(tr[f"toe_z_{side}"][idx] - 0.20).max() < 1e-6
        # the free heel reaches the floor at the bottom and never goes through it
        b = int(np.argmin(np.abs(t - rep.bottom_s)))
        assert abs(tr[f"heel_z_{other}"][b]) < 1e-3
        assert tr[f"heel_z_{other}"][idx].min() > -1e-3
        # a real knee bend: 20 cm needs 60-90 deg of stance knee flexion
        assert 60 < tr[f"knee_flexion_{side}"][b] < 95
    # standing between reps the free heel hangs near step level
    assert tr[f"heel_z_{other}"][0] > 0.15


def test_faults_are_exact_at_the_bottom():
    spec = StepdownSpec(legs=(
        LegSpec("left", reps=2, pelvic_drop_deg=9.0, knee_medial_m=0.06, trunk_lean_deg=8.0),
        LegSpec("right", reps=2, pelvic_drop_deg=-6.0, knee_medial_m=0.01,
                trunk_lean_deg=-5.0, arm_abduction_deg=30.0, arm_side="stance")))
    synth, truth = render_stepdown(spec)
    tr = synth.truth
    t = synth.motion.t_s
    for rep in truth.reps:
        b = int(np.argmin(np.abs(t - rep.bottom_s)))
        s = rep.side
        stance_sign = 1.0 if s == "left" else -1.0  # + obliquity / lean = toward the left
        leg = spec.legs[0] if s == "left" else spec.legs[1]
        # free side drop: left stance -> the right hip lower -> obliquity +
        assert stance_sign * tr["pelvic_obliquity"][b] == pytest.approx(leg.pelvic_drop_deg,
                                                                        abs=1e-6)
        assert stance_sign * tr["trunk_lean"][b] == pytest.approx(leg.trunk_lean_deg, abs=1e-6)
        assert tr[f"knee_offset_toe_{s}"][b] == pytest.approx(leg.knee_medial_m, abs=1e-4)
        assert rep.faults["knee_medial_to_foot"] == (leg.knee_medial_m > 0.0467)
    right = [r for r in truth.reps if r.side == "right"]
    b = int(np.argmin(np.abs(t - right[0].bottom_s)))
    a = int(np.argmin(np.abs(t - right[0].start_s)))
    # the stance-side hand leaves the waist, the other stays
    assert tr["wrist_hip_right"][b] - tr["wrist_hip_right"][a] > 0.15
    assert abs(tr["wrist_hip_left"][b] - tr["wrist_hip_left"][a]) < 0.02


def test_partial_reps_and_expected_scores():
    spec = StepdownSpec(legs=(LegSpec("left", reps=5, partial_reps=(2,), pelvic_drop_deg=8.0,
                                      knee_medial_m=0.08, faulty_reps=(0, 1, 2)),))
    _, truth = stepdown_motion(spec)
    assert len(truth.reps) == 5
    assert [r.counted for r in truth.reps] == [True, True, False, True, True]
    assert truth.reps[2].depth == pytest.approx(0.45)
    counted = truth.counted("left")
    assert len(counted) == 4
    # faults in 2 of the 4 counted reps: present at "at least half"
    crit = truth.test_faults("left")
    assert crit["pelvis_not_level"] and crit["knee_medial_to_foot"]
    assert truth.expected_score("left") == 3  # pelvis 1 + knee to foot 2
    assert truth.expected_score("left", pain=True) == 4
    assert not truth.test_faults("left", fraction=0.75)["pelvis_not_level"]
    assert set(crit) == set(FAULTS)


def test_both_legs_step_off_between_and_timeline_is_increasing():
    spec = StepdownSpec(legs=(LegSpec("left", reps=3), LegSpec("right", reps=4)),
                        rest_jitter_s=0.5, seed=3)
    motion, truth = stepdown_motion(spec)
    assert np.all(np.diff(motion.t_s) > 0)
    assert [r.side for r in truth.reps] == ["left"] * 3 + ["right"] * 4
    ends = [r.end_s for r in truth.reps]
    starts = [r.start_s for r in truth.reps]
    assert all(s > e for s, e in zip(starts[1:], ends[:-1], strict=True))
    # both feet are on the floor at the start, between legs and at the end
    synth, _ = render_stepdown(spec)
    tr = synth.truth
    on_floor = np.maximum(np.abs(tr["heel_z_left"]), np.abs(tr["heel_z_right"])) < 1e-6
    between = _frames(motion.t_s, ends[2], starts[3])
    assert on_floor[0] and on_floor[-1]
    assert on_floor[between].sum() >= 30  # the 1 s stand on the floor between legs
    assert not on_floor[_frames(motion.t_s, starts[0], ends[2])].any()


@pytest.mark.parametrize(("side", "drop"), [("left", 10.0), ("right", 12.0), ("left", -8.0)])
def test_free_leg_hangs_in_a_pelvic_drop(side, drop):
    """A drop (or hike) tilts the pelvis about the stance hip; the free leg keeps hanging
    (it swung 15-21 cm toward the stance leg when it turned with the pelvis)."""
    from itbcoach.synth.kinematics import forward_kinematics
    from itbcoach.synth.motion import BodyDims

    spec = StepdownSpec(legs=(LegSpec(side, reps=1, pelvic_drop_deg=drop),),
                        step_on_off=False)
    motion, truth = stepdown_motion(spec)
    joints = forward_kinematics(motion, BodyDims.from_stature(spec.stature)).joints
    free = "r" if side == "left" else "l"
    b = round(truth.reps[0].bottom_s * spec.fps)
    sign = 1.0 if side == "left" else -1.0  # obliquity + = left hip up
    assert motion.pelvis_obliquity[b] == pytest.approx(sign * drop)
    # the free ankle moves < 1 cm sideways from standing to the bottom
    assert abs(joints[f"ankle_{free}"][b, 1] - joints[f"ankle_{free}"][0, 1]) < 0.01
    # and its heel still touches the floor
    assert abs(joints[f"heel_{free}"][b, 2]) < 1e-3
    # the free hip is lower (drop) or higher (hike) than the stance hip by hip_width*sin
    st = "l" if side == "left" else "r"
    dz = joints[f"hip_{st}"][b, 2] - joints[f"hip_{free}"][b, 2]
    width = np.linalg.norm(joints[f"hip_{st}"][b] - joints[f"hip_{free}"][b])
    assert np.degrees(np.arcsin(dz / width)) == pytest.approx(drop, abs=0.5)


def _hand_line_drop(side: str, spec: StepdownSpec,
                    points: str = "wrist") -> tuple[np.ndarray, object]:
    """Per counted rep: change of the line through the wrists (or the hand centroids:
    mean of wrist, index, pinky, thumb) in the lab frontal plane from the rep's start
    to its bottom, degrees, + = free side lower."""
    from itbcoach.synth.hands import hand_centroids
    from itbcoach.synth.kinematics import forward_kinematics, landmarks_3d
    from itbcoach.synth.motion import BodyDims

    motion, truth = stepdown_motion(spec)
    dims = BodyDims.from_stature(spec.stature)
    lm = landmarks_3d(forward_kinematics(motion, dims), dims)
    c = lm[:, [15, 16]] if points == "wrist" else hand_centroids(lm)
    v = c[:, 0] - c[:, 1]  # right hand -> left hand
    line = np.degrees(np.arctan2(v[:, 2], v[:, 1]))  # + = left hand higher
    sign = 1.0 if side == "left" else -1.0
    out = []
    for rep in truth.counted(side):
        a, b = round(rep.start_s * spec.fps), round(rep.bottom_s * spec.fps)
        out.append(sign * (line[b] - line[a]))
    return np.array(out), truth


@pytest.mark.parametrize("side", ["left", "right"])
def test_hands_on_the_hips_ride_with_a_pelvic_drop(side):
    """The wrists sit on contact points fixed in the pelvis: with a 12 deg drop and a
    10 deg trunk lean (which used to carry fixed-angle hands with the thorax) the wrist
    line drops 12 deg within 1 deg; on a level pelvis with the same lean it stays
    within 1 deg of level. The finger points turn with the forearm (no wrist joint in
    the body): their mean overshoots, documented in synth/hands.py."""
    spec = StepdownSpec(legs=(LegSpec(side, reps=2, pelvic_drop_deg=12.0,
                                      trunk_lean_deg=10.0),), step_on_off=False)
    drop, truth = _hand_line_drop(side, spec)
    assert np.abs(drop - 12.0).max() < 1.0
    assert all(r.hands_on_hips for r in truth.reps)
    centroid, _ = _hand_line_drop(side, spec, "centroid")
    assert (centroid > 12.0).all()  # the known overshoot of the rigid hand
    level, _ = _hand_line_drop(side, StepdownSpec(
        legs=(LegSpec(side, reps=2, trunk_lean_deg=10.0),), step_on_off=False))
    assert np.abs(level).max() < 1.0


def test_hands_off_the_hips_do_not_follow_the_pelvis():
    """Hands at the sides (``hands="none"``) or lifted by the arm strategy: the hand
    line no longer reads the drop, and the truth says the hands left."""
    spec = StepdownSpec(legs=(LegSpec("left", reps=2, pelvic_drop_deg=12.0,
                                      trunk_lean_deg=10.0, hands="none"),),
                        step_on_off=False)
    drop, truth = _hand_line_drop("left", spec)
    assert np.abs(drop - 12.0).min() > 4.0
    assert not any(r.hands_on_hips for r in truth.reps)
    spec = StepdownSpec(legs=(LegSpec("left", reps=2, pelvic_drop_deg=12.0,
                                      arm_abduction_deg=30.0, faulty_reps=(1,)),),
                        step_on_off=False)
    drop, truth = _hand_line_drop("left", spec)
    assert [r.hands_on_hips for r in truth.reps] == [True, False]
    assert abs(drop[0]) < 1.0  # rep 0 has no faults: level pelvis, hands on
    with pytest.raises(ValueError, match="hands must be one of"):
        LegSpec("left", hands="one")


def test_hand_slips_stay_small():
    """Slips of +-5 mm per hand change the wrist line between two instants by at most
    atan(4 * 5 mm / 0.34 m) = 3.4 deg (the wrists are 0.34 m apart on a 1.70 m body);
    they are present (> 0.5 deg on some rep) and bounded."""
    drop, _ = _hand_line_drop("right", StepdownSpec(
        legs=(LegSpec("right", reps=3, pelvic_drop_deg=12.0, hand_slip_m=0.005),),
        step_on_off=False, seed=3))
    assert 0.5 < np.abs(drop - 12.0).max() < 3.4
