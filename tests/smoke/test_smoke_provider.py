"""The smoke check provider's engine-facing methods: diff, update, check, and serialization.

The engine hands ``diff`` and ``update`` the previous *outputs* as ``olds`` (the inputs
``create`` echoed, plus its results, plus ``__provider``), and the new inputs as ``news``.
"""

from __future__ import annotations

import base64
import os
import pickletools
import subprocess
import sys
from pathlib import Path
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from tap.config import MAX_SMOKE_TIMEOUT_S, CorsConfig
from tap.smoke import (
    INPUTS,
    MAX_DEADLINE_S,
    RESULT_OUTPUTS,
    SmokeCheckFailedError,
    SmokeCheckInputError,
    SmokeCheckProvider,
    smoke_trigger,
    validate_inputs,
)
from tap.stack import expected_cors, preflight_origin
from tests.smoke.fake_api import Answer, FakeTime, Request, ScriptedServer, deployed_api
from tests.smoke.test_smoke_check import NOW, props, provider

SUBPROCESS_TIMEOUT_S = 60.0

OLD_RESULTS = {
    "passed_at": "2026-01-01T00:00:00Z",
    "attempts": 2.0,
    "latency_ms": 31.0,
    "checks": {
        "health": {"request": "GET /health", "status": 200.0, "latency_ms": 9.0, "passed": True}
    },
}


def old_outputs(
    url: str = "https://abc.execute-api.us-east-1.amazonaws.com/", **changes: Any
) -> dict[str, Any]:
    """State as the engine returns it: numbers as floats, __provider from an older build."""
    state = props(url, __provider="b2xkZXIgZGlsbCBieXRlcw==", **changes)
    state["expected_cors"] = {**state["expected_cors"], "max_age": 300.0}
    state.update(OLD_RESULTS)
    return state


def news(
    url: str = "https://abc.execute-api.us-east-1.amazonaws.com/", **changes: Any
) -> dict[str, Any]:
    return props(url, __provider="bmV3ZXIgZGlsbCBieXRlcw==", **changes)


# ---------------------------------------------------------------------------------------
# diff


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("url", "https://xyz.execute-api.us-east-1.amazonaws.com/"),
        ("trigger", "code:def456"),
        ("expected_environment", "Staging"),
        ("origin", "https://app.example.com"),
        ("expected_cors", expected_cors(CorsConfig(max_age=60))),
        ("deadline_seconds", 300.0),
    ],
)
def test_a_changed_input_is_a_change(name: str, value: Any) -> None:
    result = SmokeCheckProvider().diff("smoke-1", old_outputs(), news(**{name: value}))

    assert result.changes is True
    assert result.replaces == []  # an update re-runs the check in place; nothing to replace


def test_unchanged_inputs_are_no_change_whatever_the_serialized_provider_bytes() -> None:
    olds, new = old_outputs(), news()
    assert olds["__provider"] != new["__provider"]

    result = SmokeCheckProvider().diff("smoke-1", olds, new)

    assert result.changes is False
    assert result.replaces == []


def test_the_same_inputs_in_another_key_order_with_lists_of_floats_are_no_change() -> None:
    # the engine hands objects back in its own key order, and numbers as floats, in lists too
    olds = old_outputs()
    reordered = dict(reversed(list(olds["expected_cors"].items())))
    olds["expected_cors"] = {
        k: ([float(x) if isinstance(x, int) else x for x in v] if isinstance(v, list) else v)
        for k, v in reordered.items()
    }
    assert list(olds["expected_cors"]) != list(news()["expected_cors"])

    result = SmokeCheckProvider().diff("smoke-1", olds, news())

    assert (result.changes, result.replaces, result.delete_before_replace) == (False, [], False)


def test_a_url_unknown_during_preview_is_a_change() -> None:
    result = SmokeCheckProvider().diff("smoke-1", old_outputs(), news(url=rpc.UNKNOWN))

    assert result.changes is True


def test_state_from_before_an_input_existed_is_a_change() -> None:
    olds = old_outputs()
    del olds["origin"]

    assert SmokeCheckProvider().diff("smoke-1", olds, news()).changes is True


# ---------------------------------------------------------------------------------------
# update


def test_update_with_a_new_trigger_rechecks_and_returns_fresh_outputs() -> None:
    fake = FakeTime()
    with ScriptedServer(deployed_api()) as server:
        result = provider(fake).update(
            "smoke-1", old_outputs(server.url), news(server.url, trigger="code:def456")
        )

    assert server.paths() == [
        "GET /health",
        "OPTIONS /health",
        "GET /tap-smoke-check/no-such-route",
    ]
    outs = result.outs
    assert outs is not None
    assert set(outs) == set(INPUTS) | set(RESULT_OUTPUTS)  # nothing wiped
    assert outs["passed_at"] == NOW
    assert outs["attempts"] == 1
    assert outs["trigger"] == "code:def456"


def test_update_of_the_deadline_alone_keeps_the_previous_result_without_calling_the_api() -> None:
    fake = FakeTime()
    with ScriptedServer(deployed_api()) as server:
        result = provider(fake).update(
            "smoke-1", old_outputs(server.url), news(server.url, deadline_seconds=300.0)
        )

    assert server.requests == []
    outs = result.outs
    assert outs is not None
    # a state without the warnings output: the result stands, with no warnings
    assert {name: outs[name] for name in RESULT_OUTPUTS} == {**OLD_RESULTS, "warnings": []}
    assert outs["deadline_seconds"] == 300.0
    assert "__provider" not in outs


def test_update_of_the_deadline_alone_keeps_the_previous_warnings() -> None:
    fake = FakeTime()
    warning = "cors (GET /health): expected ..., got none (unverified AWS behaviour, ...)"
    with ScriptedServer(deployed_api()) as server:
        result = provider(fake).update(
            "smoke-1",
            old_outputs(server.url, warnings=[warning]),
            news(server.url, deadline_seconds=300.0),
        )

    assert server.requests == []
    assert result.outs is not None
    assert result.outs["warnings"] == [warning]


def test_update_of_an_api_that_now_answers_wrong_fails_the_deploy() -> None:
    fake = FakeTime()
    with (
        ScriptedServer(deployed_api(environment="Staging")) as server,
        pytest.raises(
            SmokeCheckFailedError,
            match=r"expected environment 'Production', got environment 'Staging'",
        ),
    ):
        provider(fake).update(
            "smoke-1",
            old_outputs(server.url),
            news(server.url, trigger="code:def456", deadline_seconds=5.0),
        )


# ---------------------------------------------------------------------------------------
# check (input validation, before anything is created)


def test_valid_inputs_with_engine_floats_pass_check() -> None:
    inputs = news(deadline_seconds=120.0)

    result = SmokeCheckProvider().check({}, inputs)

    assert result.failures == []
    assert result.inputs == inputs


def test_unknown_inputs_during_preview_pass_check() -> None:
    inputs = news(url=rpc.UNKNOWN, trigger=rpc.UNKNOWN)

    assert SmokeCheckProvider().check({}, inputs).failures == []


def test_every_invalid_input_is_reported_by_check() -> None:
    cors = CorsConfig(allow_origins=("https://app.example.com",))
    bad = news(
        url="ftp://example.com/",
        expected_environment="",
        origin="https://evil.example.com",
        expected_cors=expected_cors(cors),
        trigger=None,
        deadline_seconds=MAX_DEADLINE_S + 1.0,
    )

    failures = SmokeCheckProvider().check({}, bad).failures

    assert [(f.property, f.reason) for f in failures] == [
        ("trigger", "is required"),
        ("url", "must be an http(s) URL with a host, got 'ftp://example.com/'"),
        ("expected_environment", "must be a non-empty string, got ''"),
        ("deadline_seconds", "must be a number of seconds 1-900, got 901.0"),
        (
            "origin",
            'must be one of the allowed origins ["https://app.example.com"], got '
            "'https://evil.example.com': a preflight from any other origin cannot succeed",
        ),
    ]


def test_a_malformed_expected_cors_is_reported_field_by_field() -> None:
    cors = {**expected_cors(CorsConfig()), "max_age": 1.5, "allow_methods": "GET", "maxAge": 3}

    problems = validate_inputs(news(expected_cors=cors))

    assert problems == [
        (
            "expected_cors.maxAge",
            "is not one of allow_origins, allow_methods, allow_headers, "
            "expose_headers, max_age, allow_credentials",
        ),
        ("expected_cors.allow_methods", "must be a list of strings, got 'GET'"),
        ("expected_cors.max_age", "must be a whole number of seconds >= 0, got 1.5"),
    ]


def test_create_refuses_invalid_inputs_without_calling_anything() -> None:
    with pytest.raises(SmokeCheckInputError) as raised:
        SmokeCheckProvider().create(news(url="not a url", deadline_seconds=0.0))

    assert str(raised.value) == (
        "invalid smoke check inputs:\n"
        "  - url: must be an http(s) URL with a host, got 'not a url'\n"
        "  - deadline_seconds: must be a number of seconds 1-900, got 0.0"
    )


# ---------------------------------------------------------------------------------------
# Serialization: what the engine stores and the deploy-time host un-dills.


def test_the_provider_round_trips_through_dill_and_the_copy_checks_a_live_server() -> None:
    # GIVEN the provider serialized exactly as pulumi.dynamic.Resource does
    serialized = serialize_provider(SmokeCheckProvider())

    # WHEN the deploy-time host decodes it
    copy = dill.loads(base64.b64decode(serialized))

    # THEN it is the same class, by reference (module tap.smoke), and it works
    assert type(copy) is SmokeCheckProvider
    assert b"tap.smoke" in base64.b64decode(serialized)
    with ScriptedServer(deployed_api()) as server:
        outs = copy.create(props(server.url, __provider=serialized)).outs
    assert outs is not None
    assert outs["attempts"] == 1


# What serialize_provider(SmokeCheckProvider()) gives: the bytes existing stack states hold,
# which the provider must go on producing and un-dilling.
RECORDED_PROVIDER = (
    "gASVwgAAAAAAAACMCXRhcC5zbW9rZZSMElNtb2tlQ2hlY2tQcm92aWRlcpSTlCmBlH2UKIwFaG9va3OUfZSMBnBv"
    "bGljeZRoAIwLUmV0cnlQb2xpY3mUk5QpgZR9lCiMEWluaXRpYWxfYmFja29mZl9zlEc/8AAAAAAAAIwNbWF4X2Jh"
    "Y2tvZmZfc5RHQDAAAAAAAACMCm11bHRpcGxpZXKUR0AAAAAAAAAAjBFyZXF1ZXN0X3RpbWVvdXRfc5RHQCQAAAAA"
    "AAB1YnViLg=="
)


def _pickled_globals(data: bytes) -> list[tuple[str, str]]:
    """The (module, name) of every class a pickle refers to by reference."""
    memo: list[object] = []
    strings: list[str] = []
    found: list[tuple[str, str]] = []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(str(arg))
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            value = memo[int(arg)]  # type: ignore[arg-type]
            strings.append(value if isinstance(value, str) else "")
        elif op.name == "MEMOIZE":
            memo.append(strings[-1] if strings else None)
        elif op.name == "STACK_GLOBAL":
            found.append((strings[-2], strings[-1]))
        elif op.name == "GLOBAL":
            module, name = str(arg).split(" ")
            found.append((module, name))
    return found


def test_the_provider_pickles_by_reference_to_tap_smoke_as_existing_stacks_hold_it() -> None:
    # GIVEN the provider serialized exactly as pulumi.dynamic.Resource does
    serialized = serialize_provider(SmokeCheckProvider())

    # THEN its classes are recorded under the module tap.smoke, not a submodule ...
    assert _pickled_globals(base64.b64decode(serialized)) == [
        ("tap.smoke", "SmokeCheckProvider"),
        ("tap.smoke", "RetryPolicy"),
    ]
    # ... and the bytes are those existing stack states hold
    assert serialized == RECORDED_PROVIDER


def test_a_recorded_provider_undills_in_a_fresh_interpreter() -> None:
    # GIVEN the provider as existing stack state holds it, and a new Python process (the
    # deploy-time host imports nothing of tap before un-dilling)
    script = (
        "import base64, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
        "import tap.smoke\n"
        "assert type(provider) is tap.smoke.SmokeCheckProvider\n"
        "assert type(provider.policy) is tap.smoke.RetryPolicy\n"
        "print(type(provider).__module__, type(provider).__qualname__, provider.policy)\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}

    # WHEN it is un-dilled there
    done = subprocess.run(
        [sys.executable, "-c", script, RECORDED_PROVIDER],
        capture_output=True,
        text=True,
        env=env,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )

    # THEN it is tap.smoke's provider with the default policy
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("tap.smoke SmokeCheckProvider RetryPolicy(initial_backoff_s=1.0")


def test_the_provider_accepts_the_deadlines_the_config_accepts() -> None:
    # tap.smoke does not import the config: the two bounds are held equal here.
    assert MAX_DEADLINE_S == MAX_SMOKE_TIMEOUT_S


def test_the_serialized_provider_is_the_same_bytes_every_time() -> None:
    # Stable bytes keep state diffs quiet (diff ignores them anyway).
    assert serialize_provider(SmokeCheckProvider()) == serialize_provider(SmokeCheckProvider())


MIXED_CASE = CorsConfig(allow_origins=("https://App.Example.com",))


def test_a_mixed_case_allowed_origin_is_checked_as_a_browser_sends_it() -> None:
    fake = FakeTime()
    # GIVEN allowOrigins written with capitals (docs/http-api.md rule 25)
    # THEN the check preflights with the lower-case origin a browser sends, which is valid
    assert preflight_origin(MIXED_CASE) == "https://app.example.com"
    assert validate_inputs(props("https://x.example/", MIXED_CASE)) == []

    # WHEN the API matches origins as origins (tap.cors, as the emulator does)
    with ScriptedServer(deployed_api(cors=MIXED_CASE)) as server:
        outs = provider(fake).create(props(server.url, MIXED_CASE)).outs

    # THEN every check passes, with no warning
    assert outs is not None
    assert outs["warnings"] == []
    assert all(check["passed"] for check in outs["checks"].values())


def test_an_api_comparing_origins_exactly_is_a_warning_naming_the_rule() -> None:
    fake = FakeTime()
    # GIVEN an API that grants CORS only to the entry's exact spelling (rule 25 assumed not)
    api = deployed_api(cors=MIXED_CASE)

    def exact(request: Request) -> Answer:
        answer = api(request)
        if request.headers.get("origin") in MIXED_CASE.allow_origins:
            return answer
        kept = {k: v for k, v in answer.headers.items() if not k.startswith("access-control-")}
        return Answer(answer.status, kept, answer.body)

    with ScriptedServer(exact) as server:
        outs = provider(fake).create(props(server.url, MIXED_CASE)).outs

    # THEN the deploy passes (verified checks pass) and the CORS checks are warnings
    assert outs is not None
    assert [name for name, c in outs["checks"].items() if not c["passed"]] == ["cors", "preflight"]
    assert outs["warnings"][0].startswith(
        "cors (GET /health): expected access-control-allow-origin 'https://app.example.com', "
        "got none"
    )


def test_preflight_origin_and_expected_cors_follow_the_config() -> None:
    listed = CorsConfig(
        allow_origins=("https://app.example.com", "https://b.example.com"), allow_credentials=True
    )
    assert preflight_origin(CorsConfig()) == "https://example.com"
    assert preflight_origin(listed) == "https://app.example.com"
    assert preflight_origin(CorsConfig(allow_origins=())) == "https://example.com"
    assert expected_cors(listed) == {
        "allow_origins": ["https://app.example.com", "https://b.example.com"],
        "allow_methods": ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        "allow_headers": [
            "content-type",
            "authorization",
            "x-api-key",
            "x-amz-date",
            "x-amz-security-token",
        ],
        "expose_headers": ["x-request-id"],
        "max_age": 300,
        "allow_credentials": True,
    }


def test_the_trigger_is_a_stable_digest_that_changes_with_any_part() -> None:
    parts = {"code": "ab12", "routes": ["GET /health"], "cors": expected_cors(CorsConfig())}

    trigger = smoke_trigger(parts)

    assert trigger.startswith("sha256:")
    assert len(trigger) == len("sha256:") + 64
    assert smoke_trigger(dict(reversed(list(parts.items())))) == trigger  # key order is no change
    assert smoke_trigger({**parts, "code": "ab13"}) != trigger
    assert smoke_trigger({**parts, "routes": ["GET /health", "GET /info"]}) != trigger
    # tuples (as the config holds them) digest like lists (as JSON holds them)
    assert smoke_trigger({**parts, "routes": ("GET /health",)}) == trigger
