"""The emulator on the wire: every request gets an HTTP answer, however malformed.

Raw sockets send what ordinary clients refuse to send. Each case asserts the exact status
and API Gateway-style JSON message, and that the server still answers afterwards.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait

import pytest

from tap.local.gateway.connection import MAX_REQUEST_BODY_BYTES, MAX_REQUEST_HEAD_BYTES
from tap.local.gateway.emulator import Emulator
from tests.local.builders import build_api_spec, build_function_spec, code_zip

ECHO_FUNCTION = r"""
import base64, json

def handler(event, context):
    body = event.get("body")
    if body is not None and event["isBase64Encoded"]:
        body = base64.b64decode(body).decode("latin-1")
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"path": event["rawPath"], "body": body,
                                "length": event["headers"].get("content-length"),
                                "te": event["headers"].get("transfer-encoding")})}
"""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    function = build_function_spec("echo", code_zip({"echo.py": ECHO_FUNCTION}), "echo.handler")
    api = build_api_spec({"ANY /{proxy+}": "echo", "GET /health": "echo"}, api_id="wire1")
    with Emulator(api, {"echo": function}) as running:
        yield running


def exchange(emulator: Emulator, raw: bytes, *, shut_write: bool = False) -> bytes:
    """Send raw bytes, read until the server closes (every refusal closes)."""
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as sock:
        sock.sendall(raw)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, body


def refused(raw_response: bytes, status: int, message: str) -> None:
    code, headers, body = parse(raw_response)
    assert code == status
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert json.loads(body) == {"message": message}


def still_serving(emulator: Emulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    try:
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


@pytest.mark.parametrize(
    "request_line",
    [b"GARBAGE\r\n", b"GET /\r\n", b"GET / HTTP/1.1 extra\r\n", b"GET / FTP/1.1\r\n"],
    ids=["one-word", "http-0.9", "four-words", "not-http"],
)
def test_malformed_request_line_is_400(emulator: Emulator, request_line: bytes) -> None:
    refused(exchange(emulator, request_line + b"\r\n"), 400, "Bad Request")
    still_serving(emulator)


def test_relative_target_is_400(emulator: Emulator) -> None:
    refused(exchange(emulator, b"GET health HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "Bad Request")


def test_unsupported_http_version_is_505(emulator: Emulator) -> None:
    raw = exchange(emulator, b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n")
    refused(raw, 505, "HTTP Version Not Supported")


def test_head_at_the_limit_passes_and_one_byte_more_is_431(emulator: Emulator) -> None:
    # docs/http-api.md rule 15: request line plus headers, 10,240 bytes
    def request(size: int) -> bytes:
        line = b"GET /health HTTP/1.1\r\n"
        fixed = len(line) + len(b"Host: x\r\n") + len(b"X-Pad: \r\n")
        pad = b"a" * (size - fixed)
        return line + b"Host: x\r\nX-Pad: " + pad + b"\r\nConnection: close\r\n\r\n"

    # "Connection: close" adds its own bytes: size the pad so the total is what we say
    extra = len(b"Connection: close\r\n")
    at_limit = exchange(emulator, request(MAX_REQUEST_HEAD_BYTES - extra))
    over = exchange(emulator, request(MAX_REQUEST_HEAD_BYTES - extra + 1))

    assert parse(at_limit)[0] == 200
    refused(over, 431, "Request Header Fields Too Large")


def test_header_line_longer_than_any_limit_is_431(emulator: Emulator) -> None:
    raw = b"GET /health HTTP/1.1\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n"
    refused(exchange(emulator, raw), 431, "Request Header Fields Too Large")


def test_request_line_too_long_is_414(emulator: Emulator) -> None:
    raw = b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n"
    refused(exchange(emulator, raw), 414, "URI Too Long")


def test_body_over_10_mb_is_413_without_sending_it(emulator: Emulator) -> None:
    # GIVEN a Content-Length one byte over the limit, and no body sent at all
    raw = (
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: " + str(MAX_REQUEST_BODY_BYTES + 1).encode() + b"\r\n\r\n"
    )

    # THEN the server answers 413 at once (it does not wait for 10 MB)
    refused(exchange(emulator, raw), 413, "Request Entity Too Large")
    still_serving(emulator)


def test_expect_100_continue_gets_413_instead_of_continue(emulator: Emulator) -> None:
    raw = (
        b"PUT /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: " + str(MAX_REQUEST_BODY_BYTES + 1).encode() + b"\r\n\r\n"
    )
    response = exchange(emulator, raw)

    assert not response.startswith(b"HTTP/1.1 100")
    refused(response, 413, "Request Entity Too Large")


def test_expect_100_continue_then_body(emulator: Emulator) -> None:
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as sock:
        sock.sendall(
            b"POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
        )
        interim = sock.recv(1024)
        sock.sendall(b"hello")
        rest = b""
        while data := sock.recv(65536):
            rest += data

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    status, _, body = parse(rest)
    assert status == 200
    assert json.loads(body)["body"] == "hello"


def test_body_of_exactly_10_mb_is_accepted_by_the_gateway(emulator: Emulator) -> None:
    # 10 MB passes API Gateway; as base64 it is over Lambda's 6 MB invoke limit (rule 14),
    # which the emulator answers 413 too (unverified against AWS)
    body = b"\0" * MAX_REQUEST_BODY_BYTES
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    try:
        connection.request("POST", "/big", body=body)
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read()) == {"message": "Request Entity Too Large"}
    finally:
        connection.close()
    # while a body under 6 MB as text goes through whole
    text = b"x" * (5 * 1024 * 1024)
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    try:
        connection.request("POST", "/big", body=text, headers={"Content-Type": "text/plain"})
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["length"] == str(len(text))
    finally:
        connection.close()


def test_chunked_body_is_decoded(emulator: Emulator) -> None:
    raw = (
        b"POST /chunked HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    status, _, body = parse(exchange(emulator, raw))

    assert status == 200
    echoed = json.loads(body)
    assert echoed["body"] == "hello world"
    assert echoed["length"] == "11"  # the function sees the decoded length...
    assert echoed["te"] is None  # ...and no Transfer-Encoding


def test_chunked_body_over_10_mb_is_413(emulator: Emulator) -> None:
    size = format(MAX_REQUEST_BODY_BYTES + 1, "x").encode()
    raw = (
        b"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\n"
    )
    refused(exchange(emulator, raw), 413, "Request Entity Too Large")


@pytest.mark.parametrize(
    "chunks",
    [b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n", b"-5\r\nhello\r\n0\r\n\r\n"],
    ids=["not-hex", "no-crlf-after-data", "negative"],
)
def test_malformed_chunks_are_400(emulator: Emulator, chunks: bytes) -> None:
    raw = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
    refused(exchange(emulator, raw), 400, "Bad Request")


def test_other_transfer_encodings_are_501(emulator: Emulator) -> None:
    raw = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
    refused(exchange(emulator, raw), 501, "Not Implemented")


def test_both_framings_at_once_are_400(emulator: Emulator) -> None:
    raw = (
        b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    refused(exchange(emulator, raw), 400, "Bad Request")


@pytest.mark.parametrize(
    "lengths",
    [[b"abc"], [b"-1"], [b"5", b"6"], [b""]],
    ids=["not-a-number", "negative", "conflicting", "empty"],
)
def test_bad_content_length_is_400(emulator: Emulator, lengths: list[bytes]) -> None:
    headers = b"".join(b"Content-Length: " + value + b"\r\n" for value in lengths)
    raw = b"POST /c HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\nhello"
    refused(exchange(emulator, raw), 400, "Bad Request")


def test_keep_alive_serves_many_requests_on_one_connection(emulator: Emulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    try:
        connection.connect()
        sock = connection.sock
        for index in range(5):
            connection.request(
                "POST", f"/k{index}", body=b"{}", headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("connection") == "keep-alive"
            assert json.loads(response.read())["path"] == f"/k{index}"
            assert connection.sock is sock  # the same socket throughout
    finally:
        connection.close()


def test_pipelined_requests_are_answered_in_order(emulator: Emulator) -> None:
    raw = (
        b"GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /p2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    response = exchange(emulator, raw)

    assert response.count(b"HTTP/1.1 200 OK") == 2
    assert response.index(b'"/p1"') < response.index(b'"/p2"')


def test_http_1_0_closes_unless_keep_alive_is_asked(emulator: Emulator) -> None:
    response = exchange(emulator, b"GET /health HTTP/1.0\r\n\r\n")
    status, headers, _ = parse(response)

    assert status == 200
    assert headers["connection"] == "close"


def test_head_gets_headers_and_no_body(emulator: Emulator) -> None:
    response = exchange(emulator, b"HEAD /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, headers, body = parse(response)

    assert status == 200
    assert int(headers["content-length"]) > 0
    assert body == b""


def test_client_vanishing_mid_body_does_not_break_the_server(emulator: Emulator) -> None:
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort")
    still_serving(emulator)


def test_2000_requests_at_concurrency_16(emulator: Emulator) -> None:
    # GIVEN 16 keep-alive clients sharing 2,000 requests (the function runs one at a time)
    total, clients = 2000, 16
    statuses: list[int] = []
    lock = threading.Lock()

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
        try:
            for _ in range(count):
                connection.request("GET", "/health")
                response = connection.getresponse()
                response.read()
                with lock:
                    statuses.append(response.status)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(client, total // clients) for _ in range(clients)]
        # A bound on the whole run, so a hang fails the test instead of the suite
        done, not_done = wait(futures, timeout=120)
        for future in done:
            future.result()

    assert not not_done
    assert len(statuses) == total
    assert set(statuses) == {200}
