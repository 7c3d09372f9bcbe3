"""The pelvic-drop study's fitting and validation (no renders: synthetic samples)."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.scoring.pelvis_fit import FEATURES
from itbcoach.synth.pelvis_study import RepSample, cross_validate, fit, score


def _samples(n_clips: int = 6, seed: int = 0) -> list[RepSample]:
    rng = np.random.default_rng(seed)
    true_w = np.zeros(len(FEATURES))
    true_w[0], true_w[1] = 0.5, -0.2  # hip_line, stance_knee_flexion
    out = []
    for c in range(n_clips):
        for r in range(3):
            x = rng.normal(0.0, [6.0, 15.0, 5.0, 4.0, 3.0, 12.0], size=(40, len(FEATURES)))
            y = x @ true_w + rng.normal(0.0, 0.2, 40)
            out.append(RepSample(f"clip{c}", r % 2, x, y, float(y[np.argmax(np.abs(y))])))
    return out


def test_fit_recovers_known_weights():
    w = fit(_samples(), ridge=1e-6)
    np.testing.assert_allclose(w, [0.5, -0.2, 0, 0, 0, 0], atol=0.01)
    w2 = fit(_samples(), columns=("hip_line", "stance_knee_flexion"), ridge=1e-6)
    np.testing.assert_allclose(w2, [0.5, -0.2], atol=0.01)


def test_cross_validation_predicts_held_out_clips():
    samples = _samples()
    sc, weights = cross_validate(samples, folds=3)
    assert len(weights) == 3
    assert sc["frame_mae"] < 0.25 and abs(sc["frame_bias"]) < 0.1
    # the hip line alone misses the knee-flexion part: clearly worse
    sc1, _ = cross_validate(samples, columns=("hip_line",), folds=3)
    assert sc1["frame_mae"] > 5 * sc["frame_mae"]


def test_score_counts_the_criterion_per_rep():
    y = np.array([0.0, 3.0, 8.0])
    s = [RepSample("a", 0, np.zeros((3, len(FEATURES))), y, 8.0),
         RepSample("b", 0, np.zeros((3, len(FEATURES))), y * 0.1, 0.8)]
    sc = score(s, [y * 0.5, y * 0.1], threshold=5.0)  # reads 4 for 8: a miss
    assert (sc["positives"], sc["negatives"]) == (1, 1)
    assert sc["sensitivity"] == 0.0 and sc["specificity"] == 1.0
    assert sc["rep_mae"] == pytest.approx(2.0)
