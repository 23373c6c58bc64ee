"""``tap local`` as a user runs it: its console, and the AWS tools pointed at its moto.

One ``python -m tap local -v`` process (smoke check on, so requests happen during the
deploy) serves the module; the tests read its stdout and talk to it as a user would.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tap.local.logs import tail
from tap.local.logs.console import ConsoleLog, runtime_note

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 120.0
LINE_TIMEOUT_S = 30.0
REQUEST_LINE = re.compile(r"^(GET|POST|PUT|DELETE|OPTIONS|HEAD|PATCH) /\S* \d{3} \d+ ms\b")


@dataclass
class Served:
    process: subprocess.Popen[str]
    before: list[str]  # everything printed up to and including "Serving on"
    url: str
    endpoint_url: str
    state_dir: Path
    lines: list[str] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def reader(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))
                self._lock.notify_all()

    def wait_for(self, pattern: str, after: int = 0) -> int:
        """Index of the first line from ``after`` on matching ``pattern``."""
        deadline = time.monotonic() + LINE_TIMEOUT_S
        with self._lock:
            while True:
                for i in range(after, len(self.lines)):
                    if re.search(pattern, self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} in {self.lines[after:]}")
                self._lock.wait(left)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    state_dir = tmp_path_factory.mktemp("state")
    env = dict(os.environ, PYTHONUNBUFFERED="1", TAP_STATE_DIR=str(state_dir))
    process = subprocess.Popen(
        [sys.executable, "-m", "tap", "local", "--port", "0", "-v"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        before: list[str] = []
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            before.append(line.rstrip("\n"))
            if line.startswith("Serving on "):
                break
        if not before or not before[-1].startswith("Serving on "):
            pytest.fail("\n".join(before) + (process.stderr.read() if process.stderr else ""))
        url = before[-1].split()[2]
        endpoint = next(w for w in before[-2].split() if w.startswith("http://"))
        result = Served(process, before, url, endpoint, state_dir)
        threading.Thread(target=result.reader, daemon=True).start()
        yield result
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=10)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.headers["apigw-requestid"])


def test_the_deploys_output_comes_before_any_request_line(served: Served) -> None:
    # The deploy's smoke check made requests while it ran; none printed among its output.
    assert not [line for line in served.before if REQUEST_LINE.match(line)]
    assert "Outputs:" in served.before
    # ... they come once it is serving, the smoke check's GET /health among them.
    served.wait_for(r"^GET /health 200 \d+ ms")


def test_a_runtime_other_than_this_python_is_said_once_at_start(served: Served) -> None:
    local = f"python{sys.version_info.major}.{sys.version_info.minor}"
    notes = [line for line in served.before if line.startswith("note: the function's runtime")]
    if local == "python3.13":  # the stack's configured runtime
        assert notes == []
    else:
        assert notes == [runtime_note(["python3.13"])]


def test_verbose_prints_the_records_beneath_the_request_line(served: Served) -> None:
    start = len(served.lines)
    request_id = _get(f"{served.url}/health")

    at = served.wait_for(rf"^GET /health 200 \d+ ms.*id={re.escape(request_id)}$", start)

    served.wait_for(r"^    REPORT RequestId: ", at)
    beneath = served.lines[at + 1 : served.wait_for(r"^    REPORT RequestId: ", at) + 1]
    assert beneath[0].startswith("    START RequestId: ")
    assert any(f'"requestId":"{request_id}"' in line for line in beneath)


def test_tap_logs_in_another_process_reads_the_running_deploy(served: Served) -> None:
    request_id = _get(f"{served.url}/info")

    def tap_logs() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tap", "logs", "--local", "--request-id", request_id, "-v"],
            cwd=REPO_ROOT,
            env=dict(os.environ, TAP_STATE_DIR=str(served.state_dir)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    completed = tap_logs()
    # The writer batches every 0.2 s; one retry covers a request read before its batch.
    if request_id not in completed.stdout:
        time.sleep(1)
        completed = tap_logs()
    assert completed.returncode == 0, completed.stderr
    first, *records = completed.stdout.splitlines()
    assert re.match(r"^\S+Z GET /info 200 \d+ ms", first)
    assert first.endswith(f"id={request_id}")
    assert records[0].startswith("    START RequestId: ")


def test_the_state_file_names_the_moto_endpoint(served: Served) -> None:
    state = json.loads((served.state_dir / "local.json").read_text())

    assert state["endpoint_url"] == served.endpoint_url
    assert state["access_log_group"] == state["outputs"]["api_access_log_group"]


# --- the console on its own (no deploy) -------------------------------------------------


def _access(request_id: str, lambda_id: str, status: int = 200) -> str:
    return json.dumps(
        {
            "requestId": request_id,
            "httpMethod": "GET",
            "path": "/x",
            "routeKey": "GET /x",
            "status": str(status),
            "responseLatency": "4",
            "integrationError": "-",
            "errorMessage": "-",
            "integrationRequestId": lambda_id,
        }
    )


def test_the_console_holds_lines_until_released_then_joins_by_request_id() -> None:
    out: list[str] = []
    console = ConsoleLog(out.append, clock=lambda: 1_800_000_000.0)
    try:
        console("fn", "L1", "START RequestId: L1 Version: $LATEST", "platform", "s1")
        console("fn", "L1", "hello from print", "function", "s1")
        console("fn", "L1", "END RequestId: L1", "platform", "s1")
        console(
            "fn",
            "L1",
            "REPORT RequestId: L1\tDuration: 1.00 ms\tInit Duration: 9 ms",
            "platform",
            "s1",
        )
        console.access_line(_access("A1", "L1"))
        assert console.flush()
        assert out == []  # held: the deploy's output is still being printed

        console.release()
        console.access_line("plain text access line")
        assert console.flush()
    finally:
        console.close()
    assert out == ["GET /x 200 4 ms [cold]", "plain text access line"]


def test_the_verbose_console_shows_records_and_a_direct_invoke() -> None:
    out: list[str] = []
    console = ConsoleLog(out.append, verbose=True)
    console.release()
    try:
        console("fn", "L2", "START RequestId: L2 Version: $LATEST", "platform", "s1")
        console("fn", "L2", "END RequestId: L2", "platform", "s1")
        console("fn", "L2", "REPORT RequestId: L2\tDuration: 2.00 ms", "platform", "s1")
        console.invoked("fn", "L2", "200")
        assert console.flush()
    finally:
        console.close()
    assert out == [
        "INVOKE fn 200 2 ms  id=L2",
        "    START RequestId: L2 Version: $LATEST",
        "    END RequestId: L2",
        "    REPORT RequestId: L2\tDuration: 2.00 ms",
    ]


def test_runtime_note_only_when_they_differ() -> None:
    assert runtime_note(["python3.13"], (3, 13)) is None
    note = runtime_note(["python3.13"], (3, 11))
    assert note is not None
    assert note.startswith("note: the function's runtime is python3.13; local mode runs it on")


def test_logs_io_stays_importable_without_a_deploy() -> None:
    # `tap logs --help` works anywhere (no moto started).
    with pytest.raises(SystemExit) as stopped:
        tail.run(["--help"], io.StringIO(), io.StringIO())
    assert stopped.value.code == 0
