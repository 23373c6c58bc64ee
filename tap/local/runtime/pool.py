"""A function's instances, scaled as Lambda scales them (docs/http-api.md rule 53).

Each concurrent invocation runs on its own instance: an idle one when there is one (warm),
else a new one (a cold start: its own process, ``INIT_START``, ``Init Duration`` on its
first ``REPORT``). Past the function's reserved concurrency Lambda refuses the invocation
with 429 TooManyRequestsException (rule 50); past local mode's own cap
(``max_instances``, the machine's CPU count by default: not a Lambda limit) the invocation
waits for an instance to come free, until the caller's deadline.

``retire()`` is how a swap (a redeploy, the end of a deploy, a hot reload) replaces what
is served without failing a request: the pool takes no part in new requests once the
emulator serves its successor, invocations in flight finish on their instances, and each
instance is closed as soon as it is idle.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tap.local.logs.sink import LogSink
from tap.local.runtime.instance import BUILTIN, Instance, Worker, extract, remove
from tap.local.runtime.invocation import MAX_PAYLOAD_BYTES, Invocation

if TYPE_CHECKING:
    from tap.local.specs import FunctionSpec


def default_max_instances() -> int:
    return max(1, os.cpu_count() or 1)


class FunctionPool:
    """Invoke one function on as many instances as its concurrency needs."""

    def __init__(
        self,
        spec: FunctionSpec,
        sink: LogSink,
        *,
        worker: Worker = BUILTIN,
        max_instances: int | None = None,
    ) -> None:
        self.spec = spec
        self.worker = worker
        self.max_instances = max_instances or default_max_instances()
        self._sink = sink
        self._cond = threading.Condition()
        self._idle: list[Instance] = []  # most recently used last: reused first
        self._live: set[Instance] = set()
        self._starting = 0
        self._busy = 0
        self._retired = False
        self._closed = False
        self._code_dir: Path | None = None
        self._code_lock = threading.Lock()
        self.cold_starts = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def instances(self) -> int:
        """How many instances are alive or starting now."""
        with self._cond:
            return len(self._live) + self._starting

    def invoke(self, event: dict[str, Any], deadline: float) -> Invocation:
        """Run the handler on ``event``; give up at ``deadline`` (a time.monotonic()).

        The deadline (the integration timeout) counts from the caller's start and includes
        waiting for an instance and its cold start; the function's own timeout counts from
        the moment its handler is called.
        """
        data = json.dumps(event).encode()
        if len(data) > MAX_PAYLOAD_BYTES:  # rule 14
            return Invocation("too_large", error_message="Request payload too large")
        acquired = self._acquire(deadline)
        if isinstance(acquired, Invocation):
            return acquired
        instance, cold = acquired
        try:
            if cold:
                failed = instance.init(deadline)
                if failed is not None:
                    return failed
            return instance.invoke(data, deadline)
        finally:
            self._release(instance)

    def check(self, deadline: float) -> Invocation | None:
        """Start one instance and let it initialize, without invoking it; None when it is
        ready. The instance then serves like any other."""
        acquired = self._acquire(deadline)
        if isinstance(acquired, Invocation):
            return acquired
        instance, cold = acquired
        try:
            return instance.init(deadline) if cold else None
        finally:
            self._release(instance)

    def _acquire(self, deadline: float) -> tuple[Instance, bool] | Invocation:
        with self._cond:
            while True:
                if self._closed:
                    return Invocation("crash", error_message="The emulator is stopping")
                reserved = self.spec.reserved_concurrency
                if reserved is not None and self._busy >= reserved:
                    # Rule 50: Lambda refuses at once, it does not queue.
                    return Invocation(
                        "throttled",
                        error_type="TooManyRequestsException",
                        error_message="Rate Exceeded.",
                    )
                if self._idle:
                    self._busy += 1
                    return self._idle.pop(), False
                if len(self._live) + self._starting < self.max_instances:
                    self._busy += 1
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return Invocation(
                        "deadline", error_message="Timed out waiting for a free instance"
                    )
                self._cond.wait(remaining)
        try:
            instance = Instance(self.spec, self._code(), self.worker, self._sink)
        except BaseException:
            with self._cond:
                self._busy -= 1
                self._starting -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            self._starting -= 1
            self._live.add(instance)
            self.cold_starts += 1
            if self.closed:
                instance.dead = True  # stop() came while it started: never serve it
        return instance, True

    def _release(self, instance: Instance) -> None:
        with self._cond:
            self._busy -= 1
            keep = not (instance.dead or self._retired or self._closed)
            if keep:
                self._idle.append(instance)
            else:
                self._live.discard(instance)
            last = not self._live and self._starting == 0 and (self._retired or self._closed)
            self._cond.notify_all()
        if not keep:
            instance.close()
        if last:
            self._remove_code()

    def _code(self) -> Path:
        with self._code_lock:
            if self._code_dir is None:
                self._code_dir = extract(self.spec)
            return self._code_dir

    def _remove_code(self) -> None:
        # Under the code lock, and only when no instance lives or is starting: a request
        # that still reaches a retired pool may be starting an instance in this folder.
        with self._code_lock:
            with self._cond:
                in_use = bool(self._live) or self._starting > 0
            if self._code_dir is not None and not in_use:
                remove(self._code_dir)
                self._code_dir = None

    def retire(self) -> None:
        """Serve no more new requests (the caller stops routing to this pool); close idle
        instances now and busy ones when their invocation ends."""
        with self._cond:
            self._retired = True
            idle, self._idle = self._idle, []
            self._live.difference_update(idle)
            last = not self._live and self._starting == 0
        for instance in idle:
            instance.close()
        if last:
            self._remove_code()

    def close(self) -> None:
        """Kill every instance, busy or not (the emulator is stopping). Idempotent."""
        with self._cond:
            self._closed = True
            live, self._idle = list(self._live), []
            self._live.clear()
            self._cond.notify_all()
        # Side by side: each close waits for its process to exit.
        closers = [threading.Thread(target=instance.close, daemon=True) for instance in live]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join()
        self._remove_code()
