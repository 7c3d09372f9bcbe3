"""Smoothing: the Butterworth design, zero-phase filtering with NaN gaps, outlier
rejection, visibility masking, the One-Euro filter, and both on real landmarks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import PoseSequence
from itbcoach.pose.smoothing import (
    OneEuroFilter,
    butterworth2,
    mask_low_visibility,
    reject_outliers,
    smooth_offline,
)

CONFIG = load_config(use_user_file=False)
SMOOTH = CONFIG.smoothing


def _gain(b: np.ndarray, a: np.ndarray, f: float, fs: float) -> float:
    z = np.exp(-2j * math.pi * f / fs * np.arange(3))
    return abs(np.dot(b, z) / np.dot(a, z))


def seq_from_xy(x: np.ndarray, fps: float = 30.0, size=(1000, 1000)) -> PoseSequence:
    """A sequence whose every landmark follows ``x`` (T,) in x and 0.5 in y."""
    t = len(x)
    lm = np.zeros((t, 33, 3), np.float32)
    lm[..., 0] = x[:, None]
    lm[..., 1] = 0.5
    lm[np.isnan(x)] = np.nan
    vis = np.where(np.isnan(x)[:, None], np.nan, 0.9 * np.ones((t, 33))).astype(np.float32)
    ts = np.round(np.arange(t) * 1000.0 / fps).astype(np.int64)
    return PoseSequence(lm, vis, vis.copy(), ts, size, lm.copy())


def test_butterworth_design_has_unity_dc_and_half_power_at_cutoff():
    b, a = butterworth2(6.0, 30.0)
    assert _gain(b, a, 0.0, 30.0) == pytest.approx(1.0, abs=1e-12)
    assert _gain(b, a, 6.0, 30.0) == pytest.approx(1 / math.sqrt(2), abs=1e-9)
    with pytest.raises(ValueError, match="Nyquist"):
        butterworth2(16.0, 30.0)


@pytest.mark.parametrize(("freq", "gain"), [(0.5, 1.0), (6.0, 0.5), (12.0, 0.0)])
def test_offline_filter_gain_is_squared_butterworth_and_zero_phase(freq, gain):
    fs = 30.0
    t = np.arange(300) / fs
    x = 0.5 + 0.1 * np.sin(2 * math.pi * freq * t)
    out = smooth_offline(seq_from_xy(x), dataclasses.replace(SMOOTH, outlier_threshold=1e9))
    y = out.landmarks[:, 0, 0].astype(np.float64) - 0.5
    mid = slice(60, 240)
    measured = np.sqrt(np.mean(y[mid] ** 2) / np.mean((x[mid] - 0.5) ** 2))
    assert measured == pytest.approx(gain, abs=0.01)
    if gain > 0.4:  # zero phase: best alignment at lag 0
        ref = x[mid] - 0.5
        lags = range(-3, 4)
        corr = [np.dot(np.roll(y, k)[mid], ref) for k in lags]
        assert lags[int(np.argmax(corr))] == 0


def test_short_gaps_are_interpolated_long_ones_stay_missing():
    x = np.linspace(0.3, 0.6, 90)
    x[20:25] = np.nan  # 5 frames: 0.2 s between the neighbours <= max_gap 0.3 s
    x[50:70] = np.nan  # 20 frames: 0.7 s
    x[:3] = np.nan  # leading gap: never extrapolated
    out = smooth_offline(seq_from_xy(x), SMOOTH).landmarks[:, 5, 0]
    assert np.isfinite(out[20:25]).all()
    assert out[20:25] == pytest.approx(np.linspace(0.3, 0.6, 90)[20:25], abs=2e-4)
    assert np.isnan(out[50:70]).all() and np.isnan(out[:3]).all()
    assert np.isfinite(out[3:20]).all() and np.isfinite(out[70:]).all()


def test_a_spike_is_rejected_as_outlier_before_filtering():
    x = 0.5 + 0.05 * np.sin(np.arange(120) / 30.0)  # up to 50 px/s
    truth = x.copy()
    x[60] += 0.1  # 100 px at 1000 px wide, e.g. MediaPipe swapping the feet for a frame
    pts = seq_from_xy(x).pixels()
    flags = reject_outliers(pts, np.arange(120) / 30.0, SMOOTH.outlier_threshold,
                            SMOOTH.outlier_window_s, SMOOTH.outlier_min_sd_px)
    assert flags[:, 0].nonzero()[0].tolist() == [60]
    out = smooth_offline(seq_from_xy(x), SMOOTH).landmarks[:, 0, 0]
    assert abs(out[60] - truth[60]) * 1000 < 1.0  # within 1 px of the true path


def test_low_visibility_points_are_masked_not_trusted():
    seq = seq_from_xy(np.full(10, 0.5))
    vis = seq.visibility.copy()
    vis[3, L.LEFT_ANKLE] = 0.2
    vis[4, :] = np.nan  # no visibility given: masked too
    seq = dataclasses.replace(seq, visibility=vis)
    out = mask_low_visibility(seq, 0.5)
    assert np.isnan(out.landmarks[3, L.LEFT_ANKLE]).all()
    assert np.isnan(out.world_landmarks[3, L.LEFT_ANKLE]).all()
    assert np.isfinite(out.landmarks[3, L.RIGHT_ANKLE]).all()
    assert np.isnan(out.landmarks[4]).all()
    assert out.visibility[3, L.LEFT_ANKLE] == pytest.approx(0.2)  # kept: says why
    assert np.isfinite(seq.landmarks[3, L.LEFT_ANKLE]).all()  # input untouched


# ------------------------------------------------------------------------- One-Euro

def test_one_euro_removes_jitter_at_rest_and_follows_motion():
    rng = np.random.default_rng(1)
    f = OneEuroFilter(SMOOTH.one_euro_min_cutoff, SMOOTH.one_euro_beta,
                      SMOOTH.one_euro_d_cutoff)
    t = np.arange(300) / 30.0
    still = 0.5 + rng.normal(0, 0.003, 300)
    out = np.array([f(ti, np.array([xi]))[0] for ti, xi in zip(t, still, strict=True)])
    assert np.std(out[30:]) < np.std(still[30:]) / 3
    # A fast ramp (1 frame width per second): lag shrinks as beta grows.
    ramp = t.copy()
    lags = []
    for beta in (0.0, 5.0):
        g = OneEuroFilter(SMOOTH.one_euro_min_cutoff, beta, SMOOTH.one_euro_d_cutoff)
        y = np.array([g(ti, np.array([xi]))[0] for ti, xi in zip(t, ramp, strict=True)])
        lags.append(float(np.mean(ramp[60:] - y[60:])))
    assert lags[1] < lags[0] / 3


def test_one_euro_respects_nan_and_restarts_after_long_gaps():
    f = OneEuroFilter(1.0, 0.0, 1.0, max_gap_s=0.3)
    a = f(0.0, np.array([1.0, 2.0]))
    assert a.tolist() == [1.0, 2.0]  # first sample passes through
    b = f(0.1, np.array([np.nan, 3.0]))
    assert np.isnan(b[0]) and 2.0 < b[1] < 3.0
    c = f(0.2, np.array([1.5, 3.0]))  # element 0 was away 0.2 s: continues from 1.0
    assert 1.0 < c[0] < 1.5
    f(0.3, np.array([np.nan, 3.0]))
    d = f(0.9, np.array([5.0, 3.0]))  # away 0.7 s > 0.3 s: restarts at the new value
    assert d[0] == 5.0
    with pytest.raises(ValueError, match="time must increase"):
        f(0.9, np.array([5.0, 3.0]))


# ----------------------------------------------------------------- real landmarks

def test_smoothing_real_landmarks_reduces_jitter_and_keeps_the_path(video_landmarks):
    raw, _ = video_landmarks("squat_front_01.mp4")
    masked = mask_low_visibility(raw, CONFIG.pose.min_visibility)
    offline = smooth_offline(masked, SMOOTH)
    live_filter = OneEuroFilter.from_config(SMOOTH)  # as the live processor runs it
    live = dataclasses.replace(masked, landmarks=np.stack([
        live_filter(float(t), masked.landmarks[i]) for i, t in enumerate(masked.times_s)]))
    px_raw = masked.pixels()
    for out in (offline, live):
        px = out.pixels()
        for j in (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE, L.NOSE):
            jitter_raw = np.nanstd(np.diff(px_raw[:, j], n=2, axis=0))
            jitter = np.nanstd(np.diff(px[:, j], n=2, axis=0))
            assert jitter < jitter_raw / 2, (j, jitter, jitter_raw)
    # Offline is zero-phase: it stays within a few pixels of the raw path (720p).
    dev = np.nanmedian(np.linalg.norm(offline.pixels() - px_raw, axis=-1))
    assert dev < 3.0
    assert offline.timestamps_ms.tolist() == raw.timestamps_ms.tolist()
    assert np.isnan(offline.landmarks).sum() <= np.isnan(masked.landmarks).sum()
