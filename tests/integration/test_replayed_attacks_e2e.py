"""Attacks replay the owner's request exactly (issue 14, item 4), against the misbehaving backend's memo API with
pre-issued tokens (no Keycloak). Its creation succeeds only with the required-only body (the optional `tag` answers
404 whoever sends it). Planted: the creation accepts forged tokens. An attack that sent the full generated body would
get that 404 and call it a refusal (a false pass); the replayed attack sends the body that succeeded and finds the
flaw. The clean variant passes."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Scan, misbehaving_backend, run_cli

pytestmark = pytest.mark.integration

FORGED = ("alg_none", "tampered_claims", "hs256_resigned")


def b64(data: dict[str, object] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token(sub: str) -> str:
    """A JWT-shaped token (the fake backend reads `sub`; it knows the run's tokens by their value)."""
    claims = {"sub": sub, "preferred_username": sub, "exp": int(time.time()) + 3600}
    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}.{b64(os.urandom(16))}"


def scan(tmp_path: Path, *, planted: bool) -> Scan:
    tokens = (token("alice"), token("bob"))
    faults = {"REPLAY_MEMOS": "1", "REPLAY_KNOWN_TOKENS": ",".join(tokens)}
    if planted:
        faults["FAULT_LAX_CREATE"] = "1"
    profile = tmp_path / "memos.yaml"
    with misbehaving_backend(tmp_path, **faults) as base_url:
        profile.write_text(
            "name: replayed-attacks\nenvironment: local\nlauncher: external\n"
            f"backend:\n  base_url: {base_url}\n  ready_path: /health\n"
            "identity:\n  provider: tokens\n  tokens: ['${MEMO_T1}', '${MEMO_T2}']\n"
            "checks:\n  request_timeout_s: 10\n"
        )
        return run_cli("run", "--profile", str(profile), out=tmp_path / "out",
                       env={"MEMO_T1": tokens[0], "MEMO_T2": tokens[1]}, timeout=600)


def creations(result: Scan, check: str) -> dict[str, dict[str, Any]]:
    """The items of `check` for `POST /v1/memos`, by variant."""
    items = {r.get("variant") or "": r for r in result.results if r["check"] == check
             and (r["method"], r["path"]) == ("POST", "/v1/memos")}
    assert items, result.console[-3000:]
    return items


def test_a_create_that_accepts_forged_tokens_is_found_although_its_full_body_is_refused(tmp_path: Path) -> None:
    result = scan(tmp_path, planted=True)
    items = creations(result, "invalid_token")
    for variant in FORGED:
        item = items[variant]
        assert item["outcome"] == "fail", (variant, item.get("reason"), item.get("message"))
        baselines = [e for e in item["evidence"] if e.get("role") == "baseline"]
        attacks = [e for e in item["evidence"] if e.get("role") == "attack"]
        # the baseline needed its required-only retry; the attack is the body that succeeded, not the full one
        assert [e["response"].split()[1] for e in baselines] == ["404", "201"], baselines
        body_of = lambda exchange: exchange["request"].split("\n\n", 1)[1]  # noqa: E731
        assert [body_of(e) for e in attacks] == [body_of(baselines[-1])]
        assert '"tag"' not in body_of(attacks[0])
    assert creations(result, "unauthenticated_access")[""]["outcome"] == "pass"  # no token: 401 all the same


def test_the_clean_create_passes_every_forged_token(tmp_path: Path) -> None:
    result = scan(tmp_path, planted=False)
    items = creations(result, "invalid_token")
    for variant in FORGED:
        assert items[variant]["outcome"] == "pass", (variant, items[variant].get("reason"))
    assert not [r for r in result.results if r["outcome"] == "fail"], [
        (r["check"], r["method"], r["path"], r.get("variant"), r.get("message")) for r in result.results
        if r["outcome"] == "fail"]
