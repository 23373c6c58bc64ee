"""An API Gateway HTTP API emulator for local mode.

Serves one deployed HTTP API on 127.0.0.1 with payload format 2.0 semantics
(``docs/http-api.md`` rules 1–19, cited where each applies) and runs its
Lambda function the way Lambda does (tap.local.runtime): each concurrent invocation on its
own instance, a process running the runtime interface client against its own Runtime API,
with the function's environment and no credentials.

Lifecycle (the stage URL is needed as a deploy output before the routes can be read back):

    emulator = Emulator(on_function_log=..., on_access_log=...)
    url = emulator.start()          # binds and serves now: every request gets
                                    # 503 {"message":"Service Unavailable"} until loaded
    ...deploy, using url as the stage URL...
    emulator.load(api, functions)   # validated here; raises EmulatorConfigError
    ...serve until Ctrl-C...
    emulator.stop()

or, when everything is known up front, ``with Emulator(api, functions) as emulator:``
(loads, then starts on entering). ``load()`` may be called again to replace what is
served: requests in flight finish on the old instances, new ones go to the new functions.

Answers, and where each comes from (rules of docs/http-api.md; *unverified* = this emulator's
decision where no capture from AWS settles it):
- no route: 404 ``Not Found`` (rule 12); not loaded yet: 503 ``Service Unavailable``;
- past the stage's throttling (a token bucket of ``throttling_burst_limit`` tokens refilled
  at ``throttling_rate_limit`` per second): 429 ``Too Many Requests`` (rules 13, 52);
- the function's reserved concurrency all in use: Lambda refuses with 429 (rule 50) and
  the client gets 500 ``Internal Server Error`` (rule 51, *assumed*);
- function raised, returned something unserializable or malformed, crashed, failed to
  import, or ran past its own ``timeout_s``: 500 ``Internal Server Error`` (rule 10; a
  timeout inside Lambda is a function error). The traceback goes to the function-log sink
  only;
- the integration timeout (``integration_timeout_ms``, default 30 s) passed first,
  including time queued for a free instance (past ``max_instances``): 503 ``Service
  Unavailable`` (rule 11). The project's function timeout is at most 29 s, so its own
  timeout (500) always comes first;
- a response over Lambda's 6 MB payload limit: 500 (rule 14; Lambda fails the invocation);
  an event over 6 MB (a large body, base64): 413 (*unverified*);
- a body over 10 MB: 413 ``Request Entity Too Large`` (rule 14), refused from its
  Content-Length (or running chunked size) without reading it; an ``Expect:
  100-continue`` client is refused before it sends;
- request line plus headers over 10,240 bytes: 431 ``Request Header Fields Too Large``
  (rule 15; the status is *unverified*); a request line over that: 414;
- a head that two parsers could read two ways (rules 40–42, tap/local/gateway/http1.py): a header
  line without a colon, with whitespace before it, folded, or with a bare CR or control
  characters; a method that is not a token; control or raw non-ASCII bytes in the target;
  HTTP/1.1 without Host, or two Hosts; Content-Length other than 1–18 ASCII digits, or
  conflicting; Content-Length with Transfer-Encoding; Transfer-Encoding on HTTP/1.0;
  malformed chunks: 400 ``Bad Request``; a transfer coding other than ``chunked``: 501
  ``Not Implemented``; chunked bodies are decoded;
- a client stalling mid-request past ``KEEP_ALIVE_TIMEOUT_S``: 408; a bug in the emulator
  itself: 500 (and the traceback on the console);
- more than ``max_connections`` open connections: 503 ``Service Unavailable`` to the new
  one, without reading it (rule 43; the listen backlog is the system's somaxconn, at
  least 128, so bursts queue instead of being dropped);
- CORS (rules 16–19): a preflight is answered 204 without the function; a disallowed
  origin's preflight gets 204 with no Access-Control-* headers (*unverified*, rule 19).
  Other responses, gateway errors included, lose the function's CORS headers and gain the
  configured ones when the Origin is allowed.
Every refusal is JSON ``{"message": ...}`` and closes the connection; otherwise
connections are kept alive (HTTP/1.1). Access-log lines render the stage's format with
``-`` for variables without a value; they are emitted before the response is written, one
per answer, refusals included (rule 44).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import queue
import secrets
import selectors
import socket
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tap.cors import header_value, is_preflight
from tap.local.gateway import jwt_auth
from tap.local.gateway.apigw import (
    HttpResponse,
    MalformedResultError,
    RequestInfo,
    RouteError,
    RouteTable,
    apply_cors,
    build_event,
    json_response,
    preflight_response,
    render_access_log,
    request_time,
    translate_result,
)
from tap.local.gateway.http1 import (
    MAX_HEADER_FIELDS,
    HeadError,
    RequestLine,
    check_host,
    connection_options,
    content_length,
    parse_chunk_size,
    parse_field_line,
    parse_request_line,
    strip_line_end,
    transfer_codings,
    values_of,
)
from tap.local.gateway.throttle import TokenBucket, stage_bucket
from tap.local.logs.sink import LogKind, LogSink, from_line_callback, safe
from tap.local.runtime.instance import Worker, default_worker
from tap.local.runtime.invocation import INIT_TIMEOUT_S, Invocation
from tap.local.runtime.pool import FunctionPool
from tap.local.specs import (
    MAX_INTEGRATION_TIMEOUT_MS,
    MIN_INTEGRATION_TIMEOUT_MS,
    AccessLogSink,
    ApiSpec,
    FunctionLogSink,
    FunctionSpec,
)
from tap.text import quote

SUPPORTED_PAYLOAD_FORMAT = "2.0"


class EmulatorConfigError(ValueError):
    """The API or function specs cannot be served; the message says what and why."""


# docs/http-api.md rule 14: API Gateway takes request bodies up to 10 MB.
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
# docs/http-api.md rule 15: request line plus headers, 10,240 bytes. What API Gateway answers
# past it is unverified; this emulator answers 431 Request Header Fields Too Large.
MAX_REQUEST_HEAD_BYTES = 10_240
# Longest single line read from the socket (request line, header line, chunk size line):
# anything longer is refused before it is buffered.
_MAX_LINE_BYTES = MAX_REQUEST_HEAD_BYTES + 2
# How long an idle keep-alive connection stays open, and how long a client may stall in
# the middle of sending a request.
KEEP_ALIVE_TIMEOUT_S = 60.0
# After refusing a body (413), read and discard what the client still sends for at most
# this long so it can read the answer instead of a connection reset.
_DRAIN_TIMEOUT_S = 1.0
_MAX_BLANK_LINES = 4  # RFC 9112 §2.2: ignore at least one empty line before a request
# docs/http-api.md rule 43: open connections served at once (one thread each); past it a
# new connection gets 503 and is closed. Idle keep-alive connections count.
MAX_CONNECTIONS = 256
_MIN_BACKLOG = 128
_MAX_OVERFLOW_PENDING = 1024  # refused connections being drained at once; more: closed
_BUSY_BODY = b'{"message":"Service Unavailable"}'
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)

_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    408: "Request Timeout",
    411: "Length Required",
    413: "Request Entity Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


class _RequestError(Exception):
    """A request the server answers itself, then closes the connection."""

    def __init__(self, status: int) -> None:
        super().__init__(_REASONS[status])
        self.status = status


@dataclass
class _Loaded:
    api: ApiSpec
    routes: RouteTable
    functions: dict[str, FunctionPool]
    bucket: TokenBucket


def new_request_id() -> str:
    """A request id shaped like API Gateway's (``MIZRNhJtIAMEMDw=``): fresh per request."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode("ascii")


def validate(api: ApiSpec, functions: Mapping[str, FunctionSpec]) -> RouteTable:
    """Check the specs can be served; raise EmulatorConfigError naming every problem."""
    problems: list[str] = []
    if api.payload_format_version != SUPPORTED_PAYLOAD_FORMAT:
        problems.append(
            f"payload_format_version is {quote(api.payload_format_version)}, but the emulator "
            f"serves only {quote(SUPPORTED_PAYLOAD_FORMAT)} (set payload_format_version='2.0' on "
            "the integration; pulumi-aws defaults to '1.0')"
        )
    timeout = api.integration_timeout_ms
    if not MIN_INTEGRATION_TIMEOUT_MS <= timeout <= MAX_INTEGRATION_TIMEOUT_MS:
        problems.append(
            f"integration_timeout_ms is {timeout}, but must be "
            f"{MIN_INTEGRATION_TIMEOUT_MS}–{MAX_INTEGRATION_TIMEOUT_MS} (docs/http-api.md rule 11)"
        )
    if not api.stage or "/" in api.stage:
        problems.append(f"stage is {quote(api.stage)}: expected '$default' or a stage name")
    routes = RouteTable({})
    try:
        routes = RouteTable(api.routes)
    except RouteError as exc:
        problems.append(str(exc))
    for key, target in api.routes.items():
        if target not in functions:
            problems.append(
                f"route {quote(key)} targets function {quote(target)}, which is not among the "
                f"functions given ({', '.join(sorted(functions)) or 'none'})"
            )
    if api.cors is not None:
        cors = api.cors
        if cors.allow_credentials and "*" in cors.allow_origins:
            problems.append("cors: allow_credentials cannot be true with allow_origins '*'")
        if cors.max_age is not None and not -1 <= cors.max_age <= 86_400:
            problems.append(f"cors: max_age is {cors.max_age}, but must be -1–86400")
    for name, spec in functions.items():
        if spec.timeout_s <= 0:
            problems.append(f"function {quote(name)}: timeout_s is {spec.timeout_s}, must be > 0")
        if "." not in spec.handler:
            problems.append(
                f"function {quote(name)}: handler {quote(spec.handler)} must be module.function"
            )
        try:
            with zipfile.ZipFile(io.BytesIO(spec.zip_bytes)) as archive:
                archive.namelist()
        except zipfile.BadZipFile:
            problems.append(f"function {quote(name)}: zip_bytes is not a zip archive")
    if problems:
        raise EmulatorConfigError("cannot serve this API:\n- " + "\n- ".join(problems))
    return routes


class Emulator:
    """Serve an HTTP API and its functions on ``host:port`` (port 0: any free port).

    Until ``load()`` has been called, every request is answered 503
    ``{"message":"Service Unavailable"}``, so the URL can be handed out (as the stage URL
    output) before the deploy has finished.
    """

    def __init__(
        self,
        api: ApiSpec | None = None,
        functions: Mapping[str, FunctionSpec] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_function_log: FunctionLogSink | None = None,
        on_access_log: AccessLogSink | None = None,
        log_sink: LogSink | None = None,
        worker: Worker | None = None,
        max_instances: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        """
        :param log_sink: receives every line the functions and Lambda's platform write
            (tap.local.logs.sink); ``on_function_log(name, line)`` is the older, simpler form.
        :param worker: the runtime client each instance runs; default awslambdaric when
            installed, else the built-in one (``worker_note`` then says why).
        :param max_instances: local mode's cap on instances per function (default: the CPU
            count); requests past it wait for a free instance.
        :param clock: the stage throttling's clock (tests inject one).
        :param max_connections: the most client connections served at once.
        """
        if max_connections < 1:
            raise EmulatorConfigError(f"max_connections is {max_connections}, must be >= 1")
        self._max_connections = max_connections
        self._host = host
        self._requested_port = port
        sinks = [
            s for s in (log_sink, on_function_log and from_line_callback(on_function_log)) if s
        ]
        self._sink = safe(_fan_out(sinks))
        self._on_access_log = on_access_log
        if worker is None:
            worker, self.worker_note = default_worker()
        else:
            self.worker_note = None
        self.worker = worker
        self._max_instances = max_instances
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if api is not None:
            self.load(api, functions or {})

    def load(self, api: ApiSpec, functions: Mapping[str, FunctionSpec]) -> None:
        """Validate and (re)load what is served; replaces anything loaded before.

        Raises EmulatorConfigError, listing every problem, before changing anything. A
        function's instances start on demand (cold starts). A swap never fails a request:
        requests already in flight finish on the instances they started on, new ones go to
        the new functions, and each old instance closes once idle (``FunctionPool.retire``).
        A function whose spec did not change keeps its warm instances.
        """
        self.swap(api, functions)

    def swap(self, api: ApiSpec, functions: Mapping[str, FunctionSpec]) -> list[str]:
        """``load()``, returning the names of the functions whose code or configuration
        changed (those get fresh instances); what a hot reload calls."""
        routes = validate(api, functions)
        with self._lock:
            previous = self._loaded
            kept = {
                name: pool
                for name, pool in (previous.functions.items() if previous else [])
                if functions.get(name) == pool.spec
            }
            pools = {
                name: kept.get(name)
                or FunctionPool(
                    spec, self._sink, worker=self.worker, max_instances=self._max_instances
                )
                for name, spec in functions.items()
            }
            same_limits = previous is not None and (
                previous.api.throttling_burst_limit,
                previous.api.throttling_rate_limit,
            ) == (api.throttling_burst_limit, api.throttling_rate_limit)
            bucket = (
                previous.bucket
                if previous is not None and same_limits
                else stage_bucket(
                    api.throttling_burst_limit, api.throttling_rate_limit, self._clock
                )
            )
            self._loaded = _Loaded(api, routes, pools, bucket)
        retired = [
            pool
            for name, pool in (previous.functions.items() if previous else [])
            if kept.get(name) is not pool
        ]
        for pool in retired:
            pool.retire()
        return sorted(name for name in functions if name not in kept)

    def swap_function(self, spec: FunctionSpec) -> None:
        """Serve ``spec`` in place of the function of that name (a hot reload): the rest of
        what is served stays, warm instances included."""
        with self._lock:
            loaded = self._loaded
            if loaded is None or spec.name not in loaded.functions:
                raise EmulatorConfigError(f"function {spec.name!r} is not served")
            specs = {name: pool.spec for name, pool in loaded.functions.items()}
        self.swap(loaded.api, {**specs, spec.name: spec})

    def check_function(self, spec: FunctionSpec) -> Invocation | None:
        """Initialize ``spec`` on a throwaway instance: None when it initializes, else how
        an invocation would have failed (its init error goes to the log sink too)."""
        held: list[tuple[str, str | None, str, LogKind, str]] = []

        def hold(
            function: str, request_id: str | None, line: str, kind: LogKind, stream: str
        ) -> None:
            held.append((function, request_id, line, kind, stream))

        pool = FunctionPool(spec, hold, worker=self.worker, max_instances=1)
        try:
            failure = pool.check(time.monotonic() + INIT_TIMEOUT_S)
        finally:
            pool.close()
        if failure is not None:  # its lines say why; a successful check leaves no trace
            for entry in held:
                self._sink(*entry)
        return failure

    def pool(self, name: str) -> FunctionPool | None:
        """The instances serving function ``name`` now, if it is served."""
        loaded = self._loaded
        return loaded.functions.get(name) if loaded is not None else None

    def start(self) -> str:
        """Bind and serve in a background thread; return the base URL. Idempotent."""
        with self._lock:
            if self._server is None:
                server = _Server(
                    (self._host, self._requested_port), _Handler, self._max_connections
                )
                server.emulator = self
                self._server = server
                self._thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.1},
                    name="tap-emulator",
                    daemon=True,
                )
                self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving, close open connections, kill the workers. Idempotent."""
        with self._lock:
            server, self._server = self._server, None
            thread, self._thread = self._thread, None
            loaded, self._loaded = self._loaded, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if thread is not None:
            thread.join(timeout=5)
        if loaded is not None:
            for function in loaded.functions.values():
                function.close()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    @property
    def port(self) -> int:
        """The bound port; after start()."""
        if self._server is None:
            raise RuntimeError("the emulator is not started: call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (the stage URL of a ``$default`` stage); after start()."""
        host = self._host if ":" not in self._host else f"[{self._host}]"
        return f"http://{host}:{self.port}"

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- serving one request ---------------------------------------------------------

    def _handle(self, request: RequestInfo) -> tuple[HttpResponse, dict[str, object]]:
        """Answer one request read whole from the wire; also the access-log values."""
        started = time.monotonic()
        loaded = self._loaded
        context: dict[str, object] = {
            "requestId": request.request_id,
            "extendedRequestId": request.request_id,
            "httpMethod": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "identity.sourceIp": request.source_ip,
            "identity.userAgent": header_value(request.headers, "user-agent"),
            "requestTime": request_time(request.epoch_s),
            "requestTimeEpoch": int(request.epoch_s * 1000),
            "routeKey": None,
            "integrationErrorMessage": None,
            "integrationStatus": None,
            "integrationLatency": None,
            "error.message": None,
        }
        if loaded is None:
            response = json_response(503, "Service Unavailable")
            context["error.message"] = "Service Unavailable"
            return response, context
        api = loaded.api
        if not loaded.bucket.take():
            # docs/http-api.md rules 13 and 52: past the stage's burst and rate.
            context["error.message"] = "Too Many Requests"
            return json_response(429, "Too Many Requests"), context
        context.update(
            apiId=api.api_id,
            stage=api.stage,
            accountId=api.account_id,
            domainName=(header_value(request.headers, "host") or self._host).rsplit(":", 1)[0],
        )
        origin = header_value(request.headers, "origin")
        if api.cors is not None and is_preflight(request.method, request.headers):
            # docs/http-api.md rule 16: never reaches the function.
            return preflight_response(api.cors, origin), context
        response = self._route_and_invoke(loaded, request, context, started)
        if api.cors is not None:
            response = apply_cors(api.cors, origin, response)  # rule 17
        return response, context

    def _route_and_invoke(
        self,
        loaded: _Loaded,
        request: RequestInfo,
        context: dict[str, object],
        started: float,
    ) -> HttpResponse:
        api = loaded.api
        path = request.raw_path
        if api.stage != "$default":
            # docs/http-api.md rule 2: a named stage is the first path segment.
            prefix = f"/{api.stage}"
            if path != prefix and not path.startswith(prefix + "/"):
                context["error.message"] = "Not Found"
                return json_response(404, "Not Found")
            path = path[len(prefix) :] or "/"
        match = loaded.routes.match(request.method, path)
        if match is None:
            context["error.message"] = "Not Found"  # rule 12
            return json_response(404, "Not Found")
        context["routeKey"] = match.route_key
        route_auth = api.route_auth.get(match.route_key)
        decision = None
        if route_auth is not None:
            # docs/http-api.md rules 60-61: the authorizer answers before the integration.
            identity = header_value(request.headers, "authorization")
            decision = jwt_auth.authorize(identity, route_auth, time.time())
            if not decision.allowed:
                denial = decision.response()
                context["error.message"] = json.loads(denial.body)["message"]
                return denial
        event = build_event(
            request, match, api_id=api.api_id, account_id=api.account_id, stage=api.stage
        )
        if decision is not None:
            event["requestContext"]["authorizer"] = decision.event_authorizer()  # rule 62
        function = loaded.functions[match.target]
        deadline = started + api.integration_timeout_ms / 1000
        invoke_started = time.monotonic()
        result = function.invoke(event, deadline)
        context["integrationLatency"] = int((time.monotonic() - invoke_started) * 1000)
        context["integration.requestId"] = result.request_id
        if result.status == "throttled":
            # Rule 50: Lambda refused the invocation (429 TooManyRequestsException); rule
            # 51: an HTTP API answers its client 500.
            context["integrationStatus"] = 429
            context["integrationErrorMessage"] = result.error_message
            context["error.message"] = "Internal Server Error"
            return json_response(500, "Internal Server Error")
        if result.status == "deadline":
            # Rule 11: the integration timeout passed first.
            context["integrationErrorMessage"] = result.error_message
            context["error.message"] = "Service Unavailable"
            return json_response(503, "Service Unavailable")
        if result.status == "too_large" and result.request_id is None:
            # The event itself exceeded Lambda's 6 MB invoke limit (rule 14); what API
            # Gateway answers is unverified: 413, as for an oversized body.
            context["integrationErrorMessage"] = result.error_message
            return json_response(413, "Request Entity Too Large")
        context["integrationStatus"] = 200
        if result.status != "ok" or result.payload is None:
            # Rule 10: a function error, a timeout inside Lambda, a crash, an oversized
            # response. Details go to the function's log only.
            context["integrationErrorMessage"] = (
                f"{result.error_type}: {result.error_message}"
                if result.error_type
                else result.error_message
            )
            context["error.message"] = "Internal Server Error"
            return json_response(500, "Internal Server Error")
        try:
            return translate_result(result.payload)
        except MalformedResultError as exc:
            message = f"Malformed Lambda proxy response: {exc}"
            context["integrationErrorMessage"] = message
            context["error.message"] = "Internal Server Error"
            self._sink(
                function.spec.name, result.request_id, f"[emulator] {message}", "emulator", ""
            )
            return json_response(500, "Internal Server Error")

    def _log_refusal(
        self,
        status: int,
        length: int,
        *,
        source_ip: str,
        method: str | None = None,
        path: str | None = None,
        protocol: str | None = None,
    ) -> None:
        """The access-log line of a request the server answered itself (malformed, too
        large, over capacity): what was read of it, ``-`` for the rest (rule 44)."""
        loaded = self._loaded
        now = time.time()
        reason = _REASONS.get(status, "Unknown")
        context: dict[str, object] = {
            "requestId": new_request_id(),
            "httpMethod": method,
            "path": path,
            "protocol": protocol,
            "identity.sourceIp": source_ip,
            "requestTime": request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "status": status,
            "responseLength": length,
            "error.message": reason,
        }
        context["extendedRequestId"] = context["requestId"]
        if loaded is not None:
            context.update(
                apiId=loaded.api.api_id, stage=loaded.api.stage, accountId=loaded.api.account_id
            )
        self._access_log(context)

    def _access_log(self, context: dict[str, object]) -> None:
        loaded = self._loaded
        if self._on_access_log is None or loaded is None or not loaded.api.access_log_format:
            return
        # A failing sink must not fail the request.
        with contextlib.suppress(Exception):
            self._on_access_log(render_access_log(loaded.api.access_log_format, context))


def listen_backlog() -> int:
    """How many connections may wait to be accepted (docs/http-api.md rule 43).

    socketserver's default of 5 overflows under a burst of new connections: the kernel
    drops the extra SYNs and each client stalls a second or more before retrying. The
    system's own cap (somaxconn, which the kernel applies anyway) or 128, whichever is more.
    """
    try:
        with open("/proc/sys/net/core/somaxconn", encoding="ascii") as file:
            return max(_MIN_BACKLOG, int(file.read().strip()))
    except (OSError, ValueError):  # not Linux
        return _MIN_BACKLOG


class _Overflow:
    """Answers connections past the cap with 503 and closes them, all on one thread.

    The request is not read: the answer goes out at once, then whatever the client sends
    is read and dropped for a moment before closing, so its kernel does not turn unread
    bytes into a reset that would discard the 503 (docs/http-api.md rule 43).
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[socket.socket | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tap-emulator-busy", daemon=True)
        self._thread.start()

    def refuse(self, connection: socket.socket) -> None:
        self._queue.put(connection)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        until: dict[socket.socket, float] = {}
        running = True
        while running or until:
            try:
                connection = self._queue.get(timeout=0.05 if until else None)
            except queue.Empty:
                connection = None
            else:
                if connection is None:
                    running = False
                elif len(until) >= _MAX_OVERFLOW_PENDING:
                    _close(connection)
                else:
                    try:
                        connection.settimeout(_DRAIN_TIMEOUT_S)
                        connection.sendall(_BUSY_RESPONSE)
                        connection.shutdown(socket.SHUT_WR)
                        connection.setblocking(False)
                        selector.register(connection, selectors.EVENT_READ)
                        until[connection] = time.monotonic() + _DRAIN_TIMEOUT_S
                    except OSError:
                        _close(connection)
            for key, _ in selector.select(timeout=0) if until else []:
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    done = not sock.recv(65_536)
                except BlockingIOError:
                    done = False
                except OSError:
                    done = True
                if done:
                    selector.unregister(sock)
                    del until[sock]
                    _close(sock)
            now = time.monotonic()
            for sock in [c for c, t in until.items() if t <= now or not running]:
                selector.unregister(sock)
                del until[sock]
                _close(sock)
        selector.close()


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    emulator: Emulator

    def __init__(
        self, address: tuple[str, int], handler: type[_Handler], max_connections: int
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.request_queue_size = listen_backlog()  # read by server_activate's listen()
        # One thread per open connection, at most max_connections of them (rule 43).
        self._slots = threading.BoundedSemaphore(max_connections)
        self._overflow: _Overflow | None = None
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        if self._slots.acquire(blocking=False):
            try:
                super().process_request(request, client_address)
            except BaseException:
                self._slots.release()
                raise
            return
        self.emulator._log_refusal(503, len(_BUSY_BODY), source_ip=str(client_address[0]))
        if self._overflow is None:
            self._overflow = _Overflow()
        self._overflow.refuse(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def server_close(self) -> None:
        super().server_close()
        if self._overflow is not None:
            self._overflow.close()

    def track(self, connection: socket.socket, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-request is routine; anything else is a bug worth
        # showing on the console.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = KEEP_ALIVE_TIMEOUT_S
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: requests are reported through the access log sink."""

    def handle_one_request(self) -> None:
        self._started = False
        self._line: RequestLine | None = None
        try:
            self._handle_one_request()
        except HeadError as error:
            self._refuse(error.status)
        except _RequestError as error:
            self._refuse(error.status)
        except TimeoutError:
            # Idle between requests: close quietly. Stalled mid-request: say so first.
            if self._started:
                self._refuse(408)
            self.close_connection = True
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        except Exception:
            # A bug in the emulator: the client still gets an answer, and the traceback
            # goes to the console through socketserver's handle_error.
            self._refuse(500)
            raise

    def _read_line(self, too_long: int) -> bytes:
        line = self.rfile.readline(_MAX_LINE_BYTES + 1)
        if len(line) > _MAX_LINE_BYTES:
            raise _RequestError(too_long)
        return line

    def _read_head(self) -> tuple[RequestLine, list[tuple[str, str]]]:
        """Read and check the request line and header fields (tap/local/gateway/http1.py)."""
        for _ in range(_MAX_BLANK_LINES):
            self.raw_requestline = self.rfile.readline(_MAX_LINE_BYTES + 1)
            if self.raw_requestline not in (b"\r\n", b"\n"):
                break
        if not self.raw_requestline:
            raise ConnectionAbortedError("the client closed an idle connection")
        self._started = True
        if len(self.raw_requestline) > _MAX_LINE_BYTES:
            raise _RequestError(414)
        line = parse_request_line(strip_line_end(self.raw_requestline))
        self._line = line
        self.command, self.path, self.request_version = line.method, line.target, line.version
        headers: list[tuple[str, str]] = []
        head_bytes = len(self.raw_requestline)
        while True:
            raw = self._read_line(431)
            if raw in (b"\r\n", b"\n"):
                break
            head_bytes += len(raw)
            if head_bytes > MAX_REQUEST_HEAD_BYTES or len(headers) >= MAX_HEADER_FIELDS:
                raise _RequestError(431)  # docs/http-api.md rule 15 (as sent, line ends included)
            headers.append(parse_field_line(strip_line_end(raw)))
        check_host(line, headers)
        return line, headers

    def _handle_one_request(self) -> None:
        try:
            line, headers = self._read_head()
        except ConnectionAbortedError:
            self.close_connection = True
            return
        options = connection_options(headers)
        # RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with keep-alive.
        self.close_connection = "close" in options or (
            line.minor == 0 and "keep-alive" not in options
        )
        method = line.method
        target = line.target
        if target.startswith(("http://", "https://")):
            # Absolute form (RFC 9112 §3.2.2): keep the path and query.
            after_scheme = target.split("://", 1)[1]
            target = "/" + after_scheme.split("/", 1)[1] if "/" in after_scheme else "/"
        if not target.startswith("/"):
            raise _RequestError(400)
        raw_path, _, raw_query = target.partition("?")
        raw_path = raw_path.split("#", 1)[0]
        body = self._read_body(line, headers)
        host = self.client_address[0]
        request = RequestInfo(
            method=method,
            raw_path=raw_path,
            raw_query=raw_query,
            protocol=line.version,
            headers=headers,
            body=body,
            source_ip=str(host),
            request_id=new_request_id(),
            epoch_s=time.time(),
            server_port=int(self.server.server_address[1]),
        )
        started = time.monotonic()
        emulator = self.server.emulator
        response, context = emulator._handle(request)
        response = HttpResponse(
            response.status,
            [*response.headers, ("apigw-requestid", request.request_id)],
            response.body,
        )
        context["status"] = response.status
        context["responseLength"] = len(response.body)
        context["responseLatency"] = int((time.monotonic() - started) * 1000)
        # Logged before the response is written, so a client that has its answer can
        # rely on the line being there (the CLI and tests read them side by side).
        emulator._access_log(context)
        self._write(response, head_only=method == "HEAD")

    def _read_body(self, line: RequestLine, headers: list[tuple[str, str]]) -> bytes:
        codings = transfer_codings(line, headers)  # 400 with Content-Length or on 1.0
        if codings:
            if codings != ["chunked"]:
                raise _RequestError(501)
            self._continue(headers)
            return self._read_chunked()
        length = content_length(headers)  # docs/http-api.md rule 42
        if not length:
            return b""
        if length > MAX_REQUEST_BODY_BYTES:  # docs/http-api.md rule 14; not read
            raise _RequestError(413)
        self._continue(headers)
        body = self.rfile.read(length)
        if len(body) < length:
            raise ConnectionAbortedError("the client closed the connection mid-body")
        return body

    def _continue(self, headers: list[tuple[str, str]]) -> None:
        if [v.lower() for v in values_of(headers, "expect")] == ["100-continue"]:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_chunked(self) -> bytes:
        """Decode a chunked body (RFC 9112 §7.1), refusing it past the body limit."""
        chunks: list[bytes] = []
        total = 0
        while True:
            size = parse_chunk_size(strip_line_end(self._read_line(400)))
            if size == 0:
                break
            total += size
            if total > MAX_REQUEST_BODY_BYTES:
                raise _RequestError(413)
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ConnectionAbortedError("the client closed the connection mid-chunk")
            chunks.append(chunk)
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _RequestError(400)
        for _ in range(MAX_HEADER_FIELDS):  # trailer fields, checked, ignored
            line = self._read_line(431)
            if line in (b"\r\n", b"\n"):
                return b"".join(chunks)
            parse_field_line(strip_line_end(line))
        raise _RequestError(431)

    def _write(self, response: HttpResponse, *, head_only: bool = False) -> None:
        lines = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
        lines.append(f"date: {formatdate(usegmt=True)}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        lines.append(f"content-length: {len(response.body)}")
        lines.append(f"connection: {'close' if self.close_connection else 'keep-alive'}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head if head_only else head + response.body)

    def _refuse(self, status: int) -> None:
        """Answer a request the server cannot accept as JSON, then close the connection.

        Logged like any other answer (docs/http-api.md rule 44), with what was read of
        the request line before it was refused.
        """
        self.close_connection = True
        body = json.dumps({"message": _REASONS[status]}, separators=(",", ":")).encode()
        line = self._line
        self.server.emulator._log_refusal(
            status,
            len(body),
            source_ip=str(self.client_address[0]),
            method=line.method if line else None,
            path=line.target.split("?", 1)[0] if line else None,
            protocol=line.version if line else None,
        )
        try:
            self._write(HttpResponse(status, [("content-type", "application/json")], body))
            # Whatever the client still sends (a body, pipelined requests) is read and
            # dropped first: closing with unread bytes resets the connection, which can
            # discard the answer before the client reads it.
            self._drain()
        except OSError:
            pass

    def _drain(self) -> None:
        """Read and drop what the client still sends, briefly, so it sees the answer."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_DRAIN_TIMEOUT_S)
            deadline = time.monotonic() + _DRAIN_TIMEOUT_S
            received = 0
            while time.monotonic() < deadline and received <= 2 * MAX_REQUEST_BODY_BYTES:
                data = self.rfile.read1(65_536)
                if not data:
                    break
                received += len(data)
        except OSError:
            pass


def _fan_out(sinks: list[LogSink]) -> LogSink | None:
    if not sinks:
        return None
    if len(sinks) == 1:
        return sinks[0]

    def sink(function: str, request_id: str | None, line: str, kind: LogKind, stream: str) -> None:
        for each in sinks:
            each(function, request_id, line, kind, stream)

    return sink


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
