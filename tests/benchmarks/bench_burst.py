"""Benchmark: bursts of new connections against the emulator, today's listen backlog
against socketserver's default of 5 (the baseline), in the same run.

Each of ``--threads`` clients makes ``--requests`` ``GET /health`` calls, every one on a
new connection (docs/http-api.md rule 43). Reported per server: errors (resets, refused or
timed-out connects), latency percentiles, the slowest request and how many took over 1 s
(a dropped SYN is retried after 1 s), and the ratios. Run:

    PYTHONPATH=. python tests/benchmarks/bench_burst.py [--threads 32] [--requests 50]

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
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tap.local.gateway import listener  # noqa: E402
from tap.local.gateway.emulator import Emulator  # noqa: E402
from tap.local.specs import ApiSpec, FunctionSpec  # noqa: E402
from tests.local.builders import build_api_spec, single_function  # noqa: E402

FUNCTION = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'


def _specs() -> tuple[ApiSpec, dict[str, FunctionSpec]]:
    function = single_function(FUNCTION)
    api = build_api_spec({"GET /health": "fn"}, api_id="burst")
    return api, {"fn": function}


def burst(port: int, threads: int, requests: int) -> tuple[list[float], list[str]]:
    """(latencies in ms, errors): every request on a new connection."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(requests):
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", "/health")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}")
            except (OSError, RuntimeError, http.client.HTTPException) as error:
                with lock:
                    errors.append(type(error).__name__)
                continue
            finally:
                connection.close()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(client) for _ in range(threads)]:
            future.result(timeout=600)
    return latencies, errors


def run(backlog: int | None, threads: int, requests: int) -> dict[str, float]:
    original = listener.listen_backlog
    if backlog is not None:
        listener.listen_backlog = lambda: backlog
    try:
        api, functions = _specs()
        with Emulator(api, functions) as emulator:
            latencies, errors = burst(emulator.port, threads, requests)
    finally:
        listener.listen_backlog = original
    ordered = sorted(latencies) or [0.0]
    return {
        "errors": len(errors),
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
        "over_1s": sum(1 for x in ordered if x > 1000),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--requests", type=int, default=50, help="per thread")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each")
    options = parser.parse_args(argv)
    total = options.threads * options.requests
    print(f"{options.threads} threads x {options.requests} new-connection requests = {total}")
    print(f"listen backlog now: {listener.listen_backlog()}; baseline: 5")
    rows: dict[str, list[dict[str, float]]] = {"baseline (backlog 5)": [], "emulator": []}
    for _ in range(options.rounds):
        rows["baseline (backlog 5)"].append(run(5, options.threads, options.requests))
        rows["emulator"].append(run(None, options.threads, options.requests))
    print(f"{'server':<22}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'>1 s':>6}")
    worst: dict[str, dict[str, float]] = {}
    for name, results in rows.items():
        for result in results:
            print(
                f"{name:<22}{result['errors']:>8.0f}{result['p50']:>9.1f}{result['p99']:>9.1f}"
                f"{result['max']:>9.1f}{result['over_1s']:>6.0f}"
            )
        worst[name] = {k: max(r[k] for r in results) for k in results[0]}
    base, now = worst["baseline (backlog 5)"], worst["emulator"]
    print(
        "worst of the rounds, emulator / baseline: "
        f"p99 {now['p99'] / max(base['p99'], 0.001):.2f}x, "
        f"max {now['max'] / max(base['max'], 0.001):.2f}x; "
        f"requests over 1 s {now['over_1s']:.0f} vs {base['over_1s']:.0f}, "
        f"errors {now['errors']:.0f} vs {base['errors']:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
