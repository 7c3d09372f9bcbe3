"""Per-frame geometry kernel: landmarks -> named metrics (angles and offsets)."""

from itbcoach.kernel.core import compute_frame, compute_metrics
from itbcoach.kernel.table import (
    FOOT_HALF_BREADTH,
    METRIC_NAMES,
    METRICS,
    NUM_METRICS,
    Kind,
    Metric,
    MetricSpec,
)

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
