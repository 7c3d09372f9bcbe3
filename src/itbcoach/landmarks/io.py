"""The landmark interchange file (``.npz``).

Keys (see docs/pose-and-landmarks.md, "Landmark file format"):

* ``landmarks``: float32 ``(T, 33, 4)`` = x, y, z, visibility (normalised image coords).
* ``timestamps_ms``: int64 ``(T,)``, strictly increasing.
* ``image_size``: int64 ``(2,)`` = width, height in pixels.
* ``world_landmarks`` (optional): float32 ``(T, 33, 3)`` metres.
* ``presence`` (optional): float32 ``(T, 33)``.
* ``masked``, ``smoothed`` (optional): bool scalars, how the landmarks were processed
  (:func:`load_npz_processing`); absent = raw model output.

Frames without a pose are NaN.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from itbcoach.landmarks.types import NUM_LANDMARKS, PoseSequence

REQUIRED_KEYS = ("landmarks", "timestamps_ms", "image_size")
#: Optional bool scalars saying how the landmarks were processed.
PROCESSING_KEYS = ("masked", "smoothed")


class LandmarkFileError(ValueError):
    """A landmark file is missing, unreadable or has the wrong content."""


def save_npz(path: str | os.PathLike[str], seq: PoseSequence, *, masked: bool | None = None,
             smoothed: bool | None = None) -> Path:
    """Write ``seq`` to ``path`` through :mod:`itbcoach.output` (atomic for a file;
    ``OutputError`` on failure). Returns the path.

    Args:
        path: the ``.npz`` to write.
        seq: the landmarks.
        masked: store the ``masked`` key (low-visibility points already NaN); None = no
            key (a reader treats the file as raw).
        smoothed: store the ``smoothed`` key (already outlier-filtered and low-passed as
            :func:`itbcoach.pose.smooth_offline` does); None = no key.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "landmarks": np.concatenate([seq.landmarks, seq.visibility[..., None]], axis=-1)
        .astype(np.float32),
        "timestamps_ms": seq.timestamps_ms.astype(np.int64),
        "image_size": np.asarray(seq.image_size, dtype=np.int64),
        "presence": seq.presence.astype(np.float32),
    }
    if seq.world_landmarks is not None:
        arrays["world_landmarks"] = seq.world_landmarks.astype(np.float32)
    for key, flag in (("masked", masked), ("smoothed", smoothed)):
        if flag is not None:
            arrays[key] = np.asarray(bool(flag))
    from itbcoach.output import output_path

    with output_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def load_npz(path: str | os.PathLike[str]) -> PoseSequence:
    """Read a landmark file.

    Raises:
        LandmarkFileError: the file is missing, not an npz, lacks a key or has a bad shape;
            the message names the file and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise LandmarkFileError(f"landmark file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in REQUIRED_KEYS if k not in data.files]
            if missing:
                raise LandmarkFileError(
                    f"{path}: not an itbcoach landmark file, missing key(s) {', '.join(missing)}"
                    " (expected landmarks, timestamps_ms, image_size)")
            arrays = {k: data[k] for k in data.files}
    except LandmarkFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise LandmarkFileError(f"{path}: cannot read as .npz ({exc}); "
                                "re-create it with 'itbcoach landmarks'") from None
    for key in ("landmarks", "timestamps_ms", "image_size", "presence", "world_landmarks"):
        if key in arrays and arrays[key].dtype.kind not in "fiu":  # float, int, unsigned
            raise LandmarkFileError(f"{path}: {key!r} must hold numbers, got "
                                    f"{arrays[key].dtype} values; re-create it with "
                                    "'itbcoach landmarks'")
    lm = arrays["landmarks"]
    if lm.ndim != 3 or lm.shape[1:] != (NUM_LANDMARKS, 4):
        raise LandmarkFileError(
            f"{path}: 'landmarks' must have shape (T, 33, 4), got {tuple(lm.shape)}")
    size = arrays["image_size"].reshape(-1)
    if size.shape != (2,):
        raise LandmarkFileError(f"{path}: 'image_size' must have shape (2,), got {size.shape}")
    t = lm.shape[0]
    presence = arrays.get("presence")
    if presence is None:
        presence = np.full((t, NUM_LANDMARKS), np.nan, np.float32)
        presence[np.isfinite(lm[..., 3])] = 1.0
    try:
        return PoseSequence(
            landmarks=lm[..., :3],
            visibility=lm[..., 3],
            presence=presence,
            timestamps_ms=arrays["timestamps_ms"],
            image_size=(int(size[0]), int(size[1])),
            world_landmarks=arrays.get("world_landmarks"),
        )
    except ValueError as exc:
        raise LandmarkFileError(f"{path}: {exc}") from None


def load_npz_processing(path: str | os.PathLike[str]) -> dict[str, bool]:
    """How a landmark file's landmarks were processed: ``{"masked": bool, "smoothed":
    bool}``, False for a key the file lacks (files written before the keys existed,
    or by other tools, count as raw model output).

    Raises:
        LandmarkFileError: the file cannot be read or a key is not a bool scalar.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            found = {k: data[k] for k in PROCESSING_KEYS if k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise LandmarkFileError(f"{path}: cannot read as .npz ({exc}); "
                                "re-create it with 'itbcoach landmarks'") from None
    out = {k: False for k in PROCESSING_KEYS}
    for key, value in found.items():
        if value.shape != () or value.dtype.kind not in "bi":
            raise LandmarkFileError(f"{path}: {key!r} must be a true/false scalar, got "
                                    f"{value.dtype} {tuple(value.shape)}")
        out[key] = bool(value)
    return out
