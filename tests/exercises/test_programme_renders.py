"""The three seated and lying programme exercises, rendered, counted through the CLI.

``sample_videos/exercise_{asmr_itb,psoas_activator,tibial_rotation}[_fault].mp4`` are anny
bodies rendered by ``itbcoach synth exercise`` (seated on a bench, side-lying on a mat;
commands in README "Exercises"), with their exact truth in the ``.json`` beside them.
``itbcoach score`` runs in a subprocess, as a user runs it (real PoseLandmarker): counts
per side exact, hold and side times close to the truth, every fault's cue fired and no
other form cue.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CLIPS = ("exercise_asmr_itb", "exercise_asmr_itb_fault", "exercise_psoas_activator",
         "exercise_psoas_activator_fault", "exercise_tibial_rotation",
         "exercise_tibial_rotation_fault")
#: Informational cues (not about form).
INFO_CUES = {"switch", "done"}
#: Hold durations through the real model vs the truth, s (the worst measured: 0.8 s, a
#: psoas hold that starts early, MediaPipe's slumped trunk reading upright sooner).
HOLD_TOL_S = 1.0
#: Time per side of the timed release vs the truth, s. Not the filter's lag: the truth
#: splits the roll from one side to the other at its midpoint, while the timer counts
#: only the time spent lying on a side (the trunk passes below 60 deg of incline and
#: the body is out of the frame's reach for ~0.6 s of the roll; measured 2026-12-03:
#: 11.43 of 12.0 s left, 11.70 of 11.97 s right, 7.40 of 8.0 and 7.70 of 7.97 s on the
#: fault clip, each bout ending or starting at the roll).
TIMER_TOL_S = 0.75


@pytest.mark.parametrize("name", CLIPS)
def test_programme_render_counted_by_score(name: str, tmp_path, model_path) -> None:
    truth = json.loads((REPO / "sample_videos" / f"{name}.json").read_text())
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, "-m", "itbcoach", "score", str(REPO / "sample_videos" / f"{name}.mp4"),
         "--task", truth["kind"], "--json", str(out), "--no-history", "--no-progress"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["camera"]["ok"], res["camera"]["instruction"]
    assert res["reps"] == truth["expected"]["reps"]
    want_holds = truth["truth"]["holds"]
    assert [(h["side"], h["phase"]) for h in res["holds"]] == \
        [(h["side"], h["phase"]) for h in want_holds]
    for got, want in zip(res["holds"], want_holds, strict=True):
        assert got["duration_s"] == pytest.approx(want["duration_s"], abs=HOLD_TOL_S)
    got_timers = {t["side"]: t["duration_s"] for t in res["timers"]}
    assert set(got_timers) == set(truth["truth"]["timers"])
    for side, seconds in truth["truth"]["timers"].items():
        assert got_timers[side] == pytest.approx(seconds, abs=TIMER_TOL_S)
    fired = {c["rule"] for c in res["cues"]} - INFO_CUES
    assert fired == set(truth["expected"]["cues"])
    assert ("fault" in name) == bool(fired)
