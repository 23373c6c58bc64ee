"""Where `tap logs` reads: the running `tap local` (the state file it writes) or a live
stack (its outputs), and reading a log group's events.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tap.local.logs.views import LogEvent, RequestView, join

STATE_DIR_NAME = Path(".tap") / "local"  # shared with `tap token` (tap.local.token)
STATE_DIR_ENV = "TAP_STATE_DIR"


class LogsError(Exception):
    """The command cannot run as given; the message says what to do."""


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
