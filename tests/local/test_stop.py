"""Stopping local mode: requests in flight are answered, and the logs reach
moto's CloudWatch Logs before the moto server stops. Behaviour only: how long a stop takes
is measured by a script, never asserted here."""

from __future__ import annotations

import http.client
import threading
from typing import Any

from moto.backends import get_backend

from tap.local.deploy.deployment import deploy
from tap.local.gateway.emulator import Emulator
from tap.local.runtime.instance import BUILTIN
from tests.local.builders import build_api_spec, fresh_account, single_function

SLOW = """
import json, time

def handler(event, context):
    print("started", flush=True)
    time.sleep(1.0)
    return {"statusCode": 200, "body": "finished"}
"""


def get(port: int, path: str) -> tuple[int, str, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
        return response.status, body, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def test_a_request_in_flight_is_answered_when_the_emulator_stops() -> None:
    started = threading.Event()

    def sink(function: str, request_id: str | None, line: str, kind: str, stream: str) -> None:
        if line == "started":
            started.set()

    api = build_api_spec({"GET /slow": "fn"}, api_id="api")
    emulator = Emulator(api, {"fn": single_function(SLOW)}, log_sink=sink, worker=BUILTIN)
    emulator.start()
    answers: list[Any] = []

    def call() -> None:
        try:
            answers.append(get(emulator.port, "/slow"))
        except Exception as error:  # what the old stop did: the connection cut, no answer
            answers.append(error)

    client = threading.Thread(target=call)
    client.start()
    try:
        assert started.wait(60), "the function never started"
        emulator.stop()  # while the handler sleeps
    finally:
        emulator.stop()
        client.join(60)
    [answer] = answers
    assert not isinstance(answer, Exception), repr(answer)
    assert answer[:2] == (200, "finished")


def test_stop_writes_the_queued_log_lines_to_moto_before_it_stops() -> None:
    account = fresh_account()
    deployment = deploy(config={"smokeCheck": "false"}, account_id=account)
    try:
        status, _, headers = get(deployment.emulator.port, "/health")
        assert status == 200
        request_id = headers["apigw-requestid"]
        function = next(iter(deployment.cloudwatch.function_groups.values()))  # type: ignore[union-attr]
        access = deployment.cloudwatch.access_group  # type: ignore[union-attr]
    finally:
        deployment.stop()  # at once: the lines are still queued (flushed every 0.25 s)
    logs = get_backend("logs")[account][deployment.region]

    def messages(group: str | None) -> list[str]:
        assert group is not None
        streams = logs.groups[group].streams.values()
        return [event.message for stream in streams for event in stream.events]

    assert any(request_id in line for line in messages(access))
    assert any(line.startswith("REPORT RequestId") for line in messages(function))
    # stop() finished: nothing of the deploy is served any more.
    assert not deployment.emulator.loaded
