"""``itbcoach score INPUT --task <exercise> [--json OUT]`` on a landmark file."""

from __future__ import annotations

import json

import pytest

from itbcoach.cli.main import main
from itbcoach.landmarks import save_npz
from itbcoach.synth.exercises import ExerciseScript, default_noise, render_exercise


@pytest.fixture(scope="module")
def knee_lifts(tmp_path_factory):
    synth, truth = render_exercise("knee-lift", ExerciseScript(reps=3),
                                   noise=default_noise(11))
    path = tmp_path_factory.mktemp("npz") / "knee_lifts.npz"
    save_npz(path, synth.pose)
    return path, truth


def test_score_exercise_prints_and_writes_json(knee_lifts, tmp_path, capsys) -> None:
    path, truth = knee_lifts
    out = tmp_path / "res" / "out.json"
    code = main(["score", str(path), "--task", "knee-lift", "--json", str(out),
                 "--no-progress"])
    assert code == 0
    text = capsys.readouterr().out
    assert "Standing knee lift (knee-lift)" in text
    assert "reps: 6 (left 3, right 3)" in text
    j = json.loads(out.read_text())
    assert j["task"] == "knee-lift"
    assert j["reps"] == truth.reps == {"left": 3, "right": 3, "total": 6}
    assert j["sets"][0]["reps"]["total"] == 6
    assert j["holds"] == [] and j["cues"] == []
    assert j["events"][0]["kind"] == "rep"


def test_config_override_changes_the_count(knee_lifts, capsys) -> None:
    path, _ = knee_lifts
    # a threshold above the lift height: nothing counts
    code = main(["--set", "exercises.knee-lift.rep.enter=2.0", "score", str(path),
                 "--task", "knee-lift", "--no-progress"])
    assert code == 0
    assert "reps: 0 (left 0, right 0)" in capsys.readouterr().out


def test_unknown_task_is_one_line_and_exit_2(knee_lifts, capsys) -> None:
    path, _ = knee_lifts
    code = main(["score", str(path), "--task", "jumping-jacks", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("itbcoach: unknown task 'jumping-jacks' (known: stepdown, ")
    assert "\n" not in err


def test_feet_out_of_frame_is_not_counted(shared_videos, model_path, tmp_path,
                                          capsys) -> None:
    """A real squat clip cut at the knees: exit 4 with the framing instruction."""
    import cv2

    cap = cv2.VideoCapture(str(shared_videos / "squat_front_01.mp4"))
    writer = None
    for _ in range(150):  # 5 s
        ok, img = cap.read()
        if not ok:
            break
        crop = img[:450]  # the frame ends above the knees
        if writer is None:
            writer = cv2.VideoWriter(str(tmp_path / "nofeet.mp4"),
                                     cv2.VideoWriter_fourcc(*"mp4v"), 30,
                                     (crop.shape[1], crop.shape[0]))
        writer.write(crop)
    cap.release()
    writer.release()
    code = main(["score", str(tmp_path / "nofeet.mp4"), "--task", "squat", "--no-progress",
                 "--model", str(model_path), "--json", str(tmp_path / "r.json")])
    assert code == 4
    out = capsys.readouterr().out
    assert "not counted: the whole body is not in view (Step back so your feet are " \
           "visible)" in out
    j = json.loads((tmp_path / "r.json").read_text())
    assert j["ok"] is False and j["camera"]["whole_body"] is False
