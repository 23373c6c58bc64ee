"""The deployed stack, read through the AWS APIs (moto locally, AWS with TAP_TARGET=aws).

Each test reads the outputs, asks the service what exists, and compares it with the config
and docs/design.md's decisions: what a user would check by hand after ``pulumi up``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import tap
from tap.function import metrics
from tests.contract_documents import ACCESS_LOG_FIELDS
from tests.integration.stack_target import StackUnderTest

pytestmark = pytest.mark.integration


def _function(stack: StackUnderTest) -> dict[str, Any]:
    return dict(
        stack.client("lambda").get_function_configuration(
            FunctionName=stack.outputs["lambda_function_name"]
        )
    )


def _log_group(stack: StackUnderTest, name: str) -> dict[str, Any]:
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    matching = [g for g in groups if g["logGroupName"] == name]
    assert len(matching) == 1, f"log group {name} not found: {groups}"
    return dict(matching[0])


def _arn_without_star(group: dict[str, Any]) -> str:
    return str(group.get("logGroupArn") or group["arn"].removesuffix(":*"))


def _our_alarms(stack: StackUnderTest) -> list[dict[str, Any]]:
    """The alarms watching this stack's function or API (by their dimensions)."""
    ours = {stack.outputs["lambda_function_name"], stack.outputs["api_gateway_id"]}
    found = []
    for page in stack.client("cloudwatch").get_paginator("describe_alarms").paginate():
        for alarm in page["MetricAlarms"]:
            values = {d["Value"] for d in alarm.get("Dimensions", [])}
            if values & ours:
                found.append(alarm)
    return found


# ---------------------------------------------------------------------------------------
# Outputs


def test_outputs_name_what_exists(stack: StackUnderTest) -> None:
    # GIVEN the stack outputs WHEN each named resource is looked up THEN it is there, with
    # the same identifiers.
    fn = _function(stack)
    assert fn["FunctionArn"] == stack.outputs["lambda_function_arn"]
    assert fn["Role"] == stack.outputs["lambda_role_arn"]
    api = stack.client("apigatewayv2").get_api(ApiId=stack.outputs["api_gateway_id"])
    assert api["ProtocolType"] == "HTTP"
    assert stack.outputs["region"] == stack.config.region
    assert stack.outputs["environment_suffix"] == stack.config.environment
    assert stack.outputs["memory_size"] == stack.config.memory_size
    assert stack.outputs["timeout"] == stack.config.timeout
    assert stack.outputs["runtime"] == stack.config.runtime


# ---------------------------------------------------------------------------------------
# Function


def test_function_configuration_matches_config(stack: StackUnderTest) -> None:
    fn = _function(stack)
    assert fn["Runtime"] == stack.config.runtime
    assert fn["MemorySize"] == stack.config.memory_size
    assert fn["Timeout"] == stack.config.timeout
    assert fn["Architectures"] == [stack.config.architecture]
    assert fn["Handler"] == "app.handler.handler"
    assert fn["TracingConfig"] == {"Mode": stack.config.tracing}


def test_function_environment_is_the_contract(stack: StackUnderTest) -> None:
    variables = _function(stack)["Environment"]["Variables"]
    assert variables["ENVIRONMENT"] == stack.config.environment
    assert variables["METRICS_NAMESPACE"] == metrics.DEFAULT_NAMESPACE
    assert variables["APP_VERSION"] == tap.__version__


def test_function_logs_json_to_the_managed_log_group(stack: StackUnderTest) -> None:
    # The seed's bug: Lambda wrote to an unmanaged group with no retention (docs/design.md).
    name = stack.outputs["lambda_function_name"]
    logging_config = stack.logging_config(name)
    # Locally, moto drops LoggingConfig and the answer is what the deploy sent: it is held
    # to the document LOCAL_CONFIG must deploy, written out (the contract's defaults: INFO,
    # 14 days in Production), not to the stack's own reading of its config. A live stack
    # answers for itself, and is held to its Pulumi.<stack>.yaml.
    level = "INFO" if stack.target == "local" else stack.config.log_level
    retention = 14 if stack.target == "local" else stack.config.log_retention_days
    assert stack.outputs["cloudwatch_log_group"] == f"/aws/lambda/{name}"
    assert dict(logging_config) == {
        "LogFormat": "JSON",
        "LogGroup": f"/aws/lambda/{name}",
        # tap:logLevel is the function's own level (LOG_LEVEL); Lambda's stays at INFO or
        # DEBUG so the request's EMF line survives (docs/http-api.md rule 30)
        "ApplicationLogLevel": "DEBUG" if level == "DEBUG" else "INFO",
        # with the JSON format both levels are set; WARN is the system's most quiet level
        "SystemLogLevel": {"ERROR": "WARN"}.get(level, level),
    }
    assert _function(stack)["Environment"]["Variables"]["LOG_LEVEL"] == level
    group = _log_group(stack, f"/aws/lambda/{name}")
    assert group["retentionInDays"] == retention


# ---------------------------------------------------------------------------------------
# Role


def test_role_trusts_only_lambda(stack: StackUnderTest) -> None:
    role_name = stack.outputs["lambda_role_arn"].rsplit("/", 1)[1]
    document = stack.client("iam").get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(document, str):  # boto3 decodes it; keep the test independent of that
        document = json.loads(document)
    # A Sid is only a label; everything else must be exactly this one statement.
    statements = [{k: v for k, v in s.items() if k != "Sid"} for s in document["Statement"]]
    assert statements == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


def test_role_has_one_least_privilege_inline_policy(stack: StackUnderTest) -> None:
    iam = stack.client("iam")
    role_name = stack.outputs["lambda_role_arn"].rsplit("/", 1)[1]
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    assert len(names) == 1
    document = iam.get_role_policy(RoleName=role_name, PolicyName=names[0])["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    group_arn = _arn_without_star(_log_group(stack, stack.outputs["cloudwatch_log_group"]))
    statements = document["Statement"]
    actions = [
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert all("*" not in action for action in actions), actions
    logs = [s for s in statements if any(a.startswith("logs:") for a in s["Action"])]
    assert len(logs) == 1
    assert sorted(logs[0]["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = logs[0]["Resource"]
    resources = [resources] if isinstance(resources, str) else resources
    assert all(r.startswith(group_arn) for r in resources), (resources, group_arn)
    xray = [a for a in actions if a.startswith("xray:")]
    if stack.config.tracing == "Active":
        assert sorted(xray) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    else:
        assert xray == []


# ---------------------------------------------------------------------------------------
# API


def test_api_cors_is_the_configured_one(stack: StackUnderTest) -> None:
    cors = stack.client("apigatewayv2").get_api(ApiId=stack.outputs["api_gateway_id"])[
        "CorsConfiguration"
    ]
    expected = stack.config.cors
    assert cors["AllowOrigins"] == list(expected.allow_origins)
    assert sorted(cors["AllowMethods"]) == sorted(expected.allow_methods)
    assert sorted(h.lower() for h in cors["AllowHeaders"]) == sorted(expected.allow_headers)
    assert sorted(h.lower() for h in cors["ExposeHeaders"]) == sorted(expected.expose_headers)
    assert cors["MaxAge"] == expected.max_age
    assert cors.get("AllowCredentials", False) is expected.allow_credentials


def test_api_routes_are_the_route_table_all_on_one_lambda_integration(
    stack: StackUnderTest,
) -> None:
    from tap.function.routes import ROUTE_KEYS

    apigw = stack.client("apigatewayv2")
    api_id = stack.outputs["api_gateway_id"]
    routes = apigw.get_routes(ApiId=api_id)["Items"]
    assert sorted(r["RouteKey"] for r in routes) == sorted(ROUTE_KEYS)
    integrations = apigw.get_integrations(ApiId=api_id)["Items"]
    assert len(integrations) == 1
    integration = integrations[0]
    assert {r["Target"] for r in routes} == {f"integrations/{integration['IntegrationId']}"}
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    region, arn = stack.config.region, stack.outputs["lambda_function_arn"]
    assert integration["IntegrationUri"] in (
        arn,
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
    )


def test_stage_throttles_with_both_limits_and_writes_json_access_logs(
    stack: StackUnderTest,
) -> None:
    stage = stack.client("apigatewayv2").get_stage(
        ApiId=stack.outputs["api_gateway_id"], StageName="$default"
    )
    assert stage["AutoDeploy"] is True
    settings = stage["DefaultRouteSettings"]
    # Both set: one alone leaves the other 0 and every request gets 429 (docs/http-api.md 13).
    assert settings["ThrottlingBurstLimit"] == stack.config.throttling_burst_limit
    assert settings["ThrottlingRateLimit"] == stack.config.throttling_rate_limit
    access = stage["AccessLogSettings"]
    group = _log_group(stack, stack.outputs["api_access_log_group"])
    assert access["DestinationArn"].removesuffix(":*") == _arn_without_star(group)
    assert group["retentionInDays"] == stack.config.log_retention_days
    assert json.loads(access["Format"]) == ACCESS_LOG_FIELDS


def test_api_may_invoke_the_function_and_nothing_else_may(stack: StackUnderTest) -> None:
    policy = json.loads(
        stack.client("lambda").get_policy(FunctionName=stack.outputs["lambda_function_name"])[
            "Policy"
        ]
    )
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
    api_id = stack.outputs["api_gateway_id"]
    assert source.split("/", 1)[0].endswith(f":{api_id}")
    assert source.startswith(f"arn:aws:execute-api:{stack.config.region}:")


# ---------------------------------------------------------------------------------------
# Monitoring


def test_alarms_watch_this_function_and_api_and_notify_the_topic(
    stack: StackUnderTest,
) -> None:
    alarms = _our_alarms(stack)
    by_metric = {(a["Namespace"], a["MetricName"]): a for a in alarms}
    fn, api_id = stack.outputs["lambda_function_name"], stack.outputs["api_gateway_id"]
    for metric in ("Errors", "Duration", "Throttles"):
        alarm = by_metric[("AWS/Lambda", metric)]
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": fn}]
    # The HTTP API's metric is 5xx; 5XXError is the REST API's and never fires (rule 24).
    for metric in ("5xx", "Latency"):
        alarm = by_metric[("AWS/ApiGateway", metric)]
        assert {"Name": "ApiId", "Value": api_id} in alarm["Dimensions"]
    assert ("AWS/ApiGateway", "5XXError") not in by_metric
    assert by_metric[("AWS/Lambda", "Errors")]["Threshold"] == stack.config.error_alarm_threshold
    assert (
        by_metric[("AWS/Lambda", "Duration")]["Threshold"]
        == stack.config.duration_alarm_threshold_ms
    )
    topic = stack.outputs["alarm_topic_arn"]
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic], alarm["AlarmName"]
    topics = stack.client("sns").list_topics()["Topics"]
    assert {"TopicArn": topic} in topics


def test_dashboard_shows_this_stack_and_the_custom_metrics(stack: StackUnderTest) -> None:
    body = json.loads(
        stack.client("cloudwatch").get_dashboard(DashboardName=stack.outputs["dashboard_name"])[
            "DashboardBody"
        ]
    )
    text = json.dumps(body)
    assert stack.outputs["lambda_function_name"] in text
    assert stack.outputs["api_gateway_id"] in text
    metric_rows = [
        row for widget in body["widgets"] for row in widget.get("properties", {}).get("metrics", [])
    ]
    custom = {row[1] for row in metric_rows if row and row[0] == metrics.DEFAULT_NAMESPACE}
    assert custom, "no widget shows the function's custom metrics"
    assert custom <= set(metrics.METRICS), custom
    assert all(
        w["properties"].get("region", stack.config.region) == stack.config.region
        for w in body["widgets"]
        if w.get("type") == "metric"
    )


def test_every_resource_is_tagged_with_the_environment(stack: StackUnderTest) -> None:
    env = {"Environment": stack.config.environment}
    lam, apigw, logs = stack.client("lambda"), stack.client("apigatewayv2"), stack.client("logs")
    assert lam.list_tags(Resource=stack.outputs["lambda_function_arn"])["Tags"].items() >= (
        env.items()
    )
    assert apigw.get_api(ApiId=stack.outputs["api_gateway_id"])["Tags"].items() >= env.items()
    for name in (stack.outputs["cloudwatch_log_group"], stack.outputs["api_access_log_group"]):
        tags = logs.list_tags_for_resource(resourceArn=_arn_without_star(_log_group(stack, name)))
        assert tags["tags"].items() >= env.items(), name
    topic_tags = stack.client("sns").list_tags_for_resource(
        ResourceArn=stack.outputs["alarm_topic_arn"]
    )["Tags"]
    assert {"Key": "Environment", "Value": stack.config.environment} in topic_tags
