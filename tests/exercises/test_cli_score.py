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
