"""Movement scripts for the exercise programme and the general movements, with truth.

Each script turns a few options (:class:`ExerciseScript`: reps, sides, tempo, pauses,
holds, faults) into a :class:`~itbcoach.synth.motion.Motion` and an
:class:`ExerciseTruth` (reps per side, side steps per direction, holds with their
durations, timed bouts, the cue rules the faults should trigger).
:func:`render_exercise` renders it through the view the exercise needs.

How a frame is built:

* Standing movements give **targets**: the pelvis position and orientation, the trunk,
  and each ankle's position with the foot's yaw and pitch (flat, heel lifted); the legs
  are solved by inverse kinematics (:func:`solve_leg`: a two-link leg with the knee
  pointing in a chosen direction), so planted feet stay exactly planted.
* Seated and lying movements set joint angles directly with a fixed pelvis.
* Every channel is keyframed with minimum-jerk transitions (:class:`Keys`).

Ground truth conventions (the ones the engine reports):

* sides are the subject's own; a lunge's or hinge's side is the front (working) leg, a
  knee lift's the lifted leg, a heel tap's the stance leg;
* a side step travelling toward the subject's left counts in ``steps["left"]``;
* a hold runs from halfway through the movement into the position to halfway through
  the movement out of it; time with a form fault (measured the same way) is excluded
  and the hold is then not ``good_form``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from itbcoach.synth.kinematics import (
    Camera,
    Noise,
    SynthSequence,
    ankle_angles,
    hip_angles,
    render_sequence,
    rx,
    ry,
    rz,
)
from itbcoach.synth.motion import (
    ARMS_AT_SIDES,
    HANDS_ON_WAIST,
    BodyDims,
    Motion,
    frame_times,
    smoothstep,
)

SIDES = ("left", "right")
_SG = {"left": 1.0, "right": -1.0}  # +y is the subject's left


# --- keyframes ------------------------------------------------------------------------

class Keys:
    """Keyframed scalar channels with minimum-jerk transitions.

    ``keys.move(0.8, knee=90)`` moves ``knee`` from its current value to 90 over 0.8 s
    starting at the current time, and advances the time; ``keys.wait(1.0)`` holds
    everything. Channels not named hold their value.
    """

    def __init__(self, **initial: float) -> None:
        self.t = 0.0
        self._keys: dict[str, list[tuple[float, float]]] = {
            k: [(0.0, float(v))] for k, v in initial.items()}

    def value(self, name: str) -> float:
        """Current (last keyed) value of a channel."""
        return self._keys[name][-1][1]

    def move(self, duration: float, **targets: float) -> Keys:
        """Blend the named channels to ``targets`` over ``duration`` s."""
        duration = max(float(duration), 1e-3)
        for name, v in targets.items():
            keys = self._keys.setdefault(name, [(0.0, float(v))])
            if keys[-1][0] < self.t:
                keys.append((self.t, keys[-1][1]))
            keys.append((self.t + duration, float(v)))
        self.t += duration
        return self

    def set(self, **values: float) -> Keys:
        """Jump channels to values now (no transition)."""
        for name, v in values.items():
            keys = self._keys.setdefault(name, [(0.0, float(v))])
            if keys[-1][0] < self.t:
                keys.append((self.t, keys[-1][1]))
            keys.append((self.t + 1e-6, float(v)))
        return self

    def wait(self, duration: float) -> Keys:
        """Hold every channel for ``duration`` s."""
        self.t += max(float(duration), 0.0)
        return self

    def sample(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every channel at times ``t`` ``(T,)``."""
        out = {}
        for name, keys in self._keys.items():
            v = np.full(t.shape, keys[0][1])
            for (t0, v0), (t1, v1) in itertools.pairwise(keys):
                inside = (t >= t0) & (t <= t1)
                v[inside] = v0 + (v1 - v0) * smoothstep((t[inside] - t0) / (t1 - t0))
            v[t > keys[-1][0]] = keys[-1][1]
            out[name] = v
        return out


# --- inverse kinematics -----------------------------------------------------------------

def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _cols(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.stack([x, y, z], axis=-1)


def pelvis_frame(yaw: np.ndarray, obliquity: np.ndarray, tilt: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` pelvis rotation, as :func:`itbcoach.synth.kinematics.pelvis_rotation`."""
    return rz(yaw) @ rx(obliquity) @ ry(tilt)


def foot_frame(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` foot rotation in the lab: yaw about vertical (+ = toe toward the
    subject's left), pitch + = toe down / heel up."""
    return rz(yaw) @ ry(pitch)


def ankle_for_contact(point: np.ndarray, r_foot: np.ndarray, dims: BodyDims,
                      contact: str = "sole") -> np.ndarray:
    """Ankle joint centre ``(T, 3)`` putting the foot on ``point`` ``(T, 3)``.

    ``contact``: ``"sole"`` = ``point`` is the ankle's floor projection (flat foot),
    ``"toe"`` = the tip of the second toe rests on ``point`` (heel lifted).
    """
    if contact == "sole":
        return point + np.array([0.0, 0.0, dims.ankle_height])
    toe_local = np.array([dims.foot_length - dims.heel_back, 0.0, -dims.ankle_height])
    return point - np.einsum("tij,j->ti", r_foot, toe_local)


def solve_leg(hip: np.ndarray, ankle: np.ndarray, knee_dir: np.ndarray,
              r_pelvis: np.ndarray, r_foot: np.ndarray, dims: BodyDims,
              side: str) -> dict[str, np.ndarray]:
    """Joint angles of one leg reaching ``ankle`` from ``hip`` (lab metres, ``(T, 3)``).

    The knee bends toward ``knee_dir`` ``(T, 3)`` (e.g. forward; turned medially for a
    valgus knee). Targets beyond reach are pulled in to a straight leg (0.2 % short).

    Returns:
        ``{field: (T,)}`` for the leg's :data:`~itbcoach.synth.motion.SIDED_FIELDS`.
    """
    col = 0 if side == "left" else 1
    th, sh = dims.thigh, dims.shank
    d_vec = ankle - hip
    d = np.clip(np.linalg.norm(d_vec, axis=1), abs(th - sh) + 1e-3, (th + sh) * 0.998)
    u = _unit(d_vec)
    cos_a = np.clip((th * th + d * d - sh * sh) / (2 * th * d), -1.0, 1.0)
    alpha = np.arccos(cos_a)
    w = knee_dir - np.einsum("ti,ti->t", knee_dir, u)[:, None] * u
    w = _unit(w)
    thigh = np.cos(alpha)[:, None] * u + np.sin(alpha)[:, None] * w
    z = -thigh
    x = _unit(w - np.einsum("ti,ti->t", w, z)[:, None] * z)
    y = np.cross(z, x)
    r_th = _cols(x, y, z)
    cos_k = np.clip((th * th + sh * sh - d * d) / (2 * th * sh), -1.0, 1.0)
    knee = 180.0 - np.degrees(np.arccos(cos_k))
    hf, ha, hr = hip_angles(np.swapaxes(r_pelvis, 1, 2) @ r_th, col)
    r_sh = r_th @ ry(knee)
    df, inv, prog = ankle_angles(np.swapaxes(r_sh, 1, 2) @ r_foot, col)
    return {"hip_flexion": hf, "hip_abduction": ha, "hip_rotation": hr,
            "knee_flexion": knee, "ankle_dorsiflexion": df, "ankle_inversion": inv,
            "foot_progression": prog}


def _arms(n: int, hands_on_waist: bool) -> dict[str, np.ndarray]:
    arms = HANDS_ON_WAIST if hands_on_waist else ARMS_AT_SIDES
    return {k: np.full((n, 2), v) for k, v in arms.items()}


def standing_motion(t: np.ndarray, ch: dict[str, np.ndarray], dims: BodyDims, *,
                    hands_on_waist: bool = True) -> Motion:
    """A standing body from target channels (see :func:`standing_keys` for the names).

    Channels: pelvis ``px py pz`` (m), ``yaw obliq tilt`` (deg); trunk ``tflex tlat trot``;
    per foot ``{l,r}x {l,r}y`` (floor point under the ankle, or under the toe when
    ``{l,r}toe`` is 1), ``{l,r}lift`` (m above the floor), ``{l,r}yaw`` (foot yaw vs
    the pelvis yaw, + = toe out), ``{l,r}pitch`` (+ = heel up), ``{l,r}knee`` (knee
    direction turned out from forward, deg, + = lateral).

    The pelvis is lowered wherever a planted flat foot (lift 0) would be out of reach,
    so planted feet never float (the knees bend instead).
    """
    n = t.shape[0]
    rp = pelvis_frame(ch["yaw"], ch["obliq"], ch["tilt"])
    pos = np.stack([ch["px"], ch["py"], ch["pz"]], axis=1)
    reach = (dims.thigh + dims.shank) * 0.998
    targets = {}
    for side, tag in (("left", "l"), ("right", "r")):
        sg = _SG[side]
        r_ft = foot_frame(ch["yaw"] + sg * ch[f"{tag}yaw"], ch[f"{tag}pitch"])
        point = np.stack([ch[f"{tag}x"], ch[f"{tag}y"], ch[f"{tag}lift"]], axis=1)
        toe = ch.get(f"{tag}toe", np.zeros(n)) > 0.5
        ankle = ankle_for_contact(point, r_ft, dims, "sole")
        if toe.any():
            ankle[toe] = ankle_for_contact(point[toe], r_ft[toe], dims, "toe")
        offset = np.einsum("tij,j->ti", rp, np.array([0.0, sg * dims.hip_width / 2, 0.0]))
        targets[side] = (r_ft, ankle, offset)
        # a planted flat foot must stay reachable: lower the pelvis where it is not (a
        # foot on its toes, e.g. stepping back into a lunge, may float instead)
        planted = (ch[f"{tag}lift"] < 1e-3) & ~toe
        horiz = np.linalg.norm(pos[:, :2] + offset[:, :2] - ankle[:, :2], axis=1)
        top = ankle[:, 2] + np.sqrt(np.clip(reach ** 2 - horiz ** 2, 0.0, None)) - offset[:, 2]
        pos[:, 2] = np.where(planted, np.minimum(pos[:, 2], top), pos[:, 2])
    legs: dict[str, np.ndarray] = {}
    for side, tag in (("left", "l"), ("right", "r")):
        sg = _SG[side]
        r_ft, ankle, offset = targets[side]
        hip = pos + offset
        kdir_yaw = np.radians(ch["yaw"] + sg * ch[f"{tag}yaw"] + sg * ch[f"{tag}knee"])
        kdir = np.stack([np.cos(kdir_yaw), np.sin(kdir_yaw), np.zeros(n)], axis=1)
        if f"{tag}kdown" in ch:  # knee pointing down (a leg reaching back, horizontal)
            down = ch[f"{tag}kdown"][:, None]
            kdir = _unit(kdir * (1 - down) + np.array([0.0, 0.0, -1.0]) * down + 1e-9)
        angles = solve_leg(hip, ankle, kdir, rp, r_ft, dims, side)
        for k, v in angles.items():
            legs.setdefault(k, np.zeros((n, 2)))[:, 0 if side == "left" else 1] = v
    return Motion(t_s=t, pelvis_pos=pos, pelvis_obliquity=ch["obliq"],
                  pelvis_tilt=ch["tilt"], pelvis_yaw=ch["yaw"], trunk_flexion=ch["tflex"],
                  trunk_lateral=ch["tlat"], trunk_rotation=ch["trot"],
                  **legs, **_arms(n, hands_on_waist))


def standing_keys(dims: BodyDims, stance: float = 0.0, crouch: float = 0.0) -> Keys:
    """Keys of a neutral standing posture: feet ``stance`` m apart beyond hip width,
    pelvis lowered by ``crouch`` m."""
    half = dims.hip_width / 2 + stance / 2
    return Keys(px=0.0, py=0.0, pz=dims.leg_length - crouch, yaw=0.0, obliq=0.0, tilt=0.0,
                tflex=0.0, tlat=0.0, trot=0.0,
                lx=0.0, ly=half, lift_l=0.0, lyaw=5.0, lpitch=0.0, lknee=0.0, ltoe=0.0,
                rx=0.0, ry=-half, lift_r=0.0, ryaw=5.0, rpitch=0.0, rknee=0.0, rtoe=0.0)


def _standing_channels(keys: Keys, t: np.ndarray) -> dict[str, np.ndarray]:
    ch = keys.sample(t)
    ch["llift"], ch["rlift"] = ch.pop("lift_l"), ch.pop("lift_r")
    return ch


# --- options and truth ---------------------------------------------------------------------

@dataclass(frozen=True)
class ExerciseScript:
    """Options shared by the movement scripts.

    Attributes:
        reps: reps (holds, steps) per side or direction; for two-legged movements the
            total.
        sides: order of the sides (for steps: directions of travel).
        tempo: duration multiplier of every movement (0.6 = fast, 1.6 = slow).
        pause_s: pause at the end of range (bottom of a squat, top of a lift), s.
        rest_s: standing between reps, s.
        lead_s: still before the first and after the last rep, s.
        hold_s: planned time in a held position, s.
        faults: names of faults to inject (see each script; they map to cue rules).
        fault_reps: 0-based reps that carry the faults (``None`` = all).
        fps: frame rate.
        stature: m.
        time_per_side_s: side-lying release: time on each side, s.
        variant: a script's variant of the movement (``"forward"``: the lunge steps
            forward instead of back); empty = the default movement.
    """

    reps: int = 4
    sides: tuple[str, ...] = ("left", "right")
    tempo: float = 1.0
    pause_s: float = 0.3
    rest_s: float = 0.8
    lead_s: float = 1.2
    hold_s: float = 6.0
    faults: tuple[str, ...] = ()
    fault_reps: tuple[int, ...] | None = None
    fps: float = 30.0
    stature: float = 1.70
    time_per_side_s: float = 20.0
    variant: str = ""

    def faulty(self, rep: int, fault: str) -> bool:
        """Does ``fault`` apply to ``rep``?"""
        return fault in self.faults and (self.fault_reps is None or rep in self.fault_reps)


@dataclass(frozen=True)
class HoldTruth:
    """One held position: times in s; ``duration_s`` excludes form faults."""

    side: str | None
    phase: str
    start_s: float
    end_s: float
    duration_s: float
    good_form: bool


@dataclass(frozen=True)
class ExerciseTruth:
    """What the engine should report for a script.

    Attributes:
        task: the exercise id.
        view: camera view used (``"frontal"``, ``"side"``).
        reps: ``{"left", "right", "total"}`` counted reps (cycles for holds).
        steps: ``{"left", "right"}`` side steps per direction of travel.
        holds: held positions in order.
        timers: seconds per side (side-lying release).
        cues: cue rule names the injected faults must trigger (none for clean form).
    """

    task: str
    view: str
    reps: dict[str, int] = field(default_factory=lambda: {"left": 0, "right": 0, "total": 0})
    steps: dict[str, int] = field(default_factory=lambda: {"left": 0, "right": 0})
    holds: tuple[HoldTruth, ...] = ()
    timers: dict[str, float] = field(default_factory=dict)
    cues: frozenset[str] = frozenset()


def _reps(per_side: dict[str, int]) -> dict[str, int]:
    return {"left": per_side.get("left", 0), "right": per_side.get("right", 0),
            "total": sum(per_side.values())}


def _cues(script: ExerciseScript, mapping: dict[str, str]) -> frozenset[str]:
    return frozenset(mapping[f] for f in script.faults if f in mapping)


def _times(keys: Keys, script: ExerciseScript) -> np.ndarray:
    return frame_times(keys.t + script.lead_s, script.fps)


# --- standing scripts ------------------------------------------------------------------

def squat_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Bodyweight squat, both legs: ``s.reps`` reps, 0.55 m hip drop (~parallel).

    Faults: ``"knees_in"`` (knees turned 25 deg medially at the bottom).
    """
    dims = BodyDims.from_stature(s.stature)
    k = standing_keys(dims, stance=0.12)
    k.wait(s.lead_s)
    drop = 0.30 * dims.stature
    for i in range(s.reps):
        knee = -25.0 if s.faulty(i, "knees_in") else 8.0
        k.move(1.0 * s.tempo, pz=dims.leg_length - drop, px=-0.10, tflex=35.0,
               lknee=knee, rknee=knee)
        k.wait(s.pause_s)
        k.move(1.0 * s.tempo, pz=dims.leg_length, px=0.0, tflex=0.0, lknee=0.0, rknee=0.0)
        k.wait(s.rest_s)
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims)
    return m, ExerciseTruth("squat", "frontal", reps=_reps({"none": s.reps}),
                            cues=_cues(s, {"knees_in": "knees-out"}))


def lateral_lunge_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Lateral lunge from a wide stance: the pelvis shifts over one foot and sits down
    (that knee bends, the other leg stays nearly straight)."""
    dims = BodyDims.from_stature(s.stature)
    k = standing_keys(dims, stance=0.75)
    span = dims.hip_width / 2 + 0.375
    stand_z = math.sqrt(dims.leg_length ** 2 - 0.375 ** 2)
    k.set(pz=stand_z)
    k.wait(s.lead_s)
    counts = dict.fromkeys(SIDES, 0)
    for side in s.sides:
        for _ in range(s.reps):
            sg = _SG[side]
            shift = 0.28
            # the straight leg's hip stays on a sphere around its foot
            dy = span + shift - dims.hip_width / 2
            z = math.sqrt(max((dims.leg_length * 0.985) ** 2 - dy ** 2, 0.1))
            k.move(1.1 * s.tempo, py=sg * shift, pz=min(z, stand_z - 0.30), px=-0.12,
                   tflex=30.0)
            k.wait(s.pause_s)
            k.move(1.1 * s.tempo, py=0.0, pz=stand_z, px=0.0, tflex=0.0)
            k.wait(s.rest_s)
            counts[side] += 1
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims)
    return m, ExerciseTruth("lateral-lunge", "frontal", reps=_reps(counts))


def split_squat_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Static split squat: one foot 0.45 m forward, the back heel up; the back knee drops
    toward the floor. Side = the front leg."""
    dims = BodyDims.from_stature(s.stature)
    counts = dict.fromkeys(SIDES, 0)
    k = standing_keys(dims, stance=0.05)
    k.wait(s.lead_s * 0.5)
    for side in s.sides:
        f, b = ("l", "r") if side == "left" else ("r", "l")
        # step into the split stance (back foot back, on its toes)
        k.move(0.6, **{f"{f}x": 0.40, f"{b}x": -0.45, f"{b}pitch": 35.0, f"{b}toe": 1.0,
                       "pz": dims.leg_length - 0.06})
        k.wait(0.5)
        for _ in range(s.reps):
            k.move(1.0 * s.tempo, pz=dims.leg_length - 0.40, tflex=5.0)
            k.wait(s.pause_s)
            k.move(1.0 * s.tempo, pz=dims.leg_length - 0.06, tflex=0.0)
            k.wait(s.rest_s)
            counts[side] += 1
        k.move(0.6, **{f"{f}x": 0.0, f"{b}x": 0.0, f"{b}pitch": 0.0, f"{b}toe": 0.0,
                       "pz": dims.leg_length})
        k.wait(0.8)
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims)
    return m, ExerciseTruth("split-squat", "side", reps=_reps(counts))


def lunge_twist_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Reverse lunge and twist: one foot steps back (on its toes), the hips drop until
    the back knee nears the floor, the shoulders turn toward the front leg, return.
    Side = the front leg.

    Faults: ``"no_twist"`` (no trunk rotation), ``"valgus"`` (front knee 30 deg medial),
    ``"lean"`` (15 deg lateral trunk lean).

    Variant ``"forward"``: forward lunges, hands on the hips, no twist (the front foot
    steps 0.7 m forward, the hips follow, drop and push back to standing).
    """
    dims = BodyDims.from_stature(s.stature)
    counts = dict.fromkeys(SIDES, 0)
    k = standing_keys(dims, stance=0.05)
    k.wait(s.lead_s)
    for side in s.sides:
        for i in range(s.reps):
            f, b = ("l", "r") if side == "left" else ("r", "l")
            sg = _SG[side]
            twist = 0.0 if s.faulty(i, "no_twist") else 30.0
            knee = -30.0 if s.faulty(i, "valgus") else 0.0
            lean = 15.0 if s.faulty(i, "lean") else 0.0
            if s.variant == "forward":
                _forward_lunge(k, dims, s, f, b, knee, lean * sg)
                counts[side] += 1
                continue
            # step back
            k.move(0.35 * s.tempo, **{f"{b}x": -0.30, f"lift_{b}": 0.05, f"{b}pitch": 20.0})
            k.move(0.35 * s.tempo, **{f"{b}x": -0.70, f"lift_{b}": 0.0, f"{b}pitch": 40.0,
                                     f"{b}toe": 1.0})
            # down and twist
            k.move(0.9 * s.tempo, pz=dims.leg_length - 0.42, px=-0.18, trot=sg * twist,
                   tlat=sg * lean, **{f"{f}knee": knee})
            k.wait(s.pause_s)
            k.move(0.9 * s.tempo, pz=dims.leg_length - 0.03, px=-0.05, trot=0.0, tlat=0.0,
                   **{f"{f}knee": 0.0})
            # step back in
            k.move(0.35 * s.tempo, **{f"{b}x": -0.30, f"lift_{b}": 0.05, f"{b}pitch": 20.0,
                                     f"{b}toe": 0.0})
            k.move(0.35 * s.tempo, **{f"{b}x": 0.0, f"lift_{b}": 0.0, f"{b}pitch": 0.0},
                   pz=dims.leg_length, px=0.0)
            k.wait(s.rest_s)
            counts[side] += 1
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims)
    return m, ExerciseTruth("lunge-twist", "frontal", reps=_reps(counts),
                            cues=_cues(s, {"no_twist": "twist", "valgus": "knee-line",
                                           "lean": "tall"}))


def _forward_lunge(k: Keys, dims: BodyDims, s: ExerciseScript, f: str, b: str, knee: float,
                   lean: float) -> None:
    """One forward lunge of the front foot ``f`` (``"l"``/``"r"``); back foot ``b``."""
    # step forward: the front foot lifts and lands 0.7 m ahead, the hips move half way
    k.move(0.35 * s.tempo, **{f"{f}x": 0.30, f"lift_{f}": 0.06}, px=0.12)
    k.move(0.35 * s.tempo, **{f"{f}x": 0.70, f"lift_{f}": 0.0, f"{b}pitch": 40.0,
                             f"{b}toe": 1.0}, px=0.30)
    k.move(0.9 * s.tempo, pz=dims.leg_length - 0.42, px=0.33, tlat=lean,
           **{f"{f}knee": knee})
    k.wait(s.pause_s)
    k.move(0.9 * s.tempo, pz=dims.leg_length - 0.05, px=0.30, tlat=0.0, **{f"{f}knee": 0.0})
    # push back to standing
    k.move(0.35 * s.tempo, **{f"{f}x": 0.30, f"lift_{f}": 0.06, f"{b}pitch": 0.0,
                             f"{b}toe": 0.0}, px=0.12)
    k.move(0.35 * s.tempo, **{f"{f}x": 0.0, f"lift_{f}": 0.0}, pz=dims.leg_length, px=0.0)
    k.wait(s.rest_s)


def knee_lift_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Standing knee lifts, alternating or in blocks per ``s.sides``: the thigh rises to
    ~75 deg with the knee bent ~85 deg. Side = the lifted leg."""
    dims = BodyDims.from_stature(s.stature)
    counts = dict.fromkeys(SIDES, 0)
    k = standing_keys(dims, stance=0.05)
    k.wait(s.lead_s)
    half = dims.hip_width / 2 + 0.025
    for i in range(s.reps * len(s.sides)):
        side = s.sides[i % len(s.sides)]
        tag = "l" if side == "left" else "r"
        phi, knee = math.radians(75.0), math.radians(85.0)
        ax = dims.thigh * math.sin(phi) + dims.shank * math.sin(phi - knee)
        az = dims.leg_length - dims.thigh * math.cos(phi) - dims.shank * math.cos(phi - knee) \
            - dims.ankle_height
        k.move(0.6 * s.tempo, **{f"{tag}x": ax, f"lift_{tag}": az, f"{tag}pitch": 25.0})
        k.wait(s.pause_s)
        k.move(0.6 * s.tempo, **{f"{tag}x": 0.0, f"lift_{tag}": 0.0, f"{tag}pitch": 0.0})
        k.wait(s.rest_s)
        counts[side] += 1
        _ = half
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims, hands_on_waist=False)
    return m, ExerciseTruth("knee-lift", "frontal", reps=_reps(counts))


def _side_steps(s: ExerciseScript, task: str, crouch: float, step: float,
                narrow: float, faults: dict[str, str]) -> tuple[Motion, ExerciseTruth]:
    dims = BodyDims.from_stature(s.stature)
    if "feet_together" in s.faults:
        narrow = -dims.hip_width + 0.08  # ankles 8 cm apart: the band goes slack
    k = standing_keys(dims, stance=narrow, crouch=0.0)
    half = dims.hip_width / 2 + narrow / 2
    squat = {"pz": dims.leg_length - crouch, "px": -0.03 if crouch else 0.0,
             "tflex": 15.0 if crouch else 0.0}
    k.wait(s.lead_s * 0.5)
    k.move(0.6, **squat)
    k.wait(s.lead_s * 0.5)
    counts = dict.fromkeys(SIDES, 0)
    y = 0.0
    for direction in s.sides:
        sg = _SG[direction]
        lead, trail = ("l", "r") if direction == "left" else ("r", "l")
        for i in range(s.reps):
            dur = 0.2 if s.faulty(i, "fast") else 0.7 * s.tempo
            straight = s.faulty(i, "straight")
            if straight:
                k.move(0.4, pz=dims.leg_length, px=0.0, tflex=0.0)
            # lead foot out, the pelvis shifts half way
            k.move(dur, **{f"{lead}y": y + sg * (half + step)}, py=y + sg * step / 2)
            k.wait(0.0 if s.faulty(i, "fast") else s.pause_s)
            y += sg * step
            # the trailing foot follows
            k.move(dur, **{f"{trail}y": y - sg * half}, py=y)
            if straight:
                k.wait(0.6)
                k.move(0.4, **squat)
            k.wait(s.rest_s)
            counts[direction] += 1
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims, hands_on_waist=not crouch)
    return m, ExerciseTruth(task, "frontal", steps=counts, cues=_cues(s, faults))


def monster_walk_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Monster band walk: quarter squat (hips 0.12 m down, ~35-40 deg knees), feet
    0.12 m beyond hip width, side steps of 0.28 m. Direction = ``s.sides``.

    Faults: ``"straight"`` (stands up between steps), ``"feet_together"`` (ankles only
    8 cm apart), ``"fast"`` (0.2 s foot movements).
    """
    return _side_steps(s, "monster-walk", crouch=0.12, step=0.28, narrow=0.12,
                       faults={"straight": "squat", "feet_together": "feet-apart",
                               "fast": "slow"})


def side_step_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Step-touch: upright side steps of 0.45 m, feet ending together."""
    return _side_steps(s, "side-step", crouch=0.0, step=0.45, narrow=0.0, faults={})


def side_tap_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Alternating side toe-taps: one foot slides 0.35 m out, taps, and returns while the
    pelvis shifts a little over the stance foot (and lowers as far as the reach needs).
    Side = the tapping foot."""
    dims = BodyDims.from_stature(s.stature)
    k = standing_keys(dims, stance=0.05)
    half = dims.hip_width / 2 + 0.025
    k.wait(s.lead_s)
    counts = dict.fromkeys(SIDES, 0)
    for i in range(s.reps * len(s.sides)):
        side = s.sides[i % len(s.sides)]
        sg = _SG[side]
        tag = "l" if side == "left" else "r"
        k.move(0.5 * s.tempo, **{f"{tag}y": sg * (half + 0.35), f"lift_{tag}": 0.0,
                                 f"{tag}pitch": 15.0}, py=-sg * 0.04)
        k.wait(s.pause_s)
        k.move(0.5 * s.tempo, **{f"{tag}y": sg * half, f"{tag}pitch": 0.0}, py=0.0)
        k.wait(s.rest_s)
        counts[side] += 1
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims, hands_on_waist=False)
    return m, ExerciseTruth("side-tap", "frontal", reps=_reps(counts))


def single_leg_hinge_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Single-leg hip hinge: on one leg, the pelvis tilts forward to 75 deg, the free leg
    reaches back in line with the trunk. Side = the stance leg."""
    dims = BodyDims.from_stature(s.stature)
    counts = dict.fromkeys(SIDES, 0)
    k = standing_keys(dims, stance=0.05)
    k.wait(s.lead_s)
    half = dims.hip_width / 2 + 0.025
    for side in s.sides:
        st, fr = ("l", "r") if side == "left" else ("r", "l")
        sg = _SG[side]
        for _ in range(s.reps):
            tilt = 75.0
            # free foot: behind the hip along the tilted pelvis' long axis
            tr = math.radians(tilt)
            hip_z = dims.leg_length - 0.05
            fx = -0.10 - (dims.leg_length - 0.05) * math.sin(tr)
            fz = hip_z - (dims.thigh + dims.shank) * math.cos(tr) - dims.ankle_height
            k.move(1.2 * s.tempo, tilt=tilt, px=-0.10, py=sg * 0.06, pz=hip_z,
                   **{f"{fr}x": fx, f"{fr}y": -sg * half * 0.3, f"lift_{fr}": max(fz, 0.05),
                      f"{fr}pitch": 60.0, f"{fr}kdown": 1.0, f"{st}knee": 0.0})
            k.wait(s.pause_s)
            k.move(1.2 * s.tempo, tilt=0.0, px=0.0, py=0.0, pz=dims.leg_length,
                   **{f"{fr}x": 0.0, f"{fr}y": -sg * half, f"lift_{fr}": 0.0,
                      f"{fr}pitch": 0.0, f"{fr}kdown": 0.0})
            k.wait(s.rest_s)
            counts[side] += 1
    t = _times(k, s)
    ch = _standing_channels(k, t)
    for tag in ("l", "r"):
        ch.setdefault(f"{tag}kdown", np.zeros_like(t))
    m = standing_motion(t, ch, dims, hands_on_waist=False)
    return m, ExerciseTruth("single-leg-hinge", "side", reps=_reps(counts))


def midline_hinge_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Midline activator: staggered stance (back foot 0.3 m behind on its toes), hip
    hinge to 60 deg over the front leg. Side = the front leg.

    Faults: ``"knee_out"`` (front knee turned 30 deg laterally: varus).
    """
    dims = BodyDims.from_stature(s.stature)
    counts = dict.fromkeys(SIDES, 0)
    k = standing_keys(dims, stance=0.05)
    k.wait(s.lead_s * 0.5)
    for side in s.sides:
        f, b = ("l", "r") if side == "left" else ("r", "l")
        k.move(0.6, **{f"{f}x": 0.12, f"{b}x": -0.22, f"{b}pitch": 30.0, f"{b}toe": 1.0},
               pz=dims.leg_length - 0.03)
        k.wait(0.6)
        for i in range(s.reps):
            out = 30.0 if s.faulty(i, "knee_out") else 0.0
            k.move(1.1 * s.tempo, tilt=55.0, tflex=5.0, px=-0.12, pz=dims.leg_length - 0.08,
                   **{f"{f}knee": out})
            k.wait(s.pause_s)
            k.move(1.1 * s.tempo, tilt=0.0, tflex=0.0, px=0.0, pz=dims.leg_length - 0.03,
                   **{f"{f}knee": 0.0})
            k.wait(s.rest_s)
            counts[side] += 1
        k.move(0.6, **{f"{f}x": 0.0, f"{b}x": 0.0, f"{b}pitch": 0.0, f"{b}toe": 0.0},
               pz=dims.leg_length)
        k.wait(0.8)
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims)
    return m, ExerciseTruth("midline-hinge", "frontal", reps=_reps(counts),
                            cues=_cues(s, {"knee_out": "knee-out"}))


def glute_iso_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Banded wall sit: ``s.reps`` holds of ``s.hold_s`` with thighs near horizontal and
    the knees pushed out (knee gap ~1.2 x the ankle gap).

    Faults: ``"knees_in"`` (the knees turn 15 deg in for a third of the hold: that time
    does not count and the hold is not good form).
    """
    dims = BodyDims.from_stature(s.stature)
    k = standing_keys(dims, stance=0.10)
    k.wait(s.lead_s)
    holds = []
    ramp = 0.8 * s.tempo
    for i in range(s.reps):
        k.move(ramp, pz=dims.shank + dims.ankle_height + 0.03, px=-0.40, lknee=12.0,
               rknee=12.0, tflex=5.0)
        start = k.t - ramp / 2
        bad = 0.0
        if s.faulty(i, "knees_in"):
            third = s.hold_s / 3
            k.wait(third)
            k.move(0.3, lknee=-15.0, rknee=-15.0)
            k.wait(third - 0.3)
            k.move(0.3, lknee=12.0, rknee=12.0)
            k.wait(s.hold_s - 2 * third - 0.3)
            bad = third  # from half way into the fault to half way out of it
        else:
            k.wait(s.hold_s)
        end = k.t + ramp / 2
        k.move(ramp, pz=dims.leg_length, px=0.0, lknee=0.0, rknee=0.0, tflex=0.0)
        holds.append(HoldTruth(None, "sit", start, end, end - start - bad, bad == 0.0))
        k.wait(max(s.rest_s, 1.5))
    t = _times(k, s)
    m = standing_motion(t, _standing_channels(k, t), dims)
    return m, ExerciseTruth("glute-iso", "frontal", reps=_reps({"none": s.reps}),
                            holds=tuple(holds), cues=_cues(s, {"knees_in": "knees-out"}))


# --- seated and lying scripts (joint angles, fixed pelvis) -------------------------------

def _seated(t: np.ndarray, ch: dict[str, np.ndarray], dims: BodyDims) -> Motion:
    """A body seated on a chair whose height puts thighs level and shins vertical."""
    n = t.shape[0]
    pos = np.zeros((n, 3))
    pos[:, 0] = -0.05
    pos[:, 2] = dims.shank + dims.ankle_height
    sided = {}
    for name in ("hip_flexion", "hip_abduction", "hip_rotation", "knee_flexion",
                 "ankle_dorsiflexion", "ankle_inversion", "foot_progression"):
        sided[name] = np.stack([ch[f"{name}_l"], ch[f"{name}_r"]], axis=1)
    arms = {k: np.stack([ch[f"{k}_l"], ch[f"{k}_r"]], axis=1)
            for k in ("shoulder_abduction", "shoulder_flexion", "shoulder_rotation",
                      "elbow_flexion")}
    return Motion(t_s=t, pelvis_pos=pos, pelvis_obliquity=np.zeros(n),
                  pelvis_tilt=ch["tilt"], pelvis_yaw=np.zeros(n), trunk_flexion=ch["tflex"],
                  trunk_lateral=np.zeros(n), trunk_rotation=np.zeros(n), **sided, **arms)


def _seated_keys() -> Keys:
    init: dict[str, float] = {"tilt": 0.0, "tflex": 0.0}
    for tag in ("l", "r"):
        init.update({f"hip_flexion_{tag}": 90.0, f"hip_abduction_{tag}": 4.0,
                     f"hip_rotation_{tag}": 0.0, f"knee_flexion_{tag}": 90.0,
                     f"ankle_dorsiflexion_{tag}": 0.0, f"ankle_inversion_{tag}": 4.0,
                     f"foot_progression_{tag}": 0.0,
                     f"shoulder_abduction_{tag}": 6.0, f"shoulder_flexion_{tag}": 20.0,
                     f"shoulder_rotation_{tag}": 0.0, f"elbow_flexion_{tag}": 60.0})
    return Keys(**init)


def psoas_activator_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Slumpy psoas activator, seated: slump (trunk 28 deg forward), lift one knee 25 deg
    (~20 cm) against the opposite hand, sit tall, hold ``s.hold_s``, lower, relax.
    Side = the lifted knee.

    Faults: ``"stay_slumped"`` (never sits tall: no hold is counted), ``"internal_rotation"``
    (hip 25 deg internally rotated while lifted), ``"drop"`` (the knee drops in 0.2 s).
    """
    dims = BodyDims.from_stature(s.stature)
    k = _seated_keys()
    k.wait(s.lead_s)
    holds, counts = [], dict.fromkeys(SIDES, 0)
    for side in s.sides:
        tag = "l" if side == "left" else "r"
        for i in range(s.reps):
            slumped = s.faulty(i, "stay_slumped")
            ir = 25.0 if s.faulty(i, "internal_rotation") else 0.0
            k.move(0.8 * s.tempo, tflex=28.0, tilt=-10.0)
            k.move(0.8 * s.tempo, **{f"hip_flexion_{tag}": 115.0, f"hip_rotation_{tag}": ir,
                                     f"ankle_dorsiflexion_{tag}": -15.0})
            ramp = 0.8 * s.tempo
            if slumped:
                k.wait(s.hold_s + ramp)
            else:
                k.move(ramp, tflex=0.0, tilt=0.0)
                start = k.t - ramp / 2
                k.wait(s.hold_s)
            drop = 0.2 if s.faulty(i, "drop") else 1.0 * s.tempo
            k.move(drop, **{f"hip_flexion_{tag}": 90.0, f"hip_rotation_{tag}": 0.0,
                            f"ankle_dorsiflexion_{tag}": 0.0})
            if not slumped:
                end = k.t - drop / 2
                holds.append(HoldTruth(side, "lift", start, end, end - start, True))
                counts[side] += 1
            k.move(0.6, tflex=0.0, tilt=0.0)
            k.wait(s.rest_s)
    t = _times(k, s)
    ch = k.sample(t)
    m = _seated(t, ch, dims)
    return m, ExerciseTruth("psoas-activator", "frontal", reps=_reps(counts),
                            holds=tuple(holds),
                            cues=_cues(s, {"stay_slumped": "sit-tall",
                                           "internal_rotation": "knee-out",
                                           "drop": "lower-slowly"}))


def tibial_rotation_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Seated tibial rotation: heels lifted (20 deg plantarflexion), feet turned 25 deg
    out ("heels in") and held, then 25 deg in ("heels out") and held; ``s.reps`` reps.

    Faults: ``"knees_move"`` (the knees swing 12 deg apart with each rotation).
    """
    dims = BodyDims.from_stature(s.stature)
    k = _seated_keys()
    k.wait(s.lead_s * 0.5)
    k.move(0.6, ankle_dorsiflexion_l=-20.0, ankle_dorsiflexion_r=-20.0)
    k.wait(s.lead_s * 0.5)
    holds = []
    ramp = 0.6 * s.tempo
    for i in range(s.reps):
        swing = 12.0 if s.faulty(i, "knees_move") else 0.0
        for phase, angle in (("heels-in", 25.0), ("heels-out", -25.0)):
            k.move(ramp, foot_progression_l=angle, foot_progression_r=angle,
                   hip_abduction_l=4.0 + swing * np.sign(angle),
                   hip_abduction_r=4.0 + swing * np.sign(angle))
            start = k.t - ramp / 2
            k.wait(s.hold_s)
            end = k.t + ramp / 2
            holds.append(HoldTruth(None, phase, start, end, end - start, True))
        k.move(ramp, foot_progression_l=0.0, foot_progression_r=0.0, hip_abduction_l=4.0,
               hip_abduction_r=4.0)
        k.wait(s.rest_s)
    t = _times(k, s)
    m = _seated(t, k.sample(t), dims)
    return m, ExerciseTruth("tibial-rotation", "frontal", reps=_reps({"none": s.reps}),
                            holds=tuple(holds), cues=_cues(s, {"knees_move": "knees-still"}))


def asmr_itb_motion(s: ExerciseScript) -> tuple[Motion, ExerciseTruth]:
    """Side-lying active release: lying on one side facing the camera, the top leg's heel
    goes to the buttock and back (slow ~3 s cycles, at most ``s.reps`` per side), for
    ``s.time_per_side_s`` per side; between sides the body turns over in 3 s (through
    lying on the back, head away from the camera). Side = the top (worked) leg; a side's
    time runs until the turn is half done.

    Faults: ``"fast"`` (0.6 s cycles: the knee moves at ~400 deg/s).
    """
    init: dict[str, float] = {"obliq": 90.0 if s.sides[0] == "left" else -90.0}
    for tag in ("l", "r"):
        init.update({f"hip_flexion_{tag}": 10.0, f"knee_flexion_{tag}": 10.0})
    k = Keys(**init)
    counts = dict.fromkeys(SIDES, 0)
    timers: dict[str, float] = {}
    side_start = 0.0
    for n_side, side in enumerate(s.sides):
        top, bottom = ("l", "r") if side == "left" else ("r", "l")
        k.set(**{f"hip_flexion_{bottom}": 35.0, f"knee_flexion_{bottom}": 70.0})
        k.wait(1.0)
        cycle = 0.6 if "fast" in s.faults else 3.0 * s.tempo
        room = s.time_per_side_s - 2.5 - (1.5 if n_side + 1 < len(s.sides) else s.lead_s)
        n_cycles = max(1, min(s.reps, int(room // (cycle + s.rest_s))))
        for _ in range(n_cycles):
            k.move(cycle / 2, **{f"knee_flexion_{top}": 125.0, f"hip_flexion_{top}": 25.0})
            k.move(cycle / 2, **{f"knee_flexion_{top}": 10.0, f"hip_flexion_{top}": 10.0})
            k.wait(s.rest_s)
            counts[side] += 1
        if n_side + 1 < len(s.sides):
            k.wait(max(0.0, side_start + s.time_per_side_s - 1.5 - k.t))
            nxt = -k.value("obliq")
            k.move(3.0, obliq=nxt, **{f"hip_flexion_{bottom}": 10.0,
                                      f"knee_flexion_{bottom}": 10.0})
            timers[side] = k.t - 1.5 - side_start
            side_start = k.t - 1.5
        else:
            k.wait(max(0.0, side_start + s.time_per_side_s - k.t))
            timers[side] = k.t - side_start
    t = frame_times(k.t, s.fps)
    timers[s.sides[-1]] = float(t[-1]) - side_start
    ch = k.sample(t)
    n = t.shape[0]
    pos = np.zeros((n, 3))
    pos[:, 2] = 0.25
    obl = ch["obliq"]
    sided = {name: np.zeros((n, 2)) for name in ("hip_abduction", "hip_rotation",
                                                  "ankle_dorsiflexion", "ankle_inversion",
                                                  "foot_progression")}
    sided["hip_flexion"] = np.stack([ch["hip_flexion_l"], ch["hip_flexion_r"]], axis=1)
    sided["knee_flexion"] = np.stack([ch["knee_flexion_l"], ch["knee_flexion_r"]], axis=1)
    arms = _arms(n, False)
    arms["shoulder_flexion"] = np.full((n, 2), 60.0)
    arms["elbow_flexion"] = np.full((n, 2), 90.0)
    # turning over keeps the body horizontal: tilt back as the obliquity passes 0
    tilt = -90.0 * np.cos(np.radians(obl))
    m = Motion(t_s=t, pelvis_pos=pos, pelvis_obliquity=obl, pelvis_tilt=tilt,
               pelvis_yaw=np.zeros(n), trunk_flexion=np.zeros(n), trunk_lateral=np.zeros(n),
               trunk_rotation=np.zeros(n), **sided, **arms)
    return m, ExerciseTruth("asmr-itb", "frontal", reps=_reps(counts), timers=timers,
                            cues=_cues(s, {"fast": "slow"}))


# --- registry and rendering ------------------------------------------------------------

#: Task id -> script.
SCRIPTS: dict[str, Callable[[ExerciseScript], tuple[Motion, ExerciseTruth]]] = {
    "asmr-itb": asmr_itb_motion,
    "psoas-activator": psoas_activator_motion,
    "tibial-rotation": tibial_rotation_motion,
    "monster-walk": monster_walk_motion,
    "midline-hinge": midline_hinge_motion,
    "lunge-twist": lunge_twist_motion,
    "glute-iso": glute_iso_motion,
    "squat": squat_motion,
    "lateral-lunge": lateral_lunge_motion,
    "split-squat": split_squat_motion,
    "knee-lift": knee_lift_motion,
    "side-step": side_step_motion,
    "side-tap": side_tap_motion,
    "single-leg-hinge": single_leg_hinge_motion,
}


def camera_for(view: str, posture: str = "standing", side: str = "left",
               distance: float = 3.4) -> Camera:
    """A camera for the view: ``"frontal"`` in front, ``"side"`` on the subject's
    ``side`` (left: the camera sees the left side); lying bodies are framed lower."""
    if posture == "lying":
        return Camera.orbit(distance=distance, azimuth_deg=0.0, height=0.8,
                            target=(0.0, 0.0, 0.3))
    if posture == "seated":
        return Camera.orbit(distance=distance, azimuth_deg=0.0, height=1.0,
                            target=(0.0, 0.0, 0.65))
    az = 0.0 if view == "frontal" else (90.0 if side == "left" else -90.0)
    return Camera.orbit(distance=distance, azimuth_deg=az, height=1.0, target=(0.0, 0.0, 0.9))


_POSTURE = {"asmr-itb": "lying", "psoas-activator": "seated", "tibial-rotation": "seated"}


def default_noise(seed: int = 0) -> Noise:
    """MediaPipe-like jitter: 1.5 px, correlated over ~2 frames, 1 cm world noise, 1 %
    of frames starting a 2-frame dropout."""
    return Noise(image_px=1.5, depth=0.004, world_m=0.01, smooth_frames=2.0,
                 frame_dropout=0.01, dropout_frames=2, seed=seed)


def render_exercise(task: str, script: ExerciseScript | None = None, *,
                    camera: Camera | None = None, noise: Noise | None = None,
                    camera_side: str = "left") -> tuple[SynthSequence, ExerciseTruth]:
    """Render one of :data:`SCRIPTS` through its view's camera.

    Args:
        task: exercise id.
        script: options (default :class:`ExerciseScript`).
        camera: override the camera.
        noise: landmark noise (default none; see :func:`default_noise`).
        camera_side: for side views, which side of the subject the camera sees.
    """
    if task == "heel-taps":
        return _render_heel_taps(script or ExerciseScript(), camera, noise)
    if task not in SCRIPTS:
        raise ValueError(f"no movement script for {task!r} (have: {', '.join(SCRIPTS)})")
    script = script or ExerciseScript()
    motion, truth = SCRIPTS[task](script)
    cam = camera or camera_for(truth.view, _POSTURE.get(task, "standing"), camera_side)
    synth = render_sequence(motion, BodyDims.from_stature(script.stature), cam, noise)
    return synth, truth


def _render_heel_taps(s: ExerciseScript, camera: Camera | None,
                      noise: Noise | None) -> tuple[SynthSequence, ExerciseTruth]:
    """Heel taps = the step-down movement (:mod:`itbcoach.synth.stepdown`), 15 cm step."""
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec, render_stepdown

    fault_args: dict[str, object] = {}
    cues: set[str] = set()
    if "knee_medial" in s.faults:
        fault_args["knee_medial_m"] = 0.06
        cues.add("knee")
    if "pelvic_drop" in s.faults:
        fault_args["pelvic_drop_deg"] = 12.0
        cues.add("pelvis")
    if "trunk_lean" in s.faults:
        fault_args["trunk_lean_deg"] = 15.0
        cues.add("trunk")
    if "arms" in s.faults:
        fault_args["arm_abduction_deg"] = 45.0
        cues.add("arms")

    legs = tuple(LegSpec(side, reps=s.reps, **fault_args) for side in s.sides)  # type: ignore[arg-type]
    spec = StepdownSpec(legs=legs, fps=s.fps, step_height=0.15,
                        descent_s=1.6 * s.tempo, ascent_s=1.4 * s.tempo,
                        bottom_s=0.15 + s.pause_s, rest_s=s.rest_s, stature=s.stature)
    synth, truth = render_stepdown(spec, camera, noise)
    counts = {side: len(truth.counted(side)) for side in s.sides}
    return synth, ExerciseTruth("heel-taps", "frontal", reps=_reps(counts),
                                cues=frozenset(cues))


def with_options(script: ExerciseScript, **changes: object) -> ExerciseScript:
    """A copy of ``script`` with some options changed."""
    return replace(script, **changes)  # type: ignore[arg-type]
