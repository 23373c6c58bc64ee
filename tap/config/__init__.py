"""StackConfig: every knob of the stack, read from Pulumi config once and validated in one step.

Each key is declared once in ``tap.config.keys`` (type, default, bounds, reader,
description); ``parse`` walks the declarations, ``StackConfig`` takes its defaults from them,
and the README's config table and the Pulumi.yaml check are generated from them.

Pure: this package imports neither ``pulumi`` nor ``pulumi_aws`` at module level, so the
validation rules are tested directly (``parse`` takes the raw strings Pulumi config
holds) and the Pulumi program only calls ``load``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tap.config.keys import (
    KEY_NAMES,
    KEYS,
    READ_ORDER,
    SCHEMA_TYPES,
    Key,
    default_duration_alarm_threshold_ms,
    default_error_alarm_threshold,
    default_log_retention_days,
    defaults,
    pulumi_declarations,
    shown_default,
)
from tap.config.limits import (
    ARCHITECTURES,
    AUTH_FIELDS,
    AUTH_TYPES,
    CORS_METHODS,
    DEFAULT_PUBLIC_ROUTES,
    DOMAIN_FIELDS,
    EMAIL_ALLOWED,
    HTTP_API_INTEGRATION_TIMEOUT_S,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    MAX_BURST_LIMIT,
    MAX_CORS_MAX_AGE_S,
    MAX_DOMAIN_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_EMAIL_LOCAL_PART,
    MAX_ENVIRONMENT_LENGTH,
    MAX_MEMORY_MB,
    MAX_PROBLEMS_PER_FIELD,
    MAX_RATE_LIMIT,
    MAX_SMOKE_TIMEOUT_S,
    MAX_TIMEOUT_S,
    MIN_MEMORY_MB,
    MIN_RATE_LIMIT,
    MIN_SMOKE_TIMEOUT_S,
    PRODUCTION,
    RUNTIMES,
    TRACING_MODES,
)
from tap.config.objects import CORS_FIELDS, AuthConfig, CorsConfig, DomainConfig
from tap.config.reader import NAMESPACE, ConfigError, Problem, Reader, full_key

__all__ = [
    "ARCHITECTURES",
    "AUTH_FIELDS",
    "AUTH_TYPES",
    "CORS_FIELDS",
    "CORS_METHODS",
    "DEFAULT_PUBLIC_ROUTES",
    "DOMAIN_FIELDS",
    "EMAIL_ALLOWED",
    "HTTP_API_INTEGRATION_TIMEOUT_S",
    "KEYS",
    "KEY_NAMES",
    "LOG_LEVELS",
    "LOG_RETENTION_DAYS",
    "MAX_BURST_LIMIT",
    "MAX_CORS_MAX_AGE_S",
    "MAX_DOMAIN_LENGTH",
    "MAX_EMAIL_LENGTH",
    "MAX_EMAIL_LOCAL_PART",
    "MAX_ENVIRONMENT_LENGTH",
    "MAX_MEMORY_MB",
    "MAX_PROBLEMS_PER_FIELD",
    "MAX_RATE_LIMIT",
    "MAX_SMOKE_TIMEOUT_S",
    "MAX_TIMEOUT_S",
    "MIN_MEMORY_MB",
    "MIN_RATE_LIMIT",
    "MIN_SMOKE_TIMEOUT_S",
    "NAMESPACE",
    "PRODUCTION",
    "RUNTIMES",
    "SCHEMA_TYPES",
    "TRACING_MODES",
    "AuthConfig",
    "ConfigError",
    "CorsConfig",
    "DomainConfig",
    "Key",
    "Problem",
    "StackConfig",
    "default_duration_alarm_threshold_ms",
    "default_error_alarm_threshold",
    "default_log_retention_days",
    "defaults",
    "full_key",
    "load",
    "parse",
    "pulumi_declarations",
    "raw_from_pulumi",
    "render_config_table",
]

# By StackConfig field (the key in snake_case): each key's value when unset, in Production.
_UNSET = defaults()
_DEFAULT = {key.field: _UNSET[key.name] for key in KEYS}


@dataclass(frozen=True)
class StackConfig:
    """Every knob of the stack, validated: one field per key of KEYS, in its order, named
    after the key in snake_case, its default the key's (tests/unit/test_config.py checks)."""

    environment: str = _DEFAULT["environment"]
    region: str = _DEFAULT["region"]
    runtime: str = _DEFAULT["runtime"]
    architecture: str = _DEFAULT["architecture"]
    memory_size: int = _DEFAULT["memory_size"]
    timeout: int = _DEFAULT["timeout"]
    log_retention_days: int = _DEFAULT["log_retention_days"]
    log_level: str = _DEFAULT["log_level"]
    tracing: str = _DEFAULT["tracing"]
    reserved_concurrency: int | None = _DEFAULT["reserved_concurrency"]
    cors: CorsConfig = _DEFAULT["cors"]
    throttling_burst_limit: int = _DEFAULT["throttling_burst_limit"]
    throttling_rate_limit: float = _DEFAULT["throttling_rate_limit"]
    alarm_email: str | None = _DEFAULT["alarm_email"]
    error_alarm_threshold: int = _DEFAULT["error_alarm_threshold"]
    duration_alarm_threshold_ms: int = _DEFAULT["duration_alarm_threshold_ms"]
    smoke_check: bool = _DEFAULT["smoke_check"]
    smoke_check_timeout_seconds: int = _DEFAULT["smoke_check_timeout_seconds"]
    auth: AuthConfig | None = _DEFAULT["auth"]
    domain: DomainConfig | None = _DEFAULT["domain"]


def _refuse_unknown_keys(r: Reader, raw: Mapping[str, str | None]) -> None:
    for key in raw:
        if key not in KEY_NAMES:
            import difflib

            close = difflib.get_close_matches(key, KEY_NAMES, n=1)
            hint = f"did you mean {full_key(close[0])}?" if close else ""
            r.problem(key, raw[key], "a known key: " + ", ".join(KEY_NAMES), hint)


def parse(raw: Mapping[str, str | None]) -> StackConfig:
    """Validate the raw ``tap:`` values (keys without the namespace) into a StackConfig.

    Raises ConfigError naming every invalid or unknown key, its value and what is allowed.
    """
    r = Reader()
    _refuse_unknown_keys(r, raw)
    for key in READ_ORDER:
        default = key.default_given(r.values)
        text = raw.get(key.name)
        r.values[key.name] = default if text is None else key.read(r, key.name, text, default)
    if r.problems:
        raise ConfigError(r.problems)
    return StackConfig(**{key.field: r.values[key.name] for key in KEYS})


def raw_from_pulumi() -> dict[str, str]:
    """Every ``tap:`` value the engine passed to the program, keys without the namespace.

    Pulumi offers no public call to list config keys; the runtime holds them in
    ``pulumi.runtime.config.CONFIG`` (set by the language host or by tests through
    ``set_all_config``) and in ``PULUMI_CONFIG``. Listing them lets a typo such as
    ``tap:timout`` fail loudly instead of being silently ignored.
    """
    from pulumi.runtime import config as runtime_config

    names = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = NAMESPACE + ":"
    raw: dict[str, str] = {}
    for name in sorted(names):
        if name.startswith(prefix):
            value = runtime_config.get_config(name)
            if value is not None:
                raw[name[len(prefix) :]] = str(value)
    return raw


def load() -> StackConfig:
    """Read and validate the stack's configuration. Raises ConfigError before any resource."""
    return parse(raw_from_pulumi())


def render_config_table() -> str:
    """The README's config table, generated from KEYS (tests/unit/test_readme.py checks it)."""
    rows = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
    for key in KEYS:
        rows.append(
            f"| `{NAMESPACE}:{key.name}` | {key.type} | {shown_default(key)} | {key.allowed} "
            f"| {key.description} |"
        )
    return "\n".join(rows)
