"""Benchmark: local mode's deploy time, and the deployed emulator against a bare server.

1. Deploy time: from starting ``python -m tap local --port 0`` (a fresh interpreter, as a
   user runs it) to the first 200 from ``GET /health``; several runs, median and range.
2. Throughput, same run: ``GET /health`` on the emulator serving the real deployed stack
   (deployed in this process) against a bare ``ThreadingHTTPServer`` answering the same
   bytes, with bench_emulator.py's load generator; the ratio is the figure that matters.

    python tests/benchmarks/bench_local.py [--deploys 5] [--requests 2000] [--concurrency 8]

Bytecode: ``pip install`` compiles every module to ``.pyc``, so a user's ``tap local``
imports from bytecode. A virtualenv made by ``uv`` has none, and a ``PYTHONDONTWRITEBYTECODE``
environment never writes any, so every start would compile ~600 modules again. The timed
runs therefore use a bytecode cache of their own (``PYTHONPYCACHEPREFIX``, warmed by one
untimed run), and the figure without it is printed too.

The throughput run raises the stage's throttling limits: the default stack allows 100
requests per second (tap:throttlingRateLimit), and the emulator enforces it, so at the
default limits the figure would measure the throttle, not the emulator.

A script, not a test: no assertion on timing (numbers depend on the machine).
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO_ROOT))

from bench_emulator import baseline_server, run_load  # noqa: E402

STARTUP_TIMEOUT_S = 120.0
POLL_S = 0.02
UNTHROTTLED = {
    "smokeCheck": "false",
    "throttlingBurstLimit": "5000",
    "throttlingRateLimit": "10000",
}


def time_cli_deploy(pycache: str | None) -> float:
    """Seconds from starting the command to the first 200 from GET /health."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = pycache
    env["PYTHONPATH"] = str(REPO_ROOT)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tap", "local", "--port", "0", "-c", "smokeCheck=false"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = None
        deadline = started + STARTUP_TIMEOUT_S
        while url is None and time.perf_counter() < deadline:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("tap local exited before serving")
            if line.startswith("Serving on "):
                url = line.split()[2]
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError):
                time.sleep(POLL_S)
        raise RuntimeError("no 200 from /health before the timeout")
    finally:
        process.terminate()
        process.communicate(timeout=30)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deploys", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tap-bench-pycache-") as pycache:
        time_cli_deploy(pycache)  # writes the bytecode cache, as pip install would
        times = [time_cli_deploy(pycache) for _ in range(args.deploys)]
        cold = time_cli_deploy(None)
    print(
        f"start (command start -> first 200 from /health), {args.deploys} runs: "
        f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
        f"max {max(times):.2f} s"
    )
    print(f"  one run compiling every module (no bytecode at all): {cold:.2f} s")

    from tap.local.deploy.deployment import deploy

    started = time.perf_counter()
    deployment = deploy(port=0, config=UNTHROTTLED)
    print(
        f"in-process deploy (interpreter warm, imports done): {time.perf_counter() - started:.2f} s"
    )
    try:
        port = deployment.emulator.port
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/health")
        answer = connection.getresponse()
        body = answer.read()
        headers = [
            (k, v)
            for k, v in answer.getheaders()
            if k.lower() not in ("content-length", "connection", "date", "server")
        ]
        connection.close()
        baseline = baseline_server(answer.status, headers, body)
        try:
            run_load(port, args.concurrency * 20, args.concurrency)  # warm both
            run_load(baseline.server_address[1], args.concurrency * 20, args.concurrency)
            emulator_rps, emulator_ms = run_load(port, args.requests, args.concurrency)
            baseline_rps, baseline_ms = run_load(
                baseline.server_address[1], args.requests, args.concurrency
            )
        finally:
            baseline.shutdown()
            baseline.server_close()
    finally:
        deployment.stop()
    print(f"GET /health, {args.requests} requests over {args.concurrency} keep-alive connections:")
    print(
        f"  emulator (deployed stack): {emulator_rps:8.0f} req/s, "
        f"p50 {statistics.median(emulator_ms):.2f} ms"
    )
    print(
        f"  bare ThreadingHTTPServer:  {baseline_rps:8.0f} req/s, "
        f"p50 {statistics.median(baseline_ms):.2f} ms"
    )
    print(f"  ratio emulator/baseline:   {emulator_rps / baseline_rps:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
