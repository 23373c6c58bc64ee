"""The rules that keep the stack operable: the Environment tag, log retention, alarm
actions."""

from __future__ import annotations

from collections.abc import Iterator

from tap.policy.rules.model import Context, Resource
from tap.policy.rules.read import as_list, as_number, effective_tags, known, prop, quoted

ENVIRONMENT_TAG = "Environment"


def check_environment_tag(resource: Resource, context: Context) -> Iterator[str]:
    tags = effective_tags(resource)
    value = known(tags.get(ENVIRONMENT_TAG), f"tags.{ENVIRONMENT_TAG}")
    if not isinstance(value, str) or not value.strip():
        source = "its tags or the provider's default tags"
        yield f"has no non-empty '{ENVIRONMENT_TAG}' tag in {source} (tags: {sorted(tags)})"


def check_log_retention(resource: Resource, context: Context) -> Iterator[str]:
    days = as_number(prop(resource.props, "retentionInDays"))
    if days is None or days <= 0:
        yield (
            f"retentionInDays is {quoted(prop(resource.props, 'retentionInDays'))}: without it the "
            "logs are kept (and billed) forever"
        )


def check_alarm_actions(resource: Resource, context: Context) -> Iterator[str]:
    actions = [a for a in as_list(prop(resource.props, "alarmActions")) if a]
    if not actions:
        yield "has no alarmActions: it changes state and nobody hears about it"
    if prop(resource.props, "actionsEnabled") is False:
        yield "has actionsEnabled=false: its actions never run"


# CloudWatch.16's default minimum, and checkov CKV_AWS_338's: one year.
LONG_RETENTION_DAYS = 365


def check_long_retention(resource: Resource, context: Context) -> Iterator[str]:
    days = as_number(prop(resource.props, "retentionInDays"))
    if days is not None and 0 < days < LONG_RETENTION_DAYS:
        unit = "day" if days == 1 else "days"
        yield f"keeps logs {days:g} {unit}; audit baselines ask for at least {LONG_RETENTION_DAYS}"
