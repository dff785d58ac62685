"""Account existence: do the account flows answer alike for existing and unknown accounts, by content
(`account_existence_leak`) and by time (`account_existence_timing`)?

Flows are the backend's login, registration, password-reset and availability operations and changes of one's own
e-mail or username (named in the profile or discovered, fixtures/api/account_flows.py) and, where the run has a
Keycloak, its own token endpoint, login, forgot-password and registration forms. There is one item per flow; its
variant is the kind of flow and the record's `note` says why the operation counts as one.

Do no harm. With an identity source that creates accounts (keycloak_admin; backend_api with a registration), each
item creates its own accounts (an existing one, for login flows under Keycloak's brute-force protection a pool of
four, and, with admin rights only, a disabled one) and deletes them afterwards, so wrong passwords never lock a user
another check needs. Otherwise the cases use the source's test accounts: wrong passwords only after a correct login
of each has been proved, rotating over them, each failure followed by a correct login; no disabled account is
compared (the note says so), and registrations, which would leave accounts nobody can remove, do not run.
Keycloak's brute-force protection must not lock an account either, because a locked account skips the password
check and answers faster than an unknown one: login samples rotate over the pool, never fail the same account twice
within the realm's quickLoginCheckMilliSeconds, and each wrong password is followed by a correct login (not timed)
that makes Keycloak forget it. Resetting the lockout through the admin API instead would make Keycloak reload the
account, which itself shifts the next sample's time by tens of milliseconds (measured: it hid the disabled-account
difference of Keycloak's login form). Registering an unknown account creates one: its e-mail address carries the run
tag and it is deleted right after the item (the run's clean-up by tag catches anything left). A change of one's own
e-mail or username is set back after every sample. A rate limit (429), a lockout or answers that change mid-way end
the item as a skip that says so, never as a guess. Without a Keycloak (or without admin rights) nothing here asks
Keycloak anything; its own flows are then no items.
"""

from __future__ import annotations

import itertools
import os
import secrets
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from fixtures.analysis.compare import ResponseShape
from fixtures.analysis.timing import BalancedOrder, LookResult, MachineLoad, load_average
from fixtures.api import account_flows as af
from fixtures.api.datagen import ValueGenerator
from fixtures.engine.checks import CheckError, CheckItem, Failure, Severity, check, not_applicable
from fixtures.engine.seeder import fill_path
from fixtures.errors import DigasecError
from fixtures.identity import TestUser
from fixtures.identity.base import ADMIN, REGISTER

if TYPE_CHECKING:
    import httpx

    from fixtures.api.catalogue import Operation
    from fixtures.engine.context import CheckContext
    from fixtures.engine.harness import Harness
    from fixtures.engine.http import Exchange
    from fixtures.target.profile import AccountFlowSettings

LEAK_TITLE = "Account flow reveals whether an account exists"
TIMING_TITLE = "Account flow's response time reveals whether an account exists"
CASES = (af.EXISTING, af.DISABLED, af.UNKNOWN)
POOL = 4  # existing accounts that login samples rotate over (see Probe._next_turn)
LOGIN_RETRY_PAUSES_S = (0.25, 0.5, 1.0)  # a correct login refused right after a failure is repeated (Probe)
FILLER = "Digasec"
TOO_MANY_REQUESTS = 429
INVALID_REQUEST = frozenset({400, 422})
NEEDS_CREDENTIALS = frozenset({401, 403})


# -- items ------------------------------------------------------------------------------------------------------
_flow_cache: dict[int, dict[str, af.AccountFlow]] = {}


def flows_of(harness: Harness) -> dict[str, af.AccountFlow]:
    """The run's account flows by operation label (discovery is deterministic, so every xdist worker agrees).
    Keycloak's own flows exist only where the run has a Keycloak: without one they are no items at all (there is
    nothing to cover, and the run's scope already says who issued the tokens)."""
    key = id(harness)
    if key not in _flow_cache:
        settings = harness.profile.account_flows
        flows = af.discover_flows(harness.catalogue.operations, settings, harness.catalogue.document)
        if settings.keycloak and harness.env.keycloak_url:
            flows += af.keycloak_flows()
        _flow_cache[key] = {flow.label: flow for flow in flows}
    return _flow_cache[key]


def flow_items(harness: Harness) -> list[CheckItem]:
    support = support_of(harness)
    return [CheckItem(flow.operation, flow.kind, af.flow_blocker(flow, support)) for flow in flows_of(harness).values()]


def support_of(harness: Harness) -> af.AccountSupport:
    """What the run's identity source offers the checks."""
    source = harness.source
    known = af.known_accounts(harness.identity.users)
    return af.AccountSupport(
        source=source.name,
        register=source.can(REGISTER),
        admin=bool(harness.env.keycloak_url) and source.can(ADMIN),
        known=len(known),
        passwords=sum(1 for user in known if user.password),
        phones=bool(known) and all(user.phone for user in known),
        keycloak=bool(harness.env.keycloak_url),
        read_only=harness.profile.read_only,
    )


# -- the checks -------------------------------------------------------------------------------------------------
@check("account_existence_leak", title=LEAK_TITLE, severity=Severity.MEDIUM, items=flow_items)
def test_account_existence_leak(operation: Operation, variant: str, ctx: CheckContext) -> None:
    flow = _flow(ctx, operation)
    rounds = ctx.harness.profile.account_flows.samples
    parallel = sends_cases_at_once(ctx.harness.profile.account_flows, flow.kind)
    with _probe(ctx, flow) as probe:
        cases = probe.cases
        probe.baseline()
        observed: dict[str, list[Sample]] = {case: [] for case in cases}
        count = 0
        for samples in sample_rounds(probe.send, cases, rounds, parallel=parallel):
            for sample in samples:
                count += 1
                observed[sample.case].append(_checked(sample, flow, count))
        probe.no_lockout()
    if parallel:
        ctx.note += "; the cases of each round were sent at the same time (account_flows.parallel_cases)"
    ctx.exchanges = [observed[case][-1].exchange for case in (af.EXISTING, af.UNKNOWN, af.DISABLED) if case in cases]
    _no_distortion(flow, observed)
    _not_refused_throughout(flow, {s.response.status_code for samples in observed.values() for s in samples},
                            observed[af.UNKNOWN][0].response)
    reference = [sample.observation for sample in observed[af.UNKNOWN]]
    unknown_label = af.case_label(flow.kind, af.UNKNOWN)
    findings: dict[str, list[str]] = {}
    for case in cases:
        if case == af.UNKNOWN:
            continue
        differences = af.case_differences([sample.observation for sample in observed[case]], reference)
        if differences:
            findings[case] = differences
    if findings:
        severity, why = _grade(ctx, findings)
        parts = [f"{af.case_label(flow.kind, case)} vs {unknown_label}: {'; '.join(lines)}"
                 + _answers(observed[case][0].response, observed[af.UNKNOWN][0].response)
                 for case, lines in findings.items()]
        raise Failure(
            LEAK_TITLE,
            f"`{flow.label}` ({af.KIND_NAMES[flow.kind]}) tells accounts apart: " + " | ".join(parts)
            + _advice(ctx, flow, findings) + why,
            severity=severity,
        )
    status = observed[af.UNKNOWN][0].response.status_code
    compared = ", ".join(c for c in cases if c != af.UNKNOWN)
    ctx.note += (f"; {compared} and unknown accounts got the same answer (status {status}, "
                 f"{rounds} samples each)")


@check("account_existence_timing", title=TIMING_TITLE, severity=Severity.MEDIUM, items=flow_items)
def test_account_existence_timing(operation: Operation, variant: str, ctx: CheckContext) -> None:
    flow = _flow(ctx, operation)
    settings = ctx.harness.profile.account_flows.timing
    started, load_before = time.monotonic(), load_average()
    with _probe(ctx, flow) as probe:
        cases = probe.cases
        labels = {case: af.case_label(flow.kind, case) for case in cases}
        plan = af.timing_plan(settings, comparisons=len(cases) - 1)
        order = BalancedOrder(seed=zlib.crc32(flow.label.encode()))
        durations: dict[str, list[float]] = {case: [] for case in cases}
        statuses: dict[str, list[int]] = {case: [] for case in cases}
        shown: dict[str, Sample] = {}
        results: dict[str, LookResult] = {}
        probe.baseline()
        for count, case in enumerate([case for _ in range(settings.warmup) for case in cases], start=1):
            _checked(probe.send(case, record=False), flow, count)
        count, rounds = settings.warmup * len(cases), 0
        # Blocks of rounds back to back, a look after each; the measurement stops once every comparison is clear.
        # A case whose comparison is decided leaves the blocks that follow (its decision stands; the reference
        # case, unknown, stays in every block). The order balances which case follows which (BalancedOrder).
        for look, until in enumerate(plan.looks):
            active = [case for case in cases if case not in results or not results[case].decided]
            for case in order.rounds(until - rounds, active):
                count += 1
                sample = _checked(probe.send(case, record=False), flow, count)
                durations[case].append(sample.elapsed)
                statuses[case].append(sample.response.status_code)
                shown[case] = sample
            rounds = until
            results |= af.timing_look(durations, settings, plan, look, decided=results, labels=labels)
            if all(result.decided for result in results.values()):
                break
        probe.no_lockout()
    load = MachineLoad(load_before, load_average(), os.cpu_count() or 1)
    ctx.exchanges = [shown[case].exchange for case in (af.EXISTING, af.UNKNOWN, af.DISABLED) if case in cases]
    _not_refused_throughout(flow, {status for seen in statuses.values() for status in seen},
                            shown[af.UNKNOWN].response)
    for case, seen in statuses.items():
        if len(set(seen)) > 1:
            pytest.skip(
                f"`{flow.label}` answered the same request for the {af.case_label(flow.kind, case)} with "
                f"{_status_story(seen)} during the measurement: a lockout or rate limit changed the answers, "
                "which would distort the timing; no verdict"
            )
    min_diff_s = settings.min_abs_diff_ms / 1000
    summary = " | ".join(f"{labels[case]} vs {labels[af.UNKNOWN]}: {result.describe(min_diff_s)}"
                         for case, result in results.items())
    took = (f"stopped after {rounds} of at most {plan.maximum} interleaved rounds of {len(cases)} cases (looks after "
            f"{', '.join(map(str, plan.looks))} rounds) and {settings.warmup} warm-up rounds, "
            f"{time.monotonic() - started:.1f} s, {load.describe()}")
    leaks = [case for case, result in results.items() if result.verdict.leak]
    if leaks:
        severity, why = _grade(ctx, leaks)
        raise Failure(
            TIMING_TITLE,
            f"`{flow.label}` ({af.KIND_NAMES[flow.kind]}) takes measurably different time: {summary} ({took})"
            + _advice(ctx, flow, leaks) + load.caution() + why,
            severity=severity,
        )
    ctx.note += f"; {summary} ({took})"


# -- samples ----------------------------------------------------------------------------------------------------
# A change of one's own e-mail or username is set back after every sample: its cases must not overlap.
SEQUENTIAL_KINDS = frozenset({"account_update"})
_S = TypeVar("_S")


def sends_cases_at_once(settings: AccountFlowSettings, kind: str) -> bool:
    """Whether `account_existence_leak` sends the cases of a round at the same time for a flow of `kind`."""
    return settings.parallel_cases and kind not in SEQUENTIAL_KINDS


def sample_rounds(send: Callable[[str], _S], cases: Sequence[str], rounds: int, *, parallel: bool
                  ) -> Iterator[list[_S]]:
    """`rounds` rounds of one sample per case, each round's samples in the order of `cases`. In parallel, the cases
    of a round are sent at the same time, one thread each (a content comparison does not depend on the order, and
    a target that pads its answers or hashes passwords makes the check wait mostly for the target); the next round
    starts when the whole round has answered. An exception of a sample (a skip too) ends the rounds."""
    if not parallel or len(cases) < 2:
        for _ in range(rounds):
            yield [send(case) for case in cases]
        return
    with ThreadPoolExecutor(max_workers=len(cases), thread_name_prefix="digasec-sample") as pool:
        for _ in range(rounds):
            yield list(pool.map(send, cases))


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
    """The identities a check's cases use: existing accounts (its own, or the identity source's test accounts when
    it cannot create any; one, or a pool that login samples rotate over), a disabled account of its own (only with
    admin rights), unknown ones, and for a change of one's own e-mail the test user who changes it (`actor`)."""

    existing: list[TestUser]
    disabled: TestUser | None
    run_tag: str
    kind: str
    own: bool = True  # `existing` are the check's own accounts (else the source's test accounts: never lock them)
    actor: TestUser | None = None
    wrong_password: str = field(default_factory=lambda: f"Wr0ng-{secrets.token_urlsafe(12)}")
    new_password: str = field(default_factory=lambda: f"N3w-{secrets.token_urlsafe(18)}!")
    unknown_key: str = field(default_factory=lambda: _new_key())
    unknown_phone: str = field(default_factory=lambda: f"+49151{secrets.randbelow(10 ** 8):08d}")
    registered: list[TestUser] = field(default_factory=list)

    @property
    def cases(self) -> tuple[str, ...]:
        return CASES if self.disabled is not None else (af.EXISTING, af.UNKNOWN)

    def account(self, case: str, *, fresh: bool = False, turn: int = 0) -> af.Account:
        """What a case sends. Registrations of an unknown account (`fresh`) each use a new, unused identity;
        `turn` picks the existing account of the pool."""
        if self.kind == "registration":
            password = self.new_password
        elif self.kind == "account_update" and self.actor is not None:
            password = self.actor.password
        else:
            password = self.wrong_password
        if case == af.UNKNOWN:
            username = f"{self.run_tag}-{_new_key() if fresh else self.unknown_key}"
            email = f"{username}@example.org"
            if fresh:
                self.registered.append(TestUser(key=username, username=username, password=password, email=email,
                                                first_name="", last_name="", sub="", canary=""))
            return af.Account(username, email, password, self.unknown_phone)
        user = self.existing[turn % len(self.existing)] if case == af.EXISTING else self.disabled
        assert user is not None
        return af.Account(user.username, user.email, password, user.phone)

    def correct(self, turn: int = 0) -> af.Account:
        user = self.existing[turn % len(self.existing)]
        return af.Account(user.username, user.email, user.password, user.phone)

    def restored(self) -> af.Account:
        """The actor's own values (a change of one's own e-mail sends them back after every sample)."""
        assert self.actor is not None
        return af.Account(self.actor.username, self.actor.email, self.actor.password, self.actor.phone)


def _new_key() -> str:
    """`ae` and 8 hex digits: the check's own accounts and its unknown ones have names of the same length."""
    return f"ae{secrets.token_hex(4)}"


class Probe:
    """Sends the samples of one flow; each kind of flow knows how to build its request."""

    def __init__(self, ctx: CheckContext, flow: af.AccountFlow, accounts: Accounts) -> None:
        self.ctx = ctx
        self.flow = flow
        self.accounts = accounts
        self.cases = accounts.cases
        realm = ctx.realm_settings()  # empty without Keycloak or admin rights: nothing is asked then
        # Wrong passwords must not lock an account: the check's own accounts under Keycloak's brute-force
        # protection, and always the identity source's test accounts (other checks need them).
        self.resets_failures = flow.kind == "login" and (bool(realm.get("bruteForceProtected")) or not accounts.own)
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
        if self.flow.kind == "account_update":
            self._restore()
        return Sample(case, response, exchange, elapsed, account.literals())

    def _send(self, account: af.Account, *, record: bool) -> tuple[httpx.Response, Exchange, float]:
        raise NotImplementedError

    def _restore(self) -> None:
        """Give the actor back its own e-mail / username (a change of one's own account only)."""

    def _next_turn(self) -> int:
        """The next existing account of the pool, and a pause (not timed) should it have failed too recently:
        Keycloak locks an account at once when two failures come within quickLoginCheckMilliSeconds."""
        self.turn = (self.turn + 1) % len(self.accounts.existing)
        wait = self.last_failure.get(self.turn, -1e9) + self.spacing_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return self.turn

    def warm_up_accounts(self) -> None:
        """Log every existing account of the pool in once (not timed), before any wrong password: proves that a
        correct login works (so that one can follow every failure) and puts them where a real, active account is
        (in Keycloak's caches), so that the first sample of each is not an outlier."""
        if not self.resets_failures:
            return
        for turn, user in enumerate(self.accounts.existing):
            if not self._correct_login(turn):
                whose = "the check's own, freshly created account" if self.accounts.own else \
                    f"the test account {user.key}"
                pytest.skip(f"baseline failed: the correct password of {whose} was refused before any wrong "
                            "password was sent; without a working login after each failure the flow cannot be "
                            "sampled without risking a lockout")

    def _forget_failure(self, turn: int) -> None:
        """Log the existing account in with its correct password (not timed, not evidence), so that brute-force
        protection forgets the wrong password just sent and never reaches its limit: a locked account skips the
        password check and would answer faster than an unknown one. An admin call would do the same but makes
        Keycloak reload the account, which itself shifts the next sample's time (it hid a real difference); a
        login is what users do anyway. Keycloak does not count failures of disabled accounts.

        Right after a failure Keycloak sometimes refuses the correct password once ('Invalid user credentials'
        while the failure is still being recorded); the login is repeated after a pause. Refused throughout, the
        account is locked: the check's own account is unlocked through the admin API, counted, and the item ends
        without a verdict; a test account of the identity source ends the item at once."""
        for pause in (*LOGIN_RETRY_PAUSES_S, None):
            if self._correct_login(turn):
                return
            if pause is not None:
                time.sleep(pause)
        user = self.accounts.existing[turn]
        if self.accounts.own and self.ctx.keycloak_admin:
            self.lockouts += 1
            self.ctx.clear_lockout(user)
            return
        problem = (f"the test account {user.key} no longer logs in with its correct password after a wrong one sent "
                   f"by account_existence_* to `{self.flow.label}`: it may be locked; check it before the next run")
        self.ctx.harness.run.cleanup_problems.append(problem)
        pytest.skip(f"{problem}. The samples stopped at once; no verdict")

    def _correct_login(self, turn: int) -> bool:
        """A correct login of the pool's account (not timed, not evidence): by direct grant with the harness's
        client for the check's own Keycloak accounts, else through the identity source's own login."""
        user = self.accounts.existing[turn]
        if self.accounts.own and self.ctx.keycloak_admin:
            answer, _exchange, _elapsed = _direct_grant(self.ctx, user.username, user.password, record=False)
            return answer.status_code == 200
        try:
            self.ctx.harness.tokens.fetch(user, self.ctx.harness.identity.clients.main)
        except DigasecError:
            return False
        return True

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
    """The backend's operation: a valid request (generated from the spec, sent as the operation's media type)
    with the account in its account fields."""

    def __init__(self, ctx: CheckContext, flow: af.AccountFlow, accounts: Accounts) -> None:
        phones = all(user.phone for user in [*accounts.existing, accounts.actor] if user is not None)
        dropped: set[str] = set()
        if not phones and any(f.role == af.PHONE for f in flow.fields):
            if flow.phone_only:
                pytest.skip(f"`{flow.label}` names the account by phone number only, and the accounts used here "
                            "have no phone number: nothing to compare")
            dropped = {f.name for f in flow.fields if f.role == af.PHONE and f.location == "body"}
            flow = flow.without_phone()
            ctx.note += "; phone fields left out: the accounts have no phone number"
        super().__init__(ctx, flow, accounts)
        op = flow.operation
        seed = zlib.crc32(op.label.encode())
        generator = ValueGenerator(canary=f"dgsae{seed:x}", seed=seed, locale=ctx.harness.profile.identity.locale,
                                   required_only=True)
        own = {(f.location, f.name) for f in flow.fields}
        self.body = generator.value_for(op.body_schema) if op.body_schema is not None else None
        if isinstance(self.body, dict):
            for name in dropped:
                self.body.pop(name, None)
            if flow.kind == "login" and "grant_type" in af.body_properties(op.body_schema):
                self.body["grant_type"] = "password"  # the OAuth2 password grant (RFC 6749, 4.3)
        self.query = {p.name: _text(generator.value_for(p.schema)) for p in op.parameters
                      if p.location == "query" and p.required and ("query", p.name) not in own}
        self.path = {p.name: _text(generator.value_for(p.schema)) for p in op.parameters
                     if p.location == "path" and ("path", p.name) not in own}
        actor = accounts.actor or ctx.users[0]
        self.headers = ctx.credential_headers(actor) if op.needs_auth else {}
        usernames = any(f.role == af.USERNAME for f in flow.identifiers)
        self.ways = [af.USERNAME, af.EMAIL] if usernames else [af.EMAIL]
        self.identify_by = self.ways[0]
        self.way_known = False  # a correct login showed which way the login field names the account

    def baseline(self) -> None:
        if self.flow.kind == "login":
            self._login_baseline()
        elif self.flow.kind == "registration":
            answer = self.send(af.UNKNOWN).response
            _no_server_error(answer, self.flow, "registering a fresh account")
            failed = af.says_failure(answer.text)
            if answer.status_code >= 400 or failed:
                said = f", saying {failed}" if failed else ""
                pytest.skip(f"baseline failed: registering a fresh account through `{self.flow.label}` answered "
                            f"{answer.status_code}{said} ({_excerpt(answer.text)}); a comparison with a taken address "
                            "would prove nothing. If the operation needs other fields, name them in the profile")
        elif self.flow.kind == "lookup" and self.flow.operation.needs_auth:
            self._own_values_baseline("the caller looking up itself", "looking up itself",
                                      "without a lookup that works, the same refusal for every other name proves "
                                      "nothing")
        elif self.flow.kind == "account_update":
            self._own_values_baseline("the user's own, unchanged e-mail/username",
                                      "setting its own, unchanged e-mail/username",
                                      "a refusal of another account's address would prove nothing")

    def _own_values_baseline(self, sent: str, doing: str, why: str) -> None:
        """Skip unless the actor's request with its own values (its own name looked up, its own e-mail set again)
        succeeds: a refusal of another account's values proves something only next to that success."""
        answer, _exchange, _elapsed = self._send(self.accounts.restored(), record=True)
        _no_server_error(answer, self.flow, sent)
        failed = af.says_failure(answer.text)
        if not answer.is_success or failed:
            assert self.accounts.actor is not None
            said = f", saying {failed}" if failed else ""
            pytest.skip(f"baseline failed: {self.accounts.actor.key} {doing} through `{self.flow.label}` got "
                        f"{answer.status_code}{said} ({_excerpt(answer.text)}); {why}")

    def _login_baseline(self) -> None:
        tried = []
        for way in self.ways:
            self.identify_by = way
            answer, _exchange, _elapsed = self._send(self.accounts.correct(), record=True)
            _no_server_error(answer, self.flow, "the correct credentials")
            if answer.status_code == TOO_MANY_REQUESTS:
                pytest.skip(_rate_limited(self.flow, answer, 1))
            if af.login_evidence(answer.status_code, answer.headers.multi_items(), answer.text):
                self.way_known = True
                return
            failed = af.says_failure(answer.text)
            tried.append(f"{answer.status_code}{f' saying {failed}' if failed else ' without a credential'} "
                         f"by {way}" if answer.is_success else f"{answer.status_code} by {way}")
        pytest.skip(
            f"baseline failed: `{self.flow.label}` refused the correct credentials of {_whose(self.accounts)} "
            f"({', '.join(tried)}); a login succeeds only when a credential comes back (a token in the body or a "
            "header, or a cookie). Without a working login the harness cannot tell whether it names accounts "
            "the way this API expects (account_flows.username_fields / email_fields / password_fields)"
        )

    def _correct_login(self, turn: int) -> bool:
        """The backend's own login flow, with the correct password, unless the check's own Keycloak accounts are
        logged in by direct grant (the base class)."""
        if self.accounts.own and self.ctx.keycloak_admin:
            return super()._correct_login(turn)
        for way in [self.identify_by] if self.way_known else self.ways:
            self.identify_by = way
            answer, _exchange, _elapsed = self._send(self.accounts.correct(turn), record=False)
            if af.login_evidence(answer.status_code, answer.headers.multi_items(), answer.text) is not None:
                self.way_known = True
                return True
        return False

    def _restore(self) -> None:
        actor = self.accounts.actor
        assert actor is not None
        answer, _exchange, _elapsed = self._send(self.accounts.restored(), record=False)
        if not answer.is_success or af.says_failure(answer.text):
            problem = (f"{actor.key}'s own e-mail/username could not be set back through `{self.flow.label}` "
                       f"(answered {answer.status_code}): its account may now carry a value the check chose")
            self.ctx.harness.run.cleanup_problems.append(problem)
            raise CheckError(problem)

    def _send(self, account: af.Account, *, record: bool) -> tuple[httpx.Response, Exchange, float]:
        op = self.flow.operation
        path, query, body = af.fill_fields(self.flow.fields, account, identify_by=self.identify_by, body=self.body)
        params = {name: urllib.parse.quote(value, safe="@") for name, value in {**self.path, **path}.items()}
        url = self.ctx.harness.env.base_url.rstrip("/") + fill_path(op.path, params)
        return self.ctx.send_url(op.method, url, params={**self.query, **query} or None,
                                 body=body if op.body_schema is not None else None, media_type=op.body_media_type,
                                 headers=self.headers, record=record)


class TokenProbe(Probe):
    """Keycloak's token endpoint, direct grant through the harness's own client."""

    def baseline(self) -> None:
        answer, _exchange, _elapsed = self._send(self.accounts.correct(), record=True)
        _no_server_error(answer, self.flow, "the correct credentials")
        if not answer.is_success:
            pytest.skip(f"baseline failed: Keycloak's token endpoint refused the correct credentials of "
                        f"{_whose(self.accounts)} with {answer.status_code} ({_excerpt(answer.text)})")

    def _send(self, account: af.Account, *, record: bool) -> tuple[httpx.Response, Exchange, float]:
        return _direct_grant(self.ctx, self._identifier(account), account.password, record=record)


def _whose(accounts: Accounts) -> str:
    return "the check's own account" if accounts.own else f"the test account {accounts.existing[0].key}"


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
        if not ctx.keycloak_admin:
            # Without the admin API the client's redirect URIs cannot be read: use the client the profile logs in
            # with (keycloak_accounts: identity.client_id and identity.redirect_uri), if any.
            identity = ctx.harness.profile.identity
            if not identity.client_id:
                pytest.skip("without Keycloak admin rights the harness cannot read which redirect URI a client "
                            "accepts, and the profile names no client of its own to open Keycloak's pages with "
                            "(identity.client_id and identity.redirect_uri)")
            self.client_id, self.redirect = identity.client_id, identity.redirect_uri
        else:
            client = ctx.idp.client_settings(settings.keycloak_client)
            if client is None:
                pytest.skip(f"the realm has no client `{settings.keycloak_client}` to open Keycloak's pages with: "
                            "name a client with the standard (browser) flow in account_flows.keycloak_client")
            if not client.get("standardFlowEnabled", True) or not client.get("enabled", True):
                pytest.skip(f"client `{settings.keycloak_client}` (account_flows.keycloak_client) has no browser "
                            "flow (standardFlowEnabled: false): Keycloak's forms cannot be opened with it")
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
                pytest.skip(f"baseline failed: Keycloak's forgot-password form answered {answer.status_code} for "
                            f"{_whose(self.accounts)} ({af.page_feedback(answer.text) or _excerpt(answer.text)})")
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
    """A probe for the flow, with the accounts its cases use for the time of the item.

    With an identity source that creates accounts (REGISTER), these are the check's own: created for the item and
    deleted afterwards, with the accounts its registrations created; a disabled one only with admin rights.
    Otherwise they are the source's test accounts (wrong passwords rotate over them, each followed by a correct
    login) and no disabled account is compared."""
    ctx.note = flow.describe()
    support = support_of(ctx.harness)
    realm = ctx.realm_settings()
    if flow.keycloak is not None:
        reason = af.keycloak_precondition(flow, realm)
        if reason:
            not_applicable(reason)  # the realm does not offer the flow: there is no page to leak from
        summary = af.realm_summary(realm)
        ctx.note += f" (realm: {summary})" if summary else " (the realm's settings are not readable in this run)"
    created: list[TestUser] = []
    registered: list[TestUser] = []
    try:
        disabled: TestUser | None = None
        if support.register:
            pool = POOL if flow.kind == "login" and realm.get("bruteForceProtected") else 1
            try:
                for _ in range(pool):
                    created.append(ctx.create_account(_new_key()))
                if support.admin:
                    disabled = ctx.create_account(_new_key(), enabled=False)
                    created.append(disabled)
            except DigasecError as exc:
                raise CheckError(f"could not create the check's own accounts: {exc}") from exc
            existing = created[:pool]
        else:
            existing = [user for user in af.known_accounts(ctx.users) if flow.kind != "login" or user.password]
        actor: TestUser | None = None
        if flow.kind == "lookup":
            # the caller looks up others: its own account answers for itself whatever the API does with strangers
            actor = ctx.users[0]
            existing = [user for user in existing if user.key != actor.key]
            if not existing:
                pytest.skip("no account other than the caller's own to look up")
        elif flow.kind == "account_update":
            actor = ctx.users[0]
            existing = [user for user in existing if user.key != actor.key]
            missing = [f"{f.role}" for f in flow.identifiers if not getattr(actor, f.role, "")]
            if missing or not existing:
                pytest.skip(f"{actor.key}'s own {' and '.join(missing)} is not known, so it could not be set back"
                            if missing else "no other account whose e-mail/username the test user could try to take")
        if not support.register:
            ctx.note += (f"; the identity source `{support.source}` creates no accounts: the cases use its test "
                         f"accounts ({', '.join(user.key for user in existing)})")
        if support.disabled:
            ctx.note += f"; {support.disabled}"
        accounts = Accounts(existing, disabled, ctx.harness.identity.run_tag, flow.kind, own=support.register,
                            actor=actor, registered=registered)
        kinds: dict[str | None, type[Probe]] = {None: BackendProbe, af.KEYCLOAK_TOKEN: TokenProbe}
        probe = kinds.get(flow.keycloak, FormProbe)(ctx, flow, accounts)
        if probe.resets_failures and len(existing) > 1:
            whose = "existing accounts of the check's own" if support.register else "test accounts"
            ctx.note += (f"; wrong passwords rotate over {len(existing)} {whose}, each logging in correctly after "
                         "every failure, so that brute-force protection never locks one")
        elif probe.resets_failures:
            ctx.note += "; every wrong password is followed by a correct login, so that no lockout follows"
        probe.warm_up_accounts()
        yield probe
    finally:
        problems = ctx.remove_accounts(created, registered=registered)
        if registered:
            ctx.note += f"; {len(registered)} accounts registered by the check were deleted again" if not problems \
                else f"; {len(registered)} accounts registered by the check, not all deleted again"
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

    Only for flows without a positive baseline (a backend's password reset, availability check or public user
    lookup); a login refuses wrong passwords by design, and logins, registrations and signed-in lookups have proved
    to work in their baseline."""
    if flow.keycloak is not None or flow.kind in ("login", "registration"):
        return
    if flow.kind == "lookup" and flow.operation.needs_auth:
        return  # its baseline (the caller looking itself up) succeeded: one refusal for everyone else is the goal
    if len(statuses) == 1 and (status := next(iter(statuses))) in INVALID_REQUEST | NEEDS_CREDENTIALS:
        why = "as invalid" if status in INVALID_REQUEST else "for lack of credentials"
        pytest.skip(f"`{flow.label}` refused every request {why} ({status}: {_excerpt(example.text)}) whichever "
                    "account it named: the harness's request does not fit the operation, so nothing was compared")


# States of accounts that only the harness created (profile checks.production_states, PRODUCTION_STATES)
HARNESS_STATES = {af.DISABLED: "disabled_account"}


def _grade(ctx: CheckContext, cases: Iterable[str]) -> tuple[Severity, str]:
    """The severity of a difference between `cases` and unknown accounts, and why where it is lowered. A difference
    of existing accounts is medium. One only of accounts in a state the harness itself created (the account it
    disabled; a stock Keycloak answers "Account is disabled") is info, unless the profile says that state occurs in
    production (checks.production_states): then low, as an attacker meets such accounts."""
    cases = set(cases)
    if af.EXISTING in cases:
        return Severity.MEDIUM, ""
    declared = set(ctx.harness.profile.checks.production_states)
    states = {HARNESS_STATES[case] for case in cases if case in HARNESS_STATES}
    if not states or states & declared:
        return Severity.LOW, ""
    names = ", ".join(sorted(states))
    return Severity.INFO, (
        f". Graded info: only the account state the harness itself created differs ({names}), and the profile does "
        f"not say such accounts occur in production; if they do, add it to checks.production_states"
    )


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
