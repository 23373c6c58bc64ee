"""Run the real Pulumi program (``__main__.py``) under Pulumi's mock runtime, and record it.

Test support shared by the unit, property, policy and local-mode tests::

    from tests.pulumi_mocks import run_program

    run = run_program({"environment": "Staging"})        # raw tap: config, as Pulumi holds it
    fn = run.one("aws:lambda/function:Function")
    assert fn.inputs["memorySize"] == 512.0               # inputs as the mock sees them
    assert run.effective_tags(fn)["Environment"] == "Staging"
    assert run.outputs["lambda_function_name"] == "tap-dev-function"

What a run gives you (``ProgramRun``):

* ``resources``: every registered resource, in registration order, each a
  ``RegisteredResource`` with its type token, logical name, URN, parent URN, the URNs it
  depends on (``depends_on`` plus the resources whose outputs flowed into its inputs), the
  inputs exactly as a ``Mocks.new_resource`` receives them (camelCase keys at every depth,
  numbers as floats, ``None`` dropped, secrets wrapped), the outputs the mock returned, the
  provider reference and the custom flag (components reach the mock too, ``custom=False``).
* ``outputs``: the stack outputs as the engine receives them (the program's
  ``pulumi.export`` values after the stack registered them), with ``Unknown`` where a value
  is not known (preview) and secrets wrapped (``is_secret``/``unwrap`` help).

How it works, and why this way:

* The program runs through ``tap.local.deploy.program.run_program`` (shared with local mode): on
  its own thread with an empty ``contextvars`` context, as the Python language host runs it,
  so runs never see each other's state and the harness can be called any number of times in
  one process (Hypothesis) from plain tests. An exception raised by the program
  (``ConfigError``) or inside an ``apply`` is re-raised to the caller unchanged.
* ``AwsMocks.new_resource`` runs on several executor threads at once: recording is locked.
* In a preview (``preview=True``) the mock echoes inputs only and returns no id, as the
  engine does for resources that do not exist yet, so every computed attribute (ARNs,
  endpoints, ids) is unknown to the program, as in ``pulumi preview``.

Caveats: ``PULUMI_CONFIG`` in the environment is read by Pulumi config too (the harness
sets config through ``set_all_config``; the environment variable is not cleared).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import output as pulumi_output
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from tap import engine
from tap.local.deploy.program import StackOutputsMonitor
from tap.local.deploy.program import run_program as run_pulumi_program

REPO_ROOT = Path(__file__).resolve().parent.parent
PROGRAM = REPO_ROOT / "__main__.py"
PROJECT = "tap"
DEFAULT_STACK = "dev"
ACCOUNT_ID = "123456789012"
# The region a resource gets when it names no provider (the program always names one).
FALLBACK_REGION = "us-east-1"
# Bound on one program run: a hung registration fails the test instead of the CI job.
RUN_TIMEOUT_S = 60.0

PROVIDER_TYPE = engine.AWS_PROVIDER
STACK_TYPE = engine.STACK
SMOKE_CHECK_TYPE = engine.SMOKE_CHECK

# The wrapper Pulumi puts around a secret value (tap.engine).
SECRET_KEY = engine.SECRET_SIG_KEY
SECRET_SIG = engine.SECRET_SIG
Unknown = pulumi_output.Unknown
is_secret = engine.is_secret
unwrap = engine.unwrap_secrets


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


# ---------------------------------------------------------------------------------------
# What a run records.


@dataclass(frozen=True)
class RegisteredResource:
    """One resource as the engine's resource monitor saw it registered."""

    type: str
    name: str
    urn: str
    parent: str  # parent URN ("" for the stack's direct children)
    dependencies: tuple[str, ...]  # URNs: explicit depends_on + inputs' resources
    inputs: dict[str, Any]  # as Mocks.new_resource receives them (camelCase, floats)
    outputs: dict[str, Any]  # what the mock returned
    provider: str  # provider reference "<provider urn>::<provider id>", or ""
    custom: bool
    id: str

    @property
    def provider_urn(self) -> str:
        return self.provider.rsplit("::", 1)[0] if self.provider else ""

    def input(self, *path: str) -> Any:
        """The (secret-unwrapped) input at a camelCase path: ``fn.input("loggingConfig",
        "logGroup")``; KeyError naming the path when absent."""
        value: Any = unwrap(self.inputs)
        for i, key in enumerate(path):
            if not isinstance(value, dict) or key not in value:
                raise KeyError(f"{self.type} {self.name!r} has no input {'.'.join(path[: i + 1])}")
            value = value[key]
        return value


@dataclass
class ProgramRun:
    """The result of one run of the program under mocks."""

    stack: str
    preview: bool
    config: dict[str, str]
    resources: list[RegisteredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # What each component passed to register_outputs, by URN (the stack's are ``outputs``).
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- finding resources ------------------------------------------------------------
    def of_type(self, type_token: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> RegisteredResource:
        """The single resource of this type (and logical name); AssertionError otherwise."""
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_token)]
            raise AssertionError(
                f"expected exactly one {type_token}"
                + (f" named {name!r}" if name else "")
                + f", found {len(found)} (registered: {names})"
            )
        return found[0]

    def by_urn(self, urn: str) -> RegisteredResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def custom_resources(self) -> list[RegisteredResource]:
        """Resources a provider manages (not components, not providers)."""
        return [r for r in self.resources if r.custom and r.type != PROVIDER_TYPE]

    def providers(self) -> list[RegisteredResource]:
        return self.of_type(PROVIDER_TYPE)

    def provider_of(self, resource: RegisteredResource) -> RegisteredResource | None:
        """The explicit provider the resource was registered with (None: the default one)."""
        if not resource.provider:
            return None
        return self.by_urn(resource.provider_urn)

    def type_tokens(self) -> set[str]:
        return {r.type for r in self.resources}

    def depends_on(self, resource: RegisteredResource, other: RegisteredResource) -> bool:
        """True when the engine would create ``other`` before ``resource``: an explicit
        ``depends_on`` or an input that is one of ``other``'s outputs."""
        return other.urn in resource.dependencies

    # -- tags ---------------------------------------------------------------------------
    def default_tags(self, resource: RegisteredResource) -> dict[str, str]:
        """The ``default_tags`` of the resource's provider ({} when it has none)."""
        provider = self.provider_of(resource)
        if provider is None:
            return {}
        return provider_default_tags(provider)

    def effective_tags(self, resource: RegisteredResource) -> dict[str, str]:
        """The tags AWS ends up with (pulumi-aws's ``tags_all``): the provider's default
        tags, overridden key by key by the resource's own ``tags``."""
        return engine.effective_tags(
            self.default_tags(resource), unwrap(resource.inputs.get("tags"))
        )

    def taggable_resources(self) -> list[RegisteredResource]:
        return [r for r in self.custom_resources() if engine.is_taggable(r.type, r.inputs)]

    # -- outputs --------------------------------------------------------------------------
    def output(self, name: str) -> Any:
        """A stack output with secrets unwrapped; KeyError listing the exports when absent."""
        if name not in self.outputs:
            raise KeyError(f"no stack output {name!r}; exported: {sorted(self.outputs)}")
        return unwrap(self.outputs[name])


def provider_default_tags(provider: RegisteredResource) -> dict[str, str]:
    """An aws provider's default tags. The engine passes the ``defaultTags`` input of a
    provider as a JSON string (``{"tags": {...}}``), the way it passes every object input
    of a provider."""
    return engine.provider_default_tags(unwrap(provider.inputs))


def aws_class(type_token: str) -> type | None:
    """The pulumi_aws class of a type token (``aws:lambda/function:Function`` ->
    ``pulumi_aws.lambda_.Function``), or None for a non-aws token."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return None
    module = parts[1].split("/")[0]
    for candidate in (module, module + "_"):  # lambda -> lambda_ (a Python keyword)
        try:
            mod = importlib.import_module(f"pulumi_aws.{candidate}")
        except ImportError:
            continue
        cls = getattr(mod, parts[2], None)
        if isinstance(cls, type):
            return cls
    return None


def takes_tags_in_pulumi_aws(type_token: str) -> bool:
    """True when pulumi-aws's class for the type has ``tags``: what checks that
    ``tap.engine``'s taggable types (the one answer the code uses) are right."""
    cls = aws_class(type_token)
    return cls is not None and isinstance(getattr(cls, "tags", None), property)


# ---------------------------------------------------------------------------------------
# The mocks: AWS-shaped computed attributes, echoed inputs, thread-safe recording.


class _RequestInfo(threading.local):
    request: Any = None
    urn: str = ""


class AwsMocks(pulumi_mocks.Mocks):
    """Mocks returning AWS-shaped outputs per resource type, and recording every resource.

    ``preview=True``: echo inputs only and return no id, so computed attributes are
    unknown to the program, as in a real preview.
    """

    def __init__(self, *, preview: bool = False, account_id: str = ACCOUNT_ID) -> None:
        self.preview = preview
        self.account_id = account_id
        self._lock = threading.Lock()
        self._records: list[RegisteredResource] = []
        self._provider_regions: dict[str, str] = {}  # provider URN -> region
        self._current = _RequestInfo()  # set by RecordingMonitor around new_resource

    # -- pulumi.runtime.Mocks ---------------------------------------------------------------
    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        # The program calls no provider functions; answer the common identity lookups
        # anyway so that a template user's additions do not fail in an obscure way.
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:aws:iam::{self.account_id}:user/test"
            return {"accountId": self.account_id, "arn": arn, "id": self.account_id}, None
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": FALLBACK_REGION, "id": FALLBACK_REGION}, None
        raise NotImplementedError(f"AwsMocks does not mock the provider function {args.token}")

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        request, urn = self._current.request, self._current.urn
        inputs = dict(args.inputs)
        if args.typ == PROVIDER_TYPE:
            with self._lock:
                self._provider_regions[urn] = unwrap(inputs.get("region")) or FALLBACK_REGION
        if not args.custom:
            resource_id, outputs = "", {}
        elif self.preview:
            resource_id, outputs = "", dict(inputs)
        else:
            resource_id, outputs = self._outputs(args.typ, args.name, inputs, args.provider or "")
        record = RegisteredResource(
            type=args.typ,
            name=args.name,
            urn=urn,
            parent=request.parent if request is not None else "",
            dependencies=tuple(request.dependencies) if request is not None else (),
            inputs=inputs,
            outputs=outputs,
            provider=args.provider or "",
            custom=bool(args.custom),
            id=resource_id,
        )
        with self._lock:
            self._records.append(record)
        return resource_id or None, outputs

    # -- recorded -------------------------------------------------------------------------
    def records(self) -> list[RegisteredResource]:
        with self._lock:
            return list(self._records)

    # -- AWS shapes -----------------------------------------------------------------------
    def _region(self, provider_ref: str) -> str:
        urn = provider_ref.rsplit("::", 1)[0]
        with self._lock:
            return self._provider_regions.get(urn, FALLBACK_REGION)

    def _outputs(
        self, typ: str, logical: str, inputs: dict[str, Any], provider_ref: str
    ) -> tuple[str, dict[str, Any]]:
        plain = unwrap(inputs)
        region, account = self._region(provider_ref), self.account_id
        # No autonaming under mocks: an unnamed resource gets its logical name.
        name = plain.get("name") or logical
        out: dict[str, Any] = dict(inputs)
        known = engine.RESOURCE_TYPES.get(typ)
        shape = known.outputs if known is not None else None
        if shape is None and not typ.startswith("aws:"):
            # A dynamic or other non-AWS resource: no ARN to make up.
            return f"{name}-id", out
        if shape is None:
            out.setdefault(
                "arn", f"arn:aws:{typ.split(':')[1].split('/')[0]}:{region}:{account}:{name}"
            )
            return f"{name}-id", out
        resource_id, computed = shape(name, plain, region, account)
        out.update(computed)
        return resource_id, out


class RecordingMonitor(StackOutputsMonitor):
    """The mock monitor, plus what ``Mocks.new_resource`` is not told: the URN, the parent
    and the dependencies of each resource. Stack outputs keep unknowns (a preview)."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks, keep_unknowns=True)
        self.aws_mocks = mocks
        self.component_outputs: dict[str, dict[str, Any]] = {}

    def RegisterResourceOutputs(self, request: Any) -> Any:  # gRPC method name
        if request.urn != self._stack_urn:
            self.component_outputs[request.urn] = rpc.deserialize_properties(
                request.outputs, keep_unknowns=True
            )
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request: Any) -> Any:  # gRPC method name
        current = self.aws_mocks._current
        current.request = request
        current.urn = self.make_urn(request.parent, request.type, request.name)
        try:
            # StackOutputsMonitor closes the event loop each call opens.
            return super().RegisterResource(request)
        finally:
            current.request, current.urn = None, ""


# ---------------------------------------------------------------------------------------
# Running the program.


def run_program(
    raw_config: Mapping[str, str] | None = None,
    *,
    preview: bool = False,
    stack: str = DEFAULT_STACK,
    project: str = PROJECT,
    program: Path | Callable[[], None] = PROGRAM,
    mocks: AwsMocks | None = None,
) -> ProgramRun:
    """Run the Pulumi program under mocks and return what it registered and exported.

    ``raw_config``: ``tap:`` keys without the namespace -> string values, exactly as
    ``pulumi config set`` stores them (objects as JSON text); a key already containing
    ``:`` is passed as is. ``program``: the program file (default: the repository's
    ``__main__.py``) or a callable (for tests of the harness itself).

    Raises whatever the program raised (``tap.config.ConfigError`` for a bad config, an
    exception from an ``apply``), after the runtime has shut down cleanly.
    """
    config = {
        (key if ":" in key else f"tap:{key}"): value for key, value in (raw_config or {}).items()
    }
    mocks = mocks if mocks is not None else AwsMocks(preview=preview)
    monitor = RecordingMonitor(mocks)
    run_pulumi_program(
        program,
        monitor,
        project=project,
        stack=stack,
        config=config,
        preview=preview,
        timeout_s=RUN_TIMEOUT_S,
    )
    return ProgramRun(
        stack=stack,
        preview=preview,
        config=config,
        resources=mocks.records(),
        outputs=dict(monitor.stack_outputs),
        component_outputs=dict(monitor.component_outputs),
    )


def iter_values(value: Any) -> Iterator[Any]:
    """Every leaf value of a nested input (dicts and lists walked), secrets unwrapped."""
    value = unwrap(value)
    if isinstance(value, dict):
        for v in value.values():
            yield from iter_values(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_values(v)
    else:
        yield value
