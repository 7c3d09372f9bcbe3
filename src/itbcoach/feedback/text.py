"""Anti-aliased text on OpenCV frames.

OpenCV's Hershey fonts are hard to read at a distance; this draws TrueType text
(DejaVu Sans, shipped inside matplotlib, which mediapipe already installs) through
Pillow into a cached alpha mask and blends it into the BGR frame with numpy.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

Color = tuple[int, int, int]  # BGR


@lru_cache(maxsize=8)
def _font(size: int, bold: bool):
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:  # pragma: no cover - matplotlib without its fonts
        return ImageFont.load_default(size)


@lru_cache(maxsize=512)
def text_mask(text: str, size: int, bold: bool = False) -> np.ndarray:
    """``(h, w)`` float32 coverage mask in [0, 1] of ``text`` rendered at ``size`` px."""
    from PIL import Image, ImageDraw

    font = _font(size, bold)
    left, top, right, bottom = font.getbbox(text or " ")
    w, h = max(1, right - left + 2), max(1, bottom - top + 2)
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).text((1 - left, 1 - top), text, font=font, fill=255)
    mask = np.asarray(img, dtype=np.float32) / 255.0
    mask.setflags(write=False)
    return mask


@lru_cache(maxsize=64)
def _tile_cached(shape: tuple[int, ...], color: Color) -> np.ndarray:
    tile = np.empty(shape, np.uint8)
    tile[:] = color
    tile.setflags(write=False)
    return tile


def _tile(shape: tuple[int, ...], color: Color) -> np.ndarray:
    """A read-only ``shape`` array filled with ``color`` (cached: overlays repeat sizes)."""
    return _tile_cached(tuple(shape), tuple(int(c) for c in color))


def text_size(text: str, size: int, bold: bool = False) -> tuple[int, int]:
    """``(width, height)`` in pixels of ``text`` as :func:`put_text` draws it."""
    h, w = text_mask(text, size, bold).shape
    return w, h


def put_text(frame: np.ndarray, text: str, org: tuple[int, int], size: int,
             color: Color = (255, 255, 255), bold: bool = False,
             background: Color | None = None, pad: int = 6, alpha: float = 0.6,
             anchor: str = "lt") -> tuple[int, int, int, int]:
    """Blend ``text`` into ``frame`` (BGR uint8, in place).

    Args:
        org: anchor point in pixels; ``anchor`` says which corner/centre of the text box it
            is: two letters, horizontal ``l``/``m``/``r`` then vertical ``t``/``m``/``b``.
        background: optional box colour behind the text, blended with ``alpha``.

    Returns:
        The drawn box ``(x0, y0, x1, y1)`` including padding, clipped to the frame.
    """
    mask = text_mask(text, size, bold)
    h, w = mask.shape
    x, y = org
    x -= {"l": 0, "m": w // 2, "r": w}[anchor[0]]
    y -= {"t": 0, "m": h // 2, "b": h}[anchor[1]]
    fh, fw = frame.shape[:2]
    if background is not None:
        bx0, by0 = max(0, x - pad), max(0, y - pad)
        bx1, by1 = min(fw, x + w + pad), min(fh, y + h + pad)
        if bx1 > bx0 and by1 > by0:
            roi = frame[by0:by1, bx0:bx1]
            # integer blend in OpenCV (10x faster than float64 numpy on a 720p frame)
            cv2.addWeighted(roi, 1.0 - alpha, _tile(roi.shape, background), alpha, 0.0,
                            dst=roi)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(fw, x + w), min(fh, y + h)
    if x1 <= x0 or y1 <= y0:
        return (x0, y0, x0, y0)
    m = mask[y0 - y:y1 - y, x0 - x:x1 - x]
    roi = frame[y0:y1, x0:x1]
    # roi (1 - m) + ink m, per pixel, in one OpenCV call
    roi[:] = cv2.blendLinear(roi, _tile(roi.shape, color), 1.0 - m, m)
    return (max(0, x - pad), max(0, y - pad), min(fw, x + w + pad), min(fh, y + h + pad))
