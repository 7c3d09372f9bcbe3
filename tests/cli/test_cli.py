"""The command line: help, version, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from itbcoach import __version__
from itbcoach.cli.main import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "itbcoach", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_help_and_version() -> None:
    out = run("--help")
    assert out.returncode == 0
    for cmd in ("score", "live", "landmarks", "models", "history", "config"):
        assert cmd in out.stdout
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"itbcoach {__version__}"


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


def test_bad_config_is_one_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[pose]\nnum_poses = 'x'\n")
    assert main(["--config", str(bad), "config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("itbcoach: ")
    assert "'pose.num_poses' must be a whole number" in err


def test_config_show_and_check(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--set", "pose.model_variant=lite", "config", "show"]) == 0
    assert '"model_variant": "lite"' in capsys.readouterr().out
    good = tmp_path / "good.toml"
    good.write_text("[smoothing]\nmax_gap_s = 0.2\n")
    assert main(["config", "check", str(good)]) == 0
    assert main(["config", "defaults"]) == 0
    assert "[pose]" in capsys.readouterr().out


def test_score_missing_input_is_one_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(tmp_path / "nope.mp4"), "--task", "stepdown"]) == 3
    err = capsys.readouterr().err
    assert err == f"itbcoach: input not found: {tmp_path / 'nope.mp4'}\n"


def _blank_video(path) -> str:
    """A 12-frame 160x120 grey video with nobody in it (the model runs, finds no one)."""
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (160, 120))
    try:
        for _ in range(12):
            writer.write(np.full((120, 160, 3), 128, np.uint8))
    finally:
        writer.release()
    return str(path)


@pytest.mark.parametrize("order", ["annotate_first", "annotate_last"])
def test_score_annotate_in_any_order(tmp_path, order: str) -> None:
    """``--annotate`` (optional value) before INPUT no longer takes the input as its path:
    both orders score the video (nobody in it: exit 4 with the scorer's message) and
    write ``<stem>.annotated.mp4`` in the current folder."""
    video = _blank_video(tmp_path / "clip.mp4")
    work = tmp_path / "cwd"
    work.mkdir()
    args = (["score", "--annotate", video, "--task", "stepdown"] if order == "annotate_first"
            else ["score", "--task", "stepdown", video, "--annotate"])
    out = subprocess.run([sys.executable, "-m", "itbcoach", *args, "--pain", "no",
                          "--no-progress", "--no-history"], capture_output=True, text=True,
                         timeout=180, check=False, cwd=work)
    assert out.returncode == 4, out.stderr
    assert "no step-down scored: no person was found" in out.stdout
    assert (work / "clip.annotated.mp4").stat().st_size > 0
    assert not (work / "clip.mp4").exists()


def test_score_annotate_path_and_input_rules(tmp_path, capsys) -> None:
    """A path after ``--annotate`` stays the output when an input is given too; an
    output that is the input, or no input at all, is a usage error."""
    import argparse

    from itbcoach.cli.main import build_parser
    from itbcoach.cli.score_cmd import resolve_inputs

    parser = build_parser()
    args = parser.parse_args(["score", "--annotate", "out.mp4", "in.mp4", "--task", "x"])
    resolve_inputs(args)
    assert (args.inputs, args.annotate) == (["in.mp4"], "out.mp4")
    args = parser.parse_args(["score", "a.mp4", "--annotate", "b.mp4", "--report-dir", "O",
                              "--task", "x"])
    resolve_inputs(args)
    assert (args.inputs, args.annotate) == (["b.mp4", "a.mp4"], "")
    assert isinstance(args, argparse.Namespace)
    assert main(["score", "--task", "stepdown"]) == 2
    assert capsys.readouterr().err == ("itbcoach: score needs at least one INPUT (a video or "
                                       "a landmark .npz)\n")
    assert main(["score", "in.mp4", "--annotate", "./in.mp4", "--task", "stepdown"]) == 2
    assert "would overwrite the input" in capsys.readouterr().err


def test_height_outside_human_range_is_a_usage_error(capsys) -> None:
    assert main(["score", "clip.mp4", "--task", "stepdown", "--height-cm", "17.5"]) == 2
    assert capsys.readouterr().err == ("itbcoach: --height-cm 17.5: give the person's "
                                       "standing height in cm (80-250)\n")
