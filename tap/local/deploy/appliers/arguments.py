"""A resource type's boto3 arguments from its Pulumi inputs: one table per type, read by
its applier (the create) and by its in-place update (tap/local/deploy/updates.py), so the
mapping of each input is written once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_KEEP: Any = object()


@dataclass(frozen=True)
class Arg:
    """One Pulumi input as one boto3 argument: ``convert`` turns the input's value into
    the argument's; ``reset`` is what an update sends when the input was removed (the
    service's default, as the AWS provider sends it); without one, nothing is sent."""

    key: str
    boto_key: str
    convert: Callable[[Any], Any] = lambda value: value
    reset: Any = _KEEP


class Arguments:
    """A resource type's boto3 arguments from its Pulumi inputs, one table for its create
    and its in-place update: ``arguments(inputs)`` (a create) maps every input given;
    ``arguments(inputs, keys)`` (an update) only the changed ``keys``, a removed one as its
    ``reset``."""

    def __init__(self, *table: Arg) -> None:
        self.table = table

    def __call__(
        self, inputs: Mapping[str, Any], keys: frozenset[str] | None = None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for arg in self.table:
            if keys is not None and arg.key not in keys:
                continue
            if arg.key in inputs:
                kwargs[arg.boto_key] = arg.convert(inputs[arg.key])
            elif keys is not None and arg.reset is not _KEEP:
                kwargs[arg.boto_key] = arg.reset
        return kwargs
