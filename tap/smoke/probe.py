"""The HTTP probe: one request to the API, standard library only, within its deadline
whatever the server does. Nothing is kept between requests.
"""

from __future__ import annotations

import email.message
import functools
import http.client
import io
import ipaddress
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tap.text import excerpt, quote

# One request never waits longer than this (nor past the deadline): a hung connection must
# not eat a whole 120 s deadline in one attempt.
REQUEST_TIMEOUT_S = 10.0
# Bodies are read up to this size: a health answer is ~150 bytes.
MAX_BODY_BYTES = 64 * 1024


# ---------------------------------------------------------------------------------------
# HTTP: standard library only, nothing kept between requests.


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lowercase names; repeated headers joined with ", "
    body: bytes


class NoResponseError(Exception):
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

    Made per run, never kept on the provider or at module level: it holds urllib's request
    processors and an SSL context that must not end up in the provider's pickled state. Not
    per request either: on Python 3.13 building one loads the CA store (~40 ms).
    """
    processors: list[Any] = [_NoRedirects, _DeadlineHTTPHandler, _DeadlineHTTPSHandler]
    if url is not None and is_loopback(urllib.parse.urlsplit(url).hostname):
        processors.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*processors)


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
    headers and body together) is NoResponseError.
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
        raise NoResponseError(_timed_out(timeout, status)) from error
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise NoResponseError(_timed_out(timeout, status)) from error
        text = reason if isinstance(reason, str) else str(reason)
        raise NoResponseError(f"no response: {excerpt(' '.join(text.split()))}") from error
    # Reset mid-answer (OSError), malformed status line or truncated body (HTTPException).
    except (OSError, ValueError, http.client.HTTPException) as error:
        # One line whatever came back: the report is one line per finding.
        text = excerpt(" ".join(str(error).split()))
        raise NoResponseError(f"no response: {type(error).__name__}: {text}") from error


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
