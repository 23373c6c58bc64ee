"""Hypothesis over malformed events: whatever arrives, the handler returns a valid 2.0
response, never raises, and never answers 5xx (only an injected fault may)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap.function.events import MAX_BODY_BYTES
from tests.function.conformance import http_event
from tests.function.support import check_response, make_app

EXAMPLES = settings.default.max_examples

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
# Anything json.loads could hand Lambda's runtime, plus the odd non-JSON Python value.
ANY_VALUE = st.one_of(JSON_VALUES, st.binary(max_size=16), st.tuples(st.integers()))

ODD_METHODS = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", ""]),
    st.text(max_size=12),
)
ODD_PATHS = st.one_of(
    st.sampled_from(["/", "/health", "/info", "/health/", "//", "/$default/x", "/a%2Fb"]),
    st.text(max_size=40).map(lambda t: "/" + t),
    st.text(max_size=20),
)
CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/vnd.api+json",
            ";;;",
        ]
    ),
    st.text(max_size=30),
)


def _text_body() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=200),
        JSON_VALUES.map(json.dumps),
        st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
        st.sampled_from(["", "NaN", "[1e999]", "[" * 5000, "\ud800", "a===", "eyJh IjogMX0="]),
        # huge: at, over and far over the limit (built cheaply, not drawn byte by byte)
        st.sampled_from([MAX_BODY_BYTES - 2, MAX_BODY_BYTES - 1, 3 * MAX_BODY_BYTES]).map(
            lambda n: '"' + "x" * n + '"'
        ),
    )


# Where mutations land: the event itself and the objects inside it.
MUTABLE_OBJECTS = [(), ("requestContext",), ("requestContext", "http"), ("headers",)]


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """A plausible 2.0 event, then a few of its keys dropped, retyped or replaced."""
    headers = {}
    content_type = draw(CONTENT_TYPES)
    if content_type is not None:
        headers[draw(st.sampled_from(["content-type", "Content-Type", "CONTENT-TYPE"]))] = (
            content_type
        )
    event = http_event(
        draw(ODD_METHODS),
        "/",
        headers=headers,
        body=draw(st.one_of(st.none(), _text_body())),
        is_base64=False,
        stage=draw(st.sampled_from(["$default", "prod", ""])),
    )
    event["rawPath"] = draw(ODD_PATHS)
    event["isBase64Encoded"] = draw(
        st.one_of(st.booleans(), st.none(), st.sampled_from(["true", 1, 0, "false"]))
    )
    for _ in range(draw(st.integers(0, 3))):
        node: Any = event
        for key in draw(st.sampled_from(MUTABLE_OBJECTS)):
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or not node:
            continue
        key = draw(st.sampled_from(sorted(node)))
        if draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(ANY_VALUE)
    return event


@settings(max_examples=EXAMPLES)
@given(event=mutated_events())
def test_malformed_events_get_a_valid_non_5xx_response(event: Any) -> None:
    lines: list[str] = []
    original = copy.deepcopy(event)
    status, _, _ = check_response(make_app(lines)(event, None))
    assert status < 500
    # one request line per request, valid EMF, and the event is not modified
    [line] = lines
    assert json.loads(line)["status"] == status
    assert event == original


@settings(max_examples=EXAMPLES)
@given(event=ANY_VALUE, context=st.one_of(st.none(), ANY_VALUE))
def test_any_value_at_all_is_a_400(event: Any, context: Any) -> None:
    status, _, body = check_response(make_app([])(event, context))
    assert status == 400
    assert body["error"].startswith("not an API Gateway HTTP API payload format 2.0 request")


def _field_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key of the event, at every depth."""
    paths: list[tuple[str, ...]] = []
    for key, value in node.items():
        paths.append((*prefix, key))
        if isinstance(value, dict):
            paths.extend(_field_paths(value, (*prefix, key)))
    return paths


FIELDS = _field_paths(
    http_event("POST", "/x", headers={"content-type": "application/json"}, body="{}")
)


def _of_another_type(original: object) -> st.SearchStrategy[Any]:
    """A value of any type other than the field's own (a present field, wrongly typed)."""
    return ANY_VALUE.filter(lambda value: type(value) is not type(original))


@pytest.mark.parametrize("path", FIELDS, ids=".".join)
@settings(max_examples=max(EXAMPLES // 4, 10))
@given(data=st.data())
def test_any_field_of_another_type_is_never_a_5xx(
    path: tuple[str, ...], data: st.DataObject
) -> None:
    # GIVEN a valid 2.0 request with one field, at any depth, present but of another type
    event = http_event("POST", "/x", headers={"content-type": "application/json"}, body="{}")
    parent = event
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(_of_another_type(parent[path[-1]]), label="value")
    lines: list[str] = []
    # WHEN it is handled, THEN the answer is a valid response and not a 5xx
    status, _, _ = check_response(make_app(lines)(event, None))
    assert status < 500
    assert json.loads(lines[0])["status"] == status


FAULTS = st.sampled_from([ZeroDivisionError, KeyError, TypeError, RecursionError, MemoryError])


@settings(max_examples=EXAMPLES)
@given(event=mutated_events(), fault=FAULTS)
def test_only_an_injected_fault_is_a_500(event: Any, fault: type[BaseException]) -> None:
    # GIVEN every action replaced by one that fails with the drawn exception
    reached: list[bool] = []

    def broken(*_: object) -> dict[str, object]:
        reached.append(True)
        raise fault("injected")

    app = make_app([], actions=dict.fromkeys(["health", "info", "echo", "delete"], broken))
    # WHEN any event arrives
    status, headers, body = check_response(app(event, None))
    # THEN the answer is 500 exactly when the fault ran, and names the request id
    if reached:
        assert (status, body) == (
            500,
            {"error": "Internal server error", "requestId": headers["x-request-id"]},
        )
    else:
        assert status < 500
