from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import pytest

from fixtures.analysis import forged_tokens as tokens
from fixtures.analysis.forged_tokens import (
    alg_none,
    b64url_decode,
    b64url_encode,
    decode_unverified,
    garbage_token,
    resigned_hs256,
    strip_signature,
    tampered_claims,
)

HEADER = {"alg": "RS256", "typ": "JWT", "kid": "k1"}
EXP = 1_714_570_245
CLAIMS = {"sub": "6f1c", "aud": "account", "exp": EXP, "iat": 1_714_566_645, "name": "Jürgen"}
SIGNATURE = "c2lnbmF0dXJlLWJ5dGVzLWZyb20tdGhlLWlkcA"


def segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


TOKEN = f"{segment(HEADER)}.{segment(CLAIMS)}.{SIGNATURE}"


def parts(token: str) -> list[str]:
    return token.split(".")


# --- decoding -----------------------------------------------------------------------------------------------------


def test_decode_unverified_returns_header_and_claims() -> None:
    assert decode_unverified(TOKEN) == (HEADER, CLAIMS)


def test_decode_tolerates_surrounding_whitespace() -> None:
    assert decode_unverified(f"  {TOKEN}\n") == (HEADER, CLAIMS)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "expected 3 dot-separated segments"),
        ("abc", r"\(header\.payload\.signature\), got 1$"),
        ("a.b", "got 2"),
        ("a.b.c.d.e", "JWE"),
        (f"{segment(HEADER)}.%%%.sig", "payload is not base64url"),
        (f"{segment(HEADER)}.{b64url_encode(b'not json')}.sig", "payload is not base64url-encoded JSON"),
        (f"{segment(HEADER)}.{segment([1, 2])}.sig", "payload is JSON but not an object: list"),
        (f"{b64url_encode(b'{')}.{segment(CLAIMS)}.sig", "header is not base64url-encoded JSON"),
        (f"{segment(HEADER)}.{b64url_encode(bytes([0xFF, 0xFE]))}.sig", "payload"),
        (f"{segment(HEADER)}.abcde.sig", "length of 5"),
        (f"{segment(HEADER)}.{segment(CLAIMS)}=.sig", "without padding"),
    ],
)
def test_decode_errors_are_clear_value_errors(token: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_unverified(token)


def test_b64url_round_trip_without_padding() -> None:
    for length in range(8):
        data = bytes(range(250, 250 - length, -1)) if length else b""
        encoded = b64url_encode(data)
        assert "=" not in encoded
        assert "+" not in encoded
        assert "/" not in encoded
        assert b64url_decode(encoded) == data


# --- forgeries ----------------------------------------------------------------------------------------------------


def test_garbage_token_is_not_a_jwt() -> None:
    token = garbage_token()
    assert len(token) >= 32
    assert "." not in token
    with pytest.raises(ValueError, match="not a JWT"):
        decode_unverified(token)


def test_garbage_tokens_differ() -> None:
    assert garbage_token() != garbage_token()


def test_alg_none_keeps_claims_and_drops_signature() -> None:
    forged = alg_none(TOKEN)
    header, claims = decode_unverified(forged)
    assert header == {"alg": "none", "typ": "JWT"}
    assert claims == CLAIMS
    assert forged.endswith(".")
    assert parts(forged)[1] == parts(TOKEN)[1]
    assert parts(forged)[2] == ""


def test_alg_none_case_variants() -> None:
    assert decode_unverified(alg_none(TOKEN, alg="NONE"))[0]["alg"] == "NONE"


def test_tampered_claims_default_extends_exp_and_marks_the_token() -> None:
    forged = tampered_claims(TOKEN)
    header, claims = decode_unverified(forged)
    assert header == HEADER
    assert claims == {**CLAIMS, "exp": EXP + 86_400, "digasec": "tampered"}
    assert parts(forged)[0] == parts(TOKEN)[0]
    assert parts(forged)[2] == SIGNATURE


def test_tampered_claims_keeps_sub() -> None:
    assert decode_unverified(tampered_claims(TOKEN))[1]["sub"] == CLAIMS["sub"]


def test_tampered_claims_without_exp_only_adds_the_marker() -> None:
    token = f"{segment(HEADER)}.{segment({'sub': 'x'})}.{SIGNATURE}"
    assert decode_unverified(tampered_claims(token))[1] == {"sub": "x", "digasec": "tampered"}


def test_tampered_claims_with_explicit_changes() -> None:
    forged = tampered_claims(TOKEN, {"realm_access": {"roles": ["admin"]}, "aud": "other"})
    claims = decode_unverified(forged)[1]
    assert claims["realm_access"] == {"roles": ["admin"]}
    assert claims["aud"] == "other"
    assert claims["exp"] == EXP
    assert "digasec" not in claims


def test_tampered_claims_preserve_non_ascii_values() -> None:
    assert decode_unverified(tampered_claims(TOKEN))[1]["name"] == "Jürgen"


def test_resigned_hs256_verifies_under_the_given_key() -> None:
    key = b"k" * 32
    forged = resigned_hs256(TOKEN, key=key)
    header, claims = decode_unverified(forged)
    assert header == {**HEADER, "alg": "HS256"}
    assert claims == CLAIMS
    head, payload, signature = parts(forged)
    expected = hmac.new(key, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert b64url_decode(signature) == expected


def test_resigned_hs256_uses_a_random_key_by_default() -> None:
    first, second = resigned_hs256(TOKEN), resigned_hs256(TOKEN)
    assert parts(first)[:2] == parts(second)[:2]
    assert parts(first)[2] != parts(second)[2]
    assert len(b64url_decode(parts(first)[2])) == 32


def test_strip_signature_keeps_header_and_payload() -> None:
    assert strip_signature(TOKEN) == f"{parts(TOKEN)[0]}.{parts(TOKEN)[1]}."
    assert decode_unverified(strip_signature(TOKEN)) == (HEADER, CLAIMS)


@pytest.mark.parametrize("forge", [alg_none, tampered_claims, resigned_hs256, strip_signature])
def test_forgeries_refuse_tokens_that_are_not_jwts(forge: Callable[[str], str]) -> None:
    with pytest.raises(ValueError, match="not a JWT"):
        forge("opaque-token")


@pytest.mark.parametrize("forge", [alg_none, tampered_claims, resigned_hs256, strip_signature])
def test_forgeries_differ_from_the_original(forge: Callable[[str], str]) -> None:
    assert forge(TOKEN) != TOKEN


def test_local_expiry_uses_the_lifetime_not_the_idps_clock() -> None:
    assert tokens.local_expiry({"iat": 5000, "exp": 5060}, fetched_at=100.0) == 160.0
    assert tokens.local_expiry({"exp": 5060}, fetched_at=100.0) == 5060.0
    with pytest.raises(ValueError, match="no numeric exp"):
        tokens.local_expiry({"iat": 5000, "exp": True}, fetched_at=100.0)


def test_an_acceptance_is_retried_beyond_the_next_common_skew() -> None:
    assert tokens.next_probe_age(5) == 70
    assert tokens.next_probe_age(70) == 310
    assert tokens.next_probe_age(310) is None
    assert tokens.next_probe_age(5, patience_s=70) == 70  # checks.expired_token_patience_s bounds the wait
    assert tokens.next_probe_age(70, patience_s=70) is None
    assert tokens.next_probe_age(5, patience_s=0) is None


@pytest.mark.parametrize(("accepted", "refused", "level"),
                         [(5, 70, "low"), (59.9, None, "low"), (70, 310, "medium"), (300, None, "high")])
def test_grade_of_an_expired_acceptance_by_how_far_past_exp(accepted: float, refused: float | None,
                                                             level: str) -> None:
    graded, why = tokens.grade_expired_acceptance(accepted, refused)
    assert graded == level
    assert f"accepted {tokens.describe_age(accepted)} past exp" in why
    if refused is not None:
        assert f"refused {tokens.describe_age(refused)} past exp" in why
