"""``python -m tap token``: a bearer token for a running ``tap local`` stack.

``tap local`` (serving, with ``tap:auth`` type cognito) writes where its moto server and
user pool are to ``.tap/local/<stack>.json`` in the project folder, and removes it on exit.
This command reads it, creates the user in the local pool if needed (with a random
password it never shows), signs in and prints the access token alone on stdout::

    curl -H "Authorization: Bearer $(python -m tap token)" -X POST localhost:3000/items -d '{}'

Local only: on AWS the app client allows SRP sign-in only, which a real client performs.
Sign-in here uses moto's admin password flow, which the app client does not list; moto
does not enforce a client's flows.

Exit codes: 0 printed a token; 2 no running local stack with a Cognito pool.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from tap.local.deploy.motoserver import make_client
from tap.local.deploy.stackfile import StackFileError, find_program

EXIT_OK, EXIT_USAGE = 0, 2
DEFAULT_USER = "local-user"
STATE_DIR = Path(".tap") / "local"


def state_path(program_dir: Path, stack: str) -> Path:
    return program_dir / STATE_DIR / f"{stack}.json"


def write_state(program_dir: Path, stack: str, state: dict[str, Any]) -> Path:
    path = state_path(program_dir, stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n")
    return path


def _password() -> str:
    # Meets the pool's policy (12+ characters, every class) whatever the random part holds.
    return secrets.token_urlsafe(18) + "aA1!"


def issue_token(cognito: Any, pool_id: str, client_id: str, user: str) -> dict[str, str]:
    """Sign ``user`` in to the local pool (created when missing); the token set."""
    password = _password()
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=user)
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(UserPoolId=pool_id, Username=user, MessageAction="SUPPRESS")
    # A fresh password each time: none is stored or printed.
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=user, Password=password, Permanent=True
    )
    result = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password},
    )["AuthenticationResult"]
    return {"access_token": result["AccessToken"], "id_token": result["IdToken"]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap token",
        description="Print a bearer token for the running `tap local` stack's Cognito pool "
        "(creating the user there if needed).",
    )
    parser.add_argument("--stack", default="local", help="the stack `tap local` serves")
    parser.add_argument("--user", default=DEFAULT_USER, help=f"user name (default {DEFAULT_USER})")
    parser.add_argument(
        "--program-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the Pulumi project `tap local` runs (default: as `tap local` finds it)",
    )
    return parser


def run(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    args = build_parser().parse_args(argv)
    try:
        path = state_path(find_program(args.program_dir), args.stack)
    except StackFileError as error:
        err.write(f"error: {error}\n")
        return EXIT_USAGE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        err.write(
            f"error: no running `tap local --stack {args.stack}` with tap:auth type cognito "
            f"({path} is missing): start it first\n"
        )
        return EXIT_USAGE
    cognito = make_client("cognito-idp", state["region"], state["moto_url"], state["account_id"])
    try:
        tokens = issue_token(
            cognito, state["user_pool_id"], state["user_pool_client_id"], args.user
        )
    except Exception as error:  # a stale state file: the server is gone
        err.write(f"error: the local stack at {state['moto_url']} did not answer: {error}\n")
        return EXIT_USAGE
    out.write(tokens["access_token"] + "\n")
    return EXIT_OK
