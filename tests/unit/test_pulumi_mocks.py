"""The mock harness itself (tests/pulumi_mocks.py): other tests trust what it records."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings

import pulumi
import pulumi_aws as aws
import pytest

from tap import engine
from tests.pulumi_mocks import (
    AwsMocks,
    ProgramRun,
    is_secret,
    is_unknown,
    run_program,
    takes_tags_in_pulumi_aws,
    unwrap,
)


def _small_program() -> None:
    provider = aws.Provider(
        "p", region="eu-west-1", default_tags=aws.ProviderDefaultTagsArgs(tags={"A": "1", "B": "1"})
    )
    group = aws.cloudwatch.LogGroup(
        "group",
        name="/test/group",
        retention_in_days=7,
        tags={"B": "2"},
        opts=pulumi.ResourceOptions(provider=provider),
    )
    pulumi.export("arn", group.arn)
    pulumi.export("secret", pulumi.Output.secret("s3cr3t"))
    pulumi.export("nested", {"arn": group.arn, "n": 1})


def test_a_run_records_inputs_outputs_provider_and_exports() -> None:
    run = run_program(program=_small_program)

    group = run.one(engine.LOG_GROUP)
    assert group.inputs["retentionInDays"] == 7.0  # numbers arrive as floats
    assert group.outputs["arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/test/group"
    assert run.provider_of(group) == run.one("pulumi:providers:aws")
    assert run.outputs["arn"] == group.outputs["arn"]
    assert run.outputs["nested"] == {"arn": group.outputs["arn"], "n": 1.0}


def test_effective_tags_are_the_provider_defaults_overridden_by_own_tags() -> None:
    run = run_program(program=_small_program)

    assert run.effective_tags(run.one(engine.LOG_GROUP)) == {"A": "1", "B": "2"}


def test_secrets_stay_wrapped_and_unwrap_on_request() -> None:
    run = run_program(program=_small_program)

    assert is_secret(run.outputs["secret"])
    assert run.output("secret") == "s3cr3t"
    assert unwrap({"x": [run.outputs["secret"]]}) == {"x": ["s3cr3t"]}


def test_in_a_preview_computed_values_are_unknown_and_chosen_ones_known() -> None:
    run = run_program(program=_small_program, preview=True)

    group = run.one(engine.LOG_GROUP)
    assert "arn" not in group.outputs
    assert group.id == ""
    assert is_unknown(run.outputs["arn"])
    assert is_unknown(run.outputs["nested"]["arn"])
    assert run.outputs["nested"]["n"] == 1.0


def test_an_exception_inside_an_apply_is_raised_to_the_caller() -> None:
    def program() -> None:
        group = aws.cloudwatch.LogGroup("group", name="g")
        pulumi.export("boom", group.arn.apply(lambda arn: 1 / 0))

    with pytest.raises(ZeroDivisionError):
        run_program(program=program)


def test_runs_do_not_share_state() -> None:
    first = run_program({"environment": "One"}, stack="one")
    second = run_program({"environment": "Two"}, stack="two")

    assert first.output("environment_suffix") == "One"
    assert second.output("environment_suffix") == "Two"
    assert len(first.resources) == len(second.resources)
    assert {r.urn.split("::")[0] for r in second.resources} == {"urn:pulumi:two"}


def test_runs_on_several_threads_at_once_each_get_their_own_result() -> None:
    # One run first: in a fresh process, pulumi resolves each resource class's type hints
    # on its first registration, over pulumi_aws's lazily loaded modules, and concurrent
    # first registrations race ("module 'pulumi_aws.cloudwatch' has no attribute
    # 'LogGroup'" when this test runs alone). What is checked here is that runs at once
    # keep their own state, not pulumi's first import.
    run_program({"smokeCheck": "false"})
    results: dict[str, ProgramRun] = {}

    def run(env: str) -> None:
        results[env] = run_program({"environment": env, "smokeCheck": "false"}, stack=env.lower())

    threads = [threading.Thread(target=run, args=(f"Env{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(results) == ["Env0", "Env1", "Env2", "Env3"]
    for env, result in results.items():
        assert result.output("environment_suffix") == env
        assert result.output("lambda_function_name") == f"tap-{env.lower()}-function"


def test_the_harness_works_from_inside_a_running_event_loop() -> None:
    async def main() -> ProgramRun:
        return run_program({"smokeCheck": "false"})

    run = asyncio.run(main())

    assert run.output("region") == "us-east-1"


def test_recorded_resources_can_be_read_back_while_a_run_goes_on() -> None:
    mocks = AwsMocks()
    run = run_program({"smokeCheck": "false"}, mocks=mocks)

    assert [r.urn for r in mocks.records()] == [r.urn for r in run.resources]


@pytest.mark.parametrize(
    ("token", "taggable"),
    [
        (engine.LAMBDA_FUNCTION, True),
        (engine.HTTP_API_STAGE, True),
        (engine.IAM_ROLE_POLICY, False),
        (engine.HTTP_API_ROUTE, False),
        ("pulumi:providers:aws", False),
        ("tap:index:TapStack", False),
    ],
)
def test_taggable_types_are_read_from_pulumi_aws(token: str, taggable: bool) -> None:
    assert takes_tags_in_pulumi_aws(token) is taggable


def test_a_run_leaves_no_event_loop_unclosed() -> None:
    # pulumi's mock monitor opens an event loop on each executor thread it runs on; left
    # open, each is collected with a ResourceWarning at whatever test runs then. What
    # earlier tests left behind is collected first, so only this run's loops are counted
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        run_program({"smokeCheck": "false"})
        gc.collect()

    assert [str(w.message) for w in caught if "event loop" in str(w.message)] == []
