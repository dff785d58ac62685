from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.api.catalogue import build_catalogue, load_document
from fixtures.errors import SpecError
from tests.unit.spec_samples import notes_api

USER_PARAMS = ["user_id", "accountId"]


def catalogue(doc=None, public=()):
    return build_catalogue(doc or notes_api(), "0" * 64, public_operations=list(public), user_path_params=USER_PARAMS)


def test_every_operation_is_listed():
    labels = [op.label for op in catalogue().operations]
    assert sorted(labels) == sorted([
        "GET /health", "GET /notes", "POST /notes", "GET /notes/{note_id}", "DELETE /notes/{note_id}",
        "PUT /notes/{note_id}", "GET /folders/{folderId}/files/{fileId}", "GET /accounts/{accountId}/settings",
        "GET /optional",
    ])


@pytest.mark.parametrize(
    ("label", "needs_auth", "why"),
    [
        ("GET /notes", True, "global security: oidc"),
        ("GET /health", False, "security is empty"),
        ("GET /optional", False, "anonymous"),
    ],
)
def test_authentication_is_read_from_the_spec(label, needs_auth, why):
    op = next(op for op in catalogue().operations if op.label == label)
    assert op.needs_auth is needs_auth
    assert why in op.auth_reason


def test_without_any_security_nothing_needs_auth():
    assert not any(op.needs_auth for op in catalogue(notes_api(global_security=False)).operations)


def test_profile_can_declare_an_operation_public():
    op = catalogue(public=["GET /notes"]).find("GET", "/notes")
    assert op is not None
    assert not op.needs_auth
    assert "public_operations" in op.auth_reason


def test_item_and_user_scoped_classification():
    cat = catalogue()
    item = cat.find("GET", "/notes/{note_id}")
    nested = cat.find("GET", "/folders/{folderId}/files/{fileId}")
    scoped = cat.find("GET", "/accounts/{accountId}/settings")
    collection = cat.find("GET", "/notes")
    assert item.is_item
    assert not item.is_user_scoped
    assert nested.is_item
    assert nested.object_params == ("folderId", "fileId")
    assert scoped.is_user_scoped
    assert not scoped.is_item
    assert not collection.is_item
    assert cat.producer_for("/notes").label == "POST /notes"


def test_body_schema_survives_circular_refs():
    op = catalogue().find("POST", "/notes")
    assert op.body_schema is not None
    assert op.body_media_type == "application/json"


def test_swagger_2_is_refused_with_advice(tmp_path: Path):
    path = tmp_path / "s.json"
    path.write_text('{"swagger": "2.0", "paths": {}}')
    with pytest.raises(SpecError, match=r"Swagger 2\.0: convert it to OpenAPI 3"):
        load_document(str(path))


def test_not_json_or_yaml(tmp_path: Path):
    path = tmp_path / "s.json"
    path.write_text("{not json")
    with pytest.raises(SpecError, match="neither JSON nor YAML"):
        load_document(str(path))


def test_document_hash_is_of_the_bytes(tmp_path: Path):
    import hashlib
    import json

    path = tmp_path / "s.json"
    raw = json.dumps(notes_api()).encode()
    path.write_bytes(raw)
    _doc, digest = load_document(str(path))
    assert digest == hashlib.sha256(raw).hexdigest()


def test_openapi_3_1_is_read():
    doc = notes_api()
    doc["openapi"] = "3.1.0"
    doc["components"]["schemas"]["Note"]["properties"]["stars"] = {"type": ["integer", "null"], "minimum": 1}
    assert len(catalogue(doc).operations) == 9


def test_a_document_without_servers_or_paths_is_usable():
    doc = {"openapi": "3.0.3", "info": {"title": "empty", "version": "1"}, "paths": {}}
    assert catalogue(doc).operations == []


def test_several_thousand_operations():
    doc = notes_api()
    ok = {"200": {"description": "ok"}}
    for index in range(1500):
        param = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
        doc["paths"][f"/r{index}"] = {"get": {"responses": ok}, "post": {"responses": ok}}
        doc["paths"][f"/r{index}/{{item_id}}"] = {"get": {"parameters": [param], "responses": ok}}
    assert len(catalogue(doc).operations) == 9 + 4500


def test_an_invalid_document_is_a_spec_error(tmp_path: Path):
    path = tmp_path / "s.json"
    path.write_text('{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": 5}}}')
    doc, digest = load_document(str(path))
    with pytest.raises(SpecError):
        build_catalogue(doc, digest, public_operations=[], user_path_params=[])


# -- strict input: external $refs, required cycles, profile rules that match nothing --------------------------------
def _doc_with(schemas: dict, body_ref: str = "#/components/schemas/Node") -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/nodes": {
                "get": {"responses": {"200": {"description": "ok"}}},
                "post": {
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": {"$ref": body_ref}}}},
                    "responses": {"201": {"description": "ok"}},
                },
            },
            "/nodes/{node_id}": {"delete": {"parameters": [{"name": "node_id", "in": "path", "required": True,
                                                             "schema": {"type": "string"}}],
                                            "responses": {"204": {"description": "ok"}}}},
        },
        "components": {"schemas": schemas},
    }


def _node(child: dict, *, required: bool) -> dict:
    return {"Node": {"type": "object", "required": ["child"] if required else [], "properties": {"child": child}}}


def test_a_required_ref_cycle_is_a_spec_error_naming_the_field():
    document = _doc_with(_node({"$ref": "#/components/schemas/Node"}, required=True))
    with pytest.raises(SpecError, match=r"POST /nodes: the request body requires itself .*'child'") as caught:
        build_catalogue(document, "x", public_operations=[], user_path_params=[])
    assert caught.value.exit_code == 2


def test_a_cycle_through_an_array_that_must_not_be_empty_is_a_spec_error():
    items = {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Node"}}
    with pytest.raises(SpecError, match="requires itself"):
        build_catalogue(_doc_with(_node(items, required=True)), "x", public_operations=[], user_path_params=[])


@pytest.mark.parametrize("child", [
    {"$ref": "#/components/schemas/Node"},  # optional: a tree ends where the field is left out
    {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},  # an empty list ends it
    {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},  # null ends it
])
def test_cycles_with_a_way_out_are_fine(child: dict):
    required = "$ref" not in child
    cat = build_catalogue(_doc_with(_node(child, required=required)), "x", public_operations=[], user_path_params=[])
    assert cat.find("POST", "/nodes") is not None


@pytest.mark.parametrize("ref", [
    "http://10.1.2.3:8080/schemas.json#/Node",
    "http://127.0.0.1:18081/schemas.json#/Node",
    "common.yaml#/components/schemas/Node",
])
def test_a_ref_to_another_document_is_refused_not_fetched(ref: str):
    document = _doc_with(_node({"type": "string"}, required=True), body_ref=ref)
    with pytest.raises(SpecError, match="refers to another document") as caught:
        build_catalogue(document, "x", public_operations=[], user_path_params=[])
    assert ref in str(caught.value)
    assert "bundle" in str(caught.value)
    if "10.1.2.3" in ref:
        assert "not even a loopback address" in str(caught.value)


def test_load_document_refuses_external_refs_of_a_file(tmp_path: Path):
    import json

    path = tmp_path / "spec.json"
    path.write_text(json.dumps(_doc_with(_node({"type": "string"}, required=True), body_ref="http://10.9.9.9/x")))
    with pytest.raises(SpecError, match="refers to another document"):
        load_document(str(path))


def test_a_spec_url_off_loopback_is_refused_before_fetching():
    with pytest.raises(SpecError, match="not a loopback address"):
        load_document("http://10.9.9.9:8000/openapi.json")


def test_rules_that_match_no_operation_are_named_with_a_suggestion():
    from fixtures.api.catalogue import unmatched_rules

    cat = build_catalogue(_doc_with(_node({"type": "string"}, required=True)), "x", public_operations=[],
                          user_path_params=[])
    problems = unmatched_rules(
        cat,
        exclude=["DELETE /nodes/{node_id}", "DELETE /nodes/{node_id}/", "cross_user_read", "cross_user_read:GET /nodes",
                 "DELETE /node/{node_id}", "invalid_token:GET /nope"],
        public=["GET /nodes", "GET /nodes/", "POST /users"],
    )
    assert len(problems) == 4
    assert problems[0].startswith("checks.exclude 'DELETE /node/{node_id}'")
    assert "did you mean 'DELETE /nodes/{node_id}'?" in problems[0]
    assert problems[1].startswith("checks.exclude 'invalid_token:GET /nope'")
    assert "auth.public_operations 'GET /nodes/'" in problems[2]
    assert "did you mean 'GET /nodes'" in problems[2]
    assert "auth.public_operations 'POST /users'" in problems[3]


def test_the_profile_can_assume_declared_public_operations_protected():
    public_doc = notes_api(global_security=False)
    one = build_catalogue(public_doc, "0" * 64, public_operations=[], user_path_params=USER_PARAMS,
                          assume_protected=["GET /notes"])
    assert [op.label for op in one.operations if op.needs_auth] == ["GET /notes"]
    notes = one.find("GET", "/notes")
    assert notes is not None
    assert "assumed protected by the profile (auth.assume_protected)" in notes.auth_reason
    every = build_catalogue(public_doc, "0" * 64, public_operations=[], user_path_params=USER_PARAMS,
                            assume_protected="all")
    assert all(op.needs_auth for op in every.operations)
    from fixtures.api.catalogue import unmatched_rules

    problems = unmatched_rules(one, exclude=[], public=[], assumed=["GET /note"])
    assert problems == ["auth.assume_protected 'GET /note': no operation 'GET /note'; did you mean 'GET /notes'?"]


def test_an_operation_cannot_be_public_and_assumed_protected():
    from pydantic import ValidationError

    from fixtures.target.profile import AuthSettings

    with pytest.raises(ValidationError, match="listed in public_operations and in assume_protected"):
        AuthSettings(public_operations=["GET /a"], assume_protected=["GET /a"])
    assert AuthSettings(assume_protected="all").assume_protected == "all"


def test_the_collections_own_id_after_a_user_collection_names_a_user():
    from fixtures.api.catalogue import _generic_user_id

    assert _generic_user_id("/v1/therapist/patients/{patient_id}/diary-entries", "patient_id")
    assert _generic_user_id("/teams/{team_id}/members/{memberId}", "memberId")
    assert _generic_user_id("/users/{id}", "id")
    assert not _generic_user_id("/teams/{team_id}/members/{member_id}", "team_id")
    assert not _generic_user_id("/patients/{record_id}", "record_id")
    assert not _generic_user_id("/notes/{note_id}", "note_id")
