"""The model a rule sees: a resource, its stack, and what a check reports.

A check takes one ``Resource`` (its type token and its properties, camelCase, as the
engine passes them) and a ``Context`` (every resource of the stack, and today's date) and
yields one message per problem. Values unknown during preview are ``UNKNOWN``; a check
that needs one raises ``UndecidableError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

from tap import engine

# ---------------------------------------------------------------------------------------
# The model.


class _Unknown:
    """A value the engine cannot know yet (a computed output during preview)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


def normalize(value: Any) -> Any:
    """Plain data: secrets unwrapped and the engine's unknown sentinels replaced by UNKNOWN."""
    if isinstance(value, Mapping):
        if engine.is_secret(value):
            return normalize(value.get("value"))
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, str) and value in engine.UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it.

    ``props`` are camelCase, normalized (see ``normalize``). ``provider`` holds the
    properties of the resource's explicit provider (``None`` when it has none), so the tag
    rule can count the provider's default tags. ``dependencies`` maps a property name to
    the URNs of the resources its value came from: during preview a cross-resource rule can
    still see that a permission's ``sourceArn`` comes from this stack's API even though the
    ARN itself is unknown.
    """

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    provider: Mapping[str, Any] | None = None
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.urn or f"{self.type}::{self.name}"


@dataclass(frozen=True)
class Context:
    """What a check may look at beyond its resource: the whole stack, and today."""

    stack: tuple[Resource, ...]
    today: date

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (r for r in self.stack if r.type in types)

    def by_urn(self, urn: str) -> Resource | None:
        return next((r for r in self.stack if r.urn == urn), None)


class UndecidableError(Exception):
    """A check needs a value that is unknown during preview."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not known until the resource is created")
        self.what = what


Severity = Literal["mandatory", "advisory"]
Check = Callable[[Resource, Context], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    """One rule: what it checks, how bad a failure is, which established rules it mirrors."""

    id: str
    description: str
    severity: Severity
    mirrors: tuple[str, ...]
    types: tuple[str, ...]
    check: Check
    # "stack": the check looks at other resources too, so the pack wires it as a stack
    # validation (which sees every resource); "resource": a resource validation, which runs
    # before the resource is created and so stops `pulumi up` earlier.
    scope: Literal["resource", "stack"] = "resource"
    # True when the rule applies to every resource with tags, whatever its type (``types``
    # then only lists the types known to be taggable even when no tags are set).
    any_taggable: bool = False

    def applies_to(self, resource: Resource) -> bool:
        if resource.type in self.types:
            return True
        return self.any_taggable and is_taggable(resource)


@dataclass(frozen=True)
class Violation:
    rule_id: str
    severity: Severity
    resource: str
    message: str


@dataclass(frozen=True)
class Undecided:
    rule_id: str
    resource: str
    what: str


@dataclass(frozen=True)
class Report:
    violations: tuple[Violation, ...]
    undecided: tuple[Undecided, ...]

    def fired(self, severity: Severity | None = None) -> set[str]:
        """The ids of the rules with at least one violation (of ``severity``, if given)."""
        return {v.rule_id for v in self.violations if severity is None or v.severity == severity}


# ---------------------------------------------------------------------------------------
# Resource types (pulumi-aws 7 type tokens).

LAMBDA_FUNCTION = engine.LAMBDA_FUNCTION
LAMBDA_PERMISSION = engine.LAMBDA_PERMISSION
LOG_GROUP = engine.LOG_GROUP
METRIC_ALARM = engine.METRIC_ALARM
COMPOSITE_ALARM = engine.COMPOSITE_ALARM
HTTP_API = engine.HTTP_API
HTTP_API_STAGE = engine.HTTP_API_STAGE
HTTP_API_ROUTE = engine.HTTP_API_ROUTE
HTTP_API_AUTHORIZER = engine.HTTP_API_AUTHORIZER
HTTP_API_DOMAIN_NAME = engine.HTTP_API_DOMAIN_NAME
IAM_ROLE = engine.IAM_ROLE
IAM_ROLE_POLICY = engine.IAM_ROLE_POLICY
IAM_POLICY = engine.IAM_POLICY
IAM_USER_POLICY = engine.IAM_USER_POLICY
IAM_GROUP_POLICY = engine.IAM_GROUP_POLICY
IAM_ROLE_POLICY_ATTACHMENT = engine.IAM_ROLE_POLICY_ATTACHMENT
IAM_POLICY_ATTACHMENT = engine.IAM_POLICY_ATTACHMENT
IAM_USER_POLICY_ATTACHMENT = engine.IAM_USER_POLICY_ATTACHMENT
IAM_GROUP_POLICY_ATTACHMENT = engine.IAM_GROUP_POLICY_ATTACHMENT
IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE = engine.IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE

# Types that accept `tags` in pulumi-aws 7 even when a resource sets none (then its tags
# come only from the provider's default tags, which a resource validation cannot see in
# its own properties): tap.engine's one list, which tests/policy checks against
# pulumi-aws's signatures. Any other type counts as taggable when its properties carry
# `tags` or `tagsAll`.
TAGGABLE_TYPES: Final = engine.TAGGABLE_TYPES


def is_taggable(resource: Resource) -> bool:
    return engine.is_taggable(resource.type, resource.props)
