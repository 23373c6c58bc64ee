"""Stacks for the policy tests, in the rules' model (tap.policy.rules.Resource).

* ``from_recording``: the mock runtime's recording of the real program (tests/pulumi_mocks)
  adapted into the model, the way tap/policy/pack.py adapts the engine's arguments.
* ``hand_stack``: a small compliant stack written by hand in the engine's shapes, for rule
  tests that must not depend on the stack's code.
* ``mutate``: one property of one resource changed, everything else untouched.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from tap import engine
from tap.policy import rules as r
from tests.pulumi_mocks import ProgramRun, is_unknown

# "Today" for every test: fixed, so a runtime's deprecation never depends on the calendar.
TODAY = date(2026, 11, 26)

ACCOUNT = "123456789012"
REGION = "us-east-1"
LOG_GROUP_NAME = "/aws/lambda/tap-dev-function"
LOG_GROUP_ARN = engine.log_group_arn(REGION, ACCOUNT, LOG_GROUP_NAME)
API_ID = "a1b2c3d4e5"
EXECUTION_ARN = engine.execute_api_arn(REGION, ACCOUNT, API_ID)
UNKNOWN_STRING = engine.UNKNOWN_STRING  # the engine's unknown string
# A value wrapped the way the engine and the mock runtime wrap a secret.
secret = engine.secret


def from_recording(run: ProgramRun) -> list[r.Resource]:
    """Every custom resource of a recorded run, as a stack validation would see it.

    A stack validation sees each resource's outputs, which include its inputs: the mock
    returns the inputs plus the computed attributes (tests/pulumi_mocks.py). The provider's
    properties are its inputs (``defaultTags`` as JSON text, as the engine passes them).
    """
    resources = []
    for record in run.custom_resources():
        provider = run.provider_of(record)
        props = _known_or_unknown(record.outputs or record.inputs)
        resources.append(
            r.Resource(
                type=record.type,
                name=record.name,
                props=r.normalize(props),
                urn=record.urn,
                provider=r.normalize(provider.inputs) if provider is not None else None,
                # The recording keeps a resource's dependencies, not which property each
                # one flowed into: credit all of them to every property still unknown (in
                # a preview). The engine passes the exact propertyDependencies.
                dependencies={
                    key: record.dependencies for key, value in props.items() if _has_unknown(value)
                },
            )
        )
    return resources


def _known_or_unknown(value: Any) -> Any:
    """The mock runtime's ``Unknown`` (a preview's computed value) as the model's UNKNOWN."""
    if is_unknown(value):
        return r.UNKNOWN
    if isinstance(value, dict):
        return {k: _known_or_unknown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known_or_unknown(v) for v in value]
    return value


def _has_unknown(value: Any) -> bool:
    if value is r.UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def provider_props(environment: str = "Production") -> dict[str, Any]:
    # The engine hands a provider's object inputs over as JSON text.
    return {
        "region": REGION,
        "defaultTags": json.dumps({"tags": {"Environment": environment, "Project": "tap"}}),
    }


def _resource(type_: str, name: str, props: dict[str, Any]) -> r.Resource:
    token = type_.split(":")[-1]
    return r.Resource(
        type=type_,
        name=name,
        props=r.normalize(props),
        urn=f"urn:pulumi:dev::tap::{type_}::{name}-{token.lower()}",
        provider=r.normalize(provider_props()),
    )


def hand_stack() -> list[r.Resource]:
    """A compliant stack in the engine's shapes (numbers as floats, documents as JSON)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{LOG_GROUP_ARN}:*",
            },
            {
                "Sid": "WriteTraces",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
        ],
    }
    access_log = {"requestId": "$context.requestId", "status": "$context.status"}
    return [
        _resource(
            r.IAM_ROLE,
            "role",
            {"name": "tap-dev-role", "assumeRolePolicy": json.dumps(trust), "tags": {}},
        ),
        _resource(
            r.IAM_ROLE_POLICY, "policy", {"role": "tap-dev-role", "policy": json.dumps(policy)}
        ),
        _resource(r.LOG_GROUP, "logs", {"name": LOG_GROUP_NAME, "retentionInDays": 731.0}),
        _resource(
            r.LAMBDA_FUNCTION,
            "function",
            {
                "name": "tap-dev-function",
                "runtime": "python3.13",
                "timeout": 29.0,
                "architectures": ["arm64"],
                "tracingConfig": {"mode": "Active"},
                "reservedConcurrentExecutions": 10.0,
                "loggingConfig": {
                    "logFormat": "JSON",
                    "logGroup": LOG_GROUP_NAME,
                    "applicationLogLevel": "INFO",
                    "systemLogLevel": "INFO",
                },
                "environment": secret({"variables": {"ENVIRONMENT": "Production"}}),
            },
        ),
        _resource(
            r.HTTP_API,
            "api",
            {
                "protocolType": "HTTP",
                "corsConfiguration": {"allowOrigins": ["*"], "allowCredentials": False},
                "executionArn": EXECUTION_ARN,
            },
        ),
        _resource(
            r.HTTP_API_STAGE,
            "stage",
            {
                "name": "$default",
                "defaultRouteSettings": {
                    "throttlingBurstLimit": 200.0,
                    "throttlingRateLimit": 100.0,
                },
                "accessLogSettings": {
                    "destinationArn": LOG_GROUP_ARN + "-access",
                    "format": json.dumps(access_log),
                },
            },
        ),
        _resource(
            r.LAMBDA_PERMISSION,
            "permission",
            {
                "action": "lambda:InvokeFunction",
                "function": "tap-dev-function",
                "principal": "apigateway.amazonaws.com",
                "sourceArn": f"{EXECUTION_ARN}/*/*",
            },
        ),
        _resource(
            r.METRIC_ALARM,
            "errors",
            {"alarmActions": [f"arn:aws:sns:{REGION}:{ACCOUNT}:tap-alarms"]},
        ),
        _resource(
            r.LOG_GROUP,
            "access-logs",
            {"name": LOG_GROUP_NAME + "-access", "retentionInDays": 365.0},
        ),
    ]


def one(stack: Sequence[r.Resource], type_: str, name: str | None = None) -> r.Resource:
    found = [x for x in stack if x.type == type_ and (name is None or x.name == name)]
    assert len(found) == 1, f"expected one {type_} {name or ''}, found {[x.name for x in found]}"
    return found[0]


def _set(props: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for key in path[:-1]:
        props = props.setdefault(key, {})
    if value is DELETE:
        props.pop(path[-1], None)
    else:
        props[path[-1]] = value


DELETE = object()


def mutate(
    stack: Sequence[r.Resource],
    type_: str,
    path: Sequence[str],
    value: Any,
    *,
    name: str | None = None,
    on_provider: bool = False,
) -> list[r.Resource]:
    """``stack`` with one property of one resource set to ``value`` (DELETE removes it).

    ``value`` may be a function of the current value. ``on_provider`` changes the resource's
    provider properties instead.
    """
    target = one(stack, type_, name)
    props = copy.deepcopy(dict(target.provider or {}) if on_provider else dict(target.props))
    if callable(value):
        current: Any = props
        for key in path:
            current = current.get(key) if isinstance(current, dict) else None
        value = value(current)
    _set(props, path, value)
    props = r.normalize(props)  # as the adapters deliver properties: plain, secrets unwrapped
    changed = (
        r.Resource(target.type, target.name, target.props, target.urn, props, target.dependencies)
        if on_provider
        else r.Resource(
            target.type, target.name, props, target.urn, target.provider, target.dependencies
        )
    )
    return [changed if x is target else x for x in stack]


def computed_from(
    stack: Sequence[r.Resource], target: r.Resource, prop: str, value: Any, source: r.Resource
) -> list[r.Resource]:
    """``stack`` as a preview sees it: ``target``'s top-level ``prop`` is ``value`` (holding
    ``r.UNKNOWN``) and the engine says it was computed from ``source``'s outputs."""
    previewed = r.Resource(
        target.type,
        target.name,
        {**target.props, prop: value},
        target.urn,
        target.provider,
        {prop: (source.urn,)},
    )
    return [previewed if x is target else x for x in stack]
