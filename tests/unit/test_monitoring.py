"""tap/monitoring.py's alarm definitions and dashboard body, as plain data."""

from __future__ import annotations

import json

import pytest

from tap import monitoring
from tap.function import metrics as function_metrics

BODY_ARGS = {
    "region": "eu-west-2",
    "function_name": "tap-dev-function",
    "api_id": "a1b2c3d4e5",
    "environment": "Staging",
    "duration_threshold_ms": 25000,
    "timeout_s": 29,
}


def _specs() -> dict[str, monitoring.AlarmSpec]:
    specs = monitoring.alarm_specs(error_threshold=3, duration_threshold_ms=25000, timeout_s=29)
    return {s.key: s for s in specs}


def test_there_is_one_alarm_each_for_errors_duration_throttles_5xx_and_latency() -> None:
    assert list(_specs()) == [
        "function-errors",
        "function-duration",
        "function-throttles",
        "api-5xx",
        "api-latency-p99",
    ]


def test_function_alarms_watch_lambda_metrics_with_the_configured_thresholds() -> None:
    specs = _specs()

    errors = specs["function-errors"]
    assert (errors.namespace, errors.metric_name, errors.statistic) == (
        "AWS/Lambda",
        "Errors",
        "Sum",
    )
    assert (errors.comparison, errors.threshold) == ("GreaterThanThreshold", 3.0)
    duration = specs["function-duration"]
    assert (duration.metric_name, duration.extended_statistic, duration.statistic) == (
        "Duration",
        "p99",
        None,
    )
    assert duration.threshold == 25000.0
    throttles = specs["function-throttles"]
    assert (throttles.metric_name, throttles.comparison, throttles.threshold) == (
        "Throttles",
        "GreaterThanThreshold",
        0.0,
    )
    assert {errors.target, duration.target, throttles.target} == {"function"}


def test_api_alarms_use_the_http_api_metric_names() -> None:
    specs = _specs()

    five_xx = specs["api-5xx"]
    # "5XXError" is the REST API's name: an alarm on it never fires (docs/http-api.md rule 24)
    assert (five_xx.namespace, five_xx.metric_name, five_xx.statistic) == (
        "AWS/ApiGateway",
        "5xx",
        "Sum",
    )
    latency = specs["api-latency-p99"]
    assert (latency.metric_name, latency.extended_statistic) == ("Latency", "p99")
    assert latency.threshold == monitoring.API_P99_LATENCY_THRESHOLD_MS
    assert {five_xx.target, latency.target} == {"api"}


def test_each_alarm_has_exactly_one_kind_of_statistic() -> None:
    for spec in _specs().values():
        assert (spec.statistic is None) != (spec.extended_statistic is None), spec.key
        assert 1 <= spec.datapoints_to_alarm <= spec.evaluation_periods, spec.key


def test_the_latency_alarm_is_never_looser_than_the_duration_alarm() -> None:
    assert monitoring.api_latency_threshold_ms(1000) == 1000
    assert monitoring.api_latency_threshold_ms(25000) == monitoring.API_P99_LATENCY_THRESHOLD_MS


@pytest.mark.parametrize(
    ("target", "expected"),
    [("function", {"FunctionName": "fn"}), ("api", {"ApiId": "a1b2c3d4e5"})],
)
def test_alarm_dimensions_name_the_function_or_the_api(target: str, expected: dict) -> None:
    assert monitoring.alarm_dimensions(target, "fn", "a1b2c3d4e5") == expected  # type: ignore[arg-type]


def _metric_widgets(body: dict) -> list[dict]:
    return [w for w in body["widgets"] if w["type"] == "metric"]


def test_the_dashboard_body_is_json_and_every_widget_names_the_stacks_region() -> None:
    text = monitoring.dashboard_body_json(**BODY_ARGS)

    body = json.loads(text)
    widgets = _metric_widgets(body)
    assert len(widgets) == len(body["widgets"]) >= 5
    assert {w["properties"]["region"] for w in widgets} == {"eu-west-2"}


def test_the_dashboard_shows_this_function_and_this_api() -> None:
    body = monitoring.dashboard_body(**BODY_ARGS)

    lines = [m for w in _metric_widgets(body) for m in w["properties"]["metrics"]]
    lambda_lines = [m for m in lines if m[0] == "AWS/Lambda"]
    api_lines = [m for m in lines if m[0] == "AWS/ApiGateway"]
    assert {tuple(m[2:4]) for m in lambda_lines} == {("FunctionName", "tap-dev-function")}
    assert {tuple(m[2:4]) for m in api_lines} == {("ApiId", "a1b2c3d4e5")}
    assert {m[1] for m in api_lines} >= {"Count", "4xx", "5xx", "Latency"}
    assert {m[1] for m in lambda_lines} >= {"Invocations", "Errors", "Throttles", "Duration"}


def test_the_dashboard_shows_every_custom_metric_the_function_emits() -> None:
    body = monitoring.dashboard_body(**BODY_ARGS)

    lines = [m for w in _metric_widgets(body) for m in w["properties"]["metrics"]]
    custom = [m for m in lines if m[0] == function_metrics.DEFAULT_NAMESPACE]
    assert {m[1] for m in custom} == set(function_metrics.METRICS)
    # the dimension the function writes (EMF), with this stack's environment
    assert {tuple(m[2:4]) for m in custom} == {("Environment", "Staging")}


def test_widgets_are_laid_out_without_overlap() -> None:
    body = monitoring.dashboard_body(**BODY_ARGS)

    cells = [(w["x"], w["y"]) for w in body["widgets"]]
    assert len(set(cells)) == len(cells)
    assert all(w["x"] + w["width"] <= 24 for w in body["widgets"])
