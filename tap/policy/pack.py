"""CrossGuard wiring: each rule of ``tap.policy.rules`` as a pulumi_policy Policy.

Importing this module imports pulumi_policy's classes only; the policy server starts when
``PolicyPack(...)`` is constructed, which only ``tap/policy/__main__.py`` does. So the tests
can drive every policy here with the engine's own argument objects.

Resource-scope rules become resource validations: the engine runs them on each resource's
inputs before the resource is created, so a violation stops `pulumi up` before anything
insecure exists. Rules that look across resources become stack validations, which see
every resource (its outputs, provider and property dependencies) at the end of a preview
or update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from tap.policy.rules import (
    RULES,
    Context,
    Resource,
    Rule,
    normalize,
    run_rule,
)

PACK_NAME = "tap"
PACK_DESCRIPTION = "The security and operability rules the tap stack claims to meet"

_ENFORCEMENT = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
_SEVERITY = {"mandatory": Severity.HIGH, "advisory": Severity.LOW}


def plain(value: Any) -> Any:
    """Engine properties as plain data, unknowns kept as the engine's sentinel strings.

    The engine wraps properties in proxies that raise on any unknown value (pulumi_policy
    proxy.py); the rules want to decide for themselves what an unknown means, so the raw
    values are read through the proxies' ``__target`` escape hatch.
    """
    if type(value).__name__ in ("_DictProxy", "_ListProxy"):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def resource_from_engine(
    resource_type: str,
    name: str,
    urn: str,
    props: Mapping[str, Any],
    provider_props: Mapping[str, Any] | None,
    dependencies: Mapping[str, list[PolicyResource]] | None = None,
) -> Resource:
    """The rules' model of one resource, from what the engine passes a policy."""
    return Resource(
        type=resource_type,
        name=name,
        props=normalize(plain(props)),
        urn=urn,
        provider=normalize(plain(provider_props)) if provider_props is not None else None,
        dependencies={k: tuple(r.urn for r in v) for k, v in (dependencies or {}).items()},
    )


def _unknown(rule: Rule, undecided: list[str]) -> UnknownValueError:
    # Raised after every decidable violation is reported: the engine then adds its own
    # "can't run policy ... during preview" advisory naming the unknown value.
    return UnknownValueError(UNKNOWN_STRING_VALUE, [f"{rule.id}: " + "; ".join(undecided)])


def _message(rule: Rule, resource: Resource, message: str) -> str:
    return f"[{rule.id}] {resource.name} ({resource.type}) {message}"


def resource_validation(
    rule: Rule, today: Callable[[], date] = date.today
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = resource_from_engine(
            args.resource_type,
            args.name,
            args.urn,
            args.props,
            args.provider.props if args.provider is not None else None,
        )
        if not rule.applies_to(resource):
            return
        outcome = run_rule(rule, resource, Context((resource,), today()))
        for message in outcome.messages:
            report_violation(_message(rule, resource, message), None)
        if outcome.undecided is not None:
            raise _unknown(rule, [outcome.undecided])

    return validate


def stack_validation(
    rule: Rule, today: Callable[[], date] = date.today
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            resource_from_engine(
                r.resource_type,
                r.name,
                r.urn,
                r.props,
                r.provider.props if r.provider is not None else None,
                r.property_dependencies,
            )
            for r in args.resources
        ]
        context = Context(tuple(resources), today())
        undecided: list[str] = []
        for resource in resources:
            if not rule.applies_to(resource):
                continue
            outcome = run_rule(rule, resource, context)
            for message in outcome.messages:
                report_violation(_message(rule, resource, message), resource.urn)
            if outcome.undecided is not None:
                undecided.append(f"{resource.name}: {outcome.undecided}")
        if undecided:
            raise _unknown(rule, undecided)

    return validate


def policy(rule: Rule, today: Callable[[], date] = date.today) -> Policy:
    """The CrossGuard policy for ``rule``: named by its id, enforced by its severity."""
    common: dict[str, Any] = {
        "name": rule.id,
        "description": rule.description,
        "enforcement_level": _ENFORCEMENT[rule.severity],
        "severity": _SEVERITY[rule.severity],
        "tags": list(rule.mirrors),
    }
    if rule.scope == "stack":
        return StackValidationPolicy(validate=stack_validation(rule, today), **common)
    return ResourceValidationPolicy(validate=resource_validation(rule, today), **common)


def policies(today: Callable[[], date] = date.today) -> list[Policy]:
    return [policy(rule, today) for rule in RULES]
