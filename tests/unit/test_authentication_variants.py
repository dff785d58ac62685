"""The invalid_token variants: which ones apply to the run's credentials, and that none asks a Keycloak the run
does not have (a backend with its own login, pre-issued or opaque tokens)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from fixtures.analysis import forged_tokens as tokens
from fixtures.identity.base import OTHER_AUDIENCE, SHORT_LIVED
from suites.test_authentication import NOT_A_JWS, NOT_A_JWT, _forge

JWT = tokens.encode_json_segment({"alg": "RS256", "typ": "JWT"}) + "." + tokens.encode_json_segment(
    {"sub": "user1", "exp": 4102444800, "aud": "diga-backend"}
) + ".c2lnbmF0dXJl"


class Untouchable:
    """A token service or client that fails the test when anything asks it for a token."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"Keycloak was asked ({name}) in a run without Keycloak")


def context(credential: str, *, keycloak_url: str = "", capabilities: tuple[str, ...] = ()) -> Any:
    identity = SimpleNamespace(
        provider="backend_api" if not keycloak_url else "keycloak_admin",
        can=lambda capability: capability in capabilities,
        audience="diga-backend",
        clients=Untouchable(),
    )
    harness = SimpleNamespace(env=SimpleNamespace(keycloak_url=keycloak_url), identity=identity, tokens=Untouchable())
    return SimpleNamespace(users=["user1"], harness=harness, token=lambda user, **kwargs: credential)


def skip_reason(variant: str, ctx: Any) -> str:
    with pytest.raises(pytest.skip.Exception) as skipped:
        _forge(variant, ctx)
    return str(skipped.value)


@pytest.mark.parametrize(("variant", "capability"), [("expired", SHORT_LIVED), ("wrong_audience", OTHER_AUDIENCE)])
def test_keycloak_variants_skip_without_a_keycloak_and_name_the_capability(variant: str, capability: str) -> None:
    # even a source claiming the capability is not asked: there is no Keycloak to mint the token
    reason = skip_reason(variant, context(JWT, capabilities=(capability,)))
    assert reason.startswith("no Keycloak in this run (identity source 'backend_api')"), reason
    assert repr(capability) in reason


def test_keycloak_variants_still_skip_by_capability_when_keycloak_is_there() -> None:
    reason = skip_reason("expired", context(JWT, keycloak_url="http://127.0.0.1:8080"))
    assert "cannot mint a genuine expired token" in reason


@pytest.mark.parametrize("variant", ["alg_none", "tampered_claims", "hs256_resigned"])
def test_forged_jwt_variants_skip_on_an_opaque_credential(variant: str) -> None:
    assert skip_reason(variant, context("a3f9c2d1e0b84f6a9c7d2e1f0a9b8c7d")) == NOT_A_JWT
    assert skip_reason(variant, context("sessionid=abc.def")) == NOT_A_JWT  # two segments, no JSON


def test_forged_jwt_variants_skip_on_an_encrypted_token() -> None:
    assert skip_reason("alg_none", context("a.b.c.d.e")) == NOT_A_JWS


@pytest.mark.parametrize("variant", ["alg_none", "tampered_claims", "hs256_resigned"])
def test_forged_jwt_variants_forge_a_jwt_without_any_keycloak(variant: str) -> None:
    forged = _forge(variant, context(JWT))
    assert forged != JWT
    assert forged.count(".") == 2


def test_garbage_applies_to_every_credential() -> None:
    assert _forge("garbage", context("opaque")).count(".") == 0
