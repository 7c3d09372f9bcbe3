"""The pelvis read from the hands on the hips (scoring/pelvis.py, issue 15)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.scoring.pelvis import HAND_POINTS, hand_line_drop, hand_points
from itbcoach.scoring.session import score_stepdown
from itbcoach.synth.kinematics import Noise
from itbcoach.synth.stepdown import LegSpec, StepdownSpec, default_camera, render_stepdown

CONFIG = load_config(use_user_file=False)
RULE = {"max_dist": 0.40, "min_above": 0.05, "max_motion": 0.25, "min_on": 0.9}
SCALE = 200.0  # torso length, px


def _rot(pts: np.ndarray, deg: float, centre: np.ndarray) -> np.ndarray:
    """Rotate image points about ``centre``; + = the image-right point goes up."""
    a = np.radians(deg)
    r = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return (pts - centre) @ r.T + centre


def _pelvis(deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hips and hands on the crests of a pelvis facing the camera (the subject's left
    on the image right), tilted ``deg`` per frame (+ = left side up)."""
    centre = np.array([320.0, 300.0])
    hips = np.array([[345.0, 300.0], [295.0, 300.0]])  # left, right
    hands = np.array([[365.0, 255.0], [275.0, 255.0]])
    out_hips = np.stack([_rot(hips, d, centre) for d in deg])
    out_hands = np.stack([_rot(hands, d, centre) for d in deg])
    return out_hands, out_hips


@pytest.mark.parametrize(("stance", "tilt", "drop"), [(0, 12.0, 12.0), (1, -12.0, 12.0),
                                                      (0, -7.0, -7.0), (1, 0.0, 0.0)])
def test_hand_line_reads_the_drop_of_the_free_side(stance, tilt, drop):
    """Left stance: the free (right) side down = the left side up = tilt +."""
    base_hands, base_hips = _pelvis(np.zeros(10))
    deg = tilt * np.sin(np.linspace(0, np.pi, 41))
    hands, hips = _pelvis(deg)
    r = hand_line_drop(base_hands, base_hips, hands, hips, 20, stance, SCALE, **RULE)
    assert r.source == "hands"
    assert r.drop_deg == pytest.approx(drop, abs=0.05)
    assert r.on_fraction == 1.0 and r.confidence == pytest.approx(1.0, abs=0.01)


def test_a_hand_leaving_the_hip_makes_the_rep_not_assessable():
    base_hands, base_hips = _pelvis(np.zeros(10))
    hands, hips = _pelvis(np.zeros(41))
    # the arm strategy: the left hand goes 0.2 body scales out and up at the bottom
    hands[15:30, 0] += np.array([0.2 * SCALE, -0.05 * SCALE])
    r = hand_line_drop(base_hands, base_hips, hands, hips, 20, 0, SCALE, **RULE)
    assert r.source == "not assessable" and np.isnan(r.drop_deg)
    # a slide of 17% of the torso along the crest keeps the reading, with less confidence
    hands, hips = _pelvis(np.full(41, 6.0))
    hands[:, 1, 0] += 0.17 * SCALE * np.sin(np.linspace(0, np.pi, 41))
    r = hand_line_drop(base_hands, base_hips, hands, hips, 20, 0, SCALE, **RULE)
    assert r.source == "hands" and 0.3 < r.confidence < 0.9
    # hands hanging at the sides (below the hips) are not on the hips
    hands, hips = _pelvis(np.zeros(41))
    hands[..., 1] += 0.3 * SCALE
    r = hand_line_drop(base_hands, base_hips, hands, hips, 20, 0, SCALE, **RULE)
    assert r.source == "not assessable" and r.on_fraction == 0.0


def test_hand_points_are_the_wrists():
    """The wrists, not the finger points: MediaPipe's index, pinky and thumb follow the
    forearm (16-20 deg for a 10.6 deg drop on the samples), its wrists the pelvis."""
    from itbcoach.landmarks import Landmark as L

    px = np.full((2, 33, 2), np.nan)
    px[0, [L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY, L.LEFT_THUMB]] = \
        [[0, 0], [2, 0], [2, 2], [0, 2]]
    px[1, L.RIGHT_WRIST] = [5, 7]
    h = hand_points(px)
    assert h[0, 0].tolist() == [0.0, 0.0]
    assert h[1, 1].tolist() == [5.0, 7.0]
    assert np.isnan(h[0, 1]).all() and np.isnan(h[1, 0]).all()


def test_low_visibility_hands_still_read_the_pelvis():
    """MediaPipe gives hands on the waist a visibility of 0.4-0.5: the scorer masks
    points below 0.5, but the hand line keeps their positions."""
    spec = StepdownSpec(legs=(LegSpec("right", reps=3, pelvic_drop_deg=10.0,
                                      trunk_lean_deg=10.0),), step_on_off=False)
    synth, _ = render_stepdown(spec, default_camera(0.0), Noise(image_px=2.0, seed=3))
    vis = synth.pose.visibility.copy()
    hands = [int(i) for ids in HAND_POINTS for i in ids]
    vis[:, hands] = 0.45
    seq = dataclasses.replace(synth.pose, visibility=vis)
    side = score_stepdown(seq, CONFIG).sides[0]
    assert [r.pelvis_source for r in side.reps] == ["hands"] * 3
    for r in side.reps:
        # the wrists rest on contact points fixed in the pelvis frame
        assert r.metrics["pelvic_drop_deg"] == pytest.approx(10.0, abs=1.5)
        assert r.faults["pelvis_not_level"]
    assert side.criteria["pelvis_not_level"] and side.criteria["trunk_lean"]
    assert side.score == 2 and side.score_range is None
