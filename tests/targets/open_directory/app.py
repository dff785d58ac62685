"""Zoo target (g): a member directory as a bare ASGI application (no framework), served by uvicorn.

Accounts by username with e-mail and phone, a login that hands out an opaque key sent back as
`Authorization: Token <key>`, a private address book per user (`/contacts`). Every answer is HTTP 200 with a JSON
envelope, `{"status": "success", "data": ...}` or `{"status": "fail", "message": ...}`, also for a missing
token, a foreign object and an unknown path. The OpenAPI document (openapi.py) declares the debug listing, the
member list and the member lookup public.

    python -m tests.targets.open_directory.app --port 8007 --variant planted|clean

Planted (see ground_truth.yaml): the debug listing shows every account with e-mail, phone and plaintext
password; the member list shows usernames and e-mails; the member lookup answers anyone with the member's e-mail
and phone; the admin statistics refuse signed-in non-admins but answer anonymous callers (and unknown tokens) with
the latest sign-ups' e-mails. Clean: counts only in the debug listing, opaque handles in the member list, the
lookup only for the caller itself (same refusal for others and unknown names), the statistics for admins only.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from tests.targets.common import PLANTED, PasswordHasher, parse_args, serve
from tests.targets.open_directory.openapi import TOKEN_SCHEME, openapi_document

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
HASH_ITERATIONS = 2_000  # cheap: no timing flaw is planted here
MAX_BODY = 64 * 1024

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Account:
    username: str
    email: str
    phone: str
    password_hash: str
    handle: str  # what the clean member list shows: random, told to nobody
    plaintext: str = ""  # planted only: kept "for the support team", shown by the debug listing
    is_admin: bool = False
    joined: int = field(default_factory=lambda: int(time.time()))
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)


class Fail(Exception):
    """A failure, answered as HTTP 200 with status "fail" (the style of this API)."""


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self, *required: str) -> dict[str, Any]:
        try:
            value = json.loads(self.body or b"null")
        except ValueError:
            raise Fail("invalid JSON") from None
        if not isinstance(value, dict):
            raise Fail("expected a JSON object")
        missing = [name for name in required if not isinstance(value.get(name), str) or not value[name]]
        if missing:
            raise Fail(f"missing field(s): {', '.join(missing)}")
        return value

    def token(self) -> str:
        scheme, _, key = self.headers.get("authorization", "").partition(" ")
        return key.strip() if scheme == TOKEN_SCHEME else ""


Handler = Callable[[Call], Awaitable[Any]]


class Directory:
    """The application's state and its operations; `planted` switches the flaws of ground_truth.yaml on."""

    def __init__(self, planted: bool) -> None:
        self.planted = planted
        self.hasher = PasswordHasher(HASH_ITERATIONS)
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, str] = {}  # key -> username
        self.lock = threading.Lock()
        admin_password = secrets.token_urlsafe(18)
        self.accounts["admin"] = Account("admin", "admin@open-directory.invalid", "", self.hasher.hash(admin_password),
                                         secrets.token_hex(8), admin_password if planted else "", is_admin=True)

    # -- who is calling -----------------------------------------------------------------------------------------
    def caller(self, call: Call) -> Account | None:
        return self.accounts.get(self.tokens.get(call.token(), ""))

    def signed_in(self, call: Call) -> Account:
        account = self.caller(call)
        if account is None:
            raise Fail("authentication required")
        return account

    # -- accounts -----------------------------------------------------------------------------------------------
    async def register(self, call: Call) -> Any:
        body = call.json("username", "email", "password")
        phone = str(body.get("phone") or "")
        if not USERNAME.match(body["username"]) or not EMAIL.match(body["email"]) or len(body["password"]) < 8:
            raise Fail("invalid username, e-mail or password (at least 8 characters)")
        password_hash = await run_in_threadpool(self.hasher.hash, body["password"])
        with self.lock:
            email = body["email"].lower()
            free = body["username"] not in self.accounts and all(a.email != email for a in self.accounts.values())
            if free:
                self.accounts[body["username"]] = Account(body["username"], email, phone, password_hash,
                                                          secrets.token_hex(8),
                                                          body["password"] if self.planted else "")
        # the same answer whether or not the name was free (an existing owner would get a mail)
        return {"message": "Welcome! Please check your e-mail to confirm your address."}

    async def login(self, call: Call) -> Any:
        body = call.json("username", "password")
        account = self.accounts.get(body["username"])
        stored = account.password_hash if account is not None else self.hasher.dummy
        if not await run_in_threadpool(self.hasher.verify, body["password"], stored) or account is None:
            raise Fail("invalid username or password")
        key = secrets.token_hex(20)
        with self.lock:
            self.tokens[key] = account.username
        return {"token": key}

    async def delete_account(self, call: Call) -> Any:
        me = self.signed_in(call)
        with self.lock:
            self.accounts.pop(me.username, None)
            for key in [k for k, name in self.tokens.items() if name == me.username]:
                del self.tokens[key]
        return {"deleted": True}

    # -- the directory ------------------------------------------------------------------------------------------
    async def debug_users(self, call: Call) -> Any:
        if self.planted:  # left in from development: the whole user store
            return {"users": [{"username": a.username, "email": a.email, "phone": a.phone, "password": a.plaintext,
                               "admin": a.is_admin} for a in self.accounts.values()],
                    "sessions": len(self.tokens)}
        return {"users": len(self.accounts), "sessions": len(self.tokens), "version": "1.4.0"}

    async def members(self, call: Call) -> Any:
        if self.planted:
            return [{"username": a.username, "email": a.email, "joined": a.joined} for a in self.accounts.values()]
        return {"count": len(self.accounts), "members": [{"handle": a.handle} for a in self.accounts.values()]}

    async def member(self, call: Call) -> Any:
        if self.planted:  # anyone may look anyone up
            account = self.accounts.get(call.params["username"])
            if account is None:
                raise Fail("no such member")
        else:
            account = self.signed_in(call)
            if account.username != call.params["username"]:
                raise Fail("not allowed")  # the same for other members and unknown names
        return {"username": account.username, "email": account.email, "phone": account.phone}

    async def admin_stats(self, call: Call) -> Any:
        me = self.caller(call)
        # planted: refuses signed-in non-admins, forgets callers without (a known) token
        refused = (me is not None and not me.is_admin) if self.planted else (me is None or not me.is_admin)
        if refused:
            raise Fail("administrators only" if me is not None else "authentication required")
        latest = sorted(self.accounts.values(), key=lambda a: a.joined, reverse=True)[:10]
        return {"accounts": len(self.accounts), "latest": [{"email": a.email, "joined": a.joined} for a in latest]}

    # -- the caller's contacts (owner checks in both variants) --------------------------------------------------
    def contact_of(self, me: Account, call: Call) -> dict[str, str]:
        contact = me.contacts.get(call.params["contact_id"])
        if contact is None:
            raise Fail("contact not found")  # also for other users' contacts and malformed ids
        return contact

    @staticmethod
    def contact_input(call: Call) -> dict[str, str]:
        body = call.json("name")
        return {"name": body["name"][:100], "phone": str(body.get("phone") or "")[:32],
                "note": str(body.get("note") or "")[:500]}

    async def contacts(self, call: Call) -> Any:
        me = self.signed_in(call)
        if call.method == "GET":
            return list(me.contacts.values())
        contact = {"contact_id": secrets.token_hex(12), **self.contact_input(call)}
        with self.lock:
            me.contacts[contact["contact_id"]] = contact
        return contact

    async def contact(self, call: Call) -> Any:
        me = self.signed_in(call)
        current = self.contact_of(me, call)
        if call.method == "PUT":
            with self.lock:
                current.update(self.contact_input(call))
        elif call.method == "DELETE":
            with self.lock:
                me.contacts.pop(current["contact_id"], None)
            return {"deleted": current["contact_id"]}
        return current

    async def ping(self, call: Call) -> Any:
        return {"alive": True}

    def routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/ping", self.ping),
            ("POST", "/register", self.register),
            ("POST", "/login", self.login),
            ("DELETE", "/account", self.delete_account),
            ("GET", "/debug/users", self.debug_users),
            ("GET", "/users", self.members),
            ("GET", "/users/{username}", self.member),
            ("GET", "/admin/stats", self.admin_stats),
            ("GET", "/contacts", self.contacts),
            ("POST", "/contacts", self.contacts),
            ("GET", "/contacts/{contact_id}", self.contact),
            ("PUT", "/contacts/{contact_id}", self.contact),
            ("DELETE", "/contacts/{contact_id}", self.contact),
        ]
        return [(method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), handler)
                for method, path, handler in table]


def create_app(variant: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    directory = Directory(variant == PLANTED)
    routes = directory.routes()
    document = json.dumps(openapi_document()).encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > MAX_BODY:
                break
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        call = Call(scope["method"], scope["path"], headers, body)
        if call.method == "GET" and call.path == "/openapi.json":
            await respond(send, document)
            return
        await respond(send, json.dumps(await dispatch(call, routes)).encode())

    return app


async def dispatch(call: Call, routes: list[tuple[str, re.Pattern[str], Handler]]) -> dict[str, Any]:
    path_known = False
    for method, pattern, handler in routes:
        match = pattern.match(call.path)
        if match is None:
            continue
        path_known = True
        if method == call.method:
            call.params = match.groupdict()
            try:
                return {"status": "success", "data": await handler(call)}
            except Fail as exc:
                return {"status": "fail", "message": str(exc)}
    return {"status": "fail", "message": "method not allowed" if path_known else "no such endpoint"}


async def respond(send: Send, payload: bytes) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.open_directory.app", "Member directory (zoo target g)", argv)
    serve(create_app(args.variant), args.port)


if __name__ == "__main__":
    main()
