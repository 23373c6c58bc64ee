"""API Gateway's CORS for an HTTP API, implemented once (docs/http-api.md rules 16-19, 25).

Given the API's ``cors_configuration`` and a request's method and headers: whether it is a
preflight, which origin is allowed, the headers API Gateway answers a preflight with, and
the headers it puts on any other answer. Standard library only and no I/O: the local
emulator serves these answers, the smoke check expects them, and the smoke tests' fake
API sends them, so the three cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

# docs/http-api.md rule 16: API Gateway answers a preflight itself; this status is assumed.
PREFLIGHT_STATUS = 204


class CorsSettings(Protocol):
    """The API's CORS configuration: tap.config's CorsConfig, the emulator's CorsSpec and
    the smoke check's ExpectedCors all have this shape."""

    @property
    def allow_origins(self) -> Sequence[str]: ...
    @property
    def allow_methods(self) -> Sequence[str]: ...
    @property
    def allow_headers(self) -> Sequence[str]: ...
    @property
    def expose_headers(self) -> Sequence[str]: ...
    @property
    def max_age(self) -> int | None: ...
    @property
    def allow_credentials(self) -> bool: ...


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of a header, by case-insensitive name."""
    lower = name.lower()
    return next((v for k, v in headers if k.lower() == lower), None)


def is_preflight(method: str, headers: Iterable[tuple[str, str]]) -> bool:
    """Rule 16: an OPTIONS with Origin and Access-Control-Request-Method."""
    pairs = list(headers)
    return (
        method == "OPTIONS"
        and header_value(pairs, "origin") is not None
        and header_value(pairs, "access-control-request-method") is not None
    )


def same_origin(a: str, b: str) -> bool:
    """Rule 25: two serialized origins name the same origin when they are equal with
    scheme and host compared case-insensitively (RFC 6454 sections 4-5; the port is digits).
    """
    return a.lower() == b.lower()


def origin_allowed(allow_origins: Sequence[str], origin: str) -> bool:
    """Whether a request from ``origin`` gets CORS headers (rules 18 and 25)."""
    return "*" in allow_origins or any(same_origin(origin, o) for o in allow_origins)


def allowed_origin(cors: CorsSettings, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for ``origin``, or None if not allowed.

    Rule 18: ``*`` answers ``*``; a listed origin is echoed as the request sent it
    (rule 25: matched as an origin, scheme and host case-insensitively).
    """
    if origin is None or not origin_allowed(cors.allow_origins, origin):
        return None
    return "*" if "*" in cors.allow_origins else origin


def preflight_headers(cors: CorsSettings, origin: str | None) -> list[tuple[str, str]]:
    """The headers of API Gateway's own answer to a preflight (rule 16).

    Rule 19 (assumed): a disallowed origin gets no Access-Control-* headers, so the
    browser blocks the request and nothing about the configuration is revealed. An allowed
    origin gets the configured lists whatever it asks for: the browser compares them.
    """
    allow = allowed_origin(cors, origin)
    if allow is None:
        return []
    headers = [("access-control-allow-origin", allow)]
    if cors.allow_methods:
        headers.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
    if cors.allow_headers:
        headers.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
    if cors.max_age is not None:
        headers.append(("access-control-max-age", str(cors.max_age)))
    return headers + _credentials_and_vary(cors, allow)


def response_headers(
    cors: CorsSettings, origin: str | None, headers: Iterable[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """An answer's headers as API Gateway sends them (rule 17): the function's own CORS
    headers dropped, the configured ones added when ``origin`` is allowed."""
    kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
    allow = allowed_origin(cors, origin)
    if allow is None:
        return kept
    kept.append(("access-control-allow-origin", allow))
    if cors.expose_headers:
        kept.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    return kept + _credentials_and_vary(cors, allow)


def _credentials_and_vary(cors: CorsSettings, allow: str) -> list[tuple[str, str]]:
    headers = []
    if cors.allow_credentials:
        headers.append(("access-control-allow-credentials", "true"))
    if allow != "*":  # the answer depends on the Origin: caches must key on it
        headers.append(("vary", "origin"))
    return headers
