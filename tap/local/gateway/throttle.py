"""API Gateway's request throttling: a token bucket per stage (docs/http-api.md rule 52).

The bucket holds ``burst`` tokens and refills at ``rate`` tokens per second; each request
takes one, and a request that finds none is answered 429 (rule 13). The clock is
injectable so tests step time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Rule 13: the account-level default when a stage sets neither limit.
ACCOUNT_RATE_LIMIT = 10_000.0
ACCOUNT_BURST_LIMIT = 5_000


class TokenBucket:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate < 0 or burst < 0:
            raise ValueError(f"rate ({rate}) and burst ({burst}) must be >= 0")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take one token if there is one; False means throttle this request."""
        if self.rate <= 0 or self.burst < 1:
            return False  # rule 13: a limit of 0 refuses every request
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._last)
            self._last = now
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


def stage_bucket(
    burst: int | None, rate: float | None, clock: Callable[[], float] = time.monotonic
) -> TokenBucket:
    """The bucket for a stage's default route settings. Neither set: the account default;
    only one set: the other is 0, and every request is throttled (rule 13)."""
    if burst is None and rate is None:
        return TokenBucket(ACCOUNT_RATE_LIMIT, ACCOUNT_BURST_LIMIT, clock)
    return TokenBucket(float(rate or 0.0), int(burst or 0), clock)
