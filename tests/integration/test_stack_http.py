"""The deployed endpoint over HTTP: the function's contract and API Gateway's own answers.

Locally the stage URL is the emulator's; with TAP_TARGET=aws it is the live stage.
"""

from __future__ import annotations

import json

import pytest

import tap
from tests.integration.stack_target import StackUnderTest

pytestmark = pytest.mark.integration

OTHER_ORIGIN = "https://evil.example.net"
JSON_HEADERS = {"content-type": "application/json"}


def _allowed_origin(stack: StackUnderTest) -> str:
    origins = stack.config.cors.allow_origins
    return "https://example.com" if "*" in origins else origins[0]


def test_health_reports_healthy_with_environment_and_region(stack: StackUnderTest) -> None:
    response = stack.request("GET", "/health")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["status"] == "healthy"
    assert body["environment"] == stack.config.environment
    assert body["region"] == stack.config.region
    assert set(body) == {"status", "timestamp", "environment", "region"}


def test_info_names_the_service_and_version(stack: StackUnderTest) -> None:
    response = stack.request("GET", "/info")
    assert response.status == 200
    body = response.json()
    assert body["service"] == "TAP Serverless API"
    assert body["version"] == tap.__version__
    assert body["environment"] == stack.config.environment


def test_json_post_is_echoed(stack: StackUnderTest) -> None:
    data = {"name": "tap", "items": [1, 2.5, None, True], "nested": {"é": "✓"}}
    response = stack.request(
        "POST", "/orders/42", headers=JSON_HEADERS, body=json.dumps(data).encode()
    )
    assert response.status == 200
    body = response.json()
    assert body["message"] == "POST request processed successfully"
    assert body["path"] == "/orders/42"
    assert body["data"] == data


def test_unknown_path_is_api_gateways_404(stack: StackUnderTest) -> None:
    # No route matches GET /nope: API Gateway answers without calling the function
    # (docs/http-api.md rule 12), so there is no x-request-id from the function.
    response = stack.request("GET", "/nope")
    assert response.status == 404
    assert response.json() == {"message": "Not Found"}
    assert "x-request-id" not in response.headers


def test_preflight_from_an_allowed_origin_gets_the_configured_cors(
    stack: StackUnderTest,
) -> None:
    origin = _allowed_origin(stack)
    response = stack.request(
        "OPTIONS",
        "/health",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    cors = stack.config.cors
    assert response.status == 204  # docs/http-api.md rule 16
    expected_origin = "*" if "*" in cors.allow_origins else origin
    assert response.headers["access-control-allow-origin"] == expected_origin
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == set(cors.allow_methods)
    headers = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert headers == set(cors.allow_headers)
    assert response.headers["access-control-max-age"] == str(cors.max_age)
    assert "access-control-allow-credentials" not in response.headers


def test_preflight_from_another_origin_gets_no_cors_grant(stack: StackUnderTest) -> None:
    response = stack.request(
        "OPTIONS",
        "/health",
        headers={"origin": OTHER_ORIGIN, "access-control-request-method": "GET"},
    )
    granted = {h: v for h, v in response.headers.items() if h.startswith("access-control-allow-")}
    if "*" in stack.config.cors.allow_origins:
        # A stack that allows every origin has no "other" origin: it grants "*" (rule 18).
        assert granted["access-control-allow-origin"] == "*"
    else:
        # The local deploy lists its origins (stack_target.LOCAL_CONFIG), so this branch
        # is the one that runs locally.
        assert granted == {}


def test_simple_request_from_an_allowed_origin_carries_cors_headers(
    stack: StackUnderTest,
) -> None:
    origin = _allowed_origin(stack)
    response = stack.request("GET", "/health", headers={"origin": origin})
    assert response.status == 200
    cors = stack.config.cors
    assert response.headers["access-control-allow-origin"] == (
        "*" if "*" in cors.allow_origins else origin
    )
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert exposed == set(cors.expose_headers)


def test_a_binary_body_is_refused_by_its_content_type(stack: StackUnderTest) -> None:
    # The function accepts only JSON bodies: 415 naming what to send (decided on the
    # content type, before the body is read; base64 transport is the next test's).
    response = stack.request(
        "POST",
        "/upload",
        headers={"content-type": "application/octet-stream"},
        body=bytes(range(256)),
    )
    assert response.status == 415
    assert response.json() == {
        "error": "content-type 'application/octet-stream' is not supported; send application/json"
    }


def test_a_binary_media_type_body_arrives_base64_as_the_bytes_sent(stack: StackUnderTest) -> None:
    # application/problem+json is not one of the text types, so it travels base64
    # (docs/http-api.md rule 6): the function decodes the very bytes sent, and names the
    # offset of the one that is not UTF-8 (a body passed as text would have been read, or
    # refused, as characters).
    response = stack.request(
        "POST",
        "/items/1",
        headers={"content-type": "application/problem+json"},
        body=b'{"a": "\xff"}',
    )
    assert response.status == 400
    assert response.json() == {
        "error": "request body is not valid UTF-8: invalid start byte at byte 7"
    }


def test_a_body_without_content_type_is_read_as_json(stack: StackUnderTest) -> None:
    # No Content-Type header at all, as requests.post(url, data=...) sends: API Gateway
    # base64-encodes such a body (docs/http-api.md rule 6) and the function reads it as JSON.
    response = stack.request("POST", "/notes", body=b'{"note": "caf\xc3\xa9"}')
    assert response.status == 200
    assert response.json()["data"] == {"note": "café"}
    refused = stack.request("POST", "/notes", body=b"note=cafe")
    assert refused.status == 400
    assert "a body without content-type is read as JSON" in refused.json()["error"]


def test_json_under_a_binary_media_type_is_decoded_from_base64(stack: StackUnderTest) -> None:
    # application/problem+json is not one of the text types, so it travels base64
    # (rule 6); the function decodes it and echoes the same data.
    data = {"title": "naïve ✓", "status": 418}
    response = stack.request(
        "PUT",
        "/items/1",
        headers={"content-type": "application/problem+json"},
        body=json.dumps(data, ensure_ascii=False).encode("utf-8"),
    )
    assert response.status == 200
    body = response.json()
    assert body["message"] == "PUT request processed successfully"
    assert body["data"] == data
