"""The offline report: ``report.html`` (self-contained), ``result.json``, ``metrics.csv``.

:func:`write_report` takes what scoring produced (the landmark sequence, the typed
result, the run's metadata) and writes a folder a physiotherapist can open offline: the
score card (per side, category, criteria), a per-rep table, plots of the key angles over
time with rep boundaries and thresholds, thumbnails of the worst frame of each fault
(with the skeleton and guide lines drawn by the live overlay's code), side-to-side
comparison, the camera/framing quality and the model used. Plots are matplotlib PNGs and
thumbnails JPEGs, both embedded as base64, so the page is one file that opens offline.

Threshold lines come from the configuration: ``[stepdown]`` for the step-down test
(pelvic drop and trunk lean as the standing baseline +- the threshold, since the scorer
thresholds changes from standing; knee offsets and the FPPA note as absolute lines), the
exercise's rep counter (enter / exit) for exercises.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from itbcoach import __version__
from itbcoach.config import Config
from itbcoach.config.schema import StepdownConfig
from itbcoach.exercises.events import EventKind
from itbcoach.kernel import METRIC_NAMES, Metric
from itbcoach.landmarks import PoseSequence
from itbcoach.report.measures import LengthScale, length_scale, result_json
from itbcoach.report.stepdown_view import CRITERIA_LABELS, reps_csv

if TYPE_CHECKING:  # the scorers pull in the kernel (numba); the batch parent must not
    from itbcoach.exercises import ExerciseResult
    from itbcoach.scoring.stepdown import StepdownResult

SIDE_COLORS = {"left": "#1f77b4", "right": "#ff7f0e", None: "#7f7f7f"}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:10px;
padding:1rem 1.3rem;min-width:260px;flex:1}.score{font-size:2.6rem;font-weight:700}
.good{color:#1a7f37}.medium{color:#b8860b}.poor{color:#c62828}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem}th,td{border-bottom:1px solid
#e5e5e5;padding:.35rem .5rem;text-align:left;font-size:.92rem}th{background:#f6f6f6}
table.reps th{text-align:right}table.reps th:first-child,table.reps th:last-child{text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}.yes{color:#c62828;font-weight:600}
.no{color:#999}.thumbs{display:flex;flex-wrap:wrap;gap:.8rem}.thumbs figure{margin:0;
width:220px}.thumbs img{width:220px;border-radius:6px;border:1px solid #ddd}
figcaption{font-size:.85rem;color:#444}img.plot{max-width:100%}.warn{background:#fff6e0;
border-left:4px solid #f0ad4e;padding:.5rem .8rem}.muted{color:#777;font-size:.85rem}
.na{color:#777;font-style:italic}.lowconf{color:#b8860b;font-weight:600}.conf{color:#444}
.charts{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem}.chart{margin:0;width:520px}
.rule{color:#c62828}table.defs td{font-size:.85rem}
"""


# --- small helpers --------------------------------------------------------------------

def _esc(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not np.isfinite(value):
            return "–"
        text = f"{value:.{digits}f}"
        return text[1:] if text.startswith("-") and not text.strip("-0.") else text
    return _esc(value)


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through the one output writer (atomic for files)."""
    from itbcoach.output import write_output

    write_output(path, data)


atomic_write = _atomic_write


# --- what is plotted ------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One time series of a panel."""

    label: str
    values: np.ndarray
    color: str = "#333333"


@dataclass(frozen=True)
class Threshold:
    """A horizontal threshold line."""

    value: float
    label: str
    style: str = "--"
    color: str = "#c62828"


@dataclass(frozen=True)
class Panel:
    """One subplot: lines over time plus threshold lines."""

    title: str
    unit: str
    lines: tuple[Line, ...]
    thresholds: tuple[Threshold, ...] = field(default_factory=tuple)



def is_stepdown(result: StepdownResult | ExerciseResult) -> TypeGuard[StepdownResult]:
    """Whether ``result`` is the step-down test's (else an exercise's)."""
    from itbcoach.scoring.stepdown import StepdownResult

    return isinstance(result, StepdownResult)

@dataclass(frozen=True)
class Span:
    """A counted rep or hold: ``[start_s, end_s]`` with its bottom/peak time."""

    start_s: float
    end_s: float
    side: str | None
    mark_s: float | None = None
    label: str = ""


def rep_spans(result: StepdownResult | ExerciseResult) -> list[Span]:
    """Counted reps (step-down or exercise), side steps and holds of a result, in time
    order."""
    out: list[Span] = []
    if is_stepdown(result):
        for side in result.sides:
            for rep in side.reps:
                out.append(Span(rep.start_s, rep.end_s, side.side, rep.bottom_s,
                                str(rep.index + 1)))
        return sorted(out, key=lambda s: s.start_s)
    k = {EventKind.REP: 0, EventKind.STEP: 0}
    for ev in result.events:
        if ev.kind in k and "start_s" in ev.data and "end_s" in ev.data:
            k[ev.kind] += 1
            out.append(Span(_num(ev.data["start_s"]), _num(ev.data["end_s"]), ev.side,
                            ev.data.get("peak_s"), str(k[ev.kind])))
        elif ev.kind == EventKind.HOLD:
            out.append(Span(_num(ev.data["start_s"]), _num(ev.data["end_s"]), ev.side, None,
                            "hold"))
    return sorted(out, key=lambda s: s.start_s)


def exercise_panels(seq: PoseSequence, metrics: np.ndarray,
                    result: ExerciseResult) -> list[Panel]:
    """Exercise plots: the rep counter's signal with its thresholds, knee flexion."""
    from itbcoach.report.annotate import exercise_signals

    exercise = result.exercise
    panels: list[Panel] = []
    signals = exercise_signals(seq, metrics, exercise)
    colors = {"left": SIDE_COLORS["left"], "right": SIDE_COLORS["right"]}

    def side_color(label: str) -> str:
        return next((c for s, c in colors.items() if s in label.split()), "#333333")

    lines = tuple(Line(k, v, side_color(k)) for k, v in signals.items())
    rep, step = exercise.config.rep, exercise.config.step
    if signals and rep is not None:
        unit = f" {rep.unit}" if rep.unit in ("deg",) else ""
        panels.append(Panel(f"Counted: {rep.label}" if rep.label else
                            f"Counted signal: {rep.metric}", rep.unit, lines, (
            Threshold(rep.enter, f"rep starts past {rep.enter:g}{unit}"),
            Threshold(rep.exit, f"ends back past {rep.exit:g}{unit}", ":", "#555555"))))
    elif signals and step is not None:
        panels.append(Panel(f"Foot positions along the subject's left (a step opens the "
                            f"stance by {step.open:g} torso lengths)", "torso lengths",
                            lines))
    panels.append(Panel("Knee flexion (0 = straight)", "deg", (
        Line("left", metrics[:, Metric.KNEE_FLEXION_LEFT], SIDE_COLORS["left"]),
        Line("right", metrics[:, Metric.KNEE_FLEXION_RIGHT], SIDE_COLORS["right"]))))
    return panels


def plot_panels(times_s: np.ndarray, panels: Sequence[Panel], spans: Sequence[Span]) -> str:
    """One figure of stacked panels with rep spans and thresholds; base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.0 * len(panels) + 0.4),
                             sharex=True, squeeze=False)
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        for s in spans:
            ax.axvspan(s.start_s, s.end_s, color=SIDE_COLORS.get(s.side, "#999999"),
                       alpha=0.12, lw=0)
            ax.axvline(s.start_s, color="#888888", lw=0.6)
            ax.axvline(s.end_s, color="#888888", lw=0.6)
            if s.mark_s is not None:
                ax.axvline(float(s.mark_s), color=SIDE_COLORS.get(s.side, "#999999"),
                           lw=0.8, ls=":")
        for line in panel.lines:
            ax.plot(times_s, line.values, lw=1.2, color=line.color, label=line.label)
        for th in panel.thresholds:
            if np.isfinite(th.value):
                ax.axhline(th.value, color=th.color, ls=th.style, lw=1,
                           label=th.label or None)
        ax.set_ylabel(panel.unit, fontsize=8)
        ax.set_title(panel.title, fontsize=9, loc="left")
        ax.grid(alpha=0.3)
        if len(panel.lines) > 1 or panel.thresholds:
            ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    top = axes[0, 0]
    for s in spans:
        if s.label:
            top.annotate(s.label, ((s.start_s + s.end_s) / 2, 0.97),
                         xycoords=("data", "axes fraction"), ha="center", va="top",
                         fontsize=7, color=SIDE_COLORS.get(s.side, "#555555"))
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


# --- worst-frame thumbnails -----------------------------------------------------------

def worst_frames(result: StepdownResult | ExerciseResult
                 ) -> dict[str, tuple[int, str | None, str]]:
    """``{label: (frame, stance side, criterion)}`` of each fault's worst frame (the
    step-down's; none for an exercise)."""
    out: dict[str, tuple[int, str | None, str]] = {}
    if not is_stepdown(result):
        return out
    for side in result.sides:
        for rep in side.reps:
            for fault, present in rep.faults.items():
                frame = rep.worst_frame.get(fault)
                if present and frame is not None and int(frame) >= 0:
                    label = (f"{side.side} leg, rep {rep.index + 1}: "
                             f"{CRITERIA_LABELS.get(fault, fault)}")
                    out[label] = (int(frame), side.side, fault)
    return dict(list(out.items())[:30])


def thumbnails(video: str | os.PathLike[str], seq: PoseSequence,
               frames: Mapping[str, tuple[int, str | None, str]],
               width: int = 220) -> dict[str, str]:
    """JPEG thumbnails (base64) of the given frames with skeleton and guide lines, cropped
    to the body."""
    import cv2

    from itbcoach.feedback.overlay import OverlayState, draw_overlay
    from itbcoach.report.annotate import stepdown_guides

    out: dict[str, str] = {}
    pixels = seq.pixels()
    cap = cv2.VideoCapture(str(video))
    try:
        for label, (index, side, criterion) in sorted(frames.items(), key=lambda x: x[1][0]):
            if not 0 <= index < len(seq):
                continue
            cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, img = cap.read()
            if not ok:
                continue
            h, w = img.shape[:2]
            px = pixels[index]
            if np.isfinite(px).any():
                draw_overlay(img, OverlayState(landmarks_px=px,
                                               guides=stepdown_guides(px, side, [criterion])))
            ok_pts = np.isfinite(px).all(axis=1)
            if ok_pts.sum() >= 4:
                x0, y0 = np.clip(px[ok_pts].min(axis=0) - 40, 0, None).astype(int)
                x1, y1 = np.minimum(px[ok_pts].max(axis=0) + 40, (w, h)).astype(int)
                if x1 - x0 > 20 and y1 - y0 > 20:
                    img = img[y0:y1, x0:x1]
            scale = width / img.shape[1]
            img = cv2.resize(img, (width, max(1, round(img.shape[0] * scale))),
                             interpolation=cv2.INTER_AREA)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
            if ok:
                out[label] = base64.b64encode(buf.tobytes()).decode("ascii")
    finally:
        cap.release()
    return out


def metrics_csv(seq: PoseSequence, metrics: np.ndarray) -> str:
    """Per-frame CSV: frame, t_s, detected, then every kernel metric (empty = NaN)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["frame", "t_s", "detected", *METRIC_NAMES])
    detected = seq.detected
    for i, (t, row) in enumerate(zip(seq.times_s, metrics, strict=True)):
        writer.writerow([i, f"{t:.3f}", int(detected[i]),
                         *("" if not np.isfinite(v) else f"{v:.4g}" for v in row)])
    return buf.getvalue()


# --- HTML sections --------------------------------------------------------------------

def _table(head: Iterable[str] | None, rows: Iterable[Iterable[str]], cls: str = "") -> str:
    h = "" if head is None else "<tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr>"
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return f"<table{f' class={cls!r}' if cls else ''}>{h}{body}</table>"


def _stepdown_html(result: StepdownResult, thumbs: Mapping[str, str],
                   cfg: StepdownConfig, scale: LengthScale) -> list[str]:
    from itbcoach.report import stepdown_view as view
    from itbcoach.report.measures import side_name, side_reps, stepdown_sides

    parts = ["<h2>Score card</h2>", view.score_card_html(result)]
    if not result.sides:
        parts.append("<p class='muted'>No side could be scored.</p>")
    if result.sides:
        parts.append("<h2>Each rep as the scorer judged it</h2><p class='muted'>One dot per "
                     "counted rep: its peak, measured against that rep's own standing "
                     "baseline (pelvis, trunk) or over its loaded part (knee). Red: the rep "
                     "was flagged for the criterion; green: it was not. Dashed: the "
                     "threshold.</p>" + view.charts_html(result, cfg, scale))
    parts.append(view.comparison_html(result, scale))
    parts.append("<h2>Reps</h2>")
    for side in stepdown_sides(result):
        if side_reps(side):
            parts.append(f"<h3>Standing on the {_esc(side_name(side))} leg</h3>"
                         + view.rep_table_html(side, scale))
        if side.partial:
            parts.append("<p class='muted'>Not counted: " + "; ".join(
                f"{_fmt(p.start_s, 1)}-{_fmt(p.end_s, 1)} s "
                f"({_esc(p.reason or 'partial')})" for p in side.partial) + "</p>")
    if result.sides:
        parts.append("<h3>What the numbers mean</h3>" + view.definitions_html(cfg, scale))
    ignored = result.ignored
    if ignored:
        parts.append("<p class='muted'>Movements that were not reps: " + "; ".join(
            f"{_esc(m.get('side'))} leg {_fmt(_num(m.get('start_s')), 1)}-"
            f"{_fmt(_num(m.get('end_s')), 1)} s ({_esc(m.get('reason', ''))})"
            for m in ignored) + "</p>")
    if thumbs:
        parts.append("<h2>Worst frame of each fault</h2><div class='thumbs'>")
        for label, data in thumbs.items():
            parts.append(f"<figure><img alt='{_esc(label)}' src='data:image/jpeg;base64,"
                         f"{data}'><figcaption>{_esc(label)}</figcaption></figure>")
        parts.append("</div>")
    return parts


def _exercise_html(result: ExerciseResult) -> list[str]:
    """The exercise's sections: count cards, side steps, reps, sets, holds, side to side,
    cues."""
    reps, holds = result.reps, result.holds
    steps = result.steps if result.exercise.config.step is not None else {}
    show_reps = bool(reps.get("total")) or not (steps or holds)
    parts = _count_cards(result, reps, steps, holds, show_reps)
    step_events = [e for e in result.events if e.kind == EventKind.STEP]
    if step_events:
        rows = [[f"<td>{i}</td>", f"<td>{_esc(e.side or '–')}</td>",
                 *(f"<td class='num'>{_fmt(_num(e.data.get(k)), 2)}</td>"
                   for k in ("start_s", "end_s", "duration_s", "opening")),
                 f"<td>{_esc(', '.join(e.tags) or '–')}</td>"]
                for i, e in enumerate(step_events, 1)]
        parts.append("<h2>Side steps</h2>" + _table(
            ["#", "toward", "start s", "end s", "duration s", "opening", "tags"], rows,
            "reps"))
    if show_reps:
        parts.append("<h2>Reps</h2>")
    rep_events = [e for e in result.events if e.kind == EventKind.REP]
    if rep_events:
        rows = []
        for i, e in enumerate(rep_events, 1):
            failed = [k for k, v in (e.data.get("checks") or {}).items() if v is False]
            rows.append([f"<td>{i}</td>", f"<td>{_esc(e.side or '–')}</td>",
                         *(f"<td class='num'>{_fmt(_num(e.data.get(k)), 2)}</td>"
                           for k in ("start_s", "end_s", "duration_s", "peak")),
                         f"<td>{_esc(', '.join(failed) or '–')}</td>"])
        parts.append(_table(["#", "side", "start s", "end s", "duration s", "peak",
                             "failed checks"], rows, "reps"))
    elif show_reps:
        parts.append("<p class='muted'>No reps counted.</p>")
    parts.extend(_sets_and_holds_html(result, reps, steps, holds, show_reps))
    if result.cues:
        rows = [[f"<td class='num'>{_fmt(_num(c.get('t_s')), 1)}</td>",
                 f"<td>{_esc(c.get('text'))}</td>"] for c in result.cues]
        parts.append("<h2>Cues</h2>" + _table(["t s", "cue"], rows))
    return parts


def _count_cards(result: ExerciseResult, reps: Mapping[str, int], steps: Mapping[str, int],
                 holds: Sequence[Mapping[str, Any]], show_reps: bool) -> list[str]:
    """The count cards: reps (per side when sided), side steps, holds, camera view."""
    presc = result.exercise.config.prescription
    parts = ["<h2>Counts</h2><div class='cards'>"]
    goal = (f"prescription: {presc.sets} set(s) x {presc.reps.min}-{presc.reps.max}"
            + (" per side" if presc.per_side else "")) if presc.reps.max else ""
    if show_reps:  # per side only for an exercise done one side at a time
        sided = bool(presc.per_side or reps.get("left") or reps.get("right"))
        detail = [f"left {reps.get('left', 0)} · right {reps.get('right', 0)}"] if sided \
            else []
        detail += [_esc(goal)] if goal else []
        parts.append(f"<div class='card'><div>Reps</div><div class='score'>"
                     f"{reps.get('total', 0)}</div><div class='muted'>"
                     f"{' · '.join(detail)}</div></div>")
    if steps:
        parts.append(f"<div class='card'><div>Side steps</div><div class='score'>"
                     f"{steps.get('left', 0) + steps.get('right', 0)}</div><div class='muted'>"
                     f"toward left {steps.get('left', 0)} · toward right "
                     f"{steps.get('right', 0)}{' · ' + _esc(goal) if goal else ''}</div>"
                     "</div>")
    if holds:
        good = sum(_num(h.get("duration_s")) for h in holds)
        parts.append(f"<div class='card'><div>Holds</div><div class='score'>{len(holds)}"
                     f"</div><div class='muted'>{good:.1f} s in good form</div></div>")
    camera = result.camera
    parts.append(f"<div class='card'><div>Camera view ({_esc(camera.view)})</div>"
                 f"<div class='score {'good' if camera.ok else 'poor'}'>"
                 f"{'ok' if camera.ok else 'check'}</div><div class='muted'>suits the "
                 f"exercise in {100 * camera.view_share:.0f}% of frames"
                 f"{'; ' + _esc(camera.instruction) if camera.instruction else ''}"
                 "</div></div>")
    parts.append("</div>")
    return parts


def _sets_and_holds_html(result: ExerciseResult, reps: Mapping[str, int],
                         steps: Mapping[str, int], holds: Sequence[Mapping[str, Any]],
                         show_reps: bool) -> list[str]:
    """The sets table, the holds table and the side-to-side table."""
    parts = []
    if result.sets:
        rows = [[f"<td>{st.index}</td>",
                 f"<td class='num'>{_fmt(_num(st.start_s), 1)}</td>",
                 f"<td class='num'>{_fmt(_num(st.end_s), 1)}</td>",
                 f"<td>{_fmt(st.complete)}</td>",
                 f"<td class='num'>{len(st.reps) + len(st.steps) + len(st.holds)}</td>"]
                for st in result.sets]
        unit = "steps" if steps else "holds" if holds and not reps.get("total") else "reps"
        parts.append("<h2>Sets</h2>" + _table(["set", "start s", "end s", "complete", unit],
                                               rows))
    if holds:
        rows = [[f"<td>{_esc(h.get('side') or '–')}</td>",
                 f"<td>{_esc(h.get('phase') or '')}</td>",
                 f"<td class='num'>{_fmt(_num(h.get('start_s')), 1)}</td>",
                 f"<td class='num'>{_fmt(_num(h.get('duration_s')), 1)}</td>",
                 f"<td>{_fmt(h.get('good_form'))}</td>"] for h in holds]
        parts.append("<h2>Holds</h2>" + _table(["side", "position", "start s",
                                                 "good-form s", "good form"], rows))
    sided = [("reps", reps.get("left", 0), reps.get("right", 0))] if show_reps else []
    if steps:
        sided.append(("side steps (direction of travel)", steps.get("left", 0),
                      steps.get("right", 0)))
    if holds:
        sided.append(("hold seconds", sum(_num(h.get("duration_s")) for h in holds
                                          if h.get("side") == "left"),
                      sum(_num(h.get("duration_s")) for h in holds if h.get("side") == "right")))
    if any(a or b for _, a, b in sided):
        rows = [[f"<td>{_esc(n)}</td>", f"<td class='num'>{_fmt(a)}</td>",
                 f"<td class='num'>{_fmt(b)}</td>"] for n, a, b in sided]
        parts.append("<h2>Side-to-side comparison</h2>" + _table(["", "left", "right"], rows))
    return parts


def _quality_html(meta: Mapping[str, Any],
                  result: StepdownResult | ExerciseResult) -> list[str]:
    camera_framing = result.camera.framing if not is_stepdown(result) else {}
    framing = dict(meta.get("framing") or camera_framing or {})
    rows: dict[str, Any] = {
        "frames": meta.get("frames"),
        "frame rate": None if meta.get("fps") is None else f"{_num(meta['fps']):.2f} fps",
        "image size": "x".join(str(v) for v in meta.get("image_size", []) or []) or None,
        "pose detected in": None if meta.get("detection_rate") is None
        else f"{100 * _num(meta['detection_rate']):.0f}% of frames",
        "frames with more than one person": meta.get("multi_person_frames"),
        "pose model": f"{meta.get('model_variant', '?')} ({meta.get('model_path', '')})",
    }
    share_keys = {"ok_share": "framing ok", "body_in_frame_share": "whole body in frame",
                  "feet_in_frame_share": "feet in frame",
                  "plausible_share": "plausible skeleton"}
    for k, label in share_keys.items():
        if k in framing:
            rows[label] = f"{100 * _num(framing[k]):.0f}% of frames"
    facing = framing.get("facing")
    if isinstance(facing, Mapping):
        rows["facing"] = ", ".join(f"{k} {100 * _num(v):.0f}%" for k, v in facing.items()
                                   if _num(v) > 0)
    if "body_height_median" in framing:
        rows["body height"] = f"{100 * _num(framing['body_height_median']):.0f}% of the frame"
    if framing.get("main_problem"):
        rows["main framing problem"] = framing["main_problem"]
    if framing.get("instruction"):
        rows["advice"] = framing["instruction"]
    out = ["<h2>Recording quality</h2>",
           _table(None, ([f"<td>{_esc(k)}</td>", f"<td>{_fmt(v, 2)}</td>"]
                             for k, v in rows.items() if v not in (None, "")))]
    for note in getattr(result, "confidence", []):
        out.append(f"<p class='warn'>{_esc(note)}</p>")
    for warning in meta.get("warnings", []) or []:
        out.append(f"<p class='warn'>{_esc(warning)}</p>")
    return out


def render_html(result: StepdownResult | ExerciseResult, meta: Mapping[str, Any],
                plot_png: str | None, thumbs: Mapping[str, str], config: Config | None = None,
                scale: LengthScale | None = None) -> str:
    """The report page as one HTML string (``config`` and ``scale``: the step-down's
    thresholds and length unit; defaults: shipped thresholds, torso lengths)."""
    stepdown = is_stepdown(result)
    title = "Lateral step-down test" if stepdown else \
        f"Exercise: {result.exercise.name or result.task}"
    source = Path(str(meta.get("source", ""))).name
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>itbcoach – {_esc(title)} – {_esc(source)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1><p class='sub'>{_esc(source)} · "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · itbcoach {__version__}</p>"]
    message = result.message if stepdown else None
    if message:
        parts.append(f"<p class='warn'>{_esc(message)}</p>")
    if stepdown:
        from itbcoach.config import load_config

        cfg = (config or load_config(use_user_file=False)).stepdown
        parts.extend(_stepdown_html(result, thumbs, cfg, scale or LengthScale(None, "none")))
    else:
        parts.extend(_exercise_html(result))
    if plot_png:
        parts.append("<h2>Angles over time</h2><p class='muted'>Shaded: counted reps, "
                     "side steps and holds (blue: left, orange: right, grey: both; steps by "
                     "direction), numbered at the top; dotted: the bottom or peak of each "
                     "rep. Red dashed: thresholds.</p>"
                     f"<img class='plot' alt='metrics over time' "
                     f"src='data:image/png;base64,{plot_png}'>")
    parts.extend(_quality_html(meta, result))
    parts.append("<p class='muted'>Files: result.json (the full result), reps.csv (the "
                 "step-down's measures per rep, as above), metrics.csv (every kernel metric "
                 "per frame, raw image-based values). Not a diagnosis: discuss the result "
                 "with your physiotherapist.</p></body></html>")
    return "\n".join(parts)


def write_report(out_dir: str | os.PathLike[str], seq: PoseSequence,
                 result: StepdownResult | ExerciseResult, meta: Mapping[str, Any],
                 video: str | os.PathLike[str] | None = None,
                 config: Config | None = None,
                 metrics: np.ndarray | None = None,
                 scale: LengthScale | None = None) -> Path:
    """Write ``report.html``, ``result.json``, ``metrics.csv`` (and for the step-down
    ``reps.csv``) into ``out_dir``.

    Args:
        seq: the landmark sequence that was scored.
        result: the step-down's or the exercise's result (typed; ``result.json`` is
            its JSON, with the ``measures`` block for the step-down).
        meta: how the landmarks were obtained (source, model, fps, framing, warnings).
        video: the source video, for thumbnails of the worst frames (optional).
        config: the configuration (threshold lines, exercise definitions); without it
            the plots have no threshold lines and exercises no counted signal.
        metrics: the kernel metrics of ``seq`` if already computed.
        scale: how lengths are shown (default: from ``[report] height_cm``, else the
            world landmarks; see :func:`itbcoach.report.measures.length_scale`).

    Returns:
        The path of ``report.html``. Every file is written atomically.
    """
    out = Path(out_dir)
    if metrics is None:
        from itbcoach.kernel import compute_metrics

        metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks) \
            if len(seq) else np.zeros((0, len(METRIC_NAMES)))
    from itbcoach.config import load_config

    spans = rep_spans(result)
    plot_png = None
    cfg = (config or load_config(use_user_file=False)).stepdown
    stepdown = is_stepdown(result)
    if stepdown:
        if scale is None:
            height = config.report.height_cm if config is not None else 0.0
            scale = length_scale(seq.world_landmarks, height)
    elif len(seq) and seq.detected.any():  # the step-down plots its reps (stepdown_view)
        plot_png = plot_panels(seq.times_s, exercise_panels(seq, metrics, result), spans)
    thumbs = thumbnails(video, seq, worst_frames(result)) if video and len(seq) else {}
    page = render_html(result, meta, plot_png, thumbs, config, scale)
    _atomic_write(out / "metrics.csv", metrics_csv(seq, metrics))
    if stepdown:
        _atomic_write(out / "reps.csv", reps_csv(result, scale))
    _atomic_write(out / "result.json", json.dumps(
        {**result_json(result, cfg, scale if stepdown else None),
         "meta": {k: v for k, v in meta.items() if k != "framing_per_frame"}},
        indent=2, default=_json_default) + "\n")
    _atomic_write(out / "report.html", page)
    return out / "report.html"


__all__ = ["Line", "Panel", "Span", "Threshold", "atomic_write", "exercise_panels",
           "metrics_csv", "plot_panels", "render_html", "rep_spans",
           "thumbnails", "worst_frames", "write_report"]
