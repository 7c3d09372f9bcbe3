"""History database: events survive kills, bad files give one clear line, trend plots."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from itbcoach.cli.main import main
from itbcoach.report.history import SCHEMA_VERSION, History, HistoryError

CHILD = r"""
import sys, time
from itbcoach.report.history import History
h = History(sys.argv[1])
sid = h.start_session("live", "monster-walk", "camera 0")
for i in range(1000):
    h.add_event(sid, "step", {"n": i}, t_s=i * 0.5, side="left")
    print(i, flush=True)
    time.sleep(0.02)
"""


def test_events_survive_a_kill_between_events(tmp_path) -> None:
    db = tmp_path / "h.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE,
                            text=True)
    written = -1
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            written = int(line)
            if written >= 14:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with History(db) as h:
        (session,) = h.sessions()
        events = h.events(session.id)
    assert session.status == "running"  # never closed: the process was killed
    assert written >= 14
    # every event the child reported as written is there; at most one more was in flight
    assert written + 1 <= len(events) <= written + 2
    assert [e.data["n"] for e in events] == list(range(len(events)))
    assert events[3].t_s == 1.5 and events[3].side == "left"


def test_session_round_trip_and_summary(tmp_path) -> None:
    with History(tmp_path / "h.sqlite") as h:
        sid = h.start_session("offline", "stepdown", "clip.mp4")
        h.add_event(sid, "stepdown_side", {"side": "left", "score": 2, "category": "medium",
                                           "metrics": {"pelvic_drop_deg": 6.5}}, side="left")
        h.end_session(sid, "completed", {"sides": [{"side": "left", "score": 2,
                                                    "category": "medium"}]})
        (s,) = h.sessions("stepdown")
        assert (s.status, s.events, s.summary["sides"][0]["score"]) == ("completed", 1, 2)
        assert h.sessions("squat") == []
        assert h.events(type="stepdown_side")[0].data["metrics"]["pelvic_drop_deg"] == 6.5
    con = sqlite3.connect(tmp_path / "h.sqlite")
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_corrupt_missing_and_newer_files(tmp_path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match=r"is unreadable .*delete it to start a new history"):
        History(bad)
    with pytest.raises(HistoryError, match="no history yet at"):
        History(tmp_path / "none.sqlite", create=False)
    newer = tmp_path / "newer.sqlite"
    sqlite3.connect(newer).execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryError, match="newer than this itbcoach"):
        History(newer)


def test_history_cli_lists_and_plots(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    assert main(["history", "--db", str(db)]) == 3
    assert "no history yet" in capsys.readouterr().err
    with History(db) as h:
        for i, (left, right) in enumerate([(3, 1), (2, 1), (1, 0)]):
            sid = h.start_session("offline", "stepdown", f"week{i}.mp4")
            for side, score in (("left", left), ("right", right)):
                h.add_event(sid, "stepdown_side", {"side": side, "score": score,
                                                   "metrics": {"pelvic_drop_deg": 3.0 * score,
                                                               "fppa_deg": 5.0 + score}},
                            side=side)
            h.end_session(sid, "completed", {"sides": [
                {"side": "left", "score": left, "category": "medium"},
                {"side": "right", "score": right, "category": "good"}]})
            time.sleep(0.002)
    out = tmp_path / "trend.png"
    assert main(["history", "--db", str(db), "--plot", str(out)]) == 2  # which task?
    assert "--plot needs --task" in capsys.readouterr().err
    assert main(["history", "--db", str(db), "--task", "stepdown", "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("stepdown") == 3 and "left 3 (medium), right 1 (good)" in text
    assert "(18 points)" in text  # 3 sessions x 2 sides x (score + 2 metrics)
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 400
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"garbage" * 500)
    assert main(["history", "--db", str(bad)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("itbcoach: history database") and err.count("\n") == 1


@pytest.fixture(scope="module")
def stepdown_npz(tmp_path_factory):
    """A synthetic step-down (left: pelvic drop, right: clean) saved as a landmark file."""
    from itbcoach.landmarks import save_npz
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown

    spec = StepdownSpec(legs=(LegSpec("left", reps=2, pelvic_drop_deg=10.0),
                              LegSpec("right", reps=2)), lead_s=1.0, rest_s=0.6,
                        step_on_off=False)
    synth, _ = render_stepdown(spec)
    path = tmp_path_factory.mktemp("npz") / "stepdown.npz"
    save_npz(path, synth.pose)
    return path


def test_offline_score_is_recorded_and_plotted(stepdown_npz, tmp_path, monkeypatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    monkeypatch.setenv("ITBCOACH_HISTORY", str(db))
    for _ in range(2):
        assert main(["score", str(stepdown_npz), "--task", "stepdown", "--pain", "no",
                     "--report", str(tmp_path / "rep")]) == 0
    assert "score 1 (good)" in capsys.readouterr().out  # the left leg: pelvis only
    with History(db) as h:
        sessions = h.sessions("stepdown")
        assert [(s.kind, s.status, s.events) for s in sessions] == [
            ("offline", "completed", 2 + 1 + 2 + 1)] * 2  # 2 reps + 1 side result per leg
        sides = h.events(sessions[0].id, type="stepdown_side")
        reps = h.events(sessions[0].id, type="stepdown_rep")
    left = sides[0].data
    assert (sides[0].side, left["score"], left["category"], left["reps"]) == (
        "left", 1, "good", 2)
    assert left["criteria"]["pelvis_not_level"] is True and left["pain"] is False
    assert left["metrics"]["pelvic_drop_deg"] == pytest.approx(10.0, abs=1.5)
    assert [r.side for r in reps] == ["left", "left", "right", "right"]
    assert reps[0].t_s == reps[0].data["end_s"]
    assert sessions[0].summary["sides"][0] == {"side": "left", "score": 1,
                                               "category": "good"}
    out = tmp_path / "trend.png"
    assert main(["history", "--task", "stepdown", "--plot", str(out)]) == 0
    assert "(16 points)" in capsys.readouterr().out  # 2 sessions x 2 sides x 4 panels
    assert cv2.imread(str(out)) is not None
    assert main(["score", str(stepdown_npz), "--task", "stepdown", "--no-history"]) == 0
    with History(db) as h:
        assert len(h.sessions()) == 2


def test_corrupt_or_deleted_history_never_breaks_scoring(stepdown_npz, tmp_path, monkeypatch,
                                                         capsys) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not sqlite at all " * 300)
    monkeypatch.setenv("ITBCOACH_HISTORY", str(bad))
    assert main(["score", str(stepdown_npz), "--task", "stepdown"]) == 0
    captured = capsys.readouterr()
    assert "Lateral step-down test" in captured.out
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("itbcoach: history not recorded: history database")
    assert "delete it to start a new history" in line and "Traceback" not in captured.err
    # a deleted database is simply created again
    monkeypatch.setenv("ITBCOACH_HISTORY", str(tmp_path / "gone" / "h.sqlite"))
    assert main(["score", str(stepdown_npz), "--task", "stepdown"]) == 0
    with History(tmp_path / "gone" / "h.sqlite") as h:
        assert len(h.sessions("stepdown")) == 1


def test_a_locked_database_is_busy_not_corrupt(tmp_path) -> None:
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        sid = h.start_session("live", "squat")
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        h2 = History(db)
        h2._db.execute("PRAGMA busy_timeout=100")
        with pytest.raises(HistoryError) as err:
            h2.add_event(sid, "rep", {"n": 1})
        assert "is busy" in str(err.value) and "delete" not in str(err.value)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    h2.add_event(sid, "rep", {"n": 1})  # once free, writing works again
    assert len(h2.events(sid)) == 1
    h2.close()


def test_history_lists_steps_and_holds_in_their_own_unit(tmp_path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """A monster walk is listed by its steps and a wall sit by its holds, not as
    "reps 0"; a programme lists each exercise it did."""
    from itbcoach.config import load_config
    from itbcoach.exercises import score_exercise
    from itbcoach.synth.exercises import ExerciseScript, render_exercise

    config = load_config(use_user_file=False)
    results = {}
    for task, script in (("monster-walk", ExerciseScript(reps=2)),
                         ("glute-iso", ExerciseScript(reps=2, hold_s=5.0))):
        synth, _truth = render_exercise(task, script)
        results[task] = score_exercise(synth.pose, task, config).to_json()
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        for task, summary in (*results.items(),
                              ("program", {"task": "program",
                                           "exercises": list(results.values())})):
            sid = h.start_session("live", task, "camera 0")
            h.end_session(sid, "completed", summary)
    assert main(["history", "--db", str(db)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert rows[0].endswith("steps 4 (left 2, right 2)")
    assert rows[1].endswith("holds 2 (12 s held)")
    assert rows[2].endswith("monster-walk steps 4 (left 2, right 2); "
                            "glute-iso holds 2 (12 s held)")


def test_offline_sessions_are_recorded_from_the_typed_result(tmp_path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    """``score`` records the typed result: a wall sit scored offline is listed by its
    holds (the short summary stores them as count and seconds), a monster walk by its
    steps, each engine event as one row."""
    from itbcoach.config import load_config
    from itbcoach.exercises import score_exercise
    from itbcoach.report.job import record_result
    from itbcoach.synth.exercises import ExerciseScript, render_exercise

    config = load_config(use_user_file=False)
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        for task, script in (("monster-walk", ExerciseScript(reps=2)),
                             ("glute-iso", ExerciseScript(reps=2, hold_s=5.0))):
            synth, _truth = render_exercise(task, script)
            result = score_exercise(synth.pose, task, config)
            sid = record_result(h, result, f"{task}.mp4")
            assert len(h.events(sid)) == len(result.events)
        summaries = [row.summary for row in h.sessions()]
    assert [s["unit"] for s in summaries] == ["steps", "holds"]
    assert summaries[1]["holds"]["count"] == 2
    assert main(["history", "--db", str(db)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert rows[0].endswith("steps 4 (left 2, right 2)")
    assert rows[1].endswith("holds 2 (12 s held)")


def test_trend_plot_labels_the_bands_and_draws_the_thresholds(tmp_path) -> None:
    """The same history plotted with and without the thresholds: the dashed red lines
    (pelvic drop 5 deg, trunk lean 6 deg, FPPA 13.5 deg) are there only when drawn; the
    Piva bands are labelled right of the score panel; one person's sessions alone."""
    from itbcoach.config import load_config
    from itbcoach.report.trends import metric_thresholds, plot_trend

    config = load_config(use_user_file=False)
    assert metric_thresholds(config) == {
        "pelvic_drop_deg": (5.0, "pelvis fault ≥ 5°"), "trunk_lean_deg": (6.0, "trunk fault ≥ 6°"),
        "fppa_deg": (13.5, "FPPA noted > 13.5°")}
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        for i, person in enumerate(("Ana", "Ben", "Ana")):
            sid = h.start_session("live", "stepdown", "camera 0", person)
            h.add_event(sid, "stepdown_side", {"side": "left", "score": i, "metrics": {
                "pelvic_drop_deg": 2.0 + i, "trunk_lean_deg": 3.0, "fppa_deg": 8.0}},
                side="left")
            h.end_session(sid, "completed", {})
            time.sleep(0.002)
        plain, lined = tmp_path / "plain.png", tmp_path / "lined.png"
        assert plot_trend(h, "stepdown", plain) == 12
        assert plot_trend(h, "stepdown", lined, config=config) == 12
        assert plot_trend(h, "stepdown", tmp_path / "ana.png", person="Ana") == 8
    a, b = cv2.imread(str(plain)), cv2.imread(str(lined))

    def red(img: np.ndarray) -> int:  # matplotlib's tab:red (214, 39, 40) in BGR
        return int((np.abs(img.astype(int) - (40, 39, 214)).sum(axis=2) < 90).sum())

    assert red(b) - red(a) > 3 * 300  # three dashed lines (2 px) across ~640 px panels
    h4 = a.shape[0] // 4  # the score panel is the top quarter; its labels right of it
    right = slice(a.shape[1] - 90, a.shape[1])
    ink = [int((b[rows, right].min(axis=2) < 100).sum())
           for rows in (slice(0, h4), slice(h4, 2 * h4))]
    assert ink[0] > 300 and ink[1] < 20  # "good (0-1)", "medium (2-3)", "poor (4+)"
