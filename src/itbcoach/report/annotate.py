"""Annotated video: a scored recording with the live coach's overlay burnt in.

:class:`AnnotationPlan` turns a finished result (the step-down test's or an exercise's
typed result, see :func:`itbcoach.tasks.score_task`) and its landmark sequence into one
:class:`~itbcoach.feedback.overlay.OverlayState` per frame: the skeleton, the key angles
of that frame, the rep counter as it stood at that moment, each fault flagged around its
rep's worst frame, cues while they were shown and the task's guide lines (pelvic line,
trunk line, knee-over-toe lines). :func:`write_annotated` decodes the video again and
draws those states with :func:`~itbcoach.feedback.overlay.draw_overlay` -- the same
drawing code as the live overlay -- into a browser-playable H.264 mp4 at the input's
frame rate and resolution.

Nothing here draws: this module decides *what* is shown when; the overlay draws it.
"""

from __future__ import annotations

import bisect
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from itbcoach.config import Config
from itbcoach.exercises.events import EventKind
from itbcoach.feedback.overlay import (
    BAD,
    GOOD,
    MID_COLOR,
    GuideLine,
    OverlayState,
    ScoreCard,
)
from itbcoach.kernel import compute_metrics
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import PoseSequence
from itbcoach.report import measures as ms
from itbcoach.scoring.criteria import TABLE as CRITERIA_TABLE
from itbcoach.scoring.stepdown import StepdownRep, StepdownResult

if TYPE_CHECKING:
    from itbcoach.exercises import ExerciseResult

log = logging.getLogger(__name__)

#: Piva's protocol: 5 reps per leg (shown as the counter's target).
STEPDOWN_REPS = 5

#: Fault flag text and end-of-rep cue words of each Piva criterion (the criteria table).
FAULT_TEXT = {c.id: c.flag for c in CRITERIA_TABLE}
FAULT_SHORT = {c.id: c.short for c in CRITERIA_TABLE}
#: Measures shown on the video (one name, unit and sign each, see report.measures).
SHOWN_MEASURES = ("pelvic_drop_deg", "trunk_lean_deg", "knee_offset_second_toe", "fppa_deg")
#: Guide line thickness at 720p, px: thick enough to read at a glance.
GUIDE_THICKNESS = 6


@dataclass(frozen=True)
class _Flag:
    """One fault shown over ``[start, end]`` (frame indices), for one stance side."""

    start: int
    end: int
    side: str | None
    criterion: str
    text: str


@dataclass(frozen=True)
class _Timed:
    """Something shown over ``[start_s, end_s)``."""

    start_s: float
    end_s: float
    text: str
    level: str = "info"


def _fmt(value: float, fmt: str = "{:+.1f} deg") -> str:
    if value is None or not math.isfinite(value):
        return "–"
    text = fmt.format(value)
    if text.startswith("-") and not text.strip("-+0. deg"):  # "-0.0": no sign of its own
        text = ("+" if "{:+" in fmt else "") + text[1:]
    return text


def _verdict_color(verdict: bool | None) -> tuple[int, int, int]:
    return MID_COLOR if verdict is None else BAD if verdict else GOOD


def stepdown_guides(px: np.ndarray, stance: str | None,
                    verdicts: Mapping[str, bool] | Sequence[str] = ()) -> tuple[GuideLine, ...]:
    """Guide lines of the step-down test for one frame, coloured by verdict.

    Args:
        px: ``(33, 2)`` pixel landmarks (NaN = missing).
        stance: the stance leg (``"left"``/``"right"``, the subject's own) or None (both
            knees get a knee-over-toe line).
        verdicts: ``{criterion: flagged}`` of the rep under way (red when flagged, green
            when not, light grey when absent: between reps); a sequence of criterion
            names means those are flagged and the others are not known.

    Returns:
        The pelvic line (through both hips, extended by half the hip width each way),
        the trunk line (mid-hip to mid-shoulder) and a solid vertical line from the
        stance foot's toe up to knee height (the knee should stay over it), each
        :data:`GUIDE_THICKNESS` px thick at 720p.
    """
    if not isinstance(verdicts, Mapping):
        verdicts = dict.fromkeys(verdicts, True)

    def color(*criteria: str) -> tuple[int, int, int]:
        known = [verdicts[c] for c in criteria if c in verdicts]
        return _verdict_color(any(known) if known else None)

    guides: list[GuideLine] = []
    lh, rh = px[L.LEFT_HIP], px[L.RIGHT_HIP]
    if np.isfinite(lh).all() and np.isfinite(rh).all():
        d = rh - lh
        guides.append(GuideLine(tuple(lh - 0.5 * d), tuple(rh + 0.5 * d),
                                color("pelvis_not_level"), GUIDE_THICKNESS))
        ls, rs = px[L.LEFT_SHOULDER], px[L.RIGHT_SHOULDER]
        if np.isfinite(ls).all() and np.isfinite(rs).all():
            guides.append(GuideLine(tuple(0.5 * (lh + rh)), tuple(0.5 * (ls + rs)),
                                    color("trunk_lean"), GUIDE_THICKNESS))
    for side in ("left", "right") if stance is None else (stance,):
        toe = px[L.LEFT_FOOT_INDEX if side == "left" else L.RIGHT_FOOT_INDEX]
        knee = px[L.LEFT_KNEE if side == "left" else L.RIGHT_KNEE]
        if np.isfinite(toe).all() and np.isfinite(knee).all():
            guides.append(GuideLine(tuple(toe), (float(toe[0]), float(knee[1])),
                                    color("knee_medial_to_second_toe", "knee_medial_to_foot"),
                                    GUIDE_THICKNESS))
    return tuple(guides)


class AnnotationPlan:
    """What the annotated video shows on each frame of a scored recording.

    Args:
        seq: the landmark sequence that was scored (one row per video frame).
        result: the step-down's or the exercise's result (typed, with the metrics each
            rep was scored on).
        config: the configuration (exercise definitions, cue timing).
        metrics: the kernel metrics of ``seq`` ``(T, K)`` if already computed.
        scale: how step-down lengths are shown (default: torso lengths).
    """

    def __init__(self, seq: PoseSequence, result: StepdownResult | ExerciseResult,
                 config: Config,
                 metrics: np.ndarray | None = None,
                 scale: ms.LengthScale | None = None) -> None:
        self.seq = seq
        self.scale = scale or ms.LengthScale(None, "none")
        self.closing_s = float(config.report.closing_card_s)
        self.result = result
        self.task = "stepdown" if isinstance(result, StepdownResult) else result.task
        self.times = seq.times_s
        self.px = seq.pixels()
        self.metrics = metrics if metrics is not None else compute_metrics(
            seq.landmarks, seq.image_size, seq.world_landmarks)
        n = len(seq)
        fps = (n - 1) / (self.times[-1] - self.times[0]) if n > 1 and \
            self.times[-1] > self.times[0] else 30.0
        self.fps = float(fps)
        self._flags: list[_Flag] = []
        self._cues: list[_Timed] = []
        self._window = max(1, round(config.report.fault_window_s * self.fps))
        self._rep_cue_s = config.report.rep_cue_s
        if isinstance(result, StepdownResult):
            self._plan_stepdown(result)
        else:
            self._plan_exercise(result, config)
        self._cue_starts = [c.start_s for c in self._cues]

    # -- planning ----------------------------------------------------------------------
    def _frame_at(self, t_s: float) -> int:
        return int(np.clip(np.searchsorted(self.times, t_s - 1e-6), 0, max(len(self.seq) - 1,
                                                                          0)))

    def _plan_stepdown(self, result: StepdownResult) -> None:
        win = self._window
        self._reps: list[StepdownRep] = sorted(
            (rep for side in result.sides for rep in side.reps), key=lambda r: r.start_s)
        for rep in self._reps:
            for crit, present in rep.faults.items():
                frame = rep.worst_frame.get(crit)
                if not present or frame is None or int(frame) < 0:
                    continue
                text = FAULT_TEXT.get(crit, crit.replace("_", " "))
                measure = ms.MEASURES_BY_CRITERION.get(crit)
                value = rep.metrics.get(measure.key) if measure is not None else None
                if measure is not None and value is not None and math.isfinite(value):
                    shown = ms.fmt(measure, ms.display(measure, value, self.scale), self.scale)
                    text = f"{text} {shown}" if text.lower() == measure.name else \
                        f"{text}: {measure.name} {shown}"
                elif crit == "unsteady" and rep.unsteady_signs:
                    text = f"{text}: {', '.join(rep.unsteady_signs)}"
                self._flags.append(_Flag(int(frame) - win, int(frame) + win, rep.side,
                                         crit, text))
            words = sorted({FAULT_SHORT.get(c, c) for c, v in rep.faults.items() if v})
            n = rep.index + 1
            end = float(rep.end_s)
            if words:
                self._cues.append(_Timed(end, end + self._rep_cue_s,
                                         f"Rep {n}: {', '.join(words)}", "bad"))
            else:
                self._cues.append(_Timed(end, end + self._rep_cue_s, f"Rep {n}: good control",
                                         "good"))
        self._rep_starts = [float(r.start_s) for r in self._reps]
        self._title = "Lateral step-down test"

    def _plan_exercise(self, result: ExerciseResult, config: Config) -> None:
        self._events = sorted(result.events, key=lambda e: e.t_s)
        self._event_t = [float(e.t_s) for e in self._events]
        self._title = result.exercise.name or self.task
        self._exercise = result.exercise
        self._prescription = result.exercise.config.prescription
        self._holds = [(float(e.data["start_s"]), float(e.data["end_s"]))
                       for e in self._events if e.kind == EventKind.HOLD]
        show_s = max(self._rep_cue_s, float(config.exercise_cues.min_show_s))
        win = self._window
        for e in self._events:
            if e.kind == EventKind.CUE:
                t = float(e.t_s)
                self._cues.append(_Timed(t, t + show_s, str(e.data.get("text", "")), "warn"))
            elif e.kind == EventKind.REP and e.data.get("checks"):
                failed = [k for k, ok in e.data["checks"].items() if ok is False]
                if failed:
                    peak = self._frame_at(float(e.data.get("peak_s", e.t_s)))
                    for name in failed:
                        self._flags.append(_Flag(peak - win, peak + win, e.side, name,
                                                 f"Check failed: {name.replace('_', ' ')}"))
        self._signal: dict[str, np.ndarray] = exercise_signals(self.seq, self.metrics,
                                                               self._exercise)
        rep = self._exercise.config.rep
        self._signal_fmt = signal_format(rep.unit if rep is not None else "")
        if set(self._signal) == {"left foot", "right foot"}:  # side steps: the stance width
            width = self.scale.length(self._signal["left foot"] - self._signal["right foot"])
            self._signal = {"stance width": width}
            self._signal_fmt = "{:.0f} cm" if self.scale.cm_per_body_scale else \
                "{:.2f} torso lengths"

    # -- per frame ---------------------------------------------------------------------
    def state(self, i: int) -> OverlayState:
        """The overlay of frame ``i`` (0-based index into the sequence)."""
        i = int(np.clip(i, 0, max(len(self.seq) - 1, 0)))
        t = float(self.times[i]) if len(self.seq) else 0.0
        px = self.px[i] if len(self.seq) else None
        seen = px is not None and bool(np.isfinite(px).any())
        k = bisect.bisect_right(self._cue_starts, t)
        cue = next((c for c in reversed(self._cues[:k]) if c.start_s <= t < c.end_s), None)
        common = {"landmarks_px": px if seen else None, "title": self._title,
                  "cue": cue.text if cue else None, "cue_level": cue.level if cue else "info",
                  "framing": None if seen else "No person detected"}
        if self.task == "stepdown":
            return self._stepdown_state(i, t, px if seen else None, common)
        return self._exercise_state(i, t, common)

    def _stepdown_state(self, i: int, t: float, px: np.ndarray | None,
                        common: dict[str, Any]) -> OverlayState:
        k = bisect.bisect_right(self._rep_starts, t)
        current = self._reps[k - 1] if k else (self._reps[0] if self._reps else None)
        side = current.side if current else None
        in_rep = bool(current and current.start_s <= t <= current.end_s)
        ended = [r for r in self._reps if r.side == side and self._ended(r, i)]
        done = len(ended)  # a rep counts from its last frame on
        flags = [f for f in self._flags if f.start <= i <= f.end and f.side == side]
        last = ended[-1] if ended else None
        rows = self.rep_rows(last)
        progress = None
        if side:
            progress = f"standing on the {side} leg" + (
                f" - rep {current.index + 1}" if in_rep and current else "")
        verdicts = {c: bool(v) for c, v in current.faults.items()} \
            if in_rep and current else {}
        guides = stepdown_guides(px, side, verdicts) if px is not None else ()
        return OverlayState(
            **common, guides=guides, progress=progress,
            counter=f"{done}/{STEPDOWN_REPS}" if side else None,
            counter_label=f"reps, {side} leg" if side else "",
            faults=tuple(dict.fromkeys(f.text for f in flags)), metrics=tuple(rows))

    @staticmethod
    def _ended(rep: StepdownRep, i: int) -> bool:
        """Whether frame ``i`` is at or after the rep's last frame."""
        return rep.end_frame <= i

    def rep_rows(self, rep: StepdownRep | None) -> tuple[tuple[str, str], ...]:
        """``(label, value)`` rows of a finished rep's measures as the scorer judged
        them (the report's names, units and signs); empty before the first rep ends."""
        if rep is None:
            return ()
        values = ms.rep_values(rep, self.scale)
        rows = [(f"rep {ms.rep_number(rep)}, {rep.side} leg", "as scored")]
        for key in SHOWN_MEASURES:
            m = ms.MEASURES_BY_KEY[key]
            rows.append((m.name, ms.fmt(m, values[key], self.scale)))
            if key == "pelvic_drop_deg" and rep.pelvis_source:
                from itbcoach.report.stepdown_view import pelvis_cell

                rows.append(("pelvis read from", pelvis_cell(rep)))
        return tuple(rows)

    def closing_card(self) -> ScoreCard | None:
        """The card that closes the video: per stance leg the score and each criterion
        (None for an exercise, or when the card is switched off)."""
        result = self.result
        if not isinstance(result, StepdownResult) or self.closing_s <= 0:
            return None
        from itbcoach.report.stepdown_view import CRITERIA_LABELS, criterion_lines

        lines: list[tuple[str, bool | None]] = []
        for side in ms.stepdown_sides(result):
            lines.append((f"{ms.side_name(side).capitalize()} leg: score "
                          f"{side.score_text} ({side.category})", None))
            for cl in criterion_lines(result, side):
                verdict = None if cl.state == "not assessable" else cl.state == "yes"
                conf = f" ({cl.confidence})" if cl.confidence in ("low confidence",
                                                                  "lower") else ""
                lines.append((f"  {CRITERIA_LABELS.get(cl.criterion, cl.criterion)}: "
                              f"{cl.state} {cl.reps}{conf}", verdict))
        if not lines:
            lines.append((result.message or "no step-down scored", None))
        return ScoreCard("Lateral step-down test (Piva)", tuple(lines))

    def _exercise_state(self, i: int, t: float, common: dict[str, Any]) -> OverlayState:
        k = bisect.bisect_right(self._event_t, t)
        past = self._events[:k]
        unit = {"rep": "reps", "step": "steps", "hold": "holds", "timer": "reps"}.get(
            self._exercise.primary, "reps")
        kind = {"reps": EventKind.REP, "steps": EventKind.STEP, "holds": EventKind.HOLD}[unit]
        sets_done = sum(1 for e in past if e.kind == EventKind.SET_COMPLETE)
        set_start = max([x.t_s for x in past if x.kind == EventKind.SET_COMPLETE] or [-1.0])
        units_in_set = sum(1 for e in past if e.kind == kind and e.t_s > set_start)
        presc = self._prescription
        target = int(presc.reps.min) if kind != EventKind.HOLD and presc.reps.min else None
        counter = f"{units_in_set}/{target}" if target else str(units_in_set)
        n_sets = int(presc.sets or 0)
        progress = f"set {min(sets_done + 1, max(n_sets, 1))} of {n_sets}" if n_sets else None
        last_side = next((e.side for e in reversed(past)
                          if e.kind in (kind, EventKind.SIDE_SWITCH) and e.side), None)
        if last_side and progress:
            progress += f" - {last_side} side"
        hold_fraction = hold_text = None
        for start, end in self._holds:
            if start <= t <= end:
                goal = float(presc.hold_s.min or 0) or max(end - start, 1e-6)
                hold_fraction = min(1.0, (t - start) / goal)
                hold_text = f"{t - start:.0f} s"
                break
        rows = [(name, _fmt(float(v[i]), self._signal_fmt)) for name, v in self._signal.items()
                if len(v) > i]
        flags = [f for f in self._flags if f.start <= i <= f.end]
        return OverlayState(**common, counter=counter, counter_label=unit,
                            progress=progress, hold_fraction=hold_fraction,
                            hold_text=hold_text, metrics=tuple(rows),
                            faults=tuple(dict.fromkeys(f.text for f in flags)))


def signal_format(unit: str) -> str:
    """How the overlay writes a counted signal in ``unit``: whole degrees with the
    unit, a share of the standing height as a percentage, otherwise two decimals and
    the unit."""
    if unit == "deg":
        return "{:.0f} deg"
    if unit.startswith("share"):
        return "{:.0%}"
    return "{:.2f}" + (f" {unit}" if unit else "")


def exercise_signals(seq: PoseSequence, metrics: np.ndarray,
                     exercise: Any) -> dict[str, np.ndarray]:
    """The counted signal of an exercise per frame: ``{label: (T,) values}``.

    The rep counter's metric expression (labelled by its ``rep.label``, e.g. ``"knee
    flexion of the straighter knee"``, else ``"rep signal"``; per side when it names
    ``{side}``) or the side-step counter's foot positions (``"left foot"``, ``"right
    foot"``, torso lengths along the subject's left), evaluated over the whole recording
    the way the streaming counters see them; empty for holds and timers (conditions, not
    signals).
    """
    if exercise is None:
        return {}
    from itbcoach.exercises.expr import compile_expr, has_side

    cfg = exercise.config
    sources: list[tuple[str, str, str | None]] = []
    if getattr(cfg, "rep", None) is not None:
        sided = has_side(cfg.rep.metric)
        name = getattr(cfg.rep, "label", "") or "rep signal"
        for side in ("left", "right") if sided else (None,):
            sources.append((name + (f" {side}" if side else ""), cfg.rep.metric, side))
    elif getattr(cfg, "step", None) is not None:
        sources += [("left foot", cfg.step.left_foot, "left"),
                    ("right foot", cfg.step.right_foot, "right")]
    out: dict[str, np.ndarray] = {}
    times = seq.times_s
    for label, source, side in sources:
        expr = compile_expr(source, side, where=f"exercises.{exercise.task}")
        out[label] = np.array([expr(float(t), row) for t, row in zip(times, metrics,
                                                                       strict=True)], float)
    return out


def write_annotated(video: str | os.PathLike[str], out: str | os.PathLike[str],
                    plan: AnnotationPlan, crf: int = 23, preset: str = "veryfast") -> Path:
    """Decode ``video`` again and write it with ``plan``'s overlay to ``out`` (H.264 mp4).

    The output has every decoded frame of the input at the input's frame rate and
    resolution, then (step-down) the closing score card held for ``[report]
    closing_card_s`` over the last frame; it is written atomically (a temporary file
    renamed on success).

    Raises:
        InputError: the video cannot be decoded (as when it was scored).
    """
    from itbcoach.feedback.overlay import draw_overlay, draw_score_card
    from itbcoach.pose.sources import VideoFileSource
    from itbcoach.report.video import H264Writer

    out = Path(out)
    # this pass keeps both cores busy with its own threads (decode, draw, x264): FFmpeg's
    # decoder threads only add CPU up to 1080p (720p, 365 frames: ~2.0 s of CPU for the
    # pass instead of ~2.25 s; wall time within the noise); larger frames keep them
    w, h = plan.seq.image_size
    threads = 1 if w * h <= 1920 * 1080 else 0
    with VideoFileSource(video, queue_size=16, decode_threads=threads) as source, \
            H264Writer(out, source.fps, source.size, crf=crf, preset=preset) as writer:
        n = len(plan.seq)
        if source.frame_count and n and abs(source.frame_count - n) > 3:
            log.info("%s: %d frames in the container, %d scored", video, source.frame_count, n)
        last = None
        for frame in source:
            image = frame.image if frame.image.flags.writeable else frame.image.copy()
            last = draw_overlay(image, plan.state(frame.frame_id))
            writer.write(last)
        card = plan.closing_card()
        if card is not None and last is not None:
            closing = draw_score_card(last.copy(), card)
            for _ in range(round(plan.closing_s * source.fps)):
                writer.write(closing)
    return out


__all__ = ["AnnotationPlan", "exercise_signals", "signal_format", "stepdown_guides",
           "write_annotated"]
