"""Fixtures of local mode's tests: ``server``, a moto server per test module on an account
of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tap.local.deploy.motoserver import MotoServer
from tests.local.builders import fresh_account


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with MotoServer(account_id=fresh_account()) as running:
        yield running
