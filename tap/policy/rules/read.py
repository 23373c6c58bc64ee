"""Helpers the checks read normalized properties with: a value that may be unknown in
preview, a nested property, a list, a JSON document, a number, tags, a value in a message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tap import engine
from tap.policy.rules.model import UNKNOWN, Resource, UndecidableError, normalize
from tap.text import excerpt, json_too_deep, quote


def known(value: Any, what: str) -> Any:
    """``value``, unless it is unknown during preview: then the check cannot decide."""
    if value is UNKNOWN:
        raise UndecidableError(what)
    return value


def prop(props: Mapping[str, Any], *path: str) -> Any:
    """The value at ``path`` (camelCase keys), ``None`` when absent; UndecidableError if unknown.

    Blocks that pulumi-aws models as one-element lists in some versions (``[{...}]``) are
    read as their single element.
    """
    value: Any = props
    for depth, key in enumerate(path):
        value = known(value, ".".join(path[:depth]) or "properties")
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
        if value is None:
            return None
    return known(value, ".".join(path))


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def parse_json(value: Any, what: str) -> Any:
    """A JSON document held as a string (as pulumi-aws takes it) or already parsed."""
    value = known(value, what)
    if isinstance(value, str):
        try:
            if json_too_deep(value):  # the same answer on every Python (tap.text)
                raise RecursionError
            return normalize(json.loads(value))
        except json.JSONDecodeError as error:
            raise ValueError(f"{what} is not valid JSON: {error.msg}") from None
        except RecursionError:
            raise ValueError(f"{what} is not valid JSON: nested too deeply") from None
        except ValueError as error:  # an integer of more than 4,300 digits
            raise ValueError(f"{what} is not valid JSON: {excerpt(str(error))}") from None
    return value


def as_number(value: Any) -> float | None:
    """Numbers arrive as floats from the mock runtime and as ints from the engine."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def provider_default_tags(provider: Mapping[str, Any] | None) -> dict[str, Any]:
    """The provider's default tags, whether the engine passes them parsed or as JSON text
    (tap.engine); a value unknown in preview, the whole block (computed from another
    resource's output) or its tags, makes the check undecidable."""
    return engine.provider_default_tags(provider, parse_json)


def effective_tags(resource: Resource) -> dict[str, Any]:
    """The tags AWS will apply: the provider's defaults, overridden by the resource's own.

    ``tagsAll`` (an output) already merges both; it is read too so a stack validation,
    which sees outputs, agrees with a resource validation, which sees inputs.
    """
    own = [known(resource.props.get(key), key) for key in ("tagsAll", "tags")]
    return engine.effective_tags(provider_default_tags(resource.provider), *own)


def quoted(value: Any) -> str:
    """A property value in a message: bounded and escaped (tap.text), None as None."""
    return "None" if value is None else quote(value)
