"""tap/engine.py: what the engine hands over, checked against Pulumi and pulumi-aws."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime import rpc
from pulumi_policy import proxy

from tap import engine
from tap.local.deploy.mocks import APPLIERS
from tests.pulumi_mocks import aws_class, takes_tags_in_pulumi_aws


def test_the_secret_marker_is_pulumis() -> None:
    assert rpc._special_sig_key == engine.SECRET_SIG_KEY
    assert rpc._special_secret_sig == engine.SECRET_SIG


def test_secrets_unwrap_at_any_depth() -> None:
    wrapped = {"a": [engine.secret({"b": engine.secret("x")})], "c": 1}
    assert engine.is_secret(engine.secret(None))
    assert engine.unwrap_secrets(wrapped) == {"a": [{"b": "x"}], "c": 1}


@pytest.mark.parametrize(
    "default_tags",
    [
        json.dumps({"tags": {"Environment": "Prod"}}),  # as the engine passes provider inputs
        {"tags": {"Environment": "Prod"}},  # a parsed provider state
        [{"tags": {"Environment": "Prod"}}],  # older pulumi-aws: a one-element list
        {"tags": json.dumps({"Environment": "Prod"})},
    ],
)
def test_provider_default_tags_in_every_shape(default_tags: object) -> None:
    assert engine.provider_default_tags({"defaultTags": default_tags}) == {"Environment": "Prod"}


def test_no_or_bad_default_tags() -> None:
    assert engine.provider_default_tags(None) == {}
    assert engine.provider_default_tags({"region": "us-east-1"}) == {}
    with pytest.raises(ValueError, match="provider defaultTags is not valid JSON"):
        engine.provider_default_tags({"defaultTags": "{"})


def test_own_tags_override_defaults_key_by_key() -> None:
    tags = engine.effective_tags({"A": "1", "B": "1"}, {"B": "2"}, None, {"C": "3"})
    assert tags == {"A": "1", "B": "2", "C": "3"}


def test_every_declared_type_is_a_pulumi_aws_class_with_the_declared_taggability() -> None:
    for token, kind in engine.RESOURCE_TYPES.items():
        if not token.startswith("aws:"):
            continue
        assert aws_class(token) is not None, token
        assert takes_tags_in_pulumi_aws(token) is kind.taggable, token


def test_local_mode_deploys_exactly_the_types_the_harness_answers() -> None:
    assert set(APPLIERS) == set(engine.aws_types())


def test_an_unknown_type_is_taggable_only_when_it_carries_tags() -> None:
    assert engine.is_taggable(engine.LAMBDA_FUNCTION)
    assert not engine.is_taggable(engine.HTTP_API_ROUTE)
    assert engine.is_taggable("aws:s3/bucket:Bucket", {"tagsAll": {}})
    assert not engine.is_taggable("aws:s3/bucket:Bucket", {"bucket": "b"})


def test_the_arn_builders() -> None:
    fn = engine.lambda_function_arn("eu-west-1", "123456789012", "f")
    assert fn == "arn:aws:lambda:eu-west-1:123456789012:function:f"
    assert engine.lambda_invoke_arn("eu-west-1", fn) == (
        "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:eu-west-1:123456789012:function:f/invocations"
    )
    assert engine.execute_api_arn("eu-west-1", "1", "abc") == "arn:aws:execute-api:eu-west-1:1:abc"
    assert engine.http_api_stage_arn("r", "abc", "$default") == (
        "arn:aws:apigateway:r::/apis/abc/stages/$default"
    )


def test_the_unknown_sentinels_are_the_engines() -> None:
    assert rpc.UNKNOWN == engine.UNKNOWN_STRING
    assert {
        getattr(proxy, name) for name in dir(proxy) if name.startswith("UNKNOWN_")
    } == engine.UNKNOWN_SENTINELS


def test_an_invoke_arn_gives_back_its_function_arn() -> None:
    fn = "arn:aws:lambda:eu-west-1:123456789012:function:f:$LATEST"
    assert engine.function_arn_of_invoke_arn(engine.lambda_invoke_arn("eu-west-1", fn)) == fn
    assert engine.function_arn_of_invoke_arn(fn) is None
    assert engine.function_arn_of_invoke_arn("https://example.com/invocations") is None
