"""Lateral step-down script: a synthetic body doing Piva's test with chosen faults.

The subject faces the camera, stands on one leg on a step (``step_height``, default
0.20 m as in Piva et al. 2006) with the hands on the waist, and lowers the free heel to
touch the floor beside the step by bending the stance knee, then returns. Each leg does
its reps; between legs the subject steps off the step (free foot to the floor, then the
stance foot), stands, and steps up with the other leg.

How a frame is built (exact, no approximations in the ground truth):

1. A depth fraction ``s`` in [0, 1] per frame (0 standing, 1 free heel on the floor) from
   the rep timeline: minimum-jerk descent and ascent (Flash & Hogan 1985), optional
   sudden drop, mid-descent rebalancing pause, bottom dwell with weight on the free
   foot, partial reps.
2. Fault and posture parameters as functions of ``s`` (pelvic drop, trunk lean, arm
   abduction, knee swivel, hip moving back, forward trunk flexion).
3. The stance foot is flat and fixed on the step; the stance knee flexion is solved per
   frame (bisection) so the free heel is at ``(1 - s) * h_top`` above the floor; the hip
   joint centre follows from the two-link leg, the knee from a swivel angle about the
   ankle-hip axis chosen so the knee centre ends ``knee_medial_m`` medial of the second
   toe at the bottom; joint angles come from the segment frames.

Use :func:`render_stepdown` for a rendered :class:`~itbcoach.synth.kinematics.SynthSequence`
plus :class:`StepdownTruth` (rep boundaries, counted or partial, expected faults).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from itbcoach.scoring.criteria import IDS
from itbcoach.synth.hands import place_hands, slip_offsets
from itbcoach.synth.kinematics import (
    Camera,
    Noise,
    SynthSequence,
    ankle_angles,
    decompose_yxz,
    foot_joint,
    hip_angles,
    render_sequence,
    rx,
    ry,
    rz,
    thigh_joint,
)
from itbcoach.synth.motion import (
    ARMS_AT_SIDES,
    HANDS_ON_WAIST,
    SIDED_FIELDS,
    BodyDims,
    Motion,
    side_index,
    smoothstep,
)

#: Values of :attr:`LegSpec.hands`.
HANDS = ("both", "left", "right", "none")
#: Extra shoulder abduction of the arm strategy at which the hand has left the hip, deg.
HAND_LIFT_DEG = 8.0

#: Names of the Piva criteria seen on video (pain is asked, not seen): the criteria table's.
FAULTS = IDS

_SIGN = (1.0, -1.0)
#: Free (non-tested) leg: knee kept straight (Piva 2006), foot slightly forward and out
#: so it clears the step, ankle dorsiflexed so the heel leads. Hip flexion is relative to
#: the lab here (the pelvic tilt is added).
_FREE_LEG = {"hip_flexion": 6.0, "hip_abduction": 3.0, "hip_rotation": 0.0,
             "knee_flexion": 3.0, "ankle_dorsiflexion": 12.0, "ankle_inversion": 0.0,
             "foot_progression": 5.0}
_KNEE_TOP = 3.0  # stance knee flexion standing on the step, degrees
_KNEE_MAX = 120.0


@dataclass(frozen=True)
class LegSpec:
    """One leg's block of reps and its faults (applied at the bottom, scaled by depth).

    Attributes:
        side: stance leg, ``"left"`` or ``"right"`` (the subject's own).
        reps: number of reps (partial ones included).
        pelvic_drop_deg: free side of the pelvis lower than when standing, at the bottom,
            degrees (negative = hike).
        knee_medial_m: stance knee centre vs the second-toe tip at the bottom, m,
            + = medial. ``None`` = a well-aligned knee, 2 cm lateral of the second toe.
            The medial border of the foot is ``foot_breadth / 2`` (0.047 m at 1.70 m)
            medial of the toe.
        trunk_lean_deg: extra lateral trunk lean vs vertical at the bottom, + = toward
            the stance leg.
        arm_abduction_deg: extra shoulder abduction at the bottom (the hand leaves the
            waist: elbow extends as the arm goes out).
        arm_side: which arm does it: ``"both"``, ``"stance"``, ``"free"``.
        wobble_m: amplitude of a lateral knee oscillation during the lower part of the
            descent and at the bottom, m.
        wobble_hz: its frequency.
        sudden_drop: the last 45% of the depth is a fall (0.25 s) that meets the floor
            at speed.
        rebalance_pause_s: a stop at half depth to rebalance, s.
        weight_on_free_s: the heel rests on the floor this long with the pelvis shifted
            ``weight_shift_m`` toward the free foot, s.
        weight_shift_m: lateral pelvis shift during that rest, m.
        faulty_reps: 0-based reps the faults apply to (``None`` = all).
        partial_reps: 0-based reps that stop short at ``partial_depth`` (not counted).
        partial_depth: depth fraction reached by partial reps.
        hands: which hands rest on the hips (Piva's protocol): ``"both"``, ``"left"``,
            ``"right"`` or ``"none"``; a hand not on the hip hangs at the side. Hands on
            the hips are placed by inverse kinematics on contact points fixed in the
            pelvis frame (:mod:`itbcoach.synth.hands`), so they ride with the pelvis.
        hand_slip_m: amplitude of slow slides of the hands on the crests (vertical and
            fore-aft, pelvis frame), m.
    """

    side: str
    reps: int = 5
    pelvic_drop_deg: float = 0.0
    knee_medial_m: float | None = None
    trunk_lean_deg: float = 0.0
    arm_abduction_deg: float = 0.0
    arm_side: str = "both"
    wobble_m: float = 0.0
    wobble_hz: float = 3.0
    sudden_drop: bool = False
    rebalance_pause_s: float = 0.0
    weight_on_free_s: float = 0.0
    weight_shift_m: float = 0.05
    faulty_reps: tuple[int, ...] | None = None
    partial_reps: tuple[int, ...] = ()
    partial_depth: float = 0.45
    hands: str = "both"
    hand_slip_m: float = 0.0

    def __post_init__(self) -> None:
        side_index(self.side)
        if self.reps < 0:
            raise ValueError("reps must be >= 0")
        if self.arm_side not in ("both", "stance", "free"):
            raise ValueError("arm_side must be 'both', 'stance' or 'free'")
        if self.hands not in HANDS:
            raise ValueError(f"hands must be one of {', '.join(HANDS)}")

    def hands_on(self) -> tuple[bool, bool]:
        """Which hands (left, right) rest on the hips when no arm strategy lifts them."""
        return (self.hands in ("both", "left"), self.hands in ("both", "right"))

    def arm_columns(self) -> tuple[int, ...]:
        """Side indices of the arms doing the arm strategy."""
        side = side_index(self.side)
        return {"both": (0, 1), "stance": (side,), "free": (1 - side,)}[self.arm_side]

    def hands_on_hips(self, rep: int) -> bool:
        """Do both hands stay on the hips through ``rep``?"""
        lifted = self.faulty(rep) and self.arm_abduction_deg != 0
        return all(self.hands_on()) and not lifted

    def faulty(self, rep: int) -> bool:
        """Do the faults apply to ``rep``?"""
        return self.faulty_reps is None or rep in self.faulty_reps

    def expected_faults(self, rep: int, dims: BodyDims) -> dict[str, bool]:
        """The faults this spec puts in ``rep`` (set parameters clearly away from 0)."""
        on = self.faulty(rep)
        knee = self.knee_medial_m if (on and self.knee_medial_m is not None) else -0.02
        unsteady = (self.wobble_m > 0 or self.sudden_drop or self.rebalance_pause_s > 0
                    or self.weight_on_free_s > 0)
        return {"arm_strategy": on and self.arm_abduction_deg != 0,
                "trunk_lean": on and self.trunk_lean_deg != 0,
                "pelvis_not_level": on and self.pelvic_drop_deg != 0,
                "knee_medial_to_second_toe": knee > 0,
                "knee_medial_to_foot": knee > dims.foot_breadth / 2,
                "unsteady": on and unsteady}


@dataclass(frozen=True)
class StepdownSpec:
    """The whole recording.

    Attributes:
        legs: the leg blocks in order.
        fps: frame rate.
        step_height: m (Piva 2006: 20 cm).
        descent_s, ascent_s: duration of the lowering and of the return, s.
        bottom_s: time the heel stays on the floor in a normal rep, s.
        rest_s: standing time between reps, s (``rest_jitter_s`` adds a seeded uniform
            +- jitter).
        lead_s: standing time on the step before the first and after the last rep, s.
        step_on_off: start on the floor and step up, and step off at the end.
        switch_hold_s: standing on the floor between legs, s.
        trunk_flexion_deg: forward trunk flexion at the bottom (normal strategy).
        hip_back_m: how far the hip moves back at the bottom, m.
        hip_lateral_m: stance hip joint centre lateral of the stance ankle, m.
        toe_out_deg: stance foot progression angle.
        stature: m.
        seed: seed of the rest jitter.
    """

    legs: tuple[LegSpec, ...] = (LegSpec("left"), LegSpec("right"))
    fps: float = 30.0
    step_height: float = 0.20
    descent_s: float = 1.6
    ascent_s: float = 1.4
    bottom_s: float = 0.15
    rest_s: float = 1.2
    rest_jitter_s: float = 0.0
    lead_s: float = 1.5
    step_on_off: bool = True
    switch_hold_s: float = 1.0
    trunk_flexion_deg: float = 15.0
    hip_back_m: float = 0.06
    hip_lateral_m: float = 0.05
    toe_out_deg: float = 5.0
    stature: float = 1.70
    seed: int = 0


@dataclass(frozen=True)
class RepTruth:
    """Ground truth of one rep.

    Attributes:
        side: stance leg.
        index: rep number within its leg block (0-based, partial reps included).
        start_s, bottom_s, end_s: start of the descent, first frame of the deepest point,
            end of the ascent.
        counted: a full rep (the heel touched the floor).
        faults: expected faults (:data:`FAULTS`).
        depth: depth fraction reached (1 = heel on the floor).
        hands_on_hips: both hands stayed on the hips through the rep.
    """

    side: str
    index: int
    start_s: float
    bottom_s: float
    end_s: float
    counted: bool
    faults: dict[str, bool]
    depth: float
    hands_on_hips: bool = True


@dataclass(frozen=True, eq=False)
class StepdownTruth:
    """Ground truth of a step-down recording."""

    spec: StepdownSpec
    reps: list[RepTruth]
    #: ``(T,)`` depth fraction per frame and ``(T,)`` stance side index (-1 = none/switching)
    depth: np.ndarray = field(repr=False)
    stance: np.ndarray = field(repr=False)
    #: ``(T, 2)`` 0..1 hand on the hip per frame (left, right; 1 = on the contact point)
    #: and ``(T, 2, 3)`` the contact points' slips, pelvis frame, m
    hand_hold: np.ndarray | None = field(default=None, repr=False)
    hand_slip: np.ndarray | None = field(default=None, repr=False)

    def counted(self, side: str) -> list[RepTruth]:
        """Counted reps of one stance leg."""
        return [r for r in self.reps if r.side == side and r.counted]

    def test_faults(self, side: str, fraction: float = 0.5) -> dict[str, bool]:
        """Expected test-level criteria: present in at least ``fraction`` of counted reps."""
        reps = self.counted(side)
        if not reps:
            return dict.fromkeys(FAULTS, False)
        return {f: sum(r.faults[f] for r in reps) >= fraction * len(reps) for f in FAULTS}

    def expected_score(self, side: str, pain: bool | None = None,
                       fraction: float = 0.5) -> int:
        """Piva total: 1 per criterion, 2 (instead of 1) for knee medial to the foot."""
        c = self.test_faults(side, fraction)
        knee = 2 if c["knee_medial_to_foot"] else (1 if c["knee_medial_to_second_toe"] else 0)
        return (int(c["arm_strategy"]) + int(c["trunk_lean"]) + int(c["pelvis_not_level"])
                + knee + int(c["unsteady"]) + int(bool(pain)))


# --- the rep timeline -----------------------------------------------------------------

@dataclass
class _Track:
    """Per-frame parameters of one leg block, filled by :func:`_leg_track`."""

    t: list[np.ndarray] = field(default_factory=list)
    s: list[np.ndarray] = field(default_factory=list)  # depth fraction
    fault: list[np.ndarray] = field(default_factory=list)  # fault envelope 0..1
    on: list[np.ndarray] = field(default_factory=list)  # 1 inside a rep with faults
    reach: list[np.ndarray] = field(default_factory=list)  # depth the rep aims for
    wobble: list[np.ndarray] = field(default_factory=list)  # amplitude, m
    shift: list[np.ndarray] = field(default_factory=list)  # m toward the free side


def _descent_profile(n: int, dur: float, leg: LegSpec, on: bool, fps: float,
                     reach: float) -> np.ndarray:
    """Depth fraction over a descent of ``n`` frames (more with a rebalancing pause)."""
    t = np.arange(1, n + 1) / fps
    if on and leg.sudden_drop:
        # ease-in to 55% of the depth, then an accelerating fall onto the heel in the
        # last 0.25 s (at most a fifth of the descent)
        t1 = dur - min(0.25, 0.2 * dur)
        s = np.where(t <= t1, 0.55 * (1 - np.cos(0.5 * np.pi * np.minimum(t / t1, 1.0))),
                     0.55 + 0.45 * np.clip((t - t1) / (dur - t1), 0, 1) ** 1.6)
        return s * reach
    if on and leg.rebalance_pause_s > 0:
        first = 0.5 * smoothstep(t[t <= dur / 2] / (dur / 2))
        hold = np.full(max(1, round(leg.rebalance_pause_s * fps)), 0.5)
        second = 0.5 + 0.5 * smoothstep((t[t > dur / 2] - dur / 2) / (dur / 2))
        return np.concatenate([first, hold, second]) * reach
    return smoothstep(t / dur) * reach


def _leg_track(leg: LegSpec, spec: StepdownSpec, rng: np.random.Generator,
               reps_out: list[RepTruth], dims: BodyDims) -> _Track:
    """The rep timeline of one leg block, times from 0; appends each rep's truth."""
    fps = spec.fps
    tr = _Track()
    t = 0.0

    def add(s: np.ndarray, fault: np.ndarray | float = 0.0, on: float = 0.0,
            reach: float = 1.0, wobble: np.ndarray | float = 0.0,
            shift: np.ndarray | float = 0.0) -> None:
        nonlocal t
        n = s.size
        tr.t.append(t + np.arange(n) / fps)
        tr.s.append(s)
        for lst, v in ((tr.fault, fault), (tr.on, on), (tr.reach, reach),
                       (tr.wobble, wobble), (tr.shift, shift)):
            lst.append(np.broadcast_to(np.asarray(v, float), (n,)).copy())
        t += n / fps

    def frames(sec: float) -> int:
        return max(1, round(sec * fps))

    add(np.zeros(frames(spec.lead_s)))
    for k in range(leg.reps):
        partial = k in leg.partial_reps
        on = leg.faulty(k)
        reach = leg.partial_depth if partial else 1.0
        gate = 1.0 if on else 0.0
        start = t
        s_down = _descent_profile(frames(spec.descent_s), spec.descent_s, leg,
                                  on and not partial, fps, reach)
        wob = leg.wobble_m if on and not partial else 0.0
        add(s_down, fault=s_down * gate, on=gate, reach=reach,
            wobble=wob * np.clip((s_down - 0.3) / 0.3, 0, 1))
        bottom_t = t
        dwell, shift = spec.bottom_s, 0.0
        if on and not partial and leg.weight_on_free_s > 0:
            dwell, shift = leg.weight_on_free_s, leg.weight_shift_m
        nb = frames(dwell)
        env = np.sin(np.pi * (np.arange(nb) + 0.5) / nb)
        add(np.full(nb, reach), fault=reach * gate, on=gate, reach=reach, wobble=wob,
            shift=shift * env)
        na = frames(spec.ascent_s)
        s_up = reach * (1.0 - smoothstep(np.arange(1, na + 1) / na))
        add(s_up, fault=s_up * gate, on=gate, reach=reach,
            wobble=wob * np.clip((s_up - 0.3) / 0.3, 0, 1))
        end = t - 1.0 / fps
        reps_out.append(RepTruth(leg.side, k, start, bottom_t, end, not partial,
                                 leg.expected_faults(k, dims), reach,
                                 leg.hands_on_hips(k)))
        if k < leg.reps - 1:
            jitter = rng.uniform(-1, 1) * spec.rest_jitter_s if spec.rest_jitter_s else 0.0
            add(np.zeros(frames(max(spec.rest_s + jitter, 0.1))))
    add(np.zeros(frames(spec.lead_s)))
    return tr


# --- pose of one leg block ------------------------------------------------------------

def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _frames_from_columns(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.stack([x, y, z], axis=-1)


@dataclass(frozen=True)
class _Params:
    """Per-frame posture parameters of one leg block (arrays ``(T,)``)."""

    s: np.ndarray
    obliquity: np.ndarray  # lab convention: + = left hip up
    lean: np.ndarray  # global lateral lean, + = toward the subject's left
    flexion: np.ndarray  # global trunk flexion
    back: np.ndarray  # stance hip behind the ankle, m
    lateral: np.ndarray  # stance hip lateral of the ankle, m (+ = lateral)
    arm_extra: np.ndarray  # (T, 2) extra shoulder abduction
    hands: tuple[bool, bool] = (True, True)  # hands on the hips (left, right)


def _stance_ankle(side: int, spec: StepdownSpec, dims: BodyDims) -> np.ndarray:
    sg = _SIGN[side]
    return np.array([0.0, sg * 0.03, spec.step_height + dims.ankle_height])


def _solve_block(side: int, p: _Params, spec: StepdownSpec, dims: BodyDims,
                 heel_target: np.ndarray | None, knee_target: np.ndarray,
                 swivel_weight: np.ndarray, wobble: np.ndarray) -> dict[str, np.ndarray]:
    """Motion fields (without ``t_s``) of a leg block.

    Args:
        side: stance side index.
        p: posture parameters per frame.
        heel_target: free heel height per frame, m (``None`` = stance knee at its top
            flexion).
        knee_target: knee centre vs second-toe tip, m (+ medial), reached where
            ``swivel_weight`` is 1.
        swivel_weight: 0..1, scales the knee swivel solved for ``knee_target``.
        wobble: extra lateral knee displacement, m (+ medial).
    """
    n = p.s.size
    sg = _SIGN[side]
    free = 1 - side
    fsg = _SIGN[free]
    lt, ls = dims.thigh, dims.shank
    a_pos = np.broadcast_to(_stance_ankle(side, spec, dims), (n, 3))
    tilt = 5.0 + 10.0 * p.s  # anterior pelvic tilt grows with hip flexion
    rp = rx(p.obliquity) @ ry(tilt)
    # the free thigh keeps its orientation in the lab as the pelvis tilts forward
    free_hip_flexion = _FREE_LEG["hip_flexion"] + tilt
    free_joint = thigh_joint(free_hip_flexion,
                             np.full(n, _FREE_LEG["hip_abduction"]),
                             np.full(n, _FREE_LEG["hip_rotation"]), free)
    free_foot = foot_joint(np.full(n, _FREE_LEG["ankle_dorsiflexion"]),
                           np.full(n, _FREE_LEG["ankle_inversion"]),
                           np.full(n, _FREE_LEG["foot_progression"]), free)
    free_knee = ry(np.full(n, _FREE_LEG["knee_flexion"]))
    # The free thigh hangs in the lab: neither the forward tilt nor a drop of the pelvis
    # swings it (under a drop the free hip abducts relative to the pelvis instead).
    r_free = ry(tilt) @ free_joint

    def geometry(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = np.sqrt(lt * lt + ls * ls + 2 * lt * ls * np.cos(np.radians(phi)))
        hz = np.sqrt(np.maximum(d * d - p.back ** 2 - p.lateral ** 2, 1e-9))
        hip = a_pos + np.stack([-p.back, sg * p.lateral, hz], axis=-1)
        pelvis = hip - rp @ np.array([0.0, sg * dims.hip_width / 2, 0.0])
        return d, hip, pelvis

    def free_heel_z(phi: np.ndarray) -> np.ndarray:
        _, _, pelvis = geometry(phi)
        fhip = pelvis + rp @ np.array([0.0, fsg * dims.hip_width / 2, 0.0])
        knee = fhip + r_free @ np.array([0.0, 0.0, -lt])
        r_sh = r_free @ free_knee
        ankle = knee + r_sh @ np.array([0.0, 0.0, -ls])
        heel = ankle + (r_sh @ free_foot) @ np.array([-dims.heel_back, 0.0,
                                                      -dims.ankle_height])
        return heel[:, 2]

    top = np.full(n, _KNEE_TOP)
    if heel_target is None:
        phi = top
    else:
        lo, hi = top.copy(), np.full(n, _KNEE_MAX)
        for _ in range(48):
            mid = 0.5 * (lo + hi)
            above = free_heel_z(mid) > heel_target
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        phi = np.where(free_heel_z(top) <= heel_target, top, 0.5 * (lo + hi))
    d, hip, pelvis = geometry(phi)
    u = _unit(hip - a_pos)
    a_len = (ls * ls - lt * lt + d * d) / (2 * d)
    r = np.sqrt(np.maximum(ls * ls - a_len * a_len, 0.0))
    x = np.array([1.0, 0.0, 0.0])
    f = _unit(x - (u @ x)[:, None] * u)
    m0 = np.array([0.0, -sg, 0.0])  # medial direction of the stance leg
    m_perp = _unit(m0 - (u @ m0)[:, None] * u - (f @ m0)[:, None] * f)
    toe_out = math.radians(spec.toe_out_deg)
    toe = a_pos + np.array([(dims.foot_length - dims.heel_back) * math.cos(toe_out),
                            sg * (dims.foot_length - dims.heel_back) * math.sin(toe_out),
                            -dims.ankle_height])

    def knee_at(psi: np.ndarray) -> np.ndarray:
        v = np.cos(psi)[:, None] * f + np.sin(psi)[:, None] * m_perp
        return a_pos + a_len[:, None] * u + r[:, None] * v

    # swivel psi (rad, + = knee medial) bringing the knee to knee_target, by bisection
    lo, hi = np.full(n, -1.2), np.full(n, 1.2)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        below = (knee_at(mid) - toe) @ m0 < knee_target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    psi = 0.5 * (lo + hi) * swivel_weight + wobble / np.maximum(r, 0.05)
    knee = knee_at(psi)
    v = np.cos(psi)[:, None] * f + np.sin(psi)[:, None] * m_perp
    hinge = _unit(np.cross(u, v))
    z_t = _unit(hip - knee)
    r_th = _frames_from_columns(np.cross(hinge, z_t), hinge, z_t)
    z_s = _unit(knee - a_pos)
    r_sh = _frames_from_columns(np.cross(hinge, z_s), hinge, z_s)
    r_ft = np.broadcast_to(rz(np.array(sg * spec.toe_out_deg)), (n, 3, 3))
    hf, ha, hr = hip_angles(np.swapaxes(rp, 1, 2) @ r_th, side)
    kf, _, _ = decompose_yxz(np.swapaxes(r_th, 1, 2) @ r_sh)
    ad, ai, ap = ankle_angles(np.swapaxes(r_sh, 1, 2) @ r_ft, side)
    r_tg = rx(-p.lean) @ ry(p.flexion)
    tf, tlat, trot = decompose_yxz(np.swapaxes(rp, 1, 2) @ r_tg)
    fields: dict[str, np.ndarray] = {
        "pelvis_pos": pelvis, "pelvis_obliquity": p.obliquity, "pelvis_tilt": tilt,
        "pelvis_yaw": np.zeros(n), "trunk_flexion": tf, "trunk_lateral": -tlat,
        "trunk_rotation": trot,
    }
    sided = {name: np.zeros((n, 2)) for name in SIDED_FIELDS}
    for name, value in _FREE_LEG.items():
        sided[name][:, free] = value
    ff, fa, fr = hip_angles(np.swapaxes(rp, 1, 2) @ r_free, free)
    sided["hip_flexion"][:, free] = ff
    sided["hip_abduction"][:, free] = fa
    sided["hip_rotation"][:, free] = fr
    for name, value in (("hip_flexion", hf), ("hip_abduction", ha), ("hip_rotation", hr),
                        ("knee_flexion", kf), ("ankle_dorsiflexion", ad),
                        ("ankle_inversion", ai), ("foot_progression", ap)):
        sided[name][:, side] = value
    extra = p.arm_extra
    hold = np.zeros((n, 2))
    for c, on_hip in enumerate(p.hands):
        e = extra[:, c]
        if on_hip:
            # arm strategy: the hand leaves the hip as the arm goes out (the hand on the
            # hip itself is placed by inverse kinematics in stepdown_motion)
            sided["shoulder_abduction"][:, c] = HANDS_ON_WAIST["shoulder_abduction"] + e
            sided["shoulder_flexion"][:, c] = HANDS_ON_WAIST["shoulder_flexion"]
            sided["shoulder_rotation"][:, c] = np.maximum(
                HANDS_ON_WAIST["shoulder_rotation"] * (1.0 - e / 50.0), 0.0)
            sided["elbow_flexion"][:, c] = np.maximum(
                HANDS_ON_WAIST["elbow_flexion"] - 1.6 * e, 10.0)
            hold[:, c] = 1.0 - smoothstep(np.clip(e / HAND_LIFT_DEG, 0.0, 1.0))
        else:
            for name, value in ARMS_AT_SIDES.items():
                sided[name][:, c] = value
            sided["shoulder_abduction"][:, c] += e
    fields.update(sided)
    fields["hand_hold"] = hold
    fields["hand_slip"] = np.zeros((n, 2, 3))
    return fields


#: Knee centre vs the second-toe tip of a well-aligned knee at the bottom, m (lateral).
NEUTRAL_KNEE_M = -0.02


def _params(n: int, spec: StepdownSpec, s: np.ndarray | float = 0.0,
            **kw: np.ndarray) -> _Params:
    s = np.broadcast_to(np.asarray(s, float), (n,))
    base = {"obliquity": np.zeros(n), "lean": np.zeros(n),
            "flexion": spec.trunk_flexion_deg * s, "back": spec.hip_back_m * s,
            "lateral": np.full(n, spec.hip_lateral_m), "arm_extra": np.zeros((n, 2))}
    base.update(kw)
    return _Params(s=s, **base)


def _top_heel_height(side: int, spec: StepdownSpec, dims: BodyDims) -> float:
    from itbcoach.synth.kinematics import forward_kinematics

    fields = _solve_block(side, _params(1, spec), spec, dims, None,
                          np.full(1, NEUTRAL_KNEE_M), np.zeros(1), np.zeros(1))
    m = Motion(t_s=np.zeros(1), **_motion_fields(fields))
    tag = "r" if side == 0 else "l"
    return float(forward_kinematics(m, dims).joints[f"heel_{tag}"][0, 2])


def _block_fields(leg: LegSpec, spec: StepdownSpec, dims: BodyDims, tr: _Track,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    side = side_index(leg.side)
    sg = _SIGN[side]
    t = np.concatenate(tr.t)
    s = np.concatenate(tr.s)
    fenv = np.concatenate(tr.fault)  # 0 on reps without faults
    on = np.concatenate(tr.on)
    reach = np.concatenate(tr.reach)
    n = t.size
    arm = np.zeros((n, 2))
    if leg.arm_abduction_deg:
        for c in leg.arm_columns():
            arm[:, c] = leg.arm_abduction_deg * fenv
    p = _params(n, spec, s,
                # the free side drops: obliquity + = left hip up
                obliquity=sg * leg.pelvic_drop_deg * fenv,
                lean=sg * leg.trunk_lean_deg * fenv,  # toward the stance side
                lateral=spec.hip_lateral_m - np.concatenate(tr.shift),
                arm_extra=arm, hands=leg.hands_on())
    knee = np.where(on > 0, NEUTRAL_KNEE_M if leg.knee_medial_m is None
                    else leg.knee_medial_m, NEUTRAL_KNEE_M)
    wobble = np.concatenate(tr.wobble) * np.sin(2 * np.pi * leg.wobble_hz * t)
    h_top = _top_heel_height(side, spec, dims)
    fields = _solve_block(side, p, spec, dims, h_top * (1.0 - s), knee,
                          np.clip(s / reach, 0.0, 1.0), wobble)
    fields["t_s"] = t
    fields["hand_slip"] = slip_offsets(n, spec.fps, leg.hand_slip_m, rng)
    return fields


def _motion_fields(fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``fields`` without the hand placement entries (``hand_hold``, ``hand_slip``)."""
    return {k: v for k, v in fields.items() if not k.startswith("hand_")}


def _blend(a: dict[str, np.ndarray], b: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """``n`` frames moving smoothly from pose ``a`` (one frame) to pose ``b``."""
    w = smoothstep(np.arange(1, n + 1) / n)
    out: dict[str, np.ndarray] = {"t_s": np.zeros(n)}
    for key, va in a.items():
        if key == "t_s":
            continue
        va, vb = np.asarray(va, float), np.asarray(b[key], float)
        ww = w.reshape((n,) + (1,) * va.ndim)
        out[key] = va[None] * (1 - ww) + vb[None] * ww
    return out


def _frame(fields: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    return {k: np.asarray(v[i]) for k, v in fields.items()}


def _floor_pose(dims: BodyDims) -> dict[str, np.ndarray]:
    m = Motion.neutral(np.zeros(1), dims, stance_width=3.0)
    return {k: (getattr(m, k)[0]) for k in ("pelvis_pos", *m.angles())} | {
        "hand_hold": np.ones(2), "hand_slip": np.zeros((2, 3))}


def stepdown_motion(spec: StepdownSpec | None = None, dims: BodyDims | None = None,
                    hand_offset: np.ndarray | None = None) -> tuple[Motion, StepdownTruth]:
    """The motion of a step-down recording and its ground truth.

    Timeline: (standing on the floor, stepping up,) for each leg block: standing on the
    step, the reps with rests, standing; between blocks (and at the end when
    ``step_on_off``) the free heel goes down to the floor, the stance foot steps off, the
    subject stands on the floor and steps up with the next stance leg.

    Args:
        spec: the recording (default :class:`StepdownSpec`).
        dims: body dimensions (default ``BodyDims.from_stature(spec.stature)``); pass
            the rendered body's measured dims so its feet land where the script puts
            them.
        hand_offset: ``(T, 2, 3)`` lab offsets of the hand targets (see
            :func:`itbcoach.synth.hands.place_hands`).
    """
    spec = spec or StepdownSpec()
    if not spec.legs:
        raise ValueError("the spec has no legs")
    dims = dims or BodyDims.from_stature(spec.stature)
    rng = np.random.default_rng(spec.seed)
    fps = spec.fps
    reps: list[RepTruth] = []
    pieces: list[dict[str, np.ndarray]] = []
    depth: list[np.ndarray] = []
    stance: list[np.ndarray] = []
    t = 0.0
    floor = _floor_pose(dims)
    trans_n = max(2, round(1.2 * fps))
    hold_n = max(1, round(spec.switch_hold_s * fps))
    move_n = max(2, round(spec.descent_s * fps))

    def push(fields: dict[str, np.ndarray], d: np.ndarray | float, st: int) -> None:
        nonlocal t
        n = fields["t_s"].size
        fields = dict(fields, t_s=t + np.arange(n) / fps)
        pieces.append(fields)
        depth.append(np.broadcast_to(np.asarray(d, float), (n,)).copy())
        stance.append(np.full(n, st))
        t += n / fps

    def floor_hold(n: int) -> dict[str, np.ndarray]:
        out = {k: np.repeat(np.asarray(v)[None], n, axis=0) for k, v in floor.items()}
        out["t_s"] = np.zeros(n)
        return out

    for li, leg in enumerate(spec.legs):
        side = side_index(leg.side)
        first, last = li == 0, li == len(spec.legs) - 1
        block_reps: list[RepTruth] = []
        tr = _leg_track(leg, spec, rng, block_reps, dims)
        fields = _block_fields(leg, spec, dims, tr, rng)
        bottom = _bottom_pose(side, spec, dims)
        if first and spec.step_on_off:
            push(floor_hold(hold_n), 0.0, -1)
        if not first or spec.step_on_off:
            # step up: the stance foot onto the step, the free heel still on the floor,
            # then the free foot lifts to hang beside the step
            push(_blend(_frame(pieces[-1], -1), bottom, trans_n), 0.0, -1)
            push(_blend(bottom, _frame(fields, 0), move_n), 0.0, -1)
        offset = t
        reps.extend(RepTruth(r.side, r.index, round(r.start_s + offset, 6),
                             round(r.bottom_s + offset, 6), round(r.end_s + offset, 6),
                             r.counted, r.faults, r.depth, r.hands_on_hips)
                    for r in block_reps)
        push(fields, np.concatenate(tr.s), side)
        if not last or spec.step_on_off:
            # step off: the free heel down to the floor, then the stance foot comes down
            push(_blend(_frame(fields, -1), bottom, move_n), 0.0, -1)
            push(_blend(bottom, floor, trans_n), 0.0, -1)
            push(floor_hold(hold_n), 0.0, -1)
    merged = {k: np.concatenate([np.asarray(p[k]) for p in pieces]) for k in pieces[0]}
    motion = place_hands(Motion(**_motion_fields(merged)), dims, merged["hand_hold"],
                         merged["hand_slip"], hand_offset)
    return motion, StepdownTruth(spec, reps, np.concatenate(depth),
                                 np.concatenate(stance), merged["hand_hold"],
                                 merged["hand_slip"])


def _bottom_pose(side: int, spec: StepdownSpec, dims: BodyDims) -> dict[str, np.ndarray]:
    """One frame: stance foot on the step, free heel on the floor, no faults."""
    fields = _solve_block(side, _params(1, spec, 1.0), spec, dims, np.zeros(1),
                          np.full(1, NEUTRAL_KNEE_M), np.ones(1), np.zeros(1))
    return {k: v[0] for k, v in fields.items()}


def default_camera(azimuth_deg: float = 0.0, distance: float = 3.5,
                   width: int = 1280, height: int = 720) -> Camera:
    """A camera framing a subject standing on a 20 cm step, whole body in view."""
    return Camera.orbit(distance=distance, azimuth_deg=azimuth_deg, height=1.0,
                        target=(0.0, 0.0, 0.95), width=width, height_px=height)


def render_stepdown(spec: StepdownSpec | None = None, camera: Camera | None = None,
                    noise: Noise | None = None) -> tuple[SynthSequence, StepdownTruth]:
    """Render a step-down recording: landmarks (with noise) and ground truth."""
    spec = spec or StepdownSpec()
    motion, truth = stepdown_motion(spec)
    synth = render_sequence(motion, BodyDims.from_stature(spec.stature),
                            camera or default_camera(), noise, truth.hand_hold)
    synth.truth["depth"] = truth.depth
    synth.truth["stance"] = truth.stance
    return synth, truth
