"""In-place updates and deletes in moto, per resource type, for a redeploy
(tap/local/deploy/redeploy.py): what the AWS provider calls when an input changes or a
resource goes away."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from tap import engine
from tap.local.deploy.appliers.apigateway import cors_arguments
from tap.local.deploy.appliers.base import Context, as_int, str_map, tag_list
from tap.local.deploy.mocks import APPLIERS
from tap.local.deploy.resources import Deployed, DeployError

# ---------------------------------------------------------------------------------------
# In-place updates, per type: the inputs each can change without recreating the resource,
# and how, through the same boto3 calls the AWS provider makes. Any other changed input
# (a name, the API a route belongs to, ...) recreates the resource.

Updater = Callable[[Context, Deployed, dict[str, Any], frozenset[str]], dict[str, Any]]


@dataclass(frozen=True)
class _Update:
    keys: frozenset[str]
    apply: Updater


UPDATERS: dict[str, _Update] = {}


def _updates(token: str, *keys: str) -> Callable[[Updater], Updater]:
    def register(apply: Updater) -> Updater:
        UPDATERS[token] = _Update(frozenset(keys), apply)
        return apply

    return register


def _retag(ctx: Context, old: Deployed, tag: Callable[[dict[str, str]], None], untag: Any) -> None:
    """Set the resource's effective tags to ``ctx.tags_all``: tag what is new or changed,
    untag what is gone."""
    before = str_map(old.outputs.get("tagsAll") or old.inputs.get("tags"))
    gone = sorted(set(before) - set(ctx.tags_all))
    if gone:
        untag(gone)
    if ctx.tags_all:
        tag(dict(ctx.tags_all))


@_updates(
    engine.LAMBDA_FUNCTION,
    "architectures",
    "code",
    "description",
    "environment",
    "handler",
    "loggingConfig",
    "memorySize",
    "publish",
    "reservedConcurrentExecutions",
    "role",
    "runtime",
    "sourceCodeHash",
    "tags",
    "timeout",
    "tracingConfig",
)
def _update_function(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    from tap import compute

    name = old.id
    lam = ctx.client("lambda")
    config: dict[str, Any] = {}
    for key, boto_key in (
        ("role", "Role"),
        ("handler", "Handler"),
        ("runtime", "Runtime"),
        ("description", "Description"),
    ):
        if key in keys:
            config[boto_key] = inputs.get(key, "")
    for key, boto_key in (("memorySize", "MemorySize"), ("timeout", "Timeout")):
        if key in keys:
            # Absent now: back to Lambda's defaults (128 MB, 3 s), as the provider does.
            config[boto_key] = as_int(inputs.get(key, 128 if key == "memorySize" else 3))
    if "environment" in keys:
        variables = str_map((inputs.get("environment") or {}).get("variables"))
        config["Environment"] = {"Variables": variables}
    if "tracingConfig" in keys:
        config["TracingConfig"] = {
            "Mode": (inputs.get("tracingConfig") or {}).get("mode", "PassThrough")
        }
    if "loggingConfig" in keys and "loggingConfig" in inputs:
        # moto drops LoggingConfig (docs/tools.md); the recorded inputs keep what the
        # program asked for, which the emulator reads (tap/local/readback.py).
        lc = inputs["loggingConfig"]
        config["LoggingConfig"] = {"LogFormat": lc["logFormat"]}
    if config:
        lam.update_function_configuration(FunctionName=name, **config)
    if keys & {"code", "architectures", "sourceCodeHash"}:
        code = inputs.get("code")
        if not isinstance(code, pulumi.Archive):
            raise DeployError("local mode deploys functions from a code archive (`code`)")
        kwargs: dict[str, Any] = {"FunctionName": name, "ZipFile": compute.zip_bytes(code)}
        if "architectures" in inputs:
            kwargs["Architectures"] = list(inputs["architectures"])
        lam.update_function_code(**kwargs)
    if "reservedConcurrentExecutions" in keys:
        reserved = inputs.get("reservedConcurrentExecutions")
        if reserved is not None and as_int(reserved) >= 0:
            lam.put_function_concurrency(
                FunctionName=name, ReservedConcurrentExecutions=as_int(reserved)
            )
        else:
            lam.delete_function_concurrency(FunctionName=name)
    arn = str(old.outputs.get("arn"))
    if "tags" in keys:
        _retag(
            ctx,
            old,
            lambda tags: lam.tag_resource(Resource=arn, Tags=tags),
            lambda gone: lam.untag_resource(Resource=arn, TagKeys=gone),
        )
    function = lam.get_function_configuration(FunctionName=name)
    return {
        "codeSha256": function["CodeSha256"],
        "sourceCodeHash": function["CodeSha256"],
        "sourceCodeSize": function["CodeSize"],
        "lastModified": function["LastModified"],
    }


def _cors_patch(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return cors_arguments(dict(value or {}))


@_updates(
    engine.HTTP_API,
    "apiKeySelectionExpression",
    "corsConfiguration",
    "description",
    "disableExecuteApiEndpoint",
    "name",
    "routeSelectionExpression",
    "tags",
    "version",
)
def _update_api(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    apigw = ctx.client("apigatewayv2")
    kwargs: dict[str, Any] = {}
    for key, boto_key in (
        ("name", "Name"),
        ("description", "Description"),
        ("routeSelectionExpression", "RouteSelectionExpression"),
        ("apiKeySelectionExpression", "ApiKeySelectionExpression"),
        ("disableExecuteApiEndpoint", "DisableExecuteApiEndpoint"),
        ("version", "Version"),
    ):
        if key in keys and key in inputs:
            kwargs[boto_key] = inputs[key]
    if "corsConfiguration" in keys:
        if inputs.get("corsConfiguration"):
            kwargs["CorsConfiguration"] = _cors_patch(inputs["corsConfiguration"])
        else:
            apigw.delete_cors_configuration(ApiId=old.id)
    if kwargs:
        apigw.update_api(ApiId=old.id, **kwargs)
    if "tags" in keys:
        arn = engine.http_api_arn(ctx.region, old.id)
        _retag(
            ctx,
            old,
            lambda tags: apigw.tag_resource(ResourceArn=arn, Tags=tags),
            lambda gone: apigw.untag_resource(ResourceArn=arn, TagKeys=gone),
        )
    return {"name": str(inputs.get("name", old.outputs.get("name", "")))}


@_updates(
    engine.HTTP_API_STAGE,
    "accessLogSettings",
    "autoDeploy",
    "defaultRouteSettings",
    "description",
    "stageVariables",
    "tags",
)
def _update_stage(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    # The provider calls UpdateStage; moto (5.2) does not implement it, so the stage is
    # put again under the same name: same id, same ARN, the API and its routes untouched.
    ctx.client("apigatewayv2").delete_stage(ApiId=str(inputs["apiId"]), StageName=old.id)
    _, computed = APPLIERS[engine.HTTP_API_STAGE](ctx, old.name, inputs)
    return computed


@_updates(
    engine.HTTP_API_ROUTE,
    "authorizationScopes",
    "authorizationType",
    "authorizerId",
    "operationName",
    "routeKey",
    "target",
)
def _update_route(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key, boto_key in (
        ("routeKey", "RouteKey"),
        ("target", "Target"),
        ("authorizationType", "AuthorizationType"),
        ("operationName", "OperationName"),
        ("authorizerId", "AuthorizerId"),
        ("authorizationScopes", "AuthorizationScopes"),
    ):
        if key in keys:
            default: Any = [] if key == "authorizationScopes" else ""
            kwargs[boto_key] = inputs.get(key, "NONE" if key == "authorizationType" else default)
    ctx.client("apigatewayv2").update_route(ApiId=inputs["apiId"], RouteId=old.id, **kwargs)
    return {}


@_updates(
    engine.HTTP_API_INTEGRATION,
    "connectionType",
    "description",
    "integrationMethod",
    "integrationUri",
    "payloadFormatVersion",
    "timeoutMilliseconds",
)
def _update_integration(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key, boto_key in (
        ("integrationUri", "IntegrationUri"),
        ("integrationMethod", "IntegrationMethod"),
        ("payloadFormatVersion", "PayloadFormatVersion"),
        ("connectionType", "ConnectionType"),
        ("description", "Description"),
    ):
        if key in keys and key in inputs:
            kwargs[boto_key] = inputs[key]
    if "timeoutMilliseconds" in keys:
        kwargs["TimeoutInMillis"] = as_int(inputs.get("timeoutMilliseconds", 30000))
    answer = ctx.client("apigatewayv2").update_integration(
        ApiId=inputs["apiId"], IntegrationId=old.id, **kwargs
    )
    return {
        "payloadFormatVersion": answer.get("PayloadFormatVersion", "1.0"),
        "timeoutMilliseconds": answer.get("TimeoutInMillis", 30000),
    }


@_updates(engine.LOG_GROUP, "retentionInDays", "tags")
def _update_log_group(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    logs = ctx.client("logs")
    if "retentionInDays" in keys:
        days = as_int(inputs.get("retentionInDays", 0))
        if days > 0:
            logs.put_retention_policy(logGroupName=old.id, retentionInDays=days)
        else:
            logs.delete_retention_policy(logGroupName=old.id)
    if "tags" in keys:
        _retag(
            ctx,
            old,
            lambda tags: logs.tag_log_group(logGroupName=old.id, tags=tags),
            lambda gone: logs.untag_log_group(logGroupName=old.id, tags=gone),
        )
    return {}


@_updates(engine.IAM_ROLE, "assumeRolePolicy", "description", "maxSessionDuration", "tags")
def _update_role(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    iam = ctx.client("iam")
    if "assumeRolePolicy" in keys:
        iam.update_assume_role_policy(RoleName=old.id, PolicyDocument=inputs["assumeRolePolicy"])
    kwargs: dict[str, Any] = {}
    if "description" in keys:
        kwargs["Description"] = str(inputs.get("description", ""))
    if "maxSessionDuration" in keys:
        kwargs["MaxSessionDuration"] = as_int(inputs.get("maxSessionDuration", 3600))
    if kwargs:
        iam.update_role(RoleName=old.id, **kwargs)
    if "tags" in keys:
        _retag(
            ctx,
            old,
            lambda tags: iam.tag_role(RoleName=old.id, Tags=tag_list(tags)),
            lambda gone: iam.untag_role(RoleName=old.id, TagKeys=gone),
        )
    return {}


@_updates(engine.SNS_TOPIC, "displayName", "policy", "tags")
def _update_topic(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    sns = ctx.client("sns")
    for key, attribute in (("displayName", "DisplayName"), ("policy", "Policy")):
        if key in keys:
            sns.set_topic_attributes(
                TopicArn=old.id, AttributeName=attribute, AttributeValue=str(inputs.get(key, ""))
            )
    if "tags" in keys:
        _retag(
            ctx,
            old,
            lambda tags: sns.tag_resource(ResourceArn=old.id, Tags=tag_list(tags)),
            lambda gone: sns.untag_resource(ResourceArn=old.id, TagKeys=gone),
        )
    return {}


@_updates(engine.USER_POOL, "tags")
def _update_user_pool(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    # Only its tags: recreating a pool would change its id and void every token.
    cognito = ctx.client("cognito-idp")
    arn = str(old.outputs.get("arn"))
    _retag(
        ctx,
        old,
        lambda tags: cognito.tag_resource(ResourceArn=arn, Tags=tags),
        lambda gone: cognito.untag_resource(ResourceArn=arn, TagKeys=gone),
    )
    return {}


def _put_again(token: str, *keys: str) -> None:
    """Types whose create is a put (an upsert): updating is creating again, same name."""

    def apply(
        ctx: Context, old: Deployed, inputs: dict[str, Any], changed: frozenset[str]
    ) -> dict[str, Any]:
        _, computed = APPLIERS[token](ctx, old.name, inputs)
        return computed

    UPDATERS[token] = _Update(frozenset(keys), apply)


_put_again(engine.IAM_ROLE_POLICY, "policy")
_put_again(engine.DASHBOARD, "dashboardBody")
_put_again(
    engine.METRIC_ALARM,
    "actionsEnabled",
    "alarmActions",
    "alarmDescription",
    "comparisonOperator",
    "datapointsToAlarm",
    "dimensions",
    "evaluationPeriods",
    "extendedStatistic",
    "insufficientDataActions",
    "metricName",
    "namespace",
    "okActions",
    "period",
    "statistic",
    "tags",
    "threshold",
    "treatMissingData",
    "unit",
)


# ---------------------------------------------------------------------------------------
# Deletes, per type: what the provider calls to destroy it. A resource already gone (its
# parent went first: an API's routes go with it) is not an error.

Deleter = Callable[[Any, Deployed], None]


def _delete_role(client: Any, old: Deployed) -> None:
    iam = client("iam")
    for policy in iam.list_role_policies(RoleName=old.id).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=old.id, PolicyName=policy)
    iam.delete_role(RoleName=old.id)


def _delete_record(client: Any, old: Deployed) -> None:
    # Its zone is moto's stand-in (appliers/dns.py _moto_zone): found by the record.
    route53 = client("route53")
    name = str(old.inputs.get("name", "")).rstrip(".") + "."
    for zone in route53.list_hosted_zones()["HostedZones"]:
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])
        for record in records["ResourceRecordSets"]:
            if record["Name"] == name and record["Type"] == old.inputs.get("type"):
                route53.change_resource_record_sets(
                    HostedZoneId=zone["Id"],
                    ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]},
                )


DELETERS: dict[str, Deleter] = {
    engine.IAM_ROLE: _delete_role,
    engine.IAM_ROLE_POLICY: lambda c, d: c("iam").delete_role_policy(
        RoleName=d.inputs["role"], PolicyName=d.outputs.get("name", d.name)
    ),
    engine.LOG_GROUP: lambda c, d: c("logs").delete_log_group(logGroupName=d.id),
    engine.LAMBDA_FUNCTION: lambda c, d: c("lambda").delete_function(FunctionName=d.id),
    engine.LAMBDA_PERMISSION: lambda c, d: c("lambda").remove_permission(
        FunctionName=d.inputs["function"], StatementId=d.id
    ),
    engine.HTTP_API: lambda c, d: c("apigatewayv2").delete_api(ApiId=d.id),
    engine.HTTP_API_INTEGRATION: lambda c, d: c("apigatewayv2").delete_integration(
        ApiId=d.inputs["apiId"], IntegrationId=d.id
    ),
    engine.HTTP_API_ROUTE: lambda c, d: c("apigatewayv2").delete_route(
        ApiId=d.inputs["apiId"], RouteId=d.id
    ),
    engine.HTTP_API_STAGE: lambda c, d: c("apigatewayv2").delete_stage(
        ApiId=d.inputs["apiId"], StageName=d.id
    ),
    engine.HTTP_API_AUTHORIZER: lambda c, d: c("apigatewayv2").delete_authorizer(
        ApiId=d.inputs["apiId"], AuthorizerId=d.id
    ),
    engine.HTTP_API_DOMAIN_NAME: lambda c, d: c("apigatewayv2").delete_domain_name(DomainName=d.id),
    engine.HTTP_API_MAPPING: lambda c, d: c("apigatewayv2").delete_api_mapping(
        ApiMappingId=d.id, DomainName=d.inputs["domainName"]
    ),
    engine.SNS_TOPIC: lambda c, d: c("sns").delete_topic(TopicArn=d.id),
    engine.SNS_SUBSCRIPTION: lambda c, d: c("sns").unsubscribe(SubscriptionArn=d.id),
    engine.METRIC_ALARM: lambda c, d: c("cloudwatch").delete_alarms(AlarmNames=[d.id]),
    engine.DASHBOARD: lambda c, d: c("cloudwatch").delete_dashboards(DashboardNames=[d.id]),
    engine.USER_POOL: lambda c, d: c("cognito-idp").delete_user_pool(UserPoolId=d.id),
    engine.USER_POOL_CLIENT: lambda c, d: c("cognito-idp").delete_user_pool_client(
        UserPoolId=d.inputs["userPoolId"], ClientId=d.id
    ),
    engine.CERTIFICATE: lambda c, d: c("acm").delete_certificate(CertificateArn=d.id),
    engine.CERTIFICATE_VALIDATION: lambda c, d: None,  # nothing in AWS to delete
    engine.DNS_RECORD: _delete_record,
}
