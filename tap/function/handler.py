"""The Lambda entry point, ``app.handler.handler``: docs/design.md's HTTP contract on API
Gateway HTTP API payload format 2.0.

Logging. Each request writes one line to stdout: a CloudWatch Embedded Metric Format
document that is also the request's log record (method, path, route, status, latency,
request id, and a 4xx's reason). It bypasses ``logging`` on purpose: with the JSON log
format Lambda wraps every ``logging`` record in its own object, and CloudWatch extracts
metrics only from a line that is itself the EMF document (docs/http-api.md rules 21–22);
metrics must also survive a raised log level. Lambda's wrapper alone is ~145 bytes, so a
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
    BadRequest,
    HttpError,
    MethodNotAllowed,
    NotFound,
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

    return {
        "message": f"{request.method} request processed successfully",
        "path": request.path,
        "data": read_json_body(request, app.max_body_bytes),
        "timestamp": timestamp,
    }


def delete(request: Request, app: "App", timestamp: str) -> dict[str, object]:
    # A DELETE's body is not read: the contract's answer does not depend on it.
    return {
        "message": "DELETE request processed successfully",
        "path": request.path,
        "timestamp": timestamp,
    }


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


# json.dumps builds a new encoder per call when given options; this one is built once.
_to_json = json.JSONEncoder(separators=(",", ":")).encode


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
    ) -> None:
        self.environment = env.get("ENVIRONMENT") or UNKNOWN
        self.region = env.get("AWS_REGION") or UNKNOWN  # Lambda sets it
        self.version = env.get("APP_VERSION") or UNKNOWN
        self.namespace = env.get(metrics.NAMESPACE_ENV) or metrics.DEFAULT_NAMESPACE
        self.max_body_bytes = max_body_bytes
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
                raise MethodNotAllowed(
                    f"{request.method} is not allowed on {request.path}; "
                    f"allowed: {', '.join(allowed)}",
                    allowed,
                )
            if route is None:
                raise NotFound(
                    f"no route for {request.method} {request.path}; routes: {', '.join(ROUTE_KEYS)}"
                )
            fields["route"] = route.key
            payload = self.actions[route.action](request, self, iso_timestamp(self.clock()))
            try:
                response = _response(200, payload, rid)
            except RecursionError:  # echoed JSON that parsed but is too deep to write back
                raise BadRequest("request body is not valid JSON: nested too deeply") from None
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


_app = App()


def handler(event: object, context: object = None) -> dict[str, object]:
    """Lambda's entry point (``app.handler.handler``)."""
    return _app(event, context)
