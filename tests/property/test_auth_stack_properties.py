"""Properties of the stack with tap:auth: for any valid auth object, the JWT authorizer guards
exactly the routes that are not public, with exactly their scopes, and the policy pack
passes the stack. Each example runs the program under mocks, so this runs a quarter of the
profile's max_examples (at least 5), as tests/property/test_stack_properties.py does."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from tap import engine
from tap.function.routes import ROUTE_KEYS
from tap.policy import rules as r
from tests.policy.stacks import TODAY, from_recording
from tests.property.test_config_auth_domain import auth_objects
from tests.pulumi_mocks import run_program

MAX_EXAMPLES = max(5, settings.default.max_examples // 4)


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(auth_objects())
def test_the_authorizer_guards_exactly_the_non_public_routes(obj: dict[str, Any]) -> None:
    run = run_program({"auth": json.dumps(obj)})

    public = set(obj.get("publicRoutes", ["GET /", "GET /health"]))
    scopes = obj.get("scopes", {})
    [authorizer] = run.of_type(engine.HTTP_API_AUTHORIZER)
    routes = {x.input("routeKey"): x.inputs for x in run.of_type(engine.HTTP_API_ROUTE)}
    assert set(routes) == set(ROUTE_KEYS)
    for key, inputs in routes.items():
        if key in public:
            assert "authorizerId" not in inputs
            assert inputs["operationName"] == "public"
        else:
            assert inputs["authorizationType"] == "JWT"
            assert inputs["authorizerId"] == authorizer.id
            assert inputs.get("authorizationScopes") == scopes.get(key)
    assert bool(run.of_type(engine.USER_POOL)) == (obj["type"] == "cognito")
    report = r.evaluate(from_recording(run), today=TODAY)
    assert report.fired("mandatory") == set()
