"""The pulumi-policy floor the project declares (setup.cfg's ``policy`` extra and
tap/policy/requirements.txt) is a release that has everything the pack uses from
pulumi_policy: checked from the pack's source and the policies it builds, installing
nothing."""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

import pulumi_policy
from packaging.requirements import Requirement
from packaging.version import Version

from tap.policy import pack

REPO = Path(__file__).resolve().parents[2]
PACK_DIR = REPO / "tap" / "policy"

# What the pack uses from pulumi_policy -> the first release that has it. `Severity` and the
# policies' `severity=` and `tags=` options first appear in 1.18.0: the 1.17.0 wheel's
# pulumi_policy/policy.py has none of them (its Policy takes name, description,
# enforcement_level and config_schema only), the 1.18.0 wheel's has all three (both wheels
# from PyPI, compared by hand). Everything else is in 1.17.0; older releases were not
# checked, the floor being above them anyway.
FIRST_RELEASE_WITH: dict[str, str] = {
    "EnforcementLevel": "1.17.0",
    "Policy": "1.17.0",
    "PolicyPack": "1.17.0",
    "PolicyResource": "1.17.0",
    "ReportViolation": "1.17.0",
    "ResourceValidationArgs": "1.17.0",
    "ResourceValidationPolicy": "1.17.0",
    "StackValidationArgs": "1.17.0",
    "StackValidationPolicy": "1.17.0",
    "proxy.UNKNOWN_STRING_VALUE": "1.17.0",
    "proxy.UnknownValueError": "1.17.0",
    "Severity": "1.18.0",
    "Policy(enforcement_level=)": "1.17.0",
    "Policy(severity=)": "1.18.0",
    "Policy(tags=)": "1.18.0",
}

# Policy's optional arguments, as the installed release stores them on the policy.
POLICY_OPTIONS = (
    "enforcement_level",
    "config_schema",
    "display_name",
    "severity",
    "framework",
    "tags",
    "remediation_steps",
    "url",
)


def imported_names() -> set[str]:
    """Every name the pack's modules import from pulumi_policy (``proxy.X`` for its
    submodule)."""
    names: set[str] = set()
    for path in PACK_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_policy"):
                prefix = node.module.removeprefix("pulumi_policy").lstrip(".")  # type: ignore[union-attr]
                names |= {f"{prefix}.{a.name}" if prefix else a.name for a in node.names}
            if isinstance(node, ast.Import):
                assert not [a for a in node.names if a.name.startswith("pulumi_policy")], (
                    f"{path.name} imports pulumi_policy whole: import names, so this test sees them"
                )
    return names


def options_used() -> set[str]:
    """Every optional Policy argument the pack's policies set."""
    return {
        f"Policy({option}=)"
        for policy in pack.policies()
        for option in POLICY_OPTIONS
        if getattr(policy, option, None) is not None
    }


def declared_floors() -> dict[str, Version]:
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    sources = {
        "setup.cfg [policy]": setup["options.extras_require"]["policy"],
        "tap/policy/requirements.txt": (PACK_DIR / "requirements.txt").read_text(),
    }
    floors = {}
    for where, text in sources.items():
        for line in text.splitlines():
            line = line.split("#")[0].strip()
            if line and Requirement(line).name == "pulumi-policy":
                [floor] = [
                    Version(s.version) for s in Requirement(line).specifier if s.operator == ">="
                ]
                floors[where] = floor
    return floors


def test_the_table_knows_everything_the_pack_uses() -> None:
    used = imported_names() | options_used()

    assert {"Severity", "Policy(severity=)", "Policy(tags=)"} <= used  # what the pack uses now
    unknown = used - set(FIRST_RELEASE_WITH)
    assert not unknown, f"add the first pulumi-policy release with {sorted(unknown)} above"


def test_the_declared_floor_has_everything_the_pack_uses() -> None:
    used = imported_names() | options_used()
    needed = max(Version(FIRST_RELEASE_WITH[name]) for name in used)
    floors = declared_floors()

    assert set(floors) == {"setup.cfg [policy]", "tap/policy/requirements.txt"}
    for where, floor in floors.items():
        assert floor >= needed, (
            f"{where} allows pulumi-policy {floor}, but the pack needs {needed}: "
            f"{sorted(n for n in used if Version(FIRST_RELEASE_WITH[n]) == needed)}"
        )


def test_the_installed_release_has_what_the_table_says() -> None:
    # The table's names are real ones (a typo there would check nothing).
    for name in FIRST_RELEASE_WITH:
        option = re.fullmatch(r"Policy\((\w+)=\)", name)
        if option:
            assert option.group(1) in POLICY_OPTIONS, name
        elif name.startswith("proxy."):
            assert hasattr(pulumi_policy.proxy, name.removeprefix("proxy.")), name
        else:
            assert hasattr(pulumi_policy, name), name
