"""Reports of live sessions: the offline HTML report, written after every live session.

``itbcoach live`` collects the landmarks of every analysed frame; when the session ends
they go through the same :func:`~itbcoach.report.html.write_report` as ``itbcoach score
--report`` into ``reports/<session id>-<task>/`` beside the history database. A
programme writes one report per exercise (its frames, from its first to its last) and an
``index.html`` summary linking them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from itbcoach.config import Config
from itbcoach.landmarks import PoseSequence
from itbcoach.report.html import atomic_write, write_report

if TYPE_CHECKING:
    from itbcoach.exercises import ExerciseResult, ProgramResult
    from itbcoach.report.measures import LengthScale
    from itbcoach.scoring.stepdown import StepdownResult


def live_report_dir(history_path: Path, session_id: int, task: str) -> Path:
    """``reports/<id>-<task>`` beside the history database."""
    return Path(history_path).parent / "reports" / f"{session_id:04d}-{task}"


def join_frames(frames: Sequence[PoseSequence], image_size: tuple[int, int]) -> PoseSequence:
    """One sequence from the one-frame sequences of a live run (a repeated or older
    timestamp is dropped: sequences are strictly increasing)."""
    keep, last = [], None
    for f in frames:
        t = int(f.timestamps_ms[0])
        if last is None or t > last:
            keep.append(f)
            last = t
    if not keep:
        return PoseSequence.empty(image_size)
    worlds = [f.world_landmarks for f in keep]
    world = None if any(w is None for w in worlds) else np.concatenate(worlds)  # type: ignore[arg-type]
    return PoseSequence(np.concatenate([f.landmarks for f in keep]),
                        np.concatenate([f.visibility for f in keep]),
                        np.concatenate([f.presence for f in keep]),
                        np.concatenate([f.timestamps_ms for f in keep]), image_size, world)


def live_meta(seq: PoseSequence, source: str, config: Config,
              model_path: str | None) -> dict[str, Any]:
    """The report's recording-quality facts for a live session."""
    dt = np.diff(seq.times_s)
    return {"source": source, "frames": len(seq), "image_size": list(seq.image_size),
            "fps": float(1.0 / np.median(dt)) if dt.size else None,
            "detection_rate": seq.detection_rate, "model_variant": config.pose.model_variant,
            "model_path": model_path or "", "live": True}


def write_live_report(out_dir: Path, seq: PoseSequence,
                      result: StepdownResult | ExerciseResult | ProgramResult,
                      config: Config, meta: Mapping[str, Any],
                      spans: Sequence[tuple[float, float]] = (),
                      video: Path | None = None, scale: LengthScale | None = None) -> Path:
    """Write the report(s) of one live session; returns the page to open.

    Args:
        seq: every analysed frame of the session (raw landmarks; smoothed here for the
            pictures, as ``score`` does).
        result: the coach's typed result (a programme: one result per exercise).
        spans: a programme's ``(start s, end s)`` per exercise, in the source's clock.
        video: the source video when its frame numbers are the sequence's indices (a
            file read frame by frame), for thumbnails of the worst frames.
        scale: how the step-down's lengths are shown (default: from the landmarks).
    """
    from itbcoach.exercises import ProgramResult
    from itbcoach.pose import postprocess

    if len(seq):
        seq = postprocess(seq, config, mask=False)
    if not isinstance(result, ProgramResult):
        return write_report(out_dir, seq, result, meta, video=video, config=config,
                            scale=scale)
    rows = []
    times = seq.times_s
    for i, (ex, (t0, t1)) in enumerate(zip(result.exercises, spans, strict=False)):
        idx = np.flatnonzero((times >= t0 - 1e-6) & (times <= t1 + 1e-6))
        part = seq.slice(int(idx[0]), int(idx[-1]) + 1) if idx.size else \
            PoseSequence.empty(seq.image_size)
        name = f"{i + 1}-{ex.task}"
        write_report(out_dir / name, part, ex, {**meta, "frames": len(part),
                                                "detection_rate": part.detection_rate},
                     config=config)
        rows.append((name, ex))
    return _write_index(out_dir, rows, meta)


def _write_index(out_dir: Path, rows: list[tuple[str, ExerciseResult]],
                 meta: Mapping[str, Any]) -> Path:
    """The programme's summary page: one line per exercise with a link to its report."""
    from itbcoach.report.history import exercise_summary
    from itbcoach.report.job import history_summary

    items = "".join(
        f"<li><a href='{html.escape(name)}/report.html'>"
        f"{html.escape(ex.exercise.name or ex.task)}</a>: "
        f"{html.escape(exercise_summary(history_summary(ex)))}</li>" for name, ex in rows)
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>itbcoach – "
            "programme</title></head><body style='font-family:sans-serif;max-width:50rem;"
            "margin:2rem auto'><h1>Exercise programme</h1>"
            f"<p>{html.escape(Path(str(meta.get('source', ''))).name)} · {len(rows)} "
            f"exercise(s)</p><ol>{items or '<li>no exercise was started</li>'}</ol>"
            "</body></html>")
    out = Path(out_dir) / "index.html"
    atomic_write(out, page)
    return out
