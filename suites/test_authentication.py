"""Authentication: does an operation that needs a token answer without one, or with a forged or stale one?"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import pytest

from fixtures import tokens
from fixtures.checks import CheckError, Failure, Severity, check, needs_authentication
from fixtures.identity.base import OTHER_AUDIENCE, SHORT_LIVED

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from fixtures.catalogue import Operation
    from fixtures.context import CheckContext

TOKEN_VARIANTS = {
    # variant: (title, severity, what the token is)
    "garbage": ("Operation accepts a malformed token", Severity.CRITICAL, "a random string that is not a JWT"),
    "alg_none": (
        "Operation accepts an unsigned token (alg: none)",
        Severity.CRITICAL,
        "the owner's claims with header alg: none and no signature",
    ),
    "tampered_claims": (
        "Operation accepts a token whose claims were changed",
        Severity.CRITICAL,
        "the owner's token with altered claims and the original signature",
    ),
    "hs256_resigned": (
        "Operation accepts a token re-signed with HS256",
        Severity.CRITICAL,
        "the owner's claims signed with HS256 and a key of the attacker's choosing",
    ),
    "expired": (
        "Operation accepts an expired token",
        Severity.HIGH,
        "a genuine token of the owner whose exp has passed",
    ),
    "wrong_audience": (
        "Operation accepts a token issued for another audience",
        Severity.HIGH,
        "a genuine token of the owner issued to a client without the backend's audience",
    ),
}


@check(
    "unauthenticated_access",
    title="Operation answers without credentials",
    severity=Severity.HIGH,
    precondition=needs_authentication,
)
def test_unauthenticated_access(operation: Operation, ctx: CheckContext) -> None:
    owner = ctx.users[0]
    request, baseline = ctx.baseline(operation, owner)
    attack = request if operation.read_only else ctx.request_for(operation, owner)
    response = ctx.send(attack, bearer=None, op=operation, creator=owner)
    _judge(
        response,
        operation,
        baseline,
        attack.path,
        "without any credentials",
        "Operation answers without credentials",
        Severity.HIGH,
    )


@check(
    "invalid_token",
    title="Operation accepts an invalid token",
    severity=Severity.CRITICAL,
    precondition=needs_authentication,
    variants=tuple(TOKEN_VARIANTS),
)
def test_invalid_token(operation: Operation, variant: str, ctx: CheckContext) -> None:
    owner = ctx.users[0]
    title, severity, description = TOKEN_VARIANTS[variant]
    forged = _forge(variant, ctx)
    ctx.harness.redactor.add_secret(forged, f"forged-token:{variant}")
    request, baseline = ctx.baseline(operation, owner)
    attack = request if operation.read_only else ctx.request_for(operation, owner)
    response = ctx.send(attack, bearer=forged, op=operation, creator=owner)
    _judge(response, operation, baseline, attack.path, f"with {description}", title, severity)


def _judge(
    response: httpx.Response,
    op: Operation,
    baseline: httpx.Response,
    concrete_path: str,
    how: str,
    title: str,
    severity: Severity,
) -> None:
    if response.status_code >= 500:
        raise CheckError(f"`{op.method} {concrete_path}` {how} answered {response.status_code}: no verdict possible")
    if response.is_success:
        raise Failure(
            title,
            f"Expected 401, got `{response.status_code} {response.reason_phrase}` for `{op.label}` {how} "
            f"(the owner's valid request answered {baseline.status_code})",
            severity=severity,
        )


# Variants that need a genuine token from Keycloak: without a Keycloak in the run they skip before anything is
# asked of one (a backend with its own login, pre-issued tokens). The capability check below would skip them too;
# this says why in the terms of the run, and guarantees no Keycloak is contacted when the profile names none.
NEEDS_KEYCLOAK = {
    "expired": f"a genuine expired token needs a short-lived client of the harness's own in Keycloak "
    f"(capability {SHORT_LIVED!r})",
    "wrong_audience": f"a genuine token for another audience needs a Keycloak client without the backend's "
    f"audience (capability {OTHER_AUDIENCE!r})",
}
NOT_A_JWT = "the credential is not a JWT: forged-JWT variants do not apply"
NOT_A_JWS = "the credential is an encrypted JWT (JWE): its claims cannot be read, forged-JWT variants do not apply"


def _forge(variant: str, ctx: CheckContext) -> str:
    owner = ctx.users[0]
    if variant == "garbage":
        return tokens.garbage_token()
    if variant in NEEDS_KEYCLOAK and not ctx.harness.env.keycloak_url:
        pytest.skip(f"no Keycloak in this run (identity source {ctx.harness.identity.provider!r}): "
                    f"{NEEDS_KEYCLOAK[variant]}")
    identity = ctx.harness.identity
    if variant == "expired":
        if not identity.can(SHORT_LIVED):
            pytest.skip(f"the identity source {identity.provider!r} cannot mint a genuine expired token: that needs "
                        "Keycloak admin rights (identity.provider keycloak_admin) for a short-lived harness client")
        return _expired_token(ctx)
    if variant == "wrong_audience":
        if not identity.can(OTHER_AUDIENCE):
            pytest.skip(f"the identity source {identity.provider!r} has no client without the backend's audience: "
                        "use keycloak_admin, or name identity.other_audience_client_id")
        if not ctx.harness.identity.audience:
            pytest.skip(
                "the profile names no audience (identity.audience), so a token for another audience "
                "cannot be told apart from a valid one"
            )
        return ctx.token(owner, client=ctx.harness.identity.clients.other_audience)
    valid = _jwt_or_skip(ctx.token(owner))
    forgers: dict[str, Callable[[str], str]] = {
        "alg_none": tokens.alg_none,
        "tampered_claims": tokens.tampered_claims,
        "hs256_resigned": tokens.resigned_hs256,
    }
    return forgers[variant](valid)


def _jwt_or_skip(credential: str) -> str:
    """The credential, when it is a signed JWT whose claims can be read; otherwise the item is skipped (an opaque
    session token or API key has no header, claims or signature to forge)."""
    if credential.strip().count(".") == 4:
        pytest.skip(NOT_A_JWS)
    try:
        tokens.decode_unverified(credential)
    except ValueError:
        pytest.skip(NOT_A_JWT)
    return credential


_expired_lock = threading.Lock()
_expired: dict[str, str] = {}


def _expired_token(ctx: CheckContext) -> str:
    """A genuine token from the harness's short-lived client, used only once it is past exp plus leeway."""
    owner = ctx.users[0]
    with _expired_lock:
        if owner.username not in _expired:
            _expired[owner.username], _ = ctx.harness.tokens.fetch(owner, ctx.harness.identity.clients.short_lived)
        token = _expired[owner.username]
    _header, claims = tokens.decode_unverified(token)
    usable_at = float(claims.get("exp", 0)) + ctx.harness.profile.checks.expired_token_leeway_s
    wait = usable_at - time.time()
    if wait > 0:
        time.sleep(wait)
    return token
