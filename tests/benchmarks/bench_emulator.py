"""Benchmark: the local HTTP API emulator against a bare ThreadingHTTPServer.

Both serve ``GET /health`` with the same bytes, in the same run, to the same keep-alive
clients; the figures that matter are the ratio and the emulator's per-request overhead
(routing, the 2.0 event, the round trip to the Lambda worker process, result translation,
CORS, the access log). Run:

    python tests/benchmarks/bench_emulator.py [--requests 4000] [--concurrency 8]

A script, not a test: no assertion on timing (numbers depend on the machine).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tap.compute import HANDLER, code_archive, zip_bytes
from tap.function.routes import ROUTE_KEYS
from tap.local.gateway.emulator import Emulator
from tap.local.specs import CorsSpec
from tests.local.builders import build_api_spec, build_function_spec

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
    '"routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"integrationLatency":"$context.integrationLatency",'
    '"integrationError":"$context.integrationErrorMessage"}'
)


def run_load(port: int, requests: int, concurrency: int) -> tuple[float, list[float]]:
    """Send ``requests`` GET /health over ``concurrency`` keep-alive connections.

    Returns (requests per second, per-request latencies in ms).
    """
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = requests // concurrency

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        try:
            for _ in range(per_client):
                started = time.perf_counter()
                connection.request("GET", "/health")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET /health answered {response.status}")
                mine.append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result(timeout=300)
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def baseline_server(
    status: int, headers: list[tuple[str, str]], body: bytes
) -> ThreadingHTTPServer:
    """A bare stdlib server answering every GET with the given response, written at once.

    One write per response, as the emulator does: written in pieces, Nagle's algorithm
    and delayed ACKs would add 40 ms per request and flatter the emulator.
    """
    head = [f"HTTP/1.1 {status} OK"]
    head += [f"{name}: {value}" for name, value in headers]
    head += [f"content-length: {len(body)}", "connection: keep-alive"]
    response = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.wfile.write(response)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each")
    options = parser.parse_args(argv)

    function = build_function_spec(
        "tap-bench",
        zip_bytes(code_archive()),
        HANDLER,
        environment={"ENVIRONMENT": "Production", "METRICS_NAMESPACE": "Tap"},
        timeout_s=29,
        memory_mb=512,
        application_log_level="WARN",  # the access log and function log sinks still run
    )
    api = build_api_spec(
        {key: function.name for key in ROUTE_KEYS},
        api_id="bench",
        cors=CorsSpec(("*",), ("GET", "POST"), ("content-type",), ("x-request-id",), 300, False),
        access_log_format=ACCESS_LOG_FORMAT,
    )
    access_lines = 0
    function_lines = 0

    def on_access(_: str) -> None:
        nonlocal access_lines
        access_lines += 1

    def on_function(_: str, __: str) -> None:
        nonlocal function_lines
        function_lines += 1

    with Emulator(
        api, {function.name: function}, on_access_log=on_access, on_function_log=on_function
    ) as emulator:
        # The same bytes for both: the baseline replays the emulator's own answer.
        connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
        connection.request("GET", "/health")
        first = connection.getresponse()
        body = first.read()
        connection.close()
        headers = [
            (name, value)
            for name, value in first.getheaders()
            if name.lower() not in ("content-length", "connection")
        ]
        baseline = baseline_server(first.status, headers, body)
        try:
            run_load(emulator.port, 200, options.concurrency)  # warm both up
            run_load(baseline.server_address[1], 200, options.concurrency)
            results: dict[str, list[float]] = {"emulator": [], "baseline": []}
            latencies: dict[str, list[float]] = {"emulator": [], "baseline": []}
            for _ in range(options.rounds):
                for name, port in (
                    ("baseline", baseline.server_address[1]),
                    ("emulator", emulator.port),
                ):
                    rate, lat = run_load(port, options.requests, options.concurrency)
                    results[name].append(rate)
                    latencies[name].extend(lat)
        finally:
            baseline.shutdown()
            baseline.server_close()

    print(
        f"GET /health, {options.requests} requests x {options.rounds} rounds, "
        f"concurrency {options.concurrency}, Python {sys.version.split()[0]}"
    )
    print(f"response: {first.status}, {len(body)} bytes body")
    for name in ("baseline", "emulator"):
        lat = sorted(latencies[name])
        print(
            f"{name:>9}: {statistics.median(results[name]):8.0f} req/s (median of rounds)  "
            f"latency p50 {lat[len(lat) // 2]:.2f} ms  p99 {lat[int(len(lat) * 0.99)]:.2f} ms"
        )
    ratio = statistics.median(results["emulator"]) / statistics.median(results["baseline"])
    print(f"ratio emulator/baseline throughput: {ratio:.2f}")
    print(f"access-log lines: {access_lines}, function log lines: {function_lines}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
