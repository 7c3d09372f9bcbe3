"""Shared fixtures: the real footage in ../shared and the real pose model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ITBCOACH_SHARED", REPO.parent / "shared"))
SHARED_VIDEOS = SHARED / "sample_videos"


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    """``../shared/sample_videos`` (real footage); skips when absent."""
    if not (SHARED_VIDEOS / "MANIFEST.md").is_file():
        pytest.skip(f"real footage not found at {SHARED_VIDEOS} (../shared beside the repo)")
    return SHARED_VIDEOS


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The full PoseLandmarker bundle, fetched or assembled into the cache once."""
    from itbcoach.pose.models import resolve_model

    return resolve_model("full", progress=False)
