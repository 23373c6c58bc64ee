"""What every part of local mode's Lambda runtime shares: how an invocation ended, the
limits, and the environment Lambda gives a function instance.

The instances themselves (a runtime client process each, talking to its own Runtime API)
are in ``tap.local.runtime``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tap.local.specs import FunctionSpec

_RUNTIME_DIR = Path(__file__).resolve().parent

# Lambda gives a function's initialization (imports, module-level code) 10 s on demand.
INIT_TIMEOUT_S = 10.0
# Lambda's synchronous invocation payload limit, each way (docs/http-api.md rule 14).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
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
    died), ``too_large`` (the request or response exceeded Lambda's payload limit),
    ``throttled`` (Lambda refused it: the function's reserved concurrency is in use,
    docs/http-api.md rule 50).
    """

    status: str
    payload: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    request_id: str | None = None
    duration_ms: float = 0.0


def lambda_environment(spec: FunctionSpec, code_dir: Path) -> dict[str, str]:
    """The instance's environment: the function's variables plus what Lambda sets
    (docs/http-api.md rule 55).

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
            "LAMBDA_RUNTIME_DIR": str(_RUNTIME_DIR),
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
        }
    )
    if spec.log_format == "JSON":
        env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
    if "SYSTEMROOT" in os.environ:  # pragma: no cover - Windows needs it to start Python
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return env
