"""One name, one unit and one sign convention per step-down measure, for every output.

The plot, the rep table, the side-to-side table, the annotated video's text, the
``measures`` block of ``result.json`` and ``reps.csv`` all take their numbers from
:func:`rep_values` and their words from :data:`STEPDOWN_MEASURES`, so a number reads the
same everywhere. Every value is the one the scorer judged: the rep's peak, measured
against that rep's own standing baseline for the pelvis and the trunk, over the loaded
part of the rep for the knee (see :func:`itbcoach.scoring.stepdown.measure_rep`).

Lengths are shown in centimetres: the scorer works in body scales (2D torso lengths,
shoulder midpoint to hip midpoint), converted with :class:`LengthScale` from the
person's height when it is known (``[report] height_cm`` or ``--height-cm``), else from
MediaPipe's metric 3D (world) landmarks; without either they stay in torso lengths.

Every function takes the typed result (:class:`~itbcoach.scoring.stepdown.StepdownResult`
and its sides and reps, with the metrics they were scored on); JSON is made only by
:func:`result_json`, where a file is written.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from itbcoach.config.schema import StepdownConfig
from itbcoach.landmarks import Landmark as L

if TYPE_CHECKING:  # the scorer pulls in the kernel (numba); the batch parent must not
    from itbcoach.scoring import TaskResult
    from itbcoach.scoring.stepdown import SideResult, StepdownRep, StepdownResult

#: Torso length (shoulder midpoint to hip midpoint) as a share of standing height:
#: shoulder height 0.818 H minus hip-joint height 0.530 H (Drillis & Contini 1966).
TORSO_PER_HEIGHT = 0.288


@dataclass(frozen=True)
class Measure:
    """One per-rep measure of the step-down as every output shows it.

    Attributes:
        key: the rep metric in the result JSON (``reps[i].metrics[key]``).
        name: its one name, e.g. ``"pelvic drop"``.
        meaning: the sign convention in words.
        criterion: the Piva criterion it decides (None: reported, not scored).
        length: True when the JSON value is in body scales (shown in cm).
        two_sided: the fault is ``|value| >= threshold`` (else ``value > threshold``).
        threshold: the ``[stepdown]`` key of the threshold (in the JSON's unit).
        digits: decimals shown.
    """

    key: str
    name: str
    meaning: str
    criterion: str | None
    length: bool
    two_sided: bool
    threshold: str
    digits: int = 1


STEPDOWN_MEASURES: tuple[Measure, ...] = (
    Measure("pelvic_drop_deg", "pelvic drop",
            "how much lower the free side of the pelvis went than when standing just "
            "before the rep, deg; negative = it rose (a hike)",
            "pelvis_not_level", False, True, "pelvic_drop_deg"),
    Measure("trunk_lean_deg", "trunk lean",
            "sideways lean of the trunk from its standing position just before the rep, "
            "deg; + = toward the stance leg, negative = away from it",
            "trunk_lean", False, True, "trunk_lean_deg"),
    Measure("knee_offset_second_toe", "knee inside 2nd toe",
            "how far the stance knee is inside (toward the other leg) a vertical line "
            "through the second toe, loaded part of the rep; negative = outside",
            "knee_medial_to_second_toe", True, False, "knee_toe_margin"),
    Measure("knee_offset_foot", "knee inside foot",
            "how far the stance knee is inside the inner border of the foot, loaded part "
            "of the rep; negative = still over the foot",
            "knee_medial_to_foot", True, False, "knee_foot_margin"),
    Measure("wrist_rise", "hand off waist",
            "largest distance either wrist moved away from its hip since standing",
            "arm_strategy", True, False, "arm_rise"),
    Measure("fppa_deg", "knee FPPA",
            "frontal-plane projection angle of the stance knee, deg; + = knee in (valgus), "
            "negative = knee out (varus); reported, not scored",
            None, False, False, "fppa_note_deg"),
)
MEASURES_BY_KEY = {m.key: m for m in STEPDOWN_MEASURES}
MEASURES_BY_CRITERION = {m.criterion: m for m in STEPDOWN_MEASURES if m.criterion}


@dataclass(frozen=True)
class LengthScale:
    """Centimetres per body scale (2D torso length) and where that came from.

    Attributes:
        cm_per_body_scale: the factor, or None when unknown (lengths stay in torso
            lengths).
        source: ``"height"`` (the person's height), ``"world"`` (MediaPipe's 3D pose)
            or ``"none"``.
        height_cm: the height used (source ``"height"``), else None.
    """

    cm_per_body_scale: float | None
    source: str
    height_cm: float | None = None

    @property
    def unit(self) -> str:
        """Unit of converted lengths: ``"cm"`` or ``"torso lengths"``."""
        return "cm" if self.cm_per_body_scale else "torso lengths"

    def length(self, body_scales: float) -> float:
        """``body_scales`` in :attr:`unit`."""
        return body_scales * self.cm_per_body_scale if self.cm_per_body_scale \
            else body_scales

    def describe(self) -> str:
        """One sentence for the report saying how lengths were scaled."""
        if self.source == "height":
            return (f"Lengths in cm from the person's height ({self.height_cm:g} cm; torso "
                    f"= {TORSO_PER_HEIGHT} x height): 1 torso length = "
                    f"{self.cm_per_body_scale:.1f} cm.")
        if self.source == "world":
            return (f"Lengths in cm from MediaPipe's 3D pose (its metric world landmarks, "
                    f"approximate; give --height-cm for a better scale): 1 torso length = "
                    f"{self.cm_per_body_scale:.1f} cm.")
        return ("Lengths in torso lengths (shoulder midpoint to hip midpoint): no height "
                "given and no 3D pose; give --height-cm for centimetres.")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"unit": self.unit, "cm_per_body_scale": None if self.cm_per_body_scale
                is None else round(self.cm_per_body_scale, 2), "source": self.source,
                "height_cm": self.height_cm}


def length_scale(world: np.ndarray | None, height_cm: float | None) -> LengthScale:
    """How to turn body scales into cm.

    Args:
        world: ``(T, 33, 3)`` MediaPipe world landmarks, metres (NaN = missing), or None.
        height_cm: the person's standing height, cm (None or <= 0: unknown).

    Returns:
        From the height when given (torso = :data:`TORSO_PER_HEIGHT` x height), else the
        median 3D torso length of the world landmarks, else no scale.
    """
    torso = world_torso_m(np.asarray(world, dtype=np.float64)) if world is not None \
        and len(world) else np.empty(0)
    return scale_from_torso(float(np.median(torso)) if torso.size else None, height_cm)


def world_torso_m(world: np.ndarray) -> np.ndarray:
    """3D torso lengths (shoulder midpoint to hip midpoint), metres, of the frames of
    ``world`` ``(T, 33, 3)`` where it is known (finite, > 0)."""
    sh = 0.5 * (world[:, L.LEFT_SHOULDER] + world[:, L.RIGHT_SHOULDER])
    hip = 0.5 * (world[:, L.LEFT_HIP] + world[:, L.RIGHT_HIP])
    torso = np.linalg.norm(sh - hip, axis=1)
    return torso[np.isfinite(torso) & (torso > 0)]


def scale_from_torso(torso_m: float | None, height_cm: float | None) -> LengthScale:
    """:func:`length_scale` from the median 3D torso length (metres; None: unknown), for
    a live session that collected the lengths frame by frame."""
    if height_cm is not None and height_cm > 0:
        return LengthScale(TORSO_PER_HEIGHT * float(height_cm), "height", float(height_cm))
    if torso_m is not None:
        return LengthScale(100.0 * torso_m, "world")
    return LengthScale(None, "none")


def unit(measure: Measure, scale: LengthScale) -> str:
    """The unit a measure is shown in."""
    return scale.unit if measure.length else "deg"


def display(measure: Measure, value: Any, scale: LengthScale) -> float:
    """A JSON value (deg or body scales) in the shown unit; NaN when missing."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    if not math.isfinite(v):
        return float("nan")
    return scale.length(v) if measure.length else v


def threshold(measure: Measure, cfg: StepdownConfig, scale: LengthScale) -> float:
    """The measure's threshold in the shown unit (``+-`` it when two-sided)."""
    return display(measure, getattr(cfg, measure.threshold), scale)


def fmt(measure: Measure, value: float, scale: LengthScale, with_unit: bool = True) -> str:
    """A shown value with its sign (``"+5.3 deg"``, ``"-1.2 cm"``); ``"–"`` when missing."""
    if not math.isfinite(value):
        return "–"
    digits = measure.digits
    text = f"{value:+.{digits}f}"
    if not text.strip("+-0."):
        text = f"{0.0:+.{digits}f}"
    return f"{text} {unit(measure, scale)}" if with_unit else text


# --- accessors over the result ---------------------------------------------------------

def stepdown_sides(result: StepdownResult) -> list[SideResult]:
    """The scored stance legs of a step-down result, left first."""
    return list(result.sides)


def side_name(side: SideResult) -> str:
    """``"left"`` or ``"right"``: the stance leg."""
    return side.side


def side_reps(side: SideResult) -> list[StepdownRep]:
    """The counted reps of one stance leg, in order."""
    return list(side.reps)


def rep_number(rep: StepdownRep) -> int:
    """1-based rep number within its leg."""
    return rep.index + 1


def rep_fault(rep: StepdownRep, criterion: str) -> bool:
    """Whether the scorer flagged ``criterion`` on this rep."""
    return bool(rep.faults.get(criterion, False))


def rep_values(rep: StepdownRep, scale: LengthScale) -> dict[str, float]:
    """``{measure key: value in its shown unit}`` of one rep (NaN when missing)."""
    return {ms.key: display(ms, rep.metrics.get(ms.key), scale) for ms in STEPDOWN_MEASURES}


def side_criterion(side: SideResult, criterion: str) -> bool:
    """Whether ``criterion`` counts for this leg (present in enough reps)."""
    return bool(side.criteria.get(criterion, False))


def iter_reps(result: StepdownResult) -> Iterator[tuple[str, StepdownRep]]:
    """``(stance leg, rep)`` of every counted rep, left leg first."""
    for side in result.sides:
        for rep in side.reps:
            yield side.side, rep


def measures_json(result: StepdownResult, cfg: StepdownConfig,
                  scale: LengthScale) -> dict[str, Any]:
    """The ``measures`` block of ``result.json``: definitions, scale and shown values.

    ``{"length_scale": {...}, "definitions": {key: {name, unit, meaning, criterion,
    threshold, two_sided}}, "reps": [{side, rep, key: shown value...}]}``.
    """
    defs = {m.key: {"name": m.name, "unit": unit(m, scale), "meaning": m.meaning,
                    "criterion": m.criterion, "threshold": _round(threshold(m, cfg, scale)),
                    "two_sided": m.two_sided} for m in STEPDOWN_MEASURES}
    reps = [{"side": s, "rep": rep_number(r),
             **{k: _round(v, MEASURES_BY_KEY[k].digits)
                for k, v in rep_values(r, scale).items()}}
            for s, r in iter_reps(result)]
    return {"length_scale": scale.to_json(), "definitions": defs, "reps": reps}


def result_json(result: TaskResult, cfg: StepdownConfig,
                scale: LengthScale | None = None) -> dict[str, Any]:
    """The JSON document of a result as ``score --json`` and ``live --json`` write it:
    ``result.to_json()`` plus, for the step-down with a known ``scale``, the
    ``measures`` block (:func:`measures_json`). Called only where JSON is written."""
    from itbcoach.scoring.stepdown import StepdownResult

    data = result.to_json()
    if scale is not None and isinstance(result, StepdownResult):
        data["measures"] = measures_json(result, cfg, scale)
    return data


def _round(v: float, nd: int = 2) -> float | None:
    """``v`` as shown (``nd`` decimals; never ``-0.0``), None when missing."""
    return round(v, nd) + 0.0 if math.isfinite(v) else None


__all__ = [
    "MEASURES_BY_CRITERION",
    "MEASURES_BY_KEY",
    "STEPDOWN_MEASURES",
    "TORSO_PER_HEIGHT",
    "LengthScale",
    "Measure",
    "display",
    "fmt",
    "iter_reps",
    "length_scale",
    "measures_json",
    "rep_fault",
    "rep_number",
    "rep_values",
    "result_json",
    "side_criterion",
    "side_name",
    "side_reps",
    "stepdown_sides",
    "threshold",
    "unit",
]
