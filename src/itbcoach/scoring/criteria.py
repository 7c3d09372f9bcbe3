"""The Piva step-down criteria as one table: scoring, the report, the annotated video,
the live coach and the synthetic clips all read their names, words and advice here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Criterion:
    """One criterion seen on video.

    Attributes:
        id: the key in results and JSON (``"pelvis_not_level"``).
        label: the report's name for it.
        flag: the annotated video's fault flag (short).
        short: one or two words for the end-of-rep cue on the annotated video.
        cue: what the live coach says and shows after a rep with it.
        advice: the exercise that trains it (live result screen).
        measured_from: what it is measured from (the report's score card).
        metric: the per-rep metric that quantifies it ("" when none).
        metric_format: how to print that metric in body scales / degrees (the report
            shows measures in its own units, see ``report.measures``).
    """

    id: str
    label: str
    flag: str
    short: str
    cue: str
    advice: str
    measured_from: str
    metric: str = ""
    metric_format: str = ""


#: In Piva's order.
TABLE: tuple[Criterion, ...] = (
    Criterion("arm_strategy", "Arm used for balance", "Arm used for balance", "arms",
              "keep your hands on your hips",
              "Balance: practise single-leg stance with hands on the hips.",
              "wrist-to-hip distance", "wrist_rise", "{:.2f}"),
    Criterion("trunk_lean", "Trunk lean", "Trunk lean", "trunk lean",
              "keep your trunk upright",
              "Trunk control: side planks and upright single-leg work.",
              "shoulder-hip midline", "trunk_lean_deg", "{:+.1f} deg"),
    Criterion("pelvis_not_level", "Pelvis not level", "Pelvis not level", "pelvis",
              "keep your pelvis level",
              "Hip abductors: glute isometric holds and monster band walks.",
              "hip landmark line", "pelvic_drop_deg", "{:+.1f} deg"),
    Criterion("knee_medial_to_second_toe", "Knee inside the 2nd toe",
              "Knee inside 2nd toe", "knee in", "knee over your second toe",
              "Knee alignment: heel-tap step-downs with the knee over the second toe; "
              "midline hinge.", "knee vs toe landmarks", "knee_offset_second_toe", "{:+.2f}"),
    Criterion("knee_medial_to_foot", "Knee inside the foot", "Knee inside foot",
              "knee in", "knee out, over your foot",
              "Knee alignment: heel-tap step-downs from a lower step; banded glute work.",
              "knee vs toe landmarks", "knee_offset_foot", "{:+.2f}"),
    Criterion("unsteady", "Unsteady / uncontrolled", "Unsteady descent", "control",
              "slower and smoother",
              "Control: slow heel-taps (3 s down), lower step first.",
              "heel descent timing, knee wobble"),
)
BY_ID: dict[str, Criterion] = {c.id: c for c in TABLE}
#: The criterion ids, in Piva's order.
IDS: tuple[str, ...] = tuple(c.id for c in TABLE)
