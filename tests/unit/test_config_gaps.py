"""What the configuration promises that no other test pinned down (found by the mutation
run, tests/mutation): each refused value's whole message (key, value, what is allowed and
why), the bounds themselves, and the environment-dependent defaults.
"""

from __future__ import annotations

import json

import pytest

from tap import config as c

RETENTION = (
    "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, "
    "2922, 3288, 3653"
)
EMAIL_RULE = (
    "an address local@domain (at most 254 characters): a local part of at most 64 of A-Z a-z "
    "0-9 !#$%&'*+/=?^_`{|}~- in dot-separated runs, and a domain of two or more dot-separated "
    "labels of A-Z a-z 0-9 and inner hyphens: e.g. ops@example.com"
)


ROUTES = (
    "GET /, GET /health, GET /info, POST /, POST /{proxy+}, PUT /, PUT /{proxy+}, DELETE /, "
    "DELETE /{proxy+}"
)


CORS = "allowOrigins, allowMethods, allowHeaders, exposeHeaders, maxAge, allowCredentials"
AUTH = "type, issuer, audience, publicRoutes, scopes"


def jwt(**changes: object) -> str:
    """tap:auth for a JWT issuer, with ``changes``."""
    auth = {"type": "jwt", "issuer": "https://issuer.example/", "audience": ["api"]}
    return json.dumps({**auth, **changes})


def problems(raw: dict[str, str]) -> list[str]:
    with pytest.raises(c.ConfigError) as raised:
        c.parse(raw)
    return [str(p) for p in raised.value.problems]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"timeout": "10", "durationAlarmThresholdMs": "10000"},
            "tap:durationAlarmThresholdMs is '10000', but must be 1-9999 (below tap:timeout, "
            "10 s): the function is stopped at its timeout, so a threshold at or above it "
            "never fires",
        ),
        (
            {"alarmEmail": "not-an-email"},
            f"tap:alarmEmail is 'not-an-email', but must be {EMAIL_RULE}",
        ),
        (
            {"environment": "bad env"},
            "tap:environment is 'bad env', but must be 1-32 of [A-Za-z0-9-]: it is used in "
            "resource names and tags",
        ),
        (
            {"throttlingRateLimit": "0"},
            "tap:throttlingRateLimit is '0', but must be a number 0.01-10000 in ASCII digits "
            "(requests per second; 0.01 is one request per 100 s): a rate of 0 rejects every "
            "request with 429, and a smaller one is not a rate",
        ),
        (
            {"region": "mars-1"},
            "tap:region is 'mars-1', but must be an AWS region name such as us-east-1 or eu-west-2",
        ),
        (
            {"logRetentionDays": "2"},
            f"tap:logRetentionDays is '2', but must be one of {RETENTION}: the values "
            "CloudWatch Logs accepts",
        ),
        (
            {"logRetentionDays": "x"},
            "tap:logRetentionDays is 'x', but must be a whole number in ASCII digits 0-9, "
            f"one of {RETENTION}: the values CloudWatch Logs accepts",
        ),
        (
            {"runtime": "python2.7"},
            "tap:runtime is 'python2.7', but must be one of python3.12, python3.13, "
            "python3.14: older Python runtimes are deprecated by AWS",
        ),
        (
            {"memorySize": "x"},
            "tap:memorySize is 'x', but must be a whole number in ASCII digits 0-9, "
            "128-10240: Lambda's memory range in MB",
        ),
        (
            {"memorySize": "99999"},
            "tap:memorySize is '99999', but must be 128-10240: Lambda's memory range in MB",
        ),
        ({"smokeCheck": "yes"}, "tap:smokeCheck is 'yes', but must be true or false"),
        (
            {"auth": json.dumps({"type": "cognito", "issuer": "https://x.example"})},
            "tap:auth.issuer is 'https://x.example', but must be absent when type is cognito: "
            "the stack's own user pool is the issuer and its app client the audience",
        ),
        (
            {"auth": json.dumps({"type": "jwt", "issuer": "http://x.example", "audience": ["a"]})},
            "tap:auth.issuer is 'http://x.example', but must be an https:// URL such as "
            "https://example.auth0.com/: API Gateway fetches the issuer's keys over https and "
            "compares it with iss",
        ),
        (
            {"auth": jwt(audience=[])},
            "tap:auth.audience is [], but must be a non-empty list of non-empty strings: a token "
            "is accepted only when its aud (or client_id) is one of them",
        ),
        (
            {"auth": jwt(audience="api")},
            "tap:auth.audience is 'api', but must be a non-empty list of non-empty strings: a "
            "token is accepted only when its aud (or client_id) is one of them",
        ),
        (
            {"auth": jwt(publicRoutes="GET /")},
            f"tap:auth.publicRoutes is 'GET /', but must be a list of route keys, each one of "
            f"{ROUTES}",
        ),
        (
            {"auth": jwt(publicRoutes=["GET /nope"])},
            f"tap:auth.publicRoutes is 'GET /nope', but must be a route key of the route table: "
            f"{ROUTES}",
        ),
        (
            {"auth": jwt(scopes=["x"])},
            'tap:auth.scopes is ["x"], but must be an object: route key -> list of scopes',
        ),
        (
            {"auth": jwt(scopes={"GET /nope": ["a"]})},
            f"tap:auth.scopes is 'GET /nope', but must be a route key of the route table: {ROUTES}",
        ),
        (
            {"auth": jwt(scopes={"GET /health": ["a"]})},
            'tap:auth.scopes.GET /health is ["a"], but must be absent for a public route: a '
            "public route has no authorizer to check scopes",
        ),
        (
            {"auth": jwt(scopes={"GET /info": []})},
            "tap:auth.scopes.GET /info is [], but must be a non-empty list of scopes (no spaces, "
            "quotes or backslashes)",
        ),
        ({"auth": jwt(type="saml")}, "tap:auth.type is 'saml', but must be one of cognito, jwt"),
        (
            {"auth": jwt(), "cors": json.dumps({"allowHeaders": ["content-type"]})},
            'tap:cors.allowHeaders is ["content-type"], but must be a list including '
            "authorization while tap:auth is set: browsers send the token in the Authorization "
            "header",
        ),
        (
            {"auth": jwt(issuer=5)},
            "tap:auth.issuer is 5, but must be an https:// URL such as "
            "https://example.auth0.com/: API Gateway fetches the issuer's keys over https and "
            "compares it with iss",
        ),
        ({"cors": "[1]"}, f"tap:cors is [1], but must be an object with fields {CORS}"),
        (
            {"cors": "not json"},
            f"tap:cors is 'not json', but must be a JSON object with fields {CORS}",
        ),
        (
            {"cors": json.dumps({"color": "red"})},
            f"tap:cors.color is 'red', but must be a field of {CORS}",
        ),
        (
            {"cors": json.dumps({"allowOrigins": ["https://a.example:65536"]})},
            "tap:cors.allowOrigins is 'https://a.example:65536', but must be '*' or "
            "scheme://host[:port] (no path, no trailing slash)",
        ),
        ({"auth": "[1]"}, f"tap:auth is [1], but must be an object with fields {AUTH}"),
        ({"auth": "nope"}, f"tap:auth is 'nope', but must be a JSON object with fields {AUTH}"),
        ({"auth": jwt(extra=1)}, f"tap:auth.extra is 1, but must be a field of {AUTH}"),
        (
            {"domain": json.dumps({"name": "API.example.com", "zoneId": "Z1"})},
            "tap:domain.name is 'API.example.com', but must be a lowercase DNS name such as "
            "api.example.com (no wildcard, no trailing dot)",
        ),
        (
            {"domain": json.dumps({"name": "api.example.com"})},
            'tap:domain is {"name": "api.example.com"}, but must be an object with exactly one '
            "of zoneId or certificateArn: zoneId: the stack issues and validates a certificate "
            "in that Route 53 zone; certificateArn: an existing certificate",
        ),
        (
            {"domain": json.dumps({"name": "api.example.com", "zoneId": "z"})},
            "tap:domain.zoneId is 'z', but must be a Route 53 hosted zone id such as "
            "Z0123456789ABC",
        ),
        (
            {
                "domain": json.dumps(
                    {
                        "name": "api.example.com",
                        "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
                    }
                )
            },
            "tap:domain.certificateArn is 'arn:aws:acm:eu-west-1:123456789012:certificate/abc', "
            "but must be an ACM certificate ARN in us-east-1 "
            "(arn:aws:acm:us-east-1:<account>:certificate/<id>): a regional API's domain name "
            "needs a certificate in the API's own region",
        ),
        (
            {"domain": json.dumps({"name": "api.example.com", "certificateArn": 5})},
            "tap:domain.certificateArn is 5, but must be an ACM certificate ARN in us-east-1 "
            "(arn:aws:acm:us-east-1:<account>:certificate/<id>): a regional API's domain name "
            "needs a certificate in the API's own region",
        ),
        (
            {
                "domain": json.dumps(
                    {
                        "name": "api.example.com",
                        "zoneId": "Z0123456789ABC",
                        "disableDefaultEndpoint": "yes",
                    }
                )
            },
            "tap:domain.disableDefaultEndpoint is 'yes', but must be true or false",
        ),
    ],
)
def test_a_refused_value_is_named_with_what_is_allowed_and_why(
    raw: dict[str, str], message: str
) -> None:
    assert problems(raw) == [message]


# ---------------------------------------------------------------------------------------
# The bounds, at the bound.


def _email(length: int, local_length: int) -> str:
    local = "a" * local_length
    labels, left = [], length - local_length - 1 - len(".com")
    while left > 0:
        label = min(63, left)
        labels.append("b" * label)
        left -= label + 1
    return f"{local}@{'.'.join(labels)}.com"


def test_an_email_of_254_characters_with_a_64_character_local_part_is_accepted() -> None:
    email = _email(254, 64)
    assert (len(email), len(email.partition("@")[0])) == (254, 64)

    assert c.parse({"alarmEmail": email}).alarm_email == email


def test_an_email_one_character_too_long_is_refused() -> None:
    assert problems({"alarmEmail": _email(255, 64)})[0].startswith("tap:alarmEmail is ")
    assert problems({"alarmEmail": "a" * 65 + "@example.com"}) == [
        f"tap:alarmEmail is '{'a' * 65}@example.com', but must be {EMAIL_RULE}"
    ]


def test_a_domain_name_of_253_characters_is_accepted() -> None:
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57]) + ".com"
    assert len(name) == 253

    domain = c.parse({"domain": json.dumps({"name": name, "zoneId": "Z0123456789ABC"})}).domain

    assert domain is not None
    assert domain.name == name


def test_an_unbounded_integer_of_18_digits_is_read_and_19_are_refused() -> None:
    # errorAlarmThreshold has no upper bound: 18 digits are still a number
    assert c.parse({"errorAlarmThreshold": "9" * 18}).error_alarm_threshold == 10**18 - 1
    assert problems({"errorAlarmThreshold": "9" * 19}) == [
        f"tap:errorAlarmThreshold is '{'9' * 19}', but must be >= 0"
    ]


# ---------------------------------------------------------------------------------------
# The defaults that depend on the environment (README config table).


def test_the_production_defaults_differ_from_the_others() -> None:
    assert c.default_log_retention_days("Production") == 14
    assert c.default_log_retention_days("Staging") == 30
    assert c.default_error_alarm_threshold("Production") == 3
    assert c.default_error_alarm_threshold("Staging") == 5


def test_the_duration_threshold_default_is_25_or_28_s_of_29_scaled_to_the_timeout() -> None:
    assert c.default_duration_alarm_threshold_ms("Production", 29) == 25000
    assert c.default_duration_alarm_threshold_ms("Staging", 29) == 28000
    assert c.default_duration_alarm_threshold_ms("Production", 10) == 8620  # 10 * 25000 // 29
    assert c.default_duration_alarm_threshold_ms("Staging", 60) == 57931  # 60 * 28000 // 29


def test_a_wildcard_allow_headers_lets_the_authorization_header_through() -> None:
    config = c.parse({"auth": jwt(), "cors": json.dumps({"allowHeaders": ["*"]})})

    assert config.auth is not None
    assert config.cors.allow_headers == ("*",)


def test_the_highest_port_in_an_allowed_origin_is_65535() -> None:
    origin = "https://a.example:65535"

    assert c.parse({"cors": json.dumps({"allowOrigins": [origin]})}).cors.allow_origins == (origin,)


def test_cors_nested_too_deeply_is_refused_with_the_whole_message() -> None:
    text = "[" * 1500 + "]" * 1500

    assert problems({"cors": text}) == [
        f"tap:cors is '{'[' * 200}'... (3,000 characters in all), but must be a JSON object "
        f"with fields {CORS}: it is nested too deeply"
    ]


def test_ten_unknown_cors_fields_are_each_listed_and_the_eleventh_counted() -> None:
    ten = problems({"cors": json.dumps({f"f{i}": 1 for i in range(10)})})
    eleven = problems({"cors": json.dumps({f"f{i}": 1 for i in range(11)})})

    assert ten == [f"tap:cors.f{i} is 1, but must be a field of {CORS}" for i in range(10)]
    assert eleven == [
        *ten,
        f"tap:cors is '1 more unknown fields', but must be an object with fields {CORS}: "
        "only the first few are listed",
    ]


ORIGIN_RULE = "'*' or scheme://host[:port] (no path, no trailing slash)"


@pytest.mark.parametrize(
    ("cors", "message"),
    [
        (
            {"allowOrigins": "x"},
            f"tap:cors.allowOrigins is 'x', but must be a list of strings, each {ORIGIN_RULE}",
        ),
        (
            {"allowOrigins": ["*", "https://a.example"]},
            'tap:cors.allowOrigins is ["*", "https://a.example"], but must be either [\'*\'] '
            "alone or a list of origins: '*' already allows every origin",
        ),
        (
            {"allowHeaders": ["bad header"]},
            "tap:cors.allowHeaders is 'bad header', but must be an HTTP header name or '*'",
        ),
        (
            {"exposeHeaders": ["bad header"]},
            "tap:cors.exposeHeaders is 'bad header', but must be an HTTP header name or '*'",
        ),
        (
            {"maxAge": 86401},
            "tap:cors.maxAge is 86401, but must be a whole number of seconds 0-86400: browsers "
            "cap it anyway; API Gateway refuses more than a day",
        ),
        (
            {"allowCredentials": "yes"},
            "tap:cors.allowCredentials is 'yes', but must be true or false",
        ),
        (
            {"allowCredentials": True},
            "tap:cors.allowCredentials is true, but must be false while allowOrigins is ['*']: "
            "credentials need an explicit list of origins",
        ),
    ],
)
def test_a_refused_cors_field_is_named_with_what_is_allowed_and_why(
    cors: dict[str, object], message: str
) -> None:
    assert problems({"cors": json.dumps(cors)}) == [message]


def test_a_max_age_of_one_day_is_the_highest() -> None:
    assert c.parse({"cors": json.dumps({"maxAge": 86400})}).cors.max_age == 86400


def test_ten_bad_values_of_a_cors_list_are_each_listed_and_the_eleventh_counted() -> None:
    ten = problems({"cors": json.dumps({"allowOrigins": [f"bad{i}" for i in range(10)]})})
    eleven = problems({"cors": json.dumps({"allowOrigins": [f"bad{i}" for i in range(11)]})})

    assert ten == [
        f"tap:cors.allowOrigins is 'bad{i}', but must be {ORIGIN_RULE}" for i in range(10)
    ]
    assert eleven == [
        *ten,
        f"tap:cors.allowOrigins is '1 more values', but must be {ORIGIN_RULE}: only the "
        "first few are listed",
    ]


KNOWN_KEYS = (
    "environment, region, runtime, architecture, memorySize, timeout, logRetentionDays, "
    "logLevel, tracing, reservedConcurrency, cors, throttlingBurstLimit, throttlingRateLimit, "
    "alarmEmail, errorAlarmThreshold, durationAlarmThresholdMs, smokeCheck, "
    "smokeCheckTimeoutSeconds, auth, domain"
)


def test_an_unknown_key_lists_the_known_ones_and_suggests_the_closest() -> None:
    assert problems({"timout": "10"}) == [
        f"tap:timout is '10', but must be a known key: {KNOWN_KEYS}: did you mean tap:timeout?"
    ]
    assert problems({"zzzzzz": "1"}) == [
        f"tap:zzzzzz is '1', but must be a known key: {KNOWN_KEYS}"
    ]


def test_the_error_counts_one_value_in_the_singular() -> None:
    with pytest.raises(c.ConfigError) as raised:
        c.parse({"zzzzzz": "1"})

    assert str(raised.value).splitlines()[0] == "invalid configuration (1 value):"


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("architecture", "x86", "arm64, x86_64"),
        ("logLevel", "TRACE", "DEBUG, INFO, WARN, ERROR"),
        ("tracing", "On", "Active, PassThrough"),
    ],
)
def test_a_choice_without_a_reason_says_only_what_is_allowed(
    key: str, value: str, allowed: str
) -> None:
    with pytest.raises(c.ConfigError) as raised:
        c.parse({key: value})

    assert str(raised.value) == (
        f"invalid configuration (1 value):\n  - tap:{key} is '{value}', but must be one of "
        + allowed
    )


def test_a_cors_value_is_described_with_every_list_in_order_and_its_credentials() -> None:
    from tap.config.objects import CorsConfig, describe_cors

    cors = CorsConfig(
        allow_origins=("https://a.example", "https://b.example"),
        allow_methods=("GET", "POST"),
        allow_headers=("content-type", "authorization"),
        expose_headers=("x-request-id", "x-trace"),
        max_age=60,
        allow_credentials=True,
    )

    assert describe_cors(cors) == (
        "origins `https://a.example` `https://b.example`, methods GET POST, headers "
        "content-type authorization, expose x-request-id x-trace, maxAge 60, credentials"
    )
    assert describe_cors(CorsConfig()).endswith(", maxAge 300, no credentials")


@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "`true`"), (False, "`false`"), (None, "unset"), (1.5, "`1.5`"), (512, "`512`")],
)
def test_a_fixed_default_is_shown_as_the_readme_writes_it(value: object, shown: str) -> None:
    from tap.config.keys import _shown_value

    assert _shown_value(value) == shown
