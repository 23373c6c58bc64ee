"""tap/compute.py: the code archive, its hash, the logging configuration."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from pulumi import AssetArchive as pulumi_archive
from pulumi import FileArchive, RemoteAsset, StringAsset

from tap import compute


def test_the_archive_ships_the_function_package_only() -> None:
    names = set(compute.code_files())

    assert "app/handler.py" in names
    assert "app/routes.py" in names
    assert all(n.startswith("app/") and n.endswith(".py") for n in names), names
    assert not [n for n in names if "__pycache__" in n or "/test" in n], names


def test_caches_tests_and_other_files_are_left_out(tmp_path: Path) -> None:
    # GIVEN a function folder with a module, a cache, a test, a dotfile and a text file
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_handler.py").write_text("assert True\n")
    (tmp_path / "test_x.py").write_text("")
    (tmp_path / ".hidden.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "handler.py").write_text("def handler(e, c): ...\n")

    # WHEN the archive is listed
    files = compute.code_files(tmp_path)

    # THEN only the module ships, under the package the handler path names
    assert list(files) == ["app/handler.py"]
    assert compute.HANDLER == "app.handler.handler"


def test_the_code_hash_is_the_sha256_of_the_zip_the_engine_uploads() -> None:
    archive = compute.code_archive()
    data = compute.zip_bytes(archive)

    assert compute.code_hash(archive) == hashlib.sha256(data).hexdigest()
    assert compute.code_hash() == compute.code_hash(archive)  # stable across builds
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == sorted(compute.code_files())


def test_the_code_hash_changes_with_the_code(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("A = 1\n")
    before = compute.code_hash(compute.code_archive(tmp_path))
    (tmp_path / "handler.py").write_text("A = 2\n")

    assert compute.code_hash(compute.code_archive(tmp_path)) != before


def test_the_function_log_group_is_lambdas_default_group_for_the_function() -> None:
    assert compute.function_log_group_name("tap-dev-function") == "/aws/lambda/tap-dev-function"


@pytest.mark.parametrize(
    ("application", "system"),
    [("DEBUG", "DEBUG"), ("INFO", "INFO"), ("WARN", "WARN"), ("ERROR", "WARN")],
)
def test_the_system_log_level_is_never_more_verbose_than_the_application(
    application: str, system: str
) -> None:
    assert compute.system_log_level(application) == system


@pytest.mark.parametrize(
    ("tap_level", "lambda_level"),
    [("DEBUG", "DEBUG"), ("INFO", "INFO"), ("WARN", "INFO"), ("ERROR", "INFO")],
)
def test_lambdas_application_log_level_never_drops_a_line_without_a_level(
    tap_level: str, lambda_level: str
) -> None:
    # docs/http-api.md rule 30: a line without a level (the request's EMF line) is INFO,
    # and Lambda drops what is below its application level.
    assert compute.lambda_application_log_level(tap_level) == lambda_level


def test_an_unknown_log_level_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(
        ValueError, match="log level 'TRACE' is not one of DEBUG, INFO, WARN, ERROR"
    ):
        compute.system_log_level("TRACE")
    with pytest.raises(ValueError, match="log level 'WARNING' is not one of"):
        compute.lambda_application_log_level("WARNING")


def test_the_log_level_variable_is_the_one_the_handler_reads() -> None:
    from tap.function import handler

    assert compute.LOG_LEVEL_ENV == handler.LOG_LEVEL_ENV


def test_zip_bytes_places_nested_archives_and_strings_where_the_engine_does(
    tmp_path: Path,
) -> None:
    # GIVEN an archive with a string, a nested asset archive and a directory archive
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("X = 1\n")
    archive = pulumi_archive(
        {
            "top.txt": StringAsset("top"),
            "lib": pulumi_archive({"inner.txt": StringAsset("inner")}),
            "dir": FileArchive(str(tmp_path)),
        }
    )

    # WHEN it is zipped
    with zipfile.ZipFile(io.BytesIO(compute.zip_bytes(archive))) as zf:
        names = zf.namelist()
        inner = zf.read("lib/inner.txt")
        infos = zf.infolist()

    # THEN members of nested archives sit under the archive's name, in sorted order
    assert names == ["dir/pkg/mod.py", "lib/inner.txt", "top.txt"]
    assert inner == b"inner"
    # and every entry has the engine's constant timestamp, so the zip depends on content only
    assert {i.date_time for i in infos} == {(1990, 1, 1, 0, 0, 0)}


def test_zip_bytes_refuses_what_it_cannot_zip(tmp_path: Path) -> None:
    (tmp_path / "code.zip").write_bytes(b"")

    with pytest.raises(ValueError, match="only directory FileArchives are supported"):
        compute.zip_bytes(FileArchive(str(tmp_path / "code.zip")))
    with pytest.raises(TypeError, match="cannot zip RemoteAsset at 'x'"):
        compute.zip_bytes(pulumi_archive({"x": RemoteAsset("https://example.com/x")}))
