"""Load the real HTTP API events in ``tests/events/`` and build test events.

The events are copied unchanged from where they were published or captured;
``tests/events/MANIFEST.json`` names each one's origin (repository, path, commit) and the
status the function's contract gives it, with the reason.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"


def manifest() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((EVENTS_DIR / "MANIFEST.json").read_text())
    return entries


def event_files() -> list[str]:
    return sorted(p.name for p in EVENTS_DIR.glob("*.json") if p.name != "MANIFEST.json")


def load_event(name: str) -> Any:
    """A fresh copy of one event (tests may mutate it)."""
    return json.loads((EVENTS_DIR / name).read_text())


def http_event(
    method: str = "GET",
    path: str = "/health",
    *,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    is_base64: bool = False,
    stage: str = "$default",
    request_id: str = "LV7fzho-PHcEJPw=",
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    """A 2.0 event shaped like the captured curl request
    (awslambdago__apigw-v2-request-no-authorizer.json), with the parts a test varies."""
    event: dict[str, Any] = copy.deepcopy(_BASE)
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["requestId"] = request_id
    event["requestContext"]["stage"] = stage
    event["headers"].update(headers or {})
    if body is not None:  # rule 6: no body -> no "body" key
        event["body"] = body
    event["isBase64Encoded"] = is_base64
    if cookies:
        event["cookies"] = cookies
    return event


_BASE: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/",
    "rawQueryString": "",
    "headers": {
        "accept": "*/*",
        "host": "aaaaaaaaaa.execute-api.us-east-1.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-forwarded-proto": "https",
    },
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "aaaaaaaaaa",
        "domainName": "aaaaaaaaaa.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "aaaaaaaaaa",
        "http": {
            "method": "GET",
            "path": "/",
            "protocol": "HTTP/1.1",
            "sourceIp": "1.2.3.4",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "LV7fzho-PHcEJPw=",
        "routeKey": "$default",
        "stage": "$default",
        "time": "26/Nov/2026:07:00:00 +0000",
        "timeEpoch": 1795676400000,
    },
    "isBase64Encoded": False,
}
