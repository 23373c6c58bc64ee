"""Lambda: the function (from its code archive) and its permissions; its log group."""

from __future__ import annotations

from typing import Any

import pulumi

from tap import compute, engine
from tap.local.deploy.appliers.arguments import Arg, Arguments
from tap.local.deploy.appliers.base import Context, applies, as_int, name_of, str_map
from tap.local.deploy.resources import DeployError


def put_retention(logs: Any, name: str, inputs: dict[str, Any], *, reset: bool = False) -> None:
    """Set the group's retention; with ``reset``, an absent or zero value (never expire)
    removes the retention policy."""
    days = as_int(inputs.get("retentionInDays", 0))
    if days > 0:
        logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    elif reset:
        logs.delete_retention_policy(logGroupName=name)


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
    put_retention(logs, name, inputs)
    group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    # The provider's arn has no trailing ":*" (describe-log-groups' "arn" has it).
    return name, {"name": name, "arn": group["logGroupArn"]}


def _logging_config(value: dict[str, Any]) -> dict[str, Any]:
    # moto drops LoggingConfig (docs/tools.md); it is sent anyway, and what the program
    # asked for stays in the recorded inputs for the checks and the emulator.
    logging_config = {"LogFormat": value["logFormat"]}
    for key, boto_key in (
        ("logGroup", "LogGroup"),
        ("applicationLogLevel", "ApplicationLogLevel"),
        ("systemLogLevel", "SystemLogLevel"),
    ):
        if key in value:
            logging_config[boto_key] = value[key]
    return logging_config


# The function's configuration (CreateFunction, UpdateFunctionConfiguration); a removed
# input is set back to Lambda's default, as the provider does (128 MB, 3 s, no variables).
function_arguments = Arguments(
    Arg("role", "Role", reset=""),
    Arg("handler", "Handler", reset=""),
    Arg("runtime", "Runtime", reset=""),
    Arg("description", "Description", reset=""),
    Arg("memorySize", "MemorySize", as_int, reset=128),
    Arg("timeout", "Timeout", as_int, reset=3),
    Arg(
        "environment",
        "Environment",
        lambda value: {"Variables": str_map(value.get("variables"))},
        reset={"Variables": {}},
    ),
    Arg(
        "tracingConfig",
        "TracingConfig",
        lambda value: {"Mode": value["mode"]},
        reset={"Mode": "PassThrough"},
    ),
    Arg("loggingConfig", "LoggingConfig", _logging_config),
)
# What goes with the code (CreateFunction, UpdateFunctionCode).
_code_arguments = Arguments(Arg("architectures", "Architectures", list))


def function_code(inputs: dict[str, Any]) -> dict[str, Any]:
    """The code as update_function_code takes it (create_function takes the same, the
    zip under ``Code``): the archive zipped exactly as the engine zips it before uploading
    it, and its architectures."""
    code = inputs.get("code")
    if not isinstance(code, pulumi.Archive):
        raise DeployError(
            "local mode deploys functions from a code archive (the `code` input); "
            "S3 and image packages are not supported"
        )
    return {"ZipFile": compute.zip_bytes(code), **_code_arguments(inputs)}


def put_concurrency(lam: Any, name: str, inputs: dict[str, Any], *, reset: bool = False) -> None:
    """Reserve the function's concurrency; with ``reset``, an absent or negative value
    (the provider's "no reservation") removes the reservation."""
    reserved = inputs.get("reservedConcurrentExecutions")
    if reserved is not None and as_int(reserved) >= 0:
        lam.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=as_int(reserved)
        )
    elif reset:
        lam.delete_function_concurrency(FunctionName=name)


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
    code = function_code(inputs)
    kwargs: dict[str, Any] = {
        **function_arguments(inputs),
        "FunctionName": name,
        "Role": inputs["role"],
        "Runtime": inputs["runtime"],
        "Handler": inputs["handler"],
        "Code": {"ZipFile": code.pop("ZipFile")},
        **code,
        "Publish": bool(inputs.get("publish", False)),
        "Tags": ctx.tags_all,
    }
    lam = ctx.client("lambda")
    function = lam.create_function(**kwargs)
    put_concurrency(lam, name, inputs)
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
