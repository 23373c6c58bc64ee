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

from tap.function.routes import ROUTE_KEYS
from tap.text import excerpt, quote

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
# A cors value holding a million bad origins gets this many listed, then a count: every
# problem is reported, but the message stays readable (and bounded).
MAX_PROBLEMS_PER_FIELD = 10

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

AUTH_TYPES = ("cognito", "jwt")
AUTH_FIELDS = ("type", "issuer", "audience", "publicRoutes", "scopes")
# Open by default: the health routes a load balancer, an uptime probe or the smoke check
# call without credentials.
DEFAULT_PUBLIC_ROUTES = ("GET /", "GET /health")
DOMAIN_FIELDS = ("name", "zoneId", "certificateArn", "disableDefaultEndpoint")
MAX_DOMAIN_LENGTH = 253

_ENVIRONMENT_RE = re.compile(rf"[A-Za-z0-9-]{{1,{MAX_ENVIRONMENT_LENGTH}}}")
# Partition prefixes AWS uses today: us, eu, ap, sa, ca, me, af, il, mx, cn, plus GovCloud
# and the ISO partitions (us-gov-west-1, us-iso-east-1, us-isob-east-1).
_REGION_RE = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}")
_ORIGIN_RE = re.compile(
    r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])"
    r"(?P<port>:[0-9]{1,5})?"
)
_HEADER_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
# alarmEmail: RFC 5322's dot-atom form only (no quoted local part, no comments, no IP
# literal), ASCII: letters, digits and !#$%&'*+/=?^_`{|}~- in dot-separated atoms @ DNS
# labels (LDH, no hyphen at either end, at least two labels). Nothing that needs quoting,
# no control characters, no < > " or spaces: the address goes into an SNS subscription and
# is shown in messages.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"{_ATOM}(\.{_ATOM})*@{_LABEL}(\.{_LABEL})+")
MAX_EMAIL_LOCAL_PART, MAX_EMAIL_LENGTH = 64, 254  # RFC 5321 section 4.5.3.1
EMAIL_ALLOWED = (
    "an address local@domain (at most 254 characters): a local part of at most 64 of "
    "A-Z a-z 0-9 !#$%&'*+/=?^_`{|}~- in dot-separated runs, and a domain of two or more "
    "dot-separated labels of A-Z a-z 0-9 and inner hyphens"
)
# Integers are ASCII digits with an optional minus: int() alone would also take "1_024",
# "+512", " 512\u00a0", and full-width or Arabic-Indic digits.
_INTEGER_RE = re.compile(r"-?[0-9]+")
# More digits than this is out of every range here (and int() refuses over 4,300).
_MAX_INTEGER_DIGITS = 18
# throttlingRateLimit: a plain decimal (ASCII digits, optional fraction and exponent).
_DECIMAL_RE = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
# The smallest steady rate accepted: one request per 100 s. API Gateway takes a double here
# (docs/http-api.md rule 45); anything smaller is a typo, not a rate, and 5e-324 or 1e-300
# would print as nonsense in the console and the dashboard.
MIN_RATE_LIMIT = 0.01
# An https URL with a host and an optional path, nothing else: what API Gateway's JWT
# authorizer takes as issuer and compares with the token's iss (docs/http-api.md rule 60).
_ISSUER_RE = re.compile(
    r"https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?"
)
# A scope token (RFC 6749 section 3.3: printable ASCII but space, double quote, backslash).
_SCOPE_RE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# A DNS name of at least two labels, each 1-63 of letters, digits and inner hyphens (RFC
# 1123), the last one not all digits; no trailing dot and no wildcard.
_DOMAIN_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_RE = re.compile(rf"({_DOMAIN_LABEL}\.)+[a-z]([a-z0-9-]{{0,61}}[a-z0-9])?")
_ZONE_ID_RE = re.compile(r"Z[A-Z0-9]{1,31}")
_ACM_ARN_RE = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):acm:(?P<region>[a-z0-9-]+):[0-9]{12}:"
    r"certificate/[A-Za-z0-9-]+"
)


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
class AuthConfig:
    """``tap:auth``: who may call the routes that are not public.

    ``cognito``: the stack creates the user pool and app client, and the issuer and audience
    come from them (``issuer`` and ``audience`` are empty here). ``jwt``: an external OIDC
    issuer and the audiences its tokens must carry.
    """

    type: str = "cognito"
    issuer: str | None = None
    audience: tuple[str, ...] = ()
    public_routes: tuple[str, ...] = DEFAULT_PUBLIC_ROUTES
    scopes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(route key, scopes) pairs: a route listed here also needs one of these scopes."""

    def scopes_for(self, route_key: str) -> tuple[str, ...]:
        return dict(self.scopes).get(route_key, ())

    def protects(self, route_key: str) -> bool:
        return route_key not in self.public_routes


@dataclass(frozen=True)
class DomainConfig:
    """``tap:domain``: a custom domain name for the API."""

    name: str
    zone_id: str | None = None
    certificate_arn: str | None = None
    disable_default_endpoint: bool = True

    @property
    def url(self) -> str:
        return f"https://{self.name}/"


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
    auth: AuthConfig | None = None
    domain: DomainConfig | None = None


@dataclass(frozen=True)
class Problem:
    """One invalid value: which key, what it was, what is allowed and why."""

    key: str
    value: Any
    allowed: str
    why: str = ""

    def __str__(self) -> str:
        # The key itself may be input too (an unknown key, a cors field name).
        text = f"{excerpt(self.key)} is {quote(self.value)}, but must be {self.allowed}"
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
        "Level of the function's own log records; each request's metrics line is "
        "written at every level",
        "`INFO`",
        "`DEBUG`, `INFO`, `WARN`, `ERROR`",
    ),
    Key("tracing", "string", "X-Ray tracing mode", "`Active`", "`Active`, `PassThrough`"),
    Key(
        "reservedConcurrency",
        "integer",
        "Reserved concurrent executions. Lambda refuses a reservation that leaves the "
        "account fewer than 100 unreserved, and `pulumi up` then fails halfway: check the "
        "account's concurrency quota first (new accounts often have 10)",
        "unset",
        ">= 1, and at most the account's concurrency quota minus 100",
    ),
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
        f"{MIN_RATE_LIMIT:g}-{MAX_RATE_LIMIT:g}",
    ),
    Key(
        "alarmEmail",
        "string",
        "Email subscribed to the alarm topic",
        "unset",
        "`local@domain`: dot-atom local part (64 max), DNS labels, 254 characters max",
    ),
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
    Key(
        "auth",
        "object",
        "Require a JWT on every route but `publicRoutes` (fields: type, issuer, audience, "
        "publicRoutes, scopes): `cognito` creates a user pool and app client, `jwt` trusts "
        "an external OIDC issuer",
        "unset (no authentication); publicRoutes `GET /`, `GET /health`",
        "type `cognito` or `jwt`; jwt: issuer an `https://` URL, audience a non-empty list; "
        "publicRoutes and scopes keys: route keys of the route table",
    ),
    Key(
        "domain",
        "object",
        "Custom domain (fields: name, zoneId or certificateArn, disableDefaultEndpoint): "
        "TLS 1.2, mapped to `$default`; with zoneId the stack issues the certificate and "
        "the alias records",
        "unset; disableDefaultEndpoint `true`",
        "name a DNS name; exactly one of zoneId (a Route 53 zone id) or certificateArn "
        "(an ACM certificate in `tap:region`)",
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
        if not _INTEGER_RE.fullmatch(value):
            self.problem(key, value, f"a whole number in ASCII digits 0-9, {allowed}", why)
            return default
        digits = value.lstrip("-")
        number = int(value) if len(digits) <= _MAX_INTEGER_DIGITS else None
        if number is None or number < low or (high is not None and number > high):
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
    if email is not None and not _valid_email(email):
        r.problem("alarmEmail", email, EMAIL_ALLOWED, "e.g. ops@example.com")
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
    auth = _parse_auth(r, raw.get("auth"), cors)
    domain = _parse_domain(r, raw.get("domain"), region)
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
        auth=auth,
        domain=domain,
    )


def _valid_email(email: str) -> bool:
    local = email.rpartition("@")[0]
    return (
        len(email) <= MAX_EMAIL_LENGTH
        and len(local) <= MAX_EMAIL_LOCAL_PART
        and _EMAIL_RE.fullmatch(email) is not None
    )


def _parse_rate(r: _Reader, value: str | None) -> float:
    allowed = (
        f"a number {MIN_RATE_LIMIT:g}-{MAX_RATE_LIMIT:g} in ASCII digits "
        "(requests per second; 0.01 is one request per 100 s)"
    )
    if value is None:
        return 100.0
    # The regex also refuses nan, inf, "1_0", signs and non-ASCII digits; float() of a
    # matching text is finite or inf (1e999), which the range refuses.
    rate = float(value) if _DECIMAL_RE.fullmatch(value) else math.nan
    if not (MIN_RATE_LIMIT <= rate <= MAX_RATE_LIMIT):  # also refuses nan
        r.problem(
            "throttlingRateLimit",
            value,
            allowed,
            "a rate of 0 rejects every request with 429, and a smaller one is not a rate",
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
    except ValueError:  # also an integer of more than 4,300 digits
        r.problem(key, value, "a JSON object with fields " + ", ".join(CORS_FIELDS))
        return default  # not used: the problem is raised
    except RecursionError:  # "[" x 3,000: json recurses once per level
        r.problem(
            key,
            value,
            "a JSON object with fields " + ", ".join(CORS_FIELDS),
            "it is nested too deeply",
        )
        return default  # not used: the problem is raised
    if not isinstance(obj, dict):
        r.problem(key, obj, "an object with fields " + ", ".join(CORS_FIELDS))
        return default  # not used: the problem is raised
    before = len(r.problems)
    unknown = [name for name in obj if name not in CORS_FIELDS]
    for name in unknown[:MAX_PROBLEMS_PER_FIELD]:
        r.problem(f"cors.{name}", obj[name], "a field of " + ", ".join(CORS_FIELDS))
    if len(unknown) > MAX_PROBLEMS_PER_FIELD:
        r.problem(
            "cors",
            f"{len(unknown) - MAX_PROBLEMS_PER_FIELD:,} more unknown fields",
            "an object with fields " + ", ".join(CORS_FIELDS),
            "only the first few are listed",
        )

    def strings(
        name: str, check: Callable[[str], bool], allowed: str, fallback: tuple[str, ...]
    ) -> tuple[str, ...]:
        if name not in obj:
            return fallback
        items = obj[name]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            r.problem(f"cors.{name}", items, f"a list of strings, each {allowed}")
            return fallback
        bad = [item for item in items if not check(item)]
        for item in bad[:MAX_PROBLEMS_PER_FIELD]:
            r.problem(f"cors.{name}", item, allowed)
        if len(bad) > MAX_PROBLEMS_PER_FIELD:
            r.problem(
                f"cors.{name}",
                f"{len(bad) - MAX_PROBLEMS_PER_FIELD:,} more values",
                allowed,
                "only the first few are listed",
            )
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


def _json_object(
    r: _Reader, key: str, value: str, fields: tuple[str, ...]
) -> dict[str, Any] | None:
    """The JSON object a key holds, with unknown fields reported; None (reported) otherwise."""
    try:
        obj = json.loads(value)
    except ValueError:
        r.problem(key, value, "a JSON object with fields " + ", ".join(fields))
        return None
    if not isinstance(obj, dict):
        r.problem(key, obj, "an object with fields " + ", ".join(fields))
        return None
    for name in obj:
        if name not in fields:
            r.problem(f"{key}.{name}", obj[name], "a field of " + ", ".join(fields))
    return obj


def _parse_auth(r: _Reader, value: str | None, cors: CorsConfig) -> AuthConfig | None:
    """The auth object; on problems, records them (the result is then not used)."""
    if value is None:
        return None
    obj = _json_object(r, "auth", value, AUTH_FIELDS)
    if obj is None:
        return None
    before = len(r.problems)
    routes = ROUTE_KEYS
    route_list = ", ".join(routes)
    kind = obj.get("type")
    if kind not in AUTH_TYPES:
        r.problem("auth.type", kind, "one of " + ", ".join(AUTH_TYPES))
    issuer = obj.get("issuer")
    audience = obj.get("audience")
    if kind == "cognito":
        # The pool this stack creates is the issuer and its app client the audience: a value
        # given here would be silently overridden, so it is refused.
        for name, given in (("issuer", issuer), ("audience", audience)):
            if given is not None:
                r.problem(
                    f"auth.{name}",
                    given,
                    "absent when type is cognito",
                    "the stack's own user pool is the issuer and its app client the audience",
                )
        issuer, audience = None, []
    elif kind == "jwt":
        if not isinstance(issuer, str) or not _ISSUER_RE.fullmatch(issuer):
            r.problem(
                "auth.issuer",
                issuer,
                "an https:// URL such as https://example.auth0.com/",
                "API Gateway fetches the issuer's keys over https and compares it with iss",
            )
        if (
            not isinstance(audience, list)
            or not audience
            or not all(isinstance(a, str) and a.strip() for a in audience)
        ):
            r.problem(
                "auth.audience",
                audience,
                "a non-empty list of non-empty strings",
                "a token is accepted only when its aud (or client_id) is one of them",
            )
    public = obj.get("publicRoutes", list(DEFAULT_PUBLIC_ROUTES))
    if not isinstance(public, list) or not all(isinstance(p, str) for p in public):
        r.problem("auth.publicRoutes", public, "a list of route keys, each one of " + route_list)
        public = list(DEFAULT_PUBLIC_ROUTES)
    for key in public:
        if key not in routes:
            r.problem("auth.publicRoutes", key, "a route key of the route table: " + route_list)
    scopes_obj = obj.get("scopes", {})
    scopes: list[tuple[str, tuple[str, ...]]] = []
    if not isinstance(scopes_obj, dict):
        r.problem("auth.scopes", scopes_obj, "an object: route key -> list of scopes")
        scopes_obj = {}
    for key, wanted in scopes_obj.items():
        if key not in routes:
            r.problem("auth.scopes", key, "a route key of the route table: " + route_list)
        elif key in public:
            r.problem(
                f"auth.scopes.{key}",
                wanted,
                "absent for a public route",
                "a public route has no authorizer to check scopes",
            )
        if (
            not isinstance(wanted, list)
            or not wanted
            or not all(isinstance(w, str) and _SCOPE_RE.fullmatch(w) for w in wanted)
        ):
            r.problem(
                f"auth.scopes.{key}",
                wanted,
                "a non-empty list of scopes (no spaces, quotes or backslashes)",
            )
        else:
            scopes.append((key, tuple(wanted)))
    if not cors.allow_headers or not (
        "*" in cors.allow_headers or "authorization" in {h.lower() for h in cors.allow_headers}
    ):
        # A browser preflights a request carrying Authorization; without it in the allowed
        # headers every authenticated browser call fails before it is sent.
        r.problem(
            "cors.allowHeaders",
            list(cors.allow_headers),
            "a list including authorization while tap:auth is set",
            "browsers send the token in the Authorization header",
        )
    if len(r.problems) > before or kind not in AUTH_TYPES:
        return None
    return AuthConfig(
        type=str(kind),
        issuer=issuer if isinstance(issuer, str) else None,
        audience=tuple(audience or ()),
        public_routes=tuple(public),
        scopes=tuple(scopes),
    )


def _parse_domain(r: _Reader, value: str | None, region: str) -> DomainConfig | None:
    """The domain object; on problems, records them (the result is then not used)."""
    if value is None:
        return None
    obj = _json_object(r, "domain", value, DOMAIN_FIELDS)
    if obj is None:
        return None
    before = len(r.problems)
    name = obj.get("name")
    if not isinstance(name, str) or len(name) > MAX_DOMAIN_LENGTH or not _DOMAIN_RE.fullmatch(name):
        r.problem(
            "domain.name",
            name,
            "a lowercase DNS name such as api.example.com (no wildcard, no trailing dot)",
        )
    zone_id = obj.get("zoneId")
    certificate_arn = obj.get("certificateArn")
    if (zone_id is None) == (certificate_arn is None):
        r.problem(
            "domain",
            obj,
            "an object with exactly one of zoneId or certificateArn",
            "zoneId: the stack issues and validates a certificate in that Route 53 zone; "
            "certificateArn: an existing certificate",
        )
    if zone_id is not None and (not isinstance(zone_id, str) or not _ZONE_ID_RE.fullmatch(zone_id)):
        r.problem("domain.zoneId", zone_id, "a Route 53 hosted zone id such as Z0123456789ABC")
    if certificate_arn is not None:
        match = _ACM_ARN_RE.fullmatch(certificate_arn) if isinstance(certificate_arn, str) else None
        if match is None or match.group("region") != region:
            r.problem(
                "domain.certificateArn",
                certificate_arn,
                f"an ACM certificate ARN in {region} "
                f"(arn:aws:acm:{region}:<account>:certificate/<id>)",
                "a regional API's domain name needs a certificate in the API's own region",
            )
    disable = obj.get("disableDefaultEndpoint", True)
    if not isinstance(disable, bool):
        r.problem("domain.disableDefaultEndpoint", disable, "true or false")
    if len(r.problems) > before:
        return None
    return DomainConfig(
        name=str(name),
        zone_id=zone_id,
        certificate_arn=certificate_arn,
        disable_default_endpoint=bool(disable),
    )


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
