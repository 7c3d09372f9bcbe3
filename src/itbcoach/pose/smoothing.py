"""Landmark smoothing: causal One-Euro for live use, zero-phase low-pass offline.

Both work per landmark coordinate and respect NaN (a missing or masked landmark stays
missing; it never drags its neighbours toward 0).

* Live: :class:`OneEuroFilter` (Casiez, Roussel & Vogel, CHI 2012), time as an input,
  element-wise over any array shape (e.g. one frame's ``(33, 3)``). An element missing
  longer than ``max_gap_s`` restarts from its next value instead of blending with a
  stale one.
* Offline: :func:`smooth_offline` on a whole :class:`~itbcoach.landmarks.PoseSequence`:
  (1) outlier rejection against a running median, (2) linear interpolation of gaps up to
  ``max_gap_s`` (inner gaps only, over the real timestamps), (3) a 2nd-order Butterworth
  low-pass run forward and backward (zero phase, effective 4th order) on each run of
  finite samples.

Before either, :func:`mask_low_visibility` sets landmarks whose visibility is below the
threshold to NaN: MediaPipe still places occluded or out-of-frame points, and such
guesses must not be trusted.
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numba
import numpy as np

from itbcoach.config.schema import SmoothingConfig
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import PoseSequence

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- masking
def mask_low_visibility(seq: PoseSequence, min_visibility: float) -> PoseSequence:
    """A copy of ``seq`` with every landmark of visibility ``< min_visibility`` set to NaN.

    Image and world coordinates are masked; visibility and presence are kept (they say
    why a point is missing). Frames without a pose are already NaN and stay so.

    Args:
        seq: landmarks.
        min_visibility: threshold in [0, 1]; ``<= 0`` masks nothing.
    """
    if min_visibility <= 0 or len(seq) == 0:
        return seq
    low = ~(seq.visibility >= min_visibility)  # NaN visibility counts as low
    lm = seq.landmarks.copy()
    lm[low] = np.nan
    world = None
    if seq.world_landmarks is not None:
        world = seq.world_landmarks.copy()
        world[low] = np.nan
    return dataclasses.replace(seq, landmarks=lm, world_landmarks=world)


#: Hand points per side (left, right) with their elbow and shoulder, for keep_hands.
_HAND_CHAINS = ((L.LEFT_SHOULDER, L.LEFT_ELBOW,
                 (L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY, L.LEFT_THUMB)),
                (L.RIGHT_SHOULDER, L.RIGHT_ELBOW,
                 (L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY, L.RIGHT_THUMB)))


def hands_kept(landmarks: np.ndarray, visibility: np.ndarray, image_size: tuple[int, int],
               min_visibility: float, min_elbow_visibility: float,
               reach: float = 1.5) -> np.ndarray:
    """Hand points to keep although below ``pose.min_visibility``: ``(T, 33)`` bool,
    True for a wrist/index/pinky/thumb point with visibility >= ``min_visibility``
    within ``reach`` upper-arm lengths (shoulder to elbow, image pixels) of an elbow
    that is itself visible (>= ``min_elbow_visibility``).

    MediaPipe gives hands resting on the waist a visibility of 0.4-0.6 while their
    positions are good; the step-down reads the pelvis from them (docs/pelvis_hands.md).
    One function for every path (per frame in :class:`itbcoach.stream.FrameProcessor`,
    per recording in :func:`keep_hands`).

    Args:
        landmarks: ``(T, 33, >=2)`` normalised image landmarks, not masked.
        visibility: ``(T, 33)``.
        image_size: ``(width, height)`` pixels.
    """
    out = np.zeros(visibility.shape, bool)
    if len(landmarks) == 0:
        return out
    px = landmarks[..., :2] * np.array(image_size, float)
    with np.errstate(invalid="ignore"):
        for shoulder, elbow, points in _HAND_CHAINS:
            arm = np.linalg.norm(px[:, elbow] - px[:, shoulder], axis=1)
            ok_elbow = (visibility[:, elbow] >= min_elbow_visibility) & np.isfinite(arm)
            for p in points:
                near = np.linalg.norm(px[:, p] - px[:, elbow], axis=1) <= reach * arm
                out[:, p] = ok_elbow & near & (visibility[:, p] >= min_visibility)
    return out


def keep_hands(masked: PoseSequence, raw: PoseSequence, min_visibility: float,
               reach: float = 1.5, min_elbow_visibility: float = 0.5) -> PoseSequence:
    """Put back the hand points :func:`mask_low_visibility` removed where
    :func:`hands_kept` says their geometry is consistent (image and world landmarks)."""
    if len(raw) == 0:
        return masked
    back = hands_kept(raw.landmarks, raw.visibility, raw.image_size, min_visibility,
                      min_elbow_visibility, reach) & ~np.isfinite(masked.landmarks[..., 0])
    lm = masked.landmarks.copy()
    lm[back] = raw.landmarks[back]
    world = masked.world_landmarks
    if world is not None and raw.world_landmarks is not None:
        world = world.copy()
        world[back] = raw.world_landmarks[back]
    return dataclasses.replace(masked, landmarks=lm, world_landmarks=world)


# ------------------------------------------------------------------------- One-Euro
def _alpha(dt: np.ndarray, cutoff_hz: np.ndarray | float) -> np.ndarray:
    """Smoothing factor of an exponential filter with the given cut-off, step ``dt`` s."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Causal One-Euro filter, element-wise over an array, NaN-aware, time as input.

    The cut-off rises with the (filtered) speed of each element: ``fc = min_cutoff +
    beta * |dx/dt|``, so a still landmark is smoothed hard and a fast one follows with
    little lag. Units: time in seconds, cut-offs in Hz, ``beta`` in 1 / (units of x per
    second) (for normalised image coordinates: per frame width per second).

    Args:
        min_cutoff: cut-off at zero speed, Hz.
        beta: speed coefficient.
        d_cutoff: cut-off of the speed estimate, Hz.
        max_gap_s: an element missing (NaN) for longer than this restarts from its next
            value.

    Example:
        >>> f = OneEuroFilter(1.5, 0.5, 1.0)
        >>> out = f(t_s=0.033, x=frame_landmarks)  # (33, 3) -> (33, 3)
    """

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float = 1.0,
                 max_gap_s: float = 0.3) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("OneEuroFilter needs min_cutoff > 0, d_cutoff > 0, beta >= 0, "
                             f"got {min_cutoff}, {d_cutoff}, {beta}")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.max_gap_s = float(max_gap_s)
        self.reset()

    @classmethod
    def from_config(cls, config: SmoothingConfig) -> OneEuroFilter:
        """The filter with the ``[smoothing]`` constants."""
        return cls(config.one_euro_min_cutoff, config.one_euro_beta,
                   config.one_euro_d_cutoff, config.max_gap_s)

    def reset(self) -> None:
        """Forget all state (the next call passes its input through)."""
        self._x: np.ndarray | None = None  # last filtered value
        self._dx: np.ndarray | None = None  # last filtered speed
        self._t: np.ndarray | None = None  # last time each element was seen
        self._t_last: float | None = None

    def __call__(self, t_s: float, x: np.ndarray) -> np.ndarray:
        """Filter one sample.

        Args:
            t_s: time of the sample in seconds; must increase from call to call.
            x: the sample, any shape (fixed after the first call), NaN = missing.

        Returns:
            The filtered sample, float64, same shape; NaN where ``x`` is NaN.
        """
        x = np.asarray(x, dtype=np.float64)
        if self._t_last is not None and t_s <= self._t_last:
            raise ValueError(f"OneEuroFilter: time must increase ({t_s} after {self._t_last})")
        if self._x is None or self._x.shape != x.shape:
            self._x = np.full(x.shape, np.nan)
            self._dx = np.zeros(x.shape)
            self._t = np.full(x.shape, -np.inf)
        assert self._dx is not None and self._t is not None
        self._t_last = float(t_s)
        seen = np.isfinite(x)
        dt = t_s - self._t
        fresh = seen & (~np.isfinite(self._x) | (dt > self.max_gap_s))
        cont = seen & ~fresh
        out = np.full(x.shape, np.nan)
        if fresh.any():
            out[fresh] = x[fresh]
            self._dx[fresh] = 0.0
        if cont.any():
            d = dt[cont]
            prev = self._x[cont]
            dx = (x[cont] - prev) / d
            a_d = _alpha(d, self.d_cutoff)
            dx_hat = a_d * dx + (1.0 - a_d) * self._dx[cont]
            a = _alpha(d, self.min_cutoff + self.beta * np.abs(dx_hat))
            out[cont] = a * x[cont] + (1.0 - a) * prev
            self._dx[cont] = dx_hat
        self._x[seen] = out[seen]
        self._t[seen] = t_s
        return out


# -------------------------------------------------------------------------- offline
def butterworth2(cutoff_hz: float, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """2nd-order Butterworth low-pass (bilinear transform with pre-warping).

    Returns:
        ``(b, a)``, each of length 3, ``a[0] == 1``; unity gain at 0 Hz and
        ``1/sqrt(2)`` at ``cutoff_hz``.

    Raises:
        ValueError: the cut-off is not between 0 and the Nyquist frequency.
    """
    if not 0 < cutoff_hz < fs_hz / 2:
        raise ValueError(f"cut-off {cutoff_hz} Hz must lie between 0 and the Nyquist "
                         f"frequency {fs_hz / 2} Hz")
    k = math.tan(math.pi * cutoff_hz / fs_hz)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    b = np.array([b0, 2 * b0, b0])
    a = np.array([1.0, 2.0 * (k * k - 1.0) * norm, (1.0 - math.sqrt(2.0) * k + k * k) * norm])
    return b, a


@numba.njit(cache=True)
def _biquad(x: np.ndarray, b: np.ndarray, a: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Direct form II transposed, started in the steady state of ``x[0]``."""
    y = np.empty_like(x)
    c = x[0]
    z2 = (b[2] - a[2]) * c
    z1 = (b[1] - a[1]) * c + z2
    for i in range(x.shape[0]):
        yi = b[0] * x[i] + z1
        z1 = b[1] * x[i] - a[1] * yi + z2
        z2 = b[2] * x[i] - a[2] * yi
        y[i] = yi
    return y


@numba.njit(cache=True)
def _filtfilt_segment(x: np.ndarray, b: np.ndarray, a: np.ndarray,
                      padlen: int) -> np.ndarray:  # pragma: no cover
    """Zero-phase filtering of one finite run, padded by odd reflection (as SciPy)."""
    n = x.shape[0]
    p = min(padlen, n - 1)
    ext = np.empty(n + 2 * p)
    for i in range(p):
        ext[i] = 2.0 * x[0] - x[p - i]
        ext[n + p + i] = 2.0 * x[n - 1] - x[n - 2 - i]
    ext[p:p + n] = x
    fwd = _biquad(ext, b, a)
    back = _biquad(fwd[::-1].copy(), b, a)[::-1]
    return back[p:p + n].copy()


@numba.njit(cache=True)
def _filtfilt_nan(data: np.ndarray, b: np.ndarray, a: np.ndarray, padlen: int,
                  min_len: int) -> np.ndarray:  # pragma: no cover
    """Zero-phase filter every run of finite samples of every column of ``data[T, C]``.

    Runs shorter than ``min_len`` are left as they are; NaN stays NaN.
    """
    out = data.copy()
    t_len, n_col = data.shape
    for c in range(n_col):
        i = 0
        while i < t_len:
            if not np.isfinite(data[i, c]):
                i += 1
                continue
            j = i
            while j < t_len and np.isfinite(data[j, c]):
                j += 1
            if j - i >= min_len:
                out[i:j, c] = _filtfilt_segment(data[i:j, c].copy(), b, a, padlen)
            i = j
    return out


@numba.njit(cache=True)
def _interpolate_gaps(data: np.ndarray, t: np.ndarray,
                      max_gap: float) -> np.ndarray:  # pragma: no cover
    """Linear interpolation (over times ``t``) of inner NaN runs spanning <= ``max_gap``.

    The span is measured between the two finite samples around the gap.
    """
    out = data.copy()
    t_len, n_col = data.shape
    for c in range(n_col):
        last = -1
        for i in range(t_len):
            if not np.isfinite(data[i, c]):
                continue
            if last >= 0 and i - last > 1 and t[i] - t[last] <= max_gap:
                x0, x1 = data[last, c], data[i, c]
                span = t[i] - t[last]
                for k in range(last + 1, i):
                    w = (t[k] - t[last]) / span
                    out[k, c] = x0 + w * (x1 - x0)
            last = i
    return out


@numba.njit(cache=True)
def _hampel_2d(pts: np.ndarray, half: int, threshold: float,
               floor: float) -> np.ndarray:  # pragma: no cover
    """Hampel test on 2D points ``pts[T, N, 2]`` (padded by ``half`` at both ends).

    For each inner sample: the window median point (x and y medians of the finite
    samples within ``+-half``), the robust SD ``1.4826 * median distance`` of the window's
    samples to it (at least ``floor``), and the flag ``distance > threshold * SD``.
    Returns ``(T - 2 * half, N)`` flags.
    """
    t_pad, n = pts.shape[0], pts.shape[1]
    t_len = t_pad - 2 * half
    flags = np.zeros((t_len, n), dtype=np.bool_)
    bx = np.empty(2 * half + 1)
    by = np.empty(2 * half + 1)
    bd = np.empty(2 * half + 1)
    for j in range(n):
        for i in range(t_len):
            c = i + half
            if not (np.isfinite(pts[c, j, 0]) and np.isfinite(pts[c, j, 1])):
                continue
            m = 0
            for k in range(c - half, c + half + 1):
                if np.isfinite(pts[k, j, 0]) and np.isfinite(pts[k, j, 1]):
                    bx[m] = pts[k, j, 0]
                    by[m] = pts[k, j, 1]
                    m += 1
            if m < 3:
                continue
            mx = np.median(bx[:m])
            my = np.median(by[:m])
            for k in range(m):
                bd[k] = np.hypot(bx[k] - mx, by[k] - my)
            sd = max(floor, 1.4826 * np.median(bd[:m]))
            if np.hypot(pts[c, j, 0] - mx, pts[c, j, 1] - my) > threshold * sd:
                flags[i, j] = True
    return flags


def sample_rate(times_s: np.ndarray) -> float:
    """Frames per second from timestamps: the mean step over the steps within 0.5-1.5x
    the median step (so whole-millisecond rounding averages out and a pause in the
    recording does not count)."""
    steps = np.diff(np.asarray(times_s, dtype=np.float64))
    if steps.size == 0:
        return 30.0
    med = float(np.median(steps))
    regular = steps[(steps >= 0.5 * med) & (steps <= 1.5 * med)]
    return 1.0 / float(regular.mean() if regular.size else med)


def reject_outliers(points_px: np.ndarray, times_s: np.ndarray, threshold: float,
                    window_s: float, min_sd_px: float) -> np.ndarray:
    """Flag samples far from their neighbours (a Hampel filter on 2D points).

    Within a window of ``window_s`` around each sample: the median point (x and y
    medians) and the robust SD of the window's distances to it (``1.4826 * MAD``,
    floored at ``min_sd_px``). A sample further than ``threshold`` robust SDs from the
    median point is an outlier. Steady motion widens the window's spread, so only jumps
    that stand out from their neighbourhood are flagged. The ends are padded by odd
    reflection, so a trend at the start or end is not an outlier.

    Args:
        points_px: ``(T, N, 2)`` pixel coordinates, NaN = missing.
        times_s: ``(T,)`` seconds (the frame rate sets the window length in samples).
        threshold: in robust SDs.
        window_s: window length, seconds.
        min_sd_px: floor of the robust SD, pixels.

    Returns:
        ``(T, N)`` bool, True = outlier.
    """
    t_len, n = points_px.shape[:2]
    if t_len < 3:
        return np.zeros((t_len, n), dtype=bool)
    half = max(1, round(window_s * sample_rate(times_s) / 2))
    pts = np.asarray(points_px, dtype=np.float64)
    p = min(half, t_len - 1)
    padded = np.concatenate([2 * pts[:1] - pts[p:0:-1], pts,
                             2 * pts[-1:] - pts[-2:-p - 2:-1]])
    if p < half:  # sequence shorter than the window: pad the rest with NaN
        fill = np.full((half - p, n, 2), np.nan)
        padded = np.concatenate([fill, padded, fill])
    return _hampel_2d(np.ascontiguousarray(padded), half, float(threshold),
                      float(min_sd_px))


def _filter_columns(data: np.ndarray, times_s: np.ndarray,
                    config: SmoothingConfig) -> np.ndarray:
    """Gap interpolation then zero-phase low-pass of ``data[T, C]`` (float64)."""
    t_len = data.shape[0]
    data = _interpolate_gaps(np.ascontiguousarray(data, dtype=np.float64),
                             times_s.astype(np.float64), float(config.max_gap_s) + 1e-9)
    if t_len < 2:
        return data
    fs = sample_rate(times_s)
    if not config.offline_cutoff_hz < 0.5 * fs * 0.95:
        log.info("offline smoothing skipped: cut-off %.1f Hz is not below the Nyquist "
                 "frequency of %.1f fps", config.offline_cutoff_hz, fs)
        return data
    b, a = butterworth2(config.offline_cutoff_hz, fs)
    # SciPy's filtfilt pads by 3 * len(a) samples; runs shorter than that stay raw.
    padlen = 3 * len(a)
    return _filtfilt_nan(data, b, a, padlen, padlen + 1)


def smooth_offline(seq: PoseSequence, config: SmoothingConfig) -> PoseSequence:
    """Outlier rejection, short-gap interpolation and zero-phase low-pass of a sequence.

    Applied to each coordinate of the image landmarks (x, y, z) and of the world
    landmarks. An outlier (see :func:`reject_outliers`, decided on the 2D image
    position) removes that landmark in that frame from both. Sampling is taken as
    uniform at the median frame step (fine for the mild frame-rate variation of phone
    video). Visibility and presence are returned unchanged.

    Args:
        seq: landmarks, usually after :func:`mask_low_visibility`.
        config: the ``[smoothing]`` section.

    Returns:
        A new sequence of the same length and timestamps.
    """
    t_len = len(seq)
    if t_len < 3:
        return seq
    times = seq.times_s
    outliers = reject_outliers(seq.pixels(), times, config.outlier_threshold,
                               config.outlier_window_s, config.outlier_min_sd_px)
    n_out = int(outliers.sum())
    if n_out:
        log.debug("smoothing: %d landmark samples rejected as outliers", n_out)
    lm = seq.landmarks.astype(np.float64)
    lm[outliers] = np.nan
    lm = _filter_columns(lm.reshape(t_len, -1), times, config).reshape(lm.shape)
    world = None
    if seq.world_landmarks is not None:
        w = seq.world_landmarks.astype(np.float64)
        w[outliers] = np.nan
        world = _filter_columns(w.reshape(t_len, -1), times, config).reshape(w.shape)
    return dataclasses.replace(seq, landmarks=lm, world_landmarks=world)
