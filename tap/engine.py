"""What the Pulumi engine hands over, and what the AWS provider computes: written once.

Three readers see the program's resources the way the engine passes them: the CrossGuard
rules (``tap.policy.rules``), local mode (``tap.local.deploy.mocks``) and the test harness
(``tests/pulumi_mocks.py``). They share from here:

* the secret wrapper (``{SECRET_SIG_KEY: SECRET_SIG, "value": v}``) and its unwrapping,
  and the sentinels that stand for values unknown in a preview;
* the provider's default tags (``defaultTags``, JSON text as the engine passes provider
  object inputs) and a resource's effective tags (pulumi-aws's ``tagsAll``);
* the resource type tokens and ``RESOURCE_TYPES``: per type, whether it takes tags (the
  one answer to "is this taggable") and the outputs the AWS provider computes from a name
  (what the test harness answers; local mode registers its moto call for the same
  token);
* the ARN builders (function, invoke, execute-API, ...).

Standard library only: the policy pack imports it in the program's virtualenv without
pulumi-aws.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

# ---------------------------------------------------------------------------------------
# Secrets.

# The wrapper the engine (and the mock runtime, which sees the serialized form) puts around
# a secret: {SECRET_SIG_KEY: SECRET_SIG, "value": ...} (pulumi/runtime/rpc.py
# _special_sig_key and _special_secret_sig; sdk/go/common/resource/properties.go).
SECRET_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"  # noqa: S105 (a marker)
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (a marker, not a secret)


def is_secret(value: Any) -> bool:
    """True when ``value`` is a wrapped secret: ``{SECRET_SIG_KEY: SECRET_SIG, "value": v}``."""
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def secret(value: Any) -> dict[str, Any]:
    """``value`` wrapped the way the engine wraps a secret."""
    return {SECRET_SIG_KEY: SECRET_SIG, "value": value}


def unwrap_secrets(value: Any) -> Any:
    """``value`` with every secret wrapper replaced by the value it wraps, at any depth."""
    if isinstance(value, dict):
        if is_secret(value):
            return unwrap_secrets(value.get("value"))
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------
# Values unknown until a resource is created (a preview).

# What pulumi.runtime.rpc.UNKNOWN sends for an unknown string.
UNKNOWN_STRING: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# The sentinels the engine sends for unknown values, one per type (pulumi
# sdk/go/common/resource/plugin/rpc.go; repeated in pulumi_policy/proxy.py).
UNKNOWN_SENTINELS: Final = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        UNKNOWN_STRING,
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


# ---------------------------------------------------------------------------------------
# Tags.


def _decode(value: Any, what: str) -> Any:
    """A JSON document held as text, or already parsed."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as error:
            raise ValueError(f"{what} is not valid JSON: {error}") from None
    return value


def provider_default_tags(
    provider: Mapping[str, Any] | None, decode: Callable[[Any, str], Any] = _decode
) -> dict[str, Any]:
    """An aws provider's default tags from its (secret-unwrapped) properties; {} for none.

    The engine and the mock runtime hand ``defaultTags`` over as JSON text (``{"tags":
    {...}}``); a parsed provider state holds the object; older pulumi-aws versions modelled
    the block as a one-element list. ``decode(value, what)`` reads the JSON text and the
    ``tags`` value, whatever their type (the policy rules pass one that also refuses a value
    unknown in preview, the whole block as well as its tags).
    """
    if not provider:
        return {}
    block = decode(provider.get("defaultTags"), "provider defaultTags")
    if isinstance(block, list):
        block = block[0] if block else {}
    if not isinstance(block, Mapping):
        return {}
    tags = decode(block.get("tags"), "provider defaultTags.tags")
    return dict(tags) if isinstance(tags, Mapping) else {}


def effective_tags(default_tags: Mapping[str, Any], *own: Any) -> dict[str, Any]:
    """The tags AWS applies (pulumi-aws's ``tagsAll``): the provider's default tags,
    overridden key by key by each of ``own`` in turn (those that are maps)."""
    tags = dict(default_tags)
    for more in own:
        if isinstance(more, Mapping):
            tags.update(more)
    return tags


# ---------------------------------------------------------------------------------------
# Resource type tokens (pulumi-aws 7).

AWS_PROVIDER: Final = "pulumi:providers:aws"
STACK: Final = "pulumi:pulumi:Stack"
DYNAMIC_PREFIX: Final = "pulumi-python:dynamic"
SMOKE_CHECK: Final = "pulumi-python:dynamic/smoke:SmokeCheck"

LAMBDA_FUNCTION: Final = "aws:lambda/function:Function"
LAMBDA_PERMISSION: Final = "aws:lambda/permission:Permission"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM: Final = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM: Final = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
DASHBOARD: Final = "aws:cloudwatch/dashboard:Dashboard"
HTTP_API: Final = "aws:apigatewayv2/api:Api"
HTTP_API_STAGE: Final = "aws:apigatewayv2/stage:Stage"
HTTP_API_ROUTE: Final = "aws:apigatewayv2/route:Route"
HTTP_API_INTEGRATION: Final = "aws:apigatewayv2/integration:Integration"
HTTP_API_AUTHORIZER: Final = "aws:apigatewayv2/authorizer:Authorizer"
HTTP_API_DOMAIN_NAME: Final = "aws:apigatewayv2/domainName:DomainName"
HTTP_API_MAPPING: Final = "aws:apigatewayv2/apiMapping:ApiMapping"
HTTP_API_VPC_LINK: Final = "aws:apigatewayv2/vpcLink:VpcLink"
IAM_ROLE: Final = "aws:iam/role:Role"
IAM_ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY: Final = "aws:iam/policy:Policy"
IAM_USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
IAM_ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_POLICY_ATTACHMENT: Final = "aws:iam/policyAttachment:PolicyAttachment"
IAM_USER_POLICY_ATTACHMENT: Final = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
IAM_GROUP_POLICY_ATTACHMENT: Final = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: Final = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
)
SNS_TOPIC: Final = "aws:sns/topic:Topic"
SNS_SUBSCRIPTION: Final = "aws:sns/topicSubscription:TopicSubscription"
SQS_QUEUE: Final = "aws:sqs/queue:Queue"
KMS_KEY: Final = "aws:kms/key:Key"
USER_POOL: Final = "aws:cognito/userPool:UserPool"
USER_POOL_CLIENT: Final = "aws:cognito/userPoolClient:UserPoolClient"
CERTIFICATE: Final = "aws:acm/certificate:Certificate"
CERTIFICATE_VALIDATION: Final = "aws:acm/certificateValidation:CertificateValidation"
DNS_RECORD: Final = "aws:route53/record:Record"


# ---------------------------------------------------------------------------------------
# ARNs and URLs the AWS provider computes.


def lambda_function_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


_INVOKE_PATH: Final = ":lambda:path/2015-03-31/functions/"
_INVOKE_SUFFIX: Final = "/invocations"


def lambda_invoke_arn(region: str, function_arn: str) -> str:
    """The ``invokeArn`` the AWS provider computes for a function (what integrations use)."""
    return f"arn:aws:apigateway:{region}{_INVOKE_PATH}{function_arn}{_INVOKE_SUFFIX}"


def function_arn_of_invoke_arn(uri: str) -> str | None:
    """The function ARN inside an invoke ARN (``lambda_invoke_arn``'s inverse), else None."""
    if _INVOKE_PATH in uri and uri.endswith(_INVOKE_SUFFIX):
        return uri.split(_INVOKE_PATH, 1)[1][: -len(_INVOKE_SUFFIX)]
    return None


def execute_api_arn(region: str, account: str, api_id: str) -> str:
    """An HTTP API's ``executionArn``; a stage's is this plus ``/<stage>``."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}"


def http_api_arn(region: str, api_id: str) -> str:
    return f"arn:aws:apigateway:{region}::/apis/{api_id}"


def http_api_stage_arn(region: str, api_id: str, stage: str) -> str:
    return f"{http_api_arn(region, api_id)}/stages/{stage}"


def domain_name_arn(region: str, domain: str) -> str:
    return f"arn:aws:apigateway:{region}::/domainnames/{domain}"


def log_group_arn(region: str, account: str, name: str) -> str:
    """pulumi-aws 7 reports a log group's ARN without the trailing ``:*``."""
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


def api_endpoint(region: str, api_id: str) -> str:
    return f"https://{api_id}.execute-api.{region}.amazonaws.com"


# API Gateway's regional hosted zone id in us-east-1, a custom domain's alias target zone.
APIGW_REGIONAL_ZONE: Final = "Z1UJRXOUMOOFQ8"


# ---------------------------------------------------------------------------------------
# Per resource type: taggable, and the outputs the provider computes.

_Inputs = dict[str, Any]  # secret-unwrapped
_Computed = tuple[str, dict[str, Any]]  # (id, outputs)
# (logical or physical name, inputs, region, account) -> (id, outputs).
Outputs = Callable[[str, _Inputs, str, str], _Computed]


@dataclass(frozen=True)
class ResourceType:
    """One resource type as the engine and the AWS provider treat it.

    ``taggable``: it takes ``tags``, so the provider's default tags apply even when it
    sets none (tests/policy checks this against pulumi-aws's signatures). ``outputs``: the
    attributes the provider computes, made up from the name (the test harness's answer;
    local mode asks moto instead, through the call it registers for ``token``).
    ``None`` for types the program does not create.
    """

    token: str
    taggable: bool
    outputs: Outputs | None = None


def short_id(seed: str, length: int = 10) -> str:
    """A stable lowercase alphanumeric id, the shape of an API Gateway id (``a1b2c3d4e5``)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _role(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return name, {
        "name": name,
        "arn": f"arn:aws:iam::{account}:role{p.get('path', '/')}{name}",
        "uniqueId": "AROA" + short_id(name, 17).upper(),
        "createDate": "2026-01-01T00:00:00Z",
    }


def _role_policy(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return f"{p.get('role', 'role')}:{name}", {"name": name}


def _log_group(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return name, {"name": name, "arn": log_group_arn(region, account, name)}


def _function(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    arn = lambda_function_arn(region, account, name)
    return name, {
        "name": name,
        "arn": arn,
        "qualifiedArn": f"{arn}:$LATEST",
        "invokeArn": lambda_invoke_arn(region, arn),
        "qualifiedInvokeArn": lambda_invoke_arn(region, f"{arn}:$LATEST"),
        "version": "$LATEST",
        "lastModified": "2026-01-01T00:00:00.000+0000",
        "sourceCodeHash": "mock",
    }


def _api(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    api_id = short_id(f"api/{name}")
    return api_id, {
        "name": name,
        "arn": http_api_arn(region, api_id),
        "apiEndpoint": api_endpoint(region, api_id),
        "executionArn": execute_api_arn(region, account, api_id),
    }


def _integration(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return short_id(f"integration/{p.get('apiId')}/{name}", 7), {}


def _route(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return short_id(f"route/{p.get('apiId')}/{p.get('routeKey')}", 7), {}


def _stage(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    api_id = str(p.get("apiId", "api"))
    endpoint = api_endpoint(region, api_id)
    # The $default stage is served at the API's root; a named stage under /<name>.
    invoke_url = f"{endpoint}/" if name == "$default" else f"{endpoint}/{name}"
    return name, {
        "name": name,
        "arn": http_api_stage_arn(region, api_id, name),
        "executionArn": f"{execute_api_arn(region, account, api_id)}/{name}",
        "invokeUrl": invoke_url,
    }


def _permission(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return p.get("statementId") or name, {}


def _topic(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    arn = f"arn:aws:sns:{region}:{account}:{name}"
    return arn, {"name": name, "arn": arn, "owner": account}


def _subscription(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    arn = f"{p.get('topic', 'topic')}:{short_id(name, 8)}-0000-4000-8000-000000000000"
    return arn, {"arn": arn, "pendingConfirmation": p.get("protocol") == "email"}


def _alarm(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return name, {"name": name, "arn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"}


def _dashboard(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    dashboard = p.get("dashboardName") or name
    return dashboard, {
        "dashboardName": dashboard,
        "dashboardArn": f"arn:aws:cloudwatch::{account}:dashboard/{dashboard}",
    }


def _user_pool(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    pool_id = f"{region}_{short_id('pool/' + name, 9)}"
    return pool_id, {
        "name": name,
        "arn": f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool_id}",
        "endpoint": f"cognito-idp.{region}.amazonaws.com/{pool_id}",
    }


def _user_pool_client(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    # An app client id: 26 lowercase alphanumerics; no secret (generate_secret false).
    return short_id(f"client/{p.get('userPoolId')}/{name}", 26), {}


def _authorizer(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return short_id(f"authorizer/{p.get('apiId')}/{name}", 6), {}


def _certificate(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    cert_id = f"{short_id('cert/' + name, 8)}-0000-4000-8000-000000000000"
    arn = f"arn:aws:acm:{region}:{account}:certificate/{cert_id}"
    domain = p.get("domainName", "example.com")
    token = short_id(f"validation/{domain}", 32)
    return arn, {
        "arn": arn,
        "status": "PENDING_VALIDATION",
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_{token}.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{token[::-1]}.acm-validations.aws.",
            }
        ],
    }


def _certificate_validation(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return "2026-01-01 00:00:00 +0000 UTC", {}


def _record(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    fqdn = str(p.get("name", name)).rstrip(".")
    return f"{p.get('zoneId')}_{fqdn}_{p.get('type')}", {"fqdn": fqdn}


def _domain_name(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    domain = p.get("domainName", name)
    config = dict(p.get("domainNameConfiguration") or {})
    config.update(
        {
            "targetDomainName": f"d-{short_id('domain/' + domain)}.execute-api.{region}"
            ".amazonaws.com",
            "hostedZoneId": APIGW_REGIONAL_ZONE,
        }
    )
    return domain, {
        "domainName": domain,
        "arn": domain_name_arn(region, domain),
        "apiMappingSelectionExpression": "$request.basepath",
        "domainNameConfiguration": config,
    }


def _api_mapping(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return short_id(f"mapping/{p.get('domainName')}/{p.get('apiId')}", 6), {}


def _provider(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    return f"{short_id('provider/' + name, 8)}-0000-4000-8000-000000000000", {}


def _smoke_check(name: str, p: _Inputs, region: str, account: str) -> _Computed:
    # No provider method runs under mocks (docs/tools.md): report what a check that passed
    # on its first round would, so the program's wiring of the outputs shows.
    return f"smoke-{short_id(name, 8)}", {
        "passed_at": "2026-01-01T00:00:00Z",
        "attempts": 1,
        "latency_ms": 0,
        "checks": {},
        "warnings": [],
    }


# Every type the program creates (local mode has a moto call for each aws: one), and the
# taggable types it does not create, so the tag rule checks them wherever they appear.
RESOURCE_TYPES: Final[dict[str, ResourceType]] = {
    t.token: t
    for t in (
        ResourceType(IAM_ROLE, True, _role),
        ResourceType(IAM_ROLE_POLICY, False, _role_policy),
        ResourceType(LOG_GROUP, True, _log_group),
        ResourceType(LAMBDA_FUNCTION, True, _function),
        ResourceType(HTTP_API, True, _api),
        ResourceType(HTTP_API_INTEGRATION, False, _integration),
        ResourceType(HTTP_API_ROUTE, False, _route),
        ResourceType(HTTP_API_STAGE, True, _stage),
        ResourceType(LAMBDA_PERMISSION, False, _permission),
        ResourceType(SNS_TOPIC, True, _topic),
        ResourceType(SNS_SUBSCRIPTION, False, _subscription),
        ResourceType(METRIC_ALARM, True, _alarm),
        ResourceType(DASHBOARD, False, _dashboard),
        ResourceType(USER_POOL, True, _user_pool),
        ResourceType(USER_POOL_CLIENT, False, _user_pool_client),
        ResourceType(HTTP_API_AUTHORIZER, False, _authorizer),
        ResourceType(CERTIFICATE, True, _certificate),
        ResourceType(CERTIFICATE_VALIDATION, False, _certificate_validation),
        ResourceType(DNS_RECORD, False, _record),
        ResourceType(HTTP_API_DOMAIN_NAME, True, _domain_name),
        ResourceType(HTTP_API_MAPPING, False, _api_mapping),
        ResourceType(AWS_PROVIDER, False, _provider),
        ResourceType(SMOKE_CHECK, False, _smoke_check),
        ResourceType(COMPOSITE_ALARM, True),
        ResourceType(IAM_POLICY, True),
        ResourceType(SQS_QUEUE, True),
        ResourceType(KMS_KEY, True),
        ResourceType(HTTP_API_VPC_LINK, True),
    )
}

# The types that take tags even when a resource sets none (its tags then come only from
# the provider's default tags).
TAGGABLE_TYPES: Final = tuple(t.token for t in RESOURCE_TYPES.values() if t.taggable)


def is_taggable(type_token: str, props: Mapping[str, Any] | None = None) -> bool:
    """True when the provider's default tags apply to a resource of this type: a type
    declared taggable above, or one whose ``props`` carry ``tags`` or ``tagsAll``."""
    if type_token in TAGGABLE_TYPES:
        return True
    return props is not None and ("tags" in props or "tagsAll" in props)


def aws_types() -> list[str]:
    """The aws: types the program creates (each has a local-mode applier)."""
    return [t.token for t in RESOURCE_TYPES.values() if t.token.startswith("aws:") and t.outputs]
