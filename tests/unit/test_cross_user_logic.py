"""Pure logic of the cross-user suite: pairs, ids of the same shape, declared violations, masks, excerpts."""

from __future__ import annotations

import random
import secrets
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from fixtures.analysis import compare
from fixtures.analysis.idanalysis import ChosenValue, ObservedId
from fixtures.api.catalogue import Operation, Parameter
from fixtures.engine.checks import Failure, Severity
from fixtures.engine.seeder import Ledger, LedgerEntry
from fixtures.identity import TestUser
from suites.test_cross_user import (
    PAIRS,
    chosen_ids_reason,
    contains_value,
    declared_violation,
    deletes_objects,
    deletes_objects_not_accounts,
    excerpt,
    foreign_canaries,
    harness_choices,
    id_param_of,
    merge_masks,
    names_ids,
    ordered_pairs,
    parse_pair,
    path_values,
    reads_items,
    reads_objects,
    unused_id_like,
    writes_objects,
)
from suites.test_cross_user import test_enumerable_id as enumerable_id_check


def operation(method: str, path: str, *, user_params: tuple[str, ...] = (), needs_auth: bool = True) -> Operation:
    return Operation(method=method, path=path, operation_id=None, tags=(), needs_auth=needs_auth,
                     auth_reason="the document's global security: bearer", parameters=(), body_schema=None,
                     body_media_type=None, user_params=user_params)


# -- pairs -------------------------------------------------------------------------------------------------------
def test_every_ordered_pair_of_three_users_is_a_variant() -> None:
    assert PAIRS == ("user2->user1", "user3->user1", "user1->user2", "user3->user2", "user1->user3", "user2->user3")
    assert len(ordered_pairs(["a", "b", "c", "d"])) == 12


def test_a_pair_parses_into_attacker_and_victim() -> None:
    assert parse_pair("user3->user1") == ("user3", "user1")


# -- scopes ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("op", "read", "write", "delete", "item_read", "ids"),
    [
        (operation("GET", "/v1/notes/{note_id}"), True, False, False, True, True),
        (operation("GET", "/v1/notes"), False, False, False, False, False),
        (operation("PUT", "/v1/notes/{note_id}"), False, True, False, False, False),
        (operation("PATCH", "/v1/notes/{note_id}"), False, True, False, False, False),
        (operation("POST", "/v1/notes/{note_id}/shares"), False, True, False, False, False),
        (operation("POST", "/v1/notes"), False, False, False, False, False),
        (operation("DELETE", "/v1/notes/{note_id}"), False, False, True, False, False),
        (operation("GET", "/v1/users/{user_id}/profile", user_params=("user_id",)), True, False, False, False, True),
        (operation("PUT", "/v1/users/{user_id}/profile", user_params=("user_id",)), False, True, False, False, False),
    ],
    ids=lambda value: value.label if isinstance(value, Operation) else None,
)
def test_scopes(op: Operation, read: bool, write: bool, delete: bool, item_read: bool, ids: bool) -> None:
    assert (reads_objects(op), writes_objects(op), deletes_objects(op), reads_items(op), names_ids(op)) == (
        read, write, delete, item_read, ids)


def test_deleting_a_user_account_is_not_attempted_and_says_why() -> None:
    account = operation("DELETE", "/v1/users/{user_id}", user_params=("user_id",))
    reason = deletes_objects_not_accounts(account)
    assert reason is not None
    assert "`{user_id}`" in reason
    assert "not attempted" in reason
    assert deletes_objects_not_accounts(operation("DELETE", "/v1/notes/{note_id}")) is None
    public = operation("DELETE", "/v1/notes/{note_id}", needs_auth=False)
    assert "public" in (deletes_objects_not_accounts(public) or "")


# -- ids of the same shape ---------------------------------------------------------------------------------------
def test_an_unused_uuid_is_a_fresh_uuid4() -> None:
    value = str(uuid.uuid4())
    other = unused_id_like(value, {value}, rng=random.Random(1))
    assert other != value
    assert uuid.UUID(other).version == 4
    assert unused_id_like(value.upper(), set(), rng=random.Random(1)).isupper()


def test_an_unused_integer_lies_far_above_every_known_one() -> None:
    other = unused_id_like("3", {"1", "2", "3", "250"}, rng=random.Random(1))
    assert int(other) > 250 + 999_999


def test_a_zero_padded_integer_keeps_its_padding_when_it_fits() -> None:
    other = unused_id_like("00000042", {"00000042"}, rng=random.Random(1))
    assert len(other) == 8
    assert other.isdigit()
    assert other != "00000042"


@pytest.mark.parametrize("value", ["usr_a8F3kQ", "9f86d081884c7d65", "ENT-2024-0042"])
def test_other_ids_keep_length_separators_and_character_kinds(value: str) -> None:
    other = unused_id_like(value, {value}, rng=random.Random(7))
    assert other != value
    assert len(other) == len(value)
    for before, after in zip(value, other, strict=True):
        assert before.isdigit() == after.isdigit()
        assert before.islower() == after.islower()
        assert before.isupper() == after.isupper()
        if not before.isalnum():
            assert before == after


def test_hex_ids_stay_hex() -> None:
    other = unused_id_like("9f86d081884c7d65", set(), rng=random.Random(3))
    assert set(other) <= set("0123456789abcdef")


# -- what the spec declares --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "schema", "violated"),
    [
        ("not-an-id'", {"type": "integer"}, True),
        ("42", {"type": "integer"}, False),
        ("not-an-id'", {"type": "string", "format": "uuid"}, True),
        ("not-an-id'", {"type": "string"}, False),
        ("not-an-id'", {"type": "string", "pattern": "^[0-9a-f-]{36}$"}, True),
        ("not-an-id'", {"type": "string", "maxLength": 5}, True),
        ("not-an-id'", {"type": "string", "enum": ["a", "b"]}, True),
        ("not-an-id'", {"anyOf": [{"type": "integer"}, {"type": "null"}]}, True),
    ],
)
def test_declared_violation(value: str, schema: dict[str, object], violated: bool) -> None:
    assert (declared_violation(value, schema) is not None) is violated


# -- comparing and reporting -------------------------------------------------------------------------------------
def test_merged_masks_hide_what_is_dynamic_in_either_request() -> None:
    def shape(body: str) -> compare.ResponseShape:
        return compare.ResponseShape(404, {"content-type": "application/json"}, body)

    foreign = compare.learn_dynamic([shape('{"detail":"no","trace":"a1"}'), shape('{"detail":"no","trace":"b2"}')])
    unknown = compare.learn_dynamic([shape('{"detail":"no","span":"x"}'), shape('{"detail":"no","span":"y"}')])
    mask = merge_masks(foreign, unknown)
    assert mask.json_paths == {"/trace", "/span"}
    first = mask.apply(shape('{"detail":"no","trace":"c3","span":"z"}'))
    second = mask.apply(shape('{"detail":"no","trace":"d4","span":"w"}'))
    assert compare.diff_responses(first, second) == []
    assert compare.diff_responses(first, mask.apply(shape('{"detail":"other","trace":"c3","span":"z"}')))


def test_foreign_canaries_leave_out_the_readers_own() -> None:
    canaries = {"user1": "cnryaaa", "user2": "cnrybbb", "user3": "cnryccc"}
    text = '[{"title":"x cnryaaax1"},{"title":"y cnrybbbx2"}]'
    assert foreign_canaries(text, canaries, "user2") == {"user1": "cnryaaa"}
    assert foreign_canaries(text, canaries, "user3") == {"user1": "cnryaaa", "user2": "cnrybbb"}


def test_identifiers_are_found_whole() -> None:
    assert contains_value('{"email":"run-user1@example.org"}', "run-user1@example.org")
    assert contains_value('{"owner":"run-user1"}', "run-user1")
    assert not contains_value('{"owner":"run-user10"}', "run-user1")
    assert not contains_value("/v1/users/xrun-user1/profile", "run-user1")


def test_an_excerpt_shows_the_surroundings_on_one_line() -> None:
    text = "a" * 100 + "\nNEEDLE\n" + "b" * 100
    shown = excerpt(text, "NEEDLE", width=5)
    assert shown == "…aaaa NEEDLE bbbb…"
    assert excerpt("short NEEDLE", "NEEDLE") == "short NEEDLE"
    assert excerpt("nothing", "NEEDLE") == ""


def test_path_values_and_id_params() -> None:
    assert path_values("/v1/users/{user_id}/notes/{note_id}", "/v1/users/abc/notes/7") == ["abc", "7"]
    assert id_param_of("/v1/users/{user_id}/notes/{note_id}") == "note_id"


# -- enumerable_id: values the harness chose itself are not judged -------------------------------------------------
TAG = "digasec-20261201205000-a1b2c3"


def make_user(n: int, *, sub: str = "") -> TestUser:
    return TestUser(key=f"user{n}", username=f"{TAG}-user{n}", password=f"Pw-{n}-{secrets.token_hex(8)}",
                    email=f"{TAG}-user{n}@example.org", first_name="Jo", last_name="Doe",
                    sub=sub or str(uuid.uuid4()), canary=f"cnry{secrets.token_hex(6)}")


class FakeContext:
    """What test_enumerable_id uses of a CheckContext: the identity, the ledger, and sending (recorded here)."""

    def __init__(self, users: list[TestUser], *, provider: str = "backend_api",
                 entries: list[LedgerEntry] | None = None) -> None:
        self.users = users
        self.note = ""
        self.sent: list[str] = []
        self.harness = SimpleNamespace(identity=SimpleNamespace(users=users, spare_users=[], provider=provider),
                                       ledger=Ledger(entries or []))

    def user(self, key: str) -> TestUser | None:
        return next((user for user in self.users if user.key == key), None)

    def path_for(self, op: Operation, user: TestUser, entry: LedgerEntry | None) -> str:
        return entry.path if entry is not None else op.path

    def request_at(self, op: Operation, user: TestUser, path: str) -> str:
        return f"{op.method} {path}"

    def token(self, user: TestUser) -> str:
        return "token"

    def send(self, request: str, *, bearer: str, **_: Any) -> None:
        self.sent.append(request)


def user_op(param: str, schema: dict[str, Any] | None = None) -> Operation:
    parameter = Parameter(param, "path", True, schema or {"type": "string"})
    return Operation(method="GET", path=f"/v1/users/{{{param}}}", operation_id=None, tags=(), needs_auth=True,
                     auth_reason="bearer", parameters=(parameter,), body_schema=None, body_media_type=None,
                     user_params=(param,))


def run_check(op: Operation, ctx: FakeContext) -> None:
    enumerable_id_check(op, ctx)  # type: ignore[arg-type]


def test_usernames_the_harness_chose_are_a_skip_not_a_prefixed_counter() -> None:
    ctx = FakeContext([make_user(n) for n in (1, 2, 3)])
    with pytest.raises(pytest.skip.Exception) as skipped:
        run_check(user_op("username"), ctx)
    assert str(skipped.value) == ("the ids of `{username}` are usernames the harness chose itself; "
                                  "nothing to judge")
    assert ctx.sent == []


def test_e_mail_addresses_the_harness_chose_are_a_skip() -> None:
    with pytest.raises(pytest.skip.Exception, match="e-mail addresses the harness chose itself; nothing to judge"):
        run_check(user_op("email"), FakeContext([make_user(n) for n in (1, 2, 3)]))


def test_usernames_of_given_accounts_are_a_skip_that_says_where_they_came_from() -> None:
    ctx = FakeContext([make_user(n) for n in (1, 2, 3)], provider="keycloak_accounts")
    with pytest.raises(pytest.skip.Exception, match=r"came with the test accounts .* not assigned by the server"):
        run_check(user_op("username"), ctx)


def test_server_assigned_sequential_user_ids_stay_a_finding() -> None:
    ctx = FakeContext([make_user(n, sub=str(n + 40)) for n in (1, 2, 3)])
    with pytest.raises(Failure) as found:
        run_check(user_op("user_id", {"type": "integer"}), ctx)
    assert found.value.severity is Severity.HIGH
    assert "41, 42, 43" in found.value.message
    assert len(ctx.sent) == 3


def test_random_server_assigned_user_ids_pass_with_the_verdict_as_note() -> None:
    ctx = FakeContext([make_user(n) for n in (1, 2, 3)])
    run_check(user_op("user_id"), ctx)
    assert "version-4" in ctx.note


def test_a_sub_that_is_the_harness_chosen_e_mail_is_not_judged() -> None:
    users = [make_user(n) for n in (1, 2, 3)]
    users = [TestUser(**{**vars(user), "sub": user.email}) for user in users]
    with pytest.raises(pytest.skip.Exception, match="e-mail addresses the harness chose itself"):
        run_check(user_op("user_id"), FakeContext(users))


def uuid7(ms: int) -> str:
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (secrets.randbits(12) << 64) | (0b10 << 62)
                         | secrets.randbits(62)))


def note_entries(ids: list[str], users: list[TestUser]) -> list[LedgerEntry]:
    return [LedgerEntry("/v1/notes/{note_id}", users[index % len(users)].key, value, {"note_id": value},
                        f"{users[index % len(users)].canary}x{index}", "POST /v1/notes")
            for index, value in enumerate(ids)]


def note_op() -> Operation:
    return Operation(method="GET", path="/v1/notes/{note_id}", operation_id=None, tags=(), needs_auth=True,
                     auth_reason="bearer", parameters=(Parameter("note_id", "path", True, {"type": "string"}),),
                     body_schema=None, body_media_type=None)


def test_uuid7_object_ids_pass_and_the_note_says_they_reveal_creation_time() -> None:
    import time

    users = [make_user(n) for n in (1, 2, 3)]
    now_ms = int(time.time() * 1000)
    ctx = FakeContext(users, entries=note_entries([uuid7(now_ms + step * 7) for step in range(6)], users))
    run_check(note_op(), ctx)
    assert "version-7" in ctx.note
    assert "created" in ctx.note


def test_uuid4_object_ids_pass() -> None:
    users = [make_user(n) for n in (1, 2, 3)]
    ctx = FakeContext(users, entries=note_entries([str(uuid.uuid4()) for _ in range(6)], users))
    run_check(note_op(), ctx)
    assert "version-4" in ctx.note


def test_object_ids_made_from_the_harness_canaries_are_not_judged() -> None:
    users = [make_user(n) for n in (1, 2, 3)]
    ctx = FakeContext(users, entries=note_entries([f"{users[n % 3].canary}x{n}" for n in range(6)], users))
    with pytest.raises(pytest.skip.Exception, match="values made from its canaries the harness chose itself"):
        run_check(note_op(), ctx)


def test_sequential_object_ids_stay_a_finding_and_chosen_ones_beside_them_are_named() -> None:
    users = [make_user(n) for n in (1, 2, 3)]
    entries = note_entries(["7", "8", "9", f"{TAG}-user1-note"], users)
    ctx = FakeContext(users, entries=entries)
    with pytest.raises(Failure) as found:
        run_check(note_op(), ctx)
    assert found.value.severity is Severity.HIGH
    assert "not judged: 1 of 4 ids, the ids of `{note_id}` are usernames the harness chose itself" in \
        found.value.message
    assert ctx.sent == [f"GET {entry.path}" for entry in entries[:3]]


def test_harness_choices_leave_out_the_servers_sub() -> None:
    user = make_user(1, sub="42")
    values = {chosen.value for chosen in harness_choices([user])}
    assert values == {user.username, user.email, "Jo", "Doe", user.canary}
    dropped = [(ObservedId(user.canary, "user1"), ChosenValue(user.canary, "canary"))]
    assert chosen_ids_reason("x", dropped, harness_made=False) == \
        "the ids of `{x}` are values made from its canaries the harness chose itself"
