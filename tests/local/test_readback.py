"""Reading back what moto holds (tap.local.deploy.readback): what the emulator serves, and
what cannot be served."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tap.local.deploy.motoserver import MotoServer
from tap.local.deploy.readback import API_TYPE, ReadbackError
from tap.local.deploy.resources import Deployed

REGION = "us-east-1"


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
