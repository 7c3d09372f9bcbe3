"""Shared fixtures: the real footage in ../shared and the real pose model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ITBCOACH_SHARED", REPO.parent / "shared"))
SHARED_VIDEOS = SHARED / "sample_videos"
SHARED_REAL_CLIPS = SHARED / "real_clips"


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


def _cached_extraction(root: Path, model_path: Path):
    """``get(name)``: the raw landmarks of ``root / name`` (the real model over every
    frame, shipped defaults, no masking or smoothing), extracted at most once."""
    from itbcoach.config import load_config
    from itbcoach.pose import extract_landmarks

    config = load_config(use_user_file=False)
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = extract_landmarks(root / name, config, model=model_path,
                                            progress=False, mask=False, smooth=False)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def video_landmarks(shared_videos, model_path):
    """``get(name) -> (raw PoseSequence, meta)`` of a sample video, each run at most once.

    The real model runs over every frame (``extract_landmarks`` with the shipped
    defaults, no masking, no smoothing); results are cached for the whole session so
    every test reuses one extraction per video.
    """
    return _cached_extraction(shared_videos, model_path)


@pytest.fixture(scope="session")
def sample_landmarks(model_path):
    """``get(name) -> (raw PoseSequence, meta)`` of a project render in ``sample_videos/``,
    each extracted at most once per session as :func:`video_landmarks` does."""
    return _cached_extraction(REPO / "sample_videos", model_path)


@pytest.fixture(scope="session")
def real_clip_landmarks(model_path):
    """``get(name) -> (raw PoseSequence, meta)`` of a clip of ``../shared/real_clips``
    (the second real set: lunges, hinges, squat variants from several views), each
    extracted at most once per session as :func:`video_landmarks` does; skips when the
    folder is absent."""
    if not (SHARED_REAL_CLIPS / "MANIFEST.md").is_file():
        pytest.skip(f"real clips not found at {SHARED_REAL_CLIPS} (../shared beside the repo)")
    return _cached_extraction(SHARED_REAL_CLIPS, model_path)


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory, monkeypatch) -> Path:
    """Every test writes history to its own temporary database, never the user's."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    monkeypatch.setenv("ITBCOACH_HISTORY", str(path))
    return path


#: The two-person test video: two real people side by side on one 640x360 canvas.
TWO_PEOPLE_FPS = 10.0


def write_two_people_video(shared_videos: Path, path: Path) -> Path:
    """Two real people side by side (``squat_front_01`` left, ``kneelift_front_small_01``
    right, each cropped around the person to 640x720 and the pair halved to 640x360),
    every 3rd frame at 10 fps: 52 frames, 5.2 s. Both are ~0.65-0.7 of the frame height,
    as two adults side by side in front of a laptop camera; MediaPipe's detector finds
    both (a person much smaller in a wide frame can go unseen)."""
    import cv2
    import numpy as np

    from itbcoach.pose.sources import VideoFileSource

    def every_third(name: str) -> list[np.ndarray]:
        with VideoFileSource(shared_videos / name) as src:
            return [f.image for f in src if f.frame_id % 3 == 0]

    left, right = every_third("squat_front_01.mp4"), every_third("kneelift_front_small_01.mp4")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), TWO_PEOPLE_FPS,
                             (640, 360))
    try:
        for a, b in zip(left, right, strict=False):  # squat 12 s, knee lifts 5.2 s
            pair = np.hstack([a[:, 330:970], cv2.resize(b[50:490, 293:683], (640, 720))])
            writer.write(cv2.resize(pair, (640, 360), interpolation=cv2.INTER_AREA))
    finally:
        writer.release()
    return path


@pytest.fixture(scope="session")
def two_people_video(shared_videos, tmp_path_factory) -> Path:
    """Path of the two-person test video (written once per session, see
    :func:`write_two_people_video`)."""
    return write_two_people_video(shared_videos,
                                  tmp_path_factory.mktemp("two_people") / "two_people.mp4")


def _run_python(code: str, timeout: float = 120.0) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def run_python():
    """``run_python(code, timeout=120)``: run ``code`` in a fresh interpreter (exit code 0
    asserted) and return its standard output."""
    return _run_python
