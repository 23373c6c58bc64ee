"""The repository stands alone: a clone with nothing beside it passes its own tests, and
every document its code cites is in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tracked(*folders: str) -> list[Path]:
    """The text files git tracks under these folders (all files when git is missing)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", *folders],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        paths = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for folder in folders for p in (ROOT / folder).rglob("*") if p.is_file()]
    return [
        p
        for p in paths
        if p.suffix in {".py", ".yaml", ".yml", ".txt", ".toml", ".cfg", ".ini", ".md", ""}
        and p.is_file()
    ]


# This file is left out: it spells the patterns it looks for.
CODE = [
    p
    for p in _tracked("tap", "tests", "__main__.py", "conftest.py")
    if p != Path(__file__).resolve()
]

# A folder beside the checkout, or a path on one machine, that a clone does not have.
OUTSIDE = re.compile(
    r"""(?x)
    (?<![\w.-])\.\./shared\b            # the folder beside the checkout
    | (?<![\w-])shared/(conformance|specs)  # shared/specs/..., shared/conformance/...
    | ["']shared["']                    # path / "shared"
    | (?<![\w.:/-])/(work|home|root|Users|mnt|srv|opt)/\w  # absolute paths on a machine
    | \b[A-Z]:\\\\\w                    # C:\\...
    """
)

DOC_CITATION = re.compile(r"\bdocs/[\w./-]+?\.md\b")
RULE_CITATION = re.compile(r"docs/http-api\.md,? rules? (\d+)(?:\s*[-–]\s*(\d+))?((?:,\s*\d+)*)")


def test_the_code_lists_files_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in CODE}
    assert {
        "tap/config/__init__.py",
        "tap/function/handler.py",
        "tests/function/conformance.py",
    } <= names


@pytest.mark.parametrize("path", CODE, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nothing_outside_the_repository_is_read_or_cited(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    hits = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(text.splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not hits, "\n".join(hits)


def test_the_outside_pattern_catches_what_it_must() -> None:
    shared = "shared"  # spelt apart so that this file holds no such path itself
    caught = [
        f'SHARED = Path(__file__).parents[2].parent / "{shared}"',
        f"see ../{shared}/specs/http-api.md",
        f'Path("/work/{shared}/conformance/events")',
        f"{shared}/specs/pulumi-and-moto.md",
        "open('/home/alice/events.json')",
    ]
    passed = [
        "shared by the unit and local-mode tests",
        "docs/http-api.md rule 6",
        "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html",
        "/proc/sys/net/core/somaxconn",
        "the program runner (shared with local mode)",
    ]
    assert [line for line in caught if not OUTSIDE.search(line)] == []
    assert [line for line in passed if OUTSIDE.search(line)] == []


def _citations() -> dict[str, set[str]]:
    cited: dict[str, set[str]] = {}
    for path in [*CODE, ROOT / "README.md", *_tracked("docs")]:
        for doc in DOC_CITATION.findall(path.read_text(encoding="utf-8", errors="replace")):
            cited.setdefault(doc, set()).add(path.relative_to(ROOT).as_posix())
    return cited


def test_every_cited_doc_exists() -> None:
    cited = _citations()
    assert "docs/http-api.md" in cited
    missing = {doc: sorted(where) for doc, where in cited.items() if not (ROOT / doc).is_file()}
    assert not missing


def _rules() -> set[int]:
    text = (ROOT / "docs" / "http-api.md").read_text(encoding="utf-8")
    return {int(n) for n in re.findall(r"(?m)^(\d+)\. \*\*", text)}


def test_every_cited_rule_exists() -> None:
    rules = _rules()
    assert set(range(1, 25)) <= rules
    dangling: list[str] = []
    for path in CODE:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for first, last, more in RULE_CITATION.findall(line):
                numbers = set(range(int(first), int(last or first) + 1))
                numbers |= {int(x) for x in re.findall(r"\d+", more)}
                if numbers - rules:
                    dangling.append(f"{path.relative_to(ROOT)}:{n}: {sorted(numbers - rules)}")
    assert not dangling, "\n".join(dangling)


def test_the_readme_links_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in ("docs/http-api.md", "docs/design.md", "docs/tools.md"):
        assert f"({doc})" in readme, doc
