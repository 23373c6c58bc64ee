"""The request-head parser's rules, one function each (tap.local.gateway.http1; RFC 9112,
docs/http-api.md rules 40-42), without a server: what the emulator refuses and why is in
test_emulator_malformed.py."""

from __future__ import annotations

import pytest

from tap.local.gateway import http1


@pytest.mark.parametrize(
    "value",
    ["²", "٥", "５", "+5", "-5", " ", "", "5 5", "1_0", "0x5", "5.0", "1" * 19, "5\u00a0"],
)
def test_content_length_takes_ascii_digits_only(value: str) -> None:
    with pytest.raises(http1.HeadError) as raised:
        http1.content_length([("Content-Length", value)])
    assert raised.value.status == 400


@pytest.mark.parametrize(("value", "length"), [("0", 0), ("5", 5), ("1" * 18, int("1" * 18))])
def test_content_length_of_1_to_18_digits(value: str, length: int) -> None:
    assert http1.content_length([("content-length", value)]) == length
    assert http1.content_length([("content-length", f"{value}, {value}")]) == length
    assert http1.content_length([]) is None
