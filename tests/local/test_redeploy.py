"""Redeploy in-process (tap/local/deploy/redeploy.py): the program re-run into the same moto
creates, updates and deletes what changed; a failed run keeps the previous deploy serving.

The program folder is a copy of Pulumi.yaml and __main__.py only, so the ``tap`` modules
the run imports are this checkout's, already imported: nothing is dropped from
``sys.modules`` in the test process.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tap import engine
from tap.local.deploy.deployment import LocalDeployment, deploy
from tap.local.deploy.diff import Change
from tap.local.deploy.redeploy import Redeployer
from tests.local.builders import fresh_account, health_status

REPO = Path(__file__).resolve().parents[2]
EMAIL = "ops@example.com"


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[LocalDeployment]:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    deployed = deploy(
        program_dir=tmp_path,
        config={"smokeCheck": "false", "alarmEmail": EMAIL},
        account_id=fresh_account(),
        cloudwatch_logs=False,
    )
    try:
        yield deployed
    finally:
        deployed.stop()


def subscriptions(deployment: LocalDeployment) -> list[str]:
    return [s["Endpoint"] for s in deployment.client("sns").list_subscriptions()["Subscriptions"]]


def test_a_resource_no_longer_declared_is_deleted_and_created_again(
    deployment: LocalDeployment,
) -> None:
    said: list[str] = []
    assert subscriptions(deployment) == [EMAIL]
    [name] = [r.name for r in deployment.resources if r.type == engine.SNS_SUBSCRIPTION]

    without = Redeployer(deployment, say=said.append, overrides={"smokeCheck": "false"})
    outcome = without.redeploy("test")
    assert outcome.ok, outcome.error
    assert outcome.plan is not None
    assert outcome.plan.changes == (Change("delete", engine.SNS_SUBSCRIPTION, name),)
    assert subscriptions(deployment) == []
    assert "    - 1 deleted" in said
    assert not any(r.type == engine.SNS_SUBSCRIPTION for r in deployment.resources)

    again = Redeployer(
        deployment, say=said.append, overrides={"smokeCheck": "false", "alarmEmail": EMAIL}
    ).redeploy("test")
    assert again.ok, again.error
    assert again.plan is not None
    assert again.plan.changes == (Change("create", engine.SNS_SUBSCRIPTION, name),)
    assert subscriptions(deployment) == [EMAIL]
    assert health_status(deployment.emulator.port) == 200


def test_an_unchanged_program_changes_nothing(deployment: LocalDeployment) -> None:
    before = {(r.type, r.name): r.id for r in deployment.resources}
    outcome = Redeployer(
        deployment, say=lambda _: None, overrides={"smokeCheck": "false", "alarmEmail": EMAIL}
    ).redeploy()
    assert outcome.ok, outcome.error
    assert outcome.plan is not None
    assert outcome.plan.changes == ()
    after = {
        (r.type, r.name): r.id for r in deployment.resources if r.type != "pulumi:providers:aws"
    }
    assert after == {k: v for k, v in before.items() if k[0] != "pulumi:providers:aws"}


def test_a_bad_value_keeps_the_previous_deploy(deployment: LocalDeployment) -> None:
    said: list[str] = []
    resources = list(deployment.resources)
    outcome = Redeployer(
        deployment, say=said.append, overrides={"smokeCheck": "false", "timeout": "60"}
    ).redeploy()
    assert not outcome.ok
    assert "tap:timeout is '60'" in outcome.error
    assert said[-1] == "The update failed: still serving the previous deploy"
    assert deployment.resources == resources
    assert health_status(deployment.emulator.port) == 200


def test_settings_are_updated_in_place_and_served(deployment: LocalDeployment) -> None:
    said: list[str] = []
    ids = {(r.type, r.name): r.id for r in deployment.resources}
    outcome = Redeployer(
        deployment,
        say=said.append,
        overrides={
            "smokeCheck": "false",
            "alarmEmail": EMAIL,
            "throttlingBurstLimit": "50",
            "reservedConcurrency": "2",
            "environment": "Staging",
        },
    ).redeploy()
    assert outcome.ok, outcome.error
    assert outcome.plan is not None
    changes = {(c.type, c.name): c for c in outcome.plan.changes}
    assert {c.op for c in changes.values()} == {"update"}  # nothing recreated
    stage = next(c for c in changes.values() if c.type == engine.HTTP_API_STAGE)
    assert {"defaultRouteSettings", "tagsAll"} <= set(stage.keys)
    function = next(c for c in changes.values() if c.type == engine.LAMBDA_FUNCTION)
    assert {"environment", "reservedConcurrentExecutions", "tagsAll"} <= set(function.keys)
    assert {(r.type, r.name): r.id for r in deployment.resources} == ids
    # What is served...
    name = str(deployment.outputs["lambda_function_name"])
    pool = deployment.emulator.pool(name)
    assert pool is not None
    assert pool.spec.reserved_concurrency == 2
    assert pool.spec.environment["ENVIRONMENT"] == "Staging"
    assert health_status(deployment.emulator.port) == 200
    # ... and what moto holds.
    lam = deployment.client("lambda")
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 2
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    assert lam.list_tags(Resource=arn)["Tags"]["Environment"] == "Staging"
    [stage_item] = deployment.client("apigatewayv2").get_stages(
        ApiId=str(deployment.outputs["api_gateway_id"])
    )["Items"]
    assert stage_item["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 50
    # The alarm topic's tags changed in place: its email subscription is still there.
    assert subscriptions(deployment) == [EMAIL]
