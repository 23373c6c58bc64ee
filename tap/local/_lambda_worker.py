"""The Lambda runtime emulation inside one worker process (one "instance" of a function).

Run by path with ``python -I -X utf8 _lambda_worker.py CODE_DIR HANDLER NONCE``, never
imported: isolated mode keeps this file's folder, the caller's working directory and any
PYTHON* variables off ``sys.path``, so the function sees its own code first, as on Lambda
(``LAMBDA_TASK_ROOT``). Standard library only.

Protocol with the parent (``tap.local._lambda``), frames of a 4-byte big-endian length
followed by UTF-8 JSON:
- parent -> worker on stdin: ``{"requestId", "deadlineEpochMs", "event"}``;
- worker -> parent on the original stdout (duplicated before fd 1 is redirected):
  ``{"type": "ready"}`` or ``{"type": "initError", ...}`` once, then one
  ``{"type": "result", "payload": "<JSON text>"}`` or ``{"type": "error", "errorType",
  "errorMessage", "stackTrace"}`` per invocation.
The function's own output (``print`` on fd 1 and fd 2, ``logging``) all goes to stderr,
which the parent reads line by line as the function's log. After each invocation the
worker writes ``NONCE`` alone on a line there, so the parent knows every line of that
invocation has arrived before it answers the client.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import struct
import sys
import time
import traceback
from typing import IO, Any

_HEADER = struct.Struct(">I")
_current_request_id: str | None = None

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is
# added to the JSON line, as Lambda's JSON formatter does (docs/http-api.md rule 21).
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


class LambdaContext:
    """The context object Lambda passes as the handler's second argument."""

    def __init__(self, request_id: str, deadline_epoch_ms: int) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = os.environ["TAP_LOCAL_FUNCTION_ARN"]
        # A string, as in the Python runtime (awslambdaric lambda_context.py).
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_epoch_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_epoch_ms - int(time.time() * 1000))


class JsonFormatter(logging.Formatter):
    """Lambda's JSON log format for the Python runtime (docs/http-api.md rule 21)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        if _current_request_id is not None:
            line["requestId"] = _current_request_id
        if record.exc_info and record.exc_info[0] is not None:
            line["errorType"] = record.exc_info[0].__name__
            line["errorMessage"] = str(record.exc_info[1])
            line["stackTrace"] = traceback.format_tb(record.exc_info[2])
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in line:
                line[key] = value
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """Lambda's Text log format: ``[LEVEL]\\tTIME\\tREQUEST_ID\\tMESSAGE``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        text = f"[{record.levelname}]\t{stamp}.{int(record.msecs):03d}Z\t"
        text += f"{_current_request_id or ''}\t{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        handler.setFormatter(JsonFormatter())
        level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper()
        # Lambda's level names; TRACE and FATAL map onto the nearest stdlib levels.
        level = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level)
        logging.getLogger().setLevel(level)
    else:
        handler.setFormatter(TextFormatter())
        logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger().handlers[:] = [handler]


def _send(proto: IO[bytes], message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    proto.write(_HEADER.pack(len(data)) + data)
    proto.flush()


def _receive(stdin: IO[bytes]) -> dict[str, Any] | None:
    header = stdin.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    message: dict[str, Any] = json.loads(stdin.read(size))
    return message


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    # The first frame is this runtime's call of the handler: not the function's.
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    return {
        "type": "error",
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(tb),
    }


def _log_error(error: dict[str, Any]) -> None:
    """Write an uncaught error to the log the way Lambda does; the client never sees it."""
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        line = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "level": "ERROR",
            "message": {k: v for k, v in error.items() if k != "type"},
            "errorType": error["errorType"],
            "requestId": _current_request_id,
        }
        sys.stdout.write(json.dumps(line, default=str) + "\n")
    else:
        sys.stdout.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n")
        sys.stdout.write("Traceback (most recent call last):\n")
        sys.stdout.write("".join(error["stackTrace"]))


def _end_marker(nonce: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    sys.stderr.write(nonce + "\n")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    global _current_request_id
    code_dir, handler_name, nonce = argv[1:4]
    # The protocol keeps the real stdout; the function's fd 1 joins stderr (its log).
    proto = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the function must not read the protocol
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    sys.path.insert(0, code_dir)
    os.chdir(code_dir)
    _configure_logging()

    try:
        module_name, _, function_name = handler_name.rpartition(".")
        if not module_name:
            raise ValueError(f"Bad handler {handler_name!r}: expected module.function")
        module = importlib.import_module(module_name.replace("/", "."))
        handler = getattr(module, function_name)
    except Exception as exc:
        error_type = (
            "Runtime.ImportModuleError"
            if isinstance(exc, ImportError)
            else "Runtime.HandlerNotFound"
            if isinstance(exc, AttributeError)
            else "Runtime.UserCodeSyntaxError"
            if isinstance(exc, SyntaxError)
            else type(exc).__name__
        )
        error = _error(exc, error_type)
        _log_error(error)
        _end_marker(nonce)
        _send(proto, {**error, "type": "initError"})
        return 1
    _end_marker(nonce)
    _send(proto, {"type": "ready"})

    while True:
        request = _receive(stdin)
        if request is None:
            return 0
        _current_request_id = request["requestId"]
        context = LambdaContext(request["requestId"], request["deadlineEpochMs"])
        try:
            result = handler(request["event"], context)
            try:
                reply: dict[str, Any] = {"type": "result", "payload": json.dumps(result)}
            except (TypeError, ValueError) as exc:
                reply = _error(exc, "Runtime.MarshalError")
                reply["errorMessage"] = f"Unable to marshal response: {exc}"
                _log_error(reply)
        except Exception as exc:
            reply = _error(exc)
            _log_error(reply)
        _end_marker(nonce)
        _current_request_id = None
        _send(proto, reply)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
