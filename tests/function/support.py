"""Helpers for the function's tests: an App wired to fakes, response checks, and log
records rendered the way Lambda's JSON log format renders them."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

from tap.function.handler import App

ENV = {
    "ENVIRONMENT": "Production",
    "AWS_REGION": "us-east-1",
    "APP_VERSION": "1.2.3",
    "METRICS_NAMESPACE": "TapTest",
}
NOW = 1795676400.123  # 2026-11-26T07:00:00.123Z
NOW_ISO = "2026-11-26T07:00:00.123Z"
TICK_SECONDS = 0.0005  # the fake timer advances this much per reading


def make_app(lines: list[str], **overrides: Any) -> App:
    """An App with a fixed environment and clock, a timer that ticks 0.5 ms per reading
    (so HandlerLatency is exactly 0.5) and its request lines appended to ``lines``."""
    ticks = itertools.count()
    options: dict[str, Any] = {
        "env": ENV,
        "clock": lambda: NOW,
        "timer": lambda: next(ticks) * TICK_SECONDS,
        "emit": lines.append,
    }
    options.update(overrides)
    return App(**options)


def check_response(response: object) -> tuple[int, dict[str, str], Any]:
    """Assert a valid HTTP API 2.0 result (docs/http-api.md rule 8) as the contract wants it:
    int status, string headers with content-type JSON and x-request-id, no CORS headers
    (API Gateway owns CORS, rule 17), a string body that is a JSON object. Returns
    (status, headers, parsed body)."""
    assert isinstance(response, dict), response
    status, headers, body = response["statusCode"], response["headers"], response["body"]
    assert type(status) is int, status
    assert 200 <= status <= 599, status
    assert isinstance(headers, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()), headers
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"]
    assert not [name for name in headers if name.lower().startswith("access-control-")]
    assert isinstance(body, str)
    assert response["isBase64Encoded"] is False
    parsed = json.loads(body)
    assert isinstance(parsed, dict)
    return status, headers, parsed


_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def render_lambda_json(record: logging.LogRecord) -> str:
    """A record as Lambda's JSON log format writes it (awslambdaric JsonFormatter):
    message, logger, every ``extra`` key, and the traceback of ``exc_info``."""
    result: dict[str, object] = {
        "level": record.levelname,
        "message": record.getMessage(),
        "logger": record.name,
    }
    if record.exc_info:
        result["stackTrace"] = logging.Formatter().formatException(record.exc_info)
    result.update((k, v) for k, v in vars(record).items() if k not in _RESERVED)
    return json.dumps(result, default=str, ensure_ascii=False)
