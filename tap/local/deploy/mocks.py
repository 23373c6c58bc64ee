"""Pulumi mocks that create every resource in moto and answer with moto's real outputs.

``pulumi.runtime.set_mocks(MotoMocks(...))`` makes the program's resource registrations
arrive here instead of at the engine. Each supported type is created through boto3 in the
moto server (so ``aws --endpoint-url`` shows it), and its outputs are what moto answered
(ARNs, ids) plus the attributes the AWS provider computes from them (invoke ARNs, execution
ARNs, the stage URL), so the program's wiring follows real values.

What arrives (docs/tools.md, "The mock runtime"): inputs with camelCase keys at
every depth, every number a float, ``None`` inputs dropped, secrets wrapped in a
``{SECRET_SIG: ..., "value": ...}`` object, no autonaming, and calls from several worker
threads at once.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from tap import engine
from tap.local.deploy.appliers import apigateway, awslambda, cognito, dns, iam, monitoring
from tap.local.deploy.appliers.base import (
    APPLIERS,
    Context,
    Zones,
    refuse_unknown_inputs,
    str_map,
)
from tap.local.deploy.motoserver import MotoServer
from tap.local.deploy.resources import Deployed, DeployError
from tap.text import quote

# Each family module registers its appliers in APPLIERS when imported.
FAMILIES = (apigateway, awslambda, cognito, dns, iam, monitoring)

__all__ = ["APPLIERS", "FAMILIES", "PROVIDER_KEY", "MotoMocks"]

PROVIDER_KEY = "__provider"


@dataclass
class _Provider:
    region: str
    default_tags: dict[str, str] = field(default_factory=dict)


class MotoMocks(Mocks):
    """Mocks that deploy into a moto server. ``resources`` lists what was created, in order."""

    def __init__(
        self,
        server: MotoServer,
        default_region: str,
        *,
        stage_url: Callable[[str, str], str],
        before_dynamic: Callable[[], None] | None = None,
        dynamic_config: Mapping[str, Any] | None = None,
        project: str = "tap",
    ) -> None:
        """
        :param stage_url: (api id, stage name) -> the stage's URL: the emulator's in local
            mode, so the stage URL output, the smoke check and the outputs point at it.
        :param before_dynamic: called before a dynamic resource's ``create`` runs (the
            deployer loads the emulator with what is deployed so far).
        :param dynamic_config: the stack config handed to dynamic providers' ``configure``.
        """
        self.server = server
        self.default_region = default_region
        self.stage_url = stage_url
        self.before_dynamic = before_dynamic
        self.dynamic_config = dict(dynamic_config or {})
        self.project = project
        # Local mode's stand-ins for what only exists on AWS (a custom domain's URL): applied
        # to a dynamic resource's inputs before its provider runs.
        self.rewrite_dynamic_inputs: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.resources: list[Deployed] = []
        self.errors: list[str] = []
        self.zones = Zones()
        self._providers: dict[str, _Provider] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)

    # -- Mocks interface ------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        # The program makes no provider function calls (no aws.get_* lookups); one that
        # appears must be supported deliberately rather than answered with nothing.
        message = f"local mode does not support the function call {args.token}"
        self._record_error(message)
        raise DeployError(message)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:
            # A ComponentResource: nothing to create; its children arrive on their own.
            with self._lock:
                self.resources.append(Deployed(args.typ, args.name, "", {}, {}, custom=False))
            return "", {}
        dynamic = args.typ.startswith(engine.DYNAMIC_PREFIX)
        if not dynamic:
            with self._lock:
                self._in_flight += 1
        try:
            return self._create(args)
        except Exception as error:
            message = f"{args.typ} {quote(args.name)}: {_describe(error)}"
            self._record_error(message)
            raise DeployError(message) from error
        finally:
            if not dynamic:
                with self._lock:
                    self._in_flight -= 1
                    self._idle.notify_all()

    # -- helpers --------------------------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self.server.client(service, region)
            return self._clients[key]

    def context(self, region: str, tags_all: dict[str, str]) -> Context:
        """What an applier (or an in-place update) of a resource in ``region`` runs with."""
        return Context(
            region, self.server.account_id, tags_all, self.client, self.stage_url, self.zones
        )

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no (non-dynamic) resource is being created; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout_s)

    def _record_error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def _create(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = engine.unwrap_secrets(args.inputs)
        if args.typ == engine.AWS_PROVIDER:
            return self._provider(args, inputs)
        if args.typ.startswith(engine.DYNAMIC_PREFIX):
            id_, outs = self._dynamic(args, inputs)
            region = ""
        else:
            applier = APPLIERS.get(args.typ)
            if applier is None:
                raise DeployError(
                    "local mode cannot create this resource type. Supported types: "
                    + ", ".join(
                        sorted([*APPLIERS, engine.AWS_PROVIDER, engine.DYNAMIC_PREFIX + ":*"])
                    )
                )
            provider = self._provider_of(args.provider)
            refuse_unknown_inputs(args.typ, inputs)
            tags_all = engine.effective_tags(provider.default_tags, str_map(inputs.get("tags")))
            id_, computed = applier(self.context(provider.region, tags_all), args.name, inputs)
            # Like the provider, outputs echo the inputs (secret ones stay secret: echo the
            # wrapped originals) and add what AWS computed.
            outs = {**args.inputs, **computed}
            if engine.RESOURCE_TYPES[args.typ].taggable:
                outs.setdefault("tagsAll", tags_all)
            region = provider.region
        with self._lock:
            self.resources.append(
                Deployed(args.typ, args.name, id_, inputs, engine.unwrap_secrets(outs), region)
            )
        return id_, outs

    def _provider(
        self, args: MockResourceArgs, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        id_ = f"{args.name}-{secrets.token_hex(8)}"
        # The provider's object inputs arrive as JSON text (pulumi-and-moto.md).
        tags = str_map(engine.provider_default_tags(inputs))
        region = str(inputs.get("region") or self.default_region)
        with self._lock:
            self._providers[id_] = _Provider(region, tags)
        return id_, dict(args.inputs)

    def _provider_of(self, reference: str | None) -> _Provider:
        # A provider reference is "<urn>::<id>"; "" means the default provider, which the
        # mock runtime never registers (pulumi-and-moto.md): the stack's region applies.
        if not reference:
            return _Provider(self.default_region)
        id_ = reference.rsplit("::", 1)[-1]
        with self._lock:
            provider = self._providers.get(id_)
        if provider is None:
            raise DeployError(f"unknown provider reference {quote(reference)}")
        return provider

    def _dynamic(
        self, args: MockResourceArgs, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Create a dynamic resource the way the engine's dynamic host does: ``create``
        with the checked (plain-text) properties; the outputs are only ``CreateResult.outs``
        plus ``__provider``."""
        provider, checked = self.checked_dynamic(inputs, {})
        result = provider.create(checked)
        return str(result.id), dynamic_outputs(args, result.outs)

    def checked_dynamic(
        self, inputs: dict[str, Any], olds: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        """What the engine's dynamic host does before a dynamic resource's create or
        update (pulumi/dynamic/__main__.py): deserialize the dill-pickled provider from
        ``__provider``, ``configure`` it with the stack config, ``check`` the inputs
        against ``olds``. Returns the provider and the checked inputs."""
        import dill

        if self.before_dynamic is not None:
            self.before_dynamic()
        serialized = inputs.get(PROVIDER_KEY)
        if not isinstance(serialized, str):
            raise DeployError(f"no serialized provider in {PROVIDER_KEY}")
        # The program's own provider, pickled by the program a moment ago: what the engine's
        # dynamic host unpickles too.
        provider = dill.loads(base64.b64decode(serialized))  # noqa: S301
        provider.configure(
            pulumi.dynamic.ConfigureRequest(
                pulumi.dynamic.Config(
                    raw_config=dict(self.dynamic_config), project_name=self.project
                )
            )
        )
        if self.rewrite_dynamic_inputs is not None:
            inputs = self.rewrite_dynamic_inputs(inputs)
        checked = provider.check(olds, inputs)
        if checked.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
            raise DeployError(f"check failed: {reasons}")
        return provider, checked.inputs


def dynamic_outputs(args: MockResourceArgs, outs: dict[str, Any] | None) -> dict[str, Any]:
    """A dynamic resource's outputs: its provider's, plus the serialized provider."""
    return {**(outs or {}), PROVIDER_KEY: args.inputs[PROVIDER_KEY]}


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text
