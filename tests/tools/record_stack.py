"""Record what the program registers under Pulumi's mock runtime, as sorted JSON.

A refactoring that must not change the stack (same resources, same inputs, same outputs) is
checked by recording before and after it and comparing the two files::

    PYTHONPATH=$PWD python tests/tools/record_stack.py > /tmp/before.json
    ... the change ...
    PYTHONPATH=$PWD python tests/tools/record_stack.py > /tmp/after.json
    diff /tmp/before.json /tmp/after.json && echo identical

For each config below it writes every resource (type, logical name, URN, parent, the URNs
it depends on, its provider, and its inputs exactly as the engine receives them: secrets
still wrapped), what each component registered as its outputs, and the stack outputs. The
checkout's absolute path is written as ``<repo>`` (the function's code archive names files
under it), so checkouts in different folders compare equal. ``--config NAME`` records one
config; ``--list`` prints their names.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: import tap and tests from this checkout
    sys.path.insert(0, str(REPO_ROOT))

import pulumi  # noqa: E402

from tests.pulumi_mocks import ProgramRun, is_unknown, run_program  # noqa: E402

# name -> (raw tap: config, options of run_program)
CONFIGS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "default": ({}, {}),
    "default-preview": ({}, {"preview": True}),
    "staging-eu": ({"environment": "Staging", "region": "eu-west-2"}, {"stack": "eu"}),
    "auth-cognito": ({"auth": json.dumps({"type": "cognito"})}, {}),
    "auth-jwt": (
        {
            "auth": json.dumps(
                {
                    "type": "jwt",
                    "issuer": "https://issuer.example.com/",
                    "audience": ["api://tap"],
                    "publicRoutes": ["GET /health"],
                }
            )
        },
        {},
    ),
    "domain-zone": (
        {"domain": json.dumps({"name": "api.example.com", "zoneId": "Z0123456789ABC"})},
        {},
    ),
    "domain-certificate": (
        {
            "domain": json.dumps(
                {
                    "name": "api.example.com",
                    "certificateArn": (
                        "arn:aws:acm:us-east-1:123456789012:certificate/"
                        "0f0e0d0c-0b0a-0908-0706-050403020100"
                    ),
                    "disableDefaultEndpoint": True,
                }
            )
        },
        {},
    ),
    "cors": (
        {
            "cors": json.dumps(
                {
                    "allowOrigins": ["https://app.example.com", "https://admin.example.com"],
                    "allowCredentials": True,
                    "allowHeaders": ["authorization", "content-type"],
                    "maxAge": 600,
                }
            )
        },
        {},
    ),
    "tuned": (
        {
            "throttlingBurstLimit": "17",
            "throttlingRateLimit": "2.5",
            "reservedConcurrency": "5",
            "alarmEmail": "ops@example.com",
            "tracing": "PassThrough",
            "logRetentionDays": "90",
        },
        {},
    ),
    "no-smoke-check": ({"smokeCheck": "false"}, {}),
}


def _digest(path: str) -> str:
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def plain(value: Any) -> Any:
    """JSON-able: unknowns as "<unknown>", the checkout's path as "<repo>", tuples as lists,
    an asset or archive as its kind and contents (a file by its path and digest)."""
    if is_unknown(value):
        return "<unknown>"
    if isinstance(value, pulumi.AssetArchive):
        return {"<AssetArchive>": {name: plain(a) for name, a in sorted(value.assets.items())}}
    if isinstance(value, pulumi.StringAsset):
        return {"<StringAsset>": value.text}
    if isinstance(value, (pulumi.FileAsset, pulumi.FileArchive)):
        kind = type(value).__name__
        return {f"<{kind}>": plain(value.path), "digest": _digest(value.path)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return value.replace(str(REPO_ROOT), "<repo>")
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return f"<{type(value).__name__}: {plain(repr(value))}>"


def record(run: ProgramRun) -> dict[str, Any]:
    resources = [
        {
            "type": r.type,
            "name": r.name,
            "urn": r.urn,
            "parent": r.parent,
            "dependencies": sorted(r.dependencies),
            "provider": r.provider,
            "custom": r.custom,
            "inputs": plain(r.inputs),
        }
        for r in run.resources
    ]
    return {
        "resources": sorted(resources, key=lambda r: (r["urn"], r["type"], r["name"])),
        "component_outputs": plain(run.component_outputs),
        "outputs": plain(run.outputs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS))
    parser.add_argument("--list", action="store_true", help="print the configs' names")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(CONFIGS))
        return 0
    recording = {}
    for name in args.config or CONFIGS:
        raw, options = CONFIGS[name]
        recording[name] = record(run_program(raw, **options))
    json.dump(plain(recording), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
