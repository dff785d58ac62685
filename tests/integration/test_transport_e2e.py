"""Bounded requests and strict input, end to end against the misbehaving backend (launcher external, pre-issued
tokens, no Keycloak): a trickling answer ends at the deadline as an error, an endless one is cut and says so, a
redirect to another loopback port is not followed, a readiness path that answers 401 means "up" (unless
backend.ready_status says otherwise), and exclusions or `$ref`s that cannot be honoured are profile errors (exit 2)
before anything is sent."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.conftest import Scan, misbehaving_backend, run_cli

pytestmark = pytest.mark.integration


def fake_token(sub: str) -> str:
    """A JWT-shaped token (the backend checks only its shape); `exp` an hour ahead."""
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': sub, 'exp': int(time.time()) + 3600})}.c2ln"


TOKENS = {"TRANSPORT_TOKEN1": fake_token("user-one"), "TRANSPORT_TOKEN2": fake_token("user-two")}


@contextmanager
def counting_server() -> Iterator[tuple[str, list[str]]]:
    """A server on another loopback port that records every request it gets (none may arrive)."""
    seen: list[str] = []

    class Count(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def scan(tmp_path: Path, base_url: str, extra: str = "", *, backend: str = "", name: str = "transport") -> Scan:
    profile = tmp_path / f"{name}.yaml"
    profile.write_text(
        f"name: {name}\nenvironment: ci\nlauncher: external\nread_only: true\n"
        f"backend:\n  base_url: {base_url}\n{backend}"
        "identity:\n  provider: tokens\n  tokens: ['${TRANSPORT_TOKEN1}', '${TRANSPORT_TOKEN2}']\n" + extra
    )
    return run_cli("run", "--profile", str(profile), "--", "-k", "unauthenticated_access", out=tmp_path / f"out-{name}",
                   env=TOKENS, timeout=600)


def test_trickle_endless_and_redirect_are_bounded(tmp_path: Path) -> None:
    with counting_server() as (other, seen), misbehaving_backend(
        tmp_path, FAULT_TRICKLE="1", FAULT_ENDLESS="1", FAULT_REDIRECT_TO=f"{other}/stolen"
    ) as base_url:
        result = scan(tmp_path, base_url,
                      "checks:\n  request_deadline_s: 2\n  max_response_bytes: 100000\n  retries: 0\n")
    outcome = {r["path"]: r for r in result.results if r["check"] == "unauthenticated_access"}
    trickle = outcome["/v1/trickle"]
    assert trickle["outcome"] == "error", trickle
    assert "within 2 s (checks.request_deadline_s)" in trickle["reason"]
    assert "after 1 attempt; checks.retries: 0" in trickle["reason"]
    endless = outcome["/v1/endless"]
    assert endless["outcome"] == "fail", endless  # answered anonymously: a finding, with a cut body as evidence
    assert any("body cut at 100 kB" in exchange["response"] for exchange in endless["evidence"])
    assert outcome["/v1/moved"]["outcome"] != "error", outcome["/v1/moved"]
    assert seen == []  # the redirect's target on another port was never contacted
    assert result.exit_code == 1, result.console[-3000:]
    assert "Traceback" not in result.console


def test_a_readiness_path_that_answers_401_means_up(tmp_path: Path) -> None:
    with misbehaving_backend(tmp_path, FAULT_READY_STATUS="401") as base_url:
        up = scan(tmp_path, base_url, backend="  ready_path: /v1/ready\n", name="up")
        strict = scan(tmp_path, base_url, backend="  ready_path: /v1/ready\n  ready_status: [200]\n", name="strict")
    assert up.exit_code in (0, 1), up.console[-3000:]
    assert up.results
    assert strict.exit_code == 3, strict.console[-3000:]
    assert "answered 401" in strict.console
    assert "backend.ready_status [200]" in strict.console


def test_rules_that_match_nothing_and_external_refs_are_profile_errors(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    with counting_server() as (other, seen), misbehaving_backend(tmp_path) as base_url:
        typo = scan(tmp_path, base_url, "checks:\n  exclude: ['GET /v1/bom']\n", name="typo")
        public = scan(tmp_path, base_url, "auth:\n  public_operations: ['GET /v1/text/']\n", name="public")
        document = json.loads(run_cli_fetch(f"{base_url}/openapi.json"))
        document["paths"]["/v1/boom"]["get"]["responses"]["200"] = {"$ref": f"{other}/responses.json#/ok"}
        spec.write_text(json.dumps(document))
        remote_ref = scan(tmp_path, base_url, backend=f"  openapi: {spec}\n", name="ref")
    assert typo.exit_code == 2, typo.console[-3000:]
    assert "did you mean 'GET /v1/boom'?" in typo.console
    assert public.exit_code == 2, public.console[-3000:]
    assert "did you mean 'GET /v1/text'?" in public.console
    assert remote_ref.exit_code == 2, remote_ref.console[-3000:]
    assert "refers to another document" in remote_ref.console
    assert seen == []
    for result in (typo, public, remote_ref):
        assert "Traceback" not in result.console


def test_a_required_ref_cycle_is_a_profile_error(tmp_path: Path) -> None:
    spec = tmp_path / "cycle.json"
    spec.write_text(json.dumps({
        "openapi": "3.0.3", "info": {"title": "cycle", "version": "1"},
        "paths": {"/v1/nodes": {"post": {
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Node"}}}},
            "responses": {"201": {"description": "created"}}}}},
        "components": {"schemas": {"Node": {"type": "object", "required": ["child"],
                                            "properties": {"child": {"$ref": "#/components/schemas/Node"}}}}},
    }))
    with misbehaving_backend(tmp_path) as base_url:
        result = scan(tmp_path, base_url, backend=f"  openapi: {spec}\n", name="cycle")
    assert result.exit_code == 2, result.console[-3000:]
    assert "POST /v1/nodes: the request body requires itself" in result.console
    assert "Traceback" not in result.console


def run_cli_fetch(url: str) -> str:
    import httpx

    return httpx.get(url, trust_env=False, timeout=10).text
