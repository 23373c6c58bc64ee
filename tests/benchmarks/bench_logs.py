"""Benchmark: what writing the logs costs the requests (tap.local.logs.cloudwatch, the console).

The real stack is deployed in this process once per mode, and ``GET /health`` is loaded
over keep-alive connections against each. Modes: ``none`` (no log consumer: the baseline),
``null-sink`` (lines handed to a sink that does nothing), ``cloudwatch`` (every function
line and access line to moto's CloudWatch Logs), ``console`` (one line per request, to
/dev/null), ``cloudwatch+console`` (what ``tap local`` does), ``every-line-console`` (every
line printed and flushed on the thread that produced it: the console without its one line per
request). Ratios against the
first mode are the figures: req/s, and process CPU per request (steadier on a busy machine);
each run is repeated and the median kept.

    python tests/benchmarks/bench_logs.py [--requests 2000] [--concurrency 8] [--runs 3]
        [--order none,cloudwatch,cloudwatch+console]

A script, not a test: no assertion on timing (numbers depend on the machine).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO_ROOT))

from bench_emulator import run_load  # noqa: E402

# The stage's own throttling out of the way: every request must reach the function.
CONFIG = {"smokeCheck": "false", "throttlingBurstLimit": "5000", "throttlingRateLimit": "10000"}


class _NullConsole:
    def __call__(self, *args: object) -> None:
        pass

    def access_line(self, line: str) -> None:
        pass

    def close(self) -> None:
        pass


class _EveryLineConsole:
    """A console without one line per request: each line printed and flushed, in the
    thread that produced it."""

    def __init__(self, out: Any) -> None:
        self.out = out

    def __call__(self, function: str, request_id: object, line: str, *rest: object) -> None:
        self.out.write(f"[{function}] {line}\n")
        self.out.flush()

    def access_line(self, line: str) -> None:
        self.out.write(f"[access-log] {line}\n")
        self.out.flush()

    def close(self) -> None:
        pass


def measure(
    mode: str, requests: int, concurrency: int, runs: int
) -> tuple[float, float, float, int]:
    """(median req/s, median p50 ms, median CPU ms per request, lines written to moto)
    for one way of logging."""
    from tap.local.deploy.deployment import deploy
    from tap.local.logs.console import ConsoleLog

    console: Any = None
    if mode == "null-sink":  # lines produced and handed out, nobody doing anything
        console = _NullConsole()
    if mode == "every-line-console":  # every line, on the request's thread
        sink = open(os.devnull, "w")  # noqa: SIM115 - closed below
        console = _EveryLineConsole(sink)
    if mode in ("console", "cloudwatch+console"):
        sink = open(os.devnull, "w")  # noqa: SIM115 - closed below
        console = ConsoleLog(lambda text: print(text, file=sink))
        console.release()
    deployment = deploy(
        port=0,
        config=CONFIG,
        account_id=f"{secrets.randbelow(10**12):012d}",
        cloudwatch_logs=mode.startswith("cloudwatch"),
        log_sink=console,
        on_access_log=console.access_line if console is not None else None,
    )
    try:
        port = deployment.emulator.port
        run_load(port, concurrency * 20, concurrency)  # warm: instances started
        rates, p50s, cpu = [], [], []
        for _ in range(runs):
            cpu_before = time.process_time()
            rps, latencies = run_load(port, requests, concurrency)
            if deployment.cloudwatch is not None:
                deployment.cloudwatch.flush(60)  # the writer's work counts too
            if isinstance(console, ConsoleLog):
                console.flush(60)  # and the console's
            # Process CPU (this process: emulator, writer, console, moto and the load
            # generator, which is the same in every mode) per request: less disturbed
            # by other load on the machine than req/s.
            cpu.append((time.process_time() - cpu_before) * 1000 / requests)
            rates.append(rps)
            p50s.append(statistics.median(latencies))
        written = 0
        if deployment.cloudwatch is not None:
            from tap.local.logs.targets import fetch

            group = str(deployment.outputs["cloudwatch_log_group"])
            written = len(fetch(deployment.client("logs"), group, 0))
        return statistics.median(rates), statistics.median(p50s), statistics.median(cpu), written
    finally:
        deployment.stop()
        if console is not None:
            console.close()
        if mode in ("console", "cloudwatch+console", "every-line-console"):
            sink.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--order",
        default="none,cloudwatch,cloudwatch+console",
        help="the modes, in the order they run (the first listed is the baseline)",
    )
    args = parser.parse_args(argv)
    modes = args.order.split(",")

    results = {mode: measure(mode, args.requests, args.concurrency, args.runs) for mode in modes}
    base_rps, base_cpu = results[modes[0]][0], results[modes[0]][2]
    print(
        f"GET /health, {args.requests} requests over {args.concurrency} keep-alive "
        f"connections, median of {args.runs}:"
    )
    for mode, (rps, p50, cpu, written) in results.items():
        extra = f", {written} function lines in moto" if written else ""
        print(
            f"  {mode:<20} {rps:6.0f} req/s (ratio {rps / base_rps:.2f})  p50 {p50:6.2f} ms  "
            f"CPU {cpu:.2f} ms/request (ratio {cpu / base_cpu:.2f}){extra}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
