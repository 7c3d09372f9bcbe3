"""The coaching overlay: skeleton, guide lines, counters, hold ring, cue, framing, FPS.

Drawing code only draws. Everything shown comes in an :class:`OverlayState` built by
the caller (the live loop or the video annotator) from the scorer's state; nothing here
counts, scores or reads a clock. Sizes scale with the frame height, so the same state
reads well on a 480p camera and a 1080p recording. At 720p the main instruction (cue,
framing instruction, exercise instruction) is drawn at 56 px (cap height ~41 px, 5.7% of
the height: readable from 2 m on a laptop screen), wrapped onto up to three lines, and
never below 50 px (cap height 5.1%).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from itbcoach.feedback.text import Color, _tile, put_text, text_size
from itbcoach.landmarks.types import POSE_CONNECTIONS

LEFT_COLOR: Color = (255, 170, 60)  # subject's left: blue-ish (BGR)
RIGHT_COLOR: Color = (60, 170, 255)  # subject's right: orange
MID_COLOR: Color = (230, 230, 230)
GOOD: Color = (90, 200, 90)
WARN: Color = (40, 170, 255)
BAD: Color = (60, 60, 235)
PANEL: Color = (30, 30, 30)
#: Opacity of the dark panel behind text. 0.85: white text keeps a contrast of at least
#: 10:1 (WCAG; 7:1 is the strictest level) over a white background (a bright window
#: behind the person), and the panel stays near black in a dim room.
PANEL_ALPHA = 0.85

#: Face landmarks (nose, eyes, ears, mouth): not drawn, they only add clutter.
FACE_POINTS = frozenset(range(11))
_LEFT_POINTS = {1, 2, 3, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}
_RIGHT_POINTS = {4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32}
LEVEL_COLORS: dict[str, Color] = {"info": (255, 255, 255), "good": GOOD, "warn": WARN,
                                  "bad": BAD}


@dataclass(frozen=True)
class GuideLine:
    """A task-specific line, e.g. the pelvic line or a knee-over-toe line (pixels)."""

    p0: tuple[float, float]
    p1: tuple[float, float]
    color: Color = MID_COLOR
    thickness: int = 2
    dashed: bool = False
    label: str = ""


@dataclass(frozen=True)
class CardView:
    """The card shown before an exercise starts (drawn over the dimmed camera picture).

    Attributes:
        how: how the exercise is done, one or two lines.
        demo: ``(h, w, 3)`` BGR frame of the looping demo clip, or None.
        ready: the posture check passes (the status line turns green).
        status: the status line, e.g. "Waiting for the position" or "Ready".
    """

    how: tuple[str, ...]
    demo: np.ndarray | None = None
    ready: bool = False
    status: str = ""


@dataclass(frozen=True)
class OverlayState:
    """Everything the overlay shows for one frame. ``None`` = not shown.

    Attributes:
        landmarks_px: ``(33, 2)`` pixel coordinates in the frame being drawn (NaN =
            missing), already mirrored by the caller if the display is mirrored.
        guides: task guide lines (pelvic line, knee-over-toe lines, ...).
        title: task name, top left.
        counter / counter_label: big count top right, e.g. ``"3/5"`` and ``"reps"``.
        progress: text under the title, e.g. ``"set 2 of 2 - left side"``.
        hold_fraction / hold_text: hold progress ring (0..1) and its label ``"4.2 s"``.
        cue / cue_level: the current coaching cue, large, bottom centre; level
            ``info`` | ``good`` | ``warn`` | ``bad`` sets its colour.
        framing: a framing instruction shown as a banner mid-frame.
        faults: fault flags to list (annotated video), drawn in red.
        metrics: ``(label, value)`` rows for a small panel.
        fps / latency_ms: corner readout.
        stale: the landmarks come from an earlier frame (shown in the corner).
        keys: keyboard help line at the bottom.
        banner: large centred message (countdown, "switch legs", results title).
        instruction: how to do the task, shown large at the bottom when there is no cue.
        thumbnails: ``(label, BGR image)`` pictures shown in a row under the banner
            (the worst frame of each fault on the step-down result screen).
        card: the exercise card (how it is done, demo clip, posture status); the
            framing instruction then goes into the card's status line.
        countdown: seconds left before counting starts (a large ring and digit).
    """

    landmarks_px: np.ndarray | None = None
    guides: tuple[GuideLine, ...] = ()
    title: str | None = None
    counter: str | None = None
    counter_label: str = ""
    progress: str | None = None
    hold_fraction: float | None = None
    hold_text: str | None = None
    cue: str | None = None
    cue_level: str = "info"
    framing: str | None = None
    faults: tuple[str, ...] = ()
    metrics: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    fps: float | None = None
    latency_ms: float | None = None
    stale: bool = False
    keys: str | None = None
    banner: str | None = None
    thumbnails: tuple[tuple[str, np.ndarray], ...] = ()
    instruction: str | None = None
    card: CardView | None = None
    countdown: int | None = None


#: Type sizes at 720p, px (scaled with the frame height): small print, title, main
#: instruction / cue, counter and banner. The main instruction is never drawn below
#: MAIN_MIN_PX (DejaVu Sans Bold cap height 0.73 em: 36.5 px = 5.1% of the height); a
#: long one takes up to MAIN_LINES lines instead.
SMALL_PX, TITLE_PX, MAIN_PX, MAIN_MIN_PX, HUGE_PX = 22, 30, 56, 50, 100
#: The key hints at the bottom, px at 720p (bold: cap height ~20 px, readable at 2 m).
KEYS_PX = 28
MAIN_LINES = 3


def wrap_lines(text: str, size: int, width: int, bold: bool = True) -> list[str]:
    """``text`` split into lines at most ``width`` px wide at ``size`` (a single word
    wider than ``width`` stays on its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_size(f"{lines[-1]} {word}", size, bold)[0] <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def fit_lines(text: str, size: int, min_size: int, width: int,
              max_lines: int = 2) -> tuple[list[str], int]:
    """Wrap ``text`` at ``size`` onto at most ``max_lines`` lines ``width`` px wide,
    making it smaller (down to ``min_size``) only when that does not fit."""
    while True:
        lines = wrap_lines(text, size, width)
        fits = len(lines) <= max_lines and all(text_size(ln, size, True)[0] <= width
                                               for ln in lines)
        if fits or size <= min_size:
            return lines, size
        size = max(min_size, size - 4)


def block_height(text: str, size: int, min_size: int, width: int) -> int:
    """Height in pixels of ``text`` as :func:`draw_block` lays it out (without padding)."""
    lines, size = fit_lines(text, size, min_size, width, MAIN_LINES)
    return sum(text_size(ln, size, True)[1] for ln in lines) + \
        round(size * 0.25) * (len(lines) - 1)


def draw_block(frame: np.ndarray, text: str, anchor_xy: tuple[int, int], size: int,
               min_size: int, width: int, color: Color, scale: float,
               valign: str = "b") -> tuple[int, int, int, int]:
    """Large wrapped text centred at ``anchor_xy`` (bottom or middle of the block), on a
    dark panel. Returns the block's box."""
    lines, size = fit_lines(text, size, min_size, width, MAIN_LINES)
    gap = round(size * 0.25)
    heights = [text_size(ln, size, True)[1] for ln in lines]
    total = sum(heights) + gap * (len(lines) - 1)
    x, y = anchor_xy
    top = y - total if valign == "b" else y - total // 2
    box = (x, top, x, top)
    pad = round(12 * scale)
    for ln, hgt in zip(lines, heights, strict=True):
        b = put_text(frame, ln, (x, top), size, color, bold=True, anchor="mt",
                     background=PANEL, alpha=PANEL_ALPHA, pad=pad)
        box = (min(box[0], b[0]), min(box[1], b[1]), max(box[2], b[2]), max(box[3], b[3]))
        top += hgt + gap
    return box


@dataclass(frozen=True)
class ScoreCard:
    """A closing card: a title and lines, each with its verdict colour.

    Attributes:
        title: e.g. ``"Lateral step-down test (Piva)"``.
        lines: ``(text, verdict)``: True = fault (red), False = fine (green), None =
            neutral (white: headings, not assessable).
    """

    title: str
    lines: tuple[tuple[str, bool | None], ...]


def draw_skeleton(frame: np.ndarray, pts: np.ndarray, scale: float) -> None:
    """Bones and joints from the shoulders down, left/right coloured, anti-aliased; NaN
    points skipped; no face points (:data:`FACE_POINTS`)."""
    th = max(3, round(5 * scale))
    ok = np.isfinite(pts).all(axis=1)
    ip = np.zeros(pts.shape, dtype=np.int32)
    ip[ok] = np.round(pts[ok]).astype(np.int32)
    for a, b in POSE_CONNECTIONS:
        if ok[a] and ok[b] and a not in FACE_POINTS and b not in FACE_POINTS:
            color = LEFT_COLOR if a in _LEFT_POINTS and b in _LEFT_POINTS else (
                RIGHT_COLOR if a in _RIGHT_POINTS and b in _RIGHT_POINTS else MID_COLOR)
            cv2.line(frame, tuple(ip[a]), tuple(ip[b]), color, th, cv2.LINE_AA)
    r = max(4, round(6 * scale))
    for i in np.flatnonzero(ok):
        if i not in FACE_POINTS:
            color = LEFT_COLOR if i in _LEFT_POINTS else RIGHT_COLOR if i in _RIGHT_POINTS \
                else MID_COLOR
            cv2.circle(frame, tuple(ip[i]), r, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(frame, tuple(ip[i]), r, color, max(1, th // 2), cv2.LINE_AA)


def _draw_guide(frame: np.ndarray, g: GuideLine, scale: float, font: int) -> None:
    if not (np.isfinite(g.p0).all() and np.isfinite(g.p1).all()):
        return
    p0 = np.array(g.p0, float)
    p1 = np.array(g.p1, float)
    th = max(2, round(2 * g.thickness * scale))  # visible from 2 m: 4-6 px at 720p
    if g.dashed:
        n = max(2, int(np.linalg.norm(p1 - p0) / (12 * scale)))
        for k in range(0, n, 2):
            a = p0 + (p1 - p0) * k / n
            b = p0 + (p1 - p0) * min(k + 1, n) / n
            cv2.line(frame, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)),
                     g.color, th, cv2.LINE_AA)
    else:
        cv2.line(frame, tuple(np.round(p0).astype(int)), tuple(np.round(p1).astype(int)),
                 g.color, th, cv2.LINE_AA)
    if g.label:
        put_text(frame, g.label, (int(p1[0]) + 6, int(p1[1])), font, g.color, anchor="lm",
                 background=PANEL, pad=3)


def draw_guides(frame: np.ndarray, guides: tuple[GuideLine, ...], scale: float,
                font: int) -> None:
    """Task guide lines (pelvic line, trunk line, knee-over-toe line), in order."""
    for g in guides:
        _draw_guide(frame, g, scale, font)


def draw_score_card(frame: np.ndarray, card: ScoreCard) -> np.ndarray:
    """The frame dimmed with ``card`` centred on it (in place; returned)."""
    h, w = frame.shape[:2]
    s = h / 720.0
    frame[:] = (frame.astype(np.float32) * 0.35).astype(np.uint8)
    title, size = max(14, round(34 * s)), max(11, round(22 * s))
    while size > 9 and (len(card.lines) + 2) * size * 1.35 > h * 0.9:
        size -= 1  # many lines (both legs) shrink to fit
    step = round(size * 1.35)
    y = max(round(12 * s), (h - step * (len(card.lines) + 2)) // 2)
    put_text(frame, card.title, (w // 2, y), title, bold=True, anchor="mt")
    y += round(title * 1.6)
    x = max(round(16 * s), w // 2 - round(300 * s))
    for text, verdict in card.lines:
        color = (255, 255, 255) if verdict is None else BAD if verdict else GOOD
        put_text(frame, text, (x, y), size, color, bold=verdict is None, background=PANEL,
                 alpha=0.6, pad=2)
        y += step
    return frame


def draw_hold_ring(frame: np.ndarray, center: tuple[int, int], radius: int,
                   fraction: float, text: str | None, scale: float) -> None:
    """A progress ring (full = hold done) with its label in the middle."""
    th = max(4, round(8 * scale))
    cv2.circle(frame, center, radius, (80, 80, 80), th, cv2.LINE_AA)
    frac = float(np.clip(fraction, 0.0, 1.0))
    if frac > 0:
        cv2.ellipse(frame, center, (radius, radius), -90, 0, 360 * frac,
                    GOOD if frac >= 1 else (255, 255, 255), th, cv2.LINE_AA)
    if text:
        put_text(frame, text, center, max(12, round(radius * 0.5)), bold=True, anchor="mm")


#: Card colours (BGR): a near-opaque dark panel keeps the text legible in a dim room or
#: in front of a bright window; status green / amber as the posture check passes / waits.
CARD_PANEL: Color = (24, 24, 24)
CARD_ACCENT: Color = (0, 215, 255)  # the demo's frame and the card's rule: amber


def how_lines(how: tuple[str, ...], size: int, width: int,
              min_ratio: float = 0.75) -> tuple[list[str], int]:
    """The card's "how" text as drawn lines and their px size: each given line whole
    on one line (the font made smaller, down to ``min_ratio`` of ``size``, when that
    is needed); when a line still does not fit, the lines are joined into one sentence
    wrapped at ``size`` (never a line broken on its own, leaving a one-word line)."""
    floor = max(12, round(size * min_ratio))
    for px in range(size, floor - 1, -2):
        if all(text_size(ln, px, True)[0] <= width for ln in how):
            return list(how), px
    return wrap_lines(" ".join(how), size, width), size


def draw_card(frame: np.ndarray, card: CardView, framing: str | None, top: int,
              bottom: int, scale: float) -> tuple[int, int, int, int]:
    """The exercise card between ``top`` and ``bottom`` (pixels): the demo clip on the
    right in an amber frame, how it is done on the left, the status line (the framing
    instruction in amber while the person is not in position, green when ready). The
    camera picture around it is dimmed. Returns the card's box."""
    w = frame.shape[1]
    m = round(16 * scale)
    x0, x1 = m, w - m
    y0, y1 = top, max(top + 10, bottom)
    roi = frame[y0:y1, x0:x1]
    cv2.addWeighted(roi, 0.2, _tile(roi.shape, CARD_PANEL), 0.8, 0.0, dst=roi)
    cv2.rectangle(frame, (x0, y0), (x1 - 1, y1 - 1), CARD_ACCENT, max(2, round(3 * scale)),
                  cv2.LINE_AA)
    pad = round(20 * scale)
    text_right = x1 - pad
    if card.demo is not None:
        ch = y1 - y0 - 2 * pad
        dh, dw = card.demo.shape[:2]
        # at most 38% of the card: the "how" lines keep ~60% and stay whole at ~26 px+
        tw = min(round(ch * dw / dh), round((x1 - x0) * 0.38))
        th = round(tw * dh / dw)
        if tw > 10 and th > 10:
            dx, dy = x1 - pad - tw, y0 + (y1 - y0 - th) // 2
            frame[dy:dy + th, dx:dx + tw] = cv2.resize(card.demo, (tw, th),
                                                       interpolation=cv2.INTER_LINEAR)
            cv2.rectangle(frame, (dx - 2, dy - 2), (dx + tw + 1, dy + th + 1), CARD_ACCENT,
                          max(2, round(4 * scale)), cv2.LINE_AA)
            put_text(frame, "demo", (dx + round(8 * scale), dy + round(6 * scale)),
                     max(11, round(SMALL_PX * scale)), CARD_ACCENT, bold=True,
                     background=CARD_PANEL, alpha=0.8, pad=4)
            text_right = dx - pad
    size = max(12, round(TITLE_PX * 1.2 * scale))
    lines, size = how_lines(card.how, size, text_right - x0 - pad)
    y = y0 + pad
    for part in lines:
        box = put_text(frame, part, (x0 + pad, y), size, bold=True)
        y = box[3] + round(8 * scale)
    status = framing or card.status
    if status:
        color = GOOD if card.ready and not framing else CARD_ACCENT
        y += round(16 * scale)
        for part in wrap_lines(status, size, text_right - x0 - pad):
            box = put_text(frame, part, (x0 + pad, y), size, color, bold=True)
            y = box[3] + round(8 * scale)
    return (x0, y0, x1, y1)


def draw_countdown(frame: np.ndarray, seconds: int, scale: float) -> None:
    """A large green ring with the seconds left in it, centred."""
    h, w = frame.shape[:2]
    r = round(min(h, w) * 0.22)
    c = (w // 2, round(h * 0.42))
    y0, x0 = max(0, c[1] - r), max(0, c[0] - r)
    roi = frame[y0:c[1] + r + 1, x0:c[0] + r + 1]
    dark = roi.copy()
    cv2.circle(dark, (c[0] - x0, c[1] - y0), r, CARD_PANEL, -1, cv2.LINE_AA)
    cv2.addWeighted(roi, 0.3, dark, 0.7, 0.0, dst=roi)  # a dark disc behind the digit
    cv2.circle(frame, c, r, GOOD, max(6, round(14 * scale)), cv2.LINE_AA)
    put_text(frame, str(seconds), c, round(r * 1.1), bold=True, anchor="mm")


def draw_thumbnails(frame: np.ndarray, thumbs: tuple[tuple[str, np.ndarray], ...],
                    top: int, scale: float, bottom: int | None = None) -> None:
    """A centred row of labelled pictures from ``top`` down to at most ``bottom``
    (pixels, labels included; default the frame's bottom), shrunk to fit."""
    h, w = frame.shape[:2]
    n = len(thumbs)
    gap = round(10 * scale)
    tw = min(round(w * 0.22), (w - gap * (n + 1)) // max(n, 1))
    avail = (h if bottom is None else bottom) - top - round(30 * scale)  # label room
    if thumbs and avail > 10:
        ratio = thumbs[0][1].shape[0] / thumbs[0][1].shape[1]
        tw = min(tw, round(avail / ratio))
    x = (w - n * tw - (n - 1) * gap) // 2
    for label, img in thumbs:
        th = max(1, round(img.shape[0] * tw / img.shape[1]))
        th = min(th, avail)
        if th <= 10 or tw <= 10:
            return
        small = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
        frame[top:top + th, x:x + tw] = small
        cv2.rectangle(frame, (x, top), (x + tw - 1, top + th - 1), BAD, 2, cv2.LINE_AA)
        put_text(frame, label, (x + tw // 2, top + th + 4), max(10, round(15 * scale)),
                 anchor="mt", background=PANEL, pad=3)
        x += tw + gap


def draw_overlay(frame: np.ndarray, state: OverlayState) -> np.ndarray:
    """Draw ``state`` onto ``frame`` (BGR uint8, in place) and return it."""
    h, w = frame.shape[:2]
    s = h / 720.0  # scale relative to a 720p frame
    small, body, big, big_min, huge = (max(11, round(v * s)) for v in (
        SMALL_PX, TITLE_PX, MAIN_PX, MAIN_MIN_PX, HUGE_PX))
    m = round(16 * s)
    keys_px = max(12, round(KEYS_PX * s))
    if state.landmarks_px is not None:  # under everything: a card's panel dims it
        draw_skeleton(frame, np.asarray(state.landmarks_px, float), s)
    draw_guides(frame, state.guides, s, small)  # on top: the guides are what to look at
    y = m
    if state.title:
        box = put_text(frame, state.title, (m, y), body, bold=True, background=PANEL,
                       alpha=PANEL_ALPHA)
        y = box[3] + round(6 * s)
    if state.progress:
        box = put_text(frame, state.progress, (m, y), small, background=PANEL,
                       alpha=PANEL_ALPHA)
        y = box[3] + round(6 * s)
    for label, value in state.metrics:
        box = put_text(frame, f"{label}: {value}", (m, y), small, background=PANEL,
                       alpha=PANEL_ALPHA)
        y = box[3] + round(2 * s)
    for fault in state.faults:
        box = put_text(frame, f"! {fault}", (m, y), small, BAD, bold=True,
                       background=(255, 255, 255), alpha=0.8)
        y = box[3] + round(2 * s)
    ty = m
    if state.counter is not None:
        box = put_text(frame, state.counter, (w - m, m), huge, bold=True, anchor="rt",
                       background=PANEL, alpha=PANEL_ALPHA)
        ty = box[3] + round(4 * s)
        if state.counter_label:
            box = put_text(frame, state.counter_label, (w - m, ty), small, anchor="rt",
                           background=PANEL, alpha=PANEL_ALPHA)
            ty = box[3] + round(8 * s)
    if state.hold_fraction is not None:
        r = round(80 * s)
        draw_hold_ring(frame, (w - m - r, ty + r + round(8 * s)), r, state.hold_fraction,
                       state.hold_text, s)
    if state.framing and state.card is None:
        draw_block(frame, state.framing, (w // 2, round(h * 0.42)), big, big_min,
                   w - 4 * m, WARN, s, valign="m")
    bottom = h - m
    if state.keys:
        bottom -= text_size(state.keys, keys_px, True)[1] + round(12 * s)
    main = state.cue or state.instruction
    main_top = bottom if not main else \
        bottom - round(24 * s) - block_height(main, big, big_min, w - 4 * m)
    if state.card is not None:
        # over the skeleton (seen dimmed through the panel): the card's text stays readable
        draw_card(frame, state.card, state.framing, max(y, ty) + round(8 * s),
                  main_top - round(8 * s), s)
    if state.countdown is not None:
        draw_countdown(frame, state.countdown, s)
    banner_box = None
    if state.banner:
        size = huge
        while size > body and text_size(state.banner, size, True)[0] > w - 2 * m:
            size -= 4  # long banners (the result line) shrink to fit the frame
        if state.thumbnails:  # the result screen: under the fault list, pictures below
            top = max(y + round(24 * s), round(h * 0.22))
            banner_box = put_text(frame, state.banner, (w // 2, top), size,
                                  bold=True, anchor="mt", background=PANEL, alpha=PANEL_ALPHA,
                                  pad=round(20 * s))
        else:
            banner_box = put_text(frame, state.banner, (w // 2, h // 2), size, bold=True,
                                  anchor="mm", background=PANEL, alpha=PANEL_ALPHA,
                                  pad=round(20 * s))
    if state.thumbnails:
        top = (banner_box[3] if banner_box else h // 2) + round(12 * s)
        draw_thumbnails(frame, state.thumbnails, top=top, scale=s, bottom=main_top)
    if state.keys:  # large enough to read from 2 m: the keys are shortcuts, not required
        put_text(frame, state.keys, (w // 2, h - m), keys_px, bold=True, anchor="mb",
                 background=PANEL, alpha=PANEL_ALPHA)
    if main:
        color = LEVEL_COLORS.get(state.cue_level, (255, 255, 255)) if state.cue else \
            (255, 255, 255)
        draw_block(frame, main, (w // 2, bottom - round(12 * s)), big, big_min, w - 4 * m,
                   color, s)
    corner = []
    if state.fps is not None:
        corner.append(f"{state.fps:4.1f} fps")
    if state.latency_ms is not None:
        corner.append(f"{state.latency_ms:3.0f} ms")
    if state.stale:
        corner.append("last result")
    if corner:
        put_text(frame, "  ".join(corner), (m, h - m), max(10, round(14 * s)), (200, 200, 200),
                 anchor="lb", background=PANEL, pad=4)
    return frame
