"""Watching what the Pulumi program reads, less the function's files (the hot reload's,
tap/local/reload.py): a save re-runs the program (tap/local/deploy/redeploy.py)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from tap.local.deploy.deployment import LocalDeployment
from tap.local.deploy.readback import FUNCTION_TYPE
from tap.local.deploy.redeploy import Redeployer, Say

_DEBOUNCE_MS = 50
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py")


class ProgramWatcher:
    """Watch what the program reads (less the function's files) and redeploy on a change.

    Saves that arrive while a redeploy runs are coalesced into one more run.
    """

    def __init__(
        self,
        redeployer: Redeployer,
        *,
        function_files: Callable[[Path], bool],
    ) -> None:
        """:param function_files: True for a path the hot reload owns (skipped here)."""
        self._redeployer = redeployer
        self._owned_by_function = function_files
        program_dir = redeployer.program_dir.resolve()
        self.program_dir = program_dir
        self.files = {program_dir / name for name in PROGRAM_FILES}
        self.files.add(program_dir / f"Pulumi.{redeployer.deployment.stack}.yaml")
        package = sys.modules["tap"].__file__
        tap_dir = Path(package).resolve().parent if package else None
        # The program's own modules, when they are the project's (an editable checkout);
        # an installed tap is not edited in place.
        self.tap_dir = tap_dir if tap_dir and tap_dir.is_relative_to(program_dir) else None
        self._stop = threading.Event()
        self._pending: set[Path] = set()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []

    def relevant(self, path: Path) -> bool:
        """True for a file whose change re-runs the program."""
        if path in self.files:
            return True
        if self.tap_dir is None or path.suffix != ".py" or self.tap_dir not in path.parents:
            return False
        if (self.tap_dir / "local") in path.parents or (self.tap_dir / "local") == path:
            return False
        return not self._owned_by_function(path)

    def changed(self, paths: Iterable[Path]) -> None:
        mine = {p for p in paths if self.relevant(p)}
        if mine:
            with self._wake:
                self._pending |= mine
                self._wake.notify_all()

    def start(self) -> None:
        import watchfiles

        def watch(root: Path, recursive: bool) -> None:
            with contextlib.suppress(Exception):
                for changes in watchfiles.watch(
                    root,
                    debounce=_DEBOUNCE_MS,
                    step=_DEBOUNCE_MS,
                    stop_event=self._stop,
                    raise_interrupt=False,
                    recursive=recursive,
                    # stop_event is checked between waits: a short one, so stop is prompt.
                    rust_timeout=200,
                    yield_on_timeout=False,
                ):
                    self.changed(Path(path).resolve() for _, path in changes)

        roots = [(self.program_dir, False)]
        if self.tap_dir is not None:
            roots.append((self.tap_dir, True))
        for root, recursive in roots:
            thread = threading.Thread(
                target=watch, args=(root, recursive), daemon=True, name="tap-redeploy-watch"
            )
            thread.start()
            self._threads.append(thread)
        worker = threading.Thread(target=self._run, daemon=True, name="tap-redeploy")
        worker.start()
        self._threads.append(worker)

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._pending or self._stop.is_set())
                if self._stop.is_set():
                    return
                paths, self._pending = sorted(self._pending), set()
            self._redeployer.redeploy(", ".join(_shown(p, self.program_dir) for p in paths))

    def stop(self, timeout_s: float = 1.0) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []


def _shown(path: Path, root: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(root))
    return str(path)


def from_deployment(
    deployment: LocalDeployment,
    say: Say,
    *,
    overrides: Mapping[str, str] | None = None,
    jwks_file: Path | None = None,
    on_deployed: Callable[[LocalDeployment], None] | None = None,
) -> ProgramWatcher:
    """A watcher that redeploys ``deployment`` when what its program reads changes."""
    from tap.local.reload import archive_paths

    def owned(path: Path) -> bool:
        for resource in deployment.resources:
            if resource.type != FUNCTION_TYPE:
                continue
            files, folders = archive_paths(resource.inputs.get("code"))
            if path in files or any(folder in path.parents for folder in folders):
                return True
        return False

    redeployer = Redeployer(
        deployment,
        say=say,
        overrides=overrides,
        jwks_file=jwks_file,
        on_deployed=on_deployed,
    )
    return ProgramWatcher(redeployer, function_files=owned)
