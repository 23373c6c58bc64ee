"""The smoke check as TapStack wires it, under Pulumi's mock runtime.

Under mocks no provider method runs (docs/tools.md), so these tests take what
the engine would store (the registered inputs, ``__provider`` included), un-dill the
provider the way the deploy-time host does, and run its ``check`` and ``create`` against a
real server on 127.0.0.1.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import dill
import pytest

from tap import compute, engine
from tap.config import CorsConfig, parse
from tap.function.routes import ROUTE_KEYS
from tap.smoke import TYPE_TOKEN, SmokeCheckProvider
from tap.stack import expected_cors, stack_trigger
from tests.pulumi_mocks import (
    ProgramRun,
    RegisteredResource,
    is_secret,
    is_unknown,
    run_program,
    unwrap,
)
from tests.smoke.fake_api import ScriptedServer, deployed_api

STAGE = engine.HTTP_API_STAGE
ROUTE = engine.HTTP_API_ROUTE
PERMISSION = engine.LAMBDA_PERMISSION
STACK_COMPONENT = "tap:index:TapStack"

LISTED_CORS = {
    "allowOrigins": ["https://app.example.com", "https://admin.example.com"],
    "allowCredentials": True,
    "maxAge": 600,
}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    """The program with no config at all: the contract's defaults (smoke check on, 120 s)."""
    return run_program({}, stack="dev")


@pytest.fixture(scope="module")
def smoke(run: ProgramRun) -> RegisteredResource:
    return run.one(TYPE_TOKEN)


def plain_inputs(resource: RegisteredResource) -> dict[str, Any]:
    """The inputs as the provider's methods get them: secrets in plain text."""
    return unwrap(resource.inputs)


# ---------------------------------------------------------------------------------------
# Registration: inputs and ordering.


def test_the_smoke_check_gets_the_stages_url_and_the_functions_trigger(
    run: ProgramRun, smoke: RegisteredResource
) -> None:
    inputs = plain_inputs(smoke)
    stage = run.one(STAGE)

    assert inputs["url"] == stage.outputs["invokeUrl"]
    assert inputs["url"].startswith("https://")
    assert inputs["url"].endswith(".amazonaws.com/")
    assert inputs["trigger"] == stack_trigger(parse({}), compute.code_hash(), ROUTE_KEYS)
    assert inputs["expected_environment"] == "Production"
    assert inputs["origin"] == "https://example.com"  # the API allows "*": any origin will do
    assert inputs["expected_cors"] == {**expected_cors(CorsConfig()), "max_age": 300.0}
    assert inputs["deadline_seconds"] == 120.0  # tap:smokeCheckTimeoutSeconds' default


def test_the_smoke_check_runs_after_the_stage_every_route_and_the_permission(
    run: ProgramRun, smoke: RegisteredResource
) -> None:
    routes = run.of_type(ROUTE)
    assert len(routes) == len(ROUTE_KEYS)

    for other in [run.one(STAGE), *routes, run.one(PERMISSION)]:
        assert run.depends_on(smoke, other), f"{smoke.name} does not wait for {other.name}"
    assert run.by_urn(smoke.parent).type == STACK_COMPONENT


def test_the_smoke_check_output_is_the_resources_result(
    run: ProgramRun, smoke: RegisteredResource
) -> None:
    assert run.output("smoke_check") == {
        name: smoke.outputs[name]
        for name in ("passed_at", "attempts", "latency_ms", "checks", "warnings")
    }


def test_config_reaches_the_deadline_origin_cors_and_trigger(run: ProgramRun) -> None:
    # GIVEN listed origins with credentials and a longer deadline
    custom = run_program(
        {"cors": json.dumps(LISTED_CORS), "smokeCheckTimeoutSeconds": "300"}, stack="dev"
    )

    inputs = plain_inputs(custom.one(TYPE_TOKEN))

    assert inputs["deadline_seconds"] == 300.0
    assert inputs["origin"] == "https://app.example.com"  # a listed origin, never a sample
    assert inputs["expected_cors"]["allow_origins"] == LISTED_CORS["allowOrigins"]
    assert inputs["expected_cors"]["allow_credentials"] is True
    assert inputs["expected_cors"]["max_age"] == 600.0
    # the CORS configuration shapes the API's answers: a new trigger, so the check re-runs
    assert inputs["trigger"] != plain_inputs(run.one(TYPE_TOKEN))["trigger"]


def test_smoke_check_false_registers_no_smoke_check_and_no_output(run: ProgramRun) -> None:
    disabled = run_program({"smokeCheck": "false"}, stack="dev")

    assert disabled.of_type(TYPE_TOKEN) == []
    assert "smoke_check" not in disabled.outputs
    # and nothing else changes
    assert disabled.type_tokens() == run.type_tokens() - {TYPE_TOKEN}


def test_in_a_preview_the_url_is_unknown_but_the_trigger_is_known() -> None:
    # So `pulumi preview` already shows whether the check will run again.
    preview = run_program({}, stack="dev", preview=True)

    inputs = plain_inputs(preview.one(TYPE_TOKEN))

    assert is_unknown(inputs["url"])
    assert inputs["trigger"] == stack_trigger(parse({}), compute.code_hash(), ROUTE_KEYS)


# ---------------------------------------------------------------------------------------
# The serialized provider: what the engine stores and the deploy-time host un-dills.


def test_the_registered_provider_round_trips_through_dill_and_passes_against_a_server(
    smoke: RegisteredResource,
) -> None:
    # GIVEN the __provider input as registered: a secret (the SDK's default) ...
    assert is_secret(smoke.inputs["__provider"])
    inputs = plain_inputs(smoke)

    # WHEN the deploy-time host decodes it (pulumi/dynamic/__main__.py: get_provider)
    provider = dill.loads(base64.b64decode(inputs["__provider"]))

    # THEN it is the provider, pickled by reference to tap.smoke ...
    assert type(provider) is SmokeCheckProvider
    assert provider.hooks == {}  # the real clock, sleep and randomness
    # ... the stack's own inputs pass its validation, engine floats and all ...
    checked = provider.check({}, inputs)
    assert checked.failures == []
    # ... and its create checks a live API (the mock's URL is not reachable: point it here)
    with ScriptedServer(deployed_api(environment="Production")) as server:
        result = provider.create({**checked.inputs, "url": server.url})
    outs = result.outs
    assert outs is not None
    assert outs["attempts"] == 1
    assert outs["trigger"] == inputs["trigger"]
    assert server.paths() == [
        "GET /health",
        "OPTIONS /health",
        "GET /tap-smoke-check/no-such-route",
    ]


# ---------------------------------------------------------------------------------------
# The trigger (pure).


@pytest.mark.parametrize(
    "change",
    [
        {"memory_size": 1024},
        {"runtime": "python3.12"},
        {"architecture": "x86_64"},
        {"timeout": 10},
        {"cors": CorsConfig(max_age=60)},
        {"throttling_burst_limit": 50},
    ],
    ids=lambda change: next(iter(change)),
)
def test_the_trigger_changes_with_what_shapes_the_api(change: dict[str, Any]) -> None:
    config = parse({})
    base = stack_trigger(config, "aa" * 32, ROUTE_KEYS)

    assert stack_trigger(dataclasses.replace(config, **change), "aa" * 32, ROUTE_KEYS) != base


def test_the_trigger_changes_with_the_code_and_the_routes_and_only_with_them() -> None:
    config = parse({})
    base = stack_trigger(config, "aa" * 32, ROUTE_KEYS)

    assert stack_trigger(parse({}), "aa" * 32, ROUTE_KEYS) == base  # stable
    assert stack_trigger(config, "aa" * 32, tuple(reversed(ROUTE_KEYS))) == base  # order-free
    assert stack_trigger(config, "bb" * 32, ROUTE_KEYS) != base
    assert stack_trigger(config, "aa" * 32, (*ROUTE_KEYS, "GET /extra")) != base
    # the deadline only bounds the wait; the environment is an input of its own
    assert (
        stack_trigger(
            dataclasses.replace(config, smoke_check_timeout_seconds=300), "aa" * 32, ROUTE_KEYS
        )
        == base
    )
