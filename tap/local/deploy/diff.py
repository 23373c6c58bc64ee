"""What changed between two local deploys, resource by resource, as ``pulumi up`` shows it.

A pure function over two recorded deploy snapshots (``tap.local.deploy.mocks.Deployed`` lists, or
anything with ``type``, ``name``, ``id``, ``inputs`` and ``custom``): no moto, no I/O, so
it is tested directly and the redeploy (tap/local/deploy/redeploy.py) only prints its result.

A resource is the same resource in both snapshots when its type and logical name match
(Pulumi's URN, less the parent chain, which this stack never reuses a name across). Then:

* inputs equal: unchanged (whatever the id: a provider reference is new each run);
* inputs differ and the id is the same: ``~ update``, naming the changed inputs;
* inputs differ and the id changed: ``+-replace`` (the resource was created anew: a
  property that cannot change in place, such as a function's name or a route's API);
* only in the new snapshot: ``+ create``; only in the old: ``- delete``.

Components (``custom=False``) have no inputs: created or deleted only. A dynamic
resource's serialized provider (``__provider``) is not an input anyone edits: ignored, as
Pulumi's own dynamic diff ignores it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Op = Literal["create", "update", "replace", "delete"]

# What ``pulumi up`` prints before each op, and the summary's verbs.
SYMBOLS: dict[str, str] = {"create": "+ ", "update": "~ ", "replace": "+-", "delete": "- "}
_DONE = {"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted"}
_IGNORED_INPUTS = frozenset({"__provider"})


class Recorded(Protocol):
    """One resource of a deploy snapshot (``tap.local.deploy.mocks.Deployed`` is one)."""

    @property
    def type(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def id(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, Any]: ...

    @property
    def custom(self) -> bool: ...


@dataclass(frozen=True)
class Change:
    """One resource that changed: what happened, and the inputs that differ."""

    op: Op
    type: str
    name: str
    keys: tuple[str, ...] = ()  # changed input names (update/replace), sorted


@dataclass(frozen=True)
class Plan:
    """Every change, in the order ``pulumi up`` lists them, and how many stayed as they were."""

    changes: tuple[Change, ...]
    unchanged: int

    def count(self, op: Op) -> int:
        return sum(1 for change in self.changes if change.op == op)


def comparable(value: Any) -> Any:
    """``value`` as something ``==`` compares by content.

    Numbers cross the mock runtime as floats (``128.0`` vs ``128`` is no change); Pulumi
    assets and archives compare by the paths they name.
    """
    if isinstance(value, bool):
        return ("bool", value)  # True == 1.0 in Python; not in a diff
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    return _asset_digest(value)


def _asset_digest(value: Any) -> Any:
    """An asset or archive by what it names (its paths and layout); anything else by repr.

    Not by the files' bytes: a saved function file is the hot reload's business
    (tap/local/reload.py), and a snapshot records paths, not what they held then.
    """
    assets = getattr(value, "assets", None)
    if isinstance(assets, Mapping):  # pulumi.AssetArchive
        return {"archive": {str(k): comparable(v) for k, v in sorted(assets.items())}}
    path = getattr(value, "path", None)
    if isinstance(path, str):  # pulumi.FileAsset / FileArchive
        return {type(value).__name__: path}
    text = getattr(value, "text", None)
    if isinstance(text, str):  # pulumi.StringAsset
        return {type(value).__name__: text}
    return repr(value)


def changed_inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    """The top-level input names whose values differ (added and removed ones included)."""
    keys = (set(old) | set(new)) - _IGNORED_INPUTS
    return tuple(
        sorted(k for k in keys if k not in old or k not in new or _differs(old[k], new[k]))
    )


def _differs(old: Any, new: Any) -> bool:
    if old is new:
        return False
    return bool(comparable(old) != comparable(new))


def plan(old: Iterable[Recorded], new: Iterable[Recorded]) -> Plan:
    """What changed from snapshot ``old`` to snapshot ``new``.

    Creates, updates and replaces in the new snapshot's order (the order the program
    registered them), then deletes in reverse order of the old one (dependents first, as
    Pulumi deletes).
    """
    previous = {(r.type, r.name): r for r in old}
    changes: list[Change] = []
    unchanged = 0
    seen: set[tuple[str, str]] = set()
    for resource in new:
        key = (resource.type, resource.name)
        seen.add(key)
        before = previous.get(key)
        if before is None:
            changes.append(Change("create", resource.type, resource.name))
            continue
        keys = changed_inputs(before.inputs, resource.inputs) if resource.custom else ()
        if _differs(_tags_all(before), _tags_all(resource)):
            # The provider's default tags changed: the resource's own inputs did not, its
            # effective tags (pulumi-aws's tagsAll) did.
            keys = tuple(sorted({*keys, "tagsAll"}))
        # An id that changed without an input changing is a provider's (random) id: the
        # same resource, as Pulumi sees it.
        if keys and before.custom and before.id != resource.id:
            changes.append(Change("replace", resource.type, resource.name, keys))
        elif keys:
            changes.append(Change("update", resource.type, resource.name, keys))
        else:
            unchanged += 1
    for resource in reversed(list(previous.values())):
        if (resource.type, resource.name) not in seen:
            changes.append(Change("delete", resource.type, resource.name))
    return Plan(tuple(changes), unchanged)


def _tags_all(resource: Recorded) -> Any:
    outputs = getattr(resource, "outputs", None)
    return outputs.get("tagsAll") if isinstance(outputs, Mapping) else None


def render(result: Plan) -> list[str]:
    """The lines ``pulumi up`` prints for ``result``: one row per changed resource (op,
    type, name, the changed inputs), then the ``Resources:`` summary."""
    if not result.changes:
        return [f"Resources: no changes ({result.unchanged} unchanged)"]
    type_width = max(len("Type"), *(len(c.type) for c in result.changes))
    name_width = max(len("Name"), *(len(c.name) for c in result.changes))
    lines = [f"     {'Type':<{type_width}}  {'Name':<{name_width}}  {'Status':<8}  Info"]
    for change in result.changes:
        info = f"[diff: {' '.join('~' + k for k in change.keys)}]" if change.keys else ""
        lines.append(
            f" {SYMBOLS[change.op]}  {change.type:<{type_width}}  {change.name:<{name_width}}  "
            f"{_DONE[change.op]:<8}  {info}".rstrip()
        )
    lines += ["", "Resources:"]
    ops: tuple[Op, ...] = ("create", "update", "replace", "delete")
    for op in ops:
        count = result.count(op)
        if count:
            lines.append(f"    {SYMBOLS[op]}{count} {_DONE[op]}")
    lines.append(f"    {result.unchanged} unchanged")
    return lines


# Fields of a structured output that differ on every run without meaning a change: the
# smoke check's (tap/smoke/retry.py SmokeReport.outputs) time of passing, attempt count and
# latencies, its own and each check's. A redeploy that re-runs the check says the output
# changed, not the figures: printed, they flooded each redeploy with a long line.
PER_RUN_FIELDS = frozenset({"passed_at", "attempts", "latency_ms"})
_MAX_FIELD_LINES = 8


def output_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``Outputs:`` lines for stack outputs that changed (``~ key: old => new``), added
    (``+``) or removed (``-``); nothing when none did.

    An object output (the smoke check's) shows its changed fields, one line each
    (``~ key.field: old => new``), as ``pulumi up`` shows an object's diff, leaving out the
    per-run figures (PER_RUN_FIELDS); when only those changed, one short line says so.
    """
    lines: list[str] = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            lines.append(f"  - {key}: {_short(old[key])}")
        elif key not in old:
            lines.append(f"  + {key}: {_short(new[key])}")
        elif isinstance(old[key], Mapping) and isinstance(new[key], Mapping):
            lines += _object_changes(key, old[key], new[key])
        elif _differs(old[key], new[key]):
            lines.append(f"  ~ {key}: {_short(old[key])} => {_short(new[key])}")
    return ["Outputs:", *lines] if lines else []


def _object_changes(key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    fields: list[str] = []
    per_run: set[str] = set()

    def walk(path: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        for name in sorted(set(before) | set(after), key=str):
            where = f"{path}.{name}"
            if name in PER_RUN_FIELDS:
                if name not in before or name not in after or _differs(before[name], after[name]):
                    per_run.add(str(name))
            elif name not in after:
                fields.append(f"  - {where}: {_short(before[name])}")
            elif name not in before:
                fields.append(f"  + {where}: {_short(after[name])}")
            elif isinstance(before[name], Mapping) and isinstance(after[name], Mapping):
                walk(where, before[name], after[name])
            elif _differs(before[name], after[name]):
                fields.append(f"  ~ {where}: {_short(before[name])} => {_short(after[name])}")

    walk(key, old, new)
    if len(fields) > _MAX_FIELD_LINES:
        hidden = len(fields) - _MAX_FIELD_LINES + 1
        fields = [*fields[: _MAX_FIELD_LINES - 1], f"  ~ {key}: and {hidden} more fields changed"]
    if not fields and per_run:
        return [f"  ~ {key}: changed (per-run figures only: {', '.join(sorted(per_run))})"]
    return fields


def _as_declared(value: Any) -> Any:
    """``value`` with whole floats as ints: Pulumi's wire format (protobuf Struct) carries
    every number as a double, so a ``memory_size`` of 512 comes back as 512.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _as_declared(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_declared(item) for item in value]
    return value


def _short(value: Any, limit: int = 80) -> str:
    import json

    try:
        text = json.dumps(_as_declared(value), sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__: Sequence[str] = (
    "Change",
    "Plan",
    "Recorded",
    "changed_inputs",
    "comparable",
    "output_changes",
    "plan",
    "render",
)
