"""Local mode's mocks (tap.local.deploy.mocks and its appliers), driven directly with inputs
shaped as the mock runtime delivers them (camelCase, floats, wrapped secrets)."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from pulumi.runtime import MockResourceArgs

from tap.engine import secret
from tap.local.deploy.deployment import DeployError
from tap.local.deploy.mocks import MotoMocks
from tap.local.deploy.motoserver import MotoServer

REGION = "us-east-1"


@pytest.fixture
def mocks(server: MotoServer) -> MotoMocks:
    return MotoMocks(server, REGION, stage_url=lambda api, stage: "http://127.0.0.1:1/")


def _register(
    mocks: MotoMocks, typ: str, name: str, inputs: dict[str, Any], provider: str = ""
) -> tuple[str | None, dict[str, Any]]:
    return mocks.new_resource(MockResourceArgs(typ, name, inputs, provider=provider, custom=True))


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
