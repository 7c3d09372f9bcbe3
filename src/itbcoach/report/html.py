"""The offline report: ``report.html`` (self-contained), ``result.json``, ``metrics.csv``.

:func:`write_report` takes what scoring produced (the landmark sequence, the result's
JSON, the run's metadata) and writes a folder a physiotherapist can open offline: the
score card, a per-rep table, plots of the key angles with rep boundaries and thresholds,
thumbnails of the worst frame of each fault, side-to-side comparison, framing quality and
the model used. Plots are matplotlib PNGs embedded as base64, so the page is one file.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from itbcoach import __version__
from itbcoach.kernel import METRIC_NAMES, Metric, compute_metrics
from itbcoach.landmarks import PoseSequence

#: Kernel metrics plotted for the step-down test: (metric, label, unit).
STEPDOWN_PLOTS: tuple[tuple[str, str, str], ...] = (
    ("pelvic_obliquity", "Pelvic obliquity (+ = left hip higher)", "deg"),
    ("trunk_lean", "Trunk lean (+ = toward the left)", "deg"),
    ("fppa_left", "Knee FPPA, left (+ = valgus)", "deg"),
    ("fppa_right", "Knee FPPA, right (+ = valgus)", "deg"),
    ("knee_offset_toe_left", "Left knee vs second toe (+ = medial)", "torso lengths"),
    ("knee_offset_toe_right", "Right knee vs second toe (+ = medial)", "torso lengths"),
)
SIDE_COLORS = {"left": "#1f77b4", "right": "#ff7f0e", None: "#7f7f7f"}
CRITERIA_LABELS = {
    "arm_strategy": "Arm used for balance",
    "trunk_lean": "Trunk lean",
    "pelvis_not_level": "Pelvis not level",
    "knee_medial_to_second_toe": "Knee medial to the second toe",
    "knee_medial_to_foot": "Knee medial to the foot",
    "unsteady": "Unsteady / uncontrolled",
}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:10px;
padding:1rem 1.3rem;min-width:260px;flex:1}.score{font-size:2.6rem;font-weight:700}
.good{color:#1a7f37}.medium{color:#b8860b}.poor{color:#c62828}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem}th,td{border-bottom:1px solid
#e5e5e5;padding:.35rem .5rem;text-align:left;font-size:.92rem}th{background:#f6f6f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}.yes{color:#c62828;font-weight:600}
.no{color:#999}.thumbs{display:flex;flex-wrap:wrap;gap:.8rem}.thumbs figure{margin:0;
width:220px}.thumbs img{width:220px;border-radius:6px;border:1px solid #ddd}
figcaption{font-size:.85rem;color:#444}img.plot{max-width:100%}.warn{background:#fff6e0;
border-left:4px solid #f0ad4e;padding:.5rem .8rem}.muted{color:#777;font-size:.85rem}
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "–" if not np.isfinite(value) else f"{value:.{digits}f}"
    return _esc(value)


def _spans(result: Mapping[str, Any]) -> list[tuple[float, float, str | None]]:
    """``(start_s, end_s, side)`` of every counted rep / hold in a result."""
    out: list[tuple[float, float, str | None]] = []
    for side in result.get("sides", []) or []:
        for rep in side.get("reps", []):
            out.append((rep["start_s"], rep["end_s"], side.get("side")))
    for hold in result.get("holds", []) or []:
        if "start_s" in hold and "duration_s" in hold:
            end = hold.get("end_s", hold["start_s"] + hold["duration_s"])
            out.append((hold["start_s"], end, hold.get("side")))
    for rep in result.get("rep_list", []) or result.get("rep_events", []) or []:
        if "start_s" in rep and "end_s" in rep:
            out.append((rep["start_s"], rep["end_s"], rep.get("side")))
    return out


def plot_metrics(times_s: np.ndarray, metrics: np.ndarray,
                 plots: Iterable[tuple[str, str, str]],
                 spans: list[tuple[float, float, str | None]],
                 thresholds: Mapping[str, float] | None = None) -> str:
    """One figure of stacked time series with rep spans and threshold lines (base64 PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = list(plots)
    fig, axes = plt.subplots(len(plots), 1, figsize=(10, 1.9 * len(plots)), sharex=True,
                             squeeze=False)
    for ax, (name, label, unit) in zip(axes[:, 0], plots, strict=True):
        y = metrics[:, METRIC_NAMES.index(name)]
        ax.plot(times_s, y, lw=1.2, color="#333")
        for start, end, side in spans:
            ax.axvspan(start, end, color=SIDE_COLORS.get(side, "#999"), alpha=0.12, lw=0)
        thr = (thresholds or {}).get(name)
        if thr is not None and np.isfinite(thr):
            for v in {thr, -thr} if name in ("pelvic_obliquity", "trunk_lean") else {thr}:
                ax.axhline(v, color="#c62828", ls="--", lw=1)
        ax.set_ylabel(unit, fontsize=8)
        ax.set_title(label, fontsize=9, loc="left")
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def thumbnails(video: str | os.PathLike[str], seq: PoseSequence,
               frames: Mapping[str, int], width: int = 220) -> dict[str, str]:
    """JPEG thumbnails (base64) of ``frames`` ({label: frame index}), cropped to the body."""
    import cv2

    out: dict[str, str] = {}
    cap = cv2.VideoCapture(str(video))
    try:
        for label, index in frames.items():
            if index is None or not 0 <= int(index) < len(seq):
                continue
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, img = cap.read()
            if not ok:
                continue
            h, w = img.shape[:2]
            px = seq.pixels()[int(index)]
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


def _atomic_write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; reports are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def _stepdown_html(result: Mapping[str, Any], thumbs: Mapping[str, str]) -> list[str]:
    parts = ['<h2>Score card</h2><div class="cards">']
    for side in result.get("sides", []):
        cat = side.get("category") or "none"
        crit = side.get("criteria", {})
        rows = "".join(
            f"<tr><td>{_esc(CRITERIA_LABELS.get(k, k))}</td>"
            f"<td class='{'yes' if v else 'no'}'>{_fmt(v)}</td></tr>" for k, v in crit.items())
        pain = side.get("pain")
        parts.append(
            f"<div class='card'><div>Stance leg: <b>{_esc(side.get('side'))}</b></div>"
            f"<div class='score {cat}'>{_fmt(side.get('score'))} "
            f"<span style='font-size:1.2rem'>{_esc(cat)}</span></div>"
            f"<div class='muted'>{len(side.get('reps', []))} counted reps; pain: "
            f"{'not asked' if pain is None else _fmt(pain)}</div>"
            f"<table><tr><th>criterion</th><th>present</th></tr>{rows}</table></div>")
    parts.append("</div>")
    comparison = result.get("comparison")
    if comparison:
        parts.append("<h2>Side-to-side comparison</h2><table><tr><th>metric</th>"
                     "<th>left</th><th>right</th><th>difference</th></tr>")
        items = comparison.items() if isinstance(comparison, Mapping) else []
        for name, row in items:
            if isinstance(row, Mapping):
                parts.append(f"<tr><td>{_esc(name)}</td><td class='num'>"
                             f"{_fmt(row.get('left'))}</td><td class='num'>"
                             f"{_fmt(row.get('right'))}</td><td class='num'>"
                             f"{_fmt(row.get('difference', row.get('diff')))}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Reps</h2>")
    for side in result.get("sides", []):
        reps = side.get("reps", [])
        if not reps:
            continue
        mkeys = list(reps[0].get("metrics", {}))
        fkeys = list(reps[0].get("faults", {}))
        head = "".join(f"<th>{_esc(k)}</th>" for k in mkeys)
        parts.append(f"<h3>{_esc(side.get('side'))} leg</h3><table class='reps'><tr>"
                     f"<th>#</th><th>start s</th><th>bottom s</th><th>end s</th>{head}"
                     f"<th>faults</th></tr>")
        for i, rep in enumerate(reps, 1):
            faults = [CRITERIA_LABELS.get(k, k) for k in fkeys if rep["faults"].get(k)]
            cells = "".join(f"<td class='num'>{_fmt(rep['metrics'].get(k))}</td>"
                            for k in mkeys)
            parts.append(f"<tr><td>{i}</td><td class='num'>{_fmt(rep.get('start_s'), 2)}</td>"
                         f"<td class='num'>{_fmt(rep.get('bottom_s'), 2)}</td>"
                         f"<td class='num'>{_fmt(rep.get('end_s'), 2)}</td>{cells}"
                         f"<td>{_esc(', '.join(faults) or '–')}</td></tr>")
        parts.append("</table>")
    if thumbs:
        parts.append("<h2>Worst frame of each fault</h2><div class='thumbs'>")
        for label, data in thumbs.items():
            parts.append(f"<figure><img alt='{_esc(label)}' src='data:image/jpeg;base64,"
                         f"{data}'><figcaption>{_esc(label)}</figcaption></figure>")
        parts.append("</div>")
    return parts


def _exercise_html(result: Mapping[str, Any]) -> list[str]:
    reps = result.get("reps", {}) or {}
    steps = result.get("steps", {}) or {}
    holds = result.get("holds", []) or []
    parts = ["<h2>Counts</h2><div class='cards'>"]
    if reps.get("total"):
        parts.append(f"<div class='card'><div>Reps</div><div class='score'>"
                     f"{reps.get('total', 0)}</div><div class='muted'>left {reps.get('left', 0)}"
                     f" · right {reps.get('right', 0)}</div></div>")
    if steps.get("left") or steps.get("right"):
        parts.append(f"<div class='card'><div>Side steps</div><div class='score'>"
                     f"{steps.get('left', 0) + steps.get('right', 0)}</div><div class='muted'>"
                     f"toward left {steps.get('left', 0)} · toward right "
                     f"{steps.get('right', 0)}</div></div>")
    if holds:
        good = sum(h.get("duration_s", 0) for h in holds)
        parts.append(f"<div class='card'><div>Holds</div><div class='score'>{len(holds)}"
                     f"</div><div class='muted'>{good:.1f} s in good form</div></div>")
    parts.append("</div>")
    sets = result.get("sets", []) or []
    if sets:
        parts.append("<h2>Sets</h2><table><tr><th>#</th><th>start s</th><th>end s</th>"
                     "<th>summary</th></tr>")
        for i, s in enumerate(sets, 1):
            summary = {k: v for k, v in s.items() if k not in ("start_s", "end_s", "index")}
            parts.append(f"<tr><td>{i}</td><td class='num'>{_fmt(s.get('start_s'), 2)}</td>"
                         f"<td class='num'>{_fmt(s.get('end_s'), 2)}</td>"
                         f"<td>{_esc(json.dumps(summary)[:300])}</td></tr>")
        parts.append("</table>")
    if holds:
        parts.append("<h2>Holds</h2><table><tr><th>side</th><th>start s</th>"
                     "<th>good-form s</th><th>good form</th></tr>")
        for h in holds:
            parts.append(f"<tr><td>{_esc(h.get('side'))}</td><td class='num'>"
                         f"{_fmt(h.get('start_s'), 2)}</td><td class='num'>"
                         f"{_fmt(h.get('duration_s'), 1)}</td><td>{_fmt(h.get('good_form'))}"
                         f"</td></tr>")
        parts.append("</table>")
    cues = result.get("cues", []) or []
    if cues:
        parts.append("<h2>Cues</h2><table><tr><th>t s</th><th>cue</th></tr>")
        parts.extend(f"<tr><td class='num'>{_fmt(c.get('t_s'), 1)}</td><td>"
                     f"{_esc(c.get('text'))}</td></tr>" for c in cues)
        parts.append("</table>")
    return parts


def render_html(result: Mapping[str, Any], meta: Mapping[str, Any], plot_png: str | None,
                thumbs: Mapping[str, str]) -> str:
    """The report page as one HTML string."""
    task = result.get("task", "?")
    title = "Lateral step-down test" if task == "stepdown" else f"Exercise: {task}"
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>itbcoach – {_esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1><p class='sub'>{_esc(meta.get('source', ''))} · "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · itbcoach {__version__}</p>"]
    message = result.get("message")
    if message:
        parts.append(f"<p class='warn'>{_esc(message)}</p>")
    parts.extend(_stepdown_html(result, thumbs) if task == "stepdown"
                 else _exercise_html(result))
    if plot_png:
        parts.append("<h2>Angles over time</h2><p class='muted'>Shaded: counted reps/holds "
                     "(blue left, orange right). Dashed: fault thresholds.</p>"
                     f"<img class='plot' alt='metrics over time' "
                     f"src='data:image/png;base64,{plot_png}'>")
    framing = meta.get("framing") or {}
    parts.append("<h2>Recording quality</h2><table>")
    rows = {
        "frames": meta.get("frames"), "fps": meta.get("fps"),
        "pose detected in": None if meta.get("detection_rate") is None
        else f"{100 * float(meta['detection_rate']):.0f}% of frames",
        "model": f"{meta.get('model_variant', '?')} ({meta.get('model_path', '')})",
        **{f"framing: {k}": v for k, v in framing.items() if not isinstance(v, dict | list)},
    }
    for k, v in rows.items():
        if v is not None:
            parts.append(f"<tr><td>{_esc(k)}</td><td>{_fmt(v, 2)}</td></tr>")
    parts.append("</table>")
    for warning in meta.get("warnings", []) or []:
        parts.append(f"<p class='warn'>{_esc(warning)}</p>")
    parts.append("<p class='muted'>Files: result.json (the full result), metrics.csv (every "
                 "kernel metric per frame). Not a diagnosis: discuss with your "
                 "physiotherapist.</p></body></html>")
    return "\n".join(parts)


def worst_frames(result: Mapping[str, Any]) -> dict[str, int]:
    """``{"<side> leg, rep <n>: <fault>": frame}`` for each fault's worst frame."""
    out: dict[str, int] = {}
    for side in result.get("sides", []) or []:
        for i, rep in enumerate(side.get("reps", []), 1):
            evidence = rep.get("worst_frames") or rep.get("evidence") or {}
            for fault, present in (rep.get("faults") or {}).items():
                frame = evidence.get(fault)
                if present and frame is not None:
                    label = f"{side.get('side')} leg, rep {i}: {CRITERIA_LABELS.get(fault, fault)}"
                    out[label] = int(frame)
    return dict(list(out.items())[:24])


def write_report(out_dir: str | os.PathLike[str], seq: PoseSequence,
                 result: Mapping[str, Any], meta: Mapping[str, Any],
                 video: str | os.PathLike[str] | None = None,
                 thresholds: Mapping[str, float] | None = None,
                 plots: Iterable[tuple[str, str, str]] | None = None) -> Path:
    """Write ``report.html``, ``result.json`` and ``metrics.csv`` into ``out_dir``.

    Args:
        seq: the landmark sequence that was scored.
        result: the result's ``to_json()``.
        meta: how the landmarks were obtained (source, model, fps, framing, warnings).
        video: the source video, for thumbnails of the worst frames (optional).
        thresholds: ``{metric name: threshold}`` drawn as dashed lines.
        plots: ``(metric, label, unit)`` rows to plot; default: the step-down set, or for
            an exercise ``result["plot_metrics"]`` when present.

    Returns:
        The path of ``report.html``. Every file is written atomically.
    """
    out = Path(out_dir)
    metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks) \
        if len(seq) else np.zeros((0, len(METRIC_NAMES)))
    if plots is None:
        if result.get("task") == "stepdown":
            plots = STEPDOWN_PLOTS
        else:
            names = result.get("plot_metrics") or ["knee_flexion_left", "knee_flexion_right",
                                                   "hip_y"]
            plots = [(n, n.replace("_", " "), "") for n in names if n in METRIC_NAMES]
    plot_png = plot_metrics(seq.times_s, metrics, plots, _spans(result), thresholds) \
        if len(seq) and seq.detected.any() else None
    thumbs = thumbnails(video, seq, worst_frames(result)) if video and len(seq) else {}
    page = render_html(result, meta, plot_png, thumbs)
    _atomic_write(out / "metrics.csv", metrics_csv(seq, metrics))
    _atomic_write(out / "result.json", json.dumps(
        {**result, "meta": {k: v for k, v in meta.items() if k != "framing_per_frame"}},
        indent=2, default=_json_default) + "\n")
    _atomic_write(out / "report.html", page)
    return out / "report.html"


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


__all__ = ["Metric", "plot_metrics", "render_html", "thumbnails", "write_report"]
