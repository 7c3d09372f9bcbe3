"""Robustness sweep of the exercise counters on generated landmark sequences.

Every movement script of :mod:`itbcoach.synth.exercises` is filmed through cameras
turned by 0/+-15/+-30/+-40 deg (landscape 1280x720 at 3.4 m and portrait 720x1280 at
3.0 m; side-view exercises turned from side-on), at 480p and 1080p, near (2.5 m) and far
(4.5 m), with short and tall bodies, slow and fast reps and long pauses mid-set, with
MediaPipe-like landmark noise and dropouts. Each case is scored by the engine and
compared with the script's truth; cases the framing gate refuses are reported as
refused, not counted (the gate must refuse what cannot be counted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from itbcoach.config import Config
from itbcoach.synth.exercises import (
    SCRIPTS,
    ExerciseScript,
    default_noise,
    render_exercise,
    with_options,
)
from itbcoach.synth.kinematics import Camera

#: Camera yaws of the sweep, deg.
YAWS = (0, 15, -15, 30, -30, 40, -40)


@dataclass(frozen=True)
class SweepCase:
    """One case: a task, the script's options and the camera."""

    task: str
    label: str
    yaw: float = 0.0
    portrait: bool = False
    distance: float = 0.0
    size: tuple[int, int] = (1280, 720)
    script: dict[str, Any] = field(default_factory=dict)


def sweep_cases(tasks: tuple[str, ...] | None = None) -> list[SweepCase]:
    """The sweep's cases for ``tasks`` (default: every scripted exercise + heel taps)."""
    out = []
    for task in tasks or (*SCRIPTS, "heel-taps"):
        for portrait in (False, True):
            for yaw in YAWS:
                out.append(SweepCase(task, f"{'portrait' if portrait else 'landscape'} "
                                           f"yaw {yaw:+d}", yaw, portrait))
        out += [SweepCase(task, "480p", size=(854, 480)),
                SweepCase(task, "1080p", size=(1920, 1080)),
                SweepCase(task, "near 2.5 m", distance=2.5),
                SweepCase(task, "far 4.5 m", distance=4.5),
                SweepCase(task, "short body 1.55 m", script={"stature": 1.55}),
                SweepCase(task, "tall body 1.92 m", script={"stature": 1.92}),
                SweepCase(task, "fast reps", script={"tempo": 0.6, "pause_s": 0.0,
                                                     "rest_s": 0.3}),
                SweepCase(task, "slow reps, pauses", script={"tempo": 1.6, "pause_s": 2.0,
                                                             "rest_s": 2.5})]
    return out


def case_camera(case: SweepCase, config: Config) -> Camera:
    """The case's camera, aimed as :func:`~itbcoach.synth.exercises.camera_for` does."""
    ex = config.exercises.get(case.task)
    view = ex.view if ex is not None else "frontal"
    posture = ex.posture if ex is not None else "standing"
    base = 90.0 if view == "side" else 0.0
    target = {"lying": (0.0, 0.0, 0.3), "seated": (0.0, 0.0, 0.65)}.get(posture,
                                                                       (0.0, 0.0, 0.9))
    w, h = (720, 1280) if case.portrait else case.size
    dist = case.distance or (3.0 if case.portrait else 3.4)
    return Camera.orbit(distance=dist, azimuth_deg=base + case.yaw,
                        height=0.8 if posture == "lying" else 1.0, target=target, width=w,
                        height_px=h, hfov_deg=40.0 if case.portrait else 60.0)


def run_case(case: SweepCase, config: Config, seed: int = 0) -> dict[str, Any]:
    """Score one case; the row :func:`~itbcoach.synth.evaluate.exercise_rows` reads."""
    from itbcoach.exercises import score_exercise
    from itbcoach.synth.evaluate import duration_errors

    script = with_options(ExerciseScript(reps=2, time_per_side_s=12.0), **case.script)
    synth, truth = render_exercise(case.task, script, noise=default_noise(seed),
                                   camera=case_camera(case, config))
    res = score_exercise(synth.pose, case.task, config)
    j = res.to_json()
    steps = sum(j["steps"].values()) if j["steps"] else 0
    truth_json = {"holds": [{"duration_s": h.duration_s} for h in truth.holds],
                  "timers": truth.timers}
    return {"task": case.task, "case": case.label, "refused": not res.camera.ok,
            "instruction": res.camera.instruction,
            "true_count": truth.reps["total"] + (sum(truth.steps.values())
                                                 if res.exercise.config.step else 0),
            "count": j["reps"]["total"] + steps,
            "exact_sides": j["reps"] == truth.reps,
            **duration_errors(j, truth_json)}


def run_sweep(config: Config, tasks: tuple[str, ...] | None = None,
              progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Every case of :func:`sweep_cases`, scored (seeded noise per case)."""
    cases = sweep_cases(tasks)
    out = []
    for i, case in enumerate(cases):
        out.append(run_case(case, config, seed=1000 + i))
        if progress is not None:
            progress(i + 1, len(cases))
    return out
