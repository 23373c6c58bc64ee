"""Benchmark: the function's cold import, warm latency and log bytes, side by side with a
minimal stdlib handler (one JSON log line + one EMF line per request).

A script, not a test (pytest does not collect it: no test_ prefix, no timed assertions):

    python tests/benchmarks/bench_function.py [--python PATH ...] [--rounds N]

Cold import: the archive the stack deploys (tap.compute.code_archive + zip_bytes) and the
baseline, each extracted into an empty folder and imported as ``app.handler`` in a fresh
``python -I -S -B`` (no site-packages, no .pyc written or read: Lambda's deployment folder
is read-only, so a cold start compiles the source) after importing what the Lambda Python
runtime has already imported. Runs alternate between the two; min and median are reported.

Warm: the same process calls both handlers with stdout sent to /dev/null and Lambda's JSON
log formatter emulated on the root logger; best-of-repeats per call.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import timeit
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tap import compute  # noqa: E402
from tests.function.conformance import http_event  # noqa: E402

RUNTIME_PRELOADED = "importlib, json, logging, os, sys, time, traceback"

# The minimal handler the function is measured against: what a hand-written stdlib
# handler does per request, written as cheaply as possible (print, no logging).
BASELINE_SOURCE = """
import json
import time


def handler(event, context):
    start = time.perf_counter()
    rc = event["requestContext"]
    body = json.dumps({"status": "healthy", "timestamp": time.time()})
    print(json.dumps({"level": "INFO", "message": "request", "method": rc["http"]["method"],
                      "path": event["rawPath"], "status": 200, "requestId": rc["requestId"]}))
    print(json.dumps({"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [
        {"Namespace": "Tap", "Dimensions": [["Environment"]],
         "Metrics": [{"Name": "HandlerLatency", "Unit": "Milliseconds"}]}]},
        "Environment": "Production",
        "HandlerLatency": (time.perf_counter() - start) * 1000}))
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": body}
"""

IMPORT_PROBE = f"""
import sys
sys.path.insert(0, sys.argv[1])
import {RUNTIME_PRELOADED}
start = time.perf_counter()
import app.handler
print((time.perf_counter() - start) * 1000)
"""


def extract_ours(folder: Path) -> None:
    data = compute.zip_bytes(compute.code_archive())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(folder)


def write_baseline(folder: Path) -> None:
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text("")
    (folder / "app" / "handler.py").write_text(BASELINE_SOURCE)


def import_ms(python: str, folder: Path) -> float:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [python, "-I", "-S", "-B", "-c", IMPORT_PROBE, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    return float(out.stdout.strip())


def bench_import(python: str, rounds: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        ours, base = Path(tmp, "ours"), Path(tmp, "base")
        extract_ours(ours)
        write_baseline(base)
        samples: dict[str, list[float]] = {"tap": [], "baseline": []}
        for _ in range(rounds):  # alternate, so load changes hit both alike
            samples["tap"].append(import_ms(python, ours))
            samples["baseline"].append(import_ms(python, base))
            assert not list(ours.rglob("*.pyc")), "a .pyc was written: the run was not cold"
    return {name: {"min": min(s), "median": statistics.median(s)} for name, s in samples.items()}


class LambdaJsonFormatter(logging.Formatter):
    """Emulates the Lambda Python runtime's JSON log format (awslambdaric
    lambda_runtime_log_utils.JsonFormatter): timestamp, level, message, logger, requestId,
    then the record's extra keys; json.dumps with default separators."""

    RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        result = {
            "timestamp": "2026-11-26T07:00:00.000Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": "8f5c5e6e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
        }
        result.update((k, v) for k, v in vars(record).items() if k not in self.RESERVED)
        return json.dumps(result, default=str, ensure_ascii=False)


def events() -> dict[str, dict[str, object]]:
    get = http_event("GET", "/health")
    body = json.dumps({"pad": "x" * (1024 - len(json.dumps({"pad": ""})))})
    post = http_event("POST", "/items", headers={"content-type": "application/json"}, body=body)
    assert len(post["body"]) == 1024
    return {"GET /health": get, "POST 1KB JSON": post}


def load_baseline() -> object:
    namespace: dict[str, object] = {}
    exec(compile(BASELINE_SOURCE, "baseline_handler", "exec"), namespace)
    return namespace["handler"]


class Unbuffered:
    """Lambda's stdout: the Python runtime replaces sys.stdout with a wrapper that flushes
    after every write (awslambdaric bootstrap.run), so each print is a write to the fd."""

    def __init__(self, stream: io.TextIOBase) -> None:
        self.stream = stream

    def write(self, data: str) -> int:
        written = self.stream.write(data)
        self.stream.flush()
        return written

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def bench_warm(number: int, repeat: int) -> dict[str, dict[str, float]]:
    from tap.function import handler as tap_handler

    handlers = {"tap": tap_handler.handler, "baseline": load_baseline()}
    devnull = open(os.devnull, "w")  # noqa: SIM115
    root = logging.getLogger()
    log_handler = logging.StreamHandler(devnull)
    log_handler.setFormatter(LambdaJsonFormatter())
    root.addHandler(log_handler)
    root.setLevel(logging.INFO)
    saved, sys.stdout = sys.stdout, Unbuffered(devnull)  # type: ignore[assignment]
    results: dict[str, dict[str, float]] = {}
    try:
        for label, event in events().items():
            for fn in handlers.values():
                fn(event, None)  # warm
            samples: dict[str, list[float]] = {name: [] for name in handlers}
            for _ in range(repeat):  # interleaved, so load changes hit both alike
                for name, fn in handlers.items():
                    call = lambda fn=fn, event=event: fn(event, None)  # noqa: E731
                    seconds = timeit.timeit(call, number=number)
                    samples[name].append(seconds / number * 1e6)
            results[label] = {name: min(times) for name, times in samples.items()}
    finally:
        sys.stdout = saved
        root.removeHandler(log_handler)
        devnull.close()
    return results


def log_bytes() -> dict[str, dict[str, int]]:
    """Bytes written per request: stdout lines plus logging records as Lambda formats them."""
    from tap.function import handler as tap_handler

    out: dict[str, dict[str, int]] = {}
    for label, event in events().items():
        out[label] = {}
        for name, fn in {"tap": tap_handler.handler, "baseline": load_baseline()}.items():
            buffer = io.StringIO()
            root = logging.getLogger()
            log_handler = logging.StreamHandler(buffer)
            log_handler.setFormatter(LambdaJsonFormatter())
            root.addHandler(log_handler)
            root.setLevel(logging.INFO)
            saved, sys.stdout = sys.stdout, buffer
            try:
                response = fn(event, None)
            finally:
                sys.stdout = saved
                root.removeHandler(log_handler)
            assert response["statusCode"] == 200, response  # type: ignore[index]
            out[label][name] = len(buffer.getvalue().encode())
            if name == "tap":
                print(f"  sample log output ({label}): {buffer.getvalue().strip()}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="interpreter(s) for the import test")
    parser.add_argument("--rounds", type=int, default=25, help="cold imports per handler")
    parser.add_argument("--number", type=int, default=1000, help="calls per warm repeat")
    parser.add_argument("--repeat", type=int, default=15, help="warm repeats (best is kept)")
    args = parser.parse_args()

    print("cold import of app.handler over the runtime's preloaded modules, no .pyc (ms)")
    for python in args.python or [sys.executable]:
        result = bench_import(python, args.rounds)
        tap, base = result["tap"], result["baseline"]
        print(
            f"  {python}: tap min {tap['min']:.2f} median {tap['median']:.2f}; "
            f"baseline min {base['min']:.2f} median {base['median']:.2f}; "
            f"overhead over baseline: min {tap['min'] - base['min']:.2f}, "
            f"median {tap['median'] - base['median']:.2f} (target <= 5 ms)"
        )

    print("warm time per invocation (µs, best of repeats)")
    for label, best in bench_warm(args.number, args.repeat).items():
        ratio = best["tap"] / best["baseline"]
        target = " (target <= 1.5x)" if label.startswith("GET") else ""
        print(
            f"  {label}: tap {best['tap']:.1f}, baseline {best['baseline']:.1f}, "
            f"ratio {ratio:.2f}x{target}"
        )

    print("log bytes per successful request (stdout + logging as Lambda formats it)")
    for label, sizes in log_bytes().items():
        print(f"  {label}: tap {sizes['tap']}, baseline {sizes['baseline']} (target <= 400)")


if __name__ == "__main__":
    main()
