"""What the program watcher re-runs the program for (tap/local/deploy/watch.py).

The watcher is given a stand-in for the Redeployer that only records the reasons it is
called with: what is tested is the watcher's choice of files and its coalescing.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import tap
from tap.local.deploy.redeploy import Redeployer
from tap.local.deploy.watch import ProgramWatcher

ROOT = Path(tap.__file__).resolve().parent.parent


class RecordingRedeployer:
    def __init__(self) -> None:
        self.program_dir = ROOT
        self.deployment = SimpleNamespace(stack="dev")
        self.reasons: list[str] = []
        self.called = threading.Event()

    def redeploy(self, reason: str = "") -> None:
        self.reasons.append(reason)
        self.called.set()


def watcher(owned: set[Path] | None = None) -> tuple[ProgramWatcher, RecordingRedeployer]:
    redeployer = RecordingRedeployer()
    return (
        ProgramWatcher(
            cast(Redeployer, redeployer), function_files=lambda p: p in (owned or set())
        ),
        redeployer,
    )


def test_the_program_files_and_taps_modules_outside_local_mode_and_the_function_count() -> None:
    handler = ROOT / "tap" / "function" / "handler.py"
    program, _ = watcher(owned={handler})

    assert program.tap_dir == ROOT / "tap"
    relevant = {
        name: program.relevant(ROOT / name)
        for name in (
            "Pulumi.yaml",
            "Pulumi.dev.yaml",
            "Pulumi.prod.yaml",
            "__main__.py",
            "tap/api.py",
            "tap/config/keys.py",
            "tap/local/cli.py",
            "tap/local",
            "tap/function/handler.py",
            "tap/README.txt",
            "README.md",
            "tests/unit/test_config.py",
        )
    }
    assert relevant == {
        "Pulumi.yaml": True,
        "Pulumi.dev.yaml": True,  # the stack's own settings
        "Pulumi.prod.yaml": False,  # another stack's
        "__main__.py": True,
        "tap/api.py": True,
        "tap/config/keys.py": True,
        "tap/local/cli.py": False,  # local mode itself is not the program
        "tap/local": False,
        "tap/function/handler.py": False,  # the hot reload's
        "tap/README.txt": False,
        "README.md": False,
        "tests/unit/test_config.py": False,
    }


def test_saves_are_coalesced_into_one_run_naming_them_and_stop_ends_it() -> None:
    program, redeployer = watcher()
    program.start()
    try:
        program.changed(
            [
                ROOT / "tap" / "api.py",
                ROOT / "README.md",
                ROOT / "Pulumi.yaml",
                Path("/elsewhere.py"),
            ]
        )
        assert redeployer.called.wait(30)
    finally:
        program.stop()

    assert redeployer.reasons == ["Pulumi.yaml, tap/api.py"]


def test_changes_to_nothing_it_watches_are_not_kept_for_the_next_run() -> None:
    program, redeployer = watcher()
    program.changed([ROOT / "README.md", ROOT / "tests" / "conftest.py"])
    program.start()
    try:
        program.changed([ROOT / "__main__.py"])
        assert redeployer.called.wait(30)
    finally:
        program.stop()

    assert redeployer.reasons == ["__main__.py"]
