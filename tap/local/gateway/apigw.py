"""What API Gateway does around a Lambda integration, as pure functions.

Route matching, the payload format 2.0 event, result translation, CORS and access-log
rendering: each cites the rule of ``docs/http-api.md`` it implements. No I/O
here, so each is tested directly; ``tap.local.gateway.emulator`` wires them to a server.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from tap.cors import (
    PREFLIGHT_STATUS,
    preflight_headers,
    response_headers,
)
from tap.text import quote

if TYPE_CHECKING:
    from tap.local.specs import CorsSpec

# HTTP API route methods (developer guide, "Working with routes for HTTP APIs").
ROUTE_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
DEFAULT_ROUTE = "$default"
# docs/http-api.md rule 6: these content types arrive as text, everything else base64.
_TEXT_MEDIA_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})
_VARIABLE = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


class RouteError(ValueError):
    """A route key the HTTP API would refuse."""


class MalformedResultError(ValueError):
    """A function result API Gateway cannot turn into a response (docs/http-api.md rule 10)."""


@dataclass(frozen=True)
class Route:
    key: str
    method: str  # "ANY" included; "" for $default
    segments: tuple[str, ...]  # path segments; "{name}" and a final "{name+}" are variables
    target: str

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].endswith("+}")


@dataclass(frozen=True)
class RouteMatch:
    route_key: str
    target: str
    path_parameters: dict[str, str] = field(default_factory=dict)


def parse_route(key: str, target: str) -> Route:
    """Parse ``"METHOD /path"`` or ``"$default"``; refuse what API Gateway refuses."""
    if key == DEFAULT_ROUTE:
        return Route(key, "", (), target)
    method, _, path = key.partition(" ")
    if method not in ROUTE_METHODS or not path.startswith("/"):
        raise RouteError(
            f"route key {quote(key)} must be '$default' or 'METHOD /path' with METHOD one of "
            f"{', '.join(sorted(ROUTE_METHODS))}"
        )
    segments = tuple(path[1:].split("/")) if path != "/" else ()
    for index, segment in enumerate(segments):
        variable = _VARIABLE.match(segment)
        if variable is None and ("{" in segment or "}" in segment):
            raise RouteError(
                f"route key {quote(key)}: a path variable is a whole segment, {{name}}"
            )
        if variable is not None and variable.group(2) and index != len(segments) - 1:
            raise RouteError(f"route key {quote(key)}: a greedy {segment} must be the last segment")
    return Route(key, method, segments, target)


class RouteTable:
    """An HTTP API's routes, matched as API Gateway matches them.

    Developer guide, "Routing API requests": the most specific route wins; a full match
    beats a greedy ``{proxy+}``, a literal segment beats a ``{variable}`` (compared left
    to right), a longer greedy prefix beats a shorter one, and a route for the method
    beats ``ANY``. ``$default`` catches what nothing else matches. Paths are matched
    case-sensitively, as received (a trailing slash is part of the path).
    """

    def __init__(self, routes: Mapping[str, str]) -> None:
        parsed = [parse_route(key, target) for key, target in routes.items()]
        self._default = next((r for r in parsed if r.key == DEFAULT_ROUTE), None)
        self._routes = [r for r in parsed if r.key != DEFAULT_ROUTE]

    def match(self, method: str, path: str) -> RouteMatch | None:
        segments = tuple(path[1:].split("/")) if path != "/" else ()
        best: tuple[tuple[Any, ...], RouteMatch] | None = None
        for route in self._routes:
            if route.method not in (method, "ANY"):
                continue
            parameters = _match_segments(route.segments, segments)
            if parameters is None:
                continue
            literal = tuple(not s.startswith("{") for s in route.segments)
            rank = (not route.greedy, len(route.segments), literal, route.method != "ANY")
            if best is None or rank > best[0]:
                best = (rank, RouteMatch(route.key, route.target, parameters))
        if best is not None:
            return best[1]
        if self._default is not None:
            return RouteMatch(DEFAULT_ROUTE, self._default.target)
        return None


def _match_segments(template: Sequence[str], path: Sequence[str]) -> dict[str, str] | None:
    parameters: dict[str, str] = {}
    for index, segment in enumerate(template):
        variable = _VARIABLE.match(segment)
        if variable is not None and variable.group(2):
            rest = path[index:]
            # A greedy variable takes one or more segments: "/{proxy+}" does not match "/".
            if not rest or rest == ("",):
                return None
            parameters[variable.group(1)] = unquote("/".join(rest))
            return parameters
        if index >= len(path):
            return None
        if variable is not None:
            if path[index] == "":
                return None
            parameters[variable.group(1)] = unquote(path[index])
        elif segment != path[index]:
            return None
    return parameters if len(template) == len(path) else None


# --- request -> event (docs/http-api.md rules 1–7) ---------------------------------------------


def new_request_id() -> str:
    """A request id shaped like API Gateway's (``MIZRNhJtIAMEMDw=``): fresh per request."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode("ascii")


def request_time(epoch_s: float) -> str:
    """``requestContext.time``: ``26/Nov/2026:07:00:00 +0000`` (rule 7)."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_s))


def is_text_body(content_type: str | None) -> bool:
    """Rule 6: text for text/*, JSON, XML and JavaScript; anything else is base64."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_MEDIA_TYPES


@dataclass(frozen=True)
class RequestInfo:
    """What the server read from the wire, and what it knows about the request."""

    method: str
    raw_path: str
    raw_query: str
    protocol: str  # "HTTP/1.1"
    headers: Sequence[tuple[str, str]]  # as received, repeats kept, in order
    body: bytes
    source_ip: str
    request_id: str
    epoch_s: float
    server_port: int


def build_event(
    request: RequestInfo,
    match: RouteMatch,
    *,
    api_id: str,
    account_id: str,
    stage: str,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends the function for ``request``."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lower = name.lower()  # rule 3
        if lower == "cookie":  # rule 4: cookies move out of the headers
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        elif lower in headers:
            headers[lower] = f"{headers[lower]},{value}"  # rule 3: repeats joined with ","
        else:
            headers[lower] = value
    headers.pop("transfer-encoding", None)  # the body arrives whole
    headers["content-length"] = str(len(request.body))
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = (
        f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    )
    headers["x-forwarded-port"] = str(request.server_port)
    headers["x-forwarded-proto"] = "http"
    headers.setdefault(
        "x-amzn-trace-id",
        f"Root=1-{int(request.epoch_s):08x}-{request.request_id.encode().hex()[:24]:0<24}",
    )
    host = headers.get("host", "127.0.0.1").rsplit(":", 1)[0].strip("[]") or "127.0.0.1"
    event: dict[str, Any] = {
        "version": "2.0",  # rule 1
        "routeKey": match.route_key,
        "rawPath": request.raw_path,  # rule 2
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.raw_query:  # rule 5
        query: dict[str, str] = {}
        for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query
    event["requestContext"] = {  # rule 7
        "accountId": account_id,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host if _is_ip(host) else host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request.request_id,
        "routeKey": match.route_key,
        "stage": stage,
        "time": request_time(request.epoch_s),
        "timeEpoch": int(request.epoch_s * 1000),
    }
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:  # rule 6: no body, no "body" key
        if is_text_body(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                # Not text after all: deliver the bytes intact rather than mangled.
                event["body"] = base64.b64encode(request.body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --- function result -> HTTP response (docs/http-api.md rules 8–10) -----------------------------

# Framing headers are the server's to set; a function's values would corrupt the response.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_response(status: int, message: str) -> HttpResponse:
    """API Gateway's own answers: ``{"message": "..."}`` as JSON."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)


def translate_result(payload: str) -> HttpResponse:
    """Turn a function's result (its JSON text) into the HTTP response (rules 8–9).

    Raises ``MalformedResultError`` for a result API Gateway answers with 500 (rule 10).
    """
    try:
        result = json.loads(payload)
    except ValueError as exc:
        raise MalformedResultError(f"the result is not JSON: {exc}") from exc
    if not (isinstance(result, dict) and "statusCode" in result):
        # Rule 9: any other JSON is a 200 with that JSON as the body; a string as-is.
        body = result if isinstance(result, str) else payload
        return HttpResponse(200, [("content-type", "application/json")], body.encode())
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResultError(f"statusCode must be an integer 100–599, got {quote(status)}")
    headers = _result_headers(result.get("headers")) + _result_cookies(result.get("cookies"))
    return HttpResponse(status, headers, _result_body(result))


def _result_headers(raw_headers: object) -> list[tuple[str, str]]:
    """The result's ``headers`` as response headers, framing headers dropped."""
    raw_headers = {} if raw_headers is None else raw_headers
    if not isinstance(raw_headers, dict):
        raise MalformedResultError("headers must be an object of name -> value")
    headers: list[tuple[str, str]] = []
    for name, value in raw_headers.items():
        if isinstance(value, (dict, list)) or value is None:
            raise MalformedResultError(f"header {quote(name)} must be a string, got {quote(value)}")
        text = _header_text(value)
        if not _valid_header(name, text):
            raise MalformedResultError(
                f"header {quote(name)} has an invalid name or value {quote(text)}"
            )
        if name.lower() not in _FRAMING_HEADERS:
            headers.append((name, text))
    return headers


def _result_cookies(cookies: object) -> list[tuple[str, str]]:
    """Rule 8: each of the result's ``cookies`` becomes a Set-Cookie."""
    cookies = [] if cookies is None else cookies
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResultError("cookies must be a list of strings")
    for cookie in cookies:
        if not _valid_header("set-cookie", cookie):
            raise MalformedResultError("a cookie holds a line break or control character")
    return [("set-cookie", cookie) for cookie in cookies]


def _result_body(result: dict[str, Any]) -> bytes:
    """The result's ``body``, base64-decoded when ``isBase64Encoded``."""
    raw_body: object = result.get("body")
    if raw_body is None:
        raw_body = ""
    if not isinstance(raw_body, str):
        raise MalformedResultError(f"body must be a string, got {type(raw_body).__name__}")
    encoded = result.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise MalformedResultError("isBase64Encoded must be true or false")
    if not encoded:
        return raw_body.encode()
    try:
        return base64.b64decode(raw_body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedResultError("isBase64Encoded is true but body is not base64") from exc


def _header_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _valid_header(name: object, value: str) -> bool:
    # A CR or LF would let a function inject headers or split the response.
    return (
        isinstance(name, str) and bool(_TOKEN.match(name)) and not any(c in value for c in "\r\n\0")
    )


# --- CORS (docs/http-api.md rules 16–19, 25): tap.cors, shared with the smoke check ---------


def preflight_response(cors: CorsSpec, origin: str | None) -> HttpResponse:
    """Rule 16: API Gateway answers the preflight itself (status assumed); rule 19: a
    disallowed origin gets the same status with no Access-Control-* headers."""
    return HttpResponse(PREFLIGHT_STATUS, preflight_headers(cors, origin), b"")


def apply_cors(cors: CorsSpec, origin: str | None, response: HttpResponse) -> HttpResponse:
    """Rule 17: drop the function's CORS headers; add the configured ones if allowed."""
    return HttpResponse(
        response.status, response_headers(cors, origin, response.headers), response.body
    )


# --- access logs -------------------------------------------------------------------------

_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)")


def render_access_log(template: str, values: Mapping[str, object]) -> str:
    """Render a stage's access-log format: each ``$context.name`` by its value.

    As API Gateway does, a variable with no value (unknown, or None) renders as ``-``.
    Values are JSON-string escaped, so a quote or backslash in a path or user agent
    cannot break a JSON format. ``$context.a.b.c`` matches the longest known name, so a
    variable followed by a literal ``.`` still renders.
    """

    def substitute(found: re.Match[str]) -> str:
        name = found.group(1)
        rest = ""
        while name not in values and "." in name:
            name, _, tail = name.rpartition(".")
            rest = f".{tail}{rest}"
        value = values.get(name)
        if value is None:
            return "-" + rest if name in values else "-"
        return json.dumps(str(value))[1:-1] + rest

    return _CONTEXT_VARIABLE.sub(substitute, template)
