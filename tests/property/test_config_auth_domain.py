"""Properties of tap:auth and tap:domain: every valid object loads as given, every invalid
field is refused naming its key and what is allowed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap import config as c
from tap.function.routes import ROUTE_KEYS

HOSTS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True)
ISSUERS = st.builds(
    lambda host, path: f"https://{host}{path}",
    HOSTS,
    st.sampled_from(["", "/", "/oauth2/default", "/tenant-id/v2.0", "/us-east-1_AbC123"]),
)
AUDIENCES = st.lists(st.from_regex(r"[A-Za-z0-9:/._-]{1,40}", fullmatch=True), min_size=1)
SCOPES = st.lists(st.from_regex(r"[A-Za-z0-9:/._-]{1,30}", fullmatch=True), min_size=1)
REGIONS = st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"])


@st.composite
def auth_objects(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(c.AUTH_TYPES))
    obj: dict[str, Any] = {"type": kind}
    if kind == "jwt":
        obj["issuer"] = draw(ISSUERS)
        obj["audience"] = draw(AUDIENCES)
    public = list(c.DEFAULT_PUBLIC_ROUTES)
    if draw(st.booleans()):
        public = draw(st.lists(st.sampled_from(ROUTE_KEYS), unique=True))
        obj["publicRoutes"] = public
    protected = [k for k in ROUTE_KEYS if k not in public]
    if protected and draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(protected), unique=True, max_size=3))
        obj["scopes"] = {k: draw(SCOPES) for k in keys}
    return obj


@given(auth_objects())
def test_every_valid_auth_object_loads_as_given(obj: dict[str, Any]) -> None:
    auth = c.parse({"auth": json.dumps(obj)}).auth

    assert auth is not None
    assert auth.type == obj["type"]
    assert auth.issuer == obj.get("issuer")
    assert auth.audience == tuple(obj.get("audience", ()))
    assert auth.public_routes == tuple(obj.get("publicRoutes", c.DEFAULT_PUBLIC_ROUTES))
    for key in ROUTE_KEYS:
        assert auth.protects(key) == (key not in auth.public_routes)
        assert dict(auth.scopes).get(key, ()) == tuple(obj.get("scopes", {}).get(key, ()))


def test_no_auth_and_no_domain_by_default() -> None:
    loaded = c.parse({})

    assert (loaded.auth, loaded.domain) == (None, None)


def test_cognito_opens_only_the_health_routes_by_default() -> None:
    auth = c.parse({"auth": '{"type": "cognito"}'}).auth

    assert auth == c.AuthConfig("cognito", None, (), ("GET /", "GET /health"), ())


INVALID_AUTH: list[tuple[Any, str, str]] = [
    ("not json", "tap:auth", "a JSON object with fields type, issuer"),
    (["cognito"], "tap:auth", "an object with fields type"),
    ({}, "tap:auth.type", "one of cognito, jwt"),
    ({"type": "oauth"}, "tap:auth.type", "one of cognito, jwt"),
    ({"type": "cognito", "issuers": "x"}, "tap:auth.issuers", "a field of type, issuer"),
    ({"type": "cognito", "issuer": "https://a.example"}, "tap:auth.issuer", "absent when type"),
    ({"type": "cognito", "audience": ["x"]}, "tap:auth.audience", "absent when type"),
    ({"type": "jwt", "audience": ["x"]}, "tap:auth.issuer", "an https:// URL"),
    (
        {"type": "jwt", "issuer": "http://a.example", "audience": ["x"]},
        "tap:auth.issuer",
        "an https:// URL",
    ),
    (
        {"type": "jwt", "issuer": "https://", "audience": ["x"]},
        "tap:auth.issuer",
        "an https:// URL",
    ),
    (
        {"type": "jwt", "issuer": "https://a.example?x=1", "audience": ["x"]},
        "tap:auth.issuer",
        "an https:// URL",
    ),
    ({"type": "jwt", "issuer": "https://a.example"}, "tap:auth.audience", "a non-empty list"),
    (
        {"type": "jwt", "issuer": "https://a.example", "audience": []},
        "tap:auth.audience",
        "a non-empty list",
    ),
    (
        {"type": "jwt", "issuer": "https://a.example", "audience": "x"},
        "tap:auth.audience",
        "a non-empty list",
    ),
    (
        {"type": "jwt", "issuer": "https://a.example", "audience": [" "]},
        "tap:auth.audience",
        "a non-empty list",
    ),
    (
        {"type": "cognito", "publicRoutes": "GET /health"},
        "tap:auth.publicRoutes",
        "a list of route keys",
    ),
    (
        {"type": "cognito", "publicRoutes": ["GET /status"]},
        "tap:auth.publicRoutes",
        "a route key of the route table: GET /, GET /health",
    ),
    (
        {"type": "cognito", "publicRoutes": ["get /health"]},
        "tap:auth.publicRoutes",
        "a route key of the route table",
    ),
    (
        {"type": "cognito", "scopes": ["x"]},
        "tap:auth.scopes",
        "an object: route key -> list of scopes",
    ),
    (
        {"type": "cognito", "scopes": {"GET /nope": ["x"]}},
        "tap:auth.scopes",
        "a route key of the route table",
    ),
    (
        {"type": "cognito", "scopes": {"GET /health": ["x"]}},
        "tap:auth.scopes.GET /health",
        "absent for a public route",
    ),
    (
        {"type": "cognito", "scopes": {"GET /info": []}},
        "tap:auth.scopes.GET /info",
        "a non-empty list of scopes",
    ),
    (
        {"type": "cognito", "scopes": {"GET /info": ["a b"]}},
        "tap:auth.scopes.GET /info",
        "a non-empty list of scopes",
    ),
]


@pytest.mark.parametrize(("obj", "key", "allowed"), INVALID_AUTH)
def test_an_invalid_auth_field_is_refused_naming_the_field(
    obj: Any, key: str, allowed: str
) -> None:
    raw = obj if isinstance(obj, str) else json.dumps(obj)

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"auth": raw})

    assert raised.value.keys == (key,)
    assert f"{key} is " in str(raised.value)
    assert allowed in str(raised.value)


def test_auth_needs_the_authorization_header_allowed_by_cors() -> None:
    cors = json.dumps({"allowHeaders": ["content-type"]})

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"auth": '{"type": "cognito"}', "cors": cors})

    assert raised.value.keys == ("tap:cors.allowHeaders",)
    assert "a list including authorization while tap:auth is set" in str(raised.value)
    # Without auth the same CORS is fine.
    assert c.parse({"cors": cors}).cors.allow_headers == ("content-type",)


@st.composite
def domain_objects(draw: st.DrawFn, region: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"name": draw(HOSTS.map(lambda h: "api." + h))}
    if draw(st.booleans()):
        obj["zoneId"] = draw(st.from_regex(r"Z[A-Z0-9]{8,20}", fullmatch=True))
    else:
        uid = draw(st.uuids())
        obj["certificateArn"] = f"arn:aws:acm:{region}:123456789012:certificate/{uid}"
    if draw(st.booleans()):
        obj["disableDefaultEndpoint"] = draw(st.booleans())
    return obj


@given(region=REGIONS, data=st.data())
def test_every_valid_domain_object_loads_as_given(region: str, data: st.DataObject) -> None:
    obj = data.draw(domain_objects(region))

    domain = c.parse({"region": region, "domain": json.dumps(obj)}).domain

    assert domain == c.DomainConfig(
        name=obj["name"],
        zone_id=obj.get("zoneId"),
        certificate_arn=obj.get("certificateArn"),
        disable_default_endpoint=obj.get("disableDefaultEndpoint", True),
    )
    assert domain.url == f"https://{obj['name']}/"


CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000"
INVALID_DOMAIN: list[tuple[Any, str, str]] = [
    ("api.example.com", "tap:domain", "a JSON object with fields name, zoneId"),
    ({"name": "api.example.com", "zoneId": "Z1", "ttl": 60}, "tap:domain.ttl", "a field of name"),
    ({"zoneId": "Z123"}, "tap:domain.name", "a lowercase DNS name"),
    ({"name": "API.example.com", "zoneId": "Z123"}, "tap:domain.name", "a lowercase DNS name"),
    ({"name": "*.example.com", "zoneId": "Z123"}, "tap:domain.name", "no wildcard"),
    ({"name": "api.example.com.", "zoneId": "Z123"}, "tap:domain.name", "no trailing dot"),
    ({"name": "localhost", "zoneId": "Z123"}, "tap:domain.name", "a lowercase DNS name"),
    ({"name": "a-.example.com", "zoneId": "Z123"}, "tap:domain.name", "a lowercase DNS name"),
    ({"name": "api.example.123", "zoneId": "Z123"}, "tap:domain.name", "a lowercase DNS name"),
    (
        {"name": "a" * 64 + ".example.com", "zoneId": "Z123"},
        "tap:domain.name",
        "a lowercase DNS name",
    ),
    ({"name": "api.example.com"}, "tap:domain", "exactly one of zoneId or certificateArn"),
    (
        {"name": "api.example.com", "zoneId": "Z123", "certificateArn": CERT},
        "tap:domain",
        "exactly one of zoneId or certificateArn",
    ),
    (
        {"name": "api.example.com", "zoneId": "example.com"},
        "tap:domain.zoneId",
        "a Route 53 hosted zone id",
    ),
    ({"name": "api.example.com", "zoneId": 123}, "tap:domain.zoneId", "a Route 53 hosted zone id"),
    (
        {"name": "api.example.com", "certificateArn": CERT.replace("us-east-1", "eu-west-1")},
        "tap:domain.certificateArn",
        "an ACM certificate ARN in us-east-1",
    ),
    (
        {"name": "api.example.com", "certificateArn": CERT.replace(":acm:", ":iam:")},
        "tap:domain.certificateArn",
        "an ACM certificate ARN in us-east-1",
    ),
    (
        {"name": "api.example.com", "certificateArn": "my-cert"},
        "tap:domain.certificateArn",
        "an ACM certificate ARN in us-east-1",
    ),
    (
        {"name": "api.example.com", "zoneId": "Z123", "disableDefaultEndpoint": "no"},
        "tap:domain.disableDefaultEndpoint",
        "true or false",
    ),
]


@pytest.mark.parametrize(("obj", "key", "allowed"), INVALID_DOMAIN)
def test_an_invalid_domain_field_is_refused_naming_the_field(
    obj: Any, key: str, allowed: str
) -> None:
    raw = obj if isinstance(obj, str) else json.dumps(obj)

    with pytest.raises(c.ConfigError) as raised:
        c.parse({"domain": raw})

    assert raised.value.keys == (key,)
    assert f"{key} is " in str(raised.value)
    assert allowed in str(raised.value)


def test_the_certificate_region_follows_tap_region() -> None:
    arn = CERT.replace("us-east-1", "eu-west-1")
    obj = json.dumps({"name": "api.example.com", "certificateArn": arn})

    assert c.parse({"region": "eu-west-1", "domain": obj}).domain is not None
    with pytest.raises(c.ConfigError, match="an ACM certificate ARN in us-east-1"):
        c.parse({"domain": obj})
