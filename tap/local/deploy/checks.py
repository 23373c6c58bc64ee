"""Post-deploy checks of the references AWS validates and moto accepts silently.

moto stores an integration URI, a route target, an alarm's dimensions and actions, a stage's
access-log destination and a permission's source ARN as plain strings
(docs/tools.md, "moto: Not validated"); AWS would refuse them, or accept them and
leave the stack broken (an alarm on a function that does not exist never fires). After the
deploy, each one is checked against what moto holds, and every broken one is listed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tap import engine
from tap.local.deploy.resources import Deployed
from tap.text import quote

ROUTE_TARGET_PREFIX = "integrations/"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"


class BrokenReferencesError(RuntimeError):
    """The deploy left references that point at nothing. ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "reference" if len(problems) == 1 else "references"
        super().__init__(
            f"the deploy left {len(problems)} broken {noun} (AWS would refuse these, or "
            f"accept them and leave the stack broken):\n{lines}"
        )


@dataclass(frozen=True)
class Snapshot:
    """What moto holds after the deploy, in plain data (read by ``read_snapshot``)."""

    functions: Mapping[str, Mapping[str, Any]]  # name -> GetFunctionConfiguration
    policies: Mapping[str, list[Mapping[str, Any]]]  # function name -> policy statements
    apis: Mapping[str, Mapping[str, Any]]  # api id -> GetApi
    integrations: Mapping[str, list[Mapping[str, Any]]]  # api id -> integrations
    routes: Mapping[str, list[Mapping[str, Any]]]  # api id -> routes
    stages: Mapping[str, list[Mapping[str, Any]]]  # api id -> stages
    log_groups: Mapping[str, str]  # name -> ARN (without the trailing ":*")
    topics: frozenset[str]  # topic ARNs
    alarms: list[Mapping[str, Any]]  # DescribeAlarms' MetricAlarms
    # What the program asked for that moto does not keep: function name -> loggingConfig.
    logging_configs: Mapping[str, Mapping[str, Any]]
    region: str
    account_id: str
    # tap:auth / tap:domain (empty without them)
    authorizers: Mapping[str, Mapping[str, Any]] = dataclasses.field(
        default_factory=dict
    )  # id -> item
    user_pool_clients: Mapping[str, frozenset[str]] = dataclasses.field(
        default_factory=dict
    )  # pool id
    domains: Mapping[str, Mapping[str, Any]] = dataclasses.field(
        default_factory=dict
    )  # name -> domain
    api_mappings: Mapping[str, list[Mapping[str, Any]]] = dataclasses.field(default_factory=dict)
    certificates: frozenset[str] = frozenset()  # ACM certificate ARNs


def read_snapshot(
    client: Callable[[str], Any], region: str, account_id: str, deployed: Iterable[Deployed]
) -> Snapshot:
    """Read everything the checks need from moto, in one pass (a few ms per call)."""
    lam, apigw, logs = client("lambda"), client("apigatewayv2"), client("logs")
    functions: dict[str, Mapping[str, Any]] = {}
    policies: dict[str, list[Mapping[str, Any]]] = {}
    for config in _pages(lam, "list_functions", "Functions"):
        name = config["FunctionName"]
        functions[name] = config
        try:
            policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
        except lam.exceptions.ResourceNotFoundException:
            policy = {"Statement": []}
        policies[name] = list(policy.get("Statement", []))
    apis = {a["ApiId"]: a for a in apigw.get_apis()["Items"]}
    integrations = {i: apigw.get_integrations(ApiId=i)["Items"] for i in apis}
    routes = {i: apigw.get_routes(ApiId=i)["Items"] for i in apis}
    stages = {i: apigw.get_stages(ApiId=i)["Items"] for i in apis}
    log_groups = {
        g["logGroupName"]: g.get("logGroupArn") or g["arn"].removesuffix(":*")
        for g in _pages(logs, "describe_log_groups", "logGroups")
    }
    topics = frozenset(t["TopicArn"] for t in _pages(client("sns"), "list_topics", "Topics"))
    alarms = list(_pages(client("cloudwatch"), "describe_alarms", "MetricAlarms"))
    logging_configs = {
        str(d.outputs.get("name", d.id)): d.inputs["loggingConfig"]
        for d in deployed
        if d.type == engine.LAMBDA_FUNCTION and "loggingConfig" in d.inputs
    }
    deployed = list(deployed)
    auth = _read_auth(client, apigw, routes)
    domain_names = [d.id for d in deployed if d.type == engine.HTTP_API_DOMAIN_NAME]
    domains = {name: apigw.get_domain_name(DomainName=name) for name in domain_names}
    api_mappings = {name: apigw.get_api_mappings(DomainName=name)["Items"] for name in domains}
    certificates = (
        frozenset(
            c["CertificateArn"]
            for c in _pages(client("acm"), "list_certificates", "CertificateSummaryList")
        )
        if domains
        else frozenset()
    )
    return Snapshot(
        functions,
        policies,
        apis,
        integrations,
        routes,
        stages,
        log_groups,
        topics,
        alarms,
        logging_configs,
        region,
        account_id,
        authorizers=auth[0],
        user_pool_clients=auth[1],
        domains=domains,
        api_mappings=api_mappings,
        certificates=certificates,
    )


def _read_auth(
    client: Callable[[str], Any], apigw: Any, routes: Mapping[str, list[Mapping[str, Any]]]
) -> tuple[dict[str, Mapping[str, Any]], dict[str, frozenset[str]]]:
    """The routes' authorizers (moto has no GetAuthorizers: one read per id) and, when there
    are any, every user pool's app client ids."""
    authorizers: dict[str, Mapping[str, Any]] = {}
    for api_id, items in routes.items():
        for route in items:
            authorizer_id = route.get("AuthorizerId")
            if authorizer_id and authorizer_id not in authorizers:
                try:
                    authorizers[authorizer_id] = apigw.get_authorizer(
                        ApiId=api_id, AuthorizerId=authorizer_id
                    )
                except apigw.exceptions.NotFoundException:
                    continue
    if not authorizers:
        return authorizers, {}
    cognito = client("cognito-idp")
    clients: dict[str, frozenset[str]] = {}
    for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]:
        listed = cognito.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)
        clients[pool["Id"]] = frozenset(c["ClientId"] for c in listed["UserPoolClients"])
    return authorizers, clients


def _pages(client: Any, operation: str, key: str) -> Iterable[Mapping[str, Any]]:
    for page in client.get_paginator(operation).paginate():
        yield from page.get(key, [])


def broken_references(snap: Snapshot) -> list[str]:
    """Every reference that points at nothing, as one readable line each (pure)."""
    function_by_uri = _functions_by_uri(snap)
    problems: list[str] = []
    for api_id, api in snap.apis.items():
        label = f"API {api.get('Name', api_id)} ({api_id})"
        integrations = snap.integrations.get(api_id, [])
        problems += _integration_problems(label, integrations, function_by_uri)
        integration_ids = {integration["IntegrationId"] for integration in integrations}
        problems += _route_problems(label, snap.routes.get(api_id, []), integration_ids)
        problems += _stage_problems(label, snap.stages.get(api_id, []), snap.log_groups)
    problems += _permission_problems(snap)
    problems += _logging_config_problems(snap)
    stage_names = {(api_id, s["StageName"]) for api_id, ss in snap.stages.items() for s in ss}
    problems += _auth_and_domain_problems(snap, stage_names)
    for alarm in snap.alarms:
        problems += _alarm_problems(snap, alarm, stage_names)
    return problems


def _functions_by_uri(snap: Snapshot) -> dict[str, str]:
    """Each function's name by the integration URIs that reach it."""
    function_by_uri: dict[str, str] = {}
    for name, config in snap.functions.items():
        arn = config["FunctionArn"]
        region = arn.split(":")[3]
        # An HTTP API accepts a Lambda integration URI as the invoke ARN or the bare ARN.
        function_by_uri[engine.lambda_invoke_arn(region, arn)] = name
        function_by_uri[arn] = name
    return function_by_uri


def _integration_problems(
    label: str, integrations: list[Mapping[str, Any]], function_by_uri: Mapping[str, str]
) -> list[str]:
    problems: list[str] = []
    for integration in integrations:
        uri = integration.get("IntegrationUri", "")
        if integration.get("IntegrationType") == "AWS_PROXY" and uri not in function_by_uri:
            problems.append(
                f"{label}: integration {integration['IntegrationId']} has URI {quote(uri)}, "
                "which is not the invoke ARN of any deployed function (expected "
                f"{engine.lambda_invoke_arn('<region>', '<function ARN>')})"
            )
    return problems


def _route_problems(
    label: str, routes: list[Mapping[str, Any]], integration_ids: set[str]
) -> list[str]:
    problems: list[str] = []
    for route in sorted(routes, key=lambda r: str(r["RouteKey"])):
        target = route.get("Target")
        key = route["RouteKey"]
        if not target:
            problems.append(
                f"{label}: route {quote(key)} has no target, so it can never reach the function"
            )
        elif not (
            target.startswith(ROUTE_TARGET_PREFIX)
            and target[len(ROUTE_TARGET_PREFIX) :] in integration_ids
        ):
            allowed = (ROUTE_TARGET_PREFIX + i for i in sorted(integration_ids))
            problems.append(
                f"{label}: route {quote(key)} targets {quote(target)}, but the API's "
                f"integrations are {_list(allowed)}"
            )
    return problems


def _stage_problems(
    label: str, stages: list[Mapping[str, Any]], log_groups: Mapping[str, str]
) -> list[str]:
    problems: list[str] = []
    for stage in stages:
        destination = (stage.get("AccessLogSettings") or {}).get("DestinationArn")
        if destination and destination.removesuffix(":*") not in log_groups.values():
            problems.append(
                f"{label}: stage {quote(stage['StageName'])} sends access logs to "
                f"{quote(destination)}, which is not the ARN of an existing log group "
                f"(log groups: {_list(sorted(log_groups))})"
            )
    return problems


def _permission_problems(snap: Snapshot) -> list[str]:
    """Lambda permissions for API Gateway whose source ARN is under no deployed API."""
    execution_arns = {
        engine.execute_api_arn(snap.region, snap.account_id, api_id): api_id for api_id in snap.apis
    }
    problems: list[str] = []
    for name, statements in snap.policies.items():
        for statement in statements:
            if statement.get("Principal", {}).get("Service") != API_GATEWAY_PRINCIPAL:
                continue
            source = statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
            if source is None:
                continue  # no condition: any API may invoke (a policy choice, not a reference)
            prefix = source.split("/", 1)[0]
            if prefix not in execution_arns:
                problems.append(
                    f"function {name}: permission {quote(statement.get('Sid'))} allows source "
                    f"{quote(source)}, which is not under the execution ARN of any deployed API "
                    f"({_list(sorted(execution_arns))}), so API Gateway cannot invoke it"
                )
    return problems


def _logging_config_problems(snap: Snapshot) -> list[str]:
    problems: list[str] = []
    for name, logging_config in snap.logging_configs.items():
        group = logging_config.get("logGroup")
        if group and group not in snap.log_groups:
            problems.append(
                f"function {name}: logging_config.log_group is {quote(group)}, which does not "
                f"exist (log groups: {_list(sorted(snap.log_groups))})"
            )
    return problems


def _alarm_problems(
    snap: Snapshot, alarm: Mapping[str, Any], stage_names: set[tuple[str, str]]
) -> list[str]:
    """An alarm's dimensions that name no deployed function, API or stage, and its
    actions that name no topic."""
    problems: list[str] = []
    label = f"alarm {alarm['AlarmName']}"
    dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    if "FunctionName" in dimensions and dimensions["FunctionName"] not in snap.functions:
        problems.append(
            f"{label}: dimension FunctionName={quote(dimensions['FunctionName'])} "
            f"names no deployed function ({_list(sorted(snap.functions))})"
        )
    if "ApiId" in dimensions:
        api_id = dimensions["ApiId"]
        if api_id not in snap.apis:
            problems.append(
                f"{label}: dimension ApiId={quote(api_id)} names no deployed API "
                f"({_list(sorted(snap.apis))})"
            )
        elif "Stage" in dimensions and (api_id, dimensions["Stage"]) not in stage_names:
            problems.append(
                f"{label}: dimension Stage={quote(dimensions['Stage'])} is not a "
                f"stage of API {api_id}"
            )
    for field in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for action in alarm.get(field, []):
            if action not in snap.topics:
                problems.append(
                    f"{label}: {field} has {quote(action)}, which is not an "
                    f"existing SNS topic ({_list(sorted(snap.topics))})"
                )
    return problems


def _auth_and_domain_problems(snap: Snapshot, stage_names: set[tuple[str, str]]) -> list[str]:
    problems: list[str] = []
    cognito_prefix = f"https://cognito-idp.{snap.region}.amazonaws.com/"
    for api_id, routes in snap.routes.items():
        for route in sorted(routes, key=lambda r: str(r["RouteKey"])):
            if route.get("AuthorizationType") != "JWT":
                continue
            authorizer_id = route.get("AuthorizerId")
            if authorizer_id not in snap.authorizers:
                problems.append(
                    f"API {api_id}: route {quote(route['RouteKey'])} names authorizer "
                    f"{quote(authorizer_id)}, which the API does not have"
                )
    for authorizer_id, authorizer in sorted(snap.authorizers.items()):
        jwt_config = authorizer.get("JwtConfiguration") or {}
        issuer = str(jwt_config.get("Issuer", ""))
        if not issuer.startswith(cognito_prefix):
            continue  # an external issuer: nothing here to point at
        pool_id = issuer[len(cognito_prefix) :]
        label = f"authorizer {authorizer.get('Name', authorizer_id)}"
        if pool_id not in snap.user_pool_clients:
            problems.append(f"{label}: issuer {issuer} names no deployed user pool")
            continue
        audiences = set(jwt_config.get("Audience", []))
        if not audiences & snap.user_pool_clients[pool_id]:
            problems.append(
                f"{label}: audiences {_list(sorted(audiences))} name no app client of pool "
                f"{pool_id} ({_list(sorted(snap.user_pool_clients[pool_id]))}), so every "
                "token would be refused"
            )
    for name, domain in sorted(snap.domains.items()):
        for configuration in domain.get("DomainNameConfigurations", []):
            arn = configuration.get("CertificateArn")
            if arn and arn not in snap.certificates:
                problems.append(
                    f"domain {name}: certificate {arn} does not exist in ACM "
                    f"({_list(sorted(snap.certificates))})"
                )
        for mapping in snap.api_mappings.get(name, []):
            if (mapping.get("ApiId"), mapping.get("Stage")) not in stage_names:
                problems.append(
                    f"domain {name}: mapping {mapping.get('ApiMappingId')} points at stage "
                    f"{quote(mapping.get('Stage'))} of API {quote(mapping.get('ApiId'))}, "
                    "which does not exist"
                )
    return problems


def _list(items: Iterable[str]) -> str:
    values = list(items)
    return ", ".join(values) if values else "none"
