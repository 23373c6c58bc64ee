"""The rules this stack claims to meet, as plain functions over a simple model of a stack.

Each rule is declared once, in ``RULES``: an id, what it checks, a severity, the cdk-nag /
checkov / Security Hub rule it mirrors, and a check function. A check takes one
``Resource`` (its type token and its properties, camelCase, as the engine passes them) and a
``Context`` (every resource of the stack, and today's date) and yields one message per
problem. The CrossGuard pack (``tap/policy/__main__.py``) only adapts the engine's arguments
into this model and reports what the checks yield; the tests adapt the mock runtime's
recording into the same model, so every rule is tested without the Pulumi CLI.

The model is deliberately tolerant of the shapes the engine and the mock runtime disagree on:
numbers as floats, secrets wrapped, provider ``defaultTags`` as a JSON string, policy
documents as JSON strings, values unknown during preview (``UNKNOWN``). A check that needs an
unknown value raises ``Undecidable``: the resource is reported as undecided, never as
passing.

This module imports only the standard library and pure ``tap`` modules (``tap.engine``,
``tap.config``, ``tap.text``), so the pack runs without pulumi-aws and importing it never
starts the policy server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

from tap import engine
from tap.config import HTTP_API_INTEGRATION_TIMEOUT_S
from tap.text import excerpt, json_too_deep, quote

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


class Undecidable(Exception):
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

ENVIRONMENT_TAG = "Environment"


# ---------------------------------------------------------------------------------------
# Helpers over normalized properties.


def known(value: Any, what: str) -> Any:
    """``value``, unless it is unknown during preview: then the check cannot decide."""
    if value is UNKNOWN:
        raise Undecidable(what)
    return value


def prop(props: Mapping[str, Any], *path: str) -> Any:
    """The value at ``path`` (camelCase keys), ``None`` when absent; Undecidable if unknown.

    Blocks that pulumi-aws models as one-element lists in some versions (``[{...}]``) are
    read as their single element.
    """
    value: Any = props
    for depth, key in enumerate(path):
        value = known(value, ".".join(path[:depth]) or "properties")
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
        if value is None:
            return None
    return known(value, ".".join(path))


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def parse_json(value: Any, what: str) -> Any:
    """A JSON document held as a string (as pulumi-aws takes it) or already parsed."""
    value = known(value, what)
    if isinstance(value, str):
        try:
            if json_too_deep(value):  # the same answer on every Python (tap.text)
                raise RecursionError
            return normalize(json.loads(value))
        except json.JSONDecodeError as error:
            raise ValueError(f"{what} is not valid JSON: {error.msg}") from None
        except RecursionError:
            raise ValueError(f"{what} is not valid JSON: nested too deeply") from None
        except ValueError as error:  # an integer of more than 4,300 digits
            raise ValueError(f"{what} is not valid JSON: {excerpt(str(error))}") from None
    return value


def _number(value: Any) -> float | None:
    """Numbers arrive as floats from the mock runtime and as ints from the engine."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def is_taggable(resource: Resource) -> bool:
    return engine.is_taggable(resource.type, resource.props)


def provider_default_tags(provider: Mapping[str, Any] | None) -> dict[str, Any]:
    """The provider's default tags, whether the engine passes them parsed or as JSON text
    (tap.engine); a value unknown in preview makes the check undecidable."""
    return engine.provider_default_tags(provider, parse_json)


def effective_tags(resource: Resource) -> dict[str, Any]:
    """The tags AWS will apply: the provider's defaults, overridden by the resource's own.

    ``tagsAll`` (an output) already merges both; it is read too so a stack validation,
    which sees outputs, agrees with a resource validation, which sees inputs.
    """
    own = [known(resource.props.get(key), key) for key in ("tagsAll", "tags")]
    return engine.effective_tags(provider_default_tags(resource.provider), *own)


# ---------------------------------------------------------------------------------------
# IAM documents.

# X-Ray's write actions support no resource-level permissions (Service Authorization
# Reference, AWS X-Ray: no resource types for these actions; docs/http-api.md rule 23), so a
# function that sends traces needs them on "*". These are the only actions allowed there.
XRAY_ACTIONS_WITHOUT_RESOURCE_SCOPE: Final = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
)
XRAY_EXCEPTION_REASON: Final = (
    "X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions: "
    "AWS only accepts them on Resource '*'"
)

LAMBDA_SERVICE_PRINCIPAL = "lambda.amazonaws.com"
API_GATEWAY_SERVICE_PRINCIPAL = "apigateway.amazonaws.com"
_AWS_MANAGED_POLICY_RE = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/")


def policy_documents(resource: Resource) -> Iterator[tuple[str, Any]]:
    """(where, document) for every permissions policy the resource carries."""
    if resource.type in (IAM_ROLE_POLICY, IAM_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY):
        if resource.props.get("policy") is not None:
            yield "policy", parse_json(resource.props["policy"], "policy")
    elif resource.type == IAM_ROLE:
        # The deprecated Role(inline_policies=...) form: still a permissions policy.
        for index, inline in enumerate(as_list(prop(resource.props, "inlinePolicies"))):
            if isinstance(inline, Mapping) and inline.get("policy"):
                where = f"inlinePolicies[{index}].policy"
                yield where, parse_json(inline["policy"], where)


def statements(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        raise ValueError("the policy document is not a JSON object")
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def _allows(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


def _sid(statement: Mapping[str, Any], index: int) -> str:
    return f"statement {_q(statement['Sid'])}" if statement.get("Sid") else f"statement {index}"


# IAM matches both wildcards anywhere in an action or a resource ARN: "*" any run of
# characters, "?" any one (docs/http-api.md rule 47).
IAM_WILDCARDS = ("*", "?")
# Services whose ARN resource part starts with the resource's own name, not with a resource
# type: arn:aws:s3:::bucket/key, arn:aws:sns:region:account:topic, ...:sqs:...:queue.
_UNTYPED_RESOURCE_SERVICES = frozenset({"s3", "sns", "sqs"})


def _q(value: Any) -> str:
    """A property value in a message: bounded and escaped (tap.text), None as None."""
    return "None" if value is None else quote(value)


def _has_wildcard(text: str) -> bool:
    return any(w in text for w in IAM_WILDCARDS)


def _is_wildcard_resource(resource: Any) -> bool:
    """As broad as ``*`` within a service: every resource of a type, in any account.

    That is ``*``, or an ARN with a wildcard in its partition, service, region or account,
    in its resource type (``log-*:x``), or at the start of the resource's name:
    ``log-group:*`` (every log group), ``function:*``, ``table/*``, ``arn:aws:s3:::*``
    (every bucket). A wildcard after a fixed name is scoping, not breadth:
    ``log-group:/aws/lambda/x:*`` (the log streams of one group, the scope the Lambda
    console writes), ``arn:aws:s3:::bucket/*`` (the objects of one bucket), or a name prefix
    such as ``function:tap-*``.
    """
    if not isinstance(resource, str):
        return False
    if _has_wildcard(resource) and resource.strip("*?") == "":
        return True
    parts = resource.split(":", 5)
    if len(parts) != 6:
        return False
    if any(_has_wildcard(part) for part in parts[1:5]):
        return True
    service, rest = parts[2], parts[5]
    if service in _UNTYPED_RESOURCE_SERVICES:
        name = rest
    else:
        kind, separator, name = _split_resource_type(rest)
        if _has_wildcard(kind) or not separator:
            return _has_wildcard(rest)  # no type: the whole part is the name
    return name.lstrip("/").startswith(IAM_WILDCARDS)


def _split_resource_type(rest: str) -> tuple[str, str, str]:
    """``log-group:/aws/x:*`` -> ("log-group", ":", "/aws/x:*"); ``table/t`` -> ("table",
    "/", "t"): the resource type ends at the first ":" or "/"."""
    cut = min((i for i in (rest.find(":"), rest.find("/")) if i >= 0), default=-1)
    if cut < 0:
        return rest, "", ""
    return rest[:cut], rest[cut], rest[cut + 1 :]


# ---------------------------------------------------------------------------------------
# The checks. Each yields one message per problem, naming the value and what is allowed.


def check_environment_tag(resource: Resource, context: Context) -> Iterator[str]:
    tags = effective_tags(resource)
    value = known(tags.get(ENVIRONMENT_TAG), f"tags.{ENVIRONMENT_TAG}")
    if not isinstance(value, str) or not value.strip():
        source = "its tags or the provider's default tags"
        yield f"has no non-empty '{ENVIRONMENT_TAG}' tag in {source} (tags: {sorted(tags)})"


def check_no_wildcard_actions(resource: Resource, context: Context) -> Iterator[str]:
    for where, document in policy_documents(resource):
        for index, statement in enumerate(statements(document)):
            if not _allows(statement):
                continue
            if "NotAction" in statement:
                yield (
                    f"{where} {_sid(statement, index)} allows NotAction, which grants every "
                    "action not listed: list the actions instead"
                )
            for action in as_list(statement.get("Action")):
                if isinstance(action, str) and _has_wildcard(action):
                    yield (
                        f"{where} {_sid(statement, index)} allows the wildcard action "
                        f"{_q(action)}: list each action the function calls"
                    )


def check_no_wildcard_resources(resource: Resource, context: Context) -> Iterator[str]:
    for where, document in policy_documents(resource):
        for index, statement in enumerate(statements(document)):
            if not _allows(statement):
                continue
            if "NotResource" in statement:
                yield (
                    f"{where} {_sid(statement, index)} allows NotResource, which grants every "
                    "resource not listed: list the resources instead"
                )
            wildcards = [r for r in as_list(statement.get("Resource")) if _is_wildcard_resource(r)]
            if not wildcards:
                continue
            actions = set(as_list(statement.get("Action")))
            if wildcards == ["*"] and actions and actions <= XRAY_ACTIONS_WITHOUT_RESOURCE_SCOPE:
                continue  # the allow-listed exception, see XRAY_EXCEPTION_REASON
            allowed = ", ".join(sorted(XRAY_ACTIONS_WITHOUT_RESOURCE_SCOPE))
            yield (
                f"{where} {_sid(statement, index)} allows {sorted(actions)} on "
                f"{', '.join(_q(w) for w in wildcards)}: name the ARNs (only {allowed} "
                f"may use '*': {XRAY_EXCEPTION_REASON})"
            )


def check_no_aws_managed_policies(resource: Resource, context: Context) -> Iterator[str]:
    arns: list[Any]
    if resource.type == IAM_ROLE:
        arns = as_list(prop(resource.props, "managedPolicyArns"))
    elif resource.type == IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE:
        arns = as_list(prop(resource.props, "policyArns"))
    else:
        arns = [prop(resource.props, "policyArn")]
    for arn in arns:
        if isinstance(arn, str) and _AWS_MANAGED_POLICY_RE.match(arn):
            yield (
                f"attaches the AWS-managed policy {_q(arn)}: AWS can widen it at any time; "
                "grant the actions the function needs in an inline policy instead"
            )


def check_trust_policy(resource: Resource, context: Context) -> Iterator[str]:
    document = parse_json(prop(resource.props, "assumeRolePolicy") or "{}", "assumeRolePolicy")
    allow = [s for s in statements(document) if _allows(s)]
    if not allow:
        yield "its trust policy allows no one to assume it"
    for index, statement in enumerate(allow):
        name = _sid(statement, index)
        if "NotPrincipal" in statement:
            yield f"trust policy {name} uses NotPrincipal: name {LAMBDA_SERVICE_PRINCIPAL}"
            continue
        principal = statement.get("Principal")
        services: list[Any] = []
        if isinstance(principal, Mapping) and set(principal) == {"Service"}:
            services = as_list(principal["Service"])
        if services != [LAMBDA_SERVICE_PRINCIPAL]:
            yield (
                f"trust policy {name} lets {json.dumps(principal)} assume the role: "
                f"only the service principal {LAMBDA_SERVICE_PRINCIPAL!r} may"
            )
        actions = as_list(statement.get("Action"))
        if actions != ["sts:AssumeRole"]:
            yield f"trust policy {name} allows {actions}: only ['sts:AssumeRole'] is needed"


# Deprecation dates of the Python runtimes (AWS Lambda developer guide, "Lambda runtimes";
# python3.10-3.14 as recorded in docs/http-api.md "Runtimes"). None: no date
# announced yet. A runtime not listed here fails: the pack cannot show it is supported.
RUNTIME_DEPRECATION: Final[Mapping[str, date | None]] = {
    "python2.7": date(2021, 7, 15),
    "python3.6": date(2022, 7, 18),
    "python3.7": date(2023, 12, 4),
    "python3.8": date(2024, 10, 14),
    "python3.9": date(2025, 12, 15),
    "python3.10": date(2026, 6, 30),
    "python3.11": date(2026, 6, 30),
    "python3.12": date(2028, 10, 31),
    "python3.13": date(2029, 6, 30),
    "python3.14": None,
}


def check_runtime(resource: Resource, context: Context) -> Iterator[str]:
    if prop(resource.props, "packageType") == "Image":
        return  # a container image brings its own runtime (Security Hub Lambda.2 skips it too)
    runtime = prop(resource.props, "runtime")
    supported = sorted(
        (r for r, d in RUNTIME_DEPRECATION.items() if d is None or d > context.today),
        key=lambda r: tuple(int(n) for n in re.findall(r"\d+", r)),
    )
    if runtime not in RUNTIME_DEPRECATION:
        yield (
            f"runtime {_q(runtime)} is not one this pack knows; supported: {', '.join(supported)}"
        )
        return
    deprecated_on = RUNTIME_DEPRECATION[runtime]
    if deprecated_on is not None and deprecated_on <= context.today:
        yield (
            f"runtime {_q(runtime)} was deprecated on {deprecated_on.isoformat()} and gets no "
            f"security patches; use one of {', '.join(supported)}"
        )


# Lambda's default timeout when none is set (CreateFunction: 3 s).
LAMBDA_DEFAULT_TIMEOUT_S = 3


def check_timeout(resource: Resource, context: Context) -> Iterator[str]:
    timeout = _number(prop(resource.props, "timeout"))
    timeout = LAMBDA_DEFAULT_TIMEOUT_S if timeout is None else timeout
    if timeout >= HTTP_API_INTEGRATION_TIMEOUT_S:
        yield (
            f"timeout is {timeout:g} s, but must be below {HTTP_API_INTEGRATION_TIMEOUT_S} s: "
            f"an HTTP API stops waiting after {HTTP_API_INTEGRATION_TIMEOUT_S} s and the "
            "client already got a 503 (docs/http-api.md rule 11)"
        )


def _managed_log_group_names(context: Context) -> set[str]:
    return {
        r.props["name"] for r in context.of_type(LOG_GROUP) if isinstance(r.props.get("name"), str)
    }


def check_function_logging(resource: Resource, context: Context) -> Iterator[str]:
    log_format = prop(resource.props, "loggingConfig", "logFormat")
    if log_format != "JSON":
        yield (
            f"loggingConfig.logFormat is {_q(log_format)}, but must be 'JSON' so each log "
            "record is a queryable object (docs/http-api.md rule 21)"
        )
    config = prop(resource.props, "loggingConfig")
    explicit = config.get("logGroup") if isinstance(config, Mapping) else None
    if explicit is UNKNOWN:
        # During preview the group's name may be computed: its provenance still shows
        # whether it comes from a log group of this stack.
        sources = resource.dependencies.get("loggingConfig", ())
        if any((r := context.by_urn(u)) is not None and r.type == LOG_GROUP for u in sources):
            return
        raise Undecidable("loggingConfig.logGroup")
    name = known(resource.props.get("name"), "name")
    target = explicit or (f"/aws/lambda/{name}" if isinstance(name, str) else None)
    if target is None:
        raise Undecidable("name")
    if target not in _managed_log_group_names(context):
        yield (
            f"writes its logs to {_q(target)}, a log group this stack does not manage (so "
            "it has no retention and no tags: docs/http-api.md rule 20); set "
            "loggingConfig.logGroup to the stack's log group"
        )


def check_log_retention(resource: Resource, context: Context) -> Iterator[str]:
    days = _number(prop(resource.props, "retentionInDays"))
    if days is None or days <= 0:
        yield (
            f"retentionInDays is {_q(prop(resource.props, 'retentionInDays'))}: without it the "
            "logs are kept (and billed) forever"
        )


def check_cors_credentials(resource: Resource, context: Context) -> Iterator[str]:
    cors = prop(resource.props, "corsConfiguration")
    if not isinstance(cors, Mapping) or cors.get("allowCredentials") is not True:
        return
    origins = as_list(known(cors.get("allowOrigins"), "corsConfiguration.allowOrigins"))
    if "*" in origins:
        yield (
            "corsConfiguration allows credentials with allowOrigins '*': any site could "
            "make credentialed requests; list the origins (docs/http-api.md rule 18)"
        )


def check_stage_throttling(resource: Resource, context: Context) -> Iterator[str]:
    defaults = prop(resource.props, "defaultRouteSettings")
    defaults = defaults if isinstance(defaults, Mapping) else {}
    settings = [("defaultRouteSettings", defaults, True)]
    for index, route in enumerate(as_list(prop(resource.props, "routeSettings"))):
        if isinstance(route, Mapping):
            settings.append((f"routeSettings[{index}] ({route.get('routeKey')})", route, False))
    for where, setting, required in settings:
        burst = _number(known(setting.get("throttlingBurstLimit"), f"{where}.throttlingBurstLimit"))
        rate = _number(known(setting.get("throttlingRateLimit"), f"{where}.throttlingRateLimit"))
        if not required and burst is None and rate is None:
            continue  # a route that inherits the stage's throttling
        if burst is None or rate is None or burst <= 0 or rate <= 0:
            yield (
                f"{where} has throttlingBurstLimit={_q(burst)} and "
                f"throttlingRateLimit={_q(rate)}: "
                "set both above 0 (one left unset is 0, and every request gets 429: "
                "docs/http-api.md rule 13)"
            )


REQUEST_ID_VARIABLE = "$context.requestId"


def check_access_logs(resource: Resource, context: Context) -> Iterator[str]:
    settings = prop(resource.props, "accessLogSettings")
    if not isinstance(settings, Mapping) or not settings.get("destinationArn"):
        yield "has no accessLogSettings.destinationArn: requests leave no trace"
        return
    try:
        record = parse_json(settings.get("format"), "accessLogSettings.format")
    except ValueError as error:
        yield f"{error}: write the access log as a JSON object"
        return
    if not isinstance(record, Mapping):
        yield "accessLogSettings.format is not a JSON object: write the access log as one"
        return
    if not any(isinstance(v, str) and REQUEST_ID_VARIABLE in v for v in record.values()):
        yield (
            f"accessLogSettings.format has no {REQUEST_ID_VARIABLE}: an access log line "
            "cannot be matched to the function's log or to a client's x-request-id"
        )


def check_invoke_permission(resource: Resource, context: Context) -> Iterator[str]:
    principal = prop(resource.props, "principal")
    if principal == "*" or (isinstance(principal, str) and principal.isdigit()):
        yield (f"lets principal {_q(principal)} invoke the function: name a service and its source")
        return
    if principal != API_GATEWAY_SERVICE_PRINCIPAL:
        scoped = resource.props.get("sourceArn") or resource.props.get("sourceAccount")
        if not scoped:
            yield (
                f"lets the service {_q(principal)} invoke the function on behalf of anyone: set "
                "sourceArn (or sourceAccount)"
            )
        return
    source = resource.props.get("sourceArn")
    apis = list(context.of_type(HTTP_API))
    if source is UNKNOWN:
        api_urns = {api.urn for api in apis}
        if api_urns & set(resource.dependencies.get("sourceArn", ())):
            return
        raise Undecidable("sourceArn")
    if not isinstance(source, str) or not source:
        yield (
            "lets any API Gateway API in any account invoke the function: set sourceArn "
            "to this stack's API (<executionArn>/*/*)"
        )
        return
    for api in apis:
        execution_arn = known(api.props.get("executionArn"), "the API's executionArn")
        if isinstance(execution_arn, str) and source.startswith(execution_arn + "/"):
            return
    yield (
        f"sourceArn {_q(source)} is not under the execution ARN of an API in this stack: "
        "scope the permission to this stack's API"
    )


def check_alarm_actions(resource: Resource, context: Context) -> Iterator[str]:
    actions = [a for a in as_list(prop(resource.props, "alarmActions")) if a]
    if not actions:
        yield "has no alarmActions: it changes state and nobody hears about it"
    if prop(resource.props, "actionsEnabled") is False:
        yield "has actionsEnabled=false: its actions never run"


def check_arm64(resource: Resource, context: Context) -> Iterator[str]:
    architectures = as_list(prop(resource.props, "architectures")) or ["x86_64"]
    if architectures != ["arm64"]:
        yield (
            f"runs on {architectures}: arm64 runs the same Python code for 20% less per GB-second"
        )


def check_active_tracing(resource: Resource, context: Context) -> Iterator[str]:
    mode = prop(resource.props, "tracingConfig", "mode") or "PassThrough"
    if mode != "Active":
        yield (
            f"tracingConfig.mode is {_q(mode)}: requests are not traced unless the caller samples"
        )


# Lambda keeps at least this much of the account's concurrency unreserved (docs/http-api.md
# rule 31).
MIN_UNRESERVED_CONCURRENCY = 100


def check_reserved_concurrency(resource: Resource, context: Context) -> Iterator[str]:
    reserved = _number(prop(resource.props, "reservedConcurrentExecutions"))
    if reserved is None or reserved < 0:
        yield (
            "has no reserved concurrency: a burst can take the account's whole concurrency "
            "(and its bill) with it. Set tap:reservedConcurrency only if the account's "
            f"concurrency quota leaves at least {MIN_UNRESERVED_CONCURRENCY} unreserved after "
            "it: Lambda refuses anything more and `pulumi up` fails halfway (new accounts "
            "often have a quota of 10; docs/http-api.md rule 31)"
        )
    elif reserved == 0:
        yield "reserves 0 concurrent executions: every invocation is throttled"


# CloudWatch.16's default minimum, and checkov CKV_AWS_338's: one year.
LONG_RETENTION_DAYS = 365


def check_long_retention(resource: Resource, context: Context) -> Iterator[str]:
    days = _number(prop(resource.props, "retentionInDays"))
    if days is not None and 0 < days < LONG_RETENTION_DAYS:
        yield f"keeps logs {days:g} days; audit baselines ask for at least {LONG_RETENTION_DAYS}"


# ---------------------------------------------------------------------------------------
# Authentication and custom domains (tap:auth, tap:domain).

# tap/api.py marks a route left open on purpose (tap:auth's publicRoutes) with this
# operation name; kept here too so the pack does not import pulumi-aws.
PUBLIC_OPERATION = "public"
SECURE_TLS_POLICY = "TLS_1_2"


def _jwt_authorizers(context: Context) -> list[Resource]:
    return [
        a
        for a in context.of_type(HTTP_API_AUTHORIZER)
        if known(a.props.get("authorizerType"), "authorizerType") == "JWT"
    ]


def check_routes_authorized(resource: Resource, context: Context) -> Iterator[str]:
    """With a JWT authorizer in the stack (tap:auth), every route uses it or is declared
    public; without one the stack is public by design (the exemption below)."""
    if not _jwt_authorizers(context):
        return
    route_key = prop(resource.props, "routeKey")
    kind = prop(resource.props, "authorizationType") or "NONE"
    if kind == "NONE":
        if prop(resource.props, "operationName") == PUBLIC_OPERATION:
            return
        yield (
            f"route {route_key!r} has no authorizer while the API has a JWT authorizer: "
            "anyone can call it; add it to tap:auth's publicRoutes only if it must be open"
        )
        return
    if not resource.props.get("authorizerId"):
        yield f"route {route_key!r} has authorizationType {kind!r} but no authorizerId"


def check_jwt_issuer(resource: Resource, context: Context) -> Iterator[str]:
    if prop(resource.props, "authorizerType") != "JWT":
        return
    issuer = prop(resource.props, "jwtConfiguration", "issuer")
    if not isinstance(issuer, str) or not issuer.startswith("https://"):
        yield (
            f"jwtConfiguration.issuer is {issuer!r}: a JWT issuer must be an https URL, the "
            "keys that sign the tokens are fetched from it (docs/http-api.md rule 60)"
        )
    audiences = as_list(prop(resource.props, "jwtConfiguration", "audiences"))
    if not audiences:
        yield "jwtConfiguration.audiences is empty: a token for any client would be accepted"


def check_domain_tls(resource: Resource, context: Context) -> Iterator[str]:
    policy = prop(resource.props, "domainNameConfiguration", "securityPolicy")
    if policy != SECURE_TLS_POLICY:
        yield (
            f"domainNameConfiguration.securityPolicy is {policy!r}: use {SECURE_TLS_POLICY} "
            "(TLS 1.0 and 1.1 are deprecated: docs/http-api.md rule 64)"
        )


def check_default_endpoint_disabled(resource: Resource, context: Context) -> Iterator[str]:
    if not list(context.of_type(HTTP_API_DOMAIN_NAME)):
        return
    if prop(resource.props, "disableExecuteApiEndpoint") is not True:
        yield (
            "the stack serves a custom domain but the execute-api endpoint stays open: "
            "clients can bypass the domain (docs/http-api.md rule 65); set "
            "tap:domain.disableDefaultEndpoint to true unless that is intended"
        )


# ---------------------------------------------------------------------------------------
# The rule declarations: the README's rule table is generated from these.

_IAM_DOCUMENT_TYPES = (IAM_ROLE_POLICY, IAM_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY, IAM_ROLE)

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "TAP-TAG-001",
        "Every taggable resource carries a non-empty `Environment` tag (its own tags or "
        "the provider's default tags)",
        "mandatory",
        (
            "Security Hub `Lambda.6` and the other `<Service>.N … should be tagged` "
            "controls, with `requiredTagKeys=Environment`",
            "cdk-nag: none",
            "checkov: none built in",
        ),
        TAGGABLE_TYPES,
        check_environment_tag,
        any_taggable=True,
    ),
    Rule(
        "TAP-IAM-001",
        "No wildcard actions in an Allow (`*`, `service:*`, `service:Get*`, `iam:PassRol?`), "
        "no `NotAction`",
        "mandatory",
        (
            "cdk-nag `AwsSolutions-IAM5`",
            "checkov `CKV_AWS_63` / `CKV_AWS_49`, `CKV_AWS_62` / `CKV_AWS_1`",
            "Security Hub `IAM.1`, `IAM.21`",
        ),
        _IAM_DOCUMENT_TYPES,
        check_no_wildcard_actions,
    ),
    Rule(
        "TAP-IAM-002",
        "No `*` resource (nor an ARN with a wildcard partition, service, region, account, "
        "resource type or whole resource name: `log-group:*`, `function:*`, "
        "`arn:aws:s3:::*`) and no `NotResource` in an Allow; the one exception is X-Ray's "
        "`PutTraceSegments`/`PutTelemetryRecords`, which support no resource-level permissions",
        "mandatory",
        ("cdk-nag `AwsSolutions-IAM5`", "checkov `CKV_AWS_355` / `CKV_AWS_356`"),
        _IAM_DOCUMENT_TYPES,
        check_no_wildcard_resources,
    ),
    Rule(
        "TAP-IAM-003",
        "No AWS-managed policies attached to a role, user or group",
        "mandatory",
        ("cdk-nag `AwsSolutions-IAM4`", "checkov: closest `CKV_AWS_274` (AdministratorAccess)"),
        (
            IAM_ROLE,
            IAM_ROLE_POLICY_ATTACHMENT,
            IAM_POLICY_ATTACHMENT,
            IAM_USER_POLICY_ATTACHMENT,
            IAM_GROUP_POLICY_ATTACHMENT,
            IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
        ),
        check_no_aws_managed_policies,
    ),
    Rule(
        "TAP-IAM-004",
        f"Every role is assumable by `{LAMBDA_SERVICE_PRINCIPAL}` only, with `sts:AssumeRole`",
        "mandatory",
        ("checkov `CKV_AWS_60`, `CKV_AWS_61`", "cdk-nag: none"),
        (IAM_ROLE,),
        check_trust_policy,
    ),
    Rule(
        "TAP-LAMBDA-001",
        "The function uses a supported runtime, not deprecated on the day of the check",
        "mandatory",
        (
            "Security Hub `Lambda.2`",
            "checkov `CKV_AWS_363`",
            "cdk-nag: closest `AwsSolutions-L1` (asks for the latest runtime)",
        ),
        (LAMBDA_FUNCTION,),
        check_runtime,
    ),
    Rule(
        "TAP-LAMBDA-002",
        f"The function's timeout is below the HTTP API's {HTTP_API_INTEGRATION_TIMEOUT_S} s "
        "integration timeout",
        "mandatory",
        ("none; closest cdk-nag `Serverless-LambdaDefaultTimeout` (an explicit timeout)",),
        (LAMBDA_FUNCTION,),
        check_timeout,
    ),
    Rule(
        "TAP-LAMBDA-003",
        "The function logs as JSON to a log group this stack manages",
        "mandatory",
        (
            "none; it makes `CKV_AWS_66` / `Serverless-CloudWatchLogGroupRetentionPeriod` "
            "cover the function's own logs",
        ),
        (LAMBDA_FUNCTION,),
        check_function_logging,
        scope="stack",
    ),
    Rule(
        "TAP-LOGS-001",
        "Every log group has a retention period",
        "mandatory",
        ("checkov `CKV_AWS_66`", "cdk-nag `Serverless-CloudWatchLogGroupRetentionPeriod`"),
        (LOG_GROUP,),
        check_log_retention,
    ),
    Rule(
        "TAP-API-001",
        "CORS never allows credentials with origin `*`",
        "mandatory",
        ("none (API Gateway rejects it on deploy; this fails it at preview)",),
        (HTTP_API,),
        check_cors_credentials,
    ),
    Rule(
        "TAP-API-002",
        "Stage throttling sets both burst and rate limits above 0",
        "mandatory",
        ("cdk-nag `Serverless-APIGWDefaultThrottling`",),
        (HTTP_API_STAGE,),
        check_stage_throttling,
    ),
    Rule(
        "TAP-API-003",
        "The stage writes JSON access logs that include `$context.requestId`",
        "mandatory",
        (
            "cdk-nag `AwsSolutions-APIG1`, `Serverless-APIGWAccessLogging`, "
            "`Serverless-APIGWStructuredLogging`",
            "checkov `CKV_AWS_95`",
            "Security Hub `APIGateway.9`",
        ),
        (HTTP_API_STAGE,),
        check_access_logs,
    ),
    Rule(
        "TAP-API-004",
        "API Gateway's invoke permission is scoped to this stack's API; no public principal",
        "mandatory",
        ("checkov `CKV_AWS_364`, `CKV_AWS_301`", "Security Hub `Lambda.1`"),
        (LAMBDA_PERMISSION,),
        check_invoke_permission,
        scope="stack",
    ),
    Rule(
        "TAP-ALARM-001",
        "Every alarm has an action, and its actions are enabled",
        "mandatory",
        ("Security Hub `CloudWatch.15`, `CloudWatch.17`", "checkov `CKV_AWS_319`"),
        (METRIC_ALARM, COMPOSITE_ALARM),
        check_alarm_actions,
    ),
    Rule(
        "TAP-LAMBDA-004",
        "The function runs on arm64",
        "advisory",
        ("none (cost: 20% less per GB-second)",),
        (LAMBDA_FUNCTION,),
        check_arm64,
    ),
    Rule(
        "TAP-LAMBDA-005",
        "The function has active X-Ray tracing",
        "advisory",
        ("Security Hub `Lambda.7`", "checkov `CKV_AWS_50`", "cdk-nag `Serverless-LambdaTracing`"),
        (LAMBDA_FUNCTION,),
        check_active_tracing,
    ),
    Rule(
        "TAP-LAMBDA-006",
        "The function has reserved concurrency (at least 1)",
        "advisory",
        ("checkov `CKV_AWS_115`", "cdk-nag `NIST.800.53.R5-LambdaConcurrency`"),
        (LAMBDA_FUNCTION,),
        check_reserved_concurrency,
    ),
    Rule(
        "TAP-LOGS-002",
        f"Log groups keep logs at least {LONG_RETENTION_DAYS} days",
        "advisory",
        ("checkov `CKV_AWS_338`", "Security Hub `CloudWatch.16`"),
        (LOG_GROUP,),
        check_long_retention,
    ),
    # ---- tap:auth and tap:domain ----
    Rule(
        "TAP-AUTH-001",
        "When the API has a JWT authorizer (`tap:auth`), every route uses it or is one of "
        "`publicRoutes`",
        "mandatory",
        ("cdk-nag `AwsSolutions-APIG4`", "checkov `CKV_AWS_309`"),
        (HTTP_API_ROUTE,),
        check_routes_authorized,
        scope="stack",
    ),
    Rule(
        "TAP-AUTH-002",
        "A JWT authorizer trusts an `https://` issuer and at least one audience",
        "mandatory",
        ("none (API Gateway itself refuses an http issuer at deploy; this fails it at preview)",),
        (HTTP_API_AUTHORIZER,),
        check_jwt_issuer,
    ),
    Rule(
        "TAP-DOMAIN-001",
        "A custom domain name uses the `TLS_1_2` security policy",
        "mandatory",
        ("checkov `CKV_AWS_206`",),
        (HTTP_API_DOMAIN_NAME,),
        check_domain_tls,
    ),
    Rule(
        "TAP-DOMAIN-002",
        "With a custom domain, the default `execute-api` endpoint is disabled",
        "advisory",
        ("none (a request to execute-api would skip the domain's TLS policy)",),
        (HTTP_API,),
        check_default_endpoint_disabled,
        scope="stack",
    ),
)

RULES_BY_ID: Final = {rule.id: rule for rule in RULES}


# ---------------------------------------------------------------------------------------
# Running the rules.


@dataclass(frozen=True)
class Outcome:
    """What one rule found on one resource: its messages, and what it could not decide."""

    messages: tuple[str, ...]
    undecided: str | None = None


def run_rule(rule: Rule, resource: Resource, context: Context) -> Outcome:
    """Run ``rule`` on ``resource``: every message it yields before it meets a value unknown
    during preview (see ``known``), and that value's name if it does."""
    messages: list[str] = []
    try:
        for message in rule.check(resource, context):
            messages.append(message)
    except Undecidable as error:
        return Outcome(tuple(messages), error.what)
    except ValueError as error:
        # A malformed document (invalid JSON, a statement that is not an object): a
        # violation with the parser's reason, never a crash of the policy pack.
        messages.append(str(error))
    return Outcome(tuple(messages))


def evaluate(
    resources: Sequence[Resource],
    *,
    today: date | None = None,
    rules: Sequence[Rule] = RULES,
) -> Report:
    """Run ``rules`` over every resource of a stack."""
    context = Context(tuple(resources), today or date.today())
    violations: list[Violation] = []
    undecided: list[Undecided] = []
    for rule in rules:
        for resource in resources:
            if not rule.applies_to(resource):
                continue
            outcome = run_rule(rule, resource, context)
            violations.extend(
                Violation(rule.id, rule.severity, resource.label, m) for m in outcome.messages
            )
            if outcome.undecided is not None:
                undecided.append(Undecided(rule.id, resource.label, outcome.undecided))
    return Report(tuple(violations), tuple(undecided))


# ---------------------------------------------------------------------------------------
# Documentation, generated from the declarations above.


@dataclass(frozen=True)
class Exemption:
    """A rule of the established tools that this stack does not meet, on purpose."""

    what: str
    rules: str
    reason: str


EXEMPTIONS: Final[tuple[Exemption, ...]] = (
    Exemption(
        "Routes without authorization",
        "cdk-nag `AwsSolutions-APIG4`, checkov `CKV_AWS_309`",
        "Only without `tap:auth`: a public API by design, whose routes serve anonymous "
        "clients. Throttling (TAP-API-002) bounds abuse. With `tap:auth` every route but "
        "`publicRoutes` has the JWT authorizer, and TAP-AUTH-001 holds it to that.",
    ),
    Exemption(
        "Function outside a VPC",
        "checkov `CKV_AWS_117`, Security Hub `Lambda.3`",
        "The function reaches no private resource. A VPC would add ENIs, and a NAT gateway "
        "or interface endpoints to reach CloudWatch Logs and X-Ray, for no protection.",
    ),
    Exemption(
        "No dead-letter queue",
        "checkov `CKV_AWS_116`, cdk-nag `Serverless-LambdaDLQ`",
        "A DLQ only receives failed asynchronous invocations. API Gateway invokes the "
        "function synchronously: a failure goes back to the client as a 500 and is counted "
        "by the error alarm; there is never an event to park.",
    ),
    Exemption(
        "No code signing",
        "checkov `CKV_AWS_272`",
        "The code is zipped from this repository and deployed by Pulumi from CI, where "
        "the commit is the provenance. Signing needs an AWS Signer profile and a signed "
        "S3 artifact; adopt it together with an artifact pipeline.",
    ),
    Exemption(
        "No API Gateway X-Ray tracing or WAF",
        "checkov `CKV_AWS_73`, cdk-nag `Serverless-APIGWXrayEnabled`, `AwsSolutions-APIG3`",
        "HTTP APIs support neither. The function itself is traced (TAP-LAMBDA-005).",
    ),
)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_rule_table(rules: Sequence[Rule] = RULES) -> str:
    """The README's rule table (markdown), generated from the rule declarations."""
    lines = [
        "| id | what | severity | mirrors |",
        "|---|---|---|---|",
    ]
    for rule in rules:
        cells = (rule.id, rule.description, rule.severity, "; ".join(rule.mirrors))
        lines.append("| " + " | ".join(_markdown_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render_exemptions(exemptions: Sequence[Exemption] = EXEMPTIONS) -> str:
    """The README's table of the established rules this stack does not meet, with reasons."""
    lines = ["| exception | rules it does not meet | why |", "|---|---|---|"]
    for item in exemptions:
        cells = (item.what, item.rules, item.reason)
        lines.append("| " + " | ".join(_markdown_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
