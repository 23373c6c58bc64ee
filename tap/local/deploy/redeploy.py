"""Redeploy: a change to what the program reads re-runs it into the same moto, as ``pulumi up``.

``tap local`` watches what the Pulumi program reads other than the function's own files
(those are the hot reload's, tap/local/reload.py): ``Pulumi.yaml``, ``Pulumi.<stack>.yaml``,
``__main__.py`` and the ``tap`` package's modules (less ``tap/local``, which is local mode
itself). On a save it:

1. reads the stack's config again and validates it (a bad value stops here, naming it);
2. drops the program's modules from ``sys.modules`` so the run imports what is on disk;
3. runs the program again into the SAME moto server (``RedeployMocks``): a resource whose
   inputs did not change keeps its id and outputs untouched; a changed one is updated in
   place where moto has the call (a function's configuration, an API's CORS, a stage's
   throttling, a route, ...), else deleted and created anew (a new id: shown as a
   replace); a resource the program no longer declares is deleted;
4. prints what changed, resource by resource (tap/local/deploy/diff.py), and swaps what the
   emulator serves (routes, CORS, authorizers, function configuration) with the same
   guarantee as a hot reload: requests in flight finish on what they started on.

A resource recreated under the same name (a change no in-place update covers, e.g. a log
group's class) keeps its id and is shown as an update; in moto it loses what AWS deletes
with it (a role's inline policies, a topic's subscriptions), which is why the types this
stack's config can change have in-place updates (tap/local/deploy/updates.py).

A program that fails (bad config, an exception, a resource moto refuses, a failed smoke
check) prints the error and keeps the previous deploy serving. Resources the failed run
had already changed in moto stay changed, as after a failed ``pulumi up`` on AWS, and the
next run diffs against them.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import MockResourceArgs

from tap import engine
from tap.local.deploy import diff
from tap.local.deploy.appliers.base import refuse_unknown_inputs, str_map
from tap.local.deploy.deployment import (
    _RUN_MARGIN_S,
    EmulatorFeed,
    LocalDeployment,
    _run_program,
    _show_local_endpoint,
    _stage_url,
    cognito_jwks,
    resolve_config,
)
from tap.local.deploy.mocks import MotoMocks, dynamic_outputs
from tap.local.deploy.readback import ReadbackError
from tap.local.deploy.resources import Deployed, DeployError
from tap.local.deploy.updates import DELETERS, UPDATERS
from tap.local.gateway import jwt_auth

Say = Callable[[str], None]


class RedeployMocks(MotoMocks):
    """MotoMocks that apply the program's resources over a previous deploy in the same
    moto: unchanged resources are reused as they are, changed ones updated in place (or
    recreated), new ones created. ``delete_missing()`` then deletes what the program no
    longer declares."""

    def __init__(self, *args: Any, previous: Iterable[Deployed], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.previous = list(previous)
        self._by_key = {(d.type, d.name): d for d in self.previous if d.custom}

    def _create(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        old = self._by_key.get((args.typ, args.name))
        if old is None or args.typ == engine.AWS_PROVIDER:
            return super()._create(args)
        inputs = engine.unwrap_secrets(args.inputs)
        keys = frozenset(diff.changed_inputs(old.inputs, inputs))
        # Outputs as the provider answers: the inputs echoed, plus what AWS computed.
        computed = {k: v for k, v in old.outputs.items() if k not in old.inputs}
        if args.typ.startswith(engine.DYNAMIC_PREFIX):
            if keys:
                return self._record(args, old, inputs, self._dynamic_update(args, old, inputs))
            return self._record(args, old, inputs, {**computed, **args.inputs})
        provider = self._provider_of(args.provider)
        tags_all = engine.effective_tags(provider.default_tags, str_map(inputs.get("tags")))
        taggable = engine.RESOURCE_TYPES[args.typ].taggable
        if taggable and tags_all != str_map(old.outputs.get("tagsAll")):
            # The provider's default tags changed (tap:environment): every taggable
            # resource's effective tags did, though its own `tags` input did not.
            keys |= {"tags"}
        if not keys:
            return self._record(args, old, inputs, {**computed, **args.inputs})
        update = UPDATERS.get(args.typ)
        if update is None or not keys <= update.keys:
            self.delete(old)
            return super()._create(args)
        refuse_unknown_inputs(args.typ, inputs)
        ctx = self.context(provider.region, tags_all)
        outs = {**computed, **args.inputs, **update.apply(ctx, old, inputs, keys)}
        if taggable:
            outs["tagsAll"] = tags_all
        return self._record(args, old, inputs, outs)

    def _record(
        self, args: MockResourceArgs, old: Deployed, inputs: dict[str, Any], outs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        with self._lock:
            recorded = Deployed(
                args.typ, args.name, old.id, inputs, engine.unwrap_secrets(outs), old.region
            )
            self.resources.append(recorded)
        return old.id, outs

    def _dynamic_update(
        self, args: MockResourceArgs, old: Deployed, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        """What the engine's dynamic host does for a changed dynamic resource: configure,
        check, ``update(id, olds, news)`` (tap.smoke re-runs its checks only when what it
        checks changed)."""
        provider, checked = self.checked_dynamic(inputs, dict(old.outputs))
        result = provider.update(old.id, dict(old.outputs), checked)
        return dynamic_outputs(args, result.outs)

    def delete(self, old: Deployed) -> None:
        """Delete ``old`` from moto; already gone is fine."""
        import botocore.exceptions  # type: ignore[import-untyped,unused-ignore]

        deleter = DELETERS.get(old.type)
        if deleter is None or not old.custom or old.type.startswith(engine.DYNAMIC_PREFIX):
            return  # providers, components, dynamic resources: nothing in moto
        with contextlib.suppress(botocore.exceptions.ClientError):
            deleter(lambda service: self.client(service, old.region or self.default_region), old)

    def delete_missing(self) -> None:
        """Delete, dependents first, what the previous deploy had and this run did not."""
        now = {(d.type, d.name) for d in self.resources}
        for old in reversed(self.previous):
            if (old.type, old.name) not in now:
                self.delete(old)


# ---------------------------------------------------------------------------------------
# Running it.


def program_modules(program_dir: Path) -> list[str]:
    """The modules the program imported from the project (``tap.*`` less local mode):
    dropped before a re-run so it imports what is on disk now."""
    names = []
    for name, module in list(sys.modules.items()):
        if name != "tap" and not name.startswith("tap."):
            continue
        if name == "tap" or name == "tap.local" or name.startswith(("tap.local.", "tap.__main__")):
            continue
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(program_dir):
            names.append(name)
    return names


def forget_modules(names: Iterable[str]) -> None:
    """Drop modules so the next import reads them from disk again: from ``sys.modules``
    and from their package's attributes (``from tap import api`` reads the attribute first,
    and would hand back the old module)."""
    for name in names:
        sys.modules.pop(name, None)
        parent, _, child = name.rpartition(".")
        package = sys.modules.get(parent)
        if package is not None and getattr(package, child, None) is not None:
            with contextlib.suppress(AttributeError):
                delattr(package, child)


@dataclass
class Outcome:
    """What one redeploy did."""

    ok: bool
    plan: diff.Plan | None = None
    error: str = ""
    outputs: list[str] = field(default_factory=list)  # the changed outputs' lines


class Redeployer:
    """Re-run the program of ``deployment`` into its moto on demand, and swap what is served."""

    def __init__(
        self,
        deployment: LocalDeployment,
        *,
        say: Say,
        overrides: Mapping[str, str] | None = None,
        jwks_file: Path | None = None,
        on_deployed: Callable[[LocalDeployment], None] | None = None,
    ) -> None:
        """
        :param say: prints one line.
        :param overrides: the ``-c KEY=VALUE`` values, applied over the stack files again.
        :param jwks_file: ``--jwks``: the keys of an external JWT issuer.
        :param on_deployed: told after each successful redeploy (the hot reload's files).
        """
        if deployment.program_dir is None:
            raise ValueError("a redeploy needs the deployment's program folder")
        self.deployment = deployment
        self.program_dir: Path = deployment.program_dir
        self._say = say
        self._overrides = dict(overrides or {})
        self._jwks_file = jwks_file
        self._on_deployed = on_deployed
        self._lock = threading.Lock()
        self.runs = 0
        self.failures = 0

    def redeploy(self, reason: str = "") -> Outcome:
        """Run the program again and serve the result; never raises."""
        with self._lock:
            started = time.monotonic()
            self._say("")
            what = reason or "the program"
            self._say(f"{what} changed: updating stack {self.deployment.stack}...")
            try:
                outcome = self._redeploy()
            except Exception as error:  # every failure keeps the previous deploy serving
                outcome = Outcome(False, error=_describe(error))
            self.runs += 1
            elapsed = time.monotonic() - started
            if outcome.ok:
                assert outcome.plan is not None
                for line in [*diff.render(outcome.plan), *outcome.outputs]:
                    self._say(line)
                self._say(
                    f"Duration: {elapsed:.1f}s; serving the update (requests in flight "
                    "finish on the previous one)"
                )
            else:
                self.failures += 1
                self._say(f"error: {outcome.error}")
                self._say("The update failed: still serving the previous deploy")
            return outcome

    def _read_config(self) -> tuple[str, dict[str, str], Any]:
        """(project, config map, StackConfig) from the files as they are now, with the
        program's modules dropped first so that tap.config itself is read again. A bad
        value stops here, before anything runs (the message names the key and what is
        allowed)."""
        forget_modules(program_modules(self.program_dir))
        project, config_map, stack_config = resolve_config(
            self.program_dir,
            self.deployment.stack,
            self._overrides,
            config_module=importlib.import_module("tap.config"),
        )
        if stack_config.region != self.deployment.region:
            raise DeployError(
                f"tap:region changed from {self.deployment.region} to {stack_config.region}: "
                "local mode deploys into one region; restart tap local to change it"
            )
        return project, config_map, stack_config

    def _jwks_for(self, issuer: str) -> Mapping[str, Any]:
        keys = cognito_jwks(self.deployment.moto.url, self.deployment.region, issuer)
        if not keys and self._jwks_file is not None:
            keys = jwt_auth.parse_jwks(self._jwks_file.read_bytes())
        if not keys:
            raise ReadbackError(f"no keys for the JWT issuer {issuer}: pass --jwks FILE")
        return keys

    def _mocks(
        self, project: str, config_map: dict[str, str]
    ) -> tuple[RedeployMocks, EmulatorFeed]:
        """The mocks for a run over the current deploy, and how they feed the emulator."""
        deployment = self.deployment
        emulator = deployment.emulator
        mocks = RedeployMocks(
            deployment.moto,
            deployment.region,
            previous=deployment.resources,
            stage_url=lambda api_id, stage_name: _stage_url(emulator.url, stage_name),
            dynamic_config=config_map,
            project=project,
        )
        feed = EmulatorFeed(
            mocks,
            emulator,
            deployment.cloudwatch,
            account_id=deployment.account_id,
            jwks_for=self._jwks_for,
        )
        return mocks, feed

    def _redeploy(self) -> Outcome:
        deployment = self.deployment
        project, config_map, stack_config = self._read_config()
        emulator = deployment.emulator
        loaded = emulator._loaded
        previous_specs = (
            (loaded.api, {name: pool.spec for name, pool in loaded.functions.items()})
            if loaded is not None
            else None
        )
        mocks, feed = self._mocks(project, config_map)
        try:
            outputs = _run_program(
                self.program_dir / "__main__.py",
                mocks,
                project,
                deployment.stack,
                config_map,
                timeout_s=stack_config.smoke_check_timeout_seconds + _RUN_MARGIN_S,
            )
            mocks.delete_missing()
            feed.check_and_load()
        except BaseException:
            # Keep serving the previous deploy; record what the run changed in moto, so
            # the next run diffs against what is there.
            if previous_specs is not None:
                with contextlib.suppress(Exception):
                    emulator.swap(*previous_specs)
            deployment.resources = _merged(deployment.resources, mocks.resources)
            raise
        _show_local_endpoint(
            deployment.account_id, deployment.region, emulator.url, list(mocks.resources)
        )
        result = diff.plan(deployment.resources, mocks.resources)
        old_outputs = deployment.outputs
        deployment.resources = list(mocks.resources)
        deployment.outputs = outputs
        deployment.config = config_map
        if self._on_deployed is not None:
            self._on_deployed(deployment)
        return Outcome(True, plan=result, outputs=diff.output_changes(old_outputs, outputs))


def _merged(previous: list[Deployed], applied: list[Deployed]) -> list[Deployed]:
    """The previous snapshot with what a failed run applied written over it."""
    applied_by_key = {(d.type, d.name): d for d in applied}
    merged = [applied_by_key.pop((d.type, d.name), d) for d in previous]
    return merged + list(applied_by_key.values())


def _describe(error: BaseException) -> str:
    """The error as one message: tap's own errors already say what and why; anything else
    (the program's own exception) with the traceback's last frames."""
    own = {"ConfigError", "StackFileError", "DeployError", "BrokenReferencesError"}
    own |= {"ReadbackError", "EmulatorConfigError", "ProgramTimeoutError", "LocalAuthError"}
    if type(error).__name__ in own:
        return str(error)
    frames = traceback.format_exception(type(error), error, error.__traceback__, limit=-4)
    return "the Pulumi program raised:\n" + "".join(frames).rstrip()
