"""The step-down parts of the report: score card, per-rep charts, rep and side tables.

Every number comes from :mod:`itbcoach.report.measures` (one name, unit and sign per
measure); the charts plot exactly the per-rep values the scorer judged with the
threshold it used, so a point past the dashed line is a flagged rep and only those.
Charts are inline SVG: each point carries ``data-value`` / ``data-flagged`` and each
threshold line ``data-value``, so a test can check the drawn geometry in a browser.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from itbcoach.config.schema import StepdownConfig
from itbcoach.report.measures import (
    MEASURES_BY_CRITERION,
    STEPDOWN_MEASURES,
    LengthScale,
    Measure,
    fmt,
    iter_reps,
    rep_fault,
    rep_number,
    rep_values,
    side_criterion,
    side_name,
    side_reps,
    stepdown_sides,
    threshold,
    unit,
)
from itbcoach.scoring.criteria import BY_ID as CRITERIA
from itbcoach.scoring.criteria import TABLE as CRITERIA_TABLE

if TYPE_CHECKING:
    from itbcoach.scoring.stepdown import SideResult, StepdownRep, StepdownResult

CRITERIA_LABELS = {c.id: c.label for c in CRITERIA_TABLE}
VERDICT_COLORS = {True: "#c62828", False: "#1a7f37", None: "#9e9e9e"}


def _esc(value: Any) -> str:
    return html.escape(str(value))


# --- criterion state and confidence ---------------------------------------------------

@dataclass(frozen=True)
class CriterionLine:
    """One line of the score card.

    Attributes:
        criterion: Piva criterion key.
        state: ``"yes"``, ``"no"`` or ``"not assessable"``.
        reps: reps where it was seen / counted reps.
        confidence: ``"validated"``, ``"measured"``, ``"low confidence"``...
        source: what it was measured from.
        note: a short caveat (may be "").
    """

    criterion: str
    state: str
    reps: str
    confidence: str
    source: str
    note: str = ""


def criterion_lines(result: StepdownResult, side: SideResult) -> list[CriterionLine]:
    """The score card lines of one stance leg, each with its confidence and source."""
    reps = side_reps(side)
    counts = side.counts
    out = []
    for crit in side.criteria:
        conf, note = _confidence(result, side, crit)
        source = _source(reps, crit)
        state = "yes" if side_criterion(side, crit) else "no"
        if not _assessable(reps, crit):
            state, conf, note = "not assessable", "–", "could not be measured in any rep"
        elif crit in side.unknown:
            state, conf = "not assessable", "–"
            note = (f"the hands left the hips in {len(side.hands_off_reps)}/{len(reps)} "
                    f"reps: score {side.score_text}")
        out.append(CriterionLine(crit, state, f"{counts.get(crit, '–')}/{len(reps)}", conf,
                                 source, note))
    return out


def _values(reps: Sequence[StepdownRep], key: str) -> list[float]:
    out = []
    for r in reps:
        v = r.metrics.get(key)
        if v is not None and math.isfinite(v):
            out.append(float(v))
    return out


def _assessable(reps: Sequence[StepdownRep], crit: str) -> bool:
    keys = {"arm_strategy": ("wrist_rise", "arm_abduction_change_deg"),
            "unsteady": ("descent_s",)}.get(crit)
    if keys is None:
        m = MEASURES_BY_CRITERION.get(crit)
        keys = (m.key,) if m else ()
    return not keys or any(_values(reps, k) for k in keys)


def pelvis_cell(rep: StepdownRep) -> str:
    """Where a rep's pelvis was read: ``"hands 0.93"``, ``"hips"``, ``"not assessable"``
    ("–" when not read)."""
    if rep.pelvis_source == "hands" and math.isfinite(rep.pelvis_confidence):
        return f"hands {rep.pelvis_confidence:.2f}"
    return rep.pelvis_source or "–"


def _source(reps: Sequence[StepdownRep], crit: str) -> str:
    if crit == "arm_strategy" and not _values(reps, "wrist_rise"):
        return "elbow away from the trunk (wrists hidden)"
    return CRITERIA[crit].measured_from if crit in CRITERIA else ""


def _confidence(result: StepdownResult, side: SideResult, crit: str) -> tuple[str, str]:
    if crit == "pelvis_not_level" and side.pelvis_label:
        srcs = {r.pelvis_source for r in side_reps(side)}
        return ("measured" if srcs == {"hands"} else "lower",
                f"pelvis from {side.pelvis_label}")
    if crit == "pelvis_not_level":
        note = next((n for n in result.confidence if str(n).startswith("pelvic drop:")), "")
        if note:
            level = "low confidence" if "low confidence" in note else "validated"
            return level, note.split("(", 1)[-1].rstrip(")") if "(" in note else ""
        return "measured", ""
    turned = any(abs(_finite(r.metrics.get("yaw_corrected_deg"))) > 0 or r.notes
                 for r in side_reps(side))
    if turned and crit in ("trunk_lean", "knee_medial_to_second_toe", "knee_medial_to_foot"):
        return "lower", "body turned from the camera in some reps"
    return "measured", ""


def _finite(value: float | None) -> float:
    """``value``, 0.0 when missing or NaN."""
    return float(value) if value is not None and math.isfinite(value) else 0.0


def score_card_html(result: StepdownResult) -> str:
    """The score card: per stance leg the score and one line per criterion carrying its
    state, reps, confidence and source."""
    parts = ['<div class="cards">']
    for side in stepdown_sides(result):
        cat = side.category or "none"
        rows = []
        for line in criterion_lines(result, side):
            cls = {"yes": "yes", "no": "no"}.get(line.state, "na")
            conf_cls = "lowconf" if line.confidence in ("low confidence", "lower") else "conf"
            note = f" title='{_esc(line.note)}'" if line.note else ""
            rows.append(
                f"<tr data-criterion='{line.criterion}' data-state='{_esc(line.state)}'>"
                f"<td>{_esc(CRITERIA_LABELS.get(line.criterion, line.criterion))}</td>"
                f"<td class='{cls}'>{_esc(line.state)}</td><td class='num'>{line.reps}</td>"
                f"<td class='{conf_cls}'{note}>{_esc(line.confidence)}"
                f"<div class='muted'>{_esc(line.source)}"
                f"{'; ' + _esc(line.note) if line.note else ''}</div></td></tr>")
        pain = side.pain
        rows.append("<tr><td>Pain (asked)</td>"
                    f"<td class='{'yes' if pain else 'no'}'>"
                    f"{'not asked' if pain is None else ('yes' if pain else 'no')}</td>"
                    "<td></td><td class='conf'>reported</td></tr>")
        n = len(side_reps(side))
        parts.append(
            f"<div class='card'><div>Stance leg: <b>{_esc(side_name(side))}</b></div>"
            f"<div class='score {_esc(cat)}'>{_esc(side.score_text)} "
            f"<span style='font-size:1.2rem'>{_esc(cat)}</span></div>"
            f"<div class='muted'>Piva score (0-1 good, 2-3 medium, 4+ poor); {n} counted "
            "reps; a criterion counts when seen in at least half of them</div>"
            "<table><tr><th>criterion</th><th>present</th><th>reps</th>"
            "<th>confidence, measured from</th></tr>" + "".join(rows) + "</table></div>")
    parts.append("</div>")
    return "".join(parts)


# --- per-rep charts -------------------------------------------------------------------

@dataclass(frozen=True)
class RepPoint:
    """One plotted rep: its stance leg, number, shown value and the scorer's verdict."""

    side: str
    rep: int
    value: float
    flagged: bool | None  # None: a measure that is reported, not scored


def chart_points(result: StepdownResult, measure: Measure,
                 scale: LengthScale) -> list[RepPoint]:
    """The points of one measure's chart (every counted rep, left leg first)."""
    return [RepPoint(s, rep_number(r), rep_values(r, scale)[measure.key],
                     rep_fault(r, measure.criterion) if measure.criterion else None)
            for s, r in iter_reps(result)]


def rep_chart_svg(measure: Measure, points: Sequence[RepPoint], limit: float,
                  scale: LengthScale, width: int = 520, height: int = 190) -> str:
    """One measure's per-rep chart: a dot per rep, coloured by verdict, with the
    threshold as dashed line(s) (``+-limit`` when two-sided) and zero as a grey line."""
    left, right, top, bottom = 48, 12, 12, 34
    vals = [p.value for p in points if math.isfinite(p.value)]
    lims = [limit, -limit] if measure.two_sided else [limit]
    lims = [v for v in lims if math.isfinite(v)]
    lo = min([0.0, *vals, *lims])
    hi = max([0.0, *vals, *lims])
    pad = 0.15 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad

    def y(v: float) -> float:
        return round(top + (hi - v) / (hi - lo) * (height - top - bottom), 2)

    sides = list(dict.fromkeys(p.side for p in points))
    slots: list[tuple[str, int]] = []
    for s in sides:
        slots += [(s, p.rep) for p in points if p.side == s] + [("", 0)]
    slots = slots[:-1] if slots else slots
    step = (width - left - right) / max(len(slots), 1)

    def x(k: int) -> float:
        return round(left + (k + 0.5) * step, 2)

    u = unit(measure, scale)
    out = [f"<svg class='rep-chart' data-measure='{measure.key}' "
           f"data-criterion='{measure.criterion or ''}' data-two-sided='{int(measure.two_sided)}'"
           f" width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
           "xmlns='http://www.w3.org/2000/svg' font-family='sans-serif' font-size='11'>",
           f"<line x1='{left}' x2='{width - right}' y1='{y(0.0)}' y2='{y(0.0)}' "
           "stroke='#bbb'/>",
           f"<text x='{left - 6}' y='{y(0.0) + 4}' text-anchor='end' fill='#777'>0</text>"]
    for v in lims:
        color = "#c62828" if measure.criterion else "#b8860b"
        out.append(f"<line class='threshold' data-value='{v:.4g}' x1='{left}' "
                   f"x2='{width - right}' y1='{y(v)}' y2='{y(v)}' stroke='{color}' "
                   "stroke-dasharray='6 4' stroke-width='1.5'/>")
        out.append(f"<text x='{left - 6}' y='{y(v) + 4}' text-anchor='end' fill='{color}'>"
                   f"{fmt(measure, v, scale, with_unit=False)}</text>")
    for k, (s, n) in enumerate(slots):
        if not s:
            continue
        p = next(p for p in points if p.side == s and p.rep == n)
        out.append(f"<text x='{x(k)}' y='{height - 18}' text-anchor='middle' "
                   f"fill='#555'>{n}</text>")
        if not math.isfinite(p.value):
            out.append(f"<text x='{x(k)}' y='{y(0.0) - 6}' text-anchor='middle' "
                       "fill='#999'>n/a</text>")
            continue
        color = VERDICT_COLORS[p.flagged] if p.flagged is not None else "#555"
        out.append(f"<circle class='rep' data-side='{s}' data-rep='{n}' "
                   f"data-value='{p.value:.4g}' data-flagged='{_flag(p.flagged)}' "
                   f"cx='{x(k)}' cy='{y(p.value)}' r='6' fill='{color}'/>")
        out.append(f"<text x='{x(k) + 9}' y='{y(p.value) + 4}' fill='{color}'>"
                   f"{fmt(measure, p.value, scale, with_unit=False)}</text>")
    for s in sides:
        ks = [k for k, (ss, _) in enumerate(slots) if ss == s]
        out.append(f"<text x='{(x(ks[0]) + x(ks[-1])) / 2}' y='{height - 4}' "
                   f"text-anchor='middle' fill='#333'>{s} leg, rep</text>")
    out.append(f"<text x='10' y='{(top + height - bottom) / 2}' fill='#333' "
               f"transform='rotate(-90 10 {(top + height - bottom) / 2})' "
               f"text-anchor='middle'>{_esc(u)}</text></svg>")
    return "".join(out)


def _flag(flagged: bool | None) -> str:
    return "na" if flagged is None else str(int(flagged))


def charts_html(result: StepdownResult, cfg: StepdownConfig, scale: LengthScale) -> str:
    """Every measure's chart with its one name, sign convention and threshold in words."""
    parts = ["<div class='charts'>"]
    for m in STEPDOWN_MEASURES:
        points = chart_points(result, m, scale)
        if not points:
            continue
        limit = threshold(m, cfg, scale)
        rule = (f"fault when beyond ±{fmt(m, limit, scale)[1:]}" if m.two_sided else
                f"fault above {fmt(m, limit, scale)}") if m.criterion else \
            f"noted above {fmt(m, limit, scale)}"
        parts.append(f"<figure class='chart'><figcaption><b>{_esc(m.name)}</b> "
                     f"({_esc(unit(m, scale))}): {_esc(m.meaning)}. <span class='rule'>"
                     f"{_esc(rule)}</span></figcaption>"
                     f"{rep_chart_svg(m, points, limit, scale)}</figure>")
    parts.append("</div>")
    return "".join(parts)


# --- tables ---------------------------------------------------------------------------

def rep_table_html(side: SideResult, scale: LengthScale) -> str:
    """The rep table of one stance leg: times, every measure (signed, its unit), faults."""
    head = ["#", "start s", "bottom s", "end s",
            *(f"{m.name} ({unit(m, scale)})" for m in STEPDOWN_MEASURES), "pelvis from",
            "faults"]
    rows = []
    for rep in side_reps(side):
        vals = rep_values(rep, scale)
        faults = [CRITERIA_LABELS.get(k, k) for k, v in rep.faults.items() if v]
        cells = [f"<td>{rep_number(rep)}</td>",
                 *(f"<td class='num'>{_num(v)}</td>"
                   for v in (rep.start_s, rep.bottom_s, rep.end_s))]
        for m in STEPDOWN_MEASURES:
            bad = m.criterion is not None and rep_fault(rep, m.criterion)
            cells.append(f"<td class='num{' yes' if bad else ''}' data-measure='{m.key}'>"
                         f"{fmt(m, vals[m.key], scale, with_unit=False)}</td>")
        cells.append(f"<td data-measure='pelvis_source'>{_esc(pelvis_cell(rep))}</td>")
        cells.append(f"<td>{_esc(', '.join(faults) or '–')}</td>")
        rows.append(f"<tr data-side='{side_name(side)}' data-rep='{rep_number(rep)}'>"
                    + "".join(cells) + "</tr>")
    return ("<table class='reps'><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head)
            + "</tr>" + "".join(rows) + "</table>")


def _num(value: Any, digits: int = 2) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{v:.{digits}f}" if math.isfinite(v) else "–"


def side_medians(side: SideResult, scale: LengthScale) -> dict[str, float]:
    """Median shown value per measure over the leg's counted reps."""
    rows = [rep_values(r, scale) for r in side_reps(side)]
    out = {}
    for m in STEPDOWN_MEASURES:
        v = np.array([r[m.key] for r in rows], float)
        out[m.key] = float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")
    return out


def restate_medians(summary: str, result: StepdownResult, scale: LengthScale) -> str:
    """The scorer's terminal summary with each leg's "median per rep" line restated in
    the report's names, units and signs (cm instead of body scales)."""
    sides = iter(stepdown_sides(result))
    out = []
    for line in summary.split("\n"):
        if line.startswith("    median per rep:"):
            side = next(sides, None)
            if side is not None:
                med = side_medians(side, scale)
                line = "    median per rep: " + ", ".join(
                    f"{m.name} {fmt(m, med[m.key], scale)}" for m in STEPDOWN_MEASURES)
        out.append(line)
    return "\n".join(out)


def compare_text(measure: Measure, left: float, right: float, scale: LengthScale) -> str:
    """Which leg is further toward a fault, in words.

    Two-sided measures (pelvis, trunk) compare sizes (a 5 deg drop and a 6 deg hike are
    1 deg apart in size, not 11); one-sided ones (knee inside, FPPA) compare values.
    """
    if not (math.isfinite(left) and math.isfinite(right)):
        return "–"
    a, b = (abs(left), abs(right)) if measure.two_sided else (left, right)
    d = a - b
    size = fmt(measure, abs(d), scale)[1:]
    if abs(d) < 0.5 * 10 ** -measure.digits:
        return "same"
    word = "larger" if measure.two_sided else "further in"
    if measure.key == "wrist_rise":
        word = "larger"
    return f"{'left' if d > 0 else 'right'} {word} by {size}"


def comparison_html(result: StepdownResult, scale: LengthScale) -> str:
    """Side-to-side table: score and each measure's median rep, with the difference in
    words (sizes for two-sided measures, never a signed value minus a signed value)."""
    sides = {side_name(s): s for s in stepdown_sides(result)}
    names = [n for n in ("left", "right") if n in sides]
    if not names:
        return ""
    both = len(names) == 2
    head = ["", *(f"{n} leg" for n in names)] + (["difference"] if both else [])
    rows = ["<tr><td>score</td>" + "".join(f"<td class='num'>{sides[n].score}</td>"
                                           for n in names)
            + (f"<td>{_score_diff(sides)}</td>" if both else "") + "</tr>"]
    med = {n: side_medians(sides[n], scale) for n in names}
    for m in STEPDOWN_MEASURES:
        cells = "".join(f"<td class='num'>{fmt(m, med[n][m.key], scale)}</td>" for n in names)
        diff = f"<td>{compare_text(m, med['left'][m.key], med['right'][m.key], scale)}</td>" \
            if both else ""
        rows.append(f"<tr data-measure='{m.key}'><td>{_esc(m.name)}, median rep</td>"
                    f"{cells}{diff}</tr>")
    out = ["<h2>Side-to-side comparison</h2><table><tr>"
           + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr>" + "".join(rows)
           + "</table>"]
    for note in (result.comparison or {}).get("notes", []):
        out.append(f"<p class='muted'>{_esc(note)}</p>")
    if not both:
        out.append("<p class='muted'>Only one stance leg was tested: film both legs to "
                   "compare.</p>")
    return "".join(out)


def _score_diff(sides: Mapping[str, SideResult]) -> str:
    a, b = sides["left"].score, sides["right"].score
    if a == b:
        return "same"
    return f"{'left' if a > b else 'right'} worse by {abs(a - b)}"


def definitions_html(cfg: StepdownConfig, scale: LengthScale) -> str:
    """What each number means: name, unit, sign convention, threshold."""
    rows = "".join(
        f"<tr><td>{_esc(m.name)}</td><td>{_esc(unit(m, scale))}</td><td>{_esc(m.meaning)}"
        f"</td><td class='num'>{fmt(m, threshold(m, cfg, scale), scale)}</td></tr>"
        for m in STEPDOWN_MEASURES)
    return ("<table class='defs'><tr><th>measure</th><th>unit</th><th>meaning and sign</th>"
            f"<th>threshold</th></tr>{rows}</table><p class='muted'>{_esc(scale.describe())}"
            "</p>")


def reps_csv(result: StepdownResult, scale: LengthScale) -> str:
    """``reps.csv``: one row per counted rep, every measure in its shown unit and sign
    (the header names the unit), then the scorer's fault flags (0/1)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    crits = list(CRITERIA_LABELS)
    w.writerow(["side", "rep", "start_s", "end_s",
                *(f"{m.name} ({unit(m, scale)})" for m in STEPDOWN_MEASURES), *crits])
    for s, rep in iter_reps(result):
        vals = rep_values(rep, scale)
        w.writerow([s, rep_number(rep), round(rep.start_s, 3), round(rep.end_s, 3),
                    *("" if not math.isfinite(vals[m.key]) else
                      fmt(m, vals[m.key], scale, with_unit=False) for m in STEPDOWN_MEASURES),
                    *(int(rep_fault(rep, c)) for c in crits)])
    return buf.getvalue()


__all__ = ["CRITERIA_LABELS", "CriterionLine", "RepPoint", "chart_points", "charts_html",
           "compare_text", "comparison_html", "criterion_lines", "definitions_html",
           "rep_chart_svg", "rep_table_html", "reps_csv", "restate_medians", "score_card_html",
           "side_medians"]
