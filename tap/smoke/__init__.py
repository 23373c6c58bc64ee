"""Post-deploy smoke check: a Pulumi dynamic resource that calls the deployed API.

After each deploy that changes the function or the API, the ``SmokeCheck`` resource sends
three requests to the live stage and judges four checks. Each check has a kind
(``CHECK_KINDS``, docs/http-api.md rule 33): a failing *verified* check fails ``pulumi up``
with a readable report; a failing *unverified* one, resting on AWS behaviour no capture has
confirmed, is reported in the ``warnings`` output and does not fail a deploy whose resources
all exist by then.

- ``health`` (verified): ``GET /health`` from an allowed origin answers 200 JSON with
  ``status: healthy`` and the expected environment (the function's contract, rule 8).
- ``cors`` (unverified): that answer carries the configured CORS headers (rule 17).
- ``preflight`` (unverified): an ``OPTIONS /health`` preflight from an allowed origin gets the
  configured CORS answer from API Gateway itself (rules 16, 18, 19; its status is unverified).
- ``not_found`` (verified): an unknown path answers API Gateway's own 404
  ``{"message":"Not Found"}`` (rule 12), proving routes are generated from the route table
  and unknown paths never run code.

A fresh API can take a while to answer (DNS, stage propagation), so the whole round is
retried with exponential backoff and jitter until the deadline.

Constraints that shape this module (docs/tools.md, "Dynamic providers"):

- The provider object is serialized with dill when the resource is constructed and stored in
  state; the deploy-time host un-dills it. Its class is pickled by reference (module +
  name): ``SmokeCheckProvider`` and ``RetryPolicy`` are defined in submodules but keep
  ``__module__ == "tap.smoke"`` and stay attributes of this package, the name the state of
  deployed stacks holds, so that state loads. Nothing unpicklable is held at module level
  or on the provider (no clients, sessions, locks, SSL contexts): each request builds what
  it needs.
- Standard library HTTP only (``urllib``): the host that runs the provider has the program's
  virtualenv, nothing more is needed.
- ``create`` outputs only what it returns, so the meaningful inputs are echoed into the
  outputs: the engine hands *old outputs* to ``diff``/``update``.
- Numbers from the engine arrive as floats (``deadline_seconds`` 120.0, ``max_age`` 300.0).

Layout, one job per module: ``inputs`` (names, validation, ``SmokeSpec``), ``probe`` (the
HTTP request within its deadline), ``checks`` (what each answer must be, and each check's
kind), ``retry`` (rounds until the deadline), ``provider`` and ``resource``. The builders
that read the stack's configuration live in ``tap.stack``: this package never imports
``tap.config``.
"""

from __future__ import annotations

from tap.smoke.checks import (
    CHECK_KINDS,
    CORS,
    HEALTH,
    HEALTH_PATH,
    NOT_FOUND,
    PREFLIGHT,
    PREFLIGHT_STATUSES,
    UNAUTHORIZED,
    UNKNOWN_PATH,
    UNVERIFIED,
    VERIFIED,
    CheckResult,
    Mismatch,
)
from tap.smoke.inputs import (
    CORS_KEYS,
    INPUTS,
    MAX_DEADLINE_S,
    MIN_DEADLINE_S,
    PROTECTED_REQUEST,
    RECHECK_INPUTS,
    RESULT_OUTPUTS,
    SAMPLE_ORIGIN,
    ExpectedCors,
    SmokeCheckInputError,
    SmokeSpec,
    smoke_trigger,
    validate_inputs,
)
from tap.smoke.probe import (
    MAX_BODY_BYTES,
    REQUEST_TIMEOUT_S,
    NoResponseError,
    Response,
    is_loopback,
    new_opener,
    send,
)
from tap.smoke.provider import SmokeCheckProvider
from tap.smoke.resource import TYPE_TOKEN, SmokeCheck, SmokeCheckArgs
from tap.smoke.retry import (
    RetryPolicy,
    SmokeCheckFailedError,
    SmokeReport,
    run_smoke_check,
    utc_now,
)

# The classes dill pickles by reference into stack state are recorded under the module
# tap.smoke, the name deployed stacks hold, and share one string object for it: dill
# memoizes the second occurrence, so the pickled provider is byte for byte the one in those
# stacks' state (tests/smoke/test_smoke_provider.py).
SmokeCheckProvider.__module__ = RetryPolicy.__module__ = __name__

__all__ = [
    "CHECK_KINDS",
    "CORS",
    "CORS_KEYS",
    "HEALTH",
    "HEALTH_PATH",
    "INPUTS",
    "MAX_BODY_BYTES",
    "MAX_DEADLINE_S",
    "MIN_DEADLINE_S",
    "NOT_FOUND",
    "PREFLIGHT",
    "PREFLIGHT_STATUSES",
    "PROTECTED_REQUEST",
    "RECHECK_INPUTS",
    "REQUEST_TIMEOUT_S",
    "RESULT_OUTPUTS",
    "SAMPLE_ORIGIN",
    "TYPE_TOKEN",
    "UNAUTHORIZED",
    "UNKNOWN_PATH",
    "UNVERIFIED",
    "VERIFIED",
    "CheckResult",
    "ExpectedCors",
    "Mismatch",
    "NoResponseError",
    "Response",
    "RetryPolicy",
    "SmokeCheck",
    "SmokeCheckArgs",
    "SmokeCheckFailedError",
    "SmokeCheckInputError",
    "SmokeCheckProvider",
    "SmokeReport",
    "SmokeSpec",
    "is_loopback",
    "new_opener",
    "run_smoke_check",
    "send",
    "smoke_trigger",
    "utc_now",
    "validate_inputs",
]
