"""What a local deploy creates, and the error when it cannot create something."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DeployError(RuntimeError):
    """A resource could not be created locally. The message names the resource and why."""


@dataclass
class Deployed:
    """One resource as local mode created it: what the program asked for and what it got."""

    type: str
    name: str
    id: str
    inputs: dict[str, Any]  # secrets unwrapped, numbers as the program gave them (floats)
    outputs: dict[str, Any]  # secrets unwrapped
    region: str = ""
    custom: bool = True  # False: a component (nothing created; listed like pulumi up does)
