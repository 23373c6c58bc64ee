"""tap:auth and tap:domain end to end (issue 15, Must show 2): a stack with a Cognito pool and a
custom domain, deployed locally into moto and served by the emulator, or a live one
(``TAP_TARGET=aws``, see below).

Live: ``TAP_STACK`` names a stack with ``tap:auth`` type cognito, and ``TAP_TOKEN`` holds an
access token of a user of its pool (an SRP sign-in with the app client). The tests that
need a token signed by the pool's own key with other claims (expired, another audience)
can only be made locally, where the pool's key is moto's.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import jwt
import pytest

from tap import config as tap_config
from tests.integration.stack_target import (
    ALLOWED_ORIGIN,
    TARGET,
    Response,
    StackUnderTest,
    aws_stack,
)

pytestmark = pytest.mark.integration

DOMAIN = "api.example.com"
SCOPED_ROUTE = "DELETE /{proxy+}"
ADMIN_SCOPE = "tap/admin"
LOCAL_AUTH_CONFIG = {
    "auth": json.dumps({"type": "cognito", "scopes": {SCOPED_ROUTE: [ADMIN_SCOPE]}}),
    "domain": json.dumps({"name": DOMAIN, "zoneId": "Z0123456789ABCDEFGHIJ"}),
    "cors": json.dumps({"allowOrigins": [ALLOWED_ORIGIN], "maxAge": 600}),
}
local_only = pytest.mark.skipif(
    TARGET != "local", reason="needs the pool's signing key: only moto's is at hand"
)


class Secured:
    """The stack under test, and a way to get a token for one of its users."""

    def __init__(self, stack: StackUnderTest, token: str, deployment: Any = None) -> None:
        self.stack = stack
        self.token = token
        self.deployment = deployment

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        return self.stack.request(method, path, headers=all_headers, body=body)


@pytest.fixture(scope="module")
def secured() -> Iterator[Secured]:
    if TARGET == "aws":
        token = os.environ.get("TAP_TOKEN")
        if not token:
            raise pytest.UsageError("TAP_TARGET=aws needs TAP_TOKEN: an access token of the pool")
        live = aws_stack()
        if "custom_domain_url" in live.outputs:
            # With a custom domain the execute-api URL may be disabled: call the domain.
            outputs = {**live.outputs, "api_gateway_url": live.outputs["custom_domain_url"]}
            live = StackUnderTest("aws", outputs, live.config, live._client, live._logging_config)
        yield Secured(live, token)
        return
    from tap.local.deploy.deployment import deploy
    from tap.local.token import issue_token

    account_id = f"{secrets.randbelow(10**12):012d}"
    deployment = deploy(config=LOCAL_AUTH_CONFIG, account_id=account_id)
    try:
        prefix = tap_config.NAMESPACE + ":"
        config = tap_config.parse(
            {k[len(prefix) :]: v for k, v in deployment.config.items() if k.startswith(prefix)}
        )
        stack = StackUnderTest("local", deployment.outputs, config, deployment.client, dict)
        tokens = issue_token(
            deployment.client("cognito-idp"),
            deployment.outputs["user_pool_id"],
            deployment.outputs["user_pool_client_id"],
            "integration-user",
        )
        yield Secured(stack, tokens["access_token"], deployment)
    finally:
        deployment.stop()


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _moto_pool_key() -> Any:
    """The private key moto signs every pool's tokens with (its jwks-private.json)."""
    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz")
    return jwt.algorithms.RSAAlgorithm.from_jwk(gzip.decompress(raw.read_bytes()).decode())


def _signed(claims: Mapping[str, Any]) -> str:
    return jwt.encode(dict(claims), _moto_pool_key(), algorithm="RS256", headers={"kid": "dummy"})


UNAUTHORIZED = {"message": "Unauthorized"}


def test_health_is_open_without_a_token(secured: Secured) -> None:
    response = secured.call("GET", "/health")

    assert response.status == 200
    assert response.json()["status"] == "healthy"


def test_a_protected_route_without_a_token_is_401(secured: Secured) -> None:
    response = secured.call("POST", "/items", body=b'{"a": 1}')

    assert response.status == 401
    assert response.json() == UNAUTHORIZED
    assert "invalid_token" in response.headers.get("www-authenticate", "")


def test_a_token_of_the_pool_gets_200_with_the_callers_sub(secured: Secured) -> None:
    response = secured.call("POST", "/items", token=secured.token, body=b'{"a": 1}')

    assert response.status == 200
    body = response.json()
    assert body["data"] == {"a": 1}
    assert body["sub"] == _claims(secured.token)["sub"]


def test_a_token_from_the_tap_token_command_is_accepted(
    secured: Secured, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    if TARGET != "local":
        pytest.skip("tap token serves local mode only")
    from tap.local import cli, printing, token

    deployment = secured.deployment
    (tmp_path / "Pulumi.yaml").write_text("name: tap\n")
    (tmp_path / "__main__.py").write_text("")
    deployment.program_dir = tmp_path
    state = cli._write_token_state(deployment, printing.Printer(io.StringIO()))
    assert state == tmp_path / ".tap" / "local" / f"{deployment.stack}.json"

    code = token.run(["--stack", deployment.stack, "--program-dir", str(tmp_path), "--user", "bob"])

    printed = capsys.readouterr().out.strip()
    assert code == 0
    response = secured.call("PUT", "/things/1", token=printed, body=b"{}")
    assert response.status == 200
    assert response.json()["sub"] == _claims(printed)["sub"]
    assert _claims(printed)["username"] == "bob"


def test_a_tampered_token_is_401(secured: Secured) -> None:
    header, _, signature = secured.token.split(".")
    claims = _claims(secured.token)
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = secured.call("POST", "/items", token=f"{header}.{forged}.{signature}", body=b"{}")

    assert response.status == 401
    assert response.json() == UNAUTHORIZED


@local_only
def test_an_expired_token_is_401(secured: Secured) -> None:
    claims = _claims(secured.token)
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)

    response = secured.call("POST", "/items", token=_signed(claims), body=b"{}")

    assert response.status == 401
    assert response.json() == UNAUTHORIZED


@local_only
def test_a_token_for_another_client_is_401(secured: Secured) -> None:
    claims = _claims(secured.token)
    claims["client_id"] = "another-app-client"

    response = secured.call("POST", "/items", token=_signed(claims), body=b"{}")

    assert response.status == 401
    assert "valid audience" in response.headers["www-authenticate"]


@local_only
def test_the_same_claims_signed_by_the_pool_are_accepted(secured: Secured) -> None:
    # The control for the two tests above: only the changed claim made them fail.
    response = secured.call("POST", "/items", token=_signed(_claims(secured.token)), body=b"{}")

    assert response.status == 200


def test_a_token_without_the_routes_scope_is_403(secured: Secured) -> None:
    response = secured.call("DELETE", "/things/1", token=secured.token)

    assert response.status == 403
    assert response.json() == {"message": "Forbidden"}


def test_a_preflight_from_an_allowed_origin_is_204_without_a_token(secured: Secured) -> None:
    headers = {
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }

    response = secured.call("OPTIONS", "/items", headers=headers)

    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_the_custom_domain_is_served(secured: Secured) -> None:
    assert secured.stack.outputs["custom_domain_url"] == f"https://{DOMAIN}/"
    if TARGET == "aws":
        return  # the live URL is the domain itself: every other test went through it
    response = secured.call("GET", "/health", headers={"Host": DOMAIN})
    assert response.status == 200


def test_the_domain_and_its_records_exist(secured: Secured) -> None:
    apigw = secured.stack.client("apigatewayv2")

    domain = apigw.get_domain_name(DomainName=DOMAIN)
    mappings = apigw.get_api_mappings(DomainName=DOMAIN)["Items"]

    assert domain["DomainNameConfigurations"][0]["SecurityPolicy"] == "TLS_1_2"
    assert [(m["ApiId"], m["Stage"]) for m in mappings] == [
        (secured.stack.outputs["api_gateway_id"], "$default")
    ]
    api = apigw.get_api(ApiId=secured.stack.outputs["api_gateway_id"])
    assert api["DisableExecuteApiEndpoint"] is True
