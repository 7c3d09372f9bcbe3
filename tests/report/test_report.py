"""Offline outputs: the HTML report, the annotated video, headless Chromium rendering.

Two inputs: a synthetic step-down (landmarks with known faults, drawn as a stick-figure
video so thumbnails and annotation have pictures; no model) and a real clip scored by
the real model (an exercise report and annotated video of real footage).
"""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from itbcoach.config import load_config
from itbcoach.exercises import CameraCheck, Event, EventKind, ExerciseResult, get_exercise
from itbcoach.feedback.overlay import BAD, GOOD, MID_COLOR
from itbcoach.landmarks.types import POSE_CONNECTIONS
from itbcoach.report.annotate import AnnotationPlan, write_annotated
from itbcoach.report.html import write_report
from itbcoach.report.job import ScoreJob, run_job
from itbcoach.report.video import H264Writer

SMALL_CLIP = "squat_sidestep_front_small_01.mp4"  # 5.1 s, 152 frames, 2 squats


class _Page(HTMLParser):
    """Headings, tables (rows of cell texts) and images of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.images: list[dict[str, str]] = []
        self._heading: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("h1", "h2", "h3"):
            self._heading = ""
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append({k: v or "" for k, v in a.items()})

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append(self._heading.strip())
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading += data
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text())
    return page


def decode_data_uri(src: str) -> np.ndarray:
    m = re.fullmatch(r"data:image/(png|jpeg);base64,(.+)", src, flags=re.S)
    assert m, src[:60]
    img = cv2.imdecode(np.frombuffer(base64.b64decode(m.group(2)), np.uint8),
                       cv2.IMREAD_COLOR)
    assert img is not None
    return img


def table_after(page: _Page, header_cell: str) -> list[list[str]]:
    return next(t for t in page.tables if t and header_cell in t[0])


# --- synthetic step-down --------------------------------------------------------------

@pytest.fixture(scope="module")
def stepdown(tmp_path_factory):
    """Synthetic step-down (left leg: pelvic drop + knee medial, right leg clean), its
    stick-figure video, result and config."""
    from itbcoach.scoring.session import score_stepdown
    from itbcoach.synth.stepdown import LegSpec, StepdownSpec, default_camera, render_stepdown

    spec = StepdownSpec(legs=(LegSpec("left", reps=3, pelvic_drop_deg=10.0,
                                      knee_medial_m=0.06), LegSpec("right", reps=3)),
                        lead_s=1.0, rest_s=0.6, step_on_off=False)
    synth, _truth = render_stepdown(spec, default_camera(width=640, height=360))
    seq = synth.pose
    root = tmp_path_factory.mktemp("stepdown")
    video = root / "stepdown.mp4"
    px = seq.pixels()
    with H264Writer(video, spec.fps, seq.image_size) as writer:
        for i in range(len(seq)):
            img = np.full((seq.image_size[1], seq.image_size[0], 3), 70, np.uint8)
            for a, b in POSE_CONNECTIONS:
                if np.isfinite(px[i, [a, b]]).all():
                    cv2.line(img, tuple(px[i, a].astype(int)), tuple(px[i, b].astype(int)),
                             (200, 200, 200), 9)
            writer.write(img)
    config = load_config(use_user_file=False)
    result = score_stepdown(seq, config)
    meta = {"source": str(video), "kind": "video", "model_variant": "synthetic",
            "model_path": "(rendered landmarks)", "fps": spec.fps, "frames": len(seq),
            "image_size": list(seq.image_size), "detection_rate": 1.0,
            "framing": {"ok_share": 1.0, "body_in_frame_share": 1.0,
                        "facing": {"front": 1.0, "back": 0.0}}, "warnings": []}
    return seq, video, result, meta, config, root


def test_stepdown_report_has_score_card_reps_plots_and_thumbnails(stepdown) -> None:
    seq, video, result, meta, config, root = stepdown
    sides = {s.side: s for s in result.sides}
    assert (sides["left"].score, sides["right"].score) == (3, 0)  # pelvis + knee x2
    page_path = write_report(root / "report", seq, result, meta, video=video, config=config)
    page = parse(page_path)
    assert page.headings[0] == "Lateral step-down test"
    for h in ("Score card", "Each rep as the scorer judged it", "Side-to-side comparison",
              "Reps", "Standing on the left leg", "Standing on the right leg",
              "What the numbers mean", "Worst frame of each fault", "Recording quality"):
        assert h in page.headings, h
    text = page_path.read_text()
    assert "3 <span" in text and "medium" in text  # left: 3 medium
    # self-contained: nothing is fetched (no links, scripts or external images)
    assert not re.search(r"(src|href)=['\"](?!data:)", text) and "<script" not in text
    # per-rep tables: 3 counted reps per leg, faults named on the left leg only
    rep_tables = [t for t in page.tables if t and t[0][:2] == ["#", "start s"]]
    assert [len(t) - 1 for t in rep_tables] == [3, 3]
    assert all("Pelvis not level" in row[-1] for row in rep_tables[0][1:])
    assert all(row[-1] == "–" for row in rep_tables[1][1:])
    # comparison: score row left 3, right 0, said in words
    comp = table_after(page, "difference")
    assert comp[1] == ["score", "3", "0", "left worse by 3"]
    # the pelvis from the hands on the hips of the stick body: 9.6 deg for a 10 deg drop
    drop = sides["left"].peaks["pelvic_drop_deg"]
    assert drop == pytest.approx(10.0, abs=0.5)
    assert comp[2] == ["pelvic drop, median rep", f"{drop:+.1f} deg", "+0.0 deg",
                       f"left larger by {drop:.1f} deg"]
    # one per-rep chart per measure (inline SVG), one thumbnail per (rep, fault)
    assert text.count("<svg class='rep-chart'") == 6
    assert len(re.findall(r"<circle class='rep' data-side='left'", text)) == 6 * 3
    thumbs = [i for i in page.images if i["alt"].startswith("left leg, rep")]
    assert len(thumbs) == 3 * 3 and not any(i["alt"] == "metrics over time"
                                            for i in page.images)
    thumb = decode_data_uri(thumbs[0]["src"])
    assert thumb.shape[1] == 220
    # the thumbnail shows the red guide line of its fault (BGR)
    red = (np.abs(thumb.astype(int) - BAD).sum(axis=2) < 90).sum()
    assert red > 30
    # result.json and metrics.csv beside it
    data = json.loads((root / "report" / "result.json").read_text())
    assert data["sides"][0]["score"] == 3 and data["meta"]["frames"] == len(seq)
    rows = list(csv.reader((root / "report" / "metrics.csv").open()))
    assert len(rows) == len(seq) + 1 and rows[0][:4] == ["frame", "t_s", "detected",
                                                         "pelvic_obliquity"]
    reps = list(csv.DictReader((root / "report" / "reps.csv").open()))
    assert [(r["side"], r["rep"], r["pelvic drop (deg)"], r["pelvis_not_level"])
            for r in reps[:2]] == [("left", "1", f"{drop:+.1f}", "1"),
                                   ("left", "2", f"{drop:+.1f}", "1")]
    assert data["measures"]["definitions"]["pelvic_drop_deg"]["meaning"].endswith(
        "negative = it rose (a hike)")


def test_stepdown_annotation_plan_and_video(stepdown) -> None:
    seq, video, result, _meta, config, root = stepdown
    plan = AnnotationPlan(seq, result, config)
    left = result.sides[0]
    rep = left.reps[1]
    worst = rep.worst_frame["pelvis_not_level"]
    state = plan.state(worst)
    assert state.counter == "1/5" and state.counter_label == "reps, left leg"
    assert state.progress == "standing on the left leg - rep 2"
    drop = rep.metrics["pelvic_drop_deg"]  # from the hands on the hips: 10 deg
    assert rep.pelvis_source == "hands" and drop == pytest.approx(10.0, abs=0.5)
    assert f"Pelvis not level: pelvic drop {drop:+.1f} deg" in state.faults
    assert any(f.startswith("Knee inside foot +") for f in state.faults)
    # thick guides in the rep's verdict colours: pelvis red (flagged), trunk green
    pelvic_line, trunk_line, knee_line = state.guides
    assert (pelvic_line.color, trunk_line.color, knee_line.color) == (BAD, GOOD, BAD)
    assert pelvic_line.thickness >= 5 and not knee_line.dashed
    # the counter counts a rep when it ends: 1/5 at rep 2's bottom, 2/5 at its end
    assert plan.state(rep.bottom_frame).counter == "1/5"
    assert plan.state(rep.end_frame).counter == "2/5"
    # the values shown are the rep's as scored, with the report's names and signs
    rows = dict(plan.state(rep.end_frame).metrics)
    assert rows["rep 2, left leg"] == "as scored" and rows["pelvic drop"] == f"{drop:+.1f} deg"
    assert rows["pelvis read from"] == f"hands {rep.pelvis_confidence:.2f}"
    # before any rep: no flags, guides neutral; after the last rep: 3 done
    assert plan.state(0).faults == () and plan.state(0).guides[0].color == MID_COLOR
    last = result.sides[1].reps[-1]
    end = last.end_frame + 2
    assert plan.state(end).counter == "3/5" and plan.state(end).counter_label.endswith(
        "right leg")
    assert plan.state(end).cue == "Rep 3: good control"
    out = write_annotated(video, root / "annotated.mp4", plan)
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (s.codec_context.width, s.codec_context.height) == tuple(seq.image_size)
        assert float(s.average_rate) == pytest.approx(30.0)
        frames = [f for i, f in enumerate(c.decode(s))]
    assert len(frames) == len(seq) + 60  # + the closing card, 2 s at 30 fps
    img = frames[worst].to_ndarray(format="bgr24")
    red = (np.abs(img.astype(int) - BAD).sum(axis=2) < 90).sum()
    assert red > 200  # the red pelvic line and the fault flags
    # the closing card: the left leg's flagged criteria in red, the right leg's in green
    card = frames[-1].to_ndarray(format="bgr24")
    assert (np.abs(card.astype(int) - BAD).sum(axis=2) < 90).sum() > 200
    assert (np.abs(card.astype(int) - GOOD).sum(axis=2) < 90).sum() > 200
    assert np.array_equal(frames[-1].to_ndarray(format="bgr24").shape, img.shape)


def test_report_renders_in_headless_chromium(stepdown, tmp_path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    seq, video, result, meta, config, _root = stepdown
    page = write_report(tmp_path / "report", seq, result, meta, video=video, config=config)
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    img = cv2.imread(str(shot))
    assert img is not None and img.shape == (2000, 1200, 3)
    ink = (img.min(axis=2) < 200).mean()  # share of non-white pixels
    assert 0.03 < ink < 0.6
    # the score colour of the "medium" card (#b8860b) is on the page
    medium = (np.abs(img.astype(int) - (0x0B, 0x86, 0xB8)).sum(axis=2) < 40).sum()
    assert medium > 100


# --- real footage, real model ---------------------------------------------------------

@pytest.fixture(scope="module")
def squat_job(shared_videos, model_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("squat")
    job = ScoreJob(str(shared_videos / SMALL_CLIP), "squat", report_dir=str(out / "report"),
                   annotate=str(out / "annotated.mp4"), model=str(model_path))
    return run_job(job, load_config(use_user_file=False)), out


def test_exercise_report_of_real_clip(squat_job) -> None:
    outcome, out = squat_job
    assert outcome.ok and outcome.result.reps["total"] == 2
    page = parse(out / "report" / "report.html")
    assert page.headings[0] == "Exercise: Squat"
    reps = table_after(page, "failed checks")
    assert len(reps) == 1 + 2
    starts = [float(r[2]) for r in reps[1:]]
    assert starts == sorted(starts) and 0.0 < starts[0] < starts[1] < 5.1
    quality = {r[0]: r[1] for t in page.tables for r in t if len(r) == 2}
    assert quality["frames"] == "152" and quality["image size"] == "960x540"
    assert quality["pose model"].startswith("full (")
    (plot,) = [i for i in page.images if i["alt"] == "metrics over time"]
    assert decode_data_uri(plot["src"]).shape[1] > 700
    rows = list(csv.reader((out / "report" / "metrics.csv").open()))
    assert len(rows) == 153


def test_annotated_real_clip_keeps_frames_fps_and_size(squat_job, shared_videos) -> None:
    outcome, out = squat_job
    with av.open(str(out / "annotated.mp4")) as c:
        s = c.streams.video[0]
        assert (s.codec_context.width, s.codec_context.height) == (960, 540)
        assert float(s.average_rate) == pytest.approx(29.84, abs=0.05)
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(s)]
    assert len(frames) == 152
    cap = cv2.VideoCapture(str(shared_videos / SMALL_CLIP))
    for _ in range(100):
        _ok, original = cap.read()
    cap.release()
    diff = np.abs(frames[99].astype(int) - original.astype(int)).max(axis=2)
    # the overlay changed the picture (skeleton, counter, title) but not most of it
    assert 0.01 < (diff > 60).mean() < 0.3
    # the top-right counter panel (dark box, white digits) is there
    corner = frames[99][:90, -140:]
    assert (corner.max(axis=2) > 240).sum() > 200 and (corner.max(axis=2) < 60).sum() > 500
    assert outcome.timings["annotate"] > 0 and "report" in outcome.timings


def test_exercise_annotation_plan_counts_holds_cues_and_sets() -> None:
    """A hold exercise's timeline, frame by frame (no video, no model)."""
    from itbcoach.landmarks import PoseSequence

    n = 30 * 100  # 100 s at 30 fps, no person (the plan only needs the clock)
    seq = PoseSequence(np.full((n, 33, 3), np.nan), np.full((n, 33), np.nan),
                       np.full((n, 33), np.nan), (np.arange(n) * 1000 / 30).round(),
                       (640, 480))
    config = load_config(use_user_file=False, overrides={
        "exercises.glute-iso.prescription.sets": 3,
        "exercises.glute-iso.prescription.hold_s": [30.0, 45.0]})
    exercise = get_exercise(config, "glute-iso")
    hold = Event(EventKind.HOLD, 42.0, None, "hold", {"start_s": 10.0, "end_s": 42.0,
                                                      "duration_s": 31.0, "good_form": True})
    events = [Event(EventKind.CUE, 20.0, None, "cues", {"text": "Push your knees out",
                                                         "rule": "knees"}),
              hold, Event(EventKind.SET_COMPLETE, 50.0, None, "session")]
    result = ExerciseResult("glute-iso", exercise, [], events,
                            CameraCheck("frontal", True, 1.0, ""), n, 0, 100.0)
    plan = AnnotationPlan(seq, result, config)
    at = {t: plan.state(round(t * 30)) for t in (5.0, 21.0, 25.0, 45.0, 60.0)}
    assert at[5.0].counter == "0" and at[5.0].counter_label == "holds"
    assert at[5.0].hold_fraction is None and at[5.0].progress == "set 1 of 3"
    assert at[25.0].hold_fraction == pytest.approx(0.5, abs=0.01)
    assert at[25.0].hold_text == "15 s"
    assert at[21.0].cue == "Push your knees out" and at[21.0].cue_level == "warn"
    assert at[25.0].cue is None  # shown for max(report.rep_cue_s, exercise_cues.min_show_s)
    assert at[45.0].counter == "1" and at[45.0].cue is None
    assert at[60.0].progress == "set 2 of 3" and at[60.0].counter == "0"
    assert at[5.0].framing == "No person detected" and at[5.0].landmarks_px is None


@pytest.fixture(scope="module")
def render_job(model_path, tmp_path_factory):
    """The step-down render sample_videos/stepdown_left_faulty.mp4 (3 reps, left leg, arms
    out, knee medial, wobble) through the real model, with report and annotated video."""
    video = Path(__file__).resolve().parents[2] / "sample_videos" / "stepdown_left_faulty.mp4"
    if not video.is_file():
        pytest.skip(f"render not found: {video} (itbcoach synth set)")
    out = tmp_path_factory.mktemp("render")
    job = ScoreJob(str(video), "stepdown", report_dir=str(out / "report"),
                   annotate=str(out / "annotated.mp4"), model=str(model_path))
    truth = json.loads(video.with_suffix(".json").read_text())
    return run_job(job, load_config(use_user_file=False)), out, truth


def test_report_of_a_stepdown_render(render_job) -> None:
    outcome, out, truth = render_job
    assert outcome.ok
    (side,) = outcome.result.to_json()["sides"]
    assert side["side"] == "left"
    page = parse(out / "report" / "report.html")
    assert page.headings[:2] == ["Lateral step-down test", "Score card"]
    text = (out / "report" / "report.html").read_text()
    # the hands leave the hips (arm strategy): the pelvis is not assessable, the score
    # a range such as "1-2" with its category "good-medium"
    assert f"<div class='score {side['category']}'>{side['score_text']} " in text
    (reps,) = [t for t in page.tables if t and t[0][:2] == ["#", "start s"]]
    assert len(reps) - 1 == len(side["reps"]) == truth["expected"]["left"]["count"] == 3
    for row, rep in zip(reps[1:], side["reps"], strict=True):
        assert float(row[1]) == pytest.approx(rep["start_s"], abs=0.006)
        drop = rep["metrics"]["pelvic_drop_deg"]
        assert row[4] == "–" if drop is None else float(row[4]) == pytest.approx(drop, abs=0.06)
        assert row[-2] == (rep["pelvis"]["source"] if rep["pelvis"]["source"] != "hands"
                           else f"hands {rep['pelvis']['confidence']:.2f}")  # pelvis from
    assert text.count("<svg class='rep-chart'") == 6
    faults = sum(1 for r in side["reps"] for k, v in r["faults"].items()
                 if v and r["worst_frame"].get(k, -1) >= 0)
    thumbs = [decode_data_uri(i["src"]) for i in page.images if i["alt"].startswith("left leg")]
    assert len(thumbs) == faults and all(t.shape[1] == 220 for t in thumbs)
    quality = {r[0]: r[1] for t in page.tables for r in t if len(r) == 2}
    assert quality["frames"] == "414" and quality["image size"] == "640x480"
    with av.open(str(out / "annotated.mp4")) as c:
        s = c.streams.video[0]
        assert (s.codec_context.width, s.codec_context.height) == (640, 480)
        assert sum(1 for _ in c.decode(s)) == 414 + round(2 * float(s.average_rate))


def test_stepdown_lengths_follow_the_persons_height(stepdown, tmp_path) -> None:
    """With [report] height_cm the knee and hand lengths are in cm from the height
    (torso = 0.288 x height) and the page says so."""
    seq, _video, result, meta, _config, _root = stepdown
    config = load_config(None, {"report.height_cm": 175.0}, use_user_file=False)
    page = write_report(tmp_path / "r", seq, result, meta, config=config)
    data = json.loads((tmp_path / "r" / "result.json").read_text())
    scale = data["measures"]["length_scale"]
    assert (scale["source"], scale["unit"], scale["cm_per_body_scale"]) == ("height", "cm",
                                                                            50.4)
    rep = result.sides[0].reps[0].metrics
    assert data["measures"]["reps"][0]["knee_offset_second_toe"] == round(
        rep["knee_offset_second_toe"] * 50.4, 1)
    assert "from the person&#x27;s height (175 cm" in page.read_text()
