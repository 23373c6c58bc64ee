"""The CrossGuard wiring (tap/policy/pack.py, __main__.py, PulumiPolicy.yaml), driven with
pulumi_policy's own argument objects, as its analyzer server builds them, without starting
the server or the Pulumi CLI."""

from __future__ import annotations

import configparser
import runpy
from datetime import date
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from tap.policy import pack
from tap.policy import rules as r
from tests.policy.stacks import (
    TODAY,
    UNKNOWN_STRING,
    computed_from,
    hand_stack,
    mutate,
    one,
    provider_props,
)

REPO = Path(__file__).resolve().parents[2]
PACK_DIR = REPO / "tap" / "policy"
PROVIDER_URN = "urn:pulumi:dev::tap::pulumi:providers:aws::aws"


def _today() -> date:
    return TODAY


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _provider() -> PolicyProviderResource:
    return PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy(provider_props()), PROVIDER_URN, "aws"
    )


def _raw(resource: r.Resource) -> dict[str, Any]:
    """The model's props back in the engine's wire form (UNKNOWN as the sentinel)."""

    def back(value: Any) -> Any:
        if value is r.UNKNOWN:
            return UNKNOWN_STRING
        if isinstance(value, dict):
            return {k: back(v) for k, v in value.items()}
        if isinstance(value, list):
            return [back(v) for v in value]
        return value

    return back(dict(resource.props))


def resource_args(resource: r.Resource) -> ResourceValidationArgs:
    """What the analyzer server passes a resource validation (pulumi_policy policy.py,
    Analyze): props behind the unknown-checking proxy, the provider's props likewise."""
    return ResourceValidationArgs(
        resource.type,
        unknown_checking_proxy(_raw(resource)),
        resource.urn,
        resource.name,
        _options(),
        _provider(),
    )


def stack_args(resources: list[r.Resource]) -> StackValidationArgs:
    by_urn = {
        x.urn: PolicyResource(
            x.type,
            unknown_checking_proxy(_raw(x)),
            x.urn,
            x.name,
            _options(),
            _provider(),
            None,
            [],
            {},
        )
        for x in resources
    }
    for x in resources:
        by_urn[x.urn].property_dependencies = {
            key: [by_urn[u] for u in urns] for key, urns in x.dependencies.items()
        }
    return StackValidationArgs(list(by_urn.values()))


class Reports:
    """A report_violation callback that keeps what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.calls.append((message, urn))


def policy_for(rule_id: str) -> Any:
    return pack.policy(r.RULES_BY_ID[rule_id], _today)


# ---------------------------------------------------------------------------------------
# One policy per rule, named, levelled and typed from the declaration.


def test_every_rule_becomes_one_policy_named_by_its_id() -> None:
    policies = pack.policies(_today)

    assert [p.name for p in policies] == [rule.id for rule in r.RULES]
    for policy, rule in zip(policies, r.RULES, strict=True):
        level = (
            EnforcementLevel.MANDATORY
            if rule.severity == "mandatory"
            else EnforcementLevel.ADVISORY
        )
        kind = StackValidationPolicy if rule.scope == "stack" else ResourceValidationPolicy
        assert (policy.enforcement_level, type(policy)) == (level, kind)
        assert policy.description == rule.description
        assert policy.tags == list(rule.mirrors)


# ---------------------------------------------------------------------------------------
# Resource validations.


def test_a_compliant_resource_reports_nothing() -> None:
    reports = Reports()

    for resource in hand_stack():
        for rule in r.RULES:
            if rule.scope == "resource":
                pack.policy(rule, _today).validate(resource_args(resource), reports)

    assert reports.calls == []


def test_a_resource_violation_is_reported_with_the_rule_id_and_the_resource() -> None:
    function = one(
        mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], "python3.11"), r.LAMBDA_FUNCTION
    )
    reports = Reports()

    policy_for("TAP-LAMBDA-001").validate(resource_args(function), reports)

    assert reports.calls == [
        (
            "[TAP-LAMBDA-001] function (aws:lambda/function:Function) runtime 'python3.11' was "
            "deprecated on 2026-06-30 and gets no security patches; use one of python3.12, "
            "python3.13, python3.14",
            None,
        )
    ]


def test_the_tag_rule_reads_the_providers_default_tags_from_the_args() -> None:
    group = one(hand_stack(), r.LOG_GROUP, "logs")
    args = resource_args(group)
    reports = Reports()

    policy_for("TAP-TAG-001").validate(args, reports)
    assert reports.calls == []

    args.provider = PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy({"region": "us-east-1"}), PROVIDER_URN, "aws"
    )
    policy_for("TAP-TAG-001").validate(args, reports)
    assert [m for m, _ in reports.calls] == [
        "[TAP-TAG-001] logs (aws:cloudwatch/logGroup:LogGroup) has no non-empty 'Environment' "
        "tag in its tags or the provider's default tags (tags: [])"
    ]


def test_a_rule_ignores_resources_of_other_types() -> None:
    reports = Reports()

    policy_for("TAP-LAMBDA-002").validate(resource_args(one(hand_stack(), r.HTTP_API)), reports)

    assert reports.calls == []


def test_an_unknown_value_becomes_the_engines_unknown_value_error() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_FUNCTION, ["runtime"], UNKNOWN_STRING)

    with pytest.raises(UnknownValueError) as raised:
        policy_for("TAP-LAMBDA-001").validate(
            resource_args(one(stack, r.LAMBDA_FUNCTION)), Reports()
        )

    assert raised.value.message == (
        "string value at .TAP-LAMBDA-001: runtime can't be known during preview"
    )


# ---------------------------------------------------------------------------------------
# Stack validations.


def test_a_compliant_stack_reports_nothing_from_the_stack_policies() -> None:
    reports = Reports()

    for rule in r.RULES:
        if rule.scope == "stack":
            pack.policy(rule, _today).validate(stack_args(hand_stack()), reports)

    assert reports.calls == []


def test_a_stack_violation_names_the_offending_resources_urn() -> None:
    stack = mutate(
        hand_stack(),
        r.LAMBDA_PERMISSION,
        ["sourceArn"],
        "arn:aws:execute-api:us-east-1:1:other/*/*",
    )
    permission = one(stack, r.LAMBDA_PERMISSION)
    reports = Reports()

    policy_for("TAP-API-004").validate(stack_args(stack), reports)

    ((message, urn),) = reports.calls
    assert urn == permission.urn
    assert message.startswith(
        "[TAP-API-004] permission (aws:lambda/permission:Permission) sourceArn"
    )


def test_stack_policy_follows_property_dependencies_during_preview() -> None:
    stack = hand_stack()
    api = one(stack, r.HTTP_API)
    permission = one(stack, r.LAMBDA_PERMISSION)
    reports = Reports()

    policy_for("TAP-API-004").validate(
        stack_args(computed_from(stack, permission, "sourceArn", r.UNKNOWN, api)), reports
    )

    assert reports.calls == []


def test_stack_policy_reports_what_it_can_then_raises_for_the_unknown() -> None:
    stack = mutate(hand_stack(), r.LAMBDA_PERMISSION, ["sourceArn"], UNKNOWN_STRING)
    extra = r.Resource(
        r.LAMBDA_PERMISSION, "public", {"principal": "*"}, "urn:pulumi:dev::tap::perm::public"
    )
    reports = Reports()

    with pytest.raises(UnknownValueError) as raised:
        policy_for("TAP-API-004").validate(stack_args([*stack, extra]), reports)

    assert [urn for _, urn in reports.calls] == ["urn:pulumi:dev::tap::perm::public"]
    assert "TAP-API-004: permission: sourceArn" in raised.value.message


# ---------------------------------------------------------------------------------------
# The entry point and the pack's files.


def test_the_entry_point_builds_the_pack_from_every_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[dict[str, Any]] = []
    # PolicyPack(...) starts the gRPC server and blocks: record the call instead.
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.append(kwargs))

    runpy.run_path(str(PACK_DIR / "__main__.py"), run_name="__main__")

    (kwargs,) = built
    assert kwargs["name"] == "tap"
    assert [p.name for p in kwargs["policies"]] == [rule.id for rule in r.RULES]
    assert kwargs["enforcement_level"] == EnforcementLevel.MANDATORY


def test_pulumi_policy_yaml_runs_the_pack_in_the_projects_virtualenv() -> None:
    spec = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())

    assert spec["runtime"]["name"] == "python"
    # Pulumi resolves the virtualenv relative to the pack's folder.
    venv = (PACK_DIR / spec["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == (REPO / project["runtime"]["options"]["virtualenv"]).resolve()
    assert spec["version"] == "1.0.0"
    assert spec["description"] == pack.PACK_DESCRIPTION


def test_the_packs_requirements_match_the_test_extra() -> None:
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    extra = [line.strip() for line in setup["options.extras_require"]["test"].splitlines()]
    requirements = [
        line.strip()
        for line in (PACK_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert requirements == ["pulumi-policy>=1.18,<2"]  # the floor: test_policy_floor.py
    assert requirements[0] in extra
