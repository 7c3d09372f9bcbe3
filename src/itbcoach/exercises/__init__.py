"""Exercise programme engine: count and coach exercises defined as data.

* :mod:`~itbcoach.exercises.expr` -- the metric-expression language of the definitions.
* :mod:`~itbcoach.exercises.counters` -- streaming state machines: :class:`RepCounter`,
  :class:`HoldTimer`, :class:`SideStepCounter`, :class:`SideTimer`.
* :mod:`~itbcoach.exercises.cues` -- cue rules (:class:`CueEngine`).
* :mod:`~itbcoach.exercises.definitions` -- ``[exercises.<id>]`` -> :class:`ExerciseDef`.
* :mod:`~itbcoach.exercises.session` -- sets, sides, rest, progress, events and the
  JSON Lines event log (:class:`Session`, :class:`JsonlEventWriter`).
* :func:`score_exercise` -- a whole recording (a :class:`PoseSequence`) -> an
  :class:`ExerciseResult` (``ok``, ``summary()``, ``to_json()``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from itbcoach.config import Config
from itbcoach.exercises.counters import HoldTimer, RepCheck, RepCounter, SideStepCounter, SideTimer
from itbcoach.exercises.cues import CueEngine, CueRule
from itbcoach.exercises.definitions import (
    UNITS,
    ExerciseDef,
    build_counters,
    build_exercise,
    exercise_ids,
    get_exercise,
    world_only_inputs,
)
from itbcoach.exercises.events import Event, EventKind
from itbcoach.exercises.expr import Expr, ExprError, compile_expr
from itbcoach.exercises.session import (
    JsonlEventWriter,
    Progress,
    Session,
    SetRecord,
    hold_json,
    read_jsonl,
)
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import PoseSequence
from itbcoach.stream import replay

#: The framing gate's name for each exercise view.
_GATE_VIEW = {"frontal": "frontal", "side": "side", "either": "any"}


@dataclass(frozen=True)
class CameraCheck:
    """Is the recording filmed from the view the exercise needs?

    Attributes:
        view: the view the exercise needs (``"frontal"``, ``"side"``, ``"either"``).
        ok: the framing gate found the needed view (and the body in frame) in most frames.
        view_share: share of frames with a pose in which the view suited the exercise.
        instruction: one line telling what to change (empty when ``ok``).
        framing: the gate's summary (see :meth:`itbcoach.pose.FramingResult.summary`).
        whole_body: the body and both feet were inside the picture in most frames with a
            person (if not, nothing is counted: the result is not ``ok``).
    """

    view: str
    ok: bool
    view_share: float
    instruction: str
    framing: dict[str, Any] = field(default_factory=dict)
    whole_body: bool = True

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"view": self.view, "ok": self.ok, "view_share": round(self.view_share, 3),
                "instruction": self.instruction, "whole_body": self.whole_body,
                "framing": self.framing}



def view_yaw(seq: PoseSequence) -> np.ndarray:
    """Per-frame angle between the body's frontal plane and the image plane, deg (0 =
    square-on, 90 = side-on), from the world landmarks: the hip and shoulder lines
    (left minus right, summed) against the camera's x axis in the horizontal x-z plane.
    NaN without world landmarks or without those points.

    On the real clips of ``../shared`` it reads 1-13 deg on frontal views, 34-48 on the
    30-45 deg oblique ones, 67-86 side-on (README "Exercises").
    """
    w = seq.world_landmarks
    if w is None:
        return np.full(len(seq), np.nan)
    d = (w[:, L.LEFT_HIP] - w[:, L.RIGHT_HIP]) \
        + (w[:, L.LEFT_SHOULDER] - w[:, L.RIGHT_SHOULDER])
    return np.degrees(np.arctan2(np.abs(d[:, 2]), np.abs(d[:, 0]))).astype(np.float64)


def check_camera(seq: PoseSequence, exercise: ExerciseDef, config: Config) -> CameraCheck:
    """Run the framing gate with the exercise's view over the recording.

    Lying exercises skip the view test (a side-lying body seen from the front has its
    shoulders stacked, which the gate would call side-on); framing problems other than
    the view are reported by the gate's own instruction.
    """
    from itbcoach.pose.framing import Problem, assess_framing

    share = config.framing.min_view_share
    view = exercise.config.view
    gate_view = exercise.gate_view
    if len(seq) == 0:
        return CameraCheck(view, False, 0.0, "No frames: film the whole body")
    res = assess_framing(seq, config.framing, view=gate_view)
    det = res.detected
    if not det.any():
        return CameraCheck(view, False, 0.0, "No person found: film the whole body in good "
                                            "light", res.summary())
    view_ok = res.view_ok
    max_yaw = exercise.config.max_yaw_deg
    yaw_off = np.full(len(seq), np.nan)
    if max_yaw > 0.0 and gate_view in ("frontal", "side"):
        yaw = view_yaw(seq)
        yaw_off = yaw if gate_view == "frontal" else 90.0 - yaw
        view_ok = view_ok & ~(yaw_off > max_yaw)  # unknown yaw: the gate's view test only
    view_share = float(view_ok[det].mean())
    summary = res.summary()
    if np.isfinite(yaw_off[det]).any():
        summary["view_yaw_deg"] = round(float(np.nanmedian(yaw_off[det])), 1)
        summary["max_yaw_deg"] = max_yaw
    instruction = ""
    in_frame = res.body_in_frame & res.feet_in_frame
    if view_share >= share and float(in_frame[det].mean()) < share:
        # the right view, but feet or body cut off in most frames: counts would be guesses
        first_bad = int(np.flatnonzero(det & ~in_frame)[0])
        instruction = res.instruction(first_bad) or "Film the whole body, feet included"
        return CameraCheck(view, False, view_share, instruction, summary, whole_body=False)
    if view_share < share:
        wrong = res.problem[det & ~res.view_ok]
        codes = [int(p) for p in wrong if p in (Problem.FACE_CAMERA, Problem.TURN_SIDE)]
        if float(res.view_ok[det].mean()) >= share:  # refused for the yaw alone
            turned = float(np.nanmedian(yaw_off[det]))
            instruction = (f"{'Face the camera' if view == 'frontal' else 'Turn side-on'} "
                           f"within {max_yaw:.0f} deg (now {turned:.0f} deg off)")
        elif codes:
            instruction = res.instruction(int(np.flatnonzero(det & ~res.view_ok)[0]))
        else:
            instruction = ("Turn to face the camera" if view == "frontal"
                           else "Turn side-on to the camera")
        instruction = f"{instruction} for {exercise.name.lower()}"
    camera = CameraCheck(view, view_share >= share, view_share, instruction, summary)
    if camera.ok and exercise.config.step is not None:
        out_s = _longest_run_s(det & ~in_frame, seq.timestamps_ms)
        if out_s > config.framing.walk_out_max_s:
            return walk_out_of_picture(camera, seq, exercise, {"walk_out_s": round(out_s, 2)})
    return camera


def _longest_run_s(mask: np.ndarray, t_ms: np.ndarray) -> float:
    """Longest stretch of consecutive true frames of ``mask``, s (first to last frame
    of the stretch plus one frame interval)."""
    if not mask.any():
        return 0.0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    t = np.asarray(t_ms, dtype=np.float64) / 1000.0
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    return float(np.max(t[ends] - t[starts])) + dt


def walk_out_of_picture(camera: CameraCheck, seq: PoseSequence, exercise: ExerciseDef,
                        detail: dict[str, float]) -> CameraCheck:
    """``camera`` refused because a side-step walk left the picture: the person seen
    with the feet or the sides out for longer than ``[framing] walk_out_max_s``, or the
    feet back in the picture a step away from where they left it (see
    :attr:`SideStepCounter.unseen`). Steps made out of sight are lost, so the count is
    not given as exact. ``detail`` (s) goes into the gate's summary."""
    w, h = seq.image_size
    fix = "turn the phone to landscape or step back" if h > w else \
        "step back so the whole walk stays in the picture"
    summary = {**camera.framing, **detail}
    return replace(camera, ok=False, framing=summary,
                   instruction=f"Your steps leave the picture: {fix} for "
                               f"{exercise.name.lower()}")


@dataclass
class ExerciseResult:
    """The count of one recording of an exercise.

    Attributes:
        task: task id.
        exercise: its definition.
        sets: the sets found.
        events: every event in order.
        camera: the camera/view check.
        frames: frames in the input; ``pose_frames`` with a pose.
        duration_s: input duration, s.
        meta: how the landmarks were obtained (from :func:`itbcoach.scoring.load_input`).
    """

    task: str
    exercise: ExerciseDef
    sets: list[SetRecord]
    events: list[Event]
    camera: CameraCheck
    frames: int
    pose_frames: int
    duration_s: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Something was measured: a person was seen, filmed whole (feet included)."""
        return self.pose_frames > 0 and self.camera.whole_body

    @property
    def view_refused(self) -> bool:
        """Measured, but from a view the exercise does not accept: the counts are
        reported as guesses and ``itbcoach score`` exits 4, as for a step-down filmed
        side-on."""
        return self.ok and not self.camera.ok

    def _of(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    @property
    def reps(self) -> dict[str, int]:
        """Counted reps ``{"left", "right", "total"}`` (side-free reps only in total)."""
        out = {"left": 0, "right": 0, "total": 0}
        for ev in self._of(EventKind.REP):
            if ev.side in ("left", "right"):
                out[ev.side] += 1
            out["total"] += 1
        return out

    @property
    def steps(self) -> dict[str, int]:
        """Side steps per direction of travel (the subject's own left/right)."""
        out = {"left": 0, "right": 0}
        for ev in self._of(EventKind.STEP):
            out[ev.side or "left"] += 1
        return out

    @property
    def steps_partial(self) -> dict[str, int]:
        """Half steps cut by the start or the end of the input (not in :attr:`steps`)."""
        out = {"left": 0, "right": 0}
        for ev in self._of(EventKind.STEP_PARTIAL):
            out[ev.side or "left"] += 1
        return out

    @property
    def holds(self) -> list[dict[str, Any]]:
        """Finished holds (``duration_s`` = time in good form)."""
        return [hold_json(ev) for ev in self._of(EventKind.HOLD)]

    @property
    def timers(self) -> list[dict[str, Any]]:
        """Timed bouts per side."""
        return [{"side": ev.side, "start_s": round(float(ev.data["start_s"]), 3),
                 "duration_s": round(float(ev.data["duration_s"]), 3)}
                for ev in self._of(EventKind.SIDE_TIME)]

    @property
    def cues(self) -> list[dict[str, Any]]:
        """Cues shown, in order."""
        return [{"t_s": round(ev.t_s, 3), "text": ev.data["text"], "rule": ev.data["rule"],
                 "side": ev.side} for ev in self._of(EventKind.CUE)]

    def summary(self) -> str:
        """Human-readable result for the terminal."""
        ex = self.exercise
        lines = [f"{ex.name} ({self.task}): {self.duration_s:.1f} s, "
                 f"{len(self.sets)} set(s)"]
        if not self.ok:
            lines.append("  no person found: nothing counted" if not self.pose_frames else
                         f"  not counted: the whole body is not in view "
                         f"({self.camera.instruction})")
            return "\n".join(lines)
        r, s = self.reps, self.steps
        if ex.primary == "step":
            lines.append(f"  side steps: {s['left'] + s['right']} "
                         f"(toward the left {s['left']}, toward the right {s['right']})")
            part = self.steps_partial
            if part["left"] + part["right"]:
                lines.append(f"  half steps cut by the start/end of the recording: "
                             f"{part['left'] + part['right']} (not counted)")
        if ex.primary in ("rep", "hold", "stepdown") or r["total"]:
            what = "reps" if ex.primary != "timer" else "cycles"
            sides = f" (left {r['left']}, right {r['right']})" \
                if r["left"] + r["right"] or ex.per_side else ""
            lines.append(f"  {what}: {r['total']}{sides}")
        for h in self.holds:
            side = f" {h['side']}" if h["side"] else ""
            phase = f" {h['phase']}" if h.get("phase") else ""
            form = "" if h["good_form"] else " (form lapsed)"
            lines.append(f"  hold{side}{phase}: {h['duration_s']:.1f} s from "
                         f"{h['start_s']:.1f} s{form}")
        for tm in self.timers:
            lines.append(f"  {tm['side']} side: {tm['duration_s']:.0f} s")
        p = ex.config.prescription
        unit = "timed sides" if ex.primary == "timer" else UNITS[ex.primary]
        for st in self.sets:
            state = "complete" if st.complete else "short of the prescription"
            lines.append(f"  set {st.index}: {st.counts()['total']} {unit}, {state}")
        lines.append(f"  prescription: {p.sets} set(s)" + (
            f" x {p.reps.min}-{p.reps.max}" if p.reps.max else "") +
            (" per side" if p.per_side and p.reps.max else "") +
            (f", holds {p.hold_s.min:.0f}-{p.hold_s.max:.0f} s" if p.hold_s.max else "") +
            (f", {p.time_per_side_s.min:.0f}-{p.time_per_side_s.max:.0f} s per side"
             if p.time_per_side_s.max else ""))
        if self.cues:
            lines.append("  cues: " + "; ".join(f"{c['t_s']:.1f} s {c['text']}"
                                                for c in self.cues))
        if not self.camera.ok and self.camera.instruction:
            why = "steps made out of sight are lost" if "walk_out_s" in self.camera.framing \
                or "walk_out_moved_at_s" in self.camera.framing else "filmed from the wrong view"
            lines.append(f"  camera: {self.camera.instruction} ({why}: the counts above "
                         "are guesses)")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (see docs/exercises.md for the keys)."""
        p = self.exercise.config.prescription
        return {
            "task": self.task,
            "name": self.exercise.name,
            "unit": UNITS[self.exercise.primary],
            "ok": self.ok,
            "sets": [s.to_json() for s in self.sets],
            "reps": self.reps,
            "holds": self.holds,
            "steps": self.steps if self.exercise.config.step is not None else {},
            "steps_partial": self.steps_partial if self.exercise.config.step is not None
            else {},
            "timers": self.timers,
            "cues": self.cues,
            "prescription": {"sets": p.sets, "reps": p.reps.to_json(), "per_side": p.per_side,
                             "hold_s": p.hold_s.to_json(),
                             "time_per_side_s": p.time_per_side_s.to_json(),
                             "rest_s": p.rest_s},
            "camera": self.camera.to_json(),
            "frames": self.frames,
            "pose_frames": self.pose_frames,
            "duration_s": round(self.duration_s, 3),
            "events": [e.to_json() for e in self.events],
            "source": self.meta,
        }



@dataclass
class ProgramResult:
    """The results of a programme run (``itbcoach live --program``), one per exercise
    started, in order."""

    exercises: list[ExerciseResult]

    @property
    def ok(self) -> bool:
        """At least one exercise measured something."""
        return any(ex.ok for ex in self.exercises)

    def summary(self) -> str:
        """Human-readable result for the terminal."""
        return "\n".join(ex.summary() for ex in self.exercises) or "no exercise was started"

    def to_json(self) -> dict[str, Any]:
        """``{"task": "program", "exercises": [each exercise's JSON]}``."""
        return {"task": "program", "exercises": [ex.to_json() for ex in self.exercises]}

def check_inputs(seq: PoseSequence, exercise: ExerciseDef) -> None:
    """Refuse an input that lacks what the exercise counts from (never a silent zero).

    Raises:
        NoResultError: ``seq`` has no world landmarks (none stored, or NaN in every
            frame with a pose) and a counter of ``exercise`` reads them without a 2D
            fallback (:func:`~itbcoach.exercises.definitions.world_only_inputs`).
    """
    from itbcoach.errors import NoResultError

    world = seq.world_landmarks
    posed = np.isfinite(seq.landmarks[:, :, :2]).all(axis=(1, 2))
    has_world = world is not None and bool(np.isfinite(world[posed]).any())
    if has_world or not posed.any():
        return
    keys = world_only_inputs(exercise)
    if keys:
        raise NoResultError(f"{exercise.task} needs 3D landmarks ({', '.join(keys)}); this "
                            f"file has none: re-extract it from the video with `itbcoach "
                            f"landmarks VIDEO -o OUT.npz`")


def score_exercise(seq: PoseSequence, task: str, config: Config,
                   meta: dict[str, Any] | None = None,
                   on_event: Callable[[Event], None] | None = None) -> ExerciseResult:
    """Count and coach one recording of exercise ``task``.

    The recording's frames are replayed through the live path
    (:func:`itbcoach.stream.replay`: masking, the causal filter, the kernel, the framing
    gate) into the same :class:`Session` the live coach feeds, so a clip counts the same
    offline and live.

    Args:
        seq: the landmarks (NaN frames = no pose), raw unless ``meta["smoothed"]``.
        task: exercise id (``[exercises.<task>]``).
        config: the configuration.
        meta: how the landmarks were obtained (copied into the result).
        on_event: called with every event as it happens (persistence hook).

    Raises:
        ConfigError: unknown task or invalid definition.
        NoResultError: the exercise counts from world (3D) landmarks, which ``seq``
            lacks (e.g. a landmark file written without them).
    """
    exercise = get_exercise(config, task)
    check_inputs(seq, exercise)
    meta = dict(meta or {})
    session = Session(exercise, on_event=on_event)
    pose_frames, first, last = 0, None, 0.0
    for frame in replay(seq, config, exercise.gate_view, smooth=not meta.get("smoothed")):
        session.push(frame)
        pose_frames += bool(np.isfinite(frame.metrics[0]))
        first, last = (frame.t_s if first is None else first), frame.t_s
    session.finish(last)
    camera = check_camera(seq, exercise, config)
    unseen = [t for g in session.groups.values() for m in g.members
              for t in getattr(m, "unseen", ())]
    if camera.ok and unseen:  # the feet came back from out of the picture a step away
        camera = walk_out_of_picture(camera, seq, exercise,
                                     {"walk_out_moved_at_s": round(min(unseen), 2)})
    return ExerciseResult(task, exercise, session.sets, session.events, camera, len(seq),
                          pose_frames, last - (first if first is not None else last), meta)


__all__ = [
    "CameraCheck",
    "CueEngine",
    "CueRule",
    "Event",
    "EventKind",
    "ExerciseDef",
    "ExerciseResult",
    "Expr",
    "ExprError",
    "HoldTimer",
    "JsonlEventWriter",
    "ProgramResult",
    "Progress",
    "RepCheck",
    "RepCounter",
    "Session",
    "SetRecord",
    "SideStepCounter",
    "SideTimer",
    "build_counters",
    "build_exercise",
    "check_camera",
    "check_inputs",
    "compile_expr",
    "exercise_ids",
    "get_exercise",
    "read_jsonl",
    "score_exercise",
    "view_yaw",
    "world_only_inputs",
]
