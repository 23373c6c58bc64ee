"""Properties of tap.config: every valid configuration loads as given, every invalid value is
refused naming its key, its value and what is allowed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tap import config as c

# ---------------------------------------------------------------------------------------
# Strategies for valid values, as typed Python values; `as_raw` turns them into the strings
# Pulumi config holds.

ENVIRONMENTS = st.one_of(
    st.just("Production"),
    st.from_regex(r"[A-Za-z0-9-]{1,32}", fullmatch=True),
)
REGIONS = st.sampled_from(
    [
        "us-east-1",
        "us-west-2",
        "eu-west-1",
        "eu-central-2",
        "ap-southeast-2",
        "us-gov-west-1",
        "cn-north-1",
        "il-central-1",
        "mx-central-1",
    ]
)
HOSTS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True)
ORIGINS = st.builds(
    lambda scheme, host, port: f"{scheme}://{host}{port}",
    st.sampled_from(["http", "https"]),
    HOSTS,
    # both ends of the port range explicitly: uniform draws almost never hit them
    st.one_of(st.just(""), st.sampled_from([1, 65535]), st.integers(1, 65535)).map(
        lambda p: p if p == "" else f":{p}"
    ),
)
HEADER_NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)


@st.composite
def cors_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A partial or full cors object; fields left out keep their defaults."""
    obj: dict[str, Any] = {}
    credentials = draw(st.booleans())
    if draw(st.booleans()) or credentials:
        if credentials:
            obj["allowOrigins"] = draw(st.lists(ORIGINS, min_size=1, max_size=3, unique=True))
            obj["allowCredentials"] = True
        else:
            obj["allowOrigins"] = draw(
                st.one_of(st.just(["*"]), st.lists(ORIGINS, min_size=1, max_size=3, unique=True))
            )
    if draw(st.booleans()):
        obj["allowMethods"] = draw(
            st.lists(st.sampled_from(c.CORS_METHODS), min_size=1, max_size=4, unique=True)
        )
    if draw(st.booleans()):
        obj["allowHeaders"] = draw(st.lists(HEADER_NAMES, max_size=4, unique=True))
    if draw(st.booleans()):
        obj["exposeHeaders"] = draw(st.lists(HEADER_NAMES, max_size=3, unique=True))
    if draw(st.booleans()):
        obj["maxAge"] = draw(st.integers(0, c.MAX_CORS_MAX_AGE_S))
    if not credentials and draw(st.booleans()):
        obj["allowCredentials"] = False
    return obj


@st.composite
def valid_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid configuration: each key present or absent, present ones with valid values."""
    values: dict[str, Any] = {}

    def maybe(key: str, strategy: st.SearchStrategy[Any]) -> None:
        if draw(st.booleans()):
            values[key] = draw(strategy)

    maybe("environment", ENVIRONMENTS)
    maybe("region", REGIONS)
    maybe("runtime", st.sampled_from(c.RUNTIMES))
    maybe("architecture", st.sampled_from(c.ARCHITECTURES))
    maybe("memorySize", st.integers(c.MIN_MEMORY_MB, c.MAX_MEMORY_MB))
    maybe("timeout", st.integers(1, c.MAX_TIMEOUT_S))
    maybe("logRetentionDays", st.sampled_from(c.LOG_RETENTION_DAYS))
    maybe("logLevel", st.sampled_from(c.LOG_LEVELS))
    maybe("tracing", st.sampled_from(c.TRACING_MODES))
    maybe("reservedConcurrency", st.integers(1, 1000))
    maybe("cors", cors_objects())
    maybe("throttlingBurstLimit", st.integers(1, c.MAX_BURST_LIMIT))
    maybe(
        "throttlingRateLimit",
        st.floats(min_value=c.MIN_RATE_LIMIT, max_value=c.MAX_RATE_LIMIT, allow_nan=False),
    )
    maybe("alarmEmail", st.emails())
    maybe("errorAlarmThreshold", st.integers(0, 10_000))
    timeout = values.get("timeout", c.MAX_TIMEOUT_S)
    maybe("durationAlarmThresholdMs", st.integers(1, timeout * 1000 - 1))
    maybe("smokeCheck", st.booleans())
    maybe("smokeCheckTimeoutSeconds", st.integers(c.MIN_SMOKE_TIMEOUT_S, c.MAX_SMOKE_TIMEOUT_S))
    return values


def as_raw(values: dict[str, Any]) -> dict[str, str]:
    """The strings Pulumi config holds: objects as JSON, booleans as true/false."""
    raw = {}
    for key, value in values.items():
        if isinstance(value, bool):
            raw[key] = "true" if value else "false"
        elif isinstance(value, dict):
            raw[key] = json.dumps(value)
        else:
            raw[key] = str(value) if not isinstance(value, float) else repr(value)
    return raw


def _expected_cors(obj: dict[str, Any] | None) -> c.CorsConfig:
    default = c.CorsConfig()
    obj = obj or {}
    return c.CorsConfig(
        allow_origins=tuple(obj.get("allowOrigins", default.allow_origins)),
        allow_methods=tuple(obj.get("allowMethods", default.allow_methods)),
        allow_headers=tuple(obj.get("allowHeaders", default.allow_headers)),
        expose_headers=tuple(obj.get("exposeHeaders", default.expose_headers)),
        max_age=obj.get("maxAge", default.max_age),
        allow_credentials=obj.get("allowCredentials", default.allow_credentials),
    )


@given(valid_configs())
def test_every_valid_configuration_loads_to_the_values_given_or_the_defaults(
    values: dict[str, Any],
) -> None:
    loaded = c.parse(as_raw(values))

    environment = values.get("environment", "Production")
    timeout = values.get("timeout", 29)
    production = environment == "Production"
    assert loaded.environment == environment
    assert loaded.region == values.get("region", "us-east-1")
    assert loaded.runtime == values.get("runtime", "python3.13")
    assert loaded.architecture == values.get("architecture", "arm64")
    assert loaded.memory_size == values.get("memorySize", 512)
    assert loaded.timeout == timeout
    assert loaded.log_retention_days == values.get("logRetentionDays", 14 if production else 30)
    assert loaded.log_level == values.get("logLevel", "INFO")
    assert loaded.tracing == values.get("tracing", "Active")
    assert loaded.reserved_concurrency == values.get("reservedConcurrency")
    assert loaded.cors == _expected_cors(values.get("cors"))
    assert loaded.throttling_burst_limit == values.get("throttlingBurstLimit", 200)
    assert loaded.throttling_rate_limit == values.get("throttlingRateLimit", 100.0)
    assert loaded.alarm_email == values.get("alarmEmail")
    assert loaded.error_alarm_threshold == values.get("errorAlarmThreshold", 3 if production else 5)
    default_duration = timeout * 1000 * (25 if production else 28) // 29
    assert loaded.duration_alarm_threshold_ms == values.get(
        "durationAlarmThresholdMs", default_duration
    )
    assert loaded.duration_alarm_threshold_ms < loaded.timeout * 1000
    assert loaded.smoke_check == values.get("smokeCheck", True)
    assert loaded.smoke_check_timeout_seconds == values.get("smokeCheckTimeoutSeconds", 120)


def test_no_configuration_at_all_gives_the_contracts_defaults() -> None:
    loaded = c.parse({})

    assert loaded == c.StackConfig()
    assert (loaded.timeout, loaded.log_retention_days, loaded.duration_alarm_threshold_ms) == (
        29,
        14,
        25000,
    )
    assert loaded.cors.allow_origins == ("*",)
    assert loaded.cors.allow_credentials is False


# ---------------------------------------------------------------------------------------
# Invalid values: for every key, a strategy of values that must be refused, and the text of
# what is allowed that the error must quote.

TEXT = st.text(max_size=12)
NOT_INTEGERS = st.one_of(
    st.sampled_from(
        # int() takes the last seven; only ASCII digits are a whole number here.
        [
            *("", "abc", "1.5", "1e3", "0x10", "true", "[]", "1_024", "+512", "512\u00a0"),
            *(" 512", "\uff15\uff11\uff12", "\u0665\u0661\u0662", "\u0e55\u0e51\u0e52"),
        ]
    ),
    st.text(alphabet="abc.,!", min_size=1, max_size=5),
)


def _outside(low: int, high: int | None) -> st.SearchStrategy[str]:
    below = st.integers(max_value=low - 1)
    if high is None:
        return below.map(str)
    return st.one_of(below, st.integers(min_value=high + 1)).map(str)


INVALID: dict[str, tuple[st.SearchStrategy[str], str]] = {
    "environment": (
        st.one_of(
            st.just(""),
            st.text(min_size=33, max_size=40, alphabet="ab-1"),
            st.text(min_size=1, max_size=8).filter(
                lambda s: any(not (ch.isascii() and (ch.isalnum() or ch == "-")) for ch in s)
            ),
        ),
        "1-32 of [A-Za-z0-9-]",
    ),
    "region": (
        st.sampled_from(
            ["", "US-EAST-1", "us-east", "useast1", "us-east-1a", "mars-1", "eu_west_1"]
        ),
        "an AWS region name",
    ),
    "runtime": (TEXT.filter(lambda s: s not in c.RUNTIMES), "one of python3.12, python3.13"),
    "architecture": (TEXT.filter(lambda s: s not in c.ARCHITECTURES), "one of arm64, x86_64"),
    "memorySize": (st.one_of(NOT_INTEGERS, _outside(128, 10240)), "128-10240"),
    "timeout": (st.one_of(NOT_INTEGERS, _outside(1, 29)), "1-29"),
    "logRetentionDays": (
        st.integers(-5, 4000).filter(lambda d: d not in c.LOG_RETENTION_DAYS).map(str),
        "one of 1, 3, 5, 7, 14, 30",
    ),
    "logLevel": (TEXT.filter(lambda s: s not in c.LOG_LEVELS), "one of DEBUG, INFO, WARN, ERROR"),
    "tracing": (TEXT.filter(lambda s: s not in c.TRACING_MODES), "one of Active, PassThrough"),
    "reservedConcurrency": (st.one_of(NOT_INTEGERS, _outside(1, None)), ">= 1"),
    "throttlingBurstLimit": (st.one_of(NOT_INTEGERS, _outside(1, 5000)), "1-5000"),
    "throttlingRateLimit": (
        st.one_of(
            st.sampled_from(
                [
                    *("0", "-1", "nan", "inf", "abc", "", "10000.5", "5e-324", "1e-300"),
                    *("0.009", "1_0", "+5", "1e999", "\uff15", "5\u00a0", "Infinity", "0x10"),
                ]
            ),
            st.floats(max_value=c.MIN_RATE_LIMIT, exclude_max=True, allow_nan=False).map(repr),
            st.floats(min_value=10000.001, allow_infinity=False).map(repr),
        ),
        "a number 0.01-10000 in ASCII digits",
    ),
    "alarmEmail": (
        st.one_of(
            st.sampled_from(
                [
                    *("", "ops", "ops@", "@example.com", "ops@example", "a b@example.com"),
                    *("ops\x00@example.com", '"><img src=x>@example.com', "<ops@example.com>"),
                    *("ops@-example.com", "ops@example-.com", "ops..x@example.com", ".o@ex.com"),
                    *("ops@exa_mple.com", "ops\n@example.com", "öps@example.com"),
                    "o" * 65 + "@example.com",
                ]
            ),
            # any control character anywhere in an otherwise valid address
            st.builds(
                lambda ch, at: "ops@example.com"[:at] + ch + "ops@example.com"[at:],
                st.characters(categories=["Cc"]),
                st.integers(0, 15),
            ),
        ),
        "an address local@domain (at most 254 characters)",
    ),
    "errorAlarmThreshold": (st.one_of(NOT_INTEGERS, _outside(0, None)), ">= 0"),
    "durationAlarmThresholdMs": (
        st.one_of(NOT_INTEGERS, _outside(1, 28999)),
        "1-28999 (below tap:timeout, 29 s)",
    ),
    "smokeCheck": (TEXT.filter(lambda s: s not in ("true", "false")), "true or false"),
    "smokeCheckTimeoutSeconds": (st.one_of(NOT_INTEGERS, _outside(5, 900)), "5-900"),
}


def test_every_key_of_the_contract_has_an_invalid_value_strategy() -> None:
    # cors, auth and domain are objects: their fields have their own tests (below, and
    # tests/property/test_config_auth_domain.py).
    assert set(INVALID) | {"cors", "auth", "domain"} == set(c.KEY_NAMES)


@pytest.mark.parametrize("key", sorted(INVALID))
@given(data=st.data())
def test_an_invalid_value_is_refused_naming_key_value_and_what_is_allowed(
    key: str, data: st.DataObject
) -> None:
    strategy, allowed = INVALID[key]
    value = data.draw(strategy, label=key)

    with pytest.raises(c.ConfigError) as raised:
        c.parse({key: value})

    error = raised.value
    assert error.keys == (f"tap:{key}",)
    message = str(error)
    assert f"tap:{key} is {value!r}" in message
    assert allowed in message


@given(
    origins=st.one_of(st.just(["*"]), st.lists(ORIGINS, max_size=2).map(lambda o: [*o, "*"])),
)
def test_wildcard_origins_with_credentials_are_refused(origins: list[str]) -> None:
    cors = {"allowOrigins": origins, "allowCredentials": True}

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"cors": json.dumps(cors)})

    assert "tap:cors.allowCredentials" in raised.value.keys
    assert "false while allowOrigins is ['*']" in str(raised.value)


@given(timeout=st.integers(1, 29), data=st.data())
def test_a_duration_threshold_at_or_above_the_timeout_is_refused(
    timeout: int, data: st.DataObject
) -> None:
    threshold = data.draw(st.integers(timeout * 1000, timeout * 1000 + 100_000))

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"timeout": str(timeout), "durationAlarmThresholdMs": str(threshold)})

    assert raised.value.keys == ("tap:durationAlarmThresholdMs",)
    assert f"below tap:timeout, {timeout} s" in str(raised.value)


INVALID_CORS: list[tuple[dict[str, Any] | str, str, str]] = [
    ("not json", "tap:cors", "a JSON object"),
    (["*"], "tap:cors", "an object with fields"),
    ({"allowOrigin": ["*"]}, "tap:cors.allowOrigin", "a field of allowOrigins"),
    ({"allowOrigins": "https://a.example"}, "tap:cors.allowOrigins", "a list of strings"),
    ({"allowOrigins": ["https://a.example/"]}, "tap:cors.allowOrigins", "scheme://host[:port]"),
    ({"allowOrigins": ["a.example"]}, "tap:cors.allowOrigins", "scheme://host[:port]"),
    ({"allowOrigins": ["https://a.example:70000"]}, "tap:cors.allowOrigins", "scheme://host"),
    ({"allowOrigins": ["*", "https://a.example"]}, "tap:cors.allowOrigins", "['*'] alone"),
    ({"allowMethods": ["FETCH"]}, "tap:cors.allowMethods", "one of GET, POST"),
    ({"allowHeaders": ["bad header"]}, "tap:cors.allowHeaders", "an HTTP header name"),
    ({"exposeHeaders": [1]}, "tap:cors.exposeHeaders", "a list of strings"),
    ({"maxAge": 86401}, "tap:cors.maxAge", "0-86400"),
    ({"maxAge": -1}, "tap:cors.maxAge", "0-86400"),
    ({"maxAge": "300"}, "tap:cors.maxAge", "0-86400"),
    ({"allowCredentials": "yes"}, "tap:cors.allowCredentials", "true or false"),
]


@pytest.mark.parametrize(("cors", "key", "allowed"), INVALID_CORS)
def test_an_invalid_cors_field_is_refused_naming_the_field(
    cors: dict[str, Any] | str, key: str, allowed: str
) -> None:
    raw = cors if isinstance(cors, str) else json.dumps(cors)

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"cors": raw})

    assert raised.value.keys == (key,)
    assert allowed in str(raised.value)


@given(st.from_regex(r"[a-z][A-Za-z]{2,24}", fullmatch=True))
def test_an_unknown_key_is_refused_not_ignored(key: str) -> None:
    assume(key not in c.KEY_NAMES)

    with pytest.raises(c.ConfigError) as raised:
        c.parse({key: "1"})

    assert raised.value.keys == (f"tap:{key}",)
    assert "a known key: environment, region" in str(raised.value)


def test_a_misspelt_key_gets_a_suggestion() -> None:
    with pytest.raises(c.ConfigError, match=r"tap:timout .* did you mean tap:timeout\?"):
        c.parse({"timout": "10"})


def test_every_problem_is_reported_at_once() -> None:
    raw = {"timeout": "60", "memorySize": "64", "cors": json.dumps({"maxAge": 90000})}

    with pytest.raises(c.ConfigError) as raised:
        c.parse(raw)

    assert set(raised.value.keys) == {"tap:timeout", "tap:memorySize", "tap:cors.maxAge"}
    assert str(raised.value).startswith("invalid configuration (3 values):")
    assert "tap:timeout is '60', but must be 1-29: an HTTP API stops waiting after 30 s" in str(
        raised.value
    )
