"""What ``tap local`` prints: its lines (log lines arrive from the emulator's threads), the
resource table and the outputs as ``pulumi up`` prints them."""

from __future__ import annotations

import json
import threading
from typing import Any, TextIO

from tap import engine
from tap.local.deploy.deployment import LocalDeployment
from tap.local.logs.console import ConsoleLog


class Printer:
    """Thread-safe line printing: log lines arrive from the emulator's threads."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()
        self.buffer: list[str] | None = None  # when set, log lines are kept, not printed
        self.console: ConsoleLog | None = None  # turns log lines into request lines

    def line(self, text: str = "") -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def log(self, text: str) -> None:
        with self._lock:
            if self.buffer is not None:
                self.buffer.append(text)
                return
            self.out.write(text + "\n")
            self.out.flush()


def render_resources(deployment: LocalDeployment) -> list[str]:
    """The resource table ``pulumi up`` prints: type, name, status, one row per resource."""
    rows = [(engine.STACK, f"{deployment.project}-{deployment.stack}")]
    rows += [(r.type, r.name) for r in deployment.resources]
    type_width = max(len("Type"), *(len(t) for t, _ in rows))
    name_width = max(len("Name"), *(len(n) for _, n in rows))
    lines = [f"     {'Type':<{type_width}}  {'Name':<{name_width}}  Status"]
    lines += [f" +   {t:<{type_width}}  {n:<{name_width}}  created" for t, n in rows]
    lines += ["", "Resources:", f"    + {len(rows)} created"]
    return lines


def as_shown(value: Any) -> Any:
    """A stack output as Pulumi shows it: numbers cross the wire as floats, and a whole
    one prints as an integer (``29``, not ``29.0``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: as_shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_shown(v) for v in value]
    return value


def render_outputs(outputs: dict[str, Any]) -> list[str]:
    """``Outputs:`` as ``pulumi up`` shows them: sorted, aligned names, JSON values."""
    if not outputs:
        return ["Outputs: none"]
    width = max(len(k) for k in outputs)
    lines = ["Outputs:"]
    for key in sorted(outputs):
        text = json.dumps(as_shown(outputs[key]), indent=4, sort_keys=True)
        text = text.replace("\n", "\n" + " " * (width + 6))
        lines.append(f"    {key:<{width}}: {text}")
    return lines
