"""Operations that delete or deactivate an account are never sent with a test user's credential: the catalogue
recognises them, and CheckContext.actor_for hands out throwaway accounts (removed afterwards) or skips."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from fixtures.api.catalogue import Operation, account_removal, build_catalogue
from fixtures.engine.checks import CheckError
from fixtures.engine.context import NO_THROWAWAY, CheckContext
from fixtures.engine.http import Request
from fixtures.engine.redaction import Redactor
from fixtures.errors import IdentityError
from fixtures.identity import REGISTER, TestUser
from suites.test_cross_user import deletes_objects_not_accounts

USER_PARAMS = ("user_id", "username")


def op(method: str, path: str, declared: tuple[str, ...] = ()) -> Operation:
    names = [segment.strip("{}") for segment in path.split("/") if segment.startswith("{")]
    bare = Operation(method=method, path=path, operation_id=None, tags=(), needs_auth=True,
                     auth_reason="the document's global security: bearer", parameters=(), body_schema=None,
                     body_media_type=None, user_params=tuple(name for name in names if name in USER_PARAMS))
    return dataclasses.replace(bare, account_removal=account_removal(bare, declared) or "")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/users/me"),
        ("DELETE", "/accounts/self"),
        ("DELETE", "/account"),
        ("DELETE", "/v1/profile"),
        ("DELETE", "/user"),
        ("DELETE", "/users/current-user"),
        ("DELETE", "/users/{user_id}"),
        ("DELETE", "/v2/users/{username}/account"),
        ("POST", "/users/me/deactivate"),
        ("POST", "/account/delete"),
        ("PUT", "/users/{user_id}/disable"),
    ],
)
def test_operations_that_remove_an_account_are_recognised(method: str, path: str) -> None:
    operation = op(method, path)
    assert operation.removes_account, operation.label
    assert f"`{operation.label}`" in operation.account_removal


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/items/{id}"),
        ("DELETE", "/api/items/{id}"),
        ("DELETE", "/users/{username}/notes/{note_id}"),  # an object of the user, not the user
        ("DELETE", "/users/{user_id}/notes"),  # the user's notes
        ("DELETE", "/users/me/sessions"),
        ("DELETE", "/users"),
        ("GET", "/users/me"),
        ("PATCH", "/users/me"),
        ("POST", "/items/delete"),
        ("POST", "/account/{id}/delete"),  # {id} is an object
    ],
)
def test_other_operations_are_not(method: str, path: str) -> None:
    assert not op(method, path).removes_account


def test_the_profiles_account_deletion_counts_whatever_its_path() -> None:
    operation = op("POST", "/api/v1/goodbye", declared=("POST /api/v1/goodbye",))
    assert operation.removes_account
    assert "identity.backend.delete_account" in operation.account_removal


def test_build_catalogue_classifies_from_the_document_and_the_profile() -> None:
    def responses() -> dict[str, Any]:
        return {"200": {"description": "ok"}}

    param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    document = {
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {
            "/api/users/me": {"delete": {"responses": responses()}, "get": {"responses": responses()}},
            "/api/items/{id}": {"delete": {"parameters": [param], "responses": responses()}},
            "/bye": {"post": {"responses": responses()}},
        },
    }
    catalogue = build_catalogue(document, "0" * 64, public_operations=[], user_path_params=list(USER_PARAMS),
                                account_operations=["POST /bye"])
    removing = sorted(o.label for o in catalogue.operations if o.removes_account)
    assert removing == ["DELETE /api/users/me", "POST /bye"]


def test_deleting_another_users_account_is_in_scope_only_where_recognised() -> None:
    assert deletes_objects_not_accounts(op("DELETE", "/users/{user_id}")) is None  # throwaway accounts
    assert "not attempted" in (deletes_objects_not_accounts(op("DELETE", "/users/{user_id}/notes")) or "")


# -- CheckContext.actor_for -----------------------------------------------------------------------------------------
def user(key: str) -> TestUser:
    return TestUser(key=key, username=f"run-{key}", password=f"pw-{key}-secret", email=f"{key}@example.org",
                    first_name="A", last_name="B", sub="", canary=f"cnry{key}")


class FakeSource:
    name = "backend_api"

    def __init__(self, *, can_register: bool = True) -> None:
        self.can_register = can_register
        self.accounts: dict[str, TestUser] = {}  # username -> account that exists
        self.forgotten: list[str] = []
        self.deleted: list[str] = []

    def can(self, capability: str) -> bool:
        return capability == REGISTER and self.can_register

    def create_account(self, key: str, *, enabled: bool = True) -> TestUser:
        account = user(key)
        self.accounts[account.username] = account
        return account

    def delete_account(self, account: TestUser) -> str | None:
        if account.username not in self.accounts:
            return f"account {account.username} not removed: cannot log in as it"
        del self.accounts[account.username]
        self.deleted.append(account.username)
        return None

    def forget(self, account: TestUser) -> None:
        self.forgotten.append(account.username)


class FakeTokens:
    def __init__(self, source: FakeSource) -> None:
        self.source = source

    def fetch(self, account: TestUser, client_id: str) -> tuple[str, float]:
        if account.username not in self.source.accounts:
            raise IdentityError(f"logging in as {account.username} failed: HTTP 401")
        return "token", 300.0


def context(source: FakeSource) -> CheckContext:
    harness = SimpleNamespace(
        source=source, tokens=FakeTokens(source), redactor=Redactor(),
        identity=SimpleNamespace(users=[user("user1"), user("user2")], clients=SimpleNamespace(main="")),
    )
    return CheckContext(harness, "unauthenticated_access")  # type: ignore[arg-type]


def test_other_operations_keep_the_test_user() -> None:
    ctx = context(FakeSource())
    user1 = ctx.users[0]
    assert ctx.actor_for(op("DELETE", "/items/{id}"), user1) is user1
    assert ctx.throwaways == []


def test_an_account_removal_gets_a_new_throwaway_account_each_time_and_close_removes_what_is_left() -> None:
    source = FakeSource()
    ctx = context(source)
    removal = op("DELETE", "/api/users/me")
    first = ctx.actor_for(removal, ctx.users[0])
    second = ctx.actor_for(removal, first)
    assert first.username != second.username
    assert {first.username, second.username} <= set(source.accounts)
    assert first.username not in {u.username for u in ctx.users}
    assert ctx.harness.redactor.redact(f"pw {first.password}") != f"pw {first.password}"
    del source.accounts[first.username]  # the check's own request deleted it
    assert ctx.close() == []
    assert source.deleted == [second.username]  # still existed: removed
    assert source.forgotten == [first.username]  # gone already: not reported as left behind
    assert source.accounts == {}


def test_without_registration_the_item_is_skipped_and_says_why() -> None:
    ctx = context(FakeSource(can_register=False))
    with pytest.raises(pytest.skip.Exception) as skipped:
        ctx.actor_for(op("DELETE", "/accounts/self"), ctx.users[0])
    reason = str(skipped.value)
    assert NO_THROWAWAY in reason
    assert "`DELETE /accounts/self`" in reason


def test_a_removal_sent_as_a_test_user_is_refused_as_a_harness_bug() -> None:
    ctx = context(FakeSource())
    with pytest.raises(CheckError, match="actor_for"):
        ctx._guard_account(op("DELETE", "/account"), ctx.users[0])
    ctx._guard_account(op("DELETE", "/items/{id}"), ctx.users[0])  # objects: fine


# -- cross-user deletion of an account: throwaway victim and attacker, proved by the victim's login ---------------
class AccountBackend:
    """A fake backend with accounts by username; `DELETE /users/{name}` removes the named account when `vulnerable`
    (or when it is the caller's own)."""

    def __init__(self, *, vulnerable: bool, answer: tuple[int, dict[str, object]] = (403, {"detail": "no"})) -> None:
        self.vulnerable = vulnerable
        self.answer = answer
        self.accounts: set[str] = set()
        self.sent_as: list[str] = []


def account_ctx(backend: AccountBackend) -> Any:
    from fixtures.analysis.compare import failure_in_body

    test_users = [user("user1"), user("user2")]
    made = iter(range(1, 100))

    def actor_for(operation: Operation, who: TestUser) -> TestUser:
        account = user(f"own{next(made)}")
        backend.accounts.add(account.username)
        return account

    def send(request: Any, *, bearer: str | None = None, **_: Any) -> httpx.Response:
        caller = bearer or ""
        backend.sent_as.append(caller)
        named = request.path.rsplit("/", 1)[-1]
        if named == caller or backend.vulnerable:
            backend.accounts.discard(named)
            return httpx.Response(204)
        status, body = backend.answer
        return httpx.Response(status, json=body)

    def refused_in_body(response: httpx.Response) -> str | None:
        return failure_in_body(response.text, "application/json") if response.is_success else None

    ns = SimpleNamespace(users=test_users, note="")
    ns.actor_for = actor_for
    def baseline(operation: Operation, who: TestUser) -> tuple[Request, httpx.Response]:
        request = Request(operation.method, f"/users/{who.username}")
        return request, send(request, bearer=who.username)

    ns.baseline = baseline
    ns.can_log_in = lambda who: who.username in backend.accounts
    ns.path_for = lambda operation, who, entry: f"/users/{who.username}"
    ns.request_at = lambda operation, who, path: SimpleNamespace(path=path)
    ns.token = lambda who: who.username
    ns.send = send
    ns.refused_in_body = refused_in_body
    ns.succeeded = lambda response: response.is_success and refused_in_body(response) is None
    return ns


def test_deleting_another_users_account_is_a_finding_between_throwaway_accounts_only() -> None:
    from fixtures.engine.checks import Failure
    from suites.test_cross_user import _attack_account

    backend = AccountBackend(vulnerable=True)
    ctx = account_ctx(backend)
    with pytest.raises(Failure, match="can no longer log in") as failure:
        _attack_account(ctx, op("DELETE", "/users/{username}"), ctx.users[1], ctx.users[0])
    assert failure.value.title == "User B can delete user A's account"
    assert not {u.username for u in ctx.users} & set(backend.sent_as)  # never sent as a test user


@pytest.mark.parametrize("answer", [(403, {"detail": "no"}), (200, {"status": "fail", "message": "not allowed"})])
def test_a_refused_account_deletion_is_a_pass_that_says_the_victim_can_still_log_in(
    answer: tuple[int, dict[str, object]]
) -> None:
    from suites.test_cross_user import _attack_account

    ctx = account_ctx(AccountBackend(vulnerable=False, answer=answer))
    _attack_account(ctx, op("DELETE", "/users/{username}"), ctx.users[1], ctx.users[0])
    assert "can still log in" in ctx.note


def test_a_claimed_success_without_effect_is_a_lesser_finding() -> None:
    from fixtures.engine.checks import Failure
    from suites.test_cross_user import _attack_account

    ctx = account_ctx(AccountBackend(vulnerable=False, answer=(200, {"status": "success", "data": {}})))
    with pytest.raises(Failure, match="still log in") as failure:
        _attack_account(ctx, op("DELETE", "/users/{username}"), ctx.users[1], ctx.users[0])
    assert failure.value.title == "API claims success for deleting another user's account"
