"""API Gateway v2 (HTTP APIs): the API, integration, routes, stage, JWT authorizer, custom
domain and its mapping. The stage's URL is the emulator's (local mode serves the stage)."""

from __future__ import annotations

import secrets
from typing import Any

from tap import engine
from tap.local.deploy.appliers.arguments import Arg, Arguments
from tap.local.deploy.appliers.base import Context, applies, as_int, name_of, str_map


def cors_arguments(value: dict[str, Any]) -> dict[str, Any]:
    """The API's ``corsConfiguration`` input as create_api/update_api take it."""
    cors: dict[str, Any] = {}
    for key, boto_key in (
        ("allowOrigins", "AllowOrigins"),
        ("allowMethods", "AllowMethods"),
        ("allowHeaders", "AllowHeaders"),
        ("exposeHeaders", "ExposeHeaders"),
    ):
        if key in value:
            cors[boto_key] = list(value[key])
    if "maxAge" in value:
        cors["MaxAge"] = as_int(value["maxAge"])
    if "allowCredentials" in value:
        cors["AllowCredentials"] = bool(value["allowCredentials"])
    return cors


api_arguments = Arguments(
    Arg("name", "Name"),
    Arg("corsConfiguration", "CorsConfiguration", cors_arguments),
    Arg("description", "Description"),
    Arg("routeSelectionExpression", "RouteSelectionExpression"),
    Arg("apiKeySelectionExpression", "ApiKeySelectionExpression"),
    Arg("disableExecuteApiEndpoint", "DisableExecuteApiEndpoint"),
    Arg("version", "Version"),
)


@applies(
    engine.HTTP_API,
    "apiKeySelectionExpression",
    "corsConfiguration",
    "description",
    "disableExecuteApiEndpoint",
    "name",
    "protocolType",
    "routeSelectionExpression",
    "version",
)
def _api(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    kwargs: dict[str, Any] = {
        **api_arguments(inputs),
        "Name": name,
        "ProtocolType": inputs["protocolType"],
        "Tags": ctx.tags_all,
    }
    api = ctx.client("apigatewayv2").create_api(**kwargs)
    api_id = api["ApiId"]
    return api_id, {
        "name": name,
        "apiEndpoint": api["ApiEndpoint"],
        "arn": engine.http_api_arn(ctx.region, api_id),
        "executionArn": engine.execute_api_arn(ctx.region, ctx.account_id, api_id),
        "routeSelectionExpression": api["RouteSelectionExpression"],
        "apiKeySelectionExpression": api["ApiKeySelectionExpression"],
    }


integration_arguments = Arguments(
    Arg("integrationUri", "IntegrationUri"),
    Arg("integrationMethod", "IntegrationMethod"),
    Arg("payloadFormatVersion", "PayloadFormatVersion"),
    Arg("connectionType", "ConnectionType"),
    Arg("description", "Description"),
    Arg("timeoutMilliseconds", "TimeoutInMillis", as_int, reset=30000),
)


@applies(
    engine.HTTP_API_INTEGRATION,
    "apiId",
    "connectionType",
    "description",
    "integrationMethod",
    "integrationType",
    "integrationUri",
    "payloadFormatVersion",
    "timeoutMilliseconds",
)
def _integration(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {
        **integration_arguments(inputs),
        "ApiId": inputs["apiId"],
        "IntegrationType": inputs["integrationType"],
    }
    integration = ctx.client("apigatewayv2").create_integration(**kwargs)
    return integration["IntegrationId"], {
        "payloadFormatVersion": integration.get("PayloadFormatVersion", "1.0"),
        "timeoutMilliseconds": integration.get("TimeoutInMillis", 30000),
        "integrationResponseSelectionExpression": "",
    }


# A removed input is cleared as the provider clears it (no authorization: "NONE").
route_arguments = Arguments(
    Arg("routeKey", "RouteKey", reset=""),
    Arg("target", "Target", reset=""),
    Arg("authorizationType", "AuthorizationType", reset="NONE"),
    Arg("operationName", "OperationName", reset=""),
    Arg("authorizerId", "AuthorizerId", reset=""),
    Arg("authorizationScopes", "AuthorizationScopes", reset=[]),
)


@applies(
    engine.HTTP_API_ROUTE,
    "apiId",
    "authorizationScopes",
    "authorizationType",
    "authorizerId",
    "operationName",
    "routeKey",
    "target",
)
def _route(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs = {**route_arguments(inputs), "ApiId": inputs["apiId"], "RouteKey": inputs["routeKey"]}
    route = ctx.client("apigatewayv2").create_route(**kwargs)
    return route["RouteId"], {}


@applies(
    engine.HTTP_API_STAGE,
    "accessLogSettings",
    "apiId",
    "autoDeploy",
    "defaultRouteSettings",
    "description",
    "name",
    "stageVariables",
)
def _stage(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    api_id = str(inputs["apiId"])
    kwargs: dict[str, Any] = {
        "ApiId": api_id,
        "StageName": name,
        "AutoDeploy": bool(inputs.get("autoDeploy", False)),
        "Tags": ctx.tags_all,
    }
    if "defaultRouteSettings" in inputs:
        drs = inputs["defaultRouteSettings"]
        settings: dict[str, Any] = {}
        if "throttlingBurstLimit" in drs:
            settings["ThrottlingBurstLimit"] = as_int(drs["throttlingBurstLimit"])
        if "throttlingRateLimit" in drs:
            settings["ThrottlingRateLimit"] = float(drs["throttlingRateLimit"])
        if "detailedMetricsEnabled" in drs:
            settings["DetailedMetricsEnabled"] = bool(drs["detailedMetricsEnabled"])
        kwargs["DefaultRouteSettings"] = settings
    if "accessLogSettings" in inputs:
        als = inputs["accessLogSettings"]
        kwargs["AccessLogSettings"] = {
            "DestinationArn": als["destinationArn"],
            "Format": als["format"],
        }
    if "stageVariables" in inputs:
        kwargs["StageVariables"] = str_map(inputs["stageVariables"])
    if "description" in inputs:
        kwargs["Description"] = inputs["description"]
    ctx.client("apigatewayv2").create_stage(**kwargs)
    execution = f"{engine.execute_api_arn(ctx.region, ctx.account_id, api_id)}/{name}"
    return name, {
        "name": name,
        "arn": engine.http_api_stage_arn(ctx.region, api_id, name),
        "executionArn": execution,
        # Local mode: the stage is served by the emulator, so its URL is the emulator's.
        "invokeUrl": ctx.stage_url(api_id, name),
    }


@applies(
    engine.HTTP_API_AUTHORIZER,
    "apiId",
    "authorizerType",
    "identitySources",
    "jwtConfiguration",
    "name",
)
def _authorizer(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "ApiId": inputs["apiId"],
        "AuthorizerType": inputs["authorizerType"],
        "Name": name_of(inputs, logical),
        "IdentitySource": list(inputs.get("identitySources", [])),
    }
    if "jwtConfiguration" in inputs:
        jwt_config = inputs["jwtConfiguration"]
        kwargs["JwtConfiguration"] = {
            "Issuer": jwt_config.get("issuer", ""),
            "Audience": list(jwt_config.get("audiences", [])),
        }
    authorizer = ctx.client("apigatewayv2").create_authorizer(**kwargs)
    return authorizer["AuthorizerId"], {}


@applies(engine.HTTP_API_DOMAIN_NAME, "domainName", "domainNameConfiguration")
def _domain_name(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    domain = str(inputs["domainName"])
    config = inputs["domainNameConfiguration"]
    boto_config: dict[str, Any] = {"CertificateArn": config["certificateArn"]}
    for key, boto_key in (
        ("endpointType", "EndpointType"),
        ("securityPolicy", "SecurityPolicy"),
        ("ipAddressType", "IpAddressType"),
    ):
        if key in config:
            boto_config[boto_key] = config[key]
    created = ctx.client("apigatewayv2").create_domain_name(
        DomainName=domain, DomainNameConfigurations=[boto_config], Tags=ctx.tags_all
    )
    target = f"d-{secrets.token_hex(5)}.execute-api.{ctx.region}.amazonaws.com"
    return domain, {
        "arn": created.get("DomainNameArn", engine.domain_name_arn(ctx.region, domain)),
        "apiMappingSelectionExpression": created.get("ApiMappingSelectionExpression", ""),
        "domainNameConfiguration": {
            **config,
            "targetDomainName": target,
            "hostedZoneId": engine.APIGW_REGIONAL_ZONE,
        },
    }


@applies(engine.HTTP_API_MAPPING, "apiId", "apiMappingKey", "domainName", "stage")
def _api_mapping(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "ApiId": inputs["apiId"],
        "DomainName": inputs["domainName"],
        "Stage": inputs["stage"],
    }
    if inputs.get("apiMappingKey"):
        kwargs["ApiMappingKey"] = inputs["apiMappingKey"]
    mapping = ctx.client("apigatewayv2").create_api_mapping(**kwargs)
    return mapping["ApiMappingId"], {}
