"""Per-frame geometry kernel: landmarks -> named metrics (angles and offsets).

The metric table is imported at once; the numba-compiled functions
(:func:`compute_frame`, :func:`compute_metrics`) on first use, so code that only needs
the metric names (the configuration's expression checks, the command line's start) does
not pay numba's ~0.25 s import.
"""

from typing import TYPE_CHECKING, Any

from itbcoach.kernel.table import (
    FOOT_HALF_BREADTH,
    METRIC_NAMES,
    METRICS,
    NUM_METRICS,
    Kind,
    Metric,
    MetricSpec,
)

if TYPE_CHECKING:
    from itbcoach.kernel.core import compute_frame, compute_metrics

_LAZY = ("compute_frame", "compute_metrics")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from itbcoach.kernel import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FOOT_HALF_BREADTH",
    "METRICS",
    "METRIC_NAMES",
    "NUM_METRICS",
    "Kind",
    "Metric",
    "MetricSpec",
    "compute_frame",
    "compute_metrics",
]
