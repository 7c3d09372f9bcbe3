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
