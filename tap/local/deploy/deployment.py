"""Deploy the Pulumi program into moto and serve its HTTP API with the emulator.

``deploy()`` does what ``pulumi up`` does, on one machine: it reads the stack's config,
runs the same ``__main__.py`` with every resource created in a moto server on 127.0.0.1
(tap.local.deploy.mocks), checks the references moto does not validate
(tap.local.deploy.checks), and loads the emulator with what moto holds
(tap.local.deploy.readback). The stage URL output is the emulator's URL, so the smoke check
(a dynamic resource whose ``create`` really runs) and the outputs point at it.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tap import config as tap_config
from tap import engine
from tap.local.deploy.checks import BrokenReferencesError, broken_references, read_snapshot
from tap.local.deploy.mocks import MotoMocks
from tap.local.deploy.motoserver import DEFAULT_ACCOUNT_ID, MotoServer
from tap.local.deploy.program import ProgramTimeoutError, StackOutputsMonitor, run_program
from tap.local.deploy.readback import API_TYPE, ReadbackError, build_specs, moto_code_reader
from tap.local.deploy.resources import Deployed, DeployError
from tap.local.deploy.stackfile import apply_override, find_program, load_config
from tap.local.gateway import jwt_auth
from tap.local.gateway.emulator import Emulator
from tap.local.logs.cloudwatch import (
    CloudWatchLogs,
    MotoBackendPutLogEvents,
    access_log_stream_name,
)
from tap.local.logs.sink import LogSink, fan_out
from tap.local.runtime.instance import Worker
from tap.local.runtime.invoke import LambdaInvoker
from tap.local.specs import AccessLogSink, FunctionLogSink

DEFAULT_STACK = "local"
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


class LocalAuthError(ValueError):
    """tap:auth cannot be validated locally as configured; the message names the setting."""


_JWKS_TIMEOUT_S = 5.0


def load_jwks_file(config: tap_config.StackConfig, jwks_file: Path | None) -> Mapping[str, Any]:
    """The keys of an external issuer (tap:auth type jwt), from ``--jwks FILE``.

    Local mode cannot fetch an external issuer's keys, and never skips validation: without
    the file it refuses to start (LocalAuthError), naming the setting.
    """
    auth = config.auth
    if auth is None or auth.type != "jwt":
        return {}
    if jwks_file is None:
        raise LocalAuthError(
            f"tap:auth is type jwt with issuer {auth.issuer}: local mode cannot fetch that "
            "issuer's keys, and never serves the protected routes unchecked. Pass --jwks FILE "
            "(the issuer's JWKS document, from <issuer>/.well-known/jwks.json)"
        )
    try:
        return jwt_auth.parse_jwks(jwks_file.read_bytes())
    except OSError as error:
        raise LocalAuthError(f"--jwks {jwks_file}: {error.strerror or error}") from None
    except jwt_auth.JwksError as error:
        raise LocalAuthError(f"--jwks {jwks_file}: {error}") from None


def cognito_jwks(moto_url: str, region: str, issuer: str) -> Mapping[str, Any] | None:
    """The JWKS a user pool in moto serves, when ``issuer`` is such a pool; else None."""
    prefix = f"https://cognito-idp.{region}.amazonaws.com/"
    if not issuer.startswith(prefix):
        return None
    pool_id = issuer[len(prefix) :]
    request = urllib.request.Request(  # noqa: S310 (the local moto server's http URL)
        f"{moto_url}/{urllib.parse.quote(pool_id)}/.well-known/jwks.json",
        # moto routes by host: the pool's own JWKS URL, as a client would call it.
        headers={"Host": f"cognito-idp.{region}.amazonaws.com"},
    )
    try:
        with urllib.request.urlopen(request, timeout=_JWKS_TIMEOUT_S) as response:  # noqa: S310
            return jwt_auth.parse_jwks(response.read())
    except (urllib.error.URLError, jwt_auth.JwksError):
        return None


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
    # Where the function's lines and the access log are written in moto (None: not written).
    cloudwatch: CloudWatchLogs | None = None
    program_dir: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def duration_s(self) -> float:
        """Seconds from the start of the deploy to the checked, served stack."""
        return self.deployed_at - self.started_at

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
            try:
                if self.cloudwatch is not None:
                    self.cloudwatch.close()  # writes what is queued while moto still runs
            finally:
                self.moto.stop()

    def __enter__(self) -> LocalDeployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def resolve_config(
    program_dir: Path,
    stack: str,
    overrides: Mapping[str, str] | None = None,
    *,
    config_module: Any = tap_config,
) -> tuple[str, dict[str, str], tap_config.StackConfig]:
    """(project, config map, validated StackConfig). Raises StackFileError or ConfigError.

    :param config_module: the ``tap.config`` that validates (a redeploy's is imported
        again from disk)."""
    project, config = load_config(program_dir, stack)
    for key, value in (overrides or {}).items():
        apply_override(config, project, key, value)
    prefix = config_module.NAMESPACE + ":"
    raw = {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}
    return project, config, config_module.parse(raw)


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
    log_sink: LogSink | None = None,
    worker: Worker | None = None,
    max_instances: int | None = None,
    on_listening: Callable[[str], None] | None = None,
    cloudwatch_logs: bool = True,
    on_invoked: Callable[[str, str, str], None] | None = None,
    jwks_file: Path | None = None,
) -> LocalDeployment:
    """Deploy the program locally and start serving it.

    :param config: config values over the stack file's (``key`` or ``ns:key`` -> string).
    :param port: the emulator's port (0: any free port); ``moto_port`` likewise.
    :param account_id: moto keeps one set of resources per account; a distinct id keeps
        deploys in one process apart.
    :param log_sink, worker, max_instances: passed to the Emulator.
    :param on_listening: called with the emulator's URL as soon as it listens (it answers
        503 until the deploy has loaded it, then serves through the rest of the deploy).
    :param cloudwatch_logs: also write the function's lines and the access log to their
        log groups in moto (tap.local.logs.cloudwatch), off the request path.
    :param on_invoked: told (function, request id, status) after each direct ``Invoke``
        through moto (``aws lambda invoke``), which local mode runs (tap.local.runtime.invoke).
    :param jwks_file: the keys of an external JWT issuer (tap:auth type jwt): required then.
    Raises StackFileError, ConfigError (before anything starts), OSError (a port in use),
    DeployError, BrokenReferencesError or the program's own exception; nothing is left
    running when it raises.
    """
    started = time.monotonic()
    directory = find_program(program_dir)
    project, config_map, stack_config = resolve_config(directory, stack, config)
    region = stack_config.region
    external_keys = load_jwks_file(stack_config, jwks_file)  # LocalAuthError before starting

    moto = MotoServer(port=moto_port, account_id=account_id)
    cloudwatch = (
        CloudWatchLogs(
            lambda: moto.client("logs", region),
            put_events=MotoBackendPutLogEvents(account_id, region),
        )
        if cloudwatch_logs
        else None
    )

    # `aws lambda invoke --endpoint-url <moto>` runs the function here, not in Docker; it
    # also sees the lines, for LogType=Tail.
    invoker = LambdaInvoker(on_invoked=on_invoked)
    emulator = Emulator(
        port=port,
        on_function_log=on_function_log,
        on_access_log=_fan_out_access(on_access_log, cloudwatch),
        log_sink=fan_out([log_sink, cloudwatch, invoker.log_line]),
        worker=worker,
        max_instances=max_instances,
    )
    try:
        _start(emulator.start, "HTTP API emulator", port, "--port")
        if on_listening is not None:
            on_listening(emulator.url)
        _start(moto.start, "moto server", moto_port, "--moto-port")
        mocks = MotoMocks(
            moto,
            region,
            stage_url=lambda api_id, stage: _stage_url(emulator.url, stage),
            dynamic_config=config_map,
            project=project,
        )

        def jwks_for(issuer: str) -> Mapping[str, Any]:
            # A pool this deploy created in moto serves its own keys (docs/http-api.md
            # rule 60: the authorizer fetches them from the issuer); an external issuer's
            # come from --jwks.
            keys = cognito_jwks(moto.url, region, issuer) or external_keys
            if not keys:
                raise ReadbackError(f"no keys for the JWT issuer {issuer}: pass --jwks FILE")
            return keys

        feed = EmulatorFeed(mocks, emulator, cloudwatch, account_id=account_id, jwks_for=jwks_for)
        outputs = _run_program(
            directory / "__main__.py",
            mocks,
            project,
            stack,
            config_map,
            timeout_s=stack_config.smoke_check_timeout_seconds + _RUN_MARGIN_S,
        )
        feed.check_and_load()
        invoker.emulator = emulator
        moto.invoker = invoker
        _show_local_endpoint(account_id, region, emulator.url, list(mocks.resources))
    except BaseException:
        emulator.stop()
        if cloudwatch is not None:
            cloudwatch.close()
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
        cloudwatch=cloudwatch,
        program_dir=directory,
    )


class EmulatorFeed:
    """How a run's mocks feed the emulator, for deploy() and a redeploy alike: ``load``
    builds its specs (and the log groups' names) from what the mocks hold, and the mocks'
    dynamic hooks point the smoke check at the emulator, serving what is applied so far."""

    def __init__(
        self,
        mocks: MotoMocks,
        emulator: Emulator,
        cloudwatch: CloudWatchLogs | None,
        *,
        account_id: str,
        jwks_for: Callable[[str], Mapping[str, Any]],
    ) -> None:
        self.mocks = mocks
        self.emulator = emulator
        self.cloudwatch = cloudwatch
        self.region = mocks.default_region
        self.account_id = account_id
        self._jwks_for = jwks_for
        self._code_of = moto_code_reader(account_id, self.region)
        mocks.rewrite_dynamic_inputs = self._rewrite_dynamic_inputs
        mocks.before_dynamic = self._before_dynamic

    def client(self, service: str) -> Any:
        return self.mocks.client(service, self.region)

    def load(self, strict: bool) -> None:
        """Load the emulator with what the mocks hold (strict: the whole deploy; else
        what is there so far)."""
        api, functions = build_specs(
            self.client,
            self._code_of,
            list(self.mocks.resources),
            region=self.region,
            account_id=self.account_id,
            strict=strict,
            jwks_for=self._jwks_for,
        )
        self.emulator.load(api, functions)
        if self.cloudwatch is not None:
            self.cloudwatch.configure(
                {name: spec.log_group for name, spec in functions.items()},
                api.access_log_group,
                access_log_stream_name(api.api_id, api.stage),
            )

    def check_and_load(self) -> None:
        """Check the references moto does not validate, then load the whole deploy."""
        resources = list(self.mocks.resources)
        problems = broken_references(
            read_snapshot(self.client, self.region, self.account_id, resources)
        )
        if problems:
            raise BrokenReferencesError(problems)
        self.load(strict=True)

    def _rewrite_dynamic_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        # A custom domain (tap:domain) does not resolve to this machine: the smoke check
        # calls the emulator, which serves that domain's requests too.
        url = inputs.get("url")
        host = urllib.parse.urlsplit(url).hostname if isinstance(url, str) else None
        domains = {str(d.id) for d in self.mocks.resources if d.type == engine.HTTP_API_DOMAIN_NAME}
        if host is not None and host in domains:
            return {**inputs, "url": f"{self.emulator.url}/"}
        return inputs

    def _before_dynamic(self) -> None:
        # As on AWS, the smoke check calls the API once the resources it depends on are
        # applied: serve what is deployed by then (once nothing else is still applying).
        self.mocks.wait_idle(_SETTLE_TIMEOUT_S)
        self.load(strict=False)


def _show_local_endpoint(account_id: str, region: str, url: str, resources: list[Deployed]) -> None:
    """``get-apis`` against moto shows where the API is served: the emulator's URL in
    place of the execute-api host that moto makes up (and that does not resolve)."""
    from moto.backends import get_backend

    backend = get_backend("apigatewayv2")[account_id][region]
    for resource in resources:
        api = backend.apis.get(resource.id) if resource.type == API_TYPE else None
        if api is not None:
            api.api_endpoint = url


def _fan_out_access(
    sink: AccessLogSink | None, cloudwatch: CloudWatchLogs | None
) -> AccessLogSink | None:
    if cloudwatch is None:
        return sink

    def both(line: str) -> None:
        cloudwatch.access_line(line)
        if sink is not None:
            sink(line)

    return both


def _stage_url(base: str, stage: str) -> str:
    # The $default stage is served at the root (AWS's invoke URL ends with "/"); a named
    # stage under /<name> (docs/http-api.md rule 2).
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
    """Run the program under the mocks, as the Python language host runs it; its outputs."""
    monitor = StackOutputsMonitor(mocks)
    program_error: BaseException | None = None
    try:
        run_program(
            program, monitor, project=project, stack=stack, config=config, timeout_s=timeout_s
        )
    except ProgramTimeoutError as timeout:
        raise DeployError(str(timeout)) from None
    except BaseException as error:
        program_error = error
    if mocks.errors:
        # The first failure usually explains the rest (a resource whose input never
        # resolved); list them all, in order.
        lines = "\n".join(f"  - {e}" for e in dict.fromkeys(mocks.errors))
        raise DeployError(f"the local deploy failed:\n{lines}")
    if program_error is not None:
        raise program_error
    return {k: engine.unwrap_secrets(v) for k, v in monitor.stack_outputs.items()}
