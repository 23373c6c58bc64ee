"""API layer: the HTTP API, its CORS, the Lambda integration, one route per entry of the
function's route table, the ``$default`` stage with throttling and JSON access logs, and
the permission that lets this API (and only this API) invoke the function.

The access-log format, the route resource names and the permission's source ARN are built
by pure functions, tested directly in tests/unit/test_api.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from tap.config import HTTP_API_INTEGRATION_TIMEOUT_S, CorsConfig
from tap.function.routes import ROUTE_KEYS

DEFAULT_STAGE = "$default"
PAYLOAD_FORMAT_VERSION = "2.0"  # the handler reads 2.0 events; the provider defaults to 1.0
INTEGRATION_TIMEOUT_MS = HTTP_API_INTEGRATION_TIMEOUT_S * 1000  # docs/http-api.md rule 11: the max

# One JSON object per request. $context.requestId is the id the function also logs (as
# requestContext.requestId), so an access-log line and the function's log lines join on it;
# $context.integration.requestId is the Lambda invocation's id, the one in the START/END/
# REPORT lines and the runtime's JSON records (docs/http-api.md rule 56; `tap logs` joins
# on both).
# Every value is a string: a variable with no value is written as "-", which unquoted would
# make the line invalid JSON. Nothing here carries a credential (no headers, no query).
ACCESS_LOG_FIELDS: dict[str, str] = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "integrationRequestId": "$context.integration.requestId",
    "errorMessage": "$context.error.message",
}


def access_log_format() -> str:
    """The stage's access-log format: a JSON object of $context variables, on one line."""
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


def integration_target(integration_id: str) -> str:
    """A route's ``target``: ``integrations/<id>``."""
    return f"integrations/{integration_id}"


def invoke_source_arn(execution_arn: str) -> str:
    """The permission's source ARN: any stage and route of this API, and no other API.

    API Gateway invokes with ``<execution ARN>/<stage>/<method>/<path>``; both wildcards
    stay inside this API's execution ARN.
    """
    if not execution_arn.startswith("arn:") or ":execute-api:" not in execution_arn:
        raise ValueError(f"not an API execution ARN: {execution_arn!r}")
    return f"{execution_arn}/*/*"


def route_resource_suffix(route_key: str) -> str:
    """A stable, readable logical-name suffix for a route: ``"GET /health"`` ->
    ``"get-health"``, ``"POST /{proxy+}"`` -> ``"post-proxy"``, ``"GET /"`` -> ``"get-root"``."""
    method, _, path = route_key.partition(" ")
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"
    return f"{method.lower()}-{slug}"


def route_resource_suffixes(route_keys: Sequence[str]) -> dict[str, str]:
    """Suffix per route key; ValueError when two keys would share a logical name."""
    suffixes: dict[str, str] = {}
    for key in route_keys:
        suffix = route_resource_suffix(key)
        clash = [k for k, s in suffixes.items() if s == suffix]
        if clash:
            raise ValueError(f"routes {clash[0]!r} and {key!r} map to the same name {suffix!r}")
        suffixes[key] = suffix
    return suffixes


def cors_configuration(cors: CorsConfig) -> aws.apigatewayv2.ApiCorsConfigurationArgs:
    """The API's CORS, exactly as configured: API Gateway answers preflight itself and
    ignores CORS headers from the function (docs/http-api.md rules 16-17)."""
    return aws.apigatewayv2.ApiCorsConfigurationArgs(
        allow_origins=list(cors.allow_origins),
        allow_methods=list(cors.allow_methods),
        allow_headers=list(cors.allow_headers),
        expose_headers=list(cors.expose_headers),
        max_age=cors.max_age,
        allow_credentials=cors.allow_credentials,
    )


AUTHORIZER_TYPE = "JWT"
# The operation name of a route left open on purpose while the API has an authorizer: the
# policy pack (TAP-AUTH-001) tells a deliberate public route from a forgotten one by it.
PUBLIC_OPERATION = "public"
# Where API Gateway reads the token: "Authorization: Bearer <jwt>" (docs/http-api.md rule 60).
IDENTITY_SOURCE = "$request.header.Authorization"


@dataclass(frozen=True)
class JwtAuthorizerArgs:
    """A JWT authorizer and the routes it guards."""

    name: str
    issuer: pulumi.Input[str]
    audiences: pulumi.Input[Sequence[pulumi.Input[str]]]
    public_routes: Sequence[str]
    """Route keys left open; every other route requires a valid token."""
    scopes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Route key -> scopes, one of which the token must carry."""


@dataclass(frozen=True)
class HttpApiArgs:
    api_name: str
    """Physical name of the API."""
    function_name: pulumi.Input[str]
    """Name of the function the API invokes (for the invoke permission)."""
    function_invoke_arn: pulumi.Input[str]
    """The function's invoke ARN (the integration URI)."""
    cors: CorsConfig
    """CORS, answered by API Gateway itself."""
    throttling_burst_limit: int
    throttling_rate_limit: float
    """Both are always set: one alone leaves the other 0, and every request gets 429
    (docs/http-api.md rule 13)."""
    access_log_group_name: str
    """Name of the access-log group this layer creates."""
    log_retention_days: int
    route_keys: Sequence[str] = ROUTE_KEYS
    """The routes, from the function's route table: other paths get API Gateway's 404."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Own tags of the API, the stage and the log group (the provider adds the defaults)."""
    authorizer: JwtAuthorizerArgs | None = None
    """None: every route is open (no tap:auth)."""
    disable_execute_api_endpoint: bool = False
    """True once a custom domain serves the API (docs/http-api.md rule 65)."""


class HttpApi(pulumi.ComponentResource):
    """API Gateway HTTP API in front of the function."""

    api: aws.apigatewayv2.Api
    access_log_group: aws.cloudwatch.LogGroup
    integration: aws.apigatewayv2.Integration
    routes: dict[str, aws.apigatewayv2.Route]
    stage: aws.apigatewayv2.Stage
    permission: aws.lambda_.Permission
    authorizer: aws.apigatewayv2.Authorizer | None
    id: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self, name: str, args: HttpApiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tap:api:HttpApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.api = aws.apigatewayv2.Api(
            f"{name}-api",
            name=args.api_name,
            protocol_type="HTTP",
            description="tap: HTTP API in front of the tap function",
            cors_configuration=cors_configuration(args.cors),
            disable_execute_api_endpoint=args.disable_execute_api_endpoint,
            tags=tags,
            opts=child,
        )
        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=args.access_log_group_name,
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )
        self.integration = aws.apigatewayv2.Integration(
            f"{name}-integration",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_method="POST",  # Lambda is always invoked with POST
            integration_uri=args.function_invoke_arn,
            payload_format_version=PAYLOAD_FORMAT_VERSION,
            timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
            opts=child,
        )
        self.authorizer = None
        auth = args.authorizer
        if auth is not None:
            self.authorizer = aws.apigatewayv2.Authorizer(
                f"{name}-authorizer",
                api_id=self.api.id,
                name=auth.name,
                authorizer_type=AUTHORIZER_TYPE,
                identity_sources=[IDENTITY_SOURCE],
                jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                    issuer=auth.issuer, audiences=auth.audiences
                ),
                opts=child,
            )
        target = self.integration.id.apply(integration_target)
        self.routes = {}
        for key, suffix in route_resource_suffixes(args.route_keys).items():
            guarded = auth is not None and key not in auth.public_routes
            scopes = list(auth.scopes.get(key, ())) if auth is not None and guarded else []
            self.routes[key] = aws.apigatewayv2.Route(
                f"{name}-route-{suffix}",
                api_id=self.api.id,
                route_key=key,
                target=target,
                # NONE is the provider's default: an open route states nothing extra.
                authorization_type=AUTHORIZER_TYPE if guarded else None,
                authorizer_id=self.authorizer.id if guarded and self.authorizer else None,
                authorization_scopes=scopes or None,
                operation_name=PUBLIC_OPERATION if auth is not None and not guarded else None,
                opts=child,
            )
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=self.api.id,
            name=DEFAULT_STAGE,
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_burst_limit=args.throttling_burst_limit,
                throttling_rate_limit=args.throttling_rate_limit,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=self.access_log_group.arn,
                format=access_log_format(),
            ),
            tags=tags,
            # auto_deploy deploys the routes as they exist when the stage is created: create
            # it after them, so the first deployment already serves every route.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.routes.values())),
        )
        self.permission = aws.lambda_.Permission(
            f"{name}-invoke-permission",
            statement_id="AllowInvokeFromThisHttpApi",
            action="lambda:InvokeFunction",
            function=args.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=self.api.execution_arn.apply(invoke_source_arn),
            opts=child,
        )
        self.id = self.api.id
        self.url = self.stage.invoke_url
        self.register_outputs({"id": self.id, "url": self.url})
