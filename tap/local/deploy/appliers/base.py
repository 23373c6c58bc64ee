"""What every applier shares: the registry of appliers by type token, the context an
applier runs in, and the helpers that turn mock inputs into boto3 arguments.

One applier per resource type: it creates the resource in moto and returns (id, computed
outputs). Each is registered against its type token (tap.engine.RESOURCE_TYPES, where the
test harness finds the same type's outputs) with the inputs it applies. Any other input
would be silently lost, so the deploy refuses it instead (naming it), unless it is in
NOT_EMULATED: provider-side settings with no effect on what gets created. A taggable type
applies `tags`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tap import engine
from tap.local.deploy.resources import DeployError
from tap.text import quote

# The AWS provider's autonaming: the logical name plus a dash and 7 random hex digits.
_AUTONAME_SUFFIX_HEX = 7
NOT_EMULATED = frozenset({"skipDestroy", "forceDetachPolicies", "region"})


class Zones:
    """tap:domain.zoneId names a real Route 53 zone; local mode stands one in for it in moto
    (which picks its own ids): configured zone id -> moto's zone id, shared by the appliers
    that run on the mock runtime's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zones: dict[str, str] = {}

    def get(self, configured: str) -> str | None:
        with self._lock:
            return self._zones.get(configured)

    def setdefault(self, configured: str, moto_id: str) -> str:
        with self._lock:
            return self._zones.setdefault(configured, moto_id)

    def values(self) -> list[str]:
        with self._lock:
            return list(self._zones.values())


@dataclass
class Context:
    """What an applier needs: its clients, region, account, merged tags, the stage URLs
    and the stand-in hosted zones."""

    region: str
    account_id: str
    tags_all: dict[str, str]
    clients: Callable[[str, str], Any]  # (service, region) -> a boto3 client bound to moto
    stage_url: Callable[[str, str], str]  # (api id, stage name) -> the stage's URL
    zones: Zones

    def client(self, service: str) -> Any:
        return self.clients(service, self.region)


Applier = Callable[[Context, str, dict[str, Any]], tuple[str, dict[str, Any]]]

APPLIERS: dict[str, Applier] = {}
APPLIED: dict[str, frozenset[str]] = {}


def applies(token: str, *inputs: str) -> Callable[[Applier], Applier]:
    """Register the decorated function as the applier of type ``token``, applying ``inputs``."""
    taggable = engine.RESOURCE_TYPES[token].taggable  # a KeyError: declare the type there

    def register(create: Applier) -> Applier:
        APPLIERS[token] = create
        APPLIED[token] = frozenset(inputs) | ({"tags"} if taggable else frozenset())
        return create

    return register


def refuse_unknown_inputs(type_: str, inputs: Mapping[str, Any]) -> None:
    applied = APPLIED.get(type_, frozenset())
    unknown = sorted(set(inputs) - applied - NOT_EMULATED)
    if unknown:
        raise DeployError(
            "local mode does not emulate the input(s) "
            + ", ".join(unknown)
            + "; it applies: "
            + ", ".join(sorted(applied))
        )


def autoname(logical_name: str) -> str:
    return f"{logical_name}-{secrets.token_hex(4)[:_AUTONAME_SUFFIX_HEX]}"


def as_int(value: Any) -> int:
    """A mock number (always a float) as the whole number AWS APIs expect."""
    number = float(value)
    if not number.is_integer():
        raise DeployError(f"expected a whole number, got {quote(value)}")
    return int(number)


def str_map(value: Any) -> dict[str, str]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise DeployError(f"expected a map of strings, got {quote(value)}")
    return {str(k): str(v) for k, v in value.items()}


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def name_of(inputs: dict[str, Any], logical_name: str, key: str = "name") -> str:
    value = inputs.get(key)
    if value:
        return str(value)
    prefix = inputs.get(f"{key}Prefix")
    if prefix:
        return f"{prefix}{secrets.token_hex(13)}"
    return autoname(logical_name)
