"""The HTTP API emulator end to end: requests in over 127.0.0.1, a real worker process
running a small test function, responses and log lines out.

The test function is written here into a zip, so these tests do not depend on the
project's handler; one test at the end runs the real code archive too. Rules cited are
those of docs/http-api.md.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tap.local.gateway.emulator import Emulator, EmulatorConfigError
from tap.local.specs import ApiSpec, CorsSpec, FunctionSpec
from tests.local.builders import build_api_spec, build_function_spec, code_zip

ACCOUNT = "123456789012"
REGION = "us-east-1"
ORIGIN = "https://app.example.com"

# One function that does what the path asks: /echo returns the event, context and
# environment; /raise raises; /garbage/<kind> returns something API Gateway cannot use...
TEST_FUNCTION = r"""
import base64, json, logging, os, sys, time

logger = logging.getLogger("testfn")
SEEN = {"cold": True}

def handler(event, context):
    path = event["rawPath"]
    cold, SEEN["cold"] = SEEN["cold"], False
    if path.startswith("/log"):
        print("plain print line")
        print("to stderr", file=sys.stderr)
        logger.info("structured %s", "record", extra={"orderId": 7})
        logger.debug("below the level: dropped")
    if path == "/raise":
        raise ValueError("secret detail /tmp/x")
    if path == "/crash":
        os._exit(3)
    if path in ("/sleep", "/slow"):
        time.sleep(30)
    if path == "/nap":
        start = time.time()
        time.sleep(0.05)
        return {"statusCode": 200, "body": json.dumps([start, time.time()])}
    if path == "/garbage/object":
        return object()
    if path == "/garbage/status":
        return {"statusCode": "two hundred", "body": "x"}
    if path == "/garbage/body":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if path == "/garbage/base64":
        return {"statusCode": 200, "body": "%%%", "isBase64Encoded": True}
    if path == "/garbage/header":
        return {"statusCode": 200, "headers": {"x-bad": "a\r\nset-cookie: evil"}, "body": ""}
    if path == "/garbage/huge":
        return {"statusCode": 200, "body": "x" * (6 * 1024 * 1024 + 1)}
    if path == "/plain/dict":
        return {"hello": "world"}
    if path == "/plain/string":
        return "just text"
    if path == "/plain/list":
        return [1, 2]
    if path == "/shaped":
        return {
            "statusCode": 201,
            "headers": {"x-custom": "yes", "content-type": "text/plain", "x-num": 5},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": "created",
        }
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if path == "/cors-from-function":
        return {"statusCode": 200, "headers": {
            "Access-Control-Allow-Origin": "https://evil.example",
            "access-control-allow-credentials": "true", "x-kept": "1"}, "body": "{}"}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({
            "event": event,
            "cold": cold,
            "env": dict(os.environ),
            "cwd": os.getcwd(),
            "sys_path0": sys.path[0],
            "context": {
                "aws_request_id": context.aws_request_id,
                "function_name": context.function_name,
                "function_version": context.function_version,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "invoked_function_arn": context.invoked_function_arn,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining_ms": context.get_remaining_time_in_millis(),
            },
        }),
    }
"""

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "status": "$context.status",
        "routeKey": "$context.routeKey",
        "method": "$context.httpMethod",
        "path": "$context.path",
        "protocol": "$context.protocol",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "responseLength": "$context.responseLength",
        "integrationStatus": "$context.integrationStatus",
        "integrationError": "$context.integrationErrorMessage",
        "latency": "$context.responseLatency",
        "unknownVariable": "$context.authorizer.claims.sub",
    }
)


def function_zip(source: str = TEST_FUNCTION) -> bytes:
    return code_zip({"testfn/__init__.py": "", "testfn/main.py": source})


def function_spec(name: str = "fn", *, timeout_s: float = 5.0, **env: str) -> FunctionSpec:
    return build_function_spec(
        name,
        function_zip(),
        "testfn.main.handler",
        region=REGION,
        account=ACCOUNT,
        environment={"ENVIRONMENT": "Test", "METRICS_NAMESPACE": "Tap", **env},
        timeout_s=timeout_s,
        memory_mb=256,
    )


CORS = CorsSpec(
    allow_origins=(ORIGIN,),
    allow_methods=("GET", "POST"),
    allow_headers=("content-type", "authorization"),
    expose_headers=("x-request-id",),
    max_age=300,
    allow_credentials=False,
)


def api_spec(routes: dict[str, str], **overrides: Any) -> ApiSpec:
    values: dict[str, Any] = {"cors": CORS, "access_log_format": ACCESS_LOG_FORMAT, **overrides}
    return build_api_spec(routes, region=REGION, account=ACCOUNT, **values)


ROUTES = {
    "GET /health": "fn",
    "GET /items/{id}": "fn",
    "ANY /{proxy+}": "fn",
    "GET /slow": "slow",
}


class Sinks:
    def __init__(self) -> None:
        self.function: list[tuple[str, str]] = []
        self.access: list[str] = []
        self.lock = threading.Lock()

    def on_function_log(self, name: str, line: str) -> None:
        with self.lock:
            self.function.append((name, line))

    def on_access_log(self, line: str) -> None:
        with self.lock:
            self.access.append(line)

    def function_lines(self) -> list[str]:
        with self.lock:
            return [line for _, line in self.function]

    def clear(self) -> None:
        with self.lock:
            self.function.clear()
            self.access.clear()


@pytest.fixture(scope="module")
def sinks() -> Sinks:
    return Sinks()


@pytest.fixture(scope="module")
def emulator(sinks: Sinks) -> Iterator[Emulator]:
    functions = {"fn": function_spec(), "slow": function_spec("slow", timeout_s=0.5)}
    with Emulator(
        api_spec(ROUTES),
        functions,
        on_function_log=sinks.on_function_log,
        on_access_log=sinks.on_access_log,
    ) as running:
        yield running


@pytest.fixture
def logs(sinks: Sinks) -> Sinks:
    sinks.clear()
    return sinks


class Reply:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.getheaders()
        self.body = response.read()

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    emulator: Emulator,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=20)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers or []:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        return Reply(connection.getresponse())
    finally:
        connection.close()


def echo(emulator: Emulator, method: str, target: str, **kwargs: Any) -> dict[str, Any]:
    reply = call(emulator, method, target, **kwargs)
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json()
    return result


INTERNAL_ERROR = b'{"message":"Internal Server Error"}'


# --- events (rules 1–7) ------------------------------------------------------------------


def test_event_has_the_2_0_shape_and_a_fresh_request_id(emulator: Emulator) -> None:
    # WHEN the same route is called twice
    first = call(emulator, "GET", "/health")
    second = call(emulator, "GET", "/health")

    # THEN the function got a 2.0 event for the exact route (rule 1) with the context of rule 7
    event = first.json()["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /health"
    assert event["rawPath"] == "/health"
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event
    assert "pathParameters" not in event
    assert "cookies" not in event
    assert "body" not in event  # rule 6: no body, no key
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == ACCOUNT
    assert context["apiId"] == "abc123"
    assert context["stage"] == "$default"
    assert context["domainName"] == "127.0.0.1"
    assert context["http"] == {
        "method": "GET",
        "path": "/health",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["time"])
    assert abs(context["timeEpoch"] - time.time() * 1000) < 60_000  # milliseconds, not s
    # requestId is fresh per request and is the one API Gateway returns as apigw-requestid
    assert context["requestId"] == first.header("apigw-requestid")
    assert second.json()["event"]["requestContext"]["requestId"] != context["requestId"]


def test_query_string_raw_and_decoded(emulator: Emulator) -> None:
    event = echo(emulator, "GET", "/q?a=1&a=2&b=x%20y&c=%26&flag")["event"]

    # rule 2: the raw query is still percent-encoded; rule 5: decoded, repeats joined
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y&c=%26&flag"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y", "c": "&", "flag": ""}


def test_headers_lowercase_repeats_joined_and_cookies_moved(emulator: Emulator) -> None:
    event = echo(
        emulator,
        "GET",
        "/h",
        headers=[
            ("X-Mixed-Case", "one"),
            ("X-Repeat", "a"),
            ("X-Repeat", "b"),
            ("Cookie", "session=abc; theme=dark"),
            ("Cookie", "third=3"),
            ("User-Agent", "tests/1.0"),
        ],
    )["event"]

    headers = event["headers"]
    assert headers["x-mixed-case"] == "one"  # rule 3
    assert headers["x-repeat"] == "a,b"
    assert "cookie" not in headers  # rule 4
    assert event["cookies"] == ["session=abc", "theme=dark", "third=3"]
    assert all(name == name.lower() for name in headers)
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert event["requestContext"]["http"]["userAgent"] == "tests/1.0"


@pytest.mark.parametrize(
    ("content_type", "as_text"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("text/plain", True),
        ("text/csv", True),
        ("application/xml", True),
        ("application/javascript", True),
        ("application/x-www-form-urlencoded", False),
        ("application/octet-stream", False),
        ("image/png", False),
        (None, False),
    ],
)
def test_body_text_or_base64_by_content_type(
    emulator: Emulator, content_type: str | None, as_text: bool
) -> None:
    body = b'{"a": "\xc3\xa9"}'
    headers = [("Content-Type", content_type)] if content_type else []

    event = echo(emulator, "POST", "/body", body=body, headers=headers)["event"]

    # rule 6: text for text/*, JSON, XML, JavaScript; everything else base64
    assert event["isBase64Encoded"] is (not as_text)
    if as_text:
        assert event["body"] == body.decode()
    else:
        assert base64.b64decode(event["body"]) == body


def test_path_parameters_for_templated_and_greedy_routes(emulator: Emulator) -> None:
    item = echo(emulator, "GET", "/items/42")["event"]
    greedy = echo(emulator, "DELETE", "/a/b/c")["event"]

    assert item["routeKey"] == "GET /items/{id}"
    assert item["pathParameters"] == {"id": "42"}
    assert greedy["routeKey"] == "ANY /{proxy+}"
    assert greedy["pathParameters"] == {"proxy": "a/b/c"}
    assert greedy["requestContext"]["http"]["method"] == "DELETE"


def test_exact_route_wins_over_greedy(emulator: Emulator) -> None:
    assert echo(emulator, "GET", "/health")["event"]["routeKey"] == "GET /health"
    # A method with no exact route falls to the ANY greedy route
    assert echo(emulator, "POST", "/health")["event"]["routeKey"] == "ANY /{proxy+}"


def test_unmatched_route_is_404_without_calling_the_function(
    emulator: Emulator, logs: Sinks
) -> None:
    # GIVEN no $default route, and a greedy route that does not match "/" (rule 12)
    reply = call(emulator, "GET", "/")

    assert reply.status == 404
    assert reply.body == b'{"message":"Not Found"}'
    assert reply.header("content-type") == "application/json"
    assert not any(line.startswith("START") for line in logs.function_lines())
    access = json.loads(logs.access[-1])
    assert access["status"] == "404"
    assert access["routeKey"] == "-"


# --- results (rules 8–10) -----------------------------------------------------------------


def test_shaped_result_is_used_as_given(emulator: Emulator) -> None:
    reply = call(emulator, "GET", "/shaped")

    assert reply.status == 201
    assert reply.body == b"created"
    assert reply.header("x-custom") == "yes"
    assert reply.header("x-num") == "5"
    assert reply.header("content-type") == "text/plain"
    assert reply.all("set-cookie") == ["a=1; Path=/", "b=2"]  # rule 8


def test_base64_result_is_decoded(emulator: Emulator) -> None:
    reply = call(emulator, "GET", "/binary")

    assert reply.status == 200
    assert reply.body == bytes(range(256))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/plain/dict", b'{"hello": "world"}'),
        ("/plain/list", b"[1, 2]"),
        ("/plain/string", b"just text"),  # rule 9: a string is sent as-is
    ],
)
def test_result_without_status_code_is_a_json_200(
    emulator: Emulator, path: str, body: bytes
) -> None:
    reply = call(emulator, "GET", path)

    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert reply.body == body


def test_function_error_is_500_with_the_traceback_in_the_log_only(
    emulator: Emulator, logs: Sinks
) -> None:
    reply = call(emulator, "GET", "/raise")

    assert reply.status == 500
    assert reply.body == INTERNAL_ERROR  # rule 10, nothing about the error
    errors = [json.loads(line) for line in logs.function_lines() if '"ERROR"' in line]
    assert len(errors) == 1
    assert errors[0]["level"] == "ERROR"
    # Lambda's JSON error record (awslambdaric's, or the built-in worker's copy of it)
    assert errors[0]["errorType"] == "ValueError"
    assert errors[0]["errorMessage"] == "secret detail /tmp/x"
    assert re.fullmatch(r"[0-9a-f-]{36}", errors[0]["requestId"])
    assert any("testfn/main.py" in frame for frame in errors[0]["stackTrace"])
    assert json.loads(logs.access[-1])["integrationError"] == "ValueError: secret detail /tmp/x"


@pytest.mark.parametrize("kind", ["object", "status", "body", "base64", "header", "huge"])
def test_malformed_result_is_500(emulator: Emulator, kind: str) -> None:
    # object: not JSON-serializable (Runtime.MarshalError); status: not an integer;
    # body: not a string; base64: undecodable; header: CRLF injection; huge: over 6 MB
    reply = call(emulator, "GET", f"/garbage/{kind}")

    assert reply.status == 500
    assert reply.body == INTERNAL_ERROR
    assert reply.header("set-cookie") is None


def test_timeout_inside_lambda_is_500_and_the_instance_is_replaced(
    emulator: Emulator, logs: Sinks
) -> None:
    # GIVEN the "slow" function's timeout is 0.5 s, below the 30 s integration timeout
    reply = call(emulator, "GET", "/slow")

    # THEN it is a Lambda timeout, which API Gateway answers 500 (rule 10), not 503
    assert reply.status == 500
    assert reply.body == INTERNAL_ERROR
    assert any("Task timed out after" in line for line in logs.function_lines())
    # AND the killed worker is replaced: the next call cold-starts a fresh one
    again = call(emulator, "GET", "/slow")
    assert again.status == 500
    assert sum("Task timed out after" in line for line in logs.function_lines()) == 2


def test_crash_is_500_and_the_next_request_gets_a_fresh_worker(
    emulator: Emulator, logs: Sinks
) -> None:
    reply = call(emulator, "GET", "/crash")

    assert reply.status == 500
    assert reply.body == INTERNAL_ERROR
    assert any("Runtime exited with error: exit status 3" in line for line in logs.function_lines())
    after = echo(emulator, "GET", "/after-crash")
    assert after["cold"] is True


def test_worker_is_reused_between_requests(emulator: Emulator) -> None:
    echo(emulator, "GET", "/warm-up")
    assert echo(emulator, "GET", "/warm")["cold"] is False


def test_an_instance_runs_one_invocation_at_a_time() -> None:
    # GIVEN local mode capped at one instance, and 6 concurrent requests to a handler
    # that takes 50 ms
    with (
        Emulator(api_spec({"GET /nap": "fn"}), {"fn": function_spec()}, max_instances=1) as one,
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        replies = list(pool.map(lambda _: call(one, "GET", "/nap"), range(6)))

    # THEN they waited for the instance and ran one after the other on it
    spans = sorted(tuple(reply.json()) for reply in replies)
    assert all(reply.status == 200 for reply in replies)
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


# --- the function's runtime ---------------------------------------------------------------


def test_function_environment_and_context_as_on_lambda(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = echo(emulator, "GET", "/env")
    env, context = result["env"], result["context"]

    assert env["ENVIRONMENT"] == "Test"
    assert env["METRICS_NAMESPACE"] == "Tap"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert env["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert env["LAMBDA_TASK_ROOT"] == result["cwd"] == result["sys_path0"]
    assert context["function_name"] == "fn"
    assert context["function_version"] == "$LATEST"
    assert context["memory_limit_in_mb"] == "256"
    assert context["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"
    assert context["log_group_name"] == "/aws/lambda/fn"
    assert context["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert re.fullmatch(r"[0-9a-f-]{36}", context["aws_request_id"])
    assert 0 < context["remaining_ms"] <= 5000


def test_worker_gets_no_credentials_from_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN credentials in the emulator's own environment, and a function that tries to
    # set its own through its configuration (Lambda reserves AWS_* names)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    spec = function_spec(AWS_SESSION_TOKEN="token", AWS_REGION="eu-west-1")

    with Emulator(api_spec({"GET /env": "fn"}), {"fn": spec}) as emulator:
        env = echo(emulator, "GET", "/env")["env"]

    # THEN none of it reaches the function, and Lambda's own values win
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(env)
    assert "AWS_PROFILE" not in env
    assert "PYTHONPATH" not in env
    assert env["AWS_REGION"] == REGION


def test_function_log_lines_reach_the_sink_in_order(emulator: Emulator, logs: Sinks) -> None:
    result = echo(emulator, "GET", "/log")
    request_id = result["context"]["aws_request_id"]

    names = {name for name, _ in logs.function}
    lines = logs.function_lines()
    assert names == {"fn"}
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[1:3] == ["plain print line", "to stderr"]  # print stays plain (rule 21)
    record = json.loads(lines[3])
    assert record["level"] == "INFO"
    assert record["message"] == "structured record"
    assert record["logger"] == "testfn"
    assert record["requestId"] == request_id
    assert record["orderId"] == 7  # extra= keys, as Lambda's JSON formatter
    assert not any("below the level" in line for line in lines)  # DEBUG < INFO
    assert lines[4] == f"END RequestId: {request_id}"
    assert lines[5].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert len(lines) == 6


def test_access_log_renders_the_stage_format(emulator: Emulator, logs: Sinks) -> None:
    reply = call(emulator, "GET", "/items/7?x=1")

    assert len(logs.access) == 1
    line = json.loads(logs.access[0])
    assert line["requestId"] == reply.header("apigw-requestid")
    assert line["status"] == "200"
    assert line["routeKey"] == "GET /items/{id}"
    assert line["method"] == "GET"
    assert line["path"] == "/items/7"
    assert line["protocol"] == "HTTP/1.1"
    assert line["ip"] == "127.0.0.1"
    assert line["responseLength"] == str(len(reply.body))
    assert line["integrationStatus"] == "200"
    assert line["integrationError"] == "-"
    assert line["unknownVariable"] == "-"  # what API Gateway writes for no value
    assert line["latency"].isdigit()
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", line["requestTime"])


# --- CORS (rules 16–19) --------------------------------------------------------------------


def test_preflight_is_answered_without_the_function(emulator: Emulator, logs: Sinks) -> None:
    reply = call(
        emulator,
        "OPTIONS",
        "/anything",
        headers=[
            ("Origin", ORIGIN),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
    )

    assert reply.status == 204
    assert reply.body == b""
    assert reply.header("access-control-allow-origin") == ORIGIN
    assert reply.header("access-control-allow-methods") == "GET,POST"
    assert reply.header("access-control-allow-headers") == "content-type,authorization"
    assert reply.header("access-control-max-age") == "300"
    assert reply.header("access-control-allow-credentials") is None
    assert logs.function == []  # rule 16: never calls the function


def test_preflight_from_a_disallowed_origin_gets_no_cors_headers(
    emulator: Emulator, logs: Sinks
) -> None:
    # Rule 19 is unverified against AWS; the emulator's decision: 204 with no
    # Access-Control-* headers, so the browser refuses the request.
    reply = call(
        emulator,
        "OPTIONS",
        "/anything",
        headers=[("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")],
    )

    assert reply.status == 204
    assert not [k for k, _ in reply.headers if k.lower().startswith("access-control-")]
    assert logs.function == []


def test_options_without_preflight_headers_is_routed(emulator: Emulator) -> None:
    # Not a preflight (no Access-Control-Request-Method): the ANY route takes it
    event = echo(emulator, "OPTIONS", "/x", headers=[("Origin", ORIGIN)])["event"]
    assert event["requestContext"]["http"]["method"] == "OPTIONS"


def test_allowed_origin_gets_configured_headers_and_function_cors_is_dropped(
    emulator: Emulator,
) -> None:
    reply = call(emulator, "GET", "/cors-from-function", headers=[("Origin", ORIGIN)])

    assert reply.status == 200
    assert reply.header("x-kept") == "1"
    assert reply.all("access-control-allow-origin") == [ORIGIN]  # not the function's
    assert reply.header("access-control-expose-headers") == "x-request-id"
    assert reply.header("access-control-allow-credentials") is None  # rule 17


@pytest.mark.parametrize(
    "headers", [[], [("Origin", "https://evil.example")]], ids=["no-origin", "disallowed"]
)
def test_no_cors_headers_without_an_allowed_origin(
    emulator: Emulator, headers: list[tuple[str, str]]
) -> None:
    reply = call(emulator, "GET", "/cors-from-function", headers=headers)

    assert reply.status == 200
    assert not [k for k, _ in reply.headers if k.lower().startswith("access-control-")]


def test_cors_headers_on_gateway_errors_too(emulator: Emulator) -> None:
    reply = call(emulator, "GET", "/", headers=[("Origin", ORIGIN)])

    assert reply.status == 404
    assert reply.header("access-control-allow-origin") == ORIGIN


def test_wildcard_origin_answers_star_and_no_cors_passes_function_headers() -> None:
    star = CorsSpec(("*",), ("*",), ("*",), (), None, False)
    routes = {"ANY /{proxy+}": "fn"}
    with Emulator(api_spec(routes, cors=star), {"fn": function_spec()}) as emulator:
        preflight = call(
            emulator,
            "OPTIONS",
            "/x",
            headers=[("Origin", "https://any.example"), ("Access-Control-Request-Method", "PUT")],
        )
        simple = call(emulator, "GET", "/cors-from-function", headers=[("Origin", "https://a.b")])
    with Emulator(api_spec(routes, cors=None), {"fn": function_spec()}) as emulator:
        uncors = call(emulator, "GET", "/cors-from-function", headers=[("Origin", "https://a.b")])
        options = call(
            emulator,
            "OPTIONS",
            "/x",
            headers=[("Origin", "https://a.b"), ("Access-Control-Request-Method", "PUT")],
        )

    assert preflight.status == 204
    assert preflight.header("access-control-allow-origin") == "*"  # rule 18
    assert preflight.header("access-control-max-age") is None
    assert simple.header("access-control-allow-origin") == "*"
    # Without cors_configuration API Gateway leaves CORS to the function, and OPTIONS
    # is an ordinary request for the routes
    assert uncors.header("access-control-allow-origin") == "https://evil.example"
    assert options.status == 200
    assert options.json()["event"]["requestContext"]["http"]["method"] == "OPTIONS"


# --- lifecycle ----------------------------------------------------------------------------


def test_url_first_then_load() -> None:
    # GIVEN an emulator started before the deploy has produced the routes
    emulator = Emulator()
    try:
        url = emulator.start()
        assert url == f"http://127.0.0.1:{emulator.port}"
        assert emulator.start() == url  # idempotent
        before = call(emulator, "GET", "/health")

        emulator.load(api_spec({"GET /health": "fn"}), {"fn": function_spec()})
        after = call(emulator, "GET", "/health")
    finally:
        emulator.stop()
        emulator.stop()  # idempotent

    assert before.status == 503
    assert before.body == b'{"message":"Service Unavailable"}'
    assert after.status == 200


def test_integration_timeout_is_503() -> None:
    # GIVEN an integration timeout (300 ms) shorter than the function's own (5 s)
    api = api_spec({"GET /sleep": "fn"}, integration_timeout_ms=300)
    with Emulator(api, {"fn": function_spec()}) as emulator:
        reply = call(emulator, "GET", "/sleep")

    # THEN API Gateway stops waiting first: 503 (rule 11)
    assert reply.status == 503
    assert reply.body == b'{"message":"Service Unavailable"}'


def test_named_stage_prefixes_the_path() -> None:
    api = api_spec({"GET /health": "fn"}, stage="prod")
    with Emulator(api, {"fn": function_spec()}) as emulator:
        event = echo(emulator, "GET", "/prod/health")["event"]
        outside = call(emulator, "GET", "/health")

    assert event["rawPath"] == "/prod/health"  # rule 2
    assert event["routeKey"] == "GET /health"
    assert event["requestContext"]["stage"] == "prod"
    assert outside.status == 404


def test_import_error_is_500_with_the_reason_in_the_log() -> None:
    lines: list[str] = []
    spec = function_spec()
    broken = FunctionSpec(**{**spec.__dict__, "handler": "testfn.missing.handler"})
    with Emulator(
        api_spec({"GET /x": "fn"}),
        {"fn": broken},
        on_function_log=lambda _, line: lines.append(line),
    ) as emulator:
        reply = call(emulator, "GET", "/x")

    assert reply.status == 500
    assert reply.body == INTERNAL_ERROR
    error = json.loads(next(line for line in lines if "Runtime.ImportModuleError" in line))
    assert "testfn.missing" in error["errorMessage"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payload_format_version": "1.0"}, "payload_format_version is '1.0'"),
        ({"routes": {"GET /x": "nope"}}, "route 'GET /x' targets function 'nope'"),
        ({"routes": {"FETCH /x": "fn"}}, "route key 'FETCH /x' must be '$default'"),
        ({"routes": {"GET /{proxy+}/x": "fn"}}, "must be the last segment"),
        ({"integration_timeout_ms": 30_001}, "integration_timeout_ms is 30001"),
        (
            {"cors": CorsSpec(("*",), (), (), (), None, True)},
            "allow_credentials cannot be true with allow_origins '*'",
        ),
    ],
)
def test_load_refuses_what_cannot_be_served(change: dict[str, Any], message: str) -> None:
    api = api_spec(**{"routes": {"GET /x": "fn"}, **change})

    with pytest.raises(EmulatorConfigError) as error:
        Emulator(api, {"fn": function_spec()})

    assert message in str(error.value)


def test_the_real_function_code_answers_health() -> None:
    # GIVEN the project's own code archive and handler, behind its own route table
    from tap.compute import HANDLER, code_archive, zip_bytes
    from tap.function.routes import ROUTE_KEYS

    spec = FunctionSpec(
        **{
            **function_spec("tap").__dict__,
            "zip_bytes": zip_bytes(code_archive()),
            "handler": HANDLER,
        }
    )
    lines: list[str] = []
    api = api_spec({key: "tap" for key in ROUTE_KEYS})
    with Emulator(
        api, {"tap": spec}, on_function_log=lambda _, line: lines.append(line)
    ) as emulator:
        health = call(emulator, "GET", "/health", headers=[("Origin", ORIGIN)])
        unknown = call(emulator, "GET", "/nope")

    assert health.status == 200, (health.body, lines)
    assert health.json()["status"] == "healthy"
    assert health.json()["environment"] == "Test"
    assert health.json()["region"] == REGION
    assert health.header("access-control-allow-origin") == ORIGIN
    assert unknown.status == 404  # no route: API Gateway's 404, the function never runs
    assert unknown.body == b'{"message":"Not Found"}'
