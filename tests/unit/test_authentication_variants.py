"""The invalid_token variants: which ones apply to the run's credentials, and that none asks a Keycloak the run
does not have (a backend with its own login, pre-issued or opaque tokens)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import suites.test_authentication as auth
from fixtures.analysis import forged_tokens as tokens
from fixtures.engine.checks import Failure, Severity
from fixtures.engine.http import Request
from fixtures.errors import IdentityError
from fixtures.identity.base import OTHER_AUDIENCE, PAST_EXP, SHORT_LIVED
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


# -- the expired variant: how far past exp, re-tried beyond the common clock-skew allowances ------------------------
class Clock:
    """Time that passes only when the code under test sleeps (or a request is sent)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class SkewedBackend:
    """Accepts a token up to `skew_s` past its exp (None: never looks at exp)."""

    def __init__(self, clock: Clock, skew_s: float | None) -> None:
        self.clock, self.skew_s, self.ages = clock, skew_s, []  # type: list[float]
        self.expires_at = 0.0

    def send(self, request: Any, *, bearer: str | None = None, role: str = "", **_: Any) -> httpx.Response:
        if role == "reference":  # the same request without credentials: certainly refused
            return httpx.Response(401, json={"error": "no token"})
        assert role == "attack"
        age = self.clock.now - self.expires_at
        self.ages.append(age)
        self.clock.now += 0.05
        accepted = self.skew_s is None or age <= self.skew_s
        return httpx.Response(200 if accepted else 401, json={"ok": True} if accepted else {"error": "expired"})


def expired_run(skew_s: float | None, monkeypatch: pytest.MonkeyPatch, *, removes_account: bool = False,
                patience_s: float = 310.0, past_exp: bool = False, refuse_past_exp: bool = False) -> Any:
    """Run the expired variant against a backend with `skew_s`; returns (backend, raised Failure or None, ctx).
    `past_exp`: the identity source can issue tokens already past their exp (client `past-exp-<age>`);
    `refuse_past_exp`: it says it can, but making the client fails."""
    clock = Clock()
    backend = SkewedBackend(clock, skew_s)
    monkeypatch.setattr(auth, "_now", clock.time)
    monkeypatch.setattr(auth, "_sleep", clock.sleep)
    monkeypatch.setattr(auth, "_expired", {})

    def fetch(user: Any, client: str) -> tuple[str, float]:
        issued = clock.now + 3600  # the IdP's clock is an hour ahead: the age must not depend on it
        lifespan = -int(client.rsplit("-", 1)[1]) if client.startswith("past-exp-") else 1
        backend.expires_at = clock.now + lifespan
        token = ".".join([tokens.encode_json_segment({"alg": "RS256"}),
                          tokens.encode_json_segment({"sub": "u1", "iat": issued, "exp": issued + lifespan}), "c2ln"])
        return token, float(lifespan)

    def refuse(age_s: int) -> str:
        raise IdentityError("no admin rights")

    capabilities = {SHORT_LIVED, PAST_EXP} if past_exp else {SHORT_LIVED}
    identity = SimpleNamespace(provider="keycloak_admin", can=lambda capability: capability in capabilities,
                               clients=SimpleNamespace(short_lived="short"))
    harness = SimpleNamespace(
        env=SimpleNamespace(keycloak_url="http://127.0.0.1:8080"), identity=identity,
        source=SimpleNamespace(client_past_exp=refuse if refuse_past_exp else lambda age_s: f"past-exp-{age_s}"),
        tokens=SimpleNamespace(fetch=fetch), redactor=SimpleNamespace(add_secret=lambda value, label: None),
        profile=SimpleNamespace(checks=SimpleNamespace(expired_token_leeway_s=5.0,
                                                       expired_token_patience_s=patience_s)),
    )
    owner = SimpleNamespace(username="u1", key="user1", canary="cnry")
    ctx = SimpleNamespace(harness=harness, users=[owner], note="", send=backend.send,
                          refused_in_body=lambda response: None, request_for=lambda op, user: REQUEST)
    op = SimpleNamespace(removes_account=removes_account, read_only=True, label="GET /x", method="GET", path="/x")
    try:
        auth._attack_with_expired_token(ctx, op, REQUEST, httpx.Response(200), owner, owner)  # type: ignore[arg-type]
    except Failure as failure:
        return backend, failure, ctx
    return backend, None, ctx


REQUEST = Request("GET", "/x")


def test_a_backend_that_accepts_a_token_ten_minutes_past_exp_is_a_high_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, failure, _ctx = expired_run(None, monkeypatch)
    assert failure is not None
    assert failure.severity is Severity.HIGH
    assert backend.ages[-1] >= 300  # the proof is an acceptance beyond every common clock-skew allowance
    assert [round(age) for age in backend.ages] == [5, 70, 310]
    assert "accepted 310 s (5.2 min) past exp" in failure.message, failure.message
    assert "also accepted 5 s, 70 s past exp" in failure.message


def test_a_backend_that_refuses_the_expired_token_passes_and_says_how_old_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend, failure, ctx = expired_run(0, monkeypatch)
    assert failure is None
    assert len(backend.ages) == 1
    assert 5 <= backend.ages[0] < 6
    assert ctx.note == "refused a genuine token 5 s past its exp"


def test_an_acceptance_within_springs_60_s_skew_is_low(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, failure, _ctx = expired_run(60, monkeypatch)
    assert failure is not None
    assert failure.severity is Severity.LOW
    assert [round(age) for age in backend.ages] == [5, 70]
    assert "accepted 5 s past exp, refused 70 s past exp" in failure.message
    assert "within the 60 s clock skew" in failure.message


def test_an_acceptance_within_dotnets_5_min_skew_is_medium(monkeypatch: pytest.MonkeyPatch) -> None:
    _backend, failure, _ctx = expired_run(300, monkeypatch)
    assert failure is not None
    assert failure.severity is Severity.MEDIUM
    assert "accepted 70 s past exp, refused 310 s (5.2 min) past exp" in failure.message


def test_the_profiles_patience_bounds_the_wait_and_the_message_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, failure, _ctx = expired_run(None, monkeypatch, patience_s=70)
    assert [round(age) for age in backend.ages] == [5, 70]
    assert failure is not None
    assert failure.severity is Severity.MEDIUM
    assert "not tried later: checks.expired_token_patience_s is 70 s" in failure.message


def test_an_account_removal_is_not_retried_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, failure, _ctx = expired_run(None, monkeypatch, removes_account=True)
    assert len(backend.ages) == 1
    assert failure is not None
    assert failure.severity is Severity.LOW
    assert "not tried later: the call removes an account" in failure.message


# -- tokens issued already past their exp (PAST_EXP): the same tries, without the waits ----------------------------
def test_tokens_issued_past_exp_give_the_high_finding_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, failure, ctx = expired_run(None, monkeypatch, past_exp=True)
    assert failure is not None
    assert failure.severity is Severity.HIGH
    assert [round(age) for age in backend.ages] == [5, 70, 310]
    assert backend.clock.now - 1_000_000 < 10  # the first token's leeway (5 s) and the requests: no waits for age
    assert "accepted 310 s (5.2 min) past exp" in failure.message, failure.message
    assert "the try 70 s past exp used a token issued that far past its exp already" in ctx.note
    assert "the try 310 s past exp used a token issued that far past its exp already" in ctx.note


def test_tokens_issued_past_exp_grade_a_skewed_backend_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, failure, _ctx = expired_run(60, monkeypatch, past_exp=True)
    assert failure is not None
    assert failure.severity is Severity.LOW
    assert [round(age) for age in backend.ages] == [5, 70]
    assert "accepted 5 s past exp, refused 70 s past exp" in failure.message
    assert backend.clock.now - 1_000_000 < 10
    _backend, failure, _ctx = expired_run(None, monkeypatch, patience_s=70, past_exp=True)
    assert failure is not None
    assert failure.severity is Severity.MEDIUM
    assert "not tried later: checks.expired_token_patience_s is 70 s" in failure.message


def test_without_tokens_issued_past_exp_the_try_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, _failure, _ctx = expired_run(None, monkeypatch, past_exp=False)
    assert backend.clock.now - 1_000_000 > 300  # it waited until its own token was 310 s past exp


def test_a_source_that_cannot_issue_one_falls_back_to_waiting_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, failure, ctx = expired_run(None, monkeypatch, patience_s=70, past_exp=True, refuse_past_exp=True)
    assert failure is not None
    assert failure.severity is Severity.MEDIUM
    assert backend.clock.now - 1_000_000 > 70  # it waited until its own token was 70 s past exp
    assert "no token issued 70 s past its exp could be had (no admin rights), so the later try waited" in ctx.note
