"""Attacks replay the owner's request exactly (issue 14, item 4): an attack differs from the request that succeeded
only in its credential or its target, and a refusal counts only next to the owner's own answer to the same request.
Robust evidence (item 5): canaries in free text despite an `example`, short canaries for small `maxLength`, bodies
compared after masking what differs between two reads by the owner."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from fixtures.analysis import compare
from fixtures.api.catalogue import Operation
from fixtures.api.datagen import SHORT_CANARY_LENGTH, ValueGenerator, canary_forms, is_free_text, short_canary
from fixtures.engine.context import aimed_at
from fixtures.engine.http import Request
from suites.test_authentication import _refusal_counts, needs_owners_answer
from suites.test_cross_user import owner_canaries


def operation(method: str, path: str) -> Operation:
    return Operation(method=method, path=path, operation_id=None, tags=(), needs_auth=True, auth_reason="bearer",
                     parameters=(), body_schema={"type": "object"}, body_media_type="application/json")


# -- aimed_at: the same request, another target ---------------------------------------------------------------------
def test_aimed_at_changes_the_path_and_nothing_else() -> None:
    request = Request("PUT", "/v1/notes/n-111", params={"q": "cnryx"}, json={"title": "t", "n": 3},
                      headers={"X-Tenant": "a"}, media_type="application/json")
    aimed = aimed_at(request, "/v1/notes/{note_id}", "/v1/notes/n-222")
    assert aimed == Request("PUT", "/v1/notes/n-222", params={"q": "cnryx"}, json={"title": "t", "n": 3},
                            headers={"X-Tenant": "a"}, media_type="application/json")


def test_aimed_at_renames_the_target_where_the_query_or_body_repeat_it() -> None:
    request = Request("POST", "/shelves/s-1/books/b-1", params={"shelf": "s-1"},
                      json={"id": "b-1", "tags": ["b-1", "b-10"], "note": "about b-1", "count": 1})
    aimed = aimed_at(request, "/shelves/{shelf}/books/{book}", "/shelves/s-2/books/b-2")
    assert aimed.params == {"shelf": "s-2"}
    # whole values only: a longer value or a sentence that mentions the id stays as it was
    assert aimed.json == {"id": "b-2", "tags": ["b-2", "b-10"], "note": "about b-1", "count": 1}


def test_aimed_at_swaps_account_values_but_the_paths_ids_win() -> None:
    request = Request("DELETE", "/users/own1", json={"username": "own1", "password": "pw-own1"})
    aimed = aimed_at(request, "/users/{username}", "/users/own2", {"own1": "own3", "pw-own1": "pw-own3"})
    assert aimed.json == {"username": "own2", "password": "pw-own3"}


# -- a refusal counts only next to the owner's own answer to the same request -----------------------------------------
GET = operation("GET", "/v1/notes/{note_id}")
POST = operation("POST", "/v1/notes")
REQUEST = Request("POST", "/v1/notes", json={"title": "cnry1c1"})


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_refuse_the_credential_whatever_the_request(status: int) -> None:
    assert not needs_owners_answer(POST, REQUEST, REQUEST, status)


@pytest.mark.parametrize("status", [400, 404, 409, 422, 200])
def test_other_refusals_of_a_call_that_changes_state_need_the_owners_answer(status: int) -> None:
    assert needs_owners_answer(POST, REQUEST, REQUEST, status)


def test_a_read_replayed_exactly_is_judged_against_the_baseline_itself() -> None:
    read = Request("GET", "/v1/notes/n-1")
    assert not needs_owners_answer(GET, read, read, 404)
    assert needs_owners_answer(GET, read, Request("GET", "/v1/notes/n-1", params={"x": "1"}), 404)


class Owner:
    """A fake context: the owner's own answer to the attack's request is `answer`."""

    def __init__(self, answer: httpx.Response) -> None:
        self.answer, self.sent, self.note = answer, [], ""  # type: httpx.Response, list[Any], str

    def token(self, user: Any) -> str:
        return "owner-token"

    def send(self, request: Request, *, bearer: str | None = None, role: str = "", **_: Any) -> httpx.Response:
        self.sent.append((request, bearer, role))
        return self.answer

    def succeeded(self, response: httpx.Response) -> bool:
        return response.is_success

    def refused_in_body(self, response: httpx.Response) -> str | None:
        return None


TARGET = SimpleNamespace(key="user1")


def test_a_404_counts_as_a_refusal_where_the_owners_identical_request_succeeds() -> None:
    ctx = Owner(httpx.Response(201, json={"id": "n"}))
    _refusal_counts(ctx, POST, (REQUEST, httpx.Response(201)), REQUEST, httpx.Response(404), TARGET,  # type: ignore[arg-type]
                    "with an unsigned token")
    assert ctx.sent == [(REQUEST, "owner-token", "reference")]  # the very request, with the owner's credential
    assert "own identical request answered 201" in ctx.note


def test_a_404_that_the_owner_gets_too_is_no_pass() -> None:
    ctx = Owner(httpx.Response(404))
    with pytest.raises(pytest.skip.Exception, match=r"no verdict: .* answered 404, and user1's own "
                                                    r"identical request answered 404"):
        _refusal_counts(ctx, POST, (REQUEST, httpx.Response(201)), REQUEST, httpx.Response(404),  # type: ignore[arg-type]
                        TARGET, "with an unsigned token")


def test_a_401_needs_no_second_request() -> None:
    ctx = Owner(httpx.Response(500))
    _refusal_counts(ctx, POST, (REQUEST, httpx.Response(201)), REQUEST, httpx.Response(401), TARGET,  # type: ignore[arg-type]
                    "without any credentials")
    assert ctx.sent == []


# -- canaries: free text despite an example; short where maxLength is small -----------------------------------------
CANARY = "cnry0123456789abc7"


def test_free_text_with_an_example_carries_the_canary() -> None:
    body = ValueGenerator(canary=CANARY, seed=1).value_for({
        "type": "object", "required": ["bio", "country", "email"],
        "properties": {"bio": {"type": "string", "example": "I like tea"},
                       "country": {"type": "string", "maxLength": 2, "example": "DE"},
                       "email": {"type": "string", "format": "email", "example": "a@example.org"}},
    })
    assert CANARY in body["bio"]
    assert body["country"] == "DE"  # no room even for the short form: the example is better than a cut canary
    assert body["email"] == "a@example.org"  # not free text: the example stays


@pytest.mark.parametrize("limit", [SHORT_CANARY_LENGTH, 12, len(CANARY) - 1])
def test_a_small_max_length_gets_the_short_canary(limit: int) -> None:
    value = ValueGenerator(canary=CANARY, seed=1, short="shortfrm").value_for({"type": "string", "maxLength": limit})
    assert value == "shortfrm"
    default = ValueGenerator(canary=CANARY, seed=1).value_for({"type": "string", "maxLength": limit})
    assert default == short_canary(CANARY)


def test_a_max_length_that_holds_the_canary_gets_it_whole() -> None:
    assert ValueGenerator(canary=CANARY, seed=1).value_for({"type": "string", "maxLength": len(CANARY)}) == CANARY


def test_the_short_canary_has_40_bits_and_tells_owners_apart() -> None:
    forms = {short_canary(f"cnry{index:012x}") for index in range(2000)}
    assert len(forms) == 2000
    assert all(re.fullmatch(r"[a-z2-7]{8}", form) for form in forms)  # base32: 8 x 5 = 40 bits
    assert canary_forms(CANARY) == (CANARY, short_canary(CANARY))


@pytest.mark.parametrize(("schema", "free"), [
    ({"type": "string"}, True), ({"type": ["string", "null"], "maxLength": 9}, True), ({}, True),
    ({"type": "string", "format": "email"}, False), ({"type": "string", "pattern": "^a$"}, False),
    ({"type": "string", "enum": ["a"]}, False), ({"type": "integer"}, False), ({"properties": {}}, False),
])
def test_what_counts_as_free_text(schema: dict[str, Any], free: bool) -> None:
    assert is_free_text(schema) is free


def test_owner_canaries_include_the_short_forms_of_the_objects() -> None:
    found = owner_canaries("cnryu1", ["cnryu1x3", "", "cnryu1"])
    assert found == [("cnryu1", False), (short_canary("cnryu1"), True), (short_canary("cnryu1x3"), True)]


# -- bodies compared after masking what differs between two reads by the owner ----------------------------------------
def shape(body: dict[str, Any]) -> compare.ResponseShape:
    return compare.ResponseShape(200, {"content-type": "application/json"}, json.dumps(body))


def test_fields_that_change_between_the_owners_reads_are_masked() -> None:
    first = shape({"id": "n-1", "title": "secret", "views": 1, "last_seen": "2026-12-02T10:00:00"})
    second = shape({"id": "n-1", "title": "secret", "views": 2, "last_seen": "2026-12-02T10:00:01"})
    attacked = shape({"id": "n-1", "title": "secret", "views": 3, "last_seen": "2026-12-02T10:00:02"})
    other = shape({"id": "n-1", "title": "other", "views": 3, "last_seen": "2026-12-02T10:00:02"})
    mask = compare.owner_mask([first, second], mask_literals=["n-1"])
    assert compare.same_body(mask, attacked, first, first_literals=["n-1"], second_literals=["n-1"])
    assert not compare.same_body(mask, other, first, first_literals=["n-1"], second_literals=["n-1"])
    # one read shows nothing to mask: the counter alone tells the answers apart
    single = compare.owner_mask([first])
    assert single.is_empty
    assert not compare.same_body(single, attacked, first)


# -- keeping_key: a write sends the key it addresses in the body field named like it ---------------------------------
def test_a_body_field_named_like_the_item_key_carries_the_paths_value() -> None:
    from fixtures.api.catalogue import Parameter
    from fixtures.engine.context import keeping_key

    schema = {"type": "object", "properties": {"title": {"type": "string"}, "summary": {"type": "string"}}}
    put = Operation(method="PUT", path="/shelves/{slug}/books/{bookTitle}", operation_id=None, tags=(),
                    needs_auth=True, auth_reason="bearer",
                    parameters=(Parameter("slug", "path", True, {"type": "string"}),
                                Parameter("bookTitle", "path", True, {"type": "string"})),
                    body_schema=schema, body_media_type="application/json")
    body = keeping_key(put, "/shelves/s1/books/cnry7x3", {"title": "generated", "summary": "cnry7c9"})
    assert body == {"title": "cnry7x3", "summary": "cnry7c9"}
    assert keeping_key(put, "/shelves/s1/books/cnry7x3", {"summary": "x"}) == {"summary": "x", "title": "cnry7x3"}
    unrelated = {"type": "object", "properties": {"summary": {"type": "string"}}}
    other = Operation(method="PUT", path="/notes/{note_id}", operation_id=None, tags=(), needs_auth=True,
                      auth_reason="bearer", parameters=(Parameter("note_id", "path", True, {"type": "string"}),),
                      body_schema=unrelated, body_media_type="application/json")
    assert keeping_key(other, "/notes/7", {"summary": "x"}) == {"summary": "x"}
