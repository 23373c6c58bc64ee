"""The Pulumi program (__main__.py) under Pulumi's mock runtime: config is validated before
any resource is registered, and no config at all deploys the contract's defaults."""

from __future__ import annotations

import pytest

from tap import engine
from tap.config import ConfigError
from tests.pulumi_mocks import AwsMocks, run_program


def test_an_invalid_timeout_fails_the_program_before_any_resource_is_registered() -> None:
    # GIVEN a 60 s timeout, which an HTTP API can never use
    mocks = AwsMocks()

    # WHEN the program runs
    with pytest.raises(ConfigError) as raised:
        run_program({"timeout": "60"}, mocks=mocks)

    # THEN it fails naming the key, the value and what is allowed, and registers nothing
    assert raised.value.keys == ("tap:timeout",)
    assert "tap:timeout is '60', but must be 1-29: an HTTP API stops waiting after 30 s" in str(
        raised.value
    )
    registered = [r.type for r in mocks.records()]
    assert not [t for t in registered if t.startswith(("aws:", "pulumi:providers:"))], registered


def test_every_invalid_value_is_reported_in_one_failure() -> None:
    mocks = AwsMocks()

    with pytest.raises(ConfigError) as raised:
        run_program({"timeout": "60", "runtime": "python3.9", "memorySiz": "256"}, mocks=mocks)

    assert set(raised.value.keys) == {"tap:timeout", "tap:runtime", "tap:memorySiz"}
    assert "did you mean tap:memorySize?" in str(raised.value)
    assert not [r for r in mocks.records() if r.type.startswith("aws:")]


def test_with_no_config_at_all_the_program_deploys_the_contracts_defaults() -> None:
    run = run_program({})

    assert run.output("region") == "us-east-1"
    assert run.output("environment_suffix") == "Production"
    assert run.output("memory_size") == 512
    assert run.output("timeout") == 29
    assert run.output("runtime") == "python3.13"
    function = run.one(engine.LAMBDA_FUNCTION)
    assert function.input("timeout") == 29.0
    assert function.input("memorySize") == 512.0
    assert function.input("architectures") == ["arm64"]
    retention = {r.input("retentionInDays") for r in run.of_type(engine.LOG_GROUP)}
    assert retention == {14.0}
