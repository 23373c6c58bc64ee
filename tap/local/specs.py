"""What local mode serves, as plain data: the HTTP API with its stage, its routes'
authorizers, and each Lambda function's code and configuration.

The deploy builds these from what moto holds (tap.local.deploy.readback), the gateway serves
them (tap.local.gateway) and the runtime runs the functions (tap.local.runtime); none of
those parts imports another to know their shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# docs/http-api.md rule 11: the integration timeout is 50–30,000 ms, 30 s by default.
MIN_INTEGRATION_TIMEOUT_MS = 50
MAX_INTEGRATION_TIMEOUT_MS = 30_000

FunctionLogSink = Callable[[str, str], None]
"""Receives (function name, one log line) for every line the function writes."""
AccessLogSink = Callable[[str], None]
"""Receives one rendered access-log line per request (the stage's access-log format)."""


@dataclass(frozen=True)
class CorsSpec:
    """The API's ``cors_configuration`` (docs/http-api.md rules 16–19)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None
    allow_credentials: bool


@dataclass(frozen=True)
class JwtAuthorizer:
    """One JWT authorizer: what it trusts."""

    issuer: str
    audiences: tuple[str, ...]
    keys: Mapping[str, Any] = field(repr=False)  # kid -> RSA public key (jwt_auth.parse_jwks)


@dataclass(frozen=True)
class RouteAuth:
    """A route's authorization: its authorizer, and the scopes it requires (maybe none)."""

    authorizer: JwtAuthorizer
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as deployed: its code and configuration."""

    name: str
    arn: str
    zip_bytes: bytes
    handler: str  # "module.path.function", e.g. "app.handler.handler"
    runtime: str  # e.g. "python3.13"; the worker runs on this interpreter regardless
    environment: Mapping[str, str]
    timeout_s: float
    memory_mb: int
    region: str
    log_group: str
    # Lambda's logging_config (moto drops it, so the deployer passes what it declared).
    log_format: str = "JSON"  # "JSON" | "Text"
    application_log_level: str = "INFO"
    # reserved_concurrent_executions: at most this many instances; beyond, throttled.
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class ApiSpec:
    """One HTTP API with its ``$default`` stage, as deployed."""

    api_id: str
    region: str
    account_id: str
    stage: str  # "$default" (other stage names prefix rawPath with /<stage>, rule 2)
    # route key ("GET /health", "ANY /{proxy+}", "$default") -> function name (its target)
    routes: Mapping[str, str]
    payload_format_version: str  # must be "2.0"
    cors: CorsSpec | None
    access_log_format: str | None  # the stage's access_log_settings.format, or None
    integration_timeout_ms: int = MAX_INTEGRATION_TIMEOUT_MS
    # The stage's default route throttling (docs/http-api.md rules 13 and 52); None: unset.
    throttling_burst_limit: int | None = None
    throttling_rate_limit: float | None = None
    # The stage's access_log_settings.destination_arn's log group (local mode writes the
    # access log there, tap.local.logs.cloudwatch), or None.
    access_log_group: str | None = None
    # route key -> its JWT authorizer and scopes; a route not here is open (no authorizer)
    route_auth: Mapping[str, RouteAuth] = field(default_factory=dict)
