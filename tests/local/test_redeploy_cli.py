"""Redeploy end to end: ``tap local`` on a temporary copy
of the project; editing Pulumi.yaml re-runs the program into the same moto, prints the
diff naming the resource and the input, and the next response reflects it; a bad value or
a program that raises keeps the previous deploy serving; Ctrl-C stops it.

The waits are bounded; nothing asserts on how long anything takes.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tap.local.deploy.motoserver import make_client

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "https://app.example.com"
WAIT_S = 120.0


class Running:
    """A ``tap local`` process and the lines it has printed so far."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.lines.append("<EOF>")
            self._cond.notify_all()

    def wait_line(self, match: Callable[[str], bool], start: int = 0) -> int:
        """The index of the first line from ``start`` that matches; fails past WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        with self._cond:
            while True:
                for index in range(start, len(self.lines)):
                    if match(self.lines[index]):
                        return index
                if "<EOF>" in self.lines[start:]:
                    pytest.fail("tap local exited:\n" + "\n".join(self.lines))
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail("no such line in time:\n" + "\n".join(self.lines))
                self._cond.wait(left)

    def value(self, prefix: str) -> str:
        index = self.wait_line(lambda line: line.startswith(prefix))
        return self.lines[index]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, copy / name)
    shutil.copytree(REPO / "tap", copy / "tap", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def start(project: Path, *options: str) -> Running:
    env = {**os.environ, "PYTHONPATH": str(project)}
    command = [sys.executable, "-m", "tap", "local", "--port", "0", "-c", "smokeCheck=false"]
    process = subprocess.Popen(
        [*command, *options],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Running(process)


def stop(run: Running) -> None:
    if run.process.poll() is None:
        run.process.kill()
    run.process.wait(30)


@pytest.fixture
def running(project: Path) -> Iterator[Running]:
    run = start(project, "-v")
    try:
        yield run
    finally:
        stop(run)


def request(url: str, method: str, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def preflight(url: str) -> http.client.HTTPResponse:
    return request(
        url,
        "OPTIONS",
        "/health",
        {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def row(lines: list[str], type_: str) -> list[str]:
    """The diff row of the resource of ``type_`` (its words)."""
    rows = [line.split() for line in lines if type_ in line.split()]
    assert len(rows) == 1, lines
    return rows[0]


def test_editing_the_stack_config_redeploys_into_the_same_moto(
    running: Running, project: Path
) -> None:
    url = running.value("Serving on ").split()[2]
    endpoint = re.search(r"--endpoint-url (\S+)", running.value("Resources are in moto"))
    assert endpoint is not None
    running.wait_line(lambda line: line.startswith("Watching the program"))
    before = preflight(url)
    assert before.status == 204
    assert before.getheader("access-control-max-age") == "300"
    assert before.getheader("access-control-allow-origin") == "*"

    pulumi_yaml = project / "Pulumi.yaml"
    edit(pulumi_yaml, "      maxAge: 300", "      maxAge: 600")
    edit(pulumi_yaml, '      allowOrigins: ["*"]', f'      allowOrigins: ["{ORIGIN}"]')
    edit(pulumi_yaml, "    default: 512", "    default: 1024")
    start = running.wait_line(lambda line: line.startswith("Pulumi.yaml changed: updating"))
    done = running.wait_line(lambda line: line.startswith("Duration: "), start)
    printed = running.lines[start:done]
    function_row = row(printed, "aws:lambda/function:Function")
    assert function_row[0] == "~"
    assert function_row[-2:] == ["[diff:", "~memorySize]"]
    api_row = row(printed, "aws:apigatewayv2/api:Api")
    assert api_row[0] == "~"
    assert api_row[-2:] == ["[diff:", "~corsConfiguration]"]
    assert "    ~ 2 updated" in printed
    assert "  ~ memory_size: 512 => 1024" in printed

    after = preflight(url)
    assert after.status == 204
    assert after.getheader("access-control-max-age") == "600"
    assert after.getheader("access-control-allow-origin") == ORIGIN
    # The function's new configuration is what serves: a fresh instance with 1024 MB.
    assert request(url, "GET", "/health", {}).status == 200
    report = running.wait_line(lambda line: "REPORT RequestId" in line, done)
    assert "Memory Size: 1024 MB" in running.lines[report]
    # ... and what moto holds (the same moto: aws --endpoint-url sees it).
    lam = make_client("lambda", "us-east-1", endpoint.group(1), "123456789012")
    [function] = lam.list_functions()["Functions"]
    assert function["MemorySize"] == 1024

    # A bad value: the error names the key, and the previous deploy keeps serving.
    edit(pulumi_yaml, "    default: 1024", "    default: 1")
    failed = running.wait_line(lambda line: line.startswith("The update failed"), done)
    error = "\n".join(running.lines[done:failed])
    assert "error: invalid configuration" in error
    assert "tap:memorySize is '1'" in error
    assert request(url, "GET", "/health", {}).status == 200
    assert preflight(url).getheader("access-control-max-age") == "600"
    edit(pulumi_yaml, "    default: 1", "    default: 1024")
    fixed = running.wait_line(lambda line: line.startswith("Resources: no changes"), failed)

    # The program's own modules are read again: one that raises keeps the old deploy too.
    api_module = project / "tap" / "api.py"
    source = api_module.read_text()
    api_module.write_text(source + '\nraise RuntimeError("broken on purpose")\n')
    failed = running.wait_line(lambda line: line.startswith("The update failed"), fixed)
    assert any("RuntimeError: broken on purpose" in line for line in running.lines[fixed:failed])
    assert request(url, "GET", "/health", {}).status == 200
    api_module.write_text(source)
    running.wait_line(lambda line: line.startswith("Resources: no changes"), failed)

    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(60) == 0
    running.wait_line(lambda line: line == "Stopping...")


def test_no_reload_watches_nothing(project: Path) -> None:
    run = start(project, "--no-reload")
    try:
        url = run.value("Serving on ").split()[2]
        assert request(url, "GET", "/health", {}).status == 200
        # The request's line is printed once everything `tap local` says at start is out.
        first = run.wait_line(lambda line: line.startswith("GET /health 200"))
        assert not [line for line in run.lines[:first] if line.startswith("Watching")]
    finally:
        stop(run)
