"""The ``tap`` command (``python -m tap``, or the ``tap`` console script).

Subcommands: ``local`` (the whole stack on this machine: see ``tap local --help``) and
``logs`` (one line per request from the stack's logs: see ``tap logs --help``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's convention for "stopped by SIGINT"
# The packages only local mode needs (setup.cfg's `local` extra and what it pulls in).
_LOCAL_EXTRA_MODULES = frozenset(
    {"moto", "boto3", "botocore", "werkzeug", "flask", "yaml", "jwt", "cryptography"}
)
USAGE = """usage: tap <command> [options]

commands:
  local    deploy the stack into moto on 127.0.0.1 and serve its HTTP API
           (no AWS account, no Docker); `tap local --help` for its options
  logs     one line per request from the access log joined with the function's log,
           from `tap local` or a live stack; `tap logs --help` for its options
  token    print a bearer token for the running local stack's Cognito pool
           (tap:auth type cognito); `tap token --help` for its options
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if args else EXIT_USAGE
    command, rest = args[0], args[1:]
    if command not in ("local", "logs", "token"):
        sys.stderr.write(f"error: unknown command {command!r}\n{USAGE}")
        return EXIT_USAGE
    from tap.local import heap  # standard library only

    if command == "local":
        heap.raise_threshold_for_start()  # until the deploy is done (tap/local/heap.py)
    try:
        return _run(command, rest)
    finally:
        heap.restore_threshold()  # if local mode stopped before its deploy was done


def _run(command: str, rest: list[str]) -> int:
    try:
        from tap.local import cli
        from tap.local.logs import tail
    except ModuleNotFoundError as error:
        root = (error.name or "").split(".")[0]
        if root not in _LOCAL_EXTRA_MODULES:
            raise
        sys.stderr.write(
            f"error: local mode needs the `local` extra ({root} is not installed): "
            "pip install -e '.[local]'\n"
        )
        return EXIT_USAGE
    try:
        if command == "token":
            from tap.local import token

            return token.run(rest)
        return tail.run(rest) if command == "logs" else cli.run(rest)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
