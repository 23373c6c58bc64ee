"""tap/local/deploy/appliers/arguments.py: one table per resource type maps its Pulumi
inputs to boto3 arguments, for the create (every input given) and the in-place update in
tap/local/deploy/updates.py (only the changed inputs, a removed one set back)."""

from __future__ import annotations

from tap import engine
from tap.local.deploy.appliers import apigateway, awslambda, iam, monitoring
from tap.local.deploy.appliers.arguments import Arg, Arguments
from tap.local.deploy.appliers.base import APPLIED, as_int
from tap.local.deploy.updates import UPDATERS

_TABLE = Arguments(
    Arg("memorySize", "MemorySize", as_int, reset=128),
    Arg("description", "Description", reset=""),
    Arg("kmsKeyId", "KmsKeyId"),
)


def test_a_create_maps_every_input_given_converted_and_nothing_else() -> None:
    # GIVEN the mock runtime's inputs (numbers arrive as floats; absent inputs are dropped)
    inputs = {"memorySize": 256.0, "kmsKeyId": "key", "unmapped": "x"}
    # WHEN the create's arguments are built
    kwargs = _TABLE(inputs)
    # THEN each given input is there, converted; an absent one is not sent at all
    assert kwargs == {"MemorySize": 256, "KmsKeyId": "key"}


def test_an_update_maps_only_the_changed_inputs_and_resets_a_removed_one() -> None:
    # GIVEN inputs where memorySize changed, description was removed, kmsKeyId unchanged
    inputs = {"memorySize": 512.0, "kmsKeyId": "key"}
    # WHEN the update's arguments are built for the changed keys
    kwargs = _TABLE(inputs, frozenset({"memorySize", "description"}))
    # THEN the unchanged input is not sent; the removed one goes back to its reset
    assert kwargs == {"MemorySize": 512, "Description": ""}


def test_a_removed_input_without_a_reset_is_not_sent() -> None:
    assert _TABLE({}, frozenset({"kmsKeyId"})) == {}


def test_the_function_create_and_update_share_one_mapping() -> None:
    # GIVEN a function's inputs with a logging configuration
    inputs = {
        "role": "arn:aws:iam::123456789012:role/r",
        "timeout": 10.0,
        "environment": {"variables": {"A": 1}},
        "loggingConfig": {"logFormat": "JSON", "applicationLogLevel": "INFO"},
    }
    created = awslambda.function_arguments(inputs)
    changed = frozenset({"timeout", "environment", "loggingConfig", "memorySize"})
    updated = awslambda.function_arguments(inputs, changed)
    # THEN an update sends each changed input exactly as the create does (the whole
    # logging configuration, not just its format), and Lambda's default for a removed one
    for key in ("Timeout", "Environment", "LoggingConfig"):
        assert updated[key] == created[key]
    assert updated["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO"}
    assert updated["Environment"] == {"Variables": {"A": "1"}}
    assert updated["MemorySize"] == 128
    assert "MemorySize" not in created
    assert "Role" not in updated


def test_other_types_expose_their_arguments_for_create_and_update() -> None:
    assert apigateway.route_arguments({}, frozenset({"authorizationType"})) == {
        "AuthorizationType": "NONE"
    }
    assert apigateway.integration_arguments({"timeoutMilliseconds": 5000.0}) == {
        "TimeoutInMillis": 5000
    }
    assert iam.role_arguments({}, frozenset({"maxSessionDuration"})) == {"MaxSessionDuration": 3600}
    assert monitoring.topic_attributes({"displayName": "d", "kmsMasterKeyId": "k"}) == {
        "DisplayName": "d",
        "KmsMasterKeyId": "k",
    }
    assert apigateway.api_arguments({"corsConfiguration": {"maxAge": 60.0}}) == {
        "CorsConfiguration": {"MaxAge": 60}
    }


def test_an_update_changes_in_place_every_applied_input_but_those_that_recreate() -> None:
    # The updatable inputs come from what the applier applies: a new input the create
    # learns is updatable in place unless named as recreating the resource.
    function = UPDATERS[engine.LAMBDA_FUNCTION].keys
    assert function == APPLIED[engine.LAMBDA_FUNCTION] - {"name", "packageType"}
    assert "tags" in function
    assert UPDATERS[engine.USER_POOL].keys == frozenset({"tags"})
    assert UPDATERS[engine.HTTP_API_ROUTE].keys == APPLIED[engine.HTTP_API_ROUTE] - {"apiId"}
    assert UPDATERS[engine.DASHBOARD].keys == frozenset({"dashboardBody"})
