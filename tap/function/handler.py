"""The Lambda entry point, ``app.handler.handler``: docs/design.md's HTTP contract on API
Gateway HTTP API payload format 2.0.

Logging. Each request writes one line to stdout: a CloudWatch Embedded Metric Format
document that is also the request's log record (method, path, route, status, latency,
request id, and a 4xx's reason). It bypasses ``logging`` on purpose: with the JSON log
format Lambda wraps every ``logging`` record in its own object, and CloudWatch extracts
metrics only from a line that is itself the EMF document (docs/http-api.md rules 21–22).
The line has no ``level``, so Lambda counts it as INFO and would drop it under a WARN or
ERROR application log level (docs/http-api.md rule 30): the stack keeps Lambda's level at
INFO (DEBUG for DEBUG) and passes ``tap:logLevel`` as ``LOG_LEVEL``, which this module
applies to the root logger, so the line survives every ``tap:logLevel`` while the
function's own ``logging`` obeys it. Lambda's wrapper alone is ~145 bytes, so a
``logging`` record plus an EMF line cannot fit the 400-byte budget; one line does. A 5xx
is also logged through ``logging`` at ERROR, with its traceback and a redacted summary.
Credential header values, cookies, query values and bodies are never logged.

Cold start: Lambda compiles this package from source (its folder is read-only, so no
.pyc is kept), and every line and import is paid for; modules stay small and import only
what the runtime has loaded already.
"""

# No `from __future__ import annotations`: every annotation here is valid at run time on
# Python 3.10+, and that import costs ~0.2 ms of every cold start.

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping

from . import metrics
from .events import (
    MAX_BODY_BYTES,
    MAX_RESPONSE_BYTES,
    BadRequestError,
    HttpError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    Request,
    parse_event,
    request_id,
)
from .routes import ROUTE_KEYS, match

SERVICE_NAME = "TAP Serverless API"
UNKNOWN = "unknown"  # an environment variable the stack sets is missing: a local run
# Paths may be ~10 KB (docs/http-api.md rule 15); the log keeps their start, and the start of a
# 4xx's reason (a 404's lists every route: the client needs that, the log does not).
MAX_LOGGED_CHARS = 200
# The only header values an error's log record holds: an allowlist, because a denylist of
# credential headers (authorization, cookie, x-api-key, x-amz-security-token, ...) misses
# the next custom token header.
SAFE_HEADERS = frozenset({"content-type", "content-length", "user-agent", "accept", "host"})
REDACTED = "[redacted]"

logger = logging.getLogger(__name__)

# tap:logLevel, set by the stack (tap/compute.py LOG_LEVEL_ENV); see the module docstring.
LOG_LEVEL_ENV = "LOG_LEVEL"
_LOG_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
}


def apply_log_level(env: Mapping[str, str], root: logging.Logger | None = None) -> None:
    """Set the root logger to ``env[LOG_LEVEL_ENV]``. Unset or unknown: the level the
    runtime set stays (a cold start must not fail over a log level)."""
    level = _LOG_LEVELS.get(str(env.get(LOG_LEVEL_ENV, "")).upper())
    if level is not None:
        (root if root is not None else logging.getLogger()).setLevel(level)


def health(request: Request, app: "App", timestamp: str) -> dict[str, object]:
    return {
        "status": "healthy",
        "timestamp": timestamp,
        "environment": app.environment,
        "region": app.region,
    }


def info(request: Request, app: "App", timestamp: str) -> dict[str, object]:
    return {
        "service": SERVICE_NAME,
        "version": app.version,
        "environment": app.environment,
        "region": app.region,
        "timestamp": timestamp,
    }


def echo(request: Request, app: "App", timestamp: str) -> dict[str, object]:
    from .body import read_json_body  # first body only: GETs never compile it (cold start)

    response: dict[str, object] = {
        "message": f"{request.method} request processed successfully",
        "path": request.path,
        "data": read_json_body(request, app.max_body_bytes),
        "timestamp": timestamp,
    }
    if request.sub is not None:  # the caller, when a JWT authorizer let it in
        response["sub"] = request.sub
    return response


def delete(request: Request, app: "App", timestamp: str) -> dict[str, object]:
    # A DELETE's body is not read: the contract's answer does not depend on it.
    response: dict[str, object] = {
        "message": "DELETE request processed successfully",
        "path": request.path,
        "timestamp": timestamp,
    }
    if request.sub is not None:
        response["sub"] = request.sub
    return response


# What a route's ``action`` names: (request, app, ISO timestamp) -> the JSON response.
Action = Callable[[Request, "App", str], "dict[str, object]"]
ACTIONS: dict[str, Action] = {"health": health, "info": info, "echo": echo, "delete": delete}


def iso_timestamp(epoch_seconds: float) -> str:
    """``2026-11-26T07:00:00.123Z``: UTC, milliseconds, without importing datetime."""
    whole, millis = divmod(round(epoch_seconds * 1000), 1000)  # round: 0.123 is 0.12299...
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def write_stdout(line: str) -> None:
    stream = sys.stdout  # looked up per call: tests and workers may replace it
    stream.write(line + "\n")
    stream.flush()  # Lambda's stdout is unbuffered; elsewhere, a killed worker keeps it


# json.dumps builds a new encoder per call when given options; this one is built once. It
# refuses non-finite floats: a body number that overflowed to infinity (1e999) has no JSON
# form (docs/http-api.md rule 48), and checking here costs nothing per number.
_to_json = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def _result_size(body: str, limit: int) -> int:
    """At most how many bytes Lambda counts for this result (docs/http-api.md rule 46): the
    body once more for each character JSON escapes in it (the body is ASCII: " and \\;
    control characters are already escaped), plus the envelope, headers included. A body
    too short to cross the limit even if every character were escaped is not scanned."""
    if 2 * len(body) + _ENVELOPE_BYTES <= limit:
        return 2 * len(body) + _ENVELOPE_BYTES
    return len(body) + body.count('"') + body.count("\\") + _ENVELOPE_BYTES


# The rest of the result: status, header names and values, the keys. Generous (real: ~150).
_ENVELOPE_BYTES = 1024


def _response(status: int, payload: object, rid: str, **headers: str) -> dict[str, object]:
    # No CORS headers: API Gateway owns CORS and ignores the integration's (rule 17).
    headers["content-type"], headers["x-request-id"] = "application/json", rid
    body = _to_json(payload)
    return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}


class App:
    """The handler, with what it depends on passed in (defaults: the real ones), so tests
    need no patching: the environment, a wall clock, a monotonic timer, where the request
    line goes, and the actions routes name."""

    def __init__(
        self,
        env: Mapping[str, str] = os.environ,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.perf_counter,
        emit: Callable[[str], None] = write_stdout,
        actions: Mapping[str, Action] = ACTIONS,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.environment = env.get("ENVIRONMENT") or UNKNOWN
        self.region = env.get("AWS_REGION") or UNKNOWN  # Lambda sets it
        self.version = env.get("APP_VERSION") or UNKNOWN
        self.namespace = env.get(metrics.NAMESPACE_ENV) or metrics.DEFAULT_NAMESPACE
        self.max_body_bytes = max_body_bytes
        self.max_response_bytes = max_response_bytes
        self.clock, self.timer, self.emit, self.actions = clock, timer, emit, actions
        self.cold = True  # the first invocation in this process is the cold start

    def __call__(self, event: object, context: object = None) -> dict[str, object]:
        """Answer one invocation. Never raises, whatever ``event`` and ``context`` are."""
        start = self.timer()
        rid = request_id(event, context)
        fields: dict[str, object] = {"requestId": rid}
        try:
            request = parse_event(event)
            fields["method"], fields["path"] = request.method, request.path[:MAX_LOGGED_CHARS]
            route, allowed = match(request.method, request.path)
            if route is None and allowed:
                raise MethodNotAllowedError(
                    f"{request.method} is not allowed on {request.path}; "
                    f"allowed: {', '.join(allowed)}",
                    allowed,
                )
            if route is None:
                raise NotFoundError(
                    f"no route for {request.method} {request.path}; routes: {', '.join(ROUTE_KEYS)}"
                )
            fields["route"] = route.key
            payload = self.actions[route.action](request, self, iso_timestamp(self.clock()))
            try:
                response = _response(200, payload, rid)
            except RecursionError:  # echoed JSON that parsed but is too deep to write back
                raise BadRequestError("request body is not valid JSON: nested too deeply") from None
            except ValueError:  # a float that overflowed: nothing else here is non-finite
                raise BadRequestError(
                    "request body has a number out of range (beyond +-1.8e308, a double's "
                    "range): send finite numbers"
                ) from None
            # str(): the body is a str already (no copy); it tells mypy so.
            size = _result_size(str(response["body"]), self.max_response_bytes)
            if size > self.max_response_bytes:
                raise PayloadTooLargeError(
                    f"the response would be {size} bytes, over the limit of "
                    f"{self.max_response_bytes} bytes (a Lambda response is at most 6 MB); "
                    "numbers such as 1e15 are written out in full and non-ASCII characters "
                    "as \\u escapes: send a smaller body"
                )
        except HttpError as error:
            fields["error"] = error.message[:MAX_LOGGED_CHARS]
            response = _response(error.status, {"error": error.message}, rid, **error.headers)
        except Exception:
            # A bug: the client gets the request id to quote, the log gets the traceback.
            logger.exception("unhandled error", extra={"request": {**fields, **_summary(event)}})
            response = _response(500, {"error": "Internal server error", "requestId": rid}, rid)
        self._record(response["statusCode"], start, fields)
        return response

    def _record(self, status: object, start: float, fields: dict[str, object]) -> None:
        """Write the request's EMF line. Never raises: a lost metric must not lose the
        response."""
        try:
            values: dict[str, float] = {
                "Requests": 1,
                "HandlerLatency": round((self.timer() - start) * 1000, 2),
            }
            if isinstance(status, int) and status >= 400:
                values["ServerErrors" if status >= 500 else "ClientErrors"] = 1
            if self.cold:
                values["ColdStart"] = 1
                self.cold = False
            fields["status"] = status
            dimensions = {"Environment": self.environment}
            timestamp = int(self.clock() * 1000)
            record = metrics.emf_record(self.namespace, dimensions, values, timestamp, fields)
            self.emit(metrics.emf_line(record))
        except Exception:
            logger.warning("could not write the request's metrics line", exc_info=True)


def _summary(event: object) -> dict[str, object]:
    """What an error's log record may hold about the event: its keys, header names with
    only SAFE_HEADERS' values, query parameter names and the body's size; never a body, a
    cookie, a query value or a credential."""
    if not isinstance(event, dict):
        return {"eventType": type(event).__name__}
    headers = event.get("headers")
    headers = headers if isinstance(headers, dict) else {}
    query = event.get("queryStringParameters")
    body = event.get("body")
    return {
        "eventKeys": [str(key)[:40] for key in list(event)[:40]],
        "headers": {
            str(name)[:40]: str(value)[:200] if str(name).lower() in SAFE_HEADERS else REDACTED
            for name, value in list(headers.items())[:50]
        },
        "queryNames": [str(name)[:40] for name in list(query)[:50]]
        if isinstance(query, dict)
        else [],
        "bodyChars": len(body) if isinstance(body, str) else 0,
    }


apply_log_level(os.environ)
_app = App()


def handler(event: object, context: object = None) -> dict[str, object]:
    """Lambda's entry point (``app.handler.handler``)."""
    return _app(event, context)
