"""The object-valued keys (tap:cors, tap:auth, tap:domain): their values and their readers.

Each reader takes the key's JSON text and returns the value, or records every problem it
finds (the returned value is then not used).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tap.config.limits import (
    _ACM_ARN_RE,
    _DOMAIN_RE,
    _HEADER_RE,
    _ISSUER_RE,
    _ORIGIN_RE,
    _SCOPE_RE,
    _ZONE_ID_RE,
    AUTH_FIELDS,
    AUTH_TYPES,
    CORS_METHODS,
    DEFAULT_PUBLIC_ROUTES,
    DOMAIN_FIELDS,
    MAX_CORS_MAX_AGE_S,
    MAX_DOMAIN_LENGTH,
    MAX_PROBLEMS_PER_FIELD,
)
from tap.config.reader import Reader
from tap.function.routes import ROUTE_KEYS
from tap.text import json_too_deep

CORS_FIELDS = (
    "allowOrigins",
    "allowMethods",
    "allowHeaders",
    "exposeHeaders",
    "maxAge",
    "allowCredentials",
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


def _cors_object(r: Reader, value: str) -> dict[str, Any] | None:
    """The JSON object tap:cors holds; None (reported) when it holds no object."""
    key = "cors"
    try:
        if json_too_deep(value):  # "[" x 3,000: refused the same way on every Python
            raise RecursionError
        obj = json.loads(value)
    except ValueError:  # also an integer of more than 4,300 digits
        r.problem(key, value, "a JSON object with fields " + ", ".join(CORS_FIELDS))
        return None
    except RecursionError:  # json recurses once per level
        r.problem(
            key,
            value,
            "a JSON object with fields " + ", ".join(CORS_FIELDS),
            "it is nested too deeply",
        )
        return None
    if not isinstance(obj, dict):
        r.problem(key, obj, "an object with fields " + ", ".join(CORS_FIELDS))
        return None
    return obj


def read_cors(r: Reader, value: str) -> CorsConfig:
    """The cors object merged over the defaults; on problems, records them."""
    default = CorsConfig()
    obj = _cors_object(r, value)
    if obj is None:
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


def _json_object(r: Reader, key: str, value: str, fields: tuple[str, ...]) -> dict[str, Any] | None:
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


def read_auth(r: Reader, value: str, cors: CorsConfig) -> AuthConfig | None:
    """The auth object; on problems, records them (the result is then not used)."""
    obj = _json_object(r, "auth", value, AUTH_FIELDS)
    if obj is None:
        return None
    before = len(r.problems)
    kind = obj.get("type")
    if kind not in AUTH_TYPES:
        r.problem("auth.type", kind, "one of " + ", ".join(AUTH_TYPES))
    issuer, audience = _auth_issuer(r, kind, obj.get("issuer"), obj.get("audience"))
    public = _auth_public_routes(r, obj)
    scopes = _auth_scopes(r, obj, public)
    _check_authorization_header_allowed(r, cors)
    if len(r.problems) > before or kind not in AUTH_TYPES:
        return None
    return AuthConfig(
        type=str(kind),
        issuer=issuer if isinstance(issuer, str) else None,
        audience=tuple(audience or ()),
        public_routes=tuple(public),
        scopes=tuple(scopes),
    )


def _auth_issuer(r: Reader, kind: Any, issuer: Any, audience: Any) -> tuple[Any, Any]:
    """The issuer and audience the type calls for: none for cognito, given ones for jwt."""
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
        return None, []
    if kind == "jwt":
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
    return issuer, audience


def _auth_public_routes(r: Reader, obj: dict[str, Any]) -> list[str]:
    route_list = ", ".join(ROUTE_KEYS)
    public = obj.get("publicRoutes", list(DEFAULT_PUBLIC_ROUTES))
    if not isinstance(public, list) or not all(isinstance(p, str) for p in public):
        r.problem("auth.publicRoutes", public, "a list of route keys, each one of " + route_list)
        public = list(DEFAULT_PUBLIC_ROUTES)
    for key in public:
        if key not in ROUTE_KEYS:
            r.problem("auth.publicRoutes", key, "a route key of the route table: " + route_list)
    return public


def _auth_scopes(
    r: Reader, obj: dict[str, Any], public: list[str]
) -> list[tuple[str, tuple[str, ...]]]:
    route_list = ", ".join(ROUTE_KEYS)
    scopes_obj = obj.get("scopes", {})
    scopes: list[tuple[str, tuple[str, ...]]] = []
    if not isinstance(scopes_obj, dict):
        r.problem("auth.scopes", scopes_obj, "an object: route key -> list of scopes")
        scopes_obj = {}
    for key, wanted in scopes_obj.items():
        if key not in ROUTE_KEYS:
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
    return scopes


def _check_authorization_header_allowed(r: Reader, cors: CorsConfig) -> None:
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


def read_domain(r: Reader, value: str, region: str) -> DomainConfig | None:
    """The domain object; on problems, records them (the result is then not used)."""
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
    disable = obj.get("disableDefaultEndpoint", DomainConfig.disable_default_endpoint)
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


def cors_json(cors: CorsConfig) -> dict[str, Any]:
    """The cors value as ``tap:cors`` holds it (a JSON object with the fields CORS_FIELDS)."""
    values = (
        list(cors.allow_origins),
        list(cors.allow_methods),
        list(cors.allow_headers),
        list(cors.expose_headers),
        cors.max_age,
        cors.allow_credentials,
    )
    return dict(zip(CORS_FIELDS, values, strict=True))


def describe_cors(cors: CorsConfig) -> str:
    """The cors value as the README's config table shows it."""
    return (
        f"origins {' '.join(f'`{o}`' for o in cors.allow_origins)}, "
        f"methods {' '.join(cors.allow_methods)}, headers {' '.join(cors.allow_headers)}, "
        f"expose {' '.join(cors.expose_headers)}, maxAge {cors.max_age}, "
        + ("credentials" if cors.allow_credentials else "no credentials")
    )
