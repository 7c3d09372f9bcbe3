"""FrameProcessor's masking: hand points on the hips are kept at low visibility."""

from __future__ import annotations

import numpy as np

from itbcoach.config import load_config
from itbcoach.landmarks import Landmark as L
from itbcoach.stream import FrameProcessor
from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown

HANDS = [L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY, L.LEFT_THUMB,
         L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY, L.RIGHT_THUMB]


def test_hand_points_kept_down_to_hand_min_visibility_near_a_visible_elbow():
    config = load_config(use_user_file=False)
    synth, _ = render_stepdown(StepdownSpec(legs=(LegSpec("left", reps=1),),
                                            step_on_off=False))
    one = synth.pose.slice(0, 1)
    vis = one.visibility.copy()
    vis[0, HANDS] = 0.45  # what MediaPipe gives hands resting on the waist
    vis[0, L.LEFT_ANKLE] = 0.45  # any other point below 0.5 is masked
    vis[0, L.RIGHT_INDEX] = 0.2  # below pose.hand_min_visibility (0.3)
    frame = FrameProcessor(config, smooth=False)(
        one.__class__(one.landmarks, vis, one.presence, one.timestamps_ms, one.image_size,
                      one.world_landmarks), 0)
    kept = [int(i) for i in HANDS if i != L.RIGHT_INDEX]
    assert np.isfinite(frame.raw[kept]).all()
    assert np.isfinite(frame.world[kept]).all()
    assert np.isnan(frame.raw[[L.LEFT_ANKLE, L.RIGHT_INDEX]]).all()
    # the same hand with its elbow not seen: masked (no geometry to check it against)
    vis[0, L.LEFT_ELBOW] = 0.3
    frame = FrameProcessor(config, smooth=False)(
        one.__class__(one.landmarks, vis, one.presence, one.timestamps_ms, one.image_size,
                      one.world_landmarks), 0)
    assert np.isnan(frame.raw[[L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY,
                               L.LEFT_THUMB]]).all()
    assert np.isfinite(frame.raw[L.RIGHT_WRIST]).all()
