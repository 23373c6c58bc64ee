"""Reading an API Gateway HTTP API event, payload format 2.0 (docs/http-api.md rules 1–7), and
the errors a request can be answered with. Reading a body is in body.py, imported on
the first request that has one.

The event is untrusted: any shape that is not a 2.0 request raises ``NotAnHttpApiEventError``
(a 400), never a TypeError or KeyError. Kept small on purpose: a cold start compiles it.
"""

# No `from __future__ import annotations`: every annotation here is valid at run time on
# Python 3.10+, and that import costs ~0.2 ms of every cold start.

import os

# The largest request body the function reads, in bytes after base64 decoding.
MAX_BODY_BYTES = 1024 * 1024
# The largest response the function returns, counted as Lambda counts it: the result object
# serialised as JSON, where the body string's every " and \ is escaped once more
# (docs/http-api.md rules 14, 46). The echo route repeats the body, and re-encoding can grow
# it: 1e15 becomes 1000000000000000.0 (4.5x), a 2-byte UTF-8 character a 6-character escape
# (3x, 3.5x once escaped in the result). Past Lambda's 6 MB the invocation fails and the
# client gets a bare 500 (rule 10); this bound, below 6 MB by a margin for the result's
# other fields, turns that into a 413 that says why.
MAX_RESPONSE_BYTES = 6_000_000
_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


# The errors a request can be answered with: each type carries its HTTP status, and the
# handler turns them into responses in one place. Anything else that escapes is a bug (500).
class HttpError(Exception):
    """An error whose message is safe to show the client (it never holds request data
    beyond the method, path and content type)."""

    status = 500

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = headers or {}


class BadRequestError(HttpError):
    """400: the body is not valid base64, UTF-8 or JSON."""

    status = 400


class NotAnHttpApiEventError(BadRequestError):
    """400: the event is not an API Gateway HTTP API payload format 2.0 request."""


class NotFoundError(HttpError):
    """404: no route for this path."""

    status = 404


class MethodNotAllowedError(HttpError):
    """405: the path is a route, but not for this method; ``Allow`` lists the ones it has."""

    status = 405

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message, {"allow": ", ".join(allowed)})


class PayloadTooLargeError(HttpError):
    """413: the body is over ``MAX_BODY_BYTES``, or its echo over ``MAX_RESPONSE_BYTES``."""

    status = 413


class UnsupportedMediaTypeError(HttpError):
    """415: a body whose declared content type is not JSON in UTF-8."""

    status = 415


class Request:
    """The parts of a 2.0 event the handler uses."""

    __slots__ = ("body", "headers", "is_base64", "method", "path", "sub")

    def __init__(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: str | None,
        b64: bool,
        sub: str | None = None,
    ) -> None:
        self.method = method
        self.path = path  # rawPath without a named stage's prefix
        self.headers = headers  # names lowercased
        self.body = body  # None when there is none
        self.is_base64 = b64
        self.sub = sub  # the JWT's subject when a JWT authorizer let the request in


def jwt_subject(context: dict[str, object]) -> str | None:
    """``requestContext.authorizer.jwt.claims.sub`` (docs/http-api.md rule 62), or None.

    API Gateway puts the claims there only after its JWT authorizer validated the token
    (rule 60), so the function trusts them without checking the token again. Anything
    else at that path (a Lambda or IAM authorizer's context, a non-string) is no subject.
    """
    authorizer = context.get("authorizer")
    jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
    claims = jwt.get("claims") if isinstance(jwt, dict) else None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) and sub else None


def _not_v2(reason: str) -> NotAnHttpApiEventError:
    return NotAnHttpApiEventError(
        f"not an API Gateway HTTP API payload format 2.0 request: {reason}"
    )


def _get(container: dict[str, object], key: str, kind: type, label: str) -> object:
    value = container.get(key)
    if value is not None and not isinstance(value, kind):
        name = "null" if value is None else _KINDS.get(type(value), type(value).__name__)
        raise _not_v2(f"{label} is {name}, not {_KINDS[kind]}")
    return value


def parse_event(event: object) -> Request:
    """The request in a 2.0 event; ``NotAnHttpApiEventError`` naming the first problem otherwise."""
    if not isinstance(event, dict):
        raise _not_v2("the event is not an object")
    if "routeArn" in event or "methodArn" in event:
        raise _not_v2("it is an authorizer event; this function is the API's integration")
    version = event.get("version")
    if version != "2.0":
        hint = " (REST API or format 1.0: use payload format 2.0)" if "httpMethod" in event else ""
        raise _not_v2(f"version is {version!r}, not '2.0'{hint}")
    context = _get(event, "requestContext", dict, "requestContext") or {}
    assert isinstance(context, dict)
    http = _get(context, "http", dict, "requestContext.http") or {}
    assert isinstance(http, dict)
    method = http.get("method")
    if not isinstance(method, str) or not method.isalpha():
        raise _not_v2("requestContext.http.method is missing or not an HTTP method")
    raw_path = event.get("rawPath")
    if not isinstance(raw_path, str) or not raw_path.startswith("/"):
        raise _not_v2("rawPath is missing or does not start with '/'")
    headers = _get(event, "headers", dict, "headers") or {}
    assert isinstance(headers, dict)
    # Rule 3: AWS lowercases names, but its documentation examples and sam local do not.
    lowered = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise _not_v2("headers must map names to strings")
        lowered[name.lower()] = value
    body = _get(event, "body", str, "body")
    b64 = _get(event, "isBase64Encoded", bool, "isBase64Encoded")
    # Rule 6: no body means no "body" key, sam local sends "", and isBase64Encoded can be
    # true with no body: all of these are "no body".
    path = strip_stage(raw_path, context.get("stage"))
    sub = jwt_subject(context)
    return Request(method, path, lowered, body or None, b64 is True, sub)  # type: ignore[arg-type]


def strip_stage(raw_path: str, stage: object) -> str:
    """``rawPath`` without the ``/<stage>`` prefix a named stage adds (rule 2); ``$default``
    adds nothing, and ``/prodution`` under stage ``prod`` keeps its letters."""
    if not isinstance(stage, str) or not stage or stage == "$default":
        return raw_path
    prefix = "/" + stage
    if raw_path == prefix:
        return "/"
    return raw_path[len(prefix) :] if raw_path.startswith(prefix + "/") else raw_path


def request_id(event: object, context: object) -> str:
    """``requestContext.requestId`` (fresh per request, rule 7), else the invocation's id,
    else a random one. It goes into a response header, so only printable ASCII without
    spaces is used. Never raises."""
    candidates: list[object] = []
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        candidates.append(event["requestContext"].get("requestId"))
    try:
        candidates.append(getattr(context, "aws_request_id", None))
    except Exception as error:  # the context is the caller's object: tolerate anything
        candidates.append(error)
    for value in candidates:
        if isinstance(value, str) and 0 < len(value) <= 128 and value.isascii():  # noqa: SIM102
            if value.isprintable() and " " not in value:
                return value
    return os.urandom(16).hex()
