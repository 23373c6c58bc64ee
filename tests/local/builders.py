"""What local-mode tests build: a function's code zip, a FunctionSpec and an ApiSpec with the
defaults most tests share, a function from one module's source (``fn.handler``), a moto
account id, and the status of ``GET /health`` on a local server."""

from __future__ import annotations

import http.client
import io
import secrets
import zipfile
from collections.abc import Mapping
from typing import Any

from tap.local.specs import ApiSpec, FunctionSpec

REGION = "us-east-1"
ACCOUNT = "123456789012"


def code_zip(
    files: Mapping[str, str | bytes],
    *,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> bytes:
    """A zip of ``files`` (archive name -> content), as Lambda receives code; a fixed
    ``date_time`` gives the same bytes for the same files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time) if date_time else name, data)
    return buffer.getvalue()


def build_function_spec(
    name: str,
    zip_bytes: bytes,
    handler: str,
    *,
    region: str = REGION,
    account: str = ACCOUNT,
    **settings: Any,
) -> FunctionSpec:
    """A FunctionSpec named ``name`` in ``region``: python3.13, no environment, 10 s, 128 MB,
    its log group ``/aws/lambda/<name>``; ``settings`` override any other field."""
    fields: dict[str, Any] = {
        "runtime": "python3.13",
        "environment": {},
        "timeout_s": 10.0,
        "memory_mb": 128,
        "log_group": f"/aws/lambda/{name}",
        **settings,
    }
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:{region}:{account}:function:{name}",
        zip_bytes=zip_bytes,
        handler=handler,
        region=region,
        **fields,
    )


def build_api_spec(
    routes: Mapping[str, str],
    *,
    api_id: str = "abc123",
    region: str = REGION,
    account: str = ACCOUNT,
    **settings: Any,
) -> ApiSpec:
    """An HTTP API with its ``$default`` stage serving ``routes`` (route key -> function),
    payload format 2.0, no CORS and no access log; ``settings`` override any other field."""
    fields: dict[str, Any] = {
        "stage": "$default",
        "payload_format_version": "2.0",
        "cors": None,
        "access_log_format": None,
        **settings,
    }
    return ApiSpec(api_id=api_id, region=region, account_id=account, routes=routes, **fields)


def single_function(source: str, name: str = "fn", timeout_s: float = 10) -> FunctionSpec:
    """A function from one module's source (``fn.handler``), for emulator tests and
    benchmarks that serve a small handler of their own."""
    return build_function_spec(name, code_zip({"fn.py": source}), "fn.handler", timeout_s=timeout_s)


def fresh_account() -> str:
    """A moto account of its own: moto's backends are per process, and other tests in this
    process deploy too."""
    return f"{secrets.randbelow(10**12):012d}"


def health_status(port: int, timeout_s: float = 30) -> int:
    """The status of ``GET /health`` on 127.0.0.1:``port`` (the body read and dropped)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
