"""Fault matrix, outputs: odd, unwritable and full targets of every file the program writes.

Each case asserts the exit code, one ``itbcoach:`` line on stderr (no traceback), no
temporary file left behind, earlier outputs untouched, and, for ``score``, that the
result still reached the history database.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from pathlib import Path

import pytest
from fault_helpers import one_line, run_cli, small_filesystem, temp_leftovers

from itbcoach.cli.main import main
from itbcoach.report.history import History

EARLIER = "earlier output, must survive\n"


def _score(npz: Path, *out: str) -> list[str]:
    return ["score", str(npz), "--task", "stepdown", "--no-progress", *out]


def _history_count() -> int:
    with History() as h:
        return len(h.sessions("stepdown"))


def _is_root() -> bool:
    return os.geteuid() == 0


@pytest.mark.parametrize("minor, code", [(3, 0), (7, 3)], ids=["null-device", "full-device"])
def test_json_to_a_device_is_written_in_place(stepdown_npz, tmp_path, capsys, minor,
                                              code) -> None:
    """A character device (a private /dev/null or /dev/full made by the test) is written
    into, never replaced by a regular file."""
    if not _is_root():
        pytest.skip("making a device node needs root")
    dev = tmp_path / "dev"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    assert main(_score(stepdown_npz, "--json", str(dev))) == code
    assert stat.S_ISCHR(dev.stat().st_mode)
    err = capsys.readouterr().err
    if code:
        assert one_line(err) == (f"itbcoach: cannot write {dev}: No space left on device; "
                                 "free some disk space or write elsewhere")
    assert _history_count() == 1
    assert temp_leftovers(tmp_path) == []


def test_json_to_a_fifo_reaches_its_reader(stepdown_npz, tmp_path, capsys) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert main(_score(stepdown_npz, "--json", str(fifo))) == 0
    reader.join(10)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(got[0])["task"] == "stepdown"


def test_json_through_a_symlink_replaces_the_file_not_the_link(stepdown_npz, tmp_path,
                                                              capsys) -> None:
    target = tmp_path / "real.json"
    target.write_text(EARLIER)
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    assert main(_score(stepdown_npz, "--json", str(link))) == 0
    assert link.is_symlink() and os.readlink(link) == target.name
    assert json.loads(target.read_text())["task"] == "stepdown"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # permissions kept
    assert temp_leftovers(tmp_path) == []


def test_json_dash_is_standard_output(stepdown_npz, tmp_path) -> None:
    done = run_cli(*_score(stepdown_npz, "--json", "-"), env={"PYTHONUNBUFFERED": "1"},
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["task"] == "stepdown"  # only JSON on stdout
    assert "Lateral step-down test" in done.stderr  # the summary moved to stderr
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("flag", ["--annotate", "--report"])
def test_dash_for_a_binary_output_is_a_usage_error(stepdown_npz, capsys, flag) -> None:
    assert main(_score(stepdown_npz, flag, "-")) == 2
    assert one_line(capsys.readouterr().err) == (
        f"itbcoach: {flag} cannot write to standard output ('-'); give a file name")
    assert _history_count() == 0  # refused before any work


def test_json_to_a_folder_is_one_line_after_the_result(stepdown_npz, tmp_path,
                                                       capsys) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert main(_score(stepdown_npz, "--json", str(folder))) == 3
    out, err = capsys.readouterr()
    assert "Lateral step-down test" in out  # the result is printed first
    assert one_line(err) == f"itbcoach: cannot write {folder}: it is a folder; give a file name"
    assert _history_count() == 1 and list(folder.iterdir()) == []


def test_report_under_a_file_is_one_line(stepdown_npz, tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text(EARLIER)
    json_out = tmp_path / "ok.json"
    assert main(_score(stepdown_npz, "--report", str(blocker / "rep"), "--json",
                       str(json_out))) == 3
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"itbcoach: cannot write {blocker}/rep/")
    assert line.endswith("a part of the path is a file, not a folder")
    assert blocker.read_text() == EARLIER
    assert json.loads(json_out.read_text())["task"] == "stepdown"  # the others written
    assert _history_count() == 1


def test_full_disk_keeps_earlier_outputs(stepdown_npz, tmp_path, capsys) -> None:
    """A report into a 64 KB filesystem: ENOSPC mid-write; the earlier report stays."""
    mnt = tmp_path / "small"
    with small_filesystem(mnt, 64) as mounted:
        if not mounted:
            pytest.skip("cannot mount a small filesystem here (see the mocked ENOSPC test)")
        rep = mnt / "rep"
        rep.mkdir()
        for name in ("report.html", "result.json", "metrics.csv"):
            (rep / name).write_text(EARLIER)
        assert main(_score(stepdown_npz, "--report", str(rep))) == 3
        line = one_line(capsys.readouterr().err)
        assert "No space left on device; free some disk space" in line
        assert all((rep / n).read_text() == EARLIER
                   for n in ("report.html", "result.json", "metrics.csv"))
        assert temp_leftovers(mnt) == []
    assert _history_count() == 1


def test_mocked_enospc_at_the_writer(stepdown_npz, tmp_path, capsys, monkeypatch) -> None:
    """The same on any machine: the writer's fsync fails with ENOSPC."""
    out = tmp_path / "r.json"
    out.write_text(EARLIER)

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert main(_score(stepdown_npz, "--json", str(out))) == 3
    assert one_line(capsys.readouterr().err) == (
        f"itbcoach: cannot write {out}: No space left on device; free some disk space or "
        "write elsewhere")
    assert out.read_text() == EARLIER and temp_leftovers(tmp_path) == []
    assert _history_count() == 1


def test_read_only_filesystem(stepdown_npz, tmp_path, capsys) -> None:
    mnt = tmp_path / "ro"
    with small_filesystem(mnt, 64, read_only=True) as mounted:
        if not mounted:
            pytest.skip("cannot mount a read-only filesystem here")
        assert main(_score(stepdown_npz, "--json", str(mnt / "r.json"))) == 3
        assert one_line(capsys.readouterr().err).endswith(
            "Read-only file system; the disk is read-only; write elsewhere")
    assert _history_count() == 1


def test_stale_temp_file_of_a_killed_run_is_removed(stepdown_npz, tmp_path, capsys) -> None:
    dead = 2**22 + 12345  # above pid_max on usual systems: not a live process
    stale = tmp_path / f".r.json.{dead}.0badc0de.part.json"
    stale.write_bytes(b"x" * 4096)
    assert main(_score(stepdown_npz, "--json", str(tmp_path / "r.json"))) == 0
    assert not stale.exists() and temp_leftovers(tmp_path) == []


def test_history_plot_errors(stepdown_npz, tmp_path, capsys) -> None:
    assert main(_score(stepdown_npz)) == 0
    capsys.readouterr()
    assert main(["history", "--task", "stepdown", "--plot", str(tmp_path)]) == 3
    out, err = capsys.readouterr()
    assert "stepdown" in out  # the listing came first
    assert one_line(err) == (f"itbcoach: cannot write {tmp_path}: it is a folder; give a "
                             "file name")
    assert main(["history", "--task", "stepdown", "--plot", "-"]) == 2
    assert main(["history", "--task", "stepdown", "--plot", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    assert temp_leftovers(tmp_path) == []


def test_batch_report_dir_that_is_a_file(stepdown_npz, tmp_path, capsys) -> None:
    root = tmp_path / "out"
    root.write_text(EARLIER)
    code = main(["score", str(stepdown_npz), "--task", "stepdown", "--report-dir", str(root),
                 "--no-progress"])
    assert code == 3
    assert one_line(capsys.readouterr().err).startswith(f"itbcoach: cannot write {root}")
    assert root.read_text() == EARLIER


def test_annotated_video_on_a_full_disk_leaves_no_part_file(tiny_clip, model_path, tmp_path,
                                                            capsys) -> None:
    mnt = tmp_path / "small"
    with small_filesystem(mnt, 32) as mounted:
        if not mounted:
            pytest.skip("cannot mount a small filesystem here")
        (mnt / "a.mp4").write_text(EARLIER)
        code = main(["score", str(tiny_clip), "--task", "squat", "--no-progress",
                     "--model", str(model_path), "--annotate", str(mnt / "a.mp4")])
        assert code == 3
        assert "No space left on device" in one_line(capsys.readouterr().err)
        assert (mnt / "a.mp4").read_text() == EARLIER
        assert temp_leftovers(mnt) == [] and sorted(p.name for p in mnt.iterdir()) == ["a.mp4"]
    with History() as h:
        assert len(h.sessions("squat")) == 1


def test_live_recording_on_a_full_disk(model_path, tmp_path, capsys) -> None:
    """The disk fills mid-session: coaching goes on, the session and the statistics are
    saved, the recording's error is one line after the summary, exit 3."""
    mnt = tmp_path / "small"
    with small_filesystem(mnt, 4) as mounted:  # one page: the first few frames fill it
        if not mounted:
            pytest.skip("cannot mount a small filesystem here")
        stats = tmp_path / "stats.json"
        squat = Path(__file__).resolve().parents[2] / "sample_videos" / "exercise_squat.mp4"
        code = main(["live", "--task", "squat", "--source", str(squat), "--no-window",
                     "--max-seconds", "2", "--mute", "--model", str(model_path), "--history",
                     str(tmp_path / "h.sqlite"), "--record", str(mnt / "rec.mp4"),
                     "--stats", str(stats)])
        out, err = capsys.readouterr()
        assert code == 3
        assert out.startswith("session 1 saved: ")
        assert one_line(err) == (f"itbcoach: cannot write {mnt / 'rec.mp4'}: No space left "
                                 "on device; free some disk space or write elsewhere")
        assert list(mnt.iterdir()) == []  # no partial video
    status = json.loads(stats.read_text())["status"]
    assert status in ("source ended", "time limit")  # a normal end, not a failure
    with History(tmp_path / "h.sqlite") as h:
        (session,) = h.sessions()
    assert session.status == status


def test_landmarks_output_on_a_full_disk(tiny_clip, model_path, tmp_path, capsys) -> None:
    mnt = tmp_path / "small"
    with small_filesystem(mnt, 16) as mounted:
        if not mounted:
            pytest.skip("cannot mount a small filesystem here")
        (mnt / "lm.npz").write_bytes(b"earlier")
        code = main(["landmarks", str(tiny_clip), "-o", str(mnt / "lm.npz"), "--model",
                     str(model_path), "--no-progress"])
        assert code == 3
        assert one_line(capsys.readouterr().err) == (
            f"itbcoach: cannot write {mnt / 'lm.npz'}: No space left on device; free some "
            "disk space or write elsewhere")
        assert (mnt / "lm.npz").read_bytes() == b"earlier"
        assert temp_leftovers(mnt) == []
