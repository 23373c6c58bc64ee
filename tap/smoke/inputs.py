"""The smoke check's inputs: their names, their validation (one small validator per input)
and the validated form the checks run from (``SmokeSpec``).
"""

from __future__ import annotations

import hashlib
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tap import engine
from tap.cors import allowed_origin, origin_allowed
from tap.text import quote

# The origin to preflight with when the API allows every origin ("*"): any origin will do.
SAMPLE_ORIGIN = "https://example.com"

# The provider accepts 1 s so its own tests stay fast; users are held to the config's
# 5-900 s (tap:smokeCheckTimeoutSeconds) before anything reaches here. The same 900 as
# tap.config's MAX_SMOKE_TIMEOUT_S (a test holds them equal): the smoke check does not
# import the configuration.
MIN_DEADLINE_S = 1
MAX_DEADLINE_S = 900

# The inputs whose change means the API or the function may answer differently: a change
# re-runs the check. deadline_seconds only bounds how long to wait, so changing it is an
# update that keeps the previous result.
RECHECK_INPUTS = ("url", "expected_environment", "origin", "expected_cors", "trigger")
INPUTS = (*RECHECK_INPUTS, "deadline_seconds")
# With tap:auth: "METHOD /path" of a route that requires a token (``protected_request``);
# absent otherwise, so a stack without auth keeps its inputs and its check.
PROTECTED_REQUEST = "protected_request"
RESULT_OUTPUTS = ("passed_at", "attempts", "latency_ms", "checks", "warnings")

CORS_KEYS = (
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "max_age",
    "allow_credentials",
)

_UNKNOWN = engine.UNKNOWN_STRING  # pulumi.runtime.rpc.UNKNOWN (preview)


def smoke_trigger(parts: Mapping[str, Any]) -> str:
    """The ``trigger`` input: a digest of everything that shapes the API's answers.

    ``parts`` is plain JSON data (the function's code hash, its settings, the route keys,
    the CORS configuration...); any change in it re-runs the check. The engine cannot see
    changes to the provider's code or to the function's behaviour by itself
    (pulumi-and-moto.md, "Dynamic providers"): this digest is how it learns of them.
    """
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------------------------------
# Input validation (shared by ``check`` and ``create``/``update``).


class SmokeCheckInputError(ValueError):
    """The resource's inputs are invalid; ``problems`` holds (input name, reason) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {name}: {reason}" for name, reason in self.problems)
        super().__init__(f"invalid smoke check inputs:\n{lines}")


def validate_inputs(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with the inputs, as (input name, reason). Unknown (preview) values pass."""
    problems = [(name, "is required") for name in INPUTS if props.get(name) is None]
    for name, validator in _VALIDATORS:
        if _known(props.get(name)):
            reason = validator(props[name])
            if reason is not None:
                problems.append((name, reason))
    cors = props.get("expected_cors")
    cors_problems = _cors_problems(cors) if _known(cors) else []
    problems.extend(cors_problems)
    if _known(props.get("origin")):
        # The origin is held to the allowed ones only when they are known and valid.
        allowed = (
            props["expected_cors"]["allow_origins"] if _known(cors) and not cors_problems else None
        )
        reason = _origin_problem(props["origin"], allowed)
        if reason is not None:
            problems.append(("origin", reason))
    return problems


def _known(value: Any) -> bool:
    """Set, and not a preview's unknown placeholder."""
    return value is not None and value != _UNKNOWN


def _url_problem(url: Any) -> str | None:
    if not isinstance(url, str):
        return f"must be a string, got {quote(url)}"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"must be an http(s) URL with a host, got {quote(url)}"
    if parts.query or parts.fragment:
        return f"must have no query or fragment, got {quote(url)}"
    return None


def _non_empty_string_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return f"must be a non-empty string, got {quote(value)}"
    return None


def _deadline_problem(deadline: Any) -> str | None:
    if (
        isinstance(deadline, bool)
        or not isinstance(deadline, int | float)
        or not math.isfinite(deadline)
        or not MIN_DEADLINE_S <= deadline <= MAX_DEADLINE_S
    ):
        return (
            f"must be a number of seconds {MIN_DEADLINE_S}-{MAX_DEADLINE_S}, got {quote(deadline)}"
        )
    return None


def _protected_request_problem(protected: Any) -> str | None:
    method, _, path = protected.partition(" ") if isinstance(protected, str) else ("", "", "")
    # A path holding whitespace is no request line's target (RFC 9112 section 3.2).
    if (
        not method.isalpha()
        or not method.isupper()
        or not path.startswith("/")
        or any(c.isspace() for c in path)
    ):
        return f"must be 'METHOD /path', got {protected!r}"
    return None


def _origin_problem(origin: Any, allowed: Sequence[str] | None) -> str | None:
    parts = urllib.parse.urlsplit(origin) if isinstance(origin, str) else None
    if (
        parts is None
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
    ):
        return f"must be scheme://host[:port], got {quote(origin)}"
    # docs/http-api.md rule 25: matched as an origin, scheme and host case-insensitively.
    if allowed and not origin_allowed(allowed, origin):
        return (
            f"must be one of the allowed origins {quote(allowed)}, "
            f"got {quote(origin)}: a preflight from any other origin cannot succeed"
        )
    return None


# Each input's own validator, in the order its problems are reported; expected_cors and
# origin (checked against the allowed origins) follow.
_VALIDATORS: tuple[tuple[str, Callable[[Any], str | None]], ...] = (
    ("url", _url_problem),
    ("expected_environment", _non_empty_string_problem),
    ("trigger", _non_empty_string_problem),
    ("deadline_seconds", _deadline_problem),
    (PROTECTED_REQUEST, _protected_request_problem),
)


def _cors_problems(cors: Any) -> list[tuple[str, str]]:
    if not isinstance(cors, Mapping):
        return [
            ("expected_cors", f"must be an object with {', '.join(CORS_KEYS)}, got {quote(cors)}")
        ]
    problems = []
    for key in cors:
        if key not in CORS_KEYS:
            problems.append((f"expected_cors.{key}", f"is not one of {', '.join(CORS_KEYS)}"))
    for key in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
        value = cors.get(key)
        if value == _UNKNOWN:
            continue
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            problems.append(
                (f"expected_cors.{key}", f"must be a list of strings, got {quote(value)}")
            )
    max_age = cors.get("max_age")
    if max_age != _UNKNOWN and (
        isinstance(max_age, bool)
        or not isinstance(max_age, int | float)
        or not math.isfinite(max_age)
        or max_age != int(max_age)
        or max_age < 0
    ):
        problems.append(
            (
                "expected_cors.max_age",
                f"must be a whole number of seconds >= 0, got {quote(max_age)}",
            )
        )
    credentials = cors.get("allow_credentials")
    if credentials != _UNKNOWN and not isinstance(credentials, bool):
        problems.append(
            ("expected_cors.allow_credentials", f"must be true or false, got {quote(credentials)}")
        )
    return problems


# ---------------------------------------------------------------------------------------
# What the checks expect, parsed from the inputs.


@dataclass(frozen=True)
class ExpectedCors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int
    allow_credentials: bool

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> ExpectedCors:
        return cls(
            allow_origins=tuple(data["allow_origins"]),
            allow_methods=tuple(m.upper() for m in data["allow_methods"]),
            allow_headers=tuple(h.lower() for h in data["allow_headers"]),
            expose_headers=tuple(h.lower() for h in data["expose_headers"]),
            max_age=int(data["max_age"]),  # the engine sends 300.0
            allow_credentials=bool(data["allow_credentials"]),
        )

    def allowed_origin_answer(self, origin: str) -> str | None:
        """The Access-Control-Allow-Origin the API sends ``origin`` (docs/http-api.md rules
        18 and 25), as tap.cors computes it for the emulator too."""
        return allowed_origin(self, origin)


@dataclass(frozen=True)
class SmokeSpec:
    """The validated inputs of one smoke check."""

    url: str
    expected_environment: str
    origin: str
    cors: ExpectedCors
    deadline_seconds: float
    protected_request: str | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> SmokeSpec:
        problems = validate_inputs(props)
        unknown = [name for name in INPUTS if props.get(name) == _UNKNOWN]
        problems.extend((name, "is unknown (not yet computed)") for name in unknown)
        if problems:
            raise SmokeCheckInputError(problems)
        return cls(
            url=props["url"],
            expected_environment=props["expected_environment"],
            origin=props["origin"],
            cors=ExpectedCors.from_input(props["expected_cors"]),
            deadline_seconds=float(props["deadline_seconds"]),
            protected_request=props.get(PROTECTED_REQUEST),
        )

    def endpoint(self, path: str) -> str:
        # A $default stage's invoke URL ends with "/"; a named stage's does not.
        return self.url.rstrip("/") + path
