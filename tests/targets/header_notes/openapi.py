"""The hand-written OpenAPI 3 document of the notes service (the same for both variants)."""

from __future__ import annotations

from typing import Any

TOKEN_HEADER = "X-Auth-Token"
AUTH: list[dict[str, list[str]]] = [{"authToken": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _answer(description: str, data: dict[str, Any] | None = None, headers: dict[str, Any] | None = None) -> dict[
        str, Any]:
    """HTTP 200 in every case: success carries `data`, failure `message` (status "fail")."""
    envelope = {"oneOf": [{"allOf": [_ref("Success"), {"properties": {"data": data}}]} if data else _ref("Success"),
                          _ref("Fail")]}
    answer: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": envelope}}}
    if headers:
        answer["headers"] = headers
    return {"200": answer}


def _operation(operation_id: str, summary: str, tag: str, *, security: list[Any], answer: dict[str, Any],
               body: str | None = None, parameters: tuple[str, ...] = ()) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag],
                                 "security": security, "responses": answer}
    if body:
        operation["requestBody"] = _json(_ref(body))
    if parameters:
        operation["parameters"] = [{"$ref": f"#/components/parameters/{name}"} for name in parameters]
    return operation


def openapi_document() -> dict[str, Any]:
    note_params = ("username", "note_id")
    return {
        "openapi": "3.0.3",
        "info": {"title": "Notebook API", "version": "2.3.1",
                 "description": "Personal notes. Every answer is HTTP 200; `status` says whether it worked."},
        "paths": {
            "/health": {"get": _operation("health", "Liveness", "system", security=[], answer=_answer("Alive"))},
            "/register": {"post": _operation("register", "Create an account", "account", security=[],
                                             body="Registration", answer=_answer("Registered (or the reason not)"))},
            "/login": {"post": _operation(
                "login", "Log in", "account", security=[], body="Credentials",
                answer=_answer("Logged in: the token is in the X-Auth-Token header", headers={
                    TOKEN_HEADER: {"description": "the session token to send back", "schema": {"type": "string"}}}))},
            "/account": {"delete": _operation("deleteAccount", "Delete the caller's account", "account",
                                              security=AUTH, answer=_answer("Deleted"))},
            "/users/{username}": {"get": _operation("getUser", "A user's account", "users", security=AUTH,
                                                    parameters=("username",), answer=_answer("The account",
                                                                                             _ref("User")))},
            "/users/{username}/notes": {
                "get": _operation("listNotes", "A user's notes", "notes", security=AUTH, parameters=("username",),
                                  answer=_answer("The notes", {"type": "array", "items": _ref("Note")})),
                "post": _operation("createNote", "Add a note", "notes", security=AUTH, parameters=("username",),
                                   body="NoteInput", answer=_answer("The new note", _ref("Note"))),
            },
            "/users/{username}/notes/{note_id}": {
                "get": _operation("getNote", "One note", "notes", security=AUTH, parameters=note_params,
                                  answer=_answer("The note", _ref("Note"))),
                "put": _operation("updateNote", "Replace a note", "notes", security=AUTH, parameters=note_params,
                                  body="NoteInput", answer=_answer("The changed note", _ref("Note"))),
                "delete": _operation("deleteNote", "Delete a note", "notes", security=AUTH, parameters=note_params,
                                     answer=_answer("Deleted")),
            },
        },
        "components": {
            "securitySchemes": {"authToken": {"type": "apiKey", "in": "header", "name": TOKEN_HEADER}},
            "parameters": {
                "username": {"name": "username", "in": "path", "required": True,
                             "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.@+-]{3,64}$"}},
                "note_id": {"name": "note_id", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}},
            },
            "schemas": {
                "Success": {"type": "object", "required": ["status"],
                            "properties": {"status": {"type": "string", "enum": ["success"]}, "data": {}}},
                "Fail": {"type": "object", "required": ["status", "message"],
                         "properties": {"status": {"type": "string", "enum": ["fail"]},
                                        "message": {"type": "string"}}},
                "Registration": {"type": "object", "required": ["username", "email", "password"], "properties": {
                    "username": {"type": "string", "pattern": "^[A-Za-z0-9_.@+-]{3,64}$"},
                    "email": {"type": "string", "format": "email"},
                    "password": {"type": "string", "format": "password", "minLength": 8}}},
                "Credentials": {"type": "object", "required": ["username", "password"], "properties": {
                    "username": {"type": "string"}, "password": {"type": "string", "format": "password"}}},
                "User": {"type": "object", "properties": {
                    "username": {"type": "string"}, "email": {"type": "string", "format": "email"},
                    "notes": {"type": "integer"}}},
                "NoteInput": {"type": "object", "required": ["subject"], "properties": {
                    "subject": {"type": "string", "minLength": 1, "maxLength": 200},
                    "content": {"type": "string", "maxLength": 5000},
                    "pinned": {"type": "boolean"}}},
                "Note": {"type": "object", "properties": {
                    "note_id": {"type": "string"}, "subject": {"type": "string"}, "content": {"type": "string"},
                    "pinned": {"type": "boolean"}}},
            },
        },
    }
