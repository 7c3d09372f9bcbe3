"""The README is for users: short, with pictures that exist; developer material in docs/."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Every section the README had before it was cut down (2026-12); each lives in docs/.
MOVED_SECTIONS = (
    "Quick start", "Command line", "Lateral step-down test", "Exercises",
    "Live coach (`itbcoach live`)", "Live loop speed", "Offline reports and batch",
    "Beyond one machine",
    "Speed (`python benchmarks/batch_bench.py`, writes `benchmarks/results/batch.json`)",
    "Synthetic ground truth (`itbcoach synth`, `itbcoach eval`)",
    "Accuracy (`itbcoach eval`)", "Pelvic drop: why MediaPipe under-reads it (issue 5, item 4)",
    "Pose model", "Landmarks from video and camera", "One person in view",
    "Landmark file format", "Geometry kernel", "Kernel speed", "Configuration")


def test_readme_is_short_and_its_pictures_and_links_exist() -> None:
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    for heading in ("## Quick start", "## How to film yourself", "## Task ids",
                    "## Where results go", "## Privacy"):
        assert heading in text
    targets = re.findall(r"\]\(((?:docs)/[^)#]+)\)", text)
    images = [t for t in targets if t.endswith(".png")]
    assert len(images) >= 3  # report, annotated video / live screen, filming guide
    for target in targets:
        assert (REPO / target).is_file(), target


def test_every_section_removed_from_the_readme_lives_in_docs() -> None:
    docs = "\n".join(p.read_text() for p in (REPO / "docs").glob("*.md"))
    headings = {h.strip() for h in re.findall(r"^#+ (.+)$", docs, flags=re.M)}
    missing = [s for s in MOVED_SECTIONS if s not in headings]
    assert not missing
