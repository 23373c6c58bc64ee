"""Find the Pulumi program and read its config as ``pulumi up`` would hand it over.

The engine passes the program every key of the stack's ``Pulumi.<stack>.yaml`` plus the
defaults declared in ``Pulumi.yaml``, each as a string (objects and lists as JSON text),
keys namespaced (``tap:timeout``). Local mode builds the same map without the Pulumi CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

from tap.text import excerpt, quote

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
        # default=str: YAML reads an unquoted 2024-01-01 as a date; Pulumi keeps it as text.
        return json.dumps(value, default=str)
    return str(value)


# Nesting deeper than this is refused: config values are small objects (tap:cors is two
# levels deep), and PyYAML composes nodes recursively, so a few thousand levels would end
# in a RecursionError instead of an error naming the file.
MAX_YAML_DEPTH = 32


class _StackFileLoader(yaml.SafeLoader):  # type: ignore[misc,unused-ignore]
    """PyYAML's safe loader, refusing aliases and bounding depth.

    An alias (``*name``) can refer to itself (a recursive structure that cannot become
    JSON) or nest references so that a few hundred bytes expand to billions of elements
    ("billion laughs") once serialized; stack files written by ``pulumi config set`` never
    contain one, so refusing them costs nothing.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(
                f"line {mark.line + 1}: YAML aliases (*name) are not supported in Pulumi "
                "config; write the value out"
            )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(
                    f"line {mark.line + 1}: nested more than {MAX_YAML_DEPTH} levels deep"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _load_yaml(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_StackFileLoader)  # noqa: S506 (a safe loader)
    except (OSError, ValueError, yaml.YAMLError) as error:
        # ValueError: not UTF-8, or an integer past Python's 4,300-digit conversion limit.
        why = str(error)
        if isinstance(error, ValueError) and "integer string conversion" in why:
            why = "a number of more than 4300 digits"
        raise StackFileError(f"cannot read {path}: {_one_line(why)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(f"{path} must hold a YAML mapping, not a {_yaml_type(data)}")
    return data


def _one_line(text: str) -> str:
    """PyYAML's messages span lines and quote the offending text: one bounded line, with
    control characters escaped, is enough."""
    return excerpt(" ".join(text.split()))


def _yaml_type(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def _config_section(path: Path, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``config:`` mapping of a project or stack file, its keys checked."""
    section = data.get("config")
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise StackFileError(
            f"{path}: config must be a mapping of key: value, not a {_yaml_type(section)}"
        )
    for key in section:
        if not isinstance(key, str) or not key:
            raise StackFileError(f"{path}: config key {quote(key)} must be a non-empty string")
    return section


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
    for key, declared in _config_section(project_file, project).items():
        if isinstance(declared, dict):
            for field in ("value", "default"):
                if field in declared:
                    config[full(key)] = config_text(declared[field])
                    break
        elif declared is not None:
            config[full(key)] = config_text(declared)

    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    if stack_file.is_file():
        for key, value in _config_section(stack_file, _load_yaml(stack_file)).items():
            if isinstance(value, dict) and set(value) == {"secure"}:
                raise StackFileError(
                    f"{stack_file}: {key} is a secret encrypted by the Pulumi CLI, which local "
                    "mode cannot decrypt; set a plain value for local runs"
                )
            config[full(key)] = config_text(value)
    return name, config


# `pulumi config set --path 'tap:cors.allowOrigins[0]' VALUE`: a key, then .name, [index]
# or ["name"] steps into its JSON value (Pulumi docs, "Configuration": structured values).
_PATH_STEP = re.compile(r'\.([^.\[\]"]+)|\[([0-9]{1,6})\]|\["([^"]+)"\]')
_PATH_TOP = re.compile(r"[^.\[\]]+")


def apply_override(config: dict[str, str], project: str, key: str, value: str) -> None:
    """Set ``key`` (``timeout``, ``tap:timeout``, or a path such as
    ``cors.allowOrigins[0]``) to ``value`` in ``config``, as ``pulumi config set`` would
    (with ``--path`` for a path). Raises StackFileError saying how to write it instead.

    ``aws:*`` keys are refused: every resource goes through one explicit AWS provider,
    which reads none of them (``aws:region`` included), so accepting one would silently do
    nothing.
    """
    option = f"--config {quote(key)}"
    namespace, colon, name = key.partition(":")
    if not colon or not re.fullmatch(r"[A-Za-z0-9_-]+", namespace):
        namespace, name = project, key  # no namespace (a path may hold a colon)
    if namespace == "aws":
        hint = ""
        if name == "region":
            hint = f"; the region is {project}:region (-c region={excerpt(value)})"
        raise StackFileError(
            f"{option}: aws:* config is not read: every resource goes through "
            f"{project}'s explicit AWS provider, which ignores it{hint}"
        )
    top = _PATH_TOP.match(name)
    if top is None:
        raise StackFileError(f"{option}: no key name before the path")
    full = f"{namespace}:{top.group()}"
    path_text = name[top.end() :]
    if not path_text:
        config[full] = value
        return
    steps: list[str | int] = []
    position = 0
    while position < len(path_text):
        step = _PATH_STEP.match(path_text, position)
        if step is None:
            raise StackFileError(
                f"{option}: cannot read the path at {quote(path_text[position:])}; write it "
                "as pulumi config set --path does, e.g. -c 'cors.allowOrigins[0]=VALUE'"
            )
        steps.append(int(step[2]) if step[2] is not None else step[1] or step[3])
        position = step.end()
    if len(steps) > MAX_YAML_DEPTH:
        raise StackFileError(f"{option}: more than {MAX_YAML_DEPTH} path steps")
    root: Any = None
    if full in config:
        try:
            root = json.loads(config[full])
        except (ValueError, RecursionError):
            root = None
        if not isinstance(root, (dict, list)):
            raise StackFileError(
                f"{option}: {excerpt(full)} holds a plain value, not an object or list, so "
                f"there is nothing to step into; set {excerpt(full)} itself"
            )
    config[full] = json.dumps(_set_in(root, steps, _path_value(value), option))


def _set_in(node: Any, steps: list[str | int], value: Any, option: str) -> Any:
    """``node`` (None: not there yet) with ``value`` set at ``steps``."""
    step, rest = steps[0], steps[1:]
    if isinstance(step, int):
        items = [] if node is None else node
        if not isinstance(items, list):
            raise StackFileError(f"{option}: [{step}] steps into an object, not a list")
        if step > len(items):
            raise StackFileError(
                f"{option}: index {step} is past the end of a list of {len(items)}; "
                "set the indexes in order from 0"
            )
        child = items[step] if step < len(items) else None
        new = _set_in(child, rest, value, option) if rest else value
        return [*items[:step], new, *items[step + 1 :]]
    fields = {} if node is None else node
    if not isinstance(fields, dict):
        raise StackFileError(f"{option}: .{excerpt(step)} steps into a list, not an object")
    new = _set_in(fields.get(step), rest, value, option) if rest else value
    return {**fields, step: new}


def _path_value(text: str) -> Any:
    """A value set through a path: ``true``/``false`` and whole numbers become JSON
    booleans and numbers, as ``pulumi config set --path`` stores them; the rest, strings."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"0|[1-9][0-9]{0,17}", text):
        return int(text)
    return text
