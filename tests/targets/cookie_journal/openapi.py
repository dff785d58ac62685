"""The hand-written OpenAPI 3 document of the journal service (the same for both variants)."""

from __future__ import annotations

from typing import Any

SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER = "sid", "csrf_token", "X-CSRF-Token"
READ: list[dict[str, list[str]]] = [{"session": []}]
WRITE: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]  # both: the session cookie and the CSRF header


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _op(operation_id: str, summary: str, security: list[Any], responses: dict[str, Any], *,
        body: str | None = None, entry_id: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "security": security,
                                 "responses": {**responses, "default": {"description": "Error",
                                                                        "content": _content(_ref("Error"))}}}
    if body:
        operation["requestBody"] = {"required": True, "content": _content(_ref(body))}
    if entry_id:
        operation["parameters"] = [{"name": "entry_id", "in": "path", "required": True,
                                    "schema": {"type": "string", "format": "uuid"}}]
    return operation


def _ok(status: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = _content(schema)
    return {status: answer}


def openapi_document() -> dict[str, Any]:
    session_cookies = {"Set-Cookie": {"description": f"`{SESSION_COOKIE}` (HttpOnly) and `{CSRF_COOKIE}`; send the "
                                                     f"latter back in `{CSRF_HEADER}` with every change",
                                      "schema": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Journal", "version": "0.9.4",
                 "description": "A private journal. Changes need the CSRF token of the session in X-CSRF-Token."},
        "paths": {
            "/healthz": {"get": _op("health", "Liveness", [], _ok("200", "Alive"))},
            "/accounts": {"post": _op("register", "Open an account", [], {
                **_ok("201", "Opened", _ref("Account")), **_ok("202", "Accepted: see your e-mail")},
                body="NewAccount")},
            "/session": {"post": _op("login", "Sign in", [], {"200": {
                "description": "Signed in; session and CSRF cookies set", "headers": session_cookies,
                "content": _content(_ref("Account"))}}, body="SignIn")},
            "/password-reset": {"post": _op("requestPasswordReset", "Send a reset code (by username or phone)", [],
                                            _ok("200", "Requested", _ref("Detail")), body="ResetRequest")},
            "/accounts/self": {
                "get": _op("getSelf", "The signed-in account", READ, _ok("200", "The account", _ref("Account"))),
                "delete": _op("deleteSelf", "Close the signed-in account", WRITE, _ok("204", "Closed")),
            },
            "/journal": {
                "get": _op("listEntries", "The caller's entries", READ,
                           _ok("200", "Entries", {"type": "array", "items": _ref("Entry")})),
                "post": _op("createEntry", "Write an entry", WRITE, _ok("201", "Written", _ref("Entry")),
                            body="EntryInput"),
            },
            "/journal/{entry_id}": {
                "get": _op("getEntry", "One entry", READ, _ok("200", "The entry", _ref("Entry")), entry_id=True),
                "patch": _op("updateEntry", "Change an entry", WRITE, _ok("200", "Changed", _ref("Entry")),
                             body="EntryPatch", entry_id=True),
                "delete": _op("deleteEntry", "Delete an entry", WRITE, _ok("204", "Deleted"), entry_id=True),
            },
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
                "Detail": {"type": "object", "properties": {"detail": {"type": "string"}}},
                "NewAccount": {"type": "object", "required": ["username", "email", "password"], "properties": {
                    "username": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{3,64}$"},
                    "email": {"type": "string", "format": "email"},
                    "phone": {"type": "string", "description": "for reset codes by SMS"},
                    "password": {"type": "string", "format": "password", "minLength": 8}}},
                "SignIn": {"type": "object", "required": ["username", "password"], "properties": {
                    "username": {"type": "string"}, "password": {"type": "string", "format": "password"}}},
                "ResetRequest": {"type": "object", "description": "username or phone", "properties": {
                    "username": {"type": "string"}, "phone": {"type": "string"}}},
                "Account": {"type": "object", "properties": {
                    "username": {"type": "string"}, "email": {"type": "string", "format": "email"},
                    "phone": {"type": "string"}}},
                "EntryInput": {"type": "object", "required": ["headline"], "properties": {
                    "headline": {"type": "string", "minLength": 1, "maxLength": 200},
                    "text": {"type": "string", "maxLength": 10000},
                    "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20}}},
                "EntryPatch": {"type": "object", "properties": {
                    "headline": {"type": "string", "minLength": 1, "maxLength": 200},
                    "text": {"type": "string", "maxLength": 10000},
                    "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20}}},
                "Entry": {"type": "object", "properties": {
                    "entry_id": {"type": "string", "format": "uuid"}, "headline": {"type": "string"},
                    "text": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                    "written_at": {"type": "string", "format": "date-time"}}},
            },
        },
    }
