"""TapStack: the explicit AWS provider and the layers, assembled; the stack's outputs.

Data flows one way: the validated ``StackConfig`` comes in through ``TapStackArgs``; each
layer gets only what it needs as typed args; the outputs contract comes out.

Build order, and why: function log group -> execution role (its policy names the group's
ARN) -> function (needs the role; created after the group and the policy) -> HTTP API
(needs the function) -> monitoring (needs the function's name and the API's id).

Physical names (explicit for everything: no autonaming, so names are stable, readable in
the console and known in a preview). With ``<p>`` = ``tap-<stack>`` (see ``name_prefix``):

=====================  =======================================
function               ``<p>-function``
execution role         ``<p>-role``; inline policy ``<p>-function-permissions``
function log group     ``/aws/lambda/<p>-function`` (Lambda's own default name)
HTTP API               ``<p>-api``, stage ``$default``
access-log group       ``/aws/apigateway/<p>-api/access``
alarm topic            ``<p>-alarms``
alarms                 ``<p>-function-errors``, ``<p>-function-duration``,
                       ``<p>-function-throttles``, ``<p>-api-5xx``, ``<p>-api-latency-p99``
dashboard              ``<p>``
user pool, app client  ``<p>-users``, ``<p>-client`` (``tap:auth`` type cognito)
JWT authorizer         ``<p>-jwt`` (``tap:auth``)
=====================  =======================================
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

import tap
from tap import api as api_layer
from tap import auth as auth_layer
from tap import compute, iam, monitoring, smoke
from tap import domain as domain_layer
from tap.config import PRODUCTION, CorsConfig, StackConfig
from tap.function import metrics as function_metrics
from tap.function.routes import ROUTE_KEYS
from tap.outputs import OUTPUTS

PROJECT = "tap"
# The tightest AWS name limit among the resources: Lambda function and IAM role names, 64
# characters. The longest suffix added to the prefix is "-function-permissions"'s
# "-function" part on the function name (9): a prefix of at most 48 leaves room.
MAX_PREFIX_LENGTH = 48
_HASH_LENGTH = 8
# Allowed in every name the prefix goes into (function, role, topic, dashboard, log group).
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


# The smoke check's inputs, built from the configuration (tap.smoke never reads it).
def expected_cors(cors: CorsConfig) -> dict[str, Any]:
    """What the configured API answers to CORS, as plain data (the ``expected_cors`` input).

    The configuration itself, snake_case: the provider derives each expected header from it.
    """
    return {
        "allow_origins": list(cors.allow_origins),
        "allow_methods": list(cors.allow_methods),
        "allow_headers": list(cors.allow_headers),
        "expose_headers": list(cors.expose_headers),
        "max_age": cors.max_age,
        "allow_credentials": cors.allow_credentials,
    }


def preflight_origin(cors: CorsConfig) -> str:
    """An origin the API allows, as a browser sends it: the first listed one in lower case
    (docs/http-api.md rule 25), or a sample one when it allows "*" or nothing (the check
    then verifies that nothing is granted to it).
    """
    if "*" in cors.allow_origins or not cors.allow_origins:
        return smoke.SAMPLE_ORIGIN
    return cors.allow_origins[0].lower()


def protected_request(config: StackConfig, route_keys: Sequence[str]) -> str | None:
    """A request to a route that requires a token, ``"GET /info"`` or ``"POST
    /tap-smoke-check"``; None without tap:auth or when every route is public.

    A GET is preferred: should the authorizer be missing, the request runs nothing that
    changes state. A greedy route's ``{proxy+}`` becomes a fixed path of the smoke check.
    """
    if config.auth is None:
        return None
    protected = [k for k in route_keys if config.auth.protects(k)]
    protected.sort(key=lambda k: (not k.startswith("GET "), k))
    if not protected:
        return None
    method, _, path = protected[0].partition(" ")
    return f"{method} {path.replace('{proxy+}', 'tap-smoke-check')}"


def stack_trigger(config: StackConfig, code_hash: str, route_keys: Sequence[str]) -> str:
    """The trigger TapStack passes: the function's code and settings, the routes, the CORS
    configuration and the stage's throttling; anything here that changes re-runs the check.

    Known at program time (no resource outputs), so a preview already shows whether the
    check will run. The URL and the expected environment are inputs of their own.
    """
    return smoke.smoke_trigger(
        {
            "code_sha256": code_hash,
            "app_version": tap.__version__,
            "function": {
                "runtime": config.runtime,
                "architecture": config.architecture,
                "memory_size": config.memory_size,
                "timeout": config.timeout,
                "log_level": config.log_level,
                "tracing": config.tracing,
                "reserved_concurrency": config.reserved_concurrency,
            },
            "routes": sorted(route_keys),
            "cors": expected_cors(config.cors),
            "throttling": [config.throttling_burst_limit, config.throttling_rate_limit],
            # Only when set: a stack without them keeps the digest it had.
            **({"auth": repr(config.auth)} if config.auth is not None else {}),
            **({"domain": repr(config.domain)} if config.domain is not None else {}),
        }
    )


def name_prefix(stack_name: str, project: str = PROJECT) -> str:
    """``<project>-<stack>``, made safe for every AWS name it is part of.

    Characters a Pulumi stack name may hold but a Lambda or SNS name may not (``.``) become
    ``-``. A prefix longer than MAX_PREFIX_LENGTH keeps its start and ends with a short
    hash of the whole stack name, so two long stack names still get different names.
    """
    if not stack_name:
        raise ValueError("the stack name is empty")
    prefix = _NAME_UNSAFE.sub("-", f"{project}-{stack_name}")
    if len(prefix) <= MAX_PREFIX_LENGTH:
        return prefix
    digest = hashlib.sha256(stack_name.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{prefix[: MAX_PREFIX_LENGTH - _HASH_LENGTH - 1]}-{digest}"


@dataclass(frozen=True)
class ResourceNames:
    """Every physical name of the stack, derived from its prefix."""

    prefix: str

    @property
    def function(self) -> str:
        return f"{self.prefix}-function"

    @property
    def role(self) -> str:
        return f"{self.prefix}-role"

    @property
    def role_policy(self) -> str:
        return f"{self.prefix}-function-permissions"

    @property
    def function_log_group(self) -> str:
        return compute.function_log_group_name(self.function)

    @property
    def api(self) -> str:
        return f"{self.prefix}-api"

    @property
    def access_log_group(self) -> str:
        return f"/aws/apigateway/{self.api}/access"

    @property
    def alarm_topic(self) -> str:
        return f"{self.prefix}-alarms"

    @property
    def alarm_prefix(self) -> str:
        return self.prefix

    @property
    def dashboard(self) -> str:
        return self.prefix

    @property
    def user_pool(self) -> str:
        return f"{self.prefix}-users"

    @property
    def user_pool_client(self) -> str:
        return f"{self.prefix}-client"

    @property
    def authorizer(self) -> str:
        return f"{self.prefix}-jwt"


def resource_names(stack_name: str, project: str = PROJECT) -> ResourceNames:
    return ResourceNames(name_prefix(stack_name, project))


def default_tags(config: StackConfig, stack_name: str, project: str = PROJECT) -> dict[str, str]:
    """The provider's ``default_tags``: on every taggable resource the stack creates."""
    return {
        "Environment": config.environment,
        "Project": project,
        "ManagedBy": "pulumi",
        "Stack": stack_name,
    }


def function_environment(config: StackConfig) -> dict[str, str]:
    """The function's environment contract (docs/design.md): what the handler reads."""
    return {
        "ENVIRONMENT": config.environment,
        function_metrics.NAMESPACE_ENV: function_metrics.DEFAULT_NAMESPACE,
        "APP_VERSION": tap.__version__,
    }


@dataclass(frozen=True)
class TapStackArgs:
    config: StackConfig
    """The validated configuration (tap.config.load())."""
    stack_name: str
    """The Pulumi stack's name (pulumi.get_stack()): in names and the Stack tag."""
    project: str = PROJECT
    """Project name: the first part of every physical name and the Project tag."""


class TapStack(pulumi.ComponentResource):
    """The whole stack: provider, IAM, compute, API, monitoring; one attribute per output.

    Each layer is a component of its own (``tap.compute``, ``tap.iam``, ``tap.api``, ...);
    the stack's attributes are the resources they hold, named for what they are:
    ``function``, ``log_group`` (the function's), ``role`` and ``role_policy``, ``api``,
    ``stage``, ``routes``, ``permission``, ``access_log_group``, ``alarm_topic``, ``alarms``,
    ``dashboard``; ``user_pool``, ``user_pool_client``, ``authorizer`` and ``domain_name``
    (None unless configured); ``smoke`` (the smoke check, None when it is off).
    """

    def __init__(
        self, name: str, args: TapStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tap:index:TapStack", name, None, opts)
        config = args.config
        self.config = config
        self.stack_name = args.stack_name
        self.names = resource_names(args.stack_name, args.project)
        self.default_tags = default_tags(config, args.stack_name, args.project)
        names = self.names

        # An explicit provider, handed to every layer (and so to every resource): region and
        # default tags in one place. Assigning aws.config.region does nothing.
        self.provider = aws.Provider(
            f"{name}-aws",
            region=config.region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=self.default_tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        layer = pulumi.ResourceOptions(parent=self, providers=[self.provider])

        # Known at program time, so known in a preview: the smoke check's trigger.
        self.code_archive = compute.code_archive()
        self.code_hash = compute.code_hash(self.code_archive)

        function_logs = compute.FunctionLogGroup(
            f"{name}-logs",
            compute.FunctionLogGroupArgs(
                name=names.function_log_group,
                retention_days=config.log_retention_days,
                tags={"Component": "compute"},
            ),
            opts=layer,
        )
        self.log_group = function_logs.log_group
        execution_role = iam.ExecutionRole(
            f"{name}-iam",
            iam.ExecutionRoleArgs(
                role_name=names.role,
                policy_name=names.role_policy,
                log_group_arn=function_logs.arn,
                tracing=config.tracing,
                tags={"Component": "iam"},
            ),
            opts=layer,
        )
        self.role = execution_role.role
        self.role_policy = execution_role.policy
        function = compute.Function(
            f"{name}-compute",
            compute.FunctionArgs(
                name=names.function,
                role_arn=execution_role.arn,
                log_group_name=function_logs.name,
                runtime=config.runtime,
                architecture=config.architecture,
                memory_size=config.memory_size,
                timeout=config.timeout,
                log_level=config.log_level,
                tracing=config.tracing,
                environment=function_environment(config),
                reserved_concurrency=config.reserved_concurrency,
                code=self.code_archive,
                depends_on=(self.log_group, self.role_policy),
                tags={"Component": "compute"},
            ),
            opts=layer,
        )
        self.function = function.function

        # ---- Authentication (tap:auth) ----------------------------------------------------
        user_pool: auth_layer.UserPool | None = None
        authorizer: api_layer.JwtAuthorizerArgs | None = None
        self.issuer: pulumi.Input[str] | None = None
        if config.auth is not None:
            audiences: pulumi.Input[list[pulumi.Input[str]]]
            if config.auth.type == "cognito":
                user_pool = auth_layer.UserPool(
                    f"{name}-auth",
                    auth_layer.UserPoolArgs(
                        pool_name=names.user_pool,
                        client_name=names.user_pool_client,
                        region=config.region,
                        production=config.environment == PRODUCTION,
                        tags={"Component": "auth"},
                    ),
                    opts=layer,
                )
                self.issuer = user_pool.issuer
                audiences = [user_pool.client.id]
            else:
                assert config.auth.issuer is not None  # config: required for type jwt
                self.issuer = config.auth.issuer
                audiences = list(config.auth.audience)
            authorizer = api_layer.JwtAuthorizerArgs(
                name=names.authorizer,
                issuer=self.issuer,
                audiences=audiences,
                public_routes=config.auth.public_routes,
                scopes=dict(config.auth.scopes),
            )
        self.user_pool = user_pool.pool if user_pool is not None else None
        self.user_pool_client = user_pool.client if user_pool is not None else None
        domain = config.domain
        http_api = api_layer.HttpApi(
            f"{name}-http",
            api_layer.HttpApiArgs(
                api_name=names.api,
                function_name=self.function.name,
                function_invoke_arn=self.function.invoke_arn,
                cors=config.cors,
                throttling_burst_limit=config.throttling_burst_limit,
                throttling_rate_limit=config.throttling_rate_limit,
                access_log_group_name=names.access_log_group,
                log_retention_days=config.log_retention_days,
                route_keys=ROUTE_KEYS,
                tags={"Component": "api"},
                authorizer=authorizer,
                disable_execute_api_endpoint=domain is not None and domain.disable_default_endpoint,
            ),
            opts=layer,
        )
        self.api = http_api.api
        self.stage = http_api.stage
        self.routes = list(http_api.routes.values())
        self.permission = http_api.permission
        self.authorizer = http_api.authorizer
        self.access_log_group = http_api.access_log_group
        # ---- Custom domain (tap:domain) ---------------------------------------------------
        custom_domain: domain_layer.CustomDomain | None = None
        if domain is not None:
            custom_domain = domain_layer.CustomDomain(
                f"{name}-domain",
                domain_layer.CustomDomainArgs(
                    domain_name=domain.name,
                    api_id=self.api.id,
                    stage=self.stage.name,
                    zone_id=domain.zone_id,
                    certificate_arn=domain.certificate_arn,
                    tags={"Component": "domain"},
                ),
                opts=layer,
            )
        self.domain_name = custom_domain.domain if custom_domain is not None else None
        alarms = monitoring.Monitoring(
            f"{name}-monitoring",
            monitoring.MonitoringArgs(
                topic_name=names.alarm_topic,
                alarm_name_prefix=names.alarm_prefix,
                dashboard_name=names.dashboard,
                region=config.region,
                environment=config.environment,
                function_name=self.function.name,
                api_id=self.api.id,
                error_threshold=config.error_alarm_threshold,
                duration_threshold_ms=config.duration_alarm_threshold_ms,
                timeout_s=config.timeout,
                alarm_email=config.alarm_email,
                tags={"Component": "monitoring"},
            ),
            opts=layer,
        )

        self.alarm_topic = alarms.topic
        self.alarms = alarms.alarms
        self.dashboard = alarms.dashboard

        # ---- Smoke check ------------------------------------------------------------------
        # Calls the live stage after the deploy: created after the stage, every route and
        # the invoke permission (without the permission API Gateway answers 500), and run
        # again whenever the trigger (code hash, function settings, routes, CORS,
        # throttling) or the URL changes. When config.smoke_check is false it stays None:
        # the engine drops an output whose value is None, so the stack has no smoke_check
        # output at all (OUTPUTS documents it as absent).
        self.smoke: smoke.SmokeCheck | None = None
        self.smoke_check: pulumi.Input[Any] | None = None
        smoke_url: pulumi.Input[str] = self.stage.invoke_url
        smoke_after: list[pulumi.Resource] = []
        if self.authorizer is not None:
            smoke_after.append(self.authorizer)
        if custom_domain is not None:
            smoke_after += [custom_domain.mapping, *custom_domain.records]
            if domain is not None and domain.disable_default_endpoint:
                smoke_url = custom_domain.url
        if config.smoke_check:
            self.smoke = smoke.SmokeCheck(
                f"{name}-smoke-check",
                smoke.SmokeCheckArgs(
                    # With the execute-api endpoint disabled only the custom domain
                    # answers (docs/http-api.md rule 65).
                    url=smoke_url,
                    expected_environment=config.environment,
                    origin=preflight_origin(config.cors),
                    expected_cors=expected_cors(config.cors),
                    trigger=stack_trigger(config, self.code_hash, ROUTE_KEYS),
                    deadline_seconds=config.smoke_check_timeout_seconds,
                    protected_request=protected_request(config, ROUTE_KEYS),
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[self.stage, *self.routes, self.permission, *smoke_after],
                ),
            )
            self.smoke_check = pulumi.Output.all(
                passed_at=self.smoke.passed_at,
                attempts=self.smoke.attempts,
                latency_ms=self.smoke.latency_ms,
                checks=self.smoke.checks,
                warnings=self.smoke.warnings,
            )
        # ---- end of smoke check --------------------------------------------------------

        # ---- Outputs (OUTPUTS, in order) -----------------------------------------------
        self.api_gateway_url: pulumi.Output[str] = self.stage.invoke_url
        self.lambda_function_name: pulumi.Output[str] = self.function.name
        self.lambda_function_arn: pulumi.Output[str] = self.function.arn
        self.api_gateway_id: pulumi.Output[str] = self.api.id
        self.cloudwatch_log_group: pulumi.Output[str] = self.log_group.name
        self.environment_suffix: str = config.environment
        self.lambda_role_arn: pulumi.Output[str] = self.role.arn
        self.region: str = config.region
        self.memory_size: int = config.memory_size
        self.timeout: int = config.timeout
        self.runtime: str = config.runtime
        self.api_access_log_group: pulumi.Output[str] = self.access_log_group.name
        self.alarm_topic_arn: pulumi.Output[str] = self.alarm_topic.arn
        self.dashboard_name: pulumi.Output[str] = self.dashboard.dashboard_name
        # None when not configured: the engine drops the output (OUTPUTS says "only with").
        self.user_pool_id = self.user_pool.id if self.user_pool is not None else None
        self.user_pool_client_id = (
            self.user_pool_client.id if self.user_pool_client is not None else None
        )
        self.custom_domain_url = custom_domain.url if custom_domain is not None else None
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        """The outputs contract: every name of OUTPUTS with its value."""
        return {name: getattr(self, name) for name in OUTPUTS}
