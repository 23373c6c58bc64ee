"""The moto server local mode deploys into (tap.local.deploy.motoserver): a real HTTP
endpoint on 127.0.0.1, clients bound to it and to one account, placeholder credentials,
and Lambda's Invoke handed to local mode's invoker."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping

import pytest

from tap.local.deploy.motoserver import (
    DUMMY_ACCESS_KEY,
    HOST,
    MotoServer,
    make_client,
)
from tests.local.builders import fresh_account

REGION = "us-east-1"


def _invoke(url: str, name: str, body: bytes, query: str = "") -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"{url}/2015-03-31/functions/{name}/invocations{query}", data=body, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_client_sees_its_own_account_only(server: MotoServer) -> None:
    # GIVEN a log group created through the server's client (its own account)
    name = f"/test/{fresh_account()}"
    server.client("logs", REGION).create_log_group(logGroupName=name)

    # WHEN the same server is read as its account and as another one
    own = server.client("logs", REGION).describe_log_groups(logGroupNamePrefix=name)
    other = make_client("logs", REGION, server.url, fresh_account()).describe_log_groups(
        logGroupNamePrefix=name
    )

    # THEN only the server's account holds it
    assert [g["logGroupName"] for g in own["logGroups"]] == [name]
    assert other["logGroups"] == []


def test_clients_sign_with_the_placeholder_credentials_never_the_users(
    server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN AWS credentials in the environment
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-real-secret")

    # WHEN a client for the server is made
    client = server.client("sts", REGION)

    # THEN it signs with the placeholder key, and talks to the server only
    assert client._request_signer._credentials.access_key == DUMMY_ACCESS_KEY
    assert client.meta.endpoint_url == server.url


def test_a_port_in_use_fails_start_at_once() -> None:
    # GIVEN a port another socket listens on
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        # WHEN a server is started on it THEN start raises in the caller's thread (an
        # OSError local mode turns into its port-in-use message, not werkzeug's exit)
        with pytest.raises(OSError, match="in use"):
            MotoServer(port=port).start()


def test_stop_is_idempotent_and_the_port_is_gone_after() -> None:
    server = MotoServer(account_id=fresh_account())
    url = server.start()
    assert url == f"http://{HOST}:{server.port}"
    server.stop()
    server.stop()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port


def test_lambda_invoke_goes_to_the_invoker_with_name_qualifier_body_and_headers(
    server: MotoServer,
) -> None:
    # GIVEN an invoker that records its call and answers
    calls: list[tuple[str, str | None, bytes, Mapping[str, str]]] = []

    def invoker(
        name: str, qualifier: str | None, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        calls.append((name, qualifier, body, headers))
        return 200, [("Content-Type", "application/json")], b'{"ok":true}'

    server.invoker = invoker
    try:
        # WHEN Invoke is called on a function ARN (URL-encoded) with a qualifier
        arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn"
        status, body = _invoke(server.url, arn, b'{"x":1}', "?Qualifier=live")
    finally:
        server.invoker = None

    # THEN the invoker answered, with the name decoded and the request as sent
    assert (status, json.loads(body)) == (200, {"ok": True})
    [(name, qualifier, sent, headers)] = calls
    assert (name, qualifier, sent) == (
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "live",
        b'{"x":1}',
    )
    assert all(key == key.lower() for key in headers)


def test_an_invoke_the_invoker_declines_and_other_calls_reach_moto(server: MotoServer) -> None:
    # GIVEN an invoker that declines every call
    seen: list[str] = []

    def declines(name: str, qualifier: str | None, body: bytes, headers: Mapping[str, str]) -> None:
        seen.append(name)

    server.invoker = declines
    lam = server.client("lambda", REGION)
    try:
        # WHEN a function moto does not have is invoked, and functions are listed
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="missing-fn", Payload=b"{}")
        listed = lam.list_functions()["Functions"]
    finally:
        server.invoker = None

    # THEN the invoker was asked about the invoke only, and moto answered both
    assert seen == ["missing-fn"]
    assert listed == []
