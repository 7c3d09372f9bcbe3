"""The overlay draws what its state says, anti-aliased, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.feedback.overlay import (
    BAD,
    GOOD,
    LEFT_COLOR,
    RIGHT_COLOR,
    CardView,
    GuideLine,
    OverlayState,
    ScoreCard,
    draw_overlay,
    draw_score_card,
    draw_skeleton,
    how_lines,
)
from itbcoach.feedback.text import put_text, text_mask, text_size
from itbcoach.landmarks import Landmark as L


def standing_px(w: int = 1280, h: int = 720) -> np.ndarray:
    pts = np.full((33, 2), np.nan)
    k = h / 480
    for lm, (x, y) in {
        L.LEFT_SHOULDER: (360, 100), L.RIGHT_SHOULDER: (280, 100),
        L.LEFT_HIP: (350, 250), L.RIGHT_HIP: (290, 250),
        L.LEFT_KNEE: (350, 350), L.RIGHT_KNEE: (290, 350),
        L.LEFT_ANKLE: (350, 440), L.RIGHT_ANKLE: (290, 440),
    }.items():
        pts[lm] = (w / 2 + (x - 320) * k, y * k)
    return pts


def blank(w: int = 1280, h: int = 720) -> np.ndarray:
    return np.full((h, w, 3), 90, np.uint8)


def test_skeleton_is_drawn_in_side_colours() -> None:
    pts = standing_px()
    img = draw_overlay(blank(), OverlayState(landmarks_px=pts))
    mid_left = ((pts[L.LEFT_HIP] + pts[L.LEFT_KNEE]) / 2).round().astype(int)
    mid_right = ((pts[L.RIGHT_HIP] + pts[L.RIGHT_KNEE]) / 2).round().astype(int)
    assert tuple(img[mid_left[1], mid_left[0]]) == LEFT_COLOR
    assert tuple(img[mid_right[1], mid_right[0]]) == RIGHT_COLOR
    # away from the body nothing changed
    assert (img[20:200, 20:200] == 90).all()


def test_missing_landmarks_are_skipped() -> None:
    pts = standing_px()
    pts[L.LEFT_KNEE] = np.nan
    img = draw_overlay(blank(), OverlayState(landmarks_px=pts))
    mid = ((pts[L.LEFT_HIP] + pts[L.LEFT_ANKLE]) / 2).round().astype(int)
    assert tuple(img[mid[1], mid[0]]) == (90, 90, 90)  # no bone through the missing knee


def test_counter_cue_and_ring_regions() -> None:
    state = OverlayState(counter="3/5", counter_label="reps", hold_fraction=0.5,
                         hold_text="2.5 s", cue="Keep your pelvis level", cue_level="warn",
                         title="Step-down", fps=30.0, latency_ms=80.0)
    img = draw_overlay(blank(), state)
    top_right = img[:120, -260:]
    assert (top_right.max(axis=2) >= 250).sum() > 500  # big white digits
    bottom = img[-120:, 300:980]
    assert (np.abs(bottom.astype(int) - (40, 170, 255)).sum(axis=2) < 30).sum() > 500
    # text is anti-aliased: many intermediate levels along glyph edges
    assert len(np.unique(top_right[..., 1])) > 30


def test_guides_and_small_frames() -> None:
    pts = standing_px(320, 240)
    state = OverlayState(landmarks_px=pts, guides=(
        GuideLine((10.0, 10.0), (100.0, 10.0), (0, 255, 255), dashed=True, label="x"),
        GuideLine((np.nan, 0.0), (1.0, 1.0))), cue="A very long cue " * 6,
        banner="Switch legs", framing="Step back so your feet are visible")
    img = draw_overlay(blank(320, 240), state)
    assert img.shape == (240, 320, 3)
    row = img[9:12, 10:100].astype(int).reshape(-1, 3)
    yellowish = (row[:, 0] < 60) & (row[:, 1] > 200) & (row[:, 2] > 200)
    assert 10 < yellowish.sum() < 3 * 90  # dashed: some, not all, of the line


def test_text_mask_is_cached_and_clipped() -> None:
    assert text_mask("abc", 20) is text_mask("abc", 20)
    img = blank(100, 50)
    box = put_text(img, "off the edge", (90, 40), 30)
    assert box[2] <= 100 and box[3] <= 50


@pytest.mark.parametrize("anchor", ["lt", "mm", "rb"])
def test_put_text_anchors(anchor: str) -> None:
    img = blank(400, 200)
    x0, y0, x1, y1 = put_text(img, "Hi", (200, 100), 40, anchor=anchor, pad=0)
    cx, cy = {"lt": (x0, y0), "mm": ((x0 + x1) // 2, (y0 + y1) // 2), "rb": (x1, y1)}[anchor]
    assert abs(cx - 200) <= 2 and abs(cy - 100) <= 2


def test_long_banner_fits_and_thumbnails_are_drawn() -> None:
    thumb = np.full((120, 160, 3), (0, 200, 0), np.uint8)
    state = OverlayState(banner="left: 0 (good)  ·  right: 3 (medium)",
                         thumbnails=(("right: trunk lean", thumb), ("right: knee", thumb)))
    img = draw_overlay(blank(640, 480), state)
    band = img[120:200]  # with pictures under it the banner sits at a third of the height
    white_cols = np.flatnonzero((band.min(axis=2) > 240).any(axis=0))  # banner glyphs
    assert white_cols.min() >= 8 and white_cols.max() <= 631  # the whole line is inside
    green = (np.abs(img.astype(int) - (0, 200, 0)).sum(axis=2) < 30)
    assert green.sum() > 2 * 0.8 * (640 * 0.22) * (640 * 0.22 * 0.75) * 0.8
    banner_rows = 120 + np.flatnonzero((band.min(axis=2) > 240).any(axis=1))
    assert np.flatnonzero(green.any(axis=1)).min() > banner_rows.max()  # under the banner


def test_result_pictures_stop_above_the_advice() -> None:
    """Banner, pictures and a two-line advice at the bottom do not overlap."""
    thumb = np.full((320, 240, 3), (0, 200, 0), np.uint8)
    state = OverlayState(banner="left: 1 (good)  ·  right: 3 (medium)",
                         cue="Hip abductors: glute isometric holds and monster band walks.",
                         thumbnails=tuple((f"fault {i}", thumb) for i in range(4)))
    img = draw_overlay(blank(1280, 720), state)
    green_rows = np.flatnonzero(
        (np.abs(img.astype(int) - (0, 200, 0)).sum(axis=2) < 30).any(axis=1))
    ink_per_row = (img.min(axis=2) > 240).sum(axis=1)
    cue_rows = np.flatnonzero(ink_per_row > 300)  # large type (the small labels: < 200)
    cue_top = cue_rows[cue_rows > 450].min()  # the advice's first line of glyphs
    assert green_rows.size > 150 and green_rows.max() < cue_top - 20


def test_face_points_are_not_drawn() -> None:
    """Nose, eyes, ears and mouth add clutter: a skeleton of only face points draws
    nothing; the shoulders down still draw."""
    pts = np.full((33, 2), np.nan)
    pts[:11] = np.column_stack([np.linspace(600, 680, 11), np.full(11, 100.0)])
    frame = blank()
    draw_skeleton(frame, pts, 1.0)
    assert (frame != 90).sum() == 0
    draw_skeleton(frame, standing_px(), 1.0)
    assert (frame != 90).sum() > 1000


def test_score_card_colours_each_line_by_verdict() -> None:
    """The closing card: faults red, fine criteria green, headings white, on a dimmed
    frame."""
    frame = np.full((720, 1280, 3), 200, np.uint8)
    card = ScoreCard("Lateral step-down test", (("Left leg: score 3", None),
                                                ("Pelvis not level: yes", True),
                                                ("Trunk lean: no", False)))
    out = draw_score_card(frame, card)
    red = (np.abs(out.astype(int) - BAD).sum(axis=2) < 60).sum()
    green = (np.abs(out.astype(int) - GOOD).sum(axis=2) < 60).sum()
    assert red > 300 and green > 300
    assert out[5, 5].tolist() == [70, 70, 70]  # dimmed to 35%


def test_card_keeps_each_how_line_whole_and_covers_the_skeleton() -> None:
    """The card's two "how" lines are drawn as two lines (smaller type rather than a
    line broken mid-sentence); the skeleton behind the card is dimmed by its panel
    (no bright bone pixel inside the card), outside the card it is drawn as usual."""
    how = ("Stand on the step on one leg, hands on the hips,",
           "lower the other heel to tap the floor")
    lines, px = how_lines(how, 34, 720)
    assert lines == list(how) and 26 <= px < 34
    assert all(text_size(ln, px, True)[0] <= 720 for ln in lines)
    # too narrow for whole lines even at 3/4 size: one sentence wrapped at full size
    lines, px = how_lines(how, 34, 300)
    assert px == 34 and len(lines) >= 4 and " ".join(lines) == " ".join(how)
    pts = standing_px()
    card = CardView(how, None, False, "Waiting for the position: standing")
    img = draw_overlay(blank(), OverlayState(landmarks_px=pts, card=card,
                                             instruction="Stand sideways"))
    left = np.all(img == LEFT_COLOR, axis=2)
    ys = np.nonzero(left.any(axis=1))[0]
    amber = np.all(img == (0, 215, 255), axis=2)  # the card's frame
    rows = np.nonzero(amber.sum(axis=1) > 600)[0]  # its top and bottom edges
    top, bottom = rows.min(), rows.max()
    assert bottom - top > 150
    assert not left[top + 5:bottom - 5].any()  # no bright bone on the card
    assert (ys > bottom).any()  # the legs below the card: drawn in full colour
