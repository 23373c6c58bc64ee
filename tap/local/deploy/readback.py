"""Build the emulator's specs from what was deployed, read back from moto.

The routes, integrations, CORS configuration, stage, and the function's zip, handler and
environment all come from moto, so the emulator serves what the deploy actually created,
not what the program meant to create. The one exception is Lambda's ``logging_config``,
which moto drops (docs/tools.md): it comes from what the program declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tap import engine
from tap.local import specs
from tap.local.deploy.resources import Deployed
from tap.local.logs.cloudwatch import log_group_from_arn
from tap.local.specs import ApiSpec, CorsSpec, FunctionSpec
from tap.text import quote

FUNCTION_TYPE = engine.LAMBDA_FUNCTION
API_TYPE = engine.HTTP_API
# Lambda's default log group when logging_config names none (docs/http-api.md rule 20).
DEFAULT_LOG_GROUP_PREFIX = "/aws/lambda/"


class ReadbackError(RuntimeError):
    """What was deployed cannot be served locally; the message says why."""


def function_arn_from_uri(uri: str) -> str | None:
    """The function ARN of a Lambda integration URI (invoke ARN or bare ARN), else None."""
    function_arn = engine.function_arn_of_invoke_arn(uri)
    if function_arn is not None:
        return function_arn
    if uri.startswith("arn:") and ":lambda:" in uri and ":function:" in uri:
        return uri
    return None


def function_name_from_arn(arn: str) -> str:
    # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    return arn.split(":")[6]


def build_specs(
    client: Callable[[str], Any],
    code_of: Callable[[str], bytes],
    deployed: Iterable[Deployed],
    *,
    region: str,
    account_id: str,
    strict: bool = True,
    jwks_for: Callable[[str], Mapping[str, Any]] | None = None,
) -> tuple[ApiSpec, dict[str, FunctionSpec]]:
    """The ApiSpec and FunctionSpecs of the one HTTP API the program deployed.

    ``code_of(name)``: the function's zip as moto stores it. ``strict=False`` (mid-deploy,
    before the smoke check runs) skips routes whose integration is not there yet instead of
    failing. ``jwks_for(issuer)``: the keys of a JWT authorizer's issuer (kid -> key); an
    API with a JWT authorizer and no way to get its keys is refused, never served open.
    """
    deployed = list(deployed)
    apigw = client("apigatewayv2")
    api_id, api = _the_api(apigw, deployed)
    stage = _the_stage(apigw, api_id)
    route_settings = stage.get("DefaultRouteSettings") or {}
    integrations = {i["IntegrationId"]: i for i in apigw.get_integrations(ApiId=api_id)["Items"]}
    authorizers = _Authorizers(apigw, api_id, jwks_for)
    route_auth: dict[str, specs.RouteAuth] = {}
    routes: dict[str, str] = {}
    used: list[Mapping[str, Any]] = []
    for route in apigw.get_routes(ApiId=api_id)["Items"]:
        auth = _route_auth(route, authorizers, strict)
        if auth is _SKIP:
            continue  # mid-deploy: never serve a guarded route without its guard
        if isinstance(auth, specs.RouteAuth):
            route_auth[route["RouteKey"]] = auth
        integration = _route_integration(route, integrations, strict)
        if integration is None:
            continue
        routes[route["RouteKey"]] = function_name_from_arn(
            str(function_arn_from_uri(integration.get("IntegrationUri", "")))
        )
        used.append(integration)

    formats = {i.get("PayloadFormatVersion", "1.0") for i in used} or {"2.0"}
    if len(formats) != 1:
        raise ReadbackError(f"the API's integrations mix payload formats {sorted(formats)}")
    timeouts = {int(i.get("TimeoutInMillis", 30000)) for i in used} or {30000}
    access_logs = stage.get("AccessLogSettings") or {}
    return ApiSpec(
        api_id=api_id,
        region=region,
        account_id=account_id,
        stage=stage["StageName"],
        routes=routes,
        payload_format_version=formats.pop(),
        cors=_cors(api.get("CorsConfiguration")),
        access_log_format=access_logs.get("Format"),
        access_log_group=log_group_from_arn(str(access_logs.get("DestinationArn") or "")),
        # One integration timeout per API in the spec: the tightest applies.
        integration_timeout_ms=min(timeouts),
        throttling_burst_limit=route_settings.get("ThrottlingBurstLimit"),
        throttling_rate_limit=route_settings.get("ThrottlingRateLimit"),
        route_auth=route_auth,
    ), _function_specs(client("lambda"), code_of, deployed, set(routes.values()), region)


def _the_api(apigw: Any, deployed: list[Deployed]) -> tuple[str, Mapping[str, Any]]:
    """The one HTTP API the program created: its id and GetApi."""
    apis = [d for d in deployed if d.type == API_TYPE]
    if len(apis) != 1:
        raise ReadbackError(
            f"local mode serves exactly one HTTP API; the program created {len(apis)}"
        )
    api_id = apis[0].id
    api = apigw.get_api(ApiId=api_id)
    if api.get("ProtocolType") != "HTTP":
        raise ReadbackError(
            f"API {api_id} is a {api.get('ProtocolType')} API; local mode serves HTTP APIs"
        )
    return api_id, api


def _the_stage(apigw: Any, api_id: str) -> Mapping[str, Any]:
    """The stage served: ``$default`` when there is one, else the first."""
    stages = apigw.get_stages(ApiId=api_id)["Items"]
    if not stages:
        raise ReadbackError(f"API {api_id} has no stage, so nothing would serve it")
    return next((s for s in stages if s["StageName"] == "$default"), stages[0])


class _Authorizers:
    """The API's JWT authorizers, each read once by id (moto has no GetAuthorizers)."""

    def __init__(
        self,
        apigw: Any,
        api_id: str,
        jwks_for: Callable[[str], Mapping[str, Any]] | None,
    ) -> None:
        self._apigw = apigw
        self._api_id = api_id
        self._jwks_for = jwks_for
        self._read: dict[str, specs.JwtAuthorizer | None] = {}

    def of(self, authorizer_id: str) -> specs.JwtAuthorizer | None:
        """The authorizer, or None when the API has none of that id."""
        if authorizer_id not in self._read:
            self._read[authorizer_id] = self._get(authorizer_id)
        return self._read[authorizer_id]

    def _get(self, authorizer_id: str) -> specs.JwtAuthorizer | None:
        apigw = self._apigw
        try:
            item = apigw.get_authorizer(ApiId=self._api_id, AuthorizerId=authorizer_id)
        except apigw.exceptions.NotFoundException:
            return None
        if item.get("AuthorizerType") != "JWT":
            raise ReadbackError(
                f"authorizer {quote(item.get('Name'))} is a {item.get('AuthorizerType')} "
                "authorizer; local mode validates JWT authorizers only"
            )
        jwt_config = item.get("JwtConfiguration") or {}
        issuer = str(jwt_config.get("Issuer", ""))
        if self._jwks_for is None:
            raise ReadbackError(f"authorizer {quote(item.get('Name'))}: no keys for {issuer}")
        return specs.JwtAuthorizer(
            issuer=issuer,
            audiences=tuple(jwt_config.get("Audience", [])),
            keys=self._jwks_for(issuer),
        )


_SKIP = object()  # a route left out mid-deploy


def _route_auth(
    route: Mapping[str, Any], authorizers: _Authorizers, strict: bool
) -> specs.RouteAuth | object | None:
    """The route's JWT authorization; None for an open route; ``_SKIP`` for a route whose
    authorizer is not there yet mid-deploy (``strict=False``)."""
    if route.get("AuthorizationType", "NONE") not in ("NONE", "JWT"):
        raise ReadbackError(
            f"route {quote(route['RouteKey'])} uses {route['AuthorizationType']} "
            "authorization; local mode validates JWT authorizers only"
        )
    if route.get("AuthorizationType") != "JWT":
        return None
    authorizer = authorizers.of(str(route.get("AuthorizerId", "")))
    if authorizer is None:
        if strict:
            raise ReadbackError(
                f"route {quote(route['RouteKey'])} names authorizer "
                f"{quote(route.get('AuthorizerId'))}, which the API does not have"
            )
        return _SKIP
    return specs.RouteAuth(authorizer, tuple(route.get("AuthorizationScopes") or ()))


def _route_integration(
    route: Mapping[str, Any], integrations: Mapping[str, Mapping[str, Any]], strict: bool
) -> Mapping[str, Any] | None:
    """The Lambda integration the route targets; None mid-deploy when it is not there yet."""
    target = route.get("Target") or ""
    integration = integrations.get(target.removeprefix("integrations/"))
    arn = function_arn_from_uri(integration.get("IntegrationUri", "")) if integration else None
    if integration is None or arn is None:
        if strict:
            raise ReadbackError(
                f"route {quote(route['RouteKey'])} does not lead to a Lambda function "
                f"(target {quote(target)})"
            )
        return None
    return integration


def _function_specs(
    lam: Any,
    code_of: Callable[[str], bytes],
    deployed: list[Deployed],
    names: set[str],
    region: str,
) -> dict[str, FunctionSpec]:
    """The FunctionSpec of each function a route leads to, as moto holds it, with the
    logging config the program declared (moto drops it)."""
    functions: dict[str, FunctionSpec] = {}
    declared = {str(d.outputs.get("name", d.id)): d for d in deployed if d.type == FUNCTION_TYPE}
    for name in sorted(names):
        config = lam.get_function_configuration(FunctionName=name)
        logging_config = declared[name].inputs.get("loggingConfig", {}) if name in declared else {}
        functions[name] = FunctionSpec(
            name=name,
            arn=config["FunctionArn"],
            zip_bytes=code_of(name),
            handler=config["Handler"],
            runtime=config["Runtime"],
            environment=dict(config.get("Environment", {}).get("Variables", {})),
            timeout_s=float(config["Timeout"]),
            memory_mb=int(config["MemorySize"]),
            region=region,
            log_group=str(logging_config.get("logGroup") or DEFAULT_LOG_GROUP_PREFIX + name),
            log_format=str(logging_config.get("logFormat", "Text")),
            application_log_level=str(logging_config.get("applicationLogLevel", "INFO")),
            reserved_concurrency=lam.get_function_concurrency(FunctionName=name).get(
                "ReservedConcurrentExecutions"
            ),
        )
    return functions


def _cors(value: Mapping[str, Any] | None) -> CorsSpec | None:
    if not value:
        return None
    return CorsSpec(
        allow_origins=tuple(value.get("AllowOrigins", ())),
        allow_methods=tuple(value.get("AllowMethods", ())),
        allow_headers=tuple(value.get("AllowHeaders", ())),
        expose_headers=tuple(value.get("ExposeHeaders", ())),
        max_age=value.get("MaxAge"),
        allow_credentials=bool(value.get("AllowCredentials", False)),
    )


def moto_code_reader(account_id: str, region: str) -> Callable[[str], bytes]:
    """Read a function's zip from moto's in-process backend: the only place moto keeps it
    (``GetFunction``'s ``Code.Location`` answers 404, docs/tools.md)."""
    from moto.backends import get_backend

    def code_of(name: str) -> bytes:
        function = get_backend("lambda")[account_id][region].get_function(name)
        return bytes(function.code_bytes)

    return code_of
