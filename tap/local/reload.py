"""Hot reload: a saved function file is serving in the time it takes to cold-start it.

``Reloader`` watches the files the program packages into each function (the paths of
the function's code archive, as the program built it) with ``watchfiles``. On a change it
zips the archive again exactly as the engine does (``tap.compute.zip_bytes``), checks that
the new code initializes (a throwaway instance: an import or syntax error keeps the
previous code serving and prints the error), updates the function's code in moto
(``UpdateFunctionCode``, so ``aws lambda get-function`` agrees) and swaps the function's
instances (``Emulator.swap_function``: requests in flight finish on the old code, the next
one cold-starts the new). One line says what happened.

Limits: the set of packaged files is the archive's as deployed; a file added to or
removed from the function folder needs a restart of ``tap local``. A change to the program
itself (``tap/`` outside the function, ``Pulumi*.yaml``) re-runs it (tap/local/deploy/redeploy.py),
which hands the new archives over here (``retarget``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pulumi

from tap import compute
from tap.local.gateway.emulator import Emulator

# watchfiles' default debounce is 1.6 s; an editor's save settles in a few milliseconds.
_DEBOUNCE_MS = 50


@dataclass
class Watched:
    """One function's code as the program packaged it."""

    function: str
    archive: pulumi.Archive
    files: set[Path]  # FileAsset paths
    folders: set[Path]  # FileArchive folders (everything under them counts)

    def owns(self, path: Path) -> bool:
        return path in self.files or any(folder in path.parents for folder in self.folders)


def archive_paths(archive: object) -> tuple[set[Path], set[Path]]:
    """(files, folders) an archive reads, at any depth."""
    files: set[Path] = set()
    folders: set[Path] = set()

    def walk(item: object) -> None:
        if isinstance(item, pulumi.AssetArchive):
            for child in item.assets.values():
                walk(child)
        elif isinstance(item, pulumi.FileArchive):
            folders.add(Path(item.path).resolve())
        elif isinstance(item, pulumi.FileAsset):
            files.add(Path(item.path).resolve())

    walk(archive)
    return files, folders


def watched(function: str, archive: pulumi.Archive) -> Watched:
    files, folders = archive_paths(archive)
    return Watched(function, archive, files, folders)


class Reloader:
    """Reload functions into ``emulator`` when their packaged files change."""

    def __init__(
        self,
        emulator: Emulator,
        functions: list[Watched],
        *,
        say: Callable[[str], None],
        update_code: Callable[[str, bytes], None] | None = None,
    ) -> None:
        """
        :param say: prints one line (what was reloaded, or why not).
        :param update_code: ``(function name, zip)``: stores the new code where the deploy
            keeps it (moto's ``UpdateFunctionCode``).
        """
        self._emulator = emulator
        self._functions = functions
        self._say = say
        self._update_code = update_code
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.reloads = 0  # swaps done
        self.refusals = 0  # changes that kept the previous code

    def roots(self) -> list[Path]:
        """The folders to watch: each packaged file's folder and each archived folder."""
        roots = {path.parent for watched in self._functions for path in watched.files}
        roots |= {folder for watched in self._functions for folder in watched.folders}
        # A folder inside another is watched through it (watchfiles watches recursively).
        return sorted(r for r in roots if not any(o in r.parents for o in roots))

    def start(self) -> None:
        import watchfiles

        ready = threading.Event()

        def run() -> None:
            roots = self.roots()
            ready.set()
            with contextlib.suppress(Exception):
                for changes in watchfiles.watch(
                    *roots,
                    debounce=_DEBOUNCE_MS,
                    step=_DEBOUNCE_MS,
                    stop_event=self._stop,
                    raise_interrupt=False,
                ):
                    self.changed({Path(path).resolve() for _, path in changes})

        self._thread = threading.Thread(target=run, daemon=True, name="tap-reload")
        self._thread.start()
        ready.wait(5)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def retarget(self, functions: list[Watched]) -> None:
        """Watch these functions' archives from now on (after a redeploy)."""
        with self._lock:
            self._functions = functions

    def changed(self, paths: set[Path]) -> None:
        """Reload each function one of ``paths`` belongs to."""
        for watched_function in self._functions:
            mine = sorted(path for path in paths if watched_function.owns(path))
            if mine:
                self.reload(watched_function, mine)

    def reload(self, function: Watched, paths: list[Path]) -> bool:
        """Rebuild, check and swap one function; True when the new code serves."""
        with self._lock:
            started = time.monotonic()
            names = ", ".join(_shown(path) for path in paths)
            pool = self._emulator.pool(function.function)
            if pool is None:
                return False
            try:
                code = compute.zip_bytes(function.archive)
            except OSError as error:
                self.refusals += 1
                self._say(f"reload of {function.function} skipped: {error}")
                return False
            if code == pool.spec.zip_bytes:
                return False  # saved without a change: nothing to do
            spec = replace(pool.spec, zip_bytes=code)
            failure = self._emulator.check_function(spec)
            if failure is not None:
                self.refusals += 1
                self._say(
                    f"reload of {function.function} refused ({names}): "
                    f"{failure.error_type}: {failure.error_message}. "
                    "Still serving the previous code"
                )
                return False
            if self._update_code is not None:
                self._update_code(function.function, code)
            self._emulator.swap_function(spec)
            self.reloads += 1
            self._say(
                f"reloaded {function.function} ({names}) in "
                f"{(time.monotonic() - started) * 1000:.0f} ms: the next request cold-starts "
                "the new code"
            )
            return True


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def functions_of(deployment: Any) -> list[Watched]:
    """The code archive of every function a local deploy serves."""
    from tap.local.deploy.readback import FUNCTION_TYPE

    functions: list[Watched] = []
    for resource in deployment.resources:
        archive = resource.inputs.get("code") if resource.type == FUNCTION_TYPE else None
        name = str(resource.outputs.get("name", resource.id))
        if isinstance(archive, pulumi.Archive) and deployment.emulator.pool(name):
            functions.append(watched(name, archive))
    return functions


def from_deployment(deployment: Any, say: Callable[[str], None]) -> Reloader:
    """A Reloader for every function a local deploy serves, updating moto's copy too."""
    functions = functions_of(deployment)
    lam = deployment.client("lambda")

    def update_code(name: str, code: bytes) -> None:
        lam.update_function_code(FunctionName=name, ZipFile=code)

    return Reloader(deployment.emulator, functions, say=say, update_code=update_code)
