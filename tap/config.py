"""StackConfig: every knob of the stack, read from Pulumi config once and validated in one step.

Pure: this module imports neither ``pulumi`` nor ``pulumi_aws`` at module level, so the
validation rules are tested directly (``parse`` takes the raw strings Pulumi config
holds) and the Pulumi program only calls ``load``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

NAMESPACE = "tap"

# An HTTP API stops waiting for its integration after 30 s (integration timeout 50-30,000 ms,
# default and maximum 30 s: docs/http-api.md rule 11), so a Lambda timeout of 30 s or
# more can never be used: the client already got a 503.
HTTP_API_INTEGRATION_TIMEOUT_S = 30
MAX_TIMEOUT_S = HTTP_API_INTEGRATION_TIMEOUT_S - 1

MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240
# The account-level HTTP API quotas: 10,000 rps steady, 5,000 burst (docs/http-api.md rule 13).
MAX_BURST_LIMIT = 5000
MAX_RATE_LIMIT = 10000.0
MAX_CORS_MAX_AGE_S = 86400
MIN_SMOKE_TIMEOUT_S, MAX_SMOKE_TIMEOUT_S = 5, 900
MAX_ENVIRONMENT_LENGTH = 32

RUNTIMES = ("python3.12", "python3.13", "python3.14")
ARCHITECTURES = ("arm64", "x86_64")
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
TRACING_MODES = ("Active", "PassThrough")
# The values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy). 0 ("never
# expire") is left out on purpose: logs kept forever are the seed's bug, not a choice.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
CORS_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "*")

PRODUCTION = "Production"

_ENVIRONMENT_RE = re.compile(rf"[A-Za-z0-9-]{{1,{MAX_ENVIRONMENT_LENGTH}}}")
# Partition prefixes AWS uses today: us, eu, ap, sa, ca, me, af, il, mx, cn, plus GovCloud
# and the ISO partitions (us-gov-west-1, us-iso-east-1, us-isob-east-1).
_REGION_RE = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}")
_ORIGIN_RE = re.compile(
    r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])"
    r"(?P<port>:[0-9]{1,5})?"
)
_HEADER_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_EMAIL_RE = re.compile(r"[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class CorsConfig:
    """The HTTP API's ``cors_configuration``; API Gateway answers preflight itself."""

    allow_origins: tuple[str, ...] = ("*",)
    allow_methods: tuple[str, ...] = ("GET", "POST", "PUT", "DELETE", "OPTIONS")
    allow_headers: tuple[str, ...] = (
        "content-type",
        "authorization",
        "x-api-key",
        "x-amz-date",
        "x-amz-security-token",
    )
    expose_headers: tuple[str, ...] = ("x-request-id",)
    max_age: int = 300
    allow_credentials: bool = False


@dataclass(frozen=True)
class StackConfig:
    """Every knob of the stack, validated. Field names are the config keys in snake_case."""

    environment: str = PRODUCTION
    region: str = "us-east-1"
    runtime: str = "python3.13"
    architecture: str = "arm64"
    memory_size: int = 512
    timeout: int = MAX_TIMEOUT_S
    log_retention_days: int = 14
    log_level: str = "INFO"
    tracing: str = "Active"
    reserved_concurrency: int | None = None
    cors: CorsConfig = field(default_factory=CorsConfig)
    throttling_burst_limit: int = 200
    throttling_rate_limit: float = 100.0
    alarm_email: str | None = None
    error_alarm_threshold: int = 3
    duration_alarm_threshold_ms: int = 25000
    smoke_check: bool = True
    smoke_check_timeout_seconds: int = 120


@dataclass(frozen=True)
class Problem:
    """One invalid value: which key, what it was, what is allowed and why."""

    key: str
    value: Any
    allowed: str
    why: str = ""

    def __str__(self) -> str:
        text = f"{self.key} is {_show(self.value)}, but must be {self.allowed}"
        return f"{text}: {self.why}" if self.why else text


class ConfigError(ValueError):
    """The configuration is invalid. ``problems`` lists every invalid value, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "value" if len(problems) == 1 else "values"
        super().__init__(f"invalid configuration ({len(problems)} {noun}):\n{lines}")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.problems)


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def full_key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


# ---------------------------------------------------------------------------------------
# Defaults that depend on other values (the contract's "in Production ... otherwise ...").


def default_log_retention_days(environment: str) -> int:
    return 14 if environment == PRODUCTION else 30


def default_error_alarm_threshold(environment: str) -> int:
    return 3 if environment == PRODUCTION else 5


def default_duration_alarm_threshold_ms(environment: str, timeout_s: int) -> int:
    """The seed's 25 s of a 29 s timeout in Production (28 s otherwise), scaled to the timeout.

    Scaling keeps the default strictly below any valid timeout, so setting ``tap:timeout``
    alone never makes the default threshold invalid.
    """
    share = 25 if environment == PRODUCTION else 28
    return timeout_s * 1000 * share // MAX_TIMEOUT_S


# ---------------------------------------------------------------------------------------
# The keys: one row each, used by the parser, the README table and the Pulumi.yaml test.


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # string | integer | number | boolean | object
    description: str
    default: str  # as the README shows it
    allowed: str


KEYS: tuple[Key, ...] = (
    Key(
        "environment",
        "string",
        "Environment name: the `Environment` tag, the function's "
        "`ENVIRONMENT`, and the defaults below",
        "`Production`",
        "1-32 of `[A-Za-z0-9-]`",
    ),
    Key(
        "region",
        "string",
        "AWS region of every resource (explicit provider)",
        "`us-east-1`",
        "an AWS region name",
    ),
    Key(
        "runtime", "string", "Lambda runtime", "`python3.13`", ", ".join(f"`{r}`" for r in RUNTIMES)
    ),
    Key(
        "architecture",
        "string",
        "Lambda architecture (arm64: same code, 20% cheaper)",
        "`arm64`",
        "`arm64`, `x86_64`",
    ),
    Key(
        "memorySize", "integer", "Lambda memory in MB", "`512`", f"{MIN_MEMORY_MB}-{MAX_MEMORY_MB}"
    ),
    Key(
        "timeout",
        "integer",
        "Lambda timeout in seconds (the HTTP API gives up at 30 s)",
        f"`{MAX_TIMEOUT_S}`",
        f"1-{MAX_TIMEOUT_S}",
    ),
    Key(
        "logRetentionDays",
        "integer",
        "Retention of both log groups",
        "`14` in Production, `30` otherwise",
        "a CloudWatch retention value (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)",
    ),
    Key(
        "logLevel",
        "string",
        "Function application log level",
        "`INFO`",
        "`DEBUG`, `INFO`, `WARN`, `ERROR`",
    ),
    Key("tracing", "string", "X-Ray tracing mode", "`Active`", "`Active`, `PassThrough`"),
    Key("reservedConcurrency", "integer", "Reserved concurrent executions", "unset", ">= 1"),
    Key(
        "cors",
        "object",
        "CORS configuration of the HTTP API (fields: allowOrigins, "
        "allowMethods, allowHeaders, exposeHeaders, maxAge, allowCredentials); fields left "
        "out keep their default",
        "origins `*`, methods GET POST PUT DELETE OPTIONS, "
        "headers content-type authorization x-api-key x-amz-date x-amz-security-token, "
        "expose x-request-id, maxAge 300, no credentials",
        "origins `*` or `scheme://host[:port]`; maxAge 0-86400; credentials never with `*`",
    ),
    Key(
        "throttlingBurstLimit",
        "integer",
        "Stage burst limit (requests)",
        "`200`",
        f"1-{MAX_BURST_LIMIT}",
    ),
    Key(
        "throttlingRateLimit",
        "number",
        "Stage steady rate limit (requests per second)",
        "`100`",
        f"> 0 and <= {MAX_RATE_LIMIT:g}",
    ),
    Key("alarmEmail", "string", "Email subscribed to the alarm topic", "unset", "an email address"),
    Key(
        "errorAlarmThreshold",
        "integer",
        "Function errors, and API 5xx responses, per minute above which their alarms fire (0: any)",
        "`3` in Production, `5` otherwise",
        ">= 0",
    ),
    Key(
        "durationAlarmThresholdMs",
        "integer",
        "Function p99 duration (ms) above which the duration alarm fires (3 of 5 minutes)",
        "`25000` in Production (28000 otherwise), scaled to `timeout`",
        "1 to below `timeout` x 1000",
    ),
    Key(
        "smokeCheck",
        "boolean",
        "Check the live API after every deploy",
        "`true`",
        "`true`, `false`",
    ),
    Key(
        "smokeCheckTimeoutSeconds",
        "integer",
        "How long the smoke check retries",
        "`120`",
        f"{MIN_SMOKE_TIMEOUT_S}-{MAX_SMOKE_TIMEOUT_S}",
    ),
)
KEY_NAMES = tuple(k.name for k in KEYS)
CORS_FIELDS = (
    "allowOrigins",
    "allowMethods",
    "allowHeaders",
    "exposeHeaders",
    "maxAge",
    "allowCredentials",
)


# ---------------------------------------------------------------------------------------
# Parsing. Pulumi config holds strings (objects as JSON text); each reader returns the typed
# value or records a Problem and returns None, so every invalid value is reported at once.


class _Reader:
    def __init__(self, raw: Mapping[str, str | None]) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def problem(self, key: str, value: Any, allowed: str, why: str = "") -> None:
        self.problems.append(Problem(full_key(key), value, allowed, why))

    def text(self, key: str, default: str) -> str:
        value = self.raw.get(key)
        return default if value is None else value

    def choice(self, key: str, default: str, choices: tuple[str, ...], why: str = "") -> str:
        value = self.text(key, default)
        if value not in choices:
            self.problem(key, value, "one of " + ", ".join(choices), why)
            return default
        return value

    @overload
    def integer(
        self, key: str, default: int, low: int, high: int | None, allowed: str, why: str = ""
    ) -> int: ...
    @overload
    def integer(
        self, key: str, default: None, low: int, high: int | None, allowed: str, why: str = ""
    ) -> int | None: ...
    def integer(
        self, key: str, default: int | None, low: int, high: int | None, allowed: str, why: str = ""
    ) -> int | None:
        """The value as an int within [low, high]; on a problem, records it and returns default."""
        value = self.raw.get(key)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            self.problem(key, value, f"a whole number, {allowed}", why)
            return default
        if number < low or (high is not None and number > high):
            self.problem(key, value, allowed, why)
            return default
        return number

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        # Pulumi's own Config.get_bool accepts exactly these two spellings.
        if value not in ("true", "false"):
            self.problem(key, value, "true or false")
            return default
        return value == "true"


def parse(raw: Mapping[str, str | None]) -> StackConfig:
    """Validate the raw ``tap:`` values (keys without the namespace) into a StackConfig.

    Raises ConfigError naming every invalid or unknown key, its value and what is allowed.
    """
    r = _Reader(raw)
    for key in raw:
        if key not in KEY_NAMES:
            import difflib

            close = difflib.get_close_matches(key, KEY_NAMES, n=1)
            hint = f"did you mean {full_key(close[0])}?" if close else ""
            r.problem(key, raw[key], "a known key: " + ", ".join(KEY_NAMES), hint)

    environment = r.text("environment", PRODUCTION)
    if not _ENVIRONMENT_RE.fullmatch(environment):
        r.problem(
            "environment",
            environment,
            f"1-{MAX_ENVIRONMENT_LENGTH} of [A-Za-z0-9-]",
            "it is used in resource names and tags",
        )
        environment = PRODUCTION
    region = r.text("region", "us-east-1")
    if not _REGION_RE.fullmatch(region):
        r.problem("region", region, "an AWS region name such as us-east-1 or eu-west-2")
    runtime = r.choice(
        "runtime", "python3.13", RUNTIMES, "older Python runtimes are deprecated by AWS"
    )
    architecture = r.choice("architecture", "arm64", ARCHITECTURES)
    memory = r.integer(
        "memorySize",
        512,
        MIN_MEMORY_MB,
        MAX_MEMORY_MB,
        f"{MIN_MEMORY_MB}-{MAX_MEMORY_MB}",
        "Lambda's memory range in MB",
    )
    timeout = r.integer(
        "timeout",
        MAX_TIMEOUT_S,
        1,
        MAX_TIMEOUT_S,
        f"1-{MAX_TIMEOUT_S}",
        f"an HTTP API stops waiting after {HTTP_API_INTEGRATION_TIMEOUT_S} s",
    )
    retention_default = default_log_retention_days(environment)
    retention_allowed = "one of " + ", ".join(map(str, LOG_RETENTION_DAYS))
    retention = r.integer(
        "logRetentionDays",
        retention_default,
        1,
        None,
        retention_allowed,
        "the values CloudWatch Logs accepts",
    )
    if retention not in LOG_RETENTION_DAYS:
        r.problem(
            "logRetentionDays",
            raw.get("logRetentionDays"),
            retention_allowed,
            "the values CloudWatch Logs accepts",
        )
        retention = retention_default
    log_level = r.choice("logLevel", "INFO", LOG_LEVELS)
    tracing = r.choice("tracing", "Active", TRACING_MODES)
    reserved = r.integer(
        "reservedConcurrency",
        None,
        1,
        None,
        ">= 1",
        "0 would throttle every request; leave it unset for no reservation",
    )
    cors = _parse_cors(r, raw.get("cors"))
    burst = r.integer(
        "throttlingBurstLimit",
        200,
        1,
        MAX_BURST_LIMIT,
        f"1-{MAX_BURST_LIMIT}",
        "a limit of 0 rejects every request with 429",
    )
    rate = _parse_rate(r, raw.get("throttlingRateLimit"))
    email = raw.get("alarmEmail")
    if email is not None and not _EMAIL_RE.fullmatch(email):
        r.problem("alarmEmail", email, "an email address such as ops@example.com")
        email = None
    errors = r.integer(
        "errorAlarmThreshold", default_error_alarm_threshold(environment), 0, None, ">= 0"
    )
    timeout_s = timeout if timeout is not None else MAX_TIMEOUT_S
    duration = r.integer(
        "durationAlarmThresholdMs",
        default_duration_alarm_threshold_ms(environment, timeout_s),
        1,
        timeout_s * 1000 - 1,
        f"1-{timeout_s * 1000 - 1} (below tap:timeout, {timeout_s} s)",
        "the function is stopped at its timeout, so a threshold at or above it never fires",
    )
    smoke = r.boolean("smokeCheck", True)
    smoke_timeout = r.integer(
        "smokeCheckTimeoutSeconds",
        120,
        MIN_SMOKE_TIMEOUT_S,
        MAX_SMOKE_TIMEOUT_S,
        f"{MIN_SMOKE_TIMEOUT_S}-{MAX_SMOKE_TIMEOUT_S}",
    )

    if r.problems:
        raise ConfigError(r.problems)
    return StackConfig(
        environment=environment,
        region=region,
        runtime=runtime,
        architecture=architecture,
        memory_size=memory,
        timeout=timeout,
        log_retention_days=retention,
        log_level=log_level,
        tracing=tracing,
        reserved_concurrency=reserved,
        cors=cors,
        throttling_burst_limit=burst,
        throttling_rate_limit=rate,
        alarm_email=email,
        error_alarm_threshold=errors,
        duration_alarm_threshold_ms=duration,
        smoke_check=smoke,
        smoke_check_timeout_seconds=smoke_timeout,
    )


def _parse_rate(r: _Reader, value: str | None) -> float:
    allowed = f"a number > 0 and <= {MAX_RATE_LIMIT:g}"
    if value is None:
        return 100.0
    try:
        rate = float(value.strip())
    except ValueError:
        rate = math.nan
    if not (0 < rate <= MAX_RATE_LIMIT):  # also refuses nan
        r.problem(
            "throttlingRateLimit", value, allowed, "a rate of 0 rejects every request with 429"
        )
        return 100.0  # not used: the problem is raised
    return rate


def _parse_cors(r: _Reader, value: str | None) -> CorsConfig:
    """The cors object merged over the defaults; on problems, records them."""
    default = CorsConfig()
    if value is None:
        return default
    key = "cors"
    try:
        obj = json.loads(value)
    except ValueError:
        r.problem(key, value, "a JSON object with fields " + ", ".join(CORS_FIELDS))
        return default  # not used: the problem is raised
    if not isinstance(obj, dict):
        r.problem(key, obj, "an object with fields " + ", ".join(CORS_FIELDS))
        return default  # not used: the problem is raised
    before = len(r.problems)
    for name in obj:
        if name not in CORS_FIELDS:
            r.problem(f"cors.{name}", obj[name], "a field of " + ", ".join(CORS_FIELDS))

    def strings(
        name: str, check: Callable[[str], bool], allowed: str, fallback: tuple[str, ...]
    ) -> tuple[str, ...]:
        if name not in obj:
            return fallback
        items = obj[name]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            r.problem(f"cors.{name}", items, f"a list of strings, each {allowed}")
            return fallback
        for item in items:
            if not check(item):
                r.problem(f"cors.{name}", item, allowed)
        return tuple(items)

    origins = strings(
        "allowOrigins",
        _valid_origin,
        "'*' or scheme://host[:port] (no path, no trailing slash)",
        default.allow_origins,
    )
    if "*" in origins and len(origins) > 1:
        r.problem(
            "cors.allowOrigins",
            list(origins),
            "either ['*'] alone or a list of origins",
            "'*' already allows every origin",
        )
    methods = strings(
        "allowMethods",
        lambda m: m in CORS_METHODS,
        "one of " + ", ".join(CORS_METHODS),
        default.allow_methods,
    )
    headers = strings(
        "allowHeaders",
        lambda h: bool(_HEADER_RE.fullmatch(h)),
        "an HTTP header name or '*'",
        default.allow_headers,
    )
    expose = strings(
        "exposeHeaders",
        lambda h: bool(_HEADER_RE.fullmatch(h)),
        "an HTTP header name or '*'",
        default.expose_headers,
    )
    max_age = obj.get("maxAge", default.max_age)
    if (
        isinstance(max_age, bool)
        or not isinstance(max_age, int)
        or not (0 <= max_age <= MAX_CORS_MAX_AGE_S)
    ):
        r.problem(
            "cors.maxAge",
            max_age,
            f"a whole number of seconds 0-{MAX_CORS_MAX_AGE_S}",
            "browsers cap it anyway; API Gateway refuses more than a day",
        )
        max_age = default.max_age
    credentials = obj.get("allowCredentials", default.allow_credentials)
    if not isinstance(credentials, bool):
        r.problem("cors.allowCredentials", credentials, "true or false")
        credentials = False
    if credentials and "*" in origins:
        # Browsers refuse credentialed responses with "*", and API Gateway rejects the
        # combination (docs/http-api.md rule 18).
        r.problem(
            "cors.allowCredentials",
            True,
            "false while allowOrigins is ['*']",
            "credentials need an explicit list of origins",
        )
    if len(r.problems) > before:
        return default  # not used: the problem is raised
    return CorsConfig(origins, methods, headers, expose, max_age, credentials)


def _valid_origin(origin: str) -> bool:
    if origin == "*":
        return True
    match = _ORIGIN_RE.fullmatch(origin)
    if not match:
        return False
    port = match.group("port")
    return port is None or 1 <= int(port[1:]) <= 65535


# ---------------------------------------------------------------------------------------
# Reading Pulumi config.


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
            f"| `{NAMESPACE}:{key.name}` | {key.type} | {key.default} | {key.allowed} "
            f"| {key.description} |"
        )
    return "\n".join(rows)
