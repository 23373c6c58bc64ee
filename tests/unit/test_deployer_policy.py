"""deploy/deployer-policy.json: the least-privilege IAM policy for whoever runs `pulumi up`.

It must allow every API call the AWS provider makes to create, read, update, delete and
tag the resources this stack registers (taken from a mocked run of the program, with every
optional resource switched on), nothing else, no wildcard action, and resources scoped to
``tap-*`` names in the default region wherever AWS allows resource-level permissions. It
passes parliament with no finding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import parliament

from tap import engine
from tap.config import StackConfig
from tests.pulumi_mocks import run_program

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "deploy" / "deployer-policy.json"
COMMUNITY_CONFIG = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"

# The calls the AWS provider (pulumi-aws, built on terraform-provider-aws) makes for each
# resource type, on create / read (refresh) / update / delete, and to tag it (the provider's
# default tags are set on create, so the tag actions are needed from the first deploy).
ACTIONS_BY_TYPE: dict[str, set[str]] = {
    engine.IAM_ROLE: {
        "iam:CreateRole",
        "iam:GetRole",
        "iam:UpdateRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:ListRoleTags",
        # Read and delete list what is attached to the role.
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
    },
    engine.IAM_ROLE_POLICY: {
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
    },
    engine.LAMBDA_FUNCTION: {
        "iam:PassRole",  # the execution role, handed to Lambda on create and update
        "lambda:CreateFunction",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:ListVersionsByFunction",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:DeleteFunction",
        "lambda:TagResource",
        "lambda:UntagResource",
        "lambda:ListTags",
    },
    engine.LAMBDA_PERMISSION: {
        "lambda:AddPermission",
        "lambda:RemovePermission",
        "lambda:GetPolicy",
    },
    engine.LOG_GROUP: {
        "logs:CreateLogGroup",
        "logs:DescribeLogGroups",
        "logs:DeleteLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:ListTagsForResource",
        # The older tagging API, which provider versions before the ARN-based one call.
        "logs:TagLogGroup",
        "logs:UntagLogGroup",
        "logs:ListTagsLogGroup",
    },
    # API Gateway v2 is authorized by HTTP verb on the API's path (and /tags for tagging).
    engine.HTTP_API: {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PATCH",
        "apigateway:DELETE",
    },
    engine.HTTP_API_INTEGRATION: {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PATCH",
        "apigateway:DELETE",
    },
    engine.HTTP_API_ROUTE: {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PATCH",
        "apigateway:DELETE",
    },
    engine.HTTP_API_STAGE: {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PATCH",
        "apigateway:DELETE",
    },
    engine.METRIC_ALARM: {
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
        "cloudwatch:ListTagsForResource",
    },
    engine.DASHBOARD: {
        "cloudwatch:PutDashboard",
        "cloudwatch:GetDashboard",
        "cloudwatch:DeleteDashboards",
    },
    engine.SNS_TOPIC: {
        "sns:CreateTopic",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:DeleteTopic",
        "sns:TagResource",
        "sns:UntagResource",
        "sns:ListTagsForResource",
    },
    engine.SNS_SUBSCRIPTION: {
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
        "sns:ListSubscriptionsByTopic",
    },
    # Calls only the deployed API over HTTPS: no AWS permission.
    "pulumi-python:dynamic/smoke:SmokeCheck": set(),
    # tap:auth and tap:domain.
    engine.USER_POOL: {
        "cognito-idp:CreateUserPool",
        "cognito-idp:DescribeUserPool",
        "cognito-idp:UpdateUserPool",
        "cognito-idp:DeleteUserPool",
        "cognito-idp:SetUserPoolMfaConfig",
        "cognito-idp:GetUserPoolMfaConfig",
        "cognito-idp:TagResource",
        "cognito-idp:UntagResource",
        "cognito-idp:ListTagsForResource",
    },
    engine.USER_POOL_CLIENT: {
        "cognito-idp:CreateUserPoolClient",
        "cognito-idp:DescribeUserPoolClient",
        "cognito-idp:UpdateUserPoolClient",
        "cognito-idp:DeleteUserPoolClient",
    },
    engine.HTTP_API_AUTHORIZER: {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PATCH",
        "apigateway:DELETE",
    },
    engine.CERTIFICATE: {
        "acm:RequestCertificate",
        "acm:DescribeCertificate",
        "acm:DeleteCertificate",
        "acm:ListTagsForCertificate",
        "acm:AddTagsToCertificate",
        "acm:RemoveTagsFromCertificate",
    },
    engine.CERTIFICATE_VALIDATION: {"acm:DescribeCertificate"},
    engine.DNS_RECORD: {
        "route53:ChangeResourceRecordSets",
        "route53:ListResourceRecordSets",
        "route53:GetHostedZone",
        "route53:GetChange",
    },
    engine.HTTP_API_DOMAIN_NAME: {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PATCH",
        "apigateway:DELETE",
    },
    engine.HTTP_API_MAPPING: {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PATCH",
        "apigateway:DELETE",
    },
}

# What a stage with access logs needs besides API Gateway's own actions: CloudWatch Logs
# delivery, which supports no resource-level permission (docs/http-api.md rule 32).
ACCESS_LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
}
# What a reserved concurrency adds to the function's actions.
RESERVED_CONCURRENCY = {
    "lambda:PutFunctionConcurrency",
    "lambda:DeleteFunctionConcurrency",
    "lambda:GetFunctionConcurrency",
}
# Actions AWS authorizes on no resource narrower than "*" (parliament's RESOURCE_MISMATCH
# says so for each).
UNSCOPABLE = ACCESS_LOG_DELIVERY | {
    "cognito-idp:CreateUserPool",
    "acm:RequestCertificate",
    "logs:DescribeLogGroups",
    "sns:Unsubscribe",
    "sns:GetSubscriptionAttributes",
    "sns:SetSubscriptionAttributes",
}
# Services whose resources tap cannot name (AWS generates their ids), and the resource
# types each statement may name.
GENERATED_IDS = {
    "cognito-idp": ("userpool/*",),
    "acm": ("certificate/*",),
    "route53": ("hostedzone/*", "change/*"),
}
REGION = StackConfig().region  # the document is written for the default tap:region


def document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(POLICY.read_text())
    return data


def statements() -> list[dict[str, Any]]:
    return list(document()["Statement"])


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allowed_actions() -> set[str]:
    return {a for s in statements() if s["Effect"] == "Allow" for a in listed(s["Action"])}


def needed_actions() -> set[str]:
    """The actions the stack's resources need, with every optional resource switched on."""
    run = run_program(
        {
            "alarmEmail": "ops@example.com",
            "reservedConcurrency": "5",
            "auth": '{"type": "cognito"}',
            "domain": '{"name": "api.example.com", "zoneId": "Z0123456789ABC"}',
        }
    )
    needed: set[str] = set()
    for resource in run.custom_resources():
        assert resource.type in ACTIONS_BY_TYPE, (
            f"the stack registers {resource.type}: add the API actions it needs to "
            "ACTIONS_BY_TYPE and to deploy/deployer-policy.json"
        )
        needed |= ACTIONS_BY_TYPE[resource.type]
        if resource.type == engine.HTTP_API_STAGE and resource.inputs.get("accessLogSettings"):
            needed |= ACCESS_LOG_DELIVERY
        if resource.inputs.get("reservedConcurrentExecutions") is not None:
            needed |= RESERVED_CONCURRENCY
    return needed


def test_the_policy_allows_every_action_the_stack_needs_and_nothing_else() -> None:
    needed = needed_actions()

    assert needed - allowed_actions() == set(), "missing from deploy/deployer-policy.json"
    assert allowed_actions() - needed == set(), "allowed but needed by no resource"
    assert needed >= ACCESS_LOG_DELIVERY  # the stage writes access logs


def test_no_wildcard_action_and_no_deny_or_not_action() -> None:
    for statement in statements():
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement
        assert "NotResource" not in statement
        for action in listed(statement["Action"]):
            assert "*" not in action, action


def test_resources_are_scoped_to_tap_names_in_the_region_wherever_aws_allows() -> None:
    for statement in statements():
        actions, resources = set(listed(statement["Action"])), listed(statement["Resource"])
        if resources == ["*"]:
            assert actions <= UNSCOPABLE, f"{statement['Sid']}: {sorted(actions - UNSCOPABLE)}"
            continue
        for arn in resources:
            service, region = arn.split(":")[2:4]
            assert region in ("", REGION), arn  # IAM and dashboards are global
            if service == "apigateway":
                # HTTP API ids are generated: the API paths of the region are the scope.
                paths = ("/apis", "/apis/*", "/tags/*", "/domainnames", "/domainnames/*")
                assert arn.split("::", 1)[1] in paths, arn
            elif service in GENERATED_IDS:
                # Pools, certificates and zones get ids, not tap names: their type is the scope.
                assert arn.rsplit(":", 1)[1] in GENERATED_IDS[service], arn
            else:
                assert "tap-" in arn, arn


def test_pass_role_is_only_to_lambda() -> None:
    [statement] = [s for s in statements() if "iam:PassRole" in listed(s["Action"])]

    assert listed(statement["Action"]) == ["iam:PassRole"]
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }


def _findings(community: bool) -> set[str]:
    if community:
        parliament.override_config(str(COMMUNITY_CONFIG))
    policy = parliament.analyze_policy_string(
        POLICY.read_text(), include_community_auditors=community
    )
    return {parliament.enhance_finding(f).issue for f in policy.findings}


def test_parliament_finds_nothing() -> None:
    assert _findings(community=False) == set()


def test_the_community_auditors_flag_only_what_deploying_a_role_takes() -> None:
    # A deployer creates a role, gives it an inline policy and passes it to Lambda: that
    # is permissions management and, in principle, privilege escalation, bounded here to
    # tap-* roles passed to Lambda only.
    # With tap:auth the provider reads the app client back with DescribeUserPoolClient,
    # which returns a client's secret when it has one: tap's client has none
    # (generate_secret false, tap/auth.py), so nothing secret is exposed.
    assert _findings(community=True) == {
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "PRIVILEGE_ESCALATION",
        "CREDENTIALS_EXPOSURE",
    }
