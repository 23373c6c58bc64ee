"""The garbage collector while ``tap local`` starts, both halves in one place.

Local mode imports moto, boto3 and pulumi (a heap of long-lived objects) and deploys: the
collector's young-generation passes over that heap were about a tenth of the start
(profiled). ``tap/__main__.py`` raises the first threshold before that import; the CLI,
once the deploy is done, freezes what it loaded (the collector need not walk it again, while
serving or at exit, where walking it made Ctrl-C take 1.5 s more, profiled) and puts back
the threshold that was there before, whatever it was (CPython 3.13's default is 2000, earlier
versions' 700); a start that ends before its deploy is done gets it back from
``tap/__main__.py``. Standard library only: imported before anything heavy.
"""

from __future__ import annotations

import gc

STARTUP_GC_THRESHOLD = 50_000
_saved: tuple[int, int, int] | None = None


def raise_threshold_for_start() -> None:
    """Raise the first generation's threshold, remembering the one in place (once)."""
    global _saved
    if _saved is None:
        _saved = gc.get_threshold()
    gc.set_threshold(STARTUP_GC_THRESHOLD, *_saved[1:])


def restore_threshold() -> None:
    """Put back the threshold raised for the start, if it still is (a start that failed)."""
    global _saved
    if _saved is not None:
        gc.set_threshold(*_saved)
        _saved = None


def settle_after_start() -> None:
    """Freeze the heap built so far and put back the threshold raised for the start."""
    gc.freeze()
    restore_threshold()
