"""The caller's ``sub``: read from where API Gateway's JWT authorizer puts the claims
(docs/http-api.md rule 62), echoed back, never trusted from anywhere else."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tap.function.events import jwt_subject
from tap.function.handler import App
from tests.function.conformance import http_event, load_event
from tests.function.support import check_response

JWT_EVENT = "awslambdago__apigw-v2-request-jwt-authorizer.json"
SUB = "6418b458-d091-705e-122e-04bf2945fcdf"


def _jwt_post(claims: dict[str, Any] | None = None, method: str = "POST") -> dict[str, Any]:
    """The captured JWT-authorizer event, sent to a route the table has (its own GET
    /my/path has none), with a JSON body and, when given, other claims."""
    event = copy.deepcopy(load_event(JWT_EVENT))
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = f"{method} /{{proxy+}}"
    event["headers"]["content-type"] = "application/json"
    if claims is not None:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    return event


def test_the_captured_jwt_event_has_no_sub_and_the_echo_has_none(app: App) -> None:
    event = _jwt_post()
    assert "sub" not in event["requestContext"]["authorizer"]["jwt"]["claims"]

    status, _, body = check_response(app(event))

    assert status == 200
    assert body["data"] == {"a": 1}
    assert "sub" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_the_echo_carries_the_callers_sub(app: App, method: str) -> None:
    claims = {"sub": SUB, "client_id": "5kek0i61pgkokoob4fsm9fo9it", "exp": "1787996002"}

    status, _, body = check_response(app(_jwt_post(claims, method)))

    assert status == 200
    assert body["sub"] == SUB


def test_without_an_authorizer_there_is_no_sub(app: App) -> None:
    _, _, body = check_response(app(http_event("POST", "/x", body="{}")))

    assert "sub" not in body


@pytest.mark.parametrize(
    "authorizer",
    [
        None,
        "jwt",
        {"jwt": None},
        {"jwt": {"claims": "sub=x"}},
        {"jwt": {"claims": {"sub": 42}}},
        {"jwt": {"claims": {"sub": ""}}},
        {"lambda": {"sub": "not-a-jwt-claim"}},
        {"iam": {"userId": "AIDA..."}},
    ],
)
def test_anything_else_at_the_claims_path_is_no_sub_and_no_error(
    app: App, authorizer: object
) -> None:
    event = _jwt_post()
    event["requestContext"]["authorizer"] = authorizer

    status, _, body = check_response(app(event))

    assert status == 200
    assert "sub" not in body
    assert jwt_subject(event["requestContext"]) is None


def test_a_sub_is_never_read_from_a_header_or_the_body(app: App) -> None:
    event = http_event("POST", "/x", headers={"x-sub": SUB}, body=json.dumps({"sub": SUB}))

    _, _, body = check_response(app(event))

    assert "sub" not in body
    assert body["data"] == {"sub": SUB}
