"""``python -m tap logs``: one readable line per request, from the stack's two log groups.

A request leaves one access-log line (the stage's access-log group) and, when it reached
the function, the invocation's lines in the function's log group: START, the function's
records, END and REPORT. They are joined by request id: the access line's
``integrationRequestId`` is the Lambda request id of START/END/REPORT and the runtime's
JSON records (docs/http-api.md rule 56); without it (an older access-log format), the
function's request line, which logs API Gateway's ``requestId``, sits between the START
and END of its invocation in one log stream (one instance runs one invocation at a time).

Works the same against local mode (``--local``: the moto server ``tap local`` wrote its
address to) and a live stack (``--stack S``: its outputs, the caller's AWS credentials).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_SINCE = "10m"  # as `aws logs tail`
FOLLOW_INTERVAL_S = 2.0
# In --follow, events are re-read this far back: CloudWatch may store an event a little
# after its timestamp, and a request's lines may straddle two polls.
FOLLOW_OVERLAP_MS = 10_000
STATE_DIR_NAME = Path(".tap") / "local"  # shared with `tap token` (tap.local.token)
STATE_DIR_ENV = "TAP_STATE_DIR"

_START = re.compile(r"^START RequestId: (\S+)")
_END = re.compile(r"^END RequestId: (\S+)")
_REPORT = re.compile(r"^REPORT RequestId: (\S+)")
_ERROR_LINE = re.compile(r"^RequestId: (\S+) Error: (.*)")
_TIMEOUT = re.compile(r"^\S+ (\S+) (Task timed out after .*)")
_SINCE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class LogsError(Exception):
    """The command cannot run as given; the message says what to do."""


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


# --- filters ----------------------------------------------------------------------------


def parse_since(text: str, now_s: float) -> int:
    """``10m`` / ``2h`` / ``30s`` / ``1d`` / ``1w`` ago, or an ISO 8601 time -> epoch ms."""
    matched = _SINCE.match(text.strip())
    if matched:
        return int((now_s - int(matched.group(1)) * _UNITS[matched.group(2)]) * 1000)
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise LogsError(
            f"--since {text!r} is neither a duration (30s, 10m, 2h, 1d, 1w) nor an ISO 8601 "
            "time (2026-11-29T12:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


def status_matcher(text: str) -> Callable[[int | None], bool]:
    """``5xx``, ``4xx``, ``500``, or several comma-separated -> a predicate on a status."""
    patterns = [p.strip().lower() for p in text.split(",") if p.strip()]
    for pattern in patterns:
        if not re.fullmatch(r"[1-5](xx|\d\d)", pattern):
            raise LogsError(
                f"--status {text!r}: each value must be a status (404) or a class (5xx), "
                "comma-separated"
            )

    def matches(status: int | None) -> bool:
        if status is None:
            return False
        code = str(status)
        return any(code[0] == p[0] and (p[1:] == "xx" or code == p) for p in patterns)

    return matches


@dataclass(frozen=True)
class Filters:
    status: Callable[[int | None], bool] | None = None
    route: str | None = None
    request_id: str | None = None

    def keep(self, view: RequestView) -> bool:
        if self.status is not None and not self.status(view.status):
            return False
        if self.route is not None and (view.route or "") != self.route:
            return False
        return self.request_id is None or self.request_id in (
            view.request_id,
            view.lambda_request_id,
        )


# --- output -----------------------------------------------------------------------------


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


# --- reading the groups -----------------------------------------------------------------


def fetch(logs: Any, group: str, start_ms: int, end_ms: int | None = None) -> list[LogEvent]:
    """Every event of ``group`` from ``start_ms`` (FilterLogEvents, all pages)."""
    events: list[LogEvent] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    if end_ms is not None:
        kwargs["endTime"] = end_ms
    try:
        while True:
            page = logs.filter_log_events(**kwargs)
            events.extend(
                LogEvent(
                    int(e["timestamp"]),
                    str(e["message"]),
                    str(e.get("logStreamName", "")),
                    str(e.get("eventId", "")),
                )
                for e in page.get("events", [])
            )
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = token
    except logs.exceptions.ResourceNotFoundException:
        raise LogsError(f"log group {group!r} does not exist") from None
    # By stream, then time, keeping the stored order among equal timestamps (the join
    # reads each stream in order).
    return sorted(events, key=lambda e: (e.stream, e.timestamp_ms))


@dataclass(frozen=True)
class Target:
    """Where to read: the two group names and a way to get a ``logs`` client."""

    function_groups: tuple[str, ...]
    access_group: str
    client: Callable[[], Any]
    description: str


def state_file(program_dir: Path, stack: str) -> Path:
    """Where ``tap local`` records its moto endpoint, for ``tap logs --local``."""
    base = os.environ.get(STATE_DIR_ENV)
    directory = Path(base) if base else program_dir / STATE_DIR_NAME
    return directory / f"{stack}.json"


def write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def record_local_deploy(path: Path, deployment: Any) -> None:
    """Write where a running ``tap local`` keeps its logs, for ``tap logs --local``."""
    cloudwatch = deployment.cloudwatch
    groups = cloudwatch.function_groups if cloudwatch is not None else {}
    access = cloudwatch.access_group if cloudwatch is not None else None
    write_state(
        path,
        {
            "endpoint_url": deployment.endpoint_url,
            "url": deployment.url,
            "region": deployment.region,
            "account_id": deployment.account_id,
            "stack": deployment.stack,
            "pid": os.getpid(),
            "outputs": deployment.outputs,
            # What local mode writes to, whatever the program names its outputs.
            "function_log_groups": sorted(set(groups.values())),
            "access_log_group": access,
        },
    )


@contextlib.contextmanager
def local_state(program_dir: Path, stack: str, deployment: Any) -> Iterator[Path]:
    """Record the running deploy for ``tap logs --local``; remove the record on exit."""
    path = state_file(program_dir, stack)
    record_local_deploy(path, deployment)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()


def local_target(path: Path, endpoint_url: str | None = None) -> Target:
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        raise LogsError(
            f"no local deploy recorded at {path}: start `python -m tap local` first (or pass "
            "--endpoint-url with the moto URL it prints)"
        ) from None
    except ValueError as error:
        raise LogsError(f"{path} is not valid JSON: {error}") from None
    from tap.local.deploy.motoserver import make_client

    outputs = state.get("outputs", {})
    url = endpoint_url or str(state["endpoint_url"])
    region = str(state.get("region") or outputs.get("region"))
    account = str(state.get("account_id"))
    function_groups = tuple(state.get("function_log_groups") or ()) or (
        _output(outputs, "cloudwatch_log_group", path),
    )
    return Target(
        function_groups=function_groups,
        access_group=state.get("access_log_group")
        or _output(outputs, "api_access_log_group", path),
        client=lambda: make_client("logs", region, url, account),
        description=f"local deploy ({url})",
    )


def _output(outputs: dict[str, Any], name: str, where: object) -> str:
    value = outputs.get(name)
    if not value:
        raise LogsError(f"the stack outputs ({where}) have no {name!r}")
    return str(value)


def stack_outputs(stack: str, cwd: Path) -> dict[str, Any]:
    """A live stack's outputs: TAP_OUTPUTS_FILE if set, else ``pulumi stack output``."""
    outputs_file = os.environ.get("TAP_OUTPUTS_FILE")
    if outputs_file:
        return dict(json.loads(Path(outputs_file).read_text()))
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, the stack name is one argument
            ["pulumi", "stack", "output", "--stack", stack, "--json"],  # noqa: S607
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except FileNotFoundError:
        raise LogsError("the pulumi CLI is not on PATH (or set TAP_OUTPUTS_FILE)") from None
    except subprocess.CalledProcessError as error:
        raise LogsError(
            f"`pulumi stack output --stack {stack}` failed: {error.stderr.strip()}"
        ) from None
    return dict(json.loads(completed.stdout))


def live_target(stack: str, cwd: Path) -> Target:
    outputs = stack_outputs(stack, cwd)
    region = str(outputs.get("region") or "")

    def client() -> Any:
        import boto3  # type: ignore[import-untyped,unused-ignore]

        return boto3.client("logs", region_name=region or None)

    return Target(
        function_groups=(_output(outputs, "cloudwatch_log_group", f"stack {stack}"),),
        access_group=_output(outputs, "api_access_log_group", f"stack {stack}"),
        client=client,
        description=f"stack {stack}",
    )


def read(target: Target, start_ms: int, end_ms: int | None = None) -> list[RequestView]:
    logs = target.client()
    access = fetch(logs, target.access_group, start_ms, end_ms)
    function = [e for g in target.function_groups for e in fetch(logs, g, start_ms, end_ms)]
    return join(access, function)


# --- the command ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap logs",
        description=(
            "One line per request (time, method, path, status, latency, cold start, error) "
            "from the stack's access log joined with the function's log by request id; "
            "-v adds the function's records beneath each."
        ),
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--local",
        action="store_true",
        help="read the running `tap local` deploy (default when no --stack is given)",
    )
    where.add_argument(
        "--stack",
        default=None,
        help="read a live stack's log groups (its outputs from TAP_OUTPUTS_FILE or "
        "`pulumi stack output`), with your AWS credentials",
    )
    parser.add_argument(
        "--local-stack",
        default="local",
        help="with --local: the stack `tap local --stack` deployed (default local)",
    )
    parser.add_argument(
        "--endpoint-url", default=None, help="with --local: the moto URL `tap local` printed"
    )
    parser.add_argument(
        "--since",
        default=DEFAULT_SINCE,
        help=f"how far back: 30s, 10m, 2h, 1d or an ISO time (default {DEFAULT_SINCE})",
    )
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing new requests")
    parser.add_argument("--status", default=None, help="only these statuses: 5xx, 404, 4xx,5xx")
    parser.add_argument("--route", default=None, help='only this route key, e.g. "GET /health"')
    parser.add_argument(
        "--request-id",
        default=None,
        help="only this request (API Gateway's id or the Lambda request id)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="the function's records too")
    parser.add_argument(
        "--program-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the Pulumi project (default: the current directory)",
    )
    return parser


def run(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    max_polls: int | None = None,
) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    args = build_parser().parse_args(_join_values(sys.argv[1:] if argv is None else argv))
    cwd = args.program_dir or Path.cwd()
    try:
        filters = Filters(
            status=status_matcher(args.status) if args.status else None,
            route=args.route,
            request_id=args.request_id,
        )
        start_ms = parse_since(args.since, clock())
        if args.stack is not None:
            target = live_target(args.stack, cwd)
        else:
            target = local_target(state_file(cwd, args.local_stack), args.endpoint_url)
        shown: set[str] = set()
        since = start_ms
        polls = 0
        while True:
            views = read(target, since)
            if args.follow:
                # An invocation whose access line has not been read yet would show as a
                # direct INVOKE: give its access line a few seconds to arrive.
                settled = int(clock() * 1000) - FOLLOW_OVERLAP_MS // 2
                views = [v for v in views if v.method != "INVOKE" or v.timestamp_ms < settled]
            new = [v for v in views if v.request_id not in shown]
            shown.update(v.request_id for v in new)
            _print(out, [v for v in new if filters.keep(v)], args.verbose)
            if not args.follow or (max_polls is not None and polls >= max_polls):
                break
            polls += 1
            sleep(FOLLOW_INTERVAL_S)
            latest = max((v.timestamp_ms for v in views), default=since)
            since = max(start_ms, latest - FOLLOW_OVERLAP_MS)
    except LogsError as error:
        err.write(f"error: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as error:  # botocore's: no credentials, endpoint gone, access denied
        err.write(f"error: could not read the logs: {type(error).__name__}: {error}\n")
        return EXIT_FAILED
    return EXIT_OK


def _join_values(argv: Sequence[str]) -> list[str]:
    """``--request-id -Xyz=`` -> ``--request-id=-Xyz=``: API Gateway's ids are URL-safe
    base64 and may start with ``-``, which argparse would take for an option."""
    joined: list[str] = []
    items = list(argv)
    while items:
        item = items.pop(0)
        if item == "--request-id" and items:
            item = f"{item}={items.pop(0)}"
        joined.append(item)
    return joined


def _print(out: TextIO, views: list[RequestView], verbose: bool) -> None:
    for line in render(views, verbose=verbose):
        out.write(line + "\n")
    out.flush()
