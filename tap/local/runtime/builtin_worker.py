"""tap's built-in Lambda runtime client: what runs a function instance where awslambdaric
cannot be installed (it ships Linux wheels only, docs/tools.md "awslambdaric").

Run by path with ``python -I -X utf8 builtin_worker.py HANDLER`` in the function's code
folder, never imported: isolated mode keeps this file's folder, the caller's working
directory and any PYTHON* variables off ``sys.path``, so the function sees its own code
first, as on Lambda (``LAMBDA_TASK_ROOT``). Standard library only.

It speaks Lambda's Runtime API at ``AWS_LAMBDA_RUNTIME_API`` exactly as awslambdaric 4.2
does (docs/http-api.md rule 54), and writes what awslambdaric writes, byte for byte apart
from ids and times: the same JSON and Text log records, the same error records and init
failures, the same error objects posted back. tests/local/test_runtime_clients.py
runs both on the same invocations and compares them.
"""

from __future__ import annotations

import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback
from typing import Any

_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_PREFIX = "/2018-06-01/runtime"
_request_id: str | None = None

# Attributes every LogRecord has (and the runtime's own), kept out of a JSON record; any
# other attribute came from ``extra=`` and is added to it (docs/http-api.md rule 21).
_RESERVED_FIELDS = frozenset(
    {
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
        "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
        "relativeCreated", "thread", "threadName", "processName", "process",
        "aws_request_id", "tenant_id", "_frame_type",
    }
)  # fmt: skip
_UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error "
    "correlates with a change in the runtime version, you may be able to mitigate this "
    "error by temporarily rolling back to the previous runtime version. For more "
    "information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
_JSON_FORMAT = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
# Python 3.12 and later runtimes encode results without escaping non-ASCII characters.
_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") not in {
    f"AWS_Lambda_python3.{minor}" for minor in range(12, 16)
}


class _RuntimeFaultError(Exception):
    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace


class _Unbuffered:
    """Every write reaches the pipe at once, so the parent has a function's lines before
    its answer."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def write(self, text: str) -> int:
        written: int = self.stream.write(text)
        self.stream.flush()
        return written

    def writelines(self, lines: Any) -> None:
        self.stream.writelines(lines)
        self.stream.flush()


class LambdaContext:
    """The context object Lambda passes as the handler's second argument."""

    def __init__(self, request_id: str, deadline_ms: int, function_arn: str) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, as in awslambdaric's lambda_context.py.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.tenant_id = None
        self.client_context = None
        self.identity = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: Any) -> None:
        sys.stdout.write(str(message))


class _JsonFormatter(logging.Formatter):
    """Lambda's JSON record for the Python runtime (docs/http-api.md rule 21)."""

    def __init__(self) -> None:
        super().__init__(datefmt=_DATETIME_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = min(50, max(0, record.levelno)) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        exc = record.exc_info
        result: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": record.msg
            if isinstance(record.msg, dict) and not record.args
            else record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc and exc[0] else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc else None,
        }
        result.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _RESERVED_FIELDS and key not in result
        )
        result = {k: v for k, v in result.items() if v is not None}
        return json.dumps(result, ensure_ascii=False, default=str) + "\n"


class _StdoutLogWriter(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sys.stdout.write(self.format(record))


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id or ""
        record.tenant_id = None
        return True


def _setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    writer = _StdoutLogWriter()
    if _JSON_FORMAT:
        writer.setFormatter(_JsonFormatter())
    else:
        writer.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    level = {None: "", "TRACE": "DEBUG"}.get(level, level or "").upper()
    if isinstance(logging.getLevelName(level), int):  # a level name logging knows
        logging.getLogger().setLevel(level)
    writer.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(writer)


def _log_error(error: dict[str, Any]) -> None:
    """The record Lambda writes for an error the function did not handle."""
    if _JSON_FORMAT:
        stamp = time.strftime(_DATETIME_FORMAT, time.gmtime())
        record = {"timestamp": stamp, "level": "ERROR", **error}
        sys.stdout.write(_to_json(record) + "\n")
        return
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            for line in element.splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=_ENSURE_ASCII)


def _error(
    message: str, error_type: str, trace: list[str] | None, request_id: str = ""
) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id,
        "stackTrace": trace or [],
    }


def _user_trace(tb: Any) -> list[str]:
    """The traceback from the first frame that is not this runtime's own."""
    # Plain tuples, as awslambdaric formats them: no ^^^ column markers.
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for index, (filename, *_) in enumerate(frames):
        if filename != __file__:
            frames = frames[index:]
            break
    return traceback.format_list(frames)  # type: ignore[arg-type]


def _load(handler: str) -> Any:
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _RuntimeFaultError(
            "Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}"
        ) from None
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise _RuntimeFaultError(
                "Runtime.BuiltInModuleConflict",
                f"Cannot use built-in module {module_name} as a handler module",
            )
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _RuntimeFaultError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise _RuntimeFaultError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            trace,
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _RuntimeFaultError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None


class _Client:
    def __init__(self, address: str) -> None:
        self.connection = http.client.HTTPConnection(address)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[bytes, http.client.HTTPResponse]:
        self.connection.request(method, _PREFIX + path, body, headers or {})
        response = self.connection.getresponse()
        return response.read(), response


def main(argv: list[str]) -> int:
    global _request_id
    handler_name = argv[1]
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    client = _Client(os.environ["AWS_LAMBDA_RUNTIME_API"])
    error: dict[str, Any] | None
    try:
        _setup_logging()
        handler = _load(handler_name)
    except _RuntimeFaultError as fault:
        error = _error(fault.message, fault.error_type, fault.trace)
    except Exception as exc:
        error = _error(str(exc), type(exc).__name__, _user_trace(exc.__traceback__))
    else:
        error = None
    if error is not None:
        logging.warning(_UNHANDLED_WARNING)
        _log_error(error)
        client.call(
            "POST",
            "/init/error",
            _to_json(error).encode(),
            {"Lambda-Runtime-Function-Error-Type": error["errorType"]},
        )
        return 1

    while True:
        body, response = client.call("GET", "/invocation/next")
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        _request_id = request_id
        trace_id = response.headers.get("Lambda-Runtime-Trace-Id")
        if trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        context = LambdaContext(
            request_id,
            int(response.headers["Lambda-Runtime-Deadline-Ms"]),
            response.headers["Lambda-Runtime-Invoked-Function-Arn"],
        )
        try:
            try:
                event = json.loads(body)
            except ValueError as exc:
                raise _RuntimeFaultError(
                    "Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}"
                ) from None
            result = handler(event, context)
            if isinstance(result, bytes):
                payload = result
            else:
                try:
                    payload = json.dumps(result, ensure_ascii=_ENSURE_ASCII).encode()
                except Exception as exc:
                    raise _RuntimeFaultError(
                        "Runtime.MarshalError", f"Unable to marshal response: {exc}"
                    ) from None
        except _RuntimeFaultError as fault:
            error = _error(fault.message, fault.error_type, fault.trace, request_id)
        except Exception as exc:
            error = _error(str(exc), type(exc).__name__, _user_trace(exc.__traceback__), request_id)
        else:
            client.call("POST", f"/invocation/{request_id}/response", payload)
            continue
        _log_error(error)
        client.call(
            "POST",
            f"/invocation/{request_id}/error",
            _to_json(error).encode(),
            {"Lambda-Runtime-Function-Error-Type": error["errorType"]},
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
