"""Users named in request bodies and query parameters (cross-user items beyond the path), and the pure parts of the
state proofs without a GET on the same path: which fields name a user, the variants, the entry of a list that is
the object, what of a login a request would change."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.api.catalogue import Operation, Parameter, victim_fields
from fixtures.api.datagen import OwnAccount
from fixtures.identity import TestUser
from suites.test_cross_user import PAIRS, credential_changes, element_with, field_variants, split_variant


def operation(method: str, path: str, *, query: dict[str, dict[str, Any]] | None = None,
              body: dict[str, Any] | None = None) -> Operation:
    parameters = tuple(Parameter(name, "query", False, schema) for name, schema in (query or {}).items())
    parameters += tuple(Parameter(name.strip("{}"), "path", True, {"type": "string"})
                        for name in path.split("/") if name.startswith("{"))
    schema = {"type": "object", "properties": body} if body is not None else None
    return Operation(method=method, path=path, operation_id=None, tags=(), needs_auth=True, auth_reason="bearer",
                     parameters=parameters, body_schema=schema, body_media_type="application/json" if body else None)


def user(key: str, password: str) -> TestUser:
    return TestUser(key=key, username=f"run-{key}", password=password, email=f"{key}@example.org", first_name="A",
                    last_name="B", sub=f"sub-{key}", canary=f"cnry{key}")


@pytest.mark.parametrize(("name", "schema", "kinds"), [
    ("username", {"type": "string"}, ("username", "email", "id")),
    ("owner", {"type": "string"}, ("username", "email", "id")),
    ("owner_id", {"type": "string"}, ("id", "username")),
    ("userId", {"type": "integer"}, ("id", "username")),
    ("email", {"type": "string"}, ("email",)),
    ("contact", {"type": "string", "format": "email"}, ("email",)),
    ("phone_number", {"type": "string"}, ("phone",)),
])
def test_fields_that_name_a_user_are_recognised_by_name_and_format(name: str, schema: dict[str, Any],
                                                                   kinds: tuple[str, ...]) -> None:
    found = victim_fields(operation("GET", "/notes", query={name: schema}))
    assert [(field.label, field.kinds) for field in found] == [(f"query.{name}", kinds)]


def test_other_fields_and_paths_that_name_an_object_have_none() -> None:
    assert victim_fields(operation("PUT", "/notes", body={"title": {"type": "string"},
                                                          "role": {"type": "string", "enum": ["a", "b"]},
                                                          "user": {"type": "object"}})) == []
    assert victim_fields(operation("PUT", "/notes/{note_id}", body={"owner_id": {"type": "string"}})) == []


def test_field_variants_are_readable_and_split_back() -> None:
    op = operation("PUT", "/profile", body={"username": {"type": "string"}, "bio": {"type": "string"}})
    variants = field_variants(op)
    assert variants[0] == "body.username:user2->user1"
    assert len(variants) == len(PAIRS)
    assert split_variant("body.username:user2->user1") == ("body.username", "user2->user1")
    assert split_variant("user2->user1") == (None, "user2->user1")


def test_the_entry_of_a_list_that_holds_the_key_is_the_object() -> None:
    payload = {"data": {"items": [{"id": "a1", "text": "x"}, {"id": "b2", "text": "y", "tags": [{"id": "t"}]}]}}
    assert element_with(payload, "b2") == payload["data"]["items"][1]
    assert element_with(payload, "zz") is None
    assert element_with([{"n": 7}], "7") == {"n": 7}


def test_a_password_the_attacker_would_set_is_a_credential_change_but_not_a_current_password() -> None:
    attacker, victim = user("user2", "pw-of-2"), user("user1", "pw-of-1")
    account = OwnAccount({"password": attacker.password}, {"password": frozenset({"password"})})
    body = {"current_password": attacker.password, "new_password": attacker.password, "note": "x"}
    assert credential_changes(body, account, attacker, victim) == {"password": "pw-of-2"}
    assert credential_changes({"new_password": victim.password}, account, attacker, victim) == {}
    assert credential_changes(None, account, attacker, victim) == {}
