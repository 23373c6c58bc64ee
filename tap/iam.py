"""IAM layer: the function's execution role and its one inline, least-privilege policy.

The documents are built by pure functions (tested directly in tests/unit/test_iam.py) and
handed to the resources as JSON strings: pulumi-aws 7 takes ``assume_role_policy`` and
``policy`` as strings, and a dict fails (docs/tools.md).

What the role may do, and nothing more:

* write log events to the function's own log group (no ``logs:CreateLogGroup``: the stack
  creates the group, with its retention, before the function exists);
* send X-Ray segments, only when tracing is ``Active``.

No AWS-managed policy (``AWSLambdaBasicExecutionRole`` grants log writes on every log group
of the account: ``arn:aws:logs:*:*:*``), no ``managed_policy_arns`` (deprecated), no
``Action: "*"``. Custom metrics need no permission: they are Embedded Metric Format log
lines, turned into metrics by CloudWatch Logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

POLICY_VERSION = "2012-10-17"
LAMBDA_SERVICE_PRINCIPAL = "lambda.amazonaws.com"
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# X-Ray's write actions support no resource-level scoping: AWS documents Resource "*" for
# them (docs/http-api.md rule 23; AWS managed policy AWSXRayDaemonWriteAccess).
XRAY_WRITE_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
TRACING_ACTIVE = "Active"


def trust_policy() -> dict[str, Any]:
    """The role's trust policy: only the Lambda service may assume it."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "LambdaAssumesThisRole",
                "Effect": "Allow",
                "Principal": {"Service": LAMBDA_SERVICE_PRINCIPAL},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def log_streams_arn(log_group_arn: str) -> str:
    """The ARN pattern of every log stream in the group: ``<group ARN>:*``.

    pulumi-aws 7 reports a log group's ARN without the ``:*`` suffix that older versions
    (and DescribeLogGroups) include; accept both. ``<group>:*`` is the scope the Lambda
    console itself writes into a new function's role, and it covers both actions:
    CreateLogStream (checked against the group) and PutLogEvents (against the stream).
    """
    base = log_group_arn[:-2] if log_group_arn.endswith(":*") else log_group_arn
    if not base.startswith("arn:") or ":log-group:" not in base:
        raise ValueError(f"not a CloudWatch Logs log group ARN: {log_group_arn!r}")
    return f"{base}:*"


def execution_policy(log_group_arn: str, tracing: str) -> dict[str, Any]:
    """The role's inline policy: log writes on this group only; X-Ray writes when tracing
    is Active (with PassThrough the function records no segments of its own)."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteOwnLogGroup",
            "Effect": "Allow",
            "Action": list(LOG_WRITE_ACTIONS),
            "Resource": log_streams_arn(log_group_arn),
        }
    ]
    if tracing == TRACING_ACTIVE:
        statements.append(
            {
                "Sid": "WriteTraces",
                "Effect": "Allow",
                "Action": list(XRAY_WRITE_ACTIONS),
                "Resource": "*",
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def execution_policy_json(log_group_arn: str, tracing: str) -> str:
    return json.dumps(execution_policy(log_group_arn, tracing), sort_keys=True)


@dataclass(frozen=True)
class ExecutionRoleArgs:
    role_name: str
    """Physical name of the role (IAM: at most 64 characters)."""
    policy_name: str
    """Name of the inline policy (unique within the role)."""
    log_group_arn: pulumi.Input[str]
    """ARN of the function's log group: the only log group the role may write to."""
    tracing: str
    """The function's tracing mode; X-Ray permissions only for ``Active``."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """The role's own tags (the provider adds the stack's default tags)."""


class ExecutionRole(pulumi.ComponentResource):
    """The function's execution role with its inline policy."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ExecutionRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tap:iam:ExecutionRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tracing = args.tracing
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="Execution role of the tap function: writes its own logs only",
            assume_role_policy=json.dumps(trust_policy(), sort_keys=True),
            tags=dict(args.tags),
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name=args.policy_name,
            role=self.role.name,
            policy=pulumi.Output.from_input(args.log_group_arn).apply(
                lambda arn: execution_policy_json(arn, tracing)
            ),
            opts=child,
        )
        self.arn = self.role.arn
        self.register_outputs({"arn": self.role.arn, "policy": self.policy.name})
