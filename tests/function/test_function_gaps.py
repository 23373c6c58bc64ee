"""Behaviour the mutation run (tox -e mutation) found no test pinned down: each test here
fails when one of tap/function's checks is weakened, flipped or dropped."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from tap.function import events, handler, metrics, routes
from tap.function.handler import ACTIONS, App
from tap.function.routes import Route
from tests.function.conformance import http_event
from tests.function.support import NOW, check_response, make_app

JSON = {"content-type": "application/json"}


def call(app: App, event: Any, context: Any = None) -> tuple[int, dict[str, str], Any]:
    return check_response(app(event, context))


# --- non-finite numbers (body.py) ---------------------------------------------------------


OUT_OF_RANGE = (
    "request body has a number out of range (beyond +-1.8e308, a double's range): "
    "send finite numbers"
)


@pytest.mark.parametrize("body", ["[-1e999]", "[1e999]", '{"a": -2E+400}', "[-1.5e309]"])
def test_a_number_that_overflows_either_way_is_400(app: App, body: str) -> None:
    # -1e999 parses to -inf: echoed back it would be "-Infinity", which is not JSON
    event = http_event("POST", "/x", headers=JSON, body=body)
    assert call(app, event)[::2] == (400, {"error": OUT_OF_RANGE})


@pytest.mark.parametrize("body", ["[1e308]", "[-1e308]", "[-0.0]", "[2.5e-400]"])
def test_large_small_and_negative_finite_numbers_are_echoed(app: App, body: str) -> None:
    event = http_event("POST", "/x", headers=JSON, body=body)
    status, _, payload = call(app, event)
    assert status == 200
    assert payload["data"] == json.loads(body)


# --- the named stage's prefix (events.strip_stage) ------------------------------------------


@pytest.mark.parametrize("stage", [5, 1.5, True, None, [], ["prod"], {"name": "prod"}, ""])
def test_a_stage_that_is_not_a_non_empty_string_leaves_the_path_alone(
    app: App, stage: object
) -> None:
    event = http_event("GET", "/health")
    event["requestContext"]["stage"] = stage
    status, _, body = call(app, event)
    assert status == 200
    assert body["status"] == "healthy"


def test_a_stage_key_that_is_missing_leaves_the_path_alone(app: App) -> None:
    event = http_event("GET", "/health")
    del event["requestContext"]["stage"]
    assert call(app, event)[0] == 200


@pytest.mark.parametrize(
    ("raw_path", "stage", "path"),
    [
        ("/prod", "prod", "/"),
        ("/prod/", "prod", "/"),
        ("/prod/health", "prod", "/health"),
        ("/production", "prod", "/production"),
        ("/health", "$default", "/health"),
        ("/$default/health", "$default", "/$default/health"),
        ("/prod/health", "other", "/prod/health"),
    ],
)
def test_strip_stage(raw_path: str, stage: str, path: str) -> None:
    from tap.function.events import strip_stage

    assert strip_stage(raw_path, stage) == path


# --- the request id that goes into x-request-id (events.request_id) -----------------------


@pytest.mark.parametrize(
    "bad",
    [
        "id\r\nset-cookie:x=1",  # header injection with no space for the space check to see
        "id\nx",
        "id\rx",
        "id\tx",
        "id\x00x",
        "id\x7fx",
        "x" * 129,
        "ünïcode",
        "a b",
        "",
        42,
        None,
        b"bytes-id",
    ],
)
def test_a_request_id_unfit_for_a_header_is_replaced_by_a_random_one(
    app: App, lines: list[str], bad: object
) -> None:
    event = http_event()
    event["requestContext"]["requestId"] = bad
    rid = call(app, event)[1]["x-request-id"]
    assert len(rid) == 32
    assert set(rid) <= set("0123456789abcdef")
    assert json.loads(lines[0])["requestId"] == rid


@pytest.mark.parametrize(
    "good", ["x", "x" * 128, "LV7fzho-PHcEJPw=", "!~#$%&'()*+,./:;<=>?@[]^_`{|}"]
)
def test_a_printable_ascii_request_id_of_1_to_128_characters_is_kept(app: App, good: str) -> None:
    event = http_event()
    event["requestContext"]["requestId"] = good
    assert call(app, event)[1]["x-request-id"] == good


def test_an_unfit_event_request_id_falls_back_to_the_invocations(app: App) -> None:
    class Context:
        aws_request_id = "c793869b-ee49-115b-a5b6-4fd21e8dedac"

    event = http_event()
    event["requestContext"]["requestId"] = "id\r\nx"
    assert call(app, event, Context())[1]["x-request-id"] == Context.aws_request_id


# --- metrics: which counter a status goes to ------------------------------------------------


def _metric_values(line: str) -> dict[str, object]:
    record = json.loads(line)
    [directive] = record["_aws"]["CloudWatchMetrics"]
    return {m["Name"]: record[m["Name"]] for m in directive["Metrics"]}


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (http_event("POST", "/x", headers=JSON, body="{"), 400),
        (http_event("GET", "/nowhere"), 404),
        (http_event("PATCH", "/health"), 405),
        (http_event("POST", "/x", headers={"content-type": "text/plain"}, body="{}"), 415),
    ],
)
def test_every_4xx_counts_as_one_client_error_and_no_server_error(
    lines: list[str], event: dict[str, Any], status: int
) -> None:
    app = make_app(lines)
    app(http_event(), None)  # the cold start's line is the first
    assert call(app, event)[0] == status
    assert _metric_values(lines[1]) == {"Requests": 1, "HandlerLatency": 0.5, "ClientErrors": 1}
    assert json.loads(lines[1])["status"] == status


def test_a_200_counts_no_error(lines: list[str]) -> None:
    app = make_app(lines)
    app(http_event(), None)
    assert call(app, http_event("POST", "/x", headers=JSON, body="{}"))[0] == 200
    assert _metric_values(lines[1]) == {"Requests": 1, "HandlerLatency": 0.5}


def test_a_500_counts_as_one_server_error_and_no_client_error(lines: list[str]) -> None:
    def broken(*_: object) -> dict[str, object]:
        raise RuntimeError("injected fault")

    app = make_app(lines, actions={**ACTIONS, "health": broken})
    app(http_event("GET", "/info"), None)
    assert call(app, http_event())[0] == 500
    assert _metric_values(lines[1]) == {"Requests": 1, "HandlerLatency": 0.5, "ServerErrors": 1}


def test_an_emf_record_with_all_five_metrics_declares_each_with_its_unit() -> None:
    values = {
        "Requests": 1,
        "ClientErrors": 1,
        "ServerErrors": 1,
        "HandlerLatency": 12.5,
        "ColdStart": 1,
    }
    record = metrics.emf_record("Tap", {"Environment": "Production"}, values, 1700000000000)
    assert record == {
        "_aws": {
            "Timestamp": 1700000000000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Tap",
                    "Dimensions": [["Environment"]],
                    "Metrics": [
                        {"Name": "Requests", "Unit": "Count"},
                        {"Name": "ClientErrors", "Unit": "Count"},
                        {"Name": "ServerErrors", "Unit": "Count"},
                        {"Name": "HandlerLatency", "Unit": "Milliseconds"},
                        {"Name": "ColdStart", "Unit": "Count"},
                    ],
                }
            ],
        },
        "Environment": "Production",
        **values,
    }
    assert metrics.emf_line(record) == json.dumps(record, separators=(",", ":"))


@pytest.mark.parametrize(
    ("values", "dimensions"),
    [
        ({}, {"Environment": "x"}),
        ({"Requests": 1}, {}),
        ({"Requests": 1}, {"Environment": "x", "Stage": "y"}),
    ],
)
def test_emf_record_refuses_no_metrics_and_other_dimensions(
    values: dict[str, float], dimensions: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match=r"expected 1 or more of \['Requests', 'ClientErrors'"):
        metrics.emf_record("Tap", dimensions, values, 0)


def test_the_namespace_defaults_to_tap_without_the_environment_variable(
    lines: list[str],
) -> None:
    app = make_app(lines, env={"ENVIRONMENT": "Production"})
    app(http_event(), None)
    [directive] = json.loads(lines[0])["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Tap"
    assert json.loads(lines[0])["_aws"]["Timestamp"] == int(NOW * 1000)


# --- content type parameters (body.py) ------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf8",
        "application/json; charset=UTF8",
        "application/json; charset=utf-8; profile=x",
        "application/json; profile=x; charset=utf-8",
        "application/json; charset=utf-8 ;",
        "application/problem+json",
        "application/json;",
    ],
)
def test_utf8_json_content_types_are_read(app: App, content_type: str) -> None:
    event = http_event("POST", "/x", headers={"content-type": content_type}, body="[1]")
    assert call(app, event)[::2][0] == 200


@pytest.mark.parametrize(
    ("content_type", "error"),
    [
        (
            "application/json; charset=latin-1; profile=x",
            "charset 'latin-1' is not supported; JSON must be UTF-8",
        ),
        (
            "application/json; profile=x; charset=utf-16",
            "charset 'utf-16' is not supported; JSON must be UTF-8",
        ),
        (
            "application/+jsonx",
            "content-type 'application/+jsonx' is not supported; send application/json",
        ),
        ("text/x+json", "content-type 'text/x+json' is not supported; send application/json"),
        (
            "application/jsonp",
            "content-type 'application/jsonp' is not supported; send application/json",
        ),
    ],
)
def test_other_charsets_and_media_types_are_415(app: App, content_type: str, error: str) -> None:
    event = http_event("POST", "/x", headers={"content-type": content_type}, body="[1]")
    assert call(app, event)[::2] == (415, {"error": error})


# --- the 500's log record (handler._summary) -----------------------------------------------


def _failing_app(lines: list[str]) -> App:
    def broken(*_: object) -> dict[str, object]:
        raise RuntimeError("injected fault")

    return make_app(lines, actions=dict.fromkeys(["health", "info", "echo", "delete"], broken))


def _error_record(caplog: pytest.LogCaptureFixture, app: App, event: object) -> dict[str, Any]:
    with caplog.at_level(logging.ERROR, logger=handler.__name__):
        assert call(app, event)[0] == 500
    [record] = caplog.records
    detail: dict[str, Any] = record.request  # type: ignore[attr-defined]
    return detail


def test_the_500_record_summarises_the_event(
    lines: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    event = http_event("POST", "/x", headers={**JSON, "X-Token": "t" * 300}, body='{"a": 1}')
    event["queryStringParameters"] = {"q": "secret", "page": "2"}
    detail = _error_record(caplog, _failing_app(lines), event)
    assert detail == {
        "requestId": "LV7fzho-PHcEJPw=",
        "method": "POST",
        "path": "/x",
        "route": "POST /{proxy+}",
        "eventKeys": list(event),
        "headers": {
            "accept": "*/*",
            "host": "aaaaaaaaaa.execute-api.us-east-1.amazonaws.com",
            "user-agent": "curl/8.5.0",
            "x-forwarded-proto": "[redacted]",
            "content-type": "application/json",
            "X-Token": "[redacted]",
        },
        "queryNames": ["q", "page"],
        "bodyChars": 8,
    }


def test_the_500_record_truncates_what_it_keeps(
    lines: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    event = http_event("POST", "/x", headers={"User-Agent": "u" * 500}, body="{}")
    for i in range(60):
        event[f"{i:02d}{'k' * 50}"] = i
    for i in range(60):
        event["headers"][f"{i:02d}{'h' * 50}"] = "v"
    event["queryStringParameters"] = {f"{'q' * 50}{i:02d}": "v" for i in range(60)}
    detail = _error_record(caplog, _failing_app(lines), event)
    assert len(detail["eventKeys"]) == 40
    assert detail["eventKeys"][:3] == ["version", "routeKey", "rawPath"]
    assert max(len(key) for key in detail["eventKeys"]) == 40
    assert len(detail["headers"]) == 50
    assert max(len(name) for name in detail["headers"]) == 40
    assert detail["headers"]["00" + "h" * 38] == "[redacted]"
    assert detail["headers"]["User-Agent"] == "u" * 200
    assert len(detail["queryNames"]) == 50
    assert detail["queryNames"][:2] == ["q" * 40, "q" * 40]
    assert detail["bodyChars"] == 2


@pytest.mark.parametrize("headers", [None, "a: b"])
def test_the_500_record_copes_with_headers_that_are_not_an_object(
    lines: list[str], caplog: pytest.LogCaptureFixture, headers: object
) -> None:
    event = http_event("GET", "/health")
    event["headers"] = headers
    if headers is not None:  # a string is refused before any action runs: no 500 then
        assert call(_failing_app(lines), event)[0] == 400
        return
    detail = _error_record(caplog, _failing_app(lines), event)
    assert detail["headers"] == {}
    assert detail["queryNames"] == []
    assert detail["bodyChars"] == 0


# --- limits and truncations named in messages (body.py) --------------------------------------


def test_a_base64_body_longer_than_the_encoded_limit_is_413_before_decoding(
    lines: list[str],
) -> None:
    # 9 bytes encode to exactly 12 base64 characters: 13 is over before anything is decoded
    # (even characters that would not decode), 12 is read and then measured exactly
    app = make_app(lines, max_body_bytes=9)
    over = http_event("POST", "/x", headers=JSON, body="A" * 13, is_base64=True)
    assert call(app, over)[::2] == (413, {"error": "request body is over the limit of 9 bytes"})
    at_limit = base64.b64encode(b"[1,2,3,4]").decode()
    assert len(at_limit) == 12
    event = http_event("POST", "/x", headers=JSON, body=at_limit, is_base64=True)
    assert call(app, event)[::2][1]["data"] == [1, 2, 3, 4]
    ten = base64.b64encode(b"[1,2,3,45]").decode()
    assert len(ten) == 16
    event = http_event("POST", "/x", headers=JSON, body=ten, is_base64=True)
    assert call(app, event)[::2] == (413, {"error": "request body is over the limit of 9 bytes"})


def test_base64_padding_is_told_apart_from_the_alphabet(app: App) -> None:
    # "AXXX" is valid base64 (3 bytes, no padding); they are not UTF-8 text
    event = http_event("POST", "/x", headers=JSON, body="AXXX", is_base64=True)
    assert call(app, event)[::2] == (
        400,
        {"error": "request body is not valid UTF-8: unexpected end of data at byte 2"},
    )


def test_messages_quote_at_most_100_characters_of_a_content_type_and_40_of_a_charset(
    app: App,
) -> None:
    long_type = "text/" + "x" * 120
    event = http_event("POST", "/x", headers={"content-type": long_type}, body="[1]")
    assert call(app, event)[::2] == (
        415,
        {"error": f"content-type {long_type[:100]!r} is not supported; send application/json"},
    )
    long_charset = "application/json; charset=" + "y" * 60
    event = http_event("POST", "/x", headers={"content-type": long_charset}, body="[1]")
    assert call(app, event)[::2] == (
        415,
        {"error": f"charset {'y' * 40!r} is not supported; JSON must be UTF-8"},
    )


def test_the_first_charset_parameter_is_the_one_read(app: App) -> None:
    first_utf8 = "application/json; charset=utf-8; charset=latin-1"
    event = http_event("POST", "/x", headers={"content-type": first_utf8}, body="[1]")
    assert call(app, event)[0] == 200
    first_latin = "application/json; charset=latin-1; charset=utf-8"
    event = http_event("POST", "/x", headers={"content-type": first_latin}, body="[1]")
    assert call(app, event)[::2] == (
        415,
        {"error": "charset 'latin-1' is not supported; JSON must be UTF-8"},
    )


def test_an_http_error_reads_as_its_message() -> None:
    error = events.BadRequestError("request body is not valid JSON")
    assert (str(error), error.message, error.status, error.headers) == (
        "request body is not valid JSON",
        "request body is not valid JSON",
        400,
        {},
    )


def test_the_module_handler_passes_lambdas_context_on(capsys: pytest.CaptureFixture[str]) -> None:
    class Context:
        aws_request_id = "c793869b-ee49-115b-a5b6-4fd21e8dedac"

    event = http_event("GET", "/health")
    del event["requestContext"]["requestId"]
    response = handler.handler(event, Context())
    assert response["headers"]["x-request-id"] == Context.aws_request_id
    capsys.readouterr()


# --- the route table (routes.py) -------------------------------------------------------------


def test_the_route_table_compiles_to_literal_paths_and_greedy_prefixes() -> None:
    literal, greedy = routes.compile_routes(routes.ROUTES)
    by_key = {route.key: route for route in routes.ROUTES}

    assert literal == {
        "/": {m: by_key[f"{m} /"] for m in ("GET", "POST", "PUT", "DELETE")},
        "/health": {"GET": by_key["GET /health"]},
        "/info": {"GET": by_key["GET /info"]},
    }
    assert greedy == {"/": {m: by_key[f"{m} /{{proxy+}}"] for m in ("POST", "PUT", "DELETE")}}


@pytest.mark.parametrize("path", ["health", "/items/{id}", "/{proxy+}/x", "{proxy+}"])
def test_a_route_path_that_is_not_literal_or_greedy_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match=r"a path must be literal or end in /\{proxy\+\}"):
        routes.compile_routes((Route("GET", path, "health"),))


@pytest.fixture
def nested_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The router on a table with a nested greedy route: GET /api/{proxy+} and GET /x."""
    table = (Route("GET", "/api/{proxy+}", "info"), Route("GET", "/x", "health"))
    literal, greedy = routes.compile_routes(table)
    assert greedy == {"/api/": {"GET": table[0]}}
    monkeypatch.setattr(routes, "_LITERAL", literal)
    monkeypatch.setattr(routes, "_GREEDY", greedy)
    monkeypatch.setattr(routes, "_GREEDY_PREFIXES", sorted(greedy, key=len, reverse=True))


@pytest.mark.usefixtures("nested_routes")
@pytest.mark.parametrize(
    ("method", "path", "key", "allowed"),
    [
        ("GET", "/api/a", "GET /api/{proxy+}", ()),
        ("GET", "/api/a/b", "GET /api/{proxy+}", ()),
        ("GET", "/api/", None, ()),  # {proxy+} needs at least one character
        ("GET", "/api", None, ()),
        ("GET", "/other/longer/path", None, ()),  # longer than the prefix, but not under it
        ("GET", "/x", "GET /x", ()),
        ("POST", "/x", None, ("GET",)),
        ("POST", "/api/a", None, ()),  # only greedy routes of other methods: a 404
    ],
)
def test_a_greedy_route_matches_one_or_more_characters_under_its_prefix(
    method: str, path: str, key: str | None, allowed: tuple[str, ...]
) -> None:
    route, methods = routes.match(method, path)
    assert (route.key if route else None, methods) == (key, allowed)


# --- what the 400s and the logs say (events.py, handler.py) ----------------------------------


def test_a_rest_api_event_is_told_to_use_payload_format_2_0(app: App) -> None:
    event = {"version": "1.0", "httpMethod": "GET", "path": "/health", "resource": "/health"}
    assert call(app, event)[::2] == (
        400,
        {
            "error": "not an API Gateway HTTP API payload format 2.0 request: version is "
            "'1.0', not '2.0' (REST API or format 1.0: use payload format 2.0)"
        },
    )


@pytest.mark.parametrize(("value", "kind"), [("GET /", "a string"), ([], "an array"), (5, "int")])
def test_a_request_context_http_of_another_type_is_named(
    app: App, value: object, kind: str
) -> None:
    event = http_event()
    event["requestContext"]["http"] = value
    assert call(app, event)[::2] == (
        400,
        {
            "error": "not an API Gateway HTTP API payload format 2.0 request: "
            f"requestContext.http is {kind}, not an object"
        },
    )


def test_handler_latency_is_in_milliseconds_to_two_decimals(lines: list[str]) -> None:
    ticks = iter([10.0, 10.00123456])  # the start and the record's reading, in seconds
    app = make_app(lines, timer=lambda: next(ticks))
    app(http_event(), None)
    assert json.loads(lines[0])["HandlerLatency"] == 1.23


def test_the_500_is_logged_as_unhandled_error_with_its_traceback(
    lines: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger=handler.__name__):
        assert call(_failing_app(lines), http_event())[0] == 500
    [record] = caplog.records
    assert (record.getMessage(), record.levelname) == ("unhandled error", "ERROR")
    assert record.exc_info is not None


def test_a_lost_metrics_line_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_emit(line: str) -> None:
        raise OSError("stdout closed")

    app = make_app([], emit=broken_emit)
    with caplog.at_level(logging.WARNING, logger=handler.__name__):
        assert call(app, http_event())[0] == 200
    [record] = caplog.records
    assert record.getMessage() == "could not write the request's metrics line"
    assert record.exc_info is not None
    assert record.exc_info[0] is OSError


# --- the response size bound (handler.py, docs/http-api.md rule 46) ----------------------


def test_a_short_body_is_bounded_as_if_every_character_were_escaped_without_a_scan() -> None:
    # 2 x 2 characters + the 1024-byte envelope allowance fits a limit of exactly 1028
    assert handler._result_size("ab", limit=1028) == 1028
    assert handler._result_size("a\\", limit=1028) == 1028


def test_a_body_that_could_cross_the_limit_counts_each_quote_and_backslash_once_more() -> None:
    # 8 characters, 4 quotes and 1 backslash (each written again as an escape in the
    # result); 2 x 8 + 1024 = 1040 is over both limits, so the body is scanned
    assert handler._result_size('{"a":"\\"', limit=1000) == 8 + 4 + 1 + 1024
    assert handler._result_size('{"a":"\\"', limit=1039) == 8 + 4 + 1 + 1024


def test_the_413_for_a_response_over_the_limit_says_the_size_the_limit_and_what_to_send(
    lines: list[str],
) -> None:
    # GIVEN a limit of 2,000 bytes and a body of 1e15s, each written back as 1000000000000000.0
    app = make_app(lines, max_response_bytes=2000)
    body = "[" + ",".join(["1e15"] * 100) + "]"

    status, _, answer = call(app, http_event("POST", "/x", headers=JSON, body=body))

    assert (status, answer["error"]) == (
        413,
        "the response would be 3047 bytes, over the limit of 2000 bytes (a Lambda response "
        "is at most 6 MB); numbers such as 1e15 are written out in full and non-ASCII "
        "characters as \\u escapes: send a smaller body",
    )


def test_echoed_quotes_and_backslashes_count_toward_the_response_limit(lines: list[str]) -> None:
    # GIVEN a body of 600 quotes and 600 backslashes in a string: each is written back as a
    # two-character escape, and the result's JSON escapes each of those again
    body = '["' + '\\"' * 600 + '"]'
    event = http_event("POST", "/x", headers=JSON, body=body)
    echoed = str(make_app(lines)(event, None)["body"])
    # Lambda counts the result as JSON: the body string written as JSON (its quotes and
    # backslashes escaped, 2 quotes around it) plus the 1024-byte envelope allowance
    size = len(json.dumps(echoed)) - 2 + 1024
    # the no-scan bound (every character escaped) is over the limit: the scan decides
    assert 2 * len(echoed) + 1024 > size

    for limit, expected in ((size, 200), (size - 1, 413)):
        app = make_app(lines, max_response_bytes=limit)
        status, _, _ = call(app, event)
        assert status == expected, (limit, size)


# --- lone surrogates (body.py) --------------------------------------------------------------


def test_data_too_deep_to_write_back_is_not_taken_for_a_lone_surrogate() -> None:
    # json reads a little deeper than it writes from inside the handler: such a body is
    # answered "nested too deeply" when the echo is written, not "lone surrogate"
    deep: list[Any] = ["\U0001f600"]
    for _ in range(100_000):
        deep = [deep]

    from tap.function import body as body_module

    assert body_module._has_lone_surrogate(deep) is False
    assert body_module._has_lone_surrogate(["\ud800"]) is True
    assert body_module._has_lone_surrogate(["\U0001f600"]) is False
