"""The Lambda function's rules: runtime, timeout, logging, architecture, tracing and
reserved concurrency."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Final

from tap.config import HTTP_API_INTEGRATION_TIMEOUT_S
from tap.policy.rules.model import LOG_GROUP, UNKNOWN, Context, Resource, UndecidableError
from tap.policy.rules.read import as_list, as_number, known, prop, quoted

# Deprecation dates of the Python runtimes (AWS Lambda developer guide, "Lambda runtimes";
# python3.10-3.14 as recorded in docs/http-api.md "Runtimes"). None: no date
# announced yet. A runtime not listed here fails: the pack cannot show it is supported.
RUNTIME_DEPRECATION: Final[Mapping[str, date | None]] = {
    "python2.7": date(2021, 7, 15),
    "python3.6": date(2022, 7, 18),
    "python3.7": date(2023, 12, 4),
    "python3.8": date(2024, 10, 14),
    "python3.9": date(2025, 12, 15),
    "python3.10": date(2026, 6, 30),
    "python3.11": date(2026, 6, 30),
    "python3.12": date(2028, 10, 31),
    "python3.13": date(2029, 6, 30),
    "python3.14": None,
}


def check_runtime(resource: Resource, context: Context) -> Iterator[str]:
    if prop(resource.props, "packageType") == "Image":
        return  # a container image brings its own runtime (Security Hub Lambda.2 skips it too)
    runtime = prop(resource.props, "runtime")
    supported = sorted(
        (r for r, d in RUNTIME_DEPRECATION.items() if d is None or d > context.today),
        key=lambda r: tuple(int(n) for n in re.findall(r"\d+", r)),
    )
    if runtime not in RUNTIME_DEPRECATION:
        yield (
            f"runtime {quoted(runtime)} is not one this pack knows; "
            f"supported: {', '.join(supported)}"
        )
        return
    deprecated_on = RUNTIME_DEPRECATION[runtime]
    if deprecated_on is not None and deprecated_on <= context.today:
        yield (
            f"runtime {quoted(runtime)} was deprecated on {deprecated_on.isoformat()} and gets no "
            f"security patches; use one of {', '.join(supported)}"
        )


# Lambda's default timeout when none is set (CreateFunction: 3 s).
LAMBDA_DEFAULT_TIMEOUT_S = 3


def check_timeout(resource: Resource, context: Context) -> Iterator[str]:
    timeout = as_number(prop(resource.props, "timeout"))
    timeout = LAMBDA_DEFAULT_TIMEOUT_S if timeout is None else timeout
    if timeout >= HTTP_API_INTEGRATION_TIMEOUT_S:
        yield (
            f"timeout is {timeout:g} s, but must be below {HTTP_API_INTEGRATION_TIMEOUT_S} s: "
            f"an HTTP API stops waiting after {HTTP_API_INTEGRATION_TIMEOUT_S} s and the "
            "client already got a 503 (docs/http-api.md rule 11)"
        )


def _managed_log_group_names(context: Context) -> set[str]:
    return {
        r.props["name"] for r in context.of_type(LOG_GROUP) if isinstance(r.props.get("name"), str)
    }


def check_function_logging(resource: Resource, context: Context) -> Iterator[str]:
    log_format = prop(resource.props, "loggingConfig", "logFormat")
    if log_format != "JSON":
        yield (
            f"loggingConfig.logFormat is {quoted(log_format)}, but must be 'JSON' so each log "
            "record is a queryable object (docs/http-api.md rule 21)"
        )
    config = prop(resource.props, "loggingConfig")
    explicit = config.get("logGroup") if isinstance(config, Mapping) else None
    if explicit is UNKNOWN:
        # During preview the group's name may be computed: its provenance still shows
        # whether it comes from a log group of this stack.
        sources = resource.dependencies.get("loggingConfig", ())
        if any((r := context.by_urn(u)) is not None and r.type == LOG_GROUP for u in sources):
            return
        raise UndecidableError("loggingConfig.logGroup")
    name = known(resource.props.get("name"), "name")
    target = explicit or (f"/aws/lambda/{name}" if isinstance(name, str) else None)
    if target is None:
        raise UndecidableError("name")
    if target not in _managed_log_group_names(context):
        yield (
            f"writes its logs to {quoted(target)}, a log group this stack does not manage (so "
            "it has no retention and no tags: docs/http-api.md rule 20); set "
            "loggingConfig.logGroup to the stack's log group"
        )


def check_arm64(resource: Resource, context: Context) -> Iterator[str]:
    architectures = as_list(prop(resource.props, "architectures")) or ["x86_64"]
    if architectures != ["arm64"]:
        yield (
            f"runs on {architectures}: arm64 runs the same Python code for 20% less per GB-second"
        )


def check_active_tracing(resource: Resource, context: Context) -> Iterator[str]:
    mode = prop(resource.props, "tracingConfig", "mode") or "PassThrough"
    if mode != "Active":
        yield (
            f"tracingConfig.mode is {quoted(mode)}: "
            "requests are not traced unless the caller samples"
        )


# Lambda keeps at least this much of the account's concurrency unreserved (docs/http-api.md
# rule 31).
MIN_UNRESERVED_CONCURRENCY = 100


def check_reserved_concurrency(resource: Resource, context: Context) -> Iterator[str]:
    reserved = as_number(prop(resource.props, "reservedConcurrentExecutions"))
    if reserved is None or reserved < 0:
        yield (
            "has no reserved concurrency: a burst can take the account's whole concurrency "
            "(and its bill) with it. Set tap:reservedConcurrency only if the account's "
            f"concurrency quota leaves at least {MIN_UNRESERVED_CONCURRENCY} unreserved after "
            "it: Lambda refuses anything more and `pulumi up` fails halfway (new accounts "
            "often have a quota of 10; docs/http-api.md rule 31)"
        )
    elif reserved == 0:
        yield "reserves 0 concurrent executions: every invocation is throttled"
