"""The archive the stack deploys runs on the standard library alone: built exactly as the
stack builds it, extracted into an empty folder, it answers GET /health in a fresh
interpreter whose sys.path is that folder and the standard library."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from tap import compute
from tests.function.conformance import http_event

# Runs in `python -I -S` (isolated, no site): sys.path is the standard library only until
# the folder is added, as Lambda puts /var/task first. It checks that, then invokes the
# handler the way Lambda does (module app.handler, attribute handler, a context object).
PROBE = r"""
import json, sys, sysconfig
folder = sys.argv[1]
stdlib = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
for entry in sys.path:
    assert "site-packages" not in entry and (
        entry.startswith((sys.base_prefix, sys.base_exec_prefix)) or entry in stdlib
    ), f"not the standard library: {entry}"
sys.path.insert(0, folder)
import importlib
module = importlib.import_module("app.handler")
class Context:
    aws_request_id = "8f5c5e6e-1b2a-4c3d-9e8f-0a1b2c3d4e5f"
    function_name = "tap-function"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tap-function"
    log_group_name = "/aws/lambda/tap-function"
    def get_remaining_time_in_millis(self):
        return 29000
event = json.loads(sys.stdin.read())
response = getattr(module, "handler")(event, Context())
outside = sorted(
    name for name, mod in sys.modules.items()
    if getattr(mod, "__file__", None)
    and not mod.__file__.startswith((folder, sys.base_prefix, sys.base_exec_prefix))
)
print(json.dumps({"response": response, "outside": outside, "path": sys.path}))
"""


def test_deployed_archive_answers_health_on_the_standard_library_alone(tmp_path: Path) -> None:
    # GIVEN the zip the stack uploads, extracted into an empty folder
    data = compute.zip_bytes(compute.code_archive())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    assert "app/handler.py" in names
    assert all(name.startswith("app/") and name.endswith(".py") for name in names)
    assert compute.HANDLER == "app.handler.handler"
    # WHEN a fresh, isolated interpreter imports app.handler from it and calls handler
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", PROBE, str(tmp_path)],
        input=json.dumps(http_event("GET", "/health")),
        capture_output=True,
        text=True,
        timeout=60,
        env={"AWS_REGION": "us-east-1", "ENVIRONMENT": "Production", "APP_VERSION": "9.9.9"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # THEN it answered 200 healthy, the request's EMF line went to stdout, and it loaded no
    # module from outside the folder and the standard library
    *emf_lines, last = result.stdout.splitlines()
    report = json.loads(last)
    response = report["response"]
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "healthy"
    assert json.loads(response["body"])["region"] == "us-east-1"
    assert report["outside"] == []
    assert report["path"][0] == str(tmp_path)
    [emf] = emf_lines
    assert json.loads(emf)["route"] == "GET /health"
    assert not list(tmp_path.rglob("*.pyc"))
