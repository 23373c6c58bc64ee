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

import contextlib
import io
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from types import TracebackType

from tap.local.gateway.answer import Loaded, answer_request
from tap.local.gateway.apigw import (
    HttpResponse,
    RequestInfo,
    RouteError,
    RouteTable,
    new_request_id,
    render_access_log,
    request_time,
)
from tap.local.gateway.connection import REASONS, Connection
from tap.local.gateway.listener import MAX_CONNECTIONS, Server
from tap.local.gateway.throttle import stage_bucket
from tap.local.logs.sink import LogKind, LogSink, fan_out, from_line_callback, safe
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


# On stop, how long requests in flight get to finish before their instances are stopped.
STOP_GRACE_S = 3.0


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
            (tap.local.logs.sink); ``on_function_log(name, line)`` is the simpler form.
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
        self._sink = safe(fan_out(sinks))
        self._on_access_log = on_access_log
        if worker is None:
            worker, self.worker_note = default_worker()
        else:
            self.worker_note = None
        self.worker = worker
        self._max_instances = max_instances
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded: Loaded | None = None
        self._server: Server | None = None
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
        with self._lock:
            previous, kept = self._install(api, functions)
        return self._retire(previous, kept, functions)

    def swap_function(self, spec: FunctionSpec) -> None:
        """Serve ``spec`` in place of the function of that name (a hot reload): the rest of
        what is served stays, warm instances included."""
        # Read and replace under one hold of the lock: a program re-run swapping at the
        # same moment is then wholly before or wholly after, never undone by this one.
        with self._lock:
            loaded = self._loaded
            if loaded is None or spec.name not in loaded.functions:
                raise EmulatorConfigError(f"function {spec.name!r} is not served")
            functions = {name: pool.spec for name, pool in loaded.functions.items()}
            functions[spec.name] = spec
            previous, kept = self._install(loaded.api, functions)
        self._retire(previous, kept, functions)

    def _install(
        self, api: ApiSpec, functions: Mapping[str, FunctionSpec]
    ) -> tuple[Loaded | None, dict[str, FunctionPool]]:
        """Serve ``api`` and ``functions`` (the caller holds the lock); what was served
        before and the pools kept from it."""
        routes = validate(api, functions)
        previous = self._loaded
        kept = {
            name: pool
            for name, pool in (previous.functions.items() if previous else [])
            if functions.get(name) == pool.spec
        }
        pools = {
            name: kept.get(name)
            or FunctionPool(spec, self._sink, worker=self.worker, max_instances=self._max_instances)
            for name, spec in functions.items()
        }
        same_limits = previous is not None and (
            previous.api.throttling_burst_limit,
            previous.api.throttling_rate_limit,
        ) == (api.throttling_burst_limit, api.throttling_rate_limit)
        bucket = (
            previous.bucket
            if previous is not None and same_limits
            else stage_bucket(api.throttling_burst_limit, api.throttling_rate_limit, self._clock)
        )
        self._loaded = Loaded(api, routes, pools, bucket)
        return previous, kept

    @staticmethod
    def _retire(
        previous: Loaded | None,
        kept: Mapping[str, FunctionPool],
        functions: Mapping[str, FunctionSpec],
    ) -> list[str]:
        """Retire the pools no longer served (each closes once idle); the names of the
        functions that got fresh ones."""
        for name, pool in previous.functions.items() if previous else []:
            if kept.get(name) is not pool:
                pool.retire()
        return sorted(name for name in functions if name not in kept)

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
                server = Server(
                    (self._host, self._requested_port), Connection, self._max_connections
                )
                server.gateway = self
                self._server = server
                self._thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
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
            server.shutdown()  # no new connections
            server.server_close()
            # Requests in flight are answered: they finish (up to a grace period), then
            # what still runs is stopped and answered 500 (its pool is closing).
            server.wait_idle(STOP_GRACE_S)
        if loaded is not None:
            for function in loaded.functions.values():
                function.close()
        if server is not None:
            server.wait_idle(STOP_GRACE_S)
            server.open_connections.shut_down_all()  # idle keep-alive connections: closed
        if thread is not None:
            thread.join(timeout=5)

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

    # --- the Gateway the server hands requests to (tap.local.gateway.listener) -----------

    def answer(self, request: RequestInfo) -> tuple[HttpResponse, dict[str, object]]:
        """Answer one request read whole from the wire; also the access-log values."""
        return answer_request(self._loaded, request, self._host, self._sink)

    def log_refusal(
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
        reason = REASONS.get(status, "Unknown")
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
        self.access_log(context)

    def access_log(self, context: dict[str, object]) -> None:
        loaded = self._loaded
        if self._on_access_log is None or loaded is None or not loaded.api.access_log_format:
            return
        # A failing sink must not fail the request.
        with contextlib.suppress(Exception):
            self._on_access_log(render_access_log(loaded.api.access_log_format, context))
