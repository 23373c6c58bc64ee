"""Post-deploy smoke check: a Pulumi dynamic resource that calls the deployed API.

After each deploy that changes the function or the API, the ``SmokeCheck`` resource sends
three requests to the live stage and judges four checks. Each check has a kind
(``CHECK_KINDS``, docs/http-api.md rule 33): a failing *verified* check fails ``pulumi up``
with a readable report; a failing *unverified* one, resting on AWS behaviour no capture has
confirmed, is reported in the ``warnings`` output and does not fail a deploy whose resources
all exist by then.

- ``health`` (verified): ``GET /health`` from an allowed origin answers 200 JSON with
  ``status: healthy`` and the expected environment (the function's contract, rule 8).
- ``cors`` (unverified): that answer carries the configured CORS headers (rule 17).
- ``preflight`` (unverified): an ``OPTIONS /health`` preflight from an allowed origin gets the
  configured CORS answer from API Gateway itself (rules 16, 18, 19; its status is unverified).
- ``not_found`` (verified): an unknown path answers API Gateway's own 404
  ``{"message":"Not Found"}`` (rule 12), proving routes are generated from the route table
  and unknown paths never run code.

A fresh API can take a while to answer (DNS, stage propagation), so the whole round is
retried with exponential backoff and jitter until the deadline.

Constraints that shape this module (docs/tools.md, "Dynamic providers"):

- The provider object is serialized with dill when the resource is constructed and stored in
  state; the deploy-time host un-dills it. Its class lives here and is pickled by reference
  (module + name), so this module's name (``tap.smoke``) must stay stable. Nothing
  unpicklable is held at module level or on the provider (no clients, sessions, locks,
  SSL contexts): each request builds what it needs.
- Standard library HTTP only (``urllib``): the host that runs the provider has the program's
  virtualenv, nothing more is needed.
- ``create`` outputs only what it returns, so the meaningful inputs are echoed into the
  outputs: the engine hands *old outputs* to ``diff``/``update``.
- Numbers from the engine arrive as floats (``deadline_seconds`` 120.0, ``max_age`` 300.0).
"""

from __future__ import annotations

import email.message
import functools
import hashlib
import http.client
import io
import ipaddress
import json
import math
import random
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

import tap
from tap.config import MAX_SMOKE_TIMEOUT_S, CorsConfig, StackConfig
from tap.text import excerpt, quote

# ---------------------------------------------------------------------------------------
# Names and limits.

HEALTH = "health"
CORS = "cors"
PREFLIGHT = "preflight"
NOT_FOUND = "not_found"
UNAUTHORIZED = "unauthorized"

# What each check rests on. VERIFIED: the function's own contract or AWS behaviour that
# docs/http-api.md marks verified; a mismatch fails the deploy. UNVERIFIED: behaviour it
# marks assumed (rule 16's preflight status, rule 17's headers on answers, rule 19); a
# mismatch is a warning in the outputs (rule 33).
VERIFIED = "verified"
UNVERIFIED = "unverified"
CHECK_KINDS: dict[str, str] = {
    HEALTH: VERIFIED,
    CORS: UNVERIFIED,
    PREFLIGHT: UNVERIFIED,
    NOT_FOUND: VERIFIED,
    UNAUTHORIZED: VERIFIED,  # docs/http-api.md rule 61 (401 verified)
}
# The docs/http-api.md rules each unverified check rests on, quoted in its warnings.
UNVERIFIED_RULES: dict[str, str] = {CORS: "rule 17", PREFLIGHT: "rules 16, 18, 19"}

HEALTH_PATH = "/health"
# A GET on a path no route matches: the route table has no GET /{proxy+}
# (tap/function/routes.py), so API Gateway answers it without calling the function.
UNKNOWN_PATH = "/tap-smoke-check/no-such-route"
# The origin to preflight with when the API allows every origin ("*"): any origin will do.
SAMPLE_ORIGIN = "https://example.com"

# The provider accepts 1 s so its own tests stay fast; users are held to the config's
# 5-900 s (tap:smokeCheckTimeoutSeconds) before anything reaches here.
MIN_DEADLINE_S = 1
MAX_DEADLINE_S = MAX_SMOKE_TIMEOUT_S
# One request never waits longer than this (nor past the deadline): a hung connection must
# not eat a whole 120 s deadline in one attempt.
REQUEST_TIMEOUT_S = 10.0
INITIAL_BACKOFF_S = 1.0
MAX_BACKOFF_S = 16.0
BACKOFF_MULTIPLIER = 2.0
# Bodies are read up to this size: a health answer is ~150 bytes.
MAX_BODY_BYTES = 64 * 1024
# How much of an unexpected body a failure report quotes.
MAX_BODY_EXCERPT = 200

# Preflight answer statuses accepted. docs/http-api.md rule 16: API Gateway answers preflight
# itself; 204 is what serverless-offline, ministack and Powertools answer, but it is
# unverified against AWS, and 200 is the other status browsers accept for a successful
# preflight (Fetch standard: any "ok status", 200-299). Accepting both keeps a real
# deploy from failing on an unverified detail while still refusing 4xx/5xx.
PREFLIGHT_STATUSES = (200, 204)

# The inputs whose change means the API or the function may answer differently: a change
# re-runs the check. deadline_seconds only bounds how long to wait, so changing it is an
# update that keeps the previous result.
RECHECK_INPUTS = ("url", "expected_environment", "origin", "expected_cors", "trigger")
INPUTS = (*RECHECK_INPUTS, "deadline_seconds")
# With tap:auth: "METHOD /path" of a route that requires a token (``protected_request``);
# absent otherwise, so a stack without auth keeps its inputs and its check.
PROTECTED_REQUEST = "protected_request"
RESULT_OUTPUTS = ("passed_at", "attempts", "latency_ms", "checks", "warnings")

CORS_KEYS = (
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "max_age",
    "allow_credentials",
)

_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi.runtime.rpc.UNKNOWN (preview)


# ---------------------------------------------------------------------------------------
# Pure functions the stack uses to build the inputs.


def expected_cors(cors: CorsConfig) -> dict[str, Any]:
    """What the configured API answers to CORS, as plain data (the ``expected_cors`` input).

    The configuration itself, snake_case: the provider derives each expected header from it.
    """
    return {
        "allow_origins": list(cors.allow_origins),
        "allow_methods": list(cors.allow_methods),
        "allow_headers": list(cors.allow_headers),
        "expose_headers": list(cors.expose_headers),
        "max_age": cors.max_age,
        "allow_credentials": cors.allow_credentials,
    }


def preflight_origin(cors: CorsConfig) -> str:
    """An origin the API allows: the first listed one, or a sample one when it allows "*".

    With no origin allowed at all, the sample origin: the check then verifies that nothing
    is granted to it.
    """
    if "*" in cors.allow_origins or not cors.allow_origins:
        return SAMPLE_ORIGIN
    return cors.allow_origins[0]


def smoke_trigger(parts: Mapping[str, Any]) -> str:
    """The ``trigger`` input: a digest of everything that shapes the API's answers.

    ``parts`` is plain JSON data (the function's code hash, its settings, the route keys,
    the CORS configuration...); any change in it re-runs the check. The engine cannot see
    changes to the provider's code or to the function's behaviour by itself
    (pulumi-and-moto.md, "Dynamic providers"): this digest is how it learns of them.
    """
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def protected_request(config: StackConfig, route_keys: Sequence[str]) -> str | None:
    """A request to a route that requires a token, ``"GET /info"`` or ``"POST
    /tap-smoke-check"``; None without tap:auth or when every route is public.

    A GET is preferred: should the authorizer be missing, the request runs nothing that
    changes state. A greedy route's ``{proxy+}`` becomes a fixed path of the smoke check.
    """
    if config.auth is None:
        return None
    protected = [k for k in route_keys if config.auth.protects(k)]
    protected.sort(key=lambda k: (not k.startswith("GET "), k))
    if not protected:
        return None
    method, _, path = protected[0].partition(" ")
    return f"{method} {path.replace('{proxy+}', 'tap-smoke-check')}"


def stack_trigger(config: StackConfig, code_hash: str, route_keys: Sequence[str]) -> str:
    """The trigger TapStack passes: the function's code and settings, the routes, the CORS
    configuration and the stage's throttling; anything here that changes re-runs the check.

    Known at program time (no resource outputs), so a preview already shows whether the
    check will run. The URL and the expected environment are inputs of their own.
    """
    return smoke_trigger(
        {
            "code_sha256": code_hash,
            "app_version": tap.__version__,
            "function": {
                "runtime": config.runtime,
                "architecture": config.architecture,
                "memory_size": config.memory_size,
                "timeout": config.timeout,
                "log_level": config.log_level,
                "tracing": config.tracing,
                "reserved_concurrency": config.reserved_concurrency,
            },
            "routes": sorted(route_keys),
            "cors": expected_cors(config.cors),
            "throttling": [config.throttling_burst_limit, config.throttling_rate_limit],
            # Only when set: a stack without them keeps the digest it had.
            **({"auth": repr(config.auth)} if config.auth is not None else {}),
            **({"domain": repr(config.domain)} if config.domain is not None else {}),
        }
    )


# ---------------------------------------------------------------------------------------
# Input validation (shared by ``check`` and ``create``/``update``).


class SmokeCheckInputError(ValueError):
    """The resource's inputs are invalid; ``problems`` holds (input name, reason) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {name}: {reason}" for name, reason in self.problems)
        super().__init__(f"invalid smoke check inputs:\n{lines}")


def validate_inputs(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with the inputs, as (input name, reason). Unknown (preview) values pass."""
    problems: list[tuple[str, str]] = []

    def known(name: str) -> bool:
        return props.get(name) is not None and props[name] != _UNKNOWN

    for name in INPUTS:
        if name not in props or props[name] is None:
            problems.append((name, "is required"))
    url = props.get("url")
    if known("url"):
        if not isinstance(url, str):
            problems.append(("url", f"must be a string, got {quote(url)}"))
        else:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                problems.append(("url", f"must be an http(s) URL with a host, got {quote(url)}"))
            elif parts.query or parts.fragment:
                problems.append(("url", f"must have no query or fragment, got {quote(url)}"))
    if known("expected_environment"):
        env = props["expected_environment"]
        if not isinstance(env, str) or not env:
            problems.append(
                ("expected_environment", f"must be a non-empty string, got {quote(env)}")
            )
    if known("trigger"):
        trigger = props["trigger"]
        if not isinstance(trigger, str) or not trigger:
            problems.append(("trigger", f"must be a non-empty string, got {quote(trigger)}"))
    if known("deadline_seconds"):
        deadline = props["deadline_seconds"]
        if (
            isinstance(deadline, bool)
            or not isinstance(deadline, int | float)
            or not math.isfinite(deadline)
            or not MIN_DEADLINE_S <= deadline <= MAX_DEADLINE_S
        ):
            problems.append(
                (
                    "deadline_seconds",
                    f"must be a number of seconds {MIN_DEADLINE_S}-{MAX_DEADLINE_S}, "
                    f"got {quote(deadline)}",
                )
            )
    protected = props.get(PROTECTED_REQUEST)
    if protected is not None and protected != _UNKNOWN:
        method, _, path = protected.partition(" ") if isinstance(protected, str) else ("", "", "")
        if not method.isalpha() or not method.isupper() or not path.startswith("/"):
            problems.append((PROTECTED_REQUEST, f"must be 'METHOD /path', got {protected!r}"))
    cors_ok = False
    if known("expected_cors"):
        before = len(problems)
        problems.extend(_cors_problems(props["expected_cors"]))
        cors_ok = len(problems) == before
    if known("origin"):
        origin = props["origin"]
        origin_parts = urllib.parse.urlsplit(origin) if isinstance(origin, str) else None
        if (
            origin_parts is None
            or origin_parts.scheme not in ("https", "http")
            or not origin_parts.hostname
            or origin_parts.path
            or origin_parts.query
            or origin_parts.fragment
        ):
            problems.append(("origin", f"must be scheme://host[:port], got {quote(origin)}"))
        elif cors_ok:
            origins = props["expected_cors"]["allow_origins"]
            if origins and "*" not in origins and origin not in origins:
                problems.append(
                    (
                        "origin",
                        f"must be one of the allowed origins {quote(origins)}, "
                        f"got {quote(origin)}: a preflight from any other origin cannot succeed",
                    )
                )
    return problems


def _cors_problems(cors: Any) -> list[tuple[str, str]]:
    if not isinstance(cors, Mapping):
        return [
            ("expected_cors", f"must be an object with {', '.join(CORS_KEYS)}, got {quote(cors)}")
        ]
    problems = []
    for key in cors:
        if key not in CORS_KEYS:
            problems.append((f"expected_cors.{key}", f"is not one of {', '.join(CORS_KEYS)}"))
    for key in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
        value = cors.get(key)
        if value == _UNKNOWN:
            continue
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            problems.append(
                (f"expected_cors.{key}", f"must be a list of strings, got {quote(value)}")
            )
    max_age = cors.get("max_age")
    if max_age != _UNKNOWN and (
        isinstance(max_age, bool)
        or not isinstance(max_age, int | float)
        or not math.isfinite(max_age)
        or max_age != int(max_age)
        or max_age < 0
    ):
        problems.append(
            (
                "expected_cors.max_age",
                f"must be a whole number of seconds >= 0, got {quote(max_age)}",
            )
        )
    credentials = cors.get("allow_credentials")
    if credentials != _UNKNOWN and not isinstance(credentials, bool):
        problems.append(
            ("expected_cors.allow_credentials", f"must be true or false, got {quote(credentials)}")
        )
    return problems


# ---------------------------------------------------------------------------------------
# What the checks expect, parsed from the inputs.


@dataclass(frozen=True)
class ExpectedCors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int
    allow_credentials: bool

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> ExpectedCors:
        return cls(
            allow_origins=tuple(data["allow_origins"]),
            allow_methods=tuple(m.upper() for m in data["allow_methods"]),
            allow_headers=tuple(h.lower() for h in data["allow_headers"]),
            expose_headers=tuple(h.lower() for h in data["expose_headers"]),
            max_age=int(data["max_age"]),  # the engine sends 300.0
            allow_credentials=bool(data["allow_credentials"]),
        )

    def allowed_origin_answer(self, origin: str) -> str | None:
        """The Access-Control-Allow-Origin the API sends ``origin`` (docs/http-api.md rule 18)."""
        if "*" in self.allow_origins:
            return "*"
        return origin if origin in self.allow_origins else None


@dataclass(frozen=True)
class SmokeSpec:
    """The validated inputs of one smoke check."""

    url: str
    expected_environment: str
    origin: str
    cors: ExpectedCors
    deadline_seconds: float
    protected_request: str | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> SmokeSpec:
        problems = validate_inputs(props)
        unknown = [name for name in INPUTS if props.get(name) == _UNKNOWN]
        problems.extend((name, "is unknown (not yet computed)") for name in unknown)
        if problems:
            raise SmokeCheckInputError(problems)
        return cls(
            url=props["url"],
            expected_environment=props["expected_environment"],
            origin=props["origin"],
            cors=ExpectedCors.from_input(props["expected_cors"]),
            deadline_seconds=float(props["deadline_seconds"]),
            protected_request=props.get(PROTECTED_REQUEST),
        )

    def endpoint(self, path: str) -> str:
        # A $default stage's invoke URL ends with "/"; a named stage's does not.
        return self.url.rstrip("/") + path


# ---------------------------------------------------------------------------------------
# HTTP: standard library only, nothing kept between requests.


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lowercase names; repeated headers joined with ", "
    body: bytes


class NoResponse(Exception):
    """The request got no HTTP answer (refused, timed out, name not resolved...)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer to check, never something to follow: API Gateway does not
    # redirect, so a 30x means the URL points somewhere else.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Every request ends by its deadline whatever the server does: a socket timeout bounds one
# read, and a server sending a byte just before each timeout (status line, headers or body)
# would keep a request going forever. So the deadline is checked before every socket
# operation, and the operation's timeout is the time left; name resolution runs in a
# thread it is not waited for past the deadline.


class _Deadline:
    """When one request must be over, on the run's clock."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self.clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        """Seconds left; TimeoutError once there are none."""
        left = self.at - self.clock()
        if left <= 0:
            raise TimeoutError(f"deadline of {self.seconds:.1f} s reached")
        return left


class _DeadlineSocket:
    """A connected socket (plain or TLS) whose every send and receive is given the time
    left before the deadline as its timeout, and refused once it is past.

    Only what http.client uses: sendall, makefile (its reads call recv_into), close. A TLS read
    waits at most its timeout in all, not per record (CPython's _ssl uses one deadline per
    call), and so does sendall since Python 3.5.
    """

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline
        self._io_refs = 0
        self._closed = False

    def _arm(self) -> None:
        self._sock.settimeout(self._deadline.remaining())

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._arm()
        self._sock.sendall(data, flags)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes, flags)

    def makefile(self, *_: Any, **__: Any) -> Any:  # http.client only asks for "rb"
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]  # duck-typed socket
        self._io_refs += 1
        return io.BufferedReader(raw)

    def _decref_socketios(self) -> None:  # SocketIO.close calls it, as socket's makefile
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._io_refs <= 0:
            self._sock.close()


def _resolve(host: str, port: int, deadline: _Deadline) -> list[Any]:
    """getaddrinfo, waited for no longer than the deadline (it has no timeout of its own)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # a literal address: nothing to look up
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    found: list[Any] = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as error:
            found.append(error)

    # A daemon thread: a lookup that outlives the deadline is left to finish on its own.
    thread = threading.Thread(target=lookup, name="tap-smoke-resolve", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if not found:
        raise TimeoutError(f"name {host} not resolved within {deadline.seconds:.1f} s")
    if isinstance(found[0], OSError):
        raise found[0]
    addresses: list[Any] = found[0]
    return addresses


def _connect(host: str, port: int, deadline: _Deadline) -> socket.socket:
    error: OSError | None = None
    for family, kind, proto, _, address in _resolve(host, port, deadline):
        timeout = deadline.remaining()
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError as failed:
            sock.close()
            error = failed
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error or OSError(f"no address found for {host}")


class _DeadlineHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, *, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = _DeadlineSocket(_connect(self.host, self.port, self._deadline), self._deadline)
        if self._tunnel_host:  # type: ignore[attr-defined]  # set by set_tunnel (proxies)
            self._tunnel()  # type: ignore[attr-defined]


class _DeadlineHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, *, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        raw = _connect(self.host, self.port, self._deadline)
        try:
            server_hostname = self.host
            if self._tunnel_host:  # type: ignore[attr-defined]  # through a proxy's CONNECT
                self.sock = _DeadlineSocket(raw, self._deadline)
                self._tunnel()  # type: ignore[attr-defined]
                server_hostname = self._tunnel_host  # type: ignore[attr-defined]
            # The handshake's timeout bounds the whole handshake (one deadline in _ssl).
            raw.settimeout(self._deadline.remaining())
            context: ssl.SSLContext = self._context  # type: ignore[attr-defined]
            tls = context.wrap_socket(raw, server_hostname=server_hostname)
        except BaseException:
            raw.close()
            raise
        self.sock = _DeadlineSocket(tls, self._deadline)


class _DeadlineRequest(urllib.request.Request):
    def __init__(self, url: str, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.deadline = deadline


def _deadline_of(request: urllib.request.Request) -> _Deadline:
    deadline = getattr(request, "deadline", None)
    if isinstance(deadline, _Deadline):
        return deadline
    # A request not made by send(): its timeout, as a deadline from now.
    return _Deadline(request.timeout or REQUEST_TIMEOUT_S, time.monotonic)


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        factory = functools.partial(_DeadlineHTTPConnection, deadline=_deadline_of(req))
        return self.do_open(factory, req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        factory = functools.partial(_DeadlineHTTPSConnection, deadline=_deadline_of(req))
        context = getattr(self, "_context", None)
        return self.do_open(factory, req, context=context)


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost: a local run, never to be sent through a proxy."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True  # RFC 6761 section 6.3: always the loopback address
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_opener(url: str | None = None) -> urllib.request.OpenerDirector:
    """An opener for one smoke check run: no redirects, every request within its deadline,
    proxies from the environment except for a loopback URL (a local run: HTTP_PROXY
    must not send 127.0.0.1 traffic to the proxy, which cannot reach this machine's
    loopback, whatever NO_PROXY says).

    Made per run, never kept on the provider or at module level: it holds handlers and an
    SSL context that must not end up in the provider's pickled state. Not per request
    either: on Python 3.13 building one loads the CA store (~40 ms).
    """
    handlers: list[Any] = [_NoRedirects, _DeadlineHTTPHandler, _DeadlineHTTPSHandler]
    if url is not None and is_loopback(urllib.parse.urlsplit(url).hostname):
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def send(
    method: str,
    url: str,
    headers: Mapping[str, str],
    timeout: float,
    opener: urllib.request.OpenerDirector | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Response:
    """One HTTP request. Any HTTP status is a Response; no complete answer within
    ``timeout`` seconds of ``clock`` (name resolution, connecting, TLS, status line,
    headers and body together) is NoResponse.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"only http(s) URLs are checked, got {quote(url)}")
    deadline = _Deadline(timeout, clock)
    # Scheme checked just above: no file: or custom schemes reach urlopen.
    request = _DeadlineRequest(url, deadline, method=method, headers=dict(headers))
    opener = opener or new_opener(url)
    status: int | None = None
    try:
        try:
            answer = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:  # any 4xx/5xx/30x: an answer to check
            answer = error
        with answer:
            status = answer.status if answer.status is not None else answer.getcode()
            return Response(
                status=status,
                headers=_header_map(answer.headers),
                body=answer.read(MAX_BODY_BYTES),
            )
    except TimeoutError as error:  # socket.timeout is TimeoutError since 3.10
        raise NoResponse(_timed_out(timeout, status)) from error
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise NoResponse(_timed_out(timeout, status)) from error
        text = reason if isinstance(reason, str) else str(reason)
        raise NoResponse(f"no response: {excerpt(' '.join(text.split()))}") from error
    # Reset mid-answer (OSError), malformed status line or truncated body (HTTPException).
    except (OSError, ValueError, http.client.HTTPException) as error:
        # One line whatever came back: the report is one line per finding.
        text = excerpt(" ".join(str(error).split()))
        raise NoResponse(f"no response: {type(error).__name__}: {text}") from error


def _timed_out(timeout: float, status: int | None) -> str:
    if status is None:
        return f"no response within {timeout:.1f} s"
    return f"no complete response within {timeout:.1f} s: status {status}, body unfinished"


def _header_map(headers: email.message.Message) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result


# ---------------------------------------------------------------------------------------
# The three checks. Each returns mismatches as (expected, received) pairs; none = passed.


@dataclass(frozen=True)
class Mismatch:
    expected: str
    received: str


@dataclass(frozen=True)
class CheckResult:
    name: str
    request: str  # "GET /health", for the report
    status: int | None
    latency_ms: int
    mismatches: tuple[Mismatch, ...] = ()
    attempted: bool = True

    @property
    def kind(self) -> str:
        return CHECK_KINDS[self.name]

    @property
    def passed(self) -> bool:
        return self.attempted and not self.mismatches

    def as_output(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "passed": self.passed,
            "kind": self.kind,
        }

    def warnings(self) -> list[str]:
        """An unverified check's mismatches, one line each; a verified check has none."""
        if self.kind != UNVERIFIED:
            return []
        where = f"{self.name} ({self.request})"
        why = f"(unverified AWS behaviour, docs/http-api.md {UNVERIFIED_RULES[self.name]})"
        if not self.attempted:
            return [f"{where}: not attempted before the deadline {why}"]
        return [f"{where}: expected {m.expected}, got {m.received} {why}" for m in self.mismatches]


Judge = Callable[[Response], list[Mismatch]]


@dataclass(frozen=True)
class _Probe:
    """One request, and the checks judged on its answer: (check name, judge)."""

    method: str
    path: str
    headers: Mapping[str, str]
    checks: tuple[tuple[str, Judge], ...]
    expected_status: str


def _probes(spec: SmokeSpec) -> tuple[_Probe, ...]:
    requested_method = _preflight_method(spec.cors)
    requested_header = next((h for h in spec.cors.allow_headers if h != "*"), None)
    preflight_headers = {"Origin": spec.origin, "Access-Control-Request-Method": requested_method}
    if requested_header:
        preflight_headers["Access-Control-Request-Headers"] = requested_header
    probes: tuple[_Probe, ...] = (
        _Probe(
            "GET",
            HEALTH_PATH,
            {"Origin": spec.origin, "Accept": "application/json"},
            ((HEALTH, lambda r: _judge_health(spec, r)), (CORS, lambda r: _judge_cors(spec, r))),
            "status 200",
        ),
        _Probe(
            "OPTIONS",
            HEALTH_PATH,
            preflight_headers,
            ((PREFLIGHT, lambda r: _judge_preflight(spec, requested_method, requested_header, r)),),
            "status " + " or ".join(str(s) for s in PREFLIGHT_STATUSES),
        ),
        _Probe(
            "GET",
            UNKNOWN_PATH,
            {"Accept": "application/json"},
            ((NOT_FOUND, _judge_not_found),),
            "status 404",
        ),
    )
    if spec.protected_request:
        method, _, path = spec.protected_request.partition(" ")
        probes += (
            _Probe(
                method,
                path,
                {"Accept": "application/json"},  # and no Authorization header
                ((UNAUTHORIZED, _judge_unauthorized),),
                "status 401",
            ),
        )
    return probes


def _preflight_method(cors: ExpectedCors) -> str:
    if "GET" in cors.allow_methods or "*" in cors.allow_methods:
        return "GET"
    return next((m for m in cors.allow_methods if m != "OPTIONS"), "GET")


def _status_and_body(response: Response) -> str:
    if not response.body:
        return f"status {response.status} with no body"
    text = response.body.decode("utf-8", errors="replace")
    return f"status {response.status} with body {quote(text, MAX_BODY_EXCERPT)}"


def _json_object(response: Response) -> dict[str, Any] | None:
    try:
        data = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _shown(value: str | None) -> str:
    return "none" if value is None else quote(value)


def _judge_health(spec: SmokeSpec, response: Response) -> list[Mismatch]:
    if response.status != 200:
        return [Mismatch("status 200", _status_and_body(response))]
    data = _json_object(response)
    if data is None:
        return [Mismatch("a JSON object body", _status_and_body(response))]
    problems = []
    if data.get("status") != "healthy":
        problems.append(Mismatch("status 'healthy'", f"status {quote(data.get('status'))}"))
    if data.get("environment") != spec.expected_environment:
        problems.append(
            Mismatch(
                f"environment {spec.expected_environment!r}",
                f"environment {quote(data.get('environment'))}",
            )
        )
    return problems


def _judge_cors(spec: SmokeSpec, response: Response) -> list[Mismatch]:
    # docs/http-api.md rule 17: a response to a request from an allowed origin carries the
    # configured CORS headers, added by API Gateway (the function sets none).
    problems: list[Mismatch] = []
    allow_origin = spec.cors.allowed_origin_answer(spec.origin)
    received = response.headers.get("access-control-allow-origin")
    if received != allow_origin:
        expected = (
            "no access-control-allow-origin"
            if allow_origin is None
            else f"access-control-allow-origin {allow_origin!r}"
        )
        problems.append(Mismatch(expected, _shown(received)))
    if allow_origin is not None:
        problems.extend(
            _exact_list(
                response, "access-control-expose-headers", spec.cors.expose_headers, str.lower
            )
        )
    return problems


def _judge_preflight(
    spec: SmokeSpec, method: str, header: str | None, response: Response
) -> list[Mismatch]:
    allow_origin = spec.cors.allowed_origin_answer(spec.origin)
    received_origin = response.headers.get("access-control-allow-origin")
    if allow_origin is None:
        # No origin is allowed: whatever the status (docs/http-api.md rule 19, unverified), the
        # answer must grant nothing.
        if received_origin is not None:
            return [Mismatch("no access-control-allow-origin", quote(received_origin))]
        return []
    if response.status not in PREFLIGHT_STATUSES:
        expected = " or ".join(str(s) for s in PREFLIGHT_STATUSES)
        return [Mismatch(f"status {expected}", _status_and_body(response))]
    problems = []
    if received_origin != allow_origin:
        problems.append(
            Mismatch(f"access-control-allow-origin {allow_origin!r}", _shown(received_origin))
        )
    problems.extend(
        _granted_list(
            response, "access-control-allow-methods", spec.cors.allow_methods, method, str.upper
        )
    )
    problems.extend(
        _granted_list(
            response, "access-control-allow-headers", spec.cors.allow_headers, header, str.lower
        )
    )
    max_age = response.headers.get("access-control-max-age")
    if spec.cors.max_age > 0 or max_age is not None:
        expected_age = str(spec.cors.max_age)
        if max_age is None or max_age.strip() != expected_age:
            problems.append(Mismatch(f"access-control-max-age {expected_age!r}", _shown(max_age)))
    credentials = response.headers.get("access-control-allow-credentials")
    if spec.cors.allow_credentials and credentials != "true":
        problems.append(Mismatch("access-control-allow-credentials 'true'", _shown(credentials)))
    if not spec.cors.allow_credentials and credentials is not None:
        problems.append(Mismatch("no access-control-allow-credentials", quote(credentials)))
    return problems


def _split(value: str | None, normalize: Callable[[str], str]) -> set[str]:
    if value is None:
        return set()
    return {normalize(part.strip()) for part in value.split(",") if part.strip()}


def _granted_list(
    response: Response,
    header: str,
    configured: tuple[str, ...],
    requested: str | None,
    normalize: Callable[[str], str],
) -> list[Mismatch]:
    """A preflight's allow-list: grants what was asked, and nothing outside the config.

    Whether API Gateway lists every configured value or echoes the requested one is
    unverified; both are a correct answer, so only "covers the request, no wider" is checked.
    """
    received = response.headers.get(header)
    granted = _split(received, normalize)
    allowed = {normalize(v) for v in configured}
    described = ", ".join(configured) if configured else "nothing"
    if "*" not in allowed and granted - allowed - {"*"}:
        return [Mismatch(f"{header} within {described}", _shown(received))]
    if "*" in granted and "*" not in allowed:
        return [Mismatch(f"{header} within {described}", _shown(received))]
    if requested is not None and normalize(requested) not in granted and "*" not in granted:
        return [Mismatch(f"{header} including {requested}", _shown(received))]
    return []


def _exact_list(
    response: Response, header: str, configured: tuple[str, ...], normalize: Callable[[str], str]
) -> list[Mismatch]:
    received = response.headers.get(header)
    if _split(received, normalize) == {normalize(v) for v in configured}:
        return []
    expected = f"{header} {', '.join(configured)!r}" if configured else f"no {header}"
    return [Mismatch(expected, _shown(received))]


def _judge_not_found(response: Response) -> list[Mismatch]:
    # docs/http-api.md rule 12: API Gateway's own answer when no route matches.
    data = _json_object(response)
    if response.status != 404 or data != {"message": "Not Found"}:
        return [
            Mismatch('status 404 with body \'{"message":"Not Found"}\'', _status_and_body(response))
        ]
    return []


def _judge_unauthorized(response: Response) -> list[Mismatch]:
    # docs/http-api.md rules 60-61: no token, so the JWT authorizer answers 401 itself.
    data = _json_object(response)
    if response.status != 401 or data != {"message": "Unauthorized"}:
        return [
            Mismatch(
                'status 401 with body \'{"message":"Unauthorized"}\' (no token sent)',
                _status_and_body(response),
            )
        ]
    return []


def _run_probe(
    spec: SmokeSpec,
    probe: _Probe,
    timeout: float,
    clock: Callable[[], float],
    opener: urllib.request.OpenerDirector,
) -> list[CheckResult]:
    """Send the probe's request; one result per check judged on the answer."""
    request = f"{probe.method} {probe.path}"
    started = clock()
    try:
        response = send(
            probe.method, spec.endpoint(probe.path), probe.headers, timeout, opener, clock
        )
    except NoResponse as error:
        latency = _ms(clock() - started)
        missed = (Mismatch(probe.expected_status, str(error)),)
        return [CheckResult(name, request, None, latency, missed) for name, _ in probe.checks]
    latency = _ms(clock() - started)
    return [
        CheckResult(name, request, response.status, latency, tuple(judge(response)))
        for name, judge in probe.checks
    ]


def _not_attempted(probe: _Probe) -> list[CheckResult]:
    request = f"{probe.method} {probe.path}"
    return [CheckResult(name, request, None, 0, attempted=False) for name, _ in probe.checks]


def _verified_pass(results: Sequence[CheckResult]) -> bool:
    return all(r.passed for r in results if r.kind == VERIFIED)


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


# ---------------------------------------------------------------------------------------
# Retrying until the deadline.


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter between rounds; every wait stops at the deadline."""

    initial_backoff_s: float = INITIAL_BACKOFF_S
    max_backoff_s: float = MAX_BACKOFF_S
    multiplier: float = BACKOFF_MULTIPLIER
    request_timeout_s: float = REQUEST_TIMEOUT_S

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        """The wait after failed attempt ``attempt`` (1-based): "equal jitter".

        Half the exponential step is fixed and half random, so waits spread out (no
        lockstep retries) but never collapse to zero (no hammering a warming endpoint).
        """
        step = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** (attempt - 1))
        return step / 2 + step / 2 * rand()


@dataclass(frozen=True)
class SmokeReport:
    passed_at: str
    attempts: int
    latency_ms: int  # the round's requests, each counted once
    checks: tuple[CheckResult, ...]

    @property
    def warnings(self) -> list[str]:
        """The unverified checks' mismatches in the passing round (rule 33)."""
        return [line for check in self.checks for line in check.warnings()]

    def outputs(self) -> dict[str, Any]:
        return {
            "passed_at": self.passed_at,
            "attempts": self.attempts,
            "latency_ms": self.latency_ms,
            "checks": {c.name: c.as_output() for c in self.checks},
            "warnings": self.warnings,
        }


class SmokeCheckFailed(Exception):
    """The API did not answer as it should before the deadline; the message is the report."""

    def __init__(
        self,
        url: str,
        attempts: int,
        elapsed_s: float,
        deadline_s: float,
        results: Sequence[CheckResult],
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.results = tuple(results)
        # Only verified checks fail a deploy; unverified ones are warnings (rule 33).
        verified = [r for r in self.results if r.kind == VERIFIED]
        failing = [r for r in verified if not r.passed]
        self.failing = tuple(r.name for r in failing)
        lines = [
            f"smoke check of {url} failed: {len(failing)} of {len(verified)} verified checks "
            f"failing after {attempts} attempt{'s' if attempts != 1 else ''} in "
            f"{elapsed_s:.1f} s (deadline {deadline_s:g} s)"
        ]
        for result in failing:
            if not result.attempted:
                lines.append(
                    f"  - {result.name} ({result.request}): not attempted before the deadline"
                )
            for m in result.mismatches:
                lines.append(
                    f"  - {result.name} ({result.request}): expected {m.expected}, got {m.received}"
                )
        super().__init__("\n".join(lines))


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_smoke_check(
    spec: SmokeSpec,
    policy: RetryPolicy | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    now: Callable[[], str] = utc_now,
) -> SmokeReport:
    """Run the checks in rounds until one round passes every verified check, or raise at the
    deadline. The passing round's unverified mismatches are the report's warnings."""
    policy = policy or RetryPolicy()
    probes = _probes(spec)
    opener = new_opener(spec.url)
    started = clock()
    deadline_at = started + spec.deadline_seconds
    latest: dict[str, CheckResult] = {}
    attempts = 0
    while clock() < deadline_at:
        attempts += 1
        round_results: list[CheckResult] = []
        latency_ms = 0
        sent = 0
        for probe in probes:
            remaining = deadline_at - clock()
            if remaining <= 0:
                break
            timeout = min(policy.request_timeout_s, remaining)
            results = _run_probe(spec, probe, timeout, clock, opener)
            sent += 1
            latency_ms += results[0].latency_ms
            latest.update((r.name, r) for r in results)
            round_results.extend(results)
        if sent == len(probes) and _verified_pass(round_results):
            return SmokeReport(
                passed_at=now(),
                attempts=attempts,
                latency_ms=latency_ms,
                checks=tuple(round_results),
            )
        remaining = deadline_at - clock()
        if remaining > 0:
            sleep(min(policy.backoff(attempts, rand), remaining))
    results = [
        latest.get(check.name) or check for probe in probes for check in _not_attempted(probe)
    ]
    raise SmokeCheckFailed(spec.url, attempts, clock() - started, spec.deadline_seconds, results)


# ---------------------------------------------------------------------------------------
# The dynamic provider.


def _canonical(value: Any) -> str:
    """A comparable form of an input: the engine turns 300 into 300.0 on the way back."""

    def whole(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, Mapping):
            return {k: whole(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [whole(x) for x in v]
        return v

    return json.dumps(whole(value), sort_keys=True)


class SmokeCheckProvider(dynamic.ResourceProvider):
    """Runs the smoke check on create, and again on update when the API may have changed.

    Holds only plain data (a frozen RetryPolicy) so it pickles; the test hooks (clock,
    sleep, rand, now) default to the real ones resolved at call time.
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] | None = None,
        now: Callable[[], str] | None = None,
    ) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.hooks: dict[str, Callable[..., Any]] = {
            name: hook
            for name, hook in (("clock", clock), ("sleep", sleep), ("rand", rand), ("now", now))
            if hook is not None
        }

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        failures = [dynamic.CheckFailure(name, reason) for name, reason in validate_inputs(news)]
        return dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # olds are the previous *outputs* (inputs echoed by create/update); __provider is
        # never compared: its bytes change with dill and Python versions, not with the API.
        changed = [
            name
            for name in (*INPUTS, PROTECTED_REQUEST)
            if _canonical(olds.get(name)) != _canonical(news.get(name))
        ]
        return dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"smoke-{uuid.uuid4().hex}", self._run(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        recheck = any(
            _canonical(olds.get(n)) != _canonical(news.get(n))
            for n in (*RECHECK_INPUTS, PROTECTED_REQUEST)
        )
        # State written before `warnings` existed had none: not a reason to call the API.
        missing = any(olds.get(n) is None for n in RESULT_OUTPUTS if n != "warnings")
        if recheck or missing:
            return dynamic.UpdateResult(self._run(news))
        # Only the deadline changed: the API is the same, so the previous result stands.
        outs = {name: news[name] for name in INPUTS}
        if news.get(PROTECTED_REQUEST) is not None:
            outs[PROTECTED_REQUEST] = news[PROTECTED_REQUEST]
        outs.update({name: olds.get(name) for name in RESULT_OUTPUTS})
        outs["warnings"] = olds.get("warnings") or []
        return dynamic.UpdateResult(outs)

    def _run(self, props: Mapping[str, Any]) -> dict[str, Any]:
        spec = SmokeSpec.from_props(props)
        report = run_smoke_check(spec, self.policy, **self.hooks)
        outs = {name: props[name] for name in INPUTS}
        if props.get(PROTECTED_REQUEST) is not None:  # echoed: diff reads old outputs
            outs[PROTECTED_REQUEST] = props[PROTECTED_REQUEST]
        outs.update(report.outputs())
        return outs


# ---------------------------------------------------------------------------------------
# The resource.


@dataclass
class SmokeCheckArgs:
    url: pulumi.Input[str]
    """The stage's invoke URL (``https://<id>.execute-api.<region>.amazonaws.com/``)."""
    expected_environment: pulumi.Input[str]
    """The environment ``GET /health`` must report."""
    origin: pulumi.Input[str]
    """An allowed origin to preflight with: ``preflight_origin(cors)``."""
    expected_cors: pulumi.Input[dict[str, Any]]
    """The configured CORS, as ``expected_cors(cors)`` builds it."""
    trigger: pulumi.Input[str]
    """Changes whenever the function or the API changes (code hash, routes, CORS...): a new
    value re-runs the check."""
    deadline_seconds: pulumi.Input[int] = field(default=120)
    """How long to keep retrying before failing the deploy."""
    protected_request: str | None = None
    """With tap:auth, ``"METHOD /path"`` of a route that must answer 401 without a token."""


class SmokeCheck(dynamic.Resource, module="smoke", name="SmokeCheck"):
    """The smoke check as a resource: created, and re-run, on deploys that change the API."""

    # Numbers come back from the engine as floats (JSON numbers).
    passed_at: pulumi.Output[str]
    """When the check last passed, UTC ISO-8601 (``2026-01-31T12:00:00Z``)."""
    attempts: pulumi.Output[float]
    """Rounds it took (a round runs every check once)."""
    latency_ms: pulumi.Output[float]
    """Sum of the passing round's request latencies, in milliseconds."""
    checks: pulumi.Output[dict[str, Any]]
    """Per check: ``{"request", "status", "latency_ms", "passed", "kind"}``, keyed by check
    name; ``kind`` is ``verified`` or ``unverified``."""
    warnings: pulumi.Output[list[str]]
    """The unverified checks that did not pass, one line each: what was expected, what came
    back, and the docs/http-api.md rule it rests on. They never fail the deploy."""

    def __init__(
        self, name: str, args: SmokeCheckArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props: dict[str, Any] = {
            "url": args.url,
            "expected_environment": args.expected_environment,
            "origin": args.origin,
            "expected_cors": args.expected_cors,
            "trigger": args.trigger,
            "deadline_seconds": args.deadline_seconds,
        }
        if args.protected_request is not None:
            props[PROTECTED_REQUEST] = args.protected_request
        # Declared as None so they become this resource's output properties.
        props.update(dict.fromkeys(RESULT_OUTPUTS))
        super().__init__(SmokeCheckProvider(), name, props, opts)


# The type token the resource registers under (module="smoke", name="SmokeCheck").
TYPE_TOKEN = "pulumi-python:dynamic/smoke:SmokeCheck"  # noqa: S105 (not a password)
