"""Local mode writes its logs where AWS puts them, and ``tap logs`` reads them back.

One deploy of ``programs/mini`` (the project's access-log format; ``POST /boom`` raises)
serves 1,000 requests; the function's lines and the access log must then be in moto's
CloudWatch Logs for boto3, and ``tap logs --local`` must find any one request by id and
filter the 5xx ones.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tap.local.deploy.deployment import LocalDeployment, deploy
from tap.local.logs import tail, targets
from tap.local.logs.tail import parse_since, status_matcher
from tap.local.logs.targets import LogsError
from tests.local.builders import fresh_account

MINI = Path(__file__).resolve().parent / "programs" / "mini"
FUNCTION_GROUP = "/aws/lambda/mini-fn"
ACCESS_GROUP = "/aws/apigateway/mini"
REQUESTS = 1_000
FAILING = 7  # POST /boom among them: the function raises, API Gateway answers 500


@dataclass
class Served:
    deployment: LocalDeployment
    answers: list[tuple[str, int, str]]  # (path, status, apigw-requestid), in order
    state_dir: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    account = fresh_account()
    # Stage throttling out of the way: 1,000 requests back to back, none refused.
    throttling = {"mini:burst": "5000", "mini:rate": "5000"}
    deployment = deploy(program_dir=MINI, account_id=account, config=throttling)
    try:
        host = deployment.url.removeprefix("http://")
        connection = http.client.HTTPConnection(host, timeout=30)
        answers: list[tuple[str, int, str]] = []
        failing_at = {100 + 130 * k for k in range(FAILING)}
        for i in range(REQUESTS):
            failing = i in failing_at
            path, method = ("/boom", "POST") if failing else ("/health", "GET")
            connection.request(method, path, body=b"{}" if failing else None)
            response = connection.getresponse()
            response.read()
            answers.append((path, response.status, response.getheader("apigw-requestid") or ""))
        connection.close()
        assert deployment.cloudwatch is not None
        assert deployment.cloudwatch.flush()
        state_dir = tmp_path_factory.mktemp("state")
        # What `tap local` writes; TAP_STATE_DIR points `tap logs --local` at it.
        targets.record_local_deploy(state_dir / "local.json", deployment)
        yield Served(deployment, answers, state_dir)
    finally:
        deployment.stop()


def _events(client: Any, group: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group}
    while True:
        page = client.filter_log_events(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def _tap_logs(served: Served, *args: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv(targets.STATE_DIR_ENV, str(served.state_dir))
    out, err = io.StringIO(), io.StringIO()
    code = tail.run(["--local", *args], out, err)
    assert code == 0, err.getvalue()
    return out.getvalue().splitlines()


def test_the_answers_are_what_the_logs_will_be_checked_against(served: Served) -> None:
    statuses = [(path, status) for path, status, _ in served.answers]
    assert statuses.count(("/boom", 500)) == FAILING
    assert statuses.count(("/health", 200)) == REQUESTS - FAILING
    assert len({rid for _, _, rid in served.answers}) == REQUESTS


def test_boto3_sees_every_access_log_line_in_the_stages_group(served: Served) -> None:
    client = served.deployment.client("logs")

    lines = [json.loads(e["message"]) for e in _events(client, ACCESS_GROUP)]

    by_id = {line["requestId"]: line for line in lines}
    for path, status, request_id in served.answers:
        assert by_id[request_id]["status"] == str(status)
        assert by_id[request_id]["path"] == path


def test_boto3_sees_the_functions_records_in_a_lambda_named_stream(served: Served) -> None:
    client = served.deployment.client("logs")
    access = {
        line["requestId"]: line
        for line in (json.loads(e["message"]) for e in _events(client, ACCESS_GROUP))
    }

    events = _events(client, FUNCTION_GROUP)

    streams = {e["logStreamName"] for e in events}
    assert streams
    assert all("/[$LATEST]" in s and len(s.split("/")) == 4 for s in streams)
    messages = [e["message"] for e in events]
    starts = {m.split()[2] for m in messages if m.startswith("START RequestId:")}
    reports = {m.split()[2] for m in messages if m.startswith("REPORT RequestId:")}
    # Every invocation behind a served request has its START and REPORT, under the Lambda
    # request id the access line carries as integrationRequestId.
    for _, _, request_id in served.answers:
        lambda_id = access[request_id]["integrationRequestId"]
        assert lambda_id in starts
        assert lambda_id in reports
    errors = [json.loads(m) for m in messages if m.startswith("{") and '"ERROR"' in m]
    assert len(errors) == FAILING
    assert all(e["errorType"] == "RuntimeError" for e in errors)


def test_tap_logs_finds_one_request_by_id_among_a_thousand(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, status, request_id = served.answers[REQUESTS // 2 + 3]

    lines = _tap_logs(served, "--request-id", request_id, "--since", "1h", monkeypatch=monkeypatch)

    assert len(lines) == 1
    assert f" GET {path} {status} " in lines[0]
    assert lines[0].endswith(f"id={request_id}")


def test_tap_logs_filters_the_5xx_and_says_what_failed(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = {rid for path, status, rid in served.answers if status >= 500}

    lines = _tap_logs(served, "--status", "5xx", "--since", "1h", monkeypatch=monkeypatch)

    assert {line.rsplit("id=", 1)[1] for line in lines} == failed
    assert all(" POST /boom 500 " in line for line in lines)
    assert all("error: RuntimeError: boom on purpose" in line for line in lines)


def test_tap_logs_verbose_puts_the_invocations_records_beneath(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = next(rid for path, _, rid in served.answers if path == "/boom")

    lines = _tap_logs(served, "--request-id", request_id, "-v", monkeypatch=monkeypatch)

    assert lines[0].endswith(f"id={request_id}")
    records = [line.strip() for line in lines[1:]]
    assert records[0].startswith("START RequestId: ")
    assert any('"errorMessage": "boom on purpose"' in r for r in records)
    assert records[-1].startswith("REPORT RequestId: ")
    lambda_id = records[0].split()[2]
    assert all(lambda_id in r for r in records if r.startswith(("START", "END", "REPORT")))


def test_tap_logs_by_route_and_status_class(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = _tap_logs(served, "--route", "GET /health", "--status", "2xx", monkeypatch=monkeypatch)

    served_ids = {rid for path, _, rid in served.answers if path == "/health"}
    shown = {line.rsplit("id=", 1)[1] for line in health}
    assert served_ids <= shown  # the deploy's own smoke requests may be there too
    assert all(" GET /health 200 " in line for line in health)


def test_tap_logs_without_a_local_deploy_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(targets.STATE_DIR_ENV, str(tmp_path))
    out, err = io.StringIO(), io.StringIO()

    code = tail.run(["--local"], out, err)

    assert code == tail.EXIT_USAGE
    assert "python -m tap local" in err.getvalue()


# --- Lambda's Invoke through moto runs the function (docs/http-api.md rule 58) ----------


def _event(path: str) -> bytes:
    return json.dumps({"version": "2.0", "rawPath": path}).encode()


def test_boto3_invoke_through_moto_returns_the_functions_answer(served: Served) -> None:
    lam = served.deployment.client("lambda")

    answer = lam.invoke(FunctionName="mini-fn", Payload=_event("/from-invoke"))

    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    result = json.loads(answer["Payload"].read())
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"path": "/from-invoke", "env": "Production"}
    # ... run by local mode, so its lines are in the function's group like any other's.
    request_id = answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert served.deployment.cloudwatch is not None
    assert served.deployment.cloudwatch.flush()
    messages = [e["message"] for e in _events(served.deployment.client("logs"), FUNCTION_GROUP)]
    assert f"END RequestId: {request_id}" in messages


def test_a_raised_error_is_flagged_unhandled_with_lambdas_error_object(served: Served) -> None:
    lam = served.deployment.client("lambda")
    arn = lam.get_function(FunctionName="mini-fn")["Configuration"]["FunctionArn"]

    answer = lam.invoke(FunctionName=arn, Payload=_event("/boom"))

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "boom on purpose")


def test_invoke_types_and_a_body_that_is_not_json(served: Served) -> None:
    lam = served.deployment.client("lambda")

    assert lam.invoke(FunctionName="mini-fn", InvocationType="DryRun")["StatusCode"] == 204
    event = lam.invoke(FunctionName="mini-fn", InvocationType="Event", Payload=_event("/e"))
    assert event["StatusCode"] == 202
    with pytest.raises(lam.exceptions.InvalidRequestContentException, match="parse"):
        lam.invoke(FunctionName="mini-fn", Payload=b"{not json")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")


def test_get_apis_shows_the_local_url(served: Served) -> None:
    apis = served.deployment.client("apigatewayv2").get_apis()["Items"]

    assert [api["ApiEndpoint"] for api in apis] == [served.deployment.url]


def test_log_type_tail_returns_the_invocations_log(served: Served) -> None:
    lam = served.deployment.client("lambda")

    answer = lam.invoke(FunctionName="mini-fn", Payload=_event("/tail"), LogType="Tail")

    request_id = answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    log = base64.b64decode(answer["LogResult"]).decode()
    assert f"START RequestId: {request_id}" in log
    assert '"message": "handled /tail"' in log
    assert f"REPORT RequestId: {request_id}" in log
    assert len(log.encode()) <= 4096
    # Without LogType=Tail, no log in the answer (as Lambda).
    assert "LogResult" not in lam.invoke(FunctionName="mini-fn", Payload=_event("/t"))


def test_follow_prints_each_new_request_once(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(targets.STATE_DIR_ENV, str(served.state_dir))
    host = served.deployment.url.removeprefix("http://")
    sent: list[str] = []

    def meanwhile(_: float) -> None:
        # While `tap logs --follow` waits between polls, one more request is served.
        connection = http.client.HTTPConnection(host, timeout=30)
        connection.request("GET", "/health", headers={"x-poll": str(len(sent))})
        response = connection.getresponse()
        response.read()
        sent.append(response.getheader("apigw-requestid") or "")
        connection.close()
        assert served.deployment.cloudwatch is not None
        assert served.deployment.cloudwatch.flush()

    out = io.StringIO()
    code = tail.run(
        ["--local", "--follow", "--route", "GET /health", "--since", "1h"],
        out,
        io.StringIO(),
        sleep=meanwhile,
        max_polls=2,
    )

    assert code == 0
    ids = [line.rsplit("id=", 1)[1] for line in out.getvalue().splitlines()]
    assert len(ids) == len(set(ids))  # nothing printed twice across polls
    assert ids[-2:] == sent  # each new request, in order, after what was there before


def test_stack_reads_the_log_groups_from_the_stacks_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"region": "eu-west-1", "cloudwatch_log_group": "/aws/lambda/f"}))
    monkeypatch.setenv("TAP_OUTPUTS_FILE", str(outputs))

    with pytest.raises(targets.LogsError, match="have no 'api_access_log_group'"):
        targets.live_target("prod", tmp_path)

    outputs.write_text(
        json.dumps(
            {
                "region": "eu-west-1",
                "cloudwatch_log_group": "/aws/lambda/f",
                "api_access_log_group": "/aws/apigateway/a",
            }
        )
    )
    target = targets.live_target("prod", tmp_path)
    assert (target.function_groups, target.access_group) == (
        ("/aws/lambda/f",),
        "/aws/apigateway/a",
    )
    assert target.description == "stack prod"


# --- the command's arguments, without a deploy ---------------------------------------


def test_since_takes_durations_and_iso_times_and_refuses_the_rest() -> None:
    now = 1_800_000_000.0
    assert parse_since("10m", now) == int((now - 600) * 1000)
    assert parse_since("2026-11-29T12:00:00Z", now) == 1_795_953_600_000
    with pytest.raises(LogsError, match="30s, 10m"):
        parse_since("yesterday", now)


def test_status_filters() -> None:
    fivexx = status_matcher("5xx")
    assert fivexx(503)
    assert not fivexx(404)
    assert not fivexx(None)
    some = status_matcher("404,2xx")
    assert some(404)
    assert some(204)
    assert not some(403)
    with pytest.raises(LogsError, match="class"):
        status_matcher("500s")


def test_a_request_id_that_starts_with_a_dash_is_still_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # API Gateway's ids are URL-safe base64: "-Ab3..." is a real one, not an option.
    monkeypatch.setenv(targets.STATE_DIR_ENV, str(tmp_path))
    err = io.StringIO()

    code = tail.run(["--local", "--request-id", "-Ab3dEfGhIjKlMn="], io.StringIO(), err)

    # It got as far as looking for the local deploy (no argparse error).
    assert code == tail.EXIT_USAGE
    assert "no local deploy recorded" in err.getvalue()
