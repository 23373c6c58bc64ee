"""tap.config beyond the properties: reading Pulumi's runtime config, and Pulumi.yaml's
declarations agreeing with the contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pulumi.runtime.config import set_all_config

from tap import config as c
from tap.local.stackfile import config_text

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

    for name, declaration in declared.items():
        assert name in keys, f"Pulumi.yaml declares {name}, which tap/config.py does not know"
        assert declaration["type"] == keys[name].type, name
        assert declaration["type"] in SCHEMA_TYPES, name
        assert declaration["description"] == keys[name].description.replace("`", ""), name
        # The declared default, handed over as the engine does (objects as JSON text), is
        # what tap/config.py takes when the key is not set at all.
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


def test_the_reserved_concurrency_key_warns_about_the_accounts_quota() -> None:
    # docs/http-api.md rule 31: Lambda refuses a reservation that leaves fewer than 100
    # unreserved, after the function exists, so `pulumi up` fails halfway.
    key = next(k for k in c.KEYS if k.name == "reservedConcurrency")

    assert "fewer than 100 unreserved" in key.description
    assert "quota" in key.description
    assert "quota minus 100" in key.allowed
