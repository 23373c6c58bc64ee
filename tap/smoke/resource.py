"""The ``SmokeCheck`` resource the stack declares, and its type token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from tap import engine
from tap.smoke.inputs import PROTECTED_REQUEST, RESULT_OUTPUTS
from tap.smoke.provider import SmokeCheckProvider

# ---------------------------------------------------------------------------------------
# The resource.


@dataclass
class SmokeCheckArgs:
    url: pulumi.Input[str]
    """The stage's invoke URL (``https://<id>.execute-api.<region>.amazonaws.com/``)."""
    expected_environment: pulumi.Input[str]
    """The environment ``GET /health`` must report."""
    origin: pulumi.Input[str]
    """An allowed origin to preflight with: ``preflight_origin(cors)``."""
    expected_cors: pulumi.Input[dict[str, Any]]
    """The configured CORS, as ``expected_cors(cors)`` builds it."""
    trigger: pulumi.Input[str]
    """Changes whenever the function or the API changes (code hash, routes, CORS...): a new
    value re-runs the check."""
    deadline_seconds: pulumi.Input[int] = field(default=120)
    """How long to keep retrying before failing the deploy."""
    protected_request: str | None = None
    """With tap:auth, ``"METHOD /path"`` of a route that must answer 401 without a token."""


class SmokeCheck(dynamic.Resource, module="smoke", name="SmokeCheck"):
    """The smoke check as a resource: created, and re-run, on deploys that change the API."""

    # Numbers come back from the engine as floats (JSON numbers).
    passed_at: pulumi.Output[str]
    """When the check last passed, UTC ISO-8601 (``2026-01-31T12:00:00Z``)."""
    attempts: pulumi.Output[float]
    """Rounds it took (a round runs every check once)."""
    latency_ms: pulumi.Output[float]
    """Sum of the passing round's request latencies, in milliseconds."""
    checks: pulumi.Output[dict[str, Any]]
    """Per check: ``{"request", "status", "latency_ms", "passed", "kind"}``, keyed by check
    name; ``kind`` is ``verified`` or ``unverified``."""
    warnings: pulumi.Output[list[str]]
    """The unverified checks that did not pass, one line each: what was expected, what came
    back, and the docs/http-api.md rule it rests on. They never fail the deploy."""

    def __init__(
        self, name: str, args: SmokeCheckArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props: dict[str, Any] = {
            "url": args.url,
            "expected_environment": args.expected_environment,
            "origin": args.origin,
            "expected_cors": args.expected_cors,
            "trigger": args.trigger,
            "deadline_seconds": args.deadline_seconds,
        }
        if args.protected_request is not None:
            props[PROTECTED_REQUEST] = args.protected_request
        # Declared as None so they become this resource's output properties.
        props.update(dict.fromkeys(RESULT_OUTPUTS))
        super().__init__(SmokeCheckProvider(), name, props, opts)


# The type token the resource registers under (module="smoke", name="SmokeCheck").
TYPE_TOKEN = engine.SMOKE_CHECK
