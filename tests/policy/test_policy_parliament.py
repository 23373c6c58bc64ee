"""The stack's IAM permissions policies through parliament, with its community auditors.

The gate is parliament's own CLI logic (``parliament --include-community-auditors``):
the community auditors' config loaded, every finding enhanced with its severity, and no
finding tolerated, whatever its severity. A wildcard policy fails the same gate, so the
gate can fail.

parliament lints identity (permissions) policies. The role's trust policy is a resource
policy with a ``Principal`` and no ``Resource``: parliament reports it MALFORMED by
construction, so the trust policy is gated by the pack's TAP-IAM-004 instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import parliament
import pytest

from tap import iam
from tap.policy import rules as r
from tests.policy.stacks import TODAY, from_recording, one
from tests.pulumi_mocks import run_program

COMMUNITY_CONFIG = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
LOG_GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tap-dev-function"


def parliament_findings(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(issue, severity) for every finding, as `parliament --include-community-auditors`."""
    parliament.override_config(str(COMMUNITY_CONFIG))
    policy = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True)
    return sorted(
        (finding.issue, finding.severity)
        for finding in (parliament.enhance_finding(f) for f in policy.findings)
    )


def statement(actions: list[str], resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }


@pytest.fixture(scope="module")
def default_stack() -> list[r.Resource]:
    return from_recording(run_program({}))


@pytest.mark.parametrize("tracing", ["Active", "PassThrough"])
def test_the_execution_policy_has_no_finding(tracing: str) -> None:
    document = iam.execution_policy(LOG_GROUP_ARN, tracing)

    assert parliament_findings(document) == []


def test_the_policy_the_default_stack_deploys_has_no_finding(
    default_stack: list[r.Resource],
) -> None:
    # What the RolePolicy resource actually receives, not only what the pure function makes.
    deployed = json.loads(one(default_stack, r.IAM_ROLE_POLICY).props["policy"])

    assert "xray:PutTraceSegments" in json.dumps(deployed)  # the default traces: Active
    assert parliament_findings(deployed) == []


# Wildcard policies, exactly what the gate finds in each, and the pack's rules that fire:
# TAP-IAM-001 for a wildcard action, TAP-IAM-002 for a `*` resource. (`"Action": "*"` fails it too,
# but parliament expands every action of every service for it: about 10 s per run.)
WILDCARD_POLICIES = {
    # The templates' shape: every logs and X-Ray action, everywhere.
    "service-wildcards-on-star": (
        statement(["logs:*", "xray:*"], "*"),
        [("PERMISSIONS_MANAGEMENT_ACTIONS", "MEDIUM"), ("RESOURCE_STAR", "LOW")],
        {"TAP-IAM-001", "TAP-IAM-002"},
    ),
    "iam-wildcard": (
        statement(["iam:*"], "*"),
        [
            ("CREDENTIALS_EXPOSURE", "MEDIUM"),
            ("PERMISSIONS_MANAGEMENT_ACTIONS", "MEDIUM"),
            ("PRIVILEGE_ESCALATION", "HIGH"),
            ("RESOURCE_STAR", "LOW"),
        ],
        {"TAP-IAM-001", "TAP-IAM-002"},
    ),
    # AWSLambdaBasicExecutionRole's mistake: the right actions, no scope.
    "log-writes-on-star": (
        statement(list(iam.LOG_WRITE_ACTIONS), "*"),
        [("RESOURCE_STAR", "LOW")],
        {"TAP-IAM-002"},
    ),
    "logs-wildcard-on-the-group": (
        statement(["logs:*"], f"{LOG_GROUP_ARN}:*"),
        [("RESOURCE_MISMATCH", "MEDIUM")],
        {"TAP-IAM-001"},
    ),
}


@pytest.mark.parametrize(
    ("document", "expected"),
    [(document, findings) for document, findings, _ in WILDCARD_POLICIES.values()],
    ids=WILDCARD_POLICIES,
)
def test_a_wildcard_policy_fails_the_same_gate(
    document: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert sorted(set(parliament_findings(document))) == expected


@pytest.mark.parametrize(
    ("document", "findings", "rules"), WILDCARD_POLICIES.values(), ids=WILDCARD_POLICIES
)
def test_the_pack_fails_what_parliament_fails(
    default_stack: list[r.Resource],
    document: dict[str, Any],
    findings: list[tuple[str, str]],
    rules: set[str],
) -> None:
    # GIVEN the default stack with its inline policy replaced by the wildcard one
    policy = one(default_stack, r.IAM_ROLE_POLICY)
    changed = r.Resource(
        policy.type, policy.name, {**policy.props, "policy": json.dumps(document)}, policy.urn
    )
    stack = [changed if x is policy else x for x in default_stack]
    # WHEN the pack runs THEN the wildcard IAM rules for what parliament found fire, and
    # nothing else
    fired = r.evaluate(stack, today=TODAY).fired("mandatory")

    assert findings
    assert fired == rules
