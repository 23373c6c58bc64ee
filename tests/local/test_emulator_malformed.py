"""Malformed requests on the wire (docs/http-api.md rules 40-44): each is answered once,
with the right status, ``connection: close`` and a closed connection, and logged; the
next request, on a new connection, is served.

Every malformed request is followed by a complete second request in the same packet
(``SMUGGLED``): a lenient parser that loses the framing answers it too (two answers on
one connection), which is how a request is smuggled past a proxy.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tap.local.gateway.connection import MAX_REQUEST_BODY_BYTES
from tap.local.gateway.emulator import Emulator
from tap.local.specs import ApiSpec, FunctionSpec
from tests.local.builders import build_api_spec, health_status, single_function

FUNCTION = r"""
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"path": event["rawPath"], "body": event.get("body")})}
"""
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","httpMethod":"$context.httpMethod",'
    '"path":"$context.path","protocol":"$context.protocol","status":"$context.status",'
    '"error":"$context.error.message","ip":"$context.identity.sourceIp"}'
)
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


@dataclass
class Served:
    emulator: Emulator
    access_log: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def log(self, line: str) -> None:
        with self.lock:
            self.access_log.append(json.loads(line))

    def lines(self) -> list[dict[str, str]]:
        with self.lock:
            return list(self.access_log)


def _function() -> FunctionSpec:
    return single_function(FUNCTION)


def _api() -> ApiSpec:
    return build_api_spec(
        {"ANY /{proxy+}": "fn", "GET /health": "fn"},
        api_id="wire2",
        access_log_format=ACCESS_LOG_FORMAT,
    )


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    holder: list[Served] = []
    emulator = Emulator(_api(), {"fn": _function()}, on_access_log=lambda s: holder[0].log(s))
    holder.append(Served(emulator))
    with emulator:
        yield holder[0]


def exchange(port: int, raw: bytes) -> bytes:
    """Send raw bytes, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


_REQUEST = b"POST /echo HTTP/1.1\r\nHost: x\r\n"
_BODY = b"Content-Length: 2\r\n\r\n{}"
_CHUNKED = _REQUEST + b"Transfer-Encoding: chunked\r\n\r\n"


MESSAGES = {
    400: "Bad Request",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}
# (id, raw request before SMUGGLED, status)
MALFORMED: list[tuple[str, bytes, int]] = [
    # RFC 9112 §5.1 / §2.2 / §5.2: field lines (rule 40)
    ("no-colon", _REQUEST + b"X-No-Colon\r\n" + _BODY, 400),
    ("space-before-colon", _REQUEST + b"Content-Length : 2\r\n\r\n{}", 400),
    ("tab-before-colon", _REQUEST + b"Content-Length\t: 2\r\n\r\n{}", 400),
    ("bare-cr-in-header", _REQUEST + b"X-A: a\rContent-Length: 2\r\n\r\n{}", 400),
    ("bare-cr-line-end", _REQUEST + b"X-A: a\r" + _BODY, 400),
    ("bare-cr-in-request-line", b"POST /echo\rX HTTP/1.1\r\nHost: x\r\n" + _BODY, 400),
    ("obs-fold", _REQUEST + b"X-A: a\r\n folded\r\n" + _BODY, 400),
    ("obs-fold-tab", _REQUEST + b"X-A: a\r\n\tfolded\r\n" + _BODY, 400),
    ("empty-header-name", _REQUEST + b": value\r\n" + _BODY, 400),
    ("non-token-header-name", _REQUEST + b"X(A): 1\r\n" + _BODY, 400),
    ("nul-in-header-value", _REQUEST + b"X-A: a\x00b\r\n" + _BODY, 400),
    ("control-in-header-value", _REQUEST + b"X-A: a\x1b[31mb\r\n" + _BODY, 400),
    ("too-many-header-fields", _REQUEST + b"X-A: 1\r\n" * 101 + _BODY, 431),
    # RFC 9112 §3, §3.2; RFC 9110 §9.1, §5.6.2: request line and Host (rule 41)
    ("no-host-http-1.1", b"GET /health HTTP/1.1\r\n\r\n", 400),
    ("two-hosts", b"GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
    ("two-hosts-http-1.0", b"GET /health HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n", 400),
    ("invalid-host", b"GET /health HTTP/1.1\r\nHost: a b/c\r\n\r\n", 400),
    ("method-not-a-token", b"GE(T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("method-with-colon", b"GET: /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("method-non-ascii", b"G\xc9T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("control-in-target", b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("del-in-target", b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("tab-in-target", b"GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("raw-non-ascii-in-target", b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("double-space", b"GET  /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("lowercase-version", b"GET /health http/1.1\r\nHost: x\r\n\r\n", 400),
    ("version-three-digits", b"GET /health HTTP/1.1.1\r\nHost: x\r\n\r\n", 400),
    ("http-3", b"GET /health HTTP/3.0\r\nHost: x\r\n\r\n", 505),
    # RFC 9112 §6.1, §6.3; RFC 9110 §8.6: framing (rule 42)
    (
        "chunked-on-http-1.0",
        b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        400,
    ),
    (
        "content-length-and-chunked",
        _REQUEST + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    ("two-content-lengths", _REQUEST + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
    ("content-length-list", _REQUEST + b"Content-Length: 2, 3\r\n\r\n{}", 400),
    ("content-length-superscript", _REQUEST + "Content-Length: ²\r\n\r\n{}".encode(), 400),
    ("content-length-arabic-indic", _REQUEST + "Content-Length: ٢\r\n\r\n{}".encode(), 400),
    ("content-length-fullwidth", _REQUEST + "Content-Length: ２\r\n\r\n{}".encode(), 400),
    ("content-length-plus", _REQUEST + b"Content-Length: +2\r\n\r\n{}", 400),
    ("content-length-minus", _REQUEST + b"Content-Length: -2\r\n\r\n{}", 400),
    ("content-length-space-inside", _REQUEST + b"Content-Length: 1 2\r\n\r\n{}", 400),
    ("content-length-underscore", _REQUEST + b"Content-Length: 0_2\r\n\r\n{}", 400),
    ("content-length-19-digits", _REQUEST + b"Content-Length: " + b"1" * 19 + b"\r\n\r\n{}", 400),
    ("content-length-hex", _REQUEST + b"Content-Length: 0x2\r\n\r\n{}", 400),
    ("content-length-empty", _REQUEST + b"Content-Length:\r\n\r\n{}", 400),
    ("transfer-coding-gzip", _REQUEST + b"Transfer-Encoding: gzip\r\n\r\n", 501),
    # RFC 9112 §7.1: chunked framing (rule 42)
    ("chunk-size-after-space", _CHUNKED + b" 2\r\n{}\r\n0\r\n\r\n", 400),
    ("chunk-size-17-hex-digits", _CHUNKED + b"0" * 16 + b"2\r\n{}\r\n0\r\n\r\n", 400),
    ("chunk-size-0x", _CHUNKED + b"0x2\r\n{}\r\n0\r\n\r\n", 400),
    ("chunk-size-underscore", _CHUNKED + b"0_2\r\n{}\r\n0\r\n\r\n", 400),
    ("bare-cr-in-chunk-extension", _CHUNKED + b"2;a\rb\r\n{}\r\n0\r\n\r\n", 400),
    ("bare-cr-in-trailer", _CHUNKED + b"2\r\n{}\r\n0\r\nX-T: a\rb\r\n\r\n", 400),
    ("trailer-without-colon", _CHUNKED + b"2\r\n{}\r\n0\r\nno-colon\r\n\r\n", 400),
]


@pytest.mark.parametrize(
    ("raw", "status"),
    [(raw, status) for _, raw, status in MALFORMED],
    ids=[m[0] for m in MALFORMED],
)
def test_a_malformed_request_is_answered_once_closed_and_logged(
    served: Served, raw: bytes, status: int
) -> None:
    port = served.emulator.port
    before = len(served.lines())

    # WHEN the malformed request arrives, with a second request behind it
    response = exchange(port, raw + SMUGGLED)

    # THEN it gets one answer, the status that says what is wrong, and the server closes
    assert response.count(b"HTTP/1.1 ") == 1, response
    assert b"/smuggled" not in response
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert int(lines[0].split()[1]) == status
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": MESSAGES[status]}
    # AND one access-log line says so
    logged = served.lines()[before:]
    assert [line["status"] for line in logged] == [str(status)]
    assert logged[0]["error"] == json.loads(body)["message"]
    assert logged[0]["ip"] == "127.0.0.1"
    # AND the next request, on a new connection, is served
    assert health_status(port, timeout_s=10) == 200


def test_a_well_formed_request_with_the_same_shape_is_served(served: Served) -> None:
    # The control: the table's base request, well formed, gets the function's answer and
    # the request behind it is answered too (keep-alive, pipelined).
    response = exchange(
        served.emulator.port,
        _REQUEST
        + b"X-A: a\r\n"
        + _BODY
        + b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert response.count(b"HTTP/1.1 200 OK") == 2
    assert b'"/echo"' in response
    assert b'"/next"' in response


def test_lf_line_ends_and_a_repeated_identical_content_length_are_accepted(
    served: Served,
) -> None:
    # RFC 9112 §2.2 lets a recipient accept a bare LF as a line end; RFC 9110 §8.6 a
    # Content-Length repeated with the same value.
    raw = (
        b"POST /lf HTTP/1.1\nHost: x\nContent-Type: application/json\n"
        b"Content-Length: 2\nContent-Length: 2, 2\n"
        b"Connection: close\n\n{}"
    )
    response = exchange(served.emulator.port, raw)
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert json.loads(response.partition(b"\r\n\r\n")[2]) == {"path": "/lf", "body": "{}"}


def test_a_chunked_body_with_extensions_and_trailers_is_served(served: Served) -> None:
    raw = (
        _REQUEST + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n1 ; name=value\r\n{\r\n00001\r\n}\r\n0\r\nX-T: t\r\n\r\n"
    )
    response = exchange(served.emulator.port, raw)
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert json.loads(response.partition(b"\r\n\r\n")[2]) == {"path": "/echo", "body": "{}"}


def test_http_1_0_without_host_is_served(served: Served) -> None:
    # RFC 9112 §3.2 requires Host of HTTP/1.1 only.
    response = exchange(served.emulator.port, b"GET /health HTTP/1.0\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")


def test_a_token_method_other_than_the_usual_reaches_the_routes(served: Served) -> None:
    # "M-SEARCH" is a token (RFC 9110 §9.1): not malformed, so the route table decides.
    response = exchange(
        served.emulator.port, b"M-SEARCH /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")  # ANY /{proxy+}


def test_a_413_is_logged_too(served: Served) -> None:
    before = len(served.lines())
    raw = _REQUEST + b"Content-Length: " + str(MAX_REQUEST_BODY_BYTES + 1).encode() + b"\r\n\r\n"
    response = exchange(served.emulator.port, raw)
    assert response.startswith(b"HTTP/1.1 413 ")
    logged = served.lines()[before:]
    assert [(line["status"], line["httpMethod"], line["path"]) for line in logged] == [
        ("413", "POST", "/echo")
    ]


def test_a_client_stalling_mid_request_gets_408(monkeypatch: pytest.MonkeyPatch) -> None:
    from tap.local.gateway import connection

    # A short idle limit for this emulator's connections only (the class attribute is read
    # when each connection is set up).
    monkeypatch.setattr(connection.Connection, "timeout", 0.3)
    with Emulator(_api(), {"fn": _function()}) as emulator:
        response = exchange(emulator.port, b"GET /health HTTP/1.1\r\nHost: x\r\n")
    assert response.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert response.endswith(b'{"message":"Request Timeout"}')


def test_a_head_cut_off_mid_line_is_400(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.emulator.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x")
        sock.shutdown(socket.SHUT_WR)  # the client is done sending, mid-line
        response = b""
        while data := sock.recv(65536):
            response += data
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_a_bug_in_the_emulator_is_still_answered(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an emulator whose request handling fails unexpectedly
    lines: list[str] = []
    with Emulator(_api(), {"fn": _function()}, on_access_log=lines.append) as emulator:

        def broken(*args: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(emulator, "answer", broken)
        # WHEN a request arrives
        response = exchange(emulator.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        # THEN the client gets a 500 and the connection closes (not a dropped connection)
        assert response.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert response.endswith(b'{"message":"Internal Server Error"}')
        # AND the next connection is served, once the bug is gone
        monkeypatch.undo()
        assert health_status(emulator.port, timeout_s=10) == 200
    assert [json.loads(line)["status"] for line in lines] == ["500", "200"]
    # AND the traceback reached the console
    assert "RuntimeError: a bug" in capsys.readouterr().err
