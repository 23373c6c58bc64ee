"""The pack as the Pulumi CLI runs it: ``python -m pulumi.policy <engine> tap/policy``.

The language host for policy packs (pulumi/policy/__main__.py) runs the pack's folder with
runpy; constructing PolicyPack starts the analyzer's gRPC server on 127.0.0.1 and prints
its port. The test talks to that server with the engine's own protobuf messages, so the
whole chain is exercised: the protocol, pulumi_policy's deserialization and unknown-value
proxies, tap/policy/pack.py's adaptation, the rules. Only the CLI itself is missing.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tap.policy import rules as r
from tests.policy.stacks import UNKNOWN_STRING, from_recording, mutate, one
from tests.pulumi_mocks import run_program

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 10.0
MANDATORY = analyzer_pb2.MANDATORY
ADVISORY = analyzer_pb2.ADVISORY


# The served pack's rules check against today's date (pack.policies() defaults to
# date.today). The host is started through this launcher, which binds the rules to
# SERVED_TODAY first, so what the pack answers never depends on the machine's clock; the
# rest of the chain (the host's runpy of tap/policy, PolicyPack, gRPC) is the real one.
# The day before python3.10 and python3.11 were deprecated: a pack still on the real clock
# would not list them as supported.
SERVED_TODAY = date(2026, 6, 29)
LAUNCHER = f"""
import datetime, runpy, sys
sys.path.insert(0, {str(REPO)!r})
from tap.policy import pack
_policies = pack.policies
pack.policies = lambda today=lambda: datetime.date.fromisoformat({SERVED_TODAY.isoformat()!r}): (
    _policies(today)
)
sys.argv[0] = "pulumi.policy"
runpy.run_module("pulumi.policy", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        # The engine address is only parsed by the host; nothing here calls the engine.
        [sys.executable, "-c", LAUNCHER, "127.0.0.1:1", str(REPO / "tap" / "policy")],
        cwd=REPO,
        # The host prints the port with print(): through a pipe that is block-buffered and
        # would never arrive without this.
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = _read_port(process)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_S)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _read_port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=START_TIMEOUT_S)
    # The host prints its port once; it exits (EOF) if the pack fails to load.
    line = process.stdout.readline() if ready else ""
    if not line.strip().isdigit():
        process.kill()
        _, stderr = process.communicate(timeout=10)
        raise AssertionError(f"the pack did not start: {line!r}\n{stderr}")
    return int(line)


_DROP = object()


def _struct(props: Any) -> struct_pb2.Struct:
    """Properties as the engine sends them; values JSON cannot hold (assets) are left out."""

    def plain(value: Any) -> Any:
        if value is r.UNKNOWN:
            return UNKNOWN_STRING
        if isinstance(value, dict):
            items = ((k, plain(v)) for k, v in value.items())
            return {k: v for k, v in items if v is not _DROP}
        if isinstance(value, list):
            return [v for v in map(plain, value) if v is not _DROP]
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        return _DROP

    struct = struct_pb2.Struct()
    struct.update(plain(dict(props)))
    return struct


def _provider(resource: r.Resource) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        type="pulumi:providers:aws",
        properties=_struct(resource.provider or {}),
        urn="urn:pulumi:dev::tap::pulumi:providers:aws::tap-aws",
        name="tap-aws",
    )


def analyze(stub: analyzer_pb2_grpc.AnalyzerStub, resource: r.Resource) -> Any:
    request = analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        properties=_struct(resource.props),
        urn=resource.urn,
        name=resource.name,
        provider=_provider(resource),
    )
    return stub.Analyze(request, timeout=CALL_TIMEOUT_S)


def analyze_stack(stub: analyzer_pb2_grpc.AnalyzerStub, stack: list[r.Resource]) -> Any:
    resources = [
        analyzer_pb2.AnalyzerResource(
            type=x.type,
            properties=_struct(x.props),
            urn=x.urn,
            name=x.name,
            provider=_provider(x),
        )
        for x in stack
    ]
    return stub.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=CALL_TIMEOUT_S
    )


@pytest.fixture(scope="module")
def default_stack() -> list[r.Resource]:
    return from_recording(run_program({}))


def test_the_served_pack_declares_every_rule_with_its_level(analyzer: Any) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT_S)

    assert info.name == "tap"
    assert [(p.name, p.enforcementLevel) for p in info.policies] == [
        (rule.id, MANDATORY if rule.severity == "mandatory" else ADVISORY) for rule in r.RULES
    ]


def test_the_default_stack_draws_no_mandatory_diagnostic(
    analyzer: Any, default_stack: list[r.Resource]
) -> None:
    diagnostics = [d for x in default_stack for d in analyze(analyzer, x).diagnostics]
    diagnostics += list(analyze_stack(analyzer, default_stack).diagnostics)

    assert [(d.policyName, d.message) for d in diagnostics if d.enforcementLevel == MANDATORY] == []
    assert {d.policyName for d in diagnostics} == {"TAP-LAMBDA-006", "TAP-LOGS-002"}


def test_a_deprecated_runtime_is_a_mandatory_diagnostic(
    analyzer: Any, default_stack: list[r.Resource]
) -> None:
    stack = mutate(default_stack, r.LAMBDA_FUNCTION, ["runtime"], "python3.9")

    response = analyze(analyzer, one(stack, r.LAMBDA_FUNCTION))

    (diagnostic,) = [d for d in response.diagnostics if d.policyName == "TAP-LAMBDA-001"]
    description, message = diagnostic.message.splitlines()
    assert diagnostic.enforcementLevel == MANDATORY
    assert description == r.RULES_BY_ID["TAP-LAMBDA-001"].description
    # the supported runtimes are those of SERVED_TODAY, not of the machine's clock
    assert message == (
        "[TAP-LAMBDA-001] tap-compute-function (aws:lambda/function:Function) runtime "
        "'python3.9' was deprecated on 2025-12-15 and gets no security patches; use one of "
        "python3.10, python3.11, python3.12, python3.13, python3.14"
    )


def test_the_served_pack_checks_runtimes_against_the_injected_day(
    analyzer: Any, default_stack: list[r.Resource]
) -> None:
    stack = mutate(default_stack, r.LAMBDA_FUNCTION, ["runtime"], "python3.11")

    response = analyze(analyzer, one(stack, r.LAMBDA_FUNCTION))

    assert [d.policyName for d in response.diagnostics if d.policyName == "TAP-LAMBDA-001"] == []


def test_an_unknown_value_is_the_engines_preview_advisory(
    analyzer: Any, default_stack: list[r.Resource]
) -> None:
    stack = mutate(default_stack, r.IAM_ROLE_POLICY, ["policy"], UNKNOWN_STRING)

    response = analyze(analyzer, one(stack, r.IAM_ROLE_POLICY))

    assert {(d.policyName, d.enforcementLevel) for d in response.diagnostics} == {
        ("TAP-IAM-001", ADVISORY),
        ("TAP-IAM-002", ADVISORY),
    }
    assert all("can't run policy" in d.message for d in response.diagnostics)


def test_a_stack_violation_is_reported_against_the_resources_urn(
    analyzer: Any, default_stack: list[r.Resource]
) -> None:
    other = "arn:aws:execute-api:us-east-1:123456789012:otherapi01/*/*"
    stack = mutate(default_stack, r.LAMBDA_PERMISSION, ["sourceArn"], other)

    response = analyze_stack(analyzer, stack)

    mandatory = [
        (d.policyName, d.urn) for d in response.diagnostics if d.enforcementLevel == MANDATORY
    ]
    assert mandatory == [("TAP-API-004", one(stack, r.LAMBDA_PERMISSION).urn)]
