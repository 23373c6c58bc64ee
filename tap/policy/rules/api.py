"""The HTTP API's rules: CORS, throttling, access logs, the invoke permission, and with
tap:auth and tap:domain the authorizer and the custom domain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from tap.policy.rules.model import (
    HTTP_API,
    HTTP_API_AUTHORIZER,
    HTTP_API_DOMAIN_NAME,
    UNKNOWN,
    Context,
    Resource,
    UndecidableError,
)
from tap.policy.rules.read import as_list, as_number, known, parse_json, prop, quoted

API_GATEWAY_SERVICE_PRINCIPAL = "apigateway.amazonaws.com"


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
        burst = as_number(
            known(setting.get("throttlingBurstLimit"), f"{where}.throttlingBurstLimit")
        )
        rate = as_number(known(setting.get("throttlingRateLimit"), f"{where}.throttlingRateLimit"))
        if not required and burst is None and rate is None:
            continue  # a route that inherits the stage's throttling
        if burst is None or rate is None or burst <= 0 or rate <= 0:
            yield (
                f"{where} has throttlingBurstLimit={quoted(burst)} and "
                f"throttlingRateLimit={quoted(rate)}: "
                "set both above 0 (a limit left unset is 0, and every request gets 429: "
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
        yield (
            f"lets principal {quoted(principal)} invoke the function: name a service and its source"
        )
        return
    if principal != API_GATEWAY_SERVICE_PRINCIPAL:
        scoped = resource.props.get("sourceArn") or resource.props.get("sourceAccount")
        if not scoped:
            yield (
                f"lets the service {quoted(principal)} invoke the function on behalf of anyone: "
                "set sourceArn (or sourceAccount)"
            )
        return
    source = resource.props.get("sourceArn")
    apis = list(context.of_type(HTTP_API))
    if source is UNKNOWN:
        api_urns = {api.urn for api in apis}
        if api_urns & set(resource.dependencies.get("sourceArn", ())):
            return
        raise UndecidableError("sourceArn")
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
        f"sourceArn {quoted(source)} is not under the execution ARN of an API in this stack: "
        "scope the permission to this stack's API"
    )


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
