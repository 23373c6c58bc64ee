"""The HTTP API's JWT authorizer, as the local emulator applies it (docs/http-api.md rules
60-62): called from the emulator's routing step for a route that has one.

A token passes only when every step API Gateway documents passes: the identity source holds
a token (bare, or after ``Bearer``); its header names an RSA algorithm and a ``kid`` found
in the issuer's JWKS; the signature verifies with that key; ``iss`` equals the configured
issuer; ``aud`` (or, only without ``aud``, ``client_id``) is one of the audiences; ``exp``
is after now, ``nbf`` and ``iat`` not after now. A failure answers 401
``{"message":"Unauthorized"}``; a valid token lacking every scope the route requires
answers 403 ``{"message":"Forbidden"}`` (rule 61, assumed). The claims reach the function as
strings, where API Gateway puts them (rule 62).

The clock is a parameter, so tests decide what "now" is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tap.local.gateway.apigw import HttpResponse, json_response
from tap.local.specs import RouteAuth
from tap.text import quote

# "Currently, only RSA-based algorithms are supported" (rule 60).
RSA_ALGORITHMS = ("RS256", "RS384", "RS512")


class JwksError(ValueError):
    """A JWKS document that holds no usable RSA key; the message says why."""


def parse_jwks(document: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """``kid`` -> public key, from a JWKS document (``{"keys": [...]}``) as text or data.

    Only RSA keys with a ``kid`` are kept (the authorizer matches keys by ``kid``).
    """
    try:
        data = json.loads(document) if isinstance(document, (str, bytes)) else document
    except ValueError as error:
        raise JwksError(f"not JSON: {error}") from None
    keys = data.get("keys") if isinstance(data, Mapping) else None
    if not isinstance(keys, list):
        raise JwksError('not a JWKS document: expected {"keys": [...]}')
    # pyjwt (and cryptography under it) only when a stack has an authorizer: imported here
    # rather than with the module, it no longer adds to every `tap local` start.
    import jwt
    from jwt.algorithms import RSAAlgorithm

    parsed: dict[str, Any] = {}
    for key in keys:
        if not isinstance(key, Mapping) or key.get("kty") != "RSA" or not key.get("kid"):
            continue
        try:
            parsed[str(key["kid"])] = RSAAlgorithm.from_jwk(dict(key))
        except (jwt.InvalidKeyError, ValueError, KeyError) as error:
            kid = quote(key.get("kid"))
            raise JwksError(f"key {kid} is not a valid RSA key: {error}") from None
    if not parsed:
        raise JwksError("it holds no RSA key with a kid")
    return parsed


@dataclass(frozen=True)
class Decision:
    """What the authorizer decided: ``status`` 200 (let in), 401 or 403."""

    status: int
    reason: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)
    scopes: tuple[str, ...] | None = None

    @property
    def allowed(self) -> bool:
        return self.status == 200

    def response(self) -> HttpResponse:
        """API Gateway's own answer to a denied request (rule 61)."""
        if self.status == 403:
            response = json_response(403, "Forbidden")
            error = "insufficient_scope"
        else:
            response = json_response(401, "Unauthorized")
            error = "invalid_token"
        challenge = f'Bearer scope="" error="{error}" error_description="{self.reason}"'
        response.headers.append(("www-authenticate", challenge))
        return response

    def event_authorizer(self) -> dict[str, Any]:
        """``requestContext.authorizer`` for the function (rule 62): claims as strings."""
        return {
            "jwt": {
                "claims": {name: claim_text(value) for name, value in self.claims.items()},
                "scopes": list(self.scopes) if self.scopes is not None else None,
            }
        }


def claim_text(value: Any) -> str:
    """A claim as API Gateway passes it on: a string (numbers too, lists as ``[a b]``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(claim_text(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    return json.dumps(value, separators=(",", ":"))


def _deny(reason: str) -> Decision:
    return Decision(401, reason)


def token_from(identity: str | None) -> str | None:
    """The token in the identity source: the whole value, or what follows ``Bearer``."""
    if identity is None:
        return None
    value = identity.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(name)
    return float(value)


def _token_scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return tuple(value.split())
        if isinstance(value, list):
            return tuple(str(v) for v in value)
    return ()


def authorize(identity: str | None, route: RouteAuth, now: float) -> Decision:
    """Validate the identity source's token for ``route`` at time ``now`` (epoch seconds)."""
    token = token_from(identity)
    if token is None:
        return _deny("no token in the Authorization header")
    authorizer = route.authorizer
    import jwt  # see parse_jwks

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return _deny("the token is not a JWT")
    algorithm = header.get("alg")
    if algorithm not in RSA_ALGORITHMS:
        return _deny(f"the token's algorithm {quote(algorithm)} is not RSA")
    key = authorizer.keys.get(str(header.get("kid")))
    if key is None:
        return _deny("the token's kid matches no key of the issuer")
    try:
        # Signature only: each claim is checked below against the injected clock.
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError:
        return _deny("the token's signature does not verify")
    if claims.get("iss") != authorizer.issuer:
        return _deny("the token does not have a valid issuer")
    audience = claims.get("aud")
    if audience is not None:
        given = [audience] if isinstance(audience, str) else audience
        ok = isinstance(given, list) and any(a in authorizer.audiences for a in given)
    else:
        ok = claims.get("client_id") in authorizer.audiences
    if not ok:
        return _deny("the token does not have a valid audience")
    try:
        expires, not_before, issued = (_number(claims, n) for n in ("exp", "nbf", "iat"))
    except ValueError as error:
        return _deny(f"the token's {error} is not a number")
    if expires is None or expires <= now:
        return _deny("the token has expired")
    if not_before is not None and not_before > now:
        return _deny("the token is not valid yet")
    if issued is not None and issued > now:
        return _deny("the token was issued in the future")
    token_scopes = _token_scopes(claims)
    if route.scopes:
        if not set(route.scopes) & set(token_scopes):
            return Decision(403, "the token has none of the route's scopes")
        return Decision(200, claims=claims, scopes=token_scopes)
    return Decision(200, claims=claims, scopes=None)
