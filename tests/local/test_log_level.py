"""Log-level filtering as Lambda does it (docs/http-api.md rule 30), in the emulator and in
local mode: with the JSON log format Lambda drops every output line below the function's
application log level, and a line without a ``level`` counts as INFO. The request's EMF
line has no level, so ``tap:logLevel`` WARN or ERROR must not become Lambda's level."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tap import compute
from tap.local.deploy.deployment import deploy
from tap.local.gateway.emulator import Emulator
from tap.local.runtime.invocation import line_level, passes_log_level
from tap.local.specs import FunctionSpec
from tests.local.builders import code_zip, fresh_account
from tests.local.test_emulator import api_spec, call, function_spec

REPO_ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------------------
# The filter itself


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ('{"level": "debug", "msg": "x"}', "DEBUG"),  # any case (the AWS docs' example)
        ('{"level":"WARN","message":"x"}', "WARN"),
        ('{"level":"WARNING","message":"x"}', "WARN"),  # Python's name, as the runtime writes
        ('{"level":"CRITICAL"}', "FATAL"),
        ('{"level":"TRACE"}', "TRACE"),
        ('{"_aws":{"Timestamp":1},"Requests":1}', "INFO"),  # an EMF line: no level
        ('{"level":"LOUD"}', "INFO"),  # invalid: INFO
        ('{"level":3}', "INFO"),
        ("[1, 2]", "INFO"),
        ("{not json", "INFO"),
        ("plain print line", "INFO"),
    ],
)
def test_a_line_has_its_json_level_else_info(line: str, level: str) -> None:
    assert line_level(line) == level


@pytest.mark.parametrize(
    ("level", "kept"),
    [
        ("TRACE", ["trace", "emf", "plain", "warn", "error"]),
        ("DEBUG", ["emf", "plain", "warn", "error"]),
        ("INFO", ["emf", "plain", "warn", "error"]),
        ("WARN", ["warn", "error"]),
        ("ERROR", ["error"]),
        ("FATAL", []),
    ],
)
def test_json_format_keeps_only_lines_at_or_above_the_application_level(
    level: str, kept: list[str]
) -> None:
    lines = {
        "trace": '{"level":"TRACE"}',
        "emf": '{"_aws":{"Timestamp":1},"Requests":1}',
        "plain": "plain",
        "warn": '{"level":"WARNING"}',
        "error": '{"level":"ERROR"}',
    }
    assert [k for k, line in lines.items() if passes_log_level(line, "JSON", level)] == kept


def test_text_format_filters_nothing() -> None:
    # Level filtering needs the JSON log format (AWS docs, "Log-level filtering").
    assert passes_log_level('{"level":"DEBUG"}', "Text", "ERROR")
    assert passes_log_level("plain", "Text", "FATAL")


# ---------------------------------------------------------------------------------------
# In the emulator, with a real worker process

LEVELS_FUNCTION = r"""
import json, logging

def handler(event, context):
    print(json.dumps({"_aws": {"Timestamp": 1}, "Requests": 1}))
    print("plain print line")
    print(json.dumps({"level": "error", "message": "printed error"}))
    logging.getLogger("fn").warning("a WARN record")
    logging.getLogger("fn").error("an ERROR record")
    return {"statusCode": 200, "body": "{}"}
"""


def _run(spec: FunctionSpec, path: str = "/x") -> list[str]:
    lines: list[str] = []
    with Emulator(
        api_spec({"GET /x": "fn", "GET /health": "fn"}),
        {"fn": spec},
        on_function_log=lambda _, line: lines.append(line),
    ) as emulator:
        assert call(emulator, "GET", path).status == 200, lines
    return lines


def test_an_error_application_level_drops_lines_without_a_level_and_warn_records() -> None:
    # GIVEN a function whose Lambda application log level is ERROR (what the stack set
    # for tap:logLevel=ERROR before the fix)
    spec = function_spec()
    spec = FunctionSpec(
        **{
            **spec.__dict__,
            "zip_bytes": code_zip({"testfn/__init__.py": "", "testfn/main.py": LEVELS_FUNCTION}),
            "application_log_level": "ERROR",
        }
    )

    # WHEN it runs
    output = [
        line for line in _run(spec) if not line.startswith(("INIT_START", "START", "END", "REPORT"))
    ]

    # THEN only ERROR lines reach the log, as on Lambda: the EMF line is gone
    assert [json.loads(line).get("message") for line in output] == [
        "printed error",
        "an ERROR record",
    ]


def test_the_real_function_under_log_level_error_keeps_its_metrics_line_only() -> None:
    # GIVEN the project's code with a wrapper that logs a WARN and an ERROR record, configured
    # as the stack configures it for tap:logLevel=ERROR
    wrapper = (
        "import logging\n"
        "from app import handler as real\n"
        "def handler(event, context):\n"
        "    logging.getLogger('app.handler').warning('a WARN record')\n"
        "    logging.getLogger('app.handler').error('an ERROR record')\n"
        "    return real.handler(event, context)\n"
    )
    files: dict[str, str | bytes] = {
        name: path.read_bytes() for name, path in compute.code_files().items()
    }
    files["wrapper.py"] = wrapper
    base = function_spec("tap")
    spec = FunctionSpec(
        **{
            **base.__dict__,
            "name": "fn",
            "zip_bytes": code_zip(files),
            "handler": "wrapper.handler",
            "application_log_level": compute.lambda_application_log_level("ERROR"),
            "environment": {**base.environment, compute.LOG_LEVEL_ENV: "ERROR"},
        }
    )

    # WHEN a request arrives
    lines = _run(spec, "/health")

    # THEN the request's EMF line is in the log, the WARN record is filtered, the ERROR kept
    records = [json.loads(line) for line in lines if line.startswith("{")]
    emf = [r for r in records if "_aws" in r]
    assert [(r["path"], r["status"]) for r in emf] == [("/health", 200)], lines
    assert not [r for r in records if r.get("message") == "a WARN record"]
    assert [r["level"] for r in records if r.get("message") == "an ERROR record"] == ["ERROR"]


# ---------------------------------------------------------------------------------------
# Local mode


def test_local_mode_with_log_level_error_shows_each_requests_metrics_line() -> None:
    # GIVEN the project deployed locally with tap:logLevel=ERROR
    lines: list[str] = []
    deployment = deploy(
        program_dir=REPO_ROOT,
        config={"tap:logLevel": "ERROR", "tap:smokeCheck": "false"},
        account_id=fresh_account(),
        on_function_log=lambda _, line: lines.append(line),
    )
    with deployment:
        statuses = []
        for path in ("health", "info", "nope/x"):
            try:
                with urllib.request.urlopen(f"{deployment.url}/{path}", timeout=30) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
    # THEN each request the function served wrote its metrics line (the 404 is API
    # Gateway's own: the function never ran)
    assert statuses == [200, 200, 404]
    emf = [json.loads(line) for line in lines if line.startswith("{") and '"_aws"' in line]
    assert [(r["path"], r["status"]) for r in emf] == [("/health", 200), ("/info", 200)], lines
