"""Real HTTP servers on 127.0.0.1 for the smoke check's tests.

``ScriptedServer`` is a ``ThreadingHTTPServer`` on port 0, in a thread, answering every
request through a function the test supplies and recording what it received.
``deployed_api`` is such a function answering as the deployed stack does
(docs/http-api.md rules 12, 16-19 and 25, and docs/design.md's HTTP contract); tests wrap it to
break one answer at a time. ``silent_listener`` accepts connections and never answers.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tap import cors as api_cors
from tap.config import CorsConfig

# Bound on joining the server thread at the end of a test.
SHUTDOWN_TIMEOUT_S = 5.0
# serve_forever notices shutdown() only between polls; its default 0.5 s would cost every
# test half a second.
POLL_INTERVAL_S = 0.01


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # lowercase names


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, data: object, **headers: str) -> Answer:
        all_headers = {"content-type": "application/json", **headers}
        return cls(status, all_headers, json.dumps(data, separators=(",", ":")).encode())


Responder = Callable[[Request], Answer]


def deployed_api(environment: str = "Production", cors: CorsConfig | None = None) -> Responder:
    """Answers as API Gateway in front of the function does, for the paths the check uses;
    its CORS is tap.cors, the implementation the emulator serves (rules 16-19, 25)."""
    settings = cors or CorsConfig()

    def answer(request: Request) -> Answer:
        origin = request.headers.get("origin")
        if api_cors.is_preflight(request.method, request.headers.items()):
            # rule 16: API Gateway answers the preflight itself
            headers = api_cors.preflight_headers(settings, origin)
            return Answer(api_cors.PREFLIGHT_STATUS, dict(headers))
        cors_headers = dict(api_cors.response_headers(settings, origin))  # rule 17
        if request.method == "GET" and request.path in ("/", "/health"):
            body = {
                "status": "healthy",
                "timestamp": "2026-01-31T12:00:00Z",
                "environment": environment,
                "region": "us-east-1",
            }
            return Answer.json(200, body, **{"x-request-id": "r-1"}, **cors_headers)
        return Answer.json(404, {"message": "Not Found"}, **cors_headers)  # rule 12

    return answer


class ScriptedServer:
    """An HTTP server on 127.0.0.1 answering with ``responder``; ``requests`` records calls."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                request = Request(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                )
                with server._lock:
                    server.requests.append(request)
                answer = server.responder(request)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_OPTIONS = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(POLL_INTERVAL_S,), daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(SHUTDOWN_TIMEOUT_S)

    def paths(self) -> list[str]:
        with self._lock:
            return [f"{r.method} {r.path}" for r in self.requests]


@contextmanager
def silent_listener() -> Iterator[str]:
    """A URL whose server accepts TCP connections (the kernel's backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


class FakeTime:
    """A clock that real time never moves: each reading advances it by ``tick`` (1 ms, so
    a request's latency is never 0 and the same on every run) and ``sleep`` jumps it
    forward without waiting. Whatever the machine's load, the same run reads the same
    times."""

    def __init__(self, tick: float = 0.001, start: float = 1000.0) -> None:
        self.tick = tick
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        self.now += self.tick
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@contextmanager
def raw_server(payload: bytes) -> Iterator[str]:
    """A URL whose server writes ``payload`` (not HTTP) to every connection and hangs up."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(POLL_INTERVAL_S)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(SHUTDOWN_TIMEOUT_S)
                try:
                    conn.recv(65536)
                    conn.sendall(payload)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(SHUTDOWN_TIMEOUT_S)
        sock.close()
