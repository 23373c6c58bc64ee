"""Each rule of tap/policy/rules/ on hand-written resources in the engine's shapes.

The hand stack (tests/policy/stacks.py) is compliant; each test changes one property and
asserts exactly which rule fires and what it says. tests/policy/test_policy_stack.py does
the same on the real program's recording.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from tap.policy import rules as r
from tap.policy.rules import function as function_rules
from tap.policy.rules import run as running
from tests.policy.stacks import (
    DELETE,
    EXECUTION_ARN,
    LOG_GROUP_ARN,
    TODAY,
    UNKNOWN_STRING,
    computed_from,
    hand_stack,
    mutate,
    one,
    provider_props,
    secret,
)

MANDATORY = {rule.id for rule in r.RULES if rule.severity == "mandatory"}


def evaluate(stack: list[r.Resource], today: date = TODAY) -> r.Report:
    return r.evaluate(stack, today=today)


def new_violations(stack: list[r.Resource], today: date = TODAY) -> list[r.Violation]:
    """The violations ``stack`` has that the compliant hand stack has not."""
    baseline = set(evaluate(hand_stack(), today).violations)
    return [v for v in evaluate(stack, today).violations if v not in baseline]


def only_fired(stack: list[r.Resource], rule_id: str, today: date = TODAY) -> list[str]:
    """Assert that exactly ``rule_id`` fires beyond the baseline; return its messages."""
    fresh = new_violations(stack, today)
    assert {v.rule_id for v in fresh} == {rule_id}, [(v.rule_id, v.message) for v in fresh]
    return [v.message for v in fresh]


def policy_doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# ---------------------------------------------------------------------------------------
# The baseline.


def test_the_hand_stack_passes_every_rule() -> None:
    report = evaluate(hand_stack())

    assert report.violations == ()
    assert report.undecided == ()


def test_rule_ids_are_unique_and_every_rule_says_what_it_mirrors() -> None:
    ids = [rule.id for rule in r.RULES]

    assert len(ids) == len(set(ids))
    assert all(rule.mirrors and rule.description for rule in r.RULES)
    assert {rule.severity for rule in r.RULES} == {"mandatory", "advisory"}


# ---------------------------------------------------------------------------------------
# TAP-TAG-001


def test_tag_rule_counts_the_providers_default_tags_given_as_json_text() -> None:
    function = one(hand_stack(), r.LAMBDA_FUNCTION)

    assert r.effective_tags(function)["Environment"] == "Production"
    assert "tags" not in function.props


@pytest.mark.parametrize(
    "default_tags",
    [
        {"tags": {"Environment": "Production"}},  # parsed (a stack validation's state)
        [{"tags": {"Environment": "Production"}}],  # one-element list (older pulumi-aws)
        json.dumps({"tags": json.dumps({"Environment": "Production"})}),  # tags as text too
        secret(json.dumps({"tags": {"Environment": "Production"}})),  # a secret provider input
    ],
)
def test_tag_rule_reads_every_shape_of_default_tags(default_tags: object) -> None:
    stack = mutate(
        hand_stack(), r.LOG_GROUP, ["defaultTags"], default_tags, name="logs", on_provider=True
    )

    assert new_violations(stack) == []


def test_tag_rule_fires_without_default_tags_and_names_the_resource() -> None:
    stack = mutate(
        hand_stack(), r.LOG_GROUP, ["defaultTags"], DELETE, name="logs", on_provider=True
    )

    messages = only_fired(stack, "TAP-TAG-001")

    assert messages == [
        "has no non-empty 'Environment' tag in its tags or the provider's default tags (tags: [])"
    ]


def test_tag_rule_fires_when_the_resource_overrides_environment_with_empty() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE, ["tags"], {"Environment": " "})

    assert only_fired(stack, "TAP-TAG-001") == [
        "has no non-empty 'Environment' tag in its tags or the provider's default tags (tags: "
        "['Environment', 'Project'])"
    ]


def test_tag_rule_applies_to_a_type_not_listed_when_it_carries_tags() -> None:
    stack = [*hand_stack(), r.Resource("aws:ec2/vpc:Vpc", "vpc", {"tags": {"Team": "x"}})]

    assert only_fired(stack, "TAP-TAG-001") == [
        "has no non-empty 'Environment' tag in its tags or the provider's default tags (tags: "
        "['Team'])"
    ]


def test_tag_rule_ignores_untaggable_types() -> None:
    permission = one(hand_stack(), r.LAMBDA_PERMISSION)
    tag_rule = r.RULES_BY_ID["TAP-TAG-001"]

    assert not tag_rule.applies_to(r.Resource(permission.type, "p", permission.props))


def test_a_taggable_type_is_taggable_without_tags_of_its_own() -> None:
    # The hand stack's function sets no tags: they all come from the provider's defaults.
    function = one(hand_stack(), r.LAMBDA_FUNCTION)
    assert "tags" not in function.props
    assert "tagsAll" not in function.props

    assert r.is_taggable(function) is True
    assert r.is_taggable(one(hand_stack(), r.LAMBDA_PERMISSION)) is False


def test_tag_rule_counts_tags_all_the_output_a_stack_validation_sees() -> None:
    # No default tags on the provider and no own tags: only tagsAll (the merged output a
    # stack validation sees) says Environment.
    stack = mutate(
        hand_stack(), r.LOG_GROUP, ["defaultTags"], DELETE, name="logs", on_provider=True
    )
    with_output = mutate(
        stack, r.LOG_GROUP, ["tagsAll"], {"Environment": "Production"}, name="logs"
    )

    assert only_fired(stack, "TAP-TAG-001")
    assert new_violations(with_output) == []


@pytest.mark.parametrize("key", ["tags", "tagsAll"])
def test_tags_unknown_during_preview_leave_the_tag_rule_undecided_on_them(key: str) -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE, [key], UNKNOWN_STRING)
    role = one(stack, r.IAM_ROLE)

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (r.Undecided("TAP-TAG-001", role.urn, key),)


def test_an_environment_tag_unknown_during_preview_is_undecided_on_it() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE, ["tags"], {"Environment": UNKNOWN_STRING})
    role = one(stack, r.IAM_ROLE)

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (r.Undecided("TAP-TAG-001", role.urn, "tags.Environment"),)


@pytest.mark.parametrize(
    ("default_tags", "what"),
    [
        (UNKNOWN_STRING, "provider defaultTags"),
        ({"tags": UNKNOWN_STRING}, "provider defaultTags.tags"),
    ],
)
def test_provider_default_tags_unknown_during_preview_are_undecided_not_missing(
    default_tags: object, what: str
) -> None:
    # A provider whose default tags come from another resource's output: in a preview the
    # rule cannot tell whether Environment will be there, so it says so, and fires nothing.
    stack = mutate(
        hand_stack(), r.LOG_GROUP, ["defaultTags"], default_tags, name="logs", on_provider=True
    )
    group = one(stack, r.LOG_GROUP, "logs")

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (r.Undecided("TAP-TAG-001", group.urn, what),)


# ---------------------------------------------------------------------------------------
# TAP-IAM-001 / TAP-IAM-002


@pytest.mark.parametrize(
    "action", ["*", "logs:*", "logs:Put*", "*:*", "iam:PassRol?", "s3:?etObject", "?:*", "???"]
)
def test_wildcard_actions_fire_iam_001(action: str) -> None:
    doc = policy_doc({"Effect": "Allow", "Action": [action], "Resource": f"{LOG_GROUP_ARN}:*"})
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    report = evaluate(stack)

    assert f"allows the wildcard action {action!r}" in " ".join(
        v.message for v in report.violations if v.rule_id == "TAP-IAM-001"
    )


def test_not_action_fires_iam_001() -> None:
    doc = policy_doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": f"{LOG_GROUP_ARN}:*"})
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    assert only_fired(stack, "TAP-IAM-001") == [
        "policy statement 0 allows NotAction, which grants every action not listed: list the "
        "actions instead",
    ]


def test_deny_statements_may_use_wildcards() -> None:
    doc = policy_doc(
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": f"{LOG_GROUP_ARN}:*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    )
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    assert new_violations(stack) == []


@pytest.mark.parametrize(
    "resource",
    [
        "*",
        "arn:aws:logs:*:*:*",
        f"arn:aws:logs:us-east-1:*:log-group:{LOG_GROUP_ARN}",
        "arn:aws:logs:*:123456789012:log-group:x",
    ],
)
def test_wildcard_resources_fire_iam_002(resource: str) -> None:
    doc = policy_doc({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": resource})
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    (message,) = only_fired(stack, "TAP-IAM-002")

    assert message.startswith(f"policy statement 0 allows ['logs:PutLogEvents'] on {resource!r}")
    assert "only xray:PutTelemetryRecords, xray:PutTraceSegments may use '*'" in message


def test_the_xray_exception_covers_xray_write_actions_only() -> None:
    doc = policy_doc(
        {
            "Sid": "WriteTraces",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "logs:PutLogEvents"],
            "Resource": "*",
        }
    )
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    (message,) = only_fired(stack, "TAP-IAM-002")
    assert "statement 'WriteTraces'" in message
    assert r.XRAY_EXCEPTION_REASON in message


def test_xray_actions_on_a_wildcard_arn_are_not_excepted() -> None:
    doc = policy_doc(
        {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "arn:aws:xray:*:*:*"}
    )
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    assert only_fired(stack, "TAP-IAM-002") == [
        "policy statement 0 allows ['xray:PutTraceSegments'] on 'arn:aws:xray:*:*:*': name the "
        "ARNs (only xray:PutTelemetryRecords, xray:PutTraceSegments may use '*': X-Ray's "
        "PutTraceSegments/PutTelemetryRecords support no resource-level permissions: AWS only "
        "accepts them on Resource '*')"
    ]


def test_a_wildcard_in_the_arns_resource_part_is_scoping() -> None:
    # The log streams of one group: the scope the Lambda console itself writes.
    assert not r.is_wildcard_resource(f"{LOG_GROUP_ARN}:*")
    assert r.is_wildcard_resource("arn:aws:logs:us-east-1:*:log-group:x")


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:logs:us-east-1:123456789012:log-group:*",  # every log group
        "arn:aws:logs:us-east-1:123456789012:log-group:*:*",
        "arn:aws:logs:us-east-1:123456789012:log-group:/*",
        "arn:aws:logs:us-east-1:123456789012:log-group:?*",
        "arn:aws:logs:us-east-1:123456789012:*",
        "arn:aws:logs:us-east-1:123456789012:log-*:x",  # a wildcard resource type
        "arn:aws:lambda:us-east-1:123456789012:function:*",
        "arn:aws:dynamodb:us-east-1:123456789012:table/*",
        "arn:aws:s3:::*",  # every bucket
        "arn:aws:s3:::*/*",
        "arn:aws:sns:us-east-1:123456789012:*",
        "arn:aws:logs:us-east-1:12345678901?:log-group:x",  # "?" in the account
        "arn:aws:logs:us-eas?-1:123456789012:log-group:x",
        "**",
        "?",
    ],
)
def test_a_wildcard_standing_for_the_whole_name_fires_iam_002(resource: str) -> None:
    doc = policy_doc({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": resource})
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    (message,) = only_fired(stack, "TAP-IAM-002")

    assert f"on {resource!r}: name the ARNs" in message


@pytest.mark.parametrize(
    "resource",
    [
        f"{LOG_GROUP_ARN}:*",  # the log streams of one group (the stack's own policy)
        f"{LOG_GROUP_ARN}:log-stream:*",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tap-*",  # a name prefix
        "arn:aws:lambda:us-east-1:123456789012:function:tap-dev-function:*",  # its versions
        "arn:aws:s3:::my-bucket/*",  # the objects of one bucket
        "arn:aws:s3:::my-bucket",
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/*",
        "arn:aws:apigateway:us-east-1::/tap-*",  # no resource type: a name prefix after "/"
        "arn:aws:lambda:us-east-1:123456789012:function:X*",  # a name prefix "X"
    ],
)
def test_a_wildcard_after_a_fixed_name_is_scoping(resource: str) -> None:
    assert not r.is_wildcard_resource(resource)


def test_the_stacks_own_policies_pass_the_iam_rules() -> None:
    assert [v for v in evaluate(hand_stack()).violations if v.rule_id.startswith("TAP-IAM")] == []


def test_a_policy_nested_too_deeply_is_a_violation_not_a_crash() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], "[" * 5000)

    fired = new_violations(stack)

    assert {v.rule_id for v in fired} == {"TAP-IAM-001", "TAP-IAM-002"}
    assert all(v.message == "policy is not valid JSON: nested too deeply" for v in fired)


def test_a_policy_with_an_integer_too_long_to_read_is_a_violation_not_a_crash() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], "[" + "9" * 5000 + "]")

    fired = new_violations(stack)

    assert {v.rule_id for v in fired} == {"TAP-IAM-001", "TAP-IAM-002"}
    assert all(v.message.startswith("policy is not valid JSON: Exceeds the limit") for v in fired)


def test_a_hostile_action_is_quoted_bounded_and_escaped() -> None:
    action = "s3:Get*\x1b[2J\x07" + "A" * 100_000
    doc = policy_doc({"Effect": "Allow", "Action": action, "Resource": f"{LOG_GROUP_ARN}:*"})
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    (message,) = only_fired(stack, "TAP-IAM-001")

    assert len(message) < 600
    assert "\x1b" not in message
    assert f"({len(action):,} characters in all)" in message


def test_not_resource_fires_iam_002() -> None:
    doc = policy_doc({"Effect": "Allow", "Action": "logs:PutLogEvents", "NotResource": "x"})
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    assert only_fired(stack, "TAP-IAM-002") == [
        "policy statement 0 allows NotResource, which grants every resource not listed: list "
        "the resources instead"
    ]


def test_role_inline_policies_are_checked_too() -> None:
    inline = [
        {"name": "x", "policy": policy_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}
    ]
    stack = mutate(hand_stack(), r.IAM_ROLE, ["inlinePolicies"], inline)

    fired = {v.rule_id for v in new_violations(stack)}

    assert fired == {"TAP-IAM-001", "TAP-IAM-002"}


def test_an_inline_policy_is_named_by_its_index_in_the_message() -> None:
    scoped = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": f"{LOG_GROUP_ARN}:*"}
    inline = [
        {"name": "scoped", "policy": policy_doc(scoped)},
        {"name": "wide", "policy": policy_doc({"Effect": "Allow", "Action": "s3:*"})},
    ]
    stack = mutate(hand_stack(), r.IAM_ROLE, ["inlinePolicies"], inline)

    assert only_fired(stack, "TAP-IAM-001") == [
        "inlinePolicies[1].policy statement 0 allows the wildcard action 's3:*': list each "
        "action the function calls"
    ]


def test_an_inline_policy_that_is_not_json_is_named_by_its_index() -> None:
    inline = [{"name": "broken", "policy": "{not json"}]
    stack = mutate(hand_stack(), r.IAM_ROLE, ["inlinePolicies"], inline)

    fired = new_violations(stack)

    assert [(v.rule_id, v.message) for v in fired] == [
        (
            rule_id,
            "inlinePolicies[0].policy is not valid JSON: Expecting property name enclosed in "
            "double quotes",
        )
        for rule_id in ("TAP-IAM-001", "TAP-IAM-002")
    ]


def test_an_empty_inline_policy_block_is_no_policy_to_check() -> None:
    # pulumi-aws documents `inlinePolicies=[{}]` as "this role has no inline policies".
    stack = mutate(hand_stack(), r.IAM_ROLE, ["inlinePolicies"], [{}])

    assert new_violations(stack) == []


def test_statements_after_a_deny_are_still_checked() -> None:
    doc = policy_doc(
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Allow", "NotResource": "arn:aws:s3:::secrets"},
    )
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    fired = new_violations(stack)

    # Unnamed statements are named by their index among all of them, the Deny included.
    assert [(v.rule_id, v.message) for v in fired] == [
        (
            "TAP-IAM-001",
            "policy statement 1 allows the wildcard action 'logs:*': list each action the "
            "function calls",
        ),
        (
            "TAP-IAM-002",
            "policy statement 1 allows ['logs:*'] on '*': name the ARNs (only "
            "xray:PutTelemetryRecords, xray:PutTraceSegments may use '*': X-Ray's "
            "PutTraceSegments/PutTelemetryRecords support no resource-level permissions: AWS "
            "only accepts them on Resource '*')",
        ),
        (
            "TAP-IAM-002",
            "policy statement 2 allows NotResource, which grants every resource not listed: "
            "list the resources instead",
        ),
    ]


def test_wildcard_resources_after_a_scoped_or_excepted_statement_are_still_reported() -> None:
    doc = policy_doc(
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": f"{LOG_GROUP_ARN}:*"},
        {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "logs:PutLogEvents"],
            "Resource": ["arn:aws:s3:::*", f"{LOG_GROUP_ARN}:*", "*"],
        },
    )
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], doc)

    assert only_fired(stack, "TAP-IAM-002") == [
        "policy statement 2 allows ['logs:PutLogEvents', 's3:GetObject'] on 'arn:aws:s3:::*', "
        "'*': name the ARNs (only xray:PutTelemetryRecords, xray:PutTraceSegments may use "
        "'*': X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level "
        "permissions: AWS only accepts them on Resource '*')"
    ]


def test_a_policy_that_is_not_json_is_a_violation_not_a_crash() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], "{not json")

    fired = new_violations(stack)

    assert {v.rule_id for v in fired} == {"TAP-IAM-001", "TAP-IAM-002"}
    assert all(v.message.startswith("policy is not valid JSON: ") for v in fired)


# ---------------------------------------------------------------------------------------
# TAP-IAM-003 / TAP-IAM-004


MANAGED = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def test_an_aws_managed_policy_attachment_fires_iam_003() -> None:
    attachment = r.Resource(
        r.IAM_ROLE_POLICY_ATTACHMENT, "basic", {"role": "tap-dev-role", "policyArn": MANAGED}
    )

    assert only_fired([*hand_stack(), attachment], "TAP-IAM-003") == [
        f"attaches the AWS-managed policy {MANAGED!r}: AWS can widen it at any time; grant "
        "the actions the function needs in an inline policy instead"
    ]


def test_managed_policy_arns_on_the_role_fire_iam_003() -> None:
    gov = "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"
    stack = mutate(hand_stack(), r.IAM_ROLE, ["managedPolicyArns"], [gov])

    assert len(only_fired(stack, "TAP-IAM-003")) == 1


def test_a_customer_managed_policy_attachment_passes_iam_003() -> None:
    attachment = r.Resource(
        r.IAM_ROLE_POLICY_ATTACHMENT,
        "own",
        {"role": "tap-dev-role", "policyArn": "arn:aws:iam::123456789012:policy/own"},
    )

    assert new_violations([*hand_stack(), attachment]) == []


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
        {"Service": "lambda.amazonaws.com", "AWS": "arn:aws:iam::123456789012:root"},
        {"Service": "edgelambda.amazonaws.com"},
    ],
)
def test_a_trust_policy_beyond_lambda_fires_iam_004(principal: object) -> None:
    trust = policy_doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
    stack = mutate(hand_stack(), r.IAM_ROLE, ["assumeRolePolicy"], trust)

    (message,) = only_fired(stack, "TAP-IAM-004")

    assert message == (
        f"trust policy statement 0 lets {json.dumps(principal)} assume the role: only the "
        "service principal 'lambda.amazonaws.com' may"
    )


def test_a_trust_policy_with_more_actions_fires_iam_004() -> None:
    trust = policy_doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    )
    stack = mutate(hand_stack(), r.IAM_ROLE, ["assumeRolePolicy"], trust)

    assert only_fired(stack, "TAP-IAM-004") == [
        "trust policy statement 0 allows ['sts:AssumeRole', 'sts:TagSession']: only "
        "['sts:AssumeRole'] is needed"
    ]


def test_a_trust_policy_allowing_no_one_fires_iam_004() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE, ["assumeRolePolicy"], policy_doc())

    assert only_fired(stack, "TAP-IAM-004") == ["its trust policy allows no one to assume it"]


def test_a_role_without_a_trust_policy_allows_no_one() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE, ["assumeRolePolicy"], DELETE)

    assert only_fired(stack, "TAP-IAM-004") == ["its trust policy allows no one to assume it"]


def test_a_trust_policy_that_is_not_json_names_assume_role_policy() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE, ["assumeRolePolicy"], "{not json")

    assert only_fired(stack, "TAP-IAM-004") == [
        "assumeRolePolicy is not valid JSON: Expecting property name enclosed in double quotes"
    ]


def test_every_trust_statement_is_checked_after_a_not_principal_one() -> None:
    trust = policy_doc(
        {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:*"},
        {
            "Sid": "Ec2",
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        },
    )
    stack = mutate(hand_stack(), r.IAM_ROLE, ["assumeRolePolicy"], trust)

    assert only_fired(stack, "TAP-IAM-004") == [
        "trust policy statement 0 uses NotPrincipal: name lambda.amazonaws.com",
        'trust policy statement \'Ec2\' lets {"Service": "ec2.amazonaws.com"} assume the '
        "role: only the service principal 'lambda.amazonaws.com' may",
    ]


def test_exclusive_attachments_of_aws_managed_policies_fire_iam_003() -> None:
    exclusive = r.Resource(
        r.IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
        "exclusive",
        {"roleName": "tap-dev-role", "policyArns": [MANAGED, "arn:aws:iam::1:policy/own"]},
    )

    assert len(only_fired([*hand_stack(), exclusive], "TAP-IAM-003")) == 1


def test_a_trust_policy_with_not_principal_fires_iam_004() -> None:
    trust = policy_doc(
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
            "Action": "sts:AssumeRole",
        }
    )
    stack = mutate(hand_stack(), r.IAM_ROLE, ["assumeRolePolicy"], trust)

    assert only_fired(stack, "TAP-IAM-004") == [
        "trust policy statement 0 uses NotPrincipal: name lambda.amazonaws.com"
    ]


def test_a_policy_document_that_is_not_an_object_is_a_violation() -> None:
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], "[]")

    messages = {v.message for v in new_violations(stack)}

    assert messages == {"the policy document is not a JSON object"}


# ---------------------------------------------------------------------------------------
# TAP-LAMBDA-001: today is injectable; the deprecation day itself counts as deprecated.


@pytest.mark.parametrize(
    ("runtime", "today", "fires"),
    [
        ("python3.11", date(2026, 6, 29), False),
        ("python3.11", date(2026, 6, 30), True),
        ("python3.10", TODAY, True),
        ("python3.12", TODAY, False),
        ("python3.12", date(2028, 10, 30), False),
        ("python3.12", date(2028, 10, 31), True),
    ],
)
def test_runtime_deprecation_depends_on_today(runtime: str, today: date, fires: bool) -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], runtime)

    fired = {v.rule_id for v in new_violations(stack, today)}

    assert fired == ({"TAP-LAMBDA-001"} if fires else set())


@pytest.mark.parametrize(
    "runtime", sorted(k for k, v in r.RUNTIME_DEPRECATION.items() if v is not None)
)
def test_each_dated_runtime_fires_from_its_date_on(runtime: str) -> None:
    deprecated_on = r.RUNTIME_DEPRECATION[runtime]
    assert deprecated_on is not None
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], runtime)

    def fired(today: date) -> list[str]:
        return [
            v.message for v in evaluate(stack, today).violations if v.rule_id == "TAP-LAMBDA-001"
        ]

    assert fired(deprecated_on - timedelta(days=1)) == []
    assert [m.split(" and gets")[0] for m in fired(deprecated_on)] == [
        f"runtime {runtime!r} was deprecated on {deprecated_on.isoformat()}"
    ]


def test_a_runtime_without_a_date_never_fires_and_is_always_supported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The table as it could be on any day: one runtime without an announced date (today
    # python3.14; once AWS announces its date, the rule's handling of None still holds).
    table = {"python3.8": date(2024, 10, 14), "python3.13": date(2029, 6, 30), "python3.14": None}
    monkeypatch.setattr(function_rules, "RUNTIME_DEPRECATION", table)
    undated = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "python3.14")
    old = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "python3.8")

    assert evaluate(undated, today=date.max).fired("mandatory") == set()
    assert only_fired(old, "TAP-LAMBDA-001", today=date.max) == [
        "runtime 'python3.8' was deprecated on 2024-10-14 and gets no security patches; use "
        "one of python3.14"
    ]
    assert only_fired(old, "TAP-LAMBDA-001", today=date(2029, 6, 29)) == [
        "runtime 'python3.8' was deprecated on 2024-10-14 and gets no security patches; use "
        "one of python3.13, python3.14"
    ]


def test_a_deprecated_runtime_message_names_the_date_and_the_alternatives() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "python3.11")

    assert only_fired(stack, "TAP-LAMBDA-001") == [
        "runtime 'python3.11' was deprecated on 2026-06-30 and gets no security patches; use "
        "one of python3.12, python3.13, python3.14"
    ]


def test_an_unknown_runtime_fires_and_a_container_image_is_skipped() -> None:
    unknown = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "nodejs22.x")
    image = mutate(
        mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], DELETE),
        r.LAMBDA_FUNCTION,
        ["packageType"],
        "Image",
    )

    assert only_fired(unknown, "TAP-LAMBDA-001") == [
        "runtime 'nodejs22.x' is not one this pack knows; supported: python3.12, python3.13, "
        "python3.14"
    ]
    assert new_violations(image) == []


def test_supported_runtimes_are_listed_in_version_order_not_text_order() -> None:
    # The day before python3.9's deprecation: "python3.10" sorts before "python3.9" as text.
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "nodejs22.x")

    assert only_fired(stack, "TAP-LAMBDA-001", today=date(2025, 12, 14)) == [
        "runtime 'nodejs22.x' is not one this pack knows; supported: python3.9, python3.10, "
        "python3.11, python3.12, python3.13, python3.14"
    ]


def test_supported_runtimes_are_listed_in_version_order_whatever_the_tables_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = {"python3.14": None, "python3.10": date(2026, 6, 30), "python3.9": None}
    monkeypatch.setattr(function_rules, "RUNTIME_DEPRECATION", table)
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "nodejs22.x")

    assert only_fired(stack, "TAP-LAMBDA-001") == [
        "runtime 'nodejs22.x' is not one this pack knows; supported: python3.9, python3.14"
    ]


def test_a_runtime_is_no_longer_offered_as_an_alternative_on_its_deprecation_day() -> None:
    # python3.10 and python3.11 are both deprecated on 2026-06-30.
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "python3.9")

    assert only_fired(stack, "TAP-LAMBDA-001", today=date(2026, 6, 29)) == [
        "runtime 'python3.9' was deprecated on 2025-12-15 and gets no security patches; use one "
        "of python3.10, python3.11, python3.12, python3.13, python3.14"
    ]
    assert only_fired(stack, "TAP-LAMBDA-001", today=date(2026, 6, 30)) == [
        "runtime 'python3.9' was deprecated on 2025-12-15 and gets no security patches; use one "
        "of python3.12, python3.13, python3.14"
    ]


# ---------------------------------------------------------------------------------------
# TAP-LAMBDA-002: the boundary and one past it; ints (engine) and floats (mocks) alike.


@pytest.mark.parametrize(
    ("timeout", "fires"), [(29, False), (29.0, False), (30, True), (30.0, True)]
)
def test_timeout_must_stay_below_the_integration_timeout(timeout: float, fires: bool) -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["timeout"], timeout)

    assert {v.rule_id for v in new_violations(stack)} == ({"TAP-LAMBDA-002"} if fires else set())


def test_a_timeout_of_30_s_says_the_client_already_got_a_503() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["timeout"], 30.0)

    assert only_fired(stack, "TAP-LAMBDA-002") == [
        "timeout is 30 s, but must be below 30 s: an HTTP API stops waiting after 30 s and the "
        "client already got a 503 (docs/http-api.md rule 11)"
    ]


def test_no_timeout_means_lambdas_default_3_s_which_passes() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["timeout"], DELETE)

    assert new_violations(stack) == []


# ---------------------------------------------------------------------------------------
# TAP-LAMBDA-003


def test_text_log_format_fires_lambda_003() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["loggingConfig", "logFormat"], "Text")

    assert only_fired(stack, "TAP-LAMBDA-003") == [
        "loggingConfig.logFormat is 'Text', but must be 'JSON' so each log record is a "
        "queryable object (docs/http-api.md rule 21)"
    ]


def test_a_log_group_the_stack_does_not_manage_fires_lambda_003() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["loggingConfig", "logGroup"], "/elsewhere")

    (message,) = only_fired(stack, "TAP-LAMBDA-003")

    assert message.startswith("writes its logs to '/elsewhere', a log group this stack does not")


def test_the_default_group_counts_when_the_stack_manages_it() -> None:
    # No logGroup: Lambda writes to /aws/lambda/<name> (docs/http-api.md rule 20); the hand
    # stack manages exactly that group.
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["loggingConfig", "logGroup"], DELETE)
    renamed = mutate(stack, r.LAMBDA_FUNCTION, ["name"], "other")

    assert new_violations(stack) == []
    assert only_fired(renamed, "TAP-LAMBDA-003")


def test_no_logging_config_fires_lambda_003() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["loggingConfig"], DELETE)

    messages = only_fired(stack, "TAP-LAMBDA-003")

    assert messages[0] == (
        "loggingConfig.logFormat is None, but must be 'JSON' so each log record is a "
        "queryable object (docs/http-api.md rule 21)"
    )


def test_a_violation_found_before_an_undecidable_value_is_still_reported() -> None:
    # An autonamed function has no name input under mocks: its default group is unknown,
    # but its Text log format is already a violation.
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["loggingConfig"], {"logFormat": "Text"})
    stack = mutate(stack, r.LAMBDA_FUNCTION, ["name"], DELETE)
    function = one(stack, r.LAMBDA_FUNCTION)

    report = evaluate(stack)

    assert [v.rule_id for v in report.violations] == ["TAP-LAMBDA-003"]
    assert report.undecided == (r.Undecided("TAP-LAMBDA-003", function.urn, "name"),)


# ---------------------------------------------------------------------------------------
# TAP-LOGS-001 / TAP-LOGS-002


@pytest.mark.parametrize(
    ("retention", "shown"), [(DELETE, "None"), (0, "0"), (0.0, "0.0"), (-1, "-1")]
)
def test_a_log_group_without_retention_fires_logs_001(retention: object, shown: str) -> None:
    stack = mutate(hand_stack(), r.LOG_GROUP, ["retentionInDays"], retention, name="logs")

    assert only_fired(stack, "TAP-LOGS-001") == [
        f"retentionInDays is {shown}: without it the logs are kept (and billed) forever"
    ]


def test_a_retention_of_one_day_is_allowed_and_only_advised_against() -> None:
    # 1 day is the shortest retention CloudWatch Logs offers: not "kept forever".
    stack = mutate(hand_stack(), r.LOG_GROUP, ["retentionInDays"], 1, name="logs")

    assert [(v.rule_id, v.severity, v.message) for v in new_violations(stack)] == [
        ("TAP-LOGS-002", "advisory", "keeps logs 1 day; audit baselines ask for at least 365")
    ]


def test_retention_below_a_year_is_advisory_logs_002() -> None:
    report = evaluate(
        mutate(hand_stack(), r.LOG_GROUP, ["retentionInDays"], 364.0, name="access-logs")
    )

    (violation,) = report.violations
    assert (violation.rule_id, violation.severity) == ("TAP-LOGS-002", "advisory")
    assert violation.message == "keeps logs 364 days; audit baselines ask for at least 365"


# ---------------------------------------------------------------------------------------
# TAP-API-001


def test_credentials_with_any_origin_fire_api_001() -> None:
    stack = mutate(hand_stack(), r.HTTP_API, ["corsConfiguration", "allowCredentials"], True)

    assert only_fired(stack, "TAP-API-001") == [
        "corsConfiguration allows credentials with allowOrigins '*': any site could make "
        "credentialed requests; list the origins (docs/http-api.md rule 18)"
    ]


def test_origins_unknown_during_preview_leave_api_001_undecided_on_them() -> None:
    stack = mutate(hand_stack(), r.HTTP_API, ["corsConfiguration", "allowCredentials"], True)
    stack = mutate(stack, r.HTTP_API, ["corsConfiguration", "allowOrigins"], UNKNOWN_STRING)
    api = one(stack, r.HTTP_API)

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (
        r.Undecided("TAP-API-001", api.urn, "corsConfiguration.allowOrigins"),
    )


def test_credentials_with_listed_origins_pass() -> None:
    stack = mutate(hand_stack(), r.HTTP_API, ["corsConfiguration", "allowCredentials"], True)
    stack = mutate(stack, r.HTTP_API, ["corsConfiguration", "allowOrigins"], ["https://a.example"])

    assert new_violations(stack) == []


# ---------------------------------------------------------------------------------------
# TAP-API-002


THROTTLING_ADVICE = (
    "set both above 0 (a limit left unset is 0, and every request gets 429: "
    "docs/http-api.md rule 13)"
)


@pytest.mark.parametrize(
    ("setting", "value", "shown"),
    [
        ("throttlingBurstLimit", DELETE, "throttlingBurstLimit=None and throttlingRateLimit=100.0"),
        ("throttlingRateLimit", DELETE, "throttlingBurstLimit=200.0 and throttlingRateLimit=None"),
        ("throttlingBurstLimit", 0.0, "throttlingBurstLimit=0.0 and throttlingRateLimit=100.0"),
        ("throttlingRateLimit", 0, "throttlingBurstLimit=200.0 and throttlingRateLimit=0.0"),
        ("throttlingBurstLimit", -1, "throttlingBurstLimit=-1.0 and throttlingRateLimit=100.0"),
    ],
)
def test_stage_throttling_needs_both_limits_above_zero(
    setting: str, value: object, shown: str
) -> None:
    stack = mutate(hand_stack(), r.HTTP_API_STAGE, ["defaultRouteSettings", setting], value)

    assert only_fired(stack, "TAP-API-002") == [
        f"defaultRouteSettings has {shown}: {THROTTLING_ADVICE}"
    ]


@pytest.mark.parametrize(("burst", "rate"), [(1, 1), (1.0, 1.0), (1, 0.5)])
def test_the_smallest_limits_above_zero_pass(burst: float, rate: float) -> None:
    # The burst is a whole number of requests; the rate, requests per second, may be a
    # fraction.
    stack = mutate(
        hand_stack(),
        r.HTTP_API_STAGE,
        ["defaultRouteSettings"],
        {"throttlingBurstLimit": burst, "throttlingRateLimit": rate},
    )

    assert new_violations(stack) == []


def test_a_stage_without_default_route_settings_fires_api_002() -> None:
    # The rule requires the stage's own limits: a stage that sets none is bounded only by
    # the account's (docs/http-api.md rule 13), which every API of the account shares.
    stack = mutate(hand_stack(), r.HTTP_API_STAGE, ["defaultRouteSettings"], DELETE)

    assert only_fired(stack, "TAP-API-002") == [
        "defaultRouteSettings has throttlingBurstLimit=None and throttlingRateLimit=None: "
        f"{THROTTLING_ADVICE}"
    ]


def test_a_route_setting_with_only_one_limit_fires_api_002() -> None:
    routes = [
        {"routeKey": "GET /health", "loggingLevel": "OFF"},  # inherits: fine
        {"routeKey": "POST /{proxy+}", "throttlingBurstLimit": 5.0},  # rate left at 0
    ]
    stack = mutate(hand_stack(), r.HTTP_API_STAGE, ["routeSettings"], routes)

    assert only_fired(stack, "TAP-API-002") == [
        "routeSettings[1] (POST /{proxy+}) has throttlingBurstLimit=5.0 and "
        f"throttlingRateLimit=None: {THROTTLING_ADVICE}"
    ]


@pytest.mark.parametrize(
    ("path", "value", "what"),
    [
        (
            ["defaultRouteSettings", "throttlingBurstLimit"],
            UNKNOWN_STRING,
            "defaultRouteSettings.throttlingBurstLimit",
        ),
        (
            ["defaultRouteSettings", "throttlingRateLimit"],
            UNKNOWN_STRING,
            "defaultRouteSettings.throttlingRateLimit",
        ),
        (
            ["routeSettings"],
            [
                {
                    "routeKey": "GET /health",
                    "throttlingBurstLimit": 5,
                    "throttlingRateLimit": UNKNOWN_STRING,
                }
            ],
            "routeSettings[0] (GET /health).throttlingRateLimit",
        ),
    ],
)
def test_a_limit_unknown_during_preview_leaves_api_002_undecided_on_it(
    path: list, value: object, what: str
) -> None:
    stack = mutate(hand_stack(), r.HTTP_API_STAGE, path, value)
    stage = one(stack, r.HTTP_API_STAGE)

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (r.Undecided("TAP-API-002", stage.urn, what),)


# ---------------------------------------------------------------------------------------
# TAP-API-003


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ["accessLogSettings"],
            DELETE,
            "has no accessLogSettings.destinationArn: requests leave no trace",
        ),
        (
            ["accessLogSettings", "format"],
            "$context.requestId $context.status",
            "accessLogSettings.format is not valid JSON: Expecting value: write the access log "
            "as a JSON object",
        ),
        (
            ["accessLogSettings", "format"],
            json.dumps(["$context.requestId"]),
            "accessLogSettings.format is not a JSON object: write the access log as one",
        ),
        (
            ["accessLogSettings", "format"],
            json.dumps({"id": "$context.extendedRequestId"}),
            "accessLogSettings.format has no $context.requestId: an access log line cannot be "
            "matched to the function's log or to a client's x-request-id",
        ),
    ],
)
def test_access_logs_must_be_json_with_the_request_id(
    path: list, value: object, expected: str
) -> None:
    stack = mutate(hand_stack(), r.HTTP_API_STAGE, path, value)

    assert only_fired(stack, "TAP-API-003") == [expected]


# ---------------------------------------------------------------------------------------
# TAP-DOMAIN-002 (the domain rules on the real program: tests/policy/test_policy_auth.py)


def test_a_custom_domain_draws_advice_to_close_the_execute_api_endpoint() -> None:
    api = one(hand_stack(), r.HTTP_API)
    domain = r.Resource(
        r.HTTP_API_DOMAIN_NAME,
        "domain",
        {
            "domainName": "api.example.com",
            "domainNameConfiguration": {"endpointType": "REGIONAL", "securityPolicy": "TLS_1_2"},
        },
        "urn:pulumi:dev::tap::aws:apigatewayv2/domainName:DomainName::domain",
        api.provider,
    )
    served = [*hand_stack(), domain]
    closed = mutate(served, r.HTTP_API, ["disableExecuteApiEndpoint"], True)

    assert [(v.rule_id, v.severity, v.message) for v in new_violations(served)] == [
        (
            "TAP-DOMAIN-002",
            "advisory",
            "the stack serves a custom domain but the execute-api endpoint stays open: clients "
            "can bypass the domain (docs/http-api.md rule 65); set "
            "tap:domain.disableDefaultEndpoint to true unless that is intended",
        )
    ]
    assert new_violations(closed) == []


# ---------------------------------------------------------------------------------------
# TAP-API-004


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (DELETE, "lets any API Gateway API in any account invoke the function"),
        (
            "arn:aws:execute-api:us-east-1:123456789012:otherapi1/*/*",
            "sourceArn 'arn:aws:execute-api:us-east-1:123456789012:otherapi1/*/*' is not under",
        ),
        # A prefix of this API's id is another API.
        (f"{EXECUTION_ARN}x/*/*", f"sourceArn '{EXECUTION_ARN}x/*/*' is not under"),
    ],
)
def test_invoke_permission_must_be_scoped_to_this_api(source: object, expected: str) -> None:
    stack = mutate(hand_stack(), r.LAMBDA_PERMISSION, ["sourceArn"], source)

    (message,) = only_fired(stack, "TAP-API-004")

    assert message.startswith(expected)


@pytest.mark.parametrize("principal", ["*", "123456789012"])
def test_a_public_or_account_principal_fires_api_004(principal: str) -> None:
    stack = mutate(hand_stack(), r.LAMBDA_PERMISSION, ["principal"], principal)

    assert only_fired(stack, "TAP-API-004") == [
        f"lets principal {principal!r} invoke the function: name a service and its source"
    ]


def test_another_service_principal_needs_a_source() -> None:
    events = r.Resource(r.LAMBDA_PERMISSION, "events", {"principal": "events.amazonaws.com"})
    scoped = r.Resource(
        r.LAMBDA_PERMISSION,
        "events-scoped",
        {"principal": "events.amazonaws.com", "sourceAccount": "123456789012"},
    )

    assert only_fired([*hand_stack(), events, scoped], "TAP-API-004") == [
        "lets the service 'events.amazonaws.com' invoke the function on behalf of anyone: set "
        "sourceArn (or sourceAccount)"
    ]


# ---------------------------------------------------------------------------------------
# TAP-ALARM-001


def test_an_alarm_without_actions_fires_alarm_001() -> None:
    stack = mutate(hand_stack(), r.METRIC_ALARM, ["alarmActions"], [])

    assert only_fired(stack, "TAP-ALARM-001") == [
        "has no alarmActions: it changes state and nobody hears about it"
    ]


def test_an_alarm_with_actions_disabled_fires_alarm_001() -> None:
    stack = mutate(hand_stack(), r.METRIC_ALARM, ["actionsEnabled"], False)

    assert only_fired(stack, "TAP-ALARM-001") == ["has actionsEnabled=false: its actions never run"]


# ---------------------------------------------------------------------------------------
# Advisory rules on the function.


ON_X86 = "runs on ['x86_64']: arm64 runs the same Python code for 20% less per GB-second"
NOT_TRACED = (
    "tracingConfig.mode is 'PassThrough': requests are not traced unless the caller samples"
)
# docs/http-api.md rule 31: a reservation that leaves fewer than 100 unreserved is refused,
# after the function exists: following the advice blindly fails `pulumi up`.
NO_RESERVATION = (
    "has no reserved concurrency: a burst can take the account's whole concurrency (and its "
    "bill) with it. Set tap:reservedConcurrency only if the account's concurrency quota "
    "leaves at least 100 unreserved after it: Lambda refuses anything more and `pulumi up` "
    "fails halfway (new accounts often have a quota of 10; docs/http-api.md rule 31)"
)


@pytest.mark.parametrize(
    ("path", "value", "rule_id", "message"),
    [
        (["architectures"], ["x86_64"], "TAP-LAMBDA-004", ON_X86),
        (["architectures"], DELETE, "TAP-LAMBDA-004", ON_X86),  # AWS's default is x86_64
        (["tracingConfig", "mode"], "PassThrough", "TAP-LAMBDA-005", NOT_TRACED),
        (["tracingConfig"], DELETE, "TAP-LAMBDA-005", NOT_TRACED),  # Lambda's default
        (["reservedConcurrentExecutions"], DELETE, "TAP-LAMBDA-006", NO_RESERVATION),
        (["reservedConcurrentExecutions"], -1, "TAP-LAMBDA-006", NO_RESERVATION),  # "unset"
        (
            ["reservedConcurrentExecutions"],
            0.0,
            "TAP-LAMBDA-006",
            "reserves 0 concurrent executions: every invocation is throttled",
        ),
    ],
)
def test_advisory_function_rules(path: list, value: object, rule_id: str, message: str) -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, path, value)

    fresh = new_violations(stack)

    assert [(v.rule_id, v.severity, v.message) for v in fresh] == [(rule_id, "advisory", message)]


@pytest.mark.parametrize("reserved", [1, 1.0])
def test_a_reservation_of_one_execution_draws_no_advice(reserved: float) -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["reservedConcurrentExecutions"], reserved)

    assert new_violations(stack) == []


# ---------------------------------------------------------------------------------------
# Values unknown during preview: undecided, never a pass and never a false violation.


def test_unknown_values_make_a_rule_undecided() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], UNKNOWN_STRING)
    stack = mutate(stack, r.LAMBDA_PERMISSION, ["sourceArn"], UNKNOWN_STRING)
    stack = mutate(stack, r.IAM_ROLE_POLICY, ["policy"], UNKNOWN_STRING)

    report = evaluate(stack)

    assert report.violations == ()
    assert {(u.rule_id, u.what) for u in report.undecided} == {
        ("TAP-LAMBDA-001", "runtime"),
        ("TAP-API-004", "sourceArn"),
        ("TAP-IAM-001", "policy"),
        ("TAP-IAM-002", "policy"),
    }


def test_a_source_arn_computed_from_this_stacks_api_passes_during_preview() -> None:
    stack = hand_stack()
    api = one(stack, r.HTTP_API)
    permission = one(stack, r.LAMBDA_PERMISSION)
    stack = computed_from(stack, permission, "sourceArn", r.UNKNOWN, api)

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == ()


def test_a_log_group_computed_from_this_stacks_group_passes_during_preview() -> None:
    stack = hand_stack()
    group = one(stack, r.LOG_GROUP, "logs")
    function = one(stack, r.LAMBDA_FUNCTION)
    config = {**function.props["loggingConfig"], "logGroup": r.UNKNOWN}
    stack = computed_from(stack, function, "loggingConfig", config, group)

    assert evaluate(stack).undecided == ()
    assert evaluate([x for x in stack if x is not group]).undecided == (
        r.Undecided("TAP-LAMBDA-003", function.urn, "loggingConfig.logGroup"),
    )


# ---------------------------------------------------------------------------------------
# The model's normalization.


def test_prop_reads_one_element_list_blocks_and_stops_at_scalars() -> None:
    props = {"tracingConfig": [{"mode": "Active"}], "runtime": "python3.13"}

    assert r.prop(props, "tracingConfig", "mode") == "Active"
    assert r.prop(props, "runtime", "mode") is None
    assert r.prop(props, "missing", "mode") is None
    assert repr(r.UNKNOWN) == "UNKNOWN"
    assert r.UNKNOWN is type(r.UNKNOWN)()


@pytest.mark.parametrize(
    ("props", "path", "what"),
    [
        (r.UNKNOWN, ("tracingConfig", "mode"), "properties"),  # no properties known at all
        ({"tracingConfig": r.UNKNOWN}, ("tracingConfig", "mode"), "tracingConfig"),
        ({"a": {"b": r.UNKNOWN}}, ("a", "b", "c"), "a.b"),
        ({"tracingConfig": {"mode": r.UNKNOWN}}, ("tracingConfig", "mode"), "tracingConfig.mode"),
    ],
)
def test_prop_names_the_unknown_value_by_its_dotted_path(
    props: Any, path: tuple[str, ...], what: str
) -> None:
    with pytest.raises(r.UndecidableError) as caught:
        r.prop(props, *path)

    assert caught.value.what == what


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (UNKNOWN_STRING, "tracingConfig"),  # the whole block computed
        ({"mode": UNKNOWN_STRING}, "tracingConfig.mode"),
    ],
)
def test_a_tracing_mode_unknown_during_preview_leaves_lambda_005_undecided(
    value: object, what: str
) -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["tracingConfig"], value)
    function = one(stack, r.LAMBDA_FUNCTION)

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (r.Undecided("TAP-LAMBDA-005", function.urn, what),)


def test_normalize_unwraps_secrets_at_any_depth_and_marks_unknowns() -> None:
    raw = {"a": secret({"b": [secret(1.0), UNKNOWN_STRING]}), "c": (1, 2)}

    assert r.normalize(raw) == {"a": {"b": [1.0, r.UNKNOWN]}, "c": [1, 2]}


def test_evaluate_defaults_today_to_the_real_date(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real date is read through date.today(); a fake one stands in for the clock, so the
    # test holds on any day.
    class FakeDate(date):
        day_it_is = date(2028, 10, 30)

        @classmethod
        def today(cls) -> date:
            return cls.day_it_is

    monkeypatch.setattr(running, "date", FakeDate)
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "python3.12")

    assert "TAP-LAMBDA-001" not in r.evaluate(stack).fired("mandatory")
    FakeDate.day_it_is = date(2028, 10, 31)
    assert "TAP-LAMBDA-001" in r.evaluate(stack).fired("mandatory")


# ---------------------------------------------------------------------------------------
# Documentation generated from the declarations.


def test_the_rule_table_has_one_row_per_rule_in_declaration_order() -> None:
    table = r.render_rule_table().splitlines()

    assert table[0] == "| id | what | severity | mirrors |"
    assert [row.split(" | ")[0].lstrip("| ") for row in table[2:]] == [x.id for x in r.RULES]
    assert "| TAP-LAMBDA-002 | The function's timeout is below the HTTP API's 30 s" in table[8]


def test_the_exemptions_table_lists_each_deliberate_exception_with_its_reason() -> None:
    table = r.render_exemptions()

    for item in r.EXEMPTIONS:
        assert item.reason in table
    for what in ("authorization", "VPC", "dead-letter queue", "code signing"):
        assert what in table


def test_provider_props_helper_matches_the_engine_shape() -> None:
    # Guards the fixture itself: defaultTags is JSON text, as the engine passes it.
    assert isinstance(provider_props()["defaultTags"], str)


# ---------------------------------------------------------------------------------------
# What the mutation run found no test pinning down.


def test_an_undecidable_value_names_itself_in_its_message() -> None:
    error = r.UndecidableError("loggingConfig.logGroup")

    assert (str(error), error.what) == (
        "loggingConfig.logGroup is not known until the resource is created",
        "loggingConfig.logGroup",
    )


def test_a_wildcard_partition_is_a_wildcard_resource() -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream"],
        "Resource": "arn:*:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*",
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    stack = mutate(hand_stack(), r.IAM_ROLE_POLICY, ["policy"], policy)

    assert [v.rule_id for v in new_violations(stack)] == ["TAP-IAM-002"]


def test_a_resource_that_is_not_a_string_is_no_wildcard() -> None:
    # IAM only takes strings; anything else is not this rule's to judge
    assert [r.is_wildcard_resource(x) for x in (None, 5, ["*"], {"*": "*"})] == [False] * 4
    # not an ARN, and not only wildcards: not "everything"
    assert [r.is_wildcard_resource(x) for x in ("not-an-arn", "X*")] == [False, False]
    assert r.is_wildcard_resource("*") is True


def test_a_log_group_unknown_and_from_nowhere_is_undecided_not_a_crash() -> None:
    # computed during preview, with no dependency recorded for loggingConfig at all
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["loggingConfig", "logGroup"], UNKNOWN_STRING)
    function = one(stack, r.LAMBDA_FUNCTION)
    assert "loggingConfig" not in function.dependencies

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (
        r.Undecided("TAP-LAMBDA-003", function.urn, "loggingConfig.logGroup"),
    )


def test_an_unknown_function_name_without_a_log_group_is_undecided_on_the_name() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["loggingConfig", "logGroup"], DELETE)
    stack = mutate(stack, r.LAMBDA_FUNCTION, ["name"], UNKNOWN_STRING)
    function = one(stack, r.LAMBDA_FUNCTION)

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (r.Undecided("TAP-LAMBDA-003", function.urn, "name"),)


def test_logs_to_an_unmanaged_group_fire_lambda_003_saying_why() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["loggingConfig", "logGroup"], "/elsewhere")

    assert only_fired(stack, "TAP-LAMBDA-003") == [
        "writes its logs to '/elsewhere', a log group this stack does not manage (so it has "
        "no retention and no tags: docs/http-api.md rule 20); set loggingConfig.logGroup to "
        "the stack's log group"
    ]


def test_a_table_cell_escapes_pipes_and_flattens_newlines() -> None:
    rule = r.Rule(
        "TAP-X-001",
        "a | b\nc",
        "advisory",
        ("x | y",),
        (r.LAMBDA_FUNCTION,),
        lambda resource, context: iter(()),
    )

    assert r.render_rule_table([rule]).splitlines()[2] == (
        "| TAP-X-001 | a \\| b c | advisory | x \\| y |"
    )


@pytest.mark.parametrize("source", [DELETE, "", 5, [f"{EXECUTION_ARN}/*/*"]])
def test_a_missing_or_malformed_source_arn_lets_any_api_invoke(source: object) -> None:
    stack = mutate(hand_stack(), r.LAMBDA_PERMISSION, ["sourceArn"], source)

    assert only_fired(stack, "TAP-API-004") == [
        "lets any API Gateway API in any account invoke the function: set sourceArn to this "
        "stack's API (<executionArn>/*/*)"
    ]


@pytest.mark.parametrize(
    ("scope", "fires"),
    [
        ({}, True),
        ({"sourceArn": "arn:aws:events:us-east-1:123456789012:rule/nightly"}, False),
        ({"sourceAccount": "123456789012"}, False),
        ({"sourceArn": "", "sourceAccount": ""}, True),
    ],
)
def test_another_service_principal_is_scoped_by_source_arn_or_account(
    scope: dict[str, str], fires: bool
) -> None:
    events = r.Resource(
        r.LAMBDA_PERMISSION, "events", {"principal": "events.amazonaws.com", **scope}
    )

    fired = [v.rule_id for v in new_violations([*hand_stack(), events])]

    assert fired == (["TAP-API-004"] if fires else [])


def test_a_source_arn_outside_this_stack_says_to_scope_it() -> None:
    source = "arn:aws:execute-api:us-east-1:123456789012:otherapi1/*/*"
    stack = mutate(hand_stack(), r.LAMBDA_PERMISSION, ["sourceArn"], source)

    assert only_fired(stack, "TAP-API-004") == [
        f"sourceArn {source!r} is not under the execution ARN of an API in this stack: scope "
        "the permission to this stack's API"
    ]


def test_an_api_execution_arn_unknown_during_preview_is_undecided_on_it() -> None:
    stack = mutate(hand_stack(), r.HTTP_API, ["executionArn"], UNKNOWN_STRING)
    permission = one(stack, r.LAMBDA_PERMISSION)

    report = evaluate(stack)

    assert report.violations == ()
    assert report.undecided == (
        r.Undecided("TAP-API-004", permission.urn, "the API's executionArn"),
    )
