"""Acceptance: what the physio sees agrees with what the scorer judged, on every
step-down sample.

Each ``sample_videos/stepdown_*.mp4`` runs through the real model and scorer, its report
is rendered by headless Chromium (``--dump-dom``: the page as the browser built it), and
from that DOM:

* every rep's plotted point is past the plotted threshold line (pixel geometry of the
  inline SVG) exactly when the scorer flagged the rep for that criterion;
* each rep's value reads the same (sign and digits) in result.json's ``measures``, in
  reps.csv, in the report's rep table and in the annotated video's text (the overlay
  state at the rep's end and the fault flag at its worst frame), and has the sign of the
  scorer's own number.

About 3-4 minutes on two shared cores (the model runs over five clips, ~2,300 frames).
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from itbcoach.config import load_config
from itbcoach.report import measures as ms
from itbcoach.report.annotate import AnnotationPlan
from itbcoach.report.html import write_report
from itbcoach.scoring import load_input
from itbcoach.tasks import score_task

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"
STEPDOWN_SAMPLES = ("stepdown_both_legs", "stepdown_left_clean", "stepdown_left_faulty",
                    "stepdown_right_clean", "stepdown_right_faulty")


def chromium_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after headless Chromium has loaded and laid it out."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<svg" in proc.stdout
    return proc.stdout


class _Dom(HTMLParser):
    """Per-rep charts (threshold y's, points) and rep-table cells of the report DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict] = {}
        self.cells: dict[tuple[str, int, str], str] = {}
        self._chart: dict | None = None
        self._row: tuple[str, int] | None = None
        self._cell: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "rep-chart" in (a.get("class") or ""):
            self._chart = {"criterion": a["data-criterion"],
                           "two_sided": a["data-two-sided"] == "1", "thresholds": [],
                           "points": []}
            self.charts[a["data-measure"]] = self._chart
        elif tag == "line" and self._chart is not None and a.get("class") == "threshold":
            self._chart["thresholds"].append((float(a["data-value"]), float(a["y1"])))
        elif tag == "circle" and self._chart is not None and a.get("class") == "rep":
            self._chart["points"].append((a["data-side"], int(a["data-rep"]),
                                          float(a["cy"]), a["data-flagged"]))
        elif tag == "tr" and "data-rep" in a and "data-side" in a:
            self._row = (a["data-side"], int(a["data-rep"]))
        elif tag == "td" and self._row is not None and "data-measure" in a:
            self._cell, self._text = a["data-measure"], ""

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None
        elif tag == "td" and self._cell is not None and self._row is not None:
            self.cells[(*self._row, self._cell)] = self._text.strip()
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._text += data


@pytest.fixture(scope="module")
def scored(model_path, tmp_path_factory):
    """``name -> (result, report dir, annotation plan, DOM)`` for every step-down sample,
    built the way ``itbcoach score --report`` builds them (report/job.py)."""
    config = load_config(use_user_file=False)
    out = {}
    for name in STEPDOWN_SAMPLES:
        video = SAMPLES / f"{name}.mp4"
        if not video.is_file():
            pytest.skip(f"sample not found: {video}")
        seq, meta = load_input(video, config, model=str(model_path), progress=False)
        data = score_task(seq, "stepdown", config, pain=False, meta=meta)
        scale = ms.length_scale(seq.world_landmarks, config.report.height_cm)
        root = tmp_path_factory.mktemp(name)
        page = write_report(root, seq, data, meta, config=config, scale=scale)
        plan = AnnotationPlan(seq, data, config, scale=scale)
        out[name] = (data, root, plan, chromium_dom(page, root / "profile"), scale)
    return out


def _measured(rep, key: str) -> bool:
    """Whether the rep has a finite value of metric ``key``."""
    value = rep.metrics.get(key)
    return value is not None and math.isfinite(value)


@pytest.mark.parametrize("name", STEPDOWN_SAMPLES)
def test_plotted_reps_cross_the_threshold_exactly_when_flagged(scored, name) -> None:
    data, _root, _plan, dom_text, _scale = scored[name]
    dom = _Dom()
    dom.feed(dom_text)
    reps = {(s, ms.rep_number(r)): r for s, r in ms.iter_reps(data)}
    assert reps, f"{name}: no counted rep"
    checked = 0
    for measure in ms.STEPDOWN_MEASURES:
        chart = dom.charts[measure.key]
        assert chart["criterion"] == (measure.criterion or "")
        if not measure.criterion:
            continue
        ys = sorted(y for _, y in chart["thresholds"])
        assert len(ys) == (2 if measure.two_sided else 1)
        plotted = {(s, n): (cy, flag) for s, n, cy, flag in chart["points"]}
        for key, rep in reps.items():
            flagged = ms.rep_fault(rep, measure.criterion)
            if key not in plotted:  # not measured in this rep: shown as n/a
                assert not _measured(rep, measure.key), (name, measure.key, key)
                continue
            cy, flag = plotted[key]
            # y grows downwards: past the upper line (above it) or the lower one (below)
            past = cy < ys[0] or cy > ys[1] if measure.two_sided else cy < ys[0]
            assert past == flagged, (name, measure.key, key, cy, ys, flagged)
            assert flag == str(int(flagged))
            checked += 1
    assert checked >= 4 * len(reps)  # pelvis, trunk, both knee criteria on every rep


@pytest.mark.parametrize("name", STEPDOWN_SAMPLES)
def test_each_value_reads_the_same_in_json_csv_table_and_video(scored, name) -> None:
    data, root, plan, dom_text, scale = scored[name]
    dom = _Dom()
    dom.feed(dom_text)
    saved = json.loads((root / "result.json").read_text())["measures"]
    assert saved["length_scale"]["source"] == scale.source == "world"
    json_rows = {(r["side"], r["rep"]): r for r in saved["reps"]}
    csv_rows = {(r["side"], int(r["rep"])): r
                for r in csv.DictReader((root / "reps.csv").open())}
    shown = ("pelvic_drop_deg", "trunk_lean_deg", "knee_offset_second_toe", "fppa_deg")
    for side, rep in ms.iter_reps(data):
        n = ms.rep_number(rep)
        overlay = dict(plan.rep_rows(rep))
        end_state = dict(plan.state(rep.end_frame).metrics)
        for m in ms.STEPDOWN_MEASURES:
            if not _measured(rep, m.key):
                continue
            raw = rep.metrics[m.key]
            value = ms.display(m, raw, scale)
            text = ms.fmt(m, value, scale, with_unit=False)
            assert (value > 0) == (raw > 0), (name, m.key)  # same sign as the scorer's
            assert f"{json_rows[(side, n)][m.key]:+.{m.digits}f}" == text
            assert csv_rows[(side, n)][f"{m.name} ({ms.unit(m, scale)})"] == text
            assert dom.cells[(side, n, m.key)] == text
            if m.key in shown:
                assert overlay[m.name] == f"{text} {ms.unit(m, scale)}"
                assert end_state[m.name] == overlay[m.name], (name, side, n, m.key)
        for crit, frame in rep.worst_frame.items():
            m = ms.MEASURES_BY_CRITERION.get(crit)
            if not ms.rep_fault(rep, crit) or m is None or frame < 0 or \
                    not _measured(rep, m.key):
                continue
            faults = plan.state(int(frame)).faults
            expected = ms.fmt(m, ms.display(m, rep.metrics[m.key], scale), scale)
            assert any(f.lower().endswith(f"{m.name} {expected}") for f in faults), (
                faults, expected)
