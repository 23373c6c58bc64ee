"""``python -m tap logs``: one readable line per request, from the stack's two log groups.

Each request's access-log line is joined with its invocation's lines in the function's log
group (tap.local.logs.views).

Works the same against local mode (``--local``: the moto server ``tap local`` wrote its
address to) and a live stack (``--stack S``: its outputs, the caller's AWS credentials).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tap.local.logs.targets import LogsError, live_target, local_target, read, state_file
from tap.local.logs.views import RequestView, render

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_SINCE = "10m"  # as `aws logs tail`
FOLLOW_INTERVAL_S = 2.0
# In --follow, events are re-read this far back: CloudWatch may store an event a little
# after its timestamp, and a request's lines may straddle two polls.
FOLLOW_OVERLAP_MS = 10_000
_SINCE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


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
