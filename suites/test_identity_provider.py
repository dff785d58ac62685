"""The identity provider, configured and behaving as a DiGA needs it (issue 18).

Where the run has a Keycloak, each `idp_*` check has a `configuration` item: the realm, its clients, the browser
flow and the required actions read through the admin API (GET only) and judged against the profile's `idp` limits
(fixtures/analysis/realm_audit.py). Without admin rights these items skip. `idp_brute_force` and
`idp_token_lifetime` also have a `behaviour` item, judged by what Keycloak does:

- token lifetime: a test user's real access token, `exp - iat`;
- brute force: an account of the check's own gets the correct password once, then `failureFactor + 1` wrong ones
  (the realm's, or the profile's `idp.max_login_failures`), then the correct one again, which must now be refused,
  with the same answer as a wrong password (a lock the attacker can see tells him the password was right once he
  guesses it). With admin rights the lock is cleared and the correct password proved to work again; the account is
  deleted at the end. Without a source that makes accounts of the check's own it skips (a test user is never locked).

Each item's result record carries its judged settings (`settings`: value found, limit, requirement, mode), from
which the report builds its "Identity provider" table. Without a Keycloak in the profile, `idp_established` is one
item: the tokens are the backend's own, and DiGAV's established, central authentication component is not visible
from outside; its note names the issuer and algorithm seen (a pass unless the profile's `idp.require_established`).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

import pytest

from fixtures.analysis import realm_audit as ra
from fixtures.analysis.forged_tokens import decode_unverified
from fixtures.api import account_flows as af
from fixtures.api.catalogue import Operation
from fixtures.engine.checks import CheckError, CheckItem, DoesNotApply, Failure, Severity, check
from fixtures.engine.http import Exchange
from fixtures.errors import DigasecError
from fixtures.identity.base import REGISTER, strong_password

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from fixtures.engine.context import CheckContext
    from fixtures.engine.harness import Harness
    from fixtures.identity import TestUser

REALM_READ = "GET /admin/realms/{realm}"
TOKEN_ENDPOINT = "/realms/{realm}/protocol/openid-connect/token"
AUTH_ENDPOINT = "/realms/{realm}/protocol/openid-connect/auth"
# the checks that read the realm's configuration, with the part of it each judges
CONFIGURATION_CHECKS = ("idp_password_policy", "idp_brute_force", "idp_mfa", "idp_token_lifetime",
                        "idp_audit_events", "idp_client_hardening")
BEHAVIOUR_CHECKS = ("idp_brute_force", "idp_token_lifetime")  # their behaviour item is at the token endpoint
_audit_cache: dict[int, dict[str, Any]] = {}
POLICY_TITLE = "The realm's password policy is weaker than a DiGA needs"
LOCK_TITLE = "The realm does not stop password guessing"
MFA_TITLE = "The realm does not require a second factor where a DiGA needs one"
LIFETIME_TITLE = "Tokens or sessions live longer than a DiGA allows"
EVENTS_TITLE = "The realm does not record the events a DiGA must keep"
CLIENT_TITLE = "A client of the realm allows a weak OAuth flow"
ESTABLISHED_TITLE = "Tokens are issued by the backend itself, not by an established identity provider"


def _synthetic(method: str, path: str, why: str) -> Operation:
    return Operation(method=method, path=path, operation_id=None, tags=(), needs_auth=False, auth_reason=why,
                     parameters=(), body_schema=None, body_media_type=None)


def idp_items(check_id: str) -> Callable[[Harness], list[CheckItem] | DoesNotApply]:
    """The items of one idp check: `configuration` (the admin API's realm) and, for the checks that have one,
    `behaviour` (Keycloak's token endpoint). Without a Keycloak in the run the check does not apply."""

    def items(harness: Harness) -> list[CheckItem] | DoesNotApply:
        if not harness.env.keycloak_url:
            return DoesNotApply("the run has no Keycloak (no keycloak section in the profile): there is no realm to "
                                "audit; idp_established says who issued the tokens")
        admin = harness.identity.can("admin")
        reason = None if admin else (f"the realm's configuration needs Keycloak admin rights (identity provider "
                                     f"{harness.source.name} has none)")
        made = [CheckItem(_synthetic("GET", "/admin/realms/{realm}", "Keycloak's admin API"), ra.CONFIGURATION,
                          reason)]
        if check_id == "idp_password_policy":
            made += _registration_items(harness) + _password_change_items(harness)
        if check_id in BEHAVIOUR_CHECKS:
            reason = None
            if check_id == "idp_brute_force" and not harness.profile.idp.behaviour:
                reason = DoesNotApply("idp.behaviour is false: the lockout is judged by configuration only")
            made.append(CheckItem(_synthetic("POST", TOKEN_ENDPOINT, "Keycloak's own endpoint"), ra.BEHAVIOUR,
                                  reason))
        if check_id == "idp_client_hardening":
            made.append(CheckItem(_synthetic("GET", AUTH_ENDPOINT, "Keycloak's own endpoint"), ra.BEHAVIOUR,
                                  _no_client_to_probe(harness)))
        return made

    return items


def _registration_items(harness: Harness) -> list[CheckItem]:
    """One `behaviour` item per open registration (the backend's or Keycloak's form): a weak password must be
    refused. Blocked as the account-existence checks' registrations are (the accounts must be removable)."""
    from suites.test_account_existence import flows_of, support_of

    if not harness.profile.idp.behaviour:
        return []
    support = support_of(harness)
    return [CheckItem(flow.operation, ra.BEHAVIOUR, af.flow_blocker(flow, support))
            for flow in flows_of(harness).values() if flow.kind == "registration"]


def _password_change_items(harness: Harness) -> list[CheckItem]:
    """One `behaviour` item per password change the backend offers (account_flows): a weak password must be
    refused. It changes the password of an account of the check's own, never a test user's."""
    if not harness.profile.idp.behaviour:
        return []
    own = None if harness.source.can(REGISTER) else (
        f"the identity source {harness.source.name} cannot make accounts of the check's own, and a test user's "
        "password is never changed")
    return [CheckItem(flow.operation, ra.BEHAVIOUR, flow.problem or own) for flow in _password_changes(harness)]


def _password_changes(harness: Harness) -> list[af.AccountFlow]:
    return af.password_changes(harness.catalogue.operations, harness.profile.account_flows)


def _audit_input(ctx: CheckContext) -> dict[str, Any]:
    """The realm, clients, browser flow and required actions (read once per process)."""
    key = id(ctx.harness)
    if key not in _audit_cache:
        _audit_cache[key] = ctx.idp.audit_input()
    return _audit_cache[key]


def _configured(ctx: CheckContext) -> tuple[dict[str, Any], ra.Limits]:
    if not ctx.keycloak_admin:
        pytest.skip("the realm's configuration needs Keycloak admin rights")
    return _audit_input(ctx), ctx.harness.profile.idp


def _verdict(ctx: CheckContext, settings: list[ra.Setting], title: str, severity: Severity, *,
             read: str = "") -> None:
    """Record the settings for the report; a Failure naming every setting that is not ok. `read` names what was
    read (default: the realm through the admin API); the evidence is that read with the judged values only (the
    realm's representation itself holds client secrets)."""
    ctx.settings = [setting.to_dict() for setting in settings]
    bad = ra.failing(settings)
    mode = settings[0].mode if settings else ra.CONFIGURATION
    ctx.note = f"judged by {mode}: {len(settings)} settings"
    env = ctx.harness.env
    request = read or (f"GET {env.keycloak_url}/admin/realms/{env.realm} (with its clients, browser flow and "
                       "required actions) HTTP/1.1")
    values = json.dumps({setting.name: setting.value for setting in settings}, indent=2)
    ctx.exchanges.append(Exchange(request, f"HTTP/1.1 200 OK (the judged values)\n\n{values}", 200, role="proof",
                                  actor="keycloak admin" if not read else ""))
    if bad:
        raise Failure(title, "; ".join(setting.describe() for setting in bad), severity=severity)


# -- configuration checks ------------------------------------------------------------------------------------------
@check("idp_password_policy", title=POLICY_TITLE,
       severity=Severity.MEDIUM, items=idp_items("idp_password_policy"))
def test_idp_password_policy(operation: Operation, variant: str, ctx: CheckContext) -> None:
    if variant == ra.BEHAVIOUR and any(flow.label == operation.label for flow in _password_changes(ctx.harness)):
        _password_change_behaviour(ctx, operation)
        return
    if variant == ra.BEHAVIOUR:
        _weak_password_behaviour(ctx, operation)
        return
    audit, limits = _configured(ctx)
    _verdict(ctx, ra.audit_password_policy(audit["realm"], limits),
             POLICY_TITLE, Severity.MEDIUM)


@check("idp_brute_force", title=LOCK_TITLE, severity=Severity.HIGH,
       items=idp_items("idp_brute_force"))
def test_idp_brute_force(operation: Operation, variant: str, ctx: CheckContext) -> None:
    if variant == ra.BEHAVIOUR:
        _lockout_behaviour(ctx)
        return
    audit, limits = _configured(ctx)
    _verdict(ctx, ra.audit_brute_force(audit["realm"], limits), LOCK_TITLE,
             Severity.HIGH)


@check("idp_mfa", title=MFA_TITLE,
       severity=Severity.MEDIUM, items=idp_items("idp_mfa"))
def test_idp_mfa(operation: Operation, variant: str, ctx: CheckContext) -> None:
    audit, limits = _configured(ctx)
    factor = ra.second_factor(audit["executions"], audit["required_actions"])
    _verdict(ctx, ra.audit_mfa(factor, limits), MFA_TITLE,
             Severity.MEDIUM)


@check("idp_token_lifetime", title=LIFETIME_TITLE, severity=Severity.MEDIUM,
       items=idp_items("idp_token_lifetime"))
def test_idp_token_lifetime(operation: Operation, variant: str, ctx: CheckContext) -> None:
    limits: ra.Limits = ctx.harness.profile.idp
    if variant == ra.BEHAVIOUR:
        user = ctx.users[0]
        try:
            _header, claims = decode_unverified(ctx.token(user))
        except ValueError as exc:
            pytest.skip(f"{user.key}'s token is not a readable JWT ({exc}): its lifetime cannot be seen")
        seen = ra.token_lifetime_seen(claims, limits, f"{user.key}'s access token")
        if seen is None:
            pytest.skip(f"{user.key}'s access token has no exp or iat claim")
        ctx.proof_steps.append(f"login as {user.key}")
        read = f"GET token of {user.key}: iat={claims['iat']}, exp={claims['exp']}"
        _verdict(ctx, [seen], LIFETIME_TITLE, Severity.MEDIUM, read=read)
        return
    audit, limits = _configured(ctx)
    settings = ra.audit_token_lifetime(audit["realm"], audit["clients"], limits, ctx.harness.identity.run_tag)
    _verdict(ctx, settings, LIFETIME_TITLE, Severity.MEDIUM)


@check("idp_audit_events", title=EVENTS_TITLE, severity=Severity.MEDIUM,
       items=idp_items("idp_audit_events"))
def test_idp_audit_events(operation: Operation, variant: str, ctx: CheckContext) -> None:
    audit, limits = _configured(ctx)
    _verdict(ctx, ra.audit_events(audit["realm"], limits), EVENTS_TITLE,
             Severity.MEDIUM)


@check("idp_client_hardening", title=CLIENT_TITLE, severity=Severity.MEDIUM,
       items=idp_items("idp_client_hardening"))
def test_idp_client_hardening(operation: Operation, variant: str, ctx: CheckContext) -> None:
    if variant == ra.BEHAVIOUR:
        _client_flows_behaviour(ctx)
        return
    audit, _limits = _configured(ctx)
    settings = ra.audit_clients(audit["realm"], audit["clients"], ctx.harness.profile.environment,
                                ctx.harness.identity.run_tag)
    _verdict(ctx, settings, CLIENT_TITLE, Severity.MEDIUM)


# -- PKCE and the implicit flow, by behaviour ---------------------------------------------------------------------
def _client_hints(harness: Harness) -> list[tuple[str, str | None, str]]:
    """Clients the profile names for the authorization probes: (client id, redirect URI, where it is named). The
    client keycloak_accounts logs in with counts (it is the realm's, not the harness's own)."""
    identity = harness.profile.identity
    hints = [(hint.client_id, hint.redirect_uri, "idp.public_clients") for hint in harness.profile.idp.public_clients]
    if identity.provider == "keycloak_accounts" and identity.client_id:
        hints.append((identity.client_id, identity.redirect_uri, "identity.client_id"))
    return hints


def _no_client_to_probe(harness: Harness) -> str | None:
    if harness.identity.can("admin") or _client_hints(harness):
        return None
    return (f"no client to try at the authorization endpoint: the identity source {harness.source.name} has no "
            "Keycloak admin rights to read the realm's clients, and the profile names none (idp.public_clients)")


def _authorization_targets(ctx: CheckContext) -> list[ra.AuthorizationTarget]:
    """The realm's clients (admin rights) and the profile's, by client id; never the harness's own."""
    run_tag = ctx.harness.identity.run_tag
    keycloak_url = ctx.harness.env.keycloak_url
    clients = _audit_input(ctx)["clients"] if ctx.keycloak_admin else []
    found = {target.client_id: target for target in ra.authorization_targets(
        clients, run_tag, lambda client: af.redirect_uri_for(client, keycloak_url))}
    for client_id, uri, source in _client_hints(ctx.harness):
        if run_tag and client_id.startswith(run_tag):
            continue
        known = found.get(client_id)
        uri = uri or (known.redirect_uri if known else None)
        found[client_id] = ra.AuthorizationTarget(client_id, uri, known.public if known else True,
                                                  "" if uri else f"no redirect URI (name one in {source})")
    return list(found.values())


def _client_flows_behaviour(ctx: CheckContext) -> None:
    """Per client, GET requests to Keycloak's authorization endpoint (answers read, redirects never followed): a
    code request with S256 (the baseline), one without code_challenge and one with `plain` (public clients), and an
    implicit one (response_type=token). Accepted (the login page, or a code or token) where it must be refused is a
    finding."""
    targets = _authorization_targets(ctx)
    probed = [target for target in targets if target.redirect_uri]
    unprobed = "; ".join(f"client {target.client_id} not tried: {target.why}" for target in targets
                         if not target.redirect_uri)
    if not probed:
        why = unprobed or "the realm has no client a browser logs in with"
        pytest.skip(f"no client to try at the authorization endpoint ({why})")
    settings: list[ra.Setting] = []
    for target in probed:
        keys = (ra.S256, ra.NO_CHALLENGE, ra.PLAIN, ra.IMPLICIT) if target.public else (ra.S256, ra.IMPLICIT)
        answers = {key: _authorize(ctx, target, key) for key in keys}
        settings += ra.authorization_settings(target.client_id, answers)
    if not settings:
        pytest.skip(f"Keycloak's answers say nothing about the clients' flows ({_answers_seen(ctx)})")
    ctx.settings = [setting.to_dict() for setting in settings]
    clients = ", ".join(target.client_id for target in probed)
    ctx.note = "; ".join(part for part in (f"judged by behaviour: {len(settings)} settings of {clients}", unprobed)
                         if part)
    bad = ra.failing(settings)
    if bad:
        raise Failure(CLIENT_TITLE, "; ".join(setting.describe() for setting in bad), severity=Severity.MEDIUM)


def _authorize(ctx: CheckContext, target: ra.AuthorizationTarget, key: str) -> ra.AuthorizationAnswer:
    """One authorization request, anonymous and without cookies; its answer read, never followed."""
    assert target.redirect_uri is not None
    verifier, challenge = af.pkce_pair()
    params = {"client_id": target.client_id, "redirect_uri": target.redirect_uri, "scope": "openid",
              "state": secrets.token_urlsafe(8), "response_type": "token" if key == ra.IMPLICIT else "code"}
    if key == ra.IMPLICIT:
        params["nonce"] = secrets.token_urlsafe(8)  # OpenID Connect's implicit flow needs one
    elif key == ra.S256:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    elif key == ra.PLAIN:
        params |= {"code_challenge": verifier, "code_challenge_method": "plain"}
    env = ctx.harness.env
    response, exchange, _elapsed = ctx.send_url("GET", f"{env.keycloak_url}{AUTH_ENDPOINT.format(realm=env.realm)}",
                                                params=params, record=False)
    ctx.exchanges.append(exchange.labelled(role="baseline" if key == ra.S256 else "attack", actor="anonymous"))
    return ra.read_authorization_answer(response.status_code, response.headers.get("location", ""), response.text,
                                        target.redirect_uri)


def _answers_seen(ctx: CheckContext) -> str:
    return ", ".join(dict.fromkeys(exchange.response.split("\n", 1)[0] for exchange in ctx.exchanges))


# -- a weak password, by behaviour ---------------------------------------------------------------------------------
WEAK_TITLE = "An open registration accepts a weak password"


def weak_password(limits: ra.Limits) -> str:
    """Lower-case letters and digits, one character shorter than the policy's minimum length (at least 6)."""
    return ("digasec1" * 16)[:max(6, limits.password_min_length - 1)]


def _weak_password_behaviour(ctx: CheckContext, operation: Operation) -> None:
    """Register a fresh account with a strong password (the baseline), then one with a weak password; the weak one
    is accepted when the answer says success and its account then logs in with it. Both are deleted again."""
    from suites.test_account_existence import _probe, flows_of

    flow = flows_of(ctx.harness)[operation.label]
    weak = weak_password(ctx.harness.profile.idp)
    ctx.harness.redactor.add_secret(weak, "password:weak")
    with _probe(ctx, flow) as probe:
        probe.baseline()
        probe.accounts.new_password = weak
        answer = probe.send(af.UNKNOWN).response
        account = probe.accounts.registered[-1]
        refused = answer.status_code >= 400 or af.says_failure(answer.text)
        logged_in = not refused and _logs_in(ctx, account, weak)
    if not refused and not ctx.harness.identity.clients.main:
        pytest.skip(f"`{operation.label}` answered the weak password as accepted (HTTP {answer.status_code}); the "
                    f"identity source {ctx.source_name} has no Keycloak client to log the account in with, so whether "
                    "Keycloak took it cannot be seen")
    seen = "refused" if refused else ("accepted: the account logs in with it" if logged_in else
                                      "answered as accepted, but the account does not log in with it")
    ctx.settings = [ra.Setting("idp_password_policy", f"registration with a {len(weak)}-character password",
                               seen, "refused", "TR-03161 O.Pass_1", not logged_in, ra.BEHAVIOUR).to_dict()]
    ctx.note = f"judged by behaviour: `{operation.label}` with a {len(weak)}-character password: {seen}; {ctx.note}"
    if logged_in:
        raise Failure(WEAK_TITLE, f"`{operation.label}` registered an account with a {len(weak)}-character password "
                                  f"of lower-case letters and digits (HTTP {answer.status_code}), and it logs in with "
                                  "it", severity=Severity.MEDIUM)


CHANGE_TITLE = "A password change accepts a weak password"


def _password_change_behaviour(ctx: CheckContext, operation: Operation) -> None:
    """An account of the check's own changes its password to a strong one (the baseline, proved by a login with it),
    then to a weak one; the weak one is accepted when the answer says success and the account then logs in with it.
    The account is deleted afterwards."""
    flow = next(flow for flow in _password_changes(ctx.harness) if flow.label == operation.label)
    weak = weak_password(ctx.harness.profile.idp)
    strong = strong_password()
    for secret, label in ((weak, "password:weak"), (strong, "password:strong")):
        ctx.harness.redactor.add_secret(secret, label)
    try:
        account = ctx.create_account(f"pw{secrets.token_hex(3)}")
    except DigasecError as exc:
        raise CheckError(f"an account of the check's own could not be made: {exc}") from None
    current = account.password
    try:
        answer = _change_password(ctx, operation, flow, account, (current, strong), ctx.token(account), "baseline")
        token = ctx.fresh_login(dataclasses.replace(account, password=strong))
        if not ctx.succeeded(answer):
            pytest.skip(f"baseline failed: `{operation.label}` did not change the password of the check's own account "
                        f"to a strong one (HTTP {answer.status_code}); a refusal of a weak one would prove nothing")
        if token is None:
            pytest.skip(f"baseline failed: `{operation.label}` answered HTTP {answer.status_code} to a change of the "
                        "check's own account's password to a strong one, but the account does not log in with it; a "
                        "refusal of a weak one would prove nothing")
        current = strong
        answer = _change_password(ctx, operation, flow, account, (strong, weak), token, "attack")
        refused = answer.status_code >= 400 or bool(af.says_failure(answer.text))
        logged_in = not refused and ctx.fresh_login(dataclasses.replace(account, password=weak)) is not None
        current = weak if logged_in else current
    finally:
        ctx.remove_accounts([dataclasses.replace(account, password=current)])
    seen = "refused" if refused else ("accepted: the account logs in with it" if logged_in else
                                      "answered as accepted, but the account does not log in with it")
    ctx.settings = [ra.Setting("idp_password_policy", f"password change to a {len(weak)}-character password", seen,
                               "refused", "TR-03161 O.Pass_1", not logged_in, ra.BEHAVIOUR).to_dict()]
    ctx.note = (f"judged by behaviour: `{operation.label}` on an account of the check's own, to a "
                f"{len(weak)}-character password: {seen}; the account was deleted afterwards")
    if logged_in:
        raise Failure(CHANGE_TITLE, f"`{operation.label}` changed the password of an account to a "
                                    f"{len(weak)}-character password of lower-case letters and digits (HTTP "
                                    f"{answer.status_code}), and it logs in with it", severity=Severity.MEDIUM)


def _change_password(ctx: CheckContext, operation: Operation, flow: af.AccountFlow, account: TestUser,
                     passwords: tuple[str, str], token: str, role: str) -> httpx.Response:
    """`operation` as `account` with its current-password fields set to `passwords[0]` and its new ones to
    `passwords[1]` (the rest of the body as the harness generates it)."""
    request = ctx.request_for(operation, account)
    body = dict(request.json) if isinstance(request.json, dict) else {}
    for field in flow.fields:
        body[field.name] = passwords[0] if field.role == af.CURRENT_PASSWORD else passwords[1]
    return ctx.send(dataclasses.replace(request, json=body), bearer=token, op=operation, role=role,
                    actor=account.key)


def _logs_in(ctx: CheckContext, account: TestUser, password: str) -> bool:
    """Whether Keycloak gives the registered account a token for `password` (by e-mail, then by username)."""
    if not ctx.harness.identity.clients.main:
        return False
    return any(_login(ctx, account, password, "proof", name=name).is_success
               for name in dict.fromkeys((account.email, account.username)) if name)


# -- the lockout, by behaviour ---------------------------------------------------------------------------------------
LOCK_VISIBLE_TITLE = "A locked account answers differently from a wrong password"


def _lockout_behaviour(ctx: CheckContext) -> None:
    if not ctx.can(REGISTER) or not ctx.harness.identity.clients.main:
        pytest.skip(f"the identity source {ctx.source_name} cannot make accounts of the check's own; a test user is "
                    "never locked, so the lockout is judged by configuration only")
    wrong = ra.lockout_threshold(ctx.realm_settings(), ctx.harness.profile.idp) + 1
    try:
        user = ctx.create_account(f"bf{secrets.token_hex(3)}")
    except DigasecError as exc:
        raise CheckError(f"an account of the check's own could not be made: {exc}") from None
    started = time.monotonic()
    unlock = "the account was deleted afterwards"
    try:
        locked, wrong_answer = _locked(ctx, user, wrong)
        unlock = _unlocked(ctx, user)
    finally:
        ctx.remove_accounts([user])
        ctx.note = (f"judged by behaviour: {wrong} wrong passwords on an account of the check's own; {unlock}; the "
                    f"probe took {time.monotonic() - started:.1f} s")
    visible = _answer(locked) != _answer(wrong_answer)
    ctx.settings.append(ra.Setting("idp_brute_force", "answer to a locked account", "differs from a wrong password"
                                   if visible else "same as a wrong password", "same as a wrong password",
                                   "TR-03161 O.Auth_9; CWE-204", not visible, ra.BEHAVIOUR).to_dict())
    if visible:
        raise Failure(LOCK_VISIBLE_TITLE, f"the locked account's answer to its correct password ({_shown(locked)}) "
                                          f"differs from the answer to a wrong password ({_shown(wrong_answer)}): an "
                                          "attacker learns that he guessed right once the lock ends",
                      severity=Severity.MEDIUM)


def _locked(ctx: CheckContext, user: TestUser, wrong: int) -> tuple[httpx.Response, httpx.Response]:
    """`wrong` wrong passwords, then the correct one, which must be refused: its answer and the last wrong one's."""
    if not _login(ctx, user, user.password, "baseline").is_success:
        pytest.skip(f"baseline failed: the check's own account {user.key} could not log in with its password")
    answers = [_login(ctx, user, f"Wrong-{secrets.token_urlsafe(9)}", "attack") for _ in range(wrong)]
    locked = _login(ctx, user, user.password, "proof")
    ctx.settings = [ra.Setting("idp_brute_force", f"correct password after {wrong} wrong ones",
                               "accepted" if locked.is_success else "refused (locked)", "refused",
                               "TR-03161 O.Auth_9", not locked.is_success, ra.BEHAVIOUR).to_dict()]
    if locked.is_success:
        raise Failure(LOCK_TITLE, f"after {wrong} wrong passwords in a row the correct one still logs {user.key} in "
                                  f"(HTTP {locked.status_code}): nothing slows down password guessing",
                      severity=Severity.HIGH)
    return locked, answers[-1]


def _unlocked(ctx: CheckContext, user: TestUser) -> str:
    """Clear the lock (admin rights) and prove the correct password works again; what happened, for the note."""
    if not ctx.keycloak_admin:
        return "no admin rights to clear the lock: the account was deleted while locked"
    ctx.clear_lockout(user)
    if _login(ctx, user, user.password, "proof").is_success:
        return "the lock was cleared and the correct password works again"
    return "the lock was cleared, but the correct password was still refused"


def _login(ctx: CheckContext, user: TestUser, password: str, role: str, *, name: str = "") -> httpx.Response:
    env = ctx.harness.env
    form = {"grant_type": "password", "client_id": ctx.harness.identity.clients.main,
            "username": name or user.username, "password": password, "scope": "openid"}
    response, exchange, _elapsed = ctx.send_url("POST", f"{env.keycloak_url}/realms/{env.realm}/protocol/"
                                                "openid-connect/token", data=form, record=False)
    ctx.exchanges.append(exchange.labelled(role=role, actor=user.key))
    return response


def _answer(response: httpx.Response) -> tuple[int, str, str]:
    try:
        body = response.json()
    except ValueError:
        return response.status_code, response.text[:200], ""
    return response.status_code, str(body.get("error", "")), str(body.get("error_description", ""))


def _shown(response: httpx.Response) -> str:
    status, error, description = _answer(response)
    return f"HTTP {status} {error} {description}".strip()


# -- idp_established ---------------------------------------------------------------------------------------------------
def established_items(harness: Harness) -> list[CheckItem] | DoesNotApply:
    if harness.env.keycloak_url:
        return DoesNotApply("the run's tokens come from Keycloak, an established identity provider; the other idp "
                            "checks audit its realm")
    return [CheckItem(_synthetic("GET", "/", "the tokens the backend issues"), "token_issuer")]


@check("idp_established", title=ESTABLISHED_TITLE,
       severity=Severity.INFO, items=established_items)
def test_idp_established(operation: Operation, variant: str, ctx: CheckContext) -> None:
    user = ctx.users[0]
    observed = _issuer_seen(ctx.token(user))
    ctx.note = (f"{ctx.harness.source.token_issuer} issues the credentials ({observed}); DiGAV's requirement of a "
                "centralised, established authentication component cannot be seen from outside")
    ctx.settings = [ra.Setting("idp_established", "token issuer", observed, "an established identity provider",
                               "DiGAV Anl. 1 DS 13", not ctx.harness.profile.idp.require_established,
                               ra.BEHAVIOUR).to_dict()]
    if ctx.harness.profile.idp.require_established:
        raise Failure(ESTABLISHED_TITLE,
                      ctx.note, severity=Severity.MEDIUM)


def _issuer_seen(token: str) -> str:
    try:
        header, claims = decode_unverified(token)
    except ValueError:
        return "an opaque credential, not a JWT"
    return f"JWT, alg {header.get('alg', '?')}, iss {claims.get('iss', 'not set')}"
