"""Every event in tests/events/ gets a valid 2.0 response and the status the
contract (docs/design.md, "The function's HTTP contract") gives it, for the reason stated."""

from __future__ import annotations

import json

import pytest

from tap.function.handler import App
from tests.function.conformance import event_files, load_event, manifest
from tests.function.support import NOW_ISO, check_response

# file -> (status, why), as tests/events/MANIFEST.json states them.
EXPECTED: dict[str, tuple[int, str]] = {
    entry["file"]: (entry["expected_status"], entry["why"]) for entry in manifest()
}


def test_every_event_has_exactly_one_manifest_entry_with_its_origin() -> None:
    entries = manifest()
    assert sorted(entry["file"] for entry in entries) == event_files()
    assert len({entry["file"] for entry in entries}) == len(entries)
    for entry in entries:
        assert entry["repo"].count("/") == 1, entry
        assert len(entry["commit"]) == 40, entry
        int(entry["commit"], 16)
        assert entry["path"], entry
        assert entry["expected_status"] in {200, 400, 404, 405, 413, 415}, entry
        assert len(entry["why"]) > 10, entry


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_gets_the_contract_status(app: App, lines: list[str], name: str) -> None:
    status, reason = EXPECTED[name]
    response = app(load_event(name), None)
    got, headers, body = check_response(response)
    assert got == status, f"{name}: expected {status} because {reason}; got {got} {body}"
    # The request id is the event's requestContext.requestId when it has one (rule 7).
    event = load_event(name)
    assert headers["x-request-id"] == event["requestContext"]["requestId"]
    if status >= 400:
        assert set(body) == {"error"}
        assert body["error"]
    assert len(lines) == 1
    assert json.loads(lines[0])["status"] == status


def test_json_post_echoes_the_decoded_body(app: App) -> None:
    response = app(load_event("samlocal-1.170__post_json.json"), None)
    assert json.loads(response["body"]) == {
        "message": "POST request processed successfully",
        "path": "/echo",
        "data": {"k": "v"},
        "timestamp": NOW_ISO,
    }


@pytest.mark.parametrize(
    "name",
    ["awslambdago__apigw-v2-request-no-authorizer.json", "powertools__lambdaFunctionUrlEvent.json"],
)
def test_get_root_is_health(app: App, name: str) -> None:
    body = json.loads(app(load_event(name), None)["body"])
    assert body == {
        "status": "healthy",
        "timestamp": NOW_ISO,
        "environment": "Production",
        "region": "us-east-1",
    }


@pytest.mark.parametrize(
    "name",
    [
        "awslambdago__apigw-request.json",
        "powertools__apiGatewayProxyEvent.json",
        "samcli__generate-event_aws-proxy_v1.json",
    ],
)
def test_rest_api_events_are_refused_naming_the_payload_version(app: App, name: str) -> None:
    body = json.loads(app(load_event(name), None)["body"])
    assert body["error"].startswith("not an API Gateway HTTP API payload format 2.0 request: ")
    assert "use payload format 2.0" in body["error"]


def test_form_post_without_content_type_is_told_to_send_json(app: App) -> None:
    body = json.loads(app(load_event("mangum__http_gateway_v2_post_form.json"), None)["body"])
    assert body == {
        "error": "request body is not valid JSON: Expecting value: line 1 column 1 (char 0) "
        "(a body without content-type is read as JSON; send JSON, content-type "
        "application/json)"
    }


def test_form_post_declared_as_a_form_is_415(app: App) -> None:
    event = load_event("mangum__http_gateway_v2_post_form.json")
    event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    status, _, body = check_response(app(event, None))
    assert (status, body["error"]) == (
        415,
        "content-type 'application/x-www-form-urlencoded' is not supported; send application/json",
    )


def test_trailing_slash_path_is_kept_and_echoed(app: App) -> None:
    # GIVEN the trailing-slash event, whose JSON body has no content-type
    event = load_event("powertools__apiGatewayProxyV2EventPathTrailingSlash.json")
    # WHEN it is handled THEN the path is rawPath as received, slash included
    status, _, body = check_response(app(event, None))
    assert status == 200
    assert body["path"] == "/my/path/"
    assert body["data"] == {"message": "hello world", "username": "tom"}
