"""One offline scoring job: an input file -> result, report folder, annotated video.

:func:`run_job` is what ``itbcoach score`` does for one input, as a library function that
a process pool, a Ray task or a test can call: it loads the landmarks (running the pose
model on a video, with its own landmarker), scores the task, then writes the outputs
asked for, each atomically. :func:`record_result` stores a finished result in the
history database. Everything a job needs travels in a picklable :class:`ScoreJob`
(the configuration as its file and overrides, reloaded in the worker).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from itbcoach.config import Config
from itbcoach.errors import ExitCode, InputError
from itbcoach.tasks import load_config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreJob:
    """Everything one job needs (picklable).

    Attributes:
        input: a video file or a landmark ``.npz``.
        task: ``"stepdown"`` or an exercise id.
        report_dir: write ``report.html``, ``result.json``, ``metrics.csv`` here (None:
            no report).
        annotate: write the annotated H.264 mp4 here (None: none; needs a video input).
        json_path: write the result JSON here (None: none).
        side: step-down stance leg (``auto``/``left``/``right``).
        pain: step-down pain answer (None = not asked).
        model: explicit ``.task`` model bundle.
        config_path: user config file (None = shipped defaults).
        overrides: ``--set`` overrides as ``(key, value)`` pairs.
        progress: show the per-frame progress bar.
        allow_multiple: accept a video with several people in view (see
            :func:`itbcoach.pose.extract_landmarks`); otherwise it is refused.
    """

    input: str
    task: str
    report_dir: str | None = None
    annotate: str | None = None
    json_path: str | None = None
    side: str = "auto"
    pain: bool | None = None
    model: str | None = None
    config_path: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    progress: bool = False
    allow_multiple: bool = False


@dataclass
class JobOutcome:
    """What a job produced.

    Attributes:
        input: the job's input.
        exit_code: 0 measured, 4 nothing measurable (see :class:`~itbcoach.errors.ExitCode`),
            or the code of the error that stopped it.
        error: one line saying why the job failed (None when it ran to the end).
        result: the result's JSON (None when it failed before scoring).
        summary: the human-readable result.
        outputs: files written.
        output_error: one line saying which output could not be written (None: all
            were); the result is complete either way (exit code 3).
        timings: wall seconds per stage (``landmarks``, ``score``, ``annotate``,
            ``report``, ``total``) and this process's CPU seconds (``<stage>_cpu``; the
            stages run one after another, so these are per stage).
    """

    input: str
    exit_code: int = ExitCode.OK
    error: str | None = None
    result: dict[str, Any] | None = None
    summary: str = ""
    outputs: list[str] = field(default_factory=list)
    output_error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Something was measured and every output was written."""
        return self.exit_code == ExitCode.OK


@lru_cache(maxsize=4)
def _config(path: str | None, overrides_json: str) -> Config:
    return load_config(path, dict(json.loads(overrides_json)))


def job_config(job: ScoreJob) -> Config:
    """The job's configuration (loaded once per process)."""
    return _config(job.config_path, json.dumps([list(kv) for kv in job.overrides]))


def run_job(job: ScoreJob, config: Config | None = None) -> JobOutcome:
    """Score one input and write its outputs.

    Args:
        job: what to do.
        config: the configuration (default: loaded from the job's file and overrides).

    Returns:
        The outcome; ``exit_code`` 4 when nothing could be measured (the report is still
        written, saying why).

    Raises:
        UserError: unreadable input, bad config, model problems (one-line message).
    """
    from itbcoach.pose import postprocess
    from itbcoach.scoring import VIDEO_SUFFIXES, load_input
    from itbcoach.tasks import score_task

    config = config or job_config(job)
    path = Path(job.input)
    is_video = path.suffix.lower() in VIDEO_SUFFIXES
    if job.annotate and not is_video:
        raise InputError(f"--annotate needs a video input, not {path.name}")
    times: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    clock = _StageClock(times)
    # the task's session masks and filters the model's raw frames as live does (one
    # path: same answer; the framing gate sees an occluded foot where live sees it)
    with clock("landmarks"):
        seq, meta = load_input(path, config, model=job.model, progress=job.progress,
                               allow_multiple=job.allow_multiple, smooth=False, mask=False)
    with clock("score"):
        result = score_task(seq, job.task, config, side=job.side, pain=job.pain, meta=meta)
        data = result.to_json()
        scale = None
        if job.task == "stepdown":
            from itbcoach.report.measures import length_scale, measures_json

            masked = postprocess(seq, config, smooth=False) if not meta.get("masked") \
                else seq
            scale = length_scale(masked.world_landmarks, config.report.height_cm)
            data["measures"] = measures_json(data, config.stepdown, scale)
    summary = result.summary()
    if scale is not None:
        from itbcoach.report.stepdown_view import restate_medians

        summary = restate_medians(summary, data, scale)
    if not (meta.get("smoothed") and meta.get("masked")):  # the pictures draw smoothed,
        seq = postprocess(seq, config, mask=not meta.get("masked"),  # masked landmarks
                          smooth=not meta.get("smoothed"))
    measured = result.ok and not getattr(result, "view_refused", False)
    outcome = JobOutcome(str(job.input), ExitCode.OK if measured else ExitCode.NO_RESULT,
                         None, data, summary)
    metrics = None
    shown = scale  # exercises: side-step widths in cm (person's height, else 3D pose)
    if shown is None and (job.annotate or job.report_dir):
        from itbcoach.report.measures import length_scale

        shown = length_scale(seq.world_landmarks, config.report.height_cm)
    if job.annotate or job.report_dir:
        from itbcoach.kernel import compute_metrics

        metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks)
    errors: list[str] = []
    if job.annotate:
        from itbcoach.report.annotate import AnnotationPlan, write_annotated

        with clock("annotate"), _output(errors, outcome, job.annotate):
            plan = AnnotationPlan(seq, data, config, metrics, shown)
            write_annotated(path, job.annotate, plan, crf=config.report.video_crf,
                            preset=config.report.video_preset)
    if job.report_dir:
        from itbcoach.report.html import write_report

        names = ("report.html", "result.json", "metrics.csv") + (
            ("reps.csv",) if scale is not None else ())
        with clock("report"), _output(errors, outcome, *(str(Path(job.report_dir) / n)
                                                          for n in names)):
            write_report(job.report_dir, seq, data, meta,
                         video=path if is_video else None, config=config, metrics=metrics,
                         scale=shown)
    if job.json_path:
        from itbcoach.output import write_output

        with _output(errors, outcome, job.json_path):
            write_output(job.json_path, json.dumps(data, indent=2, default=_json_default)
                         + "\n", stdout_ok=True)
    if errors:
        more = f" (and {len(errors) - 1} more output(s) not written)" if len(errors) > 1 \
            else ""
        outcome.output_error = errors[0] + more
        outcome.exit_code = ExitCode.INPUT
    times["total"] = time.perf_counter() - t0
    times["total_cpu"] = time.process_time() - c0
    outcome.timings = times
    return outcome


class _output:
    """``with _output(errors, outcome, *paths):`` lists ``paths`` as written on success;
    an :class:`~itbcoach.output.OutputError` is noted in ``errors`` and swallowed, so
    the other outputs are still written and the result still reaches the caller."""

    def __init__(self, errors: list[str], outcome: JobOutcome, *paths: str) -> None:
        self.errors, self.outcome, self.paths = errors, outcome, paths

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        from itbcoach.output import OutputError

        if exc_type is None:
            self.outcome.outputs.extend(self.paths)
            return False
        if isinstance(exc, OutputError):
            self.errors.append(str(exc))
            return True
        return False


class _StageClock:
    """``with clock("stage"):`` adds the stage's wall and CPU seconds to ``times``."""

    def __init__(self, times: dict[str, float]) -> None:
        self.times = times
        self._stage = ""

    def __call__(self, stage: str) -> _StageClock:
        self._stage = stage
        return self

    def __enter__(self) -> None:
        self._t, self._c = time.perf_counter(), time.process_time()

    def __exit__(self, *exc: object) -> None:
        self.times[self._stage] = time.perf_counter() - self._t
        self.times[f"{self._stage}_cpu"] = time.process_time() - self._c


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


# --- history --------------------------------------------------------------------------

def _side_payload(side: Mapping[str, Any]) -> dict[str, Any]:
    return {"side": side.get("side"), "score": side.get("score"),
            "category": side.get("category"), "criteria": side.get("criteria"),
            "pain": side.get("pain"), "reps": len(side.get("reps", []) or []),
            "metrics": dict(side.get("median_metrics") or {})}


def history_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The short summary stored with a session (what ``itbcoach history`` lists)."""
    out: dict[str, Any] = {"ok": bool(result.get("ok", True))}
    if result.get("message"):
        out["message"] = result["message"]
    if result.get("task") == "stepdown":
        out["sides"] = [{"side": s.get("side"), "score": s.get("score"),
                         "category": s.get("category")} for s in result.get("sides", [])]
    else:
        for key in ("reps", "steps"):
            if result.get(key):
                out[key] = result[key]
        holds = result.get("holds") or []
        if holds:
            out["holds"] = {"count": len(holds),
                            "seconds": round(sum(float(h.get("duration_s", 0.0))
                                                 for h in holds), 1)}
    return out


def record_result(history: Any, result: Mapping[str, Any], source: str,
                  kind: str = "offline", person: str | None = None) -> int:
    """Store a finished result in the history database; returns the session id.

    One transaction per event: the session row, then for the step-down one
    ``stepdown_rep`` event per counted rep (``t_s`` = its end) and one ``stepdown_side``
    event per side (``{side, score, category, criteria, pain, reps, metrics}``, metrics =
    the side's median per-rep ``pelvic_drop_deg``, ``trunk_lean_deg``, ``fppa_deg``,
    knee offsets...), for an exercise every engine event (``rep``, ``hold``, ``step``,
    ``set_complete``, ``cue``...), then the session is closed with
    :func:`history_summary`. A crash in between leaves a ``running`` session holding
    the events written so far.
    """
    task = str(result.get("task", "?"))
    sid = history.start_session(kind, task, source, person)
    if task == "stepdown":
        for side in result.get("sides", []) or []:
            for rep in side.get("reps", []) or []:
                history.add_event(sid, "stepdown_rep", rep, t_s=rep.get("end_s"),
                                  side=side.get("side"))
            history.add_event(sid, "stepdown_side", _side_payload(side),
                              t_s=max([r.get("end_s") or 0.0 for r in side.get("reps", [])]
                                      or [0.0]), side=side.get("side"))
    else:
        for ev in result.get("events", []) or []:
            data = {k: v for k, v in ev.items() if k not in ("kind", "t_s", "side")}
            history.add_event(sid, str(ev.get("kind")), data, t_s=ev.get("t_s"),
                              side=ev.get("side"))
    history.end_session(sid, "completed", history_summary(result))
    return sid


__all__ = ["JobOutcome", "ScoreJob", "history_summary", "job_config", "record_result",
           "run_job"]
