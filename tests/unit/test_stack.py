"""The whole program under Pulumi's mock runtime: what TapStack registers, and the outputs.

Each test reads the resources as the engine would receive them (tests/pulumi_mocks.py):
inputs camelCase, numbers as floats, the mocks returning AWS-shaped ARNs, invoke ARNs and
endpoints so wiring can be followed from one resource to the next. The documents a resource
receives (trust and execution policies, access-log format) are compared with the contract's
documents written out here, never with the functions of tap/ that build them.
"""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from tap import config, engine, monitoring
from tap.function.metrics import DEFAULT_NAMESPACE
from tap.function.routes import ROUTE_KEYS
from tap.outputs import OUTPUTS, render_outputs_table
from tap.smoke import SmokeCheck
from tap.stack import (
    MAX_PREFIX_LENGTH,
    TapStack,
    TapStackArgs,
    name_prefix,
    resource_names,
)
from tests.contract_documents import ACCESS_LOG_FORMAT, TRUST_POLICY, execution_policy
from tests.pulumi_mocks import (
    PROVIDER_TYPE,
    SMOKE_CHECK_TYPE,
    ProgramRun,
    RegisteredResource,
    is_unknown,
    run_program,
)

FUNCTION = engine.LAMBDA_FUNCTION
ROLE = engine.IAM_ROLE
ROLE_POLICY = engine.IAM_ROLE_POLICY
LOG_GROUP = engine.LOG_GROUP
API = engine.HTTP_API
INTEGRATION = engine.HTTP_API_INTEGRATION
ROUTE = engine.HTTP_API_ROUTE
STAGE = engine.HTTP_API_STAGE
PERMISSION = engine.LAMBDA_PERMISSION
TOPIC = engine.SNS_TOPIC
SUBSCRIPTION = engine.SNS_SUBSCRIPTION
ALARM = engine.METRIC_ALARM
DASHBOARD = engine.DASHBOARD

# The resource types the stack registers (local mode deploys each of them into moto), plus
# the smoke check (a dynamic resource) when tap:smokeCheck is true, the default.
CUSTOM_TYPES = {
    PROVIDER_TYPE,
    ROLE,
    ROLE_POLICY,
    LOG_GROUP,
    FUNCTION,
    API,
    INTEGRATION,
    ROUTE,
    STAGE,
    PERMISSION,
    TOPIC,
    ALARM,
    DASHBOARD,
}
COMPONENT_TYPES = {
    "tap:index:TapStack",
    "tap:compute:FunctionLogGroup",
    "tap:iam:ExecutionRole",
    "tap:compute:Function",
    "tap:api:HttpApi",
    "tap:monitoring:Monitoring",
}
# docs/design.md's outputs contract: the outputs every stack has.
CONTRACT_OUTPUTS = {
    "api_gateway_url",
    "lambda_function_name",
    "lambda_function_arn",
    "api_gateway_id",
    "cloudwatch_log_group",
    "environment_suffix",
    "lambda_role_arn",
    "region",
    "memory_size",
    "timeout",
    "runtime",
    "api_access_log_group",
    "alarm_topic_arn",
    "dashboard_name",
    "smoke_check",
}
# Only with tap:auth / tap:domain (tests/unit/test_auth_domain.py).
OPTIONAL_OUTPUTS = {"user_pool_id", "user_pool_client_id", "issuer", "custom_domain_url"}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    """The program with no config at all: the contract's defaults (Production, us-east-1)."""
    return run_program({}, stack="dev")


def function_log_group(run: ProgramRun) -> RegisteredResource:
    return next(g for g in run.of_type(LOG_GROUP) if g.input("name").startswith("/aws/lambda/"))


def access_log_group(run: ProgramRun) -> RegisteredResource:
    return next(g for g in run.of_type(LOG_GROUP) if g.input("name").startswith("/aws/apigateway/"))


# ---------------------------------------------------------------------------------------
# Provider, region, tags, names


def test_the_stack_registers_exactly_the_expected_resource_types(run: ProgramRun) -> None:
    assert run.type_tokens() == CUSTOM_TYPES | COMPONENT_TYPES | {SMOKE_CHECK_TYPE}
    # no managed-policy attachments of any kind
    assert not [r for r in run.resources if "policyAttachment" in r.type]


def test_every_resource_uses_the_one_explicit_provider_in_us_east_1(run: ProgramRun) -> None:
    [provider] = run.providers()
    assert provider.input("region") == "us-east-1"
    aws_resources = [r for r in run.custom_resources() if r.type.startswith("aws:")]
    assert len(aws_resources) == len(run.custom_resources()) - 1  # all but the smoke check
    for resource in aws_resources:
        assert run.provider_of(resource) == provider, resource.name


def test_the_provider_tags_every_resource_with_the_stacks_default_tags(run: ProgramRun) -> None:
    [provider] = run.providers()
    assert run.default_tags(run.one(FUNCTION)) == {
        "Environment": "Production",
        "Project": "tap",
        "ManagedBy": "pulumi",
        "Stack": "dev",
    }
    assert provider.inputs["defaultTags"]  # the engine passes it as JSON text


def test_every_taggable_resource_carries_environment_production(run: ProgramRun) -> None:
    taggable = run.taggable_resources()

    # the taggable types are read from pulumi-aws itself; these must be among them
    assert {r.type for r in taggable} == {ROLE, LOG_GROUP, FUNCTION, API, STAGE, TOPIC, ALARM}
    for resource in taggable:
        tags = run.effective_tags(resource)
        assert tags["Environment"] == "Production", resource.name
        assert tags["Project"] == "tap", resource.name
        assert tags["ManagedBy"] == "pulumi", resource.name
        assert tags["Stack"] == "dev", resource.name
        # own tags add to the defaults and never override them
        assert tags.keys() - run.default_tags(resource).keys() == {"Component"}


def test_every_named_resource_has_an_explicit_physical_name(run: ProgramRun) -> None:
    names = resource_names("dev")
    assert run.one(FUNCTION).input("name") == names.function == "tap-dev-function"
    assert run.one(ROLE).input("name") == "tap-dev-role"
    assert run.one(ROLE_POLICY).input("name") == "tap-dev-function-permissions"
    assert run.one(API).input("name") == "tap-dev-api"
    assert run.one(TOPIC).input("name") == "tap-dev-alarms"
    assert run.one(DASHBOARD).input("dashboardName") == "tap-dev"
    assert {g.input("name") for g in run.of_type(LOG_GROUP)} == {
        "/aws/lambda/tap-dev-function",
        "/aws/apigateway/tap-dev-api/access",
    }
    assert {a.input("name") for a in run.of_type(ALARM)} == {
        "tap-dev-function-errors",
        "tap-dev-function-duration",
        "tap-dev-function-throttles",
        "tap-dev-api-5xx",
        "tap-dev-api-latency-p99",
    }


def test_every_aws_resource_belongs_to_a_layer_component(run: ProgramRun) -> None:
    layers = {r.urn for r in run.resources if r.type in COMPONENT_TYPES - {"tap:index:TapStack"}}
    stack = run.one("tap:index:TapStack")
    for resource in run.custom_resources():
        if resource.type.startswith("aws:"):
            assert resource.parent in layers, resource.name
    assert run.one(SMOKE_CHECK_TYPE).parent == stack.urn
    for urn in layers:
        assert run.by_urn(urn).parent == stack.urn


# ---------------------------------------------------------------------------------------
# IAM


def test_the_role_is_trusted_by_lambda_only_with_a_json_string_policy(run: ProgramRun) -> None:
    role = run.one(ROLE)

    trust = role.input("assumeRolePolicy")
    assert isinstance(trust, str)  # pulumi-aws 7 refuses a dict
    assert json.loads(trust) == TRUST_POLICY
    assert "managedPolicyArns" not in role.inputs
    assert "inlinePolicies" not in role.inputs
    assert role.input("description") == (
        "Execution role of the tap function: writes its own logs only"
    )


def test_the_iam_component_exposes_the_role_arn_and_the_policy_name(run: ProgramRun) -> None:
    role, policy = run.one(ROLE), run.one(ROLE_POLICY)
    component = run.by_urn(role.parent)

    assert component.type == "tap:iam:ExecutionRole"
    assert run.component_outputs[component.urn] == {
        "arn": role.outputs["arn"],
        "policy": policy.input("name"),
    }


def test_the_inline_policy_writes_logs_to_the_functions_group_only(run: ProgramRun) -> None:
    policy = run.one(ROLE_POLICY)
    group = function_log_group(run)

    assert policy.input("role") == run.one(ROLE).input("name")
    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tap-dev-function"
    assert group.outputs["arn"] == group_arn
    assert json.loads(policy.input("policy")) == execution_policy(group_arn, "Active")


def test_with_passthrough_tracing_the_policy_has_no_xray_statement() -> None:
    run = run_program({"tracing": "PassThrough"})

    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tap-dev-function"
    document = json.loads(run.one(ROLE_POLICY).input("policy"))
    assert document == execution_policy(group_arn, "PassThrough")
    assert run.one(FUNCTION).input("tracingConfig") == {"mode": "PassThrough"}


# ---------------------------------------------------------------------------------------
# Logs and function


def test_the_function_logs_json_to_the_managed_group_with_14_days_retention(
    run: ProgramRun,
) -> None:
    function, group = run.one(FUNCTION), function_log_group(run)

    assert group.input("retentionInDays") == 14.0
    assert function.input("loggingConfig") == {
        "logFormat": "JSON",
        "logGroup": group.input("name"),
        "applicationLogLevel": "INFO",
        "systemLogLevel": "INFO",
    }


def test_the_function_is_created_after_its_log_group_and_its_policy(run: ProgramRun) -> None:
    function = run.one(FUNCTION)

    assert run.depends_on(function, function_log_group(run))
    assert run.depends_on(function, run.one(ROLE_POLICY))
    assert run.depends_on(function, run.one(ROLE))  # through its role input


def test_the_function_is_configured_as_the_config_says(run: ProgramRun) -> None:
    function = run.one(FUNCTION)

    assert function.input("runtime") == "python3.13"
    assert function.input("architectures") == ["arm64"]
    assert function.input("memorySize") == 512.0
    assert function.input("timeout") == 29.0
    assert function.input("handler") == "app.handler.handler"
    assert function.input("role") == run.one(ROLE).outputs["arn"]
    assert function.input("tracingConfig") == {"mode": "Active"}
    assert function.input("environment") == {
        "variables": {
            "ENVIRONMENT": "Production",
            "METRICS_NAMESPACE": "Tap",
            "APP_VERSION": "1.0.0",
            "LOG_LEVEL": "INFO",
        }
    }
    assert "reservedConcurrentExecutions" not in function.inputs


def test_the_function_code_is_the_function_package_only(run: ProgramRun) -> None:
    from tap.compute import code_files

    code = run.one(FUNCTION).inputs["code"]
    assert set(code.assets) == set(code_files())
    assert not [n for n in code.assets if "test" in n or "__pycache__" in n]


def test_a_non_default_config_reaches_the_function() -> None:
    run = run_program(
        {
            "environment": "Staging",
            "runtime": "python3.12",
            "architecture": "x86_64",
            "memorySize": "1024",
            "timeout": "10",
            "logLevel": "ERROR",
            "reservedConcurrency": "7",
            "logRetentionDays": "90",
        }
    )
    function = run.one(FUNCTION)

    assert function.input("runtime") == "python3.12"
    assert function.input("architectures") == ["x86_64"]
    assert function.input("memorySize") == 1024.0
    assert function.input("timeout") == 10.0
    assert function.input("reservedConcurrentExecutions") == 7.0
    # tap:logLevel governs the function's logging; Lambda's filter stays at INFO so the
    # request's EMF line, which has no level, survives (docs/http-api.md rule 30).
    assert function.input("environment", "variables", "LOG_LEVEL") == "ERROR"
    assert function.input("loggingConfig", "applicationLogLevel") == "INFO"
    assert function.input("loggingConfig", "systemLogLevel") == "WARN"
    assert function.input("environment", "variables", "ENVIRONMENT") == "Staging"
    assert {g.input("retentionInDays") for g in run.of_type(LOG_GROUP)} == {90.0}
    assert run.effective_tags(function)["Environment"] == "Staging"


# ---------------------------------------------------------------------------------------
# API


def test_cors_is_the_configured_cors(run: ProgramRun) -> None:
    assert run.one(API).input("corsConfiguration") == {
        "allowOrigins": ["*"],
        "allowMethods": ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        "allowHeaders": [
            "content-type",
            "authorization",
            "x-api-key",
            "x-amz-date",
            "x-amz-security-token",
        ],
        "exposeHeaders": ["x-request-id"],
        "maxAge": 300.0,
        "allowCredentials": False,
    }
    assert run.one(API).input("protocolType") == "HTTP"


def test_a_configured_origin_list_reaches_the_api() -> None:
    cors = {"allowOrigins": ["https://app.example.com"], "allowCredentials": True, "maxAge": 0}
    run = run_program({"cors": json.dumps(cors)})

    configured = run.one(API).input("corsConfiguration")
    assert configured["allowOrigins"] == ["https://app.example.com"]
    assert configured["allowCredentials"] is True
    assert configured["maxAge"] == 0.0


def test_the_integration_is_aws_proxy_payload_2_to_this_function(run: ProgramRun) -> None:
    integration = run.one(INTEGRATION)

    assert integration.input("apiId") == run.one(API).id
    assert integration.input("integrationType") == "AWS_PROXY"
    assert integration.input("payloadFormatVersion") == "2.0"
    assert integration.input("integrationMethod") == "POST"
    assert integration.input("integrationUri") == run.one(FUNCTION).outputs["invokeArn"]
    assert integration.input("timeoutMilliseconds") == 30000.0


def test_the_routes_are_the_route_table_each_targeting_the_integration(run: ProgramRun) -> None:
    routes = run.of_type(ROUTE)
    target = f"integrations/{run.one(INTEGRATION).id}"

    assert sorted(r.input("routeKey") for r in routes) == sorted(ROUTE_KEYS)
    assert len(routes) == len(ROUTE_KEYS)
    for route in routes:
        assert route.input("target") == target
        assert route.input("apiId") == run.one(API).id


def test_the_default_stage_auto_deploys_with_both_throttling_limits(run: ProgramRun) -> None:
    stage = run.one(STAGE)

    assert stage.input("name") == "$default"
    assert stage.input("autoDeploy") is True
    assert stage.input("defaultRouteSettings") == {
        "throttlingBurstLimit": 200.0,
        "throttlingRateLimit": 100.0,
    }
    # created after every route, so its first deployment serves them all
    for route in run.of_type(ROUTE):
        assert run.depends_on(stage, route)


def test_configured_throttling_reaches_the_stage() -> None:
    run = run_program({"throttlingBurstLimit": "17", "throttlingRateLimit": "2.5"})

    assert run.one(STAGE).input("defaultRouteSettings") == {
        "throttlingBurstLimit": 17.0,
        "throttlingRateLimit": 2.5,
    }


def test_the_stage_writes_json_access_logs_to_the_access_log_group(run: ProgramRun) -> None:
    settings = run.one(STAGE).input("accessLogSettings")
    group = access_log_group(run)

    assert settings["destinationArn"] == group.outputs["arn"]
    assert settings["format"] == ACCESS_LOG_FORMAT
    assert group.input("retentionInDays") == 14.0


def test_only_this_api_may_invoke_the_function(run: ProgramRun) -> None:
    permission = run.one(PERMISSION)
    execution_arn = run.one(API).outputs["executionArn"]

    assert permission.input("action") == "lambda:InvokeFunction"
    assert permission.input("principal") == "apigateway.amazonaws.com"
    assert permission.input("function") == "tap-dev-function"
    assert permission.input("sourceArn") == f"{execution_arn}/*/*"
    assert execution_arn.startswith("arn:aws:execute-api:us-east-1:123456789012:")


# ---------------------------------------------------------------------------------------
# Monitoring


def test_the_alarms_watch_this_function_and_this_api(run: ProgramRun) -> None:
    api_id = run.one(API).id
    alarms = {a.input("name").removeprefix("tap-dev-"): a for a in run.of_type(ALARM)}

    for key in ("function-errors", "function-duration", "function-throttles"):
        assert alarms[key].input("namespace") == "AWS/Lambda"
        assert alarms[key].input("dimensions") == {"FunctionName": "tap-dev-function"}
    for key in ("api-5xx", "api-latency-p99"):
        assert alarms[key].input("namespace") == "AWS/ApiGateway"
        assert alarms[key].input("dimensions") == {"ApiId": api_id}
    assert alarms["api-5xx"].input("metricName") == "5xx"
    assert alarms["api-latency-p99"].input("metricName") == "Latency"
    assert alarms["api-latency-p99"].input("extendedStatistic") == "p99"


def test_the_alarm_thresholds_are_the_configured_ones(run: ProgramRun) -> None:
    alarms = {a.input("name").removeprefix("tap-dev-"): a for a in run.of_type(ALARM)}

    assert alarms["function-errors"].input("threshold") == 3.0
    assert alarms["function-duration"].input("threshold") == 25000.0
    assert alarms["function-throttles"].input("threshold") == 0.0
    assert alarms["api-5xx"].input("threshold") == 3.0
    assert alarms["api-latency-p99"].input("threshold") == float(
        monitoring.API_P99_LATENCY_THRESHOLD_MS
    )


def test_every_alarm_notifies_the_topic_on_alarm_and_on_ok(run: ProgramRun) -> None:
    topic_arn = run.one(TOPIC).outputs["arn"]

    for alarm in run.of_type(ALARM):
        assert alarm.input("alarmActions") == [topic_arn], alarm.name
        assert alarm.input("okActions") == [topic_arn], alarm.name
        assert alarm.input("treatMissingData") == "notBreaching", alarm.name


def test_without_an_alarm_email_there_is_no_subscription(run: ProgramRun) -> None:
    assert run.of_type(SUBSCRIPTION) == []


def test_an_alarm_email_is_subscribed_to_the_topic() -> None:
    run = run_program({"alarmEmail": "ops@example.com"})

    subscription = run.one(SUBSCRIPTION)
    assert subscription.input("protocol") == "email"
    assert subscription.input("endpoint") == "ops@example.com"
    assert subscription.input("topic") == run.one(TOPIC).outputs["arn"]


def test_the_dashboard_body_is_json_naming_the_region_function_and_api(run: ProgramRun) -> None:
    body = json.loads(run.one(DASHBOARD).input("dashboardBody"))

    assert body == monitoring.dashboard_body(
        region="us-east-1",
        function_name="tap-dev-function",
        api_id=run.one(API).id,
        environment="Production",
        metrics_namespace=DEFAULT_NAMESPACE,
        duration_threshold_ms=25000,
        timeout_s=29,
    )
    assert {w["properties"]["region"] for w in body["widgets"]} == {"us-east-1"}


def test_another_region_reaches_the_provider_the_arns_and_the_dashboard() -> None:
    run = run_program({"region": "eu-west-2"}, stack="eu")

    [provider] = run.providers()
    assert provider.input("region") == "eu-west-2"
    assert run.output("region") == "eu-west-2"
    assert run.output("lambda_function_arn").startswith("arn:aws:lambda:eu-west-2:")
    body = json.loads(run.one(DASHBOARD).input("dashboardBody"))
    assert {w["properties"]["region"] for w in body["widgets"]} == {"eu-west-2"}


# ---------------------------------------------------------------------------------------
# The stack's attributes


def _built_stack(raw_config: dict[str, str]) -> TapStack:
    built: list[TapStack] = []

    def program() -> None:
        built.append(TapStack("tap", TapStackArgs(config=config.load(), stack_name="dev")))

    run_program(raw_config, program=program)
    [stack] = built
    return stack


def test_the_stacks_attributes_are_the_resources_they_are_named_for() -> None:
    zone = {"name": "api.example.com", "zoneId": "Z0123456789ABC"}
    stack = _built_stack({"auth": json.dumps({"type": "cognito"}), "domain": json.dumps(zone)})

    assert isinstance(stack.function, aws.lambda_.Function)
    assert isinstance(stack.log_group, aws.cloudwatch.LogGroup)
    assert isinstance(stack.role, aws.iam.Role)
    assert isinstance(stack.role_policy, aws.iam.RolePolicy)
    assert isinstance(stack.api, aws.apigatewayv2.Api)
    assert isinstance(stack.stage, aws.apigatewayv2.Stage)
    assert {type(r) for r in stack.routes} == {aws.apigatewayv2.Route}
    assert len(stack.routes) == len(ROUTE_KEYS)
    assert isinstance(stack.permission, aws.lambda_.Permission)
    assert isinstance(stack.authorizer, aws.apigatewayv2.Authorizer)
    assert isinstance(stack.access_log_group, aws.cloudwatch.LogGroup)
    assert isinstance(stack.alarm_topic, aws.sns.Topic)
    assert {type(a) for a in stack.alarms.values()} == {aws.cloudwatch.MetricAlarm}
    assert isinstance(stack.dashboard, aws.cloudwatch.Dashboard)
    assert isinstance(stack.user_pool, aws.cognito.UserPool)
    assert isinstance(stack.user_pool_client, aws.cognito.UserPoolClient)
    assert isinstance(stack.domain_name, aws.apigatewayv2.DomainName)
    assert isinstance(stack.smoke, SmokeCheck)


def test_what_is_not_configured_is_none_on_the_stack() -> None:
    stack = _built_stack({"smokeCheck": "false"})

    assert stack.user_pool is None
    assert stack.user_pool_client is None
    assert stack.authorizer is None
    assert stack.domain_name is None
    assert stack.smoke is None


# ---------------------------------------------------------------------------------------
# Outputs


def test_the_program_exports_the_outputs_contract(run: ProgramRun) -> None:
    assert set(OUTPUTS) == CONTRACT_OUTPUTS | OPTIONAL_OUTPUTS
    assert set(run.outputs) == CONTRACT_OUTPUTS


def test_without_the_smoke_check_there_is_no_smoke_resource_and_no_smoke_output() -> None:
    run = run_program({"smokeCheck": "false"})

    assert run.type_tokens() == CUSTOM_TYPES | COMPONENT_TYPES
    # the engine drops an output whose value is None: absent, as OUTPUTS documents
    assert set(run.outputs) == CONTRACT_OUTPUTS - {"smoke_check"}


def test_every_output_has_its_value(run: ProgramRun) -> None:
    function, api_resource, smoke = run.one(FUNCTION), run.one(API), run.one(SMOKE_CHECK_TYPE)

    assert run.outputs == {
        "api_gateway_url": run.one(STAGE).outputs["invokeUrl"],
        "lambda_function_name": "tap-dev-function",
        "lambda_function_arn": function.outputs["arn"],
        "api_gateway_id": api_resource.id,
        "cloudwatch_log_group": "/aws/lambda/tap-dev-function",
        "environment_suffix": "Production",
        "lambda_role_arn": run.one(ROLE).outputs["arn"],
        "region": "us-east-1",
        "memory_size": 512.0,
        "timeout": 29.0,
        "runtime": "python3.13",
        "api_access_log_group": "/aws/apigateway/tap-dev-api/access",
        "alarm_topic_arn": run.one(TOPIC).outputs["arn"],
        "dashboard_name": "tap-dev",
        "smoke_check": {
            k: smoke.outputs[k]
            for k in ("passed_at", "attempts", "latency_ms", "checks", "warnings")
        },
    }
    url = run.output("api_gateway_url")
    assert url == f"https://{api_resource.id}.execute-api.us-east-1.amazonaws.com/"


# ---------------------------------------------------------------------------------------
# Preview


def test_the_program_runs_in_a_preview_where_computed_values_are_unknown() -> None:
    run = run_program({}, preview=True)

    assert run.type_tokens() == CUSTOM_TYPES | COMPONENT_TYPES | {SMOKE_CHECK_TYPE}
    # computed by AWS: unknown in a preview
    for name in ("api_gateway_url", "lambda_function_arn", "api_gateway_id", "lambda_role_arn"):
        assert is_unknown(run.outputs[name]), name
    assert is_unknown(run.outputs["alarm_topic_arn"])
    assert is_unknown(run.outputs["smoke_check"])  # it runs on deploy, never in a preview
    # chosen by the program: known in a preview
    assert run.outputs["lambda_function_name"] == "tap-dev-function"
    assert run.outputs["cloudwatch_log_group"] == "/aws/lambda/tap-dev-function"
    assert run.outputs["dashboard_name"] == "tap-dev"
    assert run.outputs["region"] == "us-east-1"
    # inputs built from computed values are unknown too: the policy, the dashboard body
    assert is_unknown(run.one(ROLE_POLICY).inputs["policy"])
    assert is_unknown(run.one(DASHBOARD).inputs["dashboardBody"])
    assert is_unknown(run.one(STAGE).input("accessLogSettings", "destinationArn"))


# ---------------------------------------------------------------------------------------
# Stack names


def test_a_stack_name_with_a_dot_gives_valid_aws_names() -> None:
    run = run_program({}, stack="prod.eu-west")

    assert run.one(FUNCTION).input("name") == "tap-prod-eu-west-function"
    assert run.effective_tags(run.one(FUNCTION))["Stack"] == "prod.eu-west"


def test_a_long_stack_name_stays_within_the_64_character_name_limits() -> None:
    stack = "feature-" + "x" * 92  # Pulumi allows 100 characters
    run = run_program({}, stack=stack)

    for name in (run.one(FUNCTION).input("name"), run.one(ROLE).input("name")):
        assert len(name) <= 64, name
    assert run.one(FUNCTION).input("name").startswith("tap-feature-xxx")


# ---------------------------------------------------------------------------------------
# Pure parts of tap/stack.py


@pytest.mark.parametrize(
    ("stack", "prefix"),
    [("dev", "tap-dev"), ("prod.eu", "tap-prod-eu"), ("a_b-C", "tap-a_b-C")],
)
def test_the_name_prefix_is_the_project_and_stack_made_safe(stack: str, prefix: str) -> None:
    assert name_prefix(stack) == prefix


def test_long_stack_names_get_distinct_prefixes_within_the_limit() -> None:
    first, second = name_prefix("s" * 100), name_prefix("s" * 99 + "t")

    assert len(first) == len(second) == MAX_PREFIX_LENGTH
    assert first != second
    assert len(resource_names("s" * 100).function) <= 64


def test_an_empty_stack_name_is_refused() -> None:
    with pytest.raises(ValueError, match="the stack name is empty"):
        name_prefix("")


def test_the_outputs_table_has_one_row_per_output_in_order() -> None:
    lines = render_outputs_table().splitlines()

    assert lines[:2] == ["| output | description |", "|---|---|"]
    assert [line.split("`")[1] for line in lines[2:]] == list(OUTPUTS)
    assert all(description for description in OUTPUTS.values())
