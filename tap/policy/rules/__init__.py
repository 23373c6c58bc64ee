"""The rules this stack claims to meet, as plain functions over a simple model of a stack.

Each rule is declared once, in ``RULES`` (``catalog``): an id, what it checks, a severity,
the cdk-nag / checkov / Security Hub rule it mirrors, and a check function. A check takes one
``Resource`` (its type token and its properties, camelCase, as the engine passes them) and a
``Context`` (every resource of the stack, and today's date) and yields one message per
problem. The CrossGuard pack (``tap/policy/__main__.py``) only adapts the engine's arguments
into this model and reports what the checks yield; the tests adapt the mock runtime's
recording into the same model, so every rule is tested without the Pulumi CLI.

The model is deliberately tolerant of the shapes the engine and the mock runtime disagree on:
numbers as floats, secrets wrapped, provider ``defaultTags`` as a JSON string, policy
documents as JSON strings, values unknown during preview (``UNKNOWN``). A check that needs an
unknown value raises ``UndecidableError``: the resource is reported as undecided, never as
passing.

The modules, one job each: ``model`` (resources, context, rules, reports, type tokens),
``read`` (helpers over normalized properties), ``iam``, ``function``, ``api`` and
``monitoring`` (the checks, by what they look at), ``catalog`` (the declarations), ``run``
(evaluating them) and ``tables`` (the README's tables). The check functions are imported
from their modules (``tap.policy.rules.iam.check_trust_policy``); the model, the helpers,
the rules and their evaluation from here. This package imports only the standard library
and pure ``tap`` modules (``tap.engine``, ``tap.config``, ``tap.text``), so the pack runs
without pulumi-aws and importing it never starts the policy server.
"""

from tap.policy.rules.api import (
    API_GATEWAY_SERVICE_PRINCIPAL,
    PUBLIC_OPERATION,
    REQUEST_ID_VARIABLE,
    SECURE_TLS_POLICY,
)
from tap.policy.rules.catalog import RULES, RULES_BY_ID
from tap.policy.rules.function import (
    LAMBDA_DEFAULT_TIMEOUT_S,
    MIN_UNRESERVED_CONCURRENCY,
    RUNTIME_DEPRECATION,
)
from tap.policy.rules.iam import (
    IAM_WILDCARDS,
    LAMBDA_SERVICE_PRINCIPAL,
    XRAY_ACTIONS_WITHOUT_RESOURCE_SCOPE,
    XRAY_EXCEPTION_REASON,
    is_wildcard_resource,
    policy_documents,
    statements,
)
from tap.policy.rules.model import (
    COMPOSITE_ALARM,
    HTTP_API,
    HTTP_API_AUTHORIZER,
    HTTP_API_DOMAIN_NAME,
    HTTP_API_ROUTE,
    HTTP_API_STAGE,
    IAM_GROUP_POLICY,
    IAM_GROUP_POLICY_ATTACHMENT,
    IAM_POLICY,
    IAM_POLICY_ATTACHMENT,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    IAM_USER_POLICY,
    IAM_USER_POLICY_ATTACHMENT,
    LAMBDA_FUNCTION,
    LAMBDA_PERMISSION,
    LOG_GROUP,
    METRIC_ALARM,
    TAGGABLE_TYPES,
    UNKNOWN,
    Check,
    Context,
    Report,
    Resource,
    Rule,
    Severity,
    UndecidableError,
    Undecided,
    Violation,
    is_taggable,
    normalize,
)
from tap.policy.rules.monitoring import (
    ENVIRONMENT_TAG,
    LONG_RETENTION_DAYS,
)
from tap.policy.rules.read import (
    as_list,
    as_number,
    effective_tags,
    known,
    parse_json,
    prop,
    provider_default_tags,
    quoted,
)
from tap.policy.rules.run import Outcome, evaluate, run_rule
from tap.policy.rules.tables import EXEMPTIONS, Exemption, render_exemptions, render_rule_table

__all__ = [
    "API_GATEWAY_SERVICE_PRINCIPAL",
    "COMPOSITE_ALARM",
    "ENVIRONMENT_TAG",
    "EXEMPTIONS",
    "HTTP_API",
    "HTTP_API_AUTHORIZER",
    "HTTP_API_DOMAIN_NAME",
    "HTTP_API_ROUTE",
    "HTTP_API_STAGE",
    "IAM_GROUP_POLICY",
    "IAM_GROUP_POLICY_ATTACHMENT",
    "IAM_POLICY",
    "IAM_POLICY_ATTACHMENT",
    "IAM_ROLE",
    "IAM_ROLE_POLICY",
    "IAM_ROLE_POLICY_ATTACHMENT",
    "IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE",
    "IAM_USER_POLICY",
    "IAM_USER_POLICY_ATTACHMENT",
    "IAM_WILDCARDS",
    "LAMBDA_DEFAULT_TIMEOUT_S",
    "LAMBDA_FUNCTION",
    "LAMBDA_PERMISSION",
    "LAMBDA_SERVICE_PRINCIPAL",
    "LOG_GROUP",
    "LONG_RETENTION_DAYS",
    "METRIC_ALARM",
    "MIN_UNRESERVED_CONCURRENCY",
    "PUBLIC_OPERATION",
    "REQUEST_ID_VARIABLE",
    "RULES",
    "RULES_BY_ID",
    "RUNTIME_DEPRECATION",
    "SECURE_TLS_POLICY",
    "TAGGABLE_TYPES",
    "UNKNOWN",
    "XRAY_ACTIONS_WITHOUT_RESOURCE_SCOPE",
    "XRAY_EXCEPTION_REASON",
    "Check",
    "Context",
    "Exemption",
    "Outcome",
    "Report",
    "Resource",
    "Rule",
    "Severity",
    "UndecidableError",
    "Undecided",
    "Violation",
    "as_list",
    "as_number",
    "effective_tags",
    "evaluate",
    "is_taggable",
    "is_wildcard_resource",
    "known",
    "normalize",
    "parse_json",
    "policy_documents",
    "prop",
    "provider_default_tags",
    "quoted",
    "render_exemptions",
    "render_rule_table",
    "run_rule",
    "statements",
]
