"""Repeating input in an error message, safely: bounded, one line, control characters escaped.

Every error that quotes a value it was given (a config value, a header or status line a
server sent, a property in a policy check) goes through ``quote`` or ``excerpt``, so that a
10 MB value cannot write 10 MB to a terminal or a log, and a value holding ANSI escapes,
BEL, CR or a bidi override cannot rewrite what the reader sees. The message says how long
the original was whenever it shows only part of it.

Standard library only, and nothing from the rest of ``tap``: the config, the smoke check
(un-dilled by the deploy-time host), the policy pack and the local emulator all import it.
The Lambda function (``tap/function``) stands alone and does not.
"""

from __future__ import annotations

import json
import re
import reprlib

# How much of a value an error message shows: enough to recognise it, never the whole of
# a hostile one.
MAX_QUOTED_CHARS = 200

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# For values json cannot write (nested too deeply, not JSON data): bounded in depth and width.
_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = MAX_QUOTED_CHARS
_REPR.maxother = MAX_QUOTED_CHARS


def _escape_char(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\x1b``, ``\\n``, ``\\u202e``).

    Non-printable is ``str.isprintable``'s meaning: control and format characters, line and
    paragraph separators, surrogates, unassigned code points and every space but " ".
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape_char(c) for c in text)


def excerpt(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """Free text from outside (an exception's message, a status line) as one safe line: at
    most ``limit`` characters of it, escaped, and its full length when it was cut."""
    if len(text) <= limit:
        return escape(text)
    return f"{escape(text[:limit])}... ({len(text):,} characters in all)"


def quote(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """A value an error repeats: a string as Python writes it (``'abc'``), bytes as
    ``b'...'``, anything else as JSON (``["a", 1]``, ``true``); at most ``limit`` characters
    of the original, control characters escaped, and its full length when it was cut.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value):,} characters in all)"
    if isinstance(value, bytes | bytearray):
        if len(value) <= limit:
            return repr(bytes(value))
        return f"{bytes(value[:limit])!r}... ({len(value):,} bytes in all)"
    try:
        text = json.dumps(value)  # ASCII: every control or non-ASCII character escaped
    except (ValueError, TypeError, RecursionError):
        text = _REPR.repr(value)
    if len(text) <= limit:
        return escape(text)
    return f"{escape(text[:limit])}... ({len(text):,} characters in all)"


# How deep a JSON document from outside may nest before it is refused unread. json's own
# limit differs between Pythons: up to 3.12 it raises RecursionError near the interpreter's
# recursion limit (about 1,000 levels), while 3.13's decoder reads 3,000 levels and fails
# further on, so code that relied on RecursionError alone answered differently per version.
MAX_JSON_DEPTH = 1000

# A backslash and the character it escapes, a quote, or a bracket: all that nesting needs.
_JSON_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``text`` nests arrays and objects more than ``limit`` deep
    (brackets inside strings do not count). Linear in the text, and stops as soon as it
    knows; a text with no more than ``limit`` brackets is answered without a scan."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string = 0, False
    for match in _JSON_STRUCTURE.finditer(text):
        part = match.group()
        if part == '"':
            in_string = not in_string
        elif in_string or len(part) == 2:
            continue
        elif part in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
