"""Fixtures for the function's tests."""

from __future__ import annotations

import pytest

from tap.function.handler import App
from tests.function.support import make_app


@pytest.fixture
def lines() -> list[str]:
    """The request lines (EMF documents) the app under test wrote."""
    return []


@pytest.fixture
def app(lines: list[str]) -> App:
    return make_app(lines)
