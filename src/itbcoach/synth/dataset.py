"""Seeded sets of synthetic clips (for the accuracy report and the sample videos).

A *case* is a name, a step-down spec (or an exercise id) and :class:`ClipOptions`. The
set is a pure function of ``(n, seed)`` (:func:`stepdown_cases`), and
:func:`generate` renders only clips whose JSON is missing or was made from another case
(the case's hash is stored in the JSON), so re-running is cheap.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from itbcoach.synth.clip import PALETTES, ClipOptions, stepdown_clip
from itbcoach.synth.stepdown import LegSpec, StepdownSpec

log = logging.getLogger(__name__)

#: Bumped whenever the renderer or body mapping changes what a case renders.
RENDER_VERSION = 5
#: The same for step-down clips only (7: hands on the hips keep their orientation in the
#: pelvis frame, fingers forward and down, instead of turning with the forearms).
STEPDOWN_RENDER_VERSION = 7


@dataclass(frozen=True)
class Case:
    """One clip to render: ``kind`` is ``"stepdown"`` or an exercise id."""

    name: str
    kind: str
    options: ClipOptions
    spec: StepdownSpec | None = None
    reps: int = 0

    def digest(self) -> str:
        """A short hash of everything that determines the clip."""
        options = repr(self.options)
        if not self.options.shirt_loose_m:  # clips rendered before the field keep theirs
            options = options.replace(", shirt_loose_m=0.0", "")
        version = STEPDOWN_RENDER_VERSION if self.kind == "stepdown" else RENDER_VERSION
        text = json.dumps([version, self.kind, repr(self.spec), options,
                           self.reps], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


#: Resolutions of the wide set (issue 15: 640x480 to 1920x1080).
WIDE_SIZES = ((640, 480), (960, 540), (1280, 720), (1920, 1080))


def _leg(rng: np.random.Generator, side: str, reps: int,
         hands: dict[str, object] | None = None) -> LegSpec:
    """A leg block with 0-3 random faults, set clearly away from the thresholds."""
    faults = rng.choice(6, size=int(rng.integers(0, 4)), replace=False).tolist()
    kw: dict[str, object] = {}
    if 0 in faults:
        kw["pelvic_drop_deg"] = float(rng.uniform(7.0, 14.0))
    if 1 in faults:
        kw["trunk_lean_deg"] = float(rng.uniform(8.0, 15.0))
    if 2 in faults:
        kw["arm_abduction_deg"] = float(rng.uniform(25.0, 40.0))
    if 3 in faults:  # medial to the second toe, or beyond the medial border of the foot
        kw["knee_medial_m"] = float(rng.choice([rng.uniform(0.02, 0.035),
                                                rng.uniform(0.07, 0.10)]))
    if 4 in faults:
        kw["wobble_m"] = float(rng.uniform(0.015, 0.03))
    if 5 in faults:
        kw["sudden_drop"] = True
    return LegSpec(side, reps=reps, **kw, **(hands or {}))


def stepdown_cases(n: int, seed: int = 0, *, width: int = 640,
                   height: int = 480) -> list[Case]:
    """``n`` step-down clips with varied faults, legs, bodies, cameras and light.

    Deterministic for a given ``(n, seed)``: case ``i`` depends only on ``(seed, i)``.
    """
    cases = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        legs_kind = ("left", "right", "both")[i % 3]
        reps = int(rng.integers(2, 4))
        if legs_kind == "both":
            legs = (_leg(rng, "left", 2), _leg(rng, "right", 2))
        else:
            legs = (_leg(rng, legs_kind, reps),)
        spec = StepdownSpec(legs=legs, step_on_off=False, lead_s=1.0,
                            rest_s=float(rng.uniform(0.6, 1.2)),
                            descent_s=float(rng.uniform(1.2, 2.0)),
                            ascent_s=float(rng.uniform(1.0, 1.6)), seed=int(seed * 1000 + i))
        pheno = tuple((k, round(float(rng.uniform(lo, hi)), 3)) for k, lo, hi in (
            ("gender", 0.0, 1.0), ("age", 0.35, 0.75), ("muscle", 0.3, 0.7),
            ("weight", 0.3, 0.7), ("height", 0.3, 0.8)))
        opts = ClipOptions(
            width=width, height=height,
            camera_distance=float(rng.uniform(2.5, 3.2)),
            camera_azimuth=float(rng.uniform(-12.0, 12.0)),
            camera_height=float(rng.uniform(0.8, 1.3)),
            phenotype=pheno, palette=int(rng.integers(0, len(PALETTES))),
            light_scale=float(rng.uniform(0.8, 1.15)),
            noise_sd=float(rng.uniform(1.0, 3.0)), seed=int(seed * 1000 + i))
        cases.append(Case(f"stepdown_{seed:03d}_{i:03d}_{legs_kind}", "stepdown", opts,
                          spec=spec))
    return cases


def _hands(rng: np.random.Generator) -> dict[str, object]:
    """Hands of one leg block: both on the hips (60%), one off (20%), both off (20%)."""
    u = float(rng.uniform())
    kind = "both" if u < 0.6 else ("none" if u >= 0.8 else str(rng.choice(["left", "right"])))
    return {"hands": kind, "hand_slip_m": round(float(rng.uniform(0.0, 0.015)), 4)}


def fit_hfov(options: ClipOptions, top_m: float = 2.2, margin: float = 0.03) -> float:
    """The narrowest horizontal field of view (60-110 deg, whole degrees) that shows a
    subject on a step whole: the floor 30 cm around the feet and ``top_m`` above it,
    within ``margin`` of the frame's edges (a user steps back or picks the wide lens
    until the whole body shows)."""
    pts = np.array([[x, y, 0.0] for x in (-0.3, 0.3) for y in (-0.3, 0.3)]
                   + [[0.0, 0.0, top_m]])
    for hfov in range(60, 111):
        uv = dataclasses.replace(options, hfov_deg=float(hfov)).camera().normalised(pts)
        if np.all((uv > margin) & (uv < 1.0 - margin)):
            return float(hfov)
    return 110.0


def _loose_shirt(seed: int, i: int) -> float:
    """A loose untucked shirt for 30% of the wide set, pushed 2-4 cm off the waist.

    Drawn from its own stream so the rest of case ``i`` is what it was before shirts.
    """
    rng = np.random.default_rng([seed, 7919, i, 1])
    loose = round(float(rng.uniform(0.02, 0.04)), 3)
    return loose if float(rng.uniform()) < 0.3 else 0.0


def wide_cases(n: int, seed: int = 15) -> list[Case]:
    """``n`` held-out step-down clips over the ranges of issue 15's accuracy report.

    Hands on the hips (60%), one hand off (20%) or both off (20%) per leg, slow slips of
    the hands up to 1.5 cm; 640x480 to 1920x1080; camera 2-4 m away, yaw -20..+20 deg,
    0.6-1.3 m high, the field of view widened until the whole body shows
    (:func:`fit_hfov`); bodies, clothing palettes, loose shirts over the waist (30%) and
    light varied. Deterministic for
    ``(n, seed)``; case ``i`` depends only on ``(seed, i)`` (the seed differs from the
    60-clip set's so the rules read from that set are tested on other clips).
    """
    cases = []
    for i in range(n):
        rng = np.random.default_rng([seed, 7919, i])
        legs_kind = ("left", "right", "both")[i % 3]
        reps = int(rng.integers(2, 4))
        if legs_kind == "both":
            legs = (_leg(rng, "left", 2, _hands(rng)), _leg(rng, "right", 2, _hands(rng)))
        else:
            legs = (_leg(rng, legs_kind, reps, _hands(rng)),)
        spec = StepdownSpec(legs=legs, step_on_off=False, lead_s=1.0,
                            rest_s=float(rng.uniform(0.6, 1.2)),
                            descent_s=float(rng.uniform(1.2, 2.0)),
                            ascent_s=float(rng.uniform(1.0, 1.6)),
                            seed=int(seed * 1000 + 500 + i))
        pheno = tuple((k, round(float(rng.uniform(lo, hi)), 3)) for k, lo, hi in (
            ("gender", 0.0, 1.0), ("age", 0.3, 0.8), ("muscle", 0.2, 0.8),
            ("weight", 0.2, 0.8), ("height", 0.2, 0.9)))
        width, height = WIDE_SIZES[int(rng.integers(0, len(WIDE_SIZES)))]
        opts = ClipOptions(
            width=width, height=height,
            camera_distance=float(rng.uniform(2.0, 4.0)),
            camera_azimuth=float(rng.uniform(-20.0, 20.0)),
            camera_height=float(rng.uniform(0.6, 1.3)),
            phenotype=pheno, palette=int(rng.integers(0, len(PALETTES))),
            light_scale=float(rng.uniform(0.8, 1.15)),
            noise_sd=float(rng.uniform(1.0, 3.0)), seed=int(seed * 1000 + 500 + i),
            shirt_loose_m=_loose_shirt(seed, i))
        opts = dataclasses.replace(opts, hfov_deg=fit_hfov(opts))
        cases.append(Case(f"stepdown_w{seed:03d}_{i:03d}_{legs_kind}", "stepdown", opts,
                          spec=spec))
    return cases


def ci_cases(width: int = 640, height: int = 480) -> list[Case]:
    """The CI-sized subset: a clean left-leg clip and a right-leg clip with a clear knee
    medial shift and trunk lean (2 reps each, ~9 s), fixed so the test is stable."""
    common = {"step_on_off": False, "lead_s": 0.8, "rest_s": 0.6}
    clean = StepdownSpec(legs=(LegSpec("left", reps=2),), seed=1, **common)
    faulty = StepdownSpec(legs=(LegSpec("right", reps=2, knee_medial_m=0.08,
                                        trunk_lean_deg=12.0),), seed=2, **common)
    return [
        Case("ci_left_clean", "stepdown", ClipOptions(width=width, height=height, seed=1),
             spec=clean),
        Case("ci_right_knee_trunk", "stepdown",
             ClipOptions(width=width, height=height, palette=1,
                         phenotype=(("gender", 0.8),), seed=2), spec=faulty),
    ]


def _cached(path: Path, digest: str) -> bool:
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        return False
    try:
        with meta.open() as f:
            head = f.read(4096)
        return f'"case_digest":"{digest}"' in head
    except OSError:
        return False


def render_case(case: Case, out_dir: Path,
                progress: Callable[[int, int], None] | None = None) -> Path:
    """Render one case into ``out_dir`` (skipped when cached); returns the mp4 path."""
    out = Path(out_dir) / f"{case.name}.mp4"
    digest = case.digest()
    if _cached(out, digest):
        return out
    if case.kind == "stepdown":
        assert case.spec is not None
        doc = stepdown_clip(case.spec, out, options=case.options, progress=progress)
    else:
        from itbcoach.synth.clip import exercise_clip

        doc = exercise_clip(case.kind, out, options=case.options, reps=case.reps,
                            progress=progress)
    # rewrite with the digest first so the cache check reads it from the file head
    doc = {"case_digest": digest, "case": case.name, **doc}
    out.with_suffix(".json").write_text(json.dumps(doc, separators=(",", ":")))
    return out


def generate(cases: Iterable[Case], out_dir: Path, progress: bool = True) -> list[Path]:
    """Render every case (cached) with one progress bar over all frames."""
    from tqdm import tqdm

    cases = list(cases)
    paths = []
    with tqdm(total=len(cases), unit="clip", disable=not progress, desc="rendering") as bar:
        for case in cases:
            paths.append(render_case(case, out_dir))
            bar.update(1)
    return paths


__all__ = ["Case", "ci_cases", "generate", "render_case", "stepdown_cases"]
