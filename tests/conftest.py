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


@pytest.fixture(scope="session")
def video_landmarks(shared_videos, model_path):
    """``get(name) -> (raw PoseSequence, meta)`` of a sample video, each run at most once.

    The real model runs over every frame (``extract_landmarks`` with the shipped
    defaults, no masking, no smoothing); results are cached for the whole session so
    every test reuses one extraction per video.
    """
    from itbcoach.config import load_config
    from itbcoach.pose import extract_landmarks

    config = load_config(use_user_file=False)
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = extract_landmarks(shared_videos / name, config, model=model_path,
                                            progress=False, mask=False, smooth=False)
        return cache[name]

    return get


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory, monkeypatch) -> Path:
    """Every test writes history to its own temporary database, never the user's."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    monkeypatch.setenv("ITBCOACH_HISTORY", str(path))
    return path
