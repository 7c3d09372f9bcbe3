"""A skinned human mesh (the ``anny`` parametric body) posed by a :class:`Motion`.

``anny`` (Apache-2.0, built on MakeHuman assets, needs PyTorch) is an optional
dependency: install ``itbcoach[synth]``. Nothing here is imported by the main app.

Frames
------
anny works in metres with ``z`` up, the body facing ``-y`` and ``+x`` the body's left.
The motion lab frame (:mod:`itbcoach.synth.motion`) has ``x`` forward, ``y`` left, ``z``
up, so ``p_anny = A @ p_lab`` with ``A = [[0, 1, 0], [-1, 0, 0], [0, 0, 1]]``.
Everything this module returns is in the **lab** frame.

Posing
------
anny takes one 4x4 rotation per bone (pose parameterisation ``local-ref``): a bone's
world delta rotation (relative to the rest pose, about its head) is its parent's times
its own, so a wanted world delta ``G`` is set with ``G_parent^T G``. Each bone is
assigned to one segment of :func:`itbcoach.synth.kinematics.forward_kinematics`; its
world delta is ``A R_segment A^T C_segment`` where ``C_segment`` (fixed, from the rest
pose) brings the rest bone to the neutral anatomical posture (legs and arms vertical,
feet pointing forward). The lowest spine bone (``spine05``) follows the
pelvis, so the pelvic skin follows a pelvic drop; half the trunk's rotation relative to
the pelvis is at ``spine04``, all of it from ``spine03`` up (the motion model pivots the
trunk at the hip centres; the rig bends higher, so a set lateral trunk angle shows as a
somewhat smaller hip-to-shoulder lean, which the ground truth measures on the rig).

Ground truth comes from the posed rig itself (joint centres = bone heads: hip =
``upperleg01``, knee = ``lowerleg01``, ankle = ``foot``, shoulder = ``upperarm01``,
elbow = ``lowerarm01``, wrist = ``wrist``), so it describes exactly what is rendered.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np

from itbcoach.errors import InputError
from itbcoach.landmarks import NUM_LANDMARKS, Landmark
from itbcoach.synth.kinematics import Skeleton, forward_kinematics
from itbcoach.synth.motion import BodyDims, Motion

log = logging.getLogger(__name__)
L = Landmark

#: lab -> anny axes.
A = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])

#: Part labels used for colouring (index into :attr:`AnnyBody.vertex_part`).
PARTS = ("skin", "shirt", "shorts", "shoes", "hair", "eyes", "mouth")

#: anny phenotype keys (each in [0, 1]).
PHENOTYPE_KEYS = ("gender", "age", "muscle", "weight", "height", "proportions")


def install_hint() -> str:
    """One line telling the user how to get the optional synth dependencies."""
    return "install the synthetic-render extra: pip install 'itbcoach[synth]'"


def _load_anny():
    """Import anny (and torch) or raise an :class:`InputError` saying how to install it."""
    os.environ.setdefault("ANNY_CACHE_DIR", str(Path.home() / ".cache" / "itbcoach" / "anny"))
    try:
        import anny
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(f"synthetic renders need anny and torch ({exc}); "
                         f"{install_hint()}") from None
    return anny, torch


def _align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction ``a`` to direction ``b`` (3-vectors)."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    s = float(np.linalg.norm(v))
    if s < 1e-12:
        return np.eye(3)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]]) / s
    ang = np.arctan2(s, c)
    return np.eye(3) + np.sin(ang) * k + (1 - np.cos(ang)) * (k @ k)


#: Direction of a hand resting on the hip, wrist to fingers, pelvis frame (forward,
#: lateral (+ = the hand's own side), up): forward and down along the front of the iliac
#: crest, a little medial (the hand on the side of the hip, fingers forward).
HAND_ON_HIP_DIRECTION = (0.75, -0.2, -0.63)


def hand_frames(pelvis: np.ndarray, forearm: np.ndarray, hold: np.ndarray | None,
                side: int = 0) -> np.ndarray:
    """``(T, 3, 3)`` hand orientations: a hand resting on the hip keeps its orientation
    in the pelvis frame (the wrist flexes as the elbow moves), a free hand is rigid with
    the forearm; ``hold`` (``(T,)`` 0..1, None = free) turns between the two.

    The resting orientation is the forearm's at the first frame of the fullest hold,
    relative to the pelvis, turned (smallest rotation) until the fingers point along
    :data:`HAND_ON_HIP_DIRECTION`; ``side`` is 0 for the left hand, 1 for the right.
    """
    if hold is None or not (np.asarray(hold) > 0).any():
        return forearm
    hold = np.clip(np.asarray(hold, float), 0.0, 1.0)
    ref = int(np.argmax(hold))
    rel = pelvis[ref].T @ forearm[ref]  # segment -> pelvis frame
    fx, fy, fz = HAND_ON_HIP_DIRECTION
    want = np.array([fx, fy if side == 0 else -fy, fz])
    rel = _align(rel @ np.array([0.0, 0.0, -1.0]), want) @ rel  # segment -z: the fingers
    on_hip = pelvis @ rel
    out = forearm @ _fraction(np.swapaxes(forearm, 1, 2) @ on_hip, hold)
    full, free = hold >= 1.0, hold <= 0.0
    out[full] = on_hip[full]
    out[free] = forearm[free]
    return out


def _fraction(r: np.ndarray, f: float | np.ndarray) -> np.ndarray:
    """``r ** f`` for rotations ``(T, 3, 3)`` (same axis, angle times ``f``, a scalar or
    ``(T,)``)."""
    tr = np.clip((np.trace(r, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    ang = np.arccos(tr)
    axis = np.stack([r[:, 2, 1] - r[:, 1, 2], r[:, 0, 2] - r[:, 2, 0],
                     r[:, 1, 0] - r[:, 0, 1]], axis=-1)
    n = np.linalg.norm(axis, axis=-1, keepdims=True)
    axis = np.where(n > 1e-12, axis / np.maximum(n, 1e-12), np.array([1.0, 0.0, 0.0]))
    a = ang * f
    k = np.zeros_like(r)
    k[:, 0, 1], k[:, 0, 2] = -axis[:, 2], axis[:, 1]
    k[:, 1, 0], k[:, 1, 2] = axis[:, 2], -axis[:, 0]
    k[:, 2, 0], k[:, 2, 1] = -axis[:, 1], axis[:, 0]
    s, c = np.sin(a)[:, None, None], np.cos(a)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


@dataclass(frozen=True, eq=False)
class PosedBody:
    """A posed body over ``T`` frames, lab metres.

    Attributes:
        vertices: ``(T, V, 3)`` float32 mesh vertices.
        joints: joint centres ``(T, 3)`` with the keys of
            :class:`itbcoach.synth.kinematics.Skeleton` (``pelvis``, ``neck``,
            ``hip_l`` ... ``toe_r``, ``wrist_r``).
        landmarks: ``(T, 33, 3)`` BlazePose landmark positions on this body.
    """

    vertices: np.ndarray
    joints: dict[str, np.ndarray]
    landmarks: np.ndarray

    def skeleton(self) -> Skeleton:
        """The joints as a :class:`Skeleton` (no segment frames) for ``ground_truth``."""
        return Skeleton(dict(self.joints), {})


class AnnyBody:
    """An anny body of one shape, posed from :class:`Motion` objects.

    Args:
        phenotype: anny phenotype values in [0, 1] (keys of :data:`PHENOTYPE_KEYS`);
            missing keys take anny's defaults.
    """

    def __init__(self, phenotype: dict[str, float] | None = None) -> None:
        self._anny, self._torch = _load_anny()
        self.phenotype = {k: float(v) for k, v in (phenotype or {}).items()}
        bad = set(self.phenotype) - set(PHENOTYPE_KEYS)
        if bad:
            raise ValueError(f"unknown phenotype keys {sorted(bad)}; use {PHENOTYPE_KEYS}")
        self.model = self._model()
        self.labels: list[str] = list(self.model.bone_labels)
        self.parents = np.asarray(self.model.bone_parents, dtype=np.int64)
        self.faces = self.model.get_triangular_faces().cpu().numpy().astype(np.int32)
        self._bone = {n: i for i, n in enumerate(self.labels)}
        rest = self._forward(np.broadcast_to(np.eye(3), (1, len(self.labels), 3, 3)))
        self.rest_vertices_anny = rest["vertices"][0]
        self.rest_heads_anny = rest["heads"][0]
        self._keypoints = self._anny.KeypointsRegressor.coco(self.model)
        self._segment_of, self._corr = self._segments()
        self._offset_lab = np.zeros(3)

    # --- model ------------------------------------------------------------------------

    _MODEL_CACHE: ClassVar[dict[str, object]] = {}

    def _model(self):
        key = "default"
        if key not in AnnyBody._MODEL_CACHE:
            AnnyBody._MODEL_CACHE[key] = self._anny.Anny()
        return AnnyBody._MODEL_CACHE[key]

    def _forward(self, rots: np.ndarray, keypoints: bool = True) -> dict[str, np.ndarray]:
        """Pose with per-bone delta rotations ``(B, J, 3, 3)`` (anny frame)."""
        torch = self._torch
        b, j = rots.shape[:2]
        d = np.zeros((b, j, 4, 4), np.float32)
        d[:, :, :3, :3] = rots
        d[:, :, 3, 3] = 1.0
        # one body shape for the whole batch: anny broadcasts a batch of 1, so its rest
        # model (blend shapes, bone orientations by Procrustes) is computed once per call
        # instead of once per frame (the larger part of posing time)
        kw = {k: torch.full((1,), v) for k, v in self.phenotype.items()}
        with torch.no_grad():
            out = self.model(pose_parameters=torch.from_numpy(d),
                             phenotype_kwargs=kw or None)
        res = {"vertices": out["vertices"].cpu().numpy(),
               "heads": out["bone_poses"][:, :, :3, 3].cpu().numpy()}
        if keypoints and hasattr(self, "_keypoints"):
            with torch.no_grad():
                res["keypoints"] = self._keypoints(out).cpu().numpy()
        return res

    # --- segments -----------------------------------------------------------------------

    def _segments(self) -> tuple[list[str], dict[str, np.ndarray]]:
        """Segment name per bone and the rest corrections ``C`` (anny frame)."""
        seg: list[str] = []
        for name in self.labels:
            side = "l" if name.endswith(".L") else "r"
            if name in ("root", "pelvis.L", "pelvis.R", "spine05"):
                seg.append("pelvis")
            elif name in ("spine04", "spine03", "spine02", "spine01"):
                seg.append(name)
            elif name.startswith("upperleg"):
                seg.append(f"thigh_{side}")
            elif name.startswith("lowerleg"):
                seg.append(f"shank_{side}")
            elif name.startswith(("foot", "toe")):
                seg.append(f"foot_{side}")
            elif name.startswith("upperarm"):
                seg.append(f"upper_arm_{side}")
            elif name.startswith("lowerarm"):
                seg.append(f"forearm_{side}")
            elif name.startswith(("wrist", "finger", "metacarpal")):
                seg.append(f"hand_{side}")
            else:  # clavicles, shoulders, neck, head, eyes
                seg.append("thorax")
        h = self.rest_heads_anny
        down = np.array([0.0, 0.0, -1.0])
        corr: dict[str, np.ndarray] = {}
        for tag, s in (("l", "L"), ("r", "R")):
            b = self._bone
            corr[f"thigh_{tag}"] = _align(h[b[f"lowerleg01.{s}"]] - h[b[f"upperleg01.{s}"]], down)
            corr[f"shank_{tag}"] = _align(h[b[f"foot.{s}"]] - h[b[f"lowerleg01.{s}"]], down)
            toe = h[b[f"toe2-1.{s}"]] - h[b[f"foot.{s}"]]
            toe[2] = 0.0
            corr[f"foot_{tag}"] = _align(toe, np.array([0.0, -1.0, 0.0]))
            corr[f"upper_arm_{tag}"] = _align(h[b[f"lowerarm01.{s}"]] - h[b[f"upperarm01.{s}"]],
                                              down)
            corr[f"forearm_{tag}"] = _align(h[b[f"wrist.{s}"]] - h[b[f"lowerarm01.{s}"]], down)
            corr[f"hand_{tag}"] = corr[f"forearm_{tag}"]
        return seg, corr

    # --- derived geometry ----------------------------------------------------------------

    def _lab(self, p: np.ndarray) -> np.ndarray:
        return p @ A  # A^T p for row vectors

    @cached_property
    def rest_joints(self) -> dict[str, np.ndarray]:
        """Joint centres of the neutral posture (legs and arms straightened), lab m."""
        m = Motion.neutral(np.array([0.0]), self._raw_dims(), hands_on_waist=False)
        m = m.replace(shoulder_abduction=np.zeros((1, 2)), elbow_flexion=np.zeros((1, 2)))
        posed = self.pose(m, place=False)
        return {k: v[0] for k, v in posed.joints.items()} | {"_verts": posed.vertices[0]}

    def _raw_dims(self) -> BodyDims:
        h = self._lab(self.rest_heads_anny)
        b = self._bone
        v = self._lab(self.rest_vertices_anny)

        def dist(x: str, y: str) -> float:
            return float(np.linalg.norm(h[b[x]] - h[b[y]]))

        stature = float(v[:, 2].max() - v[:, 2].min())
        base = BodyDims.from_stature(stature)
        sole = float(v[:, 2].min())
        hip_mid = 0.5 * (h[b["upperleg01.L"]] + h[b["upperleg01.R"]])
        sh_mid = 0.5 * (h[b["upperarm01.L"]] + h[b["upperarm01.R"]])
        return BodyDims(
            stature=stature, thigh=dist("upperleg01.L", "lowerleg01.L"),
            shank=dist("lowerleg01.L", "foot.L"),
            ankle_height=float(h[b["foot.L"], 2] - sole),
            foot_length=base.foot_length, foot_breadth=base.foot_breadth,
            heel_back=base.heel_back, hip_width=dist("upperleg01.L", "upperleg01.R"),
            trunk=float(sh_mid[2] - hip_mid[2]),
            shoulder_width=dist("upperarm01.L", "upperarm01.R"),
            upper_arm=dist("upperarm01.L", "lowerarm01.L"),
            forearm=dist("lowerarm01.L", "wrist.L"), hand=base.hand,
            head_top=float(v[:, 2].max() - sh_mid[2]), eye_height=base.eye_height,
            chin_height=base.chin_height)

    @cached_property
    def dims(self) -> BodyDims:
        """:class:`BodyDims` measured on this body (pass them to motion scripts so the
        feet land where the script puts them)."""
        d = self._raw_dims()
        j = self.rest_joints
        v = j["_verts"]
        # the neutral posture sets the leg vertical, so ankle height = ankle - sole there
        sole = float(v[:, 2].min())
        ankle = 0.5 * (j["ankle_l"][2] + j["ankle_r"][2])
        toe = 0.5 * (j["toe_l"] + j["toe_r"])
        heel = 0.5 * (j["heel_l"] + j["heel_r"])
        ank = 0.5 * (j["ankle_l"] + j["ankle_r"])
        return BodyDims(**{**d.__dict__, "ankle_height": float(ankle - sole),
                           "foot_length": float(toe[0] - heel[0]),
                           "heel_back": float(ank[0] - heel[0])})

    @cached_property
    def _landmark_vertices(self) -> dict[int, int]:
        """Mesh vertex index per BlazePose landmark that has no rig joint."""
        v = self.rest_vertices_anny
        w = self.model.vertex_bone_weights.cpu().numpy()
        idx = self.model.vertex_bone_indices.cpu().numpy()
        dom = idx[np.arange(len(idx)), np.argmax(w, axis=1)]
        out: dict[int, int] = {}
        for s, pre, sg in (("L", "LEFT_", 1.0), ("R", "RIGHT_", -1.0)):
            def tip(bone: str, direction: np.ndarray) -> int:
                sel = np.flatnonzero(dom == self._bone[bone])
                return int(sel[np.argmax(v[sel] @ direction)])
            # anny frame: forward = -y, down = -z, left = +x
            out[L[pre + "FOOT_INDEX"]] = tip(f"toe2-3.{s}", np.array([0.0, -1.0, -0.3]))
            out[L[pre + "INDEX"]] = tip(f"finger2-3.{s}", np.array([0.0, 0.0, -1.0]))
            out[L[pre + "PINKY"]] = tip(f"finger5-3.{s}", np.array([0.0, 0.0, -1.0]))
            out[L[pre + "THUMB"]] = tip(f"finger1-3.{s}", np.array([0.0, 0.0, -1.0]))
            # mouth corners: front-most head vertex ~2.3 cm to the side at mouth height
            head = np.flatnonzero(dom == self._bone["head"])
            hv = v[head]
            mouth_z = hv[:, 2].max() - 0.175
            score = (-hv[:, 1] * 1.0 - np.abs(hv[:, 2] - mouth_z) * 3.0
                     - np.abs(hv[:, 0] - sg * 0.023) * 3.0)
            out[L["MOUTH_LEFT" if s == "L" else "MOUTH_RIGHT"]] = int(head[np.argmax(score)])
        return out

    @cached_property
    def _dominant_bone(self) -> np.ndarray:
        """``(V,)`` name of the bone that moves each vertex most."""
        w = self.model.vertex_bone_weights.cpu().numpy()
        idx = self.model.vertex_bone_indices.cpu().numpy()
        return np.asarray(self.labels)[idx[np.arange(len(idx)), np.argmax(w, axis=1)]]

    @cached_property
    def waist_band(self) -> np.ndarray:
        """``(V,)`` float32 0..1: how far each vertex follows a loose shirt's waist band.

        1 from 8 cm below the hip joint centres to 10 cm above them, fading to 0 at
        30 cm above (the chest); trunk, pelvis and upper-thigh vertices only (never the
        arms or hands). 0 below the hem.
        """
        dom = self._dominant_bone
        trunk = np.isin(dom, ["root", "pelvis.L", "pelvis.R", "upperleg01.L",
                              "upperleg01.R"]) | np.char.startswith(dom, "spine")
        hip_z = float(self.rest_heads_anny[self._bone["upperleg01.L"], 2])
        z = self.rest_vertices_anny[:, 2] - hip_z
        w = np.clip((0.30 - z) / 0.20, 0.0, 1.0)
        w[(z < -0.08) | ~trunk] = 0.0
        return w.astype(np.float32)

    @cached_property
    def vertex_part(self) -> np.ndarray:
        """``(V,)`` index into :data:`PARTS` for each vertex (clothing by skinning)."""
        from anny.face_segmentation import get_face_segmentation_mask

        v = self.rest_vertices_anny
        dom_names = self._dominant_bone
        part = np.zeros(len(v), np.int32)
        shirt = np.zeros(len(v), bool)
        for p in ("spine", "clavicle", "shoulder01", "upperarm01", "breast"):
            shirt |= np.char.startswith(dom_names, p)
        shorts = np.isin(dom_names, ["root", "pelvis.L", "pelvis.R", "upperleg01.L",
                                     "upperleg01.R"])
        # the shorts reach up to ~9 cm above the hip joint centres (waistband)
        hip_z = float(self.rest_heads_anny[self._bone["upperleg01.L"], 2])
        shorts |= shirt & (v[:, 2] < hip_z + 0.09)
        shirt &= ~shorts
        part[shirt] = PARTS.index("shirt")
        part[shorts] = PARTS.index("shorts")
        f = self.faces

        def face_vertices(labels: list[str]) -> np.ndarray:
            mask = get_face_segmentation_mask(self.model, labels).cpu().numpy()
            return np.unique(f[mask].ravel())

        feet = face_vertices(["foot.L", "foot.R"])
        part[feet] = PARTS.index("shoes")
        head = face_vertices(["head"])
        hv = v[head]
        top = hv[:, 2].max()
        # hair: top of the head and the back of the skull (anny: face toward -y)
        cy = float(np.median(hv[:, 1]))
        hair = (hv[:, 2] > top - 0.075) | ((hv[:, 1] > cy + 0.01) & (hv[:, 2] > top - 0.16))
        part[head[hair]] = PARTS.index("hair")
        part[face_vertices(["eye_front.L", "eye_front.R"])] = PARTS.index("eyes")
        part[face_vertices(["mouth_cavity", "tongue"])] = PARTS.index("mouth")
        return part

    # --- posing ------------------------------------------------------------------------

    def _pose_pass(self, frames: dict[str, np.ndarray], thorax: np.ndarray, batch: int,
                   keypoints: bool) -> dict[str, np.ndarray]:
        """One anny pass: segment frames (lab) -> vertices/heads (anny frame)."""
        t = thorax.shape[0]
        nb = len(self.labels)
        world = np.empty((t, nb, 3, 3))
        rel = frames["pelvis"].transpose(0, 2, 1) @ thorax
        spread = {"spine04": frames["pelvis"] @ _fraction(rel, 0.5),
                  "spine03": thorax, "spine02": thorax, "spine01": thorax, "thorax": thorax}
        cache: dict[str, np.ndarray] = {}
        for i, s in enumerate(self._segment_of):
            if s not in cache:
                r = spread[s] if s in spread else frames[s]
                g = A @ r @ A.T
                if s in self._corr:
                    g = g @ self._corr[s]
                cache[s] = g
            world[:, i] = cache[s]
        local = np.empty_like(world)
        local[:, 0] = world[:, 0]
        par = self.parents[1:]
        local[:, 1:] = np.einsum("tbji,tbjk->tbik", world[:, par], world[:, 1:])
        parts = [self._forward(local[s0:s0 + batch], keypoints)
                 for s0 in range(0, t, batch)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def pose(self, motion: Motion, *, place: bool = True, batch: int = 64,
             hand_hold: np.ndarray | None = None) -> PosedBody:
        """Pose the body through ``motion`` (segment frames from ``forward_kinematics``).

        Args:
            motion: the motion (angles as in :mod:`itbcoach.synth.motion`).
            place: translate so the rig's hip-centre midpoint is ``motion.pelvis_pos``
                (else it stays where anny puts it).
            batch: frames posed per anny call.
            hand_hold: ``(T, 2)`` 0..1 per side (left, right), how much each hand rests
                on its hip (:func:`hand_frames`); None = hands rigid with the forearms.

        Returns:
            The posed body in lab metres.
        """
        frames = dict(forward_kinematics(motion, self._raw_dims()).frames)
        for side, tag in ((0, "l"), (1, "r")):
            frames[f"hand_{tag}"] = hand_frames(
                frames["pelvis"], frames[f"forearm_{tag}"],
                None if hand_hold is None else np.asarray(hand_hold, float)[:, side], side)
        t = len(motion)
        b = self._bone
        rest = self._lab(self.rest_heads_anny)
        rest_trunk = 0.5 * (rest[b["upperarm01.L"]] + rest[b["upperarm01.R"]]
                            - rest[b["upperleg01.L"]] - rest[b["upperleg01.R"]])
        want = np.einsum("tij,j->ti", frames["thorax"], rest_trunk)
        thorax = frames["thorax"]
        # The rig bends the spine above the hip centres, the motion model at them: rotate
        # the thorax until the rig's hip-mid -> shoulder-mid line points where the
        # motion's does (converges in 2-3 passes).
        for _ in range(3):
            out = self._pose_pass(frames, thorax, batch, keypoints=False)
            hd = self._lab(out["heads"])
            got = 0.5 * (hd[:, b["upperarm01.L"]] + hd[:, b["upperarm01.R"]]
                         - hd[:, b["upperleg01.L"]] - hd[:, b["upperleg01.R"]])
            corr = np.stack([_align(g, w) for g, w in zip(got, want, strict=True)])
            thorax = corr @ thorax
        out = self._pose_pass(frames, thorax, batch, keypoints=True)
        verts, heads, kps = [out["vertices"]], [out["heads"]], [out["keypoints"]]
        v = self._lab(np.concatenate(verts)).astype(np.float32)
        hd = self._lab(np.concatenate(heads))
        kp = self._lab(np.concatenate(kps))
        joints: dict[str, np.ndarray] = {}
        for tag, s in (("l", "L"), ("r", "R")):
            joints.update({
                f"hip_{tag}": hd[:, b[f"upperleg01.{s}"]],
                f"knee_{tag}": hd[:, b[f"lowerleg01.{s}"]],
                f"ankle_{tag}": hd[:, b[f"foot.{s}"]],
                f"shoulder_{tag}": hd[:, b[f"upperarm01.{s}"]],
                f"elbow_{tag}": hd[:, b[f"lowerarm01.{s}"]],
                f"wrist_{tag}": hd[:, b[f"wrist.{s}"]],
            })
        joints["pelvis"] = 0.5 * (joints["hip_l"] + joints["hip_r"])
        joints["neck"] = 0.5 * (joints["shoulder_l"] + joints["shoulder_r"])
        shift = (motion.pelvis_pos - joints["pelvis"]) if place else np.zeros((t, 3))
        v += shift[:, None, :].astype(np.float32)
        kp += shift[:, None, :]
        for k in joints:
            joints[k] = joints[k] + shift
        lm = np.full((t, NUM_LANDMARKS, 3), np.nan)
        names = self._keypoints.labels
        kpi = {n: i for i, n in enumerate(names)}
        for tag, pre, coco in (("l", "LEFT_", "left"), ("r", "RIGHT_", "right")):
            for lname, key in (("SHOULDER", "shoulder"), ("ELBOW", "elbow"),
                               ("WRIST", "wrist"), ("HIP", "hip"), ("KNEE", "knee"),
                               ("ANKLE", "ankle")):
                lm[:, L[pre + lname]] = joints[f"{key}_{tag}"]
            lm[:, L[pre + "HEEL"]] = kp[:, kpi[f"{coco}_heel"]]
            lm[:, L[pre + "EYE"]] = kp[:, kpi[f"{coco}_eye"]]
            lm[:, L[pre + "EAR"]] = kp[:, kpi[f"{coco}_ear"]]
        lm[:, L.NOSE] = kp[:, kpi["nose"]]
        for li, vi in self._landmark_vertices.items():
            lm[:, li] = v[:, vi]
        for side, pre in (("LEFT", "LEFT_EYE"), ("RIGHT", "RIGHT_EYE")):
            eye = lm[:, L[pre]]
            other = lm[:, L["RIGHT_EYE" if side == "LEFT" else "LEFT_EYE"]]
            lm[:, L[pre + "_INNER"]] = eye + 0.3 * (other - eye)
            lm[:, L[pre + "_OUTER"]] = eye - 0.3 * (other - eye)
        for tag in ("l", "r"):
            joints[f"heel_{tag}"] = lm[:, L[("LEFT_" if tag == "l" else "RIGHT_") + "HEEL"]]
            joints[f"toe_{tag}"] = lm[:, L[("LEFT_" if tag == "l" else "RIGHT_")
                                             + "FOOT_INDEX"]]
        return PosedBody(v, joints, lm)
