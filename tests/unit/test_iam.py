"""tap/iam.py's policy documents, as plain data (wiring is in test_stack.py)."""

from __future__ import annotations

import json

import parliament
import pytest

from tap import iam

GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tap-dev-function"


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_trust_policy_lets_only_the_lambda_service_assume_the_role() -> None:
    policy = iam.trust_policy()

    assert policy["Version"] == "2012-10-17"
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert "Condition" not in statement


def test_with_active_tracing_the_policy_allows_log_writes_on_the_group_and_xray_writes() -> None:
    policy = iam.execution_policy(GROUP_ARN, "Active")

    logs, traces = policy["Statement"]
    assert logs["Effect"] == "Allow"
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == GROUP_ARN + ":*"
    assert traces["Action"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    # X-Ray offers no resource scoping (docs/http-api.md rule 23)
    assert traces["Resource"] == "*"


def test_without_active_tracing_the_policy_allows_log_writes_only() -> None:
    policy = iam.execution_policy(GROUP_ARN, "PassThrough")

    [logs] = policy["Statement"]
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == GROUP_ARN + ":*"


@pytest.mark.parametrize("tracing", ["Active", "PassThrough"])
def test_no_statement_grants_a_wildcard_action_or_creates_log_groups(tracing: str) -> None:
    for statement in iam.execution_policy(GROUP_ARN, tracing)["Statement"]:
        for action in _actions(statement):
            assert "*" not in action, action
            assert action != "logs:CreateLogGroup"  # the stack creates the group


def test_a_group_arn_with_the_legacy_suffix_is_scoped_the_same() -> None:
    assert iam.log_streams_arn(GROUP_ARN + ":*") == GROUP_ARN + ":*"
    assert iam.log_streams_arn(GROUP_ARN) == GROUP_ARN + ":*"


@pytest.mark.parametrize(
    "arn", ["", "*", "arn:aws:logs:*:*:*", "arn:aws:s3:::bucket", "/aws/lambda/tap-dev-function"]
)
def test_anything_but_a_log_group_arn_is_refused(arn: str) -> None:
    with pytest.raises(ValueError, match="not a CloudWatch Logs log group ARN"):
        iam.execution_policy(arn, "Active")


def test_the_policy_json_is_the_document_as_a_string() -> None:
    text = iam.execution_policy_json(GROUP_ARN, "Active")

    assert isinstance(text, str)
    assert json.loads(text) == iam.execution_policy(GROUP_ARN, "Active")


@pytest.mark.parametrize("tracing", ["Active", "PassThrough"])
def test_parliament_finds_nothing_wrong_with_the_policy(tracing: str) -> None:
    # parliament checks each action against the resource types AWS documents for it: a
    # mismatch (RESOURCE_MISMATCH) would mean the log statement grants nothing.
    findings = parliament.analyze_policy_string(iam.execution_policy_json(GROUP_ARN, tracing))

    assert [(f.issue, f.detail) for f in findings.findings] == []
