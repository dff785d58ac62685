"""What every zoo target shares: the command line, password hashing and serving on loopback.

The targets are small APIs in different styles, each with a `planted` variant (flaws listed in its
`ground_truth.yaml`) and a `clean` one. They are written for digasec's own tests, not copied from anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import secrets
from typing import Any

import uvicorn

PLANTED, CLEAN = "planted", "clean"
VARIANTS = (PLANTED, CLEAN)
VARIANT_ENV = "ZOO_VARIANT"
# A target with data of its own (accounts, content that exist before any scan) writes it to this file when it
# starts ("before") and when it stops ("after"), so that a test can show that a scan changed none of it.
PRE_EXISTING_ENV = "ZOO_PRE_EXISTING_FILE"


def record_pre_existing(moment: str, data: Any) -> None:
    """Add `data` under `moment` to the file $ZOO_PRE_EXISTING_FILE names (nothing when it is not set)."""
    import json

    path = os.environ.get(PRE_EXISTING_ENV)
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as stream:
            recorded = json.load(stream)
    except FileNotFoundError:
        recorded = {}
    recorded[moment] = data
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(recorded, stream, indent=1, sort_keys=True)


def stop_on_sigterm() -> None:
    """SIGTERM (how the harness's launcher stops a backend) ends the server like Ctrl-C, so `finally` blocks run."""
    import signal

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def parse_args(prog: str, description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """`--port N --variant planted|clean`; the variant may also come from $ZOO_VARIANT (default planted)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--port", type=int, required=True, help="port to bind on 127.0.0.1")
    parser.add_argument("--variant", choices=VARIANTS, default=os.environ.get(VARIANT_ENV, PLANTED),
                        help=f"planted (flaws of ground_truth.yaml switched on) or clean (default: ${VARIANT_ENV} "
                             "or planted)")
    return parser.parse_args(argv)


def serve(app: Any, port: int) -> None:
    """Run an ASGI app on 127.0.0.1 only: the zoo never listens on another address."""
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", workers=1)


class PasswordHasher:
    """PBKDF2-SHA256 with a per-password salt. `iterations` sets the cost, which the timing flaws rely on."""

    def __init__(self, iterations: int) -> None:
        self.iterations = iterations
        # Verified against for unknown accounts, so that they cost as much as existing ones (where wanted).
        self.dummy = self.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, self.iterations)
        return f"{salt.hex()}${digest.hex()}"

    def verify(self, password: str, stored: str) -> bool:
        salt, _, expected = stored.partition("$")
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), self.iterations)
        return hmac.compare_digest(digest.hex(), expected)
