"""``python -m tap local``: deploy the stack into moto, print it as ``pulumi up`` does, serve.

Exit codes: 0 deployed (and, with ``--check``, smoke-checked); 1 the deploy or the check
failed; 2 the command cannot run as given (bad config, bad stack file, a port in use).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from tap import config as tap_config
from tap import smoke
from tap.local import heap, token
from tap.local.deploy.checks import BrokenReferencesError
from tap.local.deploy.deployment import (
    DEFAULT_STACK,
    LocalAuthError,
    LocalDeployment,
    PortInUseError,
    deploy,
)
from tap.local.deploy.readback import FUNCTION_TYPE, ReadbackError
from tap.local.deploy.resources import DeployError
from tap.local.deploy.stackfile import StackFileError, find_program
from tap.local.gateway.emulator import EmulatorConfigError
from tap.local.logs.console import ConsoleLog, runtime_note
from tap.local.logs.targets import local_state
from tap.local.printing import Printer, as_shown, render_outputs, render_resources
from tap.local.runtime.instance import default_worker
from tap.text import quote

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_PORT = 3000  # what `sam local start-api` uses, so muscle memory works
# --check needs no fixed port: any free one, so CI jobs never collide.
CHECK_PORT = 0
# The emulator is already loaded when --check runs its own smoke check (only when the
# program has none): a few seconds is plenty, 120 s would only delay a failure.
CHECK_DEADLINE_S = 10.0
_WAIT_STEP_S = 0.5  # how often the serve loop wakes (so a signal is seen promptly)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap local",
        description=(
            "Deploy the stack into moto (the AWS emulator) on 127.0.0.1 and serve its HTTP API "
            "there: no AWS account, no Docker. Prints the resources and outputs as "
            "`pulumi up` does, then serves and streams the function's logs and the access "
            "log until Ctrl-C."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port for the HTTP API (default {DEFAULT_PORT}; with --check any free port; "
        "0: any free port)",
    )
    parser.add_argument(
        "--moto-port",
        type=int,
        default=0,
        help="port for the moto server that holds the resources (default: any free port)",
    )
    parser.add_argument(
        "--stack",
        default=DEFAULT_STACK,
        help=f"stack name: Pulumi.<stack>.yaml's config applies when present "
        f"(default {DEFAULT_STACK})",
    )
    parser.add_argument(
        "-c",
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config value over the stack file's, as `pulumi config set` takes it "
        "(e.g. -c timeout=20 or -c tap:logLevel=DEBUG), a path as with --path "
        "(-c 'cors.allowOrigins[0]=https://app.example.com'); repeatable",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the function's log records beneath each request line "
        "(default: one line per request, e.g. `GET /health 200 3 ms [cold]`)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="deploy, smoke-check the API, print the outputs, and exit 0 (passed) or 1",
    )
    parser.add_argument(
        "--outputs-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the stack outputs to PATH as JSON (as `pulumi stack output --json`)",
    )
    parser.add_argument(
        "--max-instances",
        type=_positive_int,
        default=None,
        metavar="N",
        help="most instances of a function running at once (default: the CPU count); "
        "requests past it wait. The function's reservedConcurrency, when set, throttles "
        "as on Lambda",
    )
    parser.add_argument(
        "--no-reload",
        action="store_true",
        help="do not watch for saves (by default a save of the function's files reloads "
        "it: the next request cold-starts the new code; a save of Pulumi*.yaml, __main__.py "
        "or tap/ re-runs the program into the same moto and prints what changed)",
    )
    parser.add_argument(
        "--jwks",
        type=Path,
        default=None,
        metavar="FILE",
        help="the JWKS document of tap:auth's external issuer (type jwt): local mode cannot "
        "fetch it, and without it refuses to start rather than serve the routes unchecked",
    )
    parser.add_argument(
        "--program-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the Pulumi project (Pulumi.yaml and __main__.py); default: the current "
        "directory, else the project tap was installed from",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise StackFileError(f"--config {quote(item)} must be KEY=VALUE (e.g. timeout=20)")
        overrides[key] = value
    return overrides


def _own_smoke_check(deployment: LocalDeployment) -> str:
    """Run tap.smoke's checks against the emulator (for programs without a smoke check)."""
    # Imported here: tap.stack loads pulumi_aws, which only this path of the CLI needs.
    from tap.stack import expected_cors, preflight_origin

    prefix = tap_config.NAMESPACE + ":"
    raw = {k[len(prefix) :]: v for k, v in deployment.config.items() if k.startswith(prefix)}
    stack_config = tap_config.parse(raw)
    url = str(deployment.outputs.get("api_gateway_url") or deployment.url + "/")
    spec = smoke.SmokeSpec(
        url=url,
        expected_environment=stack_config.environment,
        origin=preflight_origin(stack_config.cors),
        cors=smoke.ExpectedCors.from_input(expected_cors(stack_config.cors)),
        deadline_seconds=CHECK_DEADLINE_S,
    )
    report = smoke.run_smoke_check(spec)
    checks = ", ".join(report.outputs()["checks"])
    return f"smoke check passed against {url} ({checks})"


class _SigtermError(Exception):
    """SIGTERM, turned into an exception so the serve loop unwinds like Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _SigtermError()


# Everything local mode talks to is on this machine. Listed in NO_PROXY for the run so
# that an HTTP client reading HTTP_PROXY/HTTPS_PROXY/ALL_PROXY (urllib, as the program's
# smoke check uses) never sends loopback traffic to a proxy; the boto3 clients of moto
# disable proxies themselves (tap/local/deploy/motoserver.py).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@contextlib.contextmanager
def _loopback_bypasses_proxies() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    listed = [h.strip() for v in saved.values() if v for h in v.split(",") if h.strip()]
    value = ",".join(dict.fromkeys([*listed, *LOOPBACK_HOSTS]))
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = value
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C (SIGINT) raises KeyboardInterrupt for the whole run, even when the process
    started with SIGINT ignored, as a shell's background job (``&``) or some CI runners
    start it: Python then leaves it ignored, and ``kill -INT`` would do nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    with _interruptible(), _loopback_bypasses_proxies():
        return _run(argv, out, err)


def _run(argv: Sequence[str] | None, out: TextIO | None, err: TextIO | None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    args = build_parser().parse_args(argv)
    printer = Printer(out)

    def fail(code: int, message: str) -> int:
        err.write(f"error: {message}\n")
        err.flush()
        return code

    port = args.port if args.port is not None else (CHECK_PORT if args.check else DEFAULT_PORT)
    # One line per request, printed off the request path; held until "Serving on".
    console = printer.console = ConsoleLog(printer.log, verbose=args.verbose)
    if args.check:
        printer.buffer = []  # logs are shown only if the check fails
        console.release()
    try:
        overrides = parse_overrides(args.config)
        printer.line(f"Deploying stack {args.stack} into moto on 127.0.0.1 (local mode)...")
        worker, note = default_worker()
        if note is not None:
            printer.line(note)
        deployment = deploy(
            program_dir=args.program_dir,
            stack=args.stack,
            config=overrides,
            port=port,
            moto_port=args.moto_port,
            log_sink=console,
            on_access_log=console.access_line,
            on_invoked=console.invoked,
            worker=worker,
            max_instances=args.max_instances,
            jwks_file=args.jwks,
        )
    except (tap_config.ConfigError, LocalAuthError) as error:
        return fail(EXIT_USAGE, str(error))
    except (StackFileError, PortInUseError) as error:
        return fail(EXIT_USAGE, str(error))
    except (DeployError, BrokenReferencesError, ReadbackError, EmulatorConfigError) as error:
        _flush_buffer(printer)
        return fail(EXIT_FAILED, str(error))
    except Exception:  # the program's own exception: its traceback is what helps
        _flush_buffer(printer)
        traceback.print_exc(file=err)
        return fail(EXIT_FAILED, "the Pulumi program raised the exception above")

    # What the deploy loaded (moto, pulumi, botocore: most of the heap) stays for the
    # whole run: frozen, and the collector's threshold put back (tap/local/heap.py).
    heap.settle_after_start()
    with deployment, contextlib.closing(console):
        printer.line()
        for text in render_resources(deployment):
            printer.line(text)
        printer.line()
        for text in render_outputs(deployment.outputs):
            printer.line(text)
        printer.line()
        printer.line(f"Duration: {deployment.duration_s:.1f}s")
        if args.outputs_file is not None:
            shown = {k: as_shown(v) for k, v in sorted(deployment.outputs.items())}
            args.outputs_file.write_text(json.dumps(shown, indent=2) + "\n")
        if args.check:
            return _check(deployment, printer, fail)
        note = runtime_note(
            str(r.inputs.get("runtime", ""))
            for r in deployment.resources
            if r.type == FUNCTION_TYPE
        )
        if note:
            printer.line(note)
        # Where `tap logs --local` finds this deploy's moto endpoint.
        with local_state(find_program(args.program_dir), args.stack, deployment):
            return _serve(
                deployment,
                printer,
                reload=not args.no_reload,
                overrides=overrides,
                jwks_file=args.jwks,
            )


def _flush_buffer(printer: Printer) -> None:
    if printer.console is not None:
        printer.console.flush()
    lines, printer.buffer = printer.buffer or [], None
    if lines:
        printer.line("Logs:")
        for text in lines:
            printer.line(text)


def _check(deployment: LocalDeployment, printer: Printer, fail: Any) -> int:
    if "smoke_check" in deployment.outputs:
        # The program's own smoke check ran during the deploy, against the emulator, and
        # passed (a failing one fails the deploy).
        printer.line(f"smoke check passed against {deployment.url}/ (run by the deploy)")
        return EXIT_OK
    try:
        printer.line(_own_smoke_check(deployment))
    except smoke.SmokeCheckFailedError as error:
        _flush_buffer(printer)
        return int(fail(EXIT_FAILED, str(error)))
    return EXIT_OK


def _write_token_state(deployment: LocalDeployment, printer: Printer) -> Path | None:
    """Where `tap token` finds this stack's pool (only with a Cognito pool)."""
    outputs = deployment.outputs
    if deployment.program_dir is None or "user_pool_id" not in outputs:
        return None
    existing: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):  # `tap logs`' record, in the same file
        existing = json.loads(
            token.state_path(deployment.program_dir, deployment.stack).read_text()
        )
    path = token.write_state(
        deployment.program_dir,
        deployment.stack,
        {
            **existing,
            "moto_url": deployment.endpoint_url,
            "region": deployment.region,
            "account_id": deployment.account_id,
            "user_pool_id": outputs["user_pool_id"],
            "user_pool_client_id": outputs["user_pool_client_id"],
        },
    )
    printer.line(
        f'Auth: curl -H "Authorization: Bearer $(python -m tap token --stack '
        f'{deployment.stack})" ...  (routes other than publicRoutes need it)'
    )
    return path


def _serve(
    deployment: LocalDeployment,
    printer: Printer,
    *,
    reload: bool = True,
    overrides: dict[str, str] | None = None,
    jwks_file: Path | None = None,
) -> int:
    printer.line(
        f"Resources are in moto: aws --endpoint-url {deployment.endpoint_url} "
        f"--region {deployment.region} lambda list-functions (any credentials will do)"
    )
    printer.line(f"Serving on {deployment.url} (Ctrl-C to stop)")
    try:
        return _watch_and_wait(deployment, printer, reload, overrides, jwks_file)
    except KeyboardInterrupt:  # Ctrl-C before the wait began: the same clean stop
        printer.line()
        printer.line("Stopping...")
        return EXIT_OK


def _watch_and_wait(
    deployment: LocalDeployment,
    printer: Printer,
    reload: bool,
    overrides: dict[str, str] | None,
    jwks_file: Path | None,
) -> int:
    reloader = watcher = None
    if reload:
        from tap.local.reload import from_deployment

        reloader = from_deployment(deployment, printer.line)
        reloader.start()
        printer.line("Watching the function's files: a save reloads it (--no-reload to turn off)")
        watcher = _watch_program(deployment, printer, reloader, overrides, jwks_file)
    try:
        return _announce_and_wait(deployment, printer)
    finally:
        if watcher is not None:
            watcher.stop()
        if reloader is not None:
            reloader.stop()


def _announce_and_wait(deployment: LocalDeployment, printer: Printer) -> int:
    state = _write_token_state(deployment, printer)
    domain = deployment.outputs.get("custom_domain_url")
    if isinstance(domain, str):
        host = domain.removeprefix("https://").rstrip("/")
        printer.line(f"Custom domain: curl -H 'Host: {host}' {deployment.url}/health")
    if printer.console is not None:
        printer.console.release()  # request lines only after the deploy's own output
    try:
        return _wait_until_stopped(printer)
    finally:
        if state is not None:
            state.unlink(missing_ok=True)


def _watch_program(
    deployment: LocalDeployment,
    printer: Printer,
    reloader: Any,
    overrides: dict[str, str] | None,
    jwks_file: Path | None,
) -> Any:
    """Re-run the program on a change to what it reads (tap/local/deploy/redeploy.py)."""
    from tap.local.deploy.watch import from_deployment as watch_program
    from tap.local.reload import functions_of

    watcher = watch_program(
        deployment,
        printer.line,
        overrides=overrides,
        jwks_file=jwks_file,
        on_deployed=lambda d: reloader.retarget(functions_of(d)),
    )
    watcher.start()
    printer.line(
        "Watching the program (Pulumi*.yaml, __main__.py, tap/): a save re-runs it into moto "
        "and prints what changed"
    )
    return watcher


def _wait_until_stopped(printer: Printer) -> int:
    stop = threading.Event()
    previous = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        while not stop.wait(_WAIT_STEP_S):
            pass
    except (KeyboardInterrupt, _SigtermError):
        printer.line()
        printer.line("Stopping...")
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK
