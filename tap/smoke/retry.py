"""The retry policy: rounds of checks with backoff and jitter until one passes or the
deadline is reached, and the report or the failure it ends with.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tap.smoke.checks import (
    VERIFIED,
    CheckResult,
    not_attempted,
    probes_of,
    run_probe,
    verified_pass,
)
from tap.smoke.inputs import SmokeSpec
from tap.smoke.probe import REQUEST_TIMEOUT_S, new_opener

INITIAL_BACKOFF_S = 1.0
MAX_BACKOFF_S = 16.0
BACKOFF_MULTIPLIER = 2.0


# ---------------------------------------------------------------------------------------
# Retrying until the deadline.


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter between rounds; every wait stops at the deadline."""

    # Pickled by reference inside the provider: existing stack state names tap.smoke.
    __module__ = "tap.smoke"

    initial_backoff_s: float = INITIAL_BACKOFF_S
    max_backoff_s: float = MAX_BACKOFF_S
    multiplier: float = BACKOFF_MULTIPLIER
    request_timeout_s: float = REQUEST_TIMEOUT_S

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        """The wait after failed attempt ``attempt`` (1-based): "equal jitter".

        Half the exponential step is fixed and half random, so waits spread out (no
        lockstep retries) but never collapse to zero (no hammering a warming endpoint).
        """
        step = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** (attempt - 1))
        return step / 2 + step / 2 * rand()


@dataclass(frozen=True)
class SmokeReport:
    passed_at: str
    attempts: int
    latency_ms: int  # the round's requests, each counted once
    checks: tuple[CheckResult, ...]

    @property
    def warnings(self) -> list[str]:
        """The unverified checks' mismatches in the passing round (rule 33)."""
        return [line for check in self.checks for line in check.warnings()]

    def outputs(self) -> dict[str, Any]:
        return {
            "passed_at": self.passed_at,
            "attempts": self.attempts,
            "latency_ms": self.latency_ms,
            "checks": {c.name: c.as_output() for c in self.checks},
            "warnings": self.warnings,
        }


class SmokeCheckFailedError(Exception):
    """The API did not answer as it should before the deadline; the message is the report."""

    def __init__(
        self,
        url: str,
        attempts: int,
        elapsed_s: float,
        deadline_s: float,
        results: Sequence[CheckResult],
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.results = tuple(results)
        # Only verified checks fail a deploy; unverified ones are warnings (rule 33).
        verified = [r for r in self.results if r.kind == VERIFIED]
        failing = [r for r in verified if not r.passed]
        self.failing = tuple(r.name for r in failing)
        lines = [
            f"smoke check of {url} failed: {len(failing)} of {len(verified)} verified checks "
            f"failing after {attempts} attempt{'s' if attempts != 1 else ''} in "
            f"{elapsed_s:.1f} s (deadline {deadline_s:g} s)"
        ]
        for result in failing:
            if not result.attempted:
                lines.append(
                    f"  - {result.name} ({result.request}): not attempted before the deadline"
                )
            for m in result.mismatches:
                lines.append(
                    f"  - {result.name} ({result.request}): expected {m.expected}, got {m.received}"
                )
        super().__init__("\n".join(lines))


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_smoke_check(
    spec: SmokeSpec,
    policy: RetryPolicy | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    now: Callable[[], str] = utc_now,
) -> SmokeReport:
    """Run the checks in rounds until one round passes every verified check, or raise at the
    deadline. The passing round's unverified mismatches are the report's warnings."""
    policy = policy or RetryPolicy()
    probes = probes_of(spec)
    opener = new_opener(spec.url)
    started = clock()
    deadline_at = started + spec.deadline_seconds
    latest: dict[str, CheckResult] = {}
    attempts = 0
    while clock() < deadline_at:
        attempts += 1
        round_results: list[CheckResult] = []
        latency_ms = 0
        sent = 0
        for probe in probes:
            remaining = deadline_at - clock()
            if remaining <= 0:
                break
            timeout = min(policy.request_timeout_s, remaining)
            results = run_probe(spec, probe, timeout, clock, opener)
            sent += 1
            latency_ms += results[0].latency_ms
            latest.update((r.name, r) for r in results)
            round_results.extend(results)
        if sent == len(probes) and verified_pass(round_results):
            return SmokeReport(
                passed_at=now(),
                attempts=attempts,
                latency_ms=latency_ms,
                checks=tuple(round_results),
            )
        remaining = deadline_at - clock()
        if remaining > 0:
            sleep(min(policy.backoff(attempts, rand), remaining))
    results = [
        latest.get(check.name) or check for probe in probes for check in not_attempted(probe)
    ]
    elapsed = clock() - started
    raise SmokeCheckFailedError(spec.url, attempts, elapsed, spec.deadline_seconds, results)
