"""Custom metrics, written as CloudWatch Embedded Metric Format log lines.

The names here are shared with the dashboard (tap/monitoring.py imports them), so the two
cannot drift. Standard library only.
"""

# No `from __future__ import annotations`: every annotation here is valid at run time on
# Python 3.10+, and that import costs ~0.2 ms of every cold start.

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


def emf_record(
    namespace: str,
    dimensions: dict[str, str],
    values: dict[str, float],
    timestamp_ms: int,
    properties: dict[str, object] | None = None,
) -> dict[str, object]:
    """One EMF document (docs/http-api.md rule 22): ``_aws`` metadata, ``properties`` (plain log
    fields, searchable in Logs Insights), the dimension values, then the metric values, so
    a property can never shadow a dimension or a metric. Only names declared in
    ``METRICS`` and ``DIMENSIONS`` are accepted: the dashboard knows every metric."""
    if not values or not METRICS.keys() >= values.keys() or tuple(dimensions) != DIMENSIONS:
        raise ValueError(
            f"metrics {list(values)} / dimensions {list(dimensions)}: expected 1 or more of "
            f"{list(METRICS)} / exactly {list(DIMENSIONS)}"
        )
    metrics = [{"Name": name, "Unit": METRICS[name]} for name in values]
    directive = {"Namespace": namespace, "Dimensions": [list(DIMENSIONS)], "Metrics": metrics}
    record: dict[str, object] = {
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]}
    }
    record.update(properties or {})
    record.update(dimensions)
    record.update(values)
    return record


# Compact separators: the line is billed per byte (docs/http-api.md, prices).
emf_line = json.JSONEncoder(separators=(",", ":")).encode
