"""The one interface through which local mode hands out what a function logs.

Every line a function instance writes (``print``, ``logging`` records, the runtime's error
records) and every platform line Lambda itself writes around an invocation (``INIT_START``,
``START``, ``END``, ``REPORT``, ``INIT_REPORT``, "Task timed out ...") reaches a
:class:`LogSink` as one call, in the order the instance produced them. Consumers (the
console printer, a writer to moto's CloudWatch Logs, ``tap logs``) implement ``__call__``;
nothing else in the runtime prints. A consumer that does I/O hands the lines to a thread of
its own through a :class:`QueueThread`, so no request waits for it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Generic, Literal, Protocol, TypeVar

LogKind = Literal["function", "platform", "emulator"]
"""``function``: a line the function's code or its runtime client wrote (already filtered
by the function's application log level, as Lambda filters it); ``platform``: a line
Lambda's platform writes (START, END, REPORT, INIT_START, INIT_REPORT, timeouts, runtime
exits); ``emulator``: a note from local mode itself (e.g. a malformed proxy result)."""


class LogSink(Protocol):
    def __call__(
        self,
        function: str,
        request_id: str | None,
        line: str,
        kind: LogKind,
        stream: str,
    ) -> None:
        """One log line of ``function``.

        :param request_id: the Lambda request id the line belongs to, ``None`` during init.
        :param line: the text as Lambda would store it in CloudWatch Logs (no newline).
        :param stream: the instance's log stream name (one per instance, as on Lambda).
        """


def from_line_callback(callback: Callable[[str, str], None]) -> LogSink:
    """Adapt a plain ``(function name, line)`` callback to a LogSink."""

    def sink(function: str, request_id: str | None, line: str, kind: LogKind, stream: str) -> None:
        callback(function, line)

    return sink


def safe(sink: LogSink | None) -> LogSink:
    """A sink that never raises into the runtime: a failing consumer must not fail an
    invocation."""

    def call(function: str, request_id: str | None, line: str, kind: LogKind, stream: str) -> None:
        if sink is not None:
            with contextlib.suppress(Exception):
                sink(function, request_id, line, kind, stream)

    return call


def fan_out(sinks: Iterable[LogSink | None]) -> LogSink | None:
    """One sink that hands each line to every one of ``sinks`` (a None is skipped); None
    when there are none."""
    present = [sink for sink in sinks if sink is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]

    def sink(function: str, request_id: str | None, line: str, kind: LogKind, stream: str) -> None:
        for each in present:
            each(function, request_id, line, kind, stream)

    return sink


class Flush:
    """Put on a QueueThread's queue: ``done`` is set once what was queued before it is
    handled."""

    def __init__(self) -> None:
        self.done = threading.Event()


Item = TypeVar("Item")


class QueueThread(Generic[Item]):
    """A consumer's queue and the one daemon thread that empties it (the subclass's
    ``_run``: a ``Flush`` is set once handled, ``None`` stops it). Callers only enqueue."""

    def _start_thread(self, name: str) -> None:
        self._queue: queue.SimpleQueue[Item | Flush | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued before this call is handled; False on timeout."""
        marker = Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        """Handle what is queued, then stop the thread. Idempotent."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout_s)
