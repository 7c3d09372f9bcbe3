"""The README's quick-start step-down samples score their rendered truth (issue 15).

``sample_videos/stepdown_*.mp4`` are renders with exact ground truth in the ``.json``
beside each (the subject's hands on the hips, riding with the pelvis). The real
PoseLandmarker runs over every frame and the scorer must give the truth's score,
category and criteria per leg, with the pelvis read from the hands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itbcoach.config import load_config
from itbcoach.scoring.stepdown import category, score_stepdown

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"


@pytest.mark.slow
@pytest.mark.parametrize("clip", [
    "stepdown_right_faulty",
    # right leg: the knee 2.7 cm past the medial border of the foot reads at the
    # threshold (Deliver 5 of issue 15, the medial-border geometry, is not done)
    pytest.param("stepdown_both_legs", marks=pytest.mark.xfail(
        strict=True, reason="knee medial to foot missed at the border (issue 15, 5)")),
])
def test_quick_start_sample_scores_its_truth(clip, model_path):
    from itbcoach.pose import extract_landmarks

    config = load_config(use_user_file=False)
    truth = json.loads((SAMPLES / f"{clip}.json").read_text())
    seq, meta = extract_landmarks(SAMPLES / f"{clip}.mp4", config, model=model_path,
                                  progress=False, mask=False, smooth=False)
    result = score_stepdown(seq, config, pain=False, meta=meta)
    assert [s.side for s in result.sides] == sorted(truth["expected"])
    for s in result.sides:
        exp = truth["expected"][s.side]
        assert len(s.reps) == exp["count"]
        assert {r.pelvis_source for r in s.reps} == {"hands"}
        assert s.criteria == exp["faults"], {r.index: r.metrics for r in s.reps}
        assert (s.score, s.category) == (exp["score"], category(exp["score"]))
