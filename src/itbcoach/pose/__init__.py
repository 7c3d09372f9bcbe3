"""Pose stage: model supply, the MediaPipe adapter, frame sources, smoothing, framing.

Re-exported flat; names are imported lazily so that ``import itbcoach.pose`` stays cheap
and only code that runs the model loads mediapipe
(:mod:`itbcoach.pose.landmarker` is the one module importing it).

* :func:`extract_landmarks` -- a video / image folder / image -> ``(PoseSequence, meta)``;
  :func:`postprocess` -- its masking and offline smoothing.
* :class:`PeopleCheck`, :class:`PeopleMonitor` -- the sparse second-person check.
* :class:`VideoLandmarker`, :class:`LiveLandmarker`, :class:`ImageLandmarker`,
  :class:`PoseCandidates`, :class:`TargetSelector`, :class:`LiveResult` -- the adapter.
* :class:`VideoFileSource`, :class:`CameraSource`, :class:`ImageFolderSource`,
  :class:`Frame`, :func:`open_source` -- frame sources.
* :class:`OneEuroFilter`, :func:`smooth_offline`,
  :func:`mask_low_visibility` -- smoothing.
* :func:`assess_framing`, :class:`FramingResult`, :class:`Facing`, :class:`Problem` --
  the framing / view gate.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "extract_landmarks": "pipeline",
    "frame_brightness": "pipeline",
    "postprocess": "pipeline",
    "PeopleCheck": "people",
    "PeopleMonitor": "people",
    "VideoLandmarker": "landmarker",
    "LiveLandmarker": "landmarker",
    "ImageLandmarker": "landmarker",
    "LiveResult": "landmarker",
    "PoseCandidates": "landmarker",
    "TargetSelector": "landmarker",
    "to_mp_image": "landmarker",
    "Frame": "sources",
    "VideoFileSource": "sources",
    "CameraSource": "sources",
    "ImageFolderSource": "sources",
    "open_source": "sources",
    "read_image": "sources",
    "OneEuroFilter": "smoothing",
    "smooth_offline": "smoothing",
    "mask_low_visibility": "smoothing",
    "assess_framing": "framing",
    "FramingResult": "framing",
    "Facing": "framing",
    "Problem": "framing",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'itbcoach.pose' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"itbcoach.pose.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
