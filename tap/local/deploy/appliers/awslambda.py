"""Lambda: the function (from its code archive) and its permissions; its log group."""

from __future__ import annotations

from typing import Any

import pulumi

from tap import compute, engine
from tap.local.deploy.appliers.base import Context, applies, as_int, name_of, str_map
from tap.local.deploy.resources import DeployError


@applies(engine.LOG_GROUP, "kmsKeyId", "logGroupClass", "name", "namePrefix", "retentionInDays")
def _log_group(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    logs = ctx.client("logs")
    kwargs: dict[str, Any] = {"logGroupName": name, "tags": ctx.tags_all}
    if "kmsKeyId" in inputs:
        kwargs["kmsKeyId"] = inputs["kmsKeyId"]
    if "logGroupClass" in inputs:
        kwargs["logGroupClass"] = inputs["logGroupClass"]
    logs.create_log_group(**kwargs)
    if "retentionInDays" in inputs and as_int(inputs["retentionInDays"]) > 0:
        logs.put_retention_policy(
            logGroupName=name, retentionInDays=as_int(inputs["retentionInDays"])
        )
    group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    # The provider's arn has no trailing ":*" (describe-log-groups' "arn" has it).
    return name, {"name": name, "arn": group["logGroupArn"]}


@applies(
    engine.LAMBDA_FUNCTION,
    "architectures",
    "code",
    "description",
    "environment",
    "handler",
    "loggingConfig",
    "memorySize",
    "name",
    "packageType",
    "publish",
    "reservedConcurrentExecutions",
    "role",
    "runtime",
    "sourceCodeHash",
    "timeout",
    "tracingConfig",
)
def _function(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    code = inputs.get("code")
    if not isinstance(code, pulumi.Archive):
        raise DeployError(
            "local mode deploys functions from a code archive (the `code` input); "
            "S3 and image packages are not supported"
        )
    kwargs: dict[str, Any] = {
        "FunctionName": name,
        "Role": inputs["role"],
        "Runtime": inputs["runtime"],
        "Handler": inputs["handler"],
        # Zipped exactly as the engine zips the archive before uploading it.
        "Code": {"ZipFile": compute.zip_bytes(code)},
        "Publish": bool(inputs.get("publish", False)),
        "Tags": ctx.tags_all,
    }
    for key, boto_key in (("memorySize", "MemorySize"), ("timeout", "Timeout")):
        if key in inputs:
            kwargs[boto_key] = as_int(inputs[key])
    if "description" in inputs:
        kwargs["Description"] = inputs["description"]
    if "architectures" in inputs:
        kwargs["Architectures"] = list(inputs["architectures"])
    if "environment" in inputs:
        kwargs["Environment"] = {"Variables": str_map(inputs["environment"].get("variables"))}
    if "tracingConfig" in inputs:
        kwargs["TracingConfig"] = {"Mode": inputs["tracingConfig"]["mode"]}
    if "loggingConfig" in inputs:
        # moto drops LoggingConfig (pulumi-and-moto.md); it is sent anyway, and what the
        # program asked for stays in the recorded inputs for the checks and the emulator.
        lc = inputs["loggingConfig"]
        logging_config = {"LogFormat": lc["logFormat"]}
        for key, boto_key in (
            ("logGroup", "LogGroup"),
            ("applicationLogLevel", "ApplicationLogLevel"),
            ("systemLogLevel", "SystemLogLevel"),
        ):
            if key in lc:
                logging_config[boto_key] = lc[key]
        kwargs["LoggingConfig"] = logging_config
    lam = ctx.client("lambda")
    function = lam.create_function(**kwargs)
    if (
        "reservedConcurrentExecutions" in inputs
        and as_int(inputs["reservedConcurrentExecutions"]) >= 0
    ):
        lam.put_function_concurrency(
            FunctionName=name,
            ReservedConcurrentExecutions=as_int(inputs["reservedConcurrentExecutions"]),
        )
    arn = function["FunctionArn"]
    version = function.get("Version", "$LATEST")
    return name, {
        "name": name,
        "arn": arn,
        "invokeArn": engine.lambda_invoke_arn(ctx.region, arn),
        "qualifiedArn": f"{arn}:{version}",
        "qualifiedInvokeArn": engine.lambda_invoke_arn(ctx.region, f"{arn}:{version}"),
        "version": version,
        "codeSha256": function["CodeSha256"],
        "sourceCodeHash": function["CodeSha256"],
        "sourceCodeSize": function["CodeSize"],
        "lastModified": function["LastModified"],
        "signingJobArn": "",
        "signingProfileVersionArn": "",
    }


@applies(
    engine.LAMBDA_PERMISSION,
    "action",
    "function",
    "principal",
    "qualifier",
    "sourceAccount",
    "sourceArn",
    "statementId",
    "statementIdPrefix",
)
def _permission(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    statement_id = str(inputs.get("statementId") or name_of(inputs, logical, "statementId"))
    kwargs: dict[str, Any] = {
        "FunctionName": inputs["function"],
        "StatementId": statement_id,
        "Action": inputs["action"],
        "Principal": inputs["principal"],
    }
    for key, boto_key in (
        ("sourceArn", "SourceArn"),
        ("sourceAccount", "SourceAccount"),
        ("qualifier", "Qualifier"),
    ):
        if key in inputs:
            kwargs[boto_key] = inputs[key]
    ctx.client("lambda").add_permission(**kwargs)
    return statement_id, {"statementId": statement_id}
