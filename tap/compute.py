"""Compute layer: the function's log group and the Lambda function.

Also the function's code archive: built here, once, so the stack, the packaging test and
local mode all zip exactly the same files.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pulumi

FUNCTION_SOURCE_DIR = Path(__file__).resolve().parent / "function"
# The function's package name inside the zip and the handler Lambda calls.
PACKAGE_IN_ZIP = "app"
HANDLER = f"{PACKAGE_IN_ZIP}.handler.handler"
# Only source files ship: no tests, no __pycache__, no editor or OS debris.
_SHIPPED_SUFFIXES = (".py",)


def code_files(source_dir: Path = FUNCTION_SOURCE_DIR) -> dict[str, Path]:
    """The files of the function's code, by their path inside the zip, in a stable order."""
    files: dict[str, Path] = {}
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir)
        if not path.is_file() or path.suffix not in _SHIPPED_SUFFIXES:
            continue
        if any(part == "__pycache__" or part.startswith(("test", ".")) for part in relative.parts):
            continue
        files[f"{PACKAGE_IN_ZIP}/{relative.as_posix()}"] = path
    return files


def code_archive(source_dir: Path = FUNCTION_SOURCE_DIR) -> pulumi.AssetArchive:
    """The Lambda code archive: each shipped file as a FileAsset under ``app/``."""
    return pulumi.AssetArchive(
        {name: pulumi.FileAsset(str(path)) for name, path in code_files(source_dir).items()}
    )


# The engine writes each entry deflated with a constant modification time of 1990-01-01, so
# the zip depends only on names and content (pulumi sdk/go/common/resource/archive/
# archive.go, addNextFileToZIP); entries are written in sorted name order.
_ZIP_EPOCH = (1990, 1, 1, 0, 0, 0)


def zip_bytes(archive: pulumi.Archive) -> bytes:
    """Zip a Pulumi archive the way the engine does before uploading it.

    Handles the kinds the program and the engine use: AssetArchive (of FileAsset,
    StringAsset and nested archives) and FileArchive of a directory.
    """
    entries: dict[str, bytes] = {}
    _collect(archive, "", entries)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name])
    return buffer.getvalue()


def _collect(item: object, prefix: str, entries: dict[str, bytes]) -> None:
    if isinstance(item, pulumi.AssetArchive):
        for name, child in item.assets.items():
            _collect(child, f"{prefix}{name}", entries)
    elif isinstance(item, pulumi.FileArchive):
        root = Path(item.path)
        if not root.is_dir():
            raise ValueError(f"only directory FileArchives are supported, got {item.path}")
        base = f"{prefix}/" if prefix else ""
        for path in sorted(root.rglob("*")):
            if path.is_file():
                entries[base + path.relative_to(root).as_posix()] = path.read_bytes()
    elif isinstance(item, pulumi.FileAsset):
        entries[prefix] = Path(item.path).read_bytes()
    elif isinstance(item, pulumi.StringAsset):
        entries[prefix] = item.text.encode()
    else:
        raise TypeError(f"cannot zip {type(item).__name__} at {prefix or '/'!r}")



