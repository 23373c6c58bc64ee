"""The dynamic provider: runs the check on create, and on update when the API may have
changed. Pickled by reference as ``tap.smoke.SmokeCheckProvider`` (docs/tools.md,
"Dynamic providers"), so its ``__module__`` stays ``tap.smoke``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pulumi.dynamic as dynamic

from tap.smoke.inputs import (
    INPUTS,
    PROTECTED_REQUEST,
    RECHECK_INPUTS,
    RESULT_OUTPUTS,
    SmokeSpec,
    validate_inputs,
)
from tap.smoke.retry import RetryPolicy, run_smoke_check

# ---------------------------------------------------------------------------------------
# The dynamic provider.


def _canonical(value: Any) -> str:
    """A comparable form of an input: the engine turns 300 into 300.0 on the way back."""

    def whole(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, Mapping):
            return {k: whole(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [whole(x) for x in v]
        return v

    return json.dumps(whole(value), sort_keys=True)


class SmokeCheckProvider(dynamic.ResourceProvider):
    """Runs the smoke check on create, and again on update when the API may have changed.

    Holds only plain data (a frozen RetryPolicy) so it pickles; the test hooks (clock,
    sleep, rand, now) default to the real ones resolved at call time.
    """

    # dill pickles this class by reference (module + name) into stack state: the name
    # existing stacks hold is tap.smoke.SmokeCheckProvider (docs/tools.md).
    __module__ = "tap.smoke"

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] | None = None,
        now: Callable[[], str] | None = None,
    ) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.hooks: dict[str, Callable[..., Any]] = {
            name: hook
            for name, hook in (("clock", clock), ("sleep", sleep), ("rand", rand), ("now", now))
            if hook is not None
        }

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        failures = [dynamic.CheckFailure(name, reason) for name, reason in validate_inputs(news)]
        return dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # olds are the previous *outputs* (inputs echoed by create/update); __provider is
        # never compared: its bytes change with dill and Python versions, not with the API.
        changed = [
            name
            for name in (*INPUTS, PROTECTED_REQUEST)
            if _canonical(olds.get(name)) != _canonical(news.get(name))
        ]
        return dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"smoke-{uuid.uuid4().hex}", self._run(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        recheck = any(
            _canonical(olds.get(n)) != _canonical(news.get(n))
            for n in (*RECHECK_INPUTS, PROTECTED_REQUEST)
        )
        # A state without `warnings` (written by a release without that output): not a
        # reason to call the API.
        missing = any(olds.get(n) is None for n in RESULT_OUTPUTS if n != "warnings")
        if recheck or missing:
            return dynamic.UpdateResult(self._run(news))
        # Only the deadline changed: the API is the same, so the previous result stands.
        outs = {name: news[name] for name in INPUTS}
        if news.get(PROTECTED_REQUEST) is not None:
            outs[PROTECTED_REQUEST] = news[PROTECTED_REQUEST]
        outs.update({name: olds.get(name) for name in RESULT_OUTPUTS})
        outs["warnings"] = olds.get("warnings") or []
        return dynamic.UpdateResult(outs)

    def _run(self, props: Mapping[str, Any]) -> dict[str, Any]:
        spec = SmokeSpec.from_props(props)
        report = run_smoke_check(spec, self.policy, **self.hooks)
        outs = {name: props[name] for name in INPUTS}
        if props.get(PROTECTED_REQUEST) is not None:  # echoed: diff reads old outputs
            outs[PROTECTED_REQUEST] = props[PROTECTED_REQUEST]
        outs.update(report.outputs())
        return outs
