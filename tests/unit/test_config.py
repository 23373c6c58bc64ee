"""tap.config beyond the properties: reading Pulumi's runtime config, and Pulumi.yaml's
declarations agreeing with the contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pulumi.runtime.config import set_all_config

from tap import config as c

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


def test_pulumi_yaml_declarations_match_the_contract_defaults_and_types() -> None:
    declared = _project()["config"]
    defaults = c.parse({})
    keys = {k.name: k for k in c.KEYS}

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
            "throttlingBurstLimit",
            "smokeCheck",
            "smokeCheckTimeoutSeconds",
        ]
    )
    for name, declaration in declared.items():
        assert name in keys, f"Pulumi.yaml declares {name}, which tap/config.py does not know"
        assert declaration["type"] == keys[name].type
        field = "".join("_" + ch.lower() if ch.isupper() else ch for ch in name)
        assert declaration["default"] == getattr(defaults, field), name
        assert declaration["description"]


def test_every_undeclared_key_is_explained_in_pulumi_yaml() -> None:
    # The project schema types only string/integer/boolean/array, and a declared key without
    # a default is required: the keys it cannot express are listed in a comment instead.
    text = (REPO / "Pulumi.yaml").read_text()
    declared = set(_project()["config"])
    undeclared = set(c.KEY_NAMES) - declared

    assert undeclared == {
        "cors",
        "throttlingRateLimit",
        "reservedConcurrency",
        "alarmEmail",
        "logRetentionDays",
        "errorAlarmThreshold",
        "durationAlarmThresholdMs",
    }
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    for name in undeclared:
        assert f"#   {name} " in comments, f"{name} is neither declared nor explained"
