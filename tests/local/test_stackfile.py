"""Stack files (tap.local.deploy.stackfile): Pulumi.yaml and Pulumi.<stack>.yaml read as
the engine hands config over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tap.local.deploy.stackfile import StackFileError, config_text, load_config


def test_config_is_project_defaults_then_the_stack_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: tap\nruntime: python\nconfig:\n"
        "  timeout: {type: integer, default: 29}\n"
        "  smokeCheck: {type: boolean, default: true}\n"
        "  aws:region: {value: eu-west-1}\n"
    )
    (tmp_path / "Pulumi.ci.yaml").write_text(
        "config:\n  tap:timeout: 20\n  tap:cors:\n    allowOrigins: [https://a.example]\n"
        "  tap:logLevel: DEBUG\n"
    )
    project, config = load_config(tmp_path, "ci")
    assert project == "tap"
    assert config == {
        "tap:timeout": "20",
        "tap:smokeCheck": "true",
        "aws:region": "eu-west-1",
        "tap:cors": '{"allowOrigins": ["https://a.example"]}',
        "tap:logLevel": "DEBUG",
    }
    # A stack without a file gets the project defaults.
    assert load_config(tmp_path, "other")[1]["tap:timeout"] == "29"


def test_an_encrypted_secret_in_the_stack_file_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: tap\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  tap:alarmEmail:\n    secure: v1:abc\n")
    with pytest.raises(
        StackFileError,
        match=r"Pulumi.prod.yaml: tap:alarmEmail is a secret "
        r"encrypted by the Pulumi CLI, which local mode "
        r"cannot decrypt",
    ):
        load_config(tmp_path, "prod")


@pytest.mark.parametrize(
    ("project_yaml", "problem"),
    [
        ("name: [unclosed\n", r"cannot read .*Pulumi\.yaml: "),
        ("- name\n- tap\n", r"Pulumi\.yaml must hold a YAML mapping"),
        ("", r"Pulumi\.yaml has no project name"),
        ("name: ''\nruntime: python\n", r"Pulumi\.yaml has no project name"),
        ("runtime: python\n", r"Pulumi\.yaml has no project name"),
    ],
)
def test_an_unusable_project_file_is_refused_naming_it(
    tmp_path: Path, project_yaml: str, problem: str
) -> None:
    (tmp_path / "Pulumi.yaml").write_text(project_yaml)
    with pytest.raises(StackFileError, match=problem):
        load_config(tmp_path, "dev")


def test_plain_and_empty_config_declarations(tmp_path: Path) -> None:
    # A bare value is the key's value; a declaration without a value or default, or a
    # null one, sets nothing; an empty stack file changes nothing.
    (tmp_path / "Pulumi.yaml").write_text(
        "name: tap\nconfig:\n  logLevel: DEBUG\n  alarmEmail: {type: string}\n  tracing:\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("")
    assert load_config(tmp_path, "dev") == ("tap", {"tap:logLevel": "DEBUG"})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (20, "20"),
        (2.5, "2.5"),
        ("x", "x"),
        ({"a": [1]}, '{"a": [1]}'),
        (["a"], '["a"]'),
    ],
)
def test_config_values_become_the_strings_pulumi_config_holds(value: Any, text: str) -> None:
    assert config_text(value) == text
