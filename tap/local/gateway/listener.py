"""The emulator's listening socket: one thread per open connection up to a cap, a listen
backlog sized for bursts, and the 503 answered past the cap without reading the request
(docs/http-api.md rule 43)."""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol

from tap.local.connections import OpenConnections

if TYPE_CHECKING:
    from tap.local.gateway.apigw import HttpResponse, RequestInfo

# After refusing a body (413), read and discard what the client still sends for at most
# this long so it can read the answer instead of a connection reset.
DRAIN_TIMEOUT_S = 1.0
# docs/http-api.md rule 43: open connections served at once (one thread each); past it a
# new connection gets 503 and is closed. Idle keep-alive connections count.
MAX_CONNECTIONS = 256
_MIN_BACKLOG = 128
_MAX_OVERFLOW_PENDING = 1024  # refused connections being drained at once; more: closed
BUSY_BODY = b'{"message":"Service Unavailable"}'
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(BUSY_BODY), BUSY_BODY)
)


class Gateway(Protocol):
    """What the server and its connections hand each request to (tap.local.gateway.emulator)."""

    def answer(self, request: RequestInfo) -> tuple[HttpResponse, dict[str, object]]:
        """The response to a request read whole, and its access-log values."""

    def access_log(self, context: dict[str, object]) -> None:
        """Write one access-log line from these values."""

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
        """Write the access-log line of a request the server answered itself."""


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


class Overflow:
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
                    close_quietly(connection)
                else:
                    try:
                        connection.settimeout(DRAIN_TIMEOUT_S)
                        connection.sendall(_BUSY_RESPONSE)
                        connection.shutdown(socket.SHUT_WR)
                        connection.setblocking(False)
                        selector.register(connection, selectors.EVENT_READ)
                        until[connection] = time.monotonic() + DRAIN_TIMEOUT_S
                    except OSError:
                        close_quietly(connection)
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
                    close_quietly(sock)
            now = time.monotonic()
            for sock in [c for c, t in until.items() if t <= now or not running]:
                selector.unregister(sock)
                del until[sock]
                close_quietly(sock)
        selector.close()


def close_quietly(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.close()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    gateway: Gateway

    def __init__(
        self,
        address: tuple[str, int],
        connection: type[BaseHTTPRequestHandler],
        max_connections: int,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.request_queue_size = listen_backlog()  # read by server_activate's listen()
        # One thread per open connection, at most max_connections of them (rule 43).
        self._slots = threading.BoundedSemaphore(max_connections)
        self._overflow: Overflow | None = None
        super().__init__(address, connection)
        self.open_connections = OpenConnections()
        self._in_flight = 0  # requests read and not yet answered
        self._idle = threading.Condition()

    def request_started(self, started: bool) -> None:
        with self._idle:
            self._in_flight += 1 if started else -1
            self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every request read so far has been answered; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout_s)

    def process_request(self, request: Any, client_address: Any) -> None:
        if self._slots.acquire(blocking=False):
            try:
                super().process_request(request, client_address)
            except BaseException:
                self._slots.release()
                raise
            return
        self.gateway.log_refusal(503, len(BUSY_BODY), source_ip=str(client_address[0]))
        if self._overflow is None:
            self._overflow = Overflow()
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

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-request is routine; anything else is a bug worth
        # showing on the console.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)
