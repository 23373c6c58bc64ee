"""The README's rule and exemption tables, generated from the declarations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from tap.policy.rules.catalog import RULES
from tap.policy.rules.model import Rule


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
