"""Rendered synthetic clips: an mp4 of an anny body plus a ground-truth JSON.

:func:`render_clip` takes any :class:`~itbcoach.synth.motion.Motion`;
:func:`stepdown_clip` builds the step-down script (:mod:`itbcoach.synth.stepdown`) for
an anny body and renders it with the step box under the stance foot.

Ground-truth JSON (``<clip>.json``, schema ``itbcoach.synth/1``)::

    {"schema": "itbcoach.synth/1", "kind": "stepdown" | "<exercise>",
     "video": "<clip>.mp4", "fps": 30.0, "frames": T, "image_size": [w, h],
     "camera": {...}, "body": {...}, "scene": {...}, "spec": {...},
     "frames_truth": {
        "t_ms": [...],                       # (T,) timestamps of the video frames
        "landmarks": [[[x, y, z], ...]],     # (T, 33, 3) projected rig landmarks,
                                             #   MediaPipe-normalised (x, y in 0..1)
        "angles": {"pelvic_obliquity": [...], ...}   # 3D frontal-plane truth, degrees
        "projected": {"pelvic_obliquity": [...], ...}  # the kernel's metrics on the
                                             #   projected truth landmarks
     },
     "reps": [{"side", "index", "start_s", "bottom_s", "end_s", "counted", "faults",
               "depth"}, ...],
     "expected": {"left": {"count": n, "faults": {...}, "score": s}, ...}}

Angles are degrees with the kernel's sign conventions (:mod:`itbcoach.kernel.table`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from itbcoach.errors import InputError
from itbcoach.synth.anny_body import PARTS, AnnyBody
from itbcoach.synth.kinematics import Camera, ground_truth
from itbcoach.synth.motion import Motion
from itbcoach.synth.render import Box, Lighting, Renderer, Scene

log = logging.getLogger(__name__)

SCHEMA = "itbcoach.synth/1"

#: Clothing palettes (RGB 0..1) picked by index.
PALETTES: tuple[dict[str, tuple[float, float, float]], ...] = (
    {"skin": (0.87, 0.68, 0.55), "shirt": (0.15, 0.35, 0.70), "shorts": (0.12, 0.12, 0.15),
     "shoes": (0.90, 0.90, 0.92), "hair": (0.20, 0.13, 0.08)},
    {"skin": (0.62, 0.44, 0.32), "shirt": (0.75, 0.20, 0.20), "shorts": (0.20, 0.25, 0.35),
     "shoes": (0.15, 0.15, 0.15), "hair": (0.08, 0.06, 0.05)},
    {"skin": (0.95, 0.78, 0.66), "shirt": (0.25, 0.60, 0.35), "shorts": (0.30, 0.30, 0.32),
     "shoes": (0.85, 0.35, 0.20), "hair": (0.55, 0.40, 0.20)},
    {"skin": (0.40, 0.27, 0.20), "shirt": (0.85, 0.85, 0.82), "shorts": (0.10, 0.10, 0.30),
     "shoes": (0.30, 0.30, 0.60), "hair": (0.05, 0.04, 0.04)},
)
_FIXED = {"eyes": (0.10, 0.08, 0.06), "mouth": (0.55, 0.25, 0.25)}

#: Kernel metrics copied into the JSON as projected truth.
PROJECTED_METRICS = ("pelvic_obliquity", "trunk_lean", "fppa_left", "fppa_right",
                     "knee_flexion_left", "knee_flexion_right")


@dataclass(frozen=True)
class ClipOptions:
    """How a clip looks (everything but the motion).

    Attributes:
        width, height: pixels.
        camera_distance: horizontal distance camera -> subject, m.
        camera_azimuth: degrees around the subject, + = toward the subject's left.
        camera_height: m above the floor.
        hfov_deg: horizontal field of view.
        phenotype: anny phenotype values (gender, age, muscle, weight, height,
            proportions; each 0..1).
        palette: index into :data:`PALETTES`.
        light_scale: multiplies key and fill light strengths.
        noise_sd: pixel noise SD (8-bit levels).
        seed: pixel noise seed.
        crf: x264 constant rate factor of the H.264 mp4 (lower = better, larger).
        shirt_loose_m: 0 = a fitted shirt tucked into the shorts; > 0 = a loose untucked
            shirt over the waist: it reaches 8 cm below the hip joints, its waist band
            stands this far off the body (m) and the hands on the hips rest on it.
    """

    width: int = 640
    height: int = 480
    camera_distance: float = 2.7
    camera_azimuth: float = 0.0
    camera_height: float = 1.0
    hfov_deg: float = 60.0
    phenotype: tuple[tuple[str, float], ...] = ()
    palette: int = 0
    light_scale: float = 1.0
    noise_sd: float = 2.0
    seed: int = 0
    crf: int = 23
    shirt_loose_m: float = 0.0

    def camera(self, target_z: float = 0.95) -> Camera:
        """The pinhole camera of these options."""
        return Camera.orbit(distance=self.camera_distance, azimuth_deg=self.camera_azimuth,
                            height=self.camera_height, target=(0.0, 0.0, target_z),
                            width=self.width, height_px=self.height, hfov_deg=self.hfov_deg)


_BODIES: dict[tuple[tuple[str, float], ...], AnnyBody] = {}


def get_body(phenotype: tuple[tuple[str, float], ...] = ()) -> AnnyBody:
    """A (cached) :class:`AnnyBody` of this phenotype."""
    key = tuple(sorted(phenotype))
    if key not in _BODIES:
        _BODIES[key] = AnnyBody(dict(key))
    return _BODIES[key]


def _colors(body: AnnyBody, palette: int, loose_shirt: bool = False) -> np.ndarray:
    pal = PALETTES[palette % len(PALETTES)] | _FIXED
    table = np.array([pal[p] for p in PARTS], np.float32)
    part = body.vertex_part
    if loose_shirt:  # untucked: the shirt covers the waistband down to its hem
        part = np.where(body.waist_band > 0, PARTS.index("shirt"), part)
    return table[part]


def loosen_shirt(vertices: np.ndarray, pelvis: np.ndarray, neck: np.ndarray,
                 band: np.ndarray, loose_m: float) -> np.ndarray:
    """Push a shirt's waist band off the body: ``(T, V, 3)`` vertices, lab m.

    Each vertex moves ``loose_m * band`` away from the trunk axis (the line from the
    hip-centre midpoint ``pelvis`` to the shoulder midpoint ``neck``, both ``(T, 3)``),
    so the fabric follows the trunk, not the pelvis alone; vertices within 3 cm of the
    axis move proportionally less.
    """
    axis = neck - pelvis
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    d = vertices - pelvis[:, None, :]
    r = d - np.sum(d * axis[:, None, :], axis=2, keepdims=True) * axis[:, None, :]
    norm = np.maximum(np.linalg.norm(r, axis=2, keepdims=True), 0.03)
    return (vertices + (loose_m * band)[None, :, None] * r / norm).astype(vertices.dtype)


def _writer(path: Path, fps: float, size: tuple[int, int], crf: int):
    """An H.264 mp4 writer (PyAV/libx264; ~3x smaller than OpenCV's mp4v at equal
    quality, and plays in a browser)."""
    from itbcoach.report.video import H264Writer

    try:
        return H264Writer(path, fps, size, crf=int(crf), preset="medium")
    except OSError as exc:
        raise InputError(f"cannot write video {path} ({exc}); check the folder is "
                         "writable") from None


def _jsonable(x: object) -> object:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _jsonable(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (set, frozenset)):
        return sorted(_jsonable(v) for v in x)
    if isinstance(x, np.ndarray):
        return np.round(x, 5).tolist() if x.dtype.kind == "f" else x.tolist()
    if isinstance(x, (np.floating,)):
        return round(float(x), 6)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    return x


def _round(a: np.ndarray, nd: int = 3) -> list:
    a = np.round(np.asarray(a, np.float64), nd)
    return [None if not np.isfinite(v) else float(v) for v in a.ravel()] if a.ndim == 1 \
        else np.where(np.isfinite(a), a, np.nan).tolist()


def projected_truth(landmarks_lab: np.ndarray, camera: Camera) -> tuple[np.ndarray,
                                                                       dict[str, np.ndarray]]:
    """Project rig landmarks and run the kernel on them.

    Returns:
        ``(T, 33, 3)`` normalised image landmarks and the kernel metrics of
        :data:`PROJECTED_METRICS` (degrees) computed from them.
    """
    from itbcoach.kernel import Metric, compute_metrics

    image, world = camera.project(landmarks_lab)
    met = compute_metrics(image.astype(np.float64), camera.image_size, world)
    return image, {name: met[..., Metric[name.upper()]] for name in PROJECTED_METRICS
                   if name.upper() in Metric.__members__}


def render_clip(motion: Motion, out: Path, *, body: AnnyBody, options: ClipOptions,
                boxes: tuple[Box, ...] = (), kind: str = "custom",
                wall_x: float | None = None, extra: dict[str, object] | None = None,
                progress: Callable[[int, int], None] | None = None,
                target_z: float = 0.95,
                hand_hold: np.ndarray | None = None) -> dict[str, object]:
    """Render ``motion`` on ``body`` to ``out`` (mp4) and ``out.with_suffix('.json')``.

    Args:
        motion: the motion; frame times must be uniform (the video's fps is taken from
            them).
        out: the mp4 path.
        body: the posed body model (its :attr:`AnnyBody.dims` should be the dims the
            motion was made for).
        options: camera, look and noise.
        boxes: scene boxes (the step).
        kind: clip kind written to the JSON.
        wall_x: the wall plane behind the subject, m (default :class:`Scene`'s).
        extra: merged into the JSON (script ground truth: reps, expected faults).
        progress: called with ``(frames_done, frames_total)``.
        target_z: height the camera aims at, m (lower for seated and lying bodies).
        hand_hold: ``(T, 2)`` 0..1, hands resting on the hips keep their orientation in
            the pelvis frame (:func:`itbcoach.synth.anny_body.hand_frames`).

    Returns:
        The ground-truth document (also written as JSON).
    """
    out = Path(out)
    t = len(motion)
    dt = np.diff(motion.t_s)
    fps = float(round(1.0 / float(np.median(dt)), 3)) if t > 1 else 30.0
    posed = body.pose(motion, hand_hold=hand_hold)
    if options.shirt_loose_m > 0:
        posed = dataclasses.replace(posed, vertices=loosen_shirt(
            posed.vertices, posed.joints["pelvis"], posed.joints["neck"], body.waist_band,
            options.shirt_loose_m))
    cam = options.camera(target_z)
    lt = Lighting()
    lt = dataclasses.replace(lt, key=lt.key * options.light_scale,
                             fill=lt.fill * options.light_scale)
    scene = Scene(boxes=boxes, lighting=lt, noise_sd=options.noise_sd)
    if wall_x is not None:
        scene = dataclasses.replace(scene, wall_x=float(wall_x))
    image, projected = projected_truth(posed.landmarks, cam)
    truth3d = ground_truth(motion, body.dims, posed.skeleton())
    with _writer(out, fps, (options.width, options.height), options.crf) as writer, \
            Renderer(cam, body.faces,
                     _colors(body, options.palette, options.shirt_loose_m > 0), scene,
                     seed=options.seed) as r:
        for i in range(t):
            writer.write(r.render(posed.vertices[i]))
            if progress is not None:
                progress(i + 1, t)
    doc: dict[str, object] = {
        "schema": SCHEMA, "kind": kind, "video": out.name, "fps": fps, "frames": t,
        "image_size": [options.width, options.height],
        "camera": {"position": list(cam.position), "rotation": cam.rotation.tolist(),
                   "focal_px": cam.focal_px},
        "options": _jsonable(options),
        "body": {"phenotype": dict(options.phenotype), "dims": _jsonable(body.dims)},
        "scene": {"boxes": _jsonable(list(boxes))},
        "frames_truth": {
            "t_ms": np.round(motion.t_s * 1000.0).astype(int).tolist(),
            "landmarks": np.round(image, 4).tolist(),
            "angles": {k: _round(v) for k, v in truth3d.items()},
            "projected": {k: _round(v) for k, v in projected.items()},
            "motion": {k: _round(v if v.ndim == 1 else v.T) for k, v in
                       motion.angles().items()},
        },
    }
    doc.update(_jsonable(extra or {}))
    out.with_suffix(".json").write_text(json.dumps(doc, separators=(",", ":")))
    return doc


def load_truth(path: Path | str) -> dict[str, object]:
    """Read a ground-truth JSON (``clip.json`` or the clip's ``.mp4`` path)."""
    p = Path(path)
    if p.suffix != ".json":
        p = p.with_suffix(".json")
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError:
        raise InputError(f"no ground truth at {p}; render clips with 'itbcoach synth'") \
            from None
    if doc.get("schema") != SCHEMA:
        raise InputError(f"{p} is not an itbcoach synth ground truth (schema "
                         f"{doc.get('schema')!r}, expected {SCHEMA!r})")
    return doc


def step_boxes(spec, body: AnnyBody) -> tuple[Box, ...]:
    """The step under the stance foot of a :class:`StepdownSpec`.

    One-leg recordings get a wide step on the stance side; recordings of both legs a
    narrow block centred under the body (its edges clear both free feet).
    """
    h = float(spec.step_height)
    sides = {leg.side for leg in spec.legs}
    half = 0.5 * body.dims.hip_width - 0.01
    if sides == {"left"}:
        y0, y1 = -0.02, 0.45
    elif sides == {"right"}:
        y0, y1 = -0.45, 0.02
    else:
        y0, y1 = -half, half
    return (Box((0.0, 0.5 * (y0 + y1), h / 2), (0.42, y1 - y0, h)),)


def stepdown_clip(spec, out: Path, *, options: ClipOptions,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, object]:
    """Render a step-down recording (:class:`itbcoach.synth.stepdown.StepdownSpec`).

    The script runs on the anny body's measured dimensions (its stature goes into the
    spec) so the feet land where the script puts them; a constant vertical correction
    puts the stance sole on the step top.
    """

    body = get_body(options.phenotype)
    spec = dataclasses.replace(spec, stature=round(body.dims.stature, 4))
    motion, truth = _hands_on_body(spec, body, outward_m=options.shirt_loose_m)
    motion = _settle_on_step(motion, truth, body, spec.step_height)
    extra = {
        "spec": spec,
        "reps": [dataclasses.asdict(r) for r in truth.reps],
        "depth": np.round(truth.depth, 4),
        "stance": truth.stance,
        "hand_hold": np.round(truth.hand_hold, 2),
        "expected": {
            side: {"count": len(truth.counted(side)), "faults": truth.test_faults(side),
                   "score": truth.expected_score(side)}
            for side in sorted({leg.side for leg in spec.legs})},
    }
    return render_clip(motion, out, body=body, options=options,
                       boxes=step_boxes(spec, body), kind="stepdown", extra=extra,
                       progress=progress, hand_hold=truth.hand_hold)


def _hands_on_body(spec, body: AnnyBody, passes: int = 2, stride: int = 4,
                   outward_m: float = 0.0):
    """The step-down motion with the rendered hands on their contact points.

    ``outward_m`` moves the contacts that far out to the sides (pelvis frame), for hands
    resting on a loose shirt.

    The rig bends its spine above the hip centres, so wrists solved on the motion's
    skeleton land a few cm off on the body.
    Each pass poses every ``stride``-th frame, measures the rendered wrists against
    their contact points and feeds the differences (interpolated over the frames) back
    into the arm solution.
    """
    from itbcoach.synth.hands import hand_targets
    from itbcoach.synth.stepdown import stepdown_motion

    motion, truth = stepdown_motion(spec, dims=body.dims)
    n = len(motion)
    sel = np.unique(np.r_[np.arange(0, n, stride), n - 1])
    offset = np.zeros((n, 2, 3))
    push = np.array([[0.0, outward_m, 0.0], [0.0, -outward_m, 0.0]])
    for _ in range(passes):
        sub = _take(motion, sel)
        posed = body.pose(sub)
        got = np.stack([posed.joints["wrist_l"], posed.joints["wrist_r"]], axis=1)
        err = hand_targets(sub, body.dims, truth.hand_slip[sel] + push) - got
        for side, ax in np.ndindex(2, 3):
            offset[:, side, ax] += np.interp(np.arange(n), sel, err[:, side, ax])
        motion, truth = stepdown_motion(spec, dims=body.dims, hand_offset=offset)
    return motion, truth


def _take(motion: Motion, idx: np.ndarray) -> Motion:
    """The frames ``idx`` of ``motion``."""
    return Motion(**{f.name: getattr(motion, f.name)[idx]
                     for f in dataclasses.fields(Motion)})


def _settle_on_step(motion: Motion, truth, body: AnnyBody, step_height: float) -> Motion:
    """Shift the body vertically so the stance sole rests on the step (median over the
    frames on the step)."""
    on = np.flatnonzero(truth.stance >= 0)
    if on.size == 0:
        return motion
    sel = on[:: max(1, on.size // 30)]
    posed = body.pose(motion.slice(int(sel[0]), int(sel[-1]) + 1))
    idx = sel - sel[0]
    side_mask = _foot_vertices(body)
    lows = []
    for k, i in enumerate(idx):
        st = int(truth.stance[sel[k]])
        lows.append(posed.vertices[i][side_mask[st], 2].min())
    dz = step_height - float(np.median(lows))
    log.debug("settling on the step: dz = %.4f m", dz)
    pos = motion.pelvis_pos.copy()
    pos[:, 2] += dz
    return motion.replace(pelvis_pos=pos)


def _foot_vertices(body: AnnyBody) -> tuple[np.ndarray, np.ndarray]:
    """Vertex masks of the left and right shoe."""
    shoe = body.vertex_part == PARTS.index("shoes")
    x_lab_left = body.rest_vertices_anny[:, 0] > 0  # anny +x = body's left
    return shoe & x_lab_left, shoe & ~x_lab_left


#: Seated and lying exercises: the prop under the body and the camera's aim height, m.
_POSTURE_PROPS = {"asmr-itb": ("mat", 0.3), "psoas-activator": ("bench", 0.65),
                  "tibial-rotation": ("bench", 0.65)}

#: Colours of the props (RGB 0..1): a dark wooden bench, a blue exercise mat.
BENCH_COLOR = (0.36, 0.26, 0.18)
MAT_COLOR = (0.22, 0.36, 0.62)


def posture_props(task: str, motion: Motion, body: AnnyBody) -> tuple[Motion, tuple[Box, ...]]:
    """The bench a seated body sits on, or the mat a lying body lies on.

    The bench's top is put at the lowest point of the buttocks (median over sampled
    frames: the anny thighs of a :func:`~itbcoach.synth.exercises.psoas_activator_motion`
    body rest on it); the lying body is lowered (or raised) until its lowest vertex
    rests on a 2 cm mat, with the same median.

    Returns:
        The motion (shifted vertically when lying) and the prop boxes.
    """
    kind, _ = _POSTURE_PROPS[task]
    n = len(motion)
    sel = np.arange(0, n, max(1, n // 24))
    posed = body.pose(motion.slice(int(sel[0]), int(sel[-1]) + 1))
    verts = posed.vertices[sel - sel[0]]
    pel = motion.pelvis_pos[sel]
    if kind == "bench":
        near = (np.abs(verts[..., 0] - pel[:, None, 0]) < 0.15) & \
            (np.abs(verts[..., 1] - pel[:, None, 1]) < 0.2)
        seat = float(np.median([v[m, 2].min() for v, m in zip(verts, near, strict=True)]))
        x0 = float(np.median(pel[:, 0]))
        # seat from 0.25 m behind the hips to 0.2 m in front (under the thighs)
        return motion, (Box((x0 - 0.025, 0.0, seat / 2), (0.45, 0.6, seat), BENCH_COLOR),)
    mat_top = 0.02
    low = float(np.median(verts[..., 2].min(axis=1)))
    pos = motion.pelvis_pos.copy()
    pos[:, 2] += mat_top - low
    return motion.replace(pelvis_pos=pos), (Box((0.05, 0.0, mat_top / 2), (1.1, 2.0, mat_top),
                                                MAT_COLOR),)


def exercise_clip(task: str, out: Path, *, options: ClipOptions, reps: int = 3,
                  faults: tuple[str, ...] = (), hold_s: float | None = None,
                  time_per_side_s: float | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, object]:
    """Render one exercise of :data:`itbcoach.synth.exercises.SCRIPTS`, or ``heel-taps``
    (the step-down movement from a 15 cm step, left then right).

    The view the exercise needs decides the camera azimuth (side views: the camera on
    the subject's left) unless ``options.camera_azimuth`` is non-zero. The wall sit
    (``glute-iso``) gets its wall moved to the subject's back; seated exercises sit on a
    bench, the side-lying release lies on a mat (:func:`posture_props`), and the camera
    aims lower at them.

    Args:
        faults: fault names of the script (:class:`ExerciseScript` ``faults``).
        hold_s: planned hold time of held exercises, s (default: the script's).
        time_per_side_s: time on each side of the side-lying release, s (default: the
            script's).
    """
    from itbcoach.synth.exercises import SCRIPTS, ExerciseScript

    if task == "heel-taps":
        return _heel_taps_clip(out, options=options, reps=reps, faults=faults,
                               progress=progress)
    if task not in SCRIPTS:
        raise InputError(f"no renderable script for {task!r}; use one of "
                         f"{', '.join([*SCRIPTS, 'heel-taps'])}")
    body = get_body(options.phenotype)
    script = ExerciseScript(reps=reps, stature=round(body.dims.stature, 4),
                            faults=tuple(faults))
    if hold_s is not None:
        script = dataclasses.replace(script, hold_s=float(hold_s))
    if time_per_side_s is not None:
        script = dataclasses.replace(script, time_per_side_s=float(time_per_side_s))
    motion, truth = SCRIPTS[task](script)
    if truth.view == "side" and options.camera_azimuth == 0.0:
        options = dataclasses.replace(options, camera_azimuth=90.0)
    wall_x = None
    if task == "glute-iso":  # back against the wall: hips 0.40 m back + the buttocks
        wall_x = float(np.min(motion.pelvis_pos[:, 0])) - 0.16
    boxes: tuple[Box, ...] = ()
    target_z = 0.95
    if task in _POSTURE_PROPS:
        motion, boxes = posture_props(task, motion, body)
        target_z = _POSTURE_PROPS[task][1]
    extra = {"spec": script, "truth": truth, "expected_count": int(truth.reps["total"]),
             "expected": {"reps": truth.reps, "steps": truth.steps,
                          "cues": sorted(truth.cues)}}
    return render_clip(motion, out, body=body, options=options, kind=task, extra=extra,
                       boxes=boxes, wall_x=wall_x, progress=progress, target_z=target_z)


#: Heel-tap fault name -> step-down leg option (as :mod:`itbcoach.synth.exercises`).
_HEEL_TAP_FAULTS: dict[str, tuple[str, object, str]] = {
    "knee_medial": ("knee_medial_m", 0.06, "knee"),
    "pelvic_drop": ("pelvic_drop_deg", 12.0, "pelvis"),
    "trunk_lean": ("trunk_lean_deg", 15.0, "trunk"),
    "arms": ("arm_abduction_deg", 45.0, "arms"),
    "sudden_drop": ("sudden_drop", True, "steady"),
}


def _heel_taps_clip(out: Path, *, options: ClipOptions, reps: int, faults: tuple[str, ...],
                    progress: Callable[[int, int], None] | None) -> dict[str, object]:
    """Heel taps: the step-down script from a 15 cm step, ``reps`` per leg."""
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec, stepdown_motion

    unknown = sorted(set(faults) - set(_HEEL_TAP_FAULTS))
    if unknown:
        raise InputError(f"unknown heel-taps fault(s) {', '.join(unknown)}; use "
                         f"{', '.join(_HEEL_TAP_FAULTS)}")
    kw = {_HEEL_TAP_FAULTS[f][0]: _HEEL_TAP_FAULTS[f][1] for f in faults}
    body = get_body(options.phenotype)
    spec = StepdownSpec(legs=tuple(LegSpec(side, reps=reps, **kw)  # type: ignore[arg-type]
                                   for side in ("left", "right")),
                        step_height=0.15, step_on_off=False, lead_s=1.0, rest_s=0.5,
                        descent_s=1.2, ascent_s=1.0,
                        stature=round(body.dims.stature, 4))
    motion, truth = stepdown_motion(spec, dims=body.dims)
    motion = _settle_on_step(motion, truth, body, spec.step_height)
    counts = {side: len(truth.counted(side)) for side in ("left", "right")}
    extra = {"spec": spec, "reps": [dataclasses.asdict(r) for r in truth.reps],
             "stance": truth.stance, "expected_count": sum(counts.values()),
             "expected": {"reps": {**counts, "total": sum(counts.values())},
                          "cues": sorted(_HEEL_TAP_FAULTS[f][2] for f in faults)}}
    return render_clip(motion, out, body=body, options=options,
                       boxes=step_boxes(spec, body), kind="heel-taps", extra=extra,
                       progress=progress)
