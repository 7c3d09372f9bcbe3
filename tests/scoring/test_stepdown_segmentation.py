"""The streaming step-down segmenter on hand-made signals (exact event lists)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.scoring.segmentation import State, StepdownSegmenter, StepSample

FPS = 30.0
PARAMS = load_config(use_user_file=False).stepdown


def _trapezoid(depth: float, down_s: float = 1.0, hold_s: float = 0.2,
               up_s: float = 1.0) -> np.ndarray:
    down = np.linspace(0, depth, round(down_s * FPS), endpoint=False)
    return np.concatenate([down, np.full(round(hold_s * FPS), depth),
                           np.linspace(depth, 0, round(up_s * FPS))])


def _stream(parts: list[np.ndarray], foot_y: np.ndarray | None = None):
    depth = np.concatenate(parts)
    n = depth.size
    foot = np.full(n, 3.8) if foot_y is None else foot_y
    return [StepSample(i / FPS, float(depth[i]), 0.2, float(foot[i]),
                       2.0 + 1.2 * float(depth[i])) for i in range(n)]


def _run(samples):
    seg = StepdownSegmenter(PARAMS)
    events = []
    for i, s in enumerate(samples):
        events += seg.update(i, s)
    return events + seg.flush(), seg


def _rest(s: float) -> np.ndarray:
    return np.zeros(round(s * FPS))


def test_three_reps_exact():
    parts = [_rest(1.0)]
    for _ in range(3):
        parts += [_trapezoid(0.4), _rest(0.8)]
    events, seg = _run(_stream(parts))
    assert [e.kind for e in events] == ["rep"] * 3
    assert seg.count == 3
    # first rep: descent starts at frame 30 (seen where the depth last was within
    # start_tol = 0.03 of the baseline: frame 32 of the 0.0133/frame ramp), bottom at 60
    e = events[0]
    assert e.start_index == 32
    assert e.bottom_index == pytest.approx(59, abs=1)
    assert e.depth == pytest.approx(0.4, abs=0.01)
    assert e.hip_descent == pytest.approx(0.48, abs=0.02)
    assert 0 <= e.baseline_start < e.baseline_end <= e.start_index


def test_needs_stable_standing_before_the_first_rep():
    # starts mid-rep (recording began late): not armed, so not counted
    parts = [np.linspace(0.4, 0.0, 30), _rest(1.0), _trapezoid(0.4), _rest(1.0)]
    events, _ = _run(_stream(parts))
    assert [e.kind for e in events] == ["rep"]


def test_shallow_movement_is_partial_and_short_dips_are_ignored():
    parts = [_rest(1.0), _trapezoid(0.12), _rest(1.0), _trapezoid(0.06), _rest(1.0),
             _trapezoid(0.4), _rest(1.0)]
    events, seg = _run(_stream(parts))
    assert [e.kind for e in events] == ["partial", "rep"]
    assert "heel went down 0.12" in events[0].reason
    assert seg.count == 1


def test_lost_pose_grace_period():
    samples = _stream([_rest(1.0), _trapezoid(0.4), _rest(1.0), _trapezoid(0.4),
                       _rest(1.0)])
    nan = float("nan")
    # 6 frames (0.2 s) lost at the bottom of rep 1: within the 0.3 s grace
    for i in range(58, 64):
        samples[i] = StepSample(samples[i].t_s, nan, nan, nan, nan)
    # 15 frames (0.5 s) lost in rep 2: aborted, not counted
    for i in range(143, 158):
        samples[i] = StepSample(samples[i].t_s, nan, nan, nan, nan)
    events, _ = _run(samples)
    assert [e.kind for e in events] == ["rep", "aborted"]
    assert events[1].reason == "the pose was lost mid-rep"


def test_stepping_off_aborts_and_disarms():
    # the free heel goes down (like a rep) then the stance foot steps down 0.4
    depth = np.concatenate([_rest(1.0), np.linspace(0, 0.4, 30), np.linspace(0.4, 0.0, 30),
                            _rest(1.0)])
    foot = np.full(depth.size, 3.8)
    foot[60:90] = np.linspace(3.8, 4.2, 30)
    foot[90:] = 4.2
    events, seg = _run(_stream([depth], foot))
    assert [e.kind for e in events] == ["aborted"]
    assert "stance foot moved" in events[0].reason
    assert seg.count == 0


def test_very_slow_descent_does_not_drag_the_baseline():
    # a 4 s creeping descent: each 0.4 s window looks nearly still
    parts = [_rest(1.0), _trapezoid(0.4, down_s=4.0, up_s=3.0), _rest(1.0)]
    events, _ = _run(_stream(parts))
    assert [e.kind for e in events] == ["rep"]
    assert events[0].depth == pytest.approx(0.4, abs=0.01)


def test_standing_far_below_the_other_foot_never_arms():
    # this leg's foot a step below the other heel (the other leg's bottom position)
    events, seg = _run(_stream([np.full(60, -0.4), np.linspace(-0.4, 0.0, 30),
                                _rest(0.2)]))
    assert events == []
    assert seg.state is State.WAIT


def test_recording_ending_mid_rep_is_aborted():
    events, seg = _run(_stream([_rest(1.0), np.linspace(0, 0.4, 30)]))
    assert [e.kind for e in events] == ["aborted"]
    assert events[0].reason == "the recording ended mid-rep"
    assert seg.state is State.WAIT


def test_time_must_increase():
    seg = StepdownSegmenter(PARAMS)
    seg.update(0, StepSample(1.0, 0.0, 0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="increase"):
        seg.update(1, StepSample(1.0, 0.0, 0.0, 0.0, 0.0))
    assert not StepSample(0.0, math.nan, 0.0, 0.0, 0.0).valid


def test_sparse_frames_never_arm_without_a_baseline() -> None:
    """Live input at a few fps: a stable window with one frame in the baseline window
    must not arm the segmenter (it used to reach STANDING with no baseline and crash)."""
    from itbcoach.config import load_config
    from itbcoach.scoring.segmentation import StepdownSegmenter, StepSample

    params = load_config(use_user_file=False).stepdown
    seg = StepdownSegmenter(params)
    gap = params.baseline_s + 0.05  # each frame alone in the baseline window
    events = []
    for i in range(12):
        events += seg.update(i, StepSample(i * gap, 0.0, 1.0, 2.0, 1.5))
    assert events == []
    assert seg.baseline_depth is None or seg.state.name == "STANDING"


def test_foot_fill_puts_back_a_masked_heel_or_toe_for_a_while():
    """A planted foot keeps its shape: a missing heel comes back as the toe minus the
    heel-to-toe vector last seen (within hold_s); never both points, never older."""
    from itbcoach.landmarks import Landmark as L
    from itbcoach.scoring.segmentation import FootFill

    fill = FootFill(hold_s=1.0)
    px = np.zeros((33, 2))
    px[L.LEFT_HEEL], px[L.LEFT_FOOT_INDEX] = (100.0, 400.0), (110.0, 412.0)
    px[L.RIGHT_HEEL], px[L.RIGHT_FOOT_INDEX] = (200.0, 400.0), (190.0, 410.0)
    assert np.array_equal(fill(0.0, px), px)
    lost = px.copy()
    lost[L.LEFT_HEEL] = np.nan
    lost[L.RIGHT_FOOT_INDEX] = np.nan
    lost[L.LEFT_FOOT_INDEX] += 5.0  # the foot moved a little: the heel moves with it
    out = fill(0.9, lost)
    assert out[L.LEFT_HEEL].tolist() == [105.0, 405.0]
    assert out[L.RIGHT_FOOT_INDEX].tolist() == [190.0, 410.0]
    assert np.isnan(fill(1.2, lost)[L.LEFT_HEEL]).all()  # older than hold_s
    both = lost.copy()
    both[L.RIGHT_HEEL] = np.nan
    assert np.isnan(fill(0.95, both)[[L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX]]).all()
