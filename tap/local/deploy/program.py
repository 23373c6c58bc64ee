"""Run a Pulumi program in-process under a mock resource monitor, as the Python language
host runs it (pulumi/runtime/stack.py: ``run_in_stack``).

Shared by local mode (tap/local/deploy/deployment.py, a monitor that creates resources in
moto) and the test harness (tests/pulumi_mocks.py, a monitor that records). Needs only
``pulumi``.
"""

from __future__ import annotations

import asyncio
import contextvars
import runpy
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack

from tap import engine

STACK_TYPE = engine.STACK


class StackOutputsMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, keeping the stack's registered outputs (what ``pulumi up`` prints).

    ``keep_unknowns``: keep a value that is unknown (a preview) as ``Unknown`` instead of
    dropping it.
    """

    def __init__(self, mocks: pulumi_mocks.Mocks, *, keep_unknowns: bool = False) -> None:
        super().__init__(mocks)
        self.stack_outputs: dict[str, Any] = {}
        self._stack_urn = ""
        self._keep_unknowns = keep_unknowns

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method name
        if request.type == STACK_TYPE:
            self._stack_urn = self.make_urn(request.parent, request.type, request.name)
        return closing_the_loop_it_opens(
            lambda: super(StackOutputsMonitor, self).RegisterResource(request)  # type: ignore[no-untyped-call]
        )

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self._stack_urn:
            self.stack_outputs = rpc.deserialize_properties(
                request.outputs, keep_unknowns=self._keep_unknowns
            )
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]

    def Invoke(self, request: Any) -> Any:  # the gRPC method name
        return closing_the_loop_it_opens(
            lambda: super(StackOutputsMonitor, self).Invoke(request)  # type: ignore[no-untyped-call]
        )

    def ReadResource(self, request: Any) -> Any:  # the gRPC method name
        return closing_the_loop_it_opens(
            lambda: super(StackOutputsMonitor, self).ReadResource(request)  # type: ignore[no-untyped-call]
        )


def closing_the_loop_it_opens(call: Callable[[], Any]) -> Any:
    """Run one of pulumi's MockMonitor methods, then close the event loop it opened.

    They run on the program loop's executor threads and each starts with
    ``_ensure_event_loop()``, which gives the thread a new event loop and never closes it:
    when the executor's threads end, every such loop is garbage collected unclosed and
    Python warns (ResourceWarning) wherever the process is then (a later test, a redeploy).
    The loop is only used inside the call, so it is closed when the call returns."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
        had_a_loop = True
    except RuntimeError:  # a thread without one: the call will open one
        had_a_loop = False
    try:
        return call()
    finally:
        if not had_a_loop:
            policy = asyncio.get_event_loop_policy()
            try:
                opened = policy.get_event_loop()
            except RuntimeError:
                opened = None
            if opened is not None and not opened.is_running():
                policy.set_event_loop(None)
                opened.close()


class ProgramTimeoutError(TimeoutError):
    """The program did not finish in time (a registration that never resolved)."""


def run_program(
    program: Path | Callable[[], None],
    monitor: pulumi_mocks.MockMonitor,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    preview: bool = False,
    timeout_s: float,
) -> None:
    """Run ``program`` (a ``__main__.py``, or a callable) against ``monitor``.

    The run has its own thread, event loop and empty contextvars context: the Pulumi SDK
    keeps all of its per-run state (settings, root stack, config, outstanding outputs) in
    context variables, so runs never see each other's state, any number can run in one
    process, and the caller's event loop (pytest's, say) is never touched. It creates the
    root stack, runs the program, registers the stack outputs and waits for every
    registration and ``apply``, as the language host does; ``pulumi.runtime.set_mocks`` is
    not used because it finishes the root stack before the program runs, so exports would
    never be registered.

    Raises whatever the program raised, after the runtime has shut down cleanly, or
    ProgramTimeoutError.
    """
    root = program.parent if isinstance(program, Path) else Path.cwd()
    result: dict[str, BaseException] = {}

    def body() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # The language host runs the program with its folder on sys.path.
        added = isinstance(program, Path) and str(root) not in sys.path
        try:
            pulumi_settings.configure(
                pulumi_settings.Settings(
                    project=project,
                    stack=stack,
                    monitor=monitor,
                    engine=pulumi_mocks.MockEngine(None),
                    dry_run=preview,
                    organization="organization",
                    root_directory=str(root),
                )
            )
            set_all_config(dict(config))
            if added:
                sys.path.insert(0, str(root))
            if isinstance(program, Path):
                path = str(program)

                def entry() -> None:
                    runpy.run_path(path, run_name="__main__")

            else:
                entry = program
            loop.run_until_complete(run_in_stack(entry))
        except BaseException as error:  # re-raised on the caller's thread
            result["error"] = error
        finally:
            if added and str(root) in sys.path:
                sys.path.remove(str(root))
            try:
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    # An explicitly empty context: Python 3.14 can make new threads inherit the caller's.
    thread = threading.Thread(
        target=contextvars.Context().run, args=(body,), name=f"pulumi-{stack}", daemon=True
    )
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise ProgramTimeoutError(f"the program did not finish within {timeout_s:g} s")
    if "error" in result:
        raise result["error"]
