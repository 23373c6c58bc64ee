"""Custom metrics, written as CloudWatch Embedded Metric Format log lines.

The names here are shared with the dashboard (tap/monitoring.py imports them), so the two
cannot drift. Standard library only.
"""

from __future__ import annotations

import json

# The stack sets this environment variable on the function; the default is for local runs.
NAMESPACE_ENV = "METRICS_NAMESPACE"
DEFAULT_NAMESPACE = "Tap"

# One dimension set: metrics are aggregated per environment.
DIMENSIONS: tuple[str, ...] = ("Environment",)

# name -> CloudWatch unit
METRICS: dict[str, str] = {
    "Requests": "Count",
    "ClientErrors": "Count",
    "ServerErrors": "Count",
    "HandlerLatency": "Milliseconds",
    "ColdStart": "Count",
}

# Embedded Metric Format's limit per line (http-api.md rule 22).
MAX_METRICS_PER_LINE = 100


def emf_record(
    namespace: str,
    dimensions: dict[str, str],
    values: dict[str, float],
    timestamp_ms: int,
    properties: dict[str, object] | None = None,
) -> dict[str, object]:
    """One EMF document: ``_aws`` metadata, the dimension values, the metric values, and
    ``properties`` (plain log fields: searchable in Logs Insights, not metrics).

    Only names declared in ``METRICS`` and ``DIMENSIONS`` are accepted, so the function
    cannot emit a metric the dashboard does not know.
    """
    if not METRICS.keys() >= values.keys():
        unknown = sorted(set(values) - set(METRICS))
        raise ValueError(f"unknown metric(s) {unknown}; declared: {sorted(METRICS)}")
    if tuple(dimensions) != DIMENSIONS:
        raise ValueError(f"dimensions must be exactly {list(DIMENSIONS)}, got {list(dimensions)}")
    if not values or len(values) > MAX_METRICS_PER_LINE:
        raise ValueError(f"an EMF line holds 1 to {MAX_METRICS_PER_LINE} metrics")
    record: dict[str, object] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(DIMENSIONS)],
                    "Metrics": [{"Name": name, "Unit": METRICS[name]} for name in values],
                }
            ],
        }
    }
    if properties:
        # Properties go first so a property can never shadow a dimension or a metric value.
        record.update((k, v) for k, v in properties.items() if k != "_aws")
    record.update(dimensions)
    record.update(values)
    return record


def emf_line(record: dict[str, object]) -> str:
    """The record as one compact JSON line (no newline), as CloudWatch Logs extracts it."""
    return json.dumps(record, separators=(",", ":"))
