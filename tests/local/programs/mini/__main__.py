"""A small program using the real pulumi_aws classes; ``mini:break`` breaks one reference.

Knobs (config namespace ``mini``): ``break`` = integrationUri | routeTarget | alarmDimension
| alarmAction | accessLogDestination | permissionSource | logGroup; ``extra`` = unknownType |
unknownInput; ``smoke`` = pass | fail (adds a dynamic resource whose create calls the API);
``burst`` and ``rate``: the stage's throttling (default 50 and 25.5).
"""

import json

import pulumi
import pulumi_aws as aws

from tap.api import access_log_format
from tests.local.programs.mini_smoke import Probe

mini = pulumi.Config("mini")
broken = mini.get("break") or ""
extra = mini.get("extra") or ""
smoke = mini.get("smoke") or ""

provider = aws.Provider(
    "aws",
    region="us-east-1",
    default_tags=aws.ProviderDefaultTagsArgs(tags={"Environment": "Production"}),
)
opts = pulumi.ResourceOptions(provider=provider)

group = aws.cloudwatch.LogGroup(
    "fn-logs", name="/aws/lambda/mini-fn", retention_in_days=14, opts=opts
)
access = aws.cloudwatch.LogGroup(
    "access-logs", name="/aws/apigateway/mini", retention_in_days=7, opts=opts
)
role = aws.iam.Role(
    "role",
    name="mini-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    ),
    opts=opts,
)
aws.iam.RolePolicy(
    "policy",
    role=role.name,
    policy=group.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{arn}:*",
                    }
                ],
            }
        )
    ),
    opts=opts,
)
HANDLER = """
import json, logging, os
def handler(event, context):
    if event.get("rawPath") == "/boom":
        raise RuntimeError("boom on purpose")
    logging.getLogger().info("handled %s", event["rawPath"])
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"path": event["rawPath"], "env": os.environ.get("ENVIRONMENT")})}
"""
fn = aws.lambda_.Function(
    "fn",
    name="mini-fn",
    role=role.arn,
    runtime="python3.13",
    handler="app.handler.handler",
    code=pulumi.AssetArchive(
        {"app/handler.py": pulumi.StringAsset(HANDLER), "app/__init__.py": pulumi.StringAsset("")}
    ),
    memory_size=256,
    timeout=10,
    architectures=["arm64"],
    environment=aws.lambda_.FunctionEnvironmentArgs(
        variables={"ENVIRONMENT": pulumi.Output.secret("Production")}
    ),
    logging_config=aws.lambda_.FunctionLoggingConfigArgs(
        log_format="JSON",
        log_group="/aws/lambda/missing" if broken == "logGroup" else group.name,
        application_log_level="INFO",
        system_log_level="WARN",
    ),
    opts=pulumi.ResourceOptions(provider=provider, depends_on=[group]),
)
api = aws.apigatewayv2.Api(
    "api",
    name="mini-api",
    protocol_type="HTTP",
    cors_configuration=aws.apigatewayv2.ApiCorsConfigurationArgs(
        allow_origins=["https://app.example.com"],
        allow_methods=["GET", "POST"],
        allow_headers=["content-type"],
        expose_headers=["x-request-id"],
        max_age=300,
    ),
    opts=opts,
)
integration = aws.apigatewayv2.Integration(
    "integration",
    api_id=api.id,
    integration_type="AWS_PROXY",
    integration_uri="arn:aws:lambda:us-east-1:123456789012:function:nope"
    if broken == "integrationUri"
    else fn.invoke_arn,
    integration_method="POST",
    payload_format_version="2.0",
    timeout_milliseconds=29000,
    opts=opts,
)
routes = [
    aws.apigatewayv2.Route(
        f"route-{i}",
        api_id=api.id,
        route_key=key,
        target=pulumi.Output.concat(
            "integrations/", "nope" if broken == "routeTarget" else integration.id
        ),
        opts=opts,
    )
    for i, key in enumerate(["GET /health", "POST /{proxy+}"])
]
stage = aws.apigatewayv2.Stage(
    "stage",
    api_id=api.id,
    name="$default",
    auto_deploy=True,
    default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
        throttling_burst_limit=int(mini.get("burst") or 50),
        throttling_rate_limit=float(mini.get("rate") or 25.5),
    ),
    access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
        destination_arn=access.arn.apply(lambda a: a + "-gone")
        if broken == "accessLogDestination"
        else access.arn,
        format=access_log_format(),
    ),
    opts=opts,
)
aws.lambda_.Permission(
    "permission",
    action="lambda:InvokeFunction",
    function=fn.name,
    principal="apigateway.amazonaws.com",
    statement_id="AllowApi",
    source_arn=pulumi.Output.concat(
        "arn:aws:execute-api:us-east-1:123456789012:other"
        if broken == "permissionSource"
        else api.execution_arn,
        "/*/*",
    ),
    opts=opts,
)
topic = aws.sns.Topic("alarms", name="mini-alarms", opts=opts)
aws.sns.TopicSubscription(
    "email", topic=topic.arn, protocol="email", endpoint="ops@example.com", opts=opts
)
aws.cloudwatch.MetricAlarm(
    "errors",
    name="mini-errors",
    namespace="AWS/Lambda",
    metric_name="Errors",
    statistic="Sum",
    period=60,
    evaluation_periods=1,
    threshold=3,
    comparison_operator="GreaterThanThreshold",
    dimensions={"FunctionName": "other-fn" if broken == "alarmDimension" else fn.name},
    alarm_actions=["arn:aws:sns:us-east-1:123456789012:gone"]
    if broken == "alarmAction"
    else [topic.arn],
    opts=opts,
)
aws.cloudwatch.Dashboard(
    "dashboard",
    dashboard_name="mini",
    dashboard_body=fn.name.apply(
        lambda n: json.dumps(
            {
                "widgets": [
                    {
                        "type": "metric",
                        "x": 0,
                        "y": 0,
                        "width": 6,
                        "height": 6,
                        "properties": {
                            "metrics": [["AWS/Lambda", "Invocations", "FunctionName", n]],
                            "region": "us-east-1",
                        },
                    }
                ]
            }
        )
    ),
    opts=opts,
)
if extra == "unknownType":
    aws.s3.BucketV2("bucket", opts=opts)
if extra == "unknownInput":
    aws.sns.Topic("fifo", name="mini.fifo", fifo_topic=True, opts=opts)
if smoke:
    probe = Probe(
        "probe",
        url=stage.invoke_url,
        expect_status=200 if smoke == "pass" else 418,
        opts=pulumi.ResourceOptions(depends_on=[*routes, stage]),
    )
    pulumi.export("probe_status", probe.status)

pulumi.export("url", stage.invoke_url)
pulumi.export("function_name", fn.name)
pulumi.export("function_arn", fn.arn)
pulumi.export("invoke_arn", fn.invoke_arn)
pulumi.export("api_id", api.id)
pulumi.export("execution_arn", api.execution_arn)
pulumi.export("topic_arn", topic.arn)
pulumi.export("secret", pulumi.Output.secret("s3cret"))
