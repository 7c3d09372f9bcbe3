"""The README's quick start, run as a user runs it.

The score command is taken from the README's first code block (so the test follows the
README), run in a subprocess in a fresh folder, and checked: stdout is exactly the result
the README documents, and stderr holds only lines itbcoach writes (its progress bar and
the files written), no native MediaPipe/TFLite/absl log line. The missing-file variant is
exactly one line.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")

#: Every stderr line of a successful run must match one of these (tqdm redraws with \r).
OUR_STDERR = re.compile(
    r"^(?:stepdown_right_faulty\.mp4: +\d+%\|.*(?:frame/s|s/frame)\]"  # progress bar (tqdm
    # shows s/frame below 1 frame/s: the first frame, a loaded machine)
    r"|\s*"  # the bar's clearing
    r"|wrote out/report/(?:annotated\.mp4|metrics\.csv|report\.html|result\.json|reps\.csv)"
    r"|downloaded mediapipe==0\.10\.21 wheel to assemble the pose model \(\d+\.\d MB\))$")


def quick_start_command() -> list[str]:
    """The ``itbcoach score ...`` part of the README's install-and-run command."""
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S)
    assert block, "README has no Quick start bash block"
    line = next(ln for ln in block.group(1).splitlines() if "itbcoach score" in ln)
    command = line[line.index("itbcoach score"):]
    assert "&&" not in command
    return shlex.split(command)


def documented_output() -> str:
    block = re.search(r"<!-- quick-start output: begin -->\n```text\n(.*?)```\n"
                      r"<!-- quick-start output: end -->", README, re.S)
    assert block, "README lacks the documented quick-start output"
    return block.group(1)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    (cwd / "sample_videos").symlink_to(REPO / "sample_videos")
    return subprocess.run([sys.executable, "-m", "itbcoach", *args[1:]], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_readme_quick_start_prints_the_documented_result_and_only_our_lines(
        tmp_path: Path, model_path: Path) -> None:
    args = quick_start_command()
    assert args[:3] == ["itbcoach", "score", "sample_videos/stepdown_right_faulty.mp4"]
    proc = _run(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == documented_output()
    lines = proc.stderr.replace("\r", "\n").splitlines()
    foreign = [ln for ln in lines if not OUR_STDERR.match(ln)]
    assert foreign == []
    assert sum(ln.startswith("wrote ") for ln in lines) == 5
    for name in ("report.html", "annotated.mp4", "result.json", "metrics.csv", "reps.csv"):
        assert (tmp_path / "out" / "report" / name).stat().st_size > 0


def test_quick_start_on_a_missing_file_is_exactly_one_line(tmp_path: Path,
                                                           model_path: Path) -> None:
    args = [a.replace("stepdown_right_faulty.mp4", "no_such_clip.mp4")
            for a in quick_start_command()]
    proc = _run(args, tmp_path)
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr == "itbcoach: input not found: sample_videos/no_such_clip.mp4\n"
    assert not (tmp_path / "out").exists()
