"""The mutation run behind ``tox -e mutation``: mutmut in two passes, fast then faithful.

Pass 1 runs the mutants the fast way, mutmut's ``process_isolation = fork``: each mutant's
tests run in a process forked from one that has collected the tests. A mutant a test fails
on there is killed for good. But that process imported ``tap`` with no mutant active, so
code ``tap`` runs at import time (the config keys' readers, the policy rules' declarations)
ran unmutated, and its mutants survive pass 1 untested.

Pass 2 re-runs pass 1's survivors as setup.cfg ``[mutmut]`` configures mutmut
(``process_isolation = forkserver``): each in a process that imports ``tap`` afresh with its
mutant active, so an import-time mutant can be killed. That costs seconds more per mutant,
which pass 1 spares every mutant a test kills at once (most of them). Mutants listed in
equivalent.txt are not re-run: nothing can kill them.

Pass 1 runs, as ``mutmut run`` does, the mutants without a result yet, or with names
(globs such as ``"tap.iam.*"``) the ones they match, again. Run from the repository root:

    python tests/mutation/run.py [--max-children N] [MUTANT_NAME ...]

then ``python tests/mutation/report.py`` for the score.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys
from collections.abc import Iterable, Mapping

if __package__:  # imported as tests.mutation.run (its tests)
    from .report import MUTANTS, SURVIVED, read_equivalent, read_results, target_of
else:  # run as a script: its folder is first on sys.path
    from report import MUTANTS, SURVIVED, read_equivalent, read_results, target_of


def fork_pass(argv: list[str]) -> int:
    """Pass 1, in its own process: ``mutmut run`` with setup.cfg's configuration except
    ``process_isolation``, which is mutmut's default, fork."""
    import dataclasses

    from mutmut import configuration
    from mutmut.__main__ import cli

    configuration._config = dataclasses.replace(
        configuration.config(), process_isolation=configuration.ProcessIsolation.FORK
    )
    return int(cli(["run", *argv], standalone_mode=False) or 0)


def to_rerun(
    codes_by_source: Mapping[str, Mapping[str, int | None]],
    equivalent: Iterable[str],
    names: Iterable[str] = (),
) -> list[str]:
    """The survivors of pass 1 that pass 2 runs again: every surviving mutant of a target,
    or of the names given, that is not listed as equivalent."""
    skip = set(equivalent)
    patterns = list(names)
    return sorted(
        mutant
        for source, codes in codes_by_source.items()
        if target_of(source) is not None
        for mutant, code in codes.items()
        if code in SURVIVED
        and mutant not in skip
        and (not patterns or any(fnmatch.fnmatch(mutant, p) for p in patterns))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-children", type=int, default=2, metavar="N")
    parser.add_argument("names", nargs="*", metavar="MUTANT_NAME")
    args = parser.parse_args(argv)
    children = ["--max-children", str(args.max_children)]

    print("Pass 1: every mutant, forked from a process that has collected the tests", flush=True)
    first = subprocess.run(
        [sys.executable, __file__, "--fork-pass", *children, *args.names], check=False
    )
    if first.returncode != 0:
        print(f"pass 1 failed (exit {first.returncode})", file=sys.stderr)
        return first.returncode
    if not MUTANTS.is_dir():
        print("pass 1 left no mutants/ folder", file=sys.stderr)
        return 2

    codes = {source: c for source, (_, c, _) in read_results().items()}
    survivors = to_rerun(codes, read_equivalent(), args.names)
    if not survivors:
        print("Pass 2: no survivor to run again", flush=True)
        return 0
    print(
        f"Pass 2: {len(survivors)} survivors, each in a process that imports tap afresh",
        flush=True,
    )
    second = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", *children, *survivors], check=False
    )
    return second.returncode


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fork-pass"]:
        sys.exit(fork_pass(sys.argv[2:]))
    sys.exit(main())
