"""Zoo target (g-ids): health records under numbered users, on Starlette, with a JWT whose `sub` is not the user id.

Each account has two identifiers: an external UUID (the token's `sub`, as an identity provider would issue it) and
the API's own user id, a random integer that the registration answer, `GET /api/me` and every path use
(`/api/users/{id}/records`). A client that puts the token's `sub` into the path gets 404: the id must be learned
from the API.

    python -m tests.targets.numbered_users.app --port 8006 --variant planted|clean

Planted (see ground_truth.yaml): any signed-in user lists anyone's records (`GET /api/users/{id}/records` has no
owner check). Clean: another user's id answers 404, like an id that does not exist. Everything else is the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.targets.common import PLANTED, PasswordHasher, parse_args, serve

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
TOKEN_LIFETIME_S = 3600


@dataclass
class Account:
    id: int
    external_id: str
    email: str
    name: str
    password_hash: str
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def new_id() -> int:
    """A user id: a random 72-bit integer (no order, nothing to scan)."""
    return secrets.randbits(72) | (1 << 71)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, Any], key: bytes) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def verify(token: str, key: bytes) -> dict[str, Any] | None:
    try:
        header, payload, signature = token.split(".")
        expected = _b64(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    return claims if claims.get("exp", 0) > time.time() else None


def create_app(variant: str) -> Starlette:
    planted = variant == PLANTED
    hasher = PasswordHasher(iterations=20_000)
    key = secrets.token_bytes(32)
    accounts: dict[int, Account] = {}
    lock = threading.RLock()

    def caller(request: Request) -> Account:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        claims = verify(token.strip(), key) if scheme.lower() == "bearer" else None
        account = next((a for a in accounts.values() if claims and a.external_id == claims.get("sub")), None)
        if account is None:
            raise ApiError(401, "a valid bearer token is required")
        return account

    def user_in_path(request: Request, *, check_owner: bool = True) -> tuple[Account, Account]:
        me = caller(request)
        try:
            account = accounts.get(int(request.path_params["id"]))
        except ValueError:
            raise ApiError(404, "user not found") from None
        if account is None or (check_owner and account.id != me.id):
            raise ApiError(404, "user not found")
        return me, account

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise ApiError(400, "invalid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "expected a JSON object")
        return body

    def text(body: dict[str, Any], name: str, max_length: int, *, required: bool = False) -> str:
        value = body.get(name, "")
        if not isinstance(value, str) or len(value) > max_length or (required and not value):
            raise ApiError(400, f"`{name}` must be a string of at most {max_length} characters")
        return value

    def me_view(account: Account) -> dict[str, Any]:
        return {"id": account.id, "email": account.email, "name": account.name}

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def register(request: Request) -> Response:
        body = await body_of(request)
        email, name = text(body, "email", 254).lower(), text(body, "name", 80)
        password = text(body, "password", 256)
        if not EMAIL.match(email) or len(password) < 8:
            raise ApiError(400, "invalid e-mail or password (at least 8 characters)")
        password_hash = await run_in_threadpool(hasher.hash, password)
        with lock:
            if any(a.email == email for a in accounts.values()):
                # a taken e-mail gets the same kind of answer as a free one (a mail would tell the owner)
                return JSONResponse({"id": new_id(), "email": email, "name": name},
                                    status_code=201)
            user_id = new_id()
            while user_id in accounts:
                user_id = new_id()
            accounts[user_id] = Account(user_id, str(uuid.uuid4()), email, name, password_hash)
        return JSONResponse(me_view(accounts[user_id]), status_code=201)

    async def login(request: Request) -> Response:
        body = await body_of(request)
        email, password = text(body, "email", 254).lower(), text(body, "password", 256)
        account = next((a for a in accounts.values() if a.email == email), None)
        verified = await run_in_threadpool(hasher.verify, password,
                                           account.password_hash if account else hasher.dummy)
        if account is None or not verified:
            raise ApiError(401, "invalid e-mail or password")
        now = int(time.time())
        token = sign({"sub": account.external_id, "iat": now, "exp": now + TOKEN_LIFETIME_S}, key)
        return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME_S})

    async def me(request: Request) -> Response:
        account = caller(request)
        if request.method == "DELETE":
            with lock:
                accounts.pop(account.id, None)
            return Response(status_code=204)
        return JSONResponse(me_view(account))

    async def user(request: Request) -> Response:
        _, account = user_in_path(request)
        return JSONResponse({**me_view(account), "record_count": len(account.records)})

    async def records(request: Request) -> Response:
        if request.method == "GET":
            _, account = user_in_path(request, check_owner=not planted)  # planted: no owner check on the list
            return JSONResponse({"records": list(account.records.values())})
        _, account = user_in_path(request)
        body = await body_of(request)
        record = {"record_id": secrets.token_hex(12), "kind": text(body, "kind", 40, required=True),
                  "note": text(body, "note", 2000), "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ")}
        with lock:
            account.records[record["record_id"]] = record
        return JSONResponse(record, status_code=201)

    async def record(request: Request) -> Response:
        _, account = user_in_path(request)
        found = account.records.get(request.path_params["record_id"])
        if found is None:
            raise ApiError(404, "record not found")
        if request.method == "DELETE":
            with lock:
                account.records.pop(found["record_id"], None)
            return Response(status_code=204)
        return JSONResponse(found)

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    def guarded(view: Any) -> Any:
        async def call(request: Request) -> Response:
            try:
                response: Response = await view(request)
            except ApiError as exc:
                return JSONResponse({"detail": str(exc)}, status_code=exc.status)
            return response
        return call

    routes = [
        Route("/health", guarded(health), methods=["GET"]),
        Route("/openapi.json", guarded(openapi), methods=["GET"]),
        Route("/api/register", guarded(register), methods=["POST"]),
        Route("/api/login", guarded(login), methods=["POST"]),
        Route("/api/me", guarded(me), methods=["GET", "DELETE"]),
        Route("/api/users/{id}", guarded(user), methods=["GET"]),
        Route("/api/users/{id}/records", guarded(records), methods=["GET", "POST"]),
        Route("/api/users/{id}/records/{record_id}", guarded(record), methods=["GET", "DELETE"]),
    ]
    return Starlette(routes=routes)


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


_USER = _schema({"id": {"type": "integer"}, "email": {"type": "string", "format": "email"},
                 "name": {"type": "string"}}, ["id", "email", "name"])
_RECORD_IN = _schema({"kind": {"type": "string", "maxLength": 40, "example": "blood pressure"},
                      "note": {"type": "string", "maxLength": 2000}}, ["kind"])
_RECORD = _schema({"record_id": {"type": "string"}, "kind": {"type": "string"}, "note": {"type": "string"},
                   "created_at": {"type": "string", "format": "date-time"}}, ["record_id", "kind"])
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
       "description": "The user's id (as in the registration answer and GET /api/me)"}
_RECORD_ID = {"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _json(schema: dict[str, Any], status: str = "200", description: str = "OK") -> dict[str, Any]:
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}},
            "401": {"description": "No or an invalid token"}, "404": {"description": "Not found"}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Vitals", "version": "2.1.0", "description": "Health records of numbered users"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/register": {"post": {
            "operationId": "register", "security": [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _schema(
                {"email": {"type": "string", "format": "email"}, "password": {"type": "string"},
                 "name": {"type": "string"}}, ["email", "password"])}}},
            "responses": {"201": {"description": "The new account",
                                  "content": {"application/json": {"schema": _USER}}},
                          "400": {"description": "Invalid"}}}},
        "/api/login": {"post": {
            "operationId": "login", "security": [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _schema(
                {"email": {"type": "string"}, "password": {"type": "string"}}, ["email", "password"])}}},
            "responses": {"200": {"description": "A token (JWT)", "content": {"application/json": {"schema": _schema(
                {"access_token": {"type": "string"}, "token_type": {"type": "string"}}, ["access_token"])}}},
                "401": {"description": "Invalid credentials"}}}},
        "/api/me": {
            "get": {"operationId": "getMe", "responses": _json(_USER)},
            "delete": {"operationId": "deleteMe", "responses": {"204": {"description": "Deleted"},
                                                                "401": {"description": "No or an invalid token"}}}},
        "/api/users/{id}": {"get": {"operationId": "getUser", "parameters": [_ID], "responses": _json(_USER)}},
        "/api/users/{id}/records": {
            "get": {"operationId": "listRecords", "parameters": [_ID], "responses": _json(_schema(
                {"records": {"type": "array", "items": _RECORD}}, ["records"]))},
            "post": {"operationId": "addRecord", "parameters": [_ID],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": _RECORD_IN}}},
                     "responses": _json(_RECORD, "201", "Created")}},
        "/api/users/{id}/records/{record_id}": {
            "get": {"operationId": "getRecord", "parameters": [_ID, _RECORD_ID], "responses": _json(_RECORD)},
            "delete": {"operationId": "deleteRecord", "parameters": [_ID, _RECORD_ID],
                       "responses": {"204": {"description": "Deleted"}, "404": {"description": "Not found"}}}},
    },
}


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.numbered_users.app", "Numbered users (zoo target g-ids)", argv)
    serve(create_app(args.variant), args.port)


if __name__ == "__main__":
    main()
