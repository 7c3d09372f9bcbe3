"""Forward kinematics, BlazePose landmarks, a pinhole camera and exact ground truth.

Pipeline: :class:`~itbcoach.synth.motion.Motion` --:func:`forward_kinematics`-->
:class:`Skeleton` (joint centres and segment frames, lab metres) --:func:`landmarks_3d`-->
``(T, 33, 3)`` lab points --:meth:`Camera.project`--> MediaPipe-style image landmarks and
world landmarks --:func:`render_sequence`--> :class:`SynthSequence` (a
:class:`itbcoach.landmarks.PoseSequence` with noise/dropout, its noise-free twin and the
per-frame ground truth of :func:`ground_truth`).

Conventions: see :mod:`itbcoach.synth.motion` (lab frame ``x`` forward, ``y`` subject's
left, ``z`` up). Segment frames are rotation matrices ``(T, 3, 3)`` whose columns are the
segment's forward / left / up axes in the lab frame (identity in the neutral posture).

Landmark placement: hips, knees, ankles, shoulders, elbows and wrists are joint centres.
Heel = back of the heel at the sole; foot index = tip of the second toe at the sole; hand
and face points are rigid offsets scaled by stature (approximations, good to a few cm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from itbcoach.landmarks import NUM_LANDMARKS, Landmark, PoseSequence
from itbcoach.synth.motion import BodyDims, Motion

L = Landmark
_SIGN = (1.0, -1.0)  # left, right: +y is the subject's left


# --- rotations ------------------------------------------------------------------------

def rx(deg: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations about the lab/segment x axis (right-handed), degrees."""
    a = np.radians(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*a.shape, 3, 3))
    out[..., 0, 0] = 1.0
    out[..., 1, 1], out[..., 1, 2] = c, -s
    out[..., 2, 1], out[..., 2, 2] = s, c
    return out


def ry(deg: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations about y, degrees."""
    a = np.radians(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*a.shape, 3, 3))
    out[..., 1, 1] = 1.0
    out[..., 0, 0], out[..., 0, 2] = c, s
    out[..., 2, 0], out[..., 2, 2] = -s, c
    return out


def rz(deg: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations about z, degrees."""
    a = np.radians(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*a.shape, 3, 3))
    out[..., 2, 2] = 1.0
    out[..., 0, 0], out[..., 0, 1] = c, -s
    out[..., 1, 0], out[..., 1, 1] = s, c
    return out


def decompose_yxz(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angles ``(a, b, c)`` in degrees with ``r = Ry(a) Rx(b) Rz(c)``; ``|b| < 90``."""
    b = np.arcsin(np.clip(-r[..., 1, 2], -1.0, 1.0))
    a = np.arctan2(r[..., 0, 2], r[..., 2, 2])
    c = np.arctan2(r[..., 1, 0], r[..., 1, 1])
    return np.degrees(a), np.degrees(b), np.degrees(c)


def decompose_xyz(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angles ``(a, b, c)`` in degrees with ``r = Rx(a) Ry(b) Rz(c)``; ``|b| < 90``."""
    b = np.arcsin(np.clip(r[..., 0, 2], -1.0, 1.0))
    a = np.arctan2(-r[..., 1, 2], r[..., 2, 2])
    c = np.arctan2(-r[..., 0, 1], r[..., 0, 0])
    return np.degrees(a), np.degrees(b), np.degrees(c)


def decompose_zxy(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angles ``(a, b, c)`` in degrees with ``r = Rz(a) Rx(b) Ry(c)``; ``|b| < 90``."""
    b = np.arcsin(np.clip(r[..., 2, 1], -1.0, 1.0))
    a = np.arctan2(-r[..., 0, 1], r[..., 1, 1])
    c = np.arctan2(-r[..., 2, 0], r[..., 2, 2])
    return np.degrees(a), np.degrees(b), np.degrees(c)


def _apply(r: np.ndarray, v: np.ndarray | tuple[float, float, float]) -> np.ndarray:
    """``(T, 3, 3) @ (3,)`` or ``(T, 3)`` -> ``(T, 3)``."""
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 1:
        return r @ v
    return np.einsum("tij,tj->ti", r, v)


def pelvis_rotation(m: Motion) -> np.ndarray:
    """``(T, 3, 3)`` pelvis frame in the lab: ``Rz(yaw) Rx(obliquity) Ry(tilt)``."""
    return rz(m.pelvis_yaw) @ rx(m.pelvis_obliquity) @ ry(m.pelvis_tilt)


def thigh_joint(flexion: np.ndarray, abduction: np.ndarray, rotation: np.ndarray,
                side: int) -> np.ndarray:
    """Hip joint rotation (thigh in pelvis frame) for side 0 = left, 1 = right."""
    sg = _SIGN[side]
    return ry(-flexion) @ rx(sg * abduction) @ rz(-sg * rotation)


def foot_joint(dorsiflexion: np.ndarray, inversion: np.ndarray, progression: np.ndarray,
               side: int) -> np.ndarray:
    """Ankle joint rotation (foot in shank frame)."""
    sg = _SIGN[side]
    return ry(-dorsiflexion) @ rx(-sg * inversion) @ rz(sg * progression)


def hip_angles(r_joint: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`thigh_joint`: ``(flexion, abduction, internal rotation)``."""
    sg = _SIGN[side]
    a, b, c = decompose_yxz(r_joint)
    return -a, sg * b, -sg * c


def ankle_angles(r_joint: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`foot_joint`: ``(dorsiflexion, inversion, foot progression)``."""
    sg = _SIGN[side]
    a, b, c = decompose_yxz(r_joint)
    return -a, -sg * b, sg * c


@dataclass(frozen=True, eq=False)
class Skeleton:
    """Joint centres ``(T, 3)`` and segment frames ``(T, 3, 3)`` in lab metres.

    ``joints`` keys: ``pelvis`` (hip-centre midpoint), ``neck`` (shoulder midpoint),
    ``hip_l/r``, ``knee_l/r``, ``ankle_l/r``, ``heel_l/r``, ``toe_l/r``,
    ``shoulder_l/r``, ``elbow_l/r``, ``wrist_l/r``. ``frames`` keys: ``pelvis``,
    ``thorax``, ``thigh_l/r``, ``shank_l/r``, ``foot_l/r``, ``upper_arm_l/r``,
    ``forearm_l/r``.
    """

    joints: dict[str, np.ndarray]
    frames: dict[str, np.ndarray]


def forward_kinematics(m: Motion, dims: BodyDims) -> Skeleton:
    """Joint centres and segment frames of ``m`` for a body of ``dims``."""
    rp = pelvis_rotation(m)
    p = m.pelvis_pos
    rt = rp @ ry(m.trunk_flexion) @ rx(-m.trunk_lateral) @ rz(m.trunk_rotation)
    neck = p + _apply(rt, (0.0, 0.0, dims.trunk))
    joints: dict[str, np.ndarray] = {"pelvis": p, "neck": neck}
    frames: dict[str, np.ndarray] = {"pelvis": rp, "thorax": rt}
    for side, tag in ((0, "l"), (1, "r")):
        sg = _SIGN[side]
        hip = p + _apply(rp, (0.0, sg * dims.hip_width / 2, 0.0))
        r_th = rp @ thigh_joint(m.hip_flexion[:, side], m.hip_abduction[:, side],
                                m.hip_rotation[:, side], side)
        knee = hip + _apply(r_th, (0.0, 0.0, -dims.thigh))
        r_sh = r_th @ ry(m.knee_flexion[:, side])
        ankle = knee + _apply(r_sh, (0.0, 0.0, -dims.shank))
        r_ft = r_sh @ foot_joint(m.ankle_dorsiflexion[:, side], m.ankle_inversion[:, side],
                                 m.foot_progression[:, side], side)
        heel = ankle + _apply(r_ft, (-dims.heel_back, 0.0, -dims.ankle_height))
        toe = ankle + _apply(r_ft, (dims.foot_length - dims.heel_back, 0.0,
                                    -dims.ankle_height))
        shoulder = neck + _apply(rt, (0.0, sg * dims.shoulder_width / 2, 0.0))
        r_ua = rt @ rx(sg * m.shoulder_abduction[:, side]) @ ry(-m.shoulder_flexion[:, side]) \
            @ rz(-sg * m.shoulder_rotation[:, side])
        elbow = shoulder + _apply(r_ua, (0.0, 0.0, -dims.upper_arm))
        r_fa = r_ua @ ry(-m.elbow_flexion[:, side])
        wrist = elbow + _apply(r_fa, (0.0, 0.0, -dims.forearm))
        joints.update({f"hip_{tag}": hip, f"knee_{tag}": knee, f"ankle_{tag}": ankle,
                       f"heel_{tag}": heel, f"toe_{tag}": toe, f"shoulder_{tag}": shoulder,
                       f"elbow_{tag}": elbow, f"wrist_{tag}": wrist})
        frames.update({f"thigh_{tag}": r_th, f"shank_{tag}": r_sh, f"foot_{tag}": r_ft,
                       f"upper_arm_{tag}": r_ua, f"forearm_{tag}": r_fa})
    return Skeleton(joints, frames)


def _face_offsets(dims: BodyDims) -> dict[int, tuple[float, float, float]]:
    """Face points in the thorax frame relative to the shoulder midpoint (m)."""
    h, eye, chin = dims.stature, dims.eye_height, dims.chin_height
    return {
        L.NOSE: (0.058 * h, 0.0, eye - 0.023 * h),
        L.LEFT_EYE_INNER: (0.050 * h, 0.010 * h, eye),
        L.LEFT_EYE: (0.048 * h, 0.019 * h, eye),
        L.LEFT_EYE_OUTER: (0.044 * h, 0.027 * h, eye),
        L.RIGHT_EYE_INNER: (0.050 * h, -0.010 * h, eye),
        L.RIGHT_EYE: (0.048 * h, -0.019 * h, eye),
        L.RIGHT_EYE_OUTER: (0.044 * h, -0.027 * h, eye),
        L.LEFT_EAR: (0.0, 0.045 * h, eye - 0.010 * h),
        L.RIGHT_EAR: (0.0, -0.045 * h, eye - 0.010 * h),
        L.MOUTH_LEFT: (0.052 * h, 0.015 * h, chin + 0.020 * h),
        L.MOUTH_RIGHT: (0.052 * h, -0.015 * h, chin + 0.020 * h),
    }


def landmarks_3d(skel: Skeleton, dims: BodyDims,
                 hand_hold: np.ndarray | None = None) -> np.ndarray:
    """``(T, 33, 3)`` BlazePose landmarks in lab metres.

    Args:
        hand_hold: ``(T, 2)`` 0..1 per frame and side (left, right), how much the hand
            rests on the hip (:mod:`itbcoach.synth.hands`): a resting hand keeps its
            orientation in the pelvis frame (the wrist flexes as the elbow moves), a free
            hand is rigid with the forearm. None: rigid with the forearm.
    """
    j, f = skel.joints, skel.frames
    t = j["pelvis"].shape[0]
    out = np.empty((t, NUM_LANDMARKS, 3))
    for idx, off in _face_offsets(dims).items():
        out[:, idx] = j["neck"] + _apply(f["thorax"], off)
    hand = dims.hand
    for side, tag in ((0, "l"), (1, "r")):
        sg = _SIGN[side]
        names = ("SHOULDER", "ELBOW", "WRIST", "HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX")
        keys = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "toe")
        prefix = "LEFT_" if side == 0 else "RIGHT_"
        for name, key in zip(names, keys, strict=True):
            out[:, L[prefix + name]] = j[f"{key}_{tag}"]
        fa = f[f"forearm_{tag}"]
        wrist = j[f"wrist_{tag}"]
        hold = None if hand_hold is None else np.clip(hand_hold[:, side], 0.0, 1.0)
        if hold is not None and (hold > 0).any():
            # on the hip: the hand keeps the forearm's orientation of the first frame it
            # rests there, relative to the pelvis
            ref = int(np.argmax(hold))
            rel = f["pelvis"][ref].T @ fa[ref]
            on_hip = np.einsum("tij,jk->tik", f["pelvis"], rel)
        # hand rigid with the forearm; at rest the palm faces the thigh, thumb forward
        for name, off in (("INDEX", (0.09 * hand, -sg * 0.05 * hand, -0.40 * hand)),
                          ("PINKY", (-0.14 * hand, -sg * 0.05 * hand, -0.36 * hand)),
                          ("THUMB", (0.22 * hand, -sg * 0.08 * hand, -0.22 * hand))):
            point = _apply(fa, off)
            if hold is not None and (hold > 0).any():
                point = hold[:, None] * _apply(on_hip, off) + (1 - hold[:, None]) * point
            out[:, L[prefix + name]] = wrist + point
    return out


# --- camera ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Camera:
    """A pinhole camera (no lens distortion).

    Attributes:
        position: ``(3,)`` lab metres.
        rotation: ``(3, 3)`` lab -> camera (OpenCV axes: x image-right, y image-down,
            z along the optical axis). Rows are the camera's right, down, forward axes.
        width, height: image size, pixels.
        focal_px: focal length in pixels (square pixels, principal point at the centre).
    """

    position: tuple[float, float, float]
    rotation: np.ndarray = field(repr=False)
    width: int
    height: int
    focal_px: float

    @classmethod
    def look_at(cls, position: tuple[float, float, float],
                target: tuple[float, float, float], width: int = 1280, height: int = 720,
                hfov_deg: float = 60.0, roll_deg: float = 0.0) -> Camera:
        """A camera at ``position`` aimed at ``target`` (lab metres), image up = lab up."""
        pos = np.asarray(position, dtype=np.float64)
        fwd = np.asarray(target, dtype=np.float64) - pos
        fwd /= np.linalg.norm(fwd)
        right = np.cross(fwd, (0.0, 0.0, 1.0))
        if np.linalg.norm(right) < 1e-9:
            raise ValueError("camera cannot look straight up or down")
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        rot = np.stack([right, down, fwd])
        if roll_deg:
            rot = rz(roll_deg) @ rot
        focal = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(tuple(float(v) for v in pos), rot, int(width), int(height), float(focal))

    @classmethod
    def orbit(cls, distance: float = 3.0, azimuth_deg: float = 0.0, height: float = 1.0,
              target: tuple[float, float, float] = (0.0, 0.0, 0.9), width: int = 1280,
              height_px: int = 720, hfov_deg: float = 60.0, pan_deg: float = 0.0,
              tilt_deg: float = 0.0) -> Camera:
        """A camera ``distance`` m from ``target`` (horizontally), in front of the subject.

        Args:
            azimuth_deg: position around the subject, + = toward the subject's left. The
                subject then appears turned toward their own right: the kernel's
                ``body_yaw`` reads about ``-azimuth_deg``.
            height: camera height above the floor, m.
            pan_deg, tilt_deg: extra camera rotation after aiming at ``target``: pan + =
                the camera turns to its right (the subject moves left in the image), tilt
                + = the camera pitches down (the subject moves up in the image).
        """
        az = math.radians(azimuth_deg)
        tx, ty, tz = target
        pos = (tx + distance * math.cos(az), ty + distance * math.sin(az), height)
        cam = cls.look_at(pos, (tx, ty, tz), width, height_px, hfov_deg)
        if pan_deg or tilt_deg:
            # pan about the camera's down axis, tilt about its right axis (camera frame)
            extra = ry(-pan_deg) @ rx(tilt_deg)
            cam = cls(cam.position, extra @ cam.rotation, cam.width, cam.height,
                      cam.focal_px)
        return cam

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` pixels."""
        return (self.width, self.height)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """Lab points ``(..., 3)`` -> camera coordinates (m, OpenCV axes)."""
        return (np.asarray(points, dtype=np.float64) - np.asarray(self.position)) \
            @ self.rotation.T

    def normalised(self, points: np.ndarray) -> np.ndarray:
        """Lab points ``(..., 3)`` -> ``(..., 2)`` pinhole image x, y normalised to the
        frame (0..1 inside it, y down)."""
        cam = self.to_camera(points)
        return np.stack([self.focal_px * cam[..., 0] / cam[..., 2] / self.width + 0.5,
                         self.focal_px * cam[..., 1] / cam[..., 2] / self.height + 0.5],
                        axis=-1)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """MediaPipe-style image landmarks and world landmarks of ``(T, 33, 3)`` lab points.

        Returns:
            ``image (T, 33, 3)``: x, y normalised to the frame (y down); z the depth
            relative to the hip midpoint, scaled like x (``dZ * f / Z_hip / width``),
            smaller = nearer the camera.
            ``world (T, 33, 3)``: metres, origin at the hip midpoint, camera-aligned axes
            (x image-right, y down, z away from the camera) as MediaPipe's world landmarks.
        """
        cam = self.to_camera(points)
        z = cam[..., 2]
        if np.any(z <= 0.05):
            raise ValueError("a landmark is behind (or at) the camera")
        hip = 0.5 * (cam[:, L.LEFT_HIP] + cam[:, L.RIGHT_HIP])
        zn = (z - hip[:, None, 2]) * self.focal_px / hip[:, None, 2] / self.width
        image = np.concatenate([self.normalised(points), zn[..., None]], axis=-1)
        world = cam - hip[:, None, :]
        return image, world


# --- ground truth ---------------------------------------------------------------------

def _frontal_axes(m: Motion) -> tuple[np.ndarray, np.ndarray]:
    """Unit forward and left axes of the body's heading (pelvis yaw only), ``(T, 3)``."""
    yaw = np.radians(m.pelvis_yaw)
    fwd = np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], axis=-1)
    left = np.stack([-np.sin(yaw), np.cos(yaw), np.zeros_like(yaw)], axis=-1)
    return fwd, left


def ground_truth(m: Motion, dims: BodyDims, skel: Skeleton | None = None) -> dict[str, np.ndarray]:
    """Exact per-frame measures of the 3D body, in the body's own frontal plane.

    The frontal plane is vertical and contains the body's left axis (pelvis yaw), so these
    do not depend on the camera. Keys (degrees unless stated; ``_left``/``_right`` =
    the subject's side):

    * ``pelvic_obliquity``: hip-centre line vs horizontal, + = left hip higher.
    * ``trunk_lean``: hip midpoint -> shoulder midpoint vs vertical in the frontal plane,
      + = toward the left (the kernel's ``trunk_lean`` seen square-on).
    * ``trunk_flexion``: the same line in the sagittal plane, + = forward.
    * ``knee_flexion_{side}``: 3D angle.
    * ``fppa_{side}``: hip-knee-ankle angle projected on the frontal plane, + = valgus.
    * ``knee_offset_toe_{side}`` / ``knee_offset_foot_{side}``: knee centre vs the
      second-toe tip / vs the medial border of the foot (half a foot breadth medial of the
      second toe), along the medial axis, **metres**, + = medial.
    * ``wrist_hip_{side}``: wrist to hip joint centre distance, m.
    * ``heel_z_{side}``, ``toe_z_{side}``: heights above the floor, m.
    """
    skel = skel or forward_kinematics(m, dims)
    j = skel.joints
    fwd, left = _frontal_axes(m)
    up = np.array([0.0, 0.0, 1.0])

    def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.einsum("ti,ti->t", a, np.broadcast_to(b, a.shape))

    hip_line = j["hip_l"] - j["hip_r"]
    out: dict[str, np.ndarray] = {
        "pelvic_obliquity": np.degrees(np.arctan2(hip_line[:, 2], dot(hip_line, left))),
    }
    trunk = j["neck"] - j["pelvis"]
    out["trunk_lean"] = np.degrees(np.arctan2(dot(trunk, left), dot(trunk, up)))
    out["trunk_flexion"] = np.degrees(np.arctan2(dot(trunk, fwd), dot(trunk, up)))
    for side, tag, name in ((0, "l", "left"), (1, "r", "right")):
        medial = -left if side == 0 else left
        hip, knee, ankle = j[f"hip_{tag}"], j[f"knee_{tag}"], j[f"ankle_{tag}"]
        u, v = hip - knee, ankle - knee
        cosk = dot(u, v) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
        out[f"knee_flexion_{name}"] = 180.0 - np.degrees(np.arccos(np.clip(cosk, -1, 1)))
        # frontal projection: 2D coords (medial, up)
        def proj(p: np.ndarray, med: np.ndarray = medial) -> np.ndarray:
            return np.stack([dot(p, med), p[:, 2]], axis=-1)
        h2, k2, a2 = proj(hip), proj(knee), proj(ankle)
        a_u, a_v = h2 - k2, a2 - k2
        mag = 180.0 - np.degrees(np.arctan2(np.abs(a_u[:, 0] * a_v[:, 1] - a_u[:, 1] * a_v[:, 0]),
                                            (a_u * a_v).sum(axis=1)))
        with np.errstate(invalid="ignore", divide="ignore"):
            # hip and ankle at one height (lying on the side): the angle's sign is
            # undefined, NaN
            frac = (k2[:, 1] - h2[:, 1]) / (a2[:, 1] - h2[:, 1])
        line = h2[:, 0] + frac * (a2[:, 0] - h2[:, 0])
        out[f"fppa_{name}"] = np.sign(k2[:, 0] - line) * mag
        off = dot(knee - j[f"toe_{tag}"], medial)
        out[f"knee_offset_toe_{name}"] = off
        out[f"knee_offset_foot_{name}"] = off - dims.foot_breadth / 2
        out[f"wrist_hip_{name}"] = np.linalg.norm(j[f"wrist_{tag}"] - hip, axis=1)
        out[f"heel_z_{name}"] = j[f"heel_{tag}"][:, 2]
        out[f"toe_z_{name}"] = j[f"toe_{tag}"][:, 2]
    return out


# --- rendering ------------------------------------------------------------------------

@dataclass(frozen=True)
class Noise:
    """Landmark noise and dropout (all off by default).

    Attributes:
        image_px: Gaussian SD of x and y, pixels (MediaPipe jitter on a still person is
            ~1-3 px at 720p; this is what moves angles by ~1-2 degrees).
        depth: Gaussian SD of the normalised z (same units as x).
        world_m: Gaussian SD of world landmarks, m.
        smooth_frames: jitter correlation: an AR(1) filter with this time constant in
            frames (0 = white noise per frame).
        frame_dropout: probability that a frame starts a run of frames with no pose.
        dropout_frames: length of each such run, frames.
        seed: RNG seed (same seed, same noise).
    """

    image_px: float = 0.0
    depth: float = 0.0
    world_m: float = 0.0
    smooth_frames: float = 0.0
    frame_dropout: float = 0.0
    dropout_frames: int = 1
    seed: int = 0


@dataclass(frozen=True, eq=False)
class SynthSequence:
    """A rendered synthetic sequence.

    Attributes:
        pose: the landmarks as the pipeline sees them (noise and dropout applied).
        clean: the same without noise or dropout.
        truth: :func:`ground_truth` per-frame arrays (plus script-specific keys).
        motion: the motion that produced it.
        dims: body dimensions.
        camera: the camera.
        lab_points: ``(T, 33, 3)`` landmarks in lab metres.
    """

    pose: PoseSequence
    clean: PoseSequence
    truth: dict[str, np.ndarray]
    motion: Motion
    dims: BodyDims
    camera: Camera
    lab_points: np.ndarray


def _correlated(rng: np.random.Generator, shape: tuple[int, ...], sd: float,
                tau: float) -> np.ndarray:
    noise = rng.standard_normal(shape)
    if tau > 0 and shape[0] > 1:
        a = math.exp(-1.0 / tau)
        out = np.empty_like(noise)
        out[0] = noise[0]
        gain = math.sqrt(1.0 - a * a)
        for i in range(1, shape[0]):
            out[i] = a * out[i - 1] + gain * noise[i]
        noise = out
    return noise * sd


def render_sequence(motion: Motion, dims: BodyDims | None = None,
                    camera: Camera | None = None, noise: Noise | None = None,
                    hand_hold: np.ndarray | None = None) -> SynthSequence:
    """Project ``motion`` through ``camera`` into a :class:`PoseSequence` with ground truth.

    Args:
        motion: the body's motion (timestamps from ``motion.t_s``, rounded to whole ms).
        dims: body dimensions (default 1.70 m).
        camera: default :meth:`Camera.orbit` (3 m in front, 1 m high, 1280x720, 60 deg).
        noise: landmark noise and dropout (default none).
        hand_hold: ``(T, 2)`` hands resting on the hips (:func:`landmarks_3d`).

    Visibility is 0.99 for points inside the frame and 0.1 outside; presence 0.99.
    """
    dims = dims or BodyDims.from_stature()
    camera = camera or Camera.orbit()
    noise = noise or Noise()
    skel = forward_kinematics(motion, dims)
    pts = landmarks_3d(skel, dims, hand_hold)
    image, world = camera.project(pts)
    inside = ((image[..., 0] >= 0) & (image[..., 0] <= 1) & (image[..., 1] >= 0)
              & (image[..., 1] <= 1))
    vis = np.where(inside, 0.99, 0.1).astype(np.float32)
    pres = np.full(vis.shape, 0.99, np.float32)
    ts = np.round(motion.t_s * 1000.0).astype(np.int64)
    if ts.size > 1 and np.any(np.diff(ts) <= 0):
        raise ValueError("frame times closer than 1 ms")
    clean = PoseSequence(image, vis, pres, ts, camera.image_size, world)
    rng = np.random.default_rng(noise.seed)
    t = len(motion)
    img = image.copy()
    if noise.image_px > 0:
        img[..., 0] += _correlated(rng, (t, NUM_LANDMARKS), noise.image_px,
                                   noise.smooth_frames) / camera.width
        img[..., 1] += _correlated(rng, (t, NUM_LANDMARKS), noise.image_px,
                                   noise.smooth_frames) / camera.height
    if noise.depth > 0:
        img[..., 2] += _correlated(rng, (t, NUM_LANDMARKS), noise.depth, noise.smooth_frames)
    wld = world.copy()
    if noise.world_m > 0:
        wld += _correlated(rng, (t, NUM_LANDMARKS, 3), noise.world_m, noise.smooth_frames)
    vis_n, pres_n = vis.copy(), pres.copy()
    if noise.frame_dropout > 0:
        starts = np.flatnonzero(rng.random(t) < noise.frame_dropout)
        lost = np.zeros(t, bool)
        for s in starts:
            lost[s:s + max(1, noise.dropout_frames)] = True
        img[lost] = np.nan
        wld[lost] = np.nan
        vis_n[lost] = np.nan
        pres_n[lost] = np.nan
    pose = PoseSequence(img, vis_n, pres_n, ts, camera.image_size, wld)
    return SynthSequence(pose, clean, ground_truth(motion, dims, skel), motion, dims, camera,
                         pts)
