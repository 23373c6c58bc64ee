"""Benchmark: local mode's start, hot reload and stop, and the emulator against a bare server.

1. Start: from starting ``python -m tap local --port 0`` (a fresh interpreter, as a user
   runs it) to the first 200 from ``GET /health``; several runs, median and range.
2. Stop: from SIGINT (Ctrl-C) to the process's exit, for each of those runs.
3. Save to new code: ``tap local`` (its watcher on, as by default) serving a temporary copy
   of the project; from writing a changed ``tap/function/handler.py`` (written aside and
   renamed over, as editors save) to the first ``GET /health`` answer that carries the
   new code (a header the new code adds); several saves, median and range. Baseline, side
   by side: what a user without hot reload pays, Ctrl-C and start again to the first 200
   (each run's stop time plus the next run's start time, both measured in 1 and 2).
4. Throughput, same run: ``GET /health`` on the emulator serving the real deployed stack
   (deployed in this process) against a bare ``ThreadingHTTPServer`` answering the same
   bytes, with bench_emulator.py's load generator; the ratio is the figure that matters.

    python tests/benchmarks/bench_local.py [--deploys 5] [--saves 10] [--requests 2000]
        [--concurrency 8]

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
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
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


def _env(pycache: str | None, pythonpath: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = pycache
    env["PYTHONPATH"] = str(pythonpath)
    return env


def start_cli(
    pycache: str | None, project: Path = REPO_ROOT
) -> tuple[subprocess.Popen[str], str, float]:
    """Start ``tap local`` in ``project``: (the process, its URL, seconds from the command's
    start to the first 200 from GET /health)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tap", "local", "--port", "0", "-c", "smokeCheck=false"],
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(pycache, project),
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
        # The rest of its output is read (and dropped) aside, so a full pipe never blocks it.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        while url is not None and time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
                    if response.status == 200:
                        return process, url, time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError):
                time.sleep(POLL_S)
        raise RuntimeError("no 200 from /health before the timeout")
    except BaseException:
        process.kill()
        process.wait(30)
        raise


def stop_cli(process: subprocess.Popen[str]) -> float:
    """Seconds from SIGINT (Ctrl-C) to the process's exit."""
    started = time.perf_counter()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STARTUP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)
        raise RuntimeError("tap local did not stop on SIGINT") from None
    return time.perf_counter() - started


def time_cli_deploy(pycache: str | None) -> float:
    """Seconds from starting the command to the first 200 from GET /health."""
    process, _, seconds = start_cli(pycache)
    stop_cli(process)
    return seconds


# Appended to the function's handler module: the new code answers with a header naming
# the save, so the client can tell which code served it.
_NEW_CODE = """

_bench_original_handler = handler


def handler(event, context):
    result = _bench_original_handler(event, context)
    result.setdefault("headers", {{}})["x-bench-save"] = "{number}"
    return result
"""


def copy_project(into: Path) -> Path:
    """A copy of the project (what ``tap local`` reads), so saves never touch the repo."""
    project = into / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO_ROOT / name, project / name)
    shutil.copytree(
        REPO_ROOT / "tap", project / "tap", ignore=shutil.ignore_patterns("__pycache__")
    )
    return project


def _save_header(port: int) -> str | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET /health answered {response.status} after a save")
        return response.getheader("x-bench-save")
    finally:
        connection.close()


def time_saves(pycache: str, saves: int) -> list[float]:
    """Seconds from each save of the function to the first answer from its new code."""
    with tempfile.TemporaryDirectory(prefix="tap-bench-project-") as folder:
        project = copy_project(Path(folder))
        handler_file = project / "tap" / "function" / "handler.py"
        original = handler_file.read_text()
        process, url, _ = start_cli(pycache, project)
        port = int(url.rsplit(":", 1)[1])
        times: list[float] = []
        try:
            for number in range(1, saves + 1):
                staged = handler_file.with_suffix(".tmp")
                staged.write_text(original + _NEW_CODE.format(number=number))
                started = time.perf_counter()
                staged.replace(handler_file)
                deadline = started + STARTUP_TIMEOUT_S
                while _save_header(port) != str(number):
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"save {number} never served")
                    time.sleep(POLL_S / 4)
                times.append(time.perf_counter() - started)
        finally:
            stop_cli(process)
    return times


def summary(times: Sequence[float]) -> str:
    return (
        f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deploys", type=int, default=5)
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tap-bench-pycache-") as pycache:
        time_cli_deploy(pycache)  # writes the bytecode cache, as pip install would
        starts: list[float] = []
        stops: list[float] = []
        for _ in range(args.deploys):
            process, _, seconds = start_cli(pycache)
            starts.append(seconds)
            stops.append(stop_cli(process))
        cold = time_cli_deploy(None)
        saves = time_saves(pycache, args.saves)
    # Restarting by hand: Ctrl-C one run, then start the next and wait for its first 200.
    restarts = [stop + start for stop, start in zip(stops, starts[1:], strict=False)]
    print(
        f"start (command start -> first 200 from /health), {args.deploys} runs: {summary(starts)}"
    )
    print(f"  one run compiling every module (no bytecode at all): {cold:.2f} s")
    print(f"stop (SIGINT -> exit, idle), {args.deploys} runs: {summary(stops)}")
    print(
        f"save -> first answer from the new code (hot reload), {args.saves} saves: {summary(saves)}"
    )
    if restarts:
        print(
            f"  baseline, Ctrl-C + start again -> first 200, {len(restarts)} restarts: "
            f"{summary(restarts)}"
        )
        print(
            "  ratio hot reload/restart (medians): "
            f"{statistics.median(saves) / statistics.median(restarts):.2f}"
        )

    from tap.local.deploy.deployment import deploy

    # The access-log lines of answers other than 200: should the load fail, they say why
    # (the integrationError), which the client's status alone does not.
    failed: list[str] = []

    def on_access(line: str) -> None:
        if '"status":"200"' not in line:
            failed.append(line)

    started = time.perf_counter()
    deployment = deploy(port=0, config=UNTHROTTLED, on_access_log=on_access)
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
            try:
                run_load(port, args.concurrency * 20, args.concurrency)  # warm both
                run_load(baseline.server_address[1], args.concurrency * 20, args.concurrency)
                emulator_rps, emulator_ms = run_load(port, args.requests, args.concurrency)
            except RuntimeError:
                print("access log of the answers other than 200:", *failed, sep="\n  ")
                raise
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
