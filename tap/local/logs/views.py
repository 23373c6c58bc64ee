"""One view per request: the access log joined with the function's log by request id, and
its rendering as one line (plus, verbose, the function's records).

A request leaves one access-log line (the stage's access-log group) and, when it reached
the function, the invocation's lines in the function's log group: START, the function's
records, END and REPORT. They are joined by request id: the access line's
``integrationRequestId`` is the Lambda request id of START/END/REPORT and the runtime's
JSON records (docs/http-api.md rule 56); without it (an access-log format that omits it), the
function's request line, which logs API Gateway's ``requestId``, sits between the START
and END of its invocation in one log stream (one instance runs one invocation at a time).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

_START = re.compile(r"^START RequestId: (\S+)")
_END = re.compile(r"^END RequestId: (\S+)")
_REPORT = re.compile(r"^REPORT RequestId: (\S+)")
_ERROR_LINE = re.compile(r"^RequestId: (\S+) Error: (.*)")
_TIMEOUT = re.compile(r"^\S+ (\S+) (Task timed out after .*)")


@dataclass(frozen=True)
class LogEvent:
    timestamp_ms: int
    message: str
    stream: str = ""
    event_id: str = ""


@dataclass
class Invocation:
    """One Lambda invocation's lines, from START to REPORT, in one stream."""

    lambda_request_id: str
    records: list[LogEvent] = field(default_factory=list)
    cold: bool = False
    error: str | None = None
    api_request_ids: set[str] = field(default_factory=set)


@dataclass
class RequestView:
    """One request, joined: the access-log line's fields and its invocation's records."""

    timestamp_ms: int
    request_id: str
    method: str
    path: str
    route: str | None
    status: int | None
    latency_ms: int | None
    lambda_request_id: str | None = None
    cold: bool = False
    error: str | None = None
    records: list[LogEvent] = field(default_factory=list)
    access_line: str = ""


def value_or_none(value: Any) -> str | None:
    """An access-log value: API Gateway writes ``-`` for a variable without one."""
    if value is None or value == "-" or value == "":
        return None
    return str(value)


def _int(value: Any) -> int | None:
    text = value_or_none(value)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _json(message: str) -> dict[str, Any] | None:
    if not message.startswith("{"):
        return None
    try:
        value = json.loads(message)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _record_error(record: dict[str, Any]) -> str | None:
    """What went wrong, from one of the function's JSON records, if it says so."""
    message = record.get("message")
    if isinstance(message, dict) and ("errorType" in message or "errorMessage" in message):
        record = message  # the runtime's JSON error record carries the error object
    if "errorType" in record or "errorMessage" in record:  # Lambda's error object
        return f"{record.get('errorType', 'Error')}: {record.get('errorMessage', '')}".strip()
    if str(record.get("level", "")).upper() in ("ERROR", "CRITICAL", "FATAL"):
        message = str(record.get("message", "")).strip()
        return message or "error record"
    return None


class InvocationTracker:
    """Groups a function's lines into invocations as they arrive, stream by stream.

    ``add`` takes lines in the order each stream holds them (CloudWatch returns them by
    timestamp, equal timestamps in stored order; the runtime hands them out as written).
    ``limit`` bounds memory for a long-running console: the oldest invocations go first.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.invocations: dict[str, Invocation] = {}
        self._by_api_id: dict[str, Invocation] = {}
        self._current: dict[str, Invocation | None] = {}
        self._pending: dict[str, list[LogEvent]] = {}  # init lines before a stream's START
        self._limit = limit

    def find(self, lambda_request_id: str | None, api_request_id: str) -> Invocation | None:
        """The invocation behind a request, by either of its ids."""
        found = self.invocations.get(lambda_request_id or "")
        return found or self._by_api_id.get(api_request_id)

    def forget(self, invocation: Invocation) -> None:
        self.invocations.pop(invocation.lambda_request_id, None)
        for api_id in invocation.api_request_ids:
            self._by_api_id.pop(api_id, None)

    def _invocation(self, lambda_request_id: str) -> Invocation:
        found = self.invocations.get(lambda_request_id)
        if found is None:
            found = self.invocations[lambda_request_id] = Invocation(lambda_request_id)
            if self._limit is not None and len(self.invocations) > self._limit:
                self.forget(next(iter(self.invocations.values())))
        return found

    def add(self, event: LogEvent, request_id: str | None = None) -> Invocation | None:
        """Take one line; ``request_id``: its Lambda request id when the source knows it.
        Returns the invocation it joined (None: held until the stream's next START)."""
        text = event.message.rstrip("\n")
        stream = event.stream
        started = _START.match(text)
        if started:
            invocation = self._invocation(started.group(1))
            before = self._pending.pop(stream, [])
            invocation.records.extend(before)
            if any(e.message.startswith("INIT_") for e in before):
                invocation.cold = True  # the instance's INIT_START came first
            invocation.records.append(event)
            self._current[stream] = invocation
            return invocation
        for pattern in (_END, _REPORT):
            matched = pattern.match(text)
            if matched:
                invocation = self._invocation(matched.group(1))
                invocation.records.append(event)
                if pattern is _REPORT:
                    if "Init Duration" in text:
                        invocation.cold = True  # docs/http-api.md rule 57
                    self._current[stream] = None
                return invocation
        return self._attach(event, text, request_id)

    def _attach(self, event: LogEvent, text: str, request_id: str | None) -> Invocation | None:
        record = _json(text)
        target = self._current.get(event.stream)
        if request_id:
            target = self._invocation(request_id)
        failed = _ERROR_LINE.match(text) or _TIMEOUT.match(text)
        if failed and failed.group(1) in self.invocations:
            target = self.invocations[failed.group(1)]
        if record is not None:
            owner = str(record.get("requestId", ""))
            if owner in self.invocations:
                target = self.invocations[owner]
            elif owner and target is not None:
                # The function's own request line logs API Gateway's request id.
                target.api_request_ids.add(owner)
                self._by_api_id[owner] = target
            if target is not None and record.get("ColdStart") in (1, 1.0, True):
                target.cold = True
        if target is None:
            self._pending.setdefault(event.stream, []).append(event)
            return None
        target.records.append(event)
        error = _record_error(record) if record is not None else None
        if failed:
            error = failed.group(2)
        if error and target.error is None:
            target.error = error
        return target


def group_invocations(events: Iterable[LogEvent]) -> InvocationTracker:
    """The function's events, grouped into invocations."""
    tracker = InvocationTracker()
    for event in events:
        tracker.add(event)
    return tracker


def view_of(event: LogEvent, fields: dict[str, Any], invocation: Invocation | None) -> RequestView:
    """One request's view: its access-log line's fields and its invocation, if any."""
    status = _int(fields.get("status"))
    error = value_or_none(fields.get("integrationError")) or (
        None if (status or 0) < 500 else value_or_none(fields.get("errorMessage"))
    )
    view = RequestView(
        timestamp_ms=event.timestamp_ms,
        request_id=str(fields["requestId"]),
        method=value_or_none(fields.get("httpMethod")) or "-",
        path=value_or_none(fields.get("path")) or "-",
        route=value_or_none(fields.get("routeKey")),
        status=status,
        latency_ms=_int(fields.get("responseLatency")),
        access_line=event.message,
    )
    if invocation is not None:
        view.lambda_request_id = invocation.lambda_request_id
        view.cold = invocation.cold
        view.records = invocation.records
        error = invocation.error or error
    view.error = error
    return view


def access_fields(message: str) -> dict[str, Any] | None:
    """An access-log line's fields, when it is a JSON line with a request id."""
    fields = _json(message)
    if fields is None or value_or_none(fields.get("requestId")) is None:
        return None
    return fields


def invoke_view(invocation: Invocation) -> RequestView:
    """A view of an invocation no request led to (``aws lambda invoke``)."""
    return RequestView(
        timestamp_ms=invocation.records[0].timestamp_ms if invocation.records else 0,
        request_id=invocation.lambda_request_id,
        method="INVOKE",
        path="-",
        route=None,
        status=None,
        latency_ms=_report_duration(invocation.records),
        lambda_request_id=invocation.lambda_request_id,
        cold=invocation.cold,
        error=invocation.error,
        records=invocation.records,
    )


def join(access: Iterable[LogEvent], function: Iterable[LogEvent]) -> list[RequestView]:
    """Access-log lines and the function's events -> one view per request, by time.

    Invocations with no access-log line (``aws lambda invoke``) are listed too, as
    ``INVOKE``.
    """
    tracker = group_invocations(function)
    views: list[RequestView] = []
    used: set[str] = set()
    for event in access:
        fields = access_fields(event.message)
        if fields is None:
            continue
        invocation = tracker.find(
            value_or_none(fields.get("integrationRequestId")), str(fields["requestId"])
        )
        if invocation is not None:
            used.add(invocation.lambda_request_id)
        views.append(view_of(event, fields, invocation))
    views.extend(
        invoke_view(invocation)
        for invocation in tracker.invocations.values()
        if invocation.lambda_request_id not in used and invocation.records
    )
    views.sort(key=lambda v: v.timestamp_ms)
    return views


def _report_duration(records: Sequence[LogEvent]) -> int | None:
    for record in records:
        found = re.search(r"\tDuration: ([\d.]+) ms", record.message)
        if record.message.startswith("REPORT") and found:
            return round(float(found.group(1)))
    return None


def format_time(timestamp_ms: int) -> str:
    seconds, millis = divmod(timestamp_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def format_request(
    view: RequestView,
    *,
    with_time: bool = True,
    with_id: bool = True,
    status_text: str | None = None,
) -> str:
    """``2026-11-29T13:00:53.921Z GET /health 200 3 ms [cold] <error>  id=...``."""
    parts = [format_time(view.timestamp_ms)] if with_time else []
    parts.append(view.method)
    parts.append(view.path)
    if status_text is None:
        status_text = str(view.status) if view.status is not None else "-"
    parts.append(status_text)
    parts.append(f"{view.latency_ms} ms" if view.latency_ms is not None else "- ms")
    if view.cold:
        parts.append("[cold]")
    if view.error:
        parts.append(f"error: {view.error}")
    line = " ".join(parts)
    if with_id:
        line += f"  id={view.request_id}"
    return line


def render(views: Iterable[RequestView], *, verbose: bool) -> list[str]:
    lines: list[str] = []
    for view in views:
        lines.append(format_request(view))
        if verbose:
            lines.extend("    " + record.message.rstrip("\n") for record in view.records)
    return lines
