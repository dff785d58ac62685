"""Authentication: does an operation that needs a token answer without one, or with a forged or stale one?"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from fixtures.analysis import compare
from fixtures.analysis import forged_tokens as tokens
from fixtures.engine.checks import CheckError, Failure, Severity, check, not_applicable
from fixtures.engine.context import path_values, response_shape
from fixtures.errors import DigasecError
from fixtures.identity.base import OTHER_AUDIENCE, PAST_EXP, SHORT_LIVED

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from fixtures.api.catalogue import Operation
    from fixtures.engine.context import CheckContext
    from fixtures.engine.harness import Harness
    from fixtures.engine.http import Request
    from fixtures.identity import TestUser

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
)
def test_unauthenticated_access(operation: Operation, ctx: CheckContext) -> None:
    _protected_or_not_applicable(ctx, operation)
    owner = ctx.actor_for(operation, ctx.owner_for(operation))  # a throwaway account where the call removes one
    request, baseline = ctx.baseline(operation, owner, refused=True)
    if not ctx.succeeded(baseline):
        _where_the_owner_was_refused(ctx, operation, request, baseline, owner, None, "without any credentials",
                                     "Operation answers without credentials", Severity.HIGH)
        return
    target = owner if operation.read_only else ctx.actor_for(operation, owner)
    attack = _replayed(ctx, operation, request, owner, target)
    response = ctx.send(attack, bearer=None, op=operation, creator=target, role="attack", actor="anonymous")
    _judge(ctx, response, operation, (request, baseline), attack, (owner, target), "without any credentials",
           "Operation answers without credentials", Severity.HIGH, sent_credential=False)


@check(
    "invalid_token",
    title="Operation accepts an invalid token",
    severity=Severity.CRITICAL,
    variants=tuple(TOKEN_VARIANTS),
    late_variants=("expired",),
    prepare=lambda harness: prefetch_expired_tokens(harness),
    prepare_variants=("expired",),
)
def test_invalid_token(operation: Operation, variant: str, ctx: CheckContext) -> None:
    title, severity, description = TOKEN_VARIANTS[variant]
    _protected_or_not_applicable(ctx, operation)
    if operation.removes_account and variant != "expired":
        # a variant that does not apply skips before throwaway accounts are made
        _forge(variant, ctx, ctx.owner_for(operation))
    owner = ctx.actor_for(operation, ctx.owner_for(operation))  # a throwaway account where the call removes one
    request, baseline = ctx.baseline(operation, owner, refused=variant != "expired")
    if not ctx.succeeded(baseline):
        forged = _forge(variant, ctx, owner)
        ctx.harness.redactor.add_secret(forged, f"forged-token:{variant}")
        _where_the_owner_was_refused(ctx, operation, request, baseline, owner, forged, f"with {description}", title,
                                     severity)
        return
    # the forged token carries the claims of the account the attack is aimed at: a living one, never a test user's
    # where the call removes an account (the baseline has removed `owner`'s already)
    target = owner if operation.read_only else ctx.actor_for(operation, owner)
    if variant == "expired":
        _attack_with_expired_token(ctx, operation, request, baseline, owner, target)
        return
    forged = _forge(variant, ctx, target)
    ctx.harness.redactor.add_secret(forged, f"forged-token:{variant}")
    attack = _replayed(ctx, operation, request, owner, target)
    response = ctx.send(attack, bearer=forged, op=operation, creator=target, role="attack", actor=target.key)
    _judge(ctx, response, operation, (request, baseline), attack, (owner, target), f"with {description}", title,
           severity)


# Operations the spec declares public, by what a call without and with credentials got (per process: decided once).
_seen_public: dict[tuple[int, str], str | None] = {}


def _protected_or_not_applicable(ctx: CheckContext, op: Operation) -> None:
    """Protected is what the backend does: an operation the spec declares public is called once without
    credentials (the first test user's valid request). Refused, while the user's identical, signed-in request
    succeeds, it is tested as protected (the item's note says that the spec does not declare it). Otherwise it is
    public as declared, and the authentication checks do not apply (what it reveals is data_exposure's question)."""
    if op.needs_auth:
        return
    key = (id(ctx.harness), op.label)
    if key not in _seen_public:
        _seen_public[key] = _refused_only_without_credentials(ctx, op)
    refused = _seen_public[key]
    if refused is None:
        not_applicable(f"the operation is public ({op.auth_reason}), and a call without credentials was not refused "
                       "where the same call with credentials succeeded: nothing to test for authentication (what "
                       "its answers reveal is data_exposure's question)")
    _add_note(ctx, f"the spec declares no security ({op.auth_reason}), but a call without credentials was refused "
                   f"({refused}) while the same call with credentials succeeded: tested as a protected operation")


def _refused_only_without_credentials(ctx: CheckContext, op: Operation) -> str | None:
    """How a call without credentials was refused where the same call with them succeeded; None otherwise."""
    user = ctx.actor_for(op, ctx.owner_for(op))
    request = ctx.request_for(op, user)
    anonymous = ctx.send(request, bearer=None, op=op, creator=user, role="reference", actor="anonymous")
    if anonymous.status_code >= 500:
        raise CheckError(f"`{op.method} {request.path}` without credentials answered {anonymous.status_code}: "
                         "whether the operation is public cannot be told")
    if ctx.succeeded(anonymous):
        return None
    signed_in = ctx.send(ctx.request_for(op, user) if not op.read_only else request, bearer=ctx.token(user), op=op,
                         creator=user, role="reference", actor=user.key)
    if not ctx.succeeded(signed_in):
        return None  # refused either way: the request does not fit, and nothing says credentials are needed
    refusal = ctx.refused_in_body(anonymous)
    return f"{anonymous.status_code}" + (f", refused in the body: {refusal}" if refusal else "")


def _where_the_owner_was_refused(
    ctx: CheckContext, op: Operation, request: Request, refused: httpx.Response, owner: TestUser,
    bearer: str | None, how: str, title: str, severity: Severity,
) -> None:
    """The owner's own request was refused (an operation for another role): the same request is sent `how`; a
    success where the signed-in user was refused is a finding, a refusal a pass."""
    response = ctx.send(request, bearer=bearer, op=op, creator=owner, role="attack",
                        actor="anonymous" if bearer is None else owner.key)
    if response.status_code >= 500:
        raise CheckError(f"`{op.method} {request.path}` {how} answered {response.status_code}: no verdict possible")
    own = ctx.refused_in_body(refused)
    owners = f"{refused.status_code}" + (f", refused in the body: {own}" if own else "")
    if ctx.succeeded(response):
        raise Failure(title, f"`{op.label}` {how} answered `{response.status_code} {response.reason_phrase}` where "
                             f"{owner.key}'s own, signed-in request was refused ({owners})", severity=severity)
    _add_note(ctx, f"{owner.key}'s own request was refused ({owners}), and so was the request {how} "
                   f"({response.status_code})")


def _add_note(ctx: CheckContext, text: str) -> None:
    """Add a sentence to the item's note (several steps of a check may each have something to say)."""
    ctx.note = f"{ctx.note}; {text}" if ctx.note else text


def _replayed(ctx: CheckContext, op: Operation, request: Request, owner: TestUser, target: TestUser) -> Request:
    """The attack: the owner's request that succeeded, exactly (method, path, query, headers, body). A call that
    changes state is aimed at a fresh object (or account) instead, for the baseline has changed or removed its own:
    then only the ids in the path differ (CheckContext.replay)."""
    return request if op.read_only else ctx.replay(op, request, owner, target)


def _attack_with_expired_token(
    ctx: CheckContext, op: Operation, request: Request, baseline: httpx.Response, owner: TestUser, target: TestUser
) -> None:
    """Send the owner's request with a genuine expired token. An acceptance is tried again past the next common
    clock-skew allowance (60 s, then 5 min), so that a backend allowing the usual skew is not reported as one that
    ignores exp; the verdict names how far past exp the token was each time. Where the identity source can issue a
    token that is already that far past its exp (PAST_EXP: Keycloak with admin rights), the next try uses one at
    once; otherwise it waits until the first token is that old."""
    title, _severity, _description = TOKEN_VARIANTS["expired"]
    stale = _forge_expired(ctx, target)
    accepted: list[float] = []
    refused_at: float | None = None
    untried = ""
    attack = _replayed(ctx, op, request, owner, target)
    while refused_at is None:
        age = stale.age(_now())
        response = ctx.send(attack, bearer=stale.token, op=op, creator=target, role="attack", actor=target.key)
        how = f"with a genuine token of the owner {tokens.describe_age(age)} past its exp"
        if _accepted(ctx, response, op, baseline, attack, owner, how) is None:
            refused_at = age
            break
        accepted.append(age)
        patience = ctx.harness.profile.checks.expired_token_patience_s
        retry_at = tokens.next_probe_age(age, patience)
        if retry_at is None and tokens.next_probe_age(age) is not None:
            untried = f" (not tried later: checks.expired_token_patience_s is {patience:g} s)"
        if retry_at is None or op.removes_account:
            break  # no later try: beyond every allowance (or the profile's patience), or the account may be gone
        aged = _issued_past_exp(ctx, target, int(retry_at))
        if aged is None:
            _sleep(max(stale.expires_at + retry_at - _now(), 0.0))
        else:
            stale = aged
        attack = _replayed(ctx, op, request, owner, target)
    if not accepted:
        _refusal_counts(ctx, op, (request, baseline), attack, response, target, how)
        _add_note(ctx, f"refused a genuine token {tokens.describe_age(refused_at or 0.0)} past its exp")
        return
    level, why = tokens.grade_expired_acceptance(max(accepted), refused_at)
    earlier = ", ".join(tokens.describe_age(a) for a in accepted[:-1])
    also = f"; it was also accepted {earlier} past exp" if earlier else ""
    if op.removes_account and level != "high":
        untried = " (not tried later: the call removes an account)"
    raise Failure(
        title,
        f"Expected 401 for `{op.label}` with a genuine expired token of the owner (the owner's valid request answered "
        f"{baseline.status_code}): {why}{untried}{also}",
        severity=Severity(level),
    )


def _judge(
    ctx: CheckContext,
    response: httpx.Response,
    op: Operation,
    owners: tuple[Request, httpx.Response],
    attack: Request,
    users: tuple[TestUser, TestUser],
    how: str,
    title: str,
    severity: Severity,
    *,
    sent_credential: bool = True,
) -> None:
    """`owners`: the owner's request that succeeded and its answer; `users`: the owner and the account the attack
    is aimed at (the owner, or a throwaway account where the call removes one); `sent_credential`: the attack sent
    a (forged) credential, not none."""
    _request, baseline = owners
    owner, target = users
    problem = _accepted(ctx, response, op, baseline, attack, owner, how, sent_credential=sent_credential)
    if problem is not None:
        raise Failure(title, problem, severity=severity)
    _refusal_counts(ctx, op, owners, attack, response, target, how)


AUTHENTICATION_REFUSALS = (401, 403)


def needs_owners_answer(op: Operation, request: Request, attack: Request, status: int) -> bool:
    """Whether a refusal of `attack` says something about the credential only next to the owner's own answer to the
    very same request. 401 and 403 are refusals of the credential whatever the request; any other status (404,
    400, 409, a 2xx that says "refused" ...) counts only where the owner's identical request succeeded: the baseline
    itself when the attack is that request exactly and the call changes nothing, otherwise a request sent now."""
    if status in AUTHENTICATION_REFUSALS:
        return False
    return not (op.read_only and attack == request)


def _refusal_counts(ctx: CheckContext, op: Operation, owners: tuple[Request, httpx.Response], attack: Request,
                    response: httpx.Response, target: TestUser, how: str) -> None:
    """A refusal is a pass only when the owner's own answer to the same request was a success. Where the attack is
    not the baseline itself (a fresh object, a second creation), the target's owner sends the attack's request with
    its own credential; if that fails too, the refusal proves nothing and the item is skipped with both answers."""
    request, _baseline = owners
    if not needs_owners_answer(op, request, attack, response.status_code):
        return
    own = ctx.send(attack, bearer=ctx.token(target), op=op, creator=target, role="reference", actor=target.key)
    if own.status_code >= 500:
        raise CheckError(f"{target.key}'s own `{op.method} {attack.path}`, the attack's very request, answered "
                         f"{own.status_code}: no verdict possible")
    if ctx.succeeded(own):
        said = f"`{op.label}` {how} answered {response.status_code}; {target.key}'s own identical request answered " \
               f"{own.status_code}"
        _add_note(ctx, said)
        return
    refusal = ctx.refused_in_body(own)
    pytest.skip(
        f"no verdict: `{op.method} {attack.path}` {how} answered {response.status_code}, and {target.key}'s own "
        f"identical request answered {own.status_code}" + (f" (refused in the body: {refusal})" if refusal else "")
        + ": the refusal may be the request's, not the credential's; an attack counts only where the owner's own "
        "answer to the same request succeeds"
    )


def _accepted(
    ctx: CheckContext,
    response: httpx.Response,
    op: Operation,
    baseline: httpx.Response,
    attack: Request,
    owner: TestUser,
    how: str,
    *,
    sent_credential: bool = True,
) -> str | None:
    """What the answer proves when the attack was accepted, or None when it was refused. A 2xx is an acceptance,
    unless its body says "refused" (JSend `status: fail`, ...) and carries none of the owner's data (its canary,
    or distinctive values of the owner's own answer); then the item's note says so."""
    concrete_path = attack.path
    if response.status_code >= 500:
        raise CheckError(f"`{op.method} {concrete_path}` {how} answered {response.status_code}: no verdict possible")
    if not response.is_success:
        return None
    refusal = ctx.refused_in_body(response)
    status = f"`{response.status_code} {response.reason_phrase}`"
    if refusal is None:
        rejection = _answered_like_a_rejection(ctx, op, attack, response, baseline, owner, sent_credential)
        if rejection is not None:
            _add_note(ctx, f"answered {status} {how}, but {rejection}")
            return None
        return (f"Expected 401, got {status} for `{op.label}` {how} "
                f"(the owner's valid request answered {baseline.status_code})")
    leak = compare.owner_data_in(
        f"{_headers_text(response)}\n\n{response.text}",
        canaries=[owner.canary],
        owner_body=baseline.text,
        owner_content_type=baseline.headers.get("content-type", ""),
        asked=f"{attack.path} {attack.params} {attack.json}",
    )
    if leak is not None:
        return f"Got {status} for `{op.label}` {how}; the body says it refused ({refusal}), but it carries {leak}"
    _add_note(ctx, f"answered {status} {how}, but its body says the request was refused: {refusal}")
    return None


def _answered_like_a_rejection(ctx: CheckContext, op: Operation, attack: Request, response: httpx.Response,
                               baseline: httpx.Response, owner: TestUser, sent_credential: bool) -> str | None:
    """Why a 2xx that does not say "refused" is a refusal all the same, or None: it carries nothing of the owner's
    (no canary, not the owner's own answer) and is the very answer to the same request with a credential that is
    certainly refused (a malformed token; none, where the attack sent a malformed one), which itself differs from
    the owner's answer. Backends that answer every failure with 200 and a body of their own are judged by this."""
    literals = path_values(op.path, attack.path)
    shown = compare.normalise(response_shape(response), mask_literals=literals)
    if shown.body == compare.normalise(response_shape(baseline), mask_literals=literals).body or compare.owner_data_in(
        f"{_headers_text(response)}\n\n{response.text}", canaries=[owner.canary], owner_body=baseline.text,
        owner_content_type=baseline.headers.get("content-type", ""),
        asked=f"{attack.path} {attack.params} {attack.json}",
    ):
        return None
    garbage = not sent_credential  # the attack sent no credential: the reference sends a malformed one
    reference_how = "with a malformed token" if garbage else "without any credentials"
    reference = ctx.send(attack, bearer=tokens.garbage_token() if garbage else None, role="reference",
                         actor="anonymous")
    seen = compare.normalise(response_shape(reference), mask_literals=literals)
    if reference.status_code != response.status_code or seen.body != shown.body:
        return None
    if seen.body == compare.normalise(response_shape(baseline), mask_literals=literals).body:
        return None  # the reference got the owner's answer too: it proves nothing
    return (f"it is the very answer to the same request {reference_how}, which differs from the owner's answer: "
            "judged as a refusal")


def _headers_text(response: httpx.Response) -> str:
    return "\n".join(f"{name}: {value}" for name, value in response.headers.items())


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


def _forge(variant: str, ctx: CheckContext, owner: TestUser | None = None) -> str:
    """A token of `variant` for `owner` (the account the attack is aimed at; default the first test user)."""
    owner = owner or ctx.users[0]
    if variant == "garbage":
        return tokens.garbage_token()
    if variant in NEEDS_KEYCLOAK and not ctx.harness.env.keycloak_url:
        source = ctx.harness.identity.provider
        reason = f"no Keycloak in this run (identity source {source!r}): {NEEDS_KEYCLOAK[variant]}"
        if variant == "wrong_audience":
            # a backend that issues its own credentials has no audience of a shared identity provider to confuse
            not_applicable(reason)
        pytest.skip(reason)
    identity = ctx.harness.identity
    if variant == "expired":
        return _forge_expired(ctx, owner).token
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
        not_applicable(NOT_A_JWS)
    try:
        tokens.decode_unverified(credential)
    except ValueError:
        not_applicable(NOT_A_JWT)
    return credential


_now = time.time  # module attributes, so that unit tests can run the expired variant on a clock of their own
_sleep = time.sleep


@dataclass(frozen=True)
class StaleToken:
    """A genuine token and the local time at which it expired."""

    token: str
    expires_at: float

    def age(self, now: float) -> float:
        """Seconds past exp at `now` (a lower bound: see forged_tokens.local_expiry)."""
        return now - self.expires_at


_expired_lock = threading.Lock()
_expired: dict[tuple[str, str], StaleToken] = {}  # (username, client id) -> token: one per account, client, process


def _issued_past_exp(ctx: CheckContext, owner: TestUser, age_s: int) -> StaleToken | None:
    """A genuine token of `owner` that the identity source issued already `age_s` seconds past its exp (one per
    account, age and process), or None where it cannot (the caller waits instead; the item's note says why)."""
    harness = ctx.harness
    if not harness.identity.can(PAST_EXP):
        return None
    try:
        stale = _stale_token(harness, owner, harness.source.client_past_exp(age_s))
    except (DigasecError, ValueError) as exc:
        _add_note(ctx, f"no token issued {age_s} s past its exp could be had ({exc}), so the later try waited")
        return None
    _add_note(ctx, f"the try {age_s} s past exp used a token issued that far past its exp already (a client of the "
                   "harness's own with a negative access-token lifespan), not a wait")
    return stale


def _forge_expired(ctx: CheckContext, owner: TestUser) -> StaleToken:
    """A genuine expired token of `owner`, or a skip that says why the run cannot have one."""
    if not ctx.harness.env.keycloak_url:
        pytest.skip(f"no Keycloak in this run (identity source {ctx.harness.identity.provider!r}): "
                    f"{NEEDS_KEYCLOAK['expired']}")
    identity = ctx.harness.identity
    if not identity.can(SHORT_LIVED):
        pytest.skip(f"the identity source {identity.provider!r} cannot mint a genuine expired token: that needs "
                    "Keycloak admin rights (identity.provider keycloak_admin) for a short-lived harness client")
    return _expired_token(ctx, owner)


def _expired_token(ctx: CheckContext, owner: TestUser) -> StaleToken:
    """A genuine token from the harness's short-lived client (one per account and process), returned once it is
    past exp plus the profile's leeway (checks.expired_token_leeway_s)."""
    try:
        stale = _stale_token(ctx.harness, owner)
    except ValueError as exc:
        pytest.skip(f"the short-lived client's token cannot be used as an expired token: {exc}")
    wait = stale.expires_at + ctx.harness.profile.checks.expired_token_leeway_s - _now()
    if wait > 0:
        _sleep(wait)
    return stale


def _stale_token(harness: Harness, owner: TestUser, client_id: str = "") -> StaleToken:
    """`owner`'s token from a client of the harness's own (default: the short-lived one), fetched once per process,
    with the local time at which it expired (ValueError: it is not a usable JWT)."""
    client_id = client_id or harness.identity.clients.short_lived
    with _expired_lock:
        key = (owner.username, client_id)
        if key not in _expired:
            token, _ = harness.tokens.fetch(owner, client_id)
            fetched_at = _now()
            harness.redactor.add_secret(token, "expired-token")
            _header, claims = tokens.decode_unverified(token)
            _expired[key] = StaleToken(token, tokens.local_expiry(claims, fetched_at))
        return _expired[key]


def prefetch_expired_tokens(harness: Harness) -> None:
    """Fetch the test users' short-lived tokens when the run starts, so that their expiry and the clock-skew retries
    (60 s past exp on a backend that accepts them) run out while the other checks work; the `expired` items run last.
    A failure here is left to the items, which fetch again and say what went wrong."""
    if not harness.env.keycloak_url or not harness.identity.can(SHORT_LIVED):
        return
    role_users = [user for users in harness.identity.role_users.values() for user in users]
    for user in [*harness.identity.users, *role_users]:
        try:
            _stale_token(harness, user)
        except (DigasecError, ValueError):
            return
