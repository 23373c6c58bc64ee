"""The mutation run's report (tox -e mutation): the score per target and its survivors.

Reads what ``mutmut run`` left in mutants/ (one ``<file>.meta`` per mutated file) and
tests/mutation/equivalent.txt (mutants no test can kill because they do not change
behaviour, each with its reason). For each target:

    score = killed / (total - equivalent)

where killed counts every mutant a test or a timeout caught, and total counts every mutant
mutmut made of the target. A mutant not yet run counts as not killed: a partial run shows
a partial score, and says how many were run. Prints the survivors (with their diff when
``--diff``), writes the same as Markdown with ``--markdown FILE`` (the CI job summary), and
exits 1 when a target is under ``--fail-under`` percent.

Run from the repository root, after ``python tests/mutation/run.py`` (or ``mutmut run``):

    python tests/mutation/report.py [--fail-under 93] [--diff] [--markdown report.md] [NAME ...]

Mutant names (globs, as given to the run: ``"tap.iam.*"``) limit the gate to the targets
they match: a run of one target fails on its score, not on the others it did not run.
"""

from __future__ import annotations

import argparse
import configparser
import fnmatch
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = ROOT / "mutants"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"

# target -> the source files (globs) whose mutants it counts
TARGETS: dict[str, tuple[str, ...]] = {
    "tap/config/": ("tap/config/*.py",),
    "tap/iam.py": ("tap/iam.py",),
    "tap/function/": ("tap/function/*.py",),
    "tap/smoke/": ("tap/smoke/*.py",),
    "tap/policy/rules/": ("tap/policy/rules/*.py",),
}

# mutmut's exit codes (mutmut/stats.py): a test failed (1, 3), the tests ran too long
# (timeouts: the mutant hangs the code), or the type checker refused it (37).
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}
SURVIVED = {0}
NO_TESTS = {5, 33}
NOT_RUN = {None}


@dataclass
class Target:
    name: str
    total: int = 0
    killed: int = 0
    not_run: int = 0
    equivalent: list[str] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)  # survived, no tests, or suspicious
    test_seconds: float = 0.0

    @property
    def score(self) -> float:
        denominator = self.total - len(self.equivalent)
        return 100.0 * self.killed / denominator if denominator else 100.0


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """``mutant name: reason`` per line; blank lines and ``#`` comments are skipped."""
    equivalent: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, reason = line.partition(": ")
        if not sep or not reason.strip():
            raise SystemExit(f"{path}:{number}: expected '<mutant name>: <reason>', got {line!r}")
        equivalent[name.strip()] = reason.strip()
    return equivalent


def read_results(mutants: Path = MUTANTS) -> dict[str, tuple[str, dict[str, int | None], dict]]:
    """source path -> (path, exit code per mutant, the meta document)."""
    results = {}
    for meta in sorted(mutants.glob("tap/**/*.py.meta")):
        source = meta.relative_to(mutants).as_posix().removesuffix(".meta")
        document = json.loads(meta.read_text())
        results[source] = (source, document["exit_code_by_key"], document)
    return results


def target_of(source: str) -> str | None:
    for name, patterns in TARGETS.items():
        if any(fnmatch.fnmatch(source, p) for p in patterns):
            return name
    return None


def summarise(
    results: dict[str, tuple[str, dict[str, int | None], dict]], equivalent: dict[str, str]
) -> tuple[dict[str, Target], list[str]]:
    targets = {name: Target(name) for name in TARGETS}
    known: set[str] = set()
    for source, (_, codes, document) in results.items():
        name = target_of(source)
        if name is None:
            continue
        target = targets[name]
        durations = document.get("durations_by_key", {})
        for mutant, code in codes.items():
            known.add(mutant)
            target.total += 1
            target.test_seconds += durations.get(mutant) or 0.0
            if code in KILLED:
                target.killed += 1
            elif mutant in equivalent:
                target.equivalent.append(mutant)
                if code in NOT_RUN:
                    target.not_run += 1
            elif code in NOT_RUN:
                target.not_run += 1
            else:
                target.survivors.append(mutant)
    # An equivalent mutant that no longer exists (the code changed) or that a test now kills
    # is a stale entry: the list must be kept true.
    stale = [m for m in equivalent if m not in known]
    stale += [
        m
        for _, codes, _ in results.values()
        for m, code in codes.items()
        if m in equivalent and code in KILLED
    ]
    return targets, stale


# Why each test the run leaves out cannot run under it.
WHY_LEFT_OUT = {
    "tests/function/test_function_packaging.py": "runs the deployed archive in `python -I -S`: "
    "the mutated copy's trampolines import mutmut, which an isolated interpreter cannot",
    "tests/unit/test_repository.py": "checks the files git tracks, and mutants/ is not a "
    "checkout; it calls none of the targets",
    "tests/integration/": "deploys into moto and runs the function in worker subprocesses: "
    "minutes per mutant, and mutmut cannot map calls made in another process to the tests",
    "tests/local/": "tests local mode (tap/local/, not a target): moto deploys and worker "
    "subprocesses, minutes per mutant, and calls in another process are invisible to mutmut",
}


def gated(
    results: dict[str, tuple[str, dict[str, int | None], dict]], names: Iterable[str]
) -> list[str]:
    """The targets the gate judges: all of them, or with names (globs of mutant names) the
    targets that have a mutant they match."""
    patterns = list(names)
    if not patterns:
        return list(TARGETS)
    matched = {
        target_of(source)
        for source, (_, codes, _) in results.items()
        if any(fnmatch.fnmatch(m, p) for m in codes for p in patterns)
    }
    return [name for name in TARGETS if name in matched]


def excluded_tests(setup_cfg: Path = ROOT / "setup.cfg") -> list[str]:
    """What the mutation run leaves out (setup.cfg [mutmut]): deselected tests, and the
    test folders outside its selection."""
    parser = configparser.ConfigParser()
    parser.read(setup_cfg)
    args = parser.get("mutmut", "pytest_add_cli_args", fallback="").split()
    selected = parser.get("mutmut", "pytest_add_cli_args_test_selection", fallback="").split()
    left_out = [a.removeprefix("--deselect=") for a in args if a.startswith("--deselect=")]
    folders = sorted(
        p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and any(p.glob("test_*.py"))
    )
    left_out += [
        f"tests/{f}/"
        for f in folders
        if f"tests/{f}" not in selected and not f.startswith(("_", "."))
    ]
    return left_out


def diff_of(mutant: str) -> str:
    try:
        from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant

        return str(get_diff_for_mutant(mutant, path=find_mutant(mutant).path))
    except Exception as error:  # the report must not fail on one diff
        return f"(no diff: {error})"


def render(
    targets: dict[str, Target],
    stale: Iterable[str],
    excluded: Iterable[str],
    fail_under: float,
    diffs: bool,
    markdown: bool,
) -> str:
    out: list[str] = []
    if markdown:
        out += ["## Mutation score", ""]
        out += [
            "| target | score | total | killed | survived | equivalent | not run | test time |",
            "|---|---|---|---|---|---|---|---|",
        ]
    else:
        out.append(
            f"{'target':<22}{'score':>8}{'total':>7}{'killed':>8}{'survived':>10}"
            f"{'equiv.':>8}{'not run':>9}{'tests':>9}"
        )
    for t in targets.values():
        flag = "" if t.score >= fail_under else " !"
        cells = (
            f"{t.score:.1f}%{flag}",
            t.total,
            t.killed,
            len(t.survivors),
            len(t.equivalent),
            t.not_run,
            f"{t.test_seconds:.0f} s",
        )
        if markdown:
            out.append(f"| `{t.name}` | " + " | ".join(map(str, cells)) + " |")
        else:
            out.append(
                f"{t.name:<22}{cells[0]:>8}{cells[1]:>7}{cells[2]:>8}{cells[3]:>10}"
                f"{cells[4]:>8}{cells[5]:>9}{cells[6]:>9}"
            )
    out.append("")
    under = f"; ! marks a score under {fail_under:g}%" if fail_under else ""
    out.append(
        "score = killed / (total - equivalent); killed includes timeouts; a mutant not run "
        f"counts as not killed{under}. Equivalent mutants: tests/mutation/equivalent.txt."
    )
    survivors = [m for t in targets.values() for m in t.survivors]
    out += ["", ("### " if markdown else "") + f"Survivors ({len(survivors)})", ""]
    for mutant in survivors:
        out.append(f"- `{mutant}`" if markdown else f"  {mutant}")
        if diffs:
            diff = diff_of(mutant)
            out += (
                ["```diff", diff, "```"]
                if markdown
                else ["    " + line for line in diff.splitlines()]
            )
    stale = list(stale)
    if stale:
        out += ["", ("### " if markdown else "") + "Stale equivalent entries (fix the list)", ""]
        out += [f"- `{m}`" if markdown else f"  {m}" for m in stale]
    out += ["", ("### " if markdown else "") + "Tests the mutation run leaves out", ""]
    for test in excluded:
        why = next((w for k, w in WHY_LEFT_OUT.items() if test.startswith(k)), "")
        out.append(f"- `{test}`: {why}" if markdown else f"  {test}\n      {why}")
    out.append("")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fail-under", type=float, default=0.0, metavar="PERCENT")
    parser.add_argument("--diff", action="store_true", help="print each survivor's diff")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write Markdown")
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="gate only the targets these match"
    )
    args = parser.parse_args(argv)
    if not MUTANTS.is_dir():
        print(
            "no mutants/ folder: run `python tests/mutation/run.py` (tox -e mutation) first",
            file=sys.stderr,
        )
        return 2
    results = read_results()
    targets, stale = summarise(results, read_equivalent())
    excluded = excluded_tests()
    print(render(targets, stale, excluded, args.fail_under, args.diff, markdown=False), end="")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(
            render(targets, stale, excluded, args.fail_under, args.diff, markdown=True)
        )
    judged = gated(results, args.names)
    failing = [name for name in judged if targets[name].score < args.fail_under]
    if failing:
        print(f"\nunder {args.fail_under:g}%: {', '.join(failing)}", file=sys.stderr)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
