"""Landmark indices, the typed landmark container and the interchange file."""

from itbcoach.landmarks.io import LandmarkFileError, load_npz, load_npz_processing, save_npz
from itbcoach.landmarks.types import NUM_LANDMARKS, POSE_CONNECTIONS, Landmark, PoseSequence

__all__ = [
    "NUM_LANDMARKS",
    "POSE_CONNECTIONS",
    "Landmark",
    "LandmarkFileError",
    "PoseSequence",
    "load_npz",
    "load_npz_processing",
    "save_npz",
]
