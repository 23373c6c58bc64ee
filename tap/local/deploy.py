"""Deploy the Pulumi program into moto and serve its HTTP API with the emulator.

``deploy()`` does what ``pulumi up`` does, on one machine: it reads the stack's config,
runs the same ``__main__.py`` with every resource created in a moto server on 127.0.0.1
(tap.local.mocks), checks the references moto does not validate (tap.local.checks), and
loads the emulator with what moto holds (tap.local.readback). The stage URL output is the
emulator's URL, so the smoke check (a dynamic resource whose ``create`` really runs) and the
outputs point at it.
"""

from __future__ import annotations

import asyncio
import contextvars
import runpy
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack

from tap import config as tap_config

from .checks import BrokenReferencesError, broken_references, read_snapshot
from .emulator import AccessLogSink, Emulator, FunctionLogSink
from .mocks import Deployed, DeployError, MotoMocks, unwrap_secrets
from .motoserver import DEFAULT_ACCOUNT_ID, MotoServer
from .readback import build_specs, moto_code_reader
from .stackfile import find_program, load_config

DEFAULT_STACK = "local"
STACK_TYPE = "pulumi:pulumi:Stack"
# Bound on the program run. The smoke check inside it retries for up to
# tap:smokeCheckTimeoutSeconds; everything else takes a few seconds.
_RUN_MARGIN_S = 60.0
# How long the smoke check waits for resources still being created before it reads the
# deployed API back (routes are created alongside the stage it depends on).
_SETTLE_TIMEOUT_S = 10.0

__all__ = [
    "DEFAULT_STACK",
    "BrokenReferencesError",
    "DeployError",
    "LocalDeployment",
    "PortInUseError",
    "deploy",
]


class PortInUseError(OSError):
    """A port local mode was told to use is taken; the message says which and what to do."""

    def __init__(self, what: str, port: int, option: str, error: OSError) -> None:
        self.port = port
        super().__init__(
            f"cannot serve the {what} on 127.0.0.1:{port}: {error.strerror or error}. "
            f"Pass {option} with a free port, or {option} 0 for any free port"
        )


def _start(start: Callable[[], str], what: str, port: int, option: str) -> None:
    try:
        start()
    except OSError as error:
        raise PortInUseError(what, port, option, error) from error


@dataclass
class LocalDeployment:
    """A running local deploy: the stack outputs, what was created, and the servers.

    Stop it (``stop()`` or ``with``) to shut the emulator and the moto server down.
    """

    stack: str
    project: str
    region: str
    account_id: str
    config: dict[str, str]
    outputs: dict[str, Any]
    resources: list[Deployed]
    moto: MotoServer
    emulator: Emulator
    started_at: float
    deployed_at: float
    _stopped: bool = field(default=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        """The moto server's URL (``aws --endpoint-url ...``)."""
        return self.moto.url

    @property
    def url(self) -> str:
        """The emulator's base URL (the ``$default`` stage's URL)."""
        return self.emulator.url

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` that reads this deploy in moto."""
        return self.moto.client(service, self.region)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            self.emulator.stop()
        finally:
            self.moto.stop()

    def __enter__(self) -> LocalDeployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Monitor(pulumi_mocks.MockMonitor):
    """The mock monitor, keeping the stack's registered outputs (what ``pulumi up`` prints)."""

    def __init__(self, mocks: MotoMocks) -> None:
        super().__init__(mocks)
        self.stack_outputs: dict[str, Any] = {}
        self._stack_urn = ""

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method name
        if request.type == STACK_TYPE:
            self._stack_urn = self.make_urn(request.parent, request.type, request.name)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self._stack_urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def resolve_config(
    program_dir: Path, stack: str, overrides: Mapping[str, str] | None = None
) -> tuple[str, dict[str, str], tap_config.StackConfig]:
    """(project, config map, validated StackConfig). Raises StackFileError or ConfigError."""
    project, config = load_config(program_dir, stack)
    for key, value in (overrides or {}).items():
        config[key if ":" in key else f"{project}:{key}"] = value
    prefix = tap_config.NAMESPACE + ":"
    raw = {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}
    return project, config, tap_config.parse(raw)


def deploy(
    *,
    program_dir: Path | None = None,
    stack: str = DEFAULT_STACK,
    config: Mapping[str, str] | None = None,
    port: int = 0,
    moto_port: int = 0,
    account_id: str = DEFAULT_ACCOUNT_ID,
    on_function_log: FunctionLogSink | None = None,
    on_access_log: AccessLogSink | None = None,
) -> LocalDeployment:
    """Deploy the program locally and start serving it.

    :param config: config values over the stack file's (``key`` or ``ns:key`` -> string).
    :param port: the emulator's port (0: any free port); ``moto_port`` likewise.
    :param account_id: moto keeps one set of resources per account; a distinct id keeps
        deploys in one process apart.
    Raises StackFileError, ConfigError (before anything starts), OSError (a port in use),
    DeployError, BrokenReferencesError or the program's own exception; nothing is left
    running when it raises.
    """
    started = time.monotonic()
    directory = find_program(program_dir)
    project, config_map, stack_config = resolve_config(directory, stack, config)
    region = stack_config.region

    emulator = Emulator(port=port, on_function_log=on_function_log, on_access_log=on_access_log)
    moto = MotoServer(port=moto_port, account_id=account_id)
    try:
        _start(emulator.start, "HTTP API emulator", port, "--port")
        _start(moto.start, "moto server", moto_port, "--moto-port")
        mocks = MotoMocks(
            moto,
            region,
            stage_url=lambda api_id, stage: _stage_url(emulator.url, stage),
            dynamic_config=config_map,
            project=project,
        )

        def client(service: str) -> Any:
            return mocks.client(service, region)

        code_of = moto_code_reader(account_id, region)

        def load_emulator(strict: bool) -> None:
            api, functions = build_specs(
                client,
                code_of,
                list(mocks.resources),
                region=region,
                account_id=account_id,
                strict=strict,
            )
            emulator.load(api, functions)

        def before_dynamic() -> None:
            # The smoke check calls the API as soon as its create runs: serve what is
            # deployed by then (once nothing else is still being created).
            mocks.wait_idle(_SETTLE_TIMEOUT_S)
            load_emulator(strict=False)

        mocks.before_dynamic = before_dynamic
        outputs = _run_program(
            directory / "__main__.py",
            mocks,
            project,
            stack,
            config_map,
            timeout_s=stack_config.smoke_check_timeout_seconds + _RUN_MARGIN_S,
        )
        problems = broken_references(
            read_snapshot(client, region, account_id, list(mocks.resources))
        )
        if problems:
            raise BrokenReferencesError(problems)
        load_emulator(strict=True)
    except BaseException:
        emulator.stop()
        moto.stop()
        raise
    return LocalDeployment(
        stack=stack,
        project=project,
        region=region,
        account_id=account_id,
        config=config_map,
        outputs=outputs,
        resources=list(mocks.resources),
        moto=moto,
        emulator=emulator,
        started_at=started,
        deployed_at=time.monotonic(),
    )


def _stage_url(base: str, stage: str) -> str:
    # The $default stage is served at the root (AWS's invoke URL ends with "/"); a named
    # stage under /<name> (http-api.md rule 2).
    return f"{base}/" if stage == "$default" else f"{base}/{stage}"


def _run_program(
    program: Path,
    mocks: MotoMocks,
    project: str,
    stack: str,
    config: Mapping[str, str],
    *,
    timeout_s: float,
) -> dict[str, Any]:
    """Run the program under the mocks, as the Python language host runs it; its outputs.

    The run has its own thread, event loop and (empty) contextvars context: the Pulumi SDK
    keeps its per-run state in context variables, so a run never sees another's, and the
    caller's event loop (pytest's, for instance) is never touched.
    """
    monitor = _Monitor(mocks)
    result: dict[str, Any] = {}

    def body() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        sys_path_added = str(program.parent) not in sys.path
        try:
            pulumi_settings.configure(
                pulumi_settings.Settings(
                    project=project,
                    stack=stack,
                    monitor=monitor,
                    engine=pulumi_mocks.MockEngine(None),
                    dry_run=False,
                    organization="organization",
                    root_directory=str(program.parent),
                )
            )
            set_all_config(dict(config))
            if sys_path_added:
                # The language host runs the program with its directory on sys.path.
                sys.path.insert(0, str(program.parent))

            def entry() -> None:
                runpy.run_path(str(program), run_name="__main__")

            loop.run_until_complete(run_in_stack(entry))
        except BaseException as error:  # re-raised on the caller's thread
            result["error"] = error
        finally:
            if sys_path_added and str(program.parent) in sys.path:
                sys.path.remove(str(program.parent))
            try:
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    thread = threading.Thread(
        target=contextvars.Context().run, args=(body,), name=f"tap-local-{stack}", daemon=True
    )
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise DeployError(f"the program did not finish within {timeout_s:g} s")
    if mocks.errors:
        # The first failure usually explains the rest (a resource whose input never
        # resolved); list them all, in order.
        lines = "\n".join(f"  - {e}" for e in dict.fromkeys(mocks.errors))
        raise DeployError(f"the local deploy failed:\n{lines}")
    if "error" in result:
        raise result["error"]
    return {k: unwrap_secrets(v) for k, v in monitor.stack_outputs.items()}
