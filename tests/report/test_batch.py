"""Batch scoring: parallel worker processes, a corrupt file, resuming, history, CLI rules."""

from __future__ import annotations

import json

import pytest

from itbcoach.cli.main import main
from itbcoach.report.batch import DONE_MARKER, output_dirs
from itbcoach.report.history import History

GOOD = ("sidetap_front_small_01.mp4", "sidestep_front_small_01.mp4")  # 4.2 s and 4.1 s


@pytest.fixture(scope="module")
def batch_run(shared_videos, model_path, tmp_path_factory):
    """Two real clips and one corrupt copy, scored with --jobs 2 through the CLI."""
    root = tmp_path_factory.mktemp("batch")
    broken = root / "broken_copy.mp4"
    data = (shared_videos / GOOD[1]).read_bytes()
    broken.write_bytes(data[: len(data) // 5])  # truncated: decoding stops early
    inputs = [str(shared_videos / GOOD[0]), str(broken), str(shared_videos / GOOD[1])]
    out = root / "out"
    db = root / "history.sqlite"
    return inputs, out, db, broken, root


def run_cli(args, db, monkeypatch, capsys):
    monkeypatch.setenv("ITBCOACH_HISTORY", str(db))
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_batch_finishes_good_files_and_reports_the_bad_one(batch_run, model_path,
                                                           monkeypatch, capsys) -> None:
    inputs, out, db, broken, _root = batch_run
    code, stdout, _ = run_cli(["score", *inputs, "--task", "monster-walk", "--report-dir",
                               str(out), "--jobs", "2", "--model", str(model_path),
                               "--no-progress"], db, monkeypatch, capsys)
    assert code == 1
    assert "batch: 2 scored, 0 already done (skipped), 1 failed" in stdout
    (line,) = [ln for ln in stdout.splitlines() if "FAILED" in ln]
    assert str(broken) in line and "is truncated or corrupt" in line
    for name in GOOD:
        folder = out / name.removesuffix(".mp4")
        marker = json.loads((folder / DONE_MARKER).read_text())
        assert marker["ok"] is True and marker["task"] == "monster-walk"
        assert {"report.html", "result.json", "metrics.csv"} <= {p.name for p in
                                                                 folder.iterdir()}
        result = json.loads((folder / "result.json").read_text())
        assert result["task"] == "monster-walk" and result["frames"] > 100
        assert not list(folder.glob(".*.part*")) and not list(folder.glob(".report*"))
    assert not (out / "broken_copy").exists()
    with History(db) as h:
        sessions = h.sessions("monster-walk")
    assert sorted(s.source.rsplit("/", 1)[-1] for s in sessions) == sorted(GOOD)
    assert {s.kind for s in sessions} == {"offline"} and {s.status for s in sessions} == {
        "completed"}


def test_batch_rerun_skips_finished_and_force_is_per_folder(batch_run, model_path,
                                                           monkeypatch, capsys) -> None:
    inputs, out, db, _broken, _root = batch_run
    if not (out / GOOD[0].removesuffix(".mp4") / DONE_MARKER).exists():
        pytest.skip("needs the batch of the previous test")
    before = (out / GOOD[0].removesuffix(".mp4") / DONE_MARKER).read_text()
    code, stdout, _ = run_cli(["score", *inputs, "--task", "monster-walk", "--report-dir",
                               str(out), "--jobs", "2", "--model", str(model_path),
                               "--no-progress"], db, monkeypatch, capsys)
    assert code == 1  # the corrupt file is tried again and fails again
    assert "batch: 0 scored, 2 already done (skipped), 1 failed" in stdout
    assert (out / GOOD[0].removesuffix(".mp4") / DONE_MARKER).read_text() == before
    with History(db) as h:
        assert len(h.sessions("monster-walk")) == 2  # nothing recorded twice
    # an unfinished folder (marker gone, e.g. killed mid-job) is scored again
    (out / GOOD[1].removesuffix(".mp4") / DONE_MARKER).unlink()
    code, stdout, _ = run_cli(["score", inputs[2], "--task", "monster-walk", "--report-dir",
                               str(out), "--model", str(model_path), "--no-progress"],
                              db, monkeypatch, capsys)
    assert code == 0 and "batch: 1 scored, 0 already done" in stdout
    assert (out / GOOD[1].removesuffix(".mp4") / DONE_MARKER).exists()


def test_output_dirs_disambiguate_equal_stems(tmp_path) -> None:
    dirs = output_dirs(["a/clip.mp4", "b/clip.mp4", "c/other.mp4"], tmp_path)
    assert dirs[2] == tmp_path / "other"
    assert dirs[0] != dirs[1] and dirs[0].name.startswith("clip-")
    assert len(dirs[0].name) == len("clip-") + 8


def test_cli_rules_for_several_inputs(tmp_path, capsys) -> None:
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert main(["score", str(a), str(b), "--task", "squat"]) == 2
    assert "needs --report-dir OUT" in capsys.readouterr().err
    assert main(["score", str(a), str(b), "--task", "squat", "--report-dir",
                 str(tmp_path / "o"), "--json", str(tmp_path / "x.json")]) == 2
    assert "drop --json/--report" in capsys.readouterr().err
    assert main(["score", str(a), "--task", "no-such-exercise"]) == 2
    assert "unknown task 'no-such-exercise'" in capsys.readouterr().err
    assert main(["score", str(a), "--task", "squat", "--jobs", "0", "--report-dir",
                 str(tmp_path)]) == 2


def test_annotate_needs_a_video(tmp_path, capsys) -> None:
    from itbcoach.landmarks import PoseSequence, save_npz

    path = tmp_path / "lm.npz"
    save_npz(path, PoseSequence.empty((640, 480)))
    code = main(["score", str(path), "--task", "squat", "--annotate", str(tmp_path / "a.mp4"),
                 "--no-history"])
    assert code == 3
    assert "--annotate needs a video input, not lm.npz" in capsys.readouterr().err


def test_ray_backend_runs_the_same_job(tmp_path) -> None:
    """The optional Ray backend: same outputs, same failure reporting (local Ray)."""
    pytest.importorskip("ray", reason="optional backend: pip install 'itbcoach[ray]'")
    from itbcoach.landmarks import save_npz
    from itbcoach.report.batch import run_batch
    from itbcoach.report.job import ScoreJob
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown

    spec = StepdownSpec(legs=(LegSpec("left", reps=2, pelvic_drop_deg=10.0),
                              LegSpec("right", reps=2)), lead_s=1.0, rest_s=0.6,
                        step_on_off=False)
    synth, _ = render_stepdown(spec)
    save_npz(tmp_path / "a.npz", synth.pose)
    (tmp_path / "bad.npz").write_bytes(b"junk")
    summary = run_batch([tmp_path / "a.npz", tmp_path / "bad.npz"], ScoreJob("", "stepdown"),
                        tmp_path / "out", jobs=2, progress=False, backend="ray")
    assert summary.exit_code == 1 and len(summary.failed) == 1
    assert "bad.npz" in summary.failed[0][0] and "cannot read as .npz" in summary.failed[0][1]
    result = json.loads((tmp_path / "out" / "a" / "result.json").read_text())
    assert [s["score"] for s in result["sides"]] == [1, 0]
    assert (tmp_path / "out" / "a" / DONE_MARKER).is_file()


def _affinity():
    import os

    return sorted(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"),
                    reason="no CPU affinity control on this platform")
def test_workers_take_one_core_each_when_there_are_enough_cores():
    import multiprocessing
    import os

    from itbcoach.report.batch import _worker_cores

    usable = sorted(os.sched_getaffinity(0))
    assert _worker_cores(1) == ()  # one worker keeps every core
    assert _worker_cores(len(usable) + 1) == ()  # more workers than cores: not pinned
    if len(usable) < 2:
        pytest.skip("one usable core")
    cores = _worker_cores(2)
    assert cores == tuple(usable)
    from itbcoach.report.batch import _worker_init

    ctx = multiprocessing.get_context("spawn")
    counter = ctx.Value("i", 0)
    seen = []
    for _ in range(2):  # two workers start in turn: the first core, then the second
        with ctx.Pool(1, initializer=_worker_init, initargs=(30, counter, cores)) as pool:
            seen.append(pool.apply(_affinity))
    assert seen == [[usable[0]], [usable[1]]]


def test_longest_videos_are_scheduled_first(shared_videos, tmp_path) -> None:
    from itbcoach.report.batch import BatchItem, schedule
    from itbcoach.report.job import ScoreJob

    names = {"squat_overhead_front_good_01.mp4": 72, "squat_sidestep_front_small_01.mp4": 152,
             "sidestep_front_small_01.mp4": 122}  # frames
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0" * 1000)
    paths = [str(broken), str(tmp_path / "seq.npz")] + [str(shared_videos / n) for n in names]
    items = [BatchItem(p, tmp_path, ScoreJob(p, "squat")) for p in paths]
    order = [it.input.rsplit("/", 1)[-1] for it in schedule(items)]
    assert order[:3] == ["squat_sidestep_front_small_01.mp4", "sidestep_front_small_01.mp4",
                         "squat_overhead_front_good_01.mp4"]
    assert set(order[3:]) == {"broken.mp4", "seq.npz"}  # unknown length: last
    # the file-size order differs: the 72-frame phone clip is the largest of the three
    by_size = sorted(names, key=lambda n: (shared_videos / n).stat().st_size)
    assert by_size[-1] == "squat_overhead_front_good_01.mp4"


def test_worker_exit_skips_teardown_but_flushes_output(tmp_path, run_python) -> None:
    out = run_python("import atexit, logging, sys\n"
                     "from itbcoach.report.batch import _exit_now\n"
                     "atexit.register(lambda: print('teardown ran'))\n"
                     "atexit.register(_exit_now)\n"
                     f"logging.basicConfig(filename={str(tmp_path / 'w.log')!r})\n"
                     "logging.warning('last words')\n"
                     "atexit.register(lambda: print('later handler ran'))\n"
                     "sys.stdout.write('buffered, no newline')\n", timeout=60)
    # handlers registered after it still run (first), the ones before it (the
    # interpreter's teardown) do not; buffered output is not lost
    assert out == "buffered, no newlinelater handler ran\n"
    assert "last words" in (tmp_path / "w.log").read_text()
