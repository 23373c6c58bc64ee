"""Benchmark: the function's work per request over a corpus of hostile JSON bodies (each
under the 1 MiB limit), against ``json.loads`` + ``json.dumps`` of the same body.

A script, not a test (pytest does not collect it: no test_ prefix, no timed assertions):

    python tests/benchmarks/bench_hostile_bodies.py [--repeat N]

For each body: the function's time per request (a POST through the whole handler, its
request line written to nowhere), the baseline's (``json.dumps(json.loads(body))``), and,
for reference, a decoder with a ``parse_float`` hook refusing overflow while it parses; best
of ``--repeat`` interleaved runs. Then the response: its status and the bytes Lambda would
count (the result serialised as JSON), as a multiple of the body.
The worst case of each column ends the report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tap.function.events import MAX_BODY_BYTES, MAX_RESPONSE_BYTES  # noqa: E402
from tap.function.handler import App  # noqa: E402
from tests.function.conformance import http_event  # noqa: E402


def _array(item: str, size: int = MAX_BODY_BYTES - 16) -> str:
    return "[" + ",".join([item] * (size // (len(item.encode()) + 1))) + "]"


def corpus() -> dict[str, str]:
    depth = 900  # below the recursion limit: parsed and echoed
    return {
        "250,000 x 0.1": _array("0.1"),
        "200,000 x 1e15": _array("1e15"),
        "1e15 as 1000000000000000.0 (9e15)": _array("9e15"),
        "small floats 1e-7": _array("1e-7"),
        "integers": _array("7"),
        "big integers (4,300 digits)": _array("9" * 4300),
        f"nesting {depth} deep": "[" * depth + "]" * depth,
        "nesting 100,000 deep (refused)": "[" * 100_000,
        "one string of \\u00e9 escapes": '"' + "\\u00e9" * 170_000 + '"',
        'one string of \\" escapes': '"' + '\\"' * 500_000 + '"',
        "surrogate pairs escaped": '"' + "\\ud83d\\ude00" * 85_000 + '"',
        "one lone surrogate at the end (refused)": '"' + "\\ud83d\\ude00" * 85_000 + '\\ud800"',
        "raw 2-byte characters (é)": '"' + "é" * 500_000 + '"',
        "raw 4-byte characters (emoji)": '"' + "\U0001f600" * 250_000 + '"',
        "empty strings": _array('""'),
        "empty arrays": _array("[]"),
        "many keys": "{" + ",".join(f'"k{i}":{i}' for i in range(60_000)) + "}",
        "1,000 NaN (refused)": _array("NaN", 4000),
        "one 1e999 at the end (refused)": _array("0.5", MAX_BODY_BYTES - 32)[:-1] + ",1e999]",
    }


def event(body: str) -> dict[str, object]:
    return http_event("POST", "/items", headers={"content-type": "application/json"}, body=body)


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


_HOOKED_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_finite)


def baseline(body: str) -> None:
    # A refusal costs what it took to find out: that is what is measured.
    with contextlib.suppress(ValueError, RecursionError):
        json.dumps(json.loads(body))


def answer_baseline(body: str) -> None:
    # The same, with the data inside an object as the echo answers it: json writes a lone
    # top-level string ~2.5x faster than one inside a container, which no answer can use.
    with contextlib.suppress(ValueError, RecursionError):
        json.dumps({"message": "POST request processed successfully", "data": json.loads(body)})


def hooked_decoder(body: str) -> None:
    with contextlib.suppress(ValueError, RecursionError):
        json.dumps(_HOOKED_DECODER.decode(body))


def best_ms(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):  # interleaved, so load changes hit every candidate alike
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: min(times) for name, times in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per body (best is kept)")
    args = parser.parse_args()

    app = App(env={"ENVIRONMENT": "bench"}, emit=lambda line: None)
    print(
        f"{'body':42} {'bytes':>9} {'status':>6} {'tap ms':>8} {'loads+dumps':>11} "
        f"{'ratio':>6} {'in object':>9} {'ratio':>6} {'hook ms':>8} {'response':>10} "
        f"{'x body':>6}"
    )
    worst_ratio = worst_answer_ratio = worst_ms = worst_growth = worst_added = 0.0
    worst_response = 0
    for name, body in corpus().items():
        request = event(body)
        times = best_ms(
            {
                "tap": lambda request=request: app(request),
                "baseline": lambda body=body: baseline(body),
                "answer": lambda body=body: answer_baseline(body),
                "hook": lambda body=body: hooked_decoder(body),
            },
            args.repeat,
        )
        result = app(request)
        response_bytes = len(json.dumps(result))  # what Lambda counts (rule 46)
        size = len(body.encode())
        ratio = times["tap"] / times["baseline"]
        ratio_answer = times["tap"] / times["answer"]
        growth = response_bytes / size
        print(
            f"{name:42} {size:>9,} {result['statusCode']:>6} {times['tap']:>8.2f} "
            f"{times['baseline']:>11.2f} {ratio:>5.2f}x {times['answer']:>9.2f} "
            f"{ratio_answer:>5.2f}x {times['hook']:>8.2f} "
            f"{response_bytes:>10,} {growth:>5.2f}x"
        )
        if times["baseline"] >= 1.0:  # ratios of sub-millisecond refusals are noise
            worst_ratio = max(worst_ratio, ratio)
            worst_answer_ratio = max(worst_answer_ratio, ratio_answer)
        worst_ms = max(worst_ms, times["tap"])
        worst_added = max(worst_added, times["tap"] - times["baseline"])
        worst_growth = max(worst_growth, growth)
        worst_response = max(worst_response, response_bytes)
    print(
        f"worst: {worst_ms:.1f} ms of function time, at most {worst_added:.1f} ms more than "
        f"json.loads+json.dumps of the body; {worst_ratio:.2f}x json.loads+json.dumps "
        f"of the body, {worst_answer_ratio:.2f}x with the data in an object (bodies taking "
        f"the baseline >= 1 ms; target <= 1.5x); response {worst_response:,} bytes, "
        f"{worst_growth:.2f}x its body (limit {MAX_RESPONSE_BYTES:,}: a 413 beyond)"
    )


if __name__ == "__main__":
    main()
