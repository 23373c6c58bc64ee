"""tap/api.py's pure parts: access-log format, route names, permission scope, CORS."""

from __future__ import annotations

import json

import pytest

from tap import api
from tap.config import CorsConfig
from tap.function.routes import ROUTE_KEYS


def test_the_access_log_format_is_one_line_of_json_with_the_fields_to_debug_a_request() -> None:
    text = api.access_log_format()

    assert "\n" not in text
    fields = json.loads(text)
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    assert fields["routeKey"] == "$context.routeKey"
    assert fields["responseLatency"] == "$context.responseLatency"
    assert fields["integrationLatency"] == "$context.integrationLatency"
    assert fields["integrationError"] == "$context.integrationErrorMessage"


def test_every_access_log_value_is_a_quoted_context_variable() -> None:
    # An unquoted variable with no value is written as "-": the line would not be JSON.
    for name, value in json.loads(api.access_log_format()).items():
        assert isinstance(value, str), name
        assert value.startswith("$context."), name


def test_the_access_log_holds_no_header_or_query_values() -> None:
    text = api.access_log_format().lower()

    for leak in ("authorization", "cookie", "header", "querystring", "api-key", "apikey"):
        assert leak not in text


def test_each_route_of_the_table_gets_its_own_readable_name() -> None:
    suffixes = api.route_resource_suffixes(ROUTE_KEYS)

    assert list(suffixes) == list(ROUTE_KEYS)
    assert len(set(suffixes.values())) == len(ROUTE_KEYS)
    assert suffixes["GET /"] == "get-root"
    assert suffixes["GET /health"] == "get-health"
    assert suffixes["POST /{proxy+}"] == "post-proxy"


def test_two_routes_that_would_share_a_name_are_refused() -> None:
    with pytest.raises(ValueError, match=r"routes 'GET /a-b' and 'GET /a/b' map to the same name"):
        api.route_resource_suffixes(["GET /a-b", "GET /a/b"])


def test_the_invoke_permission_covers_this_apis_stages_and_routes_only() -> None:
    execution_arn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"

    assert api.invoke_source_arn(execution_arn) == f"{execution_arn}/*/*"


@pytest.mark.parametrize("arn", ["", "*", "arn:aws:lambda:us-east-1:1:function:f"])
def test_a_permission_for_anything_but_an_execution_arn_is_refused(arn: str) -> None:
    with pytest.raises(ValueError, match="not an API execution ARN"):
        api.invoke_source_arn(arn)


def test_the_route_target_names_the_integration() -> None:
    assert api.integration_target("abc1234") == "integrations/abc1234"


def test_cors_is_passed_as_configured_and_no_wider() -> None:
    cors = CorsConfig(
        allow_origins=("https://app.example.com",),
        allow_methods=("GET",),
        allow_headers=("content-type",),
        expose_headers=(),
        max_age=60,
        allow_credentials=True,
    )

    args = api.cors_configuration(cors)

    assert args.allow_origins == ["https://app.example.com"]
    assert args.allow_methods == ["GET"]
    assert args.allow_headers == ["content-type"]
    assert args.expose_headers == []
    assert args.max_age == 60
    assert args.allow_credentials is True


def test_the_integration_timeout_is_the_http_apis_maximum() -> None:
    assert api.INTEGRATION_TIMEOUT_MS == 30_000
    assert api.PAYLOAD_FORMAT_VERSION == "2.0"
