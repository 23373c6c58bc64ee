"""The redeploy's resource diff (tap/local/deploy/diff.py): a pure function over two snapshots."""

from __future__ import annotations

from typing import Any

import pulumi

from tap.local.deploy.diff import Change, changed_inputs, output_changes, plan, render
from tap.local.deploy.resources import Deployed

FN = "aws:lambda/function:Function"
API = "aws:apigatewayv2/api:Api"
ROUTE = "aws:apigatewayv2/route:Route"
PROVIDER = "pulumi:providers:aws"
COMPONENT = "tap:index:TapStack"


def res(type_: str, logical: str, id_: str, **inputs: Any) -> Deployed:
    return Deployed(type_, logical, id_, inputs, {**inputs, "id": id_})


def component(name: str) -> Deployed:
    return Deployed(COMPONENT, name, "", {}, {}, custom=False)


def test_same_inputs_are_unchanged_even_when_a_provider_id_is_new() -> None:
    old = [res(PROVIDER, "aws", "aws-1", region="us-east-1"), res(FN, "fn", "fn", memorySize=512.0)]
    new = [res(PROVIDER, "aws", "aws-2", region="us-east-1"), res(FN, "fn", "fn", memorySize=512)]
    result = plan(old, new)
    assert result.changes == ()
    assert result.unchanged == 2
    assert render(result) == ["Resources: no changes (2 unchanged)"]


def test_a_changed_input_with_the_same_id_is_an_update_naming_the_inputs() -> None:
    old = [res(FN, "fn", "fn", memorySize=512.0, timeout=29.0, handler="app.handler")]
    new = [res(FN, "fn", "fn", memorySize=1024.0, timeout=20.0, handler="app.handler")]
    assert plan(old, new).changes == (Change("update", FN, "fn", ("memorySize", "timeout")),)


def test_a_changed_id_is_a_replace() -> None:
    old = [res(ROUTE, "health", "r-1", apiId="a-1", routeKey="GET /health")]
    new = [res(ROUTE, "health", "r-2", apiId="a-2", routeKey="GET /health")]
    assert plan(old, new).changes == (Change("replace", ROUTE, "health", ("apiId",)),)


def test_added_and_removed_inputs_count_as_changed() -> None:
    assert changed_inputs({"a": 1, "b": 2}, {"a": 1, "c": 3}) == ("b", "c")
    assert changed_inputs({"a": [1, {"x": 2}]}, {"a": [1.0, {"x": 2.0}]}) == ()
    assert changed_inputs({"a": [1, 2]}, {"a": [2, 1]}) == ("a",)
    assert changed_inputs({"a": True}, {"a": 1}) == ("a",)


def test_a_dynamic_resources_serialized_provider_is_not_an_input() -> None:
    assert changed_inputs({"__provider": "x", "url": "u"}, {"__provider": "y", "url": "u"}) == ()


def test_archives_compare_by_the_paths_they_name() -> None:
    one = pulumi.AssetArchive({"app/handler.py": pulumi.FileAsset("/p/handler.py")})
    same = pulumi.AssetArchive({"app/handler.py": pulumi.FileAsset("/p/handler.py")})
    other = pulumi.AssetArchive({"app/handler.py": pulumi.FileAsset("/q/handler.py")})
    assert changed_inputs({"code": one}, {"code": same}) == ()
    assert changed_inputs({"code": one}, {"code": other}) == ("code",)


def test_creates_in_program_order_then_deletes_dependents_first() -> None:
    old = [
        component("tap"),
        res(API, "api", "a-1", name="tap"),
        res(ROUTE, "health", "r-1", apiId="a-1"),
        res(ROUTE, "info", "r-2", apiId="a-1"),
    ]
    new = [
        component("tap"),
        res(API, "api", "a-1", name="tap"),
        res(ROUTE, "items", "r-3", apiId="a-1"),
        res(ROUTE, "health", "r-1", apiId="a-1"),
    ]
    result = plan(old, new)
    assert result.changes == (
        Change("create", ROUTE, "items"),
        Change("delete", ROUTE, "info"),
    )
    assert result.unchanged == 3


def test_components_are_only_created_or_deleted() -> None:
    result = plan([component("old")], [component("new")])
    assert result.changes == (
        Change("create", COMPONENT, "new"),
        Change("delete", COMPONENT, "old"),
    )


def test_render_lists_each_change_then_the_summary() -> None:
    old = [
        res(FN, "fn", "fn", memorySize=512.0),
        res(API, "api", "a-1", corsConfiguration={"maxAge": 300.0}),
        res(ROUTE, "gone", "r-9", apiId="a-1"),
        res(ROUTE, "health", "r-1", apiId="a-1", target="integrations/i-1"),
    ]
    new = [
        res(FN, "fn", "fn", memorySize=1024.0),
        res(API, "api", "a-1", corsConfiguration={"maxAge": 600.0}),
        res(ROUTE, "health", "r-5", apiId="a-1", target="integrations/i-2"),
        res(ROUTE, "new", "r-6", apiId="a-1"),
    ]
    lines = render(plan(old, new))
    assert lines[0].split() == ["Type", "Name", "Status", "Info"]
    rows = [line.split() for line in lines[1:5]]
    assert rows == [
        ["~", FN, "fn", "updated", "[diff:", "~memorySize]"],
        ["~", API, "api", "updated", "[diff:", "~corsConfiguration]"],
        ["+-", ROUTE, "health", "replaced", "[diff:", "~target]"],
        ["+", ROUTE, "new", "created"],
    ]
    assert lines[5].split() == ["-", ROUTE, "gone", "deleted"]
    assert lines[6:] == [
        "",
        "Resources:",
        "    + 1 created",
        "    ~ 2 updated",
        "    +-1 replaced",
        "    - 1 deleted",
        "    0 unchanged",
    ]


def test_output_changes_show_old_and_new_values() -> None:
    old = {"memory_size": 512.0, "url": "http://x/", "gone": 1}
    new = {"memory_size": 1024.0, "url": "http://x/", "added": "yes"}
    assert output_changes(old, new) == [
        "Outputs:",
        '  + added: "yes"',
        "  - gone: 1",
        "  ~ memory_size: 512 => 1024",  # as declared, though the wire carries doubles
    ]
    assert output_changes(old, dict(old)) == []
    assert output_changes({"n": [1.5, {"m": 2.0}]}, {"n": [1.5, {"m": 3.0}]}) == [
        "Outputs:",
        '  ~ n: [1.5, {"m": 2}] => [1.5, {"m": 3}]',
    ]


def test_effective_tags_that_changed_are_a_tags_all_update() -> None:
    old = Deployed(FN, "fn", "fn", {"tags": {"C": "x"}}, {"tagsAll": {"C": "x", "Env": "Prod"}})
    new = Deployed(FN, "fn", "fn", {"tags": {"C": "x"}}, {"tagsAll": {"C": "x", "Env": "Dev"}})
    assert plan([old], [new]).changes == (Change("update", FN, "fn", ("tagsAll",)),)


def _smoke_output(passed_at: str, latency: int, cors_status: int) -> dict[str, object]:
    """A smoke_check output as tap/smoke/retry.py SmokeReport.outputs() builds it."""
    return {
        "passed_at": passed_at,
        "attempts": 1 if latency < 50 else 2,
        "latency_ms": latency,
        "checks": {
            "health": {
                "request": "GET /health",
                "status": 200,
                "latency_ms": latency // 2,
                "passed": True,
                "kind": "verified",
            },
            "cors_preflight": {
                "request": "OPTIONS /health",
                "status": cors_status,
                "latency_ms": latency - latency // 2,
                "passed": cors_status == 204,
                "kind": "unverified",
            },
        },
        "warnings": [] if cors_status == 204 else ["cors_preflight: status 403"],
    }


def test_a_re_run_smoke_check_says_it_changed_without_its_per_run_figures() -> None:
    # GIVEN two runs of the smoke check with the same result: only the time it passed,
    # the attempts and the latencies differ (as on every redeploy)
    old = {"smoke_check": _smoke_output("2026-11-29T16:00:00Z", 31, 204), "timeout": 10}
    new = {"smoke_check": _smoke_output("2026-11-29T16:05:12Z", 87, 204), "timeout": 10}

    # THEN one short line says the output changed, naming the fields, not their values
    assert output_changes(old, new) == [
        "Outputs:",
        "  ~ smoke_check: changed (per-run figures only: attempts, latency_ms, passed_at)",
    ]


def test_a_smoke_check_whose_result_changed_shows_the_changed_fields_only() -> None:
    old = {"smoke_check": _smoke_output("2026-11-29T16:00:00Z", 31, 204)}
    new = {"smoke_check": _smoke_output("2026-11-29T16:05:12Z", 87, 403)}

    assert output_changes(old, new) == [
        "Outputs:",
        "  ~ smoke_check.checks.cors_preflight.passed: true => false",
        "  ~ smoke_check.checks.cors_preflight.status: 204 => 403",
        '  ~ smoke_check.warnings: [] => ["cors_preflight: status 403"]',
    ]


def test_an_object_output_with_many_changed_fields_is_cut_short() -> None:
    old = {"o": {f"k{i}": i for i in range(20)}}
    new = {"o": {f"k{i}": i + 1 for i in range(20)}, "x": 1}

    lines = output_changes(old, new)
    assert lines[0] == "Outputs:"
    assert lines[1:8] == [f"  ~ o.k{i}: {i} => {i + 1}" for i in (0, 1, 10, 11, 12, 13, 14)]
    assert lines[8] == "  ~ o: and 13 more fields changed"
    assert lines[9] == "  + x: 1"
    assert output_changes(old, {"o": dict(old["o"])}) == []
