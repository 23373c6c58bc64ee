"""Local mode's deployer: moto-backed mocks, the post-deploy reference checks, stack files.

The mocks are driven directly with inputs shaped as the mock runtime delivers them
(camelCase, floats, wrapped secrets); whole deploys use the small program in
``programs/mini`` (one of each supported type, with knobs that break one reference).
"""

from __future__ import annotations

import io
import json
import secrets
import socket
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import MockResourceArgs

from tap import compute
from tap.engine import secret
from tap.local.deploy import checks
from tap.local.deploy.deployment import BrokenReferencesError, DeployError, LocalDeployment, deploy
from tap.local.deploy.mocks import MotoMocks
from tap.local.deploy.motoserver import MotoServer
from tap.local.deploy.readback import API_TYPE, ReadbackError
from tap.local.deploy.resources import Deployed
from tap.local.deploy.stackfile import StackFileError, config_text, load_config

MINI = Path(__file__).resolve().parent / "programs" / "mini"
REGION = "us-east-1"


def fresh_account() -> str:
    return f"{secrets.randbelow(10**12):012d}"


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with MotoServer(account_id=fresh_account()) as running:
        yield running


@pytest.fixture
def mocks(server: MotoServer) -> MotoMocks:
    return MotoMocks(server, REGION, stage_url=lambda api, stage: "http://127.0.0.1:1/")


def _register(
    mocks: MotoMocks, typ: str, name: str, inputs: dict[str, Any], provider: str = ""
) -> tuple[str | None, dict[str, Any]]:
    return mocks.new_resource(MockResourceArgs(typ, name, inputs, provider=provider, custom=True))


# ---------------------------------------------------------------------------------------
# The mocks, driven directly


def test_floats_and_wrapped_secrets_reach_moto_as_aws_expects(mocks: MotoMocks) -> None:
    # GIVEN inputs as the mock runtime delivers them: a float retention, secret tags
    name = f"/test/{secrets.token_hex(4)}"
    _, outs = _register(
        mocks,
        "aws:cloudwatch/logGroup:LogGroup",
        "logs",
        {
            "name": name,
            "retentionInDays": 14.0,
            "tags": secret({"Team": "api"}),
        },
    )
    # THEN moto holds a whole-number retention and the plain tags
    logs = mocks.client("logs", REGION)
    group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    assert group["retentionInDays"] == 14
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"Team": "api"}
    # AND the outputs keep the secret wrapped, with moto's ARN (no trailing ":*")
    assert outs["tags"] == secret({"Team": "api"})
    assert outs["arn"] == group["logGroupArn"]


def test_provider_region_and_default_tags_apply_to_its_resources(mocks: MotoMocks) -> None:
    provider_id, _ = mocks.new_resource(
        MockResourceArgs(
            "pulumi:providers:aws",
            "west",
            {
                "region": "eu-west-2",
                "defaultTags": json.dumps({"tags": {"Environment": "Staging"}}),
            },
            custom=True,
        )
    )
    _, outs = _register(
        mocks,
        "aws:sns/topic:Topic",
        "alarms",
        {"name": "west-alarms", "tags": {"Owner": "me"}},
        provider=f"urn:pulumi:s::p::pulumi:providers:aws::west::{provider_id}",
    )
    assert outs["arn"].startswith("arn:aws:sns:eu-west-2:")
    assert outs["tagsAll"] == {"Environment": "Staging", "Owner": "me"}
    tags = mocks.client("sns", "eu-west-2").list_tags_for_resource(ResourceArn=outs["arn"])
    assert sorted(t["Key"] for t in tags["Tags"]) == ["Environment", "Owner"]


def test_an_unnamed_resource_is_autonamed_like_the_provider_does(mocks: MotoMocks) -> None:
    _, outs = _register(mocks, "aws:sns/topic:Topic", "alarms", {})
    assert outs["name"].startswith("alarms-")
    assert len(outs["name"]) == len("alarms-") + 7


def test_an_unknown_resource_type_stops_the_deploy_naming_it(mocks: MotoMocks) -> None:
    with pytest.raises(DeployError) as raised:
        _register(mocks, "aws:s3/bucket:Bucket", "site", {})
    message = str(raised.value)
    assert message.startswith(
        "aws:s3/bucket:Bucket 'site': local mode cannot create this "
        "resource type. Supported types: "
    )
    assert "aws:lambda/function:Function" in message
    assert mocks.errors == [message]


def test_an_input_local_mode_would_drop_is_refused_naming_it(mocks: MotoMocks) -> None:
    with pytest.raises(
        DeployError,
        match=r"does not emulate the input\(s\) fifoTopic; it "
        r"applies: displayName, ",
    ):
        _register(mocks, "aws:sns/topic:Topic", "fifo", {"name": "x.fifo", "fifoTopic": True})


def test_a_moto_refusal_names_the_resource(mocks: MotoMocks) -> None:
    with pytest.raises(DeployError, match=r"^aws:iam/rolePolicy:RolePolicy 'p': .*NoSuchEntity"):
        _register(
            mocks, "aws:iam/rolePolicy:RolePolicy", "p", {"role": "no-such-role", "policy": "{}"}
        )


# ---------------------------------------------------------------------------------------
# The reference checks (pure)


def _valid_snapshot() -> checks.Snapshot:
    account, fn_arn = "123456789012", "arn:aws:lambda:us-east-1:123456789012:function:fn"
    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn"
    topic = "arn:aws:sns:us-east-1:123456789012:alarms"
    return checks.Snapshot(
        functions={"fn": {"FunctionName": "fn", "FunctionArn": fn_arn}},
        policies={
            "fn": [
                {
                    "Sid": "api",
                    "Principal": {"Service": "apigateway.amazonaws.com"},
                    "Condition": {
                        "ArnLike": {
                            "AWS:SourceArn": f"arn:aws:execute-api:us-east-1:{account}:abc/*/*"
                        }
                    },
                }
            ]
        },
        apis={"abc": {"ApiId": "abc", "Name": "api"}},
        integrations={
            "abc": [
                {
                    "IntegrationId": "int1",
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": (
                        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                        f"{fn_arn}/invocations"
                    ),
                }
            ]
        },
        routes={"abc": [{"RouteKey": "GET /health", "Target": "integrations/int1"}]},
        stages={
            "abc": [{"StageName": "$default", "AccessLogSettings": {"DestinationArn": group_arn}}]
        },
        log_groups={"/aws/lambda/fn": group_arn},
        topics=frozenset({topic}),
        alarms=[
            {
                "AlarmName": "errors",
                "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
                "AlarmActions": [topic],
            },
            {
                "AlarmName": "5xx",
                "Dimensions": [
                    {"Name": "ApiId", "Value": "abc"},
                    {"Name": "Stage", "Value": "$default"},
                ],
                "OKActions": [topic],
            },
        ],
        logging_configs={"fn": {"logFormat": "JSON", "logGroup": "/aws/lambda/fn"}},
        region="us-east-1",
        account_id=account,
    )


def test_a_well_wired_stack_has_no_broken_references() -> None:
    assert checks.broken_references(_valid_snapshot()) == []


def _alarm(snap: checks.Snapshot, index: int, **changes: Any) -> list[dict[str, Any]]:
    alarms = [dict(a) for a in snap.alarms]
    alarms[index].update(changes)
    return alarms


BREAKAGES = {
    "integration URI": (
        lambda s: replace(
            s,
            integrations={
                "abc": [{**s.integrations["abc"][0], "IntegrationUri": "arn:aws:lambda:x"}]
            },
        ),
        "API api (abc): integration int1 has URI 'arn:aws:lambda:x', which is not the invoke "
        "ARN of any deployed function (expected arn:aws:apigateway:<region>:lambda:path/"
        "2015-03-31/functions/<function ARN>/invocations)",
    ),
    "route target": (
        lambda s: replace(
            s, routes={"abc": [{"RouteKey": "GET /health", "Target": "integrations/gone"}]}
        ),
        "API api (abc): route 'GET /health' targets 'integrations/gone', but the API's "
        "integrations are integrations/int1",
    ),
    "route without target": (
        lambda s: replace(s, routes={"abc": [{"RouteKey": "GET /health"}]}),
        "API api (abc): route 'GET /health' has no target, so it can never reach the function",
    ),
    "access-log destination": (
        lambda s: replace(
            s,
            stages={
                "abc": [
                    {
                        "StageName": "$default",
                        "AccessLogSettings": {
                            "DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:/gone"
                        },
                    }
                ]
            },
        ),
        "API api (abc): stage '$default' sends access logs to "
        "'arn:aws:logs:us-east-1:123456789012:log-group:/gone', which is not the ARN of an "
        "existing log group (log groups: /aws/lambda/fn)",
    ),
    "permission source": (
        lambda s: replace(
            s,
            policies={
                "fn": [
                    {
                        **s.policies["fn"][0],
                        "Condition": {
                            "ArnLike": {
                                "AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:zzz/*"
                            }
                        },
                    }
                ]
            },
        ),
        "function fn: permission 'api' allows source "
        "'arn:aws:execute-api:us-east-1:123456789012:zzz/*', which is not under the execution "
        "ARN of any deployed API (arn:aws:execute-api:us-east-1:123456789012:abc), so API "
        "Gateway cannot invoke it",
    ),
    "logging log group": (
        lambda s: replace(s, logging_configs={"fn": {"logGroup": "/gone"}}),
        "function fn: logging_config.log_group is '/gone', which does not exist "
        "(log groups: /aws/lambda/fn)",
    ),
    "alarm function dimension": (
        lambda s: replace(
            s, alarms=_alarm(s, 0, Dimensions=[{"Name": "FunctionName", "Value": "other"}])
        ),
        "alarm errors: dimension FunctionName='other' names no deployed function (fn)",
    ),
    "alarm API dimension": (
        lambda s: replace(s, alarms=_alarm(s, 1, Dimensions=[{"Name": "ApiId", "Value": "zzz"}])),
        "alarm 5xx: dimension ApiId='zzz' names no deployed API (abc)",
    ),
    "alarm stage dimension": (
        lambda s: replace(
            s,
            alarms=_alarm(
                s,
                1,
                Dimensions=[{"Name": "ApiId", "Value": "abc"}, {"Name": "Stage", "Value": "v1"}],
            ),
        ),
        "alarm 5xx: dimension Stage='v1' is not a stage of API abc",
    ),
    "alarm action": (
        lambda s: replace(s, alarms=_alarm(s, 0, AlarmActions=["arn:aws:sns:us-east-1:1:gone"])),
        "alarm errors: AlarmActions has 'arn:aws:sns:us-east-1:1:gone', which is not an "
        "existing SNS topic (arn:aws:sns:us-east-1:123456789012:alarms)",
    ),
}


@pytest.mark.parametrize("what", sorted(BREAKAGES))
def test_each_broken_reference_is_reported_alone(what: str) -> None:
    # GIVEN a well-wired stack with exactly one reference broken
    breakage, expected = BREAKAGES[what]
    # THEN exactly that one is reported, saying what it points at and what exists
    assert checks.broken_references(breakage(_valid_snapshot())) == [expected]


def test_the_error_lists_every_broken_reference() -> None:
    error = BrokenReferencesError(["a is broken", "b is broken"])
    assert str(error) == (
        "the deploy left 2 broken references (AWS would refuse these, or accept them and "
        "leave the stack broken):\n  - a is broken\n  - b is broken"
    )


# ---------------------------------------------------------------------------------------
# Whole deploys of the mini program


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


# ---------------------------------------------------------------------------------------
# Stack files


def test_config_is_project_defaults_then_the_stack_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: tap\nruntime: python\nconfig:\n"
        "  timeout: {type: integer, default: 29}\n"
        "  smokeCheck: {type: boolean, default: true}\n"
        "  aws:region: {value: eu-west-1}\n"
    )
    (tmp_path / "Pulumi.ci.yaml").write_text(
        "config:\n  tap:timeout: 20\n  tap:cors:\n    allowOrigins: [https://a.example]\n"
        "  tap:logLevel: DEBUG\n"
    )
    project, config = load_config(tmp_path, "ci")
    assert project == "tap"
    assert config == {
        "tap:timeout": "20",
        "tap:smokeCheck": "true",
        "aws:region": "eu-west-1",
        "tap:cors": '{"allowOrigins": ["https://a.example"]}',
        "tap:logLevel": "DEBUG",
    }
    # A stack without a file gets the project defaults.
    assert load_config(tmp_path, "other")[1]["tap:timeout"] == "29"


def test_an_encrypted_secret_in_the_stack_file_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: tap\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  tap:alarmEmail:\n    secure: v1:abc\n")
    with pytest.raises(
        StackFileError,
        match=r"Pulumi.prod.yaml: tap:alarmEmail is a secret "
        r"encrypted by the Pulumi CLI, which local mode "
        r"cannot decrypt",
    ):
        load_config(tmp_path, "prod")


@pytest.mark.parametrize(
    ("project_yaml", "problem"),
    [
        ("name: [unclosed\n", r"cannot read .*Pulumi\.yaml: "),
        ("- name\n- tap\n", r"Pulumi\.yaml must hold a YAML mapping"),
        ("", r"Pulumi\.yaml has no project name"),
        ("name: ''\nruntime: python\n", r"Pulumi\.yaml has no project name"),
        ("runtime: python\n", r"Pulumi\.yaml has no project name"),
    ],
)
def test_an_unusable_project_file_is_refused_naming_it(
    tmp_path: Path, project_yaml: str, problem: str
) -> None:
    (tmp_path / "Pulumi.yaml").write_text(project_yaml)
    with pytest.raises(StackFileError, match=problem):
        load_config(tmp_path, "dev")


def test_plain_and_empty_config_declarations(tmp_path: Path) -> None:
    # A bare value is the key's value; a declaration without a value or default, or a
    # null one, sets nothing; an empty stack file changes nothing.
    (tmp_path / "Pulumi.yaml").write_text(
        "name: tap\nconfig:\n  logLevel: DEBUG\n  alarmEmail: {type: string}\n  tracing:\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("")
    assert load_config(tmp_path, "dev") == ("tap", {"tap:logLevel": "DEBUG"})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (20, "20"),
        (2.5, "2.5"),
        ("x", "x"),
        ({"a": [1]}, '{"a": [1]}'),
        (["a"], '["a"]'),
    ],
)
def test_config_values_become_the_strings_pulumi_config_holds(value: Any, text: str) -> None:
    assert config_text(value) == text


@pytest.mark.parametrize(
    ("uri", "arn"),
    [
        (
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:us-east-1:1:function:f/invocations",
            "arn:aws:lambda:us-east-1:1:function:f",
        ),
        ("arn:aws:lambda:us-east-1:1:function:f", "arn:aws:lambda:us-east-1:1:function:f"),
        ("https://example.com/", None),
        ("arn:aws:sqs:us-east-1:1:queue", None),
    ],
)
def test_integration_uris_lead_to_function_arns(uri: str, arn: str | None) -> None:
    from tap.local.deploy.readback import function_arn_from_uri

    assert function_arn_from_uri(uri) == arn


# ---------------------------------------------------------------------------------------
# Reading back what cannot be served


def _specs(server: MotoServer, deployed: list[Deployed], *, strict: bool = True) -> Any:
    from tap.local.deploy.readback import build_specs

    return build_specs(
        lambda service: server.client(service, REGION),
        lambda name: b"",
        deployed,
        region=REGION,
        account_id=server.account_id,
        strict=strict,
    )


def _api(server: MotoServer, protocol: str = "HTTP") -> tuple[Any, Deployed]:
    apigw = server.client("apigatewayv2", REGION)
    api_id = apigw.create_api(Name=f"api-{secrets.token_hex(3)}", ProtocolType=protocol)["ApiId"]
    return apigw, Deployed(type=API_TYPE, name="api", id=api_id, inputs={}, outputs={})


def _lambda_route(apigw: Any, api_id: str, key: str, payload: str) -> None:
    uri = f"arn:aws:lambda:{REGION}:123456789012:function:fn-{secrets.token_hex(3)}"
    integration = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=uri,
        PayloadFormatVersion=payload,
    )["IntegrationId"]
    apigw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration}")


def test_local_mode_serves_exactly_one_http_api(server: MotoServer) -> None:
    with pytest.raises(ReadbackError, match="exactly one HTTP API; the program created 0"):
        _specs(server, [])
    _, websocket = _api(server, "WEBSOCKET")
    with pytest.raises(ReadbackError, match=r"is a WEBSOCKET API; local mode serves HTTP APIs"):
        _specs(server, [websocket])


def test_an_api_without_a_stage_is_refused(server: MotoServer) -> None:
    _, api = _api(server)
    with pytest.raises(ReadbackError, match=f"API {api.id} has no stage"):
        _specs(server, [api])


def test_a_route_to_no_lambda_fails_only_a_strict_read(server: MotoServer) -> None:
    apigw, api = _api(server)
    apigw.create_stage(ApiId=api.id, StageName="v1")
    apigw.create_route(ApiId=api.id, RouteKey="GET /x")
    with pytest.raises(ReadbackError, match=r"route 'GET /x' does not lead to a Lambda function"):
        _specs(server, [api])
    # Mid-deploy, the route is left out until its integration exists; the one stage serves.
    spec, functions = _specs(server, [api], strict=False)
    assert (spec.routes, spec.stage, functions) == ({}, "v1", {})


def test_integrations_that_mix_payload_formats_are_refused(server: MotoServer) -> None:
    apigw, api = _api(server)
    apigw.create_stage(ApiId=api.id, StageName="$default")
    _lambda_route(apigw, api.id, "GET /a", "1.0")
    _lambda_route(apigw, api.id, "GET /b", "2.0")
    with pytest.raises(ReadbackError, match=r"mix payload formats \['1.0', '2.0'\]"):
        _specs(server, [api])
