"""``python -m tap local``: the command a newcomer and CI run.

Most tests run in this process (serving included: the test sends itself the SIGINT that
Ctrl-C sends). Real subprocesses: serving started with SIGINT ignored, and the missing-extra
message, which needs an interpreter where moto cannot be imported. ``--check`` of the real
program on moto's default account is the first test; the in-process deploys after it each
use an account of their own.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import queue
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
from tap.local import cli, printing
from tap.local.deploy.deployment import deploy
from tests.local.builders import fresh_account

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

    lines = printing.render_resources(Deployment())  # type: ignore[arg-type]
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
        code = cli._serve(Deployment(), printing.Printer(sys.stdout), reload=False)  # type: ignore[arg-type]
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


# ---------------------------------------------------------------------------------------
# In this process: serving, the CLI's own smoke check, and failed deploys. Each deploy gets
# its own moto account (moto keeps one set of resources per account, for the whole process).

MINI = Path(__file__).resolve().parent / "programs" / "mini"
LINE_TIMEOUT_S = 180.0  # generous: a loaded machine deploys slowly


@pytest.fixture
def own_account(monkeypatch: pytest.MonkeyPatch) -> str:
    account = fresh_account()
    monkeypatch.setattr(cli, "deploy", functools.partial(deploy, account_id=account))
    return account


class _Lines(io.StringIO):
    """An output stream that also queues each line written, for a thread to wait on."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: queue.Queue[str] = queue.Queue()

    def write(self, text: str) -> int:
        for line in text.splitlines():
            self.queue.put(line)
        return super().write(text)

    def wait_for(self, prefix: str) -> str:
        deadline = time.monotonic() + LINE_TIMEOUT_S
        while True:
            line = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            if line.startswith(prefix):
                return line


def test_serve_in_process_streams_logs_and_stops_on_sigint(own_account: str) -> None:
    # GIVEN `tap local` serving in this (the main) thread, and a client in another one
    out, err = _Lines(), io.StringIO()
    seen: dict[str, str] = {}
    problems: list[BaseException] = []
    done = threading.Event()

    def client() -> None:
        try:
            url = out.wait_for("Serving on ").split()[2]
            # WHEN a request arrives
            with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
                seen["status"] = str(response.status)
            seen["request"] = out.wait_for("GET /health ")
        except BaseException as error:  # reported by the main thread
            problems.append(error)
        finally:
            # AND Ctrl-C, once the serve loop waits (its SIGTERM handler is in place):
            # sent earlier, it would interrupt the deploy instead.
            while not done.is_set():
                if signal.getsignal(signal.SIGTERM) is cli._on_sigterm:
                    os.kill(os.getpid(), signal.SIGINT)
                    break
                time.sleep(0.01)

    previous = signal.getsignal(signal.SIGTERM)
    # Python's Ctrl-C handler, whatever this process inherited: a shell starts background
    # jobs with SIGINT ignored, and then the interrupt would never arrive.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    thread = threading.Thread(target=client, daemon=True)
    try:
        thread.start()
        code = cli.run(["--port", "0", "-c", "smokeCheck=false"], out=out, err=err)
    finally:
        done.set()
        thread.join(LINE_TIMEOUT_S)
        signal.signal(signal.SIGINT, previous_int)
    assert problems == []
    # THEN it answered, printed the request's line (a cold start: the instance's first),
    # and stopped cleanly
    assert (code, err.getvalue(), seen["status"]) == (0, "", "200")
    assert re.fullmatch(r"GET /health 200 \d+ ms \[cold\]", seen["request"])
    lines = out.getvalue().splitlines()
    assert lines[-2:] == ["", "Stopping..."]
    assert any(line.startswith("Resources are in moto: aws --endpoint-url ") for line in lines)
    assert signal.getsignal(signal.SIGTERM) == previous


def test_check_runs_its_own_smoke_check_when_the_program_has_none(
    own_account: str, tmp_path: Path
) -> None:
    out, err = io.StringIO(), io.StringIO()
    outputs_file = tmp_path / "outputs.json"
    code = cli.run(
        ["--check", "-c", "smokeCheck=false", "--outputs-file", str(outputs_file)],
        out=out,
        err=err,
    )
    assert (code, err.getvalue()) == (0, "")
    outputs = json.loads(outputs_file.read_text())
    assert "smoke_check" not in outputs  # the program's own check was off
    last = out.getvalue().splitlines()[-1]
    # tap.smoke's checks, run by the CLI against the emulator
    assert last.startswith(f"smoke check passed against {outputs['api_gateway_url']} (health, ")
    # Function logs were kept back: they are shown only when the check fails.
    assert "[tap-local-function]" not in out.getvalue()


def test_a_failing_check_exits_1_and_shows_the_logs_it_kept_back(
    own_account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a program whose API is not tap's (its /health answers {"path", "env"}), whose
    # own probe calls /health during the deploy (so there are logs, however slow the check)
    monkeypatch.setattr(cli, "CHECK_DEADLINE_S", 1.0)  # it will not start passing
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(
        ["--check", "--program-dir", str(MINI), "-c", "mini:smoke=pass"], out=out, err=err
    )
    # THEN tap's smoke check fails it, naming what was wrong, and the logs are shown
    assert code == 1
    assert err.getvalue().startswith("error: ")
    assert "/health" in err.getvalue()
    lines = out.getvalue().splitlines()
    logs = lines[lines.index("Logs:") + 1 :]
    # (one line per request, the first the probe's, a cold start)
    assert re.fullmatch(r"GET /health 200 \d+ ms \[cold\]", logs[0])


def test_a_broken_reference_exits_1_with_the_problem(own_account: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(
        ["--check", "--program-dir", str(MINI), "-c", "mini:break=alarmAction"], out=out, err=err
    )
    assert code == 1
    assert "AlarmActions has 'arn:aws:sns:us-east-1:123456789012:gone'" in err.getvalue()
    assert "Logs:" not in out.getvalue()  # nothing was logged


def test_a_program_that_raises_exits_1_with_its_traceback(own_account: str, tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: boom\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("raise RuntimeError('the program gave up')\n")
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["--check", "--program-dir", str(tmp_path)], out=out, err=err)
    assert code == 1
    assert "RuntimeError: the program gave up" in err.getvalue()
    assert err.getvalue().endswith("error: the Pulumi program raised the exception above\n")


def test_ctrl_c_outside_the_serve_loop_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ctrl-C during the deploy (before the serve loop catches it) stops the command.
    def interrupted(argv: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    assert main(["local"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_outputs_are_shown_as_pulumi_shows_them() -> None:
    assert printing.render_outputs({}) == ["Outputs: none"]
    assert printing.as_shown([1.0, {"n": 2.0}, 2.5, "x"]) == [1, {"n": 2}, 2.5, "x"]


@pytest.mark.parametrize("text", ["0", "-3", "two", "1.5"])
def test_max_instances_must_be_a_whole_number_of_at_least_1(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["--max-instances", text])
    assert exited.value.code == 2
    assert f"must be a whole number >= 1, got {text!r}" in capsys.readouterr().err
    assert cli.build_parser().parse_args(["--max-instances", "3"]).max_instances == 3


def test_loopback_bypasses_proxies_and_the_environment_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "internal.example, 127.0.0.1")
    monkeypatch.delenv("no_proxy", raising=False)
    with cli._loopback_bypasses_proxies():
        assert os.environ["NO_PROXY"] == "internal.example,127.0.0.1,localhost,::1"
        assert os.environ["no_proxy"] == os.environ["NO_PROXY"]
    assert os.environ["NO_PROXY"] == "internal.example, 127.0.0.1"
    assert "no_proxy" not in os.environ


def test_token_without_a_program_or_with_a_stale_state_file_says_so(tmp_path: Path) -> None:
    from tap.local import token

    out, err = io.StringIO(), io.StringIO()
    assert token.run(["--program-dir", str(tmp_path)], out=out, err=err) == 2
    assert err.getvalue().startswith("error: no Pulumi program (Pulumi.yaml and __main__.py)")
    # GIVEN the state file of a `tap local` that is gone (its moto port now refuses)
    (tmp_path / "Pulumi.yaml").write_text("name: tap\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{closed.getsockname()[1]}"
    state = {
        "region": "us-east-1",
        "moto_url": gone,
        "account_id": "123456789012",
        "user_pool_id": "us-east-1_gone",
        "user_pool_client_id": "gone",
    }
    path = token.state_path(tmp_path, "local")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(state))
    out, err = io.StringIO(), io.StringIO()
    assert token.run(["--program-dir", str(tmp_path)], out=out, err=err) == 2
    assert err.getvalue().startswith(f"error: the local stack at {gone} did not answer: ")
    assert out.getvalue() == ""
