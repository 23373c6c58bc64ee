"""Hypothesis profiles, chosen by HYPOTHESIS_PROFILE (tox sets `dev`, CI sets `ci`), and the
mutation run's test-to-function map (see `mutation_stats_hits` below).

`ci` is sized for a 2-core runner that runs the suite on four Pythons within its time
budget: a stack build under mocks takes a few hundred milliseconds, so properties that build
the stack use a fraction of max_examples (see tests/property/). `nightly` is the scheduled
run (.github/workflows/mutation.yml): random, so it sees inputs `ci` never generates, and
larger; a failure prints the blob that reproduces it.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
)
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: a CI failure reproduces locally
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=1000,
    deadline=None,
    derandomize=False,
    database=None,  # nothing carried over from an earlier run: each run is its own sample
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# mutmut (tox -e mutation) first runs every test once with its trampolines recording which
# functions each test calls, and later runs, for each mutant, only the tests that called
# the mutated function. It credits a call to the test being torn down, so the calls made
# while a module- or session-scoped fixture is built go to the first test that used it, and
# the other tests that read the fixture's result would never run against a mutant. These
# hooks remember the calls made during each such fixture's setup and credit them to every
# test that uses the fixture; and the calls made while the test modules are imported
# (tap's import-time code: the config keys' readers, the README's shown defaults) to every
# test, since every test runs on what they built. They only act during the recording run.
_fixture_hits: dict[Any, set[str]] = {}
_import_hits: set[str] = set()


def _mutmut_recording() -> bool:
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, None, None]:
    if fixturedef.scope == "function" or not _mutmut_recording():
        yield
        return
    from mutmut.state import state

    earlier = set(state()._stats)
    state()._stats.clear()
    try:
        yield
    finally:
        _fixture_hits[fixturedef] = set(state()._stats)
        state()._stats.update(earlier)


def pytest_collection_finish(session: pytest.Session) -> None:
    if not _mutmut_recording():
        return
    from mutmut.state import state

    _import_hits.update(state()._stats)
    state()._stats.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if not _mutmut_recording():
        return
    from mutmut.state import state

    state()._stats.update(_import_hits)
    for defs in item._fixtureinfo.name2fixturedefs.values():  # type: ignore[attr-defined]
        for fixturedef in defs:
            state()._stats.update(_fixture_hits.get(fixturedef, ()))


# mutmut's own values of MUTANT_UNDER_TEST; anything else names a mutant being tested.
_MUTMUT_PHASES = {"", "stats", "fail", "list_all_tests", "mutant_generation"}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Under the fork server (setup.cfg [mutmut]; tests/mutation/run.py's second pass) each
    # mutant's process imports tap afresh, so a mutant in import-time code can make a test
    # module fail to import. pytest calls that an
    # interrupted session (exit 2), which mutmut would not count as killed; but a test
    # module that cannot import with the mutant caught it, as a failing test does.
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if (
        mutant not in _MUTMUT_PHASES
        and exitstatus == pytest.ExitCode.INTERRUPTED
        and session.testsfailed
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
