"""The metric table: every per-frame metric, its kind and its landmarks, as data.

Each row names a metric, the formula ("kind") that computes it and up to four landmark
indices plus one constant. :func:`compile_table` turns the rows into index arrays once;
the compiled kernel (:mod:`itbcoach.kernel.core`) and the naive reference
(:mod:`itbcoach.kernel.reference`) both read this table, so a metric is defined once.

Conventions (all metrics):

* Image landmarks are first converted to pixels (``x * width``, ``y * height``, and
  ``z * width`` for depth, as MediaPipe scales z like x), so every 2D angle is isotropic.
* Angles are degrees. Image y points down.
* Sides are the **subject's own** left/right (MediaPipe's labels on an un-mirrored frame).
  "Lateral" signs are resolved per frame from where the subject's left hip and shoulder
  appear in the image, so they hold for a subject facing the camera, facing away, and for
  mirrored input whose labels were produced on the mirrored picture alike.
* Lengths are in **body scales**: the 2D torso length (shoulder midpoint to hip
  midpoint), which is stable when facing the camera and side-on.
* A missing landmark (NaN) makes every metric that uses it NaN; no warnings are raised.

Metric kinds:

``FLEXION(a, b, c)``
    ``180 - angle(a, b, c)`` in the image plane: 0 = straight, grows with flexion.
``FLEXION_3D(a, b, c)``
    The same from world landmarks (metres); NaN when there are none.
``ANGLE(a, b, c)``
    ``angle(a, b, c)`` at ``b`` in the image plane, 0..180.
``FPPA(hip, knee, ankle, side)``
    Knee frontal-plane projection angle: ``180 - angle(hip, knee, ankle)``, signed
    positive when the knee lies medial of the hip-ankle line (valgus), negative lateral
    (varus). ``side`` is 0 for the left leg, 1 for the right.
``MEDIAL_OFFSET(knee, toe, side; c)``
    Horizontal knee offset from the vertical line through ``toe`` in body scales,
    positive = knee medial of the toe, minus the constant ``c`` (the estimated distance
    from the second toe to the medial border of the foot, see ``FOOT_HALF_BREADTH``).
``TILT(a, b)``
    Tilt of the line ``a -> b`` from image horizontal, ``atan2(y_a - y_b, |x_a - x_b|)``,
    positive when ``b`` is higher in the image than ``a``.
``LATERAL_LEAN(a, b, c, d)``
    Line from ``mid(a, b)`` up to ``mid(c, d)`` against image vertical, positive when the
    upper point is toward the subject's own left.
``INCLINE(a, b, c, d)``
    Unsigned angle of ``mid(a, b) -> mid(c, d)`` from image vertical (0 = upright,
    90 = horizontal).
``DISTANCE(a, b)``
    2D distance in body scales.
``FOOT_ROTATION(heel, toe, side)``
    Foot progression proxy in a frontal view: direction heel -> toe against image
    vertical, positive = toe pointing out (lateral), 0 = pointing at the camera.
``YAW(left, right)``
    Rotation of the line right -> left about the vertical axis, from image x and z:
    0 = the line is parallel to the image (facing the camera), positive = the subject
    turned toward their own left (left side moved away from the camera), +-180 = back
    to the camera.
``TWIST(ls, rs, lh, rh)``
    ``YAW(shoulders) - YAW(hips)`` wrapped to -180..180: positive = shoulders turned to
    the subject's left relative to the pelvis.
``WIDTH(a, b)``
    ``|x_a - x_b|`` in body scales (e.g. shoulder width: about 0.7-0.9 facing the
    camera, near 0 side-on).
``GAP_RATIO(a, b, c, d)``
    ``|x_a - x_b| / |x_c - x_d|``, e.g. knee gap over ankle gap (< 1 = knees in).
``HEIGHT_DIFF(a, b)``
    ``(y_b - y_a)`` in body scales: positive when ``a`` is higher than ``b``.
``MID_Y(a, b)`` / ``MID_X(a, b)``
    Image position of ``mid(a, b)`` in body scales (y down, x right).
``SCALE``
    The body scale itself, pixels.
``BODY_HEIGHT(a, b, c)``
    ``(max(y_b, y_c) - y_a) / image height``: e.g. nose to lowest heel, as a share of the
    frame height (camera distance).
``FACING``
    +1 when the subject's left appears on the image's right (facing the camera, or a
    back view of mirrored input), -1 the other way, NaN when undetermined.
``INCLINE_3D(a, b, c, d)``
    Unsigned angle of ``mid(a, b) -> mid(c, d)`` from vertical in **world** landmarks
    (metres, camera-aligned axes with y down, as MediaPipe gives them): 0 = upright,
    90 = horizontal, whatever the view (e.g. a slumped trunk seen from the front). NaN
    without world landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from itbcoach.landmarks.types import Landmark as L


class Kind(IntEnum):
    """Formula codes of the metric table (see the module docstring)."""

    FLEXION = 0
    FLEXION_3D = 1
    ANGLE = 2
    FPPA = 3
    MEDIAL_OFFSET = 4
    TILT = 5
    LATERAL_LEAN = 6
    INCLINE = 7
    DISTANCE = 8
    FOOT_ROTATION = 9
    YAW = 10
    TWIST = 11
    WIDTH = 12
    GAP_RATIO = 13
    HEIGHT_DIFF = 14
    MID_Y = 15
    MID_X = 16
    SCALE = 17
    BODY_HEIGHT = 18
    FACING = 19
    INCLINE_3D = 20


#: Estimated distance from the second-toe line to the medial border of the foot, in
#: body scales (torso lengths). Anthropometry (Drillis & Contini 1966): foot breadth
#: ~0.055 H and shoulder-to-hip height ~0.288 H; the second ray is taken as the foot's
#: mid-line, so the medial border lies half a breadth medial of it: 0.0275 / 0.288 ~= 0.095.
FOOT_HALF_BREADTH = 0.095

LEFT, RIGHT = 0, 1


@dataclass(frozen=True)
class MetricSpec:
    """One row of the metric table."""

    name: str
    kind: Kind
    points: tuple[int, ...] = ()
    const: float = 0.0
    unit: str = "deg"
    doc: str = ""


def _sided(name: str, kind: Kind, left: tuple[int, ...], right: tuple[int, ...],
           const: float = 0.0, unit: str = "deg", doc: str = "") -> tuple[MetricSpec, ...]:
    return (MetricSpec(f"{name}_left", kind, left, const, unit, doc),
            MetricSpec(f"{name}_right", kind, right, const, unit, doc))


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("pelvic_obliquity", Kind.TILT, (L.RIGHT_HIP, L.LEFT_HIP),
               doc="hip line vs horizontal, + = subject's left hip higher"),
    MetricSpec("shoulder_obliquity", Kind.TILT, (L.RIGHT_SHOULDER, L.LEFT_SHOULDER),
               doc="shoulder line vs horizontal, + = subject's left shoulder higher"),
    MetricSpec("trunk_lean", Kind.LATERAL_LEAN,
               (L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
               doc="hip mid -> shoulder mid vs vertical, + = toward subject's left"),
    MetricSpec("trunk_incline", Kind.INCLINE,
               (L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
               doc="unsigned trunk angle from vertical (forward lean side-on)"),
    *_sided("fppa", Kind.FPPA, (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE, LEFT),
            (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE, RIGHT),
            doc="knee frontal-plane projection angle, + = valgus (medial)"),
    *_sided("knee_offset_toe", Kind.MEDIAL_OFFSET, (L.LEFT_KNEE, L.LEFT_FOOT_INDEX, LEFT),
            (L.RIGHT_KNEE, L.RIGHT_FOOT_INDEX, RIGHT), unit="scale",
            doc="knee vs second-toe line, + = medial"),
    *_sided("knee_offset_foot", Kind.MEDIAL_OFFSET, (L.LEFT_KNEE, L.LEFT_FOOT_INDEX, LEFT),
            (L.RIGHT_KNEE, L.RIGHT_FOOT_INDEX, RIGHT), const=FOOT_HALF_BREADTH, unit="scale",
            doc="knee vs estimated medial border of the foot, + = medial"),
    *_sided("knee_flexion", Kind.FLEXION, (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE),
            (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE), doc="2D, 0 = straight"),
    *_sided("knee_flexion_3d", Kind.FLEXION_3D, (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE),
            (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE), doc="from world landmarks"),
    *_sided("hip_flexion", Kind.FLEXION, (L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_KNEE),
            (L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_KNEE), doc="2D trunk-thigh, 0 = straight"),
    *_sided("hip_flexion_3d", Kind.FLEXION_3D, (L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_KNEE),
            (L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_KNEE), doc="from world landmarks"),
    *_sided("arm_abduction", Kind.ANGLE, (L.LEFT_HIP, L.LEFT_SHOULDER, L.LEFT_ELBOW),
            (L.RIGHT_HIP, L.RIGHT_SHOULDER, L.RIGHT_ELBOW), doc="upper arm vs trunk side"),
    *_sided("wrist_hip_distance", Kind.DISTANCE, (L.LEFT_WRIST, L.LEFT_HIP),
            (L.RIGHT_WRIST, L.RIGHT_HIP), unit="scale", doc="hands on the waist ~ < 0.35"),
    *_sided("foot_rotation", Kind.FOOT_ROTATION, (L.LEFT_HEEL, L.LEFT_FOOT_INDEX, LEFT),
            (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX, RIGHT), doc="+ = toe out (frontal view)"),
    MetricSpec("ankle_separation", Kind.WIDTH, (L.LEFT_ANKLE, L.RIGHT_ANKLE), unit="scale",
               doc="horizontal ankle gap"),
    MetricSpec("knee_ankle_gap_ratio", Kind.GAP_RATIO,
               (L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE), unit="ratio",
               doc="knee gap / ankle gap, < 1 = knees in"),
    MetricSpec("ankle_height_diff", Kind.HEIGHT_DIFF, (L.LEFT_ANKLE, L.RIGHT_ANKLE),
               unit="scale", doc="+ = left ankle higher than right"),
    MetricSpec("heel_height_diff", Kind.HEIGHT_DIFF, (L.LEFT_HEEL, L.RIGHT_HEEL),
               unit="scale", doc="+ = left heel higher than right"),
    MetricSpec("hip_y", Kind.MID_Y, (L.LEFT_HIP, L.RIGHT_HIP), unit="scale",
               doc="hip midpoint height, image y (down)"),
    MetricSpec("hip_x", Kind.MID_X, (L.LEFT_HIP, L.RIGHT_HIP), unit="scale",
               doc="hip midpoint, image x (right)"),
    *_sided("ankle_x", Kind.MID_X, (L.LEFT_ANKLE, L.LEFT_ANKLE),
            (L.RIGHT_ANKLE, L.RIGHT_ANKLE), unit="scale", doc="image x (right)"),
    *_sided("ankle_y", Kind.MID_Y, (L.LEFT_ANKLE, L.LEFT_ANKLE),
            (L.RIGHT_ANKLE, L.RIGHT_ANKLE), unit="scale", doc="image y (down)"),
    *_sided("knee_y", Kind.MID_Y, (L.LEFT_KNEE, L.LEFT_KNEE),
            (L.RIGHT_KNEE, L.RIGHT_KNEE), unit="scale", doc="image y (down)"),
    *_sided("wrist_y", Kind.MID_Y, (L.LEFT_WRIST, L.LEFT_WRIST),
            (L.RIGHT_WRIST, L.RIGHT_WRIST), unit="scale", doc="image y (down)"),
    MetricSpec("shoulder_hip_twist", Kind.TWIST,
               (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP),
               doc="shoulder line vs hip line about vertical, + = shoulders to the left"),
    MetricSpec("body_yaw", Kind.YAW, (L.LEFT_HIP, L.RIGHT_HIP),
               doc="0 = facing the camera, +-90 = side-on"),
    MetricSpec("shoulder_width", Kind.WIDTH, (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
               unit="scale", doc="facing score: ~0.7-0.9 frontal, ~0 side-on"),
    MetricSpec("hip_width", Kind.WIDTH, (L.LEFT_HIP, L.RIGHT_HIP), unit="scale"),
    MetricSpec("body_scale", Kind.SCALE, (), unit="px", doc="torso length"),
    MetricSpec("body_height", Kind.BODY_HEIGHT, (L.NOSE, L.LEFT_HEEL, L.RIGHT_HEEL),
               unit="frame", doc="nose to lowest heel / image height"),
    MetricSpec("facing", Kind.FACING, (), unit="sign",
               doc="+1 subject's left on image right, -1 opposite"),
    # exercise programme (itbcoach.exercises): trunk posture in any view, knee x
    MetricSpec("trunk_incline_3d", Kind.INCLINE_3D,
               (L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
               doc="world trunk angle from vertical, 0 = upright (slump seen from the front)"),
    *_sided("knee_x", Kind.MID_X, (L.LEFT_KNEE, L.LEFT_KNEE),
            (L.RIGHT_KNEE, L.RIGHT_KNEE), unit="scale", doc="image x (right)"),
    # the step-down's planted second toe (scoring.stepdown.measure_rep)
    *_sided("toe_x", Kind.MID_X, (L.LEFT_FOOT_INDEX, L.LEFT_FOOT_INDEX),
            (L.RIGHT_FOOT_INDEX, L.RIGHT_FOOT_INDEX), unit="scale", doc="image x (right)"),
)

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)

#: Column index of each metric in the kernel's output: ``out[..., Metric.TRUNK_LEAN]``.
Metric = IntEnum("Metric", {m.name.upper(): i for i, m in enumerate(METRICS)})  # type: ignore[misc]

NUM_METRICS = len(METRICS)


@dataclass(frozen=True)
class CompiledTable:
    """Index arrays of the metric table for the kernel: ``kinds (K,)``, ``points (K, 4)``
    (unused slots -1), ``consts (K,)``."""

    kinds: np.ndarray
    points: np.ndarray
    consts: np.ndarray


def compile_table(specs: tuple[MetricSpec, ...] = METRICS) -> CompiledTable:
    """Turn metric rows into contiguous index arrays (done once at import)."""
    if len({s.name for s in specs}) != len(specs):
        raise ValueError("metric names must be unique")
    kinds = np.array([int(s.kind) for s in specs], dtype=np.int64)
    points = np.full((len(specs), 4), -1, dtype=np.int64)
    for i, s in enumerate(specs):
        if len(s.points) > 4:
            raise ValueError(f"metric {s.name}: at most 4 landmark slots")
        points[i, : len(s.points)] = [int(p) for p in s.points]
    consts = np.array([s.const for s in specs], dtype=np.float64)
    return CompiledTable(kinds, points, consts)


TABLE = compile_table()
