"""Pure logic of the cross-user suite: pairs, ids of the same shape, declared violations, masks, excerpts."""

from __future__ import annotations

import random
import uuid

import pytest

from fixtures import compare
from fixtures.catalogue import Operation
from suites.test_cross_user import (
    PAIRS,
    contains_value,
    declared_violation,
    deletes_objects,
    deletes_objects_not_accounts,
    excerpt,
    foreign_canaries,
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
