"""Scoring stage: the step-down test and exercise counting behind one entry point.

* :func:`load_input` turns a video or a landmark ``.npz`` into a :class:`PoseSequence`.
* :func:`itbcoach.scoring.session.score_stepdown` scores the step-down test;
  :func:`itbcoach.tasks.score_task` (the layer above scoring and exercises) picks the
  step-down test or an exercise by task id.

Both return a result object with ``summary() -> str`` (human-readable), ``to_json() ->
dict`` and ``ok`` (something was measured).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from itbcoach.config import Config
from itbcoach.errors import InputError
from itbcoach.landmarks import LandmarkFileError, PoseSequence, load_npz, load_npz_processing

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"}


class TaskResult(Protocol):
    """What :func:`score_task` returns."""

    ok: bool

    def summary(self) -> str:
        """Human-readable result for the terminal."""
        ...

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        ...


def load_input(path: Path, config: Config, model: str | None = None,
               progress: bool = True, *, allow_multiple: bool = False,
               smooth: bool = True, mask: bool = True) -> tuple[PoseSequence, dict[str, Any]]:
    """Landmarks of a video (run through the pose model) or a landmark file.

    Either way the landmarks come back processed the same way: low-visibility points
    masked and (unless ``smooth`` is False: tasks whose streaming session filters the
    frames itself) the sequence smoothed offline (:func:`itbcoach.pose.postprocess`). A
    landmark file is processed here unless its optional ``masked`` / ``smoothed`` keys
    say that was already done (docs/pose-and-landmarks.md, "Landmark file format").

    Args:
        path: a video file or a landmark ``.npz``.
        config: the configuration.
        model: explicit ``.task`` bundle (videos).
        progress: progress bar while the model runs.
        allow_multiple: accept a video with several people in view (see
            :func:`itbcoach.pose.extract_landmarks`).
        smooth: smooth offline (else ``meta["smoothed"]`` says whether the file was).

    Returns:
        The sequence and metadata about how it was obtained (``source``, ``kind``,
        ``masked`` and ``smoothed`` (both True on return), model, fps...); for a landmark
        file ``file_masked`` / ``file_smoothed`` say what the file itself held.

    Raises:
        InputError: missing or unreadable input.
        NoResultError: two people in view in a video (unless ``allow_multiple``).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.suffix.lower() == ".npz":
        from itbcoach.pose.pipeline import postprocess

        try:
            seq = load_npz(path)
            done = load_npz_processing(path)
        except LandmarkFileError as exc:
            raise InputError(str(exc)) from None
        seq = postprocess(seq, config, mask=mask and not done["masked"],
                          smooth=smooth and not done["smoothed"])
        return seq, {"source": str(path), "kind": "landmarks",
                     "masked": mask or done["masked"],
                     "smoothed": smooth or done["smoothed"], "file_masked": done["masked"],
                     "file_smoothed": done["smoothed"]}
    from itbcoach.pose import extract_landmarks

    return extract_landmarks(path, config, model=model, progress=progress,
                             allow_multiple=allow_multiple, smooth=smooth, mask=mask)
