"""Framing / view gate: is the person filmed so that a test can be measured?

Per frame (vectorised over a sequence) :func:`assess_framing` reports whether the whole
body including both feet is inside the picture, whether the pose is geometrically
plausible, which way the person faces (camera, side-on, oblique, back), the camera
distance (body height as a share of the frame height) and lighting / visibility
problems, plus one short instruction for the user ("Step back so your feet are
visible").

Visibility alone is not trusted: when the head or the feet are cut off, MediaPipe can
return a confident "pose" squeezed into the part of the body it sees, or extrapolate the
missing part outside the picture with high visibility. So the gate checks geometry:
where the points are (inside the frame, with a margin), and whether limb lengths are
plausible relative to the torso, in the image (pixels) and in MediaPipe's world
landmarks (metres).

Best run on **raw** landmarks (before visibility masking): points MediaPipe places
outside the picture are exactly what tells that the feet are cut off. Masked input works
too: a NaN point is ignored, but a foot (ankle, heel and toe) or the head (nose and ears)
with no point left counts as out of view, and a frame has a person when both shoulders
and both hips are given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from itbcoach.config.schema import FramingConfig
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import PoseSequence

#: Landmarks that must be inside the frame for "whole body in view".
BODY = np.array([L.NOSE, L.LEFT_EAR, L.RIGHT_EAR, L.LEFT_SHOULDER, L.RIGHT_SHOULDER,
                 L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE,
                 L.RIGHT_ANKLE, L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX,
                 L.RIGHT_FOOT_INDEX])
#: Feet points, left and right alternating (``FEET[0::2]`` left, ``FEET[1::2]`` right).
FEET = np.array([L.LEFT_ANKLE, L.RIGHT_ANKLE, L.LEFT_HEEL, L.RIGHT_HEEL,
                 L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX])
#: Shoulders and hips: a frame has a person when these four are given.
TORSO = np.array([L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP])
HEAD = np.array([L.NOSE, L.LEFT_EAR, L.RIGHT_EAR])
#: (hip, knee), (knee, ankle) for each leg: the limb segments checked for plausibility.
SEGMENTS = np.array([[L.LEFT_HIP, L.LEFT_KNEE], [L.RIGHT_HIP, L.RIGHT_KNEE],
                     [L.LEFT_KNEE, L.LEFT_ANKLE], [L.RIGHT_KNEE, L.RIGHT_ANKLE]])

#: ``"lying"`` is ``"any"`` for a body lying on the floor: no view test, and its image
#: limb lengths are not checked against the side-on torso (see :func:`_plausible`).
VIEWS = ("frontal", "side", "any", "lying")


class Facing(IntEnum):
    """Which way the person faces the camera."""

    NONE = 0  # no person
    FRONT = 1  # facing the camera (subject's left on the image's right)
    BACK = 2  # back to the camera
    SIDE = 3  # side-on (sagittal view)
    OBLIQUE = 4  # in between


class Problem(IntEnum):
    """The most important framing problem of a frame, in priority order."""

    NONE = 0
    NO_PERSON = 1
    IMPLAUSIBLE = 2
    FEET_OUT = 3
    HEAD_OUT = 4
    SIDES_OUT = 5
    TOO_CLOSE = 6
    TOO_FAR = 7
    DARK = 8
    LOW_VISIBILITY = 9
    FACE_CAMERA = 10
    TURN_SIDE = 11


#: The instruction shown for each problem.
INSTRUCTIONS: dict[Problem, str] = {
    Problem.NONE: "",
    Problem.NO_PERSON: "Step into view: no person is detected",
    Problem.IMPLAUSIBLE: "Step back so your whole body, head to feet, is in the frame",
    Problem.FEET_OUT: "Step back so your feet are visible",
    Problem.HEAD_OUT: "Step back so your head is visible (or tilt the camera up)",
    Problem.SIDES_OUT: "Move to the centre of the frame",
    Problem.TOO_CLOSE: "Step back a little from the camera",
    Problem.TOO_FAR: "Come closer to the camera",
    Problem.DARK: "Turn on more light: the picture is too dark",
    Problem.LOW_VISIBILITY: "Parts of your body are hard to see: add light or remove "
                            "what blocks the view",
    Problem.FACE_CAMERA: "Turn to face the camera",
    Problem.TURN_SIDE: "Turn side-on to the camera",
}


@dataclass(frozen=True)
class FramingResult:
    """Per-frame framing flags; every array has shape ``(T,)``.

    Attributes:
        detected: a pose was found.
        body_in_frame: every :data:`BODY` point lies inside the frame (with the margin).
        feet_in_frame: ankles, heels and toes inside the frame.
        head_in_frame: nose and ears inside the frame.
        plausible: limb lengths are plausible relative to the torso (see module doc).
        facing: :class:`Facing` codes.
        view_ok: the facing suits the requested view.
        body_height: estimated standing height (nose to heel) as a share of the frame
            height (see :func:`_body_height_px`): the camera distance. For ``"lying"``:
            the body's length as a share of the frame's shorter side (lying across a
            portrait picture it can fill the width only).
        shoulder_width: image shoulder width in body scales (torso lengths).
        mean_visibility: mean visibility of the :data:`BODY` points.
        brightness: mean luma 0..255 of the frame (NaN when not given).
        problem: :class:`Problem` codes, the most important problem of each frame.
        view: the requested view (``"frontal"``, ``"side"``, ``"any"`` or ``"lying"``).
    """

    detected: np.ndarray
    body_in_frame: np.ndarray
    feet_in_frame: np.ndarray
    head_in_frame: np.ndarray
    plausible: np.ndarray
    facing: np.ndarray
    view_ok: np.ndarray
    body_height: np.ndarray
    shoulder_width: np.ndarray
    mean_visibility: np.ndarray
    brightness: np.ndarray
    problem: np.ndarray
    view: str

    def __len__(self) -> int:
        return int(self.problem.shape[0])

    @property
    def ok(self) -> np.ndarray:
        """``(T,)`` bool: no problem at all."""
        return self.problem == Problem.NONE

    @property
    def instructions(self) -> list[str]:
        """One instruction per frame (empty string when the framing is fine)."""
        return [INSTRUCTIONS[Problem(int(p))] for p in self.problem]

    def instruction(self, index: int = -1) -> str:
        """The instruction for one frame (default: the last)."""
        return INSTRUCTIONS[Problem(int(self.problem[index]))]

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary over all frames.

        Keys: ``frames``, ``view``, ``ok_share``, ``body_in_frame_share``,
        ``feet_in_frame_share``, ``plausible_share`` (shares of the frames with a
        person), ``facing`` (share per facing over frames with a person),
        ``body_height_median``, ``main_problem`` (most frequent problem name or
        ``"none"``), ``instruction`` (its instruction, ``""`` if none).
        """
        n = len(self)
        det = self.detected
        nd = int(det.sum())

        def share(flags: np.ndarray) -> float:
            return float(flags[det].mean()) if nd else 0.0

        problems = Counter(int(p) for p in self.problem if p != Problem.NONE)
        main = Problem(problems.most_common(1)[0][0]) if problems else Problem.NONE
        facing = {f.name.lower(): float((self.facing[det] == f).mean()) if nd else 0.0
                  for f in Facing if f is not Facing.NONE}
        heights = self.body_height[det & np.isfinite(self.body_height)]
        return {
            "frames": n,
            "view": self.view,
            "ok_share": float(self.ok.mean()) if n else 0.0,
            "body_in_frame_share": share(self.body_in_frame),
            "feet_in_frame_share": share(self.feet_in_frame),
            "plausible_share": share(self.plausible),
            "facing": facing,
            "body_height_median": float(np.median(heights)) if heights.size else None,
            "main_problem": main.name.lower(),
            "instruction": INSTRUCTIONS[main],
        }


def _inside(xy: np.ndarray, margin: float) -> np.ndarray:
    """``(..., N, 2)`` normalised points -> ``(...,)``: every point given (not NaN) lies
    inside ``[m, 1 - m]``."""
    with np.errstate(invalid="ignore"):
        out = (xy < margin) | (xy > 1.0 - margin)
    return ~out.any(axis=(-1, -2))


def _seen(xy: np.ndarray) -> np.ndarray:
    """``(T, N, 2)`` -> ``(T,)``: at least one of the points is given."""
    return np.isfinite(xy).all(axis=-1).any(axis=-1)


def _seg_ratio(points: np.ndarray, torso: np.ndarray) -> np.ndarray:
    """Limb segment lengths over the torso length: ``(T, 4)``."""
    a = points[:, SEGMENTS[:, 0]]
    b = points[:, SEGMENTS[:, 1]]
    with np.errstate(all="ignore"):
        return np.linalg.norm(a - b, axis=-1) / torso[:, None]


def _torso(points: np.ndarray) -> np.ndarray:
    sh = 0.5 * (points[:, L.LEFT_SHOULDER] + points[:, L.RIGHT_SHOULDER])
    hip = 0.5 * (points[:, L.LEFT_HIP] + points[:, L.RIGHT_HIP])
    return np.linalg.norm(sh - hip, axis=-1)


#: Nose-to-heel height over the torso length for an adult standing upright
#: (Drillis & Contini 1966: nose ~0.93 H, torso 0.288 H).
_HEIGHT_PER_TORSO = 0.93 / 0.288


def _body_height_px(px: np.ndarray, torso_px: np.ndarray) -> np.ndarray:
    """Standing body height (nose to heel) estimated from one frame, pixels ``(T,)``.

    The largest of: the vertical extent nose to lowest heel/toe; the chain nose ->
    shoulder midpoint -> hip midpoint -> knee -> ankle (longer leg); and the torso length
    times :data:`_HEIGHT_PER_TORSO`. Squatting shortens the first two, a forward lean the
    last; the maximum stays near the standing height.
    """
    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.linalg.norm(a - b, axis=-1)

    sh = 0.5 * (px[:, L.LEFT_SHOULDER] + px[:, L.RIGHT_SHOULDER])
    hip = 0.5 * (px[:, L.LEFT_HIP] + px[:, L.RIGHT_HIP])
    legs = np.fmax(dist(px[:, L.LEFT_HIP], px[:, L.LEFT_KNEE])
                   + dist(px[:, L.LEFT_KNEE], px[:, L.LEFT_ANKLE]),
                   dist(px[:, L.RIGHT_HIP], px[:, L.RIGHT_KNEE])
                   + dist(px[:, L.RIGHT_KNEE], px[:, L.RIGHT_ANKLE]))
    chain = dist(px[:, L.NOSE], sh) + dist(sh, hip) + legs
    feet = px[:, [L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX], 1]
    extent = np.fmax.reduce(feet, axis=1, initial=-np.inf) - px[:, L.NOSE, 1]
    return np.fmax(np.fmax(extent, chain), _HEIGHT_PER_TORSO * torso_px)


def assess_framing(seq: PoseSequence | np.ndarray, config: FramingConfig,
                   view: str = "any", *, visibility: np.ndarray | None = None,
                   image_size: tuple[int, int] | None = None,
                   world: np.ndarray | None = None,
                   brightness: np.ndarray | float | None = None) -> FramingResult:
    """Framing flags and one instruction per frame.

    Args:
        seq: a raw :class:`PoseSequence`, or image landmarks ``(T, 33, 3)`` / one frame
            ``(33, 3)`` (normalised, y down) with ``visibility`` and ``image_size``.
        config: the ``[framing]`` section.
        view: ``"frontal"`` (the person must face the camera), ``"side"`` (side-on),
            ``"any"`` or ``"lying"`` (any, for a body lying on the floor).
        visibility: ``(T, 33)`` / ``(33,)`` when ``seq`` is an array.
        image_size: ``(width, height)`` in pixels when ``seq`` is an array.
        world: optional world landmarks ``(T, 33, 3)`` / ``(33, 3)`` in metres when
            ``seq`` is an array (used by the plausibility check).
        brightness: optional mean luma 0..255 per frame ``(T,)`` or one value.

    Returns:
        A :class:`FramingResult` of length ``T`` (1 for one frame).

    Raises:
        ValueError: unknown ``view``, or arrays without ``visibility``/``image_size``.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    lm, vis, size, wl = _framing_inputs(seq, visibility, image_size, world)
    t_len = lm.shape[0]
    w, h = float(size[0]), float(size[1])
    xy = lm[..., :2]
    px = xy * np.array([w, h])

    detected = np.isfinite(lm[:, TORSO, :2]).all(axis=(1, 2))
    m = config.edge_margin
    # A masked (NaN) point is ignored, but a foot or the head with no point left counts
    # as not in view.
    feet_seen = _seen(xy[:, FEET[0::2]]) & _seen(xy[:, FEET[1::2]])
    head_seen = _seen(xy[:, HEAD])
    body_in = _inside(xy[:, BODY], m) & feet_seen & head_seen
    feet_in = _inside(xy[:, FEET], m) & feet_seen
    head_in = _inside(xy[:, HEAD], m) & head_seen

    torso_px = _torso(px)
    with np.errstate(all="ignore"):
        shoulder_w = np.abs(px[:, L.LEFT_SHOULDER, 0] - px[:, L.RIGHT_SHOULDER, 0]) / torso_px
        plausible = _plausible(px, torso_px, shoulder_w, wl, detected, config,
                               lying=view == "lying")
        # a body lying across a portrait picture can fill its width only
        body_height = _body_height_px(px, torso_px) / (min(w, h) if view == "lying" else h)
        body_vis = np.where(np.isfinite(vis[:, BODY]), vis[:, BODY], 0.0)
        mean_vis = body_vis.mean(axis=1) if t_len else np.zeros(0)

    facing = _facing(px, shoulder_w, detected, config)
    if view == "frontal":
        view_ok = facing == Facing.FRONT
    elif view == "side":
        view_ok = facing == Facing.SIDE
    else:  # any, lying
        view_ok = detected.copy()

    if brightness is None:
        bright = np.full(t_len, np.nan)
    else:
        bright = np.broadcast_to(np.asarray(brightness, dtype=np.float64), (t_len,)).copy()

    # Which edge a frame violates, for the instruction.
    with np.errstate(invalid="ignore"):
        feet_out = (xy[:, FEET, 1] > 1.0 - m).any(axis=1) | ~feet_seen  # below the bottom
        head_out = (xy[:, HEAD, 1] < m).any(axis=1) | ~head_seen  # above the top edge
    checks = [  # reversed priority: later assignments win
        (detected & ~view_ok & (view == "side"), Problem.TURN_SIDE),
        (detected & ~view_ok & (view == "frontal"), Problem.FACE_CAMERA),
        (detected & (mean_vis < config.min_mean_visibility), Problem.LOW_VISIBILITY),
        (np.isfinite(bright) & (bright < config.min_brightness), Problem.DARK),
        (detected & (body_height < config.min_body_height), Problem.TOO_FAR),
        (detected & (body_height > config.max_body_height), Problem.TOO_CLOSE),
        (detected & ~body_in, Problem.SIDES_OUT),
        (detected & head_out, Problem.HEAD_OUT),
        (detected & feet_out, Problem.FEET_OUT),
        (detected & ~plausible, Problem.IMPLAUSIBLE),
        (~detected, Problem.NO_PERSON),
    ]
    problem = np.zeros(t_len, dtype=np.int8)
    for mask, code in checks:
        problem[mask] = code
    return FramingResult(
        detected=detected, body_in_frame=body_in & detected, feet_in_frame=feet_in & detected,
        head_in_frame=head_in & detected, plausible=plausible, facing=facing,
        view_ok=view_ok & detected, body_height=body_height, shoulder_width=shoulder_w,
        mean_visibility=mean_vis, brightness=bright, problem=problem, view=view)


def _framing_inputs(seq: PoseSequence | np.ndarray, visibility: np.ndarray | None,
                    image_size: tuple[int, int] | None, world: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], np.ndarray | None]:
    """``(landmarks (T, 33, 3), visibility (T, 33), (width, height) px, world or None)``
    of a sequence or of arrays (one frame ``(33, 3)`` becomes ``T = 1``)."""
    if isinstance(seq, PoseSequence):
        lm, vis, size, wl = seq.landmarks, seq.visibility, seq.image_size, seq.world_landmarks
    else:
        if visibility is None or image_size is None:
            raise ValueError("assess_framing on arrays needs visibility and image_size")
        lm = np.asarray(seq, dtype=np.float64)
        vis = np.asarray(visibility, dtype=np.float64)
        size, wl = image_size, world
        if lm.ndim == 2:
            lm, vis = lm[None], vis[None]
            wl = None if wl is None else np.asarray(wl)[None]
    wl = None if wl is None else np.asarray(wl, dtype=np.float64)
    return (np.asarray(lm, dtype=np.float64), np.asarray(vis, dtype=np.float64), size, wl)


def _plausible(px: np.ndarray, torso_px: np.ndarray, shoulder_w: np.ndarray,
               wl: np.ndarray | None, detected: np.ndarray,
               config: FramingConfig, lying: bool = False) -> np.ndarray:
    """``(T,)`` bool: a real body. Side-on the torso lies in the image plane, so a limb
    much longer than it is not a real body (facing the camera, a forward lean
    legitimately shortens it); with world landmarks ``wl`` (m), limbs far longer than
    the torso are not either.

    ``lying``: a body lying on its side has its shoulders stacked (it reads side-on)
    but its torso points along the floor, toward or away from a turned camera: a
    camera 40 deg off the body's front shortens the torso to ~0.7 of the legs' scale
    (image limb/torso 1.37 against 0.87 square-on), so only the world check applies."""
    side_on = (shoulder_w < config.side_max_shoulder_width) & (not lying)
    img_ratio = _seg_ratio(px, torso_px)
    plausible = detected & (torso_px > 0) & ~(
        side_on & (np.max(np.nan_to_num(img_ratio), axis=1) > config.side_limb_torso_max))
    if wl is not None:
        w_ratio = _seg_ratio(wl, _torso(wl))
        has_world = np.isfinite(w_ratio).all(axis=1)
        w_bad = ((w_ratio.mean(axis=1) > config.world_limb_torso_mean_max)
                 | (w_ratio.max(axis=1) > config.world_limb_torso_max))
        plausible &= ~(has_world & w_bad)
    return plausible


def _facing(px: np.ndarray, shoulder_w: np.ndarray, detected: np.ndarray,
            config: FramingConfig) -> np.ndarray:
    """``(T,)`` int8 :class:`Facing` per frame from the shoulder width (torso lengths)
    and which way the subject's left shoulder and hip lie in the image (px, x right)."""
    with np.errstate(invalid="ignore"):
        side_sign = ((px[:, L.LEFT_SHOULDER, 0] - px[:, L.RIGHT_SHOULDER, 0])
                     + (px[:, L.LEFT_HIP, 0] - px[:, L.RIGHT_HIP, 0]))
        wide = shoulder_w >= config.frontal_min_shoulder_width
        side_on = shoulder_w < config.side_max_shoulder_width
        oblique = ~wide & (shoulder_w >= config.side_max_shoulder_width)
    facing = np.full(len(px), Facing.NONE, dtype=np.int8)
    facing[detected & wide & (side_sign > 0)] = Facing.FRONT
    facing[detected & wide & (side_sign <= 0)] = Facing.BACK
    facing[detected & side_on] = Facing.SIDE
    facing[detected & oblique] = Facing.OBLIQUE
    return facing
