"""Public-by-design data (fixtures/engine/public.py, fixtures/analysis/exposure.py, `shared:` in the profile) and
users' own ids learned from the API (fixtures/identity/user_ids.py): the pure parts."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from fixtures.analysis import exposure
from fixtures.api.catalogue import build_catalogue
from fixtures.engine.harness import unmatched_shared
from fixtures.engine.public import changed_apart_from_counters, without
from fixtures.engine.seeder import user_identifier
from fixtures.errors import ProfileError
from fixtures.identity.base import Identity, TestUser
from fixtures.identity.user_ids import (
    Candidate,
    checking_reads,
    ids_in_answer,
    ids_in_claims,
    learn_for_user,
    learn_user_ids,
)
from fixtures.target.profile import load_profile
from suites.test_cross_user import parent_template

PROFILE = """
name: t
environment: ci
launcher: external
backend:
  base_url: http://127.0.0.1:8000
identity:
  provider: tokens
  tokens: ["${ZOO_T1}", "${ZOO_T2}"]
"""


def user(key: str = "user1", *, sub: str = "6c1f0b7e-uuid", path_ids: tuple[tuple[str, str], ...] = ()) -> TestUser:
    return TestUser(key, f"run-{key}", "pw", f"run-{key}@example.org", "Ada", "Lovelace", sub, f"cnry{key}",
                    path_ids=path_ids)


def jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


def api(paths: dict[str, dict[str, object]]) -> dict[str, object]:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": {"securitySchemes": {"b": {"type": "http", "scheme": "bearer"}}}, "security": [{"b": []}]}


def get(*params: str) -> dict[str, object]:
    return {"get": {"parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                                   for name in params], "responses": {"200": {"description": "ok"}}}}


# -- users' own ids ----------------------------------------------------------------------------------------------
def test_ids_in_an_answer_prefer_the_parameters_name_then_generic_ids_and_skip_tokens() -> None:
    answer = json.dumps({"token": "x" * 80, "user": {"id": 17, "user_id": "u-17"}, "uuid": "abc", "name": "A B"})
    found = [c.value for c in ids_in_answer(answer, "userId", "the registration answer")]
    assert found[0] == "u-17"
    assert set(found) == {"u-17", "abc", "17"}
    assert "x" * 80 not in found
    assert ids_in_answer("not json", "id", "x") == []
    assert ids_in_answer(json.dumps({"status": "created"}), "id", "x") == []


def test_ids_in_claims_take_user_id_before_sub_and_ignore_opaque_tokens() -> None:
    assert [c.value for c in ids_in_claims(jwt({"sub": "s-1", "user_id": 42}))] == ["42", "s-1"]
    assert ids_in_claims("opaque-token") == []


def test_the_first_candidate_the_owners_own_request_accepts_is_used() -> None:
    catalogue = build_catalogue(api({"/users/{id}/records": get("id")}), "0", public_operations=[],
                                user_path_params=[])
    checks = checking_reads(catalogue, "id")
    asked: list[str] = []

    def send(path: str, _user: TestUser) -> httpx.Response:
        asked.append(path)
        return httpx.Response(200 if path == "/users/17/records" else 404, json={})

    learned = learn_for_user("id", user(), [Candidate("99", "a"), Candidate("17", "b")], checks, send)
    assert (learned.value, asked) == ("17", ["/users/99/records", "/users/17/records"])
    assert "checked with the user's own `GET /users/{id}/records`" in learned.how
    nothing = learn_for_user("id", user(), [Candidate("99", "a")], checks, lambda _p, _u: httpx.Response(404))
    assert nothing.value == "99"
    assert "not checked" in nothing.how


def test_learned_ids_travel_with_the_user_and_fill_the_path() -> None:
    catalogue = build_catalogue(api({"/users/{id}/records": get("id"), "/me": get()}), "0", public_operations=[],
                                user_path_params=["username"])
    op = catalogue.find("GET", "/users/{id}/records")
    assert op is not None
    assert op.user_params == ("id",)

    def send(path: str, _user: TestUser) -> httpx.Response:
        if path == "/me":
            return httpx.Response(200, json={"id": 17, "email": "x@example.org"})
        return httpx.Response(200 if path == "/users/17/records" else 404, json={})

    users, how = learn_user_ids(catalogue, [user()], answers={}, token=lambda _u: jwt({"sub": "6c1f0b7e-uuid"}),
                                send=send)
    assert user_identifier("id", users[0]) == "17"
    assert "`GET /me`" in how["id"]
    wire = Identity("tag", users, Identity.from_dict({"run_tag": "t", "users": [], "clients": {
        "main": "", "other_audience": "", "short_lived": ""}}).clients).to_dict()
    wire["users"][0]["path_ids"] = [list(pair) for pair in wire["users"][0]["path_ids"]]  # as a worker receives it
    assert Identity.from_dict(wire).users[0].path_id("id") == "17"
    assert user_identifier("id", user()) == "6c1f0b7e-uuid"  # nothing learned: the token's sub, as before


# -- public by design ----------------------------------------------------------------------------------------------
def test_a_child_collection_under_an_item_has_a_parent_and_an_item_none() -> None:
    catalogue = build_catalogue(api({"/articles/{id}/comments": {"post": {"parameters": [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"201": {"description": "ok"}}}}, "/articles/{id}": get("id")}), "0", public_operations=[],
        user_path_params=[])
    comment = catalogue.find("POST", "/articles/{id}/comments")
    article = catalogue.find("GET", "/articles/{id}")
    assert comment is not None
    assert article is not None
    assert parent_template(comment) == "/articles/{id}"
    assert parent_template(article) is None


def test_a_parent_changed_only_in_its_counters_is_unchanged() -> None:
    before = [json.dumps({"title": "t", "views": 3, "likes": 0, "seen": "a"}),
              json.dumps({"title": "t", "views": 4, "likes": 0, "seen": "b"})]
    assert changed_apart_from_counters(before, json.dumps({"title": "t", "views": 9, "likes": 1, "seen": "c"})) == []
    changed = changed_apart_from_counters(before, json.dumps({"title": "x", "views": 9, "likes": 1, "seen": "c"}))
    assert changed == ["$.title: 't' -> 'x'"]


def test_exposures_inside_a_public_object_are_not_counted_but_contact_data_is() -> None:
    body = json.dumps({"articles": [{"title": "a cnryu1x1", "author": "run-user1", "mail": "run-user1@example.org"},
                                    {"title": "draft cnryu1x2", "author": "run-user1"}]})
    owned = exposure.belongings(exposure.UserData("user1", email="run-user1@example.org", username="run-user1",
                                                  canaries=("cnryu1",)))
    found = exposure.find_exposures(body, {}, owned, caller=None)
    kept = exposure.outside_public(found, body, ["cnryu1x1"])
    assert exposure.public_places(body, ["cnryu1x1"]) == ["$.articles[0]"]
    assert {(item.where, item.kind) for item in kept} == {
        ("$.articles[0].mail", exposure.Kind.EMAIL), ("$.articles[1].title", exposure.Kind.CANARY),
        ("$.articles[1].author", exposure.Kind.USERNAME)}
    assert without("x cnryu1x1 y", {"cnryu1x1": "why"}) == "x  y"


def test_shared_rules_are_validated_with_suggestions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_T1", "token-one")
    monkeypatch.setenv("ZOO_T2", "token-two")
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE + "shared:\n  - paths: ['/courses/*']\n    share: [reed]\n    reason: clinic\n")
    with pytest.raises(ProfileError, match="did you mean 'read'"):
        load_profile(path)
    path.write_text(PROFILE + "shared:\n  - paths: ['/course/{id}']\n    reason: clinic\n")
    profile = load_profile(path)
    assert profile.shared[0].share == ["read"]
    catalogue = build_catalogue(api({"/courses/{id}": get("id")}), "0", public_operations=[], user_path_params=[])
    assert unmatched_shared(catalogue, profile) == [
        "shared[0].paths: '/course/{id}' matches no path of the document (did you mean '/courses/{id}'?)"]
    path.write_text(PROFILE + "shared:\n  - paths: ['/courses/*']\n    reason: clinic\n")
    good = load_profile(path)
    assert unmatched_shared(catalogue, good) == []
    assert good.shared[0].covers("/courses/{id}")
    assert not good.shared[0].covers("/notes/{id}")
