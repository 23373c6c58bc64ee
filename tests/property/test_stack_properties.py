"""Every valid configuration builds a stack whose invariants hold.

Each example runs the real program under Pulumi's mocks (about 0.1 s), so the property
runs a quarter of the profile's max_examples (conftest.py: `dev` 60, `ci` 40), at least 5.
"""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap import engine
from tap.config import LOG_RETENTION_DAYS, MAX_TIMEOUT_S, StackConfig, parse
from tap.function.routes import ROUTE_KEYS
from tap.outputs import OUTPUTS
from tests.contract_documents import ACCESS_LOG_FORMAT, execution_policy
from tests.pulumi_mocks import ProgramRun, RegisteredResource, run_program

MAX_EXAMPLES = max(5, settings.default.max_examples // 4)

ENVIRONMENTS = st.one_of(
    st.just("Production"),
    st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=32),
)
REGIONS = st.sampled_from(
    ["us-east-1", "us-west-2", "eu-west-2", "ap-southeast-2", "us-gov-west-1"]
)
# Ports at both ends of the range are drawn explicitly: uniform draws almost never hit them.
PORTS = st.one_of(st.just(""), st.sampled_from([1, 65535]).map(lambda p: f":{p}"))
PORTS = st.one_of(PORTS, st.integers(1, 65535).map(lambda p: f":{p}"))
HOSTS = st.one_of(
    st.sampled_from(["app.example.com", "localhost", "a.b.example"]),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True),
)
ORIGINS = st.lists(
    st.builds(lambda s, h, p: f"{s}://{h}{p}", st.sampled_from(["http", "https"]), HOSTS, PORTS),
    min_size=1,
    max_size=3,
    unique=True,
)
# Any allowed rate (0.01-10000 requests per second), as the text `pulumi config set` stores:
# the bounds, whole numbers, and fractions (repr uses no exponent in this range).
RATE_LIMITS = st.one_of(
    st.sampled_from(["0.01", "10000", "10000.0"]),
    st.integers(1, 10_000).map(str),
    st.floats(min_value=0.01, max_value=10_000, allow_nan=False).map(repr),
)
# Pulumi stack names: letters, digits, '-', '_', '.'; up to 100 characters.
STACK_NAMES = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=100)


@st.composite
def raw_configs(draw: st.DrawFn) -> dict[str, str]:
    """A valid raw config (strings, as Pulumi holds them); each key present or not."""
    raw: dict[str, str] = {}

    def maybe(key: str, strategy: st.SearchStrategy[str]) -> None:
        if draw(st.booleans()):
            raw[key] = draw(strategy)

    maybe("environment", ENVIRONMENTS)
    maybe("region", REGIONS)
    maybe("runtime", st.sampled_from(["python3.12", "python3.13", "python3.14"]))
    maybe("architecture", st.sampled_from(["arm64", "x86_64"]))
    maybe("memorySize", st.integers(128, 10240).map(str))
    timeout = draw(st.integers(1, MAX_TIMEOUT_S))
    if draw(st.booleans()):
        raw["timeout"] = str(timeout)
        maybe("durationAlarmThresholdMs", st.integers(1, timeout * 1000 - 1).map(str))
    maybe("logRetentionDays", st.sampled_from(LOG_RETENTION_DAYS).map(str))
    maybe("logLevel", st.sampled_from(["DEBUG", "INFO", "WARN", "ERROR"]))
    maybe("tracing", st.sampled_from(["Active", "PassThrough"]))
    maybe("reservedConcurrency", st.integers(1, 1000).map(str))
    maybe("throttlingBurstLimit", st.integers(1, 5000).map(str))
    maybe("throttlingRateLimit", RATE_LIMITS)
    maybe("alarmEmail", st.emails())
    maybe("errorAlarmThreshold", st.integers(0, 100).map(str))
    maybe("smokeCheck", st.sampled_from(["true", "false"]))
    if draw(st.booleans()):
        credentials = draw(st.booleans())
        origins = draw(ORIGINS) if credentials or draw(st.booleans()) else ["*"]
        cors = {"allowOrigins": origins, "allowCredentials": credentials}
        cors["maxAge"] = draw(st.integers(0, 86400))
        raw["cors"] = json.dumps(cors)
    return raw


def _one(run: ProgramRun, token: str) -> RegisteredResource:
    return run.one(token)


def assert_invariants(
    run: ProgramRun, config: StackConfig, stack: str, raw: dict[str, str]
) -> None:
    # one explicit provider, in the configured region, for every AWS resource
    [provider] = run.providers()
    assert provider.input("region") == config.region
    aws_resources = [r for r in run.custom_resources() if r.type.startswith("aws:")]
    assert all(run.provider_of(r) == provider for r in aws_resources)

    # every taggable resource carries the environment and the stack
    for resource in run.taggable_resources():
        tags = run.effective_tags(resource)
        assert tags["Environment"] == config.environment, resource.name
        assert tags["Stack"] == stack, resource.name

    # the function logs to the managed group, kept as configured
    function = _one(run, engine.LAMBDA_FUNCTION)
    groups = {g.input("name"): g for g in run.of_type(engine.LOG_GROUP)}
    group = groups[function.input("loggingConfig", "logGroup")]
    assert group.input("retentionInDays") == config.log_retention_days
    assert function.input("loggingConfig", "logFormat") == "JSON"
    assert run.depends_on(function, group)
    assert len(function.input("name")) <= 64
    assert len(_one(run, engine.IAM_ROLE).input("name")) <= 64

    # least privilege: no wildcard action; logs only on that group; X-Ray only when Active
    policy = json.loads(_one(run, engine.IAM_ROLE_POLICY).input("policy"))
    assert policy == execution_policy(group.outputs["arn"], raw.get("tracing", "Active"))
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert not [a for a in actions if "*" in a]
    assert any(a.startswith("xray:") for a in actions) == (config.tracing == "Active")

    # the API: routes from the table, both throttling limits, JSON access logs, scoped invoke
    routes = [r.input("routeKey") for r in run.of_type(engine.HTTP_API_ROUTE)]
    assert sorted(routes) == sorted(ROUTE_KEYS)
    stage = _one(run, engine.HTTP_API_STAGE)
    assert stage.input("defaultRouteSettings") == {
        "throttlingBurstLimit": config.throttling_burst_limit,
        "throttlingRateLimit": float(raw.get("throttlingRateLimit", "100")),
    }
    assert stage.input("accessLogSettings", "format") == ACCESS_LOG_FORMAT
    api_resource = _one(run, engine.HTTP_API)
    assert _one(run, engine.LAMBDA_PERMISSION).input("sourceArn") == (
        api_resource.outputs["executionArn"] + "/*/*"
    )
    assert api_resource.input("corsConfiguration", "allowOrigins") == list(
        config.cors.allow_origins
    )

    # alarms name this function and this API and notify the topic
    topic_arn = _one(run, engine.SNS_TOPIC).outputs["arn"]
    for alarm in run.of_type(engine.METRIC_ALARM):
        assert alarm.input("dimensions") in (
            {"FunctionName": function.input("name")},
            {"ApiId": api_resource.id},
        )
        assert alarm.input("alarmActions") == alarm.input("okActions") == [topic_arn]
    subscriptions = run.of_type(engine.SNS_SUBSCRIPTION)
    assert [s.input("endpoint") for s in subscriptions] == (
        [raw["alarmEmail"]] if "alarmEmail" in raw else []
    )

    # the dashboard is JSON naming the stack's region
    body = json.loads(_one(run, engine.DASHBOARD).input("dashboardBody"))
    assert {w["properties"]["region"] for w in body["widgets"]} == {config.region}

    # the outputs contract
    expected = set(OUTPUTS) if config.smoke_check else set(OUTPUTS) - {"smoke_check"}
    if config.auth is None or config.auth.type != "cognito":
        expected -= {"user_pool_id", "user_pool_client_id"}
    if config.auth is None:
        expected -= {"issuer"}
    if config.domain is None:
        expected -= {"custom_domain_url"}
    assert set(run.outputs) == expected
    assert run.output("environment_suffix") == config.environment
    assert run.output("region") == config.region
    assert run.output("memory_size") == config.memory_size
    assert run.output("timeout") == config.timeout
    assert run.output("runtime") == config.runtime


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=raw_configs(), stack=STACK_NAMES)
def test_every_valid_configuration_builds_a_stack_whose_invariants_hold(
    raw: dict[str, str], stack: str
) -> None:
    config = parse(raw)  # the strategy only makes valid configurations

    run = run_program(raw, stack=stack)

    assert_invariants(run, config, stack, raw)
