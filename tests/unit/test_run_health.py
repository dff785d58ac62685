"""Run health (issue 13): no_baseline / credential_lost entries, their way from xdist workers to the controller,
a credential that dies mid-run (renewed where the source can, otherwise the item says so), the same identity given
for two users, and seeding failures of the target that make items errors instead of skips."""

from __future__ import annotations

import json
import secrets
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from fixtures.engine.checks import CheckError
from fixtures.engine.context import CheckContext
from fixtures.engine.harness import refuse_same_users, same_users
from fixtures.engine.health import LostCredential, RunHealth
from fixtures.engine.http import Request
from fixtures.engine.seeder import Ledger, LedgerEntry, SeedError
from fixtures.errors import ProfileError
from fixtures.identity import RENEWABLE, TestUser


def user(n: int, *, sub: str | None = None, token: str | None = None) -> TestUser:
    return TestUser(key=f"user{n}", username=f"u{n}", password="", email="", first_name="", last_name="",
                    sub=sub if sub is not None else str(uuid.uuid4()), canary=f"cnry{secrets.token_hex(4)}",
                    preissued_token=token)


# -- entries ------------------------------------------------------------------------------------------------------
def test_a_user_whose_baseline_never_succeeded_is_not_tested() -> None:
    health = RunHealth()
    health.baseline_tried("user1")
    health.baseline_ok("user2", Request("GET", "/x"), read_only=True)
    entries = health.not_tested(["user1", "user2", "user3"])
    assert [entry["code"] for entry in entries] == ["no_baseline"]
    assert "user1" in entries[0]["detail"]  # user3 was never asked: no claim about it


def test_a_lost_credential_is_one_entry_and_names_user_and_item() -> None:
    health = RunHealth()
    health.baseline_tried("user1")
    health.credential_lost(LostCredential("user1", "suites/x.py::t[GET /a]", 401, "tokens"))
    health.credential_lost(LostCredential("user1", "suites/x.py::t[GET /b]", 401, "tokens"))
    entries = health.not_tested(["user1"])
    assert [entry["code"] for entry in entries] == ["credential_lost"]
    assert "user1" in entries[0]["detail"]
    assert "GET /a" in entries[0]["detail"]
    assert "not tested" in (health.lost_reason() or "")


def test_worker_records_reach_the_controller() -> None:
    controller = RunHealth()
    loss = LostCredential("user2", "item", 403, "tokens")
    controller.merge(RunHealth.item_record({"user1", "user2"}, {"user1"}, None))
    controller.merge(RunHealth.item_record({"user2"}, set(), loss))
    assert controller.succeeded == {"user1"}
    assert controller.lost["user2"] == loss
    assert json.loads(RunHealth.item_record({"b", "a"}, set(), None)) == {"attempted": ["a", "b"], "succeeded": []}


# -- the same identity for two users --------------------------------------------------------------------------------
def headers(u: TestUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {u.preissued_token or u.username}"}


def test_two_users_with_one_subject_or_one_token_are_refused() -> None:
    assert same_users([user(1, sub="s"), user(2, sub="s")], headers) == ["user1 and user2 have the same subject (sub)"]
    assert same_users([user(1, sub="", token="t"), user(2, sub="", token="t")], headers) == [
        "user1 and user2 were given the same token"]
    with pytest.raises(ProfileError, match="user1 and user3") as err:
        refuse_same_users([user(1, sub="a"), user(2, sub="b"), user(3, sub="a")], headers)
    assert "own account" in str(err.value)


def test_the_same_credential_headers_are_refused_and_distinct_users_pass() -> None:
    same = [user(1, sub=""), user(2, sub="")]
    assert same_users(same, lambda u: {"Cookie": "session=one"}) == ["user1 and user2 send the same credential"]
    refuse_same_users([user(1), user(2), user(3)], headers)  # nothing raised


# -- a credential that stops working mid-run ------------------------------------------------------------------------
OP = SimpleNamespace(method="GET", path="/notes/{note_id}", label="GET /notes/{note_id}", read_only=True,
                     body_schema=None, removes_account=False, object_params=("note_id",), user_params=(),
                     segments=("notes", "{note_id}"))


class Source:
    def __init__(self, renewable: bool) -> None:
        self.name = "keycloak_admin" if renewable else "tokens"
        self.renewable = renewable

    def can(self, capability: str) -> bool:
        return self.renewable and capability == RENEWABLE


class Tokens:
    def __init__(self) -> None:
        self.generation = 1

    def token(self, u: TestUser, *, client: str | None = None) -> str:
        return f"t{self.generation}"

    def forget(self, u: TestUser) -> None:
        self.generation += 1


def context(renewable: bool, answer: Any) -> tuple[CheckContext, list[str]]:
    """A context whose requests go to `answer(request, token)`; the user's credential had worked before."""
    sent: list[str] = []
    owner = user(1)
    tokens = Tokens()
    harness = SimpleNamespace(
        health=RunHealth(), source=Source(renewable), tokens=tokens, ledger=Ledger(),
        identity=SimpleNamespace(users=[owner]),
        profile=SimpleNamespace(checks=SimpleNamespace(failure_rule=lambda: None)),
    )
    harness.health.baseline_ok("user1", Request("GET", "/notes/earlier"), read_only=True)
    ctx = CheckContext(harness, "cross_user_read")  # type: ignore[arg-type]
    ctx.item_name = "suites/test_x.py::test[GET /notes/{note_id}]"

    def send(request: Request, *, bearer: str | None = None, **_: Any) -> httpx.Response:
        sent.append(f"{request.path} {bearer}")
        return answer(request, bearer)

    ctx.request_for = lambda *a, **k: Request("GET", "/notes/n1")  # type: ignore[method-assign]
    ctx.send = send  # type: ignore[method-assign]
    return ctx, sent


def test_a_dead_credential_that_cannot_be_renewed_stops_the_item_with_that_reason() -> None:
    ctx, sent = context(False, lambda request, token: httpx.Response(401))
    with pytest.raises(pytest.skip.Exception, match="the credential of user1 stopped working") as skipped:
        ctx.baseline(OP, user(1))  # type: ignore[arg-type]
    assert "cannot renew" in str(skipped.value)
    assert "'tokens'" in str(skipped.value)
    assert sent == ["/notes/n1 t1", "/notes/earlier t1"]  # the request, then the re-check of a read that worked
    assert ctx.lost is not None
    assert ctx.harness.health.lost_reason()
    with pytest.raises(pytest.skip.Exception, match="not tested"):  # later items do not even try
        ctx.baseline(OP, user(1))  # type: ignore[arg-type]
    assert len(sent) == 2


def test_a_dead_credential_is_renewed_where_the_source_can() -> None:
    ctx, sent = context(True, lambda request, token: httpx.Response(401 if token == "t1" else 200, json={}))
    _request, response = ctx.baseline(OP, user(1))  # type: ignore[arg-type]
    assert response.status_code == 200
    assert sent == ["/notes/n1 t1", "/notes/earlier t1", "/notes/n1 t2"]
    assert ctx.lost is None
    assert ctx.harness.health.lost == {}


def test_a_refusal_of_one_operation_is_not_a_lost_credential() -> None:
    ctx, _sent = context(False, lambda request, token: httpx.Response(403 if request.path == "/notes/n1" else 200))
    with pytest.raises(pytest.skip.Exception, match="baseline failed"):
        ctx.baseline(OP, user(1))  # type: ignore[arg-type]
    assert ctx.harness.health.lost == {}


# -- seeding failures of the target: errors, not skips ---------------------------------------------------------------
def fault_context(ledger: Ledger, create_error: SeedError | None = None) -> CheckContext:
    def create(resource: str, owner: TestUser, into: Ledger) -> LedgerEntry:
        assert create_error is not None
        raise create_error

    seeder = SimpleNamespace(create=create, skip_reason=lambda resource: None, users={"user1": user(1)})
    profile = SimpleNamespace(identity=SimpleNamespace(role_names=["user"]))  # one role: objects of every user
    harness = SimpleNamespace(ledger=ledger, seeder=seeder, created_here=Ledger(), profile=profile)
    return CheckContext(harness, "cross_user_read")  # type: ignore[arg-type]


def test_an_object_the_target_failed_to_seed_makes_the_item_an_error() -> None:
    ledger = Ledger()
    ledger.fail("/notes/{note_id}", SeedError("the producer `POST /notes` answered HTTP 500", target_fault=True))
    with pytest.raises(CheckError, match=r"seeding failed.*HTTP 500"):
        fault_context(ledger).object_for(OP, user(1), fresh=False)  # type: ignore[arg-type]
    fresh = fault_context(Ledger(), SeedError("gave no answer", target_fault=True))
    with pytest.raises(CheckError, match="could not be created: gave no answer"):
        fresh.object_for(OP, user(1), fresh=True)  # type: ignore[arg-type]


def test_an_object_the_harness_could_not_build_still_skips() -> None:
    ledger = Ledger()
    ledger.fail("/notes/{note_id}", SeedError("HTTP 422: add a recipe"))
    with pytest.raises(pytest.skip.Exception, match="add a recipe"):
        fault_context(ledger).object_for(OP, user(1), fresh=False)  # type: ignore[arg-type]
