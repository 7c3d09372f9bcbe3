"""Batch scoring: many videos in parallel processes, resumable, past bad files.

:func:`run_batch` scores every input with :func:`~itbcoach.report.job.run_job` in a pool
of worker processes (``spawn`` context: each worker imports MediaPipe and creates its
own landmarker; nothing is shared but the job description and the returned outcome).
Each input gets its own folder ``OUT/<video stem>/`` with ``report.html``,
``result.json``, ``metrics.csv`` and ``annotated.mp4`` when asked, every file written
atomically; a marker file ``.done.json`` written last (atomically) says the folder is
complete, so a rerun skips it unless ``force`` -- but only for the same input content
(size, modification time and SHA-256 of the file), the same effective configuration,
job settings and program version (:func:`job_key`); anything else is scored again. A
failing input (unreadable, corrupt,
no person) is listed with its one-line reason and the batch goes on; the parent process
alone writes the history database, one finished input at a time.

Ctrl-C (or SIGTERM) stops a batch within a second: the workers are killed, the
folders of the jobs in flight keep no marker (so they look unfinished and are redone),
the finished ones keep theirs. Workers die with their parent (``PR_SET_PDEATHSIG`` on
Linux, and each worker also watches its parent's pid), so a ``kill -9`` of the batch
does not leave them running.

Backends: ``"process"`` (default, :class:`concurrent.futures.ProcessPoolExecutor`) and
``"ray"`` (the same job as a Ray task, for a cluster; ``pip install 'itbcoach[ray]'``).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from itbcoach.errors import ExitCode, UserError
from itbcoach.report.html import atomic_write
from itbcoach.report.job import JobOutcome, ScoreJob, run_job

log = logging.getLogger(__name__)

#: Name of the marker written last into a finished output folder.
DONE_MARKER = ".done.json"
#: A job in flight when a worker process died is retried this many times.
CRASH_RETRIES = 1


@dataclass
class BatchItem:
    """One input of a batch and where its outputs go (``key``: see :func:`job_key`)."""

    input: str
    out_dir: Path
    job: ScoreJob
    attempts: int = 0
    key: dict[str, Any] | None = None


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's content (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _input_stat(path: str) -> dict[str, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def job_key(job: ScoreJob, content: bool = True) -> dict[str, Any] | None:
    """What a finished folder's marker must match to be skipped by a rerun.

    The input's size, modification time and (``content``) SHA-256; the effective
    configuration's digest; the job settings that change the result; the program
    version. None when the input cannot be read (it is then scored, and fails).
    """
    from itbcoach import __version__
    from itbcoach.config import config_digest
    from itbcoach.report.job import job_config

    stat = _input_stat(job.input)
    if stat is None:
        return None
    if content:
        try:
            stat["sha256"] = file_digest(job.input)  # type: ignore[assignment]
        except OSError:
            return None
    return {"input": stat, "config": config_digest(job_config(job)), "version": __version__,
            "settings": {"task": job.task, "side": job.side, "pain": job.pain,
                         "model": job.model, "allow_multiple": job.allow_multiple}}


@dataclass
class BatchSummary:
    """What a batch did.

    Attributes:
        done: outcomes of the inputs scored in this run (in completion order).
        skipped: inputs whose folder was already finished (with its marker).
        failed: ``(input, one-line reason)`` of every input that failed or measured
            nothing (including finished folders whose earlier run measured nothing).
        elapsed_s: wall time of the run.
    """

    done: list[JobOutcome] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    not_run: int = 0

    @property
    def exit_code(self) -> int:
        """0 when every input has a result, 1 when any failed, 130 when interrupted."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        return ExitCode.FAILURE if self.failed else ExitCode.OK

    def text(self) -> str:
        """The summary printed at the end of a batch."""
        ok = sum(1 for o in self.done if o.ok)
        lines = [f"batch: {ok} scored, {len(self.skipped)} already done (skipped), "
                 f"{len(self.failed)} failed, {self.elapsed_s:.1f} s"]
        for path, reason in self.failed:
            lines.append(f"  FAILED {path}: {reason}")
        if self.interrupted:
            lines.append(f"  interrupted: {self.not_run} input(s) not scored (their folders "
                         "have no marker; run the same command again to finish)")
        return "\n".join(lines)


def output_dirs(inputs: Sequence[str | os.PathLike[str]], root: Path) -> list[Path]:
    """``root/<stem>`` per input; stems that occur twice get a short hash of the path."""
    stems = [Path(p).stem for p in inputs]
    out = []
    for p, stem in zip(inputs, stems, strict=True):
        name = stem
        if stems.count(stem) > 1:
            digest = hashlib.sha1(str(Path(p).resolve()).encode()).hexdigest()[:8]
            name = f"{stem}-{digest}"
        out.append(root / name)
    return out


def read_marker(out_dir: Path) -> dict[str, Any] | None:
    """The finished marker of an output folder, or None (absent or unreadable)."""
    try:
        data = json.loads((out_dir / DONE_MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _finished(item: BatchItem, annotate: bool) -> dict[str, Any] | None:
    marker = read_marker(item.out_dir)
    if marker is None or marker.get("task") != item.job.task:
        return None
    stored = marker.get("key")
    cheap = job_key(item.job, content=False)  # size and mtime first: no hashing when
    if not isinstance(stored, dict) or cheap is None or any(  # they already differ
            stored.get(k) != cheap[k] for k in ("config", "version", "settings")) or \
            {k: v for k, v in (stored.get("input") or {}).items() if k != "sha256"} \
            != cheap["input"]:
        return None
    item.key = job_key(item.job)
    if item.key is None or item.key != stored:
        return None
    if annotate and not (item.out_dir / "annotated.mp4").is_file() and marker.get("ok"):
        return None
    return marker


def _write_marker(item: BatchItem, outcome: JobOutcome) -> None:
    data = {"input": str(item.input), "task": item.job.task, "key": item.key,
            "ok": outcome.ok,
            "exit_code": int(outcome.exit_code),
            "message": getattr(outcome.result, "message", None),
            "outputs": [Path(p).name for p in outcome.outputs],
            "timings": {k: round(v, 3) for k, v in outcome.timings.items()},
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write(item.out_dir / DONE_MARKER, json.dumps(data, indent=2) + "\n")


def safe_job(job: ScoreJob) -> JobOutcome:
    """Run one job and turn any error into an outcome (for worker processes).

    A :class:`~itbcoach.errors.UserError` keeps its message and exit code; anything else
    (a bug, a library failing on a strange file) becomes a one-line reason with the
    exception type, logged with its traceback in the worker.
    """
    try:
        return run_job(job)
    except UserError as exc:
        return JobOutcome(job.input, exc.exit_code, str(exc))
    except Exception as exc:  # one bad file / a sqlite error must not stop the run
        log.exception("scoring %s failed", job.input)
        return JobOutcome(job.input, ExitCode.FAILURE, f"{type(exc).__name__}: {exc}")


def _die_with_parent(parent: int) -> None:
    """End this worker when its parent process ends, however it ends (``kill -9``
    included): ``PR_SET_PDEATHSIG`` on Linux, and everywhere a thread that checks the
    parent's pid twice a second."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError) as exc:  # no prctl: the thread below does it
            log.debug("PR_SET_PDEATHSIG unavailable: %s", exc)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_init(level: int, counter: Any = None, cores: tuple[int, ...] = (),
                 parent: int | None = None) -> None:
    """Set up a worker: Ctrl-C left to the parent (which kills the workers), death with
    the parent, logging, and its own CPU core when ``cores`` are given.

    One job alone gains little from a second core (3 videos: 10.3 s on two cores, 10.9 s
    pinned to one), but its MediaPipe and decoder threads still wake on every core. With
    one worker per core pinned, the 6-video batch of ``benchmarks/batch_bench.py`` took
    10.7 s instead of 10.9-11.0 s. Each worker takes the next core of ``cores``
    (``counter`` is a shared ``multiprocessing.Value``).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _die_with_parent(parent)
    # tqdm would make a multiprocessing lock (a named semaphore) on first use; a worker
    # killed by Ctrl-C could not release it, and Python would warn about it at exit
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    atexit.register(_exit_now)  # registered first, so it runs after the later ones
    if counter is None or not cores or not hasattr(os, "sched_setaffinity"):
        return
    with counter.get_lock():
        k = counter.value
        counter.value += 1
    core = cores[k % len(cores)]
    try:
        os.sched_setaffinity(0, {core})
    except OSError as exc:  # a restricted container: run unpinned
        log.debug("could not pin worker to core %d: %s", core, exc)


def _exit_now() -> None:
    """End a worker process without the interpreter's teardown.

    Tearing down a process that ran MediaPipe takes ~0.35 s (its native objects'
    destructors); the pool waits for it at the end of every batch. By the time the
    worker exits, each job has written and closed its files and its outcome went back
    through the pool's pipe, so only the logs and standard streams need flushing.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken pipe: nothing left to save
            pass
    os._exit(0)


def _worker_cores(workers: int) -> tuple[int, ...]:
    """The cores to pin ``workers`` processes to, one each; empty = do not pin (more
    workers than usable cores, or no affinity control on this platform)."""
    if not hasattr(os, "sched_getaffinity"):
        return ()
    cores = tuple(sorted(os.sched_getaffinity(0)))
    return cores if 1 < workers <= len(cores) else ()


def _process_backend(items: list[BatchItem], jobs: int) -> Iterator[tuple[BatchItem,
                                                                          JobOutcome]]:
    """Run ``items`` in a spawn-context process pool; yield outcomes as they finish.

    When a worker dies (a crash in native code) the pool is rebuilt and the jobs that
    were in flight are retried up to :data:`CRASH_RETRIES` times before failing.
    """
    ctx = multiprocessing.get_context("spawn")
    _start_resource_tracker()
    pending = list(items)
    while pending:
        workers = max(1, min(jobs, len(pending)))
        cores = _worker_cores(workers)
        with _sigint_ignored():  # workers start with Ctrl-C ignored (the parent has it)
            pool = ProcessPoolExecutor(
                workers, mp_context=ctx, initializer=_worker_init,
                initargs=(logging.getLogger().level, ctx.Value("i", 0) if cores else None,
                          cores, os.getpid()))
            futures: dict[Future[JobOutcome], BatchItem] = {
                pool.submit(safe_job, it.job): it for it in pending}
        pending = []
        broken = False
        try:
            remaining = set(futures)
            while remaining:
                finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for fut in finished:
                    item = futures[fut]
                    try:
                        yield item, fut.result()
                    except BrokenProcessPool:
                        broken = True
                        item.attempts += 1
                        if item.attempts > CRASH_RETRIES:
                            yield item, JobOutcome(item.input, ExitCode.FAILURE,
                                                   "the worker process crashed while "
                                                   "scoring this file")
                        else:
                            pending.append(item)
        except BaseException:  # Ctrl-C, SIGTERM, or the caller stopped: stop now
            _kill_pool(pool)
            for fut, item in futures.items():
                if not fut.done() or fut.cancelled():
                    sweep_folder(item.out_dir)
            raise
        pool.shutdown(wait=True)
        if broken:
            log.warning("a worker process died; retrying %d input(s)", len(pending))


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with fd 2 = the real stderr.

    The tracker lives as long as this process. Started while fd 2 is the pipe of the
    native-log filter (:func:`itbcoach.pose.native_log.filtered_stderr`) it would keep
    that pipe open, and the filter, which ends when every writer is gone, would hold the
    command's exit for its 5 s timeout after every parallel batch (measured 5.5 s).
    """
    from multiprocessing import resource_tracker

    try:
        real = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        real = 2
    if real == 2:
        resource_tracker.ensure_running()
        return
    saved = os.dup(2)
    try:
        os.dup2(real, 2)
        resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this process while workers are started (they inherit it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers now (jobs in flight are lost) and let the pool go."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.kill()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(1.0)
    # the workers are gone, so this returns at once; it releases the pool's queues (their
    # semaphores would otherwise be reported as leaked at exit)
    pool.shutdown(wait=True, cancel_futures=True)


def sweep_folder(folder: Path) -> None:
    """Remove the temporary output files of dead processes from ``folder``."""
    from itbcoach.output import sweep_stale

    sweep_stale(folder)


def _ray_backend(items: list[BatchItem], jobs: int,
                 address: str | None = None) -> Iterator[tuple[BatchItem, JobOutcome]]:
    """Run ``items`` as Ray tasks (one CPU each); yield outcomes as they finish.

    Connects to ``address`` (e.g. ``"auto"`` for an existing cluster, or
    ``$RAY_ADDRESS``), else starts a local Ray with ``jobs`` CPUs. Outputs are written by
    the tasks themselves, so on a cluster ``OUT`` must be a shared filesystem.
    """
    try:
        import ray
    except ImportError:
        raise UserError("the ray backend needs Ray: pip install 'itbcoach[ray]'",
                        ExitCode.USAGE) from None
    started = False
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False,
                     object_store_memory=100 * 1024 * 1024)
        started = True
    try:
        task = ray.remote(num_cpus=1, max_retries=CRASH_RETRIES)(safe_job)
        refs = {task.remote(it.job): it for it in items}
        remaining = list(refs)
        while remaining:
            ready, remaining = ray.wait(remaining, num_returns=1)
            for ref in ready:
                item = refs[ref]
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    outcome = JobOutcome(item.input, ExitCode.FAILURE,
                                         f"ray task failed: {str(exc).splitlines()[0]}")
                yield item, outcome
    finally:
        if started:
            ray.shutdown()


def run_batch(inputs: Sequence[str | os.PathLike[str]], template: ScoreJob, out_root: Path,
              *, jobs: int = 1, force: bool = False, annotate: bool = False,
              progress: bool = True, backend: str = "process",
              on_result: Callable[[JobOutcome], None] | None = None) -> BatchSummary:
    """Score ``inputs`` into ``out_root/<stem>/`` folders.

    Args:
        inputs: videos or landmark files.
        template: the job settings shared by every input (task, side, pain, model,
            config); its ``input`` and output paths are filled per input.
        out_root: the output root (created).
        jobs: worker processes (1 = score in this process, one after another).
        force: rescore inputs whose folder is already finished.
        annotate: also write ``annotated.mp4`` (video inputs).
        progress: overall progress bar on stderr.
        backend: ``"process"`` or ``"ray"``.
        on_result: called in this process with every finished outcome that has a result
            (the CLI records it in the history database).

    Returns:
        The :class:`BatchSummary`.
    """
    from tqdm import tqdm

    from itbcoach.output import OutputError, output_error

    root = Path(out_root)
    if root.exists() and not root.is_dir():
        raise OutputError(f"cannot write {root}: it is a file, not a folder; give a folder "
                          "for --report-dir")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(root, exc) from None
    t0 = time.perf_counter()
    summary = BatchSummary()
    seen: set[str] = set()
    unique = []
    for p in inputs:  # the same file given twice is scored once
        key = str(Path(p).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(p)
    items: list[BatchItem] = []
    for path, out_dir in zip(unique, output_dirs(unique, out_root), strict=True):
        job = replace(template, input=str(path), report_dir=str(out_dir),
                      annotate=str(out_dir / "annotated.mp4") if annotate and
                      Path(path).suffix.lower() != ".npz" else None,
                      json_path=None, progress=False)
        items.append(BatchItem(str(path), out_dir, job))
    todo: list[BatchItem] = []
    for item in items:
        marker = None if force else _finished(item, annotate)
        if marker is None:
            with contextlib.suppress(OSError):
                (item.out_dir / DONE_MARKER).unlink(missing_ok=True)
            if item.key is None:
                item.key = job_key(item.job)  # before scoring: a change meanwhile shows
            todo.append(item)
            continue
        summary.skipped.append(marker)
        if not marker.get("ok"):
            summary.failed.append((item.input, "no result (earlier run): "
                                   f"{marker.get('message') or 'nothing measurable'}"))
    todo = schedule(todo, annotate)
    bar = tqdm(total=len(todo), disable=not progress, unit="video", desc="scoring",
               dynamic_ncols=True)
    stream: Iterator[tuple[BatchItem, JobOutcome]] = iter(())
    finished = 0
    try:
        if backend == "ray":
            stream = _ray_backend(todo, jobs)
        elif jobs <= 1:
            stream = ((it, _in_process(it)) for it in todo)
        else:
            stream = _process_backend(todo, jobs)
        for item, outcome in stream:
            _finish(item, outcome, summary, on_result)
            finished += 1
            bar.set_postfix_str(Path(item.input).name, refresh=False)
            bar.update(1)
    except KeyboardInterrupt:  # the finished inputs keep their markers, the rest none
        summary.interrupted = True
        summary.not_run = len(todo) - finished
    finally:
        with contextlib.suppress(Exception):
            stream.close()  # type: ignore[attr-defined]
        bar.close()
    summary.elapsed_s = time.perf_counter() - t0
    return summary


def schedule(items: Sequence[BatchItem], annotate: bool = False) -> list[BatchItem]:
    """``items`` longest first, the order workers take them in.

    The jobs that start last are then short, so no worker idles long at the end (6 clips
    of 72-156 frames on 2 workers: one idled 2.5 s when they were ordered by file size,
    which says little about length). Length = :func:`_work`, read from the headers.
    """
    return sorted(items, key=lambda it: _work(it, annotate), reverse=True)


#: Cost of a job beyond its frames, in frames: opening, two landmarkers, scoring and
#: the report take ~0.35 s, the model ~18 ms a frame (fitted on the 15 clips of
#: ``../shared/sample_videos`` scored in a pinned worker: residual 0.18 s rms).
JOB_OVERHEAD_FRAMES = 19.0
#: Extra cost of a frame per megapixel: decoding (same fit).
DECODE_COST_PER_MP = 0.18
#: Extra cost of a frame per megapixel when it is annotated (drawing, colour conversion,
#: a second decode and x264: ~6 ms of CPU for a 720p frame, 0.92 MP).
ANNOTATE_COST_PER_MP = 0.36


def _work(item: BatchItem, annotate: bool) -> float:
    """Estimated cost of a job in model frames, from the video's header; 0 for landmark
    files and unreadable videos (they take a moment)."""
    if Path(item.input).suffix.lower() == ".npz":
        return 0.0
    from itbcoach.pose.sources import probe_video

    frames, w, h = probe_video(item.input)
    if frames <= 0:
        return 0.0
    mp = w * h / 1e6
    per_frame = 1.0 + DECODE_COST_PER_MP * mp + (ANNOTATE_COST_PER_MP * mp if annotate
                                                 else 0.0)
    return frames * per_frame + JOB_OVERHEAD_FRAMES


def _in_process(item: BatchItem) -> JobOutcome:
    return safe_job(item.job)


def _finish(item: BatchItem, outcome: JobOutcome, summary: BatchSummary,
            on_result: Callable[[JobOutcome], None] | None) -> None:
    summary.done.append(outcome)
    if outcome.result is None:  # failed before scoring: no marker, retried next run
        summary.failed.append((item.input, outcome.error or "failed"))
        if item.out_dir.is_dir() and not any(item.out_dir.iterdir()):
            shutil.rmtree(item.out_dir, ignore_errors=True)
        return
    if outcome.output_error:  # scored, but not every file is there: no marker
        summary.failed.append((item.input, outcome.output_error))
        if on_result is not None:
            on_result(outcome)
        return
    if not outcome.ok:
        summary.failed.append((item.input, outcome.error or "no result: " + str(
            getattr(outcome.result, "message", None) or "nothing measurable")))
    if on_result is not None:
        on_result(outcome)
    _write_marker(item, outcome)


__all__ = ["DONE_MARKER", "BatchSummary", "file_digest", "job_key", "output_dirs",
           "read_marker", "run_batch", "safe_job", "schedule", "sweep_folder"]
