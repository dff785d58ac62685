"""Object ids named in request bodies and query parameters: which fields name an object the resource model knows
(by the item path's parameter or `<singular>_id` of its collection; a generic `id` only on the collection's own
path), and the cross-user variants they get."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.api.catalogue import Operation, Parameter
from fixtures.api.resources import Producer, Resource, ResourceModel, object_fields
from suites.test_cross_user import PAIRS, named_objects, object_variants, split_variant


def operation(method: str, path: str, *, query: dict[str, dict[str, Any]] | None = None,
              body: dict[str, Any] | None = None) -> Operation:
    parameters = tuple(Parameter(name, "query", False, schema) for name, schema in (query or {}).items())
    parameters += tuple(Parameter(name.strip("{}"), "path", True, {"type": "string"})
                        for name in path.split("/") if name.startswith("{"))
    schema = {"type": "object", "properties": body} if body is not None else None
    return Operation(method=method, path=path, operation_id=None, tags=(), needs_auth=True, auth_reason="bearer",
                     parameters=parameters, body_schema=schema, body_media_type="application/json" if body else None)


def model(*paths: str) -> ResourceModel:
    resources = {}
    for path in paths:
        collection = path.rpartition("/")[0]
        producer = Producer(operation("POST", collection), "POST on the collection", None)  # type: ignore[arg-type]
        resources[path] = Resource(path, path.rpartition("/")[2].strip("{}"), None, producer)
    return ResourceModel(resources)


NOTES = model("/api/notes/{note_id}", "/api/items/{id}", "/api/shelves/{slug}")
STRING = {"type": "string"}


@pytest.mark.parametrize(("op", "expected"), [
    (operation("GET", "/api/notes/lookup", query={"note_id": STRING}), [("query.note_id", "/api/notes/{note_id}")]),
    (operation("POST", "/api/shares", body={"noteId": STRING, "to": STRING}),
     [("body.noteId", "/api/notes/{note_id}")]),
    (operation("DELETE", "/api/items", query={"id": STRING}), [("query.id", "/api/items/{id}")]),
    (operation("POST", "/api/orders", body={"item_id": {"type": "integer"}}), [("body.item_id", "/api/items/{id}")]),
    (operation("POST", "/api/loans", body={"shelf_key": STRING}), [("body.shelf_key", "/api/shelves/{slug}")]),
])
def test_fields_named_like_an_item_paths_parameter_or_its_singular_id_name_an_object(
        op: Operation, expected: list[tuple[str, str]]) -> None:
    assert [(field.label, field.resource) for field in object_fields(op, NOTES)] == expected


def test_a_generic_id_elsewhere_a_path_an_enum_or_an_unknown_resource_names_no_object() -> None:
    assert object_fields(operation("POST", "/api/shares", body={"id": STRING}), NOTES) == []
    assert object_fields(operation("PUT", "/api/notes/{note_id}", body={"note_id": STRING}), NOTES) == []
    assert object_fields(operation("GET", "/api/x", query={"note_id": {"type": "string", "enum": ["a"]}}), NOTES) == []
    assert object_fields(operation("GET", "/api/x", query={"note_id": {"type": "object"}}), NOTES) == []
    assert object_fields(operation("GET", "/api/x", query={"order_id": STRING, "title": STRING}), NOTES) == []


def test_a_field_that_names_a_user_is_no_object_field() -> None:
    accounts = model("/api/accounts/{account_id}")
    op = operation("GET", "/api/statements", query={"account_id": STRING})
    assert object_fields(op, accounts) != []
    assert named_objects(op, accounts) == []  # `account_id` names a user (victim_fields): the user's item


def test_object_variants_are_readable_and_split_back() -> None:
    variants = object_variants(operation("GET", "/api/notes/lookup", query={"note_id": STRING}), NOTES)
    assert variants[0] == "query.note_id:user2->user1"
    assert len(variants) == len(PAIRS)
    assert split_variant(variants[0]) == ("query.note_id", "user2->user1")


def test_the_key_a_producer_sends_for_the_object_it_creates_names_no_existing_object() -> None:
    post = operation("POST", "/api/shelves/", body={"slug": STRING, "title": STRING})
    shelves = ResourceModel({"/api/shelves/{slug}": Resource(
        "/api/shelves/{slug}", "slug", None, Producer(post, "POST on the collection", None))})  # type: ignore[arg-type]
    assert object_fields(post, shelves) == []
    assert [f.label for f in object_fields(operation("DELETE", "/api/shelves/", query={"id": STRING}), shelves)] == [
        "query.id"]
