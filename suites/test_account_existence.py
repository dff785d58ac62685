"""Account existence: do the account flows answer alike for existing and unknown accounts, by content
(`account_existence_leak`) and by time (`account_existence_timing`)?

Flows are the backend's login, registration, password-reset and availability operations (named in the profile
or discovered, fixtures/account_flows.py) and Keycloak's own token endpoint, login, forgot-password and
registration forms. There is one item per flow; its variant is the kind of flow and the record's `note` says why
the operation counts as one.

Do no harm: each item creates its own accounts (an existing one, for login flows a pool of four, and a disabled
one) and deletes them afterwards, so wrong passwords never lock a user another check needs. Keycloak's brute-force
protection must not lock them either, because a locked account skips the password check and answers faster than
an unknown one: login samples rotate over the pool, never fail the same account twice within the realm's
quickLoginCheckMilliSeconds, and each wrong password is followed by a correct login (not timed) that makes Keycloak
forget it. Resetting the lockout through the admin API instead would make Keycloak reload the account, which itself
shifts the next sample's time by tens of milliseconds (measured: it hid the disabled-account difference of
Keycloak's login form). Registering an unknown account creates one: its e-mail address carries the run tag and it
is deleted right after the item (the run's clean-up by tag catches anything left). A rate limit (429), a lockout or
answers that change mid-way end the item as a skip that says so, never as a guess.
"""

from __future__ import annotations

import itertools
import os
import secrets
import time
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from fixtures import account_flows as af
from fixtures.accounts import ADMIN
from fixtures.checks import CheckError, CheckItem, Failure, Severity, check
from fixtures.compare import ResponseShape
from fixtures.datagen import ValueGenerator
from fixtures.errors import DigasecError
from fixtures.seeder import fill_path
from fixtures.timing import MachineLoad, interleave, load_average

if TYPE_CHECKING:
    import httpx

    from fixtures.catalogue import Operation
    from fixtures.context import CheckContext
    from fixtures.harness import Harness
    from fixtures.http import Exchange
    from fixtures.identity import TestUser

LEAK_TITLE = "Account flow reveals whether an account exists"
TIMING_TITLE = "Account flow's response time reveals whether an account exists"
CASES = (af.EXISTING, af.DISABLED, af.UNKNOWN)
POOL = 4  # existing accounts that login samples rotate over (see Probe._next_turn)
LOGIN_RETRY_PAUSES_S = (0.25, 0.5, 1.0)  # a correct login refused right after a failure is repeated (Probe)
COMPARED = (af.EXISTING, af.DISABLED)
FILLER = "Digasec"
TOO_MANY_REQUESTS = 429
INVALID_REQUEST = frozenset({400, 422})
NEEDS_CREDENTIALS = frozenset({401, 403})


# -- items ------------------------------------------------------------------------------------------------------
_flow_cache: dict[int, dict[str, af.AccountFlow]] = {}


def flows_of(harness: Harness) -> dict[str, af.AccountFlow]:
    """The run's account flows by operation label (discovery is deterministic, so every xdist worker agrees)."""
    key = id(harness)
    if key not in _flow_cache:
        settings = harness.profile.account_flows
        flows = af.discover_flows(harness.catalogue.operations, settings)
        if settings.keycloak:
            flows += af.keycloak_flows()
        _flow_cache[key] = {flow.label: flow for flow in flows}
    return _flow_cache[key]


def flow_items(harness: Harness) -> list[CheckItem]:
    blocked = _cannot_run(harness)
    return [CheckItem(flow.operation, flow.kind, flow.problem or blocked) for flow in flows_of(harness).values()]


def _cannot_run(harness: Harness) -> str | None:
    """Why no account flow can be tested in this run (the checks create accounts of their own), or None."""
    if harness.profile.read_only:
        return ("read_only: true in the profile: the account-existence checks create (and delete) accounts of their "
                "own, and registrations create accounts, so they do not run")
    identity = harness.identity
    if not identity.can(ADMIN):
        return (f"the identity source `{identity.provider}` has no Keycloak admin rights: the account-existence "
                "checks need accounts of their own (an existing and a disabled one, created and deleted through "
                "the admin API) so that wrong passwords never lock a user other checks need; use "
                "identity.provider keycloak_admin")
    return None


# -- the checks -------------------------------------------------------------------------------------------------
@check("account_existence_leak", title=LEAK_TITLE, severity=Severity.MEDIUM, items=flow_items)
def test_account_existence_leak(operation: Operation, variant: str, ctx: CheckContext) -> None:
    flow = _flow(ctx, operation)
    rounds = ctx.harness.profile.account_flows.samples
    with _probe(ctx, flow) as probe:
        probe.baseline()
        observed: dict[str, list[Sample]] = {case: [] for case in CASES}
        for count, case in enumerate([case for _ in range(rounds) for case in CASES], start=1):
            observed[case].append(_checked(probe.send(case), flow, count))
        probe.no_lockout()
    ctx.exchanges = [observed[case][-1].exchange for case in (af.EXISTING, af.UNKNOWN, af.DISABLED)]
    _no_distortion(flow, observed)
    _not_refused_throughout(flow, {s.response.status_code for samples in observed.values() for s in samples},
                            observed[af.UNKNOWN][0].response)
    reference = [sample.observation for sample in observed[af.UNKNOWN]]
    unknown_label = af.case_label(flow.kind, af.UNKNOWN)
    findings: dict[str, list[str]] = {}
    for case in COMPARED:
        differences = af.case_differences([sample.observation for sample in observed[case]], reference)
        if differences:
            findings[case] = differences
    if findings:
        parts = [f"{af.case_label(flow.kind, case)} vs {unknown_label}: {'; '.join(lines)}"
                 + _answers(observed[case][0].response, observed[af.UNKNOWN][0].response)
                 for case, lines in findings.items()]
        raise Failure(
            LEAK_TITLE,
            f"`{flow.label}` ({af.KIND_NAMES[flow.kind]}) tells accounts apart: " + " | ".join(parts)
            + _advice(ctx, flow, findings),
            severity=Severity.MEDIUM if af.EXISTING in findings else Severity.LOW,
        )
    status = observed[af.UNKNOWN][0].response.status_code
    ctx.note += (f"; existing, disabled and unknown accounts got the same answer (status {status}, "
                 f"{rounds} samples each)")


@check("account_existence_timing", title=TIMING_TITLE, severity=Severity.MEDIUM, items=flow_items)
def test_account_existence_timing(operation: Operation, variant: str, ctx: CheckContext) -> None:
    flow = _flow(ctx, operation)
    settings = ctx.harness.profile.account_flows.timing
    started, load_before = time.monotonic(), load_average()
    warm_up = [case for _ in range(settings.warmup) for case in CASES]
    measured = interleave(settings.samples, CASES, seed=zlib.crc32(flow.label.encode()))
    durations: dict[str, list[float]] = {case: [] for case in CASES}
    statuses: dict[str, list[int]] = {case: [] for case in CASES}
    shown: dict[str, Sample] = {}
    with _probe(ctx, flow) as probe:
        probe.baseline()
        for count, case in enumerate([*warm_up, *measured], start=1):
            sample = _checked(probe.send(case, record=False), flow, count)
            if count > len(warm_up):
                durations[case].append(sample.elapsed)
                statuses[case].append(sample.response.status_code)
                shown[case] = sample
        probe.no_lockout()
    load = MachineLoad(load_before, load_average(), os.cpu_count() or 1)
    ctx.exchanges = [shown[case].exchange for case in (af.EXISTING, af.UNKNOWN, af.DISABLED)]
    _not_refused_throughout(flow, {status for seen in statuses.values() for status in seen},
                            shown[af.UNKNOWN].response)
    for case, seen in statuses.items():
        if len(set(seen)) > 1:
            pytest.skip(
                f"`{flow.label}` answered the same request for the {af.case_label(flow.kind, case)} with "
                f"{_status_story(seen)} during the measurement: a lockout or rate limit changed the answers, "
                "which would distort the timing; no verdict"
            )
    labels = {case: af.case_label(flow.kind, case) for case in CASES}
    verdicts = af.timing_verdicts(durations, settings, labels=labels)
    summary = " | ".join(f"{labels[case]} vs {labels[af.UNKNOWN]}: {verdict.message}"
                         for case, verdict in verdicts.items())
    took = (f"{settings.samples} interleaved rounds of {len(CASES)} cases after {settings.warmup} warm-up rounds, "
            f"{time.monotonic() - started:.1f} s, {load.describe()}")
    leaks = [case for case, verdict in verdicts.items() if verdict.leak]
    if leaks:
        raise Failure(
            TIMING_TITLE,
            f"`{flow.label}` ({af.KIND_NAMES[flow.kind]}) takes measurably different time: {summary} ({took})"
            + _advice(ctx, flow, leaks) + load.caution(),
            severity=Severity.MEDIUM if af.EXISTING in leaks else Severity.LOW,
        )
    ctx.note += f"; {summary} ({took})"


# -- samples ----------------------------------------------------------------------------------------------------
@dataclass
class Sample:
    case: str
    response: httpx.Response
    exchange: Exchange
    elapsed: float
    literals: tuple[str, ...]

    @property
    def observation(self) -> af.Observation:
        headers: dict[str, str] = {}
        for name, value in self.response.headers.multi_items():
            headers[name] = f"{headers[name]}\n{value}" if name in headers else value
        return af.Observation(ResponseShape(self.response.status_code, headers, self.response.text), self.literals)


@dataclass
class Accounts:
    """The identities a check's cases use: its own existing accounts (one, or a pool that login samples rotate
    over), its own disabled account, and unknown ones."""

    existing: list[TestUser]
    disabled: TestUser
    run_tag: str
    kind: str
    wrong_password: str = field(default_factory=lambda: f"Wr0ng-{secrets.token_urlsafe(12)}")
    new_password: str = field(default_factory=lambda: f"N3w-{secrets.token_urlsafe(18)}!")
    unknown_key: str = field(default_factory=lambda: _new_key())
    registered: list[str] = field(default_factory=list)

    def account(self, case: str, *, fresh: bool = False, turn: int = 0) -> af.Account:
        """What a case sends. Registrations of an unknown account (`fresh`) each use a new, unused identity;
        `turn` picks the existing account of the pool."""
        password = self.new_password if self.kind == "registration" else self.wrong_password
        if case == af.UNKNOWN:
            username = f"{self.run_tag}-{_new_key() if fresh else self.unknown_key}"
            if fresh:
                self.registered.append(f"{username}@example.org")
            return af.Account(username, f"{username}@example.org", password)
        user = self.existing[turn % len(self.existing)] if case == af.EXISTING else self.disabled
        return af.Account(user.username, user.email, password)

    def correct(self, turn: int = 0) -> af.Account:
        user = self.existing[turn % len(self.existing)]
        return af.Account(user.username, user.email, user.password)


def _new_key() -> str:
    """`ae` and 8 hex digits: the check's own accounts and its unknown ones have names of the same length."""
    return f"ae{secrets.token_hex(4)}"


class Probe:
    """Sends the samples of one flow; each kind of flow knows how to build its request."""

    def __init__(self, ctx: CheckContext, flow: af.AccountFlow, accounts: Accounts) -> None:
        self.ctx = ctx
        self.flow = flow
        self.accounts = accounts
        realm = ctx.realm_settings()
        self.resets_failures = flow.kind == "login" and bool(realm.get("bruteForceProtected"))
        self.spacing_s = 1.25 * float(realm.get("quickLoginCheckMilliSeconds") or 1000) / 1000
        self.by_email = bool(realm.get("loginWithEmailAllowed"))
        self.turn = 0
        self.last_failure: dict[int, float] = {}
        self.lockouts = 0

    def baseline(self) -> None:
        """Skip unless the flow demonstrably works for the check's own account (or a fresh registration)."""

    def send(self, case: str, *, record: bool = True) -> Sample:
        turn = self._next_turn() if case == af.EXISTING and self.resets_failures else 0
        account = self.accounts.account(case, fresh=self.flow.kind == "registration", turn=turn)
        response, exchange, elapsed = self._send(account, record=record)
        if case == af.EXISTING and self.resets_failures:
            self.last_failure[turn] = time.monotonic()
            self._forget_failure(turn)
        return Sample(case, response, exchange, elapsed, account.literals())

    def _send(self, account: af.Account, *, record: bool) -> tuple[httpx.Response, Exchange, float]:
        raise NotImplementedError

    def _next_turn(self) -> int:
        """The next existing account of the pool, and a pause (not timed) should it have failed too recently:
        Keycloak locks an account at once when two failures come within quickLoginCheckMilliSeconds."""
        self.turn = (self.turn + 1) % len(self.accounts.existing)
        wait = self.last_failure.get(self.turn, -1e9) + self.spacing_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return self.turn

    def warm_up_accounts(self) -> None:
        """Log every existing account of the pool in once (not timed): proves them usable and puts them where
        a real, active account is (in Keycloak's caches), so that the first sample of each is not an outlier."""
        if not self.resets_failures:
            return
        for turn in range(len(self.accounts.existing)):
            if self._login(turn) != 200:
                pytest.skip("baseline failed: Keycloak refused the correct password of the check's own, freshly "
                            "created account at its token endpoint; the flow cannot be measured")

    def _forget_failure(self, turn: int) -> None:
        """Log the existing account in with its correct password (not timed, not evidence), so that Keycloak's
        brute-force protection forgets the wrong password just sent and never reaches failureFactor: a locked
        account skips the password check and would answer faster than an unknown one. An admin call would do
        the same but makes Keycloak reload the account, which itself shifts the next sample's time (it hid a real
        difference); a login is what users do anyway. Keycloak does not count failures of disabled accounts.

        Right after a failure Keycloak sometimes refuses the correct password once ('Invalid user credentials'
        while the failure is still being recorded); the login is repeated after a pause. Refused throughout, the
        account is locked: it is unlocked through the admin API, counted, and the item ends without a verdict."""
        for pause in (*LOGIN_RETRY_PAUSES_S, None):
            if self._login(turn) == 200:
                return
            if pause is not None:
                time.sleep(pause)
        self.lockouts += 1
        self.ctx.clear_lockout(self.accounts.existing[turn])

    def _login(self, turn: int) -> int:
        user = self.accounts.existing[turn]
        answer, _exchange, _elapsed = _direct_grant(self.ctx, user.username, user.password, record=False)
        return answer.status_code

    def no_lockout(self) -> None:
        if self.lockouts:
            pytest.skip(
                f"Keycloak refused the correct password of the check's own account {self.lockouts} times during "
                f"`{self.flow.label}`'s samples: brute-force protection locked it despite the harness's successful "
                "logins in between, and a locked account answers differently; no verdict"
            )

    def _identifier(self, account: af.Account) -> str:
        return account.email if self.by_email else account.username


class BackendProbe(Probe):
    """The backend's operation: a valid request (generated from the spec) with the account in its account fields."""

    def __init__(self, ctx: CheckContext, flow: af.AccountFlow, accounts: Accounts) -> None:
        super().__init__(ctx, flow, accounts)
        op = flow.operation
        seed = zlib.crc32(op.label.encode())
        generator = ValueGenerator(canary=f"dgsae{seed:x}", seed=seed, locale=ctx.harness.profile.identity.locale,
                                   required_only=True)
        own = {(f.location, f.name) for f in flow.fields}
        self.body = generator.value_for(op.body_schema) if op.body_schema is not None else None
        self.query = {p.name: _text(generator.value_for(p.schema)) for p in op.parameters
                      if p.location == "query" and p.required and ("query", p.name) not in own}
        self.path = {p.name: _text(generator.value_for(p.schema)) for p in op.parameters
                     if p.location == "path" and ("path", p.name) not in own}
        self.headers = {"Authorization": f"Bearer {ctx.token(ctx.users[0])}"} if op.needs_auth else {}
        usernames = any(f.role == af.USERNAME for f in flow.identifiers)
        self.ways = [af.USERNAME, af.EMAIL] if usernames else [af.EMAIL]
        self.identify_by = self.ways[0]

    def baseline(self) -> None:
        if self.flow.kind == "login":
            self._login_baseline()
        elif self.flow.kind == "registration":
            answer = self.send(af.UNKNOWN).response
            _no_server_error(answer, self.flow, "registering a fresh account")
            if answer.status_code >= 400:
                pytest.skip(f"baseline failed: registering a fresh account through `{self.flow.label}` answered "
                            f"{answer.status_code} ({_excerpt(answer.text)}); a comparison with a taken address "
                            "would prove nothing. If the operation needs other fields, name them in the profile")

    def _login_baseline(self) -> None:
        tried = []
        for way in self.ways:
            self.identify_by = way
            answer, _exchange, _elapsed = self._send(self.accounts.correct(), record=True)
            _no_server_error(answer, self.flow, "the correct credentials")
            if answer.status_code == TOO_MANY_REQUESTS:
                pytest.skip(_rate_limited(self.flow, answer, 1))
            if answer.is_success:
                return
            tried.append(f"{answer.status_code} by {way}")
        pytest.skip(
            f"baseline failed: `{self.flow.label}` refused the correct credentials of the check's own account "
            f"({', '.join(tried)}); without a working login the harness cannot tell whether it names accounts "
            "the way this API expects (account_flows.username_fields / email_fields / password_fields)"
        )

    def _send(self, account: af.Account, *, record: bool) -> tuple[httpx.Response, Exchange, float]:
        op = self.flow.operation
        path, query, body = af.fill_fields(self.flow.fields, account, identify_by=self.identify_by, body=self.body)
        params = {name: urllib.parse.quote(value, safe="@") for name, value in {**self.path, **path}.items()}
        url = self.ctx.harness.env.base_url.rstrip("/") + fill_path(op.path, params)
        return self.ctx.send_url(op.method, url, params={**self.query, **query} or None,
                                 json=body if op.body_schema is not None else None, headers=self.headers,
                                 record=record)


class TokenProbe(Probe):
    """Keycloak's token endpoint, direct grant through the harness's own client."""

    def baseline(self) -> None:
        answer, _exchange, _elapsed = self._send(self.accounts.correct(), record=True)
        _no_server_error(answer, self.flow, "the correct credentials")
        if not answer.is_success:
            pytest.skip(f"baseline failed: Keycloak's token endpoint refused the correct credentials of the check's "
                        f"own account with {answer.status_code} ({_excerpt(answer.text)})")

    def _send(self, account: af.Account, *, record: bool) -> tuple[httpx.Response, Exchange, float]:
        return _direct_grant(self.ctx, self._identifier(account), account.password, record=record)


def _direct_grant(ctx: CheckContext, username: str, password: str, *, record: bool
                  ) -> tuple[httpx.Response, Exchange, float]:
    """A login at Keycloak's token endpoint (direct grant) through the harness's own client."""
    env = ctx.harness.env
    form = {"grant_type": "password", "client_id": ctx.harness.identity.clients.main, "username": username,
            "password": password, "scope": "openid"}
    return ctx.send_url("POST", f"{env.keycloak_url}/realms/{env.realm}/protocol/openid-connect/token", data=form,
                        record=record)


class FormProbe(Probe):
    """One of Keycloak's HTML forms: open the page as a browser would (not timed), then submit (timed)."""

    def __init__(self, ctx: CheckContext, flow: af.AccountFlow, accounts: Accounts) -> None:
        super().__init__(ctx, flow, accounts)
        settings = ctx.harness.profile.account_flows
        env = ctx.harness.env
        self.base = env.keycloak_url.rstrip("/")
        self.realm_url = f"{self.base}/realms/{env.realm}"
        client = ctx.idp.client_settings(settings.keycloak_client)
        if client is None:
            pytest.skip(f"the realm has no client `{settings.keycloak_client}` to open Keycloak's pages with: name "
                        "a client with the standard (browser) flow in account_flows.keycloak_client")
        if not client.get("standardFlowEnabled", True) or not client.get("enabled", True):
            pytest.skip(f"client `{settings.keycloak_client}` (account_flows.keycloak_client) has no browser flow "
                        "(standardFlowEnabled: false): Keycloak's forms cannot be opened with it")
        redirect = af.redirect_uri_for(client, self.base)
        if redirect is None:
            pytest.skip(f"client `{settings.keycloak_client}` has no usable redirect URI to open Keycloak's forms")
        self.redirect = redirect
        self.client_id = settings.keycloak_client
        self.action = {af.KEYCLOAK_LOGIN_FORM: "login-actions/authenticate",
                       af.KEYCLOAK_RESET_FORM: "login-actions/reset-credentials",
                       af.KEYCLOAK_REGISTRATION_FORM: "login-actions/registration"}[str(flow.keycloak)]

    def baseline(self) -> None:
        if self.flow.keycloak == af.KEYCLOAK_RESET_FORM:
            answer = self.send(af.EXISTING).response
            if answer.status_code >= 400:
                pytest.skip(f"baseline failed: Keycloak's forgot-password form answered {answer.status_code} for the "
                            f"check's own account ({af.page_feedback(answer.text) or _excerpt(answer.text)})")
            return
        what = "registering a fresh account" if self.flow.kind == "registration" else "the correct credentials"
        account = self.accounts.account(af.UNKNOWN, fresh=True) if self.flow.kind == "registration" \
            else self.accounts.correct()
        answer, _exchange, _elapsed = self._send(account, record=True)
        _no_server_error(answer, self.flow, what)
        if not (answer.is_redirect and answer.headers.get("location", "").startswith(self.redirect)):
            feedback = af.page_feedback(answer.text) or _excerpt(answer.text)
            pytest.skip(f"baseline failed: Keycloak's {af.KIND_NAMES[self.flow.kind]} form did not accept "
                        f"{what} of the check's own account (answered {answer.status_code}: {feedback}); "
                        "the flow may need steps the harness does not take (OTP, terms, captcha, ...)")

    def _send(self, account: af.Account, *, record: bool) -> tuple[httpx.Response, Exchange, float]:
        jar: dict[str, str] = {}
        form = self._open_form(jar)
        if self.flow.kind == "registration":
            values = {"email": account.email, "username": account.username}
        else:
            values = {"username": self._identifier(account)}
        data = af.fill_form(form, values, password=account.password, filler=FILLER)
        return self.ctx.send_url("POST", form.action, data=data, headers={"Cookie": af.cookie_header(jar)},
                                 record=record)

    def _open_form(self, jar: dict[str, str]) -> af.HtmlForm:
        _verifier, challenge = af.pkce_pair()
        params = {"client_id": self.client_id, "response_type": "code", "redirect_uri": self.redirect,
                  "scope": "openid", "state": secrets.token_urlsafe(12), "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        endpoint = "registrations" if self.flow.keycloak == af.KEYCLOAK_REGISTRATION_FORM else "auth"
        page = self._get(f"{self.realm_url}/protocol/openid-connect/{endpoint}", jar, params=params)
        if self.flow.keycloak == af.KEYCLOAK_RESET_FORM:
            link = page.link_to("login-actions/reset-credentials")
            if link is None:
                pytest.skip("Keycloak's login page offers no forgot-password link for client "
                            f"`{self.client_id}`: nothing to test")
            page = self._get(urllib.parse.urljoin(self.realm_url + "/", link), jar)
        form = page.form_posting_to(self.action)
        if form is None:
            pytest.skip(f"Keycloak's page for client `{self.client_id}` shows no form posting to `{self.action}` "
                        "(a different browser flow, e.g. identity-first or passkeys?): not covered")
        if not form.action.startswith(self.base + "/"):
            raise CheckError(f"Keycloak's form posts to {form.action}, outside {self.base}: not followed")
        return form

    def _get(self, url: str, jar: dict[str, str], *, params: dict[str, str] | None = None) -> af.HtmlPage:
        headers = {"Cookie": af.cookie_header(jar)} if jar else None
        response, _exchange, _elapsed = self.ctx.send_url("GET", url, params=params, headers=headers, record=False)
        if response.status_code >= 500:
            raise CheckError(f"Keycloak answered {response.status_code} to GET {url.split('?')[0]}: no verdict")
        if response.status_code != 200:
            pytest.skip(f"Keycloak's page {url.split('?')[0]} answered {response.status_code} "
                        f"({af.page_feedback(response.text) or _excerpt(response.text)}): the form cannot be opened")
        af.merge_cookies(jar, response.headers.get_list("set-cookie"))
        return af.parse_page(response.text)


@contextmanager
def _probe(ctx: CheckContext, flow: af.AccountFlow) -> Iterator[Probe]:
    """A probe for the flow, with the check's own accounts for the time of the item; afterwards they (and the
    accounts its registrations created) are deleted."""
    ctx.note = flow.describe()
    if flow.keycloak is not None:
        realm = ctx.realm_settings()
        reason = af.keycloak_precondition(flow, realm)
        if reason:
            pytest.skip(reason)
        ctx.note += f" (realm: {af.realm_summary(realm)})"
    pool = POOL if flow.kind == "login" and ctx.realm_settings().get("bruteForceProtected") else 1
    created: list[TestUser] = []
    registered: list[str] = []
    try:
        try:
            for _ in range(pool):
                created.append(ctx.create_account(_new_key()))
            created.append(ctx.create_account(_new_key(), enabled=False))
        except DigasecError as exc:
            raise CheckError(f"could not create the check's own accounts: {exc}") from exc
        accounts = Accounts(created[:-1], created[-1], ctx.harness.identity.run_tag, flow.kind,
                            registered=registered)
        if pool > 1:
            ctx.note += (f"; wrong passwords rotate over {pool} existing accounts of the check's own, each logging in "
                         "correctly after every failure, so that brute-force protection never locks one")
        kinds: dict[str | None, type[Probe]] = {None: BackendProbe, af.KEYCLOAK_TOKEN: TokenProbe}
        probe = kinds.get(flow.keycloak, FormProbe)(ctx, flow, accounts)
        probe.warm_up_accounts()
        yield probe
    finally:
        problems = ctx.remove_accounts([user.sub for user in created], emails=registered)
        if registered:
            ctx.note += f"; {len(registered)} accounts registered by the check were deleted again"
        if problems:
            ctx.harness.run.cleanup_problems.extend(problems)
            ctx.note += f"; clean-up problems: {'; '.join(problems)}"


# -- judging ----------------------------------------------------------------------------------------------------
def _flow(ctx: CheckContext, operation: Operation) -> af.AccountFlow:
    return flows_of(ctx.harness)[operation.label]


def _checked(sample: Sample, flow: af.AccountFlow, count: int) -> Sample:
    if sample.response.status_code == TOO_MANY_REQUESTS:
        pytest.skip(_rate_limited(flow, sample.response, count))
    _no_server_error(sample.response, flow, f"the {af.case_label(flow.kind, sample.case)}")
    return sample


def _no_server_error(response: httpx.Response, flow: af.AccountFlow, what: str) -> None:
    if response.status_code >= 500:
        raise CheckError(f"`{flow.label}` answered {response.status_code} to {what}: no verdict possible")


def _rate_limited(flow: af.AccountFlow, response: httpx.Response, count: int) -> str:
    retry = response.headers.get("retry-after")
    return (f"rate limited: `{flow.label}` answered 429 Too Many Requests after {count} requests"
            f"{f' (Retry-After: {retry})' if retry else ''}; the comparison would be distorted, so there is no "
            "verdict. Allow the harness's address more requests, or lower account_flows.samples / timing.samples")


def _no_distortion(flow: af.AccountFlow, observed: dict[str, list[Sample]]) -> None:
    for case, samples in observed.items():
        varying = af.statuses_vary([sample.observation for sample in samples])
        if varying:
            pytest.skip(f"`{flow.label}` answered the same request for the {af.case_label(flow.kind, case)} with "
                        f"{_status_story([s.response.status_code for s in samples])}: a lockout or limit changes "
                        "the answers, so a comparison would be a guess; no verdict")


def _not_refused_throughout(flow: af.AccountFlow, statuses: set[int], example: httpx.Response) -> None:
    """Every case refused alike as invalid or unauthorised: the harness's request does not fit, nothing learned.

    Only for flows without a positive baseline (a backend's password reset or availability check); a login
    refuses wrong passwords by design, and logins and registrations have proved to work in their baseline."""
    if flow.keycloak is not None or flow.kind in ("login", "registration"):
        return
    if len(statuses) == 1 and (status := next(iter(statuses))) in INVALID_REQUEST | NEEDS_CREDENTIALS:
        why = "as invalid" if status in INVALID_REQUEST else "for lack of credentials"
        pytest.skip(f"`{flow.label}` refused every request {why} ({status}: {_excerpt(example.text)}) whichever "
                    "account it named: the harness's request does not fit the operation, so nothing was compared")


def _advice(ctx: CheckContext, flow: af.AccountFlow, cases: Iterable[str]) -> str:
    if flow.keycloak is None:
        return ""
    return f". Keycloak: {af.keycloak_advice(flow, ctx.realm_settings(), cases)}"


def _answers(first: httpx.Response, second: httpx.Response) -> str:
    """For pages and redirects, whose body excerpts say little: what each answer tells a person."""
    if not any(r.is_redirect or "html" in r.headers.get("content-type", "") for r in (first, second)):
        return ""
    return f" (answers: {_said(first)} vs {_said(second)})"


def _said(response: httpx.Response) -> str:
    """What an answer tells a person, in short: a redirect's target, the message on a page, or the body."""
    if response.is_redirect:
        return f"{response.status_code} redirect to {response.headers.get('location', '').split('?')[0]}"
    if "html" in response.headers.get("content-type", ""):
        feedback = af.page_feedback(response.text)
        return f"{response.status_code} page saying {_excerpt(feedback, 100)!r}" if feedback else \
            f"{response.status_code} page without a message"
    return f"{response.status_code} {_excerpt(response.text, 100)!r}"


def _status_story(statuses: list[int]) -> str:
    changes = [str(statuses[0])] + [str(b) for a, b in itertools.pairwise(statuses) if a != b]
    return " then ".join(changes)


def _excerpt(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
