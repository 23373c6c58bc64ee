"""tap/local/gateway/jwt_auth.py: the emulator's JWT authorizer, step by step as docs/http-api.md
rules 60-62 describe API Gateway's, with keys made here and an injected clock."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tap.local import specs
from tap.local.gateway import jwt_auth as ja

NOW = 1_800_000_000.0
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
CLIENT = "client-123"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY = _key(), _key()


def _jwks(*pairs: tuple[str, rsa.RSAPrivateKey]) -> dict[str, Any]:
    keys = []
    for kid, key in pairs:
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": keys}


AUTHORIZER = specs.JwtAuthorizer(ISSUER, (CLIENT,), ja.parse_jwks(_jwks(("k1", KEY))))
ROUTE = specs.RouteAuth(AUTHORIZER)


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-1",
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "iat": int(NOW) - 60,
        "exp": int(NOW) + 3600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any], key: Any = KEY, kid: str = "k1", alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _decide(token: str | None, route: specs.RouteAuth = ROUTE) -> ja.Decision:
    return ja.authorize(None if token is None else f"Bearer {token}", route, NOW)


def test_a_valid_access_token_is_let_in_with_its_claims_as_strings() -> None:
    decision = _decide(_token(_claims()))

    assert decision.allowed
    event = decision.event_authorizer()
    assert event["jwt"]["claims"]["sub"] == "user-1"
    assert event["jwt"]["claims"]["exp"] == str(int(NOW) + 3600)  # rule 62: strings
    assert event["jwt"]["scopes"] is None


def test_the_bare_token_is_accepted_too() -> None:
    assert ja.authorize(_token(_claims()), ROUTE, NOW).allowed


@pytest.mark.parametrize(
    ("identity", "reason"),
    [
        (None, "no token"),
        ("", "no token"),
        ("Bearer ", "no token"),
        ("Bearer not.a.jwt", "not a JWT"),
    ],
)
def test_no_usable_token_is_401(identity: str | None, reason: str) -> None:
    decision = ja.authorize(identity, ROUTE, NOW)

    assert decision.status == 401
    assert reason in decision.reason
    response = decision.response()
    assert (response.status, json.loads(response.body)) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (_token(_claims(), key=OTHER_KEY), "signature"),
        (_token(_claims(), kid="unknown"), "kid"),
        (_token(_claims(), key="shared-secret-of-32-bytes-or-more!!", alg="HS256"), "not RSA"),
        (_token(_claims(iss="https://evil.example.com/")), "issuer"),
        (_token(_claims(client_id="other")), "audience"),
        (_token(_claims(aud="other", client_id=CLIENT)), "audience"),  # aud wins over client_id
        (_token(_claims(exp=int(NOW))), "expired"),
        (_token(_claims(exp=None)), "expired"),
        (_token(_claims(nbf=int(NOW) + 60)), "not valid yet"),
        (_token(_claims(iat=int(NOW) + 60)), "future"),
        (_token(_claims(exp="soon")), "not a number"),
    ],
)
def test_each_failing_step_is_401_naming_it(token: str, reason: str) -> None:
    decision = _decide(token)

    assert decision.status == 401
    assert reason in decision.reason


def test_an_id_token_passes_on_its_aud() -> None:
    claims = _claims(client_id=None, aud=CLIENT, token_use="id")

    assert _decide(_token(claims)).allowed
    assert _decide(_token({**claims, "aud": ["x", CLIENT]})).allowed


def test_a_tampered_payload_is_401() -> None:
    header, _, signature = _token(_claims()).split(".")
    forged = _token(_claims(sub="admin")).split(".")[1]

    assert _decide(f"{header}.{forged}.{signature}").status == 401


def test_scopes_need_one_match_else_403() -> None:
    route = specs.RouteAuth(AUTHORIZER, ("tap/read", "tap/write"))

    allowed = _decide(_token(_claims(scope="openid tap/write")), route)
    denied = _decide(_token(_claims()), route)
    via_scp = _decide(_token(_claims(scope=None, scp=["tap/read"])), route)

    assert allowed.allowed
    assert allowed.event_authorizer()["jwt"]["scopes"] == ["openid", "tap/write"]
    assert via_scp.allowed
    assert denied.status == 403
    response = denied.response()
    assert (response.status, json.loads(response.body)) == (403, {"message": "Forbidden"})


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ("not json", "not JSON"),
        ({"keys": "x"}, "not a JWKS document"),
        ({"keys": [{"kty": "EC", "kid": "a"}]}, "no RSA key with a kid"),
        ({"keys": [{"kty": "RSA", "kid": "a", "n": "x"}]}, "not a valid RSA key"),
    ],
)
def test_a_bad_jwks_is_refused_saying_why(document: Any, error: str) -> None:
    with pytest.raises(ja.JwksError, match=error):
        ja.parse_jwks(document if isinstance(document, str) else json.dumps(document))


def test_claims_keep_api_gateways_string_shapes() -> None:
    assert ja.claim_text(["admin", "ops"]) == "[admin ops]"
    assert ja.claim_text(True) == "true"
    assert ja.claim_text(1.5) == "1.5"
    assert ja.claim_text({"a": 1}) == '{"a":1}'
