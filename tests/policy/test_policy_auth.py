"""The tap:auth and tap:domain rules (TAP-AUTH-*, TAP-DOMAIN-*) on the real program's
stacks under mocks, and on single-property mutations of them."""

from __future__ import annotations

import json

import pytest

from tap.policy import rules as r
from tests.policy.stacks import TODAY, from_recording
from tests.pulumi_mocks import run_program

COGNITO = json.dumps({"type": "cognito"})
ZONE_DOMAIN = json.dumps({"name": "api.example.com", "zoneId": "Z0123456789ABC"})


@pytest.fixture(scope="module")
def secured() -> list[r.Resource]:
    return from_recording(run_program({"auth": COGNITO, "domain": ZONE_DOMAIN}))


def _replace(stack: list[r.Resource], name: str, **props: object) -> list[r.Resource]:
    out = []
    for resource in stack:
        if resource.name == name:
            merged = {**resource.props, **props}
            resource = r.Resource(
                resource.type, resource.name, merged, resource.urn, resource.provider
            )
        out.append(resource)
    return out


def _without(stack: list[r.Resource], name: str, *keys: str) -> list[r.Resource]:
    out = []
    for resource in stack:
        if resource.name == name:
            props = {k: v for k, v in resource.props.items() if k not in keys}
            resource = r.Resource(
                resource.type, resource.name, props, resource.urn, resource.provider
            )
        out.append(resource)
    return out


def test_the_secured_stack_passes_every_rule_auth_and_domain_included(
    secured: list[r.Resource],
) -> None:
    report = r.evaluate(secured, today=TODAY)

    assert report.fired("mandatory") == set()
    assert not report.fired() & {"TAP-AUTH-001", "TAP-AUTH-002", "TAP-DOMAIN-001", "TAP-DOMAIN-002"}
    applied = {rule.id for rule in r.RULES if any(rule.applies_to(x) for x in secured)}
    assert {"TAP-AUTH-001", "TAP-AUTH-002", "TAP-DOMAIN-001", "TAP-DOMAIN-002"} <= applied


def test_a_route_that_lost_its_authorizer_fires_auth_001(secured: list[r.Resource]) -> None:
    stack = _without(secured, "tap-http-route-post-proxy", "authorizationType", "authorizerId")

    report = r.evaluate(stack, today=TODAY)

    [violation] = [v for v in report.violations if v.rule_id == "TAP-AUTH-001"]
    assert violation.severity == "mandatory"
    assert violation.message == (
        "route 'POST /{proxy+}' has no authorizer while the API has a JWT authorizer: anyone "
        "can call it; add it to tap:auth's publicRoutes only if it must be open"
    )


def test_a_public_route_is_open_only_when_declared_so(secured: list[r.Resource]) -> None:
    stack = _without(secured, "tap-http-route-get-health", "operationName")

    report = r.evaluate(stack, today=TODAY)

    assert "TAP-AUTH-001" in report.fired("mandatory")


def test_without_tap_auth_open_routes_are_the_documented_exception() -> None:
    stack = from_recording(run_program({}))

    assert "TAP-AUTH-001" not in r.evaluate(stack, today=TODAY).fired()
    exemption = next(e for e in r.EXEMPTIONS if e.what == "Routes without authorization")
    assert exemption.reason.startswith("Only without `tap:auth`")


@pytest.mark.parametrize(
    ("jwt", "message"),
    [
        (
            {"issuer": "http://idp.example.com", "audiences": ["a"]},
            "jwtConfiguration.issuer is 'http://idp.example.com': a JWT issuer must be an https "
            "URL, the keys that sign the tokens are fetched from it (docs/http-api.md rule 60)",
        ),
        (
            {"audiences": ["a"]},
            "jwtConfiguration.issuer is None: a JWT issuer must be an https URL, the keys that "
            "sign the tokens are fetched from it (docs/http-api.md rule 60)",
        ),
        (
            {"issuer": "https://idp.example.com", "audiences": []},
            "jwtConfiguration.audiences is empty: a token for any client would be accepted",
        ),
    ],
)
def test_an_insecure_jwt_authorizer_fires_auth_002(
    secured: list[r.Resource], jwt: dict[str, object], message: str
) -> None:
    stack = _replace(secured, "tap-http-authorizer", jwtConfiguration=jwt)

    report = r.evaluate(stack, today=TODAY)

    [violation] = [v for v in report.violations if v.rule_id == "TAP-AUTH-002"]
    assert violation.message == message


def test_a_domain_below_tls_1_2_fires_domain_001(secured: list[r.Resource]) -> None:
    domain = next(x for x in secured if x.type == r.HTTP_API_DOMAIN_NAME)
    config = {**domain.props["domainNameConfiguration"], "securityPolicy": "TLS_1_0"}
    stack = _replace(secured, domain.name, domainNameConfiguration=config)

    report = r.evaluate(stack, today=TODAY)

    assert report.fired("mandatory") == {"TAP-DOMAIN-001"}
    [violation] = [v for v in report.violations if v.rule_id == "TAP-DOMAIN-001"]
    assert violation.message == (
        "domainNameConfiguration.securityPolicy is 'TLS_1_0': use TLS_1_2 "
        "(TLS 1.0 and 1.1 are deprecated: docs/http-api.md rule 64)"
    )


def test_re_enabling_the_default_endpoint_is_only_advisory() -> None:
    domain = json.dumps(
        {"name": "api.example.com", "zoneId": "Z0123456789ABC", "disableDefaultEndpoint": False}
    )
    stack = from_recording(run_program({"domain": domain}))

    report = r.evaluate(stack, today=TODAY)

    assert "TAP-DOMAIN-002" in report.fired("advisory")
    assert report.fired("mandatory") == set()
    [violation] = [v for v in report.violations if v.rule_id == "TAP-DOMAIN-002"]
    assert violation.message == (
        "the stack serves a custom domain but the execute-api endpoint stays open: clients can "
        "bypass the domain (docs/http-api.md rule 65); set tap:domain.disableDefaultEndpoint "
        "to true unless that is intended"
    )


def test_an_authorizer_type_unknown_during_preview_leaves_the_routes_undecided(
    secured: list[r.Resource],
) -> None:
    stack = _replace(secured, "tap-http-authorizer", authorizerType=r.UNKNOWN)

    report = r.evaluate(stack, today=TODAY)

    assert "TAP-AUTH-001" not in report.fired()
    assert {u.what for u in report.undecided if u.rule_id == "TAP-AUTH-001"} == {"authorizerType"}
