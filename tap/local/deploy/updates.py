"""In-place updates and deletes in moto, per resource type, for a redeploy
(tap/local/deploy/redeploy.py): what the AWS provider calls when an input changes or a
resource goes away."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tap import engine
from tap.local.deploy.appliers import apigateway, awslambda, iam, monitoring
from tap.local.deploy.appliers.base import APPLIED, Context, str_map, tag_list
from tap.local.deploy.mocks import APPLIERS
from tap.local.deploy.resources import Deployed

# ---------------------------------------------------------------------------------------
# In-place updates, per type: through the same boto3 calls the AWS provider makes, with
# the arguments the type's applier builds (tap/local/deploy/appliers). Each type names the
# applied inputs whose change recreates the resource instead (a name, the API a route
# belongs to, ...); a type with no updater is always recreated. Changed tags are set
# after the update, the same way for every type (_TAGGING).

Updater = Callable[[Context, Deployed, dict[str, Any], frozenset[str]], dict[str, Any]]


@dataclass(frozen=True)
class _Update:
    keys: frozenset[str]  # the inputs it changes in place
    apply: Updater


UPDATERS: dict[str, _Update] = {}


def _updates(token: str, *recreated_by: str) -> Callable[[Updater], Updater]:
    """Register the decorated function as the in-place update of type ``token``: for a
    change to any input its applier applies but ``recreated_by``."""

    def register(apply: Updater) -> Updater:
        def update(
            ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
        ) -> dict[str, Any]:
            computed = apply(ctx, old, inputs, keys)
            if "tags" in keys and token in _TAGGING:
                _retag(ctx, old)
            return computed

        UPDATERS[token] = _Update(APPLIED[token] - frozenset(recreated_by), update)
        return apply

    return register


Tagger = Callable[[Any, Context, Deployed, Any], None]  # (client, ctx, old, tags or keys)

# How each type updated in place sets and removes its tags: (service, tag, untag).
_TAGGING: dict[str, tuple[str, Tagger, Tagger]] = {
    engine.LAMBDA_FUNCTION: (
        "lambda",
        lambda c, ctx, d, tags: c.tag_resource(Resource=str(d.outputs.get("arn")), Tags=tags),
        lambda c, ctx, d, gone: c.untag_resource(Resource=str(d.outputs.get("arn")), TagKeys=gone),
    ),
    engine.HTTP_API: (
        "apigatewayv2",
        lambda c, ctx, d, tags: c.tag_resource(
            ResourceArn=engine.http_api_arn(ctx.region, d.id), Tags=tags
        ),
        lambda c, ctx, d, gone: c.untag_resource(
            ResourceArn=engine.http_api_arn(ctx.region, d.id), TagKeys=gone
        ),
    ),
    engine.LOG_GROUP: (
        "logs",
        lambda c, ctx, d, tags: c.tag_log_group(logGroupName=d.id, tags=tags),
        lambda c, ctx, d, gone: c.untag_log_group(logGroupName=d.id, tags=gone),
    ),
    engine.IAM_ROLE: (
        "iam",
        lambda c, ctx, d, tags: c.tag_role(RoleName=d.id, Tags=tag_list(tags)),
        lambda c, ctx, d, gone: c.untag_role(RoleName=d.id, TagKeys=gone),
    ),
    engine.SNS_TOPIC: (
        "sns",
        lambda c, ctx, d, tags: c.tag_resource(ResourceArn=d.id, Tags=tag_list(tags)),
        lambda c, ctx, d, gone: c.untag_resource(ResourceArn=d.id, TagKeys=gone),
    ),
    engine.USER_POOL: (
        "cognito-idp",
        lambda c, ctx, d, tags: c.tag_resource(ResourceArn=str(d.outputs.get("arn")), Tags=tags),
        lambda c, ctx, d, gone: c.untag_resource(
            ResourceArn=str(d.outputs.get("arn")), TagKeys=gone
        ),
    ),
}


def _retag(ctx: Context, old: Deployed) -> None:
    """Set the resource's effective tags to ``ctx.tags_all``: tag what is new or changed,
    untag what is gone."""
    service, tag, untag = _TAGGING[old.type]
    client = ctx.client(service)
    before = str_map(old.outputs.get("tagsAll") or old.inputs.get("tags"))
    gone = sorted(set(before) - set(ctx.tags_all))
    if gone:
        untag(client, ctx, old, gone)
    if ctx.tags_all:
        tag(client, ctx, old, dict(ctx.tags_all))


@_updates(engine.LAMBDA_FUNCTION, "name", "packageType")
def _update_function(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    name = old.id
    lam = ctx.client("lambda")
    config = awslambda.function_arguments(inputs, keys)
    if config:
        lam.update_function_configuration(FunctionName=name, **config)
    if keys & {"code", "architectures", "sourceCodeHash"}:
        lam.update_function_code(FunctionName=name, **awslambda.function_code(inputs))
    if "reservedConcurrentExecutions" in keys:
        awslambda.put_concurrency(lam, name, inputs, reset=True)
    function = lam.get_function_configuration(FunctionName=name)
    return {
        "codeSha256": function["CodeSha256"],
        "sourceCodeHash": function["CodeSha256"],
        "sourceCodeSize": function["CodeSize"],
        "lastModified": function["LastModified"],
    }


@_updates(engine.HTTP_API, "protocolType")
def _update_api(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    apigw = ctx.client("apigatewayv2")
    kwargs = apigateway.api_arguments(inputs, keys)
    if "corsConfiguration" in keys and not inputs.get("corsConfiguration"):
        kwargs.pop("CorsConfiguration", None)
        apigw.delete_cors_configuration(ApiId=old.id)
    if kwargs:
        apigw.update_api(ApiId=old.id, **kwargs)
    return {"name": str(inputs.get("name", old.outputs.get("name", "")))}


@_updates(engine.HTTP_API_STAGE, "apiId", "name")
def _update_stage(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    # The provider calls UpdateStage; moto (5.2) does not implement it, so the stage is
    # put again under the same name: same id, same ARN, the API and its routes untouched.
    ctx.client("apigatewayv2").delete_stage(ApiId=str(inputs["apiId"]), StageName=old.id)
    _, computed = APPLIERS[engine.HTTP_API_STAGE](ctx, old.name, inputs)
    return computed


@_updates(engine.HTTP_API_ROUTE, "apiId")
def _update_route(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    kwargs = apigateway.route_arguments(inputs, keys)
    ctx.client("apigatewayv2").update_route(ApiId=inputs["apiId"], RouteId=old.id, **kwargs)
    return {}


@_updates(engine.HTTP_API_INTEGRATION, "apiId", "integrationType")
def _update_integration(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    answer = ctx.client("apigatewayv2").update_integration(
        ApiId=inputs["apiId"],
        IntegrationId=old.id,
        **apigateway.integration_arguments(inputs, keys),
    )
    return {
        "payloadFormatVersion": answer.get("PayloadFormatVersion", "1.0"),
        "timeoutMilliseconds": answer.get("TimeoutInMillis", 30000),
    }


@_updates(engine.LOG_GROUP, "kmsKeyId", "logGroupClass", "name", "namePrefix")
def _update_log_group(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    logs = ctx.client("logs")
    if "retentionInDays" in keys:
        awslambda.put_retention(logs, old.id, inputs, reset=True)
    return {}


@_updates(engine.IAM_ROLE, "name", "namePrefix", "path", "permissionsBoundary")
def _update_role(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    roles = ctx.client("iam")
    if "assumeRolePolicy" in keys:
        roles.update_assume_role_policy(RoleName=old.id, PolicyDocument=inputs["assumeRolePolicy"])
    kwargs = iam.role_arguments(inputs, keys)
    if kwargs:
        roles.update_role(RoleName=old.id, **kwargs)
    return {}


@_updates(engine.SNS_TOPIC, "kmsMasterKeyId", "name", "namePrefix")
def _update_topic(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    sns = ctx.client("sns")
    for attribute, value in monitoring.topic_attributes(inputs, keys).items():
        sns.set_topic_attributes(TopicArn=old.id, AttributeName=attribute, AttributeValue=value)
    return {}


# Only its tags change in place: recreating a pool would change its id and void every token.
@_updates(engine.USER_POOL, *(APPLIED[engine.USER_POOL] - {"tags"}))
def _update_user_pool(
    ctx: Context, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    return {}  # the tags: as every type's


def _put_again(token: str, *recreated_by: str) -> None:
    """Types whose create is a put (an upsert): updating is creating again, same name."""

    def apply(
        ctx: Context, old: Deployed, inputs: dict[str, Any], changed: frozenset[str]
    ) -> dict[str, Any]:
        _, computed = APPLIERS[token](ctx, old.name, inputs)
        return computed

    _updates(token, *recreated_by)(apply)


_put_again(engine.IAM_ROLE_POLICY, "name", "namePrefix", "role")
_put_again(engine.DASHBOARD, "dashboardName")
_put_again(engine.METRIC_ALARM, "name")


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
