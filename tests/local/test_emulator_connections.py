"""Bursts of new connections and the cap on open ones (docs/http-api.md rule 43).

No timing assertion here (the machine is shared): a burst must end without a reset or any
other error; the latency figures are in tests/benchmarks/bench_burst.py.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait

import pytest

from tap.local.gateway import connection, listener
from tap.local.gateway.emulator import Emulator, EmulatorConfigError
from tap.local.specs import FunctionSpec
from tests.local.builders import build_api_spec, single_function

FUNCTION = r"""
def handler(event, context):
    return {"statusCode": 200, "body": "ok"}
"""
ACCESS_LOG_FORMAT = '{"status":"$context.status","error":"$context.error.message"}'


def _function() -> FunctionSpec:
    return single_function(FUNCTION)


API = build_api_spec({"GET /health": "fn"}, api_id="burst1", access_log_format=ACCESS_LOG_FORMAT)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(API, {"fn": _function()}) as running:
        yield running


def get(port: int, path: str = "/health") -> tuple[int, str | None, bytes]:
    """One request on a new connection: (status, connection header, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("connection"), response.read()
    finally:
        connection.close()


def test_a_burst_of_new_connections_is_served_without_a_reset(emulator: Emulator) -> None:
    # GIVEN 32 clients, each making 50 requests, every one on a new connection
    threads, per_thread = 32, 50
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(per_thread):
            try:
                status, _, _ = get(emulator.port)
            except OSError as error:  # a reset, a refused or timed-out connect
                with lock:
                    errors.append(error)
            else:
                with lock:
                    statuses.append(status)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(client) for _ in range(threads)]
        # A bound on the whole run, so a hang fails the test instead of the suite
        outcome = wait(futures, timeout=300)
        for future in outcome.done:
            future.result()  # anything but OSError (a malformed answer) fails here

    # THEN every request got a 200: no reset, no refusal, none lost
    assert not outcome.not_done
    assert errors == []
    assert statuses == [200] * threads * per_thread


def test_the_listen_backlog_holds_a_burst_while_no_connection_is_accepted() -> None:
    # GIVEN a bound, listening server that accepts nothing yet (as when every accept is
    # behind a burst): socketserver's backlog of 5 makes the 7th connect wait for a SYN
    # retry, and with nothing accepting, time out
    server = listener.Server(("127.0.0.1", 0), connection.Connection, 4)
    port = server.server_address[1]
    clients: list[socket.socket] = []
    try:
        # WHEN 100 clients connect
        for _ in range(100):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    finally:
        for sock in clients:
            sock.close()
        server.server_close()
    # THEN every handshake completed at once, queued in the backlog
    assert len(clients) == 100
    assert listener.listen_backlog() >= 128


def test_past_the_connection_cap_a_new_connection_gets_503_and_the_next_is_served() -> None:
    lines: list[dict[str, str]] = []
    with Emulator(
        API,
        {"fn": _function()},
        max_connections=2,
        on_access_log=lambda line: lines.append(json.loads(line)),
    ) as emulator:
        # GIVEN two open, idle connections: the cap
        idle = [socket.create_connection(("127.0.0.1", emulator.port), timeout=10) for _ in "ab"]
        try:
            # WHEN a third connects and asks
            status, connection, body = get(emulator.port)
            # THEN it gets a clear 503, and the connection is closed
            assert (status, connection) == (503, "close")
            assert json.loads(body) == {"message": "Service Unavailable"}
            assert lines == [{"status": "503", "error": "Service Unavailable"}]
            # AND the open connections are still served
            idle[0].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert idle[0].recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
        finally:
            for sock in idle:
                sock.close()
        # AND once they close, a new connection is served again (their threads notice
        # the close on their own: wait for that, bounded)
        deadline = time.monotonic() + 30
        status = 503
        while status == 503 and time.monotonic() < deadline:
            status = get(emulator.port)[0]
            if status == 503:
                time.sleep(0.05)
        assert status == 200


def test_max_connections_must_be_positive() -> None:
    with pytest.raises(EmulatorConfigError, match="max_connections is 0"):
        Emulator(max_connections=0)
