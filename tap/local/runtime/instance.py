"""One function instance (a Lambda execution environment): a runtime client process
talking to its own Runtime API, and the lines it writes.

Lifecycle, as on Lambda (docs/http-api.md rule 53): ``init()`` starts the process and
waits for the runtime's first ``next`` (init is over) or its init error; ``invoke()`` runs
one invocation at a time; a timeout or a crash leaves the instance dead and its pool
starts another. Every line the process writes (stdout and stderr, one pipe so their order
holds) and every platform line goes to the LogSink, tagged with the request id it belongs
to; an invocation is answered only once all its lines have been handed over.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import select
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tap.local.logs.sink import LogKind, LogSink
from tap.local.runtime.api import Call, RuntimeApi
from tap.local.runtime.invocation import (
    INIT_TIMEOUT_S,
    MAX_PAYLOAD_BYTES,
    Invocation,
    lambda_environment,
    passes_log_level,
)

if TYPE_CHECKING:
    from tap.local.specs import FunctionSpec

_BUILTIN_WORKER = Path(__file__).resolve().parent / "builtin_worker.py"
# How long to wait, once the runtime has answered, for the rest of its log lines.
_LOG_DRAIN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Worker:
    """The runtime client an instance runs: ``awslambdaric`` or tap's built-in one."""

    name: str  # "awslambdaric" | "built-in"

    def argv(self, handler: str) -> list[str]:
        if self.name == "awslambdaric":
            # What AWS's Python base images run (their ENTRYPOINT), in the code folder,
            # which -m puts first on sys.path (LAMBDA_TASK_ROOT); -E -s: no PYTHON*
            # variables, no user site-packages.
            return [sys.executable, "-E", "-s", "-X", "utf8", "-m", "awslambdaric", handler]
        return [sys.executable, "-I", "-X", "utf8", str(_BUILTIN_WORKER), handler]


AWSLAMBDARIC = Worker("awslambdaric")
BUILTIN = Worker("built-in")


def default_worker() -> tuple[Worker, str | None]:
    """awslambdaric when it is installed with its native client, else the built-in worker
    and the one line that says why (awslambdaric ships manylinux wheels only,
    docs/tools.md "awslambdaric")."""
    if importlib.util.find_spec("awslambdaric") and importlib.util.find_spec("runtime_client"):
        return AWSLAMBDARIC, None
    return BUILTIN, (
        "awslambdaric (the Lambda runtime interface client) is not installed: it ships "
        "Linux wheels only. Functions run on tap's built-in runtime emulation instead."
    )


class Instance:
    """One execution environment of a function. Not thread-safe: its pool gives it one
    invocation at a time."""

    def __init__(self, spec: FunctionSpec, code_dir: Path, worker: Worker, sink: LogSink) -> None:
        self.spec = spec
        self.worker = worker
        self._sink = sink
        self._cond = threading.Condition()
        self._api = RuntimeApi(self._changed)
        env = lambda_environment(spec, code_dir)
        env["AWS_LAMBDA_RUNTIME_API"] = self._api.address
        self.stream = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._request_id: str | None = None
        self._log_lock = threading.Lock()
        self._eof = False
        self.init_ms: float | None = None  # reported on the first REPORT (a cold start)
        self.dead = False
        self._popen = subprocess.Popen(  # noqa: S603 - our interpreter, a fixed module
            worker.argv(spec.handler),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=code_dir,
            # Its own session: Ctrl-C goes to the CLI, which stops the instance itself.
            start_new_session=True,
        )
        assert self._popen.stdout is not None
        self._fd = self._popen.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._partial = b""
        threading.Thread(target=self._watch, daemon=True, name=f"lambda-{spec.name}").start()

    # --- lines ------------------------------------------------------------------------

    def _emit(self, line: str, kind: LogKind, request_id: str | None) -> None:
        self._sink(self.spec.name, request_id, line, kind, self.stream)

    def platform(self, line: str, request_id: str | None = None) -> None:
        self._emit(line, "platform", request_id)

    def _read_log(self) -> None:
        while not self._eof:
            with contextlib.suppress(OSError, ValueError):
                select.select([self._fd], [], [])
            with self._log_lock:
                self._read_available()

    def _read_available(self) -> bool:
        """Read and hand on what the pipe holds now (the pipe is non-blocking); False once
        it is empty or closed. Only ever called holding the log lock."""
        if self._eof:
            return False
        try:
            data = os.read(self._fd, 65_536)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            if self._partial:
                self._line(self._partial)
                self._partial = b""
            self._eof = True
            return False
        *lines, self._partial = (self._partial + data).split(b"\n")
        for raw in lines:
            self._line(raw)
        return True

    def _line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        # Lambda drops lines below the application log level, whichever runtime client
        # wrote them (docs/http-api.md rule 30).
        if passes_log_level(line, self.spec.log_format, self.spec.application_log_level):
            self._emit(line, "function", self._request_id)

    def _drain(self) -> None:
        """Return once every byte the process wrote so far has been read and handed on.

        The runtime writes its lines unbuffered before it posts its answer, so they are
        in the pipe by now. The caller reads what is left itself, under the reader's lock
        (rather than waiting for the reader thread to be scheduled, profiled): an empty
        pipe seen under the lock means nothing is left half-handled.
        """
        deadline = time.monotonic() + _LOG_DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            with self._log_lock:
                if not self._read_available():
                    return

    # --- lifecycle ---------------------------------------------------------------------

    def _changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _watch(self) -> None:
        self._popen.wait()
        with self._cond:
            self.dead = True
            self._cond.notify_all()

    def init(self, deadline: float) -> Invocation | None:
        """Start the runtime and wait for it to be ready; None when it is, else how the
        invocation that needed it ends."""
        started = time.monotonic()
        self.platform(f"INIT_START Runtime Version: {self._runtime_version()}")
        # The process may have written already (a syntax error takes it milliseconds); its
        # lines wait in the pipe and are read from now on, so they follow INIT_START as on
        # Lambda, however the threads are scheduled.
        threading.Thread(
            target=self._read_log, daemon=True, name=f"lambda-{self.spec.name}-log"
        ).start()
        wait = min(INIT_TIMEOUT_S, deadline - started)
        with self._cond:
            self._cond.wait_for(
                lambda: self._api.polled or self._api.init_error is not None or self.dead,
                timeout=max(0.0, wait),
            )
            polled, init_error, dead = self._api.polled, self._api.init_error, self.dead
        self._drain()
        elapsed_ms = (time.monotonic() - started) * 1000
        if polled and init_error is None and not dead:
            self.init_ms = elapsed_ms
            return None
        self.kill()
        if init_error is not None or dead:
            error = _json_object(init_error[0]) if init_error else {}
            error_type = str(
                error.get("errorType") or (init_error and init_error[1]) or "Runtime.ExitError"
            )
            message = str(
                error.get("errorMessage")
                or f"Runtime exited with error: exit status {self._popen.returncode}"
            )
            self.platform(
                f"INIT_REPORT Init Duration: {elapsed_ms:.2f} ms\tPhase: init\t"
                f"Status: error\tError Type: {error_type}"
            )
            return Invocation("error", error_type=error_type, error_message=message)
        self.platform(
            f"INIT_REPORT Init Duration: {elapsed_ms:.2f} ms\tPhase: init\tStatus: timeout"
        )
        status = "deadline" if time.monotonic() >= deadline else "timeout"
        return Invocation(status, error_message="Function initialization timed out")

    def invoke(self, event: bytes, deadline: float) -> Invocation:
        """Run one invocation; give up at ``deadline`` (time.monotonic()), the caller's."""
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        function_deadline = started + self.spec.timeout_s
        call = Call(
            request_id=request_id,
            event=event,
            deadline_ms=int((time.time() + self.spec.timeout_s) * 1000),
            function_arn=self.spec.arn,
            trace_id=_trace_id(),
        )
        self._request_id = request_id
        self.platform(f"START RequestId: {request_id} Version: $LATEST", request_id)
        self._api.submit(call)
        with self._cond:
            self._cond.wait_for(
                lambda: call.outcome is not None or self.dead,
                timeout=max(0.0, min(function_deadline, deadline) - time.monotonic()),
            )
        elapsed = time.monotonic() - started
        try:
            if call.outcome is None:
                return self._no_answer(call, elapsed, function_deadline <= deadline)
            self._drain()
            self._report(request_id, elapsed)
            kind, body, error_type = call.outcome
            if kind == "response":
                return self._result(request_id, body, elapsed)
            error = _json_object(body)
            return Invocation(
                "error",
                error_type=str(error.get("errorType") or error_type or "Unhandled"),
                error_message=str(error.get("errorMessage", "")),
                request_id=request_id,
                duration_ms=elapsed * 1000,
            )
        finally:
            self._request_id = None

    def _no_answer(self, call: Call, elapsed: float, function_first: bool) -> Invocation:
        self._api.forget(call)
        crashed = self.dead
        self.kill()
        self._drain()
        request_id = call.request_id
        if crashed:
            message = f"Runtime exited with error: exit status {self._popen.returncode}"
            self.platform(f"RequestId: {request_id} Error: {message}", request_id)
            self._report(request_id, elapsed)
            return Invocation(
                "crash",
                error_type="Runtime.ExitError",
                error_message=message,
                request_id=request_id,
                duration_ms=elapsed * 1000,
            )
        if function_first:
            # What Lambda writes when it stops a function at its timeout (rule 10).
            self.platform(
                f"{_log_time()} {request_id} Task timed out after {elapsed:.2f} seconds",
                request_id,
            )
        self._report(request_id, elapsed)
        return Invocation(
            "timeout" if function_first else "deadline",
            request_id=request_id,
            duration_ms=elapsed * 1000,
            error_message=f"Function did not answer in {elapsed:.2f} s",
        )

    def _result(self, request_id: str, body: bytes, elapsed: float) -> Invocation:
        if len(body) > MAX_PAYLOAD_BYTES:  # rule 14
            message = (
                f"Response payload size ({len(body)} bytes) exceeded maximum "
                f"allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
            )
            self.platform(f"{_log_time()} {request_id} {message}", request_id)
            return Invocation(
                "too_large",
                request_id=request_id,
                error_message=message,
                duration_ms=elapsed * 1000,
            )
        return Invocation(
            "ok",
            payload=body.decode("utf-8", "replace"),
            request_id=request_id,
            duration_ms=elapsed * 1000,
        )

    def _report(self, request_id: str, elapsed_s: float) -> None:
        self.platform(f"END RequestId: {request_id}", request_id)
        duration = elapsed_s * 1000
        line = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {max(1, int(duration + 0.999))} ms\t"
            f"Memory Size: {self.spec.memory_mb} MB"
        )
        if self.init_ms is not None:
            # Only the first invocation of an instance carries its cold start.
            line += f"\tInit Duration: {self.init_ms:.2f} ms"
            self.init_ms = None
        self.platform(line, request_id)

    def _runtime_version(self) -> str:
        version = self.spec.runtime.removeprefix("python")
        return f"python:{version}"

    def kill(self) -> None:
        """Stop the process and the API. Idempotent."""
        if self._popen.poll() is None:
            with contextlib.suppress(OSError):
                self._popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout=5)
        self.dead = True
        self._api.close()

    def close(self) -> None:
        self.kill()
        self._drain()
        if self._popen.stdout is not None:
            with contextlib.suppress(OSError):
                self._popen.stdout.close()


def extract(spec: FunctionSpec) -> Path:
    """The function's code in a fresh folder (LAMBDA_TASK_ROOT); the caller removes it."""
    import io
    import tempfile
    import zipfile

    root = Path(tempfile.mkdtemp(prefix=f"tap-lambda-{spec.name[:40]}-"))
    # extractall refuses absolute paths and ".." members (zipfile docs).
    with zipfile.ZipFile(io.BytesIO(spec.zip_bytes)) as archive:
        archive.extractall(root)
    return root


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _json_object(body: bytes) -> dict[str, Any]:
    import json

    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _trace_id() -> str:
    # X-Ray's trace header format: Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=0
    return (
        f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
        f"Parent={uuid.uuid4().hex[:16]};Sampled=0"
    )


def _log_time() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
