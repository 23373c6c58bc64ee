"""The GitHub workflows a user's forge runs, and the IAM trust policy deploy.yml relies on.

Their schema is checked by the `lint` tox env (check-jsonschema's vendored GitHub workflow
schema, offline); these tests check what a schema cannot: that CI runs exactly tox.ini's
envs, that deploy.yml previews and deploys as the README says, and that the trust policy lets
only this repository's workflows assume the deploy role.
"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
TRUST_POLICY = REPO / "deploy" / "github-oidc-trust-policy.json"
OIDC_HOST = "token.actions.githubusercontent.com"


def _workflow(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean true.
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    return triggers


def _runs(job: dict[str, Any]) -> list[str]:
    return [str(step["run"]) for step in job["steps"] if "run" in step]


def _tox_env_list() -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "tox.ini")
    return [env.strip() for env in parser["tox"]["env_list"].split(",") if env.strip()]


def _matrix_envs(job: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(tox env, Python version or None) for each cell of a job's matrix."""
    matrix = job["strategy"]["matrix"]
    cells = [(str(e), None) for e in matrix.get("env", [])]
    cells += [(str(c["env"]), c.get("python")) for c in matrix.get("include", [])]
    return cells


def test_ci_runs_on_push_and_pull_request() -> None:
    assert {"push", "pull_request"} <= set(_triggers(_workflow("ci.yml")))


def test_ci_runs_each_env_of_tox_ini_once_and_no_other() -> None:
    jobs = _workflow("ci.yml")["jobs"]
    ran: list[str] = []
    for job in jobs.values():
        cells = _matrix_envs(job)
        if not cells:
            continue
        # Each matrix job runs its cell's env, and fails (not skips) a missing interpreter.
        tox_runs = [r for r in _runs(job) if r.startswith("tox ")]
        assert tox_runs == ["tox run -e ${{ matrix.env }} --skip-missing-interpreters=false"]
        ran += [env for env, _ in cells]
    assert sorted(ran) == sorted(_tox_env_list())
    assert len(ran) == len(set(ran))


def test_each_pyxy_env_runs_on_its_own_python() -> None:
    cells = [cell for job in _workflow("ci.yml")["jobs"].values() for cell in _matrix_envs(job)]
    versions = {env: python for env, python in cells if re.fullmatch(r"py3\d+", env)}
    assert versions, "ci.yml runs no pyXY env"
    for env, python in versions.items():
        assert python == f"3.{env[3:]}", f"{env} runs on Python {python}"


def test_ci_publishes_each_envs_coverage_xml_and_table() -> None:
    job = _workflow("ci.yml")["jobs"]["tests"]
    uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-")]
    assert [u["with"]["path"] for u in uploads] == [".tox/coverage-${{ matrix.env }}.xml"]
    # tox.ini writes the XML exactly there.
    assert "--cov-report=xml:{toxworkdir}/coverage-{envname}.xml" in (REPO / "tox.ini").read_text()
    summary = [r for r in _runs(job) if "GITHUB_STEP_SUMMARY" in r]
    assert len(summary) == 1
    assert "coverage report --format=markdown" in summary[0]


def _deploy_jobs() -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = _workflow("deploy.yml")["jobs"]
    return jobs


def test_deploy_previews_pull_requests_with_the_policy_pack() -> None:
    workflow = _workflow("deploy.yml")
    assert set(_triggers(workflow)) == {"pull_request", "push"}
    preview = _deploy_jobs()["preview"]
    assert "github.event_name == 'pull_request'" in preview["if"]
    pulumi = [r for r in _runs(preview) if r.startswith("pulumi ")]
    assert pulumi[-1].startswith("pulumi preview ")
    assert "--policy-pack tap/policy" in pulumi[-1]
    assert not any(r.startswith("pulumi up") for r in pulumi)


def test_deploy_updates_main_then_runs_the_live_integration_tests() -> None:
    workflow = _workflow("deploy.yml")
    assert _triggers(workflow)["push"] == {"branches": ["main"]}
    deploy = _deploy_jobs()["deploy"]
    assert "github.ref == 'refs/heads/main'" in deploy["if"]
    runs = _runs(deploy)
    up = next(i for i, r in enumerate(runs) if r.startswith("pulumi up --yes "))
    tests = next(i for i, r in enumerate(runs) if "pytest -m integration tests/integration" in r)
    assert up < tests
    test_step = next(s for s in deploy["steps"] if s.get("run") == runs[tests])
    assert test_step["env"] == {"TAP_TARGET": "aws", "TAP_STACK": "${{ vars.PULUMI_STACK }}"}


@pytest.mark.parametrize("job", ["preview", "deploy"])
def test_deploy_gets_aws_credentials_by_oidc_only(job: str) -> None:
    workflow = _workflow("deploy.yml")
    assert workflow["permissions"]["id-token"] == "write"
    steps = _deploy_jobs()[job]["steps"]
    aws = [s for s in steps if str(s.get("uses", "")).startswith("aws-actions/")]
    assert len(aws) == 1
    assert aws[0]["uses"].startswith("aws-actions/configure-aws-credentials@")
    assert aws[0]["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    text = (WORKFLOWS / "deploy.yml").read_text()
    # No stored AWS keys anywhere: only the role assumption.
    assert "aws-access-key-id" not in text
    assert "AWS_SECRET_ACCESS_KEY" not in text
    assert workflow["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    assert workflow["env"]["PULUMI_STACK"] == "${{ vars.PULUMI_STACK }}"


def _readme_ci_section() -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(r"^## CI\n(.*?)(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert match, "README.md has no '## CI' section"
    return match.group(1)


def test_the_readme_names_every_variable_and_secret_the_workflows_read() -> None:
    section = _readme_ci_section()
    used: set[str] = set()
    for path in WORKFLOWS.glob("*.yml"):
        used |= set(re.findall(r"\b((?:vars|secrets)\.[A-Z0-9_]+)", path.read_text()))
    assert used >= {"vars.PULUMI_STACK", "vars.AWS_ROLE_ARN", "secrets.PULUMI_ACCESS_TOKEN"}
    for name in sorted(used):
        assert f"`{name.split('.', 1)[1]}`" in section, f"README's CI section omits {name}"
    assert "deploy/github-oidc-trust-policy.json" in section


def test_the_trust_policy_lets_only_this_repositorys_workflows_assume_the_role() -> None:
    policy = json.loads(TRUST_POLICY.read_text())
    assert policy["Version"] == "2012-10-17"
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::ACCOUNT_ID:oidc-provider/{OIDC_HOST}"
    }
    # Exact matches only (no StringLike): a wildcard would admit other repositories or refs.
    assert set(statement["Condition"]) == {"StringEquals"}
    equals = statement["Condition"]["StringEquals"]
    assert equals[f"{OIDC_HOST}:aud"] == "sts.amazonaws.com"
    subjects = equals[f"{OIDC_HOST}:sub"]
    assert isinstance(subjects, list)
    assert not any("*" in s or "?" in s for s in subjects)
    repositories = {s.split(":")[1] for s in subjects}
    assert repositories == {"OWNER/REPO"}, "sub must name one repository"
    # What deploy.yml's two jobs present: a pull request, and a push to main.
    assert sorted(s.split(":", 2)[2] for s in subjects) == ["pull_request", "ref:refs/heads/main"]


def test_the_lint_env_gates_the_complexity_of_taps_functions_at_15() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "tox.ini")
    commands = parser["testenv:lint"]["commands"].replace("\\\n", " ")
    gates = [c.split() for c in commands.splitlines() if "C901" in c]
    assert [gate[:5] for gate in gates] == [["ruff", "check", "--select", "C901", "tap"]]
    # (tomllib is 3.11+; the table is two lines)
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r"^\[tool\.ruff\.lint\.mccabe\]\nmax-complexity = 15$", pyproject, re.M)


def test_the_lint_env_validates_every_workflow_against_githubs_schema() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "tox.ini")
    commands = parser["testenv:lint"]["commands"].replace("\\\n", " ")
    (check,) = [c.split() for c in commands.splitlines() if c.strip().startswith("check-")]
    assert check[:3] == ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"]
    workflows = sorted(str(p.relative_to(REPO)) for p in WORKFLOWS.glob("*.y*ml"))
    assert sorted(check[3:]) == workflows


def test_each_pythons_coverage_gate_refuses_a_total_just_under_it() -> None:
    # pytest-cov decides the gate at coverage's report precision; at the default (0) a
    # 94.78% total rounds to 95 and passes, while .ci/run's combined report refuses it.
    from coverage.results import should_fail_under

    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    report = config["coverage:report"]
    gate = float(report["fail_under"])
    precision = int(report.get("precision", "0"))

    assert should_fail_under(gate - 0.22, gate, precision)
    assert not should_fail_under(gate, gate, precision)
