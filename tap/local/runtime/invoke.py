"""Lambda's ``Invoke`` against local mode's moto runs the function on the emulator's worker.

moto's own ``Invoke`` runs functions in Docker (``error running docker`` without it). Local
mode already runs each function the way Lambda does, so the moto server routes ``POST
/2015-03-31/functions/<name>/invocations`` for a function the emulator serves to that
function instead (tap.local.deploy.motoserver calls ``LambdaInvoker``); anything else (another
function, a version qualifier) still goes to moto. The answers follow Lambda's Invoke API
(docs/http-api.md rule 58).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tap.local.gateway.emulator import Emulator
    from tap.local.runtime.invocation import Invocation

InvokeAnswer = tuple[int, list[tuple[str, str]], bytes]
"""(HTTP status, headers, body) of an Invoke answer."""

# What an invocation may wait for an instance and its init, on top of the function's
# own timeout (Lambda gives init 10 s on demand).
_INIT_ALLOWANCE_S = 10.0
_JSON = ("Content-Type", "application/json")
# LogType=Tail returns the last 4 KB of the invocation's log (docs/http-api.md rule 58).
TAIL_BYTES = 4096
_MAX_CAPTURED_LINES = 10_000


def function_name(name_or_arn: str) -> tuple[str, str | None]:
    """``name``, ``arn:aws:lambda:r:a:function:name[:qualifier]`` or ``a:function:name``
    -> (name, qualifier in the ARN or None)."""
    parts = name_or_arn.split(":")
    if "function" in parts:
        index = parts.index("function")
        rest = parts[index + 1 :]
        if rest:
            return rest[0], (rest[1] if len(rest) > 1 else None)
    return name_or_arn, None


def _error(status: int, error_type: str, message: str) -> InvokeAnswer:
    body = json.dumps({"Type": "User", "message": message}).encode()
    return status, [_JSON, ("x-amzn-ErrorType", error_type)], body


class LambdaInvoker:
    """Answer Invoke for the functions ``emulator`` serves; None: let moto answer.

    Also a LogSink (tap.local.logs.sink): while a ``LogType=Tail`` invocation runs, it keeps
    the lines by request id, for ``X-Amz-Log-Result``; otherwise a line costs one check.
    """

    def __init__(
        self,
        emulator: Emulator | None = None,
        on_invoked: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.emulator = emulator  # set once the emulator exists (see deploy)
        self._on_invoked = on_invoked
        self._tailing = 0
        self._captured: dict[str, list[str]] = {}
        self._captured_count = 0
        self._lock = threading.Lock()

    def log_line(
        self, function: str, request_id: str | None, line: str, kind: str, stream: str
    ) -> None:
        if not self._tailing or not request_id:
            return
        with self._lock:
            if self._tailing and self._captured_count < _MAX_CAPTURED_LINES:
                self._captured.setdefault(request_id, []).append(line)
                self._captured_count += 1

    def __call__(
        self, name_or_arn: str, qualifier: str | None, body: bytes, headers: Mapping[str, str]
    ) -> InvokeAnswer | None:
        name, arn_qualifier = function_name(name_or_arn)
        qualifier = qualifier or arn_qualifier
        if qualifier not in (None, "$LATEST") or self.emulator is None:
            return None  # only $LATEST runs locally; moto answers for versions and aliases
        pool = self.emulator.pool(name)
        if pool is None:
            return None
        spec = pool.spec
        invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            return _error(
                400,
                "InvalidParameterValueException",
                f"InvocationType {invocation_type!r} must be RequestResponse, Event or DryRun",
            )
        try:
            event: Any = json.loads(body) if body.strip() else {}
        except ValueError as error:
            return _error(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error}",
            )
        if invocation_type == "DryRun":
            return 204, [], b""
        deadline_s = spec.timeout_s + _INIT_ALLOWANCE_S
        if invocation_type == "Event":
            threading.Thread(target=self._run, args=(name, event, deadline_s), daemon=True).start()
            return 202, [], b""
        tail = headers.get("x-amz-log-type", "None") == "Tail"
        if tail:
            with self._lock:
                self._tailing += 1
        try:
            result = self._run(name, event, deadline_s)
        finally:
            lines = self._end_tail(result.request_id if result else None) if tail else []
        if result is None:
            return None
        status, answer_headers, payload = _answer(result)
        if tail and status == 200:
            text = ("".join(line + "\n" for line in lines)).encode()[-TAIL_BYTES:]
            answer_headers.append(("X-Amz-Log-Result", base64.b64encode(text).decode()))
        return status, answer_headers, payload

    def _end_tail(self, request_id: str | None) -> list[str]:
        with self._lock:
            lines = self._captured.pop(request_id or "", [])
            self._tailing -= 1
            if not self._tailing:
                self._captured.clear()
                self._captured_count = 0
        return lines

    def _run(self, name: str, event: Any, deadline_s: float) -> Invocation | None:
        # The same instances the API's requests use (a pool may be swapped meanwhile).
        pool = self.emulator.pool(name) if self.emulator is not None else None
        if pool is None:
            return None
        result = pool.invoke(event, time.monotonic() + deadline_s)
        if result is not None and self._on_invoked is not None and result.request_id:
            status = "200" if result.status == "ok" else "200 Unhandled"
            self._on_invoked(name, result.request_id, status)
        return result


def _answer(result: Invocation) -> InvokeAnswer:
    headers = [_JSON, ("X-Amz-Executed-Version", "$LATEST")]
    if result.request_id:
        headers.append(("x-amzn-RequestId", result.request_id))
    if result.status == "ok" and result.payload is not None:
        return 200, headers, result.payload.encode()
    if result.status == "throttled":
        # Lambda refuses an invocation past the function's concurrency with 429
        # TooManyRequestsException (docs/http-api.md rule 58).
        return _error(429, "TooManyRequestsException", result.error_message or "Rate Exceeded.")
    if result.status == "too_large" and result.request_id is None:
        # The request itself exceeded the 6 MB payload limit (docs/http-api.md rule 14).
        return _error(413, "RequestTooLargeException", result.error_message or "Request too large")
    # Rule 58: a function error is still 200, flagged, with the error object as payload.
    error_type = result.error_type or {
        "timeout": "Sandbox.Timedout",
        "deadline": "Sandbox.Timedout",
        "crash": "Runtime.ExitError",
        "too_large": "Function.ResponseSizeTooLarge",
    }.get(result.status, "Unhandled")
    error: dict[str, Any] = {
        "errorType": error_type,
        "errorMessage": result.error_message or "",
    }
    if result.request_id:
        error["requestId"] = result.request_id
    headers.append(("X-Amz-Function-Error", "Unhandled"))
    return 200, headers, json.dumps(error).encode()
