"""How a value is refused: Problem, ConfigError, and the Reader that collects every problem.

Pulumi config holds strings (objects as JSON text). Each read returns the typed value, or
records a Problem and returns the key's default (so the keys that depend on it can still be
read), and ``parse`` raises one ConfigError listing every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tap.config.limits import _INTEGER_RE, _MAX_INTEGER_DIGITS
from tap.text import excerpt, quote

NAMESPACE = "tap"


def full_key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


@dataclass(frozen=True)
class Problem:
    """One invalid value: which key, what it was, what is allowed and why."""

    key: str
    value: Any
    allowed: str
    why: str = ""

    def __str__(self) -> str:
        # The key itself may be input too (an unknown key, a cors field name).
        text = f"{excerpt(self.key)} is {quote(self.value)}, but must be {self.allowed}"
        return f"{text}: {self.why}" if self.why else text


class ConfigError(ValueError):
    """The configuration is invalid. ``problems`` lists every invalid value, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "value" if len(problems) == 1 else "values"
        super().__init__(f"invalid configuration ({len(problems)} {noun}):\n{lines}")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.problems)


class Reader:
    """The problems found so far, and the values read so far (keys read later may need them)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.values: dict[str, Any] = {}

    def problem(self, key: str, value: Any, allowed: str, why: str = "") -> None:
        self.problems.append(Problem(full_key(key), value, allowed, why))

    def choice(self, key: str, text: str, default: str, choices: tuple[str, ...], why: str) -> str:
        if text not in choices:
            self.problem(key, text, "one of " + ", ".join(choices), why)
            return default
        return text

    def integer(
        self,
        key: str,
        text: str,
        default: Any,
        bounds: tuple[int, int | None],
        allowed: str,
        why: str,
    ) -> Any:
        """The text as an int within bounds; on a problem, records it and returns default."""
        low, high = bounds
        if not _INTEGER_RE.fullmatch(text):
            self.problem(key, text, f"a whole number in ASCII digits 0-9, {allowed}", why)
            return default
        digits = text.lstrip("-")
        number = int(text) if len(digits) <= _MAX_INTEGER_DIGITS else None
        if number is None or number < low or (high is not None and number > high):
            self.problem(key, text, allowed, why)
            return default
        return number

    def boolean(self, key: str, text: str, default: bool) -> bool:
        # Pulumi's own Config.get_bool accepts exactly these two spellings.
        if text not in ("true", "false"):
            self.problem(key, text, "true or false")
            return default
        return text == "true"
