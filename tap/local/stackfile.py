"""Find the Pulumi program and read its config as ``pulumi up`` would hand it over.

The engine passes the program every key of the stack's ``Pulumi.<stack>.yaml`` plus the
defaults declared in ``Pulumi.yaml``, each as a string (objects and lists as JSON text),
keys namespaced (``tap:timeout``). Local mode builds the same map without the Pulumi CLI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

PROJECT_FILE = "Pulumi.yaml"
PROGRAM_FILE = "__main__.py"


class StackFileError(ValueError):
    """The project or stack file cannot be used; the message names the file and why."""


def find_program(program_dir: Path | None = None) -> Path:
    """The directory holding ``Pulumi.yaml`` and ``__main__.py``.

    Given explicitly, or the current directory when it is a Pulumi project, or else the
    project this package was installed from (an editable install of a clone).
    """
    candidates = (
        [program_dir]
        if program_dir is not None
        else [Path.cwd(), Path(__file__).resolve().parent.parent.parent]
    )
    for candidate in candidates:
        if (candidate / PROJECT_FILE).is_file() and (candidate / PROGRAM_FILE).is_file():
            return candidate.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise StackFileError(
        f"no Pulumi program ({PROJECT_FILE} and {PROGRAM_FILE}) in {looked}: run from the "
        "project's directory or pass --program-dir"
    )


def config_text(value: Any) -> str:
    """A YAML config value as the engine passes it: the string Pulumi config holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _load_yaml(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise StackFileError(f"cannot read {path}: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(f"{path} must hold a YAML mapping")
    return data


def load_config(program_dir: Path, stack: str) -> tuple[str, dict[str, str]]:
    """(project name, config map) for ``stack``: project defaults, then the stack file's
    values (when ``Pulumi.<stack>.yaml`` exists) over them."""
    project_file = program_dir / PROJECT_FILE
    project = _load_yaml(project_file)
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise StackFileError(f"{project_file} has no project name")

    def full(key: str) -> str:
        return key if ":" in key else f"{name}:{key}"

    config: dict[str, str] = {}
    for key, declared in (project.get("config") or {}).items():
        if isinstance(declared, dict):
            for field in ("value", "default"):
                if field in declared:
                    config[full(key)] = config_text(declared[field])
                    break
        elif declared is not None:
            config[full(key)] = config_text(declared)

    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    if stack_file.is_file():
        for key, value in (_load_yaml(stack_file).get("config") or {}).items():
            if isinstance(value, dict) and set(value) == {"secure"}:
                raise StackFileError(
                    f"{stack_file}: {key} is a secret encrypted by the Pulumi CLI, which local "
                    "mode cannot decrypt; set a plain value for local runs"
                )
            config[full(key)] = config_text(value)
    return name, config
