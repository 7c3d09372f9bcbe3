"""Trend plots of past sessions (matplotlib, headless)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from itbcoach.config import Config
from itbcoach.report.history import History

#: Step-down metrics shown in the trend plot: payload key -> axis label.
STEPDOWN_TREND_METRICS = {
    "pelvic_drop_deg": "pelvic drop (deg)",
    "trunk_lean_deg": "trunk lean (deg)",
    "fppa_deg": "knee FPPA (deg)",
}
SIDE_STYLE = {"left": ("tab:blue", "o"), "right": ("tab:orange", "s")}
#: Piva categories of the score panel: (low, high, label, colour) in score units.
SCORE_BANDS = ((-0.5, 1.5, "good (0-1)", "tab:green"), (1.5, 3.5, "medium (2-3)", "gold"),
               (3.5, 7.5, "poor (4+)", "tab:red"))


def metric_thresholds(config: Config) -> dict[str, tuple[float, str]]:
    """Threshold line per trend metric: ``{key: (value, label)}`` from ``[stepdown]``."""
    sd = config.stepdown
    return {"pelvic_drop_deg": (sd.pelvic_drop_deg, f"pelvis fault ≥ {sd.pelvic_drop_deg:g}°"),
            "trunk_lean_deg": (sd.trunk_lean_deg, f"trunk fault ≥ {sd.trunk_lean_deg:g}°"),
            "fppa_deg": (sd.fppa_note_deg, f"FPPA noted > {sd.fppa_note_deg:g}°")}


def plot_trend(history: History, task: str, out: Path, config: Config | None = None,
               person: str | None = None) -> int:
    """Plot the trend of ``task`` over sessions into ``out`` (PNG). Returns points plotted.

    Step-down: score per side (0-7, with the good/medium/poor bands labelled) and the
    median per-rep metrics per side with the fault thresholds of ``config`` (dashed,
    labelled), from ``stepdown_side`` events. Exercises: reps / steps / hold seconds per
    side per session, from ``rep``, ``step`` and ``hold`` events. ``person``: only that
    person's sessions.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sessions = {s.id: s for s in history.sessions(task)
                if person is None or (s.person or "") == person}
    if task == "stepdown":
        events = [e for e in history.events(type="stepdown_side", task=task)
                  if e.session_id in sessions]
        panels = ["score", *STEPDOWN_TREND_METRICS]
        fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.2 * len(panels)), sharex=True)
        n = 0
        for side, (color, marker) in SIDE_STYLE.items():
            rows = [e for e in events if (e.side or e.data.get("side")) == side]
            times = [datetime.fromisoformat(sessions[e.session_id].started_at) for e in rows]
            for ax, key in zip(axes, panels, strict=True):
                values = [e.data.get(key) if key == "score" else
                          (e.data.get("metrics") or {}).get(key) for e in rows]
                pts = [(t, v) for t, v in zip(times, values, strict=True) if v is not None]
                if pts:
                    ax.plot(*zip(*pts, strict=True), marker=marker, color=color, label=side)
                    n += len(pts)
        for lo, hi, label, color in SCORE_BANDS:
            axes[0].axhspan(lo, hi, color=color, alpha=0.12)
            axes[0].text(1.01, (lo + hi) / 2, label, transform=axes[0].get_yaxis_transform(),
                         va="center", ha="left", fontsize=8, color="black")
        axes[0].set_ylim(-0.5, 7.5)
        axes[0].set_ylabel("Piva score")
        lines = metric_thresholds(config) if config is not None else {}
        for ax, key in zip(axes[1:], STEPDOWN_TREND_METRICS, strict=True):
            ax.set_ylabel(STEPDOWN_TREND_METRICS[key])
            if key in lines:
                value, label = lines[key]
                ax.axhline(value, color="tab:red", ls="--", lw=2.0, label=label)
                lo, hi = ax.get_ylim()  # room above the line: it never sits on the frame
                ax.set_ylim(lo, max(hi, value + 0.15 * (value - lo)))
        axes[0].set_title("Lateral step-down test over time (stance leg)"
                          + (f" — {person}" if person else ""))
    else:
        fig, axes = plt.subplots(1, 1, figsize=(8, 3))
        axes = [axes]
        n = 0
        counts: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
        for sid, sess in sessions.items():
            t = datetime.fromisoformat(sess.started_at)
            per: dict[tuple[str, str], float] = {}
            for e in history.events(session_id=sid):
                if e.type in ("rep", "step"):
                    key = (e.type, e.side or "both")
                    per[key] = per.get(key, 0) + 1
                elif e.type == "hold":
                    key = ("hold s", e.side or "both")
                    per[key] = per.get(key, 0) + float(e.data.get("duration_s", 0))
            for key, v in per.items():
                counts.setdefault(key, []).append((t, v))
        for (kind, side), pts in sorted(counts.items()):
            color, marker = SIDE_STYLE.get(side, ("tab:gray", "^"))
            axes[0].plot(*zip(*pts, strict=True), marker=marker, color=color,
                         label=f"{kind} ({side})")
            n += len(pts)
        axes[0].set_ylabel("per session")
        axes[0].set_title(f"{task} over time" + (f" — {person}" if person else ""))
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    from itbcoach.output import output_path

    try:
        with output_path(out) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
    finally:
        plt.close(fig)
    return n
