"""The step-down sample clips score their rendered truth (issue 15).

``sample_videos/stepdown_*.mp4`` are renders with exact ground truth in the ``.json``
beside each (the subject's hands on the hips, riding with the pelvis; in
``stepdown_left_faulty`` the arm strategy lifts them off). The real PoseLandmarker runs
over every frame, the recording is replayed through the streaming session, and each leg
must give the truth's count, criteria, score and category, with the pelvis read from
the hands on every rep where both stayed on the hips and "not assessable" (a score
range holding the truth) where they did not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itbcoach.config import load_config
from itbcoach.scoring.session import score_stepdown
from itbcoach.scoring.stepdown import category

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"


@pytest.mark.slow
@pytest.mark.parametrize("clip", [
    "stepdown_right_faulty",  # the README quick start: 4, poor, with a 10 deg drop
    "stepdown_right_clean",
    "stepdown_left_clean",
    # right leg: a knee 7 cm medial of the second toe, 2.3 cm past the medial border of
    # the foot (read +0.016..+0.020 with the former fixed border and 0.02 margin: 1/3)
    "stepdown_both_legs",
    # the knee 3 cm medial of the second toe (+-2 cm wobble) reads +0.011..+0.013 body
    # scales against the planted toe (threshold 0.02) on the render-version-7 clip, and
    # the 2 cm wobble 0.049-0.053 vs wobble_pp 0.07 (at 0.04 the stick-body tests' white
    # 2 px jitter reads as wobble). Scored 1-2 (arm strategy, pelvis not assessable) for
    # a truth of 3 (docs/pelvis_hands.md, 2026-12-03)
    pytest.param("stepdown_left_faulty", marks=pytest.mark.xfail(
        strict=True, reason="knee/toe and unsteady missed: 1-2 for a truth of 3")),
])
def test_sample_scores_its_truth(clip, sample_landmarks):
    config = load_config(use_user_file=False)
    truth = json.loads((SAMPLES / f"{clip}.json").read_text())
    seq, meta = sample_landmarks(f"{clip}.mp4")
    result = score_stepdown(seq, config, pain=False, meta=meta)
    assert [s.side for s in result.sides] == sorted(truth["expected"])
    for s in result.sides:
        exp = truth["expected"][s.side]
        on_hips = [r["hands_on_hips"] for r in truth["reps"]
                   if r["side"] == s.side and r["counted"]]
        assert len(s.reps) == exp["count"] == len(on_hips)
        assert [r.pelvis_source for r in s.reps] == \
            ["hands" if on else "not assessable" for on in on_hips]
        faults = {k: v for k, v in exp["faults"].items() if k not in s.unknown}
        assert {k: s.criteria[k] for k in faults} == faults, \
            {r.index: r.metrics for r in s.reps}
        if s.score_range:
            lo, hi = s.score_range
            assert lo <= exp["score"] <= hi
            assert s.category == "-".join(dict.fromkeys((category(lo), category(hi))))
        else:
            assert (s.score, s.category) == (exp["score"], category(exp["score"]))


@pytest.mark.slow
def test_a_masked_stance_heel_does_not_lose_the_rep(sample_landmarks):
    """MediaPipe often masks the stance heel on the step for runs of frames (held-out
    renders: 18% of a clip). With the heel's visibility dropped for 0.8 s around the
    second rep's bottom, the foot fill keeps all three reps; without it that rep is
    thrown away as "the pose was lost mid-rep"."""
    import dataclasses

    import numpy as np

    from itbcoach.landmarks import Landmark as L

    seq, meta = sample_landmarks("stepdown_right_clean.mp4")
    t = np.asarray(seq.timestamps_ms, float) / 1000.0
    gone = (t > 6.5) & (t < 7.3)  # the second rep's bottom is at 6.93 s
    vis = seq.visibility.copy()
    vis[gone, L.RIGHT_HEEL] = 0.1
    masked = dataclasses.replace(seq, visibility=vis)
    config = load_config(use_user_file=False)
    (side,) = score_stepdown(masked, config, pain=False, meta=meta).sides
    assert (side.side, len(side.reps)) == ("right", 3)
    off = dataclasses.replace(config, stepdown=dataclasses.replace(config.stepdown,
                                                                   foot_fill_s=0.0))
    result = score_stepdown(masked, off, pain=False, meta=meta)
    assert [len(s.reps) for s in result.sides] == [2]
    assert [m["reason"] for m in result.ignored] == ["the pose was lost mid-rep"]
