"""The smoke check's requests keep their deadline whatever the server does, stay off proxies
for a loopback URL, and quote what a hostile server sends bounded and escaped.

Real servers on 127.0.0.1. Where the deadline logic can be driven by an injected clock, it
is (a clock that jumps a second per reading); where only real time can show it (a server
dripping one byte every 0.5 s), deadlines are 1-2 s and the bound checked is the issue's
"deadline + 2 s", generous on a loaded machine yet far below what an unbounded request
takes: each server stops dripping after DRIP_LIMIT_S, so the same tests fail, rather than
hang, on a transport that only has a per-read timeout.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tap import smoke
from tap.smoke import NoResponseError, SmokeCheckFailedError, SmokeCheckProvider, probe, send
from tests.smoke.fake_api import Answer, FakeTime, Request, ScriptedServer, deployed_api
from tests.smoke.test_smoke_check import NOW, props, provider

DRIP_INTERVAL_S = 0.5
# A dripping server gives up after this long: a transport without a real deadline then
# fails these tests in ~DRIP_LIMIT_S instead of hanging the suite.
DRIP_LIMIT_S = 12.0
MARGIN_S = 2.0  # the bound: every request, and the check, by deadline + 2 s

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"


@contextmanager
def dripping_server(
    fast: bytes,
    drip: bytes,
    interval: float = DRIP_INTERVAL_S,
    tls: ssl.SSLContext | None = None,
) -> Iterator[str]:
    """A URL whose server reads the request, sends ``fast`` at once, then ``drip`` one byte
    every ``interval`` seconds (repeating it), until DRIP_LIMIT_S or the client leaves; over
    TLS when ``tls`` is given (the handshake completes at once)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve(raw: socket.socket) -> None:
        try:
            raw.settimeout(DRIP_LIMIT_S)
            with tls.wrap_socket(raw, server_side=True) if tls else raw as conn:
                conn.recv(65536)
                conn.sendall(fast)
                started = time.monotonic()
                i = 0
                while drip and not stop.is_set() and time.monotonic() - started < DRIP_LIMIT_S:
                    conn.sendall(drip[i % len(drip) : i % len(drip) + 1])
                    i += 1
                    stop.wait(interval)
        except OSError:
            pass  # the client gave up: what the tests expect

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        scheme = "https" if tls else "http"
        yield f"{scheme}://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


# What a hostile server can hold back, one byte at a time.
SLOW = {
    "status line": (b"", HEAD),
    "headers": (b"HTTP/1.1 200 OK\r\n", b"x-pad: " + b"a" * 400 + b"\r\n"),
    "body": (HEAD + b"content-length: 1000\r\n\r\n", b"{" * 1000),
    "never closing": (HEAD + b"connection: close\r\n\r\n{", b" "),
    "huge content-length": (HEAD + b"content-length: 999999999999999\r\n\r\n", b" "),
    "chunked body": (HEAD + b"transfer-encoding: chunked\r\n\r\n", b"1\r\n \r\n"),
}


def _timed(call: Callable[[], Any]) -> tuple[Exception | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as error:  # returned for the test to check
        return error, time.monotonic() - started
    return None, time.monotonic() - started


@pytest.mark.parametrize("case", sorted(SLOW))
def test_a_request_ends_by_its_deadline_whatever_the_server_holds_back(case: str) -> None:
    fast, drip = SLOW[case]
    deadline = 1.5
    with dripping_server(fast, drip) as url:
        error, elapsed = _timed(lambda: send("GET", url + "health", {}, deadline))

    assert isinstance(error, NoResponseError), error
    assert "within 1.5 s" in str(error)
    assert elapsed < deadline + MARGIN_S


def test_a_slow_body_is_reported_as_an_unfinished_answer() -> None:
    fast, drip = SLOW["body"]
    with dripping_server(fast, drip) as url, pytest.raises(NoResponseError) as raised:
        send("GET", url, {}, 1.0)

    assert str(raised.value) == ("no complete response within 1.0 s: status 200, body unfinished")


def test_the_whole_check_ends_by_its_deadline_plus_two_seconds() -> None:
    # GIVEN a server sending its headers one byte every 0.5 s, and a 2 s deadline
    fast, drip = SLOW["headers"]
    deadline = 2.0
    with dripping_server(fast, drip) as url:
        # WHEN the provider creates the check, on the real clock
        error, elapsed = _timed(
            lambda: SmokeCheckProvider(now=lambda: NOW).create(
                props(url, deadline_seconds=deadline)
            )
        )

    # THEN it fails, by the deadline plus the 2 s
    assert isinstance(error, SmokeCheckFailedError), error
    assert elapsed < deadline + MARGIN_S
    assert "expected status 200, got no response within 2.0 s" in str(error)


class JumpingClock:
    """A clock that moves one second each time it is read: deadlines pass after a few
    socket operations, whatever real time does."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += 1.0
        return self.now


def test_the_deadline_is_checked_between_reads_on_the_injected_clock() -> None:
    # GIVEN a server streaming a body fast (a byte every 5 ms, far within any timeout)
    fast, drip = SLOW["never closing"]
    clock = JumpingClock()
    with dripping_server(fast, drip, interval=0.005) as url:
        # WHEN a request with a 5 s deadline runs on a clock that moves 1 s per reading
        error, elapsed = _timed(lambda: send("GET", url, {}, 5.0, clock=clock))

    # THEN it stops after a handful of socket operations, not when the server stops
    assert isinstance(error, NoResponseError), error
    assert str(error) == "no complete response within 5.0 s: status 200, body unfinished"
    assert clock.reads <= 6
    assert elapsed < DRIP_LIMIT_S / 2


def test_name_resolution_is_bounded_by_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a resolver that hangs (getaddrinfo has no timeout of its own)
    release = threading.Event()
    real = socket.getaddrinfo

    def hanging(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "api.tap-smoke.test":
            release.wait(DRIP_LIMIT_S)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        error, elapsed = _timed(lambda: send("GET", "http://api.tap-smoke.test/health", {}, 1.0))
    finally:
        release.set()

    assert isinstance(error, NoResponseError), error
    assert str(error) == "no response within 1.0 s"
    assert elapsed < 1.0 + MARGIN_S


def test_a_name_that_does_not_resolve_is_no_response_naming_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = socket.getaddrinfo

    def failing(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "api.tap-smoke.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", failing)
    with pytest.raises(NoResponseError) as raised:
        send("GET", "http://api.tap-smoke.test/health", {}, 2.0)

    assert "Name or service not known" in str(raised.value)


def test_the_opener_alone_uses_the_requests_timeout_as_its_deadline() -> None:
    # A request not made by send() (no deadline of its own) still gets one.
    fast, drip = SLOW["body"]
    with dripping_server(fast, drip) as url:
        started = time.monotonic()
        with (
            smoke.new_opener(url).open(url, timeout=1.0) as answer,
            pytest.raises(TimeoutError),
        ):
            answer.read()
        elapsed = time.monotonic() - started

    assert elapsed < 1.0 + MARGIN_S


# ---------------------------------------------------------------------------------------
# Proxies: never for loopback.


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """A forward proxy on 127.0.0.1, set in every proxy variable; it records each request."""

    def answer(request: Request) -> Answer:
        return Answer.json(200, {"proxied": request.path})

    with ScriptedServer(answer) as server:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, server.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        yield server


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_url_is_never_sent_through_the_proxy(proxy: ScriptedServer, host: str) -> None:
    with ScriptedServer(deployed_api()) as api:
        url = api.url.replace("127.0.0.1", host)
        outputs = SmokeCheckProvider(now=lambda: NOW).create(props(url)).outs

    assert outputs["attempts"] == 1
    assert proxy.requests == []
    assert len(api.requests) == 3


def test_another_url_still_goes_through_the_proxy(proxy: ScriptedServer) -> None:
    response = send("GET", "http://api.tap-smoke.test/health", {}, 5.0)

    assert response.status == 200
    assert proxy.paths() == ["GET http://api.tap-smoke.test/health"]


def test_https_to_another_host_is_tunnelled_through_the_proxy(proxy: ScriptedServer) -> None:
    # The fake proxy has no CONNECT: its 501 shows the request went to it, as a tunnel.
    with pytest.raises(NoResponseError) as raised:
        send("GET", "https://api.tap-smoke.test/health", {}, 5.0)

    assert "Tunnel connection failed: 501" in str(raised.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("api.localhost", True),
        ("LOCALHOST", True),
        ("10.0.0.1", False),
        ("abc.execute-api.us-east-1.amazonaws.com", False),
        ("localhost.example.com", False),
        (None, False),
    ],
)
def test_is_loopback(host: str | None, loopback: bool) -> None:
    assert smoke.is_loopback(host) is loopback


# ---------------------------------------------------------------------------------------
# What a hostile server sends is quoted bounded and escaped.

HOSTILE = "\x1b[2J\x1b]0;owned\x07" + "A" * 60_000 + "\x07"


def test_hostile_header_values_and_bodies_are_quoted_bounded_and_escaped() -> None:
    def answer(request: Request) -> Answer:
        headers = {
            "access-control-allow-origin": HOSTILE,
            "access-control-expose-headers": HOSTILE,
            "access-control-allow-methods": HOSTILE,
            "access-control-allow-headers": HOSTILE,
            "access-control-max-age": HOSTILE,
            "access-control-allow-credentials": HOSTILE,
        }
        status = 204 if request.method == "OPTIONS" else 500
        return Answer(status, headers, HOSTILE.encode() if status != 204 else b"")

    with ScriptedServer(answer) as server, pytest.raises(SmokeCheckFailedError) as raised:
        provider(FakeTime()).create(props(server.url, deadline_seconds=1.0))

    message = str(raised.value)
    assert "\x1b" not in message
    assert "\x07" not in message
    assert "\\x1b[2J" in message
    assert f"({len(HOSTILE):,} characters in all)" in message
    for line in message.splitlines():
        assert len(line) < 600, line[:100]


def test_a_hostile_status_line_is_quoted_bounded_and_escaped() -> None:
    from tests.smoke.fake_api import raw_server

    with raw_server(HOSTILE.encode() + b"\r\n") as url, pytest.raises(NoResponseError) as raised:
        send("GET", url, {}, 2.0)

    message = str(raised.value)
    assert message.startswith("no response: BadStatusLine: \\x1b[2J\\x1b]0;owned\\x07AAA")
    assert "\x1b" not in message
    assert len(message) < 400


# ---------------------------------------------------------------------------------------
# HTTPS: the same deadline through the TLS handshake and TLS reads.


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, as (certificate, key) PEM file paths."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@contextmanager
def tls_server(tls_files: tuple[str, str], fast: bytes, drip: bytes) -> Iterator[str]:
    """dripping_server over TLS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    with dripping_server(fast, drip, tls=context) as url:
        yield url


def _trusting_opener(cert: str) -> Any:
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=cert)
    return urllib.request.build_opener(
        probe._NoRedirects,
        probe._DeadlineHTTPHandler,
        probe._DeadlineHTTPSHandler(context=context),
        urllib.request.ProxyHandler({}),
    )


def test_an_https_answer_is_read_through_the_deadline_transport(tls_files: tuple[str, str]) -> None:
    body = b'{"status":"healthy"}'
    answer = HEAD + f"content-length: {len(body)}\r\n\r\n".encode() + body
    with tls_server(tls_files, answer, b"") as url:
        response = send("GET", url + "health", {}, 5.0, _trusting_opener(tls_files[0]))

    assert (response.status, response.body) == (200, body)


def test_a_slow_https_body_ends_by_the_deadline(tls_files: tuple[str, str]) -> None:
    fast, drip = SLOW["body"]
    with tls_server(tls_files, fast, drip) as url:
        error, elapsed = _timed(lambda: send("GET", url, {}, 1.5, _trusting_opener(tls_files[0])))

    assert isinstance(error, NoResponseError), error
    assert str(error) == "no complete response within 1.5 s: status 200, body unfinished"
    assert elapsed < 1.5 + MARGIN_S


def test_a_dripped_tls_handshake_ends_by_the_deadline(tls_files: tuple[str, str]) -> None:
    # GIVEN a server answering the ClientHello with the start of a 16 KB TLS record, one
    # byte every 0.5 s: a handshake that never completes
    record = b"\x16\x03\x03\x40\x00" + b"\x02" * 64
    with dripping_server(b"", record) as url:
        https = url.replace("http://", "https://")
        error, elapsed = _timed(lambda: send("GET", https, {}, 1.5, _trusting_opener(tls_files[0])))

    assert isinstance(error, NoResponseError), error
    assert str(error) == "no response within 1.5 s"
    assert elapsed < 1.5 + MARGIN_S
