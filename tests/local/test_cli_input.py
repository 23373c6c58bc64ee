"""``tap local`` given hostile or unusual input: stack files that would crash or never
finish, ``-c`` in the ``--path`` form and the ``aws:`` namespace. (Proxies in the
environment and SIGINT ignored at start: tests/local/test_cli.py.)

Each refusal is exit 2 with one ``error:`` line naming the file or key, and no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tap.__main__ import main
from tap.local.deploy.deployment import resolve_config
from tap.local.deploy.stackfile import StackFileError, apply_override, load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
TAP_LOCAL = (sys.executable, "-m", "tap", "local")


def _program(directory: Path, stack_file: str) -> Path:
    """A program directory whose stack ``hostile`` has the given Pulumi.hostile.yaml."""
    (directory / "Pulumi.yaml").write_text("name: tap\nruntime: python\n")
    (directory / "__main__.py").write_text("raise SystemExit('never run')\n")
    path = directory / "Pulumi.hostile.yaml"
    path.write_text(stack_file)
    return path


def _lol_levels(levels: int) -> str:
    """A stack file of nested aliases: each level ten references to the one before, so
    ``levels`` levels stand for 10**levels strings in a few hundred bytes."""
    lines = [
        "config:",
        '  tap:l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for n in range(1, levels):
        refs = ",".join([f"*l{n - 1}"] * 10)
        lines.append(f"  tap:l{n}: &l{n} [{refs}]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "recursive-alias": ("config:\n  tap:cors: &a [*a]\n", "YAML aliases"),
    "deep-list": ("config:\n  tap:cors: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
    "deep-map": (
        "config:\n  tap:cors: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
        "nested more than",
    ),
    "config-a-list": ("config:\n  - tap:timeout\n  - 20\n", "config must be a mapping"),
    "config-a-string": ("config: timeout=20\n", "config must be a mapping"),
    "config-key-not-a-string": ("config:\n  1: 2\n", "config key 1 must be"),
    "not-a-mapping": ("- a\n- b\n", "must hold a YAML mapping, not a list"),
    "not-utf8": ("config:\n  tap:environment: \udcff\n", "cannot read"),
    "nested-aliases": (_lol_levels(3), "YAML aliases"),
    "huge-integer": ("config:\n  tap:timeout: " + "9" * 5000 + "\n", "more than 4300 digits"),
    "control-characters": ("config:\n  tap:x: [\x1b[31m\x07\n", "cannot read"),
}


@pytest.mark.parametrize(("text", "says"), HOSTILE.values(), ids=list(HOSTILE))
def test_a_hostile_stack_file_is_refused_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str
) -> None:
    path = _program(tmp_path, "")
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    code = main(["local", "--program-dir", str(tmp_path), "--stack", "hostile", "--check"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err[-2000:]
    assert err.startswith("error: ")
    assert str(path) in err
    assert says in err
    assert "\x1b" not in err
    assert "\x07" not in err


def test_nested_aliases_that_expand_exponentially_end_at_once(tmp_path: Path) -> None:
    # GIVEN a stack file of a few hundred bytes whose aliases stand for 10**10 strings
    path = _program(tmp_path, _lol_levels(10))
    assert path.stat().st_size < 1000
    # WHEN local mode reads it (a subprocess with a bound: expanding it would never end)
    completed = subprocess.run(
        [*TAP_LOCAL, "--program-dir", str(tmp_path), "--stack", "hostile", "--check"],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    # THEN it is refused: exit 2, one line naming the file, no traceback
    assert completed.returncode == 2, completed.stderr[-2000:]
    assert completed.stderr == (
        f"error: cannot read {path}: line 3: YAML aliases (*name) are not supported in "
        "Pulumi config; write the value out\n"
    )


def test_anchors_in_the_project_file_are_refused_too(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: tap\nconfig:\n  tap:a: &x 1\n  tap:b: *x\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.yaml: line 4: YAML aliases"):
        load_config(tmp_path, "dev")


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    # 32 levels: the document, config, 29 lists and the number in the innermost
    _program(tmp_path, "config:\n  tap:x: " + "[" * 29 + "1" + "]" * 29 + "\n")
    assert load_config(tmp_path, "hostile")[1]["tap:x"] == "[" * 29 + "1" + "]" * 29
    _program(tmp_path, "config:\n  tap:x: " + "[" * 30 + "1" + "]" * 30 + "\n")
    with pytest.raises(StackFileError, match="nested more than 32 levels deep"):
        load_config(tmp_path, "hostile")


# --- -c as pulumi config set takes it ------------------------------------------------


def test_the_path_form_sets_one_element_of_cors(tmp_path: Path) -> None:
    # GIVEN a stack file with a cors object, as `pulumi config set --path` writes it
    _program(tmp_path, "config:\n  tap:cors:\n    allowMethods: [GET]\n")
    # WHEN -c sets elements by path, as the README's `pulumi config set --path` does
    overrides = {
        "cors.allowOrigins[0]": "https://a.example",
        "tap:cors.allowOrigins[1]": "https://b.example",
        "cors.maxAge": "600",
        "cors.allowCredentials": "true",
    }
    _, config, stack_config = resolve_config(tmp_path, "hostile", overrides)
    # THEN they land in the object, numbers and booleans typed as Pulumi stores them
    assert json.loads(config["tap:cors"]) == {
        "allowMethods": ["GET"],
        "allowOrigins": ["https://a.example", "https://b.example"],
        "maxAge": 600,
        "allowCredentials": True,
    }
    assert stack_config.cors.allow_origins == ("https://a.example", "https://b.example")
    assert stack_config.cors.allow_methods == ("GET",)
    assert stack_config.cors.max_age == 600
    assert stack_config.cors.allow_credentials is True


def test_the_path_form_over_the_default_cors(tmp_path: Path) -> None:
    _program(tmp_path, "")
    _, _, stack_config = resolve_config(
        tmp_path, "hostile", {"cors.allowOrigins[0]": "https://a.example"}
    )
    assert stack_config.cors.allow_origins == ("https://a.example",)


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("cors.allowOrigins[1]", "index 1 is past the end of a list of 0; set the indexes"),
        ("timeout.seconds", "tap:timeout holds a plain value"),
        ("cors..x", "cannot read the path at '..x'"),
        ("cors.allowOrigins.x", ".x steps into a list, not an object"),
        ("cors[0]", "[0] steps into an object, not a list"),
    ],
)
def test_a_path_that_cannot_be_set_says_why(key: str, says: str) -> None:
    config = {"tap:timeout": "20", "tap:cors": '{"allowOrigins": []}'}
    with pytest.raises(StackFileError) as raised:
        apply_override(config, "tap", key, "https://a.example")
    assert str(raised.value).startswith(f"--config {key!r}: ")
    assert says in str(raised.value)


def test_the_path_form_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    # An invalid element is refused as a config value (exit 2), which shows the path form
    # reached the config parser instead of being refused as an unknown key.
    code = main(["local", "--check", "-c", "cors.allowOrigins[0]=https://a.example/path"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: invalid configuration (1 value):\n  - tap:cors.allowOrigins is ")
    assert "https://a.example/path" in err


def test_aws_region_is_refused_saying_where_the_region_is_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["local", "--check", "-c", "aws:region=eu-west-1"]) == 2
    assert capsys.readouterr().err == (
        "error: --config 'aws:region': aws:* config is not read: every resource goes "
        "through tap's explicit AWS provider, which ignores it; the region is tap:region "
        "(-c region=eu-west-1)\n"
    )


def test_a_cors_value_nested_3000_deep_is_a_config_error_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # tap.config turns the parser's RecursionError into a ConfigError; the command
    # answers it as any invalid value: exit 2, the config error, no traceback, and not
    # "the Pulumi program raised" (the program never ran)
    code = main(["local", "--check", "-c", "cors=" + "[" * 3000])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: invalid configuration (1 value):\n  - tap:cors is '[[[")
    assert "nested too deeply" in err
    assert "Traceback" not in err
    assert len(err) < 1000


def test_a_deep_cors_string_in_the_stack_file_is_a_config_error_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Quoted, the 3,000 brackets pass the YAML loader as a string: the config parser
    # refuses them
    _program(tmp_path, "config:\n  tap:cors: '" + "[" * 3000 + "'\n")
    code = main(["local", "--program-dir", str(tmp_path), "--stack", "hostile", "--check"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: invalid configuration (1 value):\n  - tap:cors is ")
    assert "Traceback" not in err
