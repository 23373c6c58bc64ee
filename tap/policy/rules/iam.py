"""The IAM rules: wildcard actions and resources, AWS-managed policies, the trust policy."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from tap.policy.rules.model import (
    IAM_GROUP_POLICY,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    IAM_USER_POLICY,
    Context,
    Resource,
)
from tap.policy.rules.read import as_list, parse_json, prop, quoted

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
    return f"statement {quoted(statement['Sid'])}" if statement.get("Sid") else f"statement {index}"


# IAM matches both wildcards anywhere in an action or a resource ARN: "*" any run of
# characters, "?" any one (docs/http-api.md rule 47).
IAM_WILDCARDS = ("*", "?")
# Services whose ARN resource part starts with the resource's own name, not with a resource
# type: arn:aws:s3:::bucket/key, arn:aws:sns:region:account:topic, ...:sqs:...:queue.
_UNTYPED_RESOURCE_SERVICES = frozenset({"s3", "sns", "sqs"})


def _has_wildcard(text: str) -> bool:
    return any(w in text for w in IAM_WILDCARDS)


def is_wildcard_resource(resource: Any) -> bool:
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
                        f"{quoted(action)}: list each action the function calls"
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
            wildcards = [r for r in as_list(statement.get("Resource")) if is_wildcard_resource(r)]
            if not wildcards:
                continue
            actions = set(as_list(statement.get("Action")))
            if wildcards == ["*"] and actions and actions <= XRAY_ACTIONS_WITHOUT_RESOURCE_SCOPE:
                continue  # the allow-listed exception, see XRAY_EXCEPTION_REASON
            allowed = ", ".join(sorted(XRAY_ACTIONS_WITHOUT_RESOURCE_SCOPE))
            yield (
                f"{where} {_sid(statement, index)} allows {sorted(actions)} on "
                f"{', '.join(quoted(w) for w in wildcards)}: name the ARNs (only {allowed} "
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
                f"attaches the AWS-managed policy {quoted(arn)}: AWS can widen it at any time; "
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
