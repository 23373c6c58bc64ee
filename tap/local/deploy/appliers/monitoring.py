"""SNS and CloudWatch: the alarm topic and its subscription, the metric alarms, the
dashboard."""

from __future__ import annotations

from typing import Any

from tap import engine
from tap.local.deploy.appliers.arguments import Arg, Arguments
from tap.local.deploy.appliers.base import Context, applies, as_int, name_of, str_map, tag_list
from tap.local.deploy.resources import DeployError

topic_attributes = Arguments(
    Arg("displayName", "DisplayName", str, reset=""),
    Arg("kmsMasterKeyId", "KmsMasterKeyId", str),
    Arg("policy", "Policy", str, reset=""),
)


@applies(engine.SNS_TOPIC, "displayName", "kmsMasterKeyId", "name", "namePrefix", "policy")
def _topic(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    topic = ctx.client("sns").create_topic(
        Name=name, Attributes=topic_attributes(inputs), Tags=tag_list(ctx.tags_all)
    )
    arn = topic["TopicArn"]
    return arn, {"name": name, "arn": arn, "owner": ctx.account_id}


@applies(engine.SNS_SUBSCRIPTION, "endpoint", "protocol", "topic")
def _subscription(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
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


@applies(
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
def _metric_alarm(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    kwargs: dict[str, Any] = {
        "AlarmName": name,
        "ComparisonOperator": inputs["comparisonOperator"],
        "EvaluationPeriods": as_int(inputs["evaluationPeriods"]),
        "Tags": tag_list(ctx.tags_all),
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
            {"Name": k, "Value": v} for k, v in str_map(inputs["dimensions"]).items()
        ]
    if "metricQueries" in inputs:
        raise DeployError("metric-math alarms (metricQueries) are not supported in local mode")
    cloudwatch = ctx.client("cloudwatch")
    cloudwatch.put_metric_alarm(**kwargs)
    arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return name, {"name": name, "arn": arn}


@applies(engine.DASHBOARD, "dashboardBody", "dashboardName")
def _dashboard(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical, "dashboardName")
    cloudwatch = ctx.client("cloudwatch")
    cloudwatch.put_dashboard(DashboardName=name, DashboardBody=inputs["dashboardBody"])
    arn = cloudwatch.get_dashboard(DashboardName=name)["DashboardArn"]
    return name, {"dashboardName": name, "dashboardArn": arn}
