"""What ``tap local`` prints while it serves: one line per request.

``GET /health 200 3 ms [cold]`` by default (an error's summary appended when there was
one); with ``-v`` the function's records beneath it (START, its own lines, END, REPORT).
The function's lines and the access-log line of a request are joined as ``tap logs``
joins them (tap.local.logs.tail), on a thread of its own: requests never wait for the console.
Until ``release()`` (called once the deploy's own output and "Serving on" are printed),
lines are held, so no request line lands in the middle of the resource table.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tap.local.logs.sink import Flush, QueueThread
from tap.local.logs.views import (
    InvocationTracker,
    LogEvent,
    RequestView,
    access_fields,
    format_request,
    invoke_view,
    value_or_none,
    view_of,
)

# How many invocations the console remembers while waiting for their access-log line (a
# request that never reaches the function has none; direct invokes have no access line).
_REMEMBERED_INVOCATIONS = 1_000


@dataclass(frozen=True)
class _FunctionLine:
    function: str
    request_id: str | None
    line: str
    stream: str
    at_ms: int


@dataclass(frozen=True)
class _AccessLine:
    line: str
    at_ms: int


@dataclass(frozen=True)
class _Invoked:
    function: str
    request_id: str
    status: str


_Line = _FunctionLine | _AccessLine | _Invoked
_Item = _Line | Flush | None


class ConsoleLog(QueueThread[_Line]):
    """Turn the function's lines and the access log into one console line per request.

    A LogSink (tap.local.logs.sink) for the function's lines; ``access_line`` for the
    access log; ``invoked`` for a direct ``Invoke`` through moto (no access line).
    """

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        verbose: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._write = write
        self._verbose = verbose
        self._clock = clock
        self._tracker = InvocationTracker(limit=_REMEMBERED_INVOCATIONS)
        self._held: list[str] | None = []
        self._held_lock = threading.Lock()
        self._start_thread("tap-local-console")

    # --- inputs (any thread; enqueue only) --------------------------------------------

    def __call__(
        self, function: str, request_id: str | None, line: str, kind: str, stream: str
    ) -> None:
        # Without a stream (the plain callback), one per function: one instance each.
        at = int(self._clock() * 1000)
        self._queue.put(_FunctionLine(function, request_id, line, stream or function, at))

    def function_line(self, function: str, line: str) -> None:
        """The plain ``(function name, line)`` callback."""
        self(function, None, line, "function", "")

    def access_line(self, line: str) -> None:
        self._queue.put(_AccessLine(line, int(self._clock() * 1000)))

    def invoked(self, function: str, request_id: str, status: str) -> None:
        """A direct invocation (``aws lambda invoke``) finished; ``status`` e.g. ``200``
        or ``200 Unhandled``."""
        self._queue.put(_Invoked(function, request_id, status))

    def release(self) -> None:
        """Print what was held, and print from now on as lines come."""
        with self._held_lock:
            held, self._held = self._held or [], None
        for text in held:
            self._write(text)

    # --- the console thread -----------------------------------------------------------

    def _emit(self, lines: Iterable[str]) -> None:
        with self._held_lock:
            if self._held is not None:
                self._held.extend(lines)
                return
        for text in lines:
            self._write(text)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._handle(item)
            except Exception as error:  # a console bug must not stop the console
                self._emit([f"[console] could not show a log line: {error!r}"])

    def _handle(self, item: _Item) -> None:
        if isinstance(item, Flush):
            item.done.set()
        elif isinstance(item, _FunctionLine):
            event = LogEvent(item.at_ms, item.line, item.stream)
            self._tracker.add(event, item.request_id)
        elif isinstance(item, _AccessLine):
            self._access(item)
        elif isinstance(item, _Invoked):
            invocation = self._tracker.invocations.get(item.request_id)
            if invocation is None:
                self._emit([f"INVOKE {item.function} {item.status}"])
                return
            self._tracker.forget(invocation)
            view = invoke_view(invocation)
            view.path = item.function
            self._emit(self._lines(view, invoke_status=item.status))

    def _access(self, item: _AccessLine) -> None:
        fields = access_fields(item.line)
        if fields is None:  # a stage format that is not JSON: show it as it is
            self._emit([item.line])
            return
        event = LogEvent(item.at_ms, item.line, "access")
        invocation = self._tracker.find(
            value_or_none(fields.get("integrationRequestId")), str(fields["requestId"])
        )
        if invocation is not None:
            self._tracker.forget(invocation)
        self._emit(self._lines(view_of(event, fields, invocation)))

    def _lines(self, view: RequestView, invoke_status: str | None = None) -> list[str]:
        # A direct invoke shows Lambda's answer (e.g. "200 Unhandled"), not an HTTP status.
        text = format_request(
            view, with_time=False, with_id=self._verbose, status_text=invoke_status
        )
        lines = [text]
        if self._verbose:
            lines.extend("    " + record.message.rstrip("\n") for record in view.records)
        return lines


def runtime_note(runtimes: Iterable[str], version: tuple[int, int] | None = None) -> str | None:
    """One line when the function's configured runtime is not the Python running it."""
    major, minor = version or sys.version_info[:2]
    local = f"python{major}.{minor}"
    differing = sorted({r for r in runtimes if r and r != local})
    if not differing:
        return None
    return (
        f"note: the function's runtime is {', '.join(differing)}; local mode runs it on "
        f"Python {major}.{minor} (this interpreter), so version-specific behaviour may differ"
    )
