"""tap/local/heap.py: the collector's threshold raised for `tap local`'s start, and put back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tap.local import heap


@pytest.fixture(autouse=True)
def _collector() -> Iterator[None]:
    before = gc.get_threshold()
    heap._saved = None
    yield
    heap._saved = None
    gc.set_threshold(*before)
    gc.unfreeze()


def test_the_start_raises_the_first_threshold_and_settling_puts_back_the_one_before() -> None:
    gc.set_threshold(1234, 5, 6)  # not CPython's default: what was there, whatever it was

    heap.raise_threshold_for_start()
    assert gc.get_threshold() == (heap.STARTUP_GC_THRESHOLD, 5, 6)
    heap.raise_threshold_for_start()  # twice: still remembers the first one
    heap.settle_after_start()

    assert gc.get_threshold() == (1234, 5, 6)
    assert gc.get_freeze_count() > 0


def test_settling_without_a_raised_threshold_leaves_it_alone() -> None:
    gc.set_threshold(900, 11, 12)

    heap.settle_after_start()

    assert gc.get_threshold() == (900, 11, 12)


def test_a_local_start_that_fails_puts_the_threshold_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tap.__main__ import main

    gc.set_threshold(1234, 5, 6)

    with pytest.raises(SystemExit) as raised:  # argparse refuses it before any deploy
        main(["local", "--no-such-option"])

    assert raised.value.code == 2

    assert gc.get_threshold() == (1234, 5, 6)
    assert "--no-such-option" in capsys.readouterr().err
