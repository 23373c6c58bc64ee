"""The bounds, choices and patterns tap's config values are checked against (no logic)."""

from __future__ import annotations

import re

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
# expire") is left out on purpose: logs kept forever grow (and bill) without bound.
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
