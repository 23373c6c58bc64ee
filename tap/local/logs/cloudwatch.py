"""Local mode's logs, written where AWS puts them: moto's CloudWatch Logs.

The function's lines (its JSON records, EMF lines, print output and the START/END/REPORT
platform lines) go to the function's log group, in one log stream per instance named as
Lambda names it (docs/http-api.md rule 57); each access-log line goes to the stage's
access-log group. So ``aws logs tail --endpoint-url <moto>``, boto3's
``filter_log_events`` and ``tap logs --local`` read them as they would on AWS.

Requests never wait for CloudWatch: a line is put on a queue (no I/O, no lock held while
writing), and one background thread batches what has arrived and puts it, once per stream
per batch, into the moto server's logs backend (``MotoBackendPutLogEvents``: the server's
own HTTP path costs the requests half their throughput, bench_logs.py).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tap.local.logs.sink import Flush, QueueThread

PutEvents = Callable[[str, str, list[dict[str, Any]]], None]
"""(group, stream, events) -> None: one PutLogEvents call; raises when it failed."""

# How often the writer wakes to send what has arrived (the delay before a line shows up in
# `aws logs tail`; AWS's own is a few seconds).
FLUSH_INTERVAL_S = 0.25
# PutLogEvents limits (CloudWatch Logs API reference; docs/http-api.md rule 59): at most
# 10,000 events and 1,048,576 bytes per call, each event counted as its UTF-8 size plus 26
# bytes. One event is kept under 256 KB, CloudWatch's long-standing event size limit.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
# Lambda's default log group for a function (docs/http-api.md rule 20).
DEFAULT_FUNCTION_LOG_GROUP_PREFIX = "/aws/lambda/"


def lambda_log_stream_name(instance_id: str, epoch_s: float, version: str = "$LATEST") -> str:
    """A function instance's log stream, as Lambda names it: ``2026/11/29/[$LATEST]<id>``
    (docs/http-api.md rule 57)."""
    day = time.strftime("%Y/%m/%d", time.gmtime(epoch_s))
    return f"{day}/[{version}]{instance_id}"


def access_log_stream_name(api_id: str, stage: str) -> str:
    # API Gateway's own access-log stream names are not documented; one stream per stage.
    return f"{api_id}_{stage}"


def log_group_from_arn(arn: str) -> str | None:
    """``arn:aws:logs:<region>:<account>:log-group:<name>[:*]`` -> ``<name>``."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    return parts[6]


@dataclass(frozen=True)
class _Line:
    kind: str  # "function" | "access"
    source: str  # the function's name; for access lines, ""
    stream: str | None  # None: the writer picks (the function's default instance stream)
    timestamp_ms: int
    message: str


class CloudWatchLogs(QueueThread[_Line]):
    """Queue log lines and write them to moto's CloudWatch Logs from a background thread.

    ``client_factory()`` returns a boto3 ``logs`` client (called once, in the writer
    thread). Until ``configure`` names the groups, lines wait in the queue, so lines from a
    request served mid-deploy are not lost (nor does ``flush`` return before then). A
    write that fails is counted in ``dropped`` and never reaches the request that logged
    the line.
    """

    def __init__(
        self,
        client_factory: Callable[[], Any],
        *,
        put_events: PutEvents | None = None,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self._put_events = put_events
        self._interval = flush_interval_s
        self._clock = clock
        self._function_groups: dict[str, str] = {}
        self._access_group: str | None = None
        self._access_stream: str | None = None
        self._configured = threading.Event()
        self._default_streams: dict[str, str] = {}
        self._created: set[tuple[str, str]] = set()
        self._pending: list[_Line] = []
        self.dropped = 0
        self.last_error: str | None = None
        self._start_thread("tap-local-cloudwatch")

    # --- the sinks (called on request threads: enqueue only) ---------------------------

    def function_line(
        self,
        function: str,
        line: str,
        *,
        stream: str | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        """One line the function (or Lambda, for platform lines) wrote."""
        when = timestamp_ms if timestamp_ms is not None else int(self._clock() * 1000)
        self._queue.put(_Line("function", function, stream, when, line))

    def __call__(
        self, function: str, request_id: str | None, line: str, kind: str, stream: str
    ) -> None:
        """The LogSink interface (tap.local.logs.sink): every line an instance writes."""
        self.function_line(function, line, stream=stream or None)

    def access_line(self, line: str, *, timestamp_ms: int | None = None) -> None:
        """One rendered access-log line."""
        when = timestamp_ms if timestamp_ms is not None else int(self._clock() * 1000)
        self._queue.put(_Line("access", "", None, when, line))

    def configure(
        self,
        function_groups: Mapping[str, str],
        access_log_group: str | None,
        access_log_stream: str | None = None,
    ) -> None:
        """Name the groups: function name -> its log group, and the stage's access-log
        group (None: the stage keeps no access log, its lines are dropped)."""
        self._function_groups = dict(function_groups)
        self._access_group = access_log_group
        self._access_stream = access_log_stream or "access"
        self._configured.set()

    @property
    def function_groups(self) -> dict[str, str]:
        """Function name -> the log group its lines go to (once configured)."""
        return dict(self._function_groups)

    @property
    def access_group(self) -> str | None:
        return self._access_group

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Line] = []
            flushes: list[Flush] = []
            try:
                item = self._queue.get(timeout=self._interval)
            except queue.Empty:
                if self._pending and self._configured.is_set():
                    with contextlib.suppress(Exception):
                        self._write([], final=False)
                continue
            # Collect for one interval from the first line: one call per stream per
            # interval, however the lines trickle in. A flush or stop ends it early.
            until = time.monotonic() + self._interval
            while True:
                if item is None:
                    stopping = True
                elif isinstance(item, Flush):
                    flushes.append(item)
                else:
                    batch.append(item)
                wait = 0.0 if stopping or flushes else until - time.monotonic()
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
            with contextlib.suppress(Exception):  # the writer must outlive any one failure
                self._write(batch, final=stopping)
            for flush in flushes:
                flush.done.set()

    def _write(self, batch: list[_Line], *, final: bool) -> None:
        lines = self._pending + batch
        self._pending = []
        if not self._configured.is_set() and not final:
            self._pending = lines  # the groups are not known yet
            return
        by_stream: dict[tuple[str, str], list[_Line]] = {}
        for line in lines:
            target = self._target(line)
            if target is None:
                continue
            by_stream.setdefault(target, []).append(line)
        for (group, stream), events in by_stream.items():
            self._put(group, stream, events)

    def _target(self, line: _Line) -> tuple[str, str] | None:
        if line.kind == "access":
            if self._access_group is None or self._access_stream is None:
                return None
            return self._access_group, self._access_stream
        group = self._function_groups.get(
            line.source, DEFAULT_FUNCTION_LOG_GROUP_PREFIX + line.source
        )
        stream = line.stream
        if stream is None:
            stream = self._default_streams.get(line.source)
            if stream is None:
                stream = lambda_log_stream_name(uuid.uuid4().hex, line.timestamp_ms / 1000)
                self._default_streams[line.source] = stream
        return group, stream

    def _logs(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _ensure_stream(self, group: str, stream: str) -> None:
        if (group, stream) in self._created:
            return
        logs = self._logs()
        # Lambda creates its group on first write when the stack did not (rule 20).
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        self._created.add((group, stream))

    def _put(self, group: str, stream: str, lines: list[_Line]) -> None:
        try:
            self._ensure_stream(group, stream)
            for chunk in _chunks([_event(line) for line in lines]):
                if self._put_events is not None:
                    self._put_events(group, stream, chunk)
                else:
                    self._logs().put_log_events(
                        logGroupName=group, logStreamName=stream, logEvents=chunk
                    )
        except Exception as error:  # moto gone, or a bug: count it, keep writing the rest
            self.dropped += len(lines)
            self.last_error = f"{type(error).__name__}: {error}"


def _event(line: _Line) -> dict[str, Any]:
    message = line.message
    if len(message.encode("utf-8")) > MAX_EVENT_BYTES:
        message = message.encode("utf-8")[:MAX_EVENT_BYTES].decode("utf-8", "ignore")
    # An empty message is refused by PutLogEvents; a blank line is still a line.
    return {"timestamp": line.timestamp_ms, "message": message or " "}


def _chunks(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split into PutLogEvents-sized batches, in time order (as the API requires within
    one call), keeping arrival order among equal timestamps."""
    events = sorted(events, key=lambda e: int(e["timestamp"]))
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for event in events:
        event_size = len(str(event["message"]).encode("utf-8")) + EVENT_OVERHEAD_BYTES
        if current and (len(current) >= MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        chunks.append(current)
    return chunks


class MotoBackendPutLogEvents:
    """PutLogEvents straight into the moto server's logs backend, in this process.

    What the server would do with the request, without its per-request cost: moto turns a
    JSON request into a flat parameter map event by event and dispatches it through Flask,
    about 4 ms a call plus ~12 µs an event, all Python, taken from the requests being
    served (one process, one GIL); measured by tests/benchmarks/bench_logs.py. The events
    land in the same backend the server answers ``FilterLogEvents`` and ``aws logs`` from.
    """

    def __init__(self, account_id: str, region: str) -> None:
        self._account_id = account_id
        self._region = region
        self._backend: Any = None

    def __call__(self, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        if self._backend is None:
            from moto.backends import get_backend

            self._backend = get_backend("logs")[self._account_id][self._region]
        self._backend.put_log_events(group, stream, events)
