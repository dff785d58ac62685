"""Token validation of the demo backend, with a local RSA key instead of Keycloak's JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from demo.auth import InvalidToken, StaticKeys, TokenValidator

ISSUER = "http://127.0.0.1:18080/realms/diga"
AUDIENCE = "diga-api"
KID = "test-key"


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def validator(private_key: rsa.RSAPrivateKey) -> TokenValidator:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    keys = StaticKeys({KID: jwt.PyJWK({**jwk, "kid": KID, "alg": "RS256", "use": "sig"})})
    return TokenValidator(issuer=ISSUER, audience=AUDIENCE, keys=keys)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": [AUDIENCE, "account"], "sub": "user-1", "iat": now, "exp": now + 300, "typ": "Bearer"}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def sign(private_key: rsa.RSAPrivateKey, payload: dict[str, Any], *, kid: str = KID) -> str:
    return jwt.encode(payload, private_key, algorithm="RS256", headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any], alg: str = "none") -> str:
    return f"{_b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{_b64(json.dumps(payload).encode())}."


def test_valid_token(validator: TokenValidator, private_key: rsa.RSAPrivateKey) -> None:
    assert validator.validate(sign(private_key, claims()))["sub"] == "user-1"


def test_audience_as_string(validator: TokenValidator, private_key: rsa.RSAPrivateKey) -> None:
    assert validator.validate(sign(private_key, claims(aud=AUDIENCE)))["sub"] == "user-1"


@pytest.mark.parametrize(
    "payload",
    [
        claims(aud="account"),
        claims(iss="http://127.0.0.1:18080/realms/other"),
        claims(exp=int(time.time()) - 1),
        claims(exp=None),
        claims(sub=None),
        claims(typ="ID"),
        claims(typ="Refresh"),
    ],
    ids=["wrong-aud", "wrong-iss", "expired", "no-exp", "no-sub", "id-token", "refresh-token"],
)
def test_rejected_claims(validator: TokenValidator, private_key: rsa.RSAPrivateKey, payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        validator.validate(sign(private_key, payload))


def test_rejected_signatures(validator: TokenValidator, private_key: rsa.RSAPrivateKey) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header, _, signature = sign(private_key, claims()).split(".")
    tampered = f"{header}.{_b64(json.dumps(claims(sub='user-2')).encode())}.{signature}"
    for token in (
        sign(other_key, claims()),  # re-signed with a foreign key under the realm's kid
        sign(private_key, claims(), kid="unknown"),
        tampered,
        unsigned(claims()),
        unsigned(claims(), alg="None"),
        "garbage",
        "",
    ):
        with pytest.raises(InvalidToken):
            validator.validate(token)


def test_hs256_signed_with_the_public_key_is_rejected(
    validator: TokenValidator, private_key: rsa.RSAPrivateKey
) -> None:
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    signing_input = f"{header}.{_b64(json.dumps(claims()).encode())}"
    mac = _b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidToken, match="HS256"):
        validator.validate(f"{signing_input}.{mac}")


def test_flaw_switch_accept_unsigned(validator: TokenValidator) -> None:
    assert validator.validate(unsigned(claims()), accept_unsigned=True)["sub"] == "user-1"
    # the other claims are still checked
    for payload in (claims(aud="account"), claims(exp=int(time.time()) - 1), claims(iss="https://evil.example")):
        with pytest.raises(InvalidToken):
            validator.validate(unsigned(payload), accept_unsigned=True)


def test_flaw_switch_ignore_expiry(validator: TokenValidator, private_key: rsa.RSAPrivateKey) -> None:
    expired = sign(private_key, claims(exp=int(time.time()) - 3600))
    assert validator.validate(expired, verify_expiry=False)["sub"] == "user-1"
    with pytest.raises(InvalidToken):
        validator.validate(sign(rsa.generate_private_key(65537, 2048), claims()), verify_expiry=False)
