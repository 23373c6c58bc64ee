"""``python -m tap local``: the command a newcomer and CI run.

``--check`` runs in this process (one deploy of the real program on moto's default
account: the only test here that uses it); serving, Ctrl-C and the missing-extra message run
as real subprocesses.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tap.__main__ import main
from tap.local import cli

REPO_ROOT = Path(__file__).resolve().parents[2]
# Bounds on the subprocess tests (a local deploy takes a few seconds).
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class RefusingProxy(http.server.ThreadingHTTPServer):
    """A proxy that refuses everything and records what it was sent."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                proxy.seen.append(f"{self.command} {self.path}")
                self.send_error(502, "this proxy refuses everything")

            do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_CONNECT = _refuse

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def refusing_proxy() -> Iterator[RefusingProxy]:
    server = RefusingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_check_deploys_smoke_checks_and_prints_the_outputs(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    refusing_proxy: RefusingProxy,
) -> None:
    # GIVEN every proxy variable set, to a proxy that refuses everything: local mode's
    # traffic (boto3 to moto, the smoke check to the emulator) is all loopback and must
    # bypass it
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, refusing_proxy.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    outputs_file = tmp_path / "outputs.json"
    code = main(["local", "--check", "--outputs-file", str(outputs_file)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert refusing_proxy.seen == []
    assert "NO_PROXY" not in os.environ  # the run's own setting is undone
    lines = out.splitlines()
    assert lines[0] == "Deploying stack local into moto on 127.0.0.1 (local mode)..."
    assert any(
        line.split() == ["+", "aws:lambda/function:Function", "tap-compute-function", "created"]
        for line in lines
    )
    outputs = json.loads(outputs_file.read_text())
    # Outputs as `pulumi up` prints them: sorted, whole numbers without ".0".
    block = lines[lines.index("Outputs:") + 1 :]
    shown = [m for m in (re.match(r"^    (\w+) *: ", line) for line in block) if m]
    assert [m.group(1) for m in shown] == sorted(outputs)
    shown = [m.string for m in shown]
    assert f"    memory_size         : {outputs['memory_size']}" in shown
    assert outputs["memory_size"] == 512
    url = outputs["api_gateway_url"]
    assert url.startswith("http://127.0.0.1:")
    # The program's smoke check (a dynamic resource) ran during the deploy, against the
    # emulator, and its result is an output.
    assert lines[-1] == f"smoke check passed against {url} (run by the deploy)"
    assert outputs["smoke_check"]["checks"]["health"] == {
        "latency_ms": outputs["smoke_check"]["checks"]["health"]["latency_ms"],
        "passed": True,
        "request": "GET /health",
        "status": 200,
        "kind": "verified",
    }
    # the emulator answers CORS as configured: no unverified check warns
    assert outputs["smoke_check"]["warnings"] == []


def test_an_invalid_config_is_refused_with_the_config_error_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["local", "--check", "-c", "timeout=60", "-c", "tap:memorySize=64"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "error: invalid configuration (2 values):\n"
        "  - tap:memorySize is '64', but must be 128-10240: Lambda's memory range in MB\n"
        "  - tap:timeout is '60', but must be 1-29: an HTTP API stops waiting after 30 s\n"
    )


def test_a_port_in_use_is_refused_with_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["local", "--port", str(port)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"error: cannot serve the HTTP API emulator on 127.0.0.1:{port}: ")
    assert err.endswith("Pass --port with a free port, or --port 0 for any free port\n")


def test_a_malformed_config_option_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "-c", "timeout"]) == 2
    assert capsys.readouterr().err == (
        "error: --config 'timeout' must be KEY=VALUE (e.g. timeout=20)\n"
    )


def test_unknown_command_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown command 'deploy'\nusage: tap")
    assert main(["--help"]) == 0
    assert "local    deploy the stack into moto" in capsys.readouterr().out


def test_the_resource_table_lists_the_stack_first() -> None:
    class Row:
        def __init__(self, type_: str, name: str) -> None:
            self.type, self.name = type_, name

    class Deployment:
        project, stack = "tap", "dev"

        def __init__(self) -> None:
            self.resources = [Row("aws:sns/topic:Topic", "alarms")]

    lines = cli.render_resources(Deployment())  # type: ignore[arg-type]
    assert lines == [
        "     Type                 Name     Status",
        " +   pulumi:pulumi:Stack  tap-dev  created",
        " +   aws:sns/topic:Topic  alarms   created",
        "",
        "Resources:",
        "    + 2 created",
    ]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_serve_answers_prints_one_line_per_request_and_stops_cleanly_on_sigint() -> None:
    # GIVEN `python -m tap local` serving on any free port, started with SIGINT ignored as
    # a shell's background job (or a CI runner) starts it: Python keeps it ignored unless
    # the command installs its handler itself
    process = subprocess.Popen(
        [sys.executable, "-m", "tap", "local", "--port", "0", "-c", "smokeCheck=false"],
        cwd=REPO_ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("Serving on "):
                url = line.split()[2]
        assert url is not None, process.stderr.read() if process.stderr else ""
        # WHEN a request arrives
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            assert response.status == 200
        # THEN one line says how it went: the first request of an instance is a cold start
        # (after the lines `tap local` prints once serving, e.g. that it watches for saves)
        line = process.stdout.readline()
        while line.startswith("Watching "):
            line = process.stdout.readline()
        assert re.fullmatch(r"GET /health 200 \d+ ms \[cold\]\n", line)
        # AND Ctrl-C (or kill -INT) stops it cleanly
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=STOP_TIMEOUT_S)
        assert process.returncode == 0, err
        assert rest.rstrip().endswith("Stopping...")
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=STOP_TIMEOUT_S)


def test_without_the_local_extra_the_command_says_what_to_install() -> None:
    # moto made unimportable, as on a machine that installed tap without `[local]`.
    script = (
        "import sys; sys.modules['moto'] = None; from tap.__main__ import main; "
        "sys.exit(main(['local', '--check']))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr == (
        "error: local mode needs the `local` extra (moto is not installed): "
        "pip install -e '.[local]'\n"
    )


def test_sigterm_stops_serving_cleanly_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a deployment being served (a stand-in: _serve only prints its URLs and waits)
    class Deployment:
        endpoint_url, region, url = "http://127.0.0.1:1", "us-east-1", "http://127.0.0.1:2"
        # no tap:auth, no tap:domain: no hints, no token state
        outputs: ClassVar[dict[str, str]] = {}
        program_dir = None

    previous = signal.getsignal(signal.SIGTERM)
    # WHEN SIGTERM arrives while it waits
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        # (no functions to watch in the stand-in: no reload)
        code = cli._serve(Deployment(), cli._Printer(sys.stdout), reload=False)  # type: ignore[arg-type]
    finally:
        timer.cancel()
    # THEN it returns 0 after saying so, and the previous SIGTERM handler is back
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "Serving on http://127.0.0.1:2 (Ctrl-C to stop)"
    assert out[-1] == "Stopping..."
    assert signal.getsignal(signal.SIGTERM) == previous


def test_no_program_found_is_refused_naming_where_it_looked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["local", "--program-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: no Pulumi program (Pulumi.yaml and __main__.py) in {tmp_path}: run from "
        "the project's directory or pass --program-dir\n"
    )
