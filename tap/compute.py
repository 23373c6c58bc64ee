"""Compute layer: the function's log group and the Lambda function.

Also the function's code archive: built here, once, so the stack, the packaging test and
local mode all zip exactly the same files.

The log group is its own component because the IAM layer sits between the two: the role's
policy is scoped to the group's ARN, and the function needs the role. TapStack builds them
in that order (log group, role, function), and the function depends on both the group and
the policy, so its first log line has somewhere to go and permission to get there.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

FUNCTION_SOURCE_DIR = Path(__file__).resolve().parent / "function"
# The function's package name inside the zip and the handler Lambda calls.
PACKAGE_IN_ZIP = "app"
HANDLER = f"{PACKAGE_IN_ZIP}.handler.handler"
# Only source files ship: no tests, no __pycache__, no editor or OS debris.
_SHIPPED_SUFFIXES = (".py",)


def code_files(source_dir: Path = FUNCTION_SOURCE_DIR) -> dict[str, Path]:
    """The files of the function's code, by their path inside the zip, in a stable order."""
    files: dict[str, Path] = {}
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir)
        if not path.is_file() or path.suffix not in _SHIPPED_SUFFIXES:
            continue
        if any(part == "__pycache__" or part.startswith(("test", ".")) for part in relative.parts):
            continue
        files[f"{PACKAGE_IN_ZIP}/{relative.as_posix()}"] = path
    return files


def code_archive(source_dir: Path = FUNCTION_SOURCE_DIR) -> pulumi.AssetArchive:
    """The Lambda code archive: each shipped file as a FileAsset under ``app/``."""
    return pulumi.AssetArchive(
        {name: pulumi.FileAsset(str(path)) for name, path in code_files(source_dir).items()}
    )


# The engine writes each entry deflated with a constant modification time of 1990-01-01, so
# the zip depends only on names and content (pulumi sdk/go/common/resource/archive/
# archive.go, addNextFileToZIP); entries are written in sorted name order.
_ZIP_EPOCH = (1990, 1, 1, 0, 0, 0)


def zip_bytes(archive: pulumi.Archive) -> bytes:
    """Zip a Pulumi archive the way the engine does before uploading it.

    Handles the kinds the program and the engine use: AssetArchive (of FileAsset,
    StringAsset and nested archives) and FileArchive of a directory.
    """
    entries: dict[str, bytes] = {}
    _collect(archive, "", entries)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name])
    return buffer.getvalue()


def _collect(item: object, prefix: str, entries: dict[str, bytes]) -> None:
    if isinstance(item, pulumi.AssetArchive):
        for name, child in item.assets.items():
            # A nested archive's members go under its name, as the engine joins them
            # (filepath.Join(archiveRoot, name) in archive.go's assetsArchiveReader).
            _collect(child, f"{prefix}/{name}" if prefix else name, entries)
    elif isinstance(item, pulumi.FileArchive):
        root = Path(item.path)
        if not root.is_dir():
            raise ValueError(f"only directory FileArchives are supported, got {item.path}")
        base = f"{prefix}/" if prefix else ""
        for path in sorted(root.rglob("*")):
            if path.is_file():
                entries[base + path.relative_to(root).as_posix()] = path.read_bytes()
    elif isinstance(item, pulumi.FileAsset):
        entries[prefix] = Path(item.path).read_bytes()
    elif isinstance(item, pulumi.StringAsset):
        entries[prefix] = item.text.encode()
    else:
        raise TypeError(f"cannot zip {type(item).__name__} at {prefix or '/'!r}")


def code_hash(archive: pulumi.Archive | None = None) -> str:
    """SHA-256 (hex) of ``zip_bytes`` of the code archive: a fingerprint of the names and
    contents that ship. Computed at program time, so it is known in a preview: what the
    smoke check's trigger is made of.

    Not Lambda's ``CodeSha256``: the engine's Go zip writer compresses differently, so the
    uploaded bytes differ even though names, contents and timestamps are the same.
    """
    return hashlib.sha256(zip_bytes(archive if archive is not None else code_archive())).hexdigest()


# ---------------------------------------------------------------------------------------
# Logging configuration: pure, tested in tests/unit/test_compute.py.

LOG_FORMAT = "JSON"
# Lambda's platform (system) log levels are only DEBUG, INFO and WARN (docs/http-api.md
# rule 20); the application's level maps onto the closest one, never more verbose.
_SYSTEM_LOG_LEVELS = {"DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARN", "ERROR": "WARN"}


def function_log_group_name(function_name: str) -> str:
    """``/aws/lambda/<function name>``: the group Lambda writes to by default, so even a
    tool that ignores ``logging_config`` (moto drops it) finds the logs in the managed group."""
    return f"/aws/lambda/{function_name}"


# The function's own level travels in this variable; the handler applies it to its root
# logger (tap/function/handler.py).
LOG_LEVEL_ENV = "LOG_LEVEL"


def lambda_application_log_level(log_level: str) -> str:
    """Lambda's application log level for ``tap:logLevel``: INFO, or DEBUG for DEBUG.

    Never WARN or ERROR: Lambda drops every line below its application level and counts a
    line without a ``level`` as INFO, so the request's EMF line would be dropped, and the
    metrics with it (docs/http-api.md rule 30). ``tap:logLevel`` itself governs the
    function's ``logging`` (``LOG_LEVEL_ENV``), which is the same filter for its records.
    """
    system_log_level(log_level)  # refuses an unknown level, naming the allowed ones
    return "DEBUG" if log_level == "DEBUG" else "INFO"


def system_log_level(application_log_level: str) -> str:
    """The platform log level that goes with the application's level.

    With the JSON format both levels must be set, or the provider shows a diff on every
    preview (terraform-provider-aws #35301, docs/http-api.md rule 20).
    """
    try:
        return _SYSTEM_LOG_LEVELS[application_log_level]
    except KeyError:
        allowed = ", ".join(_SYSTEM_LOG_LEVELS)
        raise ValueError(f"log level {application_log_level!r} is not one of {allowed}") from None


@dataclass(frozen=True)
class FunctionLogGroupArgs:
    name: str
    """Name of the group: ``function_log_group_name(<function name>)``."""
    retention_days: int
    """Retention in days (a value CloudWatch accepts; validated by tap.config)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """The group's own tags (the provider adds the stack's default tags)."""


class FunctionLogGroup(pulumi.ComponentResource):
    """The function's log group, created by the stack (with retention) before the function.

    Left to Lambda, the group is created on first write, untagged, and keeps its logs
    forever (docs/http-api.md rule 20).
    """

    log_group: aws.cloudwatch.LogGroup
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: FunctionLogGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tap:compute:FunctionLogGroup", name, None, opts)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-group",
            name=args.name,
            retention_in_days=args.retention_days,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = self.log_group.name
        self.arn = self.log_group.arn
        self.register_outputs({"name": self.name, "arn": self.arn})


@dataclass(frozen=True)
class FunctionArgs:
    name: str
    """Physical name of the function (at most 64 of ``[A-Za-z0-9_-]``)."""
    role_arn: pulumi.Input[str]
    """ARN of the execution role."""
    log_group_name: pulumi.Input[str]
    """The managed log group the function writes to (``logging_config.log_group``)."""
    runtime: str
    architecture: str
    memory_size: int
    timeout: int
    """Seconds; below the HTTP API's 30 s integration timeout (validated by tap.config)."""
    log_level: str
    """``tap:logLevel`` (DEBUG, INFO, WARN or ERROR): the function's ``logging`` level, set
    through ``environment[LOG_LEVEL_ENV]``; Lambda's own filter stays at INFO or DEBUG
    (``lambda_application_log_level``)."""
    tracing: str
    """X-Ray mode: Active or PassThrough."""
    environment: Mapping[str, str]
    """Environment variables (the function's contract: ENVIRONMENT, METRICS_NAMESPACE,
    APP_VERSION)."""
    reserved_concurrency: int | None = None
    """Reserved concurrent executions; None reserves nothing (and sets nothing)."""
    code: pulumi.Archive = field(default_factory=code_archive)
    """The code archive; by default the shipped files of tap/function/."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources to create first: the log group and the role's policy."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """The function's own tags (the provider adds the stack's default tags)."""


class Function(pulumi.ComponentResource):
    """The Lambda function that serves the API."""

    function: aws.lambda_.Function
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    invoke_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: FunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tap:compute:Function", name, None, opts)
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=args.name,
            description="tap: serverless HTTP API handler (API Gateway HTTP API, payload 2.0)",
            role=args.role_arn,
            code=args.code,
            handler=HANDLER,
            runtime=args.runtime,
            architectures=[args.architecture],
            memory_size=args.memory_size,
            timeout=args.timeout,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={**args.environment, LOG_LEVEL_ENV: args.log_level}
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode=args.tracing),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format=LOG_FORMAT,
                log_group=args.log_group_name,
                application_log_level=lambda_application_log_level(args.log_level),
                system_log_level=system_log_level(args.log_level),
            ),
            # None leaves the property unset: the function uses the account's unreserved pool.
            reserved_concurrent_executions=args.reserved_concurrency,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.name = self.function.name
        self.arn = self.function.arn
        self.invoke_arn = self.function.invoke_arn
        self.register_outputs({"name": self.name, "arn": self.arn})
