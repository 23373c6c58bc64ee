"""One Lambda function run as Lambda runs it: a worker process, one invocation at a time.

The worker (``_lambda_worker.py``) starts on the first invocation (a cold start), imports
the handler from the function's extracted zip, and is reused until it fails: a timeout or
a crash kills it and the next invocation starts a fresh one, as Lambda replaces an
instance. A lock serializes invocations, so concurrent requests queue as they would on a
function with one instance.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .emulator import FunctionSpec

_WORKER_SCRIPT = Path(__file__).resolve().parent / "_lambda_worker.py"
_HEADER_SIZE = 4

# Lambda gives a function's initialization (imports, module-level code) 10 s on demand.
INIT_TIMEOUT_S = 10.0
# Lambda's synchronous invocation payload limit, each way (docs/http-api.md rule 14).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# How long to wait, once the worker has answered, for the rest of its log lines.
_LOG_DRAIN_TIMEOUT_S = 5.0
# Lambda refuses these as function environment variables; above all, no credentials.
_RESERVED_PREFIXES = ("AWS_", "LAMBDA_", "_HANDLER", "_X_AMZN")


# Lambda's application log levels, least severe first (docs/http-api.md rule 30).
_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
# Python's names for two of them: how the runtime's own JSON records spell them.
_LEVEL_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}


def line_level(line: str) -> str:
    """The level Lambda gives one line of a function's output in the JSON log format: a
    JSON object's ``level`` (any case), else INFO: a plain-text line, a JSON line without
    ``level`` (an EMF line) or with an unknown one (docs/http-api.md rule 30)."""
    if line.startswith("{"):
        try:
            level = json.loads(line).get("level")
        except (ValueError, AttributeError):
            return "INFO"
        if isinstance(level, str):
            level = _LEVEL_ALIASES.get(level.upper(), level.upper())
            if level in _LEVELS:
                return level
    return "INFO"


def passes_log_level(line: str, log_format: str, application_log_level: str) -> bool:
    """Whether Lambda sends this function output line to CloudWatch Logs: with the JSON
    format, only lines at or above the application log level; with Text, every line (level
    filtering needs JSON). The one place the emulator filters the function's output."""
    if log_format != "JSON":
        return True
    minimum = _LEVEL_ALIASES.get(application_log_level.upper(), application_log_level.upper())
    if minimum not in _LEVELS:
        return True
    return _LEVELS.index(line_level(line)) >= _LEVELS.index(minimum)


@dataclass(frozen=True)
class Invocation:
    """How one invocation ended. ``status`` is one of:

    ``ok`` (payload is the result's JSON text), ``error`` (the function raised or returned
    something that cannot be marshalled), ``timeout`` (the function ran past its own
    timeout), ``deadline`` (the caller's deadline passed first), ``crash`` (the worker
    died), ``too_large`` (the request or response exceeded Lambda's payload limit).
    """

    status: str
    payload: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    request_id: str | None = None
    duration_ms: float = 0.0


class _Process:
    """A started worker: its process, and threads reading its protocol and log pipes."""

    def __init__(self, spec: FunctionSpec, code_dir: Path, on_log: Callable[[str], None]) -> None:
        self.nonce = secrets.token_hex(16)
        self.frames: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.log_marker = threading.Event()
        self._on_log = on_log
        self._log_format, self._log_level = spec.log_format, spec.application_log_level
        self.popen = subprocess.Popen(  # noqa: S603 - our interpreter and our script
            [
                sys.executable,
                "-I",
                "-X",
                "utf8",
                str(_WORKER_SCRIPT),
                str(code_dir),
                spec.handler,
                self.nonce,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=lambda_environment(spec, code_dir),
            cwd=code_dir,
            # Its own session: a Ctrl-C in the terminal goes to the CLI, which stops the
            # worker itself, instead of interrupting the worker mid-read with a traceback.
            # A worker whose parent dies reads EOF on stdin and exits.
            start_new_session=True,
        )
        assert self.popen.stdout is not None
        assert self.popen.stderr is not None
        threading.Thread(
            target=self._read_frames,
            args=(self.popen.stdout,),
            daemon=True,
            name=f"lambda-{spec.name}-out",
        ).start()
        threading.Thread(
            target=self._read_log,
            args=(self.popen.stderr,),
            daemon=True,
            name=f"lambda-{spec.name}-log",
        ).start()

    def _read_frames(self, stream: IO[bytes]) -> None:
        try:
            while True:
                header = stream.read(_HEADER_SIZE)
                if len(header) < _HEADER_SIZE:
                    break
                body = stream.read(int.from_bytes(header, "big"))
                self.frames.put(json.loads(body))
        except (OSError, ValueError):
            pass
        self.frames.put(None)

    def _read_log(self, stream: IO[bytes]) -> None:
        try:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == self.nonce:
                    self.log_marker.set()
                elif passes_log_level(line, self._log_format, self._log_level):
                    self._on_log(line)
        except (OSError, ValueError):
            pass
        self.log_marker.set()

    def send(self, message: dict[str, Any]) -> bool:
        data = json.dumps(message).encode()
        assert self.popen.stdin is not None
        try:
            self.popen.stdin.write(len(data).to_bytes(_HEADER_SIZE, "big") + data)
            self.popen.stdin.flush()
        except OSError:
            return False
        return True

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def lambda_environment(spec: FunctionSpec, code_dir: Path) -> dict[str, str]:
    """The worker's environment: the function's variables plus what Lambda sets.

    Built from scratch, never inherited: the caller's credentials, ``PYTHONPATH`` and the
    rest stay out. The function's own variables cannot override Lambda's reserved ones.
    """
    env = {
        key: value
        for key, value in spec.environment.items()
        if not key.startswith(_RESERVED_PREFIXES)
    }
    day = time.strftime("%Y/%m/%d", time.gmtime())
    env.update(
        {
            "PATH": os.environ.get("PATH", os.defpath),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LAMBDA_RUNTIME_DIR": str(_WORKER_SCRIPT.parent),
            "_HANDLER": spec.handler,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{day}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_LOG_FORMAT": spec.log_format,
            # Not a Lambda variable: how the worker builds context.invoked_function_arn.
            "TAP_LOCAL_FUNCTION_ARN": spec.arn,
        }
    )
    if spec.log_format == "JSON":
        env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
    if "SYSTEMROOT" in os.environ:  # pragma: no cover - Windows needs it to start Python
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return env


class LambdaFunction:
    """Invoke one function, one invocation at a time, in a reused worker process."""

    def __init__(self, spec: FunctionSpec, on_log: Callable[[str, str], None] | None) -> None:
        self.spec = spec
        self._on_log = on_log
        self._lock = threading.Lock()
        self._process: _Process | None = None
        self._code_dir: Path | None = None
        self._closed = False

    def _log(self, line: str) -> None:
        if self._on_log is not None:
            # A failing sink must not fail the invocation.
            with contextlib.suppress(Exception):
                self._on_log(self.spec.name, line)

    def _extract(self) -> Path:
        if self._code_dir is None:
            root = Path(tempfile.mkdtemp(prefix=f"tap-lambda-{self.spec.name[:40]}-"))
            # extractall refuses absolute paths and ".." members (zipfile docs).
            with zipfile.ZipFile(io.BytesIO(self.spec.zip_bytes)) as archive:
                archive.extractall(root)
            self._code_dir = root
        return self._code_dir

    def invoke(self, event: dict[str, Any], deadline: float) -> Invocation:
        """Run the handler on ``event``; give up at ``deadline`` (a time.monotonic()).

        The function's own timeout (its ``timeout_s``) counts from when the handler is
        called; ``deadline`` (the integration timeout) counts from the caller's start and
        includes waiting for the instance and a cold start.
        """
        data = json.dumps(event)
        if len(data.encode()) > MAX_PAYLOAD_BYTES:
            return Invocation("too_large", error_message="Request payload too large")
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return Invocation("deadline", error_message="Timed out waiting for the function")
        try:
            return self._invoke_locked(event, deadline)
        finally:
            self._lock.release()

    def _ensure_process(self, deadline: float) -> _Process | Invocation:
        if self._process is not None and self._process.popen.poll() is None:
            return self._process
        if self._closed:
            return Invocation("crash", error_message="The emulator is stopping")
        process = _Process(self.spec, self._extract(), self._log)
        wait = min(INIT_TIMEOUT_S, deadline - time.monotonic())
        try:
            frame = process.frames.get(timeout=max(0.0, wait))
        except queue.Empty:
            process.kill()
            deadline_first = deadline - time.monotonic() <= 0
            self._log(f"INIT_REPORT Init Duration: {wait * 1000:.2f} ms Status: timeout")
            return Invocation(
                "deadline" if deadline_first else "timeout",
                error_message="Function initialization timed out",
            )
        process.log_marker.wait(_LOG_DRAIN_TIMEOUT_S)
        process.log_marker.clear()
        if frame is None or frame.get("type") != "ready":
            process.kill()
            frame = frame or {}
            return Invocation(
                "error",
                error_type=frame.get("errorType", "Runtime.ExitError"),
                error_message=frame.get("errorMessage", "the runtime exited during init"),
            )
        self._process = process
        return process

    def _invoke_locked(self, event: dict[str, Any], deadline: float) -> Invocation:
        started = time.monotonic()
        process = self._ensure_process(deadline)
        if isinstance(process, Invocation):
            return process
        request_id = str(uuid.uuid4())
        handler_start = time.monotonic()
        function_deadline = handler_start + self.spec.timeout_s
        deadline_epoch_ms = int((time.time() + self.spec.timeout_s) * 1000)
        self._log(f"START RequestId: {request_id} Version: $LATEST")
        if not process.send(
            {"requestId": request_id, "deadlineEpochMs": deadline_epoch_ms, "event": event}
        ):
            return self._crashed(process, request_id, started)
        wait_until = min(function_deadline, deadline)
        try:
            frame = process.frames.get(timeout=max(0.0, wait_until - time.monotonic()))
        except queue.Empty:
            process.kill()
            self._process = None
            elapsed = time.monotonic() - handler_start
            if function_deadline <= deadline:
                # What Lambda writes when it stops a function at its timeout.
                self._log(f"{_log_time()} {request_id} Task timed out after {elapsed:.2f} seconds")
                status = "timeout"
            else:
                status = "deadline"
            self._report(request_id, elapsed)
            return Invocation(
                status,
                request_id=request_id,
                duration_ms=_ms(started),
                error_message=f"Function did not answer in {elapsed:.2f} s",
            )
        if frame is None:
            return self._crashed(process, request_id, started)
        process.log_marker.wait(_LOG_DRAIN_TIMEOUT_S)
        process.log_marker.clear()
        self._report(request_id, time.monotonic() - handler_start)
        if frame["type"] == "result":
            payload: str = frame["payload"]
            if len(payload.encode()) > MAX_PAYLOAD_BYTES:
                message = (
                    f"Response payload size ({len(payload.encode())} bytes) exceeded maximum "
                    f"allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
                )
                self._log(f"{_log_time()} {request_id} {message}")
                return Invocation(
                    "too_large",
                    request_id=request_id,
                    error_message=message,
                    duration_ms=_ms(started),
                )
            return Invocation(
                "ok", payload=payload, request_id=request_id, duration_ms=_ms(started)
            )
        return Invocation(
            "error",
            error_type=frame.get("errorType"),
            error_message=frame.get("errorMessage"),
            request_id=request_id,
            duration_ms=_ms(started),
        )

    def _crashed(self, process: _Process, request_id: str, started: float) -> Invocation:
        process.kill()
        process.log_marker.wait(_LOG_DRAIN_TIMEOUT_S)
        self._process = None
        code = process.popen.returncode
        message = f"Runtime exited with error: exit status {code}"
        self._log(f"RequestId: {request_id} Error: {message}")
        return Invocation(
            "crash",
            error_type="Runtime.ExitError",
            error_message=message,
            request_id=request_id,
            duration_ms=_ms(started),
        )

    def _report(self, request_id: str, elapsed_s: float) -> None:
        self._log(f"END RequestId: {request_id}")
        duration = elapsed_s * 1000
        self._log(
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {max(1, int(duration + 0.999))} ms\t"
            f"Memory Size: {self.spec.memory_mb} MB"
        )

    def close(self) -> None:
        """Kill the worker and remove the extracted code. Idempotent."""
        self._closed = True
        process, self._process = self._process, None
        if process is not None:
            process.kill()
        if self._code_dir is not None:
            shutil.rmtree(self._code_dir, ignore_errors=True)
            self._code_dir = None


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _log_time() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
