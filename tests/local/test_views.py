"""The request views of ``tap logs`` and the console (tap.local.logs.views): access-log
lines joined with function records, on fixed events."""

from __future__ import annotations

import json

from tap.local.logs.views import LogEvent, format_request, join

STREAM = "2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef"


def access(request_id: str, status: int, *, lambda_id: str | None = None, at: int = 0) -> LogEvent:
    line = {
        "requestId": request_id,
        "httpMethod": "GET",
        "path": "/health",
        "routeKey": "GET /health",
        "status": str(status),
        "responseLatency": "3",
        "integrationError": "-",
        "errorMessage": "-",
    }
    if lambda_id is not None:
        line["integrationRequestId"] = lambda_id
    return LogEvent(at, json.dumps(line), "access")


def invocation(lambda_id: str, api_id: str, *, at: int = 0, cold: bool = False) -> list[LogEvent]:
    report = f"REPORT RequestId: {lambda_id}\tDuration: 2.00 ms\tBilled Duration: 2 ms"
    if cold:
        report += "\tInit Duration: 120.00 ms"
    return [
        LogEvent(at, f"START RequestId: {lambda_id} Version: $LATEST", STREAM),
        LogEvent(at, json.dumps({"requestId": api_id, "status": 200}), STREAM),
        LogEvent(at, "a print() line", STREAM),
        LogEvent(at, f"END RequestId: {lambda_id}", STREAM),
        LogEvent(at, report, STREAM),
    ]


def test_without_integration_request_id_the_request_line_inside_an_invocation_joins_it() -> None:
    # An access-log format without integrationRequestId: the function's own request
    # line (API Gateway's id) between START and END ties the two together.
    events = invocation("L1", "A1", at=1) + invocation("L2", "A2", at=2, cold=False)

    views = join([access("A2", 200, at=2), access("A1", 200, at=1)], events)

    assert [v.request_id for v in views] == ["A1", "A2"]
    assert [v.lambda_request_id for v in views] == ["L1", "L2"]
    assert [len(v.records) for v in views] == [5, 5]
    assert "a print() line" in [r.message for r in views[1].records]


def test_integration_request_id_wins_and_init_duration_marks_a_cold_start() -> None:
    events = invocation("L1", "someone-else", cold=True)

    (view,) = join([access("A1", 200, lambda_id="L1")], events)

    assert view.lambda_request_id == "L1"
    assert view.cold is True
    assert format_request(view, with_time=False, with_id=False) == "GET /health 200 3 ms [cold]"


def test_a_runtime_error_record_is_the_requests_error() -> None:
    error = {
        "level": "ERROR",
        "message": {"errorType": "KeyError", "errorMessage": "'x'", "stackTrace": []},
        "requestId": "L1",
    }
    events = invocation("L1", "A1")
    events.insert(2, LogEvent(0, json.dumps(error), STREAM))

    (view,) = join([access("A1", 500, lambda_id="L1")], events)

    assert view.error == "KeyError: 'x'"


def test_an_invocation_without_an_access_line_is_listed_as_a_direct_invoke() -> None:
    (view,) = join([], invocation("L9", "-"))

    assert view.method == "INVOKE"
    assert view.request_id == "L9"
    assert view.latency_ms == 2
