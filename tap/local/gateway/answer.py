"""One request answered as API Gateway answers it: stage throttling, CORS preflights,
the route, the JWT authorizer, the function's invocation and its result (docs/http-api.md
rules 2, 10-13, 16-17, 50-52, 60-62). The HTTP server (tap.local.gateway.connection) reads
the request off the wire and writes what this returns.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from tap.cors import header_value, is_preflight
from tap.local.gateway import jwt_auth
from tap.local.gateway.apigw import (
    HttpResponse,
    MalformedResultError,
    RequestInfo,
    RouteTable,
    apply_cors,
    build_event,
    json_response,
    preflight_response,
    request_time,
    translate_result,
)
from tap.local.gateway.throttle import TokenBucket
from tap.local.logs.sink import LogSink
from tap.local.runtime.pool import FunctionPool
from tap.local.specs import ApiSpec


@dataclass
class Loaded:
    """What the emulator serves: the API, its route table, one pool per function, and the
    stage's token bucket."""

    api: ApiSpec
    routes: RouteTable
    functions: dict[str, FunctionPool]
    bucket: TokenBucket


def answer_request(
    loaded: Loaded | None, request: RequestInfo, host: str, sink: LogSink
) -> tuple[HttpResponse, dict[str, object]]:
    """Answer one request read whole from the wire; also the access-log values.

    ``loaded`` is what is served (None: not yet, 503); ``host`` stands in for a request
    without Host; the function's errors that API Gateway hides go to ``sink``.
    """
    started = time.monotonic()
    context: dict[str, object] = {
        "requestId": request.request_id,
        "extendedRequestId": request.request_id,
        "httpMethod": request.method,
        "path": request.raw_path,
        "protocol": request.protocol,
        "identity.sourceIp": request.source_ip,
        "identity.userAgent": header_value(request.headers, "user-agent"),
        "requestTime": request_time(request.epoch_s),
        "requestTimeEpoch": int(request.epoch_s * 1000),
        "routeKey": None,
        "integrationErrorMessage": None,
        "integrationStatus": None,
        "integrationLatency": None,
        "error.message": None,
    }
    if loaded is None:
        response = json_response(503, "Service Unavailable")
        context["error.message"] = "Service Unavailable"
        return response, context
    api = loaded.api
    if not loaded.bucket.take():
        # docs/http-api.md rules 13 and 52: past the stage's burst and rate.
        context["error.message"] = "Too Many Requests"
        return json_response(429, "Too Many Requests"), context
    context.update(
        apiId=api.api_id,
        stage=api.stage,
        accountId=api.account_id,
        domainName=(header_value(request.headers, "host") or host).rsplit(":", 1)[0],
    )
    origin = header_value(request.headers, "origin")
    if api.cors is not None and is_preflight(request.method, request.headers):
        # docs/http-api.md rule 16: never reaches the function.
        return preflight_response(api.cors, origin), context
    response = _route_and_invoke(loaded, request, context, started, sink)
    if api.cors is not None:
        response = apply_cors(api.cors, origin, response)  # rule 17
    return response, context


def _route_and_invoke(
    loaded: Loaded,
    request: RequestInfo,
    context: dict[str, object],
    started: float,
    sink: LogSink,
) -> HttpResponse:
    api = loaded.api
    path = request.raw_path
    if api.stage != "$default":
        # docs/http-api.md rule 2: a named stage is the first path segment.
        prefix = f"/{api.stage}"
        if path != prefix and not path.startswith(prefix + "/"):
            context["error.message"] = "Not Found"
            return json_response(404, "Not Found")
        path = path[len(prefix) :] or "/"
    match = loaded.routes.match(request.method, path)
    if match is None:
        context["error.message"] = "Not Found"  # rule 12
        return json_response(404, "Not Found")
    context["routeKey"] = match.route_key
    route_auth = api.route_auth.get(match.route_key)
    decision = None
    if route_auth is not None:
        # docs/http-api.md rules 60-61: the authorizer answers before the integration.
        identity = header_value(request.headers, "authorization")
        decision = jwt_auth.authorize(identity, route_auth, time.time())
        if not decision.allowed:
            denial = decision.response()
            context["error.message"] = json.loads(denial.body)["message"]
            return denial
    event = build_event(
        request, match, api_id=api.api_id, account_id=api.account_id, stage=api.stage
    )
    if decision is not None:
        event["requestContext"]["authorizer"] = decision.event_authorizer()  # rule 62
    function = loaded.functions[match.target]
    deadline = started + api.integration_timeout_ms / 1000
    invoke_started = time.monotonic()
    result = function.invoke(event, deadline)
    context["integrationLatency"] = int((time.monotonic() - invoke_started) * 1000)
    context["integration.requestId"] = result.request_id
    if result.status == "throttled":
        # Rule 50: Lambda refused the invocation (429 TooManyRequestsException); rule
        # 51: an HTTP API answers its client 500.
        context["integrationStatus"] = 429
        context["integrationErrorMessage"] = result.error_message
        context["error.message"] = "Internal Server Error"
        return json_response(500, "Internal Server Error")
    if result.status == "deadline":
        # Rule 11: the integration timeout passed first.
        context["integrationErrorMessage"] = result.error_message
        context["error.message"] = "Service Unavailable"
        return json_response(503, "Service Unavailable")
    if result.status == "too_large" and result.request_id is None:
        # The event itself exceeded Lambda's 6 MB invoke limit (rule 14); what API
        # Gateway answers is unverified: 413, as for an oversized body.
        context["integrationErrorMessage"] = result.error_message
        return json_response(413, "Request Entity Too Large")
    context["integrationStatus"] = 200
    if result.status != "ok" or result.payload is None:
        # Rule 10: a function error, a timeout inside Lambda, a crash, an oversized
        # response. Details go to the function's log only.
        context["integrationErrorMessage"] = (
            f"{result.error_type}: {result.error_message}"
            if result.error_type
            else result.error_message
        )
        context["error.message"] = "Internal Server Error"
        return json_response(500, "Internal Server Error")
    try:
        return translate_result(result.payload)
    except MalformedResultError as exc:
        message = f"Malformed Lambda proxy response: {exc}"
        context["integrationErrorMessage"] = message
        context["error.message"] = "Internal Server Error"
        sink(function.spec.name, result.request_id, f"[emulator] {message}", "emulator", "")
        return json_response(500, "Internal Server Error")
