"""Reading a request body: size, content type, base64, UTF-8 and JSON, each refusal naming
what was wrong and what is allowed.

Imported on the first request that has a body, not at cold start: a cold start compiles
every module it imports (Lambda's code folder is read-only, so no .pyc is kept), and a GET
never needs this one.
"""

# No `from __future__ import annotations`: every annotation here is valid at run time on
# Python 3.10+, and that import costs ~0.2 ms.

import json
import re

from .events import (
    MAX_BODY_BYTES,
    BadRequestError,
    PayloadTooLargeError,
    Request,
    UnsupportedMediaTypeError,
)

JSON_MEDIA_TYPE = "application/json"
# Strict base64: the standard alphabet and "=" padding only. binascii's default mode skips
# any other character and would decode garbage.
_BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def read_json_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> object:
    """The body parsed as JSON (None when there is none). Checked in this order, each
    failure naming what was wrong and what is allowed: size (413), content type (415),
    base64, UTF-8, JSON (400).

    A body with no ``Content-Type`` header at all is read as JSON, as chalice and FastAPI
    do (``requests.post(url, data=...)`` sends none, and so do several captured events);
    only a declared type other than JSON is refused with 415."""
    body = request.body
    if body is None:
        return None
    # Refuse an over-limit body before any work on it (base64 is 4 characters per 3
    # bytes; a text character is at least one byte); the exact size is checked below.
    if len(body) > (4 * ((max_bytes + 2) // 3) if request.is_base64 else max_bytes):
        raise PayloadTooLargeError(f"request body is over the limit of {max_bytes} bytes")
    if _check_content_type(request.headers.get("content-type")):
        return _decode(request, body, max_bytes)
    try:
        return _decode(request, body, max_bytes)
    except BadRequestError as error:
        raise BadRequestError(
            f"{error.message} (a body without content-type is read as JSON; "
            f"send JSON, content-type {JSON_MEDIA_TYPE})"
        ) from None


def _decode(request: Request, body: str, max_bytes: int) -> object:
    """base64 (when the event says so), then UTF-8, then JSON; 400 or 413 naming the step."""
    if request.is_base64:
        data = body.rstrip("=")
        if len(body) % 4 or len(body) - len(data) > 2 or data.strip(_BASE64_ALPHABET):
            raise BadRequestError(
                "request body is not valid base64 (isBase64Encoded is true): expected "
                "A-Z a-z 0-9 + / with = padding to a multiple of 4 characters"
            )
        import binascii  # only base64 bodies need it (a C module: ~0.3 ms to load)

        try:
            raw = binascii.a2b_base64(body)
        except binascii.Error as error:  # defensive: the checks above leave none known
            raise BadRequestError(f"request body is not valid base64: {error}") from None
    else:
        try:
            raw = body.encode()
        except UnicodeEncodeError as error:  # a lone surrogate, from a "\ud800" escape
            raise BadRequestError(f"request body is not valid UTF-8: {error.reason}") from None
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"request body is {len(raw)} bytes; the limit is {max_bytes}")
    try:
        # A text body encoded cleanly: it is its own UTF-8 decoding, no need to redo it.
        text = raw.decode() if request.is_base64 else body
        data = _JSON.decode(text)
    except UnicodeDecodeError as error:
        message = f"not valid UTF-8: {error.reason} at byte {error.start}"
    except RecursionError:
        message = "not valid JSON: nested too deeply"
    except ValueError as error:  # JSONDecodeError, NaN/Infinity, an over-long integer
        message = f"not valid JSON: {error}"
    else:
        # An escaped lone surrogate ("\ud800") decodes to a string that is not Unicode
        # text (docs/http-api.md rule 48): echoed, it would come back as the same escape
        # under a 200. Looked for only when the text holds a surrogate escape at all: bodies
        # without one pay one regex scan (faster than two substring searches here).
        if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(data):
            raise BadRequestError(
                "request body is not valid JSON text: it escapes a lone UTF-16 surrogate "
                "(\\ud800-\\udfff without its pair); send Unicode characters, or escape "
                "characters beyond U+FFFF as a surrogate pair"
            )
        return data
    raise BadRequestError("request body is " + message)


def _check_content_type(value: str | None) -> bool:
    """Whether the request declared a content type; refuses a declared type that is not
    JSON in UTF-8 (415)."""
    if value is None:
        return False
    media_type, _, parameters = value.partition(";")
    media_type = media_type.strip().lower()
    charset = parameters.lower().partition("charset=")[2].split(";")[0].strip(' "')
    # application/json, or a structured +json type (RFC 6839) such as problem+json.
    if media_type != JSON_MEDIA_TYPE and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnsupportedMediaTypeError(
            f"content-type {value[:100]!r} is not supported; send {JSON_MEDIA_TYPE}"
        )
    if charset not in ("", "utf-8", "utf8"):
        raise UnsupportedMediaTypeError(
            f"charset {charset[:40]!r} is not supported; JSON must be UTF-8"
        )
    return True


def _not_a_constant(name: str) -> object:
    # json accepts NaN and Infinity, which are not JSON (RFC 8259); echoing them back would
    # produce a response no JSON parser accepts. A number that overflows to infinity
    # (1e999) is caught where the echo is written (handler.py: the encoder refuses
    # non-finite floats), which costs nothing per number; a parse_float hook here doubled
    # the decoding time of a body of many floats.
    raise ValueError(f"{name} is not a JSON number")


# A \uD800-\uDFFF escape (either half of a pair, or a lone one), any case.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_lone_surrogate(data: object) -> bool:
    """Whether any string in ``data`` (keys included) holds a lone surrogate. json joins
    an escaped pair into one character, so only a lone half is left as a surrogate, and
    UTF-8 cannot encode it. Only run when the text has a surrogate escape."""
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    except RecursionError:  # too deep to write back: the handler answers 400 for that
        return False
    return False


_JSON = json.JSONDecoder(parse_constant=_not_a_constant)
