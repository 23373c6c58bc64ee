"""The smoke check's provider against real HTTP servers on 127.0.0.1 started by the tests.

Time is injected (FakeTime: a clock that only readings and skipped sleeps move; a fixed
random source) so the retries are fast and their waits and durations exact; only the
"never answers" case waits in real time, for a 1 s deadline.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tap.config import CorsConfig
from tap.smoke import SmokeCheckFailedError, SmokeCheckProvider
from tap.stack import expected_cors, preflight_origin
from tests.smoke.fake_api import Answer, FakeTime, Request, ScriptedServer, deployed_api

NOW = "2026-01-31T12:00:00Z"
SERIALIZED = "c2VyaWFsaXplZCBwcm92aWRlcg=="  # what __provider holds; never looked at
HALF = 0.5  # the injected random draw: equal jitter gives 3/4 of each backoff step


def props(url: str, cors: CorsConfig | None = None, **overrides: Any) -> dict[str, Any]:
    cors = cors or CorsConfig()
    base: dict[str, Any] = {
        "url": url,
        "expected_environment": "Production",
        "origin": preflight_origin(cors),
        "expected_cors": expected_cors(cors),
        "trigger": "code:abc123",
        "deadline_seconds": 30.0,  # the engine sends numbers as floats
        "__provider": SERIALIZED,
    }
    base.update(overrides)
    return base


def provider(fake: FakeTime) -> SmokeCheckProvider:
    return SmokeCheckProvider(
        clock=fake.clock, sleep=fake.sleep, rand=lambda: HALF, now=lambda: NOW
    )


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def replacing(path_method: str, answers: list[Answer], fallback: Any) -> Any:
    """A responder answering ``path_method`` with ``answers`` in turn (the last one repeats)."""
    calls = 0

    def respond(request: Request) -> Answer:
        nonlocal calls
        if f"{request.method} {request.path}" != path_method:
            return fallback(request)
        calls += 1
        answer = answers[min(calls, len(answers)) - 1]
        return answer if answer is not None else fallback(request)

    return respond


# ---------------------------------------------------------------------------------------
# Passing.


def test_a_healthy_api_passes_on_the_first_attempt_with_outputs(fake: FakeTime) -> None:
    with ScriptedServer(deployed_api()) as server:
        result = provider(fake).create(props(server.url))

    assert result.id.startswith("smoke-")
    outs = result.outs
    assert outs is not None
    assert outs["passed_at"] == NOW
    assert outs["attempts"] == 1
    assert set(outs["checks"]) == {"health", "cors", "preflight", "not_found"}
    assert {
        name: (c["request"], c["status"], c["passed"], c["kind"])
        for name, c in outs["checks"].items()
    } == {
        "health": ("GET /health", 200, True, "verified"),
        "cors": ("GET /health", 200, True, "unverified"),
        "preflight": ("OPTIONS /health", 204, True, "unverified"),
        "not_found": ("GET /tap-smoke-check/no-such-route", 404, True, "verified"),
    }
    assert outs["warnings"] == []
    # three requests: health and cors are judged on the same answer
    requests = {c["request"]: c["latency_ms"] for c in outs["checks"].values()}
    assert outs["latency_ms"] == sum(requests.values())
    assert all(
        isinstance(c["latency_ms"], int) and c["latency_ms"] >= 0 for c in outs["checks"].values()
    )
    # the inputs are echoed: the engine hands these outputs to diff and update as "olds"
    for name in (
        "url",
        "expected_environment",
        "origin",
        "expected_cors",
        "trigger",
        "deadline_seconds",
    ):
        assert outs[name] == props(server.url)[name]
    assert "__provider" not in outs  # the engine adds it back itself
    assert fake.slept == []
    # it asked the way a browser does
    health, preflight, unknown = server.requests
    assert (health.method, health.path, health.headers["origin"]) == (
        "GET",
        "/health",
        "https://example.com",
    )
    assert (preflight.method, preflight.path) == ("OPTIONS", "/health")
    assert preflight.headers["origin"] == "https://example.com"
    assert preflight.headers["access-control-request-method"] == "GET"
    assert preflight.headers["access-control-request-headers"] == "content-type"
    assert (unknown.method, unknown.path) == ("GET", "/tap-smoke-check/no-such-route")


def test_a_listed_origin_with_credentials_is_echoed_and_passes(fake: FakeTime) -> None:
    # GIVEN an API allowing two listed origins, with credentials (rule 18: echoed)
    cors = CorsConfig(
        allow_origins=("https://app.example.com", "https://admin.example.com"),
        allow_credentials=True,
        max_age=600,
    )
    with ScriptedServer(deployed_api(cors=cors)) as server:
        outs = provider(fake).create(props(server.url, cors)).outs

    assert outs is not None
    assert outs["attempts"] == 1
    assert server.requests[1].headers["origin"] == "https://app.example.com"


def test_two_503s_then_healthy_passes_after_retries_with_backoff_and_jitter(fake: FakeTime) -> None:
    # GIVEN an API whose first two health answers are 503 (a fresh stage warming up)
    unavailable = Answer.json(503, {"message": "Service Unavailable"})
    responder = replacing("GET /health", [unavailable, unavailable, None], deployed_api())

    with ScriptedServer(responder) as server:
        outs = provider(fake).create(props(server.url)).outs

    # THEN the third round passes, after waits of 3/4 of 1 s and of 2 s (equal jitter)
    assert outs is not None
    assert outs["attempts"] == 3
    assert outs["passed_at"] == NOW
    assert fake.slept == [0.75, 1.5]
    assert server.paths().count("GET /health") == 3
    assert outs["checks"]["health"]["status"] == 200


def test_engine_floats_and_a_trailing_slash_free_url_are_accepted(fake: FakeTime) -> None:
    # A named stage's URL has no trailing slash; expected_cors numbers come back as floats.
    cors_input = expected_cors(CorsConfig())
    cors_input["max_age"] = 300.0
    with ScriptedServer(deployed_api()) as server:
        outs = (
            provider(fake)
            .create(props(server.url.rstrip("/"), expected_cors=cors_input, deadline_seconds=120.0))
            .outs
        )

    assert outs is not None
    assert outs["attempts"] == 1
    assert server.paths()[0] == "GET /health"


# ---------------------------------------------------------------------------------------
# Failing: the report names the check, what it expected and what came back.


def fail(
    fake: FakeTime, responder: Any, deadline: float = 5.0, **overrides: Any
) -> SmokeCheckFailedError:
    with ScriptedServer(responder) as server, pytest.raises(SmokeCheckFailedError) as raised:
        provider(fake).create(props(server.url, deadline_seconds=deadline, **overrides))
    return raised.value


def report_lines(error: SmokeCheckFailedError) -> list[str]:
    return str(error).splitlines()


def test_a_wrong_status_fails_naming_the_check_and_what_came_back(fake: FakeTime) -> None:
    broken = Answer.json(500, {"message": "Internal Server Error"})
    error = fail(fake, replacing("GET /health", [broken], deployed_api()))

    # retried at 0.75 s and 1.5 s, then waits out the rest of the 5 s deadline
    assert fake.slept[:2] == [0.75, 1.5]
    assert len(fake.slept) == 3
    assert error.failing == ("health",)
    first, *details = report_lines(error)
    assert first.startswith("smoke check of http://127.0.0.1:")
    assert first.endswith(
        "failed: 1 of 2 verified checks failing after 3 attempts in 5.0 s (deadline 5 s)"
    )
    assert details == [
        "  - health (GET /health): expected status 200, "
        'got status 500 with body \'{"message":"Internal Server Error"}\''
    ]


def test_a_wrong_body_fails_naming_each_wrong_field(fake: FakeTime) -> None:
    degraded = Answer.json(
        200,
        {"status": "degraded", "environment": "Staging"},
        **{"access-control-allow-origin": "*", "access-control-expose-headers": "x-request-id"},
    )
    error = fail(fake, replacing("GET /health", [degraded], deployed_api()))

    assert report_lines(error)[1:] == [
        "  - health (GET /health): expected status 'healthy', got status 'degraded'",
        "  - health (GET /health): expected environment 'Production', got environment 'Staging'",
    ]


def test_a_body_that_is_not_json_fails(fake: FakeTime) -> None:
    html = Answer(200, {"content-type": "text/html"}, b"<h1>It works</h1>")
    error = fail(fake, replacing("GET /health", [html], deployed_api()))

    assert report_lines(error)[1:] == [
        "  - health (GET /health): expected a JSON object body, "
        "got status 200 with body '<h1>It works</h1>'"
    ]


def warned(fake: FakeTime, responder: Any, **overrides: Any) -> dict[str, Any]:
    """Outputs of a check that passes, on its first attempt, with warnings."""
    with ScriptedServer(responder) as server:
        outs = provider(fake).create(props(server.url, **overrides)).outs
    assert outs is not None
    assert outs["attempts"] == 1  # an unverified mismatch is not retried
    assert fake.slept == []
    return outs


def test_a_preflight_missing_the_allow_origin_header_only_warns(fake: FakeTime) -> None:
    bare = Answer(
        204,
        {
            "access-control-allow-methods": "GET,POST,PUT,DELETE,OPTIONS",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "300",
        },
    )
    outs = warned(fake, replacing("OPTIONS /health", [bare], deployed_api()))

    assert outs["checks"]["preflight"]["passed"] is False
    assert outs["checks"]["health"]["passed"] is True
    assert outs["warnings"] == [
        "preflight (OPTIONS /health): expected access-control-allow-origin '*', got none "
        "(unverified AWS behaviour, docs/http-api.md rules 16, 18, 19)"
    ]


def test_cors_wider_than_configured_warns(fake: FakeTime) -> None:
    # GIVEN an API configured for one origin that answers "*" and grants PATCH anyway
    cors = CorsConfig(allow_origins=("https://app.example.com",), allow_methods=("GET", "POST"))
    wide = Answer(
        204,
        {
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET,POST,PATCH",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "300",
        },
    )
    outs = warned(
        fake,
        replacing("OPTIONS /health", [wide], deployed_api(cors=cors)),
        cors=cors,
        origin="https://app.example.com",
        expected_cors=expected_cors(cors),
    )

    why = " (unverified AWS behaviour, docs/http-api.md rules 16, 18, 19)"
    assert outs["warnings"] == [
        "preflight (OPTIONS /health): expected access-control-allow-origin "
        "'https://app.example.com', got '*'" + why,
        "preflight (OPTIONS /health): expected access-control-allow-methods within GET, POST, "
        "got 'GET,POST,PATCH'" + why,
    ]


def test_a_preflight_answered_404_warns_on_its_status(fake: FakeTime) -> None:
    # No CORS configured on the API: the OPTIONS request reaches no route, 404 (rule 12).
    # What API Gateway answers a preflight is unverified (rule 16): a warning.
    outs = warned(
        fake,
        replacing("OPTIONS /health", [Answer.json(404, {"message": "Not Found"})], deployed_api()),
    )

    assert outs["warnings"] == [
        "preflight (OPTIONS /health): expected status 200 or 204, "
        'got status 404 with body \'{"message":"Not Found"}\' '
        "(unverified AWS behaviour, docs/http-api.md rules 16, 18, 19)"
    ]


def test_an_unknown_path_answered_by_the_function_fails(fake: FakeTime) -> None:
    # A catch-all GET route would run the function for every path.
    caught = Answer.json(200, {"status": "healthy"})
    error = fail(fake, replacing("GET /tap-smoke-check/no-such-route", [caught], deployed_api()))

    assert report_lines(error)[1:] == [
        "  - not_found (GET /tap-smoke-check/no-such-route): expected status 404 with body "
        '\'{"message":"Not Found"}\', got status 200 with body \'{"status":"healthy"}\''
    ]


def test_a_missing_cors_header_on_the_health_answer_warns(fake: FakeTime) -> None:
    # rule 17 (unverified): API Gateway adds the CORS headers to actual responses
    no_cors = Answer.json(200, {"status": "healthy", "environment": "Production"})
    outs = warned(fake, replacing("GET /health", [no_cors], deployed_api()))

    assert (outs["checks"]["health"]["passed"], outs["checks"]["cors"]["passed"]) == (True, False)
    why = " (unverified AWS behaviour, docs/http-api.md rule 17)"
    assert outs["warnings"] == [
        "cors (GET /health): expected access-control-allow-origin '*', got none" + why,
        "cors (GET /health): expected access-control-expose-headers 'x-request-id', got none" + why,
    ]


def test_a_verified_failure_fails_even_when_the_unverified_checks_pass(fake: FakeTime) -> None:
    # GIVEN a health answer with every CORS header right and the wrong environment
    staging = Answer.json(
        200,
        {"status": "healthy", "environment": "Staging"},
        **{"access-control-allow-origin": "*", "access-control-expose-headers": "x-request-id"},
    )
    error = fail(fake, replacing("GET /health", [staging], deployed_api()))

    assert error.failing == ("health",)
    assert report_lines(error)[1:] == [
        "  - health (GET /health): expected environment 'Production', got environment 'Staging'"
    ]


def test_the_report_shows_the_last_answer_of_a_check_that_recovered_and_broke_again(
    fake: FakeTime,
) -> None:
    # GIVEN health fails, passes once while the unknown path is still wrong, then fails again
    unavailable = Answer.json(503, {"message": "Service Unavailable"})
    gone = Answer.json(502, {"message": "Bad Gateway"})
    health_script = replacing("GET /health", [unavailable, None, gone], deployed_api())
    responder = replacing("GET /tap-smoke-check/no-such-route", [Answer(200)], health_script)
    error = fail(fake, responder)

    assert report_lines(error)[1:] == [
        "  - health (GET /health): expected status 200, "
        'got status 502 with body \'{"message":"Bad Gateway"}\'',
        "  - not_found (GET /tap-smoke-check/no-such-route): expected status 404 with body "
        '\'{"message":"Not Found"}\', got status 200 with no body',
    ]


def test_a_server_that_never_answers_fails_within_the_deadline() -> None:
    # GIVEN a port that accepts connections and never answers, and a 1 s deadline. The one
    # test on the real clock and sleep: only a real socket timeout shows that a request is
    # bounded by what is left of the deadline. What it asserts is the outcome, not a time.
    from tests.smoke.fake_api import silent_listener

    with silent_listener() as url, pytest.raises(SmokeCheckFailedError) as raised:
        SmokeCheckProvider(now=lambda: NOW).create(props(url, deadline_seconds=1.0))

    # THEN the first request waited out what was left of the deadline, and nothing was
    # attempted after it: it gave up at the deadline, and says so
    health, *not_attempted = report_lines(raised.value)[1:]
    assert re.fullmatch(
        r"  - health \(GET /health\): expected status 200, got no response within (1\.0|0\.9) s",
        health,
    ), health
    assert not_attempted == [
        "  - not_found (GET /tap-smoke-check/no-such-route): not attempted before the deadline",
    ]
    assert raised.value.attempts == 1


def test_a_refused_connection_is_retried_until_the_deadline(fake: FakeTime) -> None:
    from tests.smoke.fake_api import silent_listener

    with silent_listener() as url:
        pass  # closed: nothing listens on that port any more

    with pytest.raises(SmokeCheckFailedError) as raised:
        provider(fake).create(props(url, deadline_seconds=5.0))

    lines = report_lines(raised.value)
    assert lines[0].endswith(
        "failed: 2 of 2 verified checks failing after 3 attempts in 5.0 s (deadline 5 s)"
    )
    assert len(lines) == 3
    for line, request in zip(
        lines[1:],
        ("health (GET /health)", "not_found (GET /tap-smoke-check/no-such-route)"),
        strict=True,
    ):
        assert line.startswith(f"  - {request}: expected status ")
        assert "got no response: [Errno" in line
        assert "refused" in line


def test_an_answer_that_is_not_http_is_reported_not_raised(fake: FakeTime) -> None:
    from tests.smoke.fake_api import raw_server

    with (
        raw_server(b"SSH-2.0-OpenSSH_9.6\r\n") as url,
        pytest.raises(SmokeCheckFailedError) as raised,
    ):
        provider(fake).create(props(url, deadline_seconds=1.0))

    assert report_lines(raised.value)[1] == (
        "  - health (GET /health): expected status 200, "
        "got no response: BadStatusLine: SSH-2.0-OpenSSH_9.6"
    )


def preflight_answer(**overrides: str | None) -> Answer:
    headers: dict[str, str | None] = {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET,POST,PUT,DELETE,OPTIONS",
        "access-control-allow-headers": "content-type,authorization",
        "access-control-max-age": "300",
    }
    headers.update(overrides)
    return Answer(204, {k: v for k, v in headers.items() if v is not None})


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"access-control-max-age": "600"}, "expected access-control-max-age '300', got '600'"),
        ({"access-control-max-age": None}, "expected access-control-max-age '300', got none"),
        (
            {"access-control-allow-credentials": "true"},
            "expected no access-control-allow-credentials, got 'true'",
        ),
        (
            {"access-control-allow-methods": "POST"},
            "expected access-control-allow-methods including GET, got 'POST'",
        ),
        (
            {"access-control-allow-headers": "x-api-key"},
            "expected access-control-allow-headers including content-type, got 'x-api-key'",
        ),
        (
            {"access-control-allow-headers": "*"},
            "expected access-control-allow-headers within content-type, authorization, x-api-key, "
            "x-amz-date, x-amz-security-token, got '*'",
        ),
    ],
    ids=["max-age", "no-max-age", "credentials", "method", "header", "any-header"],
)
def test_each_wrong_preflight_header_is_named_in_a_warning(
    fake: FakeTime, overrides: dict[str, str | None], line: str
) -> None:
    outs = warned(
        fake, replacing("OPTIONS /health", [preflight_answer(**overrides)], deployed_api())
    )

    assert outs["warnings"] == [
        f"preflight (OPTIONS /health): {line} "
        "(unverified AWS behaviour, docs/http-api.md rules 16, 18, 19)"
    ]


def test_an_api_allowing_no_origin_passes_when_it_grants_nothing(fake: FakeTime) -> None:
    cors = CorsConfig(allow_origins=())
    with ScriptedServer(deployed_api(cors=cors)) as server:
        outs = provider(fake).create(props(server.url, cors)).outs

    assert outs is not None
    assert outs["attempts"] == 1


def test_an_api_allowing_no_origin_warns_when_it_grants_one(fake: FakeTime) -> None:
    # GIVEN a config allowing no origin, and an API that answers as if it allowed "*"
    cors = CorsConfig(allow_origins=())
    outs = warned(fake, deployed_api(), expected_cors=expected_cors(cors))

    assert outs["warnings"] == [
        "cors (GET /health): expected no access-control-allow-origin, got '*' "
        "(unverified AWS behaviour, docs/http-api.md rule 17)",
        "preflight (OPTIONS /health): expected no access-control-allow-origin, got '*' "
        "(unverified AWS behaviour, docs/http-api.md rules 16, 18, 19)",
    ]
