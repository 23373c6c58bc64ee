"""A moto server (the AWS emulator) on 127.0.0.1, and boto3 clients that talk only to it.

Users inspect what local mode deployed with ``aws --endpoint-url http://127.0.0.1:PORT``
or boto3, so the server is a real HTTP endpoint, not moto's in-process mock.
"""

from __future__ import annotations

import io
import re
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote

import boto3  # type: ignore[import-untyped,unused-ignore]
from botocore.config import Config as BotoConfig  # type: ignore[import-untyped,unused-ignore]
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

HOST = "127.0.0.1"
# moto's default account (moto.core.models.DEFAULT_ACCOUNT_ID): what `aws --endpoint-url`
# sees with any credentials.
DEFAULT_ACCOUNT_ID = "123456789012"
# moto accepts any credentials; these are placeholders that can never reach AWS. The
# clients are built with them explicitly, so whatever AWS credentials the user has in the
# environment or ~/.aws are never read, let alone sent.
DUMMY_ACCESS_KEY = "testing"
DUMMY_SECRET_KEY = "testing"  # noqa: S105 (a placeholder moto accepts)
# moto keeps one backend per account id; a request picks its account with this header.
ACCOUNT_HEADER = "x-moto-account-id"
_STOP_TIMEOUT_S = 5.0
_BACKLOG = 128  # werkzeug's own listen queue (serving.LISTEN_QUEUE)
_POLL_S = 0.05
# Lambda's Invoke: POST /2015-03-31/functions/<name or ARN>/invocations[?Qualifier=...].
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")

Invoker = Callable[
    [str, str | None, bytes, Mapping[str, str]], tuple[int, list[tuple[str, str]], bytes] | None
]
"""(function name or ARN, qualifier, body, lowercase headers) -> (status, headers, body),
or None to let moto answer."""


class _InvokeRouter:
    """WSGI middleware: hands Lambda Invoke calls to ``server.invoker`` when set
    (local mode runs the function itself: tap.local.runtime.invoke); the rest goes to moto."""

    def __init__(self, app: Any, server: MotoServer) -> None:
        self.app = app
        self.server = server

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        invoker = self.server.invoker
        found = _INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if invoker is None or found is None or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        qualifier = parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier", [None])[0]
        answer = invoker(unquote(found.group(1)), qualifier, body, headers)
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads the body again
            return self.app(environ, start_response)
        status, answer_headers, payload = answer
        reason = _REASONS.get(status, "OK")
        start_response(
            f"{status} {reason}", [*answer_headers, ("Content-Length", str(len(payload)))]
        )
        return [payload]


_REASONS = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
}


class _QuietRequests(MotoRequestHandler):
    """moto's request handler without werkzeug's one-line-per-request log on stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:  # werkzeug's signature
        return None


class MotoServer:
    """moto's HTTP server on ``127.0.0.1:port`` (0: any free port), in a daemon thread.

    Binding happens in ``start`` in the caller's thread, so a port in use raises OSError
    right there (moto's own ThreadedMotoServer would wait forever instead).
    """

    def __init__(self, port: int = 0, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self._requested_port = port
        self.account_id = account_id
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # Set by local mode once the emulator serves the functions (see _InvokeRouter).
        self.invoker: Invoker | None = None

    def start(self) -> str:
        if self._server is None:
            app = _InvokeRouter(DomainDispatcherApplication(create_backend_app), self)
            # Bound here: werkzeug, binding itself, answers a port in use with sys.exit(1).
            listening = socket.create_server((HOST, self._requested_port), backlog=_BACKLOG)
            try:
                self._server = make_server(
                    HOST,
                    self._requested_port,
                    app,
                    threaded=True,
                    request_handler=_QuietRequests,
                    fd=listening.fileno(),
                )
            finally:
                listening.close()  # werkzeug serves a duplicate of it
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                # How often the loop checks for stop(): werkzeug's default 0.5 s was most
                # of what stopping `tap local` waited for (profiled).
                kwargs={"poll_interval": _POLL_S},
                name="tap-local-moto",
                daemon=True,
            )
            self._thread.start()
        return self.url

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the moto server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT_S)
            self._thread = None

    def client(self, service: str, region: str) -> Any:
        """A boto3 client for ``service`` that talks to this server, as ``account_id``."""
        return make_client(service, region, self.url, self.account_id)

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_session_lock = threading.Lock()
_session: Any = None


def make_client(service: str, region: str, endpoint_url: str, account_id: str) -> Any:
    """A boto3 client for a moto endpoint, with placeholder credentials and an account id.

    Every client comes from one shared session: a session parses botocore's endpoint and
    service model files the first time it needs them, and a fresh session per client
    parsed them again for each (about an eighth of local mode's start, profiled). Client
    creation is not thread-safe, hence the lock; each client has its own event hooks.
    """
    global _session
    with _session_lock:
        if _session is None:
            _session = boto3.session.Session(
                aws_access_key_id=DUMMY_ACCESS_KEY, aws_secret_access_key=DUMMY_SECRET_KEY
            )
        client = _session.client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            # Local calls either answer in milliseconds or the server is gone: fail fast.
            # proxies={}: the server is on 127.0.0.1, and botocore would otherwise send the
            # calls to HTTP_PROXY/HTTPS_PROXY (it bypasses only what NO_PROXY lists).
            config=BotoConfig(
                retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30, proxies={}
            ),
        )
    if account_id != DEFAULT_ACCOUNT_ID:

        def add_account(request: Any, **_: Any) -> None:
            request.headers[ACCOUNT_HEADER] = account_id

        client.meta.events.register("before-sign.*.*", add_account)
    return client
