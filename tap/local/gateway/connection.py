"""The HTTP/1.1 side of the emulator: each request's head and body read strictly
(tap/local/gateway/http1.py: RFC 9112, docs/http-api.md rules 14-15, 40-42), handed to the
gateway, and the answer written back; what cannot be read is refused with a JSON answer
and the connection closed."""

from __future__ import annotations

import json
import socket
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from tap.local.connections import TrackedConnection
from tap.local.gateway.apigw import HttpResponse, RequestInfo, new_request_id
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
from tap.local.gateway.listener import DRAIN_TIMEOUT_S, Server

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
_MAX_BLANK_LINES = 4  # RFC 9112 §2.2: ignore at least one empty line before a request

REASONS = {
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


class RequestError(Exception):
    """A request the server answers itself, then closes the connection."""

    def __init__(self, status: int) -> None:
        super().__init__(REASONS[status])
        self.status = status


class Connection(TrackedConnection, BaseHTTPRequestHandler):
    """One client connection: its requests read and checked one at a time, each answered
    by the gateway, refusals answered here (``handle_one_request`` is the name
    BaseHTTPRequestHandler calls)."""

    protocol_version = "HTTP/1.1"
    timeout = KEEP_ALIVE_TIMEOUT_S
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: requests are reported through the access log sink."""

    def handle_one_request(self) -> None:
        self._started = False
        self._line: RequestLine | None = None
        try:
            self._answer_one_request()
        finally:
            if self._started:  # counted in flight from its first line to its answer
                self.server.request_started(False)

    def _answer_one_request(self) -> None:
        try:
            self._handle_one_request()
        except HeadError as error:
            self._refuse(error.status)
        except RequestError as error:
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
            raise RequestError(too_long)
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
        self.server.request_started(True)
        if len(self.raw_requestline) > _MAX_LINE_BYTES:
            raise RequestError(414)
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
                raise RequestError(431)  # docs/http-api.md rule 15 (as sent, line ends included)
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
            raise RequestError(400)
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
        gateway = self.server.gateway
        response, context = gateway.answer(request)
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
        gateway.access_log(context)
        self._write(response, head_only=method == "HEAD")

    def _read_body(self, line: RequestLine, headers: list[tuple[str, str]]) -> bytes:
        codings = transfer_codings(line, headers)  # 400 with Content-Length or on 1.0
        if codings:
            if codings != ["chunked"]:
                raise RequestError(501)
            self._continue(headers)
            return self._read_chunked()
        length = content_length(headers)  # docs/http-api.md rule 42
        if not length:
            return b""
        if length > MAX_REQUEST_BODY_BYTES:  # docs/http-api.md rule 14; not read
            raise RequestError(413)
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
                raise RequestError(413)
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ConnectionAbortedError("the client closed the connection mid-chunk")
            chunks.append(chunk)
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise RequestError(400)
        for _ in range(MAX_HEADER_FIELDS):  # trailer fields, checked, ignored
            line = self._read_line(431)
            if line in (b"\r\n", b"\n"):
                return b"".join(chunks)
            parse_field_line(strip_line_end(line))
        raise RequestError(431)

    def _write(self, response: HttpResponse, *, head_only: bool = False) -> None:
        lines = [f"HTTP/1.1 {response.status} {reason(response.status)}"]
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
        body = json.dumps({"message": REASONS[status]}, separators=(",", ":")).encode()
        line = self._line
        self.server.gateway.log_refusal(
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
            self.connection.settimeout(DRAIN_TIMEOUT_S)
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            received = 0
            while time.monotonic() < deadline and received <= 2 * MAX_REQUEST_BODY_BYTES:
                data = self.rfile.read1(65_536)
                if not data:
                    break
                received += len(data)
        except OSError:
            pass


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
