"""The differential test of local mode's two runtime clients.

The same invocations (success, raised error, timeout, init errors, an oversized result,
an unserializable result, logging at each level, print) run through awslambdaric (the
runtime interface client of AWS's Python images) and through tap's built-in worker, in
both log formats. Both must give the same HTTP responses and the same log records, apart
from request ids, times, durations and the temporary code folder.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from typing import Any

import pytest

from tap.local.gateway.emulator import Emulator
from tap.local.logs.sink import LogKind
from tap.local.runtime.instance import AWSLAMBDARIC, BUILTIN, Worker
from tap.local.specs import ApiSpec, FunctionSpec
from tests.local.builders import build_api_spec, build_function_spec, code_zip

REGION = "us-east-1"
ACCOUNT = "123456789012"

APP = r"""
import json, logging, os, sys, time

logger = logging.getLogger("app")

def handler(event, context):
    path = event["rawPath"]
    if path == "/ok":
        return {"statusCode": 201, "headers": {"x-a": "b"}, "body": json.dumps({
            "function_name": context.function_name,
            "memory": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn,
            "group": context.log_group_name,
            "version": context.function_version,
            "request_id_shape": len(context.aws_request_id),
            "remaining_positive": context.get_remaining_time_in_millis() > 0,
            "trace": os.environ.get("_X_AMZN_TRACE_ID", "")[:7],
            "credentials": sorted(k for k in os.environ if "SECRET" in k or "KEY_ID" in k),
            "unicode": "h\u00e9llo",
        })}
    if path == "/plain":
        return {"hello": "w\u00f6rld", "n": [1, 2.5, None]}
    if path == "/raise":
        def inner():
            raise ValueError("bad value")
        inner()
    if path == "/timeout":
        time.sleep(30)
    if path == "/huge":
        return {"statusCode": 200, "body": "x" * (6 * 1024 * 1024 + 10)}
    if path == "/unserializable":
        return {"statusCode": 200, "body": object()}
    if path == "/log":
        print("a print line")
        print("to stderr", file=sys.stderr)
        logger.debug("debug %s", 1)
        logger.info("info", extra={"orderId": 7})
        logger.warning("warning")
        logger.error("error")
        logger.critical("critical")
        logging.getLogger().info({"a": "dict message"})
        try:
            1 / 0
        except ZeroDivisionError:
            logger.exception("caught")
    return {"statusCode": 200, "body": "fallthrough"}
"""

INIT_FAILURES = {
    "raises": "raise RuntimeError('broken at import')\n",
    "syntax": "def handler(:\n",
    "imports": "import no_such_module_anywhere\n",
}


def spec(name: str, files: dict[str, str], handler: str, log_format: str) -> FunctionSpec:
    return build_function_spec(
        name,
        code_zip(files),
        handler,
        region=REGION,
        account=ACCOUNT,
        environment={"ENVIRONMENT": "Test"},
        timeout_s=1.0,
        memory_mb=256,
        log_format=log_format,
        application_log_level="DEBUG",
    )


def api(routes: dict[str, str]) -> ApiSpec:
    return build_api_spec(routes, region=REGION, account=ACCOUNT)


class Lines:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str | None, str, LogKind]] = []
        self.lock = threading.Lock()

    def __call__(
        self, function: str, request_id: str | None, line: str, kind: LogKind, stream: str
    ) -> None:
        with self.lock:
            self.entries.append((function, request_id, line, kind))

    def take(self) -> list[tuple[str, str | None, str, LogKind]]:
        with self.lock:
            taken, self.entries = self.entries, []
        return taken


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
_NUMBER_MS = re.compile(r"\d+(\.\d+)? (ms|seconds)")
_CODE_DIR = re.compile(r"/[^\s\"']*tap-lambda-[^/\s\"']+")


def normalise(text: str) -> str:
    text = _UUID.sub("<id>", text)
    text = _TIME.sub("<time>", text)
    text = _NUMBER_MS.sub(r"<n> \2", text)
    return _CODE_DIR.sub("<code>", text)


def run_all(worker: Worker, log_format: str) -> dict[str, Any]:
    """Every case through one worker: case -> (status, headers, body, normalised lines)."""
    lines = Lines()
    functions = {
        "app": spec("app", {"app.py": APP}, "app.handler", log_format),
        **{
            f"init-{kind}": spec(f"init-{kind}", {"bad.py": text}, "bad.handler", log_format)
            for kind, text in INIT_FAILURES.items()
        },
        "init-missing-handler": spec(
            "init-missing-handler", {"app.py": APP}, "app.nope", log_format
        ),
    }
    routes = {f"GET /{name}": name for name in functions if name != "app"}
    routes["ANY /{proxy+}"] = "app"
    cases = ["/ok", "/plain", "/raise", "/timeout", "/huge", "/unserializable", "/log"]
    cases += [f"/{name}" for name in functions if name != "app"]
    results: dict[str, Any] = {}
    with Emulator(api(routes), functions, log_sink=lines, worker=worker) as emulator:
        for case in cases:
            connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
            connection.request("GET", case)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            headers = sorted(
                (k.lower(), v)
                for k, v in response.getheaders()
                if k.lower() not in ("date", "apigw-requestid", "x-request-id")
            )
            records = [
                (kind, request_id is not None, normalise(line))
                for _, request_id, line, kind in lines.take()
            ]
            results[case] = (response.status, headers, normalise(body.decode()), records)
    return results


@pytest.mark.parametrize("log_format", ["JSON", "Text"])
def test_awslambdaric_and_the_built_in_worker_answer_and_log_alike(log_format: str) -> None:
    real = run_all(AWSLAMBDARIC, log_format)
    builtin = run_all(BUILTIN, log_format)

    assert real.keys() == builtin.keys()
    for case in real:
        assert builtin[case] == real[case], case
    # the cases did what they are for
    assert [real[case][0] for case in real] == [
        201,
        200,
        500,
        500,
        500,
        500,
        200,
        500,
        500,
        500,
        500,
    ]


def _error_record(lines: list[tuple[LogKind, bool, str]]) -> dict[str, Any]:
    for _, _, line in lines:
        if line.startswith("{") and '"errorType"' in line and '"level": "ERROR"' in line:
            record: dict[str, Any] = json.loads(line)
            if "logger" not in record:
                return record
    raise AssertionError(f"no error record in {lines}")


def test_under_awslambdaric_a_raised_error_is_lambdas_json_error_record() -> None:
    results = run_all(AWSLAMBDARIC, "JSON")
    status, _, body, lines = results["/raise"]

    assert status == 500
    assert json.loads(body) == {"message": "Internal Server Error"}
    record = _error_record(lines)
    assert record["errorType"] == "ValueError"
    assert record["errorMessage"] == "bad value"
    assert record["requestId"] == "<id>"
    assert record["stackTrace"][0].startswith('  File "<code>/app.py"')
    assert any("in inner" in frame for frame in record["stackTrace"])
    assert set(record) == {
        "timestamp",
        "level",
        "errorType",
        "errorMessage",
        "requestId",
        "stackTrace",
    }


def test_under_awslambdaric_the_log_levels_and_records_are_lambdas() -> None:
    lines = run_all(AWSLAMBDARIC, "JSON")["/log"][3]
    function = [line for kind, _, line in lines if kind == "function"]

    assert function[:2] == ["a print line", "to stderr"]  # print stays plain (rule 21)
    records = [json.loads(line) for line in function[2:]]
    assert [r["level"] for r in records] == [
        "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "INFO", "ERROR"
    ]  # fmt: skip
    assert records[1]["orderId"] == 7
    assert records[5]["message"] == {"a": "dict message"}
    assert records[6]["errorType"] == "ZeroDivisionError"
    assert all(r["requestId"] == "<id>" for r in records)


def test_an_init_failure_is_reported_as_lambda_does() -> None:
    lines = run_all(AWSLAMBDARIC, "JSON")["/init-imports"][3]

    platform = [line for kind, _, line in lines if kind == "platform"]
    assert platform[0] == "INIT_START Runtime Version: python:3.13"
    assert platform[-1].startswith("INIT_REPORT Init Duration: <n> ms\tPhase: init\tStatus: error")
    assert platform[-1].endswith("Error Type: Runtime.ImportModuleError")
    record = _error_record(lines)
    assert record["errorMessage"].startswith("Unable to import module 'bad': No module named")
