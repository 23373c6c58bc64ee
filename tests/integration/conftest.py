"""Fixtures of the integration tests: ``stack``, the deployed stack (see stack_target.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tap import config as tap_config
from tests.integration.stack_target import LOCAL_CONFIG, TARGET, StackUnderTest, aws_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[StackUnderTest]:
    if TARGET == "aws":
        yield aws_stack()
        return
    if TARGET != "local":
        raise pytest.UsageError(f"TAP_TARGET is {TARGET!r}; use local (default) or aws")

    from tap.local.deploy.deployment import deploy

    # A moto account of its own: moto's backends are per process, and other tests in this
    # process deploy too.
    account_id = f"{secrets.randbelow(10**12):012d}"
    deployment = deploy(config=LOCAL_CONFIG, account_id=account_id)
    try:
        prefix = tap_config.NAMESPACE + ":"
        config = tap_config.parse(
            {k[len(prefix) :]: v for k, v in deployment.config.items() if k.startswith(prefix)}
        )
        declared = {
            str(r.outputs.get("name")): r.inputs.get("loggingConfig", {})
            for r in deployment.resources
            if r.type == "aws:lambda/function:Function"
        }

        def logging_config(name: str) -> Mapping[str, Any]:
            lc = declared[name]
            names = {
                "logFormat": "LogFormat",
                "logGroup": "LogGroup",
                "applicationLogLevel": "ApplicationLogLevel",
                "systemLogLevel": "SystemLogLevel",
            }
            return {names[k]: v for k, v in lc.items() if k in names}

        yield StackUnderTest("local", deployment.outputs, config, deployment.client, logging_config)
    finally:
        deployment.stop()
