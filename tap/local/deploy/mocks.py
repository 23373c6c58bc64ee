"""Pulumi mocks that create every resource in moto and answer with moto's real outputs.

``pulumi.runtime.set_mocks(MotoMocks(...))`` makes the program's resource registrations
arrive here instead of at the engine. Each supported type is created through boto3 in the
moto server (so ``aws --endpoint-url`` shows it), and its outputs are what moto answered
(ARNs, ids) plus the attributes the AWS provider computes from them (invoke ARNs, execution
ARNs, the stage URL), so the program's wiring follows real values.

What arrives (docs/tools.md, "The mock runtime"): inputs with camelCase keys at
every depth, every number a float, ``None`` inputs dropped, secrets wrapped in a
``{SECRET_SIG: ..., "value": ...}`` object, no autonaming, and calls from several worker
threads at once.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from tap import compute, engine
from tap.local.deploy.motoserver import MotoServer
from tap.text import quote

PROVIDER_KEY = "__provider"
# The AWS provider's autonaming: the logical name plus a dash and 7 random hex digits.
_AUTONAME_SUFFIX_HEX = 7


class DeployError(RuntimeError):
    """A resource could not be created locally. The message names the resource and why."""


@dataclass
class Deployed:
    """One resource as local mode created it: what the program asked for and what it got."""

    type: str
    name: str
    id: str
    inputs: dict[str, Any]  # secrets unwrapped, numbers as the program gave them (floats)
    outputs: dict[str, Any]  # secrets unwrapped
    region: str = ""
    custom: bool = True  # False: a component (nothing created; listed like pulumi up does)


def autoname(logical_name: str) -> str:
    return f"{logical_name}-{secrets.token_hex(4)[:_AUTONAME_SUFFIX_HEX]}"


def as_int(value: Any) -> int:
    """A mock number (always a float) as the whole number AWS APIs expect."""
    number = float(value)
    if not number.is_integer():
        raise DeployError(f"expected a whole number, got {quote(value)}")
    return int(number)


@dataclass
class _Provider:
    region: str
    default_tags: dict[str, str] = field(default_factory=dict)


@dataclass
class _Ctx:
    """What a resource handler needs: its clients, region, account and merged tags."""

    mocks: MotoMocks
    region: str
    tags_all: dict[str, str]

    @property
    def account_id(self) -> str:
        return self.mocks.server.account_id

    def client(self, service: str) -> Any:
        return self.mocks.client(service, self.region)


Handler = Callable[[_Ctx, str, dict[str, Any]], tuple[str, dict[str, Any]]]


class MotoMocks(Mocks):
    """Mocks that deploy into a moto server. ``resources`` lists what was created, in order."""

    def __init__(
        self,
        server: MotoServer,
        default_region: str,
        *,
        stage_url: Callable[[str, str], str],
        before_dynamic: Callable[[], None] | None = None,
        dynamic_config: Mapping[str, Any] | None = None,
        project: str = "tap",
    ) -> None:
        """
        :param stage_url: (api id, stage name) -> the stage's URL: the emulator's in local
            mode, so the stage URL output, the smoke check and the outputs point at it.
        :param before_dynamic: called before a dynamic resource's ``create`` runs (the
            deployer loads the emulator with what is deployed so far).
        :param dynamic_config: the stack config handed to dynamic providers' ``configure``.
        """
        self.server = server
        self.default_region = default_region
        self.stage_url = stage_url
        self.before_dynamic = before_dynamic
        self.dynamic_config = dict(dynamic_config or {})
        self.project = project
        # Local mode's stand-ins for what only exists on AWS (a custom domain's URL): applied
        # to a dynamic resource's inputs before its provider runs.
        self.rewrite_dynamic_inputs: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.resources: list[Deployed] = []
        self.errors: list[str] = []
        # tap:domain.zoneId names a real Route 53 zone; local mode stands one in for it in
        # moto (which picks its own ids): configured zone id -> moto's zone id.
        self.zones: dict[str, str] = {}
        self._providers: dict[str, _Provider] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)

    # -- Mocks interface ------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        # The program makes no provider function calls (no aws.get_* lookups); one that
        # appears must be supported deliberately rather than answered with nothing.
        message = f"local mode does not support the function call {args.token}"
        self._record_error(message)
        raise DeployError(message)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:
            # A ComponentResource: nothing to create; its children arrive on their own.
            with self._lock:
                self.resources.append(Deployed(args.typ, args.name, "", {}, {}, custom=False))
            return "", {}
        dynamic = args.typ.startswith(engine.DYNAMIC_PREFIX)
        if not dynamic:
            with self._lock:
                self._in_flight += 1
        try:
            return self._create(args)
        except Exception as error:
            message = f"{args.typ} {quote(args.name)}: {_describe(error)}"
            self._record_error(message)
            raise DeployError(message) from error
        finally:
            if not dynamic:
                with self._lock:
                    self._in_flight -= 1
                    self._idle.notify_all()

    # -- helpers --------------------------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self.server.client(service, region)
            return self._clients[key]

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no (non-dynamic) resource is being created; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout_s)

    def _record_error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def _create(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = engine.unwrap_secrets(args.inputs)
        if args.typ == engine.AWS_PROVIDER:
            return self._provider(args, inputs)
        if args.typ.startswith(engine.DYNAMIC_PREFIX):
            id_, outs = self._dynamic(args, inputs)
            region = ""
        else:
            handler = HANDLERS.get(args.typ)
            if handler is None:
                raise DeployError(
                    "local mode cannot create this resource type. Supported types: "
                    + ", ".join(
                        sorted([*HANDLERS, engine.AWS_PROVIDER, engine.DYNAMIC_PREFIX + ":*"])
                    )
                )
            provider = self._provider_of(args.provider)
            _refuse_unknown_inputs(args.typ, inputs)
            tags_all = engine.effective_tags(provider.default_tags, _str_map(inputs.get("tags")))
            ctx = _Ctx(self, provider.region, tags_all)
            id_, computed = handler(ctx, args.name, inputs)
            # Like the provider, outputs echo the inputs (secret ones stay secret: echo the
            # wrapped originals) and add what AWS computed.
            outs = {**args.inputs, **computed}
            if engine.RESOURCE_TYPES[args.typ].taggable:
                outs.setdefault("tagsAll", tags_all)
            region = provider.region
        with self._lock:
            self.resources.append(
                Deployed(args.typ, args.name, id_, inputs, engine.unwrap_secrets(outs), region)
            )
        return id_, outs

    def _provider(
        self, args: MockResourceArgs, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        id_ = f"{args.name}-{secrets.token_hex(8)}"
        # The provider's object inputs arrive as JSON text (pulumi-and-moto.md).
        tags = _str_map(engine.provider_default_tags(inputs))
        region = str(inputs.get("region") or self.default_region)
        with self._lock:
            self._providers[id_] = _Provider(region, tags)
        return id_, dict(args.inputs)

    def _provider_of(self, reference: str | None) -> _Provider:
        # A provider reference is "<urn>::<id>"; "" means the default provider, which the
        # mock runtime never registers (pulumi-and-moto.md): the stack's region applies.
        if not reference:
            return _Provider(self.default_region)
        id_ = reference.rsplit("::", 1)[-1]
        with self._lock:
            provider = self._providers.get(id_)
        if provider is None:
            raise DeployError(f"unknown provider reference {quote(reference)}")
        return provider

    def _dynamic(
        self, args: MockResourceArgs, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Run a dynamic resource's provider the way the engine's dynamic host does.

        pulumi/dynamic/__main__.py: deserialize the dill-pickled provider from
        ``__provider``, ``configure`` it with the stack config, ``check``, then ``create``
        with the (plain-text) properties; the outputs are only ``CreateResult.outs`` plus
        ``__provider``.
        """
        import dill

        if self.before_dynamic is not None:
            self.before_dynamic()
        serialized = inputs.get(PROVIDER_KEY)
        if not isinstance(serialized, str):
            raise DeployError(f"no serialized provider in {PROVIDER_KEY}")
        # The program's own provider, pickled by the program a moment ago: what the engine's
        # dynamic host unpickles too.
        provider = dill.loads(base64.b64decode(serialized))  # noqa: S301
        provider.configure(
            pulumi.dynamic.ConfigureRequest(
                pulumi.dynamic.Config(
                    raw_config=dict(self.dynamic_config), project_name=self.project
                )
            )
        )
        if self.rewrite_dynamic_inputs is not None:
            inputs = self.rewrite_dynamic_inputs(inputs)
        checked = provider.check({}, inputs)
        if checked.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
            raise DeployError(f"check failed: {reasons}")
        result = provider.create(checked.inputs)
        outs = dict(result.outs or {})
        outs[PROVIDER_KEY] = args.inputs[PROVIDER_KEY]
        return str(result.id), outs


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text


def _str_map(value: Any) -> dict[str, str]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise DeployError(f"expected a map of strings, got {quote(value)}")
    return {str(k): str(v) for k, v in value.items()}


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _name(inputs: dict[str, Any], logical_name: str, key: str = "name") -> str:
    value = inputs.get(key)
    if value:
        return str(value)
    prefix = inputs.get(f"{key}Prefix")
    if prefix:
        return f"{prefix}{secrets.token_hex(13)}"
    return autoname(logical_name)


# ---------------------------------------------------------------------------------------
# One handler per resource type: create it in moto, return (id, computed outputs). Each is
# registered against its type token (tap.engine.RESOURCE_TYPES, where the test harness finds
# the same type's outputs) with the inputs it applies. Any other input would be silently
# lost, so the deploy refuses it instead (naming it), unless it is in _NOT_EMULATED:
# provider-side settings with no effect on what gets created. A taggable type applies `tags`.

HANDLERS: dict[str, Handler] = {}
_APPLIED: dict[str, frozenset[str]] = {}


def _handles(token: str, *applies: str) -> Callable[[Handler], Handler]:
    taggable = engine.RESOURCE_TYPES[token].taggable  # a KeyError: declare the type there

    def register(create: Handler) -> Handler:
        HANDLERS[token] = create
        _APPLIED[token] = frozenset(applies) | ({"tags"} if taggable else frozenset())
        return create

    return register


@_handles(
    engine.IAM_ROLE,
    "assumeRolePolicy",
    "description",
    "maxSessionDuration",
    "name",
    "namePrefix",
    "path",
    "permissionsBoundary",
)
def _role(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
    kwargs: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": inputs["assumeRolePolicy"],
        "Path": inputs.get("path", "/"),
        "Tags": _tag_list(ctx.tags_all),
    }
    if "description" in inputs:
        kwargs["Description"] = inputs["description"]
    if "maxSessionDuration" in inputs:
        kwargs["MaxSessionDuration"] = as_int(inputs["maxSessionDuration"])
    if "permissionsBoundary" in inputs:
        kwargs["PermissionsBoundary"] = inputs["permissionsBoundary"]
    role = ctx.client("iam").create_role(**kwargs)["Role"]
    return name, {
        "name": name,
        "arn": role["Arn"],
        "uniqueId": role["RoleId"],
        "createDate": role["CreateDate"].isoformat(),
    }


@_handles(engine.IAM_ROLE_POLICY, "name", "namePrefix", "policy", "role")
def _role_policy(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
    role = str(inputs["role"])
    ctx.client("iam").put_role_policy(
        RoleName=role, PolicyName=name, PolicyDocument=inputs["policy"]
    )
    return f"{role}:{name}", {"name": name}


@_handles(engine.LOG_GROUP, "kmsKeyId", "logGroupClass", "name", "namePrefix", "retentionInDays")
def _log_group(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
    logs = ctx.client("logs")
    kwargs: dict[str, Any] = {"logGroupName": name, "tags": ctx.tags_all}
    if "kmsKeyId" in inputs:
        kwargs["kmsKeyId"] = inputs["kmsKeyId"]
    if "logGroupClass" in inputs:
        kwargs["logGroupClass"] = inputs["logGroupClass"]
    logs.create_log_group(**kwargs)
    if "retentionInDays" in inputs and as_int(inputs["retentionInDays"]) > 0:
        logs.put_retention_policy(
            logGroupName=name, retentionInDays=as_int(inputs["retentionInDays"])
        )
    group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    # The provider's arn has no trailing ":*" (describe-log-groups' "arn" has it).
    return name, {"name": name, "arn": group["logGroupArn"]}


@_handles(
    engine.LAMBDA_FUNCTION,
    "architectures",
    "code",
    "description",
    "environment",
    "handler",
    "loggingConfig",
    "memorySize",
    "name",
    "packageType",
    "publish",
    "reservedConcurrentExecutions",
    "role",
    "runtime",
    "sourceCodeHash",
    "timeout",
    "tracingConfig",
)
def _function(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
    code = inputs.get("code")
    if not isinstance(code, pulumi.Archive):
        raise DeployError(
            "local mode deploys functions from a code archive (the `code` input); "
            "S3 and image packages are not supported"
        )
    kwargs: dict[str, Any] = {
        "FunctionName": name,
        "Role": inputs["role"],
        "Runtime": inputs["runtime"],
        "Handler": inputs["handler"],
        # Zipped exactly as the engine zips the archive before uploading it.
        "Code": {"ZipFile": compute.zip_bytes(code)},
        "Publish": bool(inputs.get("publish", False)),
        "Tags": ctx.tags_all,
    }
    for key, boto_key in (("memorySize", "MemorySize"), ("timeout", "Timeout")):
        if key in inputs:
            kwargs[boto_key] = as_int(inputs[key])
    if "description" in inputs:
        kwargs["Description"] = inputs["description"]
    if "architectures" in inputs:
        kwargs["Architectures"] = list(inputs["architectures"])
    if "environment" in inputs:
        kwargs["Environment"] = {"Variables": _str_map(inputs["environment"].get("variables"))}
    if "tracingConfig" in inputs:
        kwargs["TracingConfig"] = {"Mode": inputs["tracingConfig"]["mode"]}
    if "loggingConfig" in inputs:
        # moto drops LoggingConfig (pulumi-and-moto.md); it is sent anyway, and what the
        # program asked for stays in the recorded inputs for the checks and the emulator.
        lc = inputs["loggingConfig"]
        logging_config = {"LogFormat": lc["logFormat"]}
        for key, boto_key in (
            ("logGroup", "LogGroup"),
            ("applicationLogLevel", "ApplicationLogLevel"),
            ("systemLogLevel", "SystemLogLevel"),
        ):
            if key in lc:
                logging_config[boto_key] = lc[key]
        kwargs["LoggingConfig"] = logging_config
    lam = ctx.client("lambda")
    function = lam.create_function(**kwargs)
    if (
        "reservedConcurrentExecutions" in inputs
        and as_int(inputs["reservedConcurrentExecutions"]) >= 0
    ):
        lam.put_function_concurrency(
            FunctionName=name,
            ReservedConcurrentExecutions=as_int(inputs["reservedConcurrentExecutions"]),
        )
    arn = function["FunctionArn"]
    version = function.get("Version", "$LATEST")
    return name, {
        "name": name,
        "arn": arn,
        "invokeArn": engine.lambda_invoke_arn(ctx.region, arn),
        "qualifiedArn": f"{arn}:{version}",
        "qualifiedInvokeArn": engine.lambda_invoke_arn(ctx.region, f"{arn}:{version}"),
        "version": version,
        "codeSha256": function["CodeSha256"],
        "sourceCodeHash": function["CodeSha256"],
        "sourceCodeSize": function["CodeSize"],
        "lastModified": function["LastModified"],
        "signingJobArn": "",
        "signingProfileVersionArn": "",
    }


def _cors(value: dict[str, Any]) -> dict[str, Any]:
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


@_handles(
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
def _api(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
    kwargs: dict[str, Any] = {
        "Name": name,
        "ProtocolType": inputs["protocolType"],
        "Tags": ctx.tags_all,
    }
    if "corsConfiguration" in inputs:
        kwargs["CorsConfiguration"] = _cors(inputs["corsConfiguration"])
    for key, boto_key in (
        ("description", "Description"),
        ("routeSelectionExpression", "RouteSelectionExpression"),
        ("apiKeySelectionExpression", "ApiKeySelectionExpression"),
        ("disableExecuteApiEndpoint", "DisableExecuteApiEndpoint"),
        ("version", "Version"),
    ):
        if key in inputs:
            kwargs[boto_key] = inputs[key]
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


@_handles(
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
def _integration(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "ApiId": inputs["apiId"],
        "IntegrationType": inputs["integrationType"],
    }
    for key, boto_key in (
        ("integrationUri", "IntegrationUri"),
        ("integrationMethod", "IntegrationMethod"),
        ("payloadFormatVersion", "PayloadFormatVersion"),
        ("connectionType", "ConnectionType"),
        ("description", "Description"),
    ):
        if key in inputs:
            kwargs[boto_key] = inputs[key]
    if "timeoutMilliseconds" in inputs:
        kwargs["TimeoutInMillis"] = as_int(inputs["timeoutMilliseconds"])
    integration = ctx.client("apigatewayv2").create_integration(**kwargs)
    return integration["IntegrationId"], {
        "payloadFormatVersion": integration.get("PayloadFormatVersion", "1.0"),
        "timeoutMilliseconds": integration.get("TimeoutInMillis", 30000),
        "integrationResponseSelectionExpression": "",
    }


@_handles(
    engine.HTTP_API_ROUTE,
    "apiId",
    "authorizationScopes",
    "authorizationType",
    "authorizerId",
    "operationName",
    "routeKey",
    "target",
)
def _route(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {"ApiId": inputs["apiId"], "RouteKey": inputs["routeKey"]}
    for key, boto_key in (
        ("target", "Target"),
        ("authorizationType", "AuthorizationType"),
        ("operationName", "OperationName"),
        ("authorizerId", "AuthorizerId"),
        ("authorizationScopes", "AuthorizationScopes"),
    ):
        if key in inputs:
            kwargs[boto_key] = inputs[key]
    route = ctx.client("apigatewayv2").create_route(**kwargs)
    return route["RouteId"], {}


@_handles(
    engine.HTTP_API_STAGE,
    "accessLogSettings",
    "apiId",
    "autoDeploy",
    "defaultRouteSettings",
    "description",
    "name",
    "stageVariables",
)
def _stage(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
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
        kwargs["StageVariables"] = _str_map(inputs["stageVariables"])
    if "description" in inputs:
        kwargs["Description"] = inputs["description"]
    ctx.client("apigatewayv2").create_stage(**kwargs)
    execution = f"{engine.execute_api_arn(ctx.region, ctx.account_id, api_id)}/{name}"
    return name, {
        "name": name,
        "arn": engine.http_api_stage_arn(ctx.region, api_id, name),
        "executionArn": execution,
        # Local mode: the stage is served by the emulator, so its URL is the emulator's.
        "invokeUrl": ctx.mocks.stage_url(api_id, name),
    }


@_handles(
    engine.LAMBDA_PERMISSION,
    "action",
    "function",
    "principal",
    "qualifier",
    "sourceAccount",
    "sourceArn",
    "statementId",
    "statementIdPrefix",
)
def _permission(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    statement_id = str(inputs.get("statementId") or _name(inputs, logical, "statementId"))
    kwargs: dict[str, Any] = {
        "FunctionName": inputs["function"],
        "StatementId": statement_id,
        "Action": inputs["action"],
        "Principal": inputs["principal"],
    }
    for key, boto_key in (
        ("sourceArn", "SourceArn"),
        ("sourceAccount", "SourceAccount"),
        ("qualifier", "Qualifier"),
    ):
        if key in inputs:
            kwargs[boto_key] = inputs[key]
    ctx.client("lambda").add_permission(**kwargs)
    return statement_id, {"statementId": statement_id}


@_handles(engine.SNS_TOPIC, "displayName", "kmsMasterKeyId", "name", "namePrefix", "policy")
def _topic(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
    attributes: dict[str, str] = {}
    for key, attribute in (
        ("displayName", "DisplayName"),
        ("kmsMasterKeyId", "KmsMasterKeyId"),
        ("policy", "Policy"),
    ):
        if key in inputs:
            attributes[attribute] = str(inputs[key])
    topic = ctx.client("sns").create_topic(
        Name=name, Attributes=attributes, Tags=_tag_list(ctx.tags_all)
    )
    arn = topic["TopicArn"]
    return arn, {"name": name, "arn": arn, "owner": ctx.account_id}


@_handles(engine.SNS_SUBSCRIPTION, "endpoint", "protocol", "topic")
def _subscription(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    subscription = ctx.client("sns").subscribe(
        TopicArn=inputs["topic"],
        Protocol=inputs["protocol"],
        Endpoint=inputs["endpoint"],
        ReturnSubscriptionArn=True,
    )
    arn = subscription["SubscriptionArn"]
    # An email subscription stays pending until the recipient confirms (AWS behaviour).
    return arn, {
        "arn": arn,
        "ownerId": ctx.account_id,
        "pendingConfirmation": inputs["protocol"] in ("email", "email-json"),
    }


@_handles(
    engine.METRIC_ALARM,
    "actionsEnabled",
    "alarmActions",
    "alarmDescription",
    "comparisonOperator",
    "datapointsToAlarm",
    "dimensions",
    "evaluateLowSampleCountPercentiles",
    "evaluationPeriods",
    "extendedStatistic",
    "insufficientDataActions",
    "metricName",
    "metricQueries",
    "name",
    "namespace",
    "okActions",
    "period",
    "statistic",
    "threshold",
    "thresholdMetricId",
    "treatMissingData",
    "unit",
)
def _metric_alarm(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
    kwargs: dict[str, Any] = {
        "AlarmName": name,
        "ComparisonOperator": inputs["comparisonOperator"],
        "EvaluationPeriods": as_int(inputs["evaluationPeriods"]),
        "Tags": _tag_list(ctx.tags_all),
    }
    for key, boto_key in (
        ("metricName", "MetricName"),
        ("namespace", "Namespace"),
        ("statistic", "Statistic"),
        ("extendedStatistic", "ExtendedStatistic"),
        ("alarmDescription", "AlarmDescription"),
        ("unit", "Unit"),
        ("treatMissingData", "TreatMissingData"),
        ("actionsEnabled", "ActionsEnabled"),
        ("thresholdMetricId", "ThresholdMetricId"),
        ("evaluateLowSampleCountPercentiles", "EvaluateLowSampleCountPercentile"),
    ):
        if key in inputs:
            kwargs[boto_key] = inputs[key]
    for key, boto_key in (
        ("alarmActions", "AlarmActions"),
        ("okActions", "OKActions"),
        ("insufficientDataActions", "InsufficientDataActions"),
    ):
        if key in inputs:
            kwargs[boto_key] = list(inputs[key])
    if "threshold" in inputs:
        kwargs["Threshold"] = float(inputs["threshold"])
    if "period" in inputs:
        kwargs["Period"] = as_int(inputs["period"])
    if "datapointsToAlarm" in inputs:
        kwargs["DatapointsToAlarm"] = as_int(inputs["datapointsToAlarm"])
    if "dimensions" in inputs:
        kwargs["Dimensions"] = [
            {"Name": k, "Value": v} for k, v in _str_map(inputs["dimensions"]).items()
        ]
    if "metricQueries" in inputs:
        raise DeployError("metric-math alarms (metricQueries) are not supported in local mode")
    cloudwatch = ctx.client("cloudwatch")
    cloudwatch.put_metric_alarm(**kwargs)
    arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return name, {"name": name, "arn": arn}


@_handles(engine.DASHBOARD, "dashboardBody", "dashboardName")
def _dashboard(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical, "dashboardName")
    cloudwatch = ctx.client("cloudwatch")
    cloudwatch.put_dashboard(DashboardName=name, DashboardBody=inputs["dashboardBody"])
    arn = cloudwatch.get_dashboard(DashboardName=name)["DashboardArn"]
    return name, {"dashboardName": name, "dashboardArn": arn}


# ---- tap:auth -------------------------------------------------------------------------


@_handles(
    engine.USER_POOL,
    "adminCreateUserConfig",
    "mfaConfiguration",
    "name",
    "passwordPolicy",
    "softwareTokenMfaConfiguration",
    "userPoolAddOns",
    "userPoolTier",
    "usernameConfiguration",
)
def _user_pool(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = _name(inputs, logical)
    kwargs: dict[str, Any] = {"PoolName": name, "UserPoolTags": ctx.tags_all}
    policy = inputs.get("passwordPolicy")
    if policy:
        password: dict[str, Any] = {}
        for key, boto_key in (
            ("minimumLength", "MinimumLength"),
            ("temporaryPasswordValidityDays", "TemporaryPasswordValidityDays"),
            ("passwordHistorySize", "PasswordHistorySize"),
        ):
            if key in policy:
                password[boto_key] = as_int(policy[key])
        for key, boto_key in (
            ("requireLowercase", "RequireLowercase"),
            ("requireUppercase", "RequireUppercase"),
            ("requireNumbers", "RequireNumbers"),
            ("requireSymbols", "RequireSymbols"),
        ):
            if key in policy:
                password[boto_key] = bool(policy[key])
        kwargs["Policies"] = {"PasswordPolicy": password}
    if "adminCreateUserConfig" in inputs:
        admin = inputs["adminCreateUserConfig"]
        kwargs["AdminCreateUserConfig"] = {
            "AllowAdminCreateUserOnly": bool(admin.get("allowAdminCreateUserOnly", False))
        }
    if "usernameConfiguration" in inputs:
        kwargs["UsernameConfiguration"] = {
            "CaseSensitive": bool(inputs["usernameConfiguration"].get("caseSensitive", True))
        }
    if "mfaConfiguration" in inputs:
        kwargs["MfaConfiguration"] = inputs["mfaConfiguration"]
    if "userPoolTier" in inputs:
        kwargs["UserPoolTier"] = inputs["userPoolTier"]
    if "userPoolAddOns" in inputs:
        mode = inputs["userPoolAddOns"]["advancedSecurityMode"]
        kwargs["UserPoolAddOns"] = {"AdvancedSecurityMode": mode}
    cognito = ctx.client("cognito-idp")
    pool = cognito.create_user_pool(**kwargs)["UserPool"]
    pool_id = pool["Id"]
    token_mfa = inputs.get("softwareTokenMfaConfiguration")
    if token_mfa:
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": bool(token_mfa.get("enabled"))},
            MfaConfiguration=inputs.get("mfaConfiguration", "OFF"),
        )
    return pool_id, {
        "name": name,
        "arn": pool["Arn"],
        "endpoint": f"cognito-idp.{ctx.region}.amazonaws.com/{pool_id}",
    }


@_handles(
    engine.USER_POOL_CLIENT,
    "accessTokenValidity",
    "enableTokenRevocation",
    "explicitAuthFlows",
    "generateSecret",
    "idTokenValidity",
    "name",
    "preventUserExistenceErrors",
    "refreshTokenValidity",
    "tokenValidityUnits",
    "userPoolId",
)
def _user_pool_client(
    ctx: _Ctx, logical: str, inputs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "UserPoolId": inputs["userPoolId"],
        "ClientName": _name(inputs, logical),
        "GenerateSecret": bool(inputs.get("generateSecret", False)),
    }
    for key, boto_key in (
        ("explicitAuthFlows", "ExplicitAuthFlows"),
        ("preventUserExistenceErrors", "PreventUserExistenceErrors"),
        ("enableTokenRevocation", "EnableTokenRevocation"),
    ):
        if key in inputs:
            kwargs[boto_key] = inputs[key]
    for key, boto_key in (
        ("accessTokenValidity", "AccessTokenValidity"),
        ("idTokenValidity", "IdTokenValidity"),
        ("refreshTokenValidity", "RefreshTokenValidity"),
    ):
        if key in inputs:
            kwargs[boto_key] = as_int(inputs[key])
    if "tokenValidityUnits" in inputs:
        units = inputs["tokenValidityUnits"]
        kwargs["TokenValidityUnits"] = {
            boto_key: units[key]
            for key, boto_key in (
                ("accessToken", "AccessToken"),
                ("idToken", "IdToken"),
                ("refreshToken", "RefreshToken"),
            )
            if key in units
        }
    client = ctx.client("cognito-idp").create_user_pool_client(**kwargs)["UserPoolClient"]
    return client["ClientId"], {"clientSecret": client.get("ClientSecret", "")}


@_handles(
    engine.HTTP_API_AUTHORIZER,
    "apiId",
    "authorizerType",
    "identitySources",
    "jwtConfiguration",
    "name",
)
def _authorizer(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "ApiId": inputs["apiId"],
        "AuthorizerType": inputs["authorizerType"],
        "Name": _name(inputs, logical),
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


# ---- tap:domain -----------------------------------------------------------------------

# API Gateway's regional hosted zone id (the alias target's zone): moto reports none, so
# local mode fills in engine.APIGW_REGIONAL_ZONE (it is never resolved locally).


@_handles(engine.CERTIFICATE, "domainName", "validationMethod")
def _certificate(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    acm = ctx.client("acm")
    kwargs: dict[str, Any] = {
        "DomainName": inputs["domainName"],
        "ValidationMethod": inputs.get("validationMethod", "DNS"),
    }
    if ctx.tags_all:
        kwargs["Tags"] = _tag_list(ctx.tags_all)
    arn = acm.request_certificate(**kwargs)["CertificateArn"]
    described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    options = [
        {
            "domainName": o["DomainName"],
            "resourceRecordName": o["ResourceRecord"]["Name"],
            "resourceRecordType": o["ResourceRecord"]["Type"],
            "resourceRecordValue": o["ResourceRecord"]["Value"],
        }
        for o in described.get("DomainValidationOptions", [])
        if "ResourceRecord" in o
    ]
    return arn, {"arn": arn, "status": described["Status"], "domainValidationOptions": options}


def _moto_zone(ctx: _Ctx, configured: str, record_name: str) -> str:
    """moto's stand-in for the configured hosted zone, created on first use."""
    with ctx.mocks._lock:
        zone = ctx.mocks.zones.get(configured)
    if zone is not None:
        return zone
    apex = ".".join(record_name.rstrip(".").split(".")[-2:])
    created = ctx.client("route53").create_hosted_zone(
        Name=apex, CallerReference=f"tap-local-{configured}"
    )["HostedZone"]["Id"]
    with ctx.mocks._lock:
        return ctx.mocks.zones.setdefault(configured, created.rsplit("/", 1)[-1])


@_handles(
    engine.DNS_RECORD, "aliases", "allowOverwrite", "name", "records", "ttl", "type", "zoneId"
)
def _record(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name, type_ = str(inputs["name"]), str(inputs["type"])
    record: dict[str, Any] = {"Name": name, "Type": type_}
    if "aliases" in inputs:
        [alias] = inputs["aliases"]
        record["AliasTarget"] = {
            "HostedZoneId": alias["zoneId"],
            "DNSName": alias["name"],
            "EvaluateTargetHealth": bool(alias.get("evaluateTargetHealth", False)),
        }
    else:
        record["TTL"] = as_int(inputs.get("ttl", 300))
        record["ResourceRecords"] = [{"Value": str(v)} for v in inputs.get("records", [])]
    zone = _moto_zone(ctx, str(inputs["zoneId"]), name)
    action = "UPSERT" if inputs.get("allowOverwrite") else "CREATE"
    ctx.client("route53").change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": record}]},
    )
    fqdn = name.rstrip(".")
    return f"{inputs['zoneId']}_{fqdn}_{type_}", {"fqdn": fqdn}


def _record_names(ctx: _Ctx) -> set[str]:
    route53 = ctx.client("route53")
    with ctx.mocks._lock:
        zones = list(ctx.mocks.zones.values())
    names: set[str] = set()
    for zone in zones:
        for record in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]:
            names.add(record["Name"].rstrip(".").lower())
    return names


@_handles(engine.CERTIFICATE_VALIDATION, "certificateArn", "validationRecordFqdns")
def _certificate_validation(
    ctx: _Ctx, logical: str, inputs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """ACM issues a DNS-validated certificate once its CNAME is in the zone (docs/http-api.md
    rule 64); moto never issues, so local mode checks what ACM would wait for."""
    arn = str(inputs["certificateArn"])
    described = ctx.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    expected = {
        o["ResourceRecord"]["Name"].rstrip(".").lower()
        for o in described.get("DomainValidationOptions", [])
        if "ResourceRecord" in o
    }
    given = {str(f).rstrip(".").lower() for f in inputs.get("validationRecordFqdns", [])}
    missing = sorted(expected - (given & _record_names(ctx)))
    if missing:
        raise DeployError(
            f"certificate {arn}: its validation record(s) {', '.join(missing)} are not in the "
            "zone, so ACM would never issue it"
        )
    return arn, {"certificateArn": arn}


@_handles(engine.HTTP_API_DOMAIN_NAME, "domainName", "domainNameConfiguration")
def _domain_name(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
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


@_handles(engine.HTTP_API_MAPPING, "apiId", "apiMappingKey", "domainName", "stage")
def _api_mapping(ctx: _Ctx, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "ApiId": inputs["apiId"],
        "DomainName": inputs["domainName"],
        "Stage": inputs["stage"],
    }
    if inputs.get("apiMappingKey"):
        kwargs["ApiMappingKey"] = inputs["apiMappingKey"]
    mapping = ctx.client("apigatewayv2").create_api_mapping(**kwargs)
    return mapping["ApiMappingId"], {}


_NOT_EMULATED = frozenset({"skipDestroy", "forceDetachPolicies", "region"})


def _refuse_unknown_inputs(type_: str, inputs: Mapping[str, Any]) -> None:
    applied = _APPLIED.get(type_, frozenset())
    unknown = sorted(set(inputs) - applied - _NOT_EMULATED)
    if unknown:
        raise DeployError(
            "local mode does not emulate the input(s) "
            + ", ".join(unknown)
            + "; it applies: "
            + ", ".join(sorted(applied))
        )
