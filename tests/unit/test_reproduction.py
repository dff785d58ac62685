"""The report's reproduction is the attack: the forged token, the missing credential, user B's request on A's
object, with the owner's steps around it, and placeholders for every credential."""

from __future__ import annotations

import subprocess

from fixtures.analysis import forged_tokens as tokens
from reports._evidence import reproduction
from reports._records import Evidence, Outcome, ResultRecord

BASE = "http://127.0.0.1:8000"
A_TOKEN, B_TOKEN = "Bearer <redacted:token:user1>", "Bearer <redacted:token:user2>"


def step(method: str, path: str, credential: str | None, role: str, actor: str, body: str = "") -> Evidence:
    auth = f"\nauthorization: {credential}" if credential else ""
    request = f"{method} {path} HTTP/1.1\nhost: 127.0.0.1{auth}\ncontent-type: application/json"
    return Evidence(request=request + (f"\n\n{body}" if body else ""), response="HTTP/1.1 200 OK", role=role,
                    actor=actor)


def test_cross_user_write_is_a_numbered_sequence_with_bs_request_as_the_attack() -> None:
    evidence = [step("GET", "/v1/notes/7", A_TOKEN, "proof", "user1"),
                step("PUT", "/v1/notes/7", B_TOKEN, "attack", "user2", body='{"text": "x"}'),
                step("GET", "/v1/notes/7", A_TOKEN, "proof", "user1")]
    text = reproduction(evidence, BASE)
    assert text is not None
    lines = text.splitlines()
    assert "# $TOKEN_A: an access token of user A (user1)" in lines
    assert "# $TOKEN_B: an access token of user B (user2)" in lines
    numbered = [line for line in lines if line.startswith("# 1.") or line.startswith("# 2.") or line.startswith("# 3.")]
    assert numbered == ["# 1. user A (user1) reads the object again (state proof)",
                        "# 2. the attack: user B (user2) with $TOKEN_B",
                        "# 3. user A (user1) reads the object again (state proof)"]
    attack = text.split("# 2.")[1].split("# 3.")[0]
    assert "-X PUT" in attack
    assert '"authorization: Bearer $TOKEN_B"' in attack
    assert "redacted" not in text


def test_a_request_without_credentials_is_the_attack_not_the_owners_request() -> None:
    evidence = [step("GET", "/v1/me", A_TOKEN, "baseline", "user1"), step("GET", "/v1/me", None, "attack", "anonymous")]
    text = reproduction(evidence, BASE)
    assert text is not None
    attack = text.split("# 2. the attack: a caller without any credentials")[1]
    assert "authorization" not in attack.lower()


def test_the_alg_none_token_is_rebuilt_from_the_readers_own_token_never_printed() -> None:
    valid = ".".join([tokens.encode_json_segment({"alg": "RS256", "kid": "k"}),
                      tokens.encode_json_segment({"sub": "s", "exp": 99, "email": "a@example.org"}), "c2ln"])
    evidence = [step("GET", "/v1/me", A_TOKEN, "baseline", "user1"),
                step("GET", "/v1/me", "Bearer <redacted:forged-token:alg_none>", "attack", "user1")]
    text = reproduction(evidence, BASE)
    assert text is not None
    assert "$FORGED_TOKEN" in text
    setup = "\n".join(line for line in text.splitlines() if line.startswith("FORGED_TOKEN="))
    built = subprocess.run(["bash", "-c", f'TOKEN_A="{valid}"\n{setup}\nprintf %s "$FORGED_TOKEN"'],
                           capture_output=True, text=True, check=True).stdout
    assert built == tokens.alg_none(valid)


def test_evidence_without_roles_still_gives_the_first_request() -> None:
    text = reproduction([Evidence(request=f"GET /x HTTP/1.1\nauthorization: {A_TOKEN}", response="")], BASE)
    assert text == 'curl http://127.0.0.1:8000/x \\\n  -H "authorization: Bearer $TOKEN_USER1"'


def test_role_and_actor_survive_findings_json_and_older_files_still_read() -> None:
    record = ResultRecord(check="cross_user_read", outcome=Outcome.FAIL,
                          evidence=(step("GET", "/x", B_TOKEN, "attack", "user2"),))
    raw = record.to_dict()
    assert raw["evidence"][0]["role"] == "attack"
    assert raw["evidence"][0]["actor"] == "user2"
    assert ResultRecord.from_dict(raw) == record
    old = ResultRecord.from_dict({**raw, "evidence": [{"request": "GET /x HTTP/1.1", "response": ""}]})
    assert old.evidence[0].role == ""
    assert set(old.to_dict()["evidence"][0]) == {"request", "response"}
