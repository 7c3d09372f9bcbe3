"""Draw docs/images/filming-guide.png: where to put the camera for the step-down test.

Run from the repository root: ``python docs/figures/filming_guide.py``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, Polygon, Rectangle  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "images" / "filming-guide.png"


def person(ax, x: float, base: float, facing_left: bool = True) -> None:
    """A side-view stick person 1.75 m tall standing on a 20 cm step at ``x``."""
    k = dict(color="#333", lw=3, solid_capstyle="round")
    hip, sh, head = base + 0.92, base + 1.43, base + 1.62
    ax.plot([x, x], [base, hip], **k)  # stance leg
    ax.plot([x, x + 0.05, x + 0.02], [hip, base + 0.5, base + 0.05], **k)  # free leg
    ax.plot([x, x], [hip, sh], **k)
    ax.add_patch(Circle((x, head), 0.1, fill=False, lw=3, color="#333"))
    ax.plot([x, x + 0.12, x + 0.02], [sh - 0.05, sh - 0.3, hip + 0.05], **k)  # hand on hip


def main() -> None:
    fig, (side, front) = plt.subplots(1, 2, figsize=(10, 4.2),
                                      gridspec_kw={"width_ratios": [2.2, 1]})
    # side view
    side.axhline(0, color="#777", lw=1)
    side.add_patch(Rectangle((2.75, 0), 0.45, 0.2, color="#c9a36b"))
    person(side, 2.95, 0.2)
    side.plot([0, 0], [0, 1.0], color="#1f77b4", lw=2)  # tripod
    side.add_patch(Polygon([[-0.12, 0.93], [0.12, 0.93], [0.12, 1.07], [-0.12, 1.07]],
                           color="#1f77b4"))
    side.plot([0.12, 2.75], [1.0, 2.05], color="#1f77b4", lw=0.8, ls=":")
    side.plot([0.12, 2.75], [1.0, -0.05], color="#1f77b4", lw=0.8, ls=":")
    side.add_patch(FancyArrowPatch((0.0, -0.25), (2.95, -0.25), arrowstyle="<->",
                                   mutation_scale=12, color="#c62828"))
    side.text(1.5, -0.42, "2.5-3 m from the camera to the step", ha="center",
              color="#c62828", fontsize=10)
    side.text(-0.15, 1.16, "camera at hip height\n(0.8-1.1 m), level", ha="left",
              fontsize=9, color="#1f77b4")
    side.text(2.6, 0.05, "step\n~20 cm", ha="right", fontsize=8, color="#8a6a3a")
    side.set_xlim(-0.4, 3.5)
    side.set_ylim(-0.55, 2.2)
    side.set_aspect("equal")
    side.axis("off")
    side.set_title("From the side: where the camera goes", fontsize=11, loc="left")
    # what the camera sees
    front.add_patch(Rectangle((0, 0), 1.0, 1.33, fill=False, lw=2, color="#1f77b4"))
    k = dict(color="#333", lw=3, solid_capstyle="round")
    cx = 0.5
    front.add_patch(Rectangle((0.3, 0.1), 0.4, 0.07, color="#c9a36b"))
    front.plot([cx - 0.06, cx - 0.06], [0.17, 0.62], **k)  # stance leg on the step
    front.plot([cx + 0.06, cx + 0.07], [0.62, 0.12], **k)  # free leg
    front.plot([cx - 0.08, cx + 0.08], [0.62, 0.62], **k)  # pelvis
    front.plot([cx, cx], [0.62, 0.98], **k)
    front.plot([cx - 0.12, cx + 0.12], [0.98, 0.98], **k)  # shoulders
    front.plot([cx - 0.12, cx - 0.17, cx - 0.08], [0.98, 0.8, 0.65], **k)  # hands on hips
    front.plot([cx + 0.12, cx + 0.17, cx + 0.08], [0.98, 0.8, 0.65], **k)
    front.add_patch(Circle((cx, 1.08), 0.07, fill=False, lw=3, color="#333"))
    front.text(0.5, -0.08, "whole body, both feet and the step in view;\n"
               "face the camera, hands on hips", ha="center", va="top", fontsize=9)
    front.set_xlim(-0.05, 1.05)
    front.set_ylim(-0.3, 1.4)
    front.set_aspect("equal")
    front.axis("off")
    front.set_title("What the camera should see", fontsize=11, loc="left")
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=90)
    print(OUT)


if __name__ == "__main__":
    main()
