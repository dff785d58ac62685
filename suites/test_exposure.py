"""Data exposure: does an answer, to an anonymous caller or to another user, hold what belongs to a test user?

Whatever the spec declares: an operation it calls public is still called without credentials and judged by what
its answer contains. The harness knows each test user's password, credential, e-mail address, username, phone,
names, id and canary (fixtures/analysis/exposure.py); any of them in an answer to someone else, that the caller
did not send itself, is a finding, graded by what leaked.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fixtures.analysis import exposure
from fixtures.api.access import above_test_users
from fixtures.engine.checks import CheckError, CheckItem, DoesNotApply, Failure, Severity, check, not_applicable
from fixtures.engine.public import public_in

if TYPE_CHECKING:
    import httpx

    from fixtures.api.catalogue import Operation
    from fixtures.engine.context import CheckContext
    from fixtures.engine.harness import Harness
    from fixtures.engine.http import Request
    from fixtures.identity import TestUser

ANONYMOUS_TITLE = "Answer to an anonymous caller exposes a user's data"
OTHER_USER_TITLE = "Answer to another user exposes a user's data"
TITLES = {"anonymous": ANONYMOUS_TITLE, "other_user": OTHER_USER_TITLE}


def exposure_items(harness: Harness) -> list[CheckItem]:
    """Every operation anonymously; those that change nothing also as a second user (the answer to a change is
    the cross-user checks' question)."""
    alone = DoesNotApply("the profile provisions one test user; another user's view needs two")
    second_user = None if len(harness.identity.users) >= 2 else alone
    items = []
    for op in harness.catalogue.operations:
        items.append(CheckItem(op, "anonymous"))
        if op.read_only:
            items.append(CheckItem(op, "other_user", second_user))
    return items


@check(
    "data_exposure",
    title=ANONYMOUS_TITLE,
    severity=Severity.HIGH,
    items=exposure_items,
)
def test_data_exposure(operation: Operation, variant: str, ctx: CheckContext) -> None:
    owned = _everything_known(ctx, skip_canaries=variant == "other_user")
    if variant == "other_user":
        request, response, caller = _as_other_user(ctx, operation)
    else:
        request, response, caller = _anonymously(ctx, operation)
    if response.status_code >= 500:
        raise CheckError(f"`{operation.method} {request.path}` answered {response.status_code}: no verdict possible")
    found = exposure.find_exposures(
        response.text, list(response.headers.items()), owned, caller=caller, sent=_sent_text(request)
    )
    ctx.note = _what_was_looked_for(variant, caller)
    public = public_in(ctx, response.text) if found else {}
    if public:  # objects everyone may read show their content and their author: no exposure
        kept = exposure.outside_public(found, response.text, list(public))
        if len(kept) < len(found):
            why = "; ".join(sorted(set(public.values())))
            ctx.note += f"; not counted: {len(found) - len(kept)} value(s) inside objects that are public ({why})"
        found = kept
    if found:
        raise Failure(TITLES[variant], _message(ctx, operation, request, response, found, variant),
                      severity=Severity(found[0].severity))


def _anonymously(ctx: CheckContext, op: Operation) -> tuple[Request, httpx.Response, str | None]:
    """The owner's request, sent without credentials: exactly where the owner's own was refused (an operation for
    another role) or changed nothing, else aimed at a fresh object (the baseline changed its own)."""
    owner = ctx.actor_for(op, ctx.owner_for(op))
    request, baseline = ctx.baseline(op, owner, refused=True)
    if op.read_only or not ctx.succeeded(baseline):
        attack, target = request, owner
    else:
        target = ctx.actor_for(op, owner)
        attack = ctx.replay(op, request, owner, target)
    return attack, ctx.send(attack, bearer=None, op=op, creator=target, role="attack", actor="anonymous"), None


def _as_other_user(ctx: CheckContext, op: Operation) -> tuple[Request, httpx.Response, str | None]:
    """The second test user's own successful request: its answer may hold only its own data (another user's
    objects on A's own ids are cross_user_read's question; their canaries in lists are cross_user_listing's)."""
    reader = ctx.users[1]
    requirement = above_test_users(ctx.harness.profile, ctx.harness.catalogue.document, op)
    request, response = ctx.baseline(op, reader, refused=requirement is not None)
    if requirement is not None and not ctx.succeeded(response):  # let in: a missing role check shows here too
        not_applicable(f"`{op.label}` {requirement.describe()}, which the test users lack: {reader.key} was refused "
                       f"({response.status_code}), so it has no view of its own to look into (function_level_access "
                       "tests who may call it)")
    return request, response, reader.key


def _everything_known(ctx: CheckContext, *, skip_canaries: bool) -> list[exposure.Belonging]:
    owned: list[exposure.Belonging] = []
    for user in ctx.users:  # the password digests are among the run's secrets (Identity.secrets): redacted
        owned += exposure.belongings(_user_data(ctx, user, skip_canaries=skip_canaries))
    return owned


def _user_data(ctx: CheckContext, user: TestUser, *, skip_canaries: bool) -> exposure.UserData:
    credentials = {user.preissued_token or "", ctx.token(user)} - {""}
    return exposure.UserData(
        key=user.key,
        passwords=(user.password,) if user.password else (),
        credentials=tuple(credentials),
        email=user.email,
        username=user.username,
        phone=user.phone,
        names=tuple(name for name in (user.first_name, user.last_name) if name),
        ids=tuple(dict.fromkeys(value for value in (user.sub, *(v for _, v in user.path_ids))
                                if value and value not in (user.username, user.email))),
        canaries=() if skip_canaries else (user.canary,),
    )


def _sent_text(request: Request) -> str:
    body = request.json if isinstance(request.json, str) else json.dumps(request.json, default=str)
    return f"{request.path} {request.params} {body} {request.headers}"


def _what_was_looked_for(variant: str, caller: str | None) -> str:
    whose = "every test user's" if caller is None else f"every other test user's (not {caller}'s)"
    canary = "" if variant == "other_user" else ", canary"
    return (f"looked for {whose} password (and its MD5/SHA-1/SHA-256 hex digests), credential, e-mail address, "
            f"username, phone, names, id{canary} in the answer, except what the request itself sent")


def _message(ctx: CheckContext, op: Operation, request: Request, response: httpx.Response,
             found: list[exposure.Exposure], variant: str) -> str:
    caller = "without credentials" if variant == "anonymous" else f"as {ctx.users[1].key} (its own request)"
    shown = "; ".join(
        f"{item.owner}'s {item.what} at {item.where}"
        + ("" if item.secret else f" ({_quote(item.value)})")
        for item in found[:8]
    )
    more = f"; and {len(found) - 8} more" if len(found) > 8 else ""
    return (f"`{op.method} {request.path}` {caller} answered {response.status_code} with {shown}{more}")


def _quote(value: str) -> str:
    return value if len(value) <= 60 else f"{value[:57]}..."
