"""Fault matrix, batch: reruns keyed on content and config, Ctrl-C, kill -9 of the parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_helpers import one_line, temp_leftovers

from itbcoach.cli.main import main
from itbcoach.report.batch import DONE_MARKER


def _batch(inputs, out, *extra) -> tuple[int, str]:
    code = main(["score", *map(str, inputs), "--task", "stepdown", "--report-dir", str(out),
                 "--no-progress", "--no-history", *extra])
    return code


def _other_stepdown(path: Path) -> None:
    from itbcoach.landmarks import save_npz
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown

    spec = StepdownSpec(legs=(LegSpec("left", reps=3), LegSpec("right", reps=3,
                                                                 trunk_lean_deg=12.0)),
                        lead_s=1.0, rest_s=0.6, step_on_off=False)
    save_npz(path, render_stepdown(spec)[0].pose)


def test_rerun_is_keyed_on_content_config_and_version(stepdown_npz, tmp_path, capsys) -> None:
    clip = tmp_path / "clip.npz"
    clip.write_bytes(stepdown_npz.read_bytes())
    out = tmp_path / "out"
    assert _batch([clip], out) == 0
    marker = json.loads((out / "clip" / DONE_MARKER).read_text())
    assert set(marker["key"]) == {"input", "config", "version", "settings"}
    assert set(marker["key"]["input"]) == {"size", "mtime_ns", "sha256"}
    capsys.readouterr()
    assert _batch([clip], out) == 0  # unchanged: skipped
    assert "0 scored, 1 already done" in capsys.readouterr().out
    # settings that do not change the result (worker count): still done
    assert _batch([clip], out, "--jobs", "1") == 0
    assert "0 scored, 1 already done" in capsys.readouterr().out
    # a different file under the same name
    _other_stepdown(clip)
    assert _batch([clip], out) == 0
    assert "1 scored, 0 already done" in capsys.readouterr().out
    reps = json.loads((out / "clip" / "result.json").read_text())["sides"]
    assert sorted(len(s["reps"]) for s in reps) == [3, 3]
    # the same content rewritten in place (new mtime): scored again
    data = clip.read_bytes()
    clip.write_bytes(data)
    os.utime(clip, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert _batch([clip], out) == 0
    assert "1 scored, 0 already done" in capsys.readouterr().out
    # a changed configuration
    code = main(["--set", "stepdown.trunk_lean_deg=8", "score", str(clip), "--task",
                 "stepdown", "--report-dir", str(out), "--no-progress", "--no-history"])
    assert code == 0 and "1 scored, 0 already done" in capsys.readouterr().out
    # another program version
    marker = json.loads((out / "clip" / DONE_MARKER).read_text())
    marker["key"]["version"] = "0.0.1"
    (out / "clip" / DONE_MARKER).write_text(json.dumps(marker))
    code = main(["--set", "stepdown.trunk_lean_deg=8", "score", str(clip), "--task",
                 "stepdown", "--report-dir", str(out), "--no-progress", "--no-history"])
    assert code == 0 and "1 scored, 0 already done" in capsys.readouterr().out


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _is_worker(pid: int) -> bool:
    """A pool worker (not the resource tracker nor the native-log filter)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in cmd and b"resource_tracker" not in cmd


def _start_batch(clips: list[Path], out: Path, model_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "itbcoach", "score", *map(str, clips), "--task", "squat",
         "--report-dir", str(out), "--jobs", "2", "--no-progress", "--no-history",
         "--model", str(model_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)


def _wait_for_workers(proc: subprocess.Popen[str], n: int = 2, settle_s: float = 4.0) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = [k for k in _children(proc.pid) if _is_worker(k)]
        if len(kids) >= n:
            time.sleep(settle_s)  # the workers are now scoring
            return kids
        time.sleep(0.1)
    raise AssertionError("the workers did not start")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_the_batch_promptly_and_leaves_no_half_job(short_clips, model_path,
                                                                tmp_path) -> None:
    out = tmp_path / "out"
    proc = _start_batch(short_clips, out, model_path)
    workers = _wait_for_workers(proc, settle_s=0.0)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob(f"*/{DONE_MARKER}")):
        time.sleep(0.05)  # one input finished, the other worker is mid-job
    time.sleep(0.5)
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # as the terminal does: the whole group
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - t0
    assert proc.returncode == 130, err
    assert one_line(err).startswith("itbcoach: interrupted — ")
    assert took < 5.0  # measured ~0.3 s (docs/reliability.md); 9-13 s before
    assert not any(Path(f"/proc/{w}").exists() for w in workers)
    done = [c for c in short_clips if (out / c.stem / DONE_MARKER).exists()]
    assert 1 <= len(done) <= 2
    assert f"— {len(done)} finished input(s) saved, {3 - len(done)} not scored" in err
    for clip in done:
        assert json.loads((out / clip.stem / "result.json").read_text())["task"] == "squat"
    assert temp_leftovers(out) == []
    # the rerun scores only what was not finished
    again = subprocess.run(
        [sys.executable, "-m", "itbcoach", "score", *map(str, short_clips), "--task",
         "squat", "--report-dir", str(out), "--no-progress", "--no-history", "--model",
         str(model_path)], capture_output=True, text=True, timeout=300, check=False)
    assert f"{3 - len(done)} scored, {len(done)} already done" in again.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_parent(short_clips, model_path, tmp_path) -> None:
    proc = _start_batch(short_clips, tmp_path / "out", model_path)
    workers = _wait_for_workers(proc, settle_s=1.0)
    proc.kill()  # kill -9: no handler runs in the parent
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.05)
    alive = [w for w in workers if Path(f"/proc/{w}").exists()
             and "Z" not in (Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0])]
    assert alive == []
