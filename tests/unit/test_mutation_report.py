"""tests/mutation/report.py: the mutation score per target, as the README states it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.mutation import report, run

REPO = Path(__file__).resolve().parents[2]


def _meta(mutants: Path, source: str, codes: dict[str, int | None]) -> None:
    path = mutants / (source + ".meta")
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = {name: 1.5 for name, code in codes.items() if code is not None}
    path.write_text(json.dumps({"exit_code_by_key": codes, "durations_by_key": durations}))


def test_the_score_is_killed_over_total_minus_equivalent(tmp_path: Path) -> None:
    # GIVEN iam.py's 10 mutants: 6 killed by a test, 1 by a timeout, 1 survivor, 1 equivalent
    # survivor, 1 not run yet; and a function/ file with one mutant that has no test
    codes: dict[str, int | None] = {f"tap.iam.x_f__mutmut_{i}": 1 for i in range(1, 7)}
    codes |= {
        "tap.iam.x_f__mutmut_7": 36,
        "tap.iam.x_f__mutmut_8": 0,
        "tap.iam.x_f__mutmut_9": 0,
        "tap.iam.x_f__mutmut_10": None,
    }
    _meta(tmp_path, "tap/iam.py", codes)
    _meta(tmp_path, "tap/function/body.py", {"tap.function.body.x_g__mutmut_1": 33})
    equivalent = {"tap.iam.x_f__mutmut_9": "changes nothing"}

    targets, stale = report.summarise(report.read_results(tmp_path), equivalent)

    iam = targets["tap/iam.py"]
    assert (iam.total, iam.killed, iam.survivors, iam.equivalent, iam.not_run) == (
        10,
        7,
        ["tap.iam.x_f__mutmut_8"],
        ["tap.iam.x_f__mutmut_9"],
        1,
    )
    assert iam.score == pytest.approx(100 * 7 / 9)
    assert iam.test_seconds == pytest.approx(13.5)
    function = targets["tap/function/"]
    assert (function.score, function.survivors) == (0.0, ["tap.function.body.x_g__mutmut_1"])
    assert targets["tap/config/"].total == 0
    assert stale == []


def test_an_equivalent_entry_that_is_gone_or_killed_is_stale(tmp_path: Path) -> None:
    _meta(tmp_path, "tap/iam.py", {"tap.iam.x_f__mutmut_1": 1})
    equivalent = {
        "tap.iam.x_f__mutmut_1": "was thought equivalent",
        "tap.iam.x_gone__mutmut_1": "x",
    }

    _, stale = report.summarise(report.read_results(tmp_path), equivalent)

    assert sorted(stale) == ["tap.iam.x_f__mutmut_1", "tap.iam.x_gone__mutmut_1"]


def test_the_equivalent_list_gives_a_reason_on_every_line(tmp_path: Path) -> None:
    listed = report.read_equivalent()
    assert listed
    assert all(reason for reason in listed.values())

    bad = tmp_path / "equivalent.txt"
    bad.write_text("# comment\n\ntap.iam.x_f__mutmut_1\n")
    with pytest.raises(SystemExit, match=r"equivalent.txt:3: expected '<mutant name>: <reason>'"):
        report.read_equivalent(bad)


def test_the_report_lists_the_tests_left_out_with_their_reason() -> None:
    left_out = report.excluded_tests()

    assert left_out == [
        "tests/function/test_function_packaging.py::"
        "test_deployed_archive_answers_health_on_the_standard_library_alone",
        "tests/unit/test_repository.py",
        "tests/integration/",
        "tests/local/",
    ]
    text = report.render({}, [], left_out, 93.0, diffs=False, markdown=True)
    assert "`tests/integration/`: deploys into moto" in text
    assert "`python -I -S`" in text


def test_the_mutation_env_exists_outside_the_default_runs() -> None:
    import configparser

    tox = configparser.ConfigParser()
    tox.read(REPO / "tox.ini")

    assert "testenv:mutation" in tox
    assert "mutation" not in tox["tox"]["env_list"].replace(",", " ").split()
    assert "mutation" not in (REPO / ".ci" / "run").read_text()
    commands = tox["testenv:mutation"]["commands"]
    assert commands.index("tests/mutation/run.py") < commands.index(
        "tests/mutation/report.py --fail-under 93"
    )
    assert "tox -e mutation" in (REPO / "README.md").read_text()


def test_pass_two_reruns_each_target_survivor_not_listed_equivalent() -> None:
    # GIVEN pass 1's results: killed, survived, timed out, no tests, not run, an equivalent
    # survivor, and a survivor in a file that is no target
    codes: dict[str, dict[str, int | None]] = {
        "tap/iam.py": {
            "tap.iam.x_f__mutmut_1": 1,
            "tap.iam.x_f__mutmut_2": 0,
            "tap.iam.x_f__mutmut_3": -24,
            "tap.iam.x_f__mutmut_4": 33,
            "tap.iam.x_f__mutmut_5": None,
            "tap.iam.x_f__mutmut_6": 0,
        },
        "tap/config/keys.py": {"tap.config.keys.x_g__mutmut_1": 0},
        "tap/stack.py": {"tap.stack.x_h__mutmut_1": 0},
    }

    rerun = run.to_rerun(codes, equivalent=["tap.iam.x_f__mutmut_6"])

    assert rerun == ["tap.config.keys.x_g__mutmut_1", "tap.iam.x_f__mutmut_2"]
    # names given to the run narrow pass 2 to the mutants they match
    assert run.to_rerun(codes, equivalent=[], names=["tap.iam.*"]) == [
        "tap.iam.x_f__mutmut_2",
        "tap.iam.x_f__mutmut_6",
    ]


def test_names_given_to_the_run_limit_the_gate_to_the_targets_they_match(tmp_path: Path) -> None:
    _meta(tmp_path, "tap/iam.py", {"tap.iam.x_f__mutmut_1": 1})
    _meta(tmp_path, "tap/config/__init__.py", {"tap.config.x_g__mutmut_1": None})
    _meta(tmp_path, "tap/config/keys.py", {"tap.config.keys.x_h__mutmut_1": None})
    _meta(tmp_path, "tap/stack.py", {"tap.stack.x_k__mutmut_1": 0})
    results = report.read_results(tmp_path)

    assert report.gated(results, []) == list(report.TARGETS)
    assert report.gated(results, ["tap.iam.*"]) == ["tap/iam.py"]
    assert report.gated(results, ["tap.config.keys.x_h__mutmut_1", "tap.iam.*"]) == [
        "tap/config/",
        "tap/iam.py",
    ]
    assert report.gated(results, ["tap.stack.*"]) == []
