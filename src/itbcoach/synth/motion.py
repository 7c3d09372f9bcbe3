"""Joint-angle motion description of a synthetic body (the contract for every synth script).

Motion API (code against this)
------------------------------

* :class:`BodyDims` -- segment lengths in metres, ``BodyDims.from_stature(1.70)`` from
  anthropometric ratios (Drillis & Contini 1966, as tabulated in Winter, *Biomechanics and
  Motor Control of Human Movement*, 4th ed., 2009, Fig. 4.1).
* :class:`Motion` -- a frozen dataclass of per-frame arrays over ``T`` frames: times, the
  pelvis position (m) and orientation, trunk angles, and per-side joint angles
  ``(T, 2)`` (column 0 = the subject's LEFT, column 1 = RIGHT; :class:`Side`). Angles are
  **degrees**. Build one with :meth:`Motion.neutral` (standing, hands on the waist or
  arms at the sides), then change fields with :meth:`Motion.replace` /
  :meth:`Motion.set_side`; join clips with :meth:`Motion.concat`.
* :func:`itbcoach.synth.kinematics.forward_kinematics` turns a ``Motion`` into 3D joint
  centres and segment frames; :func:`itbcoach.synth.kinematics.landmarks_3d` into the 33
  BlazePose landmarks (lab metres); :class:`itbcoach.synth.kinematics.Camera` and
  :func:`itbcoach.synth.kinematics.render_sequence` into a
  :class:`itbcoach.landmarks.PoseSequence` with ground truth.
* Scripts (e.g. :func:`itbcoach.synth.stepdown.stepdown_motion`) return a ``Motion`` plus
  their own ground truth (rep boundaries, expected faults).

Lab frame
---------
Right-handed, metres: ``x`` forward (the direction the subject faces when the pelvis yaw
is 0), ``y`` to the subject's **left**, ``z`` up; the floor is ``z = 0``. In the neutral
standing posture every segment frame is aligned with the lab axes (anatomical position,
palms facing the thighs). A camera in front of the subject looks along ``-x``.

Angle conventions (degrees; positive direction stated; the same for both sides)
------------------------------------------------------------------------------
Pelvis (root, **in the lab frame**), ``R_pelvis = Rz(yaw) Rx(obliquity) Ry(tilt)``:

* ``pelvis_obliquity``: + = the subject's **left** hip joint centre higher (so a right
  stance leg with the free left side dropping is negative);
* ``pelvis_tilt``: + = anterior tilt (top of the pelvis forward);
* ``pelvis_yaw``: + = turned toward the subject's own left (as the kernel's ``body_yaw``).
* ``pelvis_pos``: the midpoint of the two hip joint centres, lab metres.

Trunk (thorax **relative to the pelvis**), rotation about the hip-joint-centre midpoint,
``R_thorax = R_pelvis Ry(flexion) Rx(-lateral) Rz(rotation)``:

* ``trunk_flexion``: + = forward;
* ``trunk_lateral``: + = leaning toward the subject's left;
* ``trunk_rotation``: + = shoulders turned toward the subject's left.

Global trunk lean (the clinical measure, vs vertical) is *not* this relative angle when
the pelvis is oblique: with ``R_pelvis`` pure obliquity ``o``, the global lean toward the
left is ``trunk_lateral - o``. Use :func:`itbcoach.synth.kinematics.ground_truth` for
global measures.

Legs (relative to the parent segment), per side, Cardan sequence Y-X-Z
(flexion, abduction, rotation), ISB-like (Wu et al. 2002):

* ``hip_flexion``: + = thigh forward; ``hip_abduction``: + = thigh away from the
  midline; ``hip_rotation``: + = **internal** rotation;
* ``knee_flexion``: + = flexion (shank backward), 0 = straight;
* ankle (foot relative to shank, Y-X-Z): ``ankle_dorsiflexion`` + = toes up;
  ``ankle_inversion`` + = sole turned toward the midline; ``foot_progression`` + = toe
  out (rotation about the vertical axis of the foot).

Arms (relative to the thorax), shoulder sequence X-Y-Z (abduction, flexion, rotation):

* ``shoulder_abduction``: + = arm away from the side in the frontal plane;
  ``shoulder_flexion``: + = arm forward; ``shoulder_rotation``: + = internal rotation;
* ``elbow_flexion``: + = flexion, 0 = straight.

The head is rigid with the thorax. Hands are rigid with the forearm.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Side(IntEnum):
    """Column of the per-side ``(T, 2)`` arrays: the subject's own left and right."""

    LEFT = 0
    RIGHT = 1


def side_index(side: str | int) -> int:
    """``"left"``/``"right"``/``Side`` -> column index 0/1."""
    if isinstance(side, str):
        try:
            return int(Side[side.upper()])
        except KeyError:
            raise ValueError(f"side must be 'left' or 'right', got {side!r}") from None
    return int(Side(side))


@dataclass(frozen=True)
class BodyDims:
    """Segment dimensions in metres.

    Built from stature by :meth:`from_stature`, with the ratios of Drillis & Contini
    (1966) as tabulated by Winter (2009, Fig. 4.1) unless stated otherwise.

    Attributes:
        stature: standing height, m.
        thigh: hip joint centre to knee joint centre (0.245 H).
        shank: knee to ankle joint centre (0.246 H).
        ankle_height: ankle joint centre above the sole (0.039 H).
        foot_length: heel to toe tip (0.152 H).
        foot_breadth: across the metatarsal heads (0.055 H).
        heel_back: ankle joint centre to the back of the heel (0.25 foot lengths, the
            usual position of the malleoli along the foot).
        hip_width: distance between the hip joint centres (0.105 H: Bell et al. 1990 put
            each centre 14% of the inter-ASIS distance medial of its ASIS; inter-ASIS
            ~0.146 H).
        trunk: hip-joint-centre midpoint to shoulder-joint-centre midpoint
            (0.818 H - 0.530 H = 0.288 H).
        shoulder_width: between the shoulder joint centres (0.21 H: biacromial breadth
            0.259 H less ~0.024 H per side to the glenohumeral centre).
        upper_arm: 0.186 H; forearm: 0.146 H; hand: wrist to fingertip, 0.108 H.
        head_top: shoulder midpoint to the top of the head (1.0 H - 0.818 H).
        eye_height: eyes above the shoulder midpoint (0.936 H - 0.818 H).
        chin_height: chin above the shoulder midpoint (0.870 H - 0.818 H).
    """

    stature: float
    thigh: float
    shank: float
    ankle_height: float
    foot_length: float
    foot_breadth: float
    heel_back: float
    hip_width: float
    trunk: float
    shoulder_width: float
    upper_arm: float
    forearm: float
    hand: float
    head_top: float
    eye_height: float
    chin_height: float

    @classmethod
    def from_stature(cls, stature: float = 1.70) -> BodyDims:
        """Dimensions of an adult of the given height (m)."""
        if not 0.5 < stature < 2.5:
            raise ValueError(f"stature must be in metres (0.5..2.5), got {stature}")
        h = float(stature)
        foot = 0.152 * h
        return cls(stature=h, thigh=0.245 * h, shank=0.246 * h, ankle_height=0.039 * h,
                   foot_length=foot, foot_breadth=0.055 * h, heel_back=0.25 * foot,
                   hip_width=0.105 * h, trunk=0.288 * h, shoulder_width=0.21 * h,
                   upper_arm=0.186 * h, forearm=0.146 * h, hand=0.108 * h,
                   head_top=0.182 * h, eye_height=0.118 * h, chin_height=0.052 * h)

    @property
    def leg_length(self) -> float:
        """Hip joint centre to the sole with the leg straight, m (0.530 H)."""
        return self.thigh + self.shank + self.ankle_height


#: Fields holding one value per frame, shape ``(T,)``.
SCALAR_FIELDS = ("pelvis_obliquity", "pelvis_tilt", "pelvis_yaw",
                 "trunk_flexion", "trunk_lateral", "trunk_rotation")
#: Fields holding one value per frame and side, shape ``(T, 2)``.
SIDED_FIELDS = ("hip_flexion", "hip_abduction", "hip_rotation", "knee_flexion",
                "ankle_dorsiflexion", "ankle_inversion", "foot_progression",
                "shoulder_abduction", "shoulder_flexion", "shoulder_rotation",
                "elbow_flexion")
ANGLE_FIELDS = SCALAR_FIELDS + SIDED_FIELDS

#: Arm angles of "hands on the waist" (akimbo): upper arm out to the side, humerus
#: internally rotated so the flexed elbow brings the hand to the iliac crest. Chosen so
#: the wrist lands on the side of the waist of a :class:`BodyDims` body (checked in
#: tests/synth: wrist within 0.12 stature of the hip joint centre, above it).
HANDS_ON_WAIST = {"shoulder_abduction": 38.0, "shoulder_flexion": -8.0,
                  "shoulder_rotation": 80.0, "elbow_flexion": 95.0}
#: Arms hanging relaxed at the sides.
ARMS_AT_SIDES = {"shoulder_abduction": 6.0, "shoulder_flexion": 0.0,
                 "shoulder_rotation": 0.0, "elbow_flexion": 8.0}


@dataclass(frozen=True, eq=False)
class Motion:
    """A body's posture over ``T`` frames (see the module docstring for conventions).

    Attributes:
        t_s: ``(T,)`` float64 seconds, strictly increasing.
        pelvis_pos: ``(T, 3)`` lab metres, midpoint of the hip joint centres.
        pelvis_obliquity, pelvis_tilt, pelvis_yaw: ``(T,)`` degrees, in the lab frame.
        trunk_flexion, trunk_lateral, trunk_rotation: ``(T,)`` degrees, thorax vs pelvis.
        hip_flexion ... elbow_flexion: ``(T, 2)`` degrees, columns left, right.
    """

    t_s: np.ndarray
    pelvis_pos: np.ndarray
    pelvis_obliquity: np.ndarray
    pelvis_tilt: np.ndarray
    pelvis_yaw: np.ndarray
    trunk_flexion: np.ndarray
    trunk_lateral: np.ndarray
    trunk_rotation: np.ndarray
    hip_flexion: np.ndarray
    hip_abduction: np.ndarray
    hip_rotation: np.ndarray
    knee_flexion: np.ndarray
    ankle_dorsiflexion: np.ndarray
    ankle_inversion: np.ndarray
    foot_progression: np.ndarray
    shoulder_abduction: np.ndarray
    shoulder_flexion: np.ndarray
    shoulder_rotation: np.ndarray
    elbow_flexion: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=np.float64)
        if t.ndim != 1:
            raise ValueError(f"t_s must have shape (T,), got {t.shape}")
        if t.size > 1 and np.any(np.diff(t) <= 0):
            raise ValueError("t_s must be strictly increasing")
        n = t.shape[0]
        object.__setattr__(self, "t_s", t)
        pos = np.asarray(self.pelvis_pos, dtype=np.float64)
        if pos.shape != (n, 3):
            raise ValueError(f"pelvis_pos must have shape ({n}, 3), got {pos.shape}")
        object.__setattr__(self, "pelvis_pos", pos)
        for name in SCALAR_FIELDS:
            arr = np.broadcast_to(np.asarray(getattr(self, name), np.float64), (n,)).copy()
            object.__setattr__(self, name, arr)
        for name in SIDED_FIELDS:
            arr = np.asarray(getattr(self, name), np.float64)
            try:
                arr = np.broadcast_to(arr, (n, 2)).copy()
            except ValueError:
                raise ValueError(f"{name} must broadcast to ({n}, 2), got {arr.shape}") \
                    from None
            object.__setattr__(self, name, arr)
        for name in ("pelvis_pos", *ANGLE_FIELDS):
            if not np.all(np.isfinite(getattr(self, name))):
                raise ValueError(f"{name} must be finite")

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @classmethod
    def neutral(cls, t_s: np.ndarray, dims: BodyDims | None = None, *,
                hands_on_waist: bool = True, stance_width: float = 0.0,
                sole_height: float = 0.0) -> Motion:
        """Standing upright, feet under the hips, pelvis over the lab origin.

        Args:
            t_s: ``(T,)`` seconds.
            dims: body dimensions (default: 1.70 m).
            hands_on_waist: arms akimbo (:data:`HANDS_ON_WAIST`), else at the sides.
            stance_width: extra hip abduction of each leg, degrees.
            sole_height: height of the surface under the feet, m.
        """
        dims = dims or BodyDims.from_stature()
        t = np.asarray(t_s, dtype=np.float64)
        n = t.shape[0]
        # the abducted leg is tilted; the ankle inversion keeps the sole flat
        leg_z = (dims.thigh + dims.shank) * np.cos(np.radians(stance_width)) \
            + dims.ankle_height
        pos = np.zeros((n, 3))
        pos[:, 2] = sole_height + leg_z
        arms = HANDS_ON_WAIST if hands_on_waist else ARMS_AT_SIDES
        z1, z2 = np.zeros(n), np.zeros((n, 2))
        return cls(
            t_s=t, pelvis_pos=pos, pelvis_obliquity=z1, pelvis_tilt=z1, pelvis_yaw=z1,
            trunk_flexion=z1, trunk_lateral=z1, trunk_rotation=z1,
            hip_flexion=z2, hip_abduction=z2 + stance_width, hip_rotation=z2,
            knee_flexion=z2, ankle_dorsiflexion=z2, ankle_inversion=z2 + stance_width,
            foot_progression=z2,
            shoulder_abduction=z2 + arms["shoulder_abduction"],
            shoulder_flexion=z2 + arms["shoulder_flexion"],
            shoulder_rotation=z2 + arms["shoulder_rotation"],
            elbow_flexion=z2 + arms["elbow_flexion"])

    def replace(self, **changes: np.ndarray | float) -> Motion:
        """A copy with some fields replaced (scalars broadcast over frames)."""
        return dataclasses.replace(self, **changes)

    def set_side(self, side: str | int, **changes: np.ndarray | float) -> Motion:
        """A copy with the given sided fields replaced on one side only.

        ``motion.set_side("left", knee_flexion=curve)`` sets column 0 of
        ``knee_flexion`` to ``curve`` (``(T,)`` or a scalar).
        """
        col = side_index(side)
        out: dict[str, np.ndarray] = {}
        for name, value in changes.items():
            if name not in SIDED_FIELDS:
                raise ValueError(f"{name} is not a per-side field ({', '.join(SIDED_FIELDS)})")
            arr = getattr(self, name).copy()
            arr[:, col] = value
            out[name] = arr
        return dataclasses.replace(self, **out)

    def slice(self, start: int, stop: int) -> Motion:
        """Frames ``start:stop``."""
        return dataclasses.replace(self, **{f.name: getattr(self, f.name)[start:stop]
                                            for f in dataclasses.fields(self)})

    @staticmethod
    def concat(parts: list[Motion]) -> Motion:
        """Join motions in time (each part's ``t_s`` must start after the previous)."""
        if not parts:
            raise ValueError("concat needs at least one motion")
        return dataclasses.replace(parts[0], **{
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in dataclasses.fields(parts[0])})

    def angles(self) -> dict[str, np.ndarray]:
        """Every angle field by name (degrees)."""
        return {name: getattr(self, name) for name in ANGLE_FIELDS}


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Minimum-jerk blend 0 -> 1 for ``x`` in [0, 1] (clipped outside):
    ``10x^3 - 15x^4 + 6x^5`` (Flash & Hogan 1985), zero velocity and acceleration at both
    ends."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return x * x * x * (10.0 + x * (-15.0 + 6.0 * x))


def frame_times(duration_s: float, fps: float, start_s: float = 0.0) -> np.ndarray:
    """``(T,)`` frame times ``start_s + i / fps`` covering ``duration_s``."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    n = max(1, round(duration_s * fps))
    return start_s + np.arange(n) / float(fps)
