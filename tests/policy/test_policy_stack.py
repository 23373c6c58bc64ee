"""The real program, recorded under Pulumi's mock runtime, against the policy pack.

* The default stack passes every mandatory rule; the only advisories it draws are the two
  the config contract chooses on purpose (no reserved concurrency by default, 14-day log
  retention in Production).
* For each rule, one property of the recorded stack is changed and exactly that rule fires,
  on exactly that resource: every rule can fail, and no rule fires by accident.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tap.policy import rules as r
from tests.policy.stacks import DELETE, TODAY, from_recording, mutate, one
from tests.pulumi_mocks import aws_class, run_program, takes_tags_in_pulumi_aws

# The two config values that turn the default stack's advisories off too.
HARDENED_CONFIG = {"reservedConcurrency": "10", "logRetentionDays": "365"}
FUNCTION_LOG_GROUP = "tap-logs-group"


@pytest.fixture(scope="module")
def default_stack() -> list[r.Resource]:
    return from_recording(run_program({}))


@pytest.fixture(scope="module")
def hardened_stack() -> list[r.Resource]:
    return from_recording(run_program(HARDENED_CONFIG))


def pairs(stack: list[r.Resource]) -> set[tuple[str, str]]:
    """(rule id, resource) for every violation."""
    return {(v.rule_id, v.resource) for v in r.evaluate(stack, today=TODAY).violations}


# ---------------------------------------------------------------------------------------
# The recorded stacks as they are.


def test_the_default_stack_passes_every_mandatory_rule(default_stack: list[r.Resource]) -> None:
    report = r.evaluate(default_stack, today=TODAY)

    assert report.fired("mandatory") == set()
    assert report.undecided == ()


def test_the_default_stacks_advisories_are_the_contracts_choices(
    default_stack: list[r.Resource],
) -> None:
    report = r.evaluate(default_stack, today=TODAY)
    function = one(default_stack, r.LAMBDA_FUNCTION)

    assert {(v.rule_id, v.resource.rsplit("::", 1)[-1]) for v in report.violations} == {
        ("TAP-LAMBDA-006", function.name),  # reservedConcurrency: default unset
        ("TAP-LOGS-002", FUNCTION_LOG_GROUP),  # logRetentionDays: 14 in Production
        ("TAP-LOGS-002", "tap-http-access-logs"),
    }


def test_the_hardened_stack_draws_no_violation_at_all(hardened_stack: list[r.Resource]) -> None:
    assert r.evaluate(hardened_stack, today=TODAY).violations == ()


def test_every_rule_applies_to_some_resource_of_the_stack(
    default_stack: list[r.Resource],
) -> None:
    # A rule whose types the stack never registers would pass vacuously. The tap:auth and
    # tap:domain rules' types exist only with those keys (tests/policy/test_policy_auth.py).
    unused = [rule.id for rule in r.RULES if not any(rule.applies_to(x) for x in default_stack)]

    assert unused == ["TAP-AUTH-002", "TAP-DOMAIN-001"]


def test_tracing_passthrough_passes_every_mandatory_rule() -> None:
    stack = from_recording(run_program({"tracing": "PassThrough"}))

    report = r.evaluate(stack, today=TODAY)

    assert report.fired("mandatory") == set()
    assert "TAP-LAMBDA-005" in report.fired("advisory")


def test_in_a_preview_only_the_computed_policy_document_is_undecided() -> None:
    # The inline policy embeds the log group's ARN, unknown until the group exists: the
    # engine then reports "can't run policy during preview" and runs it again at `up`.
    stack = from_recording(run_program({}, preview=True))

    report = r.evaluate(stack, today=TODAY)

    assert report.fired("mandatory") == set()
    assert {(u.rule_id, u.what) for u in report.undecided} == {
        ("TAP-IAM-001", "policy"),
        ("TAP-IAM-002", "policy"),
    }


def test_the_taggable_types_agree_with_pulumi_aws(default_stack: list[r.Resource]) -> None:
    # TAGGABLE_TYPES lets the tag rule check resources that set no tags of their own; the
    # pack cannot import pulumi-aws to ask, so the list is checked against it here.
    assert [t for t in r.TAGGABLE_TYPES if not takes_tags_in_pulumi_aws(t)] == []
    recorded = {x.type for x in default_stack if aws_class(x.type) is not None}
    assert {t for t in recorded if takes_tags_in_pulumi_aws(t)} <= set(r.TAGGABLE_TYPES)


# ---------------------------------------------------------------------------------------
# One property changed, one rule fires.


def _document(edit: Callable[[dict[str, Any]], None]) -> Callable[[str], str]:
    """A change to a JSON policy document held as a string, as pulumi-aws takes it."""

    def change(text: str) -> str:
        document = json.loads(text)
        edit(document)
        return json.dumps(document)

    return change


def _first_statement(**changes: Any) -> Callable[[str], str]:
    return _document(lambda d: d["Statement"][0].update(changes))


def _access_log_without_request_id(text: str) -> str:
    record = json.loads(text)
    del record["requestId"]
    return json.dumps(record)


AWS_MANAGED = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
OTHER_API = "arn:aws:execute-api:us-east-1:123456789012:otherapi01/*/*"

# rule id -> (type, logical name or None when unique, property path, new value)
MUTATIONS: dict[str, list[tuple[str, str | None, list[str], Any]]] = {
    "TAP-TAG-001": [(r.LAMBDA_FUNCTION, None, ["tags", "Environment"], "")],
    "TAP-IAM-001": [(r.IAM_ROLE_POLICY, None, ["policy"], _first_statement(Action="logs:*"))],
    "TAP-IAM-002": [(r.IAM_ROLE_POLICY, None, ["policy"], _first_statement(Resource="*"))],
    "TAP-IAM-003": [(r.IAM_ROLE, None, ["managedPolicyArns"], [AWS_MANAGED])],
    "TAP-IAM-004": [
        (
            r.IAM_ROLE,
            None,
            ["assumeRolePolicy"],
            _first_statement(Principal={"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}),
        )
    ],
    "TAP-LAMBDA-001": [(r.LAMBDA_FUNCTION, None, ["runtime"], "python3.11")],
    "TAP-LAMBDA-002": [(r.LAMBDA_FUNCTION, None, ["timeout"], 30.0)],
    "TAP-LAMBDA-003": [
        (r.LAMBDA_FUNCTION, None, ["loggingConfig", "logFormat"], "Text"),
        (r.LAMBDA_FUNCTION, None, ["loggingConfig", "logGroup"], "/aws/lambda/unmanaged"),
    ],
    "TAP-LOGS-001": [(r.LOG_GROUP, FUNCTION_LOG_GROUP, ["retentionInDays"], DELETE)],
    "TAP-API-001": [(r.HTTP_API, None, ["corsConfiguration", "allowCredentials"], True)],
    "TAP-API-002": [
        (r.HTTP_API_STAGE, None, ["defaultRouteSettings", "throttlingRateLimit"], DELETE)
    ],
    "TAP-API-003": [
        (r.HTTP_API_STAGE, None, ["accessLogSettings", "format"], _access_log_without_request_id)
    ],
    "TAP-API-004": [
        (r.LAMBDA_PERMISSION, None, ["sourceArn"], OTHER_API),
        (r.LAMBDA_PERMISSION, None, ["sourceArn"], DELETE),
    ],
    "TAP-ALARM-001": [(r.METRIC_ALARM, "tap-monitoring-function-errors", ["alarmActions"], [])],
    "TAP-LAMBDA-004": [(r.LAMBDA_FUNCTION, None, ["architectures"], ["x86_64"])],
    "TAP-LAMBDA-005": [(r.LAMBDA_FUNCTION, None, ["tracingConfig", "mode"], "PassThrough")],
    "TAP-LAMBDA-006": [(r.LAMBDA_FUNCTION, None, ["reservedConcurrentExecutions"], DELETE)],
    "TAP-LOGS-002": [(r.LOG_GROUP, FUNCTION_LOG_GROUP, ["retentionInDays"], 14.0)],
}
CASES = [
    pytest.param(rule_id, *mutation, id=f"{rule_id}-{index}")
    for rule_id, mutations in MUTATIONS.items()
    for index, mutation in enumerate(mutations)
]


# Their resources exist only with tap:auth / tap:domain: their mutations are in
# tests/policy/test_policy_auth.py, on a stack that has them.
AUTH_AND_DOMAIN_RULES = ("TAP-AUTH-001", "TAP-AUTH-002", "TAP-DOMAIN-001", "TAP-DOMAIN-002")


def test_every_rule_has_a_mutation() -> None:
    expected = [rule.id for rule in r.RULES if rule.id not in AUTH_AND_DOMAIN_RULES]
    assert list(MUTATIONS) == expected


@pytest.mark.parametrize(("rule_id", "type_", "name", "path", "value"), CASES)
def test_one_change_fires_exactly_that_rule_on_that_resource(
    hardened_stack: list[r.Resource],
    rule_id: str,
    type_: str,
    name: str | None,
    path: list[str],
    value: Any,
) -> None:
    # GIVEN the recorded stack with no violation at all
    before = pairs(hardened_stack)
    target = one(hardened_stack, type_, name)
    # WHEN one property of one resource changes
    after = pairs(mutate(hardened_stack, type_, path, value, name=name))
    # THEN exactly that rule fires, on exactly that resource, and nothing else changes
    assert before == set()
    assert after == {(rule_id, target.label)}


MANDATORY_CASES = [case for case in CASES if r.RULES_BY_ID[case.values[0]].severity == "mandatory"]


@pytest.mark.parametrize(("rule_id", "type_", "name", "path", "value"), MANDATORY_CASES)
def test_on_the_default_stack_the_same_change_fires_only_that_mandatory_rule(
    default_stack: list[r.Resource],
    rule_id: str,
    type_: str,
    name: str | None,
    path: list[str],
    value: Any,
) -> None:
    report = r.evaluate(mutate(default_stack, type_, path, value, name=name), today=TODAY)

    assert report.fired("mandatory") == {rule_id}


def test_without_the_providers_default_tags_every_taggable_resource_fails(
    default_stack: list[r.Resource],
) -> None:
    # The stack tags through the provider's default tags: they are what TAP-TAG-001 counts.
    stack = [
        r.Resource(x.type, x.name, x.props, x.urn, {"region": "us-east-1"}, x.dependencies)
        for x in default_stack
    ]

    fired = {resource for rule_id, resource in pairs(stack) if rule_id == "TAP-TAG-001"}

    assert fired == {x.label for x in stack if r.is_taggable(x)}
    assert len(fired) >= 8
