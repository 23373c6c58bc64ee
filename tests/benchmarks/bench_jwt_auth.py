"""Benchmark: the local emulator's JWT authorizer (tap/local/gateway/jwt_auth.authorize) against the
bare cost of verifying the same token's RS256 signature with pyjwt, the step no validator
can skip.

A script, not a test (no test_ prefix, no timed assertions):

    python tests/benchmarks/bench_jwt_auth.py [--number N] [--repeat R]

Both run in this process on the same token and key; best-of-repeats per call, and the
ratio authorize / signature-only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import jwt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from jwt.algorithms import RSAAlgorithm  # noqa: E402

from tap.local import specs  # noqa: E402
from tap.local.gateway import jwt_auth  # noqa: E402

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "k1"}
    keys = jwt_auth.parse_jwks({"keys": [jwk]})
    now = time.time()
    claims = {"iss": ISSUER, "sub": "u", "client_id": "c", "iat": int(now), "exp": int(now) + 3600}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    route = specs.RouteAuth(specs.JwtAuthorizer(ISSUER, ("c",), keys))
    public = keys["k1"]
    assert jwt_auth.authorize(f"Bearer {token}", route, now).allowed

    def baseline() -> None:
        jwt.decode(token, public, algorithms=["RS256"], options={"verify_exp": False})

    def authorize() -> None:
        jwt_auth.authorize(f"Bearer {token}", route, now)

    results = {}
    for name, fn in (("signature only (pyjwt.decode)", baseline), ("authorize", authorize)):
        best = min(timeit.repeat(fn, number=args.number, repeat=args.repeat)) / args.number
        results[name] = best
        print(f"{name:32s} {best * 1e6:8.1f} us/call")
    ratio = results["authorize"] / results["signature only (pyjwt.decode)"]
    print(f"ratio authorize / signature only: {ratio:.2f}")


if __name__ == "__main__":
    main()
