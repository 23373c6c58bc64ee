"""The reference checks (tap.local.deploy.checks, pure, on snapshots): what moto accepts
but AWS would refuse, or accept and leave broken."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tap.local.deploy import checks


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
    error = checks.BrokenReferencesError(["a is broken", "b is broken"])
    assert str(error) == (
        "the deploy left 2 broken references (AWS would refuse these, or accept them and "
        "leave the stack broken):\n  - a is broken\n  - b is broken"
    )


# --- tap:auth and tap:domain -------------------------------------------------------------

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


AUTH_AND_DOMAIN_BREAKAGES = {
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


@pytest.mark.parametrize("name", sorted(AUTH_AND_DOMAIN_BREAKAGES))
def test_each_broken_auth_or_domain_reference_is_named(name: str) -> None:
    breaks, message = AUTH_AND_DOMAIN_BREAKAGES[name]

    assert checks.broken_references(breaks(_secured())) == [message]


def test_an_external_issuer_is_not_checked_against_the_pools() -> None:
    external = {"Name": "jwt", "JwtConfiguration": {"Issuer": "https://idp.example.com/"}}

    assert checks.broken_references(_with(_secured(), authorizers={"au1": external})) == []
