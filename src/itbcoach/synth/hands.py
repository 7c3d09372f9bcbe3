"""Hands on the hips by inverse kinematics: the hands ride with the pelvis.

In Piva's step-down the subject keeps the hands on the hips; a hand resting on the iliac
crest moves with the pelvis, not with the thorax, which is what makes the line between
the hands a pelvic marker. :func:`place_hands` re-solves each arm of a :class:`Motion` so
the wrist lands on a contact point fixed in the pelvis frame (:func:`hip_contact`), the
elbow free (out to the side and a little back, the akimbo posture). A per-frame,
per-side weight blends the solved arm with the motion's own arm angles, so a hand can
leave the hip (arm strategy, a hand hanging at the side).

Limit: the body has no wrist joint (the hand is rigid with the forearm), so the finger
points (index, pinky, thumb) turn with the forearm as the elbow opens and closes: the
wrist line follows the pelvis exactly, the finger lines overshoot it (18-31 deg for a
12 deg drop on the motion's skeleton). A real hand on the hip keeps the palm on the
crest.

Frames and signs are those of :mod:`itbcoach.synth.motion` (lab ``x`` forward, ``y``
left, ``z`` up; angles in degrees).
"""

from __future__ import annotations

import numpy as np

from itbcoach.synth.kinematics import decompose_xyz, forward_kinematics
from itbcoach.synth.motion import BodyDims, Motion

_SIGN = (1.0, -1.0)
_ARM_FIELDS = ("shoulder_abduction", "shoulder_flexion", "shoulder_rotation",
               "elbow_flexion")

#: The wrist on the iliac crest in the pelvis frame, fractions of stature: forward,
#: lateral (+ = the hand's own side), up from the hip-centre midpoint. The standing
#: position of the former fixed-angle akimbo pose (the rendered look is unchanged when
#: the pelvis is level), now fixed to the pelvis.
WRIST_CONTACT = (0.0009, 0.0999, 0.0618)

def hip_contact(dims: BodyDims, side: int) -> np.ndarray:
    """``(3,)`` the wrist's contact point in the pelvis frame, m (0 left, 1 right)."""
    fx, fy, fz = WRIST_CONTACT
    return dims.stature * np.array([fx, _SIGN[side] * fy, fz])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def arm_ik(shoulder: np.ndarray, thorax: np.ndarray, wrist: np.ndarray, side: int,
           dims: BodyDims) -> dict[str, np.ndarray]:
    """Arm angles putting the wrist on ``wrist``, the elbow out to the side and back.

    Args:
        shoulder: ``(T, 3)`` shoulder joint centres, lab m.
        thorax: ``(T, 3, 3)`` thorax frames.
        wrist: ``(T, 3)`` wanted wrist, lab m.
        side: 0 left, 1 right.
        dims: body dimensions.

    Returns:
        ``shoulder_abduction``, ``shoulder_flexion``, ``shoulder_rotation``,
        ``elbow_flexion``: ``(T,)`` degrees in the conventions of
        :func:`~itbcoach.synth.kinematics.forward_kinematics`.
    """
    sg = _SIGN[side]
    ua, fa = dims.upper_arm, dims.forearm
    v = wrist - shoulder
    d = np.clip(np.linalg.norm(v, axis=1), abs(ua - fa) + 1e-3, ua + fa - 1e-3)
    u = _unit(v)
    a = (ua * ua - fa * fa + d * d) / (2 * d)
    r = np.sqrt(np.maximum(ua * ua - a * a, 0.0))
    # the elbow swivel: out to the side and a little back (thorax frame)
    pref = np.einsum("tij,j->ti", thorax, _unit(np.array([-0.3, sg, 0.0])))
    p = _unit(pref - np.sum(pref * u, axis=1, keepdims=True) * u)
    elbow = shoulder + a[:, None] * u + r[:, None] * p
    z = _unit(shoulder - elbow)  # upper-arm frame z (elbow -> shoulder)
    f = _unit(shoulder + d[:, None] * u - elbow)  # forearm direction
    x = _unit(f - np.sum(f * z, axis=1, keepdims=True) * z)
    r_ua = np.stack([x, np.cross(z, x), z], axis=-1)
    flex = np.degrees(np.arctan2(np.sum(f * x, axis=1), np.sum(f * -z, axis=1)))
    a_x, b_y, c_z = decompose_xyz(np.swapaxes(thorax, 1, 2) @ r_ua)
    return {"shoulder_abduction": sg * a_x, "shoulder_flexion": -b_y,
            "shoulder_rotation": -sg * c_z, "elbow_flexion": flex}


def slip_offsets(n: int, fps: float, amplitude_m: float,
                 rng: np.random.Generator) -> np.ndarray:
    """``(n, 2, 3)`` slow smooth slides of each hand on the crest, pelvis frame, m.

    Vertical and fore-aft, each a sum of two sinusoids (0.1-0.5 Hz) with seeded phases,
    scaled so each component stays within ``amplitude_m``.
    """
    t = np.arange(n) / fps
    out = np.zeros((n, 2, 3))
    if amplitude_m <= 0:
        return out
    for side in range(2):
        for axis in (0, 2):
            f = rng.uniform(0.1, 0.5, 2)
            ph = rng.uniform(0, 2 * np.pi, 2)
            out[:, side, axis] = 0.5 * amplitude_m * (np.sin(2 * np.pi * f[0] * t + ph[0])
                                                      + np.sin(2 * np.pi * f[1] * t + ph[1]))
    return out


def hand_targets(motion: Motion, dims: BodyDims,
                 slip: np.ndarray | None = None) -> np.ndarray:
    """``(T, 2, 3)`` the wrists' contact points (left, right) in the lab, m.

    Args:
        motion: the motion (its pelvis position and rotation carry the contacts).
        dims: body dimensions.
        slip: optional ``(T, 2, 3)`` offsets of the contacts, pelvis frame, m.
    """
    from itbcoach.synth.kinematics import pelvis_rotation

    n = len(motion)
    rp = pelvis_rotation(motion)
    out = np.empty((n, 2, 3))
    for side in range(2):
        local = np.broadcast_to(hip_contact(dims, side), (n, 3))
        if slip is not None:
            local = local + slip[:, side]
        out[:, side] = motion.pelvis_pos + np.einsum("tij,tj->ti", rp, local)
    return out


def place_hands(motion: Motion, dims: BodyDims, hold: np.ndarray,
                slip: np.ndarray | None = None,
                target_offset: np.ndarray | None = None) -> Motion:
    """Put the hands on the hips where ``hold`` says so.

    Args:
        motion: the motion; its arm angles are kept where ``hold`` is 0.
        dims: the body dimensions the motion was made for.
        hold: ``(T, 2)`` 0..1 per side (left, right): 1 = the hand centroid on
            :func:`hip_contact` (plus ``slip``), 0 = the motion's own arm angles, blended
            linearly in between.
        slip: optional ``(T, 2, 3)`` offsets of the contact points, pelvis frame, m.
        target_offset: optional ``(T, 2, 3)`` lab offsets added to the targets the arm
            is solved for (a rendered body's shoulders and hands sit a little off this
            skeleton's; :func:`itbcoach.synth.clip.stepdown_clip` measures and feeds
            back the difference).

    Returns:
        A copy of ``motion`` with new shoulder and elbow angles.
    """
    n = len(motion)
    hold = np.clip(np.broadcast_to(np.asarray(hold, float), (n, 2)), 0.0, 1.0)
    skel = forward_kinematics(motion, dims)
    rt = skel.frames["thorax"]
    targets = hand_targets(motion, dims, slip)
    if target_offset is not None:
        targets = targets + target_offset
    out = {k: getattr(motion, k).copy() for k in _ARM_FIELDS}
    for side, tag in ((0, "l"), (1, "r")):
        if not hold[:, side].any():
            continue
        ik = arm_ik(skel.joints[f"shoulder_{tag}"], rt, targets[:, side], side, dims)
        w = hold[:, side]
        for k in _ARM_FIELDS:
            out[k][:, side] = w * ik[k] + (1.0 - w) * out[k][:, side]
    return motion.replace(**out)


def hand_centroids(landmarks: np.ndarray) -> np.ndarray:
    """``(T, 2, 3)`` mean of wrist, index, pinky and thumb per side (left, right)."""
    from itbcoach.landmarks import Landmark as L

    idx = ((L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY, L.LEFT_THUMB),
           (L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY, L.RIGHT_THUMB))
    return np.stack([landmarks[:, list(i)].mean(axis=1) for i in idx], axis=1)
