"""The smoke check with tap:auth: a protected route asked without a token must answer API
Gateway's own 401 (docs/http-api.md rules 60-61); without tap:auth nothing is asked."""

from __future__ import annotations

import json

import pytest

from tap import config as c
from tap import smoke, stack
from tap.function.routes import ROUTE_KEYS
from tap.smoke import SmokeCheckFailedError
from tests.smoke.fake_api import Answer, FakeTime, Request, ScriptedServer, deployed_api
from tests.smoke.test_smoke_check import props, provider

UNAUTHORIZED = Answer.json(401, {"message": "Unauthorized"})


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def guarded(request: Request) -> Answer:
    """The deployed API with a JWT authorizer on GET /info: no token, 401."""
    if (request.method, request.path) == ("GET", "/info"):
        assert "authorization" not in request.headers
        return UNAUTHORIZED
    return deployed_api()(request)


def open_info(request: Request) -> Answer:
    """The authorizer is missing: GET /info runs the function and answers 200."""
    if (request.method, request.path) == ("GET", "/info"):
        return Answer.json(200, {"service": "TAP Serverless API"})
    return deployed_api()(request)


def test_a_protected_route_answering_401_passes(fake: FakeTime) -> None:
    with ScriptedServer(guarded) as server:
        outs = provider(fake).create(props(server.url, protected_request="GET /info")).outs

    assert outs["checks"]["unauthorized"]["passed"] is True
    assert outs["checks"]["unauthorized"]["kind"] == "verified"
    assert outs["protected_request"] == "GET /info"
    assert ("GET", "/info") in {(r.method, r.path) for r in server.requests}


def test_a_protected_route_that_lets_anyone_in_fails_the_deploy(fake: FakeTime) -> None:
    with ScriptedServer(open_info) as server, pytest.raises(SmokeCheckFailedError) as raised:
        provider(fake).create(
            props(server.url, protected_request="GET /info", deadline_seconds=2.0)
        )

    assert raised.value.failing == ("unauthorized",)
    assert 'expected status 401 with body \'{"message":"Unauthorized"}\' (no token sent)' in str(
        raised.value
    )


def test_without_auth_no_protected_request_is_made(fake: FakeTime) -> None:
    with ScriptedServer(deployed_api()) as server:
        outs = provider(fake).create(props(server.url)).outs

    assert "unauthorized" not in outs["checks"]
    assert "protected_request" not in outs
    assert ("GET", "/info") not in {(r.method, r.path) for r in server.requests}


@pytest.mark.parametrize("value", ["/info", "get /info", "GET info", 42])
def test_a_malformed_protected_request_is_refused(value: object) -> None:
    problems = smoke.validate_inputs(props("https://x.example/", protected_request=value))

    assert [name for name, _ in problems] == ["protected_request"]


def _config(**auth: object) -> c.StackConfig:
    return c.parse({"auth": json.dumps({"type": "cognito", **auth})})


def test_the_stack_asks_a_protected_get_first_and_a_fixed_path_for_a_greedy_route() -> None:
    assert stack.protected_request(c.parse({}), ROUTE_KEYS) is None
    assert stack.protected_request(_config(), ROUTE_KEYS) == "GET /info"
    opened = _config(publicRoutes=["GET /", "GET /health", "GET /info"])
    assert stack.protected_request(opened, ROUTE_KEYS) == "DELETE /"
    only_greedy = _config(publicRoutes=[k for k in ROUTE_KEYS if k != "POST /{proxy+}"])
    assert stack.protected_request(only_greedy, ROUTE_KEYS) == "POST /tap-smoke-check"
    assert stack.protected_request(_config(publicRoutes=list(ROUTE_KEYS)), ROUTE_KEYS) is None


def test_the_trigger_changes_with_auth_and_not_without_it() -> None:
    plain = stack.stack_trigger(c.parse({}), "h", ROUTE_KEYS)

    assert stack.stack_trigger(c.parse({}), "h", ROUTE_KEYS) == plain
    assert stack.stack_trigger(_config(), "h", ROUTE_KEYS) != plain
