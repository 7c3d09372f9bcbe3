"""The step-down scorer on the real footage: none of it is a step-down.

Every clip of ``../shared/sample_videos`` (squats, lunges, side steps, knee lifts, a
single-leg hinge...) must run end to end, count no rep and say so plainly: either the
framing problem that stops the test (side-on clips) or "no step-down reps found". The
landmarks come from the session-wide ``video_landmarks`` cache (one real PoseLandmarker
run per clip, shared with the other real-footage tests).
"""

from __future__ import annotations

import json

import pytest

from itbcoach.cli.main import main
from itbcoach.config import load_config
from itbcoach.errors import ExitCode
from itbcoach.landmarks import save_npz
from itbcoach.scoring.session import score_stepdown

CLIPS = {
    # side-on or oblique: the framing check stops them
    "hiphinge_singleleg_side_01.mp4": "not facing the camera",
    "lunge_split_side_01.mp4": "not facing the camera",
    "splitsquat_bulgarian_oblique_01.mp4": "not facing the camera",
    "squat_overhead_side_good_01.mp4": "not facing the camera",
    # frontal: analysed, no rep
    "kneelift_front_small_01.mp4": "no step-down reps found",
    "lunge_lateral_front_01.mp4": "no step-down reps found",
    "sidestep_front_small_01.mp4": "no step-down reps found",
    "sidetap_front_small_01.mp4": "no step-down reps found",
    "squat_front_01.mp4": "no step-down reps found",
    "squat_overhead_front_02.mp4": "no step-down reps found",
    "squat_overhead_front_bad_01.mp4": "no step-down reps found",
    "squat_overhead_front_bad_02.mp4": "no step-down reps found",
    "squat_overhead_front_good_01.mp4": "no step-down reps found",
    "squat_overhead_front_good_02.mp4": "no step-down reps found",
    "squat_sidestep_front_small_01.mp4": "no step-down reps found",
}


def test_the_list_covers_every_clip(shared_videos):
    assert sorted(p.name for p in shared_videos.glob("*.mp4")) == sorted(CLIPS)


@pytest.mark.slow
@pytest.mark.parametrize("clip", sorted(CLIPS))
def test_real_clip_is_not_a_stepdown(clip, video_landmarks):
    seq, meta = video_landmarks(clip)
    result = score_stepdown(seq, load_config(use_user_file=False), meta=meta)
    assert not result.ok
    assert result.sides == []
    assert CLIPS[clip] in result.message, result.message
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["sides"] == [] and doc["message"] == result.message
    assert result.summary().splitlines()[1].strip() == result.message


@pytest.mark.slow
def test_cli_reports_no_result_exit_code(video_landmarks, tmp_path, capsys):
    seq, _ = video_landmarks("squat_front_01.mp4")
    npz = save_npz(tmp_path / "squat.npz", seq)
    out = tmp_path / "squat.json"
    code = main(["score", str(npz), "--task", "stepdown", "--pain", "no", "--json", str(out)])
    assert code == ExitCode.NO_RESULT == 4
    assert "no step-down reps found" in capsys.readouterr().out
    assert json.loads(out.read_text())["ok"] is False
