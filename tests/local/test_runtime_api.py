"""The Lambda Runtime API local mode serves each instance (tap/local/runtime/api.py),
spoken to over a real socket as a runtime client would, including what a client must
not send."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from tap.local.runtime.api import PREFIX, Call, RuntimeApi


@pytest.fixture
def api() -> Iterator[RuntimeApi]:
    runtime_api = RuntimeApi(lambda: None)
    yield runtime_api
    runtime_api.close()


def request(
    api: RuntimeApi, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str]]:
    host, port = api.address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def call(request_id: str = "id-1") -> Call:
    return Call(
        request_id=request_id,
        event=b'{"rawPath": "/"}',
        deadline_ms=1,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        trace_id="Root=1-0-0",
    )


def test_a_method_other_than_get_and_post_is_refused_by_name(api: RuntimeApi) -> None:
    assert request(api, "PUT", f"{PREFIX}/invocation/next") == (
        405,
        {"errorType": "MethodNotAllowed", "errorMessage": "PUT"},
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_path_is_not_found(api: RuntimeApi, method: str) -> None:
    path = f"{PREFIX}/invocation/id-1/nope" if method == "POST" else f"{PREFIX}/status"
    assert request(api, method, path, body=b"{}" if method == "POST" else None) == (
        404,
        {"errorType": "NotFound", "errorMessage": path},
    )


def test_an_answer_for_an_unknown_request_id_is_refused(api: RuntimeApi) -> None:
    assert request(api, "POST", f"{PREFIX}/invocation/nobody/response", body=b"{}") == (
        400,
        {"errorType": "InvalidRequestID", "errorMessage": "nobody"},
    )


def test_a_chunked_answer_is_read_whole(api: RuntimeApi) -> None:
    submitted = call()
    api.submit(submitted)

    def chunks() -> Iterator[bytes]:
        yield b'{"statusCode": '
        yield b"200}"

    host, port = api.address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", f"{PREFIX}/invocation/next")
        next_response = connection.getresponse()
        next_response.read()
        connection.request(
            "POST",
            f"{PREFIX}/invocation/id-1/response",
            body=chunks(),
            encode_chunked=True,
        )
        status = connection.getresponse().status
    finally:
        connection.close()

    assert next_response.getheader("Lambda-Runtime-Aws-Request-Id") == "id-1"
    assert status == 202
    assert submitted.outcome == ("response", b'{"statusCode": 200}', None)


def test_an_answer_larger_than_any_payload_is_refused_and_the_connection_closed(
    api: RuntimeApi,
) -> None:
    api.submit(call())
    host, port = api.address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("POST", f"{PREFIX}/invocation/id-1/response")
        connection.putheader("Content-Length", str(8 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()

    assert response.status == 413
    assert response.getheader("Connection") == "close"
    assert body["errorType"] == "RequestEntityTooLarge"
