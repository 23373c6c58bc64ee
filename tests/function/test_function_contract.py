"""The function's HTTP contract (docs/design.md), case by case, with exact statuses and messages."""

from __future__ import annotations

import base64
import json
import logging
import types
from typing import Any

import pytest

from tap.function import events, handler, routes
from tap.function.events import MAX_BODY_BYTES
from tap.function.handler import ACTIONS, App
from tap.function.routes import ROUTES, Route
from tests.function.conformance import http_event
from tests.function.support import ENV, NOW_ISO, check_response, make_app

JSON = {"content-type": "application/json"}
ANY_PATH_ALLOW = "DELETE, GET, POST, PUT"


def call(app: App, event: Any, context: Any = None) -> tuple[int, dict[str, str], Any]:
    return check_response(app(event, context))


# --- routes -------------------------------------------------------------------------------


def test_every_route_action_is_implemented() -> None:
    assert {route.action for route in ROUTES} <= set(ACTIONS)


def test_route_keeps_its_named_tuple_interface() -> None:
    route = Route("GET", "/health", "health")
    assert route == ("GET", "/health", "health")
    assert (route.method, route.path, route.action, route.key) == (
        "GET",
        "/health",
        "health",
        "GET /health",
    )
    assert repr(route) == "Route(method='GET', path='/health', action='health')"
    assert routes.ROUTE_KEYS[1] == "GET /health"


def test_a_templated_route_path_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"route 'GET /items/\{id\}': a path must be literal"):
        routes.compile_routes((Route("GET", "/items/{id}", "health"),))


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("GET", "/", "GET /"),
        ("GET", "/health", "GET /health"),
        ("POST", "/health", "POST /{proxy+}"),  # a literal route of another method
        ("DELETE", "/a/b/c", "DELETE /{proxy+}"),
        ("PUT", "/", "PUT /"),  # {proxy+} does not match "/" itself
    ],
)
def test_match_picks_the_route_api_gateway_would(method: str, path: str, key: str) -> None:
    route, allowed = routes.match(method, path)
    assert route is not None
    assert route.key == key
    assert allowed == ()


# --- the contract's answers ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/health"])
def test_health(app: App, path: str) -> None:
    assert call(app, http_event("GET", path)) == (
        200,
        {"content-type": "application/json", "x-request-id": "LV7fzho-PHcEJPw="},
        {
            "status": "healthy",
            "timestamp": NOW_ISO,
            "environment": "Production",
            "region": "us-east-1",
        },
    )


def test_info(app: App) -> None:
    _, _, body = call(app, http_event("GET", "/info"))
    assert body == {
        "service": "TAP Serverless API",
        "version": "1.2.3",
        "environment": "Production",
        "region": "us-east-1",
        "timestamp": NOW_ISO,
    }


def test_environment_defaults_when_variables_are_missing(lines: list[str]) -> None:
    _, _, body = call(make_app(lines, env={}), http_event("GET", "/info"))
    assert (body["version"], body["environment"], body["region"]) == ("unknown",) * 3
    assert json.loads(lines[0])["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Tap"


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("path", ["/", "/items/42"])
def test_post_and_put_echo_the_decoded_json(app: App, method: str, path: str) -> None:
    event = http_event(method, path, headers=JSON, body='{"a": [1, 2.5, null, "é"]}')
    assert call(app, event)[::2] == (
        200,
        {
            "message": f"{method} request processed successfully",
            "path": path,
            "data": {"a": [1, 2.5, None, "é"]},
            "timestamp": NOW_ISO,
        },
    )


def test_post_without_a_body_echoes_null(app: App) -> None:
    assert call(app, http_event("POST", "/x"))[2]["data"] is None


@pytest.mark.parametrize("path", ["/", "/things/7"])
def test_delete(app: App, path: str) -> None:
    # A DELETE's body is not read: even an undeclared one does not change the answer.
    event = http_event("DELETE", path, body="not json")
    assert call(app, event)[::2] == (
        200,
        {"message": "DELETE request processed successfully", "path": path, "timestamp": NOW_ISO},
    )


def test_unknown_path_is_404_listing_the_routes(app: App) -> None:
    status, headers, body = call(app, http_event("GET", "/nope"))
    assert status == 404
    assert "allow" not in headers
    assert body == {"error": "no route for GET /nope; routes: " + ", ".join(routes.ROUTE_KEYS)}


@pytest.mark.parametrize(
    ("method", "path"), [("PATCH", "/health"), ("HEAD", "/"), ("get", "/info")]
)
def test_known_path_other_method_is_405_with_allow(app: App, method: str, path: str) -> None:
    status, headers, body = call(app, http_event(method, path))
    assert (status, headers["allow"]) == (405, ANY_PATH_ALLOW)
    assert body == {"error": f"{method} is not allowed on {path}; allowed: {ANY_PATH_ALLOW}"}


@pytest.mark.parametrize(
    ("stage", "raw_path", "status", "path"),
    [
        ("prod", "/prod/health", 200, None),  # a named stage's prefix is stripped (rule 2)
        ("prod", "/prod", 200, None),  # ... leaving "/" when nothing follows it
        ("prod", "/prod/items", 200, "/items"),
        ("prod", "/production/health", 404, None),  # only a whole segment is the stage
        ("prod", "/health", 200, None),  # a custom domain mapping sends no stage prefix
        ("$default", "/$default/health", 404, None),  # $default adds nothing to strip
    ],
)
def test_named_stage_prefix(
    app: App, stage: str, raw_path: str, status: int, path: str | None
) -> None:
    method = "POST" if path else "GET"
    event = http_event(method, raw_path, stage=stage, headers=JSON, body="{}" if path else None)
    got, _, body = call(app, event)
    assert got == status
    if path:
        assert body["path"] == path


# --- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON; charset=UTF-8",
        'application/json;charset="utf-8"',
        "application/problem+json",
    ],
)
def test_json_content_types_are_read(app: App, content_type: str) -> None:
    event = http_event("POST", "/x", headers={"Content-Type": content_type}, body="[1]")
    assert call(app, event)[2]["data"] == [1]


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        (
            {"content-type": "text/plain"},
            "content-type 'text/plain' is not supported; send application/json",
        ),
        (
            {"content-type": "application/x-www-form-urlencoded"},
            "content-type 'application/x-www-form-urlencoded' is not supported; "
            "send application/json",
        ),
        (
            {"content-type": "application/json; charset=latin-1"},
            "charset 'latin-1' is not supported; JSON must be UTF-8",
        ),
    ],
)
def test_a_body_declared_other_than_json_is_415(
    app: App, headers: dict[str, str], error: str
) -> None:
    assert call(app, http_event("PUT", "/x", headers=headers, body='{"a": 1}'))[::2] == (
        415,
        {"error": error},
    )


@pytest.mark.parametrize("is_base64", [False, True])
def test_a_body_without_content_type_is_read_as_json(app: App, is_base64: bool) -> None:
    # GIVEN a JSON body and no Content-Type header at all (requests.post(url, data=...));
    # API Gateway base64-encodes such a body (docs/http-api.md rule 6), captures have both
    body = '{"a": [1, "✓"]}'
    if is_base64:
        body = base64.b64encode(body.encode()).decode()
    event = http_event("PUT", "/x", body=body, is_base64=is_base64)
    # THEN it is echoed as if declared application/json
    status, _, parsed = call(app, event)
    assert (status, parsed["data"]) == (200, {"a": [1, "✓"]})


@pytest.mark.parametrize(
    ("body", "is_base64", "error"),
    [
        (
            "say=Hi&to=Mom",
            False,
            "request body is not valid JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        (
            base64.b64encode(b"say=Hi&to=Mom").decode(),
            True,
            "request body is not valid JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        (
            "eyJhIjogMX0",
            True,
            "request body is not valid base64 (isBase64Encoded is true): expected A-Z a-z "
            "0-9 + / with = padding to a multiple of 4 characters",
        ),
        (
            base64.b64encode(b"\xff").decode(),
            True,
            "request body is not valid UTF-8: invalid start byte at byte 0",
        ),
    ],
)
def test_a_body_without_content_type_that_is_not_json_is_told_to_send_json(
    app: App, body: str, is_base64: bool, error: str
) -> None:
    event = http_event("POST", "/x", body=body, is_base64=is_base64)
    assert call(app, event)[::2] == (
        400,
        {
            "error": error + " (a body without content-type is read as JSON; "
            "send JSON, content-type application/json)"
        },
    )


def test_base64_json_body_is_decoded(app: App) -> None:
    encoded = base64.b64encode('{"ok": "✓"}'.encode()).decode()
    event = http_event("POST", "/x", headers=JSON, body=encoded, is_base64=True)
    assert call(app, event)[2]["data"] == {"ok": "✓"}


@pytest.mark.parametrize(
    ("body", "is_base64", "error"),
    [
        (
            "eyJhIjogMX0",  # missing padding
            True,
            "request body is not valid base64 (isBase64Encoded is true): expected A-Z a-z "
            "0-9 + / with = padding to a multiple of 4 characters",
        ),
        (
            "eyJh IjogMX0=",  # a space: lenient decoders skip it
            True,
            "request body is not valid base64 (isBase64Encoded is true): expected A-Z a-z "
            "0-9 + / with = padding to a multiple of 4 characters",
        ),
        (
            "a===",
            True,
            "request body is not valid base64 (isBase64Encoded is true): expected A-Z a-z "
            "0-9 + / with = padding to a multiple of 4 characters",
        ),
        (
            base64.b64encode(b'{"a": "\xff"}').decode(),
            True,
            "request body is not valid UTF-8: invalid start byte at byte 7",
        ),
        ('{"a": "\ud800"}', False, "request body is not valid UTF-8: surrogates not allowed"),
        (
            '{"a": 1',
            False,
            "request body is not valid JSON: Expecting ',' delimiter: line 1 column 8 (char 7)",
        ),
        ('{"a": NaN}', False, "request body is not valid JSON: NaN is not a JSON number"),
        ("-Infinity", False, "request body is not valid JSON: -Infinity is not a JSON number"),
        (
            "[1e999]",
            False,
            "request body has a number out of range (beyond +-1.8e308, a double's range): "
            "send finite numbers",
        ),
        (
            '{"a": [1.5, {"b": -1' + "0" * 400 + ".0}]}",
            False,
            "request body has a number out of range (beyond +-1.8e308, a double's range): "
            "send finite numbers",
        ),
        ("[" * 100_000, False, "request body is not valid JSON: nested too deeply"),
    ],
)
def test_bad_body_is_400_saying_which(app: App, body: str, is_base64: bool, error: str) -> None:
    event = http_event("POST", "/x", headers=JSON, body=body, is_base64=is_base64)
    assert call(app, event)[::2] == (400, {"error": error})


def test_json_nested_near_the_recursion_limit_is_never_a_500(app: App) -> None:
    # GIVEN JSON nested just below what the parser accepts here, so echoing it back (a few
    # frames deeper) may or may not exceed the recursion limit: either way, never a 500
    import sys

    depth = sys.getrecursionlimit() - 60
    event = http_event("POST", "/x", headers=JSON, body="[" * depth + "]" * depth)
    status, _, body = call(app, event)
    assert status in (200, 400)
    if status == 400:
        assert body == {"error": "request body is not valid JSON: nested too deeply"}


def test_a_payload_too_deep_to_write_back_is_400_not_500(lines: list[str]) -> None:
    # GIVEN an echo whose data is nested deeper than json can write (built without
    # recursion, as a parser with a higher limit could hand it over)
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]

    def echo_deep(*_: object) -> dict[str, object]:
        return {"data": deep}

    app = make_app(lines, actions={**ACTIONS, "echo": echo_deep})
    event = http_event("POST", "/x", headers=JSON, body="[]")
    assert call(app, event)[::2] == (
        400,
        {"error": "request body is not valid JSON: nested too deeply"},
    )


def test_body_at_the_limit_is_read_and_one_byte_more_is_413(app: App) -> None:
    at_limit = '"' + "a" * (MAX_BODY_BYTES - 2) + '"'
    assert call(app, http_event("POST", "/x", headers=JSON, body=at_limit))[0] == 200
    over = at_limit + " "
    assert call(app, http_event("POST", "/x", headers=JSON, body=over))[::2] == (
        413,
        {"error": f"request body is over the limit of {MAX_BODY_BYTES} bytes"},
    )


def test_multibyte_text_over_the_limit_in_bytes_is_413(app: App) -> None:
    # Fewer characters than the limit, more bytes: the exact check is on UTF-8 bytes.
    body = '"' + "é" * (MAX_BODY_BYTES // 2) + '"'
    assert len(body) < MAX_BODY_BYTES
    assert call(app, http_event("POST", "/x", headers=JSON, body=body))[::2] == (
        413,
        {"error": f"request body is {MAX_BODY_BYTES + 2} bytes; the limit is {MAX_BODY_BYTES}"},
    )


@pytest.mark.parametrize(("size", "status"), [(MAX_BODY_BYTES, 200), (MAX_BODY_BYTES + 1, 413)])
def test_base64_body_limit_is_on_decoded_bytes(app: App, size: int, status: int) -> None:
    raw = b'"' + b"a" * (size - 2) + b'"'
    event = http_event(
        "POST", "/x", headers=JSON, body=base64.b64encode(raw).decode(), is_base64=True
    )
    assert call(app, event)[0] == status


def test_body_limit_is_configurable(lines: list[str]) -> None:
    small = make_app(lines, max_body_bytes=8)
    assert call(small, http_event("POST", "/x", headers=JSON, body="[1,2,3]"))[0] == 200
    assert call(small, http_event("POST", "/x", headers=JSON, body="[1,2,34]"))[0] == 200
    assert call(small, http_event("POST", "/x", headers=JSON, body="[1,2,345]"))[0] == 413


@pytest.mark.parametrize(("body", "is_base64"), [("", False), ("", True)])
def test_empty_body_is_no_body(app: App, body: str, is_base64: bool) -> None:
    # sam local sends body "" for GET; AWS may set isBase64Encoded with no body (rule 6)
    event = http_event("POST", "/x", body=body, is_base64=is_base64)
    assert call(app, event)[::2] == (
        200,
        {
            "message": "POST request processed successfully",
            "path": "/x",
            "data": None,
            "timestamp": NOW_ISO,
        },
    )


# --- not a 2.0 request -------------------------------------------------------------------


def _without(event: dict[str, Any], *keys: str) -> dict[str, Any]:
    target = event
    for key in keys[:-1]:
        target = target[key]
    del target[keys[-1]]
    return event


PREFIX = "not an API Gateway HTTP API payload format 2.0 request: "


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (None, "the event is not an object"),
        ([], "the event is not an object"),
        ("GET /", "the event is not an object"),
        ({}, "version is None, not '2.0'"),
        (
            {"type": "REQUEST", "routeArn": "arn:aws:execute-api:...", "version": "2.0"},
            "it is an authorizer event; this function is the API's integration",
        ),
        (
            {"type": "TOKEN", "methodArn": "arn:aws:execute-api:...", "authorizationToken": "x"},
            "it is an authorizer event; this function is the API's integration",
        ),
        (
            _without(http_event(), "requestContext"),
            "requestContext.http.method is missing or not an HTTP method",
        ),
        (
            _without(http_event(), "requestContext", "http", "method"),
            "requestContext.http.method is missing or not an HTTP method",
        ),
        (_without(http_event(), "rawPath"), "rawPath is missing or does not start with '/'"),
        ({**http_event(), "requestContext": []}, "requestContext is an array, not an object"),
        ({**http_event(), "headers": "a: b"}, "headers is a string, not an object"),
        ({**http_event(), "headers": {"a": 1}}, "headers must map names to strings"),
        ({**http_event(), "body": 7}, "body is int, not a string"),
        ({**http_event(), "isBase64Encoded": "true"}, "isBase64Encoded is a string, not a boolean"),
        ({**http_event(), "rawPath": "health"}, "rawPath is missing or does not start with '/'"),
    ],
)
def test_anything_not_a_2_0_request_is_400_naming_why(app: App, event: Any, reason: str) -> None:
    assert call(app, event)[::2] == (400, {"error": PREFIX + reason})


# --- request id, context ---------------------------------------------------------------------


def test_request_id_falls_back_to_the_invocation_then_to_a_random_one(app: App) -> None:
    event = http_event()
    del event["requestContext"]["requestId"]
    context = types.SimpleNamespace(aws_request_id="c793869b-ee49-115b-a5b6-4fd21e8dedac")
    assert call(app, event, context)[1]["x-request-id"] == context.aws_request_id
    first, second = (call(app, event, None)[1]["x-request-id"] for _ in range(2))
    assert len(first) == 32
    assert set(first) <= set("0123456789abcdef")
    assert first != second


@pytest.mark.parametrize("bad", ["id\r\nset-cookie: x=1", "", "x" * 129, "ünïcode", 42])
def test_a_request_id_unfit_for_a_header_is_replaced(app: App, bad: Any) -> None:
    event = http_event()
    event["requestContext"]["requestId"] = bad
    rid = call(app, event)[1]["x-request-id"]
    assert rid != bad
    assert len(rid) == 32
    assert set(rid) <= set("0123456789abcdef")


class _HostileContext:
    @property
    def aws_request_id(self) -> str:
        raise RuntimeError("no id")


@pytest.mark.parametrize("context", [None, object(), _HostileContext()])
def test_any_context_is_tolerated(app: App, context: object) -> None:
    assert call(app, http_event(), context)[0] == 200


# --- bugs --------------------------------------------------------------------------------


def test_a_bug_is_500_with_the_request_id_and_its_traceback_only_in_the_log(
    lines: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an action that fails (the injected fault)
    def broken(*_: object) -> dict[str, object]:
        raise ZeroDivisionError("injected fault")

    app = make_app(lines, actions={**ACTIONS, "health": broken})
    # WHEN a request reaches it
    with caplog.at_level(logging.ERROR, logger=handler.__name__):
        status, headers, body = call(app, http_event("GET", "/health"))
    # THEN the client gets a 500 naming only the request id
    assert (status, body) == (
        500,
        {"error": "Internal server error", "requestId": "LV7fzho-PHcEJPw="},
    )
    assert headers["x-request-id"] == "LV7fzho-PHcEJPw="
    # AND the log has one ERROR record with the traceback and the request's summary
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[0] is ZeroDivisionError
    assert record.request["requestId"] == "LV7fzho-PHcEJPw="  # type: ignore[attr-defined]
    assert record.request["route"] == "GET /health"  # type: ignore[attr-defined]
    assert json.loads(lines[0])["ServerErrors"] == 1


def test_a_failing_metrics_writer_does_not_lose_the_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_emit(line: str) -> None:
        raise OSError("stdout closed")

    app = App(env=ENV, emit=broken_emit)
    with caplog.at_level(logging.WARNING, logger=handler.__name__):
        assert call(app, http_event())[0] == 200
    assert [r.getMessage() for r in caplog.records] == [
        "could not write the request's metrics line"
    ]


def test_module_handler_writes_its_line_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    response = handler.handler(http_event("GET", "/health"), None)
    assert check_response(response)[0] == 200
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["requestId"] == "LV7fzho-PHcEJPw="


def test_strip_stage_and_request_id_are_pure() -> None:
    assert events.strip_stage("/v1/x", "v1") == "/x"
    assert events.strip_stage("/v1/x", None) == "/v1/x"
    assert events.request_id({"requestContext": {"requestId": "abc"}}, None) == "abc"


# ---------------------------------------------------------------------------------------
# Hostile bodies: lone surrogates, and responses Lambda could not return.

LONE_SURROGATE = (
    "request body is not valid JSON text: it escapes a lone UTF-16 surrogate "
    "(\\ud800-\\udfff without its pair); send Unicode characters, or escape characters "
    "beyond U+FFFF as a surrogate pair"
)


@pytest.mark.parametrize(
    "body",
    [
        '"\\ud800"',
        '{"a": "x\\uDFFFy"}',
        '{"\\ud83d": 1}',  # in a key
        '["\\ude00\\ud83d"]',  # a pair in the wrong order is two lone halves
        '["\\ud83d\\ude00", "\\ud83d"]',  # one good pair, then a lone half
    ],
)
def test_an_escaped_lone_surrogate_is_400_not_echoed(app: App, body: str) -> None:
    event = http_event("POST", "/x", headers=JSON, body=body)

    assert call(app, event)[::2] == (400, {"error": LONE_SURROGATE})


@pytest.mark.parametrize(
    ("body", "data"),
    [
        ('"\\ud83d\\ude00"', "\U0001f600"),  # a pair: one character
        ('"\\\\ud800"', "\\ud800"),  # an escaped backslash, then text
        ('"\\u00e9\\u4e00"', "\u00e9\u4e00"),
    ],
)
def test_surrogate_pairs_and_lookalikes_are_echoed(app: App, body: str, data: str) -> None:
    event = http_event("POST", "/x", headers=JSON, body=body)

    status, _, echoed = call(app, event)

    assert (status, echoed["data"]) == (200, data)


def test_a_response_over_the_limit_is_413_saying_why(lines: list[str]) -> None:
    # GIVEN a response limit of 2,000 bytes and a 500-byte body of 1e15s, each written back
    # as 1000000000000000.0
    app = make_app(lines, max_response_bytes=2000)
    body = "[" + ",".join(["1e15"] * 100) + "]"

    status, _, answer = call(app, http_event("POST", "/x", headers=JSON, body=body))

    assert status == 413
    assert answer["error"].startswith("the response would be 3047 bytes, over the limit of 2000 ")
    assert "send a smaller body" in answer["error"]


def test_every_answer_within_the_limit_is_returned(lines: list[str]) -> None:
    app = make_app(lines, max_response_bytes=3047)
    body = "[" + ",".join(["1e15"] * 100) + "]"

    status, _, answer = call(app, http_event("POST", "/x", headers=JSON, body=body))

    assert status == 200
    assert answer["data"] == [1e15] * 100


def test_a_body_within_its_limit_whose_echo_is_over_6_mb_is_413_not_a_500(lines: list[str]) -> None:
    # GIVEN a body limit raised to 2 MiB and 400,000 x 1e15 (2 MB), whose echo would be
    # 7.6 MB: Lambda would fail the invocation (a bare 500 from API Gateway)
    app = make_app(lines, max_body_bytes=2 * MAX_BODY_BYTES)
    body = "[" + ",".join(["1e15"] * 400_000) + "]"

    result = app(http_event("POST", "/x", headers=JSON, body=body))

    assert result["statusCode"] == 413
    assert len(json.dumps(result)) < 1000


def test_the_largest_echo_of_a_body_under_the_limit_fits_a_lambda_response(app: App) -> None:
    # The worst expansions known (benchmarks/bench_function.py's corpus): floats written
    # out in full, 2-byte characters as \\u escapes, quotes escaped once more in the result.
    near = MAX_BODY_BYTES - 16
    for item in ("1e15", '"\u00e9"', '""', "[]", "0.1"):
        count = near // (len(item.encode()) + 1)
        body = "[" + ",".join([item] * count) + "]"
        result = app(http_event("POST", "/x", headers=JSON, body=body))
        assert result["statusCode"] == 200, item
        assert len(json.dumps(result)) <= events.MAX_RESPONSE_BYTES, item
