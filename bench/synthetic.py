"""A synthetic API of N operations for the benchmark: its OpenAPI document and a small server for it.

    python -m bench.synthetic --port 8010 --operations 200

The API has its own sign-up and login (HS256 JWT as bearer; no Keycloak) and `groups` of owned objects, each group
five operations (`POST`/`GET /rNNN/entries`, `GET`/`PUT`/`DELETE /rNNN/entries/{entry_id}`). Flaws are spread
over the groups so that every check family has work: group i % 4 == 1 has no owner check (cross-user), i % 4 == 2
uses sequential ids (enumeration), i % 4 == 3 lists every entry to a caller without a token (unauthenticated,
exposure), i % 8 == 5 accepts unsigned (`alg: none`) tokens (invalid token). The login says whether an account
exists, and `GET /directory` is public and shows every account's e-mail address.

`GET /_bench/stats` (not in the document) answers the number of requests served and the time of the first and
last one; `POST /_bench/reset` sets them back. The benchmark counts the harness's requests there.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

FIXED_OPERATIONS = 6  # health, register, login, directory, GET /me, DELETE /me
GROUP_OPERATIONS = 5
MIN_OPERATIONS = FIXED_OPERATIONS + GROUP_OPERATIONS
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Layout:
    """How `operations` splits into groups of five and single extra reads (`GET /me/summaryK`)."""

    operations: int
    groups: int
    extras: int

    @classmethod
    def of(cls, operations: int) -> Layout:
        if operations < MIN_OPERATIONS:
            raise ValueError(f"a synthetic API needs at least {MIN_OPERATIONS} operations, not {operations}")
        groups, extras = divmod(operations - FIXED_OPERATIONS, GROUP_OPERATIONS)
        return cls(operations, groups, extras)


def group_name(index: int) -> str:
    return f"r{index:03d}"


def no_owner_check(index: int) -> bool:
    return index % 4 == 1


def sequential_ids(index: int) -> bool:
    return index % 4 == 2


def public_listing(index: int) -> bool:
    return index % 4 == 3


def accepts_unsigned(index: int) -> bool:
    return index % 8 == 5


# --- the OpenAPI document --------------------------------------------------------------------------------------------

def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _answer(status: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return {status: answer, "401": {"description": "No or invalid token"}}


def _operation(operation_id: str, summary: str, *, public: bool = False, body: str | None = None,
               answer: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "responses": answer,
                                 "security": [] if public else BEARER}
    if body:
        operation["requestBody"] = _json_body(body)
    if parameters:
        operation["parameters"] = parameters
    return operation


ENTRY = {"$ref": "#/components/schemas/Entry"}
ENTRY_ID = [{"name": "entry_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _group_paths(index: int) -> dict[str, Any]:
    name = group_name(index)
    return {
        f"/{name}/entries": {
            "get": _operation(f"list_{name}", f"List my {name} entries",
                              answer=_answer("200", "The entries", {"type": "array", "items": ENTRY})),
            "post": _operation(f"create_{name}", f"Create a {name} entry", body="EntryInput",
                               answer=_answer("201", "Created", ENTRY)),
        },
        f"/{name}/entries/{{entry_id}}": {
            "get": _operation(f"get_{name}", f"Read a {name} entry", parameters=ENTRY_ID,
                              answer=_answer("200", "The entry", ENTRY)),
            "put": _operation(f"update_{name}", f"Replace a {name} entry", body="EntryInput", parameters=ENTRY_ID,
                              answer=_answer("200", "The changed entry", ENTRY)),
            "delete": _operation(f"delete_{name}", f"Delete a {name} entry", parameters=ENTRY_ID,
                                 answer=_answer("204", "Deleted")),
        },
    }


def openapi_document(operations: int) -> dict[str, Any]:
    """An OpenAPI 3.0 document with exactly `operations` operations."""
    layout = Layout.of(operations)
    account = {"type": "object", "properties": {"username": {"type": "string"}, "email": {"type": "string"}}}
    paths: dict[str, Any] = {
        "/health": {"get": _operation("health", "Liveness", public=True, answer=_answer("200", "Alive"))},
        "/register": {"post": _operation("register", "Sign up", public=True, body="Registration",
                                         answer=_answer("201", "Registered", account))},
        "/login": {"post": _operation("login", "Log in", public=True, body="Credentials",
                                      answer=_answer("200", "A token", {"$ref": "#/components/schemas/Token"}))},
        "/directory": {"get": _operation("directory", "Who uses the service", public=True,
                                         answer=_answer("200", "Accounts", {"type": "array", "items": account}))},
        "/me": {"get": _operation("me", "My account", answer=_answer("200", "The account", account)),
                "delete": _operation("delete_me", "Delete my account", answer=_answer("204", "Deleted"))},
    }
    for index in range(layout.groups):
        paths.update(_group_paths(index))
    counts = {"type": "object", "properties": {"entries": {"type": "integer"}}}
    for extra in range(layout.extras):
        paths[f"/me/summary{extra}"] = {"get": _operation(f"summary{extra}", "My entry counts",
                                                          answer=_answer("200", "Counts", counts))}
    text = {"type": "string", "maxLength": 200}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Synthetic benchmark API ({operations} operations)", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                "Registration": {"type": "object", "required": ["username", "email", "password"],
                                 "properties": {"username": text, "email": {"type": "string", "format": "email"},
                                                "password": {"type": "string", "minLength": 8}}},
                "Credentials": {"type": "object", "required": ["username", "password"],
                                "properties": {"username": text, "password": {"type": "string"}}},
                "Token": {"type": "object", "properties": {"access_token": {"type": "string"},
                                                           "token_type": {"type": "string"}}},
                "EntryInput": {"type": "object", "required": ["title"],
                               "properties": {"title": text, "note": text, "score": {"type": "integer"}}},
                "Entry": {"type": "object", "properties": {"id": {"type": "string"}, "title": text, "note": text,
                                                           "score": {"type": "integer"}}},
            },
        },
    }


def operation_count(document: dict[str, Any]) -> int:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in document["paths"].values() for method in item if method in methods)


# --- the server ------------------------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    """HS256 JWTs with `sub` = username; `verify` may accept unsigned ones (the planted flaw of some groups)."""

    def __init__(self) -> None:
        self.key = secrets.token_bytes(32)

    def issue(self, username: str) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        now = int(time.time())
        claims = _b64(json.dumps({"sub": username, "iat": now, "exp": now + 3600}).encode())
        signature = _b64(hmac.new(self.key, f"{header}.{claims}".encode(), hashlib.sha256).digest())
        return f"{header}.{claims}.{signature}"

    def verify(self, token: str, *, allow_unsigned: bool) -> str | None:
        try:
            header_text, claims_text, signature = token.split(".")
            header = json.loads(_unb64(header_text))
            claims = json.loads(_unb64(claims_text))
        except ValueError:
            return None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return None
        if str(header.get("alg", "")).lower() == "none":
            valid = allow_unsigned
        else:
            expected = _b64(hmac.new(self.key, f"{header_text}.{claims_text}".encode(), hashlib.sha256).digest())
            valid = header.get("alg") == "HS256" and hmac.compare_digest(expected, signature)
        if not valid or not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return None
        subject = claims.get("sub")
        return subject if isinstance(subject, str) else None


@dataclass
class Account:
    username: str
    email: str
    salt: bytes
    digest: bytes


@dataclass
class Store:
    accounts: dict[str, Account] = field(default_factory=dict)
    entries: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)  # group -> id -> entry (+ owner)
    counters: dict[int, itertools.count[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Stats:
    """Requests served (the benchmark's own `/_bench/` requests not counted), first and last time."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.first = 0.0
        self.last = 0.0

    def count(self) -> None:
        now = time.time()
        if not self.requests:
            self.first = now
        self.requests += 1
        self.last = now


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.sha256(salt + password.encode()).digest()


class SyntheticApp:
    """A plain ASGI app (no framework: the server should not be the bottleneck of the benchmark)."""

    def __init__(self, operations: int) -> None:
        self.layout = Layout.of(operations)
        self.document = json.dumps(openapi_document(operations)).encode()
        self.tokens = Tokens()
        self.store = Store()
        self.stats = Stats()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # served with lifespan="off"
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path: str = scope["path"]
        if not path.startswith("/_bench/"):
            self.stats.count()
        headers = {name.decode().lower(): value.decode(errors="replace") for name, value in scope["headers"]}
        status, payload = self.handle(scope["method"], path, headers, body)
        raw = b"" if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        response_headers = [(b"content-length", str(len(raw)).encode())]
        if payload is not None:
            response_headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": raw})

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if path == "/health":
            return 200, {"status": "ok"}
        if path == "/openapi.json":
            return 200, self.document
        if path == "/_bench/stats":
            return 200, {"requests": self.stats.requests, "first": self.stats.first, "last": self.stats.last}
        if path == "/_bench/reset" and method == "POST":
            self.stats.reset()
            return 200, {"reset": True}
        if path == "/register" and method == "POST":
            return self.register(body)
        if path == "/login" and method == "POST":
            return self.login(body)
        if path == "/directory" and method == "GET":
            return 200, [{"username": a.username, "email": a.email} for a in list(self.store.accounts.values())]
        group = self._group(parts[0]) if parts else None
        if group is not None and len(parts) in (2, 3) and parts[1] == "entries":
            return self.entries(group, method, parts[2] if len(parts) == 3 else None, headers, body)
        if parts[0] == "me" and len(parts) <= 2:
            return self.me(method, parts[1] if len(parts) == 2 else None, headers)
        return 404, {"detail": "not found"}

    def _group(self, name: str) -> int | None:
        if len(name) == 4 and name[0] == "r" and name[1:].isdigit() and int(name[1:]) < self.layout.groups:
            return int(name[1:])
        return None

    def caller(self, headers: dict[str, str], *, allow_unsigned: bool = False) -> str | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        username = self.tokens.verify(token.strip(), allow_unsigned=allow_unsigned)
        return username if username in self.store.accounts else None

    def register(self, body: bytes) -> tuple[int, Any]:
        data = _json(body)
        username, email, password = (data.get(key) for key in ("username", "email", "password"))
        if not (isinstance(username, str) and isinstance(email, str) and isinstance(password, str) and username):
            return 422, {"detail": "username, email and password are required"}
        if len(password) < 8 or "@" not in email:
            return 422, {"detail": "invalid e-mail or password (at least 8 characters)"}
        salt = secrets.token_bytes(16)
        with self.store.lock:
            if username in self.store.accounts:
                return 409, {"detail": "username taken"}
            self.store.accounts[username] = Account(username, email.lower(), salt, _hash(password, salt))
        return 201, {"username": username, "email": email.lower()}

    def login(self, body: bytes) -> tuple[int, Any]:
        data = _json(body)
        account = self.store.accounts.get(str(data.get("username", "")))
        if account is None:
            return 401, {"detail": "no such user"}
        if not hmac.compare_digest(_hash(str(data.get("password", "")), account.salt), account.digest):
            return 401, {"detail": "wrong password"}
        return 200, {"access_token": self.tokens.issue(account.username), "token_type": "bearer"}

    def me(self, method: str, summary: str | None, headers: dict[str, str]) -> tuple[int, Any]:
        username = self.caller(headers)
        if username is None:
            return 401, {"detail": "not authenticated"}
        account = self.store.accounts[username]
        if summary is None and method == "GET":
            return 200, {"username": account.username, "email": account.email}
        if summary is None and method == "DELETE":
            with self.store.lock:
                self.store.accounts.pop(username, None)
                for entries in self.store.entries.values():
                    for key in [key for key, entry in entries.items() if entry["owner"] == username]:
                        del entries[key]
            return 204, None
        if summary is not None and method == "GET" and summary.startswith("summary"):
            own = sum(1 for entries in self.store.entries.values() for e in entries.values() if e["owner"] == username)
            return 200, {"entries": own}
        return 405, {"detail": "method not allowed"}

    def entries(self, group: int, method: str, entry_id: str | None, headers: dict[str, str],
                body: bytes) -> tuple[int, Any]:
        username = self.caller(headers, allow_unsigned=accepts_unsigned(group))
        entries = self.store.entries.setdefault(group, {})
        if entry_id is None and method == "GET" and username is None and public_listing(group):
            return 200, [_public(entry) for entry in list(entries.values())]
        if username is None:
            return 401, {"detail": "not authenticated"}
        if entry_id is None:
            if method == "GET":
                return 200, [_public(entry) for entry in list(entries.values()) if entry["owner"] == username]
            if method == "POST":
                return self.create(group, username, body)
            return 405, {"detail": "method not allowed"}
        entry = entries.get(entry_id)
        if entry is None or (entry["owner"] != username and not no_owner_check(group)):
            return 404, {"detail": "entry not found"}
        if method == "GET":
            return 200, _public(entry)
        if method == "PUT":
            data = _json(body)
            if not isinstance(data.get("title"), str):
                return 422, {"detail": "title is required"}
            entry.update(title=data["title"], note=str(data.get("note", "")), score=_int(data.get("score")))
            return 200, _public(entry)
        if method == "DELETE":
            with self.store.lock:
                entries.pop(entry_id, None)
            return 204, None
        return 405, {"detail": "method not allowed"}

    def create(self, group: int, username: str, body: bytes) -> tuple[int, Any]:
        data = _json(body)
        if not isinstance(data.get("title"), str) or not data["title"]:
            return 422, {"detail": "title is required"}
        with self.store.lock:
            if sequential_ids(group):
                entry_id = str(next(self.store.counters.setdefault(group, itertools.count(1))))
            else:
                entry_id = uuid.uuid4().hex
            entry = {"id": entry_id, "owner": username, "title": data["title"], "note": str(data.get("note", "")),
                     "score": _int(data.get("score"))}
            self.store.entries[group][entry_id] = entry
        return 201, _public(entry)


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "owner"}


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.synthetic", description="The benchmark's synthetic API")
    parser.add_argument("--port", type=int, required=True, help="port to bind on 127.0.0.1")
    parser.add_argument("--operations", type=int, default=200, help=f"number of operations (>= {MIN_OPERATIONS})")
    args = parser.parse_args(argv)
    uvicorn.run(SyntheticApp(args.operations), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False, lifespan="off", workers=1)


if __name__ == "__main__":
    main()
