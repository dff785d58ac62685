"""Zoo target (c): a journal service on the standard library's http.server, with cookie sessions and CSRF.

`POST /session` sets an HttpOnly `sid` cookie and a readable `csrf_token` cookie; every state-changing request
of a signed-in user must repeat the CSRF token in the `X-CSRF-Token` header (double submit). Accounts by
username (with e-mail and phone), password reset by username or phone, journal entries with UUIDs.

    python -m tests.targets.cookie_journal.app --port 8003 --variant planted|clean

Planted (see ground_truth.yaml): the registration answers 409 "username already exists"; the password reset
answers 404 "unknown user"; anyone signed in can change anyone's entry; entry ids are version-1 (time) UUIDs.
Clean: one answer for existing and unknown accounts, owner checks everywhere, version-4 UUIDs.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.targets.common import PLANTED, PasswordHasher, parse_args
from tests.targets.cookie_journal.openapi import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, openapi_document

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Account:
    username: str
    email: str
    phone: str
    password_hash: str
    reset_codes: list[str] = field(default_factory=list)


@dataclass
class Session:
    username: str
    csrf: str


@dataclass
class Reply:
    status: int
    body: Any = None
    cookies: list[str] = field(default_factory=list)


class Journal:
    """The state and the operations of the service, independent of HTTP plumbing."""

    def __init__(self, variant: str) -> None:
        self.planted = variant == PLANTED
        self.hasher = PasswordHasher(iterations=20_000)
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, Session] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}  # entry id -> username
        self.lock = threading.RLock()  # one thread per request; every iteration over the dicts holds it

    # -- accounts ----------------------------------------------------------------------------------------------
    def register(self, body: dict[str, Any]) -> Reply:
        username, email, password = (_text(body, name) for name in ("username", "email", "password"))
        phone = str(body.get("phone") or "")
        if not USERNAME.match(username) or not EMAIL.match(email) or len(password) < 8:
            raise HttpError(422, "username (3-64 of A-Z a-z 0-9 _ . -), e-mail and a password of 8+ characters")
        password_hash = self.hasher.hash(password)  # before the duplicate check: the same work either way
        with self.lock:
            taken = username in self.accounts
            email_taken = any(account.email == email.lower() for account in self.accounts.values())
            if not taken and not email_taken:
                self.accounts[username] = Account(username, email.lower(), phone, password_hash)
        if self.planted:
            if taken or email_taken:
                raise HttpError(409, "username already exists" if taken else "e-mail address already in use")
            return Reply(201, {"username": username, "email": email.lower()})
        return Reply(202, {"detail": "Thanks! Follow the link in the e-mail we sent you to activate the account."})

    def login(self, body: dict[str, Any]) -> Reply:
        account = self.accounts.get(_text(body, "username"))
        stored = account.password_hash if account else self.hasher.dummy  # both variants: same work, same answer
        if not self.hasher.verify(_text(body, "password"), stored) or account is None:
            raise HttpError(401, "invalid credentials")
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[sid] = Session(account.username, csrf)
        cookies = [f"{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax",
                   f"{CSRF_COOKIE}={csrf}; Path=/; SameSite=Lax"]  # readable by the page's script, by design
        return Reply(200, {"username": account.username}, cookies)

    def password_reset(self, body: dict[str, Any]) -> Reply:
        username, phone = str(body.get("username") or ""), str(body.get("phone") or "")
        if not username and not phone:
            raise HttpError(422, "give username or phone")
        with self.lock:
            account = self.accounts.get(username) if username else next(
                (a for a in self.accounts.values() if a.phone and a.phone == phone), None)
            if account is not None:
                account.reset_codes.append(f"{secrets.randbelow(10**6):06d}")  # sent by SMS or e-mail (queued)
        if self.planted:
            if account is None:
                raise HttpError(404, "unknown user")
            return Reply(200, {"detail": f"reset code sent to {'phone' if phone and not username else 'e-mail'}"})
        return Reply(200, {"detail": "If the account exists, we sent it a reset code."})

    def me(self, session: Session) -> Reply:
        account = self.accounts[session.username]
        return Reply(200, {"username": account.username, "email": account.email, "phone": account.phone})

    def delete_me(self, session: Session) -> Reply:
        with self.lock:
            self.accounts.pop(session.username, None)
            for sid in [sid for sid, s in self.sessions.items() if s.username == session.username]:
                del self.sessions[sid]
            for entry_id in [e for e, owner in self.owners.items() if owner == session.username]:
                del self.owners[entry_id], self.entries[entry_id]
        return Reply(204, None, [f"{SESSION_COOKIE}=; Path=/; Max-Age=0", f"{CSRF_COOKIE}=; Path=/; Max-Age=0"])

    # -- journal -----------------------------------------------------------------------------------------------
    def list_entries(self, session: Session) -> Reply:
        with self.lock:
            return Reply(200, [e for e_id, e in self.entries.items() if self.owners[e_id] == session.username])

    def create_entry(self, session: Session, body: dict[str, Any]) -> Reply:
        entry_id = str(uuid.uuid1() if self.planted else uuid.uuid4())
        entry = {"entry_id": entry_id, **_entry_fields(body), "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                            time.gmtime())}
        with self.lock:
            self.entries[entry_id], self.owners[entry_id] = entry, session.username
        return Reply(201, entry)

    def entry(self, session: Session, entry_id: str, *, check_owner: bool = True) -> dict[str, Any]:
        entry = self.entries.get(entry_id)
        if entry is None or (check_owner and self.owners[entry_id] != session.username):
            raise HttpError(404, "no such entry")
        return entry

    def update_entry(self, session: Session, entry_id: str, body: dict[str, Any]) -> Reply:
        with self.lock:
            entry = self.entry(session, entry_id, check_owner=not self.planted)  # planted: no owner check
            entry.update(_entry_fields(body, partial=True))
        return Reply(200, entry)

    def delete_entry(self, session: Session, entry_id: str) -> Reply:
        with self.lock:
            self.entry(session, entry_id)
            del self.entries[entry_id], self.owners[entry_id]
        return Reply(204)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise HttpError(422, f"field `{name}` is required")
    return value


def _entry_fields(body: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if not partial or "headline" in body:
        fields["headline"] = _text(body, "headline")[:200]
    if not partial or "text" in body:
        fields["text"] = str(body.get("text") or "")[:10_000]
    if not partial or "tags" in body:
        tags = body.get("tags") or []
        fields["tags"] = [str(tag)[:40] for tag in tags][:20] if isinstance(tags, list) else []
    return fields


Route = tuple[str, re.Pattern[str], str, Callable[..., Reply]]  # method, path, kind (public|session), handler


def routes(journal: Journal) -> list[Route]:
    return [
        ("GET", re.compile(r"/healthz"), "public", lambda: Reply(200, {"ok": True})),
        ("GET", re.compile(r"/openapi\.json"), "public", lambda: Reply(200, openapi_document())),
        ("POST", re.compile(r"/accounts"), "body", journal.register),
        ("POST", re.compile(r"/session"), "body", journal.login),
        ("POST", re.compile(r"/password-reset"), "body", journal.password_reset),
        ("GET", re.compile(r"/accounts/self"), "session", journal.me),
        ("DELETE", re.compile(r"/accounts/self"), "session", journal.delete_me),
        ("GET", re.compile(r"/journal"), "session", journal.list_entries),
        ("POST", re.compile(r"/journal"), "session+body", journal.create_entry),
        ("GET", re.compile(r"/journal/(?P<entry_id>[^/]+)"), "session",
         lambda s, entry_id: Reply(200, journal.entry(s, entry_id))),
        ("PATCH", re.compile(r"/journal/(?P<entry_id>[^/]+)"), "session+body",
         lambda s, body, entry_id: journal.update_entry(s, entry_id, body)),
        ("DELETE", re.compile(r"/journal/(?P<entry_id>[^/]+)"), "session", journal.delete_entry),
    ]


def make_server(variant: str, port: int) -> ThreadingHTTPServer:
    journal = Journal(variant)
    table = routes(journal)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "journald/0.9"

        def log_message(self, format: str, *args: Any) -> None:  # the base class's parameter names
            pass  # quiet: the harness keeps its own evidence

        def _handle(self) -> None:
            try:
                reply = self._dispatch()
            except HttpError as exc:
                reply = Reply(exc.status, {"error": str(exc)})
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            if reply.body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for cookie in reply.cookies:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(payload)

        def _dispatch(self) -> Reply:
            path = self.path.split("?", 1)[0]
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            matches = [(method, m, kind, handler) for method, pattern, kind, handler in table
                       if (m := pattern.fullmatch(path))]
            if not matches:
                raise HttpError(404, "not found")
            found = next(((m, kind, handler) for method, m, kind, handler in matches if method == self.command), None)
            if found is None:
                raise HttpError(405, "method not allowed")
            match, kind, handler = found
            args: list[Any] = []
            if kind.startswith("session"):
                args.append(self._session())
            if kind.endswith("body"):
                args.append(_json_object(raw, self.headers.get("Content-Type", "")))
            return handler(*args, **match.groupdict())

        def _session(self) -> Session:
            cookies = SimpleCookie(self.headers.get("Cookie", ""))
            sid = cookies[SESSION_COOKIE].value if SESSION_COOKIE in cookies else ""
            session = journal.sessions.get(sid)
            if session is None:
                raise HttpError(401, "login required")
            if self.command in UNSAFE and not secrets.compare_digest(self.headers.get(CSRF_HEADER, ""), session.csrf):
                raise HttpError(403, "CSRF token missing or invalid")
            return session

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def _json_object(raw: bytes, content_type: str) -> dict[str, Any]:
    if not content_type.startswith("application/json"):
        raise HttpError(415, "send application/json")
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise HttpError(400, "invalid JSON") from None
    if not isinstance(body, dict):
        raise HttpError(422, "expected a JSON object")
    return body


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.cookie_journal.app", "Journal service (zoo target c)", argv)
    server = make_server(args.variant, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
