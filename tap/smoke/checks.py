"""The checks of a response: what each request must get back, and each check's kind
(verified or unverified, docs/http-api.md rule 33).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tap.smoke.inputs import ExpectedCors, SmokeSpec
from tap.smoke.probe import NoResponseError, Response, send
from tap.text import quote

# ---------------------------------------------------------------------------------------
# Names and limits.

HEALTH = "health"
CORS = "cors"
PREFLIGHT = "preflight"
NOT_FOUND = "not_found"
UNAUTHORIZED = "unauthorized"

# What each check rests on. VERIFIED: the function's own contract or AWS behaviour that
# docs/http-api.md marks verified; a mismatch fails the deploy. UNVERIFIED: behaviour it
# marks assumed (rule 16's preflight status, rule 17's headers on answers, rule 19); a
# mismatch is a warning in the outputs (rule 33).
VERIFIED = "verified"
UNVERIFIED = "unverified"
CHECK_KINDS: dict[str, str] = {
    HEALTH: VERIFIED,
    CORS: UNVERIFIED,
    PREFLIGHT: UNVERIFIED,
    NOT_FOUND: VERIFIED,
    UNAUTHORIZED: VERIFIED,  # docs/http-api.md rule 61 (401 verified)
}
# The docs/http-api.md rules each unverified check rests on, quoted in its warnings.
UNVERIFIED_RULES: dict[str, str] = {CORS: "rule 17", PREFLIGHT: "rules 16, 18, 19"}

HEALTH_PATH = "/health"
# A GET on a path no route matches: the route table has no GET /{proxy+}
# (tap/function/routes.py), so API Gateway answers it without calling the function.
UNKNOWN_PATH = "/tap-smoke-check/no-such-route"

# How much of an unexpected body a failure report quotes.
MAX_BODY_EXCERPT = 200

# Preflight answer statuses accepted. docs/http-api.md rule 16: API Gateway answers preflight
# itself; 204 is what serverless-offline, ministack and Powertools answer, but it is
# unverified against AWS, and 200 is the other status browsers accept for a successful
# preflight (Fetch standard: any "ok status", 200-299). Accepting both keeps a real
# deploy from failing on an unverified detail while still refusing 4xx/5xx.
PREFLIGHT_STATUSES = (200, 204)


# ---------------------------------------------------------------------------------------
# The three checks. Each returns mismatches as (expected, received) pairs; none = passed.


@dataclass(frozen=True)
class Mismatch:
    expected: str
    received: str


@dataclass(frozen=True)
class CheckResult:
    name: str
    request: str  # "GET /health", for the report
    status: int | None
    latency_ms: int
    mismatches: tuple[Mismatch, ...] = ()
    attempted: bool = True

    @property
    def kind(self) -> str:
        return CHECK_KINDS[self.name]

    @property
    def passed(self) -> bool:
        return self.attempted and not self.mismatches

    def as_output(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "passed": self.passed,
            "kind": self.kind,
        }

    def warnings(self) -> list[str]:
        """An unverified check's mismatches, one line each; a verified check has none."""
        if self.kind != UNVERIFIED:
            return []
        where = f"{self.name} ({self.request})"
        why = f"(unverified AWS behaviour, docs/http-api.md {UNVERIFIED_RULES[self.name]})"
        if not self.attempted:
            return [f"{where}: not attempted before the deadline {why}"]
        return [f"{where}: expected {m.expected}, got {m.received} {why}" for m in self.mismatches]


Judge = Callable[[Response], list[Mismatch]]


@dataclass(frozen=True)
class _Probe:
    """One request, and the checks judged on its answer: (check name, judge)."""

    method: str
    path: str
    headers: Mapping[str, str]
    checks: tuple[tuple[str, Judge], ...]
    expected_status: str


def probes_of(spec: SmokeSpec) -> tuple[_Probe, ...]:
    requested_method = _preflight_method(spec.cors)
    requested_header = next((h for h in spec.cors.allow_headers if h != "*"), None)
    preflight_headers = {"Origin": spec.origin, "Access-Control-Request-Method": requested_method}
    if requested_header:
        preflight_headers["Access-Control-Request-Headers"] = requested_header
    probes: tuple[_Probe, ...] = (
        _Probe(
            "GET",
            HEALTH_PATH,
            {"Origin": spec.origin, "Accept": "application/json"},
            ((HEALTH, lambda r: _judge_health(spec, r)), (CORS, lambda r: _judge_cors(spec, r))),
            "status 200",
        ),
        _Probe(
            "OPTIONS",
            HEALTH_PATH,
            preflight_headers,
            ((PREFLIGHT, lambda r: _judge_preflight(spec, requested_method, requested_header, r)),),
            "status " + " or ".join(str(s) for s in PREFLIGHT_STATUSES),
        ),
        _Probe(
            "GET",
            UNKNOWN_PATH,
            {"Accept": "application/json"},
            ((NOT_FOUND, _judge_not_found),),
            "status 404",
        ),
    )
    if spec.protected_request:
        method, _, path = spec.protected_request.partition(" ")
        probes += (
            _Probe(
                method,
                path,
                {"Accept": "application/json"},  # and no Authorization header
                ((UNAUTHORIZED, _judge_unauthorized),),
                "status 401",
            ),
        )
    return probes


def _preflight_method(cors: ExpectedCors) -> str:
    if "GET" in cors.allow_methods or "*" in cors.allow_methods:
        return "GET"
    return next((m for m in cors.allow_methods if m != "OPTIONS"), "GET")


def _status_and_body(response: Response) -> str:
    if not response.body:
        return f"status {response.status} with no body"
    text = response.body.decode("utf-8", errors="replace")
    return f"status {response.status} with body {quote(text, MAX_BODY_EXCERPT)}"


def _json_object(response: Response) -> dict[str, Any] | None:
    try:
        data = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _shown(value: str | None) -> str:
    return "none" if value is None else quote(value)


def _judge_health(spec: SmokeSpec, response: Response) -> list[Mismatch]:
    if response.status != 200:
        return [Mismatch("status 200", _status_and_body(response))]
    data = _json_object(response)
    if data is None:
        return [Mismatch("a JSON object body", _status_and_body(response))]
    problems = []
    if data.get("status") != "healthy":
        problems.append(Mismatch("status 'healthy'", f"status {quote(data.get('status'))}"))
    if data.get("environment") != spec.expected_environment:
        problems.append(
            Mismatch(
                f"environment {spec.expected_environment!r}",
                f"environment {quote(data.get('environment'))}",
            )
        )
    return problems


def _judge_cors(spec: SmokeSpec, response: Response) -> list[Mismatch]:
    # docs/http-api.md rule 17: a response to a request from an allowed origin carries the
    # configured CORS headers, added by API Gateway (the function sets none).
    problems: list[Mismatch] = []
    allow_origin = spec.cors.allowed_origin_answer(spec.origin)
    received = response.headers.get("access-control-allow-origin")
    if received != allow_origin:
        expected = (
            "no access-control-allow-origin"
            if allow_origin is None
            else f"access-control-allow-origin {allow_origin!r}"
        )
        problems.append(Mismatch(expected, _shown(received)))
    if allow_origin is not None:
        problems.extend(
            _exact_list(
                response, "access-control-expose-headers", spec.cors.expose_headers, str.lower
            )
        )
    return problems


def _judge_preflight(
    spec: SmokeSpec, method: str, header: str | None, response: Response
) -> list[Mismatch]:
    allow_origin = spec.cors.allowed_origin_answer(spec.origin)
    received_origin = response.headers.get("access-control-allow-origin")
    if allow_origin is None:
        # No origin is allowed: whatever the status (docs/http-api.md rule 19, unverified), the
        # answer must grant nothing.
        if received_origin is not None:
            return [Mismatch("no access-control-allow-origin", quote(received_origin))]
        return []
    if response.status not in PREFLIGHT_STATUSES:
        expected = " or ".join(str(s) for s in PREFLIGHT_STATUSES)
        return [Mismatch(f"status {expected}", _status_and_body(response))]
    problems = []
    if received_origin != allow_origin:
        problems.append(
            Mismatch(f"access-control-allow-origin {allow_origin!r}", _shown(received_origin))
        )
    problems.extend(
        _granted_list(
            response, "access-control-allow-methods", spec.cors.allow_methods, method, str.upper
        )
    )
    problems.extend(
        _granted_list(
            response, "access-control-allow-headers", spec.cors.allow_headers, header, str.lower
        )
    )
    max_age = response.headers.get("access-control-max-age")
    if spec.cors.max_age > 0 or max_age is not None:
        expected_age = str(spec.cors.max_age)
        if max_age is None or max_age.strip() != expected_age:
            problems.append(Mismatch(f"access-control-max-age {expected_age!r}", _shown(max_age)))
    credentials = response.headers.get("access-control-allow-credentials")
    if spec.cors.allow_credentials and credentials != "true":
        problems.append(Mismatch("access-control-allow-credentials 'true'", _shown(credentials)))
    if not spec.cors.allow_credentials and credentials is not None:
        problems.append(Mismatch("no access-control-allow-credentials", quote(credentials)))
    return problems


def _split(value: str | None, normalize: Callable[[str], str]) -> set[str]:
    if value is None:
        return set()
    return {normalize(part.strip()) for part in value.split(",") if part.strip()}


def _granted_list(
    response: Response,
    header: str,
    configured: tuple[str, ...],
    requested: str | None,
    normalize: Callable[[str], str],
) -> list[Mismatch]:
    """A preflight's allow-list: grants what was asked, and nothing outside the config.

    Whether API Gateway lists every configured value or echoes the requested one is
    unverified; both are a correct answer, so only "covers the request, no wider" is checked.
    """
    received = response.headers.get(header)
    granted = _split(received, normalize)
    allowed = {normalize(v) for v in configured}
    described = ", ".join(configured) if configured else "nothing"
    if "*" not in allowed and granted - allowed - {"*"}:
        return [Mismatch(f"{header} within {described}", _shown(received))]
    if "*" in granted and "*" not in allowed:
        return [Mismatch(f"{header} within {described}", _shown(received))]
    if requested is not None and normalize(requested) not in granted and "*" not in granted:
        return [Mismatch(f"{header} including {requested}", _shown(received))]
    return []


def _exact_list(
    response: Response, header: str, configured: tuple[str, ...], normalize: Callable[[str], str]
) -> list[Mismatch]:
    received = response.headers.get(header)
    if _split(received, normalize) == {normalize(v) for v in configured}:
        return []
    expected = f"{header} {', '.join(configured)!r}" if configured else f"no {header}"
    return [Mismatch(expected, _shown(received))]


def _judge_not_found(response: Response) -> list[Mismatch]:
    # docs/http-api.md rule 12: API Gateway's own answer when no route matches.
    data = _json_object(response)
    if response.status != 404 or data != {"message": "Not Found"}:
        return [
            Mismatch('status 404 with body \'{"message":"Not Found"}\'', _status_and_body(response))
        ]
    return []


def _judge_unauthorized(response: Response) -> list[Mismatch]:
    # docs/http-api.md rules 60-61: no token, so the JWT authorizer answers 401 itself.
    data = _json_object(response)
    if response.status != 401 or data != {"message": "Unauthorized"}:
        return [
            Mismatch(
                'status 401 with body \'{"message":"Unauthorized"}\' (no token sent)',
                _status_and_body(response),
            )
        ]
    return []


def run_probe(
    spec: SmokeSpec,
    probe: _Probe,
    timeout: float,
    clock: Callable[[], float],
    opener: urllib.request.OpenerDirector,
) -> list[CheckResult]:
    """Send the probe's request; one result per check judged on the answer."""
    request = f"{probe.method} {probe.path}"
    started = clock()
    try:
        response = send(
            probe.method, spec.endpoint(probe.path), probe.headers, timeout, opener, clock
        )
    except NoResponseError as error:
        latency = _ms(clock() - started)
        missed = (Mismatch(probe.expected_status, str(error)),)
        return [CheckResult(name, request, None, latency, missed) for name, _ in probe.checks]
    latency = _ms(clock() - started)
    return [
        CheckResult(name, request, response.status, latency, tuple(judge(response)))
        for name, judge in probe.checks
    ]


def not_attempted(probe: _Probe) -> list[CheckResult]:
    request = f"{probe.method} {probe.path}"
    return [CheckResult(name, request, None, 0, attempted=False) for name, _ in probe.checks]


def verified_pass(results: Sequence[CheckResult]) -> bool:
    return all(r.passed for r in results if r.kind == VERIFIED)


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
