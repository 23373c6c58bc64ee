"""Lambda's Runtime API, served on 127.0.0.1 for one function instance.

The runtime client inside the instance (``awslambdaric``, or tap's built-in worker) polls
``GET /2018-06-01/runtime/invocation/next`` and answers each invocation with ``POST
.../invocation/<id>/response`` or ``.../invocation/<id>/error``; a failed initialization is
``POST /2018-06-01/runtime/init/error`` (docs/http-api.md rule 54). The ``next`` answer
carries the request id, deadline, function ARN and trace id headers and ``Content-Type:
application/json``, without which awslambdaric's native client crashes (docs/tools.md,
"awslambdaric").

One server per instance, because the runtime client finds the API through one
``AWS_LAMBDA_RUNTIME_API=host:port`` and fixed paths.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from socketserver import ThreadingTCPServer
from typing import Any

from tap.local.connections import OpenConnections, TrackedConnection

PREFIX = "/2018-06-01/runtime"
# Lambda refuses a response over its 6 MB synchronous payload limit (rule 14); reading
# more than this from the runtime would only waste memory.
_MAX_BODY_BYTES = 6 * 1024 * 1024 + 1024 * 1024
_ACCEPT_WAKE_S = 1.0
_JSON = [("Content-Type", "application/json")]
_ACCEPTED = b'{"status": "OK"}'  # every answer to a runtime's response: made once


@dataclass
class Call:
    """One invocation handed to the runtime client, and how it answered."""

    request_id: str
    event: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    # set once: ("response", body, None) or ("error", body, error type header)
    outcome: tuple[str, bytes, str | None] | None = None


class RuntimeApi:
    """The API state of one instance: the invocation waiting for ``next``, the answers."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self._cond = threading.Condition()
        self._pending: Call | None = None
        self._parked: Callable[[bytes], None] | None = None
        self._calls: dict[str, Call] = {}
        self._closed = False
        self._on_change = on_change
        self.polled = False  # the runtime asked for its first invocation: init is over
        self.init_error: tuple[bytes, str | None] | None = None
        self._server = _Server(("127.0.0.1", 0), _ClientConnection)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.accept_forever, daemon=True, name="lambda-runtime-api"
        )
        self._thread.start()

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def submit(self, call: Call) -> None:
        """Hand ``call`` to the runtime: straight down its parked ``next`` connection when
        it is already waiting (the invoking thread writes the answer itself: one thread
        hand-off fewer per invocation, profiled), else to the next ``next``."""
        with self._cond:
            self._calls[call.request_id] = call
            writer, self._parked = self._parked, None
            if writer is None:
                self._pending = call
                self._cond.notify_all()
        if writer is not None:
            writer(next_response(call))

    def forget(self, call: Call) -> None:
        with self._cond:
            self._calls.pop(call.request_id, None)
            if self._pending is call:
                self._pending = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._parked = None
            self._cond.notify_all()
        self._server.stop()

    # --- what a runtime client's connection calls --------------------------------------

    def next_call(self, writer: Callable[[bytes], None]) -> Call | None:
        """The invocation for a ``next`` request, if one is waiting; else the connection
        is parked: ``submit`` writes the answer through ``writer`` when one comes."""
        with self._cond:
            if not self.polled:
                self.polled = True
                self._notify()
            call, self._pending = self._pending, None
            if call is None and not self._closed:
                self._parked = writer
            return call

    def answer(self, request_id: str, kind: str, body: bytes, error_type: str | None) -> bool:
        with self._cond:
            call = self._calls.pop(request_id, None)
            if call is None or call.outcome is not None:
                return False
            call.outcome = (kind, body, error_type)
        self._notify()
        return True

    def fail_init(self, body: bytes, error_type: str | None) -> None:
        with self._cond:
            if self.init_error is None:
                self.init_error = (body, error_type)
        self._notify()

    def _notify(self) -> None:
        with contextlib.suppress(Exception):
            self._on_change()


def next_response(call: Call) -> bytes:
    """The answer to ``GET .../invocation/next`` (docs/http-api.md rule 54)."""
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Lambda-Runtime-Aws-Request-Id: {call.request_id}\r\n"
        f"Lambda-Runtime-Deadline-Ms: {call.deadline_ms}\r\n"
        f"Lambda-Runtime-Invoked-Function-Arn: {call.function_arn}\r\n"
        f"Lambda-Runtime-Trace-Id: {call.trace_id}\r\n"
        f"Content-Length: {len(call.event)}\r\n\r\n"
    )
    return head.encode("latin-1") + call.event


class _Server(ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    api: RuntimeApi

    def __init__(self, address: tuple[str, int], connection: type[_ClientConnection]) -> None:
        super().__init__(address, connection)
        self.stopped = False
        self.open_connections = OpenConnections()

    def accept_forever(self) -> None:
        """Accept connections until ``stop()``: a blocking accept, woken by shutting the
        listening socket down, instead of socketserver's ``serve_forever``, which polls
        (every 0.5 s) and made each instance's close wait for the next poll (stopping
        ``tap local`` waited about that long per instance, profiled)."""
        # Linux wakes the accept at once; elsewhere the timeout bounds the wait.
        self.socket.settimeout(_ACCEPT_WAKE_S)
        while not self.stopped:
            try:
                connection, address = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # stop() shut the listening socket down
            connection.settimeout(None)
            try:
                self.process_request(connection, address)
            except Exception:
                self.shutdown_request(connection)

    def stop(self) -> None:
        self.stopped = True
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self.open_connections.shut_down_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A runtime client that died mid-request is routine (its instance is replaced)."""


class _ClientConnection(TrackedConnection):
    """HTTP/1.1 with keep-alive, parsed by hand: only runtime clients call this API, and
    http.server's email-based header parsing cost more than the rest of an invocation's
    round trip (profiled)."""

    server: _Server

    def handle(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while self._one():
                pass

    def _one(self) -> bool:
        line = self.rfile.readline(65_537)
        if not line:
            return False
        method, path, *_ = line.decode("latin-1").split(" ")
        headers: dict[str, str] = {}
        while True:
            header = self.rfile.readline(65_537)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        self.close = headers.get("connection", "").lower() == "close"
        if method == "GET":
            self._get(path)
        elif method == "POST":
            self._post(path, headers)
        else:
            self._json(405, {"errorType": "MethodNotAllowed", "errorMessage": method})
        return not self.close

    def _get(self, path: str) -> None:
        if path != f"{PREFIX}/invocation/next":
            self._json(404, {"errorType": "NotFound", "errorMessage": path})
            return
        call = self.server.api.next_call(self._write)
        if call is not None:
            self._write(next_response(call))
        # else parked: the answer is written when an invocation comes, while this thread
        # goes on to read the connection's next request (the runtime's answer).

    def _write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            self.wfile.write(data)

    def _post(self, path: str, headers: dict[str, str]) -> None:
        body = self._body(headers)
        if body is None:
            self.close = True
            self._json(413, {"errorType": "RequestEntityTooLarge", "errorMessage": "too large"})
            return
        api = self.server.api
        error_type = headers.get("lambda-runtime-function-error-type")
        if path == f"{PREFIX}/init/error":
            api.fail_init(body, error_type)
            self._send(202, _JSON, _ACCEPTED)
            return
        parts = path.removeprefix(f"{PREFIX}/invocation/").split("/")
        if path.startswith(f"{PREFIX}/invocation/") and len(parts) == 2:
            request_id, kind = parts
            if kind in ("response", "error"):
                if api.answer(request_id, kind, body, error_type):
                    self._send(202, _JSON, _ACCEPTED)
                else:
                    self._json(400, {"errorType": "InvalidRequestID", "errorMessage": request_id})
                return
        self._json(404, {"errorType": "NotFound", "errorMessage": path})

    def _body(self, headers: dict[str, str]) -> bytes | None:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > _MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(headers.get("content-length") or 0)
        if length > _MAX_BODY_BYTES:
            return None
        return self.rfile.read(length)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, [("Content-Type", "application/json")], json.dumps(payload).encode())

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        head = [f"HTTP/1.1 {status} {'OK' if status < 300 else 'Error'}"]
        head += [f"{name}: {value}" for name, value in headers]
        head.append(f"Content-Length: {len(body)}")
        if self.close:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        with contextlib.suppress(OSError):
            self.wfile.write(data)
