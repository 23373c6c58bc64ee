"""What the function writes: one EMF line per request that parses and carries namespace,
dimensions, metric names, units and values; no credential, cookie or body ever logged."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tap.function import handler, metrics
from tap.function.handler import ACTIONS
from tests.function.conformance import http_event
from tests.function.support import NOW, check_response, make_app, render_lambda_json

SECRETS = {
    "authorization": "Bearer eyJSECRET-AUTHORIZATION-TOKEN",
    "x-api-key": "SECRET-API-KEY-0123456789",
    "x-amz-security-token": "SECRET-SESSION-TOKEN-FQoGZXIvYXdzE",
    "cookie": "session=SECRET-COOKIE-HEADER",
}
COOKIES = ["session=SECRET-COOKIE-LIST", "csrf=SECRET-CSRF-VALUE"]
BODY_SECRET = "SECRET-BODY-PASSWORD"


def _secret_event(case: str) -> dict[str, Any]:
    headers = {"Authorization": SECRETS["authorization"], "X-Api-Key": SECRETS["x-api-key"]}
    headers["X-Amz-Security-Token"] = SECRETS["x-amz-security-token"]
    # AWS moves cookies into `cookies` (rule 4); a caller invoking directly may still send
    # the header, so both are covered.
    headers["Cookie"] = SECRETS["cookie"]
    body = json.dumps({"password": BODY_SECRET})
    headers["content-type"] = "application/json"
    if case == "client error":
        body = body[:-1]  # invalid JSON -> 400
    event = http_event("POST", "/login", headers=headers, body=body, cookies=COOKIES)
    event["rawQueryString"] = "token=SECRET-QUERY-VALUE"
    event["queryStringParameters"] = {"token": "SECRET-QUERY-VALUE"}
    return event


@pytest.mark.parametrize(
    ("case", "status"), [("success", 200), ("client error", 400), ("bug", 500)]
)
def test_no_credential_cookie_query_value_or_body_reaches_any_log(
    caplog: pytest.LogCaptureFixture, case: str, status: int
) -> None:
    # GIVEN a request carrying Authorization, Cookie, X-Api-Key, a security token, cookies,
    # a secret query value and a secret in its body; for "bug", an action that fails
    lines: list[str] = []
    actions = dict(ACTIONS)
    if case == "bug":

        def broken(*_: object) -> dict[str, object]:
            raise RuntimeError("injected fault")

        actions["echo"] = broken
    app = make_app(lines, actions=actions)
    # WHEN it is handled, with every logger recording
    with caplog.at_level(logging.DEBUG):
        assert check_response(app(_secret_event(case), None))[0] == status
    # THEN no secret appears in any EMF line or any record as Lambda's JSON format writes
    # it (message, extra keys, traceback)
    written = lines + [render_lambda_json(record) for record in caplog.records]
    written += [caplog.text]
    assert len(lines) == 1
    for secret in [*SECRETS.values(), *COOKIES, BODY_SECRET, "SECRET-QUERY-VALUE"]:
        leaked = [text for text in written if secret in text]
        assert not leaked, f"{secret!r} was logged: {leaked}"
    if case == "bug":
        # and the error record did carry detail: the redacted header names and the traceback
        [record] = caplog.records
        detail = record.request  # type: ignore[attr-defined]
        assert detail["headers"]["Authorization"] == "[redacted]"
        assert detail["headers"]["content-type"] == "application/json"
        assert detail["queryNames"] == ["token"]
        assert "injected fault" in render_lambda_json(record)


def test_emf_line_parses_with_namespace_dimensions_names_units_and_values() -> None:
    # GIVEN the first request in a process (a cold start)
    lines: list[str] = []
    app = make_app(lines)
    check_response(app(http_event("GET", "/health"), None))
    check_response(app(http_event("GET", "/nowhere"), None))
    cold, client_error = (json.loads(line) for line in lines)
    # THEN each line is one EMF document (docs/http-api.md rule 22) ...
    assert cold["_aws"] == {
        "Timestamp": round(NOW * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": "TapTest",  # from METRICS_NAMESPACE
                "Dimensions": [["Environment"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count"},
                    {"Name": "HandlerLatency", "Unit": "Milliseconds"},
                    {"Name": "ColdStart", "Unit": "Count"},
                ],
            }
        ],
    }
    # ... with the dimension and metric values as top-level keys, and the request's fields
    assert cold == {
        "_aws": cold["_aws"],
        "Environment": "Production",
        "Requests": 1,
        "HandlerLatency": 0.5,  # the fake timer ticks 0.5 ms between start and record
        "ColdStart": 1,
        "requestId": "LV7fzho-PHcEJPw=",
        "method": "GET",
        "path": "/health",
        "route": "GET /health",
        "status": 200,
    }
    # AND only the metrics that apply: no ColdStart after the first, ClientErrors on a 4xx
    names = [m["Name"] for m in client_error["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["Requests", "HandlerLatency", "ClientErrors"]
    assert (client_error["ClientErrors"], client_error["status"]) == (1, 404)
    assert client_error["error"].startswith("no route for GET /nowhere; routes: GET /")


def test_every_metric_name_and_unit_comes_from_metrics_py() -> None:
    lines: list[str] = []
    make_app(lines, actions={**ACTIONS, "info": None})(http_event("GET", "/info"), None)
    [record] = (json.loads(line) for line in lines)
    [directive] = record["_aws"]["CloudWatchMetrics"]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        name: metrics.METRICS[name]
        for name in ("Requests", "HandlerLatency", "ServerErrors", "ColdStart")
    }
    assert directive["Dimensions"] == [list(metrics.DIMENSIONS)]


def test_emf_record_refuses_undeclared_metrics_and_dimensions() -> None:
    with pytest.raises(ValueError, match="metrics \\['Latency'\\]"):
        metrics.emf_record("Tap", {"Environment": "x"}, {"Latency": 1}, 0)
    with pytest.raises(ValueError, match="dimensions \\['Stage'\\]"):
        metrics.emf_record("Tap", {"Stage": "x"}, {"Requests": 1}, 0)


def test_a_property_cannot_shadow_a_metric_or_dimension() -> None:
    record = metrics.emf_record(
        "Tap",
        {"Environment": "Production"},
        {"Requests": 1},
        0,
        {"Requests": "x", "Environment": "y"},
    )
    assert (record["Requests"], record["Environment"]) == (1, "Production")


@pytest.mark.parametrize(
    ("request_id", "limit"),
    [
        ("LV7fzho-PHcEJPw=", 400),  # the shape of HTTP API request ids (captured events)
        ("c793869b-ee49-115b-a5b6-4fd21e8dedac", 420),  # a UUID, as sam local sends
    ],
)
def test_a_successful_request_writes_one_short_line(request_id: str, limit: int) -> None:
    # GIVEN a warm instance (the cold start's line carries ColdStart too, once per process)
    lines: list[str] = []
    app = make_app(lines)
    app(http_event("GET", "/health", request_id=request_id), None)
    # WHEN a GET /health and a 1 KB JSON POST are handled
    app(http_event("GET", "/health", request_id=request_id), None)
    headers = {"content-type": "application/json"}
    body = json.dumps({"k": "v" * 1000})
    app(http_event("POST", "/items/42", request_id=request_id, headers=headers, body=body), None)
    # THEN each writes exactly one line (plus its newline) within the budget the benchmark
    # reports: a size, not a time
    sizes = [len(line.encode()) + 1 for line in lines[1:]]
    assert len(sizes) == 2
    assert max(sizes) <= limit, sizes


def test_long_paths_and_reasons_are_truncated_in_the_log() -> None:
    lines: list[str] = []
    long_path = "/" + "a" * 5000
    make_app(lines)(http_event("GET", long_path), None)
    record = json.loads(lines[0])
    assert record["path"] == long_path[:200]
    assert len(record["error"]) == 200


def test_error_summary_of_a_non_object_event_names_only_its_type() -> None:
    assert handler._summary(["Authorization: secret"]) == {"eventType": "list"}


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("DEBUG", logging.DEBUG),
        ("INFO", logging.INFO),
        ("WARN", logging.WARNING),
        ("ERROR", logging.ERROR),
        ("error", logging.ERROR),
    ],
)
def test_log_level_sets_the_root_loggers_level(configured: str, expected: int) -> None:
    # tap:logLevel reaches the function as LOG_LEVEL: Lambda's own filter stays at INFO so
    # the EMF line survives (docs/http-api.md rule 30); this is what quiets `logging`.
    root = logging.Logger("root-under-test", logging.CRITICAL)

    handler.apply_log_level({"LOG_LEVEL": configured}, root)

    assert root.level == expected


def test_without_a_logger_given_the_log_level_is_set_on_the_process_root_logger() -> None:
    # What the module does at import, in Lambda: apply_log_level(os.environ)
    root = logging.getLogger()
    before = root.level
    try:
        handler.apply_log_level({"LOG_LEVEL": "ERROR"})
        assert root.level == logging.ERROR
    finally:
        root.setLevel(before)


@pytest.mark.parametrize("env", [{}, {"LOG_LEVEL": ""}, {"LOG_LEVEL": "LOUD"}])
def test_no_or_an_unknown_log_level_keeps_the_runtimes_level(env: dict[str, str]) -> None:
    root = logging.Logger("root-under-test", logging.WARNING)

    handler.apply_log_level(env, root)

    assert root.level == logging.WARNING
