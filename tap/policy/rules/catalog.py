"""The rule declarations: the README's rule table is generated from these."""

from __future__ import annotations

from typing import Final

from tap import engine
from tap.config import HTTP_API_INTEGRATION_TIMEOUT_S
from tap.policy.rules.api import (
    check_access_logs,
    check_cors_credentials,
    check_default_endpoint_disabled,
    check_domain_tls,
    check_invoke_permission,
    check_jwt_issuer,
    check_routes_authorized,
    check_stage_throttling,
)
from tap.policy.rules.function import (
    check_active_tracing,
    check_arm64,
    check_function_logging,
    check_reserved_concurrency,
    check_runtime,
    check_timeout,
)
from tap.policy.rules.iam import (
    LAMBDA_SERVICE_PRINCIPAL,
    check_no_aws_managed_policies,
    check_no_wildcard_actions,
    check_no_wildcard_resources,
    check_trust_policy,
)
from tap.policy.rules.model import Rule
from tap.policy.rules.monitoring import (
    LONG_RETENTION_DAYS,
    check_alarm_actions,
    check_environment_tag,
    check_log_retention,
    check_long_retention,
)

_IAM_DOCUMENT_TYPES = (
    engine.IAM_ROLE_POLICY,
    engine.IAM_POLICY,
    engine.IAM_USER_POLICY,
    engine.IAM_GROUP_POLICY,
    engine.IAM_ROLE,
)

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
        engine.TAGGABLE_TYPES,
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
            engine.IAM_ROLE,
            engine.IAM_ROLE_POLICY_ATTACHMENT,
            engine.IAM_POLICY_ATTACHMENT,
            engine.IAM_USER_POLICY_ATTACHMENT,
            engine.IAM_GROUP_POLICY_ATTACHMENT,
            engine.IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
        ),
        check_no_aws_managed_policies,
    ),
    Rule(
        "TAP-IAM-004",
        f"Every role is assumable by `{LAMBDA_SERVICE_PRINCIPAL}` only, with `sts:AssumeRole`",
        "mandatory",
        ("checkov `CKV_AWS_60`, `CKV_AWS_61`", "cdk-nag: none"),
        (engine.IAM_ROLE,),
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
        (engine.LAMBDA_FUNCTION,),
        check_runtime,
    ),
    Rule(
        "TAP-LAMBDA-002",
        f"The function's timeout is below the HTTP API's {HTTP_API_INTEGRATION_TIMEOUT_S} s "
        "integration timeout",
        "mandatory",
        ("none; closest cdk-nag `Serverless-LambdaDefaultTimeout` (an explicit timeout)",),
        (engine.LAMBDA_FUNCTION,),
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
        (engine.LAMBDA_FUNCTION,),
        check_function_logging,
        scope="stack",
    ),
    Rule(
        "TAP-LOGS-001",
        "Every log group has a retention period",
        "mandatory",
        ("checkov `CKV_AWS_66`", "cdk-nag `Serverless-CloudWatchLogGroupRetentionPeriod`"),
        (engine.LOG_GROUP,),
        check_log_retention,
    ),
    Rule(
        "TAP-API-001",
        "CORS never allows credentials with origin `*`",
        "mandatory",
        ("none (API Gateway rejects it on deploy; this fails it at preview)",),
        (engine.HTTP_API,),
        check_cors_credentials,
    ),
    Rule(
        "TAP-API-002",
        "Stage throttling sets both burst and rate limits above 0",
        "mandatory",
        ("cdk-nag `Serverless-APIGWDefaultThrottling`",),
        (engine.HTTP_API_STAGE,),
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
        (engine.HTTP_API_STAGE,),
        check_access_logs,
    ),
    Rule(
        "TAP-API-004",
        "API Gateway's invoke permission is scoped to this stack's API; no public principal",
        "mandatory",
        ("checkov `CKV_AWS_364`, `CKV_AWS_301`", "Security Hub `Lambda.1`"),
        (engine.LAMBDA_PERMISSION,),
        check_invoke_permission,
        scope="stack",
    ),
    Rule(
        "TAP-ALARM-001",
        "Every alarm has an action, and its actions are enabled",
        "mandatory",
        ("Security Hub `CloudWatch.15`, `CloudWatch.17`", "checkov `CKV_AWS_319`"),
        (engine.METRIC_ALARM, engine.COMPOSITE_ALARM),
        check_alarm_actions,
    ),
    Rule(
        "TAP-LAMBDA-004",
        "The function runs on arm64",
        "advisory",
        ("none (cost: 20% less per GB-second)",),
        (engine.LAMBDA_FUNCTION,),
        check_arm64,
    ),
    Rule(
        "TAP-LAMBDA-005",
        "The function has active X-Ray tracing",
        "advisory",
        ("Security Hub `Lambda.7`", "checkov `CKV_AWS_50`", "cdk-nag `Serverless-LambdaTracing`"),
        (engine.LAMBDA_FUNCTION,),
        check_active_tracing,
    ),
    Rule(
        "TAP-LAMBDA-006",
        "The function has reserved concurrency (at least 1)",
        "advisory",
        ("checkov `CKV_AWS_115`", "cdk-nag `NIST.800.53.R5-LambdaConcurrency`"),
        (engine.LAMBDA_FUNCTION,),
        check_reserved_concurrency,
    ),
    Rule(
        "TAP-LOGS-002",
        f"Log groups keep logs at least {LONG_RETENTION_DAYS} days",
        "advisory",
        ("checkov `CKV_AWS_338`", "Security Hub `CloudWatch.16`"),
        (engine.LOG_GROUP,),
        check_long_retention,
    ),
    # ---- tap:auth and tap:domain ----
    Rule(
        "TAP-AUTH-001",
        "When the API has a JWT authorizer (`tap:auth`), every route uses it or is one of "
        "`publicRoutes`",
        "mandatory",
        ("cdk-nag `AwsSolutions-APIG4`", "checkov `CKV_AWS_309`"),
        (engine.HTTP_API_ROUTE,),
        check_routes_authorized,
        scope="stack",
    ),
    Rule(
        "TAP-AUTH-002",
        "A JWT authorizer trusts an `https://` issuer and at least one audience",
        "mandatory",
        ("none (API Gateway itself refuses an http issuer at deploy; this fails it at preview)",),
        (engine.HTTP_API_AUTHORIZER,),
        check_jwt_issuer,
    ),
    Rule(
        "TAP-DOMAIN-001",
        "A custom domain name uses the `TLS_1_2` security policy",
        "mandatory",
        ("checkov `CKV_AWS_206`",),
        (engine.HTTP_API_DOMAIN_NAME,),
        check_domain_tls,
    ),
    Rule(
        "TAP-DOMAIN-002",
        "With a custom domain, the default `execute-api` endpoint is disabled",
        "advisory",
        ("none (a request to execute-api would skip the domain's TLS policy)",),
        (engine.HTTP_API,),
        check_default_endpoint_disabled,
        scope="stack",
    ),
)

RULES_BY_ID: Final = {rule.id: rule for rule in RULES}
