"""The seeder: producer inference (trailing slashes), finding the new id in enveloped bodies, reporting why a
creation failed, and never calling an operation the profile excludes. The target is an httpx MockTransport."""

from __future__ import annotations

import json
import random
import secrets
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.api.catalogue import Catalogue, build_catalogue
from fixtures.api.datagen import short_canary
from fixtures.engine.http import TargetClient
from fixtures.engine.redaction import Redactor
from fixtures.engine.seeder import Ledger, LedgerEntry, Seeder, SeedError, find_id, singular
from fixtures.identity import TestUser
from fixtures.target.profile import Profile, RecipeSettings, load_profile

PROJECT = Path(__file__).resolve().parents[2]
OK = {"200": {"description": "ok"}}
TITLE_BODY = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["title"], "properties": {"title": {"type": "string", "maxLength": 40}}}}}}


def param(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def spec() -> dict[str, Any]:
    """Collections declared with and without a trailing slash, a nested resource, a user-scoped one."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Seeding", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            # FastAPI style: the collection with a trailing slash, the item without
            "/api/items/": {"get": {"responses": OK}, "post": {"requestBody": TITLE_BODY, "responses": OK}},
            "/api/items/{id}": {"get": {"parameters": [param("id", "integer")], "responses": OK},
                                "delete": {"parameters": [param("id", "integer")], "responses": OK}},
            # the other direction: the collection without, the item (and its DELETE) with a trailing slash
            "/tags": {"post": {"requestBody": TITLE_BODY, "responses": OK}},
            "/tags/{tag_id}/": {"get": {"parameters": [param("tag_id")], "responses": OK},
                                "delete": {"parameters": [param("tag_id")], "responses": OK}},
            # nested: a folder's files
            "/folders": {"post": {"requestBody": TITLE_BODY, "responses": OK}},
            "/folders/{folder_id}": {"get": {"parameters": [param("folder_id")], "responses": OK},
                                     "delete": {"parameters": [param("folder_id")], "responses": OK}},
            "/folders/{folder_id}/files": {"post": {"parameters": [param("folder_id")], "requestBody": TITLE_BODY,
                                                    "responses": OK}},
            "/folders/{folder_id}/files/{file_id}": {
                "get": {"parameters": [param("folder_id"), param("file_id")], "responses": OK},
                "delete": {"parameters": [param("folder_id"), param("file_id")], "responses": OK}},
            # user-scoped notes (header_notes style)
            "/users/{username}/notes": {"post": {"parameters": [param("username")], "requestBody": TITLE_BODY,
                                                 "responses": OK}},
            "/users/{username}/notes/{note_id}": {
                "get": {"parameters": [param("username"), param("note_id")], "responses": OK},
                "delete": {"parameters": [param("username"), param("note_id")], "responses": OK}},
            # no producer at all
            "/reports/{report_id}": {"get": {"parameters": [param("report_id")], "responses": OK}},
        },
    }


def catalogue(doc: dict[str, Any] | None = None) -> Catalogue:
    return build_catalogue(doc or spec(), "0" * 64, public_operations=[],
                           user_path_params=["user_id", "userId", "username", "sub"])


def profile(*, exclude: list[str] | None = None, recipes: dict[str, RecipeSettings] | None = None,
            retries: int = 0) -> Profile:
    base = load_profile(PROJECT / "tests" / "targets" / "header_notes" / "profile.yaml")
    return base.model_copy(update={
        "checks": base.checks.model_copy(update={"exclude": exclude or [], "retries": retries}),
        "recipes": recipes or {},
    })


def make_user(n: int) -> TestUser:
    return TestUser(key=f"user{n}", username=f"digasec-t-user{n}", password=f"Pw-{n}-{secrets.token_hex(8)}",
                    email=f"digasec-t-user{n}@example.org", first_name="Jo", last_name="Doe",
                    sub=str(uuid.uuid4()), canary=f"cnry{secrets.token_hex(6)}")


class Tokens:
    def token(self, user: TestUser, *, client: str | None = None) -> str:
        return f"token-{user.key}"


Answer = Callable[[httpx.Request], httpx.Response]


class Target:
    """A fake backend: records every request; `answer` decides the response (default: a new id in `{"id": n}`)."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.calls: list[str] = []
        self.answer = answer or (lambda request: httpx.Response(201, json={"id": len(self.calls)}))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if request.method == "DELETE":
            return httpx.Response(204)
        return self.answer(request)


def seeder(target: Target, *, users: int = 1, doc: dict[str, Any] | None = None, **profile_args: Any) -> Seeder:
    client = TargetClient("http://127.0.0.1:9", timeout_s=5, redactor=Redactor(), retries=0,
                          transport=httpx.MockTransport(target.handle))
    return Seeder(catalogue(doc), client, Tokens(), [make_user(n) for n in range(1, users + 1)],  # type: ignore[arg-type]
                  profile(**profile_args))


# -- 1. producer inference: `/x` and `/x/` are one collection -------------------------------------------------
def test_a_post_on_the_collection_with_a_trailing_slash_produces_the_items() -> None:
    target = Target()
    seed = seeder(target)
    plan = seed.plans["/api/items/{id}"]
    assert plan.producer is not None
    assert plan.producer.label == "POST /api/items/"
    assert seed.skip_reason("/api/items/{id}") is None
    ledger = Ledger()
    seed.seed(ledger, 1)
    assert "/api/items/{id}" not in ledger.failures
    assert "POST /api/items/" in target.calls  # the path the spec declares, not a redirect
    assert [e.object_id for e in ledger.owned("/api/items/{id}", "user1")]


def test_a_collection_without_slash_produces_items_declared_with_one_and_cleanup_uses_the_declared_path() -> None:
    target = Target()
    seed = seeder(target)
    assert seed.plans["/tags/{tag_id}"].producer.label == "POST /tags"  # type: ignore[union-attr]
    ledger = Ledger()
    entry = seed.create("/tags/{tag_id}", seed.users["user1"], ledger)
    assert seed.delete_all(ledger) == []
    assert f"DELETE /tags/{entry.object_id}/" in target.calls
    assert entry.deleted


def test_without_any_post_on_the_collection_there_is_no_producer() -> None:
    seed = seeder(Target())
    assert seed.plans["/reports/{report_id}"].producer is None
    reason = seed.skip_reason("/reports/{report_id}")
    assert reason is not None
    assert "no producer found for `{report_id}`" in reason
    assert "add a recipe for `/reports/{report_id}`" in reason


def test_catalogue_find_prefers_the_exact_path_and_falls_back_across_the_trailing_slash() -> None:
    doc = spec()
    doc["paths"]["/api/items"] = {"post": {"requestBody": TITLE_BODY, "responses": OK, "operationId": "exact"}}
    cat = catalogue(doc)
    assert cat.find("POST", "/api/items").operation_id == "exact"  # type: ignore[union-attr]
    assert cat.find("POST", "/api/items/").operation_id is None  # type: ignore[union-attr]
    assert cat.find("DELETE", "/tags/{tag_id}").path == "/tags/{tag_id}/"  # type: ignore[union-attr]
    assert cat.find("POST", "/api/item") is None
    assert cat.find("GET", "/tags") is None


# -- 2. the new id, wherever the body keeps it ----------------------------------------------------------------
NOTE = "/users/{username}/notes/{note_id}"


@pytest.mark.parametrize(("body", "expected"), [
    ({"note_id": "n1", "id": "other"}, "n1"),  # the path parameter's name wins over `id`
    ({"noteId": "n1"}, "n1"),
    ({"status": "success", "data": {"note": {"id": "n1", "owner": {"id": "u9"}}}}, "n1"),
    ({"data": {"id": "n1"}}, "n1"),
    ({"result": {"uuid": "n1"}}, "n1"),
    ({"item": {"id": "n1"}}, "n1"),
    ({"note": {"id": "n1"}}, "n1"),
    ({"notes": [{"id": "n1"}]}, "n1"),  # a list with one element
    ([{"id": "n1"}], "n1"),
    ({"data": {"owner_id": "u9", "user_id": "u9", "id": "n1"}}, "n1"),
    ({"meta": {"id": "req-7"}, "data": {"id": "n1"}}, "n1"),  # the envelope before other containers
    ({"id": 0}, "0"),  # an integer id, even 0
    ({"jsonrpc": "2.0", "id": 1, "result": {"id": "n1"}}, "n1"),  # a wrapper's own id comes last
    ({"id": "envelope", "data": {"note": {"id": "n1"}}}, "n1"),
    ({"id": "n1", "content": {"id": "c1"}}, "n1"),  # an object with a nested part is no wrapper
    ({"id": "n1", "data": {}}, "n1"),
])
def test_the_id_is_found_in_envelopes(body: Any, expected: str) -> None:
    assert find_id(body, NOTE, "note_id", user_names=["username", "user_id"]) == expected


@pytest.mark.parametrize("body", [
    {"owner": {"id": "u9"}},  # only a user object's id
    {"owner_id": "u9", "userId": "u9", "createdBy": "u9"},  # only ids of users
    {"data": {"user": {"id": "u9"}}},
    [{"id": "n1"}, {"id": "n2"}],  # a list of several: which one is new?
    {"a": {"b": {"c": {"d": {"id": "deep"}}}}},  # deeper than 3
    {"id": True}, {"id": None}, {"id": ""}, {"id": {"value": "x"}}, {"id": "two words"},
    "n1", None,
])
def test_no_id_is_taken_from_users_lists_of_many_or_deep_nesting(body: Any) -> None:
    assert find_id(body, NOTE, "note_id", user_names=["username", "user_id"]) is None


def test_an_id_at_depth_three_is_found() -> None:
    assert find_id({"a": {"b": {"c": {"id": "n1"}}}}, NOTE, "note_id") == "n1"


def test_the_singular_id_comes_before_a_generic_id() -> None:
    body = {"data": {"id": "row-1", "note_id": "n1"}}
    assert find_id(body, "/notes/{nid}", "nid") == "n1"
    assert find_id({"entryId": "e1", "id": "x"}, "/v1/entries/{eid}", "eid") == "e1"
    assert find_id({"id": "x", "note_id": "n1"}, "/notes/{nid}", "nid") == "n1"


def test_a_user_named_parameter_takes_the_user_field() -> None:
    # the path parameter is `owner_id`: then that field is the one wanted
    assert find_id({"owner_id": "o1", "id": "x"}, "/owners/{owner_id}", "owner_id") == "o1"
    assert find_id({"patient": {"id": "p1"}}, "/patients/{pid}", "pid") == "p1"  # the resource's own name


@pytest.mark.parametrize(("word", "one"), [("notes", "note"), ("entries", "entry"), ("addresses", "address"),
                                          ("journal", "journal"), ("status", "status"), ("boxes", "box")])
def test_singular(word: str, one: str) -> None:
    assert singular(word) == one


def test_the_recipes_id_field_wins_over_location_and_body() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"id": "wrong", "data": {"ref": "right"}}, headers={"Location": "/x/loc"})

    seed = seeder(Target(answer), recipes={"/api/items/{id}": RecipeSettings(create="POST /api/items",
                                                                               id_field="data.ref")})
    assert seed.plans["/api/items/{id}"].producer.label == "POST /api/items/"  # type: ignore[union-attr]
    entry = seed.create("/api/items/{id}", seed.users["user1"], Ledger())
    assert entry.object_id == "right"


def test_a_recipes_id_field_missing_from_the_body_says_so() -> None:
    seed = seeder(Target(lambda r: httpx.Response(201, json={"id": "x"})),
                  recipes={"/api/items/{id}": RecipeSettings(create="POST /api/items/", id_field="data.ref")})
    with pytest.raises(SeedError, match=r"no field `data.ref` \(the recipe's id_field\)"):
        seed.create("/api/items/{id}", seed.users["user1"], Ledger())


def test_location_comes_before_the_body() -> None:
    seed = seeder(Target(lambda r: httpx.Response(201, json={"id": "body"},
                                                  headers={"Location": "/api/items/42/?x=1"})))
    assert seed.create("/api/items/{id}", seed.users["user1"], Ledger()).object_id == "42"


def test_an_enveloped_note_is_seeded_with_its_id() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "success", "data": {"note": {"id": "n-1", "owner_id": "u"}}})

    target = Target(answer)
    seed = seeder(target)
    user = seed.users["user1"]
    entry = seed.create(NOTE, user, Ledger())
    assert entry.object_id == "n-1"
    assert entry.path == f"/users/{user.username}/notes/n-1"


def test_a_success_without_any_id_asks_for_id_field() -> None:
    seed = seeder(Target(lambda r: httpx.Response(201, json={"status": "success", "data": {"owner_id": "u"}})))
    with pytest.raises(SeedError, match=r"no id for `\{note_id\}` was found.*add a recipe with `id_field`") as err:
        seed.create(NOTE, seed.users["user1"], Ledger())
    assert not err.value.target_fault


# -- 3. why a creation failed ---------------------------------------------------------------------------------
def test_a_5xx_is_reported_as_the_targets_failure_not_as_a_missing_recipe() -> None:
    target = Target(lambda r: httpx.Response(500, json={"detail": "database is down"}))
    seed = seeder(target, users=2)
    ledger = Ledger()
    seed.seed(ledger, 1)
    reason = ledger.failures["/api/items/{id}"]
    assert reason.startswith("the producer `POST /api/items/` answered HTTP 500")
    assert "database is down" in reason
    assert "recipe" not in reason
    assert "/api/items/{id}" in ledger.faults
    assert target.calls.count("POST /api/items/") == 1  # retries: 0; no second body, no second user after a 5xx
    assert Ledger.from_dict(json.loads(json.dumps(ledger.to_dict()))).faults == ledger.faults


def test_no_answer_at_all_is_reported_as_a_transport_failure() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    seed = seeder(Target(answer))
    with pytest.raises(SeedError, match=r"gave no answer .*ConnectError.*the target failed") as err:
        seed.create("/api/items/{id}", seed.users["user1"], Ledger())
    assert err.value.target_fault
    assert "recipe" not in str(err.value)


def test_a_2xx_with_a_failure_body_is_a_failure_with_its_message() -> None:
    target = Target(lambda r: httpx.Response(200, json={"status": "fail", "message": "title must not be empty"}))
    seed = seeder(target)
    ledger = Ledger()
    seed.seed(ledger, 1)
    reason = ledger.failures[NOTE]
    assert "HTTP 200 with a failure in the body" in reason
    assert '"title must not be empty"' in reason
    assert "add a recipe" in reason
    assert NOTE not in ledger.faults
    assert ledger.owned(NOTE, "user1") == []
    # the leaner body was tried before giving up, as for a 4xx
    assert sum(call.startswith("POST /users/") for call in target.calls) == 2


@pytest.mark.parametrize("body", [{"success": False, "error": "nope"}, {"ok": False}, {"status": "error"}])
def test_other_failure_bodies(body: dict[str, Any]) -> None:
    seed = seeder(Target(lambda r: httpx.Response(200, json=body)))
    with pytest.raises(SeedError, match="failure in the body"):
        seed.create("/api/items/{id}", seed.users["user1"], Ledger())


def test_a_status_that_is_not_a_failure_word_is_a_success() -> None:
    seed = seeder(Target(lambda r: httpx.Response(200, json={"status": "active", "id": 5})))
    assert seed.create("/api/items/{id}", seed.users["user1"], Ledger()).object_id == "5"


def test_a_4xx_keeps_the_recipe_advice_and_names_the_message() -> None:
    seed = seeder(Target(lambda r: httpx.Response(422, json={"detail": [{"msg": "field required"}]})))
    with pytest.raises(SeedError, match=r"HTTP 422: \"field required\".*add a recipe") as err:
        seed.create("/api/items/{id}", seed.users["user1"], Ledger())
    assert not err.value.target_fault


# -- 4. excluded operations are never called ------------------------------------------------------------------
def test_an_excluded_producer_is_never_called_and_its_objects_skip_with_that_reason() -> None:
    target = Target()
    seed = seeder(target, users=2, exclude=["POST /api/items"])  # the rule without the spec's trailing slash
    ledger = Ledger()
    seed.seed(ledger, 2)
    assert not any(call.startswith("POST /api/items") for call in target.calls)
    reason = ledger.failures["/api/items/{id}"]
    assert "`POST /api/items/`, is excluded by the profile (checks.exclude: 'POST /api/items')" in reason
    assert seed.skip_reason("/api/items/{id}") == reason
    with pytest.raises(SeedError, match="excluded by the profile"):  # fresh objects for a check: the same
        seed.create("/api/items/{id}", seed.users["user1"], ledger)
    assert not any(call.startswith("POST /api/items") for call in target.calls)
    # other resources are seeded as before
    assert len(ledger.owned("/tags/{tag_id}", "user1")) == 2


def test_an_excluded_parent_producer_stops_the_nested_resource_too() -> None:
    target = Target()
    seed = seeder(target, exclude=["POST /folders"])
    ledger = Ledger()
    seed.seed(ledger, 1)
    assert not any(call.startswith("POST /folders") for call in target.calls)
    assert "excluded by the profile" in ledger.failures["/folders/{folder_id}/files/{file_id}"]


def test_an_excluded_delete_is_not_called_at_cleanup_and_the_object_is_listed() -> None:
    target = Target()
    seed = seeder(target, exclude=["DELETE /api/items/{id}", "cross_user_delete:DELETE /tags/{tag_id}/",
                                   "cross_user_read"])
    ledger = Ledger()
    item = seed.create("/api/items/{id}", seed.users["user1"], ledger)
    tag = seed.create("/tags/{tag_id}", seed.users["user1"], ledger)
    problems = seed.delete_all(ledger)
    assert f"DELETE /api/items/{item.object_id}" not in target.calls
    assert not item.deleted
    assert problems == [f"/api/items/{item.object_id} (owner user1): `DELETE /api/items/{{id}}` is excluded by "
                        "the profile (checks.exclude: 'DELETE /api/items/{id}'); remove it by hand"]
    # a rule scoped to one check, or a bare check id, excludes test items, not the clean-up
    assert f"DELETE /tags/{tag.object_id}/" in target.calls
    assert tag.deleted


def test_without_exclusions_every_producer_and_deleter_is_used() -> None:
    target = Target()
    seed = seeder(target)
    ledger = Ledger()
    seed.seed(ledger, 1)
    assert "/api/items/{id}" not in ledger.failures
    assert NOTE not in ledger.failures
    assert seed.delete_all(ledger) == []
    assert all(entry.deleted for entry in ledger.entries)
    assert set(ledger.failures) == {"/reports/{report_id}"}



# -- 5. a failing target while seeding: retried as checks.retries says ----------------------------------------
@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    import fixtures.engine.seeder as seeder_module

    monkeypatch.setattr(seeder_module.time, "sleep", lambda seconds: None)


@pytest.mark.usefixtures("no_backoff")
def test_a_5xx_while_seeding_is_tried_again_as_often_as_retries_says() -> None:
    answers = iter([httpx.Response(503), httpx.Response(500), httpx.Response(201, json={"id": 7})])
    target = Target(lambda r: next(answers))
    seed = seeder(target, retries=2)
    entry = seed.create("/api/items/{id}", seed.users["user1"], Ledger())
    assert entry.object_id == "7"
    assert target.calls.count("POST /api/items/") == 3


@pytest.mark.usefixtures("no_backoff")
def test_a_5xx_that_persists_is_a_target_fault_after_every_retry() -> None:
    target = Target(lambda r: httpx.Response(500, json={"detail": "database is down"}))
    seed = seeder(target, retries=3)
    ledger = Ledger()
    with pytest.raises(SeedError, match="answered HTTP 500") as err:
        seed.create("/api/items/{id}", seed.users["user1"], ledger)
    assert err.value.target_fault
    assert "recipe" not in str(err.value)
    assert target.calls.count("POST /api/items/") == 4
    assert ledger.in_flight == {}


# -- 6. creations in flight when the run is interrupted ---------------------------------------------------------
def test_a_creation_interrupted_before_its_answer_is_reported_as_may_exist() -> None:
    def interrupted(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    seed = seeder(Target(interrupted))
    ledger = Ledger()
    with pytest.raises(KeyboardInterrupt):
        seed.create("/api/items/{id}", seed.users["user1"], ledger)
    assert list(ledger.in_flight.values()) == ["POST /api/items/ by user1"]
    problems = seed.delete_all(ledger)
    assert len(problems) == 1
    assert problems[0].startswith("may exist: POST /api/items/ by user1")
    assert ledger.in_flight == {}


def test_answered_creations_leave_nothing_in_flight() -> None:
    refused = seeder(Target(lambda r: httpx.Response(422, json={"detail": "no"})))
    ledger = Ledger()
    with pytest.raises(SeedError):
        refused.create("/api/items/{id}", refused.users["user1"], ledger)
    seed = seeder(Target())
    seed.create("/api/items/{id}", seed.users["user1"], ledger)
    assert ledger.in_flight == {}
    assert seed.delete_all(ledger) == []


# -- 7. keys the client chooses, PUT-create, nested parents (the resource model) ------------------------------------
def keyed_spec() -> dict[str, Any]:
    """A title sent in the body is the key; a page is created with PUT under its slug; books live on a shelf."""
    def body(*fields: str) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": {
            "type": "object", "required": list(fields), "properties": {f: {"type": "string"} for f in fields}}}}}

    return {
        "openapi": "3.0.3",
        "info": {"title": "Keys", "version": "1"},
        "paths": {
            "/notes/": {"post": {"requestBody": body("title", "text"), "responses": OK}},
            "/notes/{noteTitle}": {"get": {"parameters": [param("noteTitle")], "responses": OK},
                                   "delete": {"parameters": [param("noteTitle")], "responses": OK}},
            "/pages/{slug}": {"put": {"parameters": [param("slug")], "requestBody": body("slug", "text"),
                                      "responses": OK},
                              "delete": {"parameters": [param("slug")], "responses": OK}},
            "/shelves": {"post": {"requestBody": body("name"), "responses": OK}},
            "/shelves/{shelf}": {"get": {"parameters": [param("shelf")], "responses": OK},
                                 "delete": {"parameters": [param("shelf")], "responses": OK}},
            "/shelves/{shelf}/books/": {"post": {"parameters": [param("shelf")], "requestBody": body("text"),
                                                 "responses": OK}},
            "/shelves/{shelf}/books/{bookId}": {
                "get": {"parameters": [param("shelf"), param("bookId")], "responses": OK},
                "delete": {"parameters": [param("shelf"), param("bookId")], "responses": OK}},
        },
    }


class Recorder:
    """A fake backend that keeps every request; answers `{"status": "created"}` (no id) unless told otherwise."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or (lambda request: httpx.Response(201, json={"status": "created"}))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(204) if request.method == "DELETE" else self.answer(request)

    def sent(self, method: str) -> list[tuple[str, Any]]:
        return [(r.url.path, json.loads(r.content) if r.content else None) for r in self.requests if r.method == method]


def keyed_seeder(target: Recorder, **profile_args: Any) -> Seeder:
    client = TargetClient("http://127.0.0.1:9", timeout_s=5, redactor=Redactor(), retries=0,
                          transport=httpx.MockTransport(target.handle))
    return Seeder(catalogue(keyed_spec()), client, Tokens(), [make_user(1), make_user(2)],  # type: ignore[arg-type]
                  profile(**profile_args))


def test_a_title_the_client_sends_is_the_key_when_the_answer_holds_no_id() -> None:
    target = Recorder()
    seed = keyed_seeder(target)
    user = seed.users["user1"]
    entry = seed.create("/notes/{noteTitle}", user, Ledger())
    [(path, sent)] = target.sent("POST")
    assert path == "/notes/"
    assert sent["title"] == entry.object_id  # the harness's own unique value ...
    assert user.canary in entry.object_id  # ... made of the object's canary
    assert entry.path == f"/notes/{entry.object_id}"
    other = seed.create("/notes/{noteTitle}", user, Ledger())
    assert other.object_id != entry.object_id


def test_the_answers_field_of_the_keys_name_wins_over_the_value_sent() -> None:
    seed = keyed_seeder(Recorder(lambda r: httpx.Response(201, json={"id": 7, "data": {"title": "normalised"}})))
    assert seed.create("/notes/{noteTitle}", seed.users["user1"], Ledger()).object_id == "normalised"


def test_put_create_fills_the_path_and_the_body_field_with_the_same_value() -> None:
    target = Recorder(lambda r: httpx.Response(200, json={"ok": True}))
    seed = keyed_seeder(target)
    ledger = Ledger()
    entry = seed.create("/pages/{slug}", seed.users["user2"], ledger)
    [(path, sent)] = target.sent("PUT")
    assert path == f"/pages/{entry.object_id}"
    assert sent["slug"] == entry.object_id
    assert entry.created_with == "PUT /pages/{slug}"
    assert seed.delete_all(ledger) == []
    assert target.sent("DELETE") == [(f"/pages/{entry.object_id}", None)]


def test_a_nested_object_is_created_under_a_parent_of_the_same_owner_whose_key_fills_the_path() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/shelves":
            return httpx.Response(201, json={"message": "shelf created"})  # no id: the name sent is the key
        return httpx.Response(201, json={"bookId": "b-1"})

    target = Recorder(answer)
    seed = keyed_seeder(target)
    ledger = Ledger()
    book = seed.create("/shelves/{shelf}/books/{bookId}", seed.users["user1"], ledger)
    [shelf] = ledger.owned("/shelves/{shelf}", "user1")
    assert [path for path, _ in target.sent("POST")] == ["/shelves", f"/shelves/{shelf.object_id}/books/"]
    assert target.sent("POST")[0][1]["name"] == shelf.object_id
    assert book.path == f"/shelves/{shelf.object_id}/books/b-1"
    assert seed.delete_all(ledger) == []
    assert [path for path, _ in target.sent("DELETE")] == [book.path, shelf.path]  # deepest first


def test_an_id_in_the_answer_comes_before_the_identifying_field_sent() -> None:
    seed = keyed_seeder(Recorder(lambda r: httpx.Response(201, json={"id": "s-9"})))
    assert seed.create("/shelves/{shelf}", seed.users["user1"], Ledger()).object_id == "s-9"


def test_a_client_key_respects_the_fields_max_length() -> None:
    doc = keyed_spec()
    doc["paths"]["/notes/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["title"][
        "maxLength"] = 8
    target = Recorder()
    client = TargetClient("http://127.0.0.1:9", timeout_s=5, redactor=Redactor(), retries=0,
                          transport=httpx.MockTransport(target.handle))
    seed = Seeder(catalogue(doc), client, Tokens(), [make_user(1)], profile())  # type: ignore[arg-type]
    first = seed.create("/notes/{noteTitle}", seed.users["user1"], Ledger())
    second = seed.create("/notes/{noteTitle}", seed.users["user1"], Ledger())
    assert len(first.object_id) == 8
    assert first.object_id != second.object_id  # the tail keeps the serial


# -- 8. recipes: key, headers, query, content type ------------------------------------------------------------------
def test_a_recipe_sends_its_headers_query_and_content_type_and_takes_the_key_from_the_body() -> None:
    target = Recorder(lambda r: httpx.Response(201, json={"id": "ignored"}))
    recipe = RecipeSettings(create="POST /api/items/", body={"title": "x", "text": "about {canary}"},
                            key="body.title", headers={"X-Tenant": "t-{canary}"}, query={"draft": "true"},
                            content_type="application/vnd.api+json")
    client = TargetClient("http://127.0.0.1:9", timeout_s=5, redactor=Redactor(), retries=0,
                          transport=httpx.MockTransport(target.handle))
    seed = Seeder(catalogue(), client, Tokens(), [make_user(1)], profile(recipes={"/api/items/{id}": recipe}))  # type: ignore[arg-type]
    entry = seed.create("/api/items/{id}", seed.users["user1"], Ledger())
    [request] = [r for r in target.requests if r.method == "POST"]
    sent = json.loads(request.content)
    assert sent["title"] == entry.object_id != "ignored"
    assert sent["text"] == f"about {entry.canary}"
    assert request.headers["x-tenant"] == f"t-{entry.canary}"
    assert request.headers["content-type"] == "application/vnd.api+json"
    assert request.url.params["draft"] == "true"


RECIPE_PROFILE = """
name: t
environment: staging
launcher: external
backend:
  base_url: http://127.0.0.1:8000
identity:
  provider: backend_api
  backend:
    registration: POST /register
    registration_body: {username: "{username}", password: "{password}"}
    login: POST /login
    login_body: {username: "{username}", password: "{password}"}
recipes:
  /notes/{title}:
    create: POST /notes
"""


@pytest.mark.parametrize(("line", "message"), [
    ("    keys: body.title", "unknown key 'recipes./notes/{title}.keys' in recipes./notes/{title}: did you mean "
                           "'key'?"),
    ("    header: {a: b}", "did you mean 'headers'?"),
    ("    key: title", "not of the form 'body.<field>'"),
    ("    key: body.title\n    id_field: id", "either key"),
    ("    content_type: text/plain", "the harness sends JSON"),
])
def test_recipe_keys_are_validated_with_suggestions(tmp_path: Path, line: str, message: str) -> None:
    from fixtures.errors import ProfileError

    path = tmp_path / "p.yaml"
    path.write_text(RECIPE_PROFILE + line + "\n")
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert message in str(err.value)


def test_a_valid_recipe_with_the_new_keys_loads(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(RECIPE_PROFILE + "    key: body.title\n    headers: {X-Tenant: a}\n    query: {draft: true}\n"
                    "    content_type: application/x-www-form-urlencoded\n")
    recipe = load_profile(path).recipes["/notes/{title}"]
    assert (recipe.key, recipe.headers, recipe.query, recipe.content_type) == (
        "body.title", {"X-Tenant": "a"}, {"draft": True}, "application/x-www-form-urlencoded")


def test_a_missing_key_names_the_recipe_to_write() -> None:
    seed = seeder(Target(lambda r: httpx.Response(201, json={"status": "success"})))
    with pytest.raises(SeedError) as err:
        seed.create("/api/items/{id}", seed.users["user1"], Ledger())
    assert 'recipes: {"/api/items/{id}": {create: "POST /api/items/", id_field: ' in str(err.value)
    assert 'key: "body.<field>" (the body\'s fields: title)' in str(err.value)


# -- 9. creations by checks and discarding them: public methods of the seeder --------------------------------------
def test_record_creation_takes_the_key_and_the_parents_from_the_checks_own_request() -> None:
    from fixtures.engine.http import Request

    seed = keyed_seeder(Recorder())
    user = seed.users["user1"]
    ledger = Ledger()
    books = seed.catalogue.find("POST", "/shelves/{shelf}/books/")
    assert books is not None
    response = httpx.Response(201, json={"data": {"bookId": "b-7"}})
    entry = seed.record_creation(books, user, Request("POST", "/shelves/s-1/books/", json={"text": "t"}),
                                 response, ledger)
    assert entry is not None
    assert entry.path == "/shelves/s-1/books/b-7"
    assert ledger.entries == [entry]
    notes = seed.catalogue.find("POST", "/notes/")
    assert notes is not None
    note = seed.record_creation(notes, user, Request("POST", "/notes/", json={"title": "mine", "text": "t"}),
                                httpx.Response(201, json={"status": "created"}), ledger)
    assert note is not None
    assert note.path == "/notes/mine"
    reader = seed.catalogue.find("GET", "/shelves/{shelf}")
    assert reader is not None
    assert seed.record_creation(reader, user, Request("GET", "/shelves/s-1"), response, ledger) is None


def test_discard_deletes_now_as_the_owner_and_leaves_what_it_cannot_delete() -> None:
    target = Recorder(lambda r: httpx.Response(201, json={"id": "x"}))
    seed = keyed_seeder(target, exclude=["DELETE /pages/{slug}"])
    ledger = Ledger()
    note = seed.create("/notes/{noteTitle}", seed.users["user1"], ledger)
    page = seed.create("/pages/{slug}", seed.users["user2"], ledger)
    assert seed.discard(ledger.entries) == []
    assert note.deleted
    assert not page.deleted  # its DELETE is excluded: left to the run's clean-up, which reports it
    [delete] = [r for r in target.requests if r.method == "DELETE"]
    assert delete.headers["authorization"] == "Bearer token-user1"
    assert seed.delete_all(ledger)[0].startswith(f"{page.path} (owner user2): `DELETE /pages/{{slug}}` is excluded")


def test_a_client_chosen_key_with_a_pattern_is_the_canary_in_a_form_the_pattern_accepts() -> None:
    from fixtures.engine.seeder import _canary_fitting

    slug = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{2,62}$"}
    keys = {_canary_fitting(slug, f"cnryA7f3x{serial}") for serial in range(1, 4)}
    assert keys == {"cnrya7f3x1", "cnrya7f3x2", "cnrya7f3x3"}  # unique per object: a taken key is a 409
    assert _canary_fitting({"pattern": "^[A-Z]{3}[0-9]{4}$"}, "cnry7f3x1") is None  # no form fits: the generator
    assert _canary_fitting({"pattern": "^[a-z0-9]+$", "maxLength": 6}, "cnry7f3x12") == "7f3x12"  # the tail


# -- 8. the run's clean-up: deepest first, a few deletes at a time ----------------------------------------------------
def test_the_clean_up_deletes_every_file_before_any_folder_and_a_few_at_a_time() -> None:
    import fixtures.engine.seeder as seeder_module

    lock = threading.Lock()
    overlapped = threading.Event()  # two deletes were in flight at once
    in_flight, most, order = 0, 0, []

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        if request.method != "DELETE":
            return httpx.Response(201, json={"id": secrets.token_hex(4)})
        with lock:
            in_flight += 1
            most = max(most, in_flight)
            if in_flight > 1:
                overlapped.set()
        overlapped.wait(timeout=2)  # one at a time, every delete would wait here in vain
        with lock:
            in_flight -= 1
            order.append("file" if "/files/" in request.url.path else "folder")
        return httpx.Response(204)

    client = TargetClient("http://127.0.0.1:9", timeout_s=5, redactor=Redactor(), retries=0,
                          transport=httpx.MockTransport(handle))
    seed = Seeder(catalogue(), client, Tokens(), [make_user(1), make_user(2)], profile())  # type: ignore[arg-type]
    ledger = Ledger()
    for user in seed.users.values():
        for _ in range(3):
            seed.create("/folders/{folder_id}/files/{file_id}", user, ledger)
    assert seed.delete_all(ledger) == []
    files, folders = order.count("file"), order.count("folder")
    assert files == 6
    assert folders >= 2  # each user's files in a folder of their own
    assert order == ["file"] * files + ["folder"] * folders
    assert all(entry.deleted for entry in ledger.entries)
    assert 1 < most <= seeder_module.DELETE_CONCURRENCY


def test_the_ledger_finds_the_objects_an_answer_shows_as_trying_each_entry_would() -> None:
    """Its index gives what `canary in text or short_canary(canary) in text` over every entry gives, entries added
    after a look included, in the ledger's order."""
    randomness = random.Random(7)
    ledger = Ledger()

    def entry(canary: str, object_id: str) -> LedgerEntry:
        return LedgerEntry("/notes/{note_id}", randomness.choice(["user1", "user2"]), object_id,
                           {"note_id": object_id}, canary, "POST /notes")

    users = ["dgsaaaa1", "dgsbbbb2", "dgsab"]  # the last shorter than the index's head
    for serial in range(1, 60):
        ledger.add(entry(f"{randomness.choice(users)}x{serial}", str(serial % 7)))
    ledger.add(entry("", "no-canary"))

    def brute(text: str) -> list[LedgerEntry]:
        return [e for e in ledger.entries if e.canary and (e.canary in text or short_canary(e.canary) in text)]

    canaries = [e.canary for e in ledger.entries]
    odd = next(canary for canary in canaries if canary.startswith("dgsab"))
    texts = [
        "", "nothing here", f'{{"title": "{canaries[11]}", "n": "{short_canary(canaries[2])}"}}',
        f"{canaries[0]}234 {canaries[4]}{canaries[40]}",  # "x1234" holds x1, x12, x123 where they are one user's
        f"zz{short_canary(odd)}zz2{short_canary(canaries[30])}", f"{odd} and dgsab",
        canaries[11].upper() + " " + short_canary(canaries[2]).upper(),  # another case: no match
        "".join(canary for canary in canaries if canary.startswith("dgsaaaa1")),  # one user's, back to back
    ]
    assert sum(len(brute(text)) for text in texts) >= 8  # the texts show objects, by both forms
    for text in texts:
        assert ledger.shown_in(text) == brute(text), text
    ledger.add(entry("dgsaaaa1x777", "9"))  # after a look: indexed at the next one
    ledger.entries.append(entry("dgsbbbb2x778", "9"))
    assert ledger.shown_in("dgsaaaa1x777 dgsbbbb2x778") == brute("dgsaaaa1x777 dgsbbbb2x778")
    assert [e.canary for e in ledger.with_id("9")] == ["dgsaaaa1x777", "dgsbbbb2x778"]
    ledger.entries[-1].deleted = True
    assert [e.canary for e in ledger.with_id("9")] == ["dgsaaaa1x777"]
    owner = ledger.entries[0].owner
    assert ledger.owned("/notes/{note_id}", owner) == [
        e for e in ledger.entries if e.owner == owner and not e.deleted]
