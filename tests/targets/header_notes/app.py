"""Zoo target (b): a notes service on plain Starlette, in the style of many PHP and Express back ends.

Every answer is HTTP 200 with a JSON envelope: `{"status": "success", "data": ...}` or `{"status": "fail",
"message": ...}`, also for failed logins and missing credentials. The login returns an opaque token in the
`X-Auth-Token` response header, and the API expects it back in that request header. Usernames are in the paths.
The OpenAPI document is written by hand (openapi.py).

    python -m tests.targets.header_notes.app --port 8002 --variant planted|clean

Planted (see ground_truth.yaml): the login says "no such user" or "wrong password", and only hashes the password
of existing users (timing); the registration says "username taken"; any signed-in user lists anyone's notes.
Clean: one message and the same work for every failed login, one answer to every registration, owner checks.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.targets.common import PLANTED, PasswordHasher, parse_args, serve
from tests.targets.header_notes.openapi import TOKEN_HEADER, openapi_document

USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{3,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# Costly enough (>= 50 ms here) that hashing only for existing accounts is measurable.
HASH_ITERATIONS = 120_000


@dataclass
class Account:
    username: str
    email: str
    password_hash: str
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)


class Fail(Exception):
    """A failure, answered as HTTP 200 with status "fail" (the style of this API)."""


def ok(data: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": "success", "data": data}, headers=headers)


def fail(message: str) -> JSONResponse:
    return JSONResponse({"status": "fail", "message": message})


def create_app(variant: str) -> Starlette:
    planted = variant == PLANTED
    hasher = PasswordHasher(HASH_ITERATIONS)
    accounts: dict[str, Account] = {}
    tokens: dict[str, str] = {}  # token -> username
    lock = threading.Lock()

    async def json_body(request: Request, *required: str) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise Fail("invalid JSON") from None
        if not isinstance(body, dict):
            raise Fail("expected a JSON object")
        missing = [name for name in required if not isinstance(body.get(name), str) or not body[name]]
        if missing:
            raise Fail(f"missing field(s): {', '.join(missing)}")
        return body

    def caller(request: Request) -> Account:
        username = tokens.get(request.headers.get(TOKEN_HEADER, ""))
        account = accounts.get(username or "")
        if account is None:
            raise Fail("authentication required")
        return account

    def owner(request: Request, *, check: bool = True) -> Account:
        """The account named in the path; with `check`, only its own user may act on it."""
        me = caller(request)
        account = accounts.get(request.path_params["username"])
        if account is None or (check and account is not me):
            raise Fail("not allowed")
        return account

    def note_of(account: Account, request: Request) -> dict[str, Any]:
        note = account.notes.get(request.path_params["note_id"])
        if note is None:
            raise Fail("note not found")
        return note

    async def register(request: Request) -> Response:
        body = await json_body(request, "username", "email", "password")
        if not USERNAME.match(body["username"]) or not EMAIL.match(body["email"]) or len(body["password"]) < 8:
            raise Fail("invalid username, e-mail or password (at least 8 characters)")
        password_hash = await run_in_threadpool(hasher.hash, body["password"])  # first: no timing difference
        with lock:
            taken = body["username"] in accounts
            email_taken = any(a.email == body["email"].lower() for a in accounts.values())
            if not taken and not email_taken:
                accounts[body["username"]] = Account(body["username"], body["email"].lower(), password_hash)
        if planted:
            if taken or email_taken:
                raise Fail("username taken" if taken else "e-mail already registered")
            return ok({"username": body["username"], "email": body["email"].lower()})
        # Clean: an existing owner would get a mail instead; the answer is the same either way.
        return ok({"message": "Welcome! Please check your e-mail to confirm your address."})

    async def login(request: Request) -> Response:
        body = await json_body(request, "username", "password")
        account = accounts.get(body["username"])
        if account is None and planted:
            raise Fail("no such user")  # answered at once: no hash computed for unknown users
        stored = account.password_hash if account is not None else hasher.dummy
        if not await run_in_threadpool(hasher.verify, body["password"], stored) or account is None:
            raise Fail("wrong password" if planted else "invalid username or password")
        token = secrets.token_urlsafe(32)
        with lock:
            tokens[token] = account.username
        return ok({"username": account.username, "logged_in_at": int(time.time())}, headers={TOKEN_HEADER: token})

    async def delete_account(request: Request) -> Response:
        me = caller(request)
        with lock:
            accounts.pop(me.username, None)
            for token in [t for t, name in tokens.items() if name == me.username]:
                del tokens[token]
        return ok({"deleted": me.username})

    async def user_profile(request: Request) -> Response:
        account = owner(request)
        return ok({"username": account.username, "email": account.email, "notes": len(account.notes)})

    async def notes(request: Request) -> Response:
        if request.method == "GET":
            account = owner(request, check=not planted)  # planted: any signed-in user lists anyone's notes
            return ok(list(account.notes.values()))
        account = owner(request)
        body = await json_body(request, "subject")
        note = {"note_id": secrets.token_hex(16), "subject": body["subject"], "content": str(body.get("content", "")),
                "pinned": bool(body.get("pinned", False))}
        with lock:
            account.notes[note["note_id"]] = note
        return ok(note)

    async def note(request: Request) -> Response:
        account = owner(request)
        current = note_of(account, request)
        if request.method == "PUT":
            body = await json_body(request, "subject")
            with lock:
                current.update(subject=body["subject"], content=str(body.get("content", "")),
                               pinned=bool(body.get("pinned", False)))
        elif request.method == "DELETE":
            with lock:
                account.notes.pop(current["note_id"], None)
            return ok({"deleted": current["note_id"]})
        return ok(current)

    async def health(request: Request) -> Response:
        return ok({"healthy": True})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    def answering_fails(endpoint: Any) -> Any:
        async def wrapped(request: Request) -> Response:
            try:
                response: Response = await endpoint(request)
            except Fail as exc:
                return fail(str(exc))
            return response
        return wrapped

    routes = [
        Route("/health", health),
        Route("/openapi.json", openapi),
        Route("/register", answering_fails(register), methods=["POST"]),
        Route("/login", answering_fails(login), methods=["POST"]),
        Route("/account", answering_fails(delete_account), methods=["DELETE"]),
        Route("/users/{username}", answering_fails(user_profile), methods=["GET"]),
        Route("/users/{username}/notes", answering_fails(notes), methods=["GET", "POST"]),
        Route("/users/{username}/notes/{note_id}", answering_fails(note), methods=["GET", "PUT", "DELETE"]),
    ]
    return Starlette(routes=routes)


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.header_notes.app", "Notes service (zoo target b)", argv)
    serve(create_app(args.variant), args.port)


if __name__ == "__main__":
    main()
