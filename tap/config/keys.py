"""The config keys, each declared once: type, default, bounds, reader and description.

``parse`` walks KEYS in order, ``StackConfig`` takes its fields' defaults from them, and the
README's config table and the Pulumi.yaml check are generated from them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tap.config.limits import (
    _DECIMAL_RE,
    _EMAIL_RE,
    _ENVIRONMENT_RE,
    _REGION_RE,
    ARCHITECTURES,
    DEFAULT_PUBLIC_ROUTES,
    EMAIL_ALLOWED,
    HTTP_API_INTEGRATION_TIMEOUT_S,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    MAX_BURST_LIMIT,
    MAX_EMAIL_LENGTH,
    MAX_EMAIL_LOCAL_PART,
    MAX_ENVIRONMENT_LENGTH,
    MAX_MEMORY_MB,
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
from tap.config.objects import (
    CorsConfig,
    DomainConfig,
    cors_json,
    describe_cors,
    read_auth,
    read_cors,
    read_domain,
)
from tap.config.reader import Reader

Read = Callable[[Reader, str, str, Any], Any]
"""(reader, key, the text set, the key's default) -> the value; a refused text is recorded
on the reader, and the default returned so that the keys read after it can still be read."""

# The project schema's config types (pulumi/pulumi sdk/go/common/workspace/project.json, with
# object since pulumi/pulumi#20129): a key of another type cannot be declared in Pulumi.yaml.
SCHEMA_TYPES = ("string", "integer", "boolean", "array", "object")


@dataclass(frozen=True)
class Key:
    """One config key. ``type`` is the README's and Pulumi.yaml's; ``allowed`` is the README's
    (a refused value's message says it the reader's way, with the reason)."""

    name: str
    type: str  # string | integer | number | boolean | object
    description: str
    allowed: str
    read: Read
    default: Any = None
    """The value when the key is unset; None: unset."""
    default_from: Callable[[Mapping[str, Any]], Any] | None = None
    """A default computed from the values of keys declared before this one."""
    shown: str = ""
    """The README's default when the value alone does not say it: ``{production}`` and
    ``{otherwise}`` stand for the default in Production and in any other environment."""
    read_last: bool = False
    """Read after every other key (so its problems are listed after theirs)."""

    @property
    def field(self) -> str:
        """The StackConfig field: the key in snake_case."""
        return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), self.name)

    def default_given(self, values: Mapping[str, Any]) -> Any:
        return self.default if self.default_from is None else self.default_from(values)

    @property
    def declarable(self) -> bool:
        """Pulumi.yaml can declare it: a schema type, and a default that is one fixed value
        (a declared key without a default is required)."""
        return self.type in SCHEMA_TYPES and self.default is not None and self.default_from is None


# ---------------------------------------------------------------------------------------
# Readers of one value each.


def _choice(choices: tuple[str, ...], why: str = "") -> Read:
    return lambda r, key, text, default: r.choice(key, text, default, choices, why)


def _integer(low: int, high: int | None, allowed: str, why: str = "") -> Read:
    return lambda r, key, text, default: r.integer(key, text, default, (low, high), allowed, why)


def _environment(r: Reader, key: str, text: str, default: str) -> str:
    if not _ENVIRONMENT_RE.fullmatch(text):
        allowed = f"1-{MAX_ENVIRONMENT_LENGTH} of [A-Za-z0-9-]"
        r.problem(key, text, allowed, "it is used in resource names and tags")
        return default
    return text


def _region(r: Reader, key: str, text: str, default: str) -> str:
    if not _REGION_RE.fullmatch(text):
        r.problem(key, text, "an AWS region name such as us-east-1 or eu-west-2")
    return text  # tap:domain's certificate check then names the region given


def _retention(r: Reader, key: str, text: str, default: int) -> int:
    allowed = "one of " + ", ".join(map(str, LOG_RETENTION_DAYS))
    why = "the values CloudWatch Logs accepts"
    days: int = r.integer(key, text, default, (1, None), allowed, why)
    if days not in LOG_RETENTION_DAYS:
        r.problem(key, text, allowed, why)
        return default
    return days


def _rate(r: Reader, key: str, text: str, default: float) -> float:
    # The regex also refuses nan, inf, "1_0", signs and non-ASCII digits; float() of a
    # matching text is finite or inf (1e999), which the range refuses.
    rate = float(text) if _DECIMAL_RE.fullmatch(text) else math.nan
    if not (MIN_RATE_LIMIT <= rate <= MAX_RATE_LIMIT):  # also refuses nan
        allowed = (
            f"a number {MIN_RATE_LIMIT:g}-{MAX_RATE_LIMIT:g} in ASCII digits "
            "(requests per second; 0.01 is one request per 100 s)"
        )
        why = "a rate of 0 rejects every request with 429, and a smaller one is not a rate"
        r.problem(key, text, allowed, why)
        return default
    return rate


def _email(r: Reader, key: str, text: str, default: None) -> str | None:
    local = text.rpartition("@")[0]
    if (
        len(text) > MAX_EMAIL_LENGTH
        or len(local) > MAX_EMAIL_LOCAL_PART
        or _EMAIL_RE.fullmatch(text) is None
    ):
        r.problem(key, text, EMAIL_ALLOWED, "e.g. ops@example.com")
        return default
    return text


def _duration(r: Reader, key: str, text: str, default: int) -> int:
    timeout_s = r.values["timeout"]
    limit = timeout_s * 1000 - 1
    allowed = f"1-{limit} (below tap:timeout, {timeout_s} s)"
    why = "the function is stopped at its timeout, so a threshold at or above it never fires"
    value: int = r.integer(key, text, default, (1, limit), allowed, why)
    return value


# ---------------------------------------------------------------------------------------
# Defaults that depend on other values (the contract's "in Production ... otherwise ...").


def _by_environment(production: int, otherwise: int) -> Callable[[Mapping[str, Any]], int]:
    return lambda values: production if values["environment"] == PRODUCTION else otherwise


def _duration_threshold(values: Mapping[str, Any]) -> int:
    """25 s of a 29 s timeout in Production (28 s otherwise), scaled to the timeout.

    Scaling keeps the default strictly below any valid timeout, so setting ``tap:timeout``
    alone never makes the default threshold invalid.
    """
    share = 25 if values["environment"] == PRODUCTION else 28
    timeout_s: int = values["timeout"]
    return timeout_s * 1000 * share // MAX_TIMEOUT_S


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _shown_value(value: Any) -> str:
    """A fixed default as the README shows it."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


# ---------------------------------------------------------------------------------------
# The keys, in the README's order, which is also the order they are read in (but the keys
# marked read_last): a default_from or a reader may use the values of keys above it.

KEYS: tuple[Key, ...] = (
    Key(
        "environment",
        "string",
        "Environment name: the `Environment` tag, the function's "
        "`ENVIRONMENT`, and the defaults below",
        f"1-{MAX_ENVIRONMENT_LENGTH} of `[A-Za-z0-9-]`",
        _environment,
        default=PRODUCTION,
    ),
    Key(
        "region",
        "string",
        "AWS region of every resource (explicit provider)",
        "an AWS region name",
        _region,
        default="us-east-1",
    ),
    Key(
        "runtime",
        "string",
        "Lambda runtime",
        _listed(RUNTIMES),
        _choice(RUNTIMES, "older Python runtimes are deprecated by AWS"),
        default="python3.13",
    ),
    Key(
        "architecture",
        "string",
        "Lambda architecture (arm64: same code, 20% cheaper)",
        _listed(ARCHITECTURES),
        _choice(ARCHITECTURES),
        default="arm64",
    ),
    Key(
        "memorySize",
        "integer",
        "Lambda memory in MB",
        f"{MIN_MEMORY_MB}-{MAX_MEMORY_MB}",
        _integer(
            MIN_MEMORY_MB,
            MAX_MEMORY_MB,
            f"{MIN_MEMORY_MB}-{MAX_MEMORY_MB}",
            "Lambda's memory range in MB",
        ),
        default=512,
    ),
    Key(
        "timeout",
        "integer",
        "Lambda timeout in seconds (the HTTP API gives up at 30 s)",
        f"1-{MAX_TIMEOUT_S}",
        _integer(
            1,
            MAX_TIMEOUT_S,
            f"1-{MAX_TIMEOUT_S}",
            f"an HTTP API stops waiting after {HTTP_API_INTEGRATION_TIMEOUT_S} s",
        ),
        default=MAX_TIMEOUT_S,
    ),
    Key(
        "logRetentionDays",
        "integer",
        "Retention of both log groups",
        "a CloudWatch retention value (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)",
        _retention,
        default_from=_by_environment(production=14, otherwise=30),
        shown="`{production}` in Production, `{otherwise}` otherwise",
    ),
    Key(
        "logLevel",
        "string",
        "Level of the function's own log records; each request's metrics line is "
        "written at every level",
        _listed(LOG_LEVELS),
        _choice(LOG_LEVELS),
        default="INFO",
    ),
    Key(
        "tracing",
        "string",
        "X-Ray tracing mode",
        _listed(TRACING_MODES),
        _choice(TRACING_MODES),
        default="Active",
    ),
    Key(
        "reservedConcurrency",
        "integer",
        "Reserved concurrent executions. Lambda refuses a reservation that leaves the "
        "account fewer than 100 unreserved, and `pulumi up` then fails halfway: check the "
        "account's concurrency quota first (new accounts often have 10)",
        ">= 1, and at most the account's concurrency quota minus 100",
        _integer(
            1, None, ">= 1", "0 would throttle every request; leave it unset for no reservation"
        ),
    ),
    Key(
        "cors",
        "object",
        "CORS configuration of the HTTP API (fields: allowOrigins, "
        "allowMethods, allowHeaders, exposeHeaders, maxAge, allowCredentials); fields left "
        "out keep their default",
        "origins `*` or `scheme://host[:port]`; maxAge 0-86400; credentials never with `*`",
        lambda r, key, text, default: read_cors(r, text),
        default=CorsConfig(),
        shown=describe_cors(CorsConfig()),
    ),
    Key(
        "throttlingBurstLimit",
        "integer",
        "Stage burst limit (requests)",
        f"1-{MAX_BURST_LIMIT}",
        _integer(
            1,
            MAX_BURST_LIMIT,
            f"1-{MAX_BURST_LIMIT}",
            "a limit of 0 rejects every request with 429",
        ),
        default=200,
    ),
    Key(
        "throttlingRateLimit",
        "number",
        "Stage steady rate limit (requests per second)",
        f"{MIN_RATE_LIMIT:g}-{MAX_RATE_LIMIT:g}",
        _rate,
        default=100.0,
    ),
    Key(
        "alarmEmail",
        "string",
        "Email subscribed to the alarm topic",
        "`local@domain`: dot-atom local part (64 max), DNS labels, 254 characters max",
        _email,
    ),
    Key(
        "errorAlarmThreshold",
        "integer",
        "Function errors, and API 5xx responses, per minute above which their alarms fire (0: any)",
        ">= 0",
        _integer(0, None, ">= 0"),
        default_from=_by_environment(production=3, otherwise=5),
        shown="`{production}` in Production, `{otherwise}` otherwise",
    ),
    Key(
        "durationAlarmThresholdMs",
        "integer",
        "Function p99 duration (ms) above which the duration alarm fires (3 of 5 minutes)",
        "1 to below `timeout` x 1000",
        _duration,
        default_from=_duration_threshold,
        shown="`{production}` in Production ({otherwise} otherwise), scaled to `timeout`",
    ),
    Key(
        "smokeCheck",
        "boolean",
        "Check the live API after every deploy",
        "`true`, `false`",
        lambda r, key, text, default: r.boolean(key, text, default),
        default=True,
        read_last=True,
    ),
    Key(
        "smokeCheckTimeoutSeconds",
        "integer",
        "How long the smoke check retries",
        f"{MIN_SMOKE_TIMEOUT_S}-{MAX_SMOKE_TIMEOUT_S}",
        _integer(
            MIN_SMOKE_TIMEOUT_S,
            MAX_SMOKE_TIMEOUT_S,
            f"{MIN_SMOKE_TIMEOUT_S}-{MAX_SMOKE_TIMEOUT_S}",
        ),
        default=120,
        read_last=True,
    ),
    Key(
        "auth",
        "object",
        "Require a JWT on every route but `publicRoutes` (fields: type, issuer, audience, "
        "publicRoutes, scopes): `cognito` creates a user pool and app client, `jwt` trusts "
        "an external OIDC issuer",
        "type `cognito` or `jwt`; jwt: issuer an `https://` URL, audience a non-empty list; "
        "publicRoutes and scopes keys: route keys of the route table",
        lambda r, key, text, default: read_auth(r, text, r.values["cors"]),
        shown=f"unset (no authentication); publicRoutes {_listed(DEFAULT_PUBLIC_ROUTES)}",
    ),
    Key(
        "domain",
        "object",
        "Custom domain (fields: name, zoneId or certificateArn, disableDefaultEndpoint): "
        "TLS 1.2, mapped to `$default`; with zoneId the stack issues the certificate and "
        "the alias records",
        "name a DNS name; exactly one of zoneId (a Route 53 zone id) or certificateArn "
        "(an ACM certificate in `tap:region`)",
        lambda r, key, text, default: read_domain(r, text, r.values["region"]),
        shown="unset; disableDefaultEndpoint "
        + _shown_value(DomainConfig.disable_default_endpoint),
    ),
)
KEY_NAMES = tuple(k.name for k in KEYS)
READ_ORDER = tuple(sorted(KEYS, key=lambda k: k.read_last))  # sorted() is stable


def defaults(**given: Any) -> dict[str, Any]:
    """Every key's value when unset, by key name; ``given`` sets some keys (by key name)."""
    values: dict[str, Any] = {}
    for key in KEYS:
        values[key.name] = given[key.name] if key.name in given else key.default_given(values)
    return values


def default_log_retention_days(environment: str) -> int:
    days: int = defaults(environment=environment)["logRetentionDays"]
    return days


def default_error_alarm_threshold(environment: str) -> int:
    threshold: int = defaults(environment=environment)["errorAlarmThreshold"]
    return threshold


def default_duration_alarm_threshold_ms(environment: str, timeout_s: int) -> int:
    threshold: int = defaults(environment=environment, timeout=timeout_s)[
        "durationAlarmThresholdMs"
    ]
    return threshold


def shown_default(key: Key) -> str:
    """The key's default as the README's config table shows it."""
    if key.default_from is None:
        return key.shown or _shown_value(key.default)
    production = defaults()[key.name]
    otherwise = defaults(environment="staging")[key.name]
    return key.shown.format(production=production, otherwise=otherwise)


def pulumi_declarations() -> dict[str, dict[str, Any]]:
    """What Pulumi.yaml's ``config`` declares: every declarable key, its schema type, its
    description (as plain text) and its default as the engine passes it back."""
    return {
        key.name: {
            "type": key.type,
            "description": key.description.replace("`", ""),
            "default": cors_json(key.default)
            if isinstance(key.default, CorsConfig)
            else key.default,
        }
        for key in KEYS
        if key.declarable
    }
