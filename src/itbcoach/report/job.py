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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itbcoach.config import Config
from itbcoach.errors import ExitCode, InputError
from itbcoach.tasks import load_config

if TYPE_CHECKING:
    from itbcoach.exercises import ExerciseResult
    from itbcoach.scoring import TaskResult
    from itbcoach.scoring.stepdown import SideResult

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
        result: the typed result (None when it failed before scoring); its JSON is
            made where a file is written.
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
    result: TaskResult | None = None
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
        scale = None
        if job.task == "stepdown":
            from itbcoach.report.measures import length_scale

            masked = postprocess(seq, config, smooth=False) if not meta.get("masked") \
                else seq
            scale = length_scale(masked.world_landmarks, config.report.height_cm)
    summary = result.summary()
    if scale is not None:
        from itbcoach.report.stepdown_view import restate_medians

        summary = restate_medians(summary, result, scale)
    if not (meta.get("smoothed") and meta.get("masked")):  # the pictures draw smoothed,
        seq = postprocess(seq, config, mask=not meta.get("masked"),  # masked landmarks
                          smooth=not meta.get("smoothed"))
    measured = result.ok and not getattr(result, "view_refused", False)
    outcome = JobOutcome(str(job.input), ExitCode.OK if measured else ExitCode.NO_RESULT,
                         None, result, summary)
    metrics = None
    if job.annotate or job.report_dir:
        from itbcoach.kernel import compute_metrics

        metrics = compute_metrics(seq.landmarks, seq.image_size, seq.world_landmarks)
    errors: list[str] = []
    if job.annotate:
        from itbcoach.report.annotate import AnnotationPlan, write_annotated

        with clock("annotate"), _output(errors, outcome, job.annotate):
            plan = AnnotationPlan(seq, result, config, metrics, scale)
            write_annotated(path, job.annotate, plan, crf=config.report.video_crf,
                            preset=config.report.video_preset)
    if job.report_dir:
        from itbcoach.report.html import write_report

        names = ("report.html", "result.json", "metrics.csv") + (
            ("reps.csv",) if scale is not None else ())
        with clock("report"), _output(errors, outcome, *(str(Path(job.report_dir) / n)
                                                          for n in names)):
            write_report(job.report_dir, seq, result, meta,
                         video=path if is_video else None, config=config, metrics=metrics,
                         scale=scale)
    if job.json_path:
        from itbcoach.output import write_output
        from itbcoach.report.measures import result_json

        data = result_json(result, config.stepdown, scale)
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

def _side_payload(side: SideResult) -> dict[str, Any]:
    return {"side": side.side, "score": side.score, "category": side.category,
            "criteria": dict(side.criteria), "pain": side.pain, "reps": len(side.reps),
            "metrics": side.to_json()["median_metrics"]}


def history_summary(result: TaskResult) -> dict[str, Any]:
    """The short summary stored with a session (what ``itbcoach history`` lists):
    ``ok``, ``message``, then the step-down's ``sides`` (score, category) or the
    exercise's ``unit`` and its ``reps`` / ``steps`` / ``holds`` (count, seconds)."""
    from itbcoach.scoring.stepdown import StepdownResult

    out: dict[str, Any] = {"ok": bool(result.ok)}
    message = getattr(result, "message", None)
    if message:
        out["message"] = message
    if isinstance(result, StepdownResult):
        out["sides"] = [{"side": s.side, "score": s.score, "category": s.category}
                        for s in result.sides]
        return out
    ex: ExerciseResult = result  # type: ignore[assignment]
    out["unit"] = ex.to_json()["unit"]
    out["reps"] = ex.reps
    if ex.exercise.config.step is not None:
        out["steps"] = ex.steps
    holds = ex.holds
    if holds:
        out["holds"] = {"count": len(holds),
                        "seconds": round(sum(float(h["duration_s"]) for h in holds), 1)}
    return out


def record_result(history: Any, result: TaskResult, source: str,
                  kind: str = "offline", person: str | None = None) -> int:
    """Store a finished result in the history database; returns the session id.

    One transaction per event: the session row, then for the step-down one
    ``stepdown_rep`` event per counted rep (``t_s`` = its end) and one ``stepdown_side``
    event per side (``{side, score, category, criteria, pain, reps, metrics}``, metrics =
    the side's median per-rep ``pelvic_drop_deg``, ``trunk_lean_deg``, ``fppa_deg``,
    knee offsets...), for an exercise every engine event (``rep``, ``hold``, ``step``,
    ``set_complete``, ``cue``...), then the session is closed with
    :func:`history_summary`. A crash in between leaves a ``running`` session holding
    the events written so far. The rows are JSON: each is made here, where it is
    written.
    """
    from itbcoach.scoring.stepdown import StepdownResult

    if isinstance(result, StepdownResult):
        sid = history.start_session(kind, "stepdown", source, person)
        for side in result.sides:
            for rep in side.reps:
                history.add_event(sid, "stepdown_rep", rep.to_json(),
                                  t_s=round(rep.end_s, 3), side=side.side)
            history.add_event(sid, "stepdown_side", _side_payload(side),
                              t_s=round(max([r.end_s for r in side.reps] or [0.0]), 3),
                              side=side.side)
    else:
        ex: ExerciseResult = result  # type: ignore[assignment]
        sid = history.start_session(kind, ex.task, source, person)
        for event in ex.events:
            data = {k: v for k, v in event.to_json().items()
                    if k not in ("kind", "t_s", "side")}
            history.add_event(sid, str(event.kind), data, t_s=round(float(event.t_s), 3),
                              side=event.side)
    history.end_session(sid, "completed", history_summary(result))
    return sid


__all__ = ["JobOutcome", "ScoreJob", "history_summary", "job_config", "record_result",
           "run_job"]
