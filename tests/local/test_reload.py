"""Hot reload: a test edits a temporary copy of the function; the next
response runs the new code without a redeploy, and a syntax error keeps the old code
serving. The waits are bounded; nothing asserts on how long a reload takes."""

from __future__ import annotations

import http.client
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tap.compute import FUNCTION_SOURCE_DIR, HANDLER, code_archive, zip_bytes
from tap.function.routes import ROUTE_KEYS
from tap.local.cli import build_parser
from tap.local.gateway.emulator import Emulator
from tap.local.logs.sink import LogKind
from tap.local.reload import Reloader, watched
from tests.local.builders import build_api_spec, build_function_spec

REGION = "us-east-1"

WRAPPER = """

_original_handler = handler


def handler(event, context):
    result = _original_handler(event, context)
    result.setdefault("headers", {})["x-reloaded"] = "yes"
    return result
"""


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def get(port: int, target: str) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("x-reloaded")
    finally:
        connection.close()


class Setup:
    def __init__(self, source: Path, emulator: Emulator, reloader: Reloader) -> None:
        self.source = source
        self.emulator = emulator
        self.reloader = reloader
        self.said: list[str] = []
        self.platform: list[str] = []
        self.lock = threading.Lock()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    source = tmp_path / "function"
    shutil.copytree(FUNCTION_SOURCE_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
    archive = code_archive(source)
    spec = build_function_spec(
        "tap", zip_bytes(archive), HANDLER, region=REGION, environment={"ENVIRONMENT": "Test"}
    )
    api = build_api_spec({key: "tap" for key in ROUTE_KEYS}, region=REGION)
    holder: list[Setup] = []

    def sink(function: str, request_id: str | None, line: str, kind: LogKind, stream: str) -> None:
        if kind == "platform" and holder:
            with holder[0].lock:
                holder[0].platform.append(line)

    updated: list[bytes] = []
    with Emulator(api, {"tap": spec}, log_sink=sink) as emulator:
        reloader = Reloader(
            emulator,
            [watched("tap", archive)],
            say=lambda line: holder[0].said.append(line),
            update_code=lambda name, code: updated.append(code),
        )
        holder.append(Setup(source, emulator, reloader))
        reloader.start()
        try:
            yield holder[0]
        finally:
            reloader.stop()


def test_a_saved_change_serves_on_the_next_request_without_a_redeploy(setup: Setup) -> None:
    port = setup.emulator.port
    assert get(port, "/health") == (200, None)

    # WHEN the handler file is saved with a change
    handler_file = setup.source / "handler.py"
    handler_file.write_text(handler_file.read_text() + WRAPPER)

    # THEN one line says it reloaded, and the next request runs the new code, cold
    assert wait_for(lambda: setup.reloader.reloads == 1), setup.said
    cold_starts = sum(line.startswith("INIT_START") for line in setup.platform)
    assert get(port, "/health") == (200, "yes")
    assert sum(line.startswith("INIT_START") for line in setup.platform) == cold_starts + 1
    assert len(setup.said) == 1
    assert setup.said[0].startswith("reloaded tap (")
    assert "handler.py" in setup.said[0]


def test_a_syntax_error_keeps_the_previous_code_serving(setup: Setup) -> None:
    port = setup.emulator.port
    handler_file = setup.source / "handler.py"
    handler_file.write_text(handler_file.read_text() + WRAPPER)
    assert wait_for(lambda: setup.reloader.reloads == 1), setup.said

    # WHEN a save leaves the file unparseable
    handler_file.write_text(handler_file.read_text() + "\ndef broken(:\n")

    # THEN the reload is refused, saying why, and the previous code keeps serving
    assert wait_for(lambda: setup.reloader.refusals == 1), setup.said
    assert get(port, "/health") == (200, "yes")
    refusal = setup.said[-1]
    assert refusal.startswith("reload of tap refused (")
    assert "Runtime.UserCodeSyntaxError" in refusal
    assert refusal.endswith("Still serving the previous code")
    assert setup.reloader.reloads == 1


def test_reload_is_on_by_default_and_no_reload_turns_it_off() -> None:
    assert build_parser().parse_args([]).no_reload is False
    assert build_parser().parse_args(["--no-reload"]).no_reload is True


def test_twenty_reloads_during_a_load_fail_no_request(setup: Setup) -> None:
    # GIVEN 2,000 keep-alive GETs at concurrency 16 (the stage-less emulator: no throttle)
    from tests.local.test_runtime import keep_alive_load

    handler_file = setup.source / "handler.py"
    original = handler_file.read_text()
    outcomes: list[object] = []
    load = threading.Thread(
        target=lambda: outcomes.append(keep_alive_load(setup.emulator.port, 2000, 16))
    )
    load.start()
    # WHEN the function is saved 20 times with new code while it runs
    for number in range(1, 21):
        # Saved whole (written aside, then renamed over), as editors save: a reload never
        # sees half a file.
        staged = handler_file.with_suffix(".tmp")
        staged.write_text(original + f"\nRELOAD_NUMBER = {number}\n")
        staged.replace(handler_file)
        setup.reloader.changed({handler_file.resolve()})
    load.join()

    # THEN all 20 reloads happened and every request got a 200: no 5xx, no connection error
    assert setup.reloader.reloads >= 20
    assert outcomes == [{200: 2000}]


def test_from_deployment_watches_each_deployed_functions_archive_and_updates_its_code(
    tmp_path: Path,
) -> None:
    # GIVEN a local deploy's record of the function (its code archive as the program built
    # it) and the emulator serving it
    from tap.local.deploy.readback import FUNCTION_TYPE
    from tap.local.deploy.resources import Deployed
    from tap.local.reload import from_deployment

    source = tmp_path / "function"
    shutil.copytree(FUNCTION_SOURCE_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
    archive = code_archive(source)
    spec = build_function_spec("fn-1", zip_bytes(archive), HANDLER, region=REGION)
    api = build_api_spec({"GET /health": "fn-1"}, region=REGION)
    stored: dict[str, bytes] = {}

    class Lambda:  # records what the reloader stores where moto keeps the code
        def update_function_code(self, FunctionName: str, ZipFile: bytes) -> None:
            stored[FunctionName] = ZipFile

    class Deployment:
        def __init__(self, emulator: Emulator) -> None:
            self.emulator = emulator
            self.resources = [
                Deployed(FUNCTION_TYPE, "fn", "fn-1", {"code": archive}, {"name": "fn-1"}),
                Deployed("aws:iam/role:Role", "role", "r", {}, {}),
            ]

        def client(self, service: str) -> Lambda:
            assert service == "lambda"
            return Lambda()

    said: list[str] = []
    with Emulator(api, {"fn-1": spec}) as emulator:
        reloader = from_deployment(Deployment(emulator), said.append)
        assert reloader.roots() == [source.resolve()]
        handler_file = source / "handler.py"
        handler_file.write_text(handler_file.read_text() + WRAPPER)
        reloader.changed({handler_file.resolve()})
        answer = get(emulator.port, "/health")

    # THEN the new code serves, and the deploy's copy of the code is the new zip
    assert answer == (200, "yes")
    assert stored == {"fn-1": zip_bytes(archive)}
    assert said[0].startswith("reloaded fn-1 (")
