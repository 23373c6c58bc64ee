"""README.md's tables are generated from the code; this fails when they drift.

To regenerate after a change: ``python tests/unit/test_readme.py --write``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"


def _sections() -> dict[str, Callable[[], str]]:
    from tap.config import render_config_table
    from tap.outputs import render_outputs_table
    from tap.policy.rules import render_exemptions, render_rule_table

    return {
        "config-table": render_config_table,
        "outputs-table": render_outputs_table,
        "rule-table": render_rule_table,
        "exemptions": render_exemptions,
    }


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {name} [^\n]*-->\n)(.*?)(<!-- end: {name} -->)", re.DOTALL
    )


def render(text: str) -> str:
    for name, make in _sections().items():
        pattern = _pattern(name)
        assert pattern.search(text), f"README.md has no generated section {name!r}"
        body = make().strip() + "\n"
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(3), text)
    return text


def test_readme_tables_match_the_code() -> None:
    text = README.read_text()

    expected = render(text)

    assert text == expected, "README.md drifted: run python tests/unit/test_readme.py --write"


def test_every_config_key_and_output_appears_in_the_readme() -> None:
    from tap.config import KEY_NAMES
    from tap.outputs import OUTPUTS

    text = README.read_text()
    for key in KEY_NAMES:
        assert f"`tap:{key}`" in text
    for output in OUTPUTS:
        assert f"`{output}`" in text


def test_the_readme_test_command_is_what_ci_runs() -> None:
    readme = README.read_text()
    ci = (REPO / ".ci" / "run").read_text()

    assert "pip install tox tox-uv && tox " in readme
    assert '"tox>=4.11,<5" "tox-uv>=1.11,<2"' in ci  # installed when missing
    (line,) = [line for line in ci.splitlines() if line.startswith("python3 -m tox ")]
    args = line.partition(" || ")[0].split()[3:]
    # README's `tox` with options only: every env of tox.ini's env_list (no -e), in
    # parallel, and a missing interpreter fails instead of being skipped.
    assert [a for a in args if not a.startswith("-") and a not in ("auto", '"$@"')] == []
    assert "-e" not in args
    assert "--skip-missing-interpreters=false" in args


if __name__ == "__main__" and "--write" in sys.argv:
    sys.path.insert(0, str(REPO))
    README.write_text(render(README.read_text()))
