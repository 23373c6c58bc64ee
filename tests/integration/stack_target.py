"""The deployed stack the integration tests read: local mode by default, live AWS on demand.

``TAP_TARGET=local`` (default): the real program is deployed once per session into moto
(in this process, on a fresh moto account so no other test's resources are seen) and served
by the emulator; torn down at the end of the session.

``TAP_TARGET=aws``: the outputs of a live stack, from ``TAP_OUTPUTS_FILE`` (a JSON file as
``pulumi stack output --json`` writes it) or else from running that command; boto3 clients
use the caller's normal AWS credentials; the expected config is the stack's
``Pulumi.<TAP_STACK>.yaml`` (default stack ``dev``) with the project defaults.

The tests are the same either way: they only see ``StackUnderTest``.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tap import config as tap_config

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET = os.environ.get("TAP_TARGET", "local")
# Local deploys use an explicit origin list (not the default "*"), so that "another origin
# gets no CORS grant" is observable; a live stack is tested with whatever it configures.
ALLOWED_ORIGIN = "https://app.example.com"
LOCAL_CONFIG = {
    "cors": json.dumps(
        {
            "allowOrigins": [ALLOWED_ORIGIN, "http://localhost:3000"],
            "maxAge": 600,
        }
    ),
}
HTTP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lowercase names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StackUnderTest:
    target: str  # "local" | "aws"
    outputs: dict[str, Any]
    config: tap_config.StackConfig
    _client: Callable[[str], Any]
    # Lambda's LoggingConfig as AWS reports it (LogFormat, LogGroup, ...). moto drops it, so
    # in local mode it is what the deploy sent (the deploy checks the group exists).
    _logging_config: Callable[[str], Mapping[str, Any]]

    def client(self, service: str) -> Any:
        return self._client(service)

    def logging_config(self, function_name: str) -> Mapping[str, Any]:
        return self._logging_config(function_name)

    @property
    def url(self) -> str:
        return str(self.outputs["api_gateway_url"])

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        base = urllib.parse.urlsplit(self.url)
        connection_type = (
            http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(base.netloc, timeout=HTTP_TIMEOUT_S)
        try:
            connection.request(
                method, base.path.rstrip("/") + path, body=body, headers=dict(headers or {})
            )
            response = connection.getresponse()
            return Response(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()


def aws_stack() -> StackUnderTest:
    import boto3

    from tap.local.deploy.stackfile import load_config

    stack = os.environ.get("TAP_STACK", "dev")
    outputs_file = os.environ.get("TAP_OUTPUTS_FILE")
    if outputs_file:
        outputs = json.loads(Path(outputs_file).read_text())
    else:
        # The same stack whose Pulumi.<stack>.yaml gives the expected config below.
        completed = subprocess.run(
            ["pulumi", "stack", "output", "--stack", stack, "--json", "--show-secrets"],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs = json.loads(completed.stdout)
    _, raw = load_config(REPO_ROOT, stack)
    prefix = tap_config.NAMESPACE + ":"
    config = tap_config.parse({k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)})
    region = str(outputs["region"])

    def client(service: str) -> Any:
        return boto3.client(service, region_name=region)

    def logging_config(name: str) -> Mapping[str, Any]:
        found = client("lambda").get_function_configuration(FunctionName=name)
        return dict(found.get("LoggingConfig", {}))

    return StackUnderTest("aws", outputs, config, client, logging_config)
