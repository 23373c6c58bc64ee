"""tap:auth and tap:domain under Pulumi's mocks: the exact resources and their inputs."""

from __future__ import annotations

import json

import pytest

from tap import auth as auth_layer
from tap import engine
from tap.function.routes import ROUTE_KEYS
from tests.pulumi_mocks import ProgramRun, run_program

API = engine.HTTP_API
ROUTE = engine.HTTP_API_ROUTE
AUTHORIZER = engine.HTTP_API_AUTHORIZER
POOL = engine.USER_POOL
CLIENT = engine.USER_POOL_CLIENT
CERTIFICATE = engine.CERTIFICATE
VALIDATION = engine.CERTIFICATE_VALIDATION
RECORD = engine.DNS_RECORD
DOMAIN_NAME = engine.HTTP_API_DOMAIN_NAME
MAPPING = engine.HTTP_API_MAPPING
STAGE = engine.HTTP_API_STAGE
SMOKE = "pulumi-python:dynamic/smoke:SmokeCheck"
AUTH_TYPES = {POOL, CLIENT, AUTHORIZER}
DOMAIN_TYPES = {CERTIFICATE, VALIDATION, RECORD, DOMAIN_NAME, MAPPING}

ZONE = "Z0123456789ABCDEFGHIJ"
CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-00000000000f"
ISSUER = "https://example.eu.auth0.com/"


def _auth(**obj: object) -> str:
    return json.dumps(obj)


@pytest.fixture(scope="module")
def cognito() -> ProgramRun:
    return run_program({"auth": _auth(type="cognito", scopes={"GET /info": ["tap/read"]})})


@pytest.fixture(scope="module")
def zone_domain() -> ProgramRun:
    return run_program({"domain": json.dumps({"name": "api.example.com", "zoneId": ZONE})})


def _routes(run: ProgramRun) -> dict[str, dict[str, object]]:
    return {r.input("routeKey"): r.inputs for r in run.of_type(ROUTE)}


def test_without_auth_or_domain_none_of_their_resources_exist() -> None:
    run = run_program({})

    assert not (run.type_tokens() & (AUTH_TYPES | DOMAIN_TYPES))
    assert all("authorizationType" not in inputs for inputs in _routes(run).values())
    assert run.one(API).input("disableExecuteApiEndpoint") is False


def test_cognito_creates_the_pool_with_production_security(cognito: ProgramRun) -> None:
    pool = cognito.one(POOL)

    assert pool.input("name") == "tap-dev-users"
    assert pool.input("passwordPolicy") == {
        "minimumLength": 12.0,
        "requireLowercase": True,
        "requireUppercase": True,
        "requireNumbers": True,
        "requireSymbols": True,
        "temporaryPasswordValidityDays": 3.0,
    }
    # Threat protection needs the Plus plan; Production enforces it.
    assert pool.input("userPoolTier") == "PLUS"
    assert pool.input("userPoolAddOns") == {"advancedSecurityMode": "ENFORCED"}
    assert pool.input("adminCreateUserConfig") == {"allowAdminCreateUserOnly": True}
    assert cognito.effective_tags(pool)["Environment"] == "Production"


def test_outside_production_threat_protection_is_off_on_the_essentials_plan() -> None:
    run = run_program({"environment": "Staging", "auth": _auth(type="cognito")})

    pool = run.one(POOL)
    assert pool.input("userPoolTier") == "ESSENTIALS"
    assert pool.input("userPoolAddOns") == {"advancedSecurityMode": "OFF"}


def test_cognito_app_client_is_public_with_srp_and_refresh_only(cognito: ProgramRun) -> None:
    client, pool = cognito.one(CLIENT), cognito.one(POOL)

    assert client.input("userPoolId") == pool.id
    assert client.input("generateSecret") is False
    assert client.input("explicitAuthFlows") == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client.input("preventUserExistenceErrors") == "ENABLED"


def test_cognito_authorizer_trusts_the_pool_and_its_client(cognito: ProgramRun) -> None:
    authorizer, pool, client = cognito.one(AUTHORIZER), cognito.one(POOL), cognito.one(CLIENT)

    assert authorizer.inputs == {
        "apiId": cognito.one(API).id,
        "name": "tap-dev-jwt",
        "authorizerType": "JWT",
        "identitySources": ["$request.header.Authorization"],
        "jwtConfiguration": {
            "issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool.id}",
            "audiences": [client.id],
        },
    }
    assert cognito.output("issuer") == auth_layer.cognito_issuer("us-east-1", pool.id)
    assert cognito.output("user_pool_id") == pool.id
    assert cognito.output("user_pool_client_id") == client.id
    assert "custom_domain_url" not in cognito.outputs


def test_the_authorizer_guards_exactly_the_non_public_routes(cognito: ProgramRun) -> None:
    authorizer_id = cognito.one(AUTHORIZER).id
    routes = _routes(cognito)

    assert sorted(routes) == sorted(ROUTE_KEYS)
    for key, inputs in routes.items():
        if key in ("GET /", "GET /health"):
            assert "authorizationType" not in inputs, key
            assert "authorizerId" not in inputs, key
            assert inputs["operationName"] == "public", key  # open on purpose (TAP-AUTH-001)
        else:
            assert inputs["authorizationType"] == "JWT", key
            assert inputs["authorizerId"] == authorizer_id, key
    scoped = {k: v["authorizationScopes"] for k, v in routes.items() if "authorizationScopes" in v}
    assert scoped == {"GET /info": ["tap/read"]}


def test_an_external_issuer_needs_no_pool_and_keeps_its_own_public_routes() -> None:
    auth = _auth(type="jwt", issuer=ISSUER, audience=["api://tap", "tap-cli"],
                 publicRoutes=["GET /health", "GET /info"])  # fmt: skip
    run = run_program({"auth": auth})

    assert not run.of_type(POOL)
    assert not run.of_type(CLIENT)
    assert run.one(AUTHORIZER).input("jwtConfiguration") == {
        "issuer": ISSUER,
        "audiences": ["api://tap", "tap-cli"],
    }
    guarded = {k for k, v in _routes(run).items() if v.get("authorizationType") == "JWT"}
    assert guarded == set(ROUTE_KEYS) - {"GET /health", "GET /info"}
    assert run.output("issuer") == ISSUER
    assert "user_pool_id" not in run.outputs


def test_a_zone_domain_validates_its_certificate_in_the_zone(zone_domain: ProgramRun) -> None:
    certificate = zone_domain.one(CERTIFICATE)
    option = certificate.outputs["domainValidationOptions"][0]
    records = {r.input("type"): r for r in zone_domain.of_type(RECORD)}

    assert certificate.input("domainName") == "api.example.com"
    assert certificate.input("validationMethod") == "DNS"
    cname = records["CNAME"]
    assert cname.inputs == {
        "zoneId": ZONE,
        "name": option["resourceRecordName"],
        "type": option["resourceRecordType"],
        "records": [option["resourceRecordValue"]],
        "ttl": 300.0,
        "allowOverwrite": True,
    }
    validation = zone_domain.one(VALIDATION)
    assert validation.inputs == {
        "certificateArn": certificate.outputs["arn"],
        "validationRecordFqdns": [cname.outputs["fqdn"]],
    }


def test_a_zone_domain_uses_tls_1_2_maps_default_and_aliases_a_and_aaaa(
    zone_domain: ProgramRun,
) -> None:
    domain = zone_domain.one(DOMAIN_NAME)
    validation = zone_domain.one(VALIDATION)

    assert domain.input("domainName") == "api.example.com"
    assert domain.input("domainNameConfiguration") == {
        "certificateArn": zone_domain.one(CERTIFICATE).outputs["arn"],
        "endpointType": "REGIONAL",
        "securityPolicy": "TLS_1_2",
        "ipAddressType": "dualstack",
    }
    # The domain waits for the certificate to be issued.
    assert zone_domain.depends_on(domain, validation)
    assert zone_domain.one(MAPPING).inputs == {
        "apiId": zone_domain.one(API).id,
        "domainName": domain.id,
        "stage": "$default",
    }
    target = domain.outputs["domainNameConfiguration"]
    aliases = {r.input("type"): r.inputs for r in zone_domain.of_type(RECORD)}
    for record_type in ("A", "AAAA"):
        assert aliases[record_type] == {
            "zoneId": ZONE,
            "name": "api.example.com",
            "type": record_type,
            "aliases": [
                {
                    "name": target["targetDomainName"],
                    "zoneId": target["hostedZoneId"],
                    "evaluateTargetHealth": False,
                }
            ],
        }
    assert len(aliases) == 3  # CNAME (validation), A, AAAA
    assert zone_domain.one(API).input("disableExecuteApiEndpoint") is True
    assert zone_domain.output("custom_domain_url") == "https://api.example.com/"


def test_a_certificate_arn_domain_issues_nothing_and_writes_no_dns() -> None:
    domain = json.dumps(
        {"name": "api.example.com", "certificateArn": CERT_ARN, "disableDefaultEndpoint": False}
    )
    run = run_program({"domain": domain})

    assert not run.of_type(CERTIFICATE)
    assert not run.of_type(VALIDATION)
    assert not run.of_type(RECORD)
    assert run.one(DOMAIN_NAME).input("domainNameConfiguration", "certificateArn") == CERT_ARN
    assert run.one(DOMAIN_NAME).input("domainNameConfiguration", "securityPolicy") == "TLS_1_2"
    assert run.one(MAPPING).input("stage") == "$default"
    # Re-enabled on request: the execute-api URL keeps answering.
    assert run.one(API).input("disableExecuteApiEndpoint") is False


def test_the_smoke_check_calls_the_domain_and_proves_a_protected_route_refuses(
    zone_domain: ProgramRun, cognito: ProgramRun
) -> None:
    # execute-api disabled: only the custom domain answers.
    check = zone_domain.one(SMOKE)
    assert check.input("url") == "https://api.example.com/"
    assert "protected_request" not in check.inputs
    assert zone_domain.depends_on(check, zone_domain.one(MAPPING))
    aliases = [x for x in zone_domain.of_type(RECORD) if x.input("type") in ("A", "AAAA")]
    assert len(aliases) == 2
    assert all(zone_domain.depends_on(check, alias) for alias in aliases)
    # With auth: a route that needs a token, asked without one.
    guarded = cognito.one(SMOKE)
    assert guarded.input("protected_request") == "GET /info"
    assert guarded.input("url") == cognito.one(STAGE).outputs["invokeUrl"]
    assert cognito.depends_on(guarded, cognito.one(AUTHORIZER))


def test_a_domain_that_keeps_execute_api_is_smoke_checked_there() -> None:
    domain = json.dumps(
        {"name": "api.example.com", "certificateArn": CERT_ARN, "disableDefaultEndpoint": False}
    )
    run = run_program({"domain": domain})

    assert run.one(SMOKE).input("url") == run.one(STAGE).outputs["invokeUrl"]


def test_no_route_catches_a_preflight_so_no_authorizer_sees_one(cognito: ProgramRun) -> None:
    # docs/http-api.md rule 63: with CORS configured API Gateway answers OPTIONS itself
    # unless a route catches it ($default, ANY or an OPTIONS route): the table has none.
    keys = [r.input("routeKey") for r in cognito.of_type(ROUTE)]

    assert cognito.one(API).input("corsConfiguration")["allowOrigins"] == ["*"]
    assert not [k for k in keys if k == "$default" or k.split(" ")[0] in ("OPTIONS", "ANY")]
