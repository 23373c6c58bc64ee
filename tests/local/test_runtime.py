"""Local mode's Lambda runtime: instances as Lambda scales them, swaps that never fail a
request, and throttling (docs/http-api.md rules 13, 50-53).

Each test builds its own small function (a zip written here) and serves it with the
emulator; nothing here asserts on timing, only on what was answered and logged.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tap.local.gateway import emulator as emulator_module
from tap.local.gateway.emulator import Emulator
from tap.local.gateway.throttle import ACCOUNT_BURST_LIMIT, TokenBucket, stage_bucket
from tap.local.logs.sink import LogKind
from tap.local.runtime.instance import AWSLAMBDARIC, BUILTIN, Instance, Worker, extract, remove
from tap.local.specs import ApiSpec, FunctionSpec
from tests.local.builders import build_api_spec, build_function_spec, code_zip, fresh_account

REGION = "us-east-1"
ACCOUNT = "123456789012"

SOURCE = r"""
import json, os, threading, time

VERSION = "{version}"

def handler(event, context):
    path = event["rawPath"]
    if path == "/slow":
        time.sleep(float(event.get("queryStringParameters", {{}}).get("s", "0.6")))
    if path == "/gated":  # runs until the test opens the gate (creates the GATE file)
        deadline = time.time() + 20
        while not os.path.exists(os.environ["GATE"]) and time.time() < deadline:
            time.sleep(0.01)
    return {{"statusCode": 200, "body": json.dumps({{
        "version": VERSION, "pid": os.getpid(), "stream": context.log_stream_name}})}}
"""


def function_zip(version: str) -> bytes:
    # A fixed date: the same code gives the same bytes, as the program's archive does.
    return code_zip({"fn.py": SOURCE.format(version=version)}, date_time=(2024, 1, 1, 0, 0, 0))


def spec(version: str = "v1", **changes: Any) -> FunctionSpec:
    base = build_function_spec(
        "fn", function_zip(version), "fn.handler", region=REGION, account=ACCOUNT
    )
    return replace(base, **changes)


ACCESS_LOG = json.dumps(
    {
        "requestId": "$context.requestId",
        "status": "$context.status",
        "integrationStatus": "$context.integrationStatus",
        "integrationError": "$context.integrationErrorMessage",
    }
)


def api(**changes: Any) -> ApiSpec:
    base = build_api_spec(
        {"ANY /{proxy+}": "fn"}, region=REGION, account=ACCOUNT, access_log_format=ACCESS_LOG
    )
    return replace(base, **changes)


class Log:
    """A LogSink keeping (request id, line, kind, stream)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str | None, str, LogKind, str]] = []
        self.access: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(
        self, function: str, request_id: str | None, line: str, kind: LogKind, stream: str
    ) -> None:
        with self._lock:
            self.lines.append((request_id, line, kind, stream))

    def on_access(self, line: str) -> None:
        with self._lock:
            self.access.append(json.loads(line))

    def platform(self, prefix: str) -> list[tuple[str | None, str, LogKind, str]]:
        return [
            entry for entry in self.lines if entry[2] == "platform" and entry[1].startswith(prefix)
        ]


def get(emulator: Emulator, target: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def concurrently(emulator: Emulator, target: str, count: int) -> list[tuple[int, bytes]]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: get(emulator, target), range(count)))


def gated(
    emulator: Emulator, count: int, gate: Path, until: Callable[[], bool]
) -> list[tuple[int, bytes]]:
    """``count`` concurrent GET /gated; the gate opens once ``until()`` holds (or after
    20 s), so the requests that run are all running at the same moment."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(get, emulator, "/gated") for _ in range(count)]
        for _ in range(2000):
            if until():
                break
            threading.Event().wait(0.01)
        gate.touch()
        return [future.result() for future in futures]


# --- instances as Lambda scales them (rule 53) --------------------------------------------


def test_concurrent_requests_run_on_concurrent_instances_each_with_a_cold_start(
    tmp_path: Path,
) -> None:
    # GIVEN 8 requests that all run until the gate opens once 8 have started
    log = Log()
    gate = tmp_path / "gate"
    fn = spec(environment={"GATE": str(gate)})
    with Emulator(api(), {"fn": fn}, log_sink=log, max_instances=8) as emulator:
        replies = gated(emulator, 8, gate, lambda: len(log.platform("START")) >= 8)
        pool = emulator.pool("fn")
        assert pool is not None
        instances = pool.instances

    assert [status for status, _ in replies] == [200] * 8
    bodies = [json.loads(body) for _, body in replies]
    # 8 processes, 8 log streams: one per instance, as Lambda gives each its own
    assert len({body["pid"] for body in bodies}) == 8
    assert len({body["stream"] for body in bodies}) == 8
    assert instances == 8
    # 8 cold starts in the platform lines: INIT_START, and Init Duration on each REPORT
    assert len(log.platform("INIT_START")) == 8
    reports = log.platform("REPORT")
    assert len(reports) == 8
    assert all("\tInit Duration: " in line for _, line, _, _ in reports)
    assert len({stream for _, _, _, stream in reports}) == 8


def test_an_idle_instance_is_reused_warm() -> None:
    log = Log()
    with Emulator(api(), {"fn": spec()}, log_sink=log, max_instances=8) as emulator:
        first = json.loads(get(emulator, "/a")[1])
        second = json.loads(get(emulator, "/b")[1])

    assert first["pid"] == second["pid"]
    reports = log.platform("REPORT")
    assert ["Init Duration" in line for _, line, _, _ in reports] == [True, False]
    assert len(log.platform("INIT_START")) == 1


def test_max_instances_caps_local_instances_and_the_rest_wait() -> None:
    with Emulator(api(), {"fn": spec()}, max_instances=2) as emulator:
        replies = concurrently(emulator, "/slow?s=0.3", 5)
        pool = emulator.pool("fn")
        assert pool is not None

    # nobody is refused: past local mode's own cap requests wait (it is not a Lambda limit)
    assert [status for status, _ in replies] == [200] * 5
    assert len({json.loads(body)["pid"] for _, body in replies}) == 2
    assert pool.cold_starts == 2


def test_reserved_concurrency_throttles_the_rest(tmp_path: Path) -> None:
    # GIVEN reservedConcurrency=2 and 8 concurrent requests that run until the gate opens
    # (once the six that cannot run have been answered)
    log = Log()
    gate = tmp_path / "gate"
    fn = spec(reserved_concurrency=2, environment={"GATE": str(gate)})
    with Emulator(
        api(), {"fn": fn}, log_sink=log, on_access_log=log.on_access, max_instances=8
    ) as emulator:
        replies = gated(emulator, 8, gate, lambda: len(log.access) >= 6)

    # THEN two run, on two instances; Lambda refuses the other six with 429 (rule 50) and
    # API Gateway answers them 500 (rule 51)
    statuses = Counter(status for status, _ in replies)
    assert statuses == {200: 2, 500: 6}
    assert all(body == b'{"message":"Internal Server Error"}' for s, body in replies if s == 500)
    assert len(log.platform("INIT_START")) == 2
    throttled = [line for line in log.access if line["integrationStatus"] == "429"]
    assert len(throttled) == 6
    assert {line["integrationError"] for line in throttled} == {"Rate Exceeded."}


# --- swaps ---------------------------------------------------------------------------------


def test_a_swap_lets_in_flight_requests_finish_on_the_old_code() -> None:
    log = Log()
    with Emulator(api(), {"fn": spec("v1")}, log_sink=log, max_instances=4) as emulator:
        old_pool = emulator.pool("fn")
        assert old_pool is not None
        started = threading.Event()
        results: list[tuple[int, bytes]] = []

        def slow() -> None:
            started.set()
            results.append(get(emulator, "/slow?s=1"))

        threads = [threading.Thread(target=slow) for _ in range(3)]
        for thread in threads:
            thread.start()
        started.wait()
        # wait until all three run on instances of v1
        while len(log.platform("START")) < 3:
            threading.Event().wait(0.01)
        changed = emulator.swap(api(), {"fn": spec("v2")})
        new_status, new_body = get(emulator, "/now")
        for thread in threads:
            thread.join()
        old_instances_after = old_pool.instances

    # THEN the three in flight finished on v1, the request after the swap ran v2
    assert changed == ["fn"]
    assert [(status, json.loads(body)["version"]) for status, body in results] == [(200, "v1")] * 3
    assert (new_status, json.loads(new_body)["version"]) == (200, "v2")
    # AND the old instances were closed once idle
    assert old_instances_after == 0


def test_an_unchanged_function_keeps_its_warm_instances_across_a_swap() -> None:
    with Emulator(api(), {"fn": spec("v1")}) as emulator:
        before = json.loads(get(emulator, "/a")[1])["pid"]
        changed = emulator.swap(api(), {"fn": spec("v1")})
        after = json.loads(get(emulator, "/b")[1])["pid"]

    assert changed == []
    assert before == after


def keep_alive_load(port: int, total: int, concurrency: int) -> Counter[Any]:
    """``total`` GETs over ``concurrency`` keep-alive connections: status -> count, plus
    ``"connection error"`` for any request that got no HTTP answer."""
    outcomes: Counter[Any] = Counter()
    lock = threading.Lock()
    per_connection = total // concurrency

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: Counter[Any] = Counter()
        for _ in range(per_connection):
            try:
                connection.request("GET", "/health")
                response = connection.getresponse()
                response.read()
                mine[response.status] += 1
                if response.getheader("connection") == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                mine["connection error"] += 1
                connection.close()
        connection.close()
        with lock:
            outcomes.update(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_swaps_during_a_load_fail_no_request() -> None:
    # GIVEN 2,000 keep-alive GETs at concurrency 16, and 20 swaps to new code meanwhile
    with Emulator(api(), {"fn": spec("v0")}) as emulator:
        done = threading.Event()
        swaps = 0

        def swapper() -> None:
            nonlocal swaps
            while swaps < 20 and not done.is_set():
                swaps += 1
                emulator.swap(api(), {"fn": spec(f"v{swaps}")})
                done.wait(0.05)

        thread = threading.Thread(target=swapper)
        thread.start()
        outcomes = keep_alive_load(emulator.port, 2000, 16)
        done.set()
        thread.join()

    # THEN every request got a 200: no 5xx, no connection error
    assert outcomes == {200: 2000}
    assert swaps >= 1


# --- stage throttling (rules 13, 52) -----------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)

    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back at 2 per second
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 100  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3


def test_stage_bucket_defaults_and_half_set_limits() -> None:
    clock = Clock()
    account = stage_bucket(None, None, clock)
    assert (account.rate, account.burst) == (10_000.0, ACCOUNT_BURST_LIMIT)
    # rule 13: only one of the two set leaves the other at 0: everything is throttled
    assert not stage_bucket(10, None, clock).take()
    assert not stage_bucket(None, 10.0, clock).take()


def test_stage_throttling_answers_429_past_the_burst() -> None:
    clock = Clock()
    log = Log()
    limited = api(throttling_burst_limit=3, throttling_rate_limit=1.0)
    with Emulator(limited, {"fn": spec()}, clock=clock, on_access_log=log.on_access) as emulator:
        first = [get(emulator, "/x") for _ in range(4)]
        clock.now += 1.0
        later = get(emulator, "/x")

    assert [status for status, _ in first] == [200, 200, 200, 429]
    assert first[3][1] == b'{"message":"Too Many Requests"}'
    assert later[0] == 200
    assert [line["status"] for line in log.access] == ["200", "200", "200", "429", "200"]


@pytest.mark.parametrize("kind", ["function", "platform"])
def test_log_sink_gets_request_ids_and_kinds(kind: str) -> None:
    log = Log()
    with Emulator(api(), {"fn": spec()}, log_sink=log) as emulator:
        get(emulator, "/a")

    entries = [entry for entry in log.lines if entry[2] == kind]
    if kind == "platform":
        lines = [line for _, line, _, _ in entries]
        assert lines[0].startswith("INIT_START Runtime Version: python:3.13")
        request_id = entries[1][0]
        assert request_id is not None
        assert re.fullmatch(r"[0-9a-f-]{36}", request_id)
        assert lines[1:] == [
            f"START RequestId: {request_id} Version: $LATEST",
            f"END RequestId: {request_id}",
            lines[3],
        ]
        assert lines[3].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    else:
        assert entries == []  # this function writes nothing


def test_a_client_that_starts_when_health_first_answers_never_fails() -> None:
    # GIVEN `tap local`'s deploy (the project's program, its smoke check on), and a client
    # that starts 2,000 keep-alive GETs at concurrency 16 the moment /health first answers
    # 200, while the deploy is still finishing (the final load replaces what the smoke check
    # was served by: no request may get 500 "The emulator is stopping")

    from tap.local.deploy.deployment import LocalDeployment, deploy

    listening = threading.Event()
    urls: list[str] = []
    deployed: list[LocalDeployment] = []
    errors: list[BaseException] = []
    # Access-log lines of the load's failed requests: a failure names its cause (the
    # integrationError) instead of only counting statuses.
    failed: list[str] = []

    def on_access(line: str) -> None:
        if '"GET"' in line and '"status":"200"' not in line:
            failed.append(line)

    def run() -> None:
        try:
            deployed.append(
                deploy(
                    account_id=fresh_account(),
                    # stage limits above this load, so every answer is the function's
                    config={"throttlingBurstLimit": "5000", "throttlingRateLimit": "10000"},
                    on_listening=lambda url: (urls.append(url), listening.set()),
                    on_access_log=on_access,
                )
            )
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
            listening.set()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert listening.wait(120)
        assert not errors, errors
        port = int(urls[0].rsplit(":", 1)[1])
        status = 0
        for _ in range(6000):
            if not thread.is_alive() and not deployed:
                break
            status, _ = get_port(port, "/health")
            if status == 200:
                break
            threading.Event().wait(0.01)
        assert not errors, errors
        assert status == 200
        before = len(failed)  # the smoke check's own GETs (a 404 probe) are not the load's
        outcomes = keep_alive_load(port, 2000, 16)
        failed_during_load = failed[before:]
    finally:
        thread.join(180)
        for deployment in deployed:
            deployment.stop()

    assert not errors, errors
    # THEN every request got a 200: no 5xx, no connection error
    assert outcomes == {200: 2000}, failed_during_load


def get_port(port: int, target: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


def test_without_awslambdaric_the_built_in_worker_serves_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a machine where awslambdaric has no wheel (macOS, Windows): not importable
    import importlib.util

    from tap.local.runtime import instance

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: (
            None if name in ("awslambdaric", "runtime_client") else real(name, *args)
        ),
    )

    # THEN the built-in worker runs the function, and one line says why
    with Emulator(api(), {"fn": spec()}) as emulator:
        status, _ = get(emulator, "/a")
        worker, note = emulator.worker, emulator.worker_note

    assert status == 200
    assert worker is instance.BUILTIN
    assert note is not None
    assert "awslambdaric" in note
    assert "built-in" in note
    assert "\n" not in note


def test_with_awslambdaric_installed_it_is_the_default() -> None:
    from tap.local.runtime import instance

    assert instance.default_worker() == (instance.AWSLAMBDARIC, None)


@pytest.mark.parametrize("worker", [AWSLAMBDARIC, BUILTIN], ids=lambda w: w.name)
def test_init_start_comes_before_what_the_process_wrote_however_early(worker: Worker) -> None:
    # A syntax error ends the process within milliseconds, often before the pool calls
    # init(): its error lines must still follow INIT_START, as Lambda writes them.
    broken = replace(spec(), zip_bytes=code_zip({"fn.py": "def handler(:\n"}))
    lines: list[tuple[str, LogKind]] = []
    code_dir = extract(broken)
    instance = Instance(
        broken, code_dir, worker, lambda _f, _r, line, kind, _s: lines.append((line, kind))
    )
    try:
        instance._popen.wait(timeout=30)  # everything it writes is written by now
        failed = instance.init(time.monotonic() + 30)
    finally:
        instance.close()
        remove(code_dir)

    assert failed is not None
    assert failed.error_type == "Runtime.UserCodeSyntaxError"
    kinds = [kind for _, kind in lines]
    assert lines[0][0].startswith("INIT_START ")
    assert lines[-1][0].startswith("INIT_REPORT ")
    assert kinds[1:-1]
    assert set(kinds[1:-1]) == {"function"}


def test_a_hot_reload_never_undoes_a_program_rerun_swapping_at_the_same_moment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The re-run serves an API with one route; the hot reload of the function, racing it,
    # must not put back the API it read before the re-run landed.
    rerun_api = build_api_spec({"GET /only": "fn"}, region=REGION, account=ACCOUNT)
    real_validate = emulator_module.validate
    reruns: list[threading.Thread] = []

    def validate_while_a_rerun_swaps(*args: Any) -> Any:
        if not reruns:  # the hot reload's swap: the re-run starts swapping right now
            rerun = threading.Thread(target=emulator.swap, args=(rerun_api, {"fn": spec("v2")}))
            reruns.append(rerun)
            rerun.start()
            rerun.join(timeout=1.0)  # it finishes here unless the reload holds the lock
        return real_validate(*args)

    with Emulator(api(), {"fn": spec("v1")}) as emulator:
        monkeypatch.setattr(emulator_module, "validate", validate_while_a_rerun_swaps)
        emulator.swap_function(spec("v3"))
        reruns[0].join()
        monkeypatch.undo()

        assert get(emulator, "/other")[0] == 404  # the re-run's API, the last swapped
        status, body = get(emulator, "/only")
    assert status == 200
    assert json.loads(body)["version"] == "v2"
