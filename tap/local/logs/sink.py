"""The one interface through which local mode hands out what a function logs.

Every line a function instance writes (``print``, ``logging`` records, the runtime's error
records) and every platform line Lambda itself writes around an invocation (``INIT_START``,
``START``, ``END``, ``REPORT``, ``INIT_REPORT``, "Task timed out ...") reaches a
:class:`LogSink` as one call, in the order the instance produced them. Consumers (the
console printer, a writer to moto's CloudWatch Logs, ``tap logs``) implement ``__call__``;
nothing else in the runtime prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Literal, Protocol

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


def fan_out(sinks: list[LogSink]) -> LogSink | None:
    """One sink that hands each line to every one of ``sinks``; None when there are none."""
    if not sinks:
        return None
    if len(sinks) == 1:
        return sinks[0]

    def sink(function: str, request_id: str | None, line: str, kind: LogKind, stream: str) -> None:
        for each in sinks:
            each(function, request_id, line, kind, stream)

    return sink
