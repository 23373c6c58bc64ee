"""What the smoke check promises that no other test pinned down (found by the mutation run,
tests/mutation): each check's verdict on a given answer, the report's wording, the
provider's update and diff on state the engine hands back.

The judges are reached as the check runs them (``probes_of(spec)``: the probes, each with
the checks judged on its answer), on answers built here; no server is needed for a verdict.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.runtime import rpc

from tap.config import CorsConfig
from tap.smoke import RetryPolicy, SmokeCheckFailedError, SmokeCheckProvider, probe, retry
from tap.smoke.checks import UNKNOWN_PATH as UNKNOWN
from tap.smoke.checks import CheckResult, Mismatch, not_attempted, probes_of
from tap.smoke.inputs import (
    ExpectedCors,
    SmokeCheckInputError,
    SmokeSpec,
    smoke_trigger,
    validate_inputs,
)
from tap.smoke.probe import NoResponseError, Response, send
from tests.smoke.fake_api import (
    Answer,
    FakeTime,
    Request,
    ScriptedServer,
    deployed_api,
    raw_server,
)
from tests.smoke.test_smoke_check import HALF, NOW, props, provider
from tests.smoke.test_smoke_provider import OLD_RESULTS, news, old_outputs

API = "https://abc.execute-api.us-east-1.amazonaws.com/"
URL = "http://127.0.0.1:9/"  # scripted connections: never connected to


def spec(cors: CorsConfig | None = None, **overrides: Any) -> SmokeSpec:
    return SmokeSpec.from_props(props(API, cors, **overrides))


def judge(spec: SmokeSpec, check: str, response: Response) -> list[Mismatch]:
    """The mismatches the check named ``check`` finds in ``response``."""
    for request in probes_of(spec):
        for name, verdict in request.checks:
            if name == check:
                return verdict(response)
    raise AssertionError(f"no check {check!r}")


def answer(status: int, body: bytes = b"", **headers: str) -> Response:
    return Response(status, {k.replace("_", "-"): v for k, v in headers.items()}, body)


# ---------------------------------------------------------------------------------------
# Where the check sends its requests.


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (API, API + "health"),  # a $default stage's URL ends with "/"
        (API + "prod", API + "prod/health"),  # a named stage's does not
        (API + "prod/", API + "prod/health"),
        (API + "preX", API + "preX/health"),
    ],
)
def test_the_endpoint_joins_the_invoke_url_and_the_path_with_one_slash(
    url: str, expected: str
) -> None:
    assert SmokeSpec.from_props(props(url)).endpoint("/health") == expected


# ---------------------------------------------------------------------------------------
# The verdicts on one answer.

NOT_FOUND_BODY = b'{"message":"Not Found"}'


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, b'{"message":"Missing"}'),  # the right status, not API Gateway's body
        (200, NOT_FOUND_BODY),  # API Gateway's body, but a success status
    ],
)
def test_the_unknown_route_needs_both_the_404_and_api_gateways_body(
    status: int, body: bytes
) -> None:
    mismatches = judge(spec(), "not_found", answer(status, body))

    assert mismatches == [
        Mismatch(
            'status 404 with body \'{"message":"Not Found"}\'',
            f"status {status} with body {body.decode()!r}",
        )
    ]


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, b'{"message":"Forbidden"}'), (200, b'{"message":"Unauthorized"}')],
)
def test_the_protected_route_needs_both_the_401_and_the_authorizers_body(
    status: int, body: bytes
) -> None:
    protected = spec(protected_request="GET /orders")

    mismatches = judge(protected, "unauthorized", answer(status, body))

    assert mismatches == [
        Mismatch(
            'status 401 with body \'{"message":"Unauthorized"}\' (no token sent)',
            f"status {status} with body {body.decode()!r}",
        )
    ]


def test_a_body_that_is_not_utf8_is_shown_with_replacement_characters() -> None:
    mismatches = judge(spec(), "health", answer(500, b"bad \xff\xfe answer"))

    assert mismatches == [Mismatch("status 200", "status 500 with body 'bad \ufffd\ufffd answer'")]


def test_a_health_answer_that_is_json_but_not_an_object_is_refused() -> None:
    mismatches = judge(spec(), "health", answer(200, b'["healthy"]'))

    assert mismatches == [Mismatch("a JSON object body", "status 200 with body '[\"healthy\"]'")]


def test_a_check_not_attempted_has_no_status_no_latency_and_did_not_pass() -> None:
    health = probes_of(spec())[0]

    results = not_attempted(health)

    assert results == [
        CheckResult("health", "GET /health", None, 0, attempted=False),
        CheckResult("cors", "GET /health", None, 0, attempted=False),
    ]
    assert results[0].as_output() == {
        "request": "GET /health",
        "status": None,
        "latency_ms": 0,
        "passed": False,
        "kind": "verified",
    }


APP = "https://app.example.com"


def preflight_answer(**changes: str | None) -> Response:
    """A preflight answer granting what ``cors_for_app`` configures, with ``changes``
    (header name with underscores: value, or None to leave the header out)."""
    headers: dict[str, str | None] = {
        "access_control_allow_origin": APP,
        "access_control_allow_methods": "GET",
        "access_control_allow_headers": "content-type",
        "access_control_max_age": "300",
        "access_control_allow_credentials": "true",
    }
    headers.update(changes)
    return answer(204, **{k: v for k, v in headers.items() if v is not None})


def cors_for_app(**changes: Any) -> CorsConfig:
    settings: dict[str, Any] = {
        "allow_origins": (APP,),
        "allow_methods": ("GET",),
        "allow_headers": ("content-type",),
        "expose_headers": (),
        "max_age": 300,
        "allow_credentials": True,
    }
    settings.update(changes)
    return CorsConfig(**settings)


def test_a_preflight_granting_exactly_the_config_passes() -> None:
    assert judge(spec(cors_for_app()), "preflight", preflight_answer()) == []


@pytest.mark.parametrize(
    ("credentials", "shown"), [(None, "none"), ("false", "'false'"), ("TRUE", "'TRUE'")]
)
def test_credentials_expected_by_the_config_must_be_granted_as_true(
    credentials: str | None, shown: str
) -> None:
    answer_ = preflight_answer(access_control_allow_credentials=credentials)

    mismatches = judge(spec(cors_for_app()), "preflight", answer_)

    assert mismatches == [Mismatch("access-control-allow-credentials 'true'", shown)]


def test_no_max_age_configured_needs_no_max_age_header() -> None:
    # max_age 0: API Gateway sends no access-control-max-age (rule 16)
    config = cors_for_app(max_age=0)

    assert judge(spec(config), "preflight", preflight_answer(access_control_max_age=None)) == []
    assert judge(spec(config), "preflight", preflight_answer(access_control_max_age="600")) == [
        Mismatch("access-control-max-age '0'", "'600'")
    ]


def test_a_max_age_of_one_second_must_be_sent() -> None:
    config = cors_for_app(max_age=1)

    mismatches = judge(spec(config), "preflight", preflight_answer(access_control_max_age=None))

    assert mismatches == [Mismatch("access-control-max-age '1'", "none")]


def test_no_headers_configured_grants_none_and_says_nothing_is_allowed() -> None:
    config = cors_for_app(allow_headers=())

    mismatches = judge(
        spec(config), "preflight", preflight_answer(access_control_allow_headers="x-foo")
    )

    assert mismatches == [Mismatch("access-control-allow-headers within nothing", "'x-foo'")]


@pytest.mark.parametrize("granted", ["x-api-key", "*", "x-other, x-api-key"])
def test_a_wildcard_header_config_allows_any_grant_that_covers_the_request(granted: str) -> None:
    # allow_headers "*" plus a named one: the preflight asks for the named one (x-api-key)
    config = cors_for_app(allow_headers=("*", "x-api-key"), allow_credentials=False)

    mismatches = judge(
        spec(config),
        "preflight",
        preflight_answer(
            access_control_allow_headers=granted, access_control_allow_credentials=None
        ),
    )

    assert mismatches == []


def test_an_answer_exposing_headers_when_none_are_configured_is_a_cors_mismatch() -> None:
    config = cors_for_app(expose_headers=())

    mismatches = judge(
        spec(config),
        "cors",
        answer(200, access_control_allow_origin=APP, access_control_expose_headers="x-a"),
    )

    assert mismatches == [Mismatch("no access-control-expose-headers", "'x-a'")]


def test_the_exposed_headers_expected_are_listed_comma_separated() -> None:
    config = cors_for_app(expose_headers=("x-a", "x-b"))

    mismatches = judge(spec(config), "cors", answer(200, access_control_allow_origin=APP))

    assert mismatches == [Mismatch("access-control-expose-headers 'x-a, x-b'", "none")]


def test_expected_cors_reads_allow_credentials_as_given() -> None:
    data = {
        "allow_origins": ["https://app.example.com"],
        "allow_methods": ["get"],
        "allow_headers": ["Content-Type"],
        "expose_headers": [],
        "max_age": 300.0,
        "allow_credentials": True,
    }

    assert ExpectedCors.from_input(data) == ExpectedCors(
        allow_origins=("https://app.example.com",),
        allow_methods=("GET",),
        allow_headers=("content-type",),
        expose_headers=(),
        max_age=300,
        allow_credentials=True,
    )


# ---------------------------------------------------------------------------------------
# The transport: repeated headers.


def test_a_repeated_header_is_one_value_joined_with_a_comma() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nvary: origin\r\nVary: accept\r\n"
        b"content-length: 2\r\nconnection: close\r\n\r\n{}"
    )
    with raw_server(raw) as url:
        response = send("GET", url, {}, 5.0)

    assert response.headers["vary"] == "origin, accept"
    assert response.body == b"{}"


# ---------------------------------------------------------------------------------------
# The failure report.


def _failed(attempts: int) -> SmokeCheckFailedError:
    result = CheckResult("health", "GET /health", 503, 5, (Mismatch("status 200", "status 503"),))
    return SmokeCheckFailedError(API, attempts, 2.5, 30.0, [result])


def test_the_failure_names_the_url_and_counts_one_attempt_in_the_singular() -> None:
    failure = _failed(1)

    assert failure.url == API
    assert str(failure).splitlines()[0] == (
        f"smoke check of {API} failed: 1 of 1 verified checks failing after 1 attempt in "
        "2.5 s (deadline 30 s)"
    )


def test_the_failure_counts_two_attempts_in_the_plural() -> None:
    assert "failing after 2 attempts in 2.5 s" in str(_failed(2))


def test_passed_at_is_the_current_time_in_utc_whatever_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fixed instant, 12:00 UTC; a machine two hours east of UTC reads it as 14:00 local.
    instant = dt.datetime(2026, 1, 31, 12, 0, 0, tzinfo=dt.timezone.utc)

    class FixedClock(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Any:
            if tz is None:
                return instant.astimezone(dt.timezone(dt.timedelta(hours=2))).replace(tzinfo=None)
            return instant.astimezone(tz)

    monkeypatch.setattr(retry, "datetime", FixedClock)

    assert retry.utc_now() == "2026-01-31T12:00:00Z"


# ---------------------------------------------------------------------------------------
# The provider on state the engine hands back.


def test_a_changed_allowed_origin_in_a_list_of_the_same_length_is_a_change() -> None:
    olds = old_outputs(expected_cors={**old_outputs()["expected_cors"], "allow_origins": ["a"]})
    new = news(expected_cors={**news()["expected_cors"], "allow_origins": ["b"]})

    assert SmokeCheckProvider().diff("smoke-1", olds, new).changes is True


def test_update_of_the_deadline_alone_keeps_the_protected_request() -> None:
    fake = FakeTime()
    with ScriptedServer(deployed_api()) as server:
        result = provider(fake).update(
            "smoke-1",
            old_outputs(server.url, protected_request="GET /orders"),
            news(server.url, deadline_seconds=300.0, protected_request="GET /orders"),
        )

    assert server.requests == []
    assert result.outs is not None
    assert result.outs["protected_request"] == "GET /orders"


def test_update_of_state_written_before_the_results_existed_runs_the_check() -> None:
    # GIVEN state from a build that did not record the results, and only the deadline new
    fake = FakeTime()
    with ScriptedServer(deployed_api()) as server:
        olds = old_outputs(server.url)
        for name in OLD_RESULTS:
            del olds[name]
        result = provider(fake).update("smoke-1", olds, news(server.url, deadline_seconds=300.0))

    # THEN the check runs, and its results are the outputs
    assert len(server.requests) == 3
    assert result.outs is not None
    assert result.outs["passed_at"] == NOW
    assert result.outs["attempts"] == 1


# ---------------------------------------------------------------------------------------
# Whole runs on a fake clock: the check's connections are scripted (no sockets), each
# answer taking a set time of the fake clock, so latencies and deadlines are exact.


class ScriptedConnection:
    """A connection answering the request it is sent with ``responder``'s Answer, after
    ``think(request)`` seconds of ``fake``'s clock (None: no answer at all, the connection
    is reset)."""

    def __init__(
        self,
        fake: FakeTime,
        responder: Callable[[Request], Answer],
        think: Callable[[Request], float | None],
        log: list[Request],
    ) -> None:
        self.fake, self.responder, self.think, self.log = fake, responder, think, log
        self.sent = b""
        self.pending: bytearray | None = None

    def settimeout(self, timeout: float | None) -> None:
        pass

    def setsockopt(self, *_: Any) -> None:
        pass

    def sendall(self, data: Any, flags: int = 0) -> None:
        self.sent += bytes(data)

    def close(self) -> None:
        pass

    def _answer(self) -> bytearray:
        head, _, _ = self.sent.partition(b"\r\n\r\n")
        line, *fields = head.decode("latin-1").split("\r\n")
        method, target, _ = line.split(" ")
        headers = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
        request = Request(method, target, headers)
        self.log.append(request)
        delay = self.think(request)
        if delay is None:
            raise ConnectionResetError("connection reset by peer")
        self.fake.now += delay
        reply = self.responder(request)
        lines = [f"HTTP/1.1 {reply.status} X"]
        lines += [f"{k}: {v}" for k, v in reply.headers.items()]
        lines += [f"content-length: {len(reply.body)}", "connection: close", "", ""]
        return bytearray("\r\n".join(lines).encode("latin-1") + reply.body)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if self.pending is None:
            self.pending = self._answer()
        n = min(len(self.pending), nbytes or len(buffer))
        buffer[:n] = self.pending[:n]
        del self.pending[:n]
        return n


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``scripted(fake, responder, think)``: every connection the check opens is a
    ScriptedConnection; returns the requests they received, in order."""

    def script(
        fake: FakeTime,
        responder: Callable[[Request], Answer],
        think: Callable[[Request], float | None] = lambda _: 0.0,
    ) -> list[Request]:
        log: list[Request] = []

        def connect(host: str, port: int, deadline: Any) -> ScriptedConnection:
            deadline.remaining()
            return ScriptedConnection(fake, responder, think, log)

        monkeypatch.setattr(probe, "_connect", connect)
        return log

    return script


def timed_provider(fake: FakeTime, policy: RetryPolicy | None = None) -> SmokeCheckProvider:
    return SmokeCheckProvider(
        policy, clock=fake.clock, sleep=fake.sleep, rand=lambda: HALF, now=lambda: NOW
    )


def test_each_checks_latency_is_its_requests_time_in_whole_milliseconds(scripted: Any) -> None:
    # GIVEN answers taking 12.3 ms (health), 0 ms (preflight) and 1 s (unknown path)
    fake = FakeTime(tick=0.0)
    took = {"GET /health": 0.0123, "OPTIONS /health": 0.0, "GET " + UNKNOWN: 1.0}
    scripted(fake, deployed_api(), lambda r: took[f"{r.method} {r.path}"])

    outs = timed_provider(fake).create(props(URL)).outs

    assert {name: check["latency_ms"] for name, check in outs["checks"].items()} == {
        "health": 12,
        "cors": 12,
        "preflight": 0,
        "not_found": 1000,
    }
    assert outs["latency_ms"] == 1012  # each request once: health and cors share one


def test_the_provider_runs_with_its_own_retry_policy(scripted: Any) -> None:
    # GIVEN a health route answering 503 once, then healthy
    fake = FakeTime(tick=0.0)
    answers = iter([Answer.json(503, {"message": "Service Unavailable"})])
    healthy = deployed_api()

    def responder(request: Request) -> Answer:
        if request.path == "/health" and request.method == "GET":
            return next(answers, None) or healthy(request)
        return healthy(request)

    scripted(fake, responder)

    # WHEN the provider has a policy whose first wait is 0.5 s (not the default 1 s)
    outs = timed_provider(fake, RetryPolicy(initial_backoff_s=0.5)).create(props(URL)).outs

    # THEN it waits by that policy: half fixed, half the random draw (0.5) of 0.5 s
    assert fake.slept == [0.375]
    assert outs["attempts"] == 2


def test_one_opener_serves_every_request_of_a_run(
    scripted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # new_opener: "made per run ... not per request either" (it loads the CA store)
    fake = FakeTime(tick=0.0)
    scripted(fake, deployed_api())
    built: list[str | None] = []
    real = probe.new_opener

    def counting(url: str | None = None) -> Any:
        built.append(url)
        return real(url)

    monkeypatch.setattr(probe, "new_opener", counting)
    monkeypatch.setattr(retry, "new_opener", counting)

    timed_provider(fake).create(props(URL))

    assert built == [URL]


def test_a_round_that_used_up_the_deadline_does_not_send_the_rest(scripted: Any) -> None:
    # GIVEN a health answer (503) taking the whole 2 s deadline
    fake = FakeTime(tick=0.0)
    log = scripted(
        fake, lambda r: Answer.json(503, {"message": "Service Unavailable"}), lambda r: 2.0
    )

    with pytest.raises(SmokeCheckFailedError) as raised:
        timed_provider(fake).create(props(URL, deadline_seconds=2.0))

    # THEN nothing else was sent: the unknown-path check was not attempted
    assert [f"{r.method} {r.path}" for r in log] == ["GET /health"]
    assert str(raised.value).splitlines()[1:] == [
        "  - health (GET /health): expected status 200, got status 503 with body "
        '\'{"message":"Service Unavailable"}\'',
        f"  - not_found (GET {UNKNOWN}): not attempted before the deadline",
    ]
    assert fake.slept == []


def test_the_wait_after_a_failed_round_stops_at_the_deadline(scripted: Any) -> None:
    # GIVEN every answer taking 0.5 s and health failing: a round takes 1.5 s of 2 s
    fake = FakeTime(tick=0.0)
    healthy = deployed_api()

    def responder(request: Request) -> Answer:
        if request.path == "/health" and request.method == "GET":
            return Answer.json(503, {"message": "Service Unavailable"})
        return healthy(request)

    scripted(fake, responder, lambda r: 0.5)

    with pytest.raises(SmokeCheckFailedError):
        timed_provider(fake).create(props(URL, deadline_seconds=2.0))

    # THEN the backoff (0.75 s) is cut to the 0.5 s left, and no second round starts
    assert fake.slept == [0.5]
    assert fake.now == pytest.approx(1000.0 + 2.0)  # FakeTime starts at 1000


def test_a_preflight_without_an_answer_is_a_warning_naming_both_statuses(scripted: Any) -> None:
    fake = FakeTime(tick=0.0)
    scripted(fake, deployed_api(), lambda r: None if r.method == "OPTIONS" else 0.0)

    outs = timed_provider(fake).create(props(URL)).outs

    assert outs["checks"]["preflight"]["latency_ms"] == 0  # reset at once, on the fake clock
    assert outs["warnings"] == [
        "preflight (OPTIONS /health): expected status 200 or 204, got no response: "
        "ConnectionResetError: connection reset by peer "
        "(unverified AWS behaviour, docs/http-api.md rules 16, 18, 19)"
    ]


def test_a_protected_route_without_an_answer_fails_expecting_401(scripted: Any) -> None:
    fake = FakeTime(tick=0.0)
    scripted(fake, deployed_api(), lambda r: None if r.path == "/orders" else 0.0)

    with pytest.raises(SmokeCheckFailedError) as raised:
        timed_provider(fake).create(
            props(URL, protected_request="POST /orders", deadline_seconds=1.0)
        )

    assert str(raised.value).splitlines()[1] == (
        "  - unauthorized (POST /orders): expected status 401, got no response: "
        "ConnectionResetError: connection reset by peer"
    )


def test_every_request_asks_for_json_and_the_protected_one_keeps_its_method(
    scripted: Any,
) -> None:
    fake = FakeTime(tick=0.0)
    api = deployed_api()
    log = scripted(
        fake,
        lambda r: Answer.json(401, {"message": "Unauthorized"}) if r.path == "/orders" else api(r),
    )

    timed_provider(fake).create(props(URL, protected_request="POST /orders"))

    assert [(r.method, r.path, r.headers.get("accept")) for r in log] == [
        ("GET", "/health", "application/json"),
        ("OPTIONS", "/health", None),
        ("GET", UNKNOWN, "application/json"),
        ("POST", "/orders", "application/json"),
    ]
    assert "authorization" not in log[3].headers


# ---------------------------------------------------------------------------------------
# The preflight the check sends.


@pytest.mark.parametrize(
    ("methods", "requested"),
    [
        (("GET", "POST"), "GET"),
        (("POST", "GET"), "GET"),  # GET whenever it is allowed
        (("*",), "GET"),
        (("POST", "PUT"), "POST"),  # else the first allowed one
        (("OPTIONS", "DELETE"), "DELETE"),  # never OPTIONS itself
        (("OPTIONS",), "GET"),
    ],
)
def test_the_preflight_asks_for_get_when_allowed_else_the_first_method(
    methods: tuple[str, ...], requested: str
) -> None:
    preflight = probes_of(spec(cors_for_app(allow_methods=methods)))[1]

    assert preflight.headers["Access-Control-Request-Method"] == requested


def test_a_wildcard_only_header_config_asks_for_no_header() -> None:
    preflight = probes_of(spec(cors_for_app(allow_headers=("*",), allow_credentials=False)))[1]

    assert preflight.headers == {"Origin": APP, "Access-Control-Request-Method": "GET"}


# ---------------------------------------------------------------------------------------
# Input validation: each input's own message.


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("url", 5, "must be a string, got 5"),
        ("url", API + "?a=1", f"must have no query or fragment, got '{API}?a=1'"),
        ("url", API + "#top", f"must have no query or fragment, got '{API}#top'"),
        ("deadline_seconds", "30", "must be a number of seconds 1-900, got '30'"),
        ("deadline_seconds", True, "must be a number of seconds 1-900, got true"),
        ("deadline_seconds", 900.5, "must be a number of seconds 1-900, got 900.5"),
        ("origin", 5, "must be scheme://host[:port], got 5"),
        ("origin", "https://", "must be scheme://host[:port], got 'https://'"),
        (
            "origin",
            "ftp://app.example.com",
            "must be scheme://host[:port], got 'ftp://app.example.com'",
        ),
        (
            "origin",
            "https://a.example/x",
            "must be scheme://host[:port], got 'https://a.example/x'",
        ),
        (
            "origin",
            "https://a.example?x",
            "must be scheme://host[:port], got 'https://a.example?x'",
        ),
        (
            "origin",
            "https://a.example#x",
            "must be scheme://host[:port], got 'https://a.example#x'",
        ),
    ],
)
def test_an_invalid_input_is_named_with_what_is_allowed(name: str, value: Any, reason: str) -> None:
    given = props(API)
    given[name] = value

    assert validate_inputs(given) == [(name, reason)]


@pytest.mark.parametrize("protected", ["GET /a b", "GET /a\tb", "GET  /a", "GET /a\n"])
def test_a_protected_request_whose_path_holds_whitespace_is_refused(protected: str) -> None:
    given = props(API, protected_request=protected)

    assert validate_inputs(given) == [
        ("protected_request", f"must be 'METHOD /path', got {protected!r}")
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("deadline_seconds", 900),
        ("deadline_seconds", 1),
        ("origin", "http://localhost:3000"),
        ("protected_request", "DELETE /orders/{id}"),
    ],
)
def test_the_bounds_and_a_plain_http_origin_are_accepted(name: str, value: Any) -> None:
    assert validate_inputs(props(API, **{name: value})) == []


def test_a_missing_expected_cors_is_only_required() -> None:
    given = props(API)
    del given["expected_cors"]

    assert validate_inputs(given) == [("expected_cors", "is required")]


def test_an_expected_cors_that_is_not_an_object_is_reported_without_checking_the_origin() -> None:
    problems = validate_inputs(props(API, expected_cors="nope"))

    assert problems == [
        (
            "expected_cors",
            "must be an object with allow_origins, allow_methods, allow_headers, "
            "expose_headers, max_age, allow_credentials, got 'nope'",
        )
    ]


def test_the_origin_is_not_held_to_allowed_origins_of_an_invalid_cors() -> None:
    cors = {**props(API)["expected_cors"], "allow_origins": ["https://other.example"]}
    cors["allow_methods"] = "GET"  # invalid: the allowed origins are not trusted then

    problems = validate_inputs(props(API, expected_cors=cors, origin=APP))

    assert problems == [("expected_cors.allow_methods", "must be a list of strings, got 'GET'")]


def test_an_input_unknown_at_run_time_is_named() -> None:
    with pytest.raises(SmokeCheckInputError) as raised:
        SmokeSpec.from_props(props(rpc.UNKNOWN))

    assert raised.value.problems == (("url", "is unknown (not yet computed)"),)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("max_age", "300", "must be a whole number of seconds >= 0, got '300'"),
        ("max_age", True, "must be a whole number of seconds >= 0, got true"),
        ("max_age", -1, "must be a whole number of seconds >= 0, got -1"),
        ("allow_credentials", "yes", "must be true or false, got 'yes'"),
    ],
)
def test_an_invalid_expected_cors_field_is_named(key: str, value: Any, reason: str) -> None:
    cors = {**props(API)["expected_cors"], key: value}

    assert validate_inputs(props(API, expected_cors=cors)) == [(f"expected_cors.{key}", reason)]


def test_a_max_age_of_zero_is_valid() -> None:
    cors = {**props(API)["expected_cors"], "max_age": 0}

    assert validate_inputs(props(API, expected_cors=cors)) == []


def test_an_unknown_cors_list_does_not_stop_the_others_being_checked() -> None:
    cors = {**props(API)["expected_cors"], "allow_origins": rpc.UNKNOWN, "allow_methods": "GET"}

    assert validate_inputs(props(API, expected_cors=cors)) == [
        ("expected_cors.allow_methods", "must be a list of strings, got 'GET'")
    ]


# ---------------------------------------------------------------------------------------
# The transport.


def test_only_http_urls_are_sent() -> None:
    expected = "only http(s) URLs are checked, got 'file:///etc/passwd'"
    with pytest.raises(ValueError, match=re.escape(expected)) as raised:
        send("GET", "file:///etc/passwd", {}, 1.0)

    assert str(raised.value) == expected


def test_a_loopback_url_sent_without_an_opener_skips_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # send() building its own opener makes the same loopback decision as a run's opener
    with ScriptedServer(deployed_api()) as proxy, ScriptedServer(deployed_api()) as api:
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        response = send("GET", api.url + "health", {}, 5.0)

    assert response.status == 200
    assert proxy.requests == []
    assert api.paths() == ["GET /health"]


def test_a_malformed_status_line_is_reported_on_one_line() -> None:
    with raw_server(b"not http\r\nat all\r\n") as url, pytest.raises(NoResponseError) as raised:
        send("GET", url, {}, 2.0)

    assert str(raised.value) == "no response: BadStatusLine: not http"


def test_the_next_address_is_tried_when_one_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a name resolving to a closed port first, then to a live server
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    with ScriptedServer(deployed_api()) as api:
        live_port = int(api.url.rsplit(":", 1)[1].strip("/"))

        def resolver(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p))
                for p in (dead_port, live_port)
            ]

        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        response = send("GET", "http://api.tap-smoke.test/health", {}, 5.0)

    # THEN the request reached the second address
    assert response.status == 200
    assert api.paths() == ["GET /health"]


def test_only_stream_addresses_are_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a resolver listing a datagram address first when not asked for streams only
    # (getaddrinfo's order is the resolver's), as a UDP "connect" would succeed silently
    with ScriptedServer(deployed_api()) as api:
        port = int(api.url.rsplit(":", 1)[1].strip("/"))
        stream = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))
        datagram = (socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("127.0.0.1", port))

        def resolver(host: str, port: Any, *args: Any, type: int = 0, **kwargs: Any) -> Any:
            return [stream] if type == socket.SOCK_STREAM else [datagram, stream]

        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        response = send("GET", "http://api.tap-smoke.test/health", {}, 2.0)

    assert response.status == 200


def test_connecting_waits_only_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a 1.5 s request on a clock that already says 0.5 s passed when it connects
    timeouts: list[float | None] = []
    real_socket = socket.socket

    class Recording(real_socket):  # type: ignore[misc,valid-type]
        def settimeout(self, value: float | None) -> None:
            timeouts.append(value)
            super().settimeout(value)

    monkeypatch.setattr(socket, "socket", Recording)
    readings = iter([0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    with ScriptedServer(deployed_api()) as api:
        send("GET", api.url + "health", {}, 1.5, clock=lambda: next(readings))

    # THEN the connect's timeout was the 1.0 s left
    assert timeouts[0] == pytest.approx(1.0)


def test_the_trigger_is_the_sha256_of_compact_sorted_json() -> None:
    # The digest existing stacks hold: a different canonical form would change every
    # stack's trigger on upgrade and re-run each smoke check for nothing.
    parts = {"settings": {"memory": 512}, "routes": ["GET /health"], "code": "abc"}
    # sha256 of '{"code":"abc","routes":["GET /health"],"settings":{"memory":512}}'
    assert smoke_trigger(parts) == (
        "sha256:9161ed639db7328950fc9644d02c9e0803f6d711c6eff617bf321a8281c76151"
    )
