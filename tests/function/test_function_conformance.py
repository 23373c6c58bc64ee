"""Every event in shared/conformance/events/ gets a valid 2.0 response and the status the
contract (DESIGN.md, "The function's HTTP contract") gives it, for the reason stated."""

from __future__ import annotations

import json

import pytest

from tap.function.handler import App
from tests.function.conformance import event_files, load_event, manifest
from tests.function.support import NOW_ISO, check_response

NO_CONTENT_TYPE_415 = (
    415,
    "a body with no content-type: only application/json is read (the docs-derived event "
    "omits the header; real AWS would also have base64-encoded it, http-api.md rule 6)",
)
GET_MY_PATH_404 = (
    404,
    "GET /my/path: no GET route for it; POST/PUT/DELETE /{proxy+} match the path but "
    "API Gateway has no 405 for a greedy match (rule 12), so neither does the function",
)
NOT_V2_400 = (400, "a REST API (payload 1.0) event: not an HTTP API 2.0 request")

EXPECTED: dict[str, tuple[int, str]] = {
    "awsdocs-apigw-devguide__http-api-v2-example.json": (
        415,
        "POST /my/path with the text body 'Hello from Lambda' and no content-type",
    ),
    "awslambdago__apigw-request.json": NOT_V2_400,
    "awslambdago__apigw-v2-request-iam.json": GET_MY_PATH_404,
    "awslambdago__apigw-v2-request-jwt-authorizer.json": GET_MY_PATH_404,
    "awslambdago__apigw-v2-request-lambda-authorizer.json": GET_MY_PATH_404,
    "awslambdago__apigw-v2-request-no-authorizer.json": (200, "a real curl GET /: health"),
    "dotnet__http-api-v2-request-iam-authorizer.json": GET_MY_PATH_404,
    "mangum__http_gateway_v2_post_form.json": (
        415,
        "the form post: a body that is not declared JSON (no content-type at all)",
    ),
    "powertools__apiGatewayProxyEvent.json": NOT_V2_400,
    "powertools__apiGatewayProxyV2Event.json": NO_CONTENT_TYPE_415,
    "powertools__apiGatewayProxyV2EventPathTrailingSlash.json": (
        415,
        "POST /my/path/ routes to POST /{proxy+} (the trailing slash is kept, not "
        "folded), then its JSON body has no content-type",
    ),
    "powertools__apiGatewayProxyV2Event_GET.json": GET_MY_PATH_404,
    "powertools__apiGatewayProxyV2IamEvent.json": GET_MY_PATH_404,
    "powertools__apiGatewayProxyV2LambdaAuthorizerEvent.json": GET_MY_PATH_404,
    "powertools__apiGatewayProxyV2OtherGetEvent.json": (404, "GET /other/path: unknown path"),
    "powertools__apiGatewayProxyV2SchemaMiddlwareInvalidEvent.json": NO_CONTENT_TYPE_415,
    "powertools__apiGatewayProxyV2SchemaMiddlwareValidEvent.json": NO_CONTENT_TYPE_415,
    "powertools__lambdaFunctionUrlEvent.json": (
        200,
        "a Function URL event is 2.0-shaped (version, rawPath, requestContext.http): GET /",
    ),
    "rustruntime__apigw_v2_proxy_request_minimal.json": (200, "a real curl GET /: health"),
    "rustruntime__apigw_v2_sam_local.json": (
        404,
        "GET /hello: no such route (its body '' is sam local's 'no body')",
    ),
    "rustruntime__example-apigw-sam-http-request.json": (404, "GET /dump: no such route"),
    "samcli__generate-event_aws-proxy_v1.json": NOT_V2_400,
    "samlocal-1.170__get_path_param.json": (
        404,
        "GET /items/42: the emulator's own route GET /items/{id} is not one of ours",
    ),
    "samlocal-1.170__post_json.json": (
        200,
        "the JSON POST: content-type application/json (Title-Case name), echoed decoded",
    ),
}


def test_every_event_has_an_expectation_and_a_manifest_entry() -> None:
    files = event_files()
    assert sorted(EXPECTED) == files
    assert sorted(entry["file"] for entry in manifest()) == files


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


def test_form_post_is_told_to_send_json(app: App) -> None:
    body = json.loads(app(load_event("mangum__http_gateway_v2_post_form.json"), None)["body"])
    assert body == {"error": "request has a body but no content-type; send application/json"}


def test_trailing_slash_path_is_kept_and_echoed_once_declared_json(app: App) -> None:
    # GIVEN the trailing-slash event with the content-type its JSON body lacked
    event = load_event("powertools__apiGatewayProxyV2EventPathTrailingSlash.json")
    event["headers"]["Content-Type"] = "application/json"
    # WHEN it is handled THEN the path is rawPath as received, slash included
    status, _, body = check_response(app(event, None))
    assert status == 200
    assert body["path"] == "/my/path/"
    assert body["data"] == {"message": "hello world", "username": "tom"}
