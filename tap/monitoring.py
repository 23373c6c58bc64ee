"""Monitoring layer: the SNS alarm topic (and its email subscription), the alarms, and the
dashboard.

The alarm definitions and the dashboard body are built by pure functions (tested directly
in tests/unit/test_monitoring.py); the component only turns them into resources.

HTTP API metrics are ``Count``/``4xx``/``5xx``/``Latency``/``IntegrationLatency`` in
``AWS/ApiGateway`` with the dimension ``ApiId``; ``5XXError`` is the REST API's name and an
alarm on it would never fire (docs/http-api.md rule 24).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from tap.function import metrics as function_metrics

LAMBDA_NAMESPACE = "AWS/Lambda"
API_NAMESPACE = "AWS/ApiGateway"
PERIOD_S = 60
# treat missing data as "not breaching": no traffic is not an incident, and an alarm that
# sits in INSUFFICIENT_DATA all night teaches people to ignore it.
TREAT_MISSING_DATA = "notBreaching"
# The API's p99 latency alarm. Not a config key: the function does little work, its cold
# start is well under a second, so a p99 above 2.5 s for 3 of 5 minutes means something
# beyond cold starts (a slow dependency, a function near its timeout). It never exceeds the
# duration alarm's threshold: the API cannot be faster than the function it waits for.
API_P99_LATENCY_THRESHOLD_MS = 2500

Target = Literal["function", "api"]


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm, independent of Pulumi: what to watch and when to fire."""

    key: str  # suffix of the alarm's name and logical name
    target: Target  # whose dimension: the function's FunctionName or the API's ApiId
    namespace: str
    metric_name: str
    comparison: str
    threshold: float
    description: str
    statistic: str | None = None  # Sum, Maximum...
    extended_statistic: str | None = None  # p99...
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    period: int = PERIOD_S


def api_latency_threshold_ms(duration_alarm_threshold_ms: int) -> int:
    return min(API_P99_LATENCY_THRESHOLD_MS, duration_alarm_threshold_ms)


def alarm_specs(
    *, error_threshold: int, duration_threshold_ms: int, timeout_s: int
) -> tuple[AlarmSpec, ...]:
    """The stack's alarms. Thresholds come from the validated config."""
    latency_ms = api_latency_threshold_ms(duration_threshold_ms)
    return (
        AlarmSpec(
            key="function-errors",
            target="function",
            namespace=LAMBDA_NAMESPACE,
            metric_name="Errors",
            statistic="Sum",
            comparison="GreaterThanThreshold",
            threshold=float(error_threshold),
            description=f"More than {error_threshold} function errors (uncaught exceptions, "
            "timeouts, crashes) in a minute",
        ),
        AlarmSpec(
            key="function-duration",
            target="function",
            namespace=LAMBDA_NAMESPACE,
            metric_name="Duration",
            # p99, not Maximum: one cold start is not an incident; 3 of 5 minutes is.
            extended_statistic="p99",
            comparison="GreaterThanThreshold",
            threshold=float(duration_threshold_ms),
            evaluation_periods=5,
            datapoints_to_alarm=3,
            description=f"Function p99 duration above {duration_threshold_ms} ms (timeout "
            f"{timeout_s} s) in 3 of 5 minutes: requests are close to being cut off",
        ),
        AlarmSpec(
            key="function-throttles",
            target="function",
            namespace=LAMBDA_NAMESPACE,
            metric_name="Throttles",
            statistic="Sum",
            comparison="GreaterThanThreshold",
            threshold=0.0,
            description="The function was throttled: its concurrency limit was reached and "
            "clients got errors",
        ),
        AlarmSpec(
            key="api-5xx",
            target="api",
            namespace=API_NAMESPACE,
            metric_name="5xx",  # the HTTP API's name; 5XXError is the REST API's
            statistic="Sum",
            comparison="GreaterThanThreshold",
            threshold=float(error_threshold),
            description=f"More than {error_threshold} 5xx responses from the API in a minute "
            "(function errors, handled 500s, integration timeouts)",
        ),
        AlarmSpec(
            key="api-latency-p99",
            target="api",
            namespace=API_NAMESPACE,
            metric_name="Latency",
            extended_statistic="p99",
            comparison="GreaterThanThreshold",
            threshold=float(latency_ms),
            evaluation_periods=5,
            datapoints_to_alarm=3,
            description=f"API p99 latency above {latency_ms} ms in 3 of 5 minutes",
        ),
    )


def alarm_dimensions(target: Target, function_name: str, api_id: str) -> dict[str, str]:
    if target == "function":
        return {"FunctionName": function_name}
    return {"ApiId": api_id}


# ---------------------------------------------------------------------------------------
# The dashboard body.

_WIDTH, _HEIGHT = 12, 6


def _stat_for_unit(unit: str) -> str:
    return "p99" if unit == "Milliseconds" else "Sum"


def dashboard_body(
    *,
    region: str,
    function_name: str,
    api_id: str,
    environment: str,
    metrics_namespace: str = function_metrics.DEFAULT_NAMESPACE,
    duration_threshold_ms: int,
    timeout_s: int,
) -> dict[str, Any]:
    """The dashboard: the function, the API and the function's custom (EMF) metrics.

    Every metric widget names its region: a widget without one shows the region the
    console happens to be in, not the stack's.
    """
    fn = ["FunctionName", function_name]
    api = ["ApiId", api_id]
    custom_dims = [v for d in function_metrics.DIMENSIONS for v in (d, environment)]
    counts = [n for n, u in function_metrics.METRICS.items() if u != "Milliseconds"]
    timings = [n for n, u in function_metrics.METRICS.items() if u == "Milliseconds"]
    latency_ms = api_latency_threshold_ms(duration_threshold_ms)

    def widget(title: str, metrics: list[list[Any]], stat: str, **extra: Any) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "period": PERIOD_S,
            "stat": stat,
            "metrics": metrics,
        }
        properties.update(extra)
        return {"type": "metric", "width": _WIDTH, "height": _HEIGHT, "properties": properties}

    def lines(**values: float) -> dict[str, Any]:
        return {
            "horizontal": [{"label": k.replace("_", " "), "value": v} for k, v in values.items()]
        }

    widgets = [
        widget(
            "Function: invocations, errors, throttles",
            [
                [LAMBDA_NAMESPACE, "Invocations", *fn],
                [LAMBDA_NAMESPACE, "Errors", *fn],
                [LAMBDA_NAMESPACE, "Throttles", *fn],
            ],
            "Sum",
        ),
        widget(
            "Function: duration (ms)",
            [
                [LAMBDA_NAMESPACE, "Duration", *fn, {"stat": "p50"}],
                [LAMBDA_NAMESPACE, "Duration", *fn, {"stat": "p99"}],
                [LAMBDA_NAMESPACE, "Duration", *fn, {"stat": "Maximum"}],
            ],
            "p99",
            annotations=lines(duration_alarm=duration_threshold_ms, timeout=timeout_s * 1000),
        ),
        widget(
            "Function: concurrent executions",
            [[LAMBDA_NAMESPACE, "ConcurrentExecutions", *fn]],
            "Maximum",
        ),
        widget(
            "API: requests, 4xx, 5xx",
            [
                [API_NAMESPACE, "Count", *api],
                [API_NAMESPACE, "4xx", *api],
                [API_NAMESPACE, "5xx", *api],
            ],
            "Sum",
        ),
        widget(
            "API: latency (ms)",
            [
                [API_NAMESPACE, "Latency", *api, {"stat": "p50"}],
                [API_NAMESPACE, "Latency", *api, {"stat": "p99"}],
                [API_NAMESPACE, "IntegrationLatency", *api, {"stat": "p99"}],
            ],
            "p99",
            annotations=lines(latency_alarm=latency_ms),
        ),
        widget(
            f"Function metrics ({metrics_namespace}): counts",
            [[metrics_namespace, name, *custom_dims] for name in counts],
            "Sum",
        ),
        widget(
            f"Function metrics ({metrics_namespace}): handler latency (ms)",
            [
                [metrics_namespace, name, *custom_dims, {"stat": stat}]
                for name in timings
                for stat in ("p50", "p99")
            ],
            _stat_for_unit("Milliseconds"),
        ),
    ]
    for i, w in enumerate(widgets):
        w["x"], w["y"] = (i % 2) * _WIDTH, (i // 2) * _HEIGHT
    return {"widgets": widgets}


def dashboard_body_json(**kwargs: Any) -> str:
    return json.dumps(dashboard_body(**kwargs), sort_keys=True)


@dataclass(frozen=True)
class MonitoringArgs:
    topic_name: str
    """Physical name of the alarm topic."""
    alarm_name_prefix: str
    """Alarm names are ``<prefix>-<alarm key>``."""
    dashboard_name: str
    region: str
    """The stack's region: named by every dashboard widget."""
    environment: str
    """Dimension value of the function's custom metrics."""
    function_name: pulumi.Input[str]
    api_id: pulumi.Input[str]
    error_threshold: int
    duration_threshold_ms: int
    timeout_s: int
    alarm_email: str | None = None
    """Subscribed to the topic (protocol email; AWS sends a confirmation first)."""
    metrics_namespace: str = function_metrics.DEFAULT_NAMESPACE
    tags: Mapping[str, str] = field(default_factory=dict)
    """Own tags of the topic and the alarms (the provider adds the defaults)."""


class Monitoring(pulumi.ComponentResource):
    """Alarm topic, alarms on the function and the API, and the dashboard."""

    topic: aws.sns.Topic
    subscription: aws.sns.TopicSubscription | None
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    dashboard: aws.cloudwatch.Dashboard

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tap:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        # Not encrypted with the AWS-managed aws/sns key on purpose: CloudWatch cannot
        # publish to a topic encrypted with it (only a customer-managed key whose policy
        # allows cloudwatch.amazonaws.com works). Alarm notifications carry no secrets.
        self.topic = aws.sns.Topic(f"{name}-alarms", name=args.topic_name, tags=tags, opts=child)
        self.subscription = None
        if args.alarm_email is not None:
            self.subscription = aws.sns.TopicSubscription(
                f"{name}-alarm-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.alarm_email,
                opts=child,
            )

        function_name = pulumi.Output.from_input(args.function_name)
        api_id = pulumi.Output.from_input(args.api_id)
        dimensions = {
            "function": function_name.apply(lambda n: alarm_dimensions("function", n, "")),
            "api": api_id.apply(lambda i: alarm_dimensions("api", "", i)),
        }
        self.alarms = {}
        specs = alarm_specs(
            error_threshold=args.error_threshold,
            duration_threshold_ms=args.duration_threshold_ms,
            timeout_s=args.timeout_s,
        )
        for spec in specs:
            self.alarms[spec.key] = aws.cloudwatch.MetricAlarm(
                f"{name}-{spec.key}",
                name=f"{args.alarm_name_prefix}-{spec.key}",
                alarm_description=spec.description,
                namespace=spec.namespace,
                metric_name=spec.metric_name,
                dimensions=dimensions[spec.target],
                statistic=spec.statistic,
                extended_statistic=spec.extended_statistic,
                comparison_operator=spec.comparison,
                threshold=spec.threshold,
                period=spec.period,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                treat_missing_data=TREAT_MISSING_DATA,
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                tags=tags,
                opts=child,
            )

        region, environment = args.region, args.environment
        namespace, timeout_s = args.metrics_namespace, args.timeout_s
        duration_ms = args.duration_threshold_ms
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=pulumi.Output.all(function_name, api_id).apply(
                lambda values: dashboard_body_json(
                    region=region,
                    function_name=values[0],
                    api_id=values[1],
                    environment=environment,
                    metrics_namespace=namespace,
                    duration_threshold_ms=duration_ms,
                    timeout_s=timeout_s,
                )
            ),
            opts=child,
        )
        self.register_outputs(
            {
                "topic_arn": self.topic.arn,
                "dashboard_name": self.dashboard.dashboard_name,
                "alarms": [a.name for a in self.alarms.values()],
            }
        )
