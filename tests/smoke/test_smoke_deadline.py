"""The smoke check's requests keep their deadline whatever the server does, stay off proxies
for a loopback URL, and quote what a hostile server sends bounded and escaped.

No test here reads the wall clock or asserts on elapsed time. The deadline is proved on an
injected clock: a scripted server connection (``DrippingConnection``) sends what a hostile
server holds back one byte per ``interval`` of FAKE time, and honours the socket timeout
the probe sets on it as a real socket would (a wait longer than the timeout moves the clock
by the timeout and raises TimeoutError). A request then ends by its deadline exactly when
the fake clock says so, on any machine at any load. Where a real socket must be used (TLS,
name resolution), a clock that jumps makes the deadline pass after a known number of
readings; the servers' real waits (DRIP_LIMIT_S) are safety limits only, so that a probe
without a deadline fails these tests rather than hanging them.
"""

from __future__ import annotations

import socket
import ssl
import threading
import types
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tap import smoke
from tap.smoke import NoResponseError, SmokeCheckFailedError, SmokeCheckProvider, probe, send
from tests.smoke.fake_api import Answer, FakeTime, Request, ScriptedServer, deployed_api
from tests.smoke.test_smoke_check import HALF, NOW, props, provider

DRIP_INTERVAL_S = 0.5
# A real dripping server gives up after this long (real seconds): a transport without a
# deadline then fails these tests in ~DRIP_LIMIT_S instead of hanging the suite.
DRIP_LIMIT_S = 12.0
# The scripted connection's server gives up after this much FAKE time: far past every
# deadline below, so reaching it means the probe did not keep its deadline.
FAKE_DRIP_LIMIT_S = 100.0
# Where the scripted connections point: never connected to (probe._connect is replaced).
URL = "http://127.0.0.1:9/"

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"


class DrippingConnection:
    """A connected socket, in fake time, to a server that sends ``fast`` at once and then
    ``drip`` (repeated) one byte every ``interval`` seconds of ``fake``'s clock.

    Like a real socket, a receive waits at most the timeout last set: when the next byte
    is further away than that, the clock moves by the timeout and TimeoutError is raised.
    ``timeouts`` records every timeout the probe set, in order."""

    def __init__(self, fake: FakeTime, fast: bytes, drip: bytes, interval: float) -> None:
        self.fake = fake
        self.pending = bytearray(fast)
        self.drip = drip
        self.interval = interval
        self.sent = 0  # drip bytes delivered
        self.started = fake.now
        self.timeout: float | None = None
        self.timeouts: list[float | None] = []
        self.request = b""
        self.closed = False

    def settimeout(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.timeouts.append(timeout)

    def setsockopt(self, *_: Any) -> None:
        pass

    def sendall(self, data: Any, flags: int = 0) -> None:
        self.request += bytes(data)

    def _wait(self, seconds: float) -> None:
        if self.timeout is not None and seconds > self.timeout:
            self.fake.now += self.timeout
            raise TimeoutError("timed out")
        self.fake.now += seconds

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        assert not self.closed, "read after close"
        if self.pending:
            n = min(len(self.pending), nbytes or len(buffer))
            buffer[:n] = self.pending[:n]
            del self.pending[:n]
            return n
        if not self.drip or self.fake.now - self.started >= FAKE_DRIP_LIMIT_S:
            # a silent server: the read waits its whole timeout (None would be forever)
            assert self.timeout is not None, "a read without a timeout on a silent server"
            self._wait(float("inf"))
        self._wait(self.interval)
        buffer[0] = self.drip[self.sent % len(self.drip)]
        self.sent += 1
        return 1

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake() -> FakeTime:
    # A clock only the scripted connections and the check's sleeps move.
    return FakeTime(tick=0.0, start=0.0)


@pytest.fixture
def dripping(monkeypatch: pytest.MonkeyPatch, fake: FakeTime) -> Any:
    """``dripping(fast, drip)`` makes every connection the probe opens a DrippingConnection
    (name resolution and connect are tested on real sockets elsewhere); returns the list of
    connections made."""
    made: list[DrippingConnection] = []

    def script(fast: bytes, drip: bytes, interval: float = DRIP_INTERVAL_S) -> Any:
        def connect(host: str, port: int, deadline: Any) -> DrippingConnection:
            deadline.remaining()  # connecting checks the deadline too
            made.append(DrippingConnection(fake, fast, drip, interval))
            return made[-1]

        monkeypatch.setattr(probe, "_connect", connect)
        return made

    return script


@contextmanager
def accepting(serve: Callable[[socket.socket], None], stop: threading.Event) -> Iterator[int]:
    """A listener on 127.0.0.1 handing each connection to ``serve`` on a thread of its own;
    yields its port. On exit ``stop`` is set (servers wait on it) and the listener closed."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)

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
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@contextmanager
def dripping_server(
    fast: bytes,
    drip: bytes,
    interval: float = DRIP_INTERVAL_S,
    tls: ssl.SSLContext | None = None,
) -> Iterator[str]:
    """A real URL whose server reads the request, sends ``fast`` at once, then ``drip`` one
    byte every ``interval`` seconds (repeating it), until DRIP_LIMIT_S or the client leaves;
    over TLS when ``tls`` is given (the handshake completes at once). An empty ``drip``:
    silent after ``fast`` until DRIP_LIMIT_S."""
    stop = threading.Event()

    def serve(raw: socket.socket) -> None:
        try:
            raw.settimeout(DRIP_LIMIT_S)
            with tls.wrap_socket(raw, server_side=True) if tls else raw as conn:
                conn.recv(65536)
                conn.sendall(fast)
                i = 0
                # a safety limit, not a measurement: the server stops after DRIP_LIMIT_S
                limit = DRIP_LIMIT_S / interval if drip else 0
                while i < limit and not stop.is_set():
                    conn.sendall(drip[i % len(drip) : i % len(drip) + 1])
                    i += 1
                    stop.wait(interval)
                stop.wait(DRIP_LIMIT_S)  # silent, the connection open, until the test ends
        except OSError:
            pass  # the client gave up: what the tests expect

    with accepting(serve, stop) as port:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/"


# What a hostile server can hold back, one byte at a time.
SLOW = {
    "status line": (b"", HEAD),
    "headers": (b"HTTP/1.1 200 OK\r\n", b"x-pad: " + b"a" * 400 + b"\r\n"),
    "body": (HEAD + b"content-length: 1000\r\n\r\n", b"{" * 1000),
    "never closing": (HEAD + b"connection: close\r\n\r\n{", b" "),
    "huge content-length": (HEAD + b"content-length: 999999999999999\r\n\r\n", b" "),
    "chunked body": (HEAD + b"transfer-encoding: chunked\r\n\r\n", b"1\r\n \r\n"),
    "silence": (b"", b""),
}


@pytest.mark.parametrize("case", sorted(SLOW))
def test_a_request_ends_by_its_deadline_whatever_the_server_holds_back(
    case: str, fake: FakeTime, dripping: Any
) -> None:
    # GIVEN a server holding back part of its answer, a byte every 0.5 s (fake time)
    connections = dripping(*SLOW[case])

    # WHEN a request with a 1.5 s deadline reads it
    with pytest.raises(NoResponseError) as raised:
        send("GET", URL + "health", {}, 1.5, clock=fake.clock)

    # THEN it gives up exactly at its deadline on its clock, not a read later, every wait
    # bounded by the time left, and says so
    assert "within 1.5 s" in str(raised.value)
    assert fake.now == pytest.approx(1.5)
    (connection,) = connections
    assert connection.request.startswith(b"GET /health HTTP/1.1\r\n")
    waits = [t for t in connection.timeouts if t is not None]
    assert waits
    assert all(0 < t <= 1.5 for t in waits)
    assert connection.closed


def test_each_read_waits_only_the_time_left(fake: FakeTime, dripping: Any) -> None:
    # GIVEN a body dripping a byte every 0.4 s: WHEN a 1.5 s request reads it
    connections = dripping(*SLOW["body"], interval=0.4)
    with pytest.raises(NoResponseError):
        send("GET", URL, {}, 1.5, clock=fake.clock)

    # THEN each read's timeout is what is left of the 1.5 s (the first body read starts at
    # 0, then one every 0.4 s), so the 4th byte, due at 1.6 s, is waited for 0.3 s only
    timeouts = connections[0].timeouts
    assert timeouts[-4:] == pytest.approx([1.5, 1.1, 0.7, 0.3])
    assert connections[0].sent == 3
    assert fake.now == pytest.approx(1.5)


def test_a_slow_body_is_reported_as_an_unfinished_answer(fake: FakeTime, dripping: Any) -> None:
    dripping(*SLOW["body"])
    with pytest.raises(NoResponseError) as raised:
        send("GET", URL, {}, 1.0, clock=fake.clock)

    assert str(raised.value) == ("no complete response within 1.0 s: status 200, body unfinished")
    # a byte every 0.5 s: the third read finds no time left, and the cause says so
    assert str(raised.value.__cause__) == "deadline of 1.0 s reached"


def test_the_whole_check_ends_by_its_deadline(fake: FakeTime, dripping: Any) -> None:
    # GIVEN a server sending its headers one byte every 0.5 s, and a 2 s deadline
    dripping(*SLOW["headers"])
    check = SmokeCheckProvider(
        clock=fake.clock, sleep=fake.sleep, rand=lambda: HALF, now=lambda: NOW
    )

    # WHEN the provider creates the check
    with pytest.raises(SmokeCheckFailedError) as raised:
        check.create(props(URL, deadline_seconds=2.0))

    # THEN it fails at its deadline on its clock, naming the request's deadline
    assert fake.now == pytest.approx(2.0)
    assert fake.slept == []  # the one attempt used the whole deadline: no retry to wait for
    assert "expected status 200, got no response within 2.0 s" in str(raised.value)


def test_the_opener_alone_uses_the_requests_timeout_as_its_deadline(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTime, dripping: Any
) -> None:
    # A request not made by send() (no deadline of its own) still gets one: its timeout,
    # on the monotonic clock (here the fake one).
    monkeypatch.setattr(probe, "time", types.SimpleNamespace(monotonic=fake.clock))
    dripping(*SLOW["body"])
    with smoke.new_opener(URL).open(URL, timeout=1.0) as answer, pytest.raises(TimeoutError):
        answer.read()

    assert fake.now == pytest.approx(1.0)


class JumpingClock:
    """A clock that moves ``step`` seconds each time it is read: deadlines pass after a
    known number of socket operations, whatever real time does."""

    def __init__(self, step: float = 1.0, start: float = 0.0) -> None:
        self.now = start
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def test_the_deadline_is_checked_between_reads_on_a_real_socket() -> None:
    # GIVEN a real server streaming a body fast (a byte every 5 ms, far within any timeout)
    fast, drip = SLOW["never closing"]
    clock = JumpingClock()
    # WHEN a request with a 5 s deadline runs on a clock that moves 1 s per reading
    with (
        dripping_server(fast, drip, interval=0.005) as url,
        pytest.raises(NoResponseError) as raised,
    ):
        send("GET", url, {}, 5.0, clock=clock)

    # THEN it stops at the sixth reading (the deadline's own, then one per socket
    # operation), not when the server stops
    assert str(raised.value) == "no complete response within 5.0 s: status 200, body unfinished"
    assert clock.reads == 6


def test_name_resolution_is_bounded_by_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a resolver that hangs (getaddrinfo has no timeout of its own)
    release = threading.Event()
    real = socket.getaddrinfo
    lookups: list[tuple[str, bool]] = []

    def hanging(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "api.tap-smoke.test":
            thread = threading.current_thread()
            lookups.append((thread.name, thread.daemon))
            release.wait(DRIP_LIMIT_S)  # a safety limit: far past the time left below
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    # WHEN a 1.0 s request looks the name up with 0.05 s of it left (the clock's second
    # reading), THEN it gives up when that time is over, not when the lookup ends
    clock = JumpingClock(step=0.95)
    try:
        with pytest.raises(NoResponseError) as raised:
            send("GET", "http://api.tap-smoke.test/health", {}, 1.0, clock=clock)
    finally:
        release.set()

    assert str(raised.value) == "no response within 1.0 s"
    assert clock.reads == 2
    # the cause names what timed out; the lookup ran on its own daemon thread, named, and
    # left to finish by itself (a daemon does not hold the deploy's process open)
    cause = raised.value.__cause__
    assert isinstance(cause, OSError)
    assert "name api.tap-smoke.test not resolved within 1.0 s" in str(cause)
    assert lookups == [("tap-smoke-resolve", True)]


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
    # OpenSSL checks the validity period against the machine's clock: a window around it,
    # so the certificate is valid whatever today's date is.
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
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName(TUNNELLED)]
            ),
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
def tls_server(
    tls_files: tuple[str, str], fast: bytes, drip: bytes, interval: float = DRIP_INTERVAL_S
) -> Iterator[str]:
    """dripping_server over TLS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    with dripping_server(fast, drip, interval, tls=context) as url:
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
    # GIVEN a real TLS server streaming a body a byte every 5 ms, and a 3 s request on a
    # clock that moves 0.5 s per reading
    fast, drip = SLOW["body"]
    clock = JumpingClock(step=0.5)
    with (
        tls_server(tls_files, fast, drip, interval=0.005) as url,
        pytest.raises(NoResponseError) as raised,
    ):
        send("GET", url, {}, 3.0, _trusting_opener(tls_files[0]), clock=clock)

    # THEN the TLS reads stop at the deadline (the 7th reading: the deadline's own, the
    # connect, the handshake, the request, then one per read), not when the body ends
    assert str(raised.value) == "no complete response within 3.0 s: status 200, body unfinished"
    assert clock.reads == 7


TUNNELLED = "api.tap-smoke.test"  # a name only the proxy below knows how to reach


@contextmanager
def connect_proxy(target: str) -> Iterator[tuple[str, list[bytes]]]:
    """An HTTP proxy on 127.0.0.1 that answers CONNECT by tunnelling to ``target``
    (host:port) whatever host was asked for; yields its URL and the CONNECT lines seen."""
    seen: list[bytes] = []

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def serve(client: socket.socket) -> None:
        client.settimeout(DRIP_LIMIT_S)  # a safety limit
        head = b""
        while b"\r\n\r\n" not in head and (chunk := client.recv(4096)):
            head += chunk
        seen.append(head.split(b"\r\n")[0])
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=DRIP_LIMIT_S)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    with accepting(serve, threading.Event()) as port:
        yield f"http://127.0.0.1:{port}", seen


def test_https_through_a_proxy_tunnel_checks_the_certificate_of_the_host_asked_for(
    tls_files: tuple[str, str],
) -> None:
    # GIVEN an HTTPS API reachable only through a CONNECT proxy, its certificate for the
    # API's name (not the proxy's)
    body = b'{"status":"healthy"}'
    answer = HEAD + f"content-length: {len(body)}\r\n\r\n".encode() + body
    with (
        tls_server(tls_files, answer, b"") as url,
        connect_proxy(url.removeprefix("https://").strip("/")) as (proxy_url, seen),
    ):
        context = ssl.create_default_context(cafile=tls_files[0])
        opener = urllib.request.build_opener(
            probe._NoRedirects,
            probe._DeadlineHTTPHandler,
            probe._DeadlineHTTPSHandler(context=context),
            urllib.request.ProxyHandler({"https": proxy_url}),
        )
        # WHEN the check asks for it by name
        response = send("GET", f"https://{TUNNELLED}/health", {}, 5.0, opener)

    # THEN the request went through the tunnel and TLS verified the API's name
    # (HTTP/1.0 or 1.1 by Python version)
    assert [line.rsplit(b"/", 1)[0] for line in seen] == [f"CONNECT {TUNNELLED}:443 HTTP".encode()]
    assert (response.status, response.body) == (200, body)


def test_a_stalled_tls_handshake_ends_by_the_deadline(tls_files: tuple[str, str]) -> None:
    # GIVEN a server answering the ClientHello with the start of a 16 KB TLS record and
    # then nothing: a handshake that never completes
    record = b"\x16\x03\x03\x40\x00" + b"\x02" * 64
    clock = JumpingClock(step=0.5)
    with dripping_server(record, b"") as url:
        https = url.replace("http://", "https://")
        # WHEN a 1.5 s request (0.5 s of it left at the handshake, the 3rd reading) starts
        with pytest.raises(NoResponseError) as raised:
            send("GET", https, {}, 1.5, _trusting_opener(tls_files[0]), clock=clock)

    # THEN the handshake is given up after the time left
    assert str(raised.value) == "no response within 1.5 s"
    assert clock.reads == 3
