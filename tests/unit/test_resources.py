"""The resource model on small spec samples: which operation produces each item path's objects, and where the new
object's key comes from (the answer, a body field the client sends, the path, OpenAPI links); nested parents."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.api.catalogue import Catalogue, build_catalogue
from fixtures.api.resources import (
    COLLECTION_POST,
    COLLECTION_POST_CLIENT_KEY,
    ITEM_POST,
    ITEM_PUT,
    RECIPE,
    KeyLocation,
    body_fields,
    build_model,
    key_field,
)
from fixtures.target.profile import RecipeSettings

OK = {"200": {"description": "ok"}}


def body(*fields: str, read_only: tuple[str, ...] = ()) -> dict[str, Any]:
    properties = {name: {"type": "string"} for name in fields}
    properties.update({name: {"type": "string", "readOnly": True} for name in read_only})
    return {"content": {"application/json": {"schema": {"type": "object", "properties": properties}}}}


def param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def item(*names: str, **methods: dict[str, Any]) -> dict[str, Any]:
    """An item path's operations; every one declares the path parameters `names`."""
    ops = {"get": {"responses": OK}, **methods}
    return {method: {"parameters": [param(n) for n in names], **op} for method, op in ops.items()}


def catalogue(paths: dict[str, Any], user_params: tuple[str, ...] = ("username",)) -> Catalogue:
    document = {"openapi": "3.0.3", "info": {"title": "Resources", "version": "1"}, "paths": paths}
    return build_catalogue(document, "0" * 64, public_operations=[], user_path_params=list(user_params))


# -- collections with and without a trailing slash ------------------------------------------------------------------
@pytest.mark.parametrize(("collection", "item_path"), [("/x/items/", "/x/items/{id}"), ("/x/items", "/x/items/{id}"),
                                                       ("/x/items", "/x/items/{id}/")])
def test_a_post_on_the_collection_produces_its_items_whatever_the_trailing_slash(collection: str,
                                                                                   item_path: str) -> None:
    model = build_model(catalogue({collection: {"post": {"requestBody": body("text"), "responses": OK}},
                                   item_path: item("id")}))
    resource = model[item_path.rstrip("/")] if item_path.rstrip("/") in model else model[item_path]
    assert resource.producer is not None
    assert resource.producer.label == f"POST {collection}"
    assert resource.producer.strategy == COLLECTION_POST
    assert resource.producer.key == KeyLocation("response")
    assert resource.producer.key_field is None
    assert resource.missing == ""


def test_the_readers_are_the_item_get_and_the_collections_get() -> None:
    model = build_model(catalogue({"/notes": {"get": {"responses": OK}, "post": {"requestBody": body("text"),
                                                                                 "responses": OK}},
                                   "/notes/{note_id}": item("note_id")}))
    assert [op.label for op in model["/notes/{note_id}"].readers] == ["GET /notes/{note_id}", "GET /notes"]


# -- keys the client chooses ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("param_name", "fields", "expected"), [
    ("title", ("title", "text"), "title"),
    ("slug", ("text", "slug"), "slug"),
    ("name", ("name",), "name"),
    ("noteTitle", ("title", "text"), "title"),  # the resource's own name before the field's
    ("note_title", ("title",), "title"),
    ("noteTitle", ("note_title",), "note_title"),
    ("title", ("noteTitle",), "noteTitle"),
    ("note_id", ("title", "text"), None),
    ("id", ("title",), None),
    ("shelfTitle", ("title",), None),  # another resource's name: not this one's key
])
def test_the_key_field_is_the_body_field_named_like_the_path_parameter(param_name: str, fields: tuple[str, ...],
                                                                       expected: str | None) -> None:
    schema = body(*fields)["content"]["application/json"]["schema"]
    assert key_field(param_name, f"/notes/{{{param_name}}}", schema) == expected


def test_read_only_fields_are_not_sent_so_they_never_carry_the_key() -> None:
    schema = body("text", read_only=("title",))["content"]["application/json"]["schema"]
    assert body_fields(schema) == ["text"]
    assert key_field("title", "/notes/{title}", schema) is None


def test_a_post_whose_body_has_the_path_parameters_field_gives_a_client_chosen_key() -> None:
    model = build_model(catalogue({"/notes/": {"post": {"requestBody": body("title", "text"), "responses": OK}},
                                   "/notes/{title}": item("title")}))
    producer = model["/notes/{title}"].producer
    assert producer is not None
    assert producer.label == "POST /notes/"
    assert producer.strategy == COLLECTION_POST_CLIENT_KEY
    assert producer.key == KeyLocation("body", "title")
    assert str(producer.key) == "body.title"
    assert producer.key_field == "title"


def test_a_key_in_a_ref_schema_with_all_of_is_found() -> None:
    paths = {"/docs": {"post": {"requestBody": {"content": {"application/json": {"schema": {
                 "$ref": "#/components/schemas/Doc"}}}}, "responses": OK}},
             "/docs/{slug}": item("slug")}
    document = {"openapi": "3.0.3", "info": {"title": "R", "version": "1"}, "paths": paths, "components": {"schemas": {
        "Base": {"type": "object", "properties": {"slug": {"type": "string"}}},
        "Doc": {"allOf": [{"$ref": "#/components/schemas/Base"},
                          {"type": "object", "properties": {"text": {"type": "string"}}}]}}}}
    model = build_model(build_catalogue(document, "0" * 64, public_operations=[], user_path_params=[]))
    producer = model["/docs/{slug}"].producer
    assert producer is not None
    assert producer.key == KeyLocation("body", "slug")


def test_put_on_the_item_path_with_the_key_in_its_body_creates_the_object() -> None:
    model = build_model(catalogue({"/pages/{slug}": item("slug", put={"requestBody": body("slug", "text"),
                                                                      "responses": OK})}))
    producer = model["/pages/{slug}"].producer
    assert producer is not None
    assert producer.label == "PUT /pages/{slug}"
    assert producer.strategy == ITEM_PUT
    assert producer.key == KeyLocation("path", "slug")
    assert producer.key_field == "slug"


def test_post_on_the_item_path_is_taken_when_there_is_no_put() -> None:
    model = build_model(catalogue({"/pages/{name}": item("name", post={"requestBody": body("name"),
                                                                       "responses": OK})}))
    producer = model["/pages/{name}"].producer
    assert producer is not None
    assert (producer.label, producer.strategy) == ("POST /pages/{name}", ITEM_POST)


def test_the_collection_post_comes_before_a_put_on_the_item() -> None:
    model = build_model(catalogue({"/pages": {"post": {"requestBody": body("text"), "responses": OK}},
                                   "/pages/{slug}": item("slug", put={"requestBody": body("slug"), "responses": OK})}))
    producer = model["/pages/{slug}"].producer
    assert producer is not None
    assert producer.label == "POST /pages"


def test_a_put_without_the_key_in_its_body_is_no_producer_and_the_skip_names_the_recipe() -> None:
    model = build_model(catalogue({"/kv/{entry}": item("entry", put={"requestBody": body("value"),
                                                                    "responses": OK})}))
    resource = model["/kv/{entry}"]
    assert resource.producer is None
    assert "no producer found for `{entry}`" in resource.missing
    assert "no POST on `/kv` or `/kv/`" in resource.missing
    assert "its body's fields: value" in resource.missing
    assert 'recipes: {"/kv/{entry}": {create: "PUT /kv/{entry}"}}' in resource.missing


def test_without_any_producer_the_skip_names_the_recipe_to_write() -> None:
    resource = build_model(catalogue({"/reports/{report_id}": item("report_id")}))["/reports/{report_id}"]
    assert resource.producer is None
    assert "no producer found for `{report_id}`" in resource.missing
    assert "add a recipe for `/reports/{report_id}`" in resource.missing
    assert 'recipes: {"/reports/{report_id}": {create: "POST <path>"}}' in resource.missing


def test_a_parameter_that_names_the_resource_itself_falls_back_to_an_identifying_field() -> None:
    model = build_model(catalogue({"/shelves/": {"post": {"requestBody": body("name", "text"), "responses": OK}},
                                   "/shelves/{shelf}": item("shelf")}))
    producer = model["/shelves/{shelf}"].producer
    assert producer is not None
    assert producer.strategy == COLLECTION_POST
    assert producer.key == KeyLocation("response")  # an id in the answer first ...
    assert producer.key_field == "name"  # ... else the name the harness sent


# -- nested resources -------------------------------------------------------------------------------------------------
def test_a_nested_item_path_has_the_enclosing_item_as_its_parent() -> None:
    model = build_model(catalogue({
        "/shelves": {"post": {"requestBody": body("title"), "responses": OK}},
        "/shelves/{shelf}/books/": {"post": {"parameters": [param("shelf")], "requestBody": body("isbn"),
                                             "responses": OK}},
        "/shelves/{shelf}/books/{bookId}": item("shelf", "bookId"),
    }))
    assert list(model) == ["/shelves/{shelf}", "/shelves/{shelf}/books/{bookId}"]  # the parent first
    book = model["/shelves/{shelf}/books/{bookId}"]
    assert book.parent == "/shelves/{shelf}"
    assert book.producer is not None
    assert book.producer.label == "POST /shelves/{shelf}/books/"
    shelf = model["/shelves/{shelf}"]
    assert shelf.parent is None
    assert shelf.producer is not None
    assert shelf.producer.label == "POST /shelves"
    assert shelf.producer.key_field == "title"


def test_a_user_parameter_is_no_parent() -> None:
    model = build_model(catalogue({
        "/users/{username}/notes": {"post": {"parameters": [param("username")], "requestBody": body("text"),
                                             "responses": OK}},
        "/users/{username}/notes/{note_id}": item("username", "note_id"),
    }))
    assert list(model) == ["/users/{username}/notes/{note_id}"]
    assert model["/users/{username}/notes/{note_id}"].parent is None


# -- OpenAPI links --------------------------------------------------------------------------------------------------
def linked(expression: str, **link: Any) -> dict[str, Any]:
    return {"/notes": {"post": {"requestBody": body("title", "text"), "responses": {"201": {
                "description": "created", "links": {"GetNote": {"operationId": "getNote",
                                                                "parameters": {"note_id": expression}, **link}}}}}},
            "/notes/{note_id}": item("note_id")}


@pytest.mark.parametrize(("expression", "expected"), [
    ("$response.body#/data/ref", KeyLocation("response", "data.ref")),
    ("$response.header.Location", KeyLocation("header", "location")),
    ("$request.body#/title", KeyLocation("body", "title")),
])
def test_links_on_the_producers_answer_name_the_key(expression: str, expected: KeyLocation) -> None:
    producer = build_model(catalogue(linked(expression)))["/notes/{note_id}"].producer
    assert producer is not None
    assert producer.key == expected
    assert producer.key_field == (expected.field if expected.where == "body" else None)


def test_a_link_to_another_path_is_not_taken() -> None:
    paths = linked("$response.body#/data/ref", operationRef="#/paths/~1tags~1{note_id}/get")
    producer = build_model(catalogue(paths))["/notes/{note_id}"].producer
    assert producer is not None
    assert producer.key == KeyLocation("response")


# -- recipes ----------------------------------------------------------------------------------------------------------
def test_a_recipe_with_key_body_field_makes_the_sent_value_the_key() -> None:
    paths = {"/notes": {"post": {"requestBody": body("title", "text"), "responses": OK}},
             "/notes/{id}": item("id")}
    model = build_model(catalogue(paths), {"/notes/{id}": RecipeSettings(create="POST /notes/", key="body.title")})
    producer = model["/notes/{id}"].producer
    assert producer is not None
    assert (producer.strategy, producer.key, producer.key_field) == (RECIPE, KeyLocation("body", "title"), "title")


def test_a_recipe_with_id_field_reads_that_field_of_the_answer() -> None:
    paths = {"/notes": {"post": {"requestBody": body("text"), "responses": OK}}, "/notes/{id}": item("id")}
    model = build_model(catalogue(paths), {"/notes/{id}": RecipeSettings(create="POST /notes", id_field="data.id")})
    producer = model["/notes/{id}"].producer
    assert producer is not None
    assert producer.key == KeyLocation("response", "data.id")


def test_a_recipe_naming_put_on_the_item_path_puts_the_key_into_the_path() -> None:
    paths = {"/kv/{entry}": item("entry", put={"requestBody": body("value"), "responses": OK})}
    model = build_model(catalogue(paths), {"/kv/{entry}": RecipeSettings(create="PUT /kv/{entry}")})
    producer = model["/kv/{entry}"].producer
    assert producer is not None
    assert (producer.key, producer.key_field) == (KeyLocation("path", "entry"), None)


def test_a_recipe_naming_an_operation_the_spec_lacks_says_so() -> None:
    model = build_model(catalogue({"/reports/{report_id}": item("report_id")}),
                        {"/reports/{report_id}": RecipeSettings(create="POST /report")})
    resource = model["/reports/{report_id}"]
    assert resource.producer is None
    assert resource.missing == ("the recipe for `/reports/{report_id}` names `POST /report`, which the spec does "
                                "not have")
