"""data_exposure's evidence: which values of which test user an answer holds, where, and how bad that is."""

from __future__ import annotations

import hashlib
import json

from fixtures.analysis.exposure import Kind, UserData, belongings, find_exposures

ALICE = UserData(
    key="user1", passwords=("Correct-Horse-91",),
    credentials=("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLW9mLWFsaWNlLXRva2Vu",),
    email="alice.digasec@example.org", username="digasec-r1-user1", phone="+49 151 2345678",
    names=("Alice", "Wunderlich"), ids=("5f0c8a1e-1111-4a4a-9b9b-0123456789ab",), canaries=("dgs-canary-7f3a9c21e0",),
)
BOB = UserData(key="user2", passwords=("Battery-Staple-42",), email="bob.digasec@example.org",
               username="digasec-r1-user2")
OWNED = belongings(ALICE) + belongings(BOB)


def kinds(found: list) -> list[tuple[str, Kind, str]]:
    return [(e.owner, e.kind, e.where) for e in found]


def test_a_debug_listing_with_plaintext_passwords_is_critical_per_user_and_field() -> None:
    body = json.dumps({"users": [{"name": "digasec-r1-user1", "email": ALICE.email, "password": "Correct-Horse-91"},
                                 {"name": "digasec-r1-user2", "email": BOB.email, "password": "Battery-Staple-42"}]})
    found = find_exposures(body, {}, OWNED, caller=None)
    assert [(e.owner, e.kind, e.where) for e in found if e.kind is Kind.PASSWORD] == [
        ("user1", Kind.PASSWORD, "$.users[0].password"), ("user2", Kind.PASSWORD, "$.users[1].password")]
    assert {e.severity for e in found if e.kind is Kind.PASSWORD} == {"critical"}
    assert ("user1", Kind.EMAIL, "$.users[0].email") in kinds(found)
    assert ("user2", Kind.USERNAME, "$.users[1].name") in kinds(found)


def test_a_stored_digest_of_the_password_counts_as_the_password() -> None:
    for digest in (hashlib.md5, hashlib.sha1, hashlib.sha256):
        body = json.dumps({"hash": digest(b"Correct-Horse-91").hexdigest().upper()})
        (found,) = find_exposures(body, {}, OWNED, caller=None)
        assert (found.kind, found.severity, found.where) == (Kind.PASSWORD_DIGEST, "critical", "$.hash")


def test_the_callers_own_data_and_what_it_sent_are_not_exposures() -> None:
    body = json.dumps({"username": "digasec-r1-user2", "email": BOB.email})
    assert find_exposures(body, {}, OWNED, caller="user2") == []
    # an anonymous lookup of user2 by name: the name is echoed (sent), the e-mail address is the leak
    found = find_exposures(body, {}, OWNED, caller=None, sent="GET /users/digasec-r1-user2 HTTP/1.1")
    assert kinds(found) == [("user2", Kind.EMAIL, "$.email")]


def test_a_value_inside_a_stronger_one_is_not_reported_again() -> None:
    # the e-mail address contains the username; the place is an e-mail exposure, not also a username one
    carol = UserData(key="user3", username="digasec-r1-user3", email="digasec-r1-user3@example.org")
    body = json.dumps({"contact": "mail digasec-r1-user3@example.org"})
    assert kinds(find_exposures(body, {}, belongings(carol), caller="user2")) == [("user3", Kind.EMAIL, "$.contact")]


def test_names_and_ids_match_whole_values_only() -> None:
    body = json.dumps({"title": "Alice in Wonderland", "author": "alice", "ref": ALICE.ids[0]})
    found = kinds(find_exposures(body, {}, OWNED, caller="user2"))
    assert found == [("user1", Kind.NAME, "$.author"), ("user1", Kind.ID, "$.ref")]


def test_short_values_are_not_looked_for() -> None:
    short = UserData(key="user3", names=("Al",), ids=("7",), passwords=("12345",))
    assert belongings(short) == []


def test_credentials_in_headers_and_their_jwt_signature_alone() -> None:
    signature = ALICE.credentials[0].rsplit(".", 1)[1]
    found = find_exposures("", {"X-Debug-Session": f"sig={signature}"}, OWNED, caller=None)
    assert kinds(found) == [("user1", Kind.TOKEN, "header x-debug-session")]
    assert found[0].secret


def test_phone_numbers_match_by_digits_and_canaries_in_plain_text() -> None:
    found = find_exposures("call 0049-151-2345678 about dgs-canary-7f3a9c21e0", {}, OWNED, caller=None)
    assert kinds(found) == [("user1", Kind.PHONE, "body"), ("user1", Kind.CANARY, "body")]
    text_only = find_exposures("note: dgs-canary-7f3a9c21e0", {}, OWNED, caller=None)
    assert kinds(text_only) == [("user1", Kind.CANARY, "body")]
    assert text_only[0].severity == "high"


def test_an_answer_without_anything_of_another_user_is_clean() -> None:
    body = json.dumps({"items": [{"id": 1, "title": "digasec title", "email": "someone@example.org"}], "ok": True})
    assert find_exposures(body, {"content-type": "application/json"}, OWNED, caller=None) == []


def test_a_login_with_a_users_password_acts_as_that_user() -> None:
    body = json.dumps({"user": {"email": ALICE.email, "phone": "+49 151 2345678"}, "token": "fresh"})
    sent = json.dumps({"username": ALICE.username, "password": "Correct-Horse-91"})
    assert find_exposures(body, {}, OWNED, caller=None, sent=sent) == []
    # ... but not as any other user: Bob's e-mail address in Alice's login answer is still Bob's
    leaky = json.dumps({"user": ALICE.email, "last_login_by": BOB.email})
    assert kinds(find_exposures(leaky, {}, OWNED, caller=None, sent=sent)) == [("user2", Kind.EMAIL, "$.last_login_by")]


def test_a_returned_password_digest_is_redacted_like_the_password() -> None:
    from fixtures.engine.redaction import Redactor
    from fixtures.identity.base import HarnessClients, Identity, TestUser

    user = TestUser(key="user2", username="digasec-r1-user2", password="Battery-Staple-42", email=BOB.email,
                    first_name="Bob", last_name="Brown", sub="sub-2", canary="cnry2")
    identity = Identity(run_tag="digasec-r1", users=[user], clients=HarnessClients("a", "b", "c"))
    redactor = Redactor()
    for secret, label in identity.secrets():
        redactor.add_secret(secret, label)
    sha1 = hashlib.sha1(b"Battery-Staple-42").hexdigest()
    text = redactor.redact(json.dumps({"pw": "Battery-Staple-42", "h": sha1, "H": sha1.upper()}))
    assert "Battery-Staple-42" not in text
    assert sha1 not in text.lower()
    assert "<redacted:password:user2>" in text
    assert text.count("<redacted:password-digest:user2>") == 2
