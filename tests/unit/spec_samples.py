"""Small OpenAPI documents for unit tests of the catalogue and the seeder (not the demo's)."""

from __future__ import annotations

from typing import Any


def notes_api(*, global_security: bool = True) -> dict[str, Any]:
    item_param = {"name": "note_id", "in": "path", "required": True, "schema": {"type": "string"}}
    folder_param = {"name": "folderId", "in": "path", "required": True, "schema": {"type": "integer"}}
    owner_param = {"name": "accountId", "in": "path", "required": True, "schema": {"type": "string"}}
    ok = {"200": {"description": "ok"}}
    note = {"$ref": "#/components/schemas/Note"}
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Notes", "version": "2.1"},
        "components": {
            "securitySchemes": {"oidc": {"type": "openIdConnect", "openIdConnectUrl": "http://127.0.0.1/x"}},
            "schemas": {
                "Note": {
                    "type": "object",
                    "required": ["text", "stars"],
                    "properties": {
                        "id": {"type": "string", "readOnly": True},
                        "text": {"type": "string", "maxLength": 80},
                        "stars": {"type": "integer", "minimum": 1, "maximum": 5},
                        "at": {"type": "string", "format": "date-time"},
                        "kind": {"type": "string", "enum": ["a", "b"]},
                        "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
                        "labels": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                        "parent": {"$ref": "#/components/schemas/Note"},
                    },
                }
            },
        },
        "paths": {
            "/health": {"get": {"security": [], "responses": ok}},
            "/notes": {
                "get": {"responses": ok},
                "post": {"requestBody": {"content": {"application/json": {"schema": note}}}, "responses": ok},
            },
            "/notes/{note_id}": {
                "get": {"parameters": [item_param], "responses": ok},
                "delete": {"parameters": [item_param], "responses": ok},
                "put": {"parameters": [item_param], "requestBody": {"content": {"application/json": {"schema": note}}},
                        "responses": ok},
            },
            "/folders/{folderId}/files/{fileId}": {
                "get": {"parameters": [folder_param, {"name": "fileId", "in": "path", "required": True,
                                                      "schema": {"type": "string"}}], "responses": ok},
            },
            "/accounts/{accountId}/settings": {"get": {"parameters": [owner_param], "responses": ok}},
            "/optional": {"get": {"security": [{}, {"oidc": []}], "responses": ok}},
        },
    }
    if global_security:
        doc["security"] = [{"oidc": []}]
    return doc
