"""The emulator's API Gateway rules as pure functions (tap/local/gateway/apigw.py), checked
directly and against real HTTP API events from tests/events/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tap.local.gateway.apigw import (
    MalformedResultError,
    RequestInfo,
    RouteError,
    RouteMatch,
    RouteTable,
    build_event,
    render_access_log,
    request_time,
    translate_result,
)

CONFORMANCE = Path(__file__).resolve().parents[1] / "events"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        # Developer guide, "Routing API requests": most specific first
        ("GET", "/pets/dog/1", "GET /pets/dog/1"),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),
        ("POST", "/pets/dog/1", "ANY /{proxy+}"),
        ("GET", "/pets", "ANY /pets"),
        ("DELETE", "/pets", "ANY /pets"),
        ("GET", "/", "$default"),
        ("GET", "/pets/dog/1/", "GET /pets/{proxy+}"),  # a trailing slash is a segment
        ("GET", "/pets/dog//x", "GET /pets/{proxy+}"),
    ],
)
def test_route_precedence(method: str, path: str, expected: str) -> None:
    table = RouteTable(
        {
            "GET /pets/dog/1": "f",
            "GET /pets/dog/{id}": "f",
            "GET /pets/{proxy+}": "f",
            "ANY /{proxy+}": "f",
            "ANY /pets": "f",
            "$default": "f",
        }
    )
    match = table.match(method, path)
    assert match is not None
    assert match.route_key == expected


def test_no_default_route_means_no_match() -> None:
    table = RouteTable({"GET /{proxy+}": "f", "GET /items/{id}": "f"})

    assert table.match("GET", "/") is None  # a greedy variable needs a segment
    assert RouteTable({"GET /items/{id}": "f"}).match("GET", "/items/") is None  # empty {id}
    assert table.match("POST", "/x") is None  # no ANY, no $default
    assert table.match("GET", "/Items/1") == RouteMatch("GET /{proxy+}", "f", {"proxy": "Items/1"})


def test_path_parameters_are_decoded() -> None:
    match = RouteTable({"GET /files/{name}": "f"}).match("GET", "/files/a%20b")
    assert match is not None
    assert match.path_parameters == {"name": "a b"}


@pytest.mark.parametrize(
    "key", ["GET", "get /x", "GET x", "FETCH /x", "GET /{proxy+}/more", "GET /a{b}"]
)
def test_invalid_route_keys_are_refused(key: str) -> None:
    with pytest.raises(RouteError) as error:
        RouteTable({key: "f"})
    assert repr(key) in str(error.value)


def test_request_time_format() -> None:
    assert request_time(1795676400) == "26/Nov/2026:07:00:00 +0000"


# --- translate_result --------------------------------------------------------------------


def test_status_code_result_used_as_given() -> None:
    payload = json.dumps(
        {
            "statusCode": 418,
            "headers": {"x-a": "1", "x-flag": True, "content-length": "999"},
            "cookies": ["c=1"],
            "body": "teapot",
        }
    )
    response = translate_result(payload)

    assert response.status == 418
    assert response.body == b"teapot"
    # framing headers are the server's: a function's content-length would corrupt it
    assert response.headers == [("x-a", "1"), ("x-flag", "true"), ("set-cookie", "c=1")]


@pytest.mark.parametrize(
    ("payload", "status", "body"),
    [
        ('{"a": 1}', 200, b'{"a": 1}'),
        ('"text"', 200, b"text"),
        ("[1]", 200, b"[1]"),
        ("null", 200, b"null"),
        ('{"statusCode": 204}', 204, b""),
    ],
)
def test_other_results(payload: str, status: int, body: bytes) -> None:
    response = translate_result(payload)
    assert (response.status, response.body) == (status, body)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("not json", "not JSON"),
        ('{"statusCode": true}', "statusCode must be an integer"),
        ('{"statusCode": 99}', "statusCode must be an integer 100–599"),
        ('{"statusCode": "200"}', "statusCode must be an integer"),
        ('{"statusCode": 200, "headers": []}', "headers must be an object"),
        ('{"statusCode": 200, "headers": {"x": {"a": 1}}}', "header 'x' must be a string"),
        ('{"statusCode": 200, "headers": {"bad name": "v"}}', "invalid name or value"),
        ('{"statusCode": 200, "cookies": "c=1"}', "cookies must be a list"),
        ('{"statusCode": 200, "cookies": ["a\\nb"]}', "line break"),
        ('{"statusCode": 200, "body": 5}', "body must be a string"),
        ('{"statusCode": 200, "isBase64Encoded": "yes"}', "isBase64Encoded must be"),
        ('{"statusCode": 200, "body": "@@", "isBase64Encoded": true}', "not base64"),
    ],
)
def test_malformed_results_are_refused(payload: str, reason: str) -> None:
    with pytest.raises(MalformedResultError) as error:
        translate_result(payload)
    assert reason in str(error.value)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-evil": "\x1b[2J\x07\r\n" + "A" * 100_000},  # an invalid value (a line break)
        {"\x1b[2J" + "B" * 100_000: "v"},  # an invalid name
        {"x-list": ["\x1b[2J", "C" * 100_000]},  # not a string
    ],
)
def test_a_malformed_result_is_described_bounded_and_escaped(headers: dict[str, object]) -> None:
    payload = json.dumps({"statusCode": 200, "headers": headers})

    with pytest.raises(MalformedResultError) as error:
        translate_result(payload)

    message = str(error.value)
    assert len(message) < 1000
    assert "\x1b" not in message
    assert "\\x1b[2J" in message or "\\u001b[2J" in message  # as Python or as JSON
    assert "characters in all)" in message


# --- access log --------------------------------------------------------------------------


def test_access_log_substitution() -> None:
    template = (
        '{"id":"$context.requestId","ip":"$context.identity.sourceIp",'
        '"status":$context.status,"err":"$context.integrationErrorMessage",'
        '"unknown":"$context.nope.deeper","path":"$context.path"}'
    )
    line = render_access_log(
        template,
        {
            "requestId": "r1",
            "identity.sourceIp": "127.0.0.1",
            "status": 200,
            "integrationErrorMessage": None,
            "path": '/a"b\\c',
        },
    )

    assert json.loads(line) == {
        "id": "r1",
        "ip": "127.0.0.1",
        "status": 200,
        "err": "-",
        "unknown": "-",
        "path": '/a"b\\c',  # escaped, so the line stays JSON
    }


def test_access_log_variable_followed_by_a_literal_dot() -> None:
    line = render_access_log("$context.status.done $context.stage", {"status": 201})
    assert line == "201.done -"


# --- events against real captures ---------------------------------------------------------


def _request(**overrides: object) -> RequestInfo:
    values: dict[str, object] = {
        "method": "GET",
        "raw_path": "/",
        "raw_query": "",
        "protocol": "HTTP/1.1",
        "headers": [("Host", "127.0.0.1:8080"), ("User-Agent", "curl/8"), ("Accept", "*/*")],
        "body": b"",
        "source_ip": "127.0.0.1",
        "request_id": "MIZRNhJtIAMEMDw=",
        "epoch_s": 1795676400.25,
        "server_port": 8080,
    }
    values.update(overrides)
    return RequestInfo(**values)  # type: ignore[arg-type]


def test_get_event_has_the_keys_of_a_real_curl_get() -> None:
    # GIVEN a real HTTP API event for "curl GET /" with no body, query, cookies or authorizer
    real = json.loads(
        (CONFORMANCE / "rustruntime__apigw_v2_proxy_request_minimal.json").read_text()
    )

    event = build_event(
        _request(),
        RouteMatch("$default", "f"),
        api_id="xxx",
        account_id="123456789012",
        stage="$default",
    )

    # THEN the emulator's event has exactly the same keys, at the top and in the context
    assert set(event) == set(real)
    assert set(event["requestContext"]) == set(real["requestContext"])
    assert set(event["requestContext"]["http"]) == set(real["requestContext"]["http"])
    assert set(real["headers"]) <= set(event["headers"])
    assert event["requestContext"]["timeEpoch"] == 1795676400250
    assert event["requestContext"]["time"] == "26/Nov/2026:07:00:00 +0000"
    assert event["headers"]["content-length"] == "0"


def test_post_event_matches_the_documented_example() -> None:
    # GIVEN the request the developer guide's 2.0 example describes
    real = json.loads(
        (CONFORMANCE / "awsdocs-apigw-devguide__http-api-v2-example.json").read_text()
    )
    request = _request(
        method="POST",
        raw_path="/my/path",
        raw_query="parameter1=value1&parameter1=value2&parameter2=value",
        headers=[
            ("Header1", "value1"),
            ("Header2", "value1"),
            ("Header2", "value2"),
            ("Cookie", "cookie1; cookie2"),
            ("Content-Type", "text/plain"),
        ],
        body=b"Hello from Lambda",
    )

    event = build_event(
        request,
        RouteMatch("$default", "f"),
        api_id="api-id",
        account_id="123456789012",
        stage="$default",
    )

    for key in (
        "version",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "cookies",
        "queryStringParameters",
        "body",
        "isBase64Encoded",
    ):
        assert event[key] == real[key], key
    # header names lowercase (rule 3), where the documentation example shows them mixed
    assert event["headers"]["header1"] == real["headers"]["Header1"]
    assert event["headers"]["header2"] == real["headers"]["Header2"]
