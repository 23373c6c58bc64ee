"""Redeploy: a change to what the program reads re-runs it into the same moto, as ``pulumi up``.

``tap local`` watches what the Pulumi program reads other than the function's own files
(those are the hot reload's, tap/local/reload.py): ``Pulumi.yaml``, ``Pulumi.<stack>.yaml``,
``__main__.py`` and the ``tap`` package's modules (less ``tap/local``, which is local mode
itself). On a save it:

1. reads the stack's config again and validates it (a bad value stops here, naming it);
2. drops the program's modules from ``sys.modules`` so the run imports what is on disk;
3. runs the program again into the SAME moto server (``RedeployMocks``): a resource whose
   inputs did not change keeps its id and outputs untouched; a changed one is updated in
   place where moto has the call (a function's configuration, an API's CORS, a stage's
   throttling, a route, ...), else deleted and created anew (a new id: shown as a
   replace); a resource the program no longer declares is deleted;
4. prints what changed, resource by resource (tap/local/deploy/diff.py), and swaps what the
   emulator serves (routes, CORS, authorizers, function configuration) with the same
   guarantee as a hot reload: requests in flight finish on what they started on.

A program that fails (bad config, an exception, a resource moto refuses, a failed smoke
check) prints the error and keeps the previous deploy serving. Resources the failed run
had already changed in moto stay changed, as after a failed ``pulumi up`` on AWS, and the
next run diffs against them.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import MockResourceArgs

from tap import engine
from tap.local.deploy import diff
from tap.local.deploy.checks import BrokenReferencesError, broken_references, read_snapshot
from tap.local.deploy.deployment import (
    _RUN_MARGIN_S,
    _SETTLE_TIMEOUT_S,
    LocalDeployment,
    _run_program,
    _show_local_endpoint,
    _stage_url,
    cognito_jwks,
)
from tap.local.deploy.mocks import (
    HANDLERS,
    PROVIDER_KEY,
    Deployed,
    DeployError,
    MotoMocks,
    _Ctx,
    _refuse_unknown_inputs,
    _str_map,
    _tag_list,
    as_int,
)
from tap.local.deploy.readback import (
    FUNCTION_TYPE,
    ReadbackError,
    build_specs,
    moto_code_reader,
)
from tap.local.deploy.stackfile import apply_override, load_config
from tap.local.gateway import jwt_auth

Say = Callable[[str], None]

# ---------------------------------------------------------------------------------------
# In-place updates, per type: the inputs each can change without recreating the resource,
# and how, through the same boto3 calls the AWS provider makes. Any other changed input
# (a name, the API a route belongs to, ...) recreates the resource.

Updater = Callable[[_Ctx, Deployed, dict[str, Any], frozenset[str]], dict[str, Any]]


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


def _retag(ctx: _Ctx, old: Deployed, tag: Callable[[dict[str, str]], None], untag: Any) -> None:
    """Set the resource's effective tags to ``ctx.tags_all``: tag what is new or changed,
    untag what is gone."""
    before = _str_map(old.outputs.get("tagsAll") or old.inputs.get("tags"))
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
    ctx: _Ctx, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
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
        variables = _str_map((inputs.get("environment") or {}).get("variables"))
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
    from tap.local.deploy.mocks import _cors

    return _cors(dict(value or {}))


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
    ctx: _Ctx, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
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
    ctx: _Ctx, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
) -> dict[str, Any]:
    apigw = ctx.client("apigatewayv2")
    api_id = str(inputs["apiId"])
    kwargs: dict[str, Any] = {}
    if "defaultRouteSettings" in keys:
        drs = inputs.get("defaultRouteSettings") or {}
        settings: dict[str, Any] = {}
        if "throttlingBurstLimit" in drs:
            settings["ThrottlingBurstLimit"] = as_int(drs["throttlingBurstLimit"])
        if "throttlingRateLimit" in drs:
            settings["ThrottlingRateLimit"] = float(drs["throttlingRateLimit"])
        if "detailedMetricsEnabled" in drs:
            settings["DetailedMetricsEnabled"] = bool(drs["detailedMetricsEnabled"])
        kwargs["DefaultRouteSettings"] = settings
    if "accessLogSettings" in keys and "accessLogSettings" in inputs:
        als = inputs["accessLogSettings"]
        kwargs["AccessLogSettings"] = {
            "DestinationArn": als["destinationArn"],
            "Format": als["format"],
        }
    if "autoDeploy" in keys:
        kwargs["AutoDeploy"] = bool(inputs.get("autoDeploy", False))
    if "description" in keys:
        kwargs["Description"] = str(inputs.get("description", ""))
    if "stageVariables" in keys:
        kwargs["StageVariables"] = _str_map(inputs.get("stageVariables"))
    if kwargs:
        apigw.update_stage(ApiId=api_id, StageName=old.id, **kwargs)
    if "tags" in keys:
        arn = engine.http_api_stage_arn(ctx.region, api_id, old.id)
        _retag(
            ctx,
            old,
            lambda tags: apigw.tag_resource(ResourceArn=arn, Tags=tags),
            lambda gone: apigw.untag_resource(ResourceArn=arn, TagKeys=gone),
        )
    return {}


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
    ctx: _Ctx, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
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
    ctx: _Ctx, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
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
    ctx: _Ctx, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
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
    ctx: _Ctx, old: Deployed, inputs: dict[str, Any], keys: frozenset[str]
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
            lambda tags: iam.tag_role(RoleName=old.id, Tags=_tag_list(tags)),
            lambda gone: iam.untag_role(RoleName=old.id, TagKeys=gone),
        )
    return {}


def _put_again(token: str, *keys: str) -> None:
    """Types whose create is a put (an upsert): updating is creating again, same name."""

    def apply(
        ctx: _Ctx, old: Deployed, inputs: dict[str, Any], changed: frozenset[str]
    ) -> dict[str, Any]:
        _, computed = HANDLERS[token](ctx, old.name, inputs)
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
    # Its zone is moto's stand-in (tap/local/deploy/mocks.py _moto_zone): found by the record.
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


class RedeployMocks(MotoMocks):
    """MotoMocks that apply the program's resources over a previous deploy in the same
    moto: unchanged resources are reused as they are, changed ones updated in place (or
    recreated), new ones created. ``delete_missing()`` then deletes what the program no
    longer declares."""

    def __init__(self, *args: Any, previous: Iterable[Deployed], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.previous = list(previous)
        self._by_key = {(d.type, d.name): d for d in self.previous if d.custom}

    def _create(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        old = self._by_key.get((args.typ, args.name))
        if old is None or args.typ == engine.AWS_PROVIDER:
            return super()._create(args)
        inputs = engine.unwrap_secrets(args.inputs)
        keys = frozenset(diff.changed_inputs(old.inputs, inputs))
        # Outputs as the provider answers: the inputs echoed, plus what AWS computed.
        computed = {k: v for k, v in old.outputs.items() if k not in old.inputs}
        if not keys:
            return self._record(args, old, inputs, {**computed, **args.inputs})
        if args.typ.startswith(engine.DYNAMIC_PREFIX):
            return self._record(args, old, inputs, self._dynamic_update(args, old, inputs))
        update = UPDATERS.get(args.typ)
        if update is None or not keys <= update.keys:
            self.delete(old)
            return super()._create(args)
        provider = self._provider_of(args.provider)
        _refuse_unknown_inputs(args.typ, inputs)
        tags_all = engine.effective_tags(provider.default_tags, _str_map(inputs.get("tags")))
        ctx = _Ctx(self, provider.region, tags_all)
        outs = {**computed, **args.inputs, **update.apply(ctx, old, inputs, keys)}
        if engine.RESOURCE_TYPES[args.typ].taggable:
            outs["tagsAll"] = tags_all
        return self._record(args, old, inputs, outs)

    def _record(
        self, args: MockResourceArgs, old: Deployed, inputs: dict[str, Any], outs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        with self._lock:
            recorded = Deployed(
                args.typ, args.name, old.id, inputs, engine.unwrap_secrets(outs), old.region
            )
            self.resources.append(recorded)
        return old.id, outs

    def _dynamic_update(
        self, args: MockResourceArgs, old: Deployed, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        """What the engine's dynamic host does for a changed dynamic resource: configure,
        check, ``update(id, olds, news)`` (tap.smoke re-runs its checks only when what it
        checks changed)."""
        import base64

        import dill
        import pulumi.dynamic

        if self.before_dynamic is not None:
            self.before_dynamic()
        provider = dill.loads(base64.b64decode(inputs[PROVIDER_KEY]))  # noqa: S301 (ours)
        provider.configure(
            pulumi.dynamic.ConfigureRequest(
                pulumi.dynamic.Config(
                    raw_config=dict(self.dynamic_config), project_name=self.project
                )
            )
        )
        if self.rewrite_dynamic_inputs is not None:
            inputs = self.rewrite_dynamic_inputs(inputs)
        checked = provider.check(dict(old.outputs), inputs)
        if checked.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
            raise DeployError(f"check failed: {reasons}")
        result = provider.update(old.id, dict(old.outputs), checked.inputs)
        outs = dict(result.outs or {})
        outs[PROVIDER_KEY] = args.inputs[PROVIDER_KEY]
        return outs

    def delete(self, old: Deployed) -> None:
        """Delete ``old`` from moto; already gone is fine."""
        import botocore.exceptions  # type: ignore[import-untyped,unused-ignore]

        deleter = DELETERS.get(old.type)
        if deleter is None or not old.custom or old.type.startswith(engine.DYNAMIC_PREFIX):
            return  # providers, components, dynamic resources: nothing in moto
        with contextlib.suppress(botocore.exceptions.ClientError):
            deleter(lambda service: self.client(service, old.region or self.default_region), old)

    def delete_missing(self) -> None:
        """Delete, dependents first, what the previous deploy had and this run did not."""
        now = {(d.type, d.name) for d in self.resources}
        for old in reversed(self.previous):
            if (old.type, old.name) not in now:
                self.delete(old)


# ---------------------------------------------------------------------------------------
# Running it.


def program_modules(program_dir: Path) -> list[str]:
    """The modules the program imported from the project (``tap.*`` less local mode):
    dropped before a re-run so it imports what is on disk now."""
    names = []
    for name, module in list(sys.modules.items()):
        if name != "tap" and not name.startswith("tap."):
            continue
        if name == "tap" or name == "tap.local" or name.startswith(("tap.local.", "tap.__main__")):
            continue
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(program_dir):
            names.append(name)
    return names


def forget_modules(names: Iterable[str]) -> None:
    """Drop modules so the next import reads them from disk again: from ``sys.modules``
    and from their package's attributes (``from tap import api`` reads the attribute first,
    and would hand back the old module)."""
    for name in names:
        sys.modules.pop(name, None)
        parent, _, child = name.rpartition(".")
        package = sys.modules.get(parent)
        if package is not None and getattr(package, child, None) is not None:
            with contextlib.suppress(AttributeError):
                delattr(package, child)


@dataclass
class Outcome:
    """What one redeploy did."""

    ok: bool
    plan: diff.Plan | None = None
    error: str = ""
    outputs: list[str] = field(default_factory=list)  # the changed outputs' lines


class Redeployer:
    """Re-run the program of ``deployment`` into its moto on demand, and swap what is served."""

    def __init__(
        self,
        deployment: LocalDeployment,
        *,
        say: Say,
        overrides: Mapping[str, str] | None = None,
        jwks_file: Path | None = None,
        on_deployed: Callable[[LocalDeployment], None] | None = None,
    ) -> None:
        """
        :param say: prints one line.
        :param overrides: the ``-c KEY=VALUE`` values, applied over the stack files again.
        :param jwks_file: ``--jwks``: the keys of an external JWT issuer.
        :param on_deployed: told after each successful redeploy (the hot reload's files).
        """
        if deployment.program_dir is None:
            raise ValueError("a redeploy needs the deployment's program folder")
        self.deployment = deployment
        self.program_dir: Path = deployment.program_dir
        self._say = say
        self._overrides = dict(overrides or {})
        self._jwks_file = jwks_file
        self._on_deployed = on_deployed
        self._lock = threading.Lock()
        self.runs = 0
        self.failures = 0

    def redeploy(self, reason: str = "") -> Outcome:
        """Run the program again and serve the result; never raises."""
        with self._lock:
            started = time.monotonic()
            self._say("")
            what = reason or "the program"
            self._say(f"{what} changed: updating stack {self.deployment.stack}...")
            try:
                outcome = self._redeploy()
            except Exception as error:  # every failure keeps the previous deploy serving
                outcome = Outcome(False, error=_describe(error))
            self.runs += 1
            elapsed = time.monotonic() - started
            if outcome.ok:
                assert outcome.plan is not None
                for line in [*diff.render(outcome.plan), *outcome.outputs]:
                    self._say(line)
                self._say(
                    f"Duration: {elapsed:.1f}s; serving the update (requests in flight "
                    "finish on the previous one)"
                )
            else:
                self.failures += 1
                self._say(f"error: {outcome.error}")
                self._say("The update failed: still serving the previous deploy")
            return outcome

    def _redeploy(self) -> Outcome:
        deployment = self.deployment
        stack = deployment.stack
        # Config first, from the files as they are now: a bad value stops before anything
        # runs (tap.config's message names the key and what is allowed).
        forget_modules(program_modules(self.program_dir))
        tap_config = importlib.import_module("tap.config")
        project, config_map = load_config(self.program_dir, stack)
        for key, value in self._overrides.items():
            apply_override(config_map, project, key, value)
        prefix = tap_config.NAMESPACE + ":"
        raw = {k[len(prefix) :]: v for k, v in config_map.items() if k.startswith(prefix)}
        stack_config = tap_config.parse(raw)
        if stack_config.region != deployment.region:
            raise DeployError(
                f"tap:region changed from {deployment.region} to {stack_config.region}: "
                "local mode deploys into one region; restart tap local to change it"
            )
        emulator = deployment.emulator
        loaded = emulator._loaded
        previous_specs = (
            (loaded.api, {name: pool.spec for name, pool in loaded.functions.items()})
            if loaded is not None
            else None
        )
        region, account_id = deployment.region, deployment.account_id
        moto = deployment.moto
        mocks = RedeployMocks(
            moto,
            region,
            previous=deployment.resources,
            stage_url=lambda api_id, stage_name: _stage_url(emulator.url, stage_name),
            dynamic_config=config_map,
            project=project,
        )

        def client(service: str) -> Any:
            return mocks.client(service, region)

        code_of = moto_code_reader(account_id, region)

        def jwks_for(issuer: str) -> Mapping[str, Any]:
            keys = cognito_jwks(moto.url, region, issuer)
            if not keys and self._jwks_file is not None:
                keys = jwt_auth.parse_jwks(self._jwks_file.read_bytes())
            if not keys:
                raise ReadbackError(f"no keys for the JWT issuer {issuer}: pass --jwks FILE")
            return keys

        def load_emulator(strict: bool) -> None:
            api, functions = build_specs(
                client,
                code_of,
                list(mocks.resources),
                region=region,
                account_id=account_id,
                strict=strict,
                jwks_for=jwks_for,
            )
            emulator.load(api, functions)
            if deployment.cloudwatch is not None:
                from tap.local.logs.cloudwatch import access_log_stream_name

                deployment.cloudwatch.configure(
                    {name: spec.log_group for name, spec in functions.items()},
                    api.access_log_group,
                    access_log_stream_name(api.api_id, api.stage),
                )

        def rewrite_dynamic_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
            url = inputs.get("url")
            host = urllib.parse.urlsplit(url).hostname if isinstance(url, str) else None
            domains = {str(d.id) for d in mocks.resources if d.type == engine.HTTP_API_DOMAIN_NAME}
            if host is not None and host in domains:
                return {**inputs, "url": f"{emulator.url}/"}
            return inputs

        def before_dynamic() -> None:
            # As on AWS, the smoke check calls the API once the resources it depends on
            # are updated: serve what the run has applied so far.
            mocks.wait_idle(_SETTLE_TIMEOUT_S)
            load_emulator(strict=False)

        mocks.rewrite_dynamic_inputs = rewrite_dynamic_inputs
        mocks.before_dynamic = before_dynamic
        try:
            outputs = _run_program(
                self.program_dir / "__main__.py",
                mocks,
                project,
                stack,
                config_map,
                timeout_s=stack_config.smoke_check_timeout_seconds + _RUN_MARGIN_S,
            )
            mocks.delete_missing()
            problems = broken_references(
                read_snapshot(client, region, account_id, list(mocks.resources))
            )
            if problems:
                raise BrokenReferencesError(problems)
            load_emulator(strict=True)
        except BaseException:
            # Keep serving the previous deploy; record what the run changed in moto, so
            # the next run diffs against what is there.
            if previous_specs is not None:
                with contextlib.suppress(Exception):
                    emulator.swap(*previous_specs)
            deployment.resources = _merged(deployment.resources, mocks.resources)
            raise
        _show_local_endpoint(account_id, region, emulator.url, list(mocks.resources))
        result = diff.plan(deployment.resources, mocks.resources)
        old_outputs = deployment.outputs
        deployment.resources = list(mocks.resources)
        deployment.outputs = outputs
        deployment.config = config_map
        if self._on_deployed is not None:
            self._on_deployed(deployment)
        return Outcome(True, plan=result, outputs=diff.output_changes(old_outputs, outputs))


def _merged(previous: list[Deployed], applied: list[Deployed]) -> list[Deployed]:
    """The previous snapshot with what a failed run applied written over it."""
    applied_by_key = {(d.type, d.name): d for d in applied}
    merged = [applied_by_key.pop((d.type, d.name), d) for d in previous]
    return merged + list(applied_by_key.values())


def _describe(error: BaseException) -> str:
    """The error as one message: tap's own errors already say what and why; anything else
    (the program's own exception) with the traceback's last frames."""
    own = {"ConfigError", "StackFileError", "DeployError", "BrokenReferencesError"}
    own |= {"ReadbackError", "EmulatorConfigError", "ProgramTimeout", "LocalAuthError"}
    if type(error).__name__ in own:
        return str(error)
    frames = traceback.format_exception(type(error), error, error.__traceback__, limit=-4)
    return "the Pulumi program raised:\n" + "".join(frames).rstrip()


# ---------------------------------------------------------------------------------------
# Watching.

_DEBOUNCE_MS = 50
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py")


class ProgramWatcher:
    """Watch what the program reads (less the function's files) and redeploy on a change.

    Saves that arrive while a redeploy runs are coalesced into one more run.
    """

    def __init__(
        self,
        redeployer: Redeployer,
        *,
        function_files: Callable[[Path], bool],
    ) -> None:
        """:param function_files: True for a path the hot reload owns (skipped here)."""
        self._redeployer = redeployer
        self._owned_by_function = function_files
        program_dir = redeployer.program_dir.resolve()
        self.program_dir = program_dir
        self.files = {program_dir / name for name in PROGRAM_FILES}
        self.files.add(program_dir / f"Pulumi.{redeployer.deployment.stack}.yaml")
        package = sys.modules["tap"].__file__
        tap_dir = Path(package).resolve().parent if package else None
        # The program's own modules, when they are the project's (an editable checkout);
        # an installed tap is not edited in place.
        self.tap_dir = tap_dir if tap_dir and tap_dir.is_relative_to(program_dir) else None
        self._stop = threading.Event()
        self._pending: set[Path] = set()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []

    def relevant(self, path: Path) -> bool:
        """True for a file whose change re-runs the program."""
        if path in self.files:
            return True
        if self.tap_dir is None or path.suffix != ".py" or self.tap_dir not in path.parents:
            return False
        if (self.tap_dir / "local") in path.parents or (self.tap_dir / "local") == path:
            return False
        return not self._owned_by_function(path)

    def changed(self, paths: Iterable[Path]) -> None:
        mine = {p for p in paths if self.relevant(p)}
        if mine:
            with self._wake:
                self._pending |= mine
                self._wake.notify_all()

    def start(self) -> None:
        import watchfiles

        def watch(root: Path, recursive: bool) -> None:
            with contextlib.suppress(Exception):
                for changes in watchfiles.watch(
                    root,
                    debounce=_DEBOUNCE_MS,
                    step=_DEBOUNCE_MS,
                    stop_event=self._stop,
                    raise_interrupt=False,
                    recursive=recursive,
                    # stop_event is checked between waits: a short one, so stop is prompt.
                    rust_timeout=200,
                    yield_on_timeout=False,
                ):
                    self.changed(Path(path).resolve() for _, path in changes)

        roots = [(self.program_dir, False)]
        if self.tap_dir is not None:
            roots.append((self.tap_dir, True))
        for root, recursive in roots:
            thread = threading.Thread(
                target=watch, args=(root, recursive), daemon=True, name="tap-redeploy-watch"
            )
            thread.start()
            self._threads.append(thread)
        worker = threading.Thread(target=self._run, daemon=True, name="tap-redeploy")
        worker.start()
        self._threads.append(worker)

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._pending or self._stop.is_set())
                if self._stop.is_set():
                    return
                paths, self._pending = sorted(self._pending), set()
            self._redeployer.redeploy(", ".join(_shown(p, self.program_dir) for p in paths))

    def stop(self, timeout_s: float = 1.0) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []


def _shown(path: Path, root: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(root))
    return str(path)


def from_deployment(
    deployment: LocalDeployment,
    say: Say,
    *,
    overrides: Mapping[str, str] | None = None,
    jwks_file: Path | None = None,
    on_deployed: Callable[[LocalDeployment], None] | None = None,
) -> ProgramWatcher:
    """A watcher that redeploys ``deployment`` when what its program reads changes."""
    from tap.local.reload import archive_paths

    def owned(path: Path) -> bool:
        for resource in deployment.resources:
            if resource.type != FUNCTION_TYPE:
                continue
            files, folders = archive_paths(resource.inputs.get("code"))
            if path in files or any(folder in path.parents for folder in folders):
                return True
        return False

    redeployer = Redeployer(
        deployment,
        say=say,
        overrides=overrides,
        jwks_file=jwks_file,
        on_deployed=on_deployed,
    )
    return ProgramWatcher(redeployer, function_files=owned)
