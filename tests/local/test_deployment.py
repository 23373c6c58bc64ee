"""Whole local deploys (tap.local.deploy.deployment) of the small program in
``programs/mini`` (one of each supported type, with knobs that break one reference)."""

from __future__ import annotations

import io
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest

from tap import compute
from tap.local.deploy.deployment import BrokenReferencesError, DeployError, LocalDeployment, deploy
from tests.local.builders import fresh_account

MINI = Path(__file__).resolve().parent / "programs" / "mini"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def mini() -> Iterator[LocalDeployment]:
    deployment = deploy(program_dir=MINI, account_id=fresh_account(), config={"mini:smoke": "pass"})
    yield deployment
    deployment.stop()


def test_outputs_are_what_moto_created(mini: LocalDeployment) -> None:
    fn = mini.client("lambda").get_function_configuration(
        FunctionName=mini.outputs["function_name"]
    )
    assert mini.outputs["function_arn"] == fn["FunctionArn"]
    assert mini.outputs["invoke_arn"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"{fn['FunctionArn']}/invocations"
    )
    apis = mini.client("apigatewayv2").get_apis()["Items"]
    assert [a["ApiId"] for a in apis] == [mini.outputs["api_id"]]
    assert mini.outputs["execution_arn"] == (
        f"arn:aws:execute-api:{REGION}:{mini.account_id}:{mini.outputs['api_id']}"
    )
    # The stage URL is the emulator's, and secrets come out in plain text, as
    # `pulumi stack output --show-secrets` shows them.
    assert mini.outputs["url"] == mini.url + "/"
    assert mini.outputs["secret"] == "s3cret"
    # Numbers arrived as floats and are stored as the whole numbers AWS takes.
    assert (fn["MemorySize"], fn["Timeout"]) == (256, 10)
    # A secret environment value is stored in plain text, as Lambda stores it.
    assert fn["Environment"]["Variables"] == {"ENVIRONMENT": "Production"}


def test_the_function_zip_is_the_engines_zip_of_the_program_archive(
    mini: LocalDeployment,
) -> None:
    from moto.backends import get_backend

    stored = get_backend("lambda")[mini.account_id][REGION].get_function("mini-fn").code_bytes
    names = zipfile.ZipFile(io.BytesIO(stored)).namelist()
    assert names == ["app/__init__.py", "app/handler.py"]
    fn = next(r for r in mini.resources if r.type == "aws:lambda/function:Function")
    assert isinstance(fn.inputs["code"], pulumi.AssetArchive)
    assert stored == compute.zip_bytes(fn.inputs["code"])


def test_the_dynamic_resource_create_really_ran_against_the_emulator(
    mini: LocalDeployment,
) -> None:
    # The probe's create GETs <stage url>health and fails unless it answers 200.
    assert mini.outputs["probe_status"] == 200
    probe = next(r for r in mini.resources if r.type.startswith("pulumi-python:dynamic"))
    assert probe.id == "probe"


def test_a_failing_dynamic_create_fails_the_deploy_and_stops_everything() -> None:
    with pytest.raises(DeployError) as raised:
        deploy(program_dir=MINI, account_id=fresh_account(), config={"mini:smoke": "fail"})
    message = str(raised.value)
    assert message.startswith(
        "the local deploy failed:\n  - pulumi-python:dynamic:Resource "
        "'probe': GET http://127.0.0.1:"
    )
    assert message.endswith("health answered 200, expected 418")
    # Nothing is left serving: the emulator's port refuses connections.
    port = int(message.split("http://127.0.0.1:")[1].split("/")[0])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_broken_reference_stops_the_deploy_after_it_ran() -> None:
    account = fresh_account()
    with pytest.raises(BrokenReferencesError) as raised:
        deploy(program_dir=MINI, account_id=account, config={"mini:break": "alarmAction"})
    assert raised.value.problems == (
        "alarm mini-errors: AlarmActions has 'arn:aws:sns:us-east-1:123456789012:gone', which "
        f"is not an existing SNS topic (arn:aws:sns:us-east-1:{account}:mini-alarms)",
    )
