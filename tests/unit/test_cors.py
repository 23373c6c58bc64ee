"""tap/cors.py: API Gateway's CORS as the emulator serves it, the smoke check expects it and
the smoke tests' fake API sends it (docs/http-api.md rules 16-19 and 25)."""

from __future__ import annotations

import pytest

from tap.config import CorsConfig
from tap.cors import (
    PREFLIGHT_STATUS,
    allowed_origin,
    is_preflight,
    origin_allowed,
    preflight_headers,
    response_headers,
    same_origin,
)

LISTED = CorsConfig(
    allow_origins=("https://App.Example.com", "http://localhost:5173"),
    allow_methods=("GET", "POST"),
    allow_headers=("content-type", "authorization"),
    expose_headers=("x-request-id",),
    max_age=300,
    allow_credentials=True,
)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://app.example.com", "https://App.Example.com", True),  # rule 25: host
        ("HTTPS://app.example.com", "https://app.example.com", True),  # rule 25: scheme
        ("https://app.example.com", "http://app.example.com", False),
        ("https://app.example.com", "https://app.example.com:8443", False),
        ("https://app.example.com", "https://app.example.com.evil.test", False),
    ],
)
def test_origins_are_compared_as_origins(a: str, b: str, same: bool) -> None:
    assert same_origin(a, b) is same


def test_a_browsers_lower_case_origin_matches_a_mixed_case_entry_and_is_echoed_as_sent() -> None:
    # GIVEN an entry written with capitals, and the origin a browser sends for it
    browser = "https://app.example.com"

    # THEN it is allowed, and the answer echoes what the request sent (rules 18, 25)
    assert origin_allowed(LISTED.allow_origins, browser)
    assert allowed_origin(LISTED, browser) == browser
    assert allowed_origin(LISTED, "https://other.example.com") is None
    assert allowed_origin(LISTED, None) is None
    assert allowed_origin(CorsConfig(), "https://anything.example") == "*"


def test_a_preflight_from_an_allowed_origin_gets_the_configured_lists() -> None:
    assert preflight_headers(LISTED, "https://app.example.com") == [
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-allow-methods", "GET,POST"),
        ("access-control-allow-headers", "content-type,authorization"),
        ("access-control-max-age", "300"),
        ("access-control-allow-credentials", "true"),
        ("vary", "origin"),
    ]
    assert PREFLIGHT_STATUS == 204  # rule 16 (assumed status)


def test_a_preflight_from_another_origin_is_granted_nothing() -> None:
    assert preflight_headers(LISTED, "https://evil.example") == []  # rule 19
    assert preflight_headers(LISTED, None) == []


def test_an_answer_loses_the_functions_cors_headers_and_gets_the_configured_ones() -> None:
    # GIVEN a function that set its own CORS headers (API Gateway ignores them, rule 17)
    from_function = [
        ("content-type", "application/json"),
        ("Access-Control-Allow-Origin", "*"),
        ("access-control-allow-methods", "DELETE"),
    ]

    allowed = response_headers(LISTED, "https://app.example.com", from_function)
    other = response_headers(LISTED, "https://evil.example", from_function)

    assert allowed == [
        ("content-type", "application/json"),
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-expose-headers", "x-request-id"),
        ("access-control-allow-credentials", "true"),
        ("vary", "origin"),
    ]
    assert other == [("content-type", "application/json")]


def test_every_origin_allowed_is_answered_with_a_star_and_no_vary() -> None:
    headers = response_headers(CorsConfig(), "https://app.example.com")

    assert ("access-control-allow-origin", "*") in headers
    assert not [name for name, _ in headers if name == "vary"]


@pytest.mark.parametrize(
    ("method", "headers", "preflight"),
    [
        (
            "OPTIONS",
            [("Origin", "https://a.example"), ("Access-Control-Request-Method", "GET")],
            True,
        ),
        ("OPTIONS", [("origin", "https://a.example")], False),
        ("OPTIONS", [("access-control-request-method", "GET")], False),
        ("GET", [("origin", "https://a.example"), ("access-control-request-method", "GET")], False),
    ],
)
def test_a_preflight_is_an_options_with_origin_and_request_method(
    method: str, headers: list[tuple[str, str]], preflight: bool
) -> None:
    assert is_preflight(method, headers) is preflight  # rule 16
