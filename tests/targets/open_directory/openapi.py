"""The hand-written OpenAPI 3 document of the member directory (the same for both variants).

Like many hand-kept documents it declares what its authors believe: the debug listing, the member list and the
member lookup are public (no security), and only the admin statistics, the account and the contacts need a
token. Every answer is HTTP 200 with `status` success or fail.
"""

from __future__ import annotations

from typing import Any

TOKEN_SCHEME = "Token"  # sent as `Authorization: Token <key>`, the style of Django REST framework
AUTH: list[dict[str, list[str]]] = [{"tokenAuth": []}]
PUBLIC: list[dict[str, list[str]]] = []


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """HTTP 200 in every case: success carries `data`, failure `message` (status "fail")."""
    success = {"allOf": [_ref("Success"), {"properties": {"data": data}}]} if data else _ref("Success")
    return {"200": {"description": description,
                    "content": {"application/json": {"schema": {"oneOf": [success, _ref("Fail")]}}}}}


def _operation(operation_id: str, summary: str, tag: str, *, security: list[Any], answer: dict[str, Any],
               body: str | None = None, parameters: tuple[str, ...] = ()) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag],
                                 "security": security, "responses": answer}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if parameters:
        operation["parameters"] = [{"$ref": f"#/components/parameters/{name}"} for name in parameters]
    return operation


def openapi_document() -> dict[str, Any]:
    contact = ("contact_id",)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Open Directory", "version": "1.4.0",
                 "description": "A member directory with private address books. Every answer is HTTP 200; "
                                "`status` says whether it worked."},
        "paths": {
            "/register": {"post": _operation("register", "Create an account", "account", security=PUBLIC,
                                             body="Registration", answer=_answer("Registered (or why not)"))},
            "/login": {"post": _operation("login", "Log in: the token goes into `Authorization: Token <key>`",
                                          "account", security=PUBLIC, body="Credentials",
                                          answer=_answer("The token", _ref("Login")))},
            "/account": {"delete": _operation("deleteAccount", "Delete the caller's account", "account",
                                              security=AUTH, answer=_answer("Deleted"))},
            "/debug/users": {"get": _operation("debugUsers", "Diagnostics of the user store", "system",
                                               security=PUBLIC, answer=_answer("Diagnostics", {"type": "object"}))},
            "/users": {"get": _operation("listMembers", "The member directory", "members", security=PUBLIC,
                                         answer=_answer("Members", {"type": "object"}))},
            "/users/{username}": {"get": _operation("getMember", "One member", "members", security=PUBLIC,
                                                    parameters=("username",),
                                                    answer=_answer("The member", _ref("Member")))},
            "/admin/stats": {"get": _operation("adminStats", "Sign-up statistics (administrators only)", "admin",
                                               security=AUTH, answer=_answer("Statistics", {"type": "object"}))},
            "/contacts": {
                "get": _operation("listContacts", "The caller's contacts", "contacts", security=AUTH,
                                  answer=_answer("The contacts", {"type": "array", "items": _ref("Contact")})),
                "post": _operation("createContact", "Add a contact", "contacts", security=AUTH,
                                   body="ContactInput", answer=_answer("The new contact", _ref("Contact"))),
            },
            "/contacts/{contact_id}": {
                "get": _operation("getContact", "One contact", "contacts", security=AUTH, parameters=contact,
                                  answer=_answer("The contact", _ref("Contact"))),
                "put": _operation("updateContact", "Replace a contact", "contacts", security=AUTH,
                                  parameters=contact, body="ContactInput",
                                  answer=_answer("The changed contact", _ref("Contact"))),
                "delete": _operation("deleteContact", "Delete a contact", "contacts", security=AUTH,
                                     parameters=contact, answer=_answer("Deleted")),
            },
        },
        "components": {
            "securitySchemes": {"tokenAuth": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": f"`{TOKEN_SCHEME} <key>` with the key from POST /login"}},
            "parameters": {
                "username": {"name": "username", "in": "path", "required": True,
                             "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{3,64}$"}},
                "contact_id": {"name": "contact_id", "in": "path", "required": True,
                               "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"}},
            },
            "schemas": {
                "Success": {"type": "object", "required": ["status"],
                            "properties": {"status": {"type": "string", "enum": ["success"]}, "data": {}}},
                "Fail": {"type": "object", "required": ["status", "message"],
                         "properties": {"status": {"type": "string", "enum": ["fail"]},
                                        "message": {"type": "string"}}},
                "Registration": {"type": "object", "required": ["username", "email", "password"], "properties": {
                    "username": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{3,64}$"},
                    "email": {"type": "string", "format": "email"},
                    "password": {"type": "string", "format": "password", "minLength": 8},
                    "phone": {"type": "string", "maxLength": 32}}},
                "Credentials": {"type": "object", "required": ["username", "password"], "properties": {
                    "username": {"type": "string"}, "password": {"type": "string", "format": "password"}}},
                "Login": {"type": "object", "properties": {"token": {"type": "string"}}},
                "Member": {"type": "object", "properties": {
                    "username": {"type": "string"}, "email": {"type": "string", "format": "email"},
                    "phone": {"type": "string"}}},
                "ContactInput": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "phone": {"type": "string", "maxLength": 32},
                    "note": {"type": "string", "maxLength": 500}}},
                "Contact": {"type": "object", "properties": {
                    "contact_id": {"type": "string"}, "name": {"type": "string"}, "phone": {"type": "string"},
                    "note": {"type": "string"}}},
            },
        },
    }
