"""``tap local`` with an external JWT issuer: it needs the issuer's keys (``--jwks``) and
refuses to start without them rather than serve the protected routes unchecked."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tap.__main__ import main
from tap.local import cli, printing, token

pytestmark = pytest.mark.integration

EXTERNAL = json.dumps(
    {"type": "jwt", "issuer": "https://idp.example.com/", "audience": ["tap-api"]}
)


def test_an_external_issuer_without_jwks_exits_2_naming_the_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["local", "--check", "-c", f"auth={EXTERNAL}"])

    err = capsys.readouterr().err
    assert code == 2
    assert "tap:auth is type jwt with issuer https://idp.example.com/" in err
    assert "Pass --jwks FILE" in err


def test_a_jwks_file_that_is_not_one_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "jwks.json"
    bad.write_text('{"keys": []}')

    code = main(["local", "--check", "-c", f"auth={EXTERNAL}", "--jwks", str(bad)])

    assert code == 2
    assert f"--jwks {bad}: it holds no RSA key with a kid" in capsys.readouterr().err


def test_with_the_issuers_jwks_the_stack_deploys_and_its_smoke_check_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "idp-1"}
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    outputs_file = tmp_path / "outputs.json"

    code = main(
        [
            "local",
            "--check",
            "--stack",
            "external-jwt",
            "-c",
            f"auth={EXTERNAL}",
            "--jwks",
            str(jwks),
            "--outputs-file",
            str(outputs_file),
        ]
    )

    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), out
    outputs = json.loads(outputs_file.read_text())
    assert outputs["issuer"] == "https://idp.example.com/"
    assert "user_pool_id" not in outputs
    # The deploy's smoke check proved a protected route refuses a request without a token.
    assert outputs["smoke_check"]["checks"]["unauthorized"]["passed"] is True


def test_serving_a_cognito_stack_leaves_where_tap_token_looks_and_removes_it_on_stop(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    class Deployment:
        endpoint_url, region, url = "http://127.0.0.1:1", "us-east-1", "http://127.0.0.1:2"
        stack, account_id, program_dir = "dev", "123456789012", tmp_path
        outputs: ClassVar[dict[str, Any]] = {
            "user_pool_id": "us-east-1_Pool",
            "user_pool_client_id": "client1",
            "custom_domain_url": "https://api.example.com/",
        }

    state = token.state_path(tmp_path, "dev")
    seen: list[bool] = []
    timer = threading.Timer(
        0.3, lambda: (seen.append(state.is_file()), os.kill(os.getpid(), signal.SIGTERM))
    )
    timer.start()
    try:
        # (no functions to watch in the stand-in: no reload)
        code = cli._serve(Deployment(), printing.Printer(sys.stdout), reload=False)  # type: ignore[arg-type]
    finally:
        timer.cancel()

    out = capsys.readouterr().out
    assert code == 0
    assert seen == [True]  # written while serving
    assert not state.exists()  # removed on stop
    assert "Authorization: Bearer $(python -m tap token --stack dev)" in out
    assert "curl -H 'Host: api.example.com' http://127.0.0.1:2/health" in out


def test_tap_token_without_a_running_stack_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: tap\n")
    (tmp_path / "__main__.py").write_text("")

    code = main(["token", "--stack", "nothing-here", "--program-dir", str(tmp_path)])

    assert code == 2
    assert "no running `tap local --stack nothing-here`" in capsys.readouterr().err
