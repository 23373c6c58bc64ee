"""tap/text.py: what an error message may repeat of a value."""

from __future__ import annotations

import json

import pytest

from tap.text import MAX_QUOTED_CHARS, escape, excerpt, json_too_deep, quote


def test_a_short_string_is_quoted_whole() -> None:
    assert quote("abc") == "'abc'"


def test_a_long_string_shows_its_start_and_says_how_long_it_was() -> None:
    shown = quote("x" * 10_000_000)

    assert shown == f"'{'x' * MAX_QUOTED_CHARS}'... (10,000,000 characters in all)"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("\x1b[31mred\x07", "\\x1b[31mred\\x07"),  # ANSI escape and BEL
        ("a\r\nb", "a\\r\\nb"),
        ("\u202eevil", "\\u202eevil"),  # a bidi override reverses what follows
        ("\x00", "\\x00"),
        ("\ud800", "\\ud800"),  # a lone surrogate
        ("\U000e0001", "\\U000e0001"),  # a format character beyond U+FFFF
    ],
)
def test_control_characters_are_escaped(raw: str, escaped: str) -> None:
    assert escaped in quote(raw)
    assert escape(raw) == escaped
    assert all(c.isprintable() for c in quote(raw * 500))
    assert all(c.isprintable() for c in excerpt(raw * 500))


def test_printable_text_is_kept_as_it_is() -> None:
    assert escape("héllo wörld ✓") == "héllo wörld ✓"


def test_excerpt_is_unquoted_and_bounded() -> None:
    assert excerpt("HTTP/1.1 200 OK") == "HTTP/1.1 200 OK"
    long = "a" * 241_121
    assert excerpt(long) == "a" * MAX_QUOTED_CHARS + "... (241,121 characters in all)"


def test_bytes_are_quoted_as_bytes() -> None:
    assert quote(b"\x1b]0;x\x07") == repr(b"\x1b]0;x\x07")
    assert quote(b"y" * 1000).endswith("... (1,000 bytes in all)")


def test_other_values_are_json_and_bounded() -> None:
    assert quote(["a", 1, True, None]) == '["a", 1, true, null]'
    shown = quote(list(range(100_000)))
    assert shown.startswith("[0, 1, 2")
    assert shown.endswith(" characters in all)")
    assert len(shown) < 2 * MAX_QUOTED_CHARS


def test_a_value_too_deep_for_json_is_still_shown_bounded() -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]

    shown = quote(deep)

    assert shown.startswith("[[[")
    assert len(shown) < 2 * MAX_QUOTED_CHARS


# --- json_too_deep ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * 1000 + "]" * 1000, False),  # exactly the limit
        ("[" * 1001 + "]" * 1001, True),
        ("[" * 3000, True),  # unclosed: refused before json reads it
        ('{"a":' * 1001 + "1" + "}" * 1001, True),
        ("[" + "[]," * 5000 + "[]]", False),  # many brackets, shallow
        ('["' + "[" * 5000 + '"]', False),  # brackets inside a string do not count
        ('["\\"' + "[" * 5000 + '"]', False),  # an escaped quote does not end the string
        ('["\\\\"' + ", [" * 1001 + "]" * 1001 + "]", True),  # an escaped backslash does not
        ("", False),
    ],
)
def test_json_too_deep(text: str, too_deep: bool) -> None:
    assert json_too_deep(text) is too_deep


def test_json_too_deep_passes_what_json_reads() -> None:
    for depth in (1, 10, 500):
        text = "[" * depth + "]" * depth
        assert not json_too_deep(text)
        assert json.loads(text) is not None
