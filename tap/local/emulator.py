"""An API Gateway HTTP API emulator for local mode.

Serves one deployed HTTP API on 127.0.0.1 with payload format 2.0 semantics
(``/work/shared/specs/http-api.md`` rules 1–19, cited where each applies) and runs its
Lambda function the way Lambda does: in a separate worker process per function, one
invocation at a time (one instance), with a context object, the function's environment
and no credentials.

Lifecycle (the stage URL is needed as a deploy output before the routes can be read back):

    emulator = Emulator(on_function_log=..., on_access_log=...)
    url = emulator.start()          # binds and serves now: every request gets
                                    # 503 {"message":"Service Unavailable"} until loaded
    ...deploy, using url as the stage URL...
    emulator.load(api, functions)   # validated here; raises EmulatorConfigError
    ...serve until Ctrl-C...
    emulator.stop()

or, when everything is known up front, ``with Emulator(api, functions) as emulator:``
(loads, then starts on entering).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType

# http-api.md rule 11: the integration timeout is 50–30,000 ms, 30 s by default.
MIN_INTEGRATION_TIMEOUT_MS = 50
MAX_INTEGRATION_TIMEOUT_MS = 30_000
SUPPORTED_PAYLOAD_FORMAT = "2.0"

FunctionLogSink = Callable[[str, str], None]
"""Receives (function name, one log line) for every line the function writes."""
AccessLogSink = Callable[[str], None]
"""Receives one rendered access-log line per request (the stage's access-log format)."""


class EmulatorConfigError(ValueError):
    """The API or function specs cannot be served; the message says what and why."""


@dataclass(frozen=True)
class CorsSpec:
    """The API's ``cors_configuration`` (http-api.md rules 16–19)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None
    allow_credentials: bool


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as deployed: its code and configuration."""

    name: str
    arn: str
    zip_bytes: bytes
    handler: str  # "module.path.function", e.g. "app.handler.handler"
    runtime: str  # e.g. "python3.13"; the worker runs on this interpreter regardless
    environment: Mapping[str, str]
    timeout_s: float
    memory_mb: int
    region: str
    log_group: str
    # Lambda's logging_config (moto drops it, so the deployer passes what it declared).
    log_format: str = "JSON"  # "JSON" | "Text"
    application_log_level: str = "INFO"


@dataclass(frozen=True)
class ApiSpec:
    """One HTTP API with its ``$default`` stage, as deployed."""

    api_id: str
    region: str
    account_id: str
    stage: str  # "$default" (other stage names prefix rawPath with /<stage>, rule 2)
    # route key ("GET /health", "ANY /{proxy+}", "$default") -> function name (its target)
    routes: Mapping[str, str]
    payload_format_version: str  # must be "2.0"
    cors: CorsSpec | None
    access_log_format: str | None  # the stage's access_log_settings.format, or None
    integration_timeout_ms: int = MAX_INTEGRATION_TIMEOUT_MS


class Emulator:
    """Serve an HTTP API and its functions on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        api: ApiSpec | None = None,
        functions: Mapping[str, FunctionSpec] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_function_log: FunctionLogSink | None = None,
        on_access_log: AccessLogSink | None = None,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._on_function_log = on_function_log
        self._on_access_log = on_access_log
        self._lock = threading.Lock()
        if api is not None:
            self.load(api, functions or {})

    def load(self, api: ApiSpec, functions: Mapping[str, FunctionSpec]) -> None:
        """Validate and (re)load what is served; replaces anything loaded before."""
        raise NotImplementedError

    def start(self) -> str:
        """Bind and serve in background threads; return the base URL. Idempotent."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving, kill the function workers, remove their code. Idempotent."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (the stage URL of a ``$default`` stage); after start()."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        raise NotImplementedError

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
