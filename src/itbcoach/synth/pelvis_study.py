"""Why MediaPipe under-reads pelvic drop, and a correction fitted on renders (issue 5).

For every counted rep of a rendered step-down clip this module lines up, frame by frame,

* the **truth**: the change of the projected rig hip line from the rep's standing
  baseline (:mod:`itbcoach.synth.clip` ground truth), signed + = free side down, and
* **features** from MediaPipe's landmarks, the same baseline-relative, stance-signed
  quantities the scorer can compute at run time (:data:`FEATURES`).

:func:`fit` finds linear weights (no intercept: every feature and the truth are 0 at the
baseline); :func:`cross_validate` fits on some clips and measures on the others
(leave-clips-out), per frame and per rep (the scorer's peak and its ``>= 5 deg``
criterion). :mod:`itbcoach.scoring.pelvis_fit` applies fitted weights at run time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from itbcoach.config import Config
from itbcoach.scoring.pelvis_fit import FEATURES, features

log = logging.getLogger(__name__)

#: Standing frames before a rep used as its baseline, s (as the scorer's window).
BASELINE_S = 0.5


@dataclass(frozen=True)
class RepSample:
    """One rep's frames.

    Attributes:
        clip: clip name (the cross-validation group).
        stance: 0 = left stance leg, 1 = right.
        x: ``(N, F)`` features (:data:`FEATURES`), NaN where unknown.
        y: ``(N,)`` true drop, degrees, + = free side down.
        true_peak: the true drop of largest magnitude over the rep, degrees.
    """

    clip: str
    stance: int
    x: np.ndarray
    y: np.ndarray
    true_peak: float


def clip_samples(video: Path, config: Config,
                 landmark_cache: Path | None = None) -> list[RepSample]:
    """The :class:`RepSample` of every counted rep of one rendered step-down clip.

    MediaPipe runs once per clip (:func:`itbcoach.synth.evaluate.cached_landmarks`).
    """
    from itbcoach.kernel import compute_metrics
    from itbcoach.synth.clip import load_truth
    from itbcoach.synth.evaluate import cached_landmarks

    doc = load_truth(video)
    if doc["kind"] != "stepdown":
        return []
    seq, _meta = cached_landmarks(Path(video), config, landmark_cache)
    met = compute_metrics(seq.landmarks.astype(np.float64), seq.image_size,
                          seq.world_landmarks)
    truth = np.asarray(doc["frames_truth"]["projected"]["pelvic_obliquity"], float)
    t_s = np.asarray(doc["frames_truth"]["t_ms"], float) / 1000.0
    n = min(len(seq), len(truth))
    out = []
    for rep in doc["reps"]:
        if not rep["counted"]:
            continue
        stance = 0 if rep["side"] == "left" else 1
        a = int(np.searchsorted(t_s, rep["start_s"]))
        b = min(int(np.searchsorted(t_s, rep["end_s"])) + 1, n)
        b0 = max(int(np.searchsorted(t_s, rep["start_s"] - BASELINE_S)), 0)
        if b - a < 5 or a - b0 < 3:
            continue
        x = features(met[a:b], met[b0:a], stance)
        sign = 1.0 if stance == 0 else -1.0
        y = sign * (truth[a:b] - np.nanmedian(truth[b0:a]))
        peak = float(y[np.nanargmax(np.abs(y))])
        out.append(RepSample(Path(video).stem, stance, x, y, peak))
    return out


def fit(samples: Iterable[RepSample], columns: Sequence[str] = FEATURES,
        ridge: float = 1.0) -> np.ndarray:
    """Least-squares weights (no intercept, small ridge) of ``columns`` -> true drop.

    Returns:
        ``(len(columns),)`` weights.
    """
    idx = [FEATURES.index(c) for c in columns]
    xs, ys = [], []
    for s in samples:
        x = s.x[:, idx]
        ok = np.isfinite(x).all(axis=1) & np.isfinite(s.y)
        xs.append(x[ok])
        ys.append(s.y[ok])
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    a = x.T @ x + ridge * np.eye(x.shape[1])
    return np.linalg.solve(a, x.T @ y)


def predict(sample: RepSample, weights: np.ndarray,
            columns: Sequence[str] = FEATURES) -> np.ndarray:
    """Per-frame drop estimate ``(N,)`` of one rep, degrees."""
    idx = [FEATURES.index(c) for c in columns]
    return sample.x[:, idx] @ weights


def _peak(x: np.ndarray) -> float:
    if not np.isfinite(x).any():
        return float("nan")
    return float(x[np.nanargmax(np.abs(x))])


def score(samples: Sequence[RepSample], estimates: Sequence[np.ndarray],
          threshold: float = 5.0) -> dict[str, float]:
    """Per-frame and per-rep error of ``estimates`` (one array per sample).

    Returns:
        ``frame_mae``, ``frame_bias``, ``rep_mae``, ``rep_bias`` (degrees) and the
        per-rep criterion ``|peak| >= threshold``: ``sensitivity``, ``specificity``,
        ``positives``, ``negatives``.
    """
    err = np.concatenate([e - s.y for s, e in zip(samples, estimates, strict=True)])
    err = err[np.isfinite(err)]
    pk = np.array([_peak(e) for e in estimates])
    tp_ = np.array([s.true_peak for s in samples])
    ok = np.isfinite(pk)
    pos = np.abs(tp_) >= threshold
    hit = np.abs(pk) >= threshold
    return {
        "frame_mae": float(np.abs(err).mean()), "frame_bias": float(err.mean()),
        "rep_mae": float(np.abs(pk[ok] - tp_[ok]).mean()),
        "rep_bias": float((pk[ok] - tp_[ok]).mean()),
        "positives": int(pos.sum()), "negatives": int((~pos).sum()),
        "sensitivity": float((hit & pos).sum() / pos.sum()) if pos.any() else float("nan"),
        "specificity": float((~hit & ~pos).sum() / (~pos).sum()) if (~pos).any()
        else float("nan"),
    }


def cross_validate(samples: Sequence[RepSample], columns: Sequence[str] = FEATURES,
                   folds: int = 2, threshold: float = 5.0,
                   ridge: float = 1.0) -> tuple[dict[str, float], list[np.ndarray]]:
    """Leave-clips-out validation: clips are split into ``folds`` groups (by sorted
    name, round robin); each group is predicted with weights fitted on the others.

    Returns:
        ``(score, weights per fold)``.
    """
    clips = sorted({s.clip for s in samples})
    group = {c: i % folds for i, c in enumerate(clips)}
    est: list[np.ndarray | None] = [None] * len(samples)
    weights = []
    for g in range(folds):
        train = [s for s in samples if group[s.clip] != g]
        test = [i for i, s in enumerate(samples) if group[s.clip] == g]
        if not train or not test:
            continue
        w = fit(train, columns, ridge)
        weights.append(w)
        for i in test:
            est[i] = predict(samples[i], w, columns)
    keep = [i for i, e in enumerate(est) if e is not None]
    return score([samples[i] for i in keep], [est[i] for i in keep], threshold), weights


__all__ = ["RepSample", "clip_samples", "cross_validate", "fit", "predict", "score"]
