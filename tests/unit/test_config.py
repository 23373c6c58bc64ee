"""tap.config beyond the properties: reading Pulumi's runtime config, and Pulumi.yaml's
declarations agreeing with the contract."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from pulumi.runtime.config import set_all_config

from tap import config as c
from tap.local.deploy.stackfile import config_text

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def runtime_config(monkeypatch: pytest.MonkeyPatch):
    """Pulumi's process-wide config, emptied for the test and restored after it."""
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    set_all_config({})
    yield set_all_config
    set_all_config({})


def test_load_reads_every_tap_key_the_engine_passed(runtime_config) -> None:
    runtime_config(
        {
            "tap:environment": "staging",
            "tap:timeout": "10",
            "tap:cors": json.dumps({"allowOrigins": ["https://app.example.com"]}),
            "aws:region": "eu-west-1",  # another namespace: not ours to validate
        }
    )

    loaded = c.load()

    assert (loaded.environment, loaded.timeout) == ("staging", 10)
    assert loaded.cors.allow_origins == ("https://app.example.com",)
    assert loaded.log_retention_days == 30  # the non-Production default


def test_load_reads_the_pulumi_config_environment_variable(
    runtime_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The language host may pass config as PULUMI_CONFIG (a JSON object of strings).
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"tap:memorySize": "1024"}))

    assert c.load().memory_size == 1024


def test_load_refuses_a_misspelt_key_instead_of_ignoring_it(runtime_config) -> None:
    runtime_config({"tap:logRetention": "7"})

    with pytest.raises(
        c.ConfigError, match=r"tap:logRetention .*did you mean tap:logRetentionDays"
    ):
        c.load()


def _project() -> dict:
    return yaml.safe_load((REPO / "Pulumi.yaml").read_text())


def test_pulumi_yaml_names_the_project_and_the_python_runtime() -> None:
    project = _project()

    assert project["name"] == "tap"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": "venv"}


# The keys Pulumi.yaml cannot declare without changing their meaning (its comment says why):
# no schema type for a fractional number, no default (a declared key without one is
# required), or a default that depends on other keys.
UNDECLARABLE = {
    "throttlingRateLimit",
    "reservedConcurrency",
    "alarmEmail",
    "logRetentionDays",
    "errorAlarmThreshold",
    "durationAlarmThresholdMs",
    "auth",  # unset by default: a declared object without a default would be required
    "domain",
}
# The project schema's config types (pulumi/pulumi sdk/go/common/workspace/project.json, with
# object since pulumi/pulumi#20129).
SCHEMA_TYPES = {"string", "integer", "boolean", "array", "object"}


def test_pulumi_yaml_declares_every_key_it_can() -> None:
    declared = set(_project()["config"])

    assert declared == set(c.KEY_NAMES) - UNDECLARABLE
    assert "cors" in declared


def test_pulumi_yaml_declarations_match_the_contract_defaults_and_types() -> None:
    declared = _project()["config"]
    keys = {k.name: k for k in c.KEYS}
    assert len(declared) == len(c.KEY_NAMES) - len(UNDECLARABLE)  # never an empty loop

    # the keys the project schema can express, each with its default (a missing one would be
    # an empty loop below, and nothing checked)
    assert sorted(declared) == sorted(
        [
            "environment",
            "region",
            "runtime",
            "architecture",
            "memorySize",
            "timeout",
            "logLevel",
            "tracing",
            "cors",
            "throttlingBurstLimit",
            "smokeCheck",
            "smokeCheckTimeoutSeconds",
        ]
    )
    for name, declaration in declared.items():
        assert name in keys, f"Pulumi.yaml declares {name}, not in tap/config/keys.py"
        assert declaration["type"] == keys[name].type, name
        assert declaration["type"] in SCHEMA_TYPES, name
        assert declaration["description"] == keys[name].description.replace("`", ""), name
        # The declared default, handed over as the engine does (objects as JSON text), is
        # what tap/config/ takes when the key is not set at all.
        text = config_text(declaration["default"])
        assert c.parse({name: text}) == c.parse({}), name


def test_every_undeclared_key_is_explained_in_pulumi_yaml() -> None:
    text = (REPO / "Pulumi.yaml").read_text()
    undeclared = set(c.KEY_NAMES) - set(_project()["config"])

    assert undeclared == UNDECLARABLE
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    for name in undeclared:
        assert f"#   {name} " in comments, f"{name} is neither declared nor explained"
    assert "string, integer, boolean, array and object" in comments


def test_pulumi_yaml_declares_what_the_key_declarations_say() -> None:
    # Every declarable key (a schema type and one fixed default), with its type, plain-text
    # description and default as the engine hands it back: nothing more, nothing less.
    assert _project()["config"] == c.pulumi_declarations()
    assert {k.name for k in c.KEYS if not k.declarable} == UNDECLARABLE


def test_pulumi_yaml_explains_the_default_of_every_undeclared_scalar_key() -> None:
    lines = (REPO / "Pulumi.yaml").read_text().splitlines()
    comments = " ".join(
        " ".join(line.strip().lstrip("#").split()) for line in lines if line.startswith("#")
    )
    scalars = [k for k in c.KEYS if not k.declarable and k.type != "object"]
    assert len(scalars) == 6  # never an empty loop

    for key in scalars:
        shown = c.shown_default(key).replace("`", "")
        assert f"default {shown}" in comments, key.name


def test_stack_config_has_one_field_per_key_with_its_default() -> None:
    fields = dataclasses.fields(c.StackConfig)

    assert [f.name for f in fields] == [k.field for k in c.KEYS]
    for f, (name, value) in zip(fields, c.defaults().items(), strict=True):
        assert f.default == value, name
    assert c.StackConfig() == c.parse({})


def test_problems_are_listed_in_the_order_the_keys_are_read() -> None:
    # The README's order, but the smoke check's keys come last (as they always have).
    with pytest.raises(c.ConfigError) as raised:
        c.parse({"smokeCheck": "yes", "domain": "[", "auth": "[", "memorySize": "1"})

    assert raised.value.keys == ("tap:memorySize", "tap:auth", "tap:domain", "tap:smokeCheck")
    assert c.KEY_NAMES[-4:] == ("smokeCheck", "smokeCheckTimeoutSeconds", "auth", "domain")


def test_environment_dependent_defaults_follow_the_environment_and_timeout() -> None:
    staging = c.parse({"environment": "staging", "timeout": "10"})

    assert staging.log_retention_days == c.default_log_retention_days("staging") == 30
    assert staging.error_alarm_threshold == c.default_error_alarm_threshold("staging") == 5
    assert staging.duration_alarm_threshold_ms == 10 * 1000 * 28 // c.MAX_TIMEOUT_S
    assert c.default_duration_alarm_threshold_ms(c.PRODUCTION, c.MAX_TIMEOUT_S) == 25000


def test_the_reserved_concurrency_key_warns_about_the_accounts_quota() -> None:
    # docs/http-api.md rule 31: Lambda refuses a reservation that leaves fewer than 100
    # unreserved, after the function exists, so `pulumi up` fails halfway.
    key = next(k for k in c.KEYS if k.name == "reservedConcurrency")

    assert "fewer than 100 unreserved" in key.description
    assert "quota" in key.description
    assert "quota minus 100" in key.allowed


# ---------------------------------------------------------------------------------------
# Hostile values: an error, never a crash, and a message of bounded size.


@pytest.mark.parametrize("text", ["[" * 3000, '{"allowOrigins":' * 3000, "[" * 100_000])
def test_cors_nested_too_deeply_is_a_config_error_naming_tap_cors(text: str) -> None:
    with pytest.raises(c.ConfigError) as raised:
        c.parse({"cors": text})

    assert raised.value.keys == ("tap:cors",)
    assert "nested too deeply" in str(raised.value)
    assert len(str(raised.value)) < 1000


def test_cors_nested_too_deeply_under_pulumi_up_is_a_config_error(runtime_config) -> None:
    runtime_config({"tap:cors": "[" * 3000})

    with pytest.raises(c.ConfigError) as raised:
        c.load()

    assert raised.value.keys == ("tap:cors",)


def test_a_deep_but_parseable_cors_field_is_refused_and_shown_bounded() -> None:
    deep = "[" * 900 + "]" * 900

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"cors": '{"allowOrigins": ' + deep + "}"})

    assert raised.value.keys == ("tap:cors.allowOrigins",)
    assert len(str(raised.value)) < 1000


def test_a_10_mb_value_is_quoted_in_at_most_200_characters() -> None:
    huge = "x" * 10_000_000 + "\x1b[2J\x07"

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"environment": huge, "region": huge, "cors": huge, "alarmEmail": huge})

    message = str(raised.value)
    assert len(message) < 3000
    assert "(10,000,005 characters in all)" in message
    assert "\x1b" not in message
    assert "\x07" not in message


def test_an_unknown_key_is_shown_bounded_and_escaped() -> None:
    with pytest.raises(c.ConfigError) as raised:
        c.parse({"\x1b]0;pwned\x07" + "k" * 1_000_000: "1"})

    message = str(raised.value)
    assert len(message) < 2000
    assert "\\x1b]0;pwned\\x07" in message


def test_integers_are_ascii_digits_only() -> None:
    for value in ("1_024", "+512", "\uff15\uff11\uff12", "\u0665\u0661\u0662", "512\u00a0"):
        with pytest.raises(c.ConfigError, match="a whole number in ASCII digits 0-9"):
            c.parse({"memorySize": value})
    assert c.parse({"memorySize": "1024"}).memory_size == 1024


def test_a_whole_number_of_many_digits_is_out_of_range_not_a_crash() -> None:
    with pytest.raises(c.ConfigError, match="128-10240"):
        c.parse({"memorySize": "9" * 5000})


@pytest.mark.parametrize("value", ["5e-324", "1e-300", "0.009", "1e999", "inf", "nan", "1_0"])
def test_the_rate_limit_refuses_absurdly_small_and_non_finite_values(value: str) -> None:
    with pytest.raises(c.ConfigError) as raised:
        c.parse({"throttlingRateLimit": value})

    assert raised.value.keys == ("tap:throttlingRateLimit",)
    assert "0.01-10000" in str(raised.value)


@pytest.mark.parametrize(("value", "rate"), [("0.01", 0.01), ("1e2", 100.0), ("10000", 10000.0)])
def test_the_rate_limit_accepts_its_bounds(value: str, rate: float) -> None:
    assert c.parse({"throttlingRateLimit": value}).throttling_rate_limit == rate


@pytest.mark.parametrize(
    "email",
    [
        "ops\x00@example.com",
        '"><img src=x onerror=alert(1)>@example.com',
        "ops@example.com\n",
        "ops@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com",
        "o" * 65 + "@example.com",
    ],
)
def test_alarm_email_refuses_what_its_grammar_does_not_allow(email: str) -> None:
    with pytest.raises(c.ConfigError) as raised:
        c.parse({"alarmEmail": email})

    assert raised.value.keys == ("tap:alarmEmail",)
    assert "dot-separated" in str(raised.value)


@pytest.mark.parametrize(
    "email", ["ops@example.com", "first.last+alerts@mail.example.co.uk", "o'neil@xn--bcher-kva.de"]
)
def test_alarm_email_accepts_ordinary_addresses(email: str) -> None:
    assert c.parse({"alarmEmail": email}).alarm_email == email


def test_a_cors_list_of_a_million_bad_values_is_reported_in_a_few_lines() -> None:
    origins = ["\x1bnot an origin"] * 1_000_000
    fields = {f"x{i}": 1 for i in range(1000)}

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"cors": json.dumps({"allowOrigins": origins, **fields})})

    message = str(raised.value)
    assert len(raised.value.problems) == 2 * (c.MAX_PROBLEMS_PER_FIELD + 1)
    assert "tap:cors.allowOrigins is '999,990 more values'" in message
    assert "tap:cors is '990 more unknown fields'" in message
    assert len(message) < 10_000


def test_the_error_counts_its_problems_one_per_line() -> None:
    one = c.ConfigError([c.Problem("tap:timeout", 40, "1-29")])
    two = c.ConfigError(
        [c.Problem("tap:timeout", 40, "1-29"), c.Problem("tap:tracing", None, "Active", "why")]
    )

    assert str(one) == "invalid configuration (1 value):\n  - tap:timeout is 40, but must be 1-29"
    assert str(two).splitlines() == [
        "invalid configuration (2 values):",
        "  - tap:timeout is 40, but must be 1-29",
        "  - tap:tracing is null, but must be Active: why",
    ]
    assert two.keys == ("tap:timeout", "tap:tracing")
