"""Custom metrics, written as CloudWatch Embedded Metric Format log lines.

The names here are shared with the dashboard (tap/monitoring.py imports them), so the two
cannot drift. Standard library only.
"""

from __future__ import annotations

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
