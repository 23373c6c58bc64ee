"""The reference checks local mode adds for tap:auth and tap:domain (pure, on snapshots):
what moto accepts but AWS would refuse, or accept and leave broken."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tap.local.deploy import checks
from tests.local.test_deployment import _valid_snapshot

POOL = "us-east-1_Pool1"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/c1"


def _secured() -> checks.Snapshot:
    snap = _valid_snapshot()
    return replace(
        snap,
        routes={
            "abc": [
                {"RouteKey": "GET /health", "Target": "integrations/int1"},
                {
                    "RouteKey": "POST /{proxy+}",
                    "Target": "integrations/int1",
                    "AuthorizationType": "JWT",
                    "AuthorizerId": "au1",
                },
            ]
        },
        authorizers={
            "au1": {"Name": "jwt", "JwtConfiguration": {"Issuer": ISSUER, "Audience": ["cl1"]}}
        },
        user_pool_clients={POOL: frozenset({"cl1"})},
        domains={"api.example.com": {"DomainNameConfigurations": [{"CertificateArn": CERT}]}},
        api_mappings={
            "api.example.com": [{"ApiMappingId": "m1", "ApiId": "abc", "Stage": "$default"}]
        },
        certificates=frozenset({CERT}),
    )


def test_a_well_wired_secured_stack_has_no_broken_references() -> None:
    assert checks.broken_references(_secured()) == []


def _with(snap: checks.Snapshot, **changes: Any) -> checks.Snapshot:
    return replace(snap, **changes)


BREAKAGES = {
    "route authorizer": (
        lambda s: _with(s, authorizers={}),
        "API abc: route 'POST /{proxy+}' names authorizer 'au1', which the API does not have",
    ),
    "issuer pool": (
        lambda s: _with(s, user_pool_clients={}),
        f"authorizer jwt: issuer {ISSUER} names no deployed user pool",
    ),
    "audience": (
        lambda s: _with(s, user_pool_clients={POOL: frozenset({"other"})}),
        f"authorizer jwt: audiences cl1 name no app client of pool {POOL} (other), so every "
        "token would be refused",
    ),
    "certificate": (
        lambda s: _with(s, certificates=frozenset()),
        f"domain api.example.com: certificate {CERT} does not exist in ACM (none)",
    ),
    "mapping": (
        lambda s: _with(
            s,
            api_mappings={
                "api.example.com": [{"ApiMappingId": "m1", "ApiId": "abc", "Stage": "prod"}]
            },
        ),
        "domain api.example.com: mapping m1 points at stage 'prod' of API 'abc', which does "
        "not exist",
    ),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_each_broken_auth_or_domain_reference_is_named(name: str) -> None:
    breaks, message = BREAKAGES[name]

    assert checks.broken_references(breaks(_secured())) == [message]


def test_an_external_issuer_is_not_checked_against_the_pools() -> None:
    external = {"Name": "jwt", "JwtConfiguration": {"Issuer": "https://idp.example.com/"}}

    assert checks.broken_references(_with(_secured(), authorizers={"au1": external})) == []
