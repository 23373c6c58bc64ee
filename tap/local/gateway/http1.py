"""Strict parsing of an HTTP/1.1 request head for the emulator (RFC 9112, RFC 9110).

``http.server`` parses heads leniently: it skips a header line it cannot parse and reads
on, so a line without a colon, or with a space before it, or a bare CR, hides every header
after it, ``Content-Length`` included, and the body is then read as a second request (one
connection, two answers: request smuggling). Here every deviation that could make two
parsers disagree about where a request ends is refused: ``HeadError`` carries the status
to answer (400 almost always), and the connection is closed after it (docs/http-api.md
rules 40-44).

Pure functions over bytes, so each rule is tested without a socket.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# RFC 9110 §5.6.2: token = 1*tchar. Methods (§9.1) and field names (§5.1) are tokens.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: field-value = *field-content, of VCHAR, obs-text, SP and HTAB. CR, LF,
# NUL and every other control character are refused (§5.5: "MUST either reject ...").
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
# RFC 9112 §3.2: the request target is visible ASCII; control characters, spaces and raw
# bytes over 0x7F (non-ASCII that was not percent-encoded) are not part of any form.
_TARGET = re.compile(rb"[\x21-\x7e]+")
# RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
_VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")
# RFC 9110 §8.6: Content-Length = 1*DIGIT, ASCII digits only (str.isdigit would take "²"
# and Arabic-Indic digits, which int() then rejects or reads). 18 digits keep it a 64-bit
# integer (docs/http-api.md rule 42).
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")
# RFC 9112 §3.2 / RFC 3986 §3.2.2-3.2.3: Host = uri-host [ ":" port ].
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(:[0-9]*)?")

# RFC 9112 §7.1: chunk-size = 1*HEXDIG, then chunk-ext = *( BWS ";" ... ) of field-value
# characters. 16 hex digits keep it a 64-bit integer (docs/http-api.md rule 42).
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})((?:[ \t]*;[\t\x20-\x7e\x80-\xff]*)?)")

MAX_HEADER_FIELDS = 100  # as http.client: more is refused as too much head (431)


class HeadError(Exception):
    """The head cannot be accepted: answer ``status`` and close. ``why`` is for tests and
    debugging (the client gets API Gateway's bare ``{"message": ...}``)."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


@dataclass(frozen=True)
class RequestLine:
    method: str
    target: str
    version: str  # as sent: "HTTP/1.1"
    minor: int  # 0 for HTTP/1.0, 1 (or more) for HTTP/1.1


def strip_line_end(line: bytes) -> bytes:
    """A line without its CRLF (or bare LF, RFC 9112 §2.2 MAY); a bare CR anywhere else is
    refused (§2.2: a recipient MUST treat it as invalid or replace it; replacing would let
    another parser see a line break where this one saw none)."""
    if line.endswith(b"\r\n"):
        line = line[:-2]
    elif line.endswith(b"\n"):
        line = line[:-1]
    else:
        raise HeadError(400, "the connection ended in the middle of a line")
    if b"\r" in line:
        raise HeadError(400, "bare CR in the request head (RFC 9112 §2.2)")
    return line


def parse_request_line(line: bytes) -> RequestLine:
    """``method SP request-target SP HTTP-version`` (RFC 9112 §3), line end removed."""
    parts = line.split(b" ")
    if len(parts) != 3:
        # HTTP/0.9's "GET /", extra words, tabs or double spaces: not HTTP/1.x.
        raise HeadError(400, "the request line is not 'METHOD TARGET HTTP/x.y'")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise HeadError(400, "the method is not a token (RFC 9110 §9.1, §5.6.2)")
    found = _VERSION.fullmatch(version)
    if not found:
        raise HeadError(400, "the version is not HTTP/DIGIT.DIGIT (RFC 9112 §2.3)")
    if found.group(1) != b"1":
        raise HeadError(505, "only HTTP/1.x is served")
    if not _TARGET.fullmatch(target):
        raise HeadError(400, "control or non-ASCII bytes in the request target (RFC 9112 §3.2)")
    return RequestLine(
        method.decode("ascii"), target.decode("ascii"), version.decode("ascii"), int(found[2])
    )


def parse_field_line(line: bytes) -> tuple[str, str]:
    """``field-name ":" OWS field-value OWS`` (RFC 9112 §5.1), line end removed."""
    if line[:1] in (b" ", b"\t"):
        # obs-fold (RFC 9112 §5.2): a server MUST reject it or unfold it; rejecting is the
        # only choice that cannot disagree with a parser that does neither.
        raise HeadError(400, "a folded header line (obs-fold, RFC 9112 §5.2)")
    name, colon, value = line.partition(b":")
    if not colon:
        raise HeadError(400, "a header line without a colon (RFC 9112 §5.1)")
    if not _TOKEN.fullmatch(name):
        # Includes whitespace between the name and the colon: RFC 9112 §5.1 MUST 400.
        raise HeadError(400, "a header name that is not a token (RFC 9112 §5.1)")
    value = value.strip(b" \t")
    if not _FIELD_VALUE.fullmatch(value):
        raise HeadError(400, "control characters in a header value (RFC 9110 §5.5)")
    return name.decode("ascii"), value.decode("latin-1")


def parse_chunk_size(line: bytes) -> int:
    """``chunk-size [ chunk-ext ]`` (RFC 9112 §7.1), line end removed: 1-16 hex digits and
    nothing before them; an extension (ignored) after BWS and ``;``."""
    found = _CHUNK_LINE.fullmatch(line)
    if not found:
        raise HeadError(400, "a chunk-size line that is not HEX [;extension] (RFC 9112 §7.1)")
    return int(found[1], 16)


def values_of(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive), in order."""
    wanted = name.lower()
    return [v for k, v in headers if k.lower() == wanted]


def check_host(request: RequestLine, headers: Sequence[tuple[str, str]]) -> None:
    """RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host, to
    any request with more than one Host line, and to a Host with an invalid value."""
    hosts = values_of(headers, "host")
    if len(hosts) > 1:
        raise HeadError(400, "more than one Host header (RFC 9112 §3.2)")
    if not hosts:
        if request.minor >= 1:
            raise HeadError(400, "an HTTP/1.1 request without Host (RFC 9112 §3.2)")
        return
    if not _HOST.fullmatch(hosts[0]):
        raise HeadError(400, "an invalid Host value (RFC 9112 §3.2)")


def content_length(headers: Sequence[tuple[str, str]]) -> int | None:
    """The body length from Content-Length, or None without one.

    Every line and every comma-separated element must be the same 1-18 ASCII digits
    (RFC 9110 §8.6 allows a repeated identical value); anything else makes the framing
    unknowable, which RFC 9112 §6.3 answers with 400 and a closed connection.
    """
    elements = [e.strip(" \t") for v in values_of(headers, "content-length") for e in v.split(",")]
    if not elements:
        return None
    if len(set(elements)) != 1 or not _CONTENT_LENGTH.fullmatch(elements[0]):
        raise HeadError(400, "Content-Length is not one value of 1-18 ASCII digits")
    return int(elements[0])


def transfer_codings(request: RequestLine, headers: Sequence[tuple[str, str]]) -> list[str]:
    """The Transfer-Encoding codings, lower-cased (empty without the header)."""
    values = values_of(headers, "transfer-encoding")
    if not values:
        return []
    if request.minor == 0:
        # RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
        raise HeadError(400, "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)")
    if values_of(headers, "content-length"):
        # Both framings at once is how requests are smuggled (RFC 9112 §6.3).
        raise HeadError(400, "both Content-Length and Transfer-Encoding (RFC 9112 §6.3)")
    return [c.strip(" \t").lower() for c in ",".join(values).split(",")]


def connection_options(headers: Sequence[tuple[str, str]]) -> set[str]:
    """The Connection header's options, lower-cased (RFC 9110 §7.6.1)."""
    return {o.strip(" \t").lower() for v in values_of(headers, "connection") for o in v.split(",")}
