"""Running the rules over a stack: one rule on one resource, every rule on every resource."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from tap.policy.rules.catalog import RULES
from tap.policy.rules.model import (
    Context,
    Report,
    Resource,
    Rule,
    UndecidableError,
    Undecided,
    Violation,
)


@dataclass(frozen=True)
class Outcome:
    """What one rule found on one resource: its messages, and what it could not decide."""

    messages: tuple[str, ...]
    undecided: str | None = None


def run_rule(rule: Rule, resource: Resource, context: Context) -> Outcome:
    """Run ``rule`` on ``resource``: every message it yields before it meets a value unknown
    during preview (see ``known``), and that value's name if it does."""
    messages: list[str] = []
    try:
        for message in rule.check(resource, context):
            messages.append(message)
    except UndecidableError as error:
        return Outcome(tuple(messages), error.what)
    except ValueError as error:
        # A malformed document (invalid JSON, a statement that is not an object): a
        # violation with the parser's reason, never a crash of the policy pack.
        messages.append(str(error))
    return Outcome(tuple(messages))


def evaluate(
    resources: Sequence[Resource],
    *,
    today: date | None = None,
    rules: Sequence[Rule] = RULES,
) -> Report:
    """Run ``rules`` over every resource of a stack."""
    context = Context(tuple(resources), today or date.today())
    violations: list[Violation] = []
    undecided: list[Undecided] = []
    for rule in rules:
        for resource in resources:
            if not rule.applies_to(resource):
                continue
            outcome = run_rule(rule, resource, context)
            violations.extend(
                Violation(rule.id, rule.severity, resource.label, m) for m in outcome.messages
            )
            if outcome.undecided is not None:
                undecided.append(Undecided(rule.id, resource.label, outcome.undecided))
    return Report(tuple(violations), tuple(undecided))
