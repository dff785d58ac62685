"""Zoo target (d): reading lists on a hand-written WSGI app (Werkzeug routing, in the style of a small Flask app).

The keys are chosen by the client. `POST /api/shelves/` (trailing slash, as Flask writes collections; without it
the answer is Flask's 308 redirect) creates a shelf under the `slug` sent in the body and answers only
`{"status": "created"}`. Books live under a shelf and are created with `PUT /api/shelves/{slug}/books/{bookTitle}`,
whose body's `title` must equal the path parameter. Slugs are unique across all users (a taken one is a 409).
Own sign-up and login; the opaque token travels as `Authorization: Bearer`. The OpenAPI document is the
hand-written `openapi.yaml` next to this file.

    python -m tests.targets.keyed_shelf.app --port 8004 --variant planted|clean

Planted (see ground_truth.yaml): any signed-in user reads and deletes anyone's shelf by its slug, and puts books
on anyone's shelf (overwriting an existing book). Clean: another user's shelf and its books answer 404, like a
slug that does not exist. Everything else is the same in both variants (also the account flows: one answer for
a free and a taken name, the same work for every failed login).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.targets.common import PLANTED, PasswordHasher, parse_args

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
TOKEN_LIFETIME_S = 3600

View = Callable[..., Response]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Account:
    username: str
    email: str
    password_hash: str


@dataclass
class Book:
    title: str
    summary: str
    added_at: str


@dataclass
class Shelf:
    slug: str
    title: str
    notes: str
    owner: str
    created_at: str
    books: dict[str, Book] = field(default_factory=dict)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def reply(body: Any, status: int = 200) -> Response:
    if body is None:
        return Response(status=status)
    return Response(json.dumps(body), status=status, mimetype="application/json")


class WsgiApi:
    """The little of Flask this target needs: `@api.route(rule, methods)`, JSON errors, Flask's trailing-slash
    redirect (a rule ending in `/` answers a request without it with 308 to the slashed path)."""

    def __init__(self) -> None:
        self.url_map = Map(strict_slashes=True)
        self.views: dict[str, View] = {}

    def route(self, rule: str, methods: list[str]) -> Callable[[View], View]:
        def register(view: View) -> View:
            self.url_map.add(Rule(rule, endpoint=view.__name__, methods=methods))
            self.views[view.__name__] = view
            return view
        return register

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, arguments = self.url_map.bind_to_environ(environ).match()
            response = self.views[endpoint](request, **arguments)
        except RequestRedirect as redirect:
            response = redirect.get_response(environ)
        except HTTPException as exc:
            response = reply({"error": (exc.name or "error").lower()}, exc.code or 500)
        except ApiError as exc:
            response = reply({"error": str(exc)}, exc.status)
        return response(environ, start_response)


def json_object(request: Request) -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise ApiError(415, "send application/json")
    try:
        body = json.loads(request.get_data() or b"null")
    except ValueError:
        raise ApiError(400, "invalid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object")
    return body


def text(body: dict[str, Any], name: str, *, max_length: int, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > max_length or (required and not value):
        raise ApiError(400, f"`{name}` must be a string of {1 if required else 0} to {max_length} characters")
    return value


def create_app(variant: str) -> WsgiApi:
    planted = variant == PLANTED
    hasher = PasswordHasher(iterations=20_000)
    accounts: dict[str, Account] = {}
    tokens: dict[str, str] = {}  # token -> username
    shelves: dict[str, Shelf] = {}  # slug -> shelf; slugs are unique across all users
    lock = threading.RLock()
    api = WsgiApi()

    def caller(request: Request) -> Account:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        account = accounts.get(tokens.get(token.strip(), "")) if scheme.lower() == "bearer" else None
        if account is None:
            raise ApiError(401, "a valid bearer token is required")
        return account

    def shelf_of(me: Account, slug: str, *, check_owner: bool = True) -> Shelf:
        """The shelf named `slug`; with `check_owner`, only when it is the caller's (else 404, like no shelf)."""
        shelf = shelves.get(slug)
        if shelf is None or (check_owner and shelf.owner != me.username):
            raise ApiError(404, "shelf not found")
        return shelf

    def book_of(shelf: Shelf, title: str) -> Book:
        book = shelf.books.get(title)
        if book is None:
            raise ApiError(404, "book not found")
        return book

    def shelf_view(shelf: Shelf) -> dict[str, Any]:
        return {"slug": shelf.slug, "title": shelf.title, "notes": shelf.notes, "owner": shelf.owner,
                "book_count": len(shelf.books), "created_at": shelf.created_at}

    def book_view(shelf: Shelf, book: Book) -> dict[str, Any]:
        return {"title": book.title, "summary": book.summary, "shelf": shelf.slug, "added_at": book.added_at}

    @api.route("/api/health", methods=["GET"])
    def health(request: Request) -> Response:
        return reply({"ok": True})

    @api.route("/api/auth/signup", methods=["POST"])
    def sign_up(request: Request) -> Response:
        body = json_object(request)
        username, email = text(body, "username", max_length=64), text(body, "email", max_length=254).lower()
        password = text(body, "password", max_length=256)
        if not USERNAME.match(username) or not EMAIL.match(email) or len(password) < 8:
            raise ApiError(400, "invalid username, e-mail or password (at least 8 characters)")
        password_hash = hasher.hash(password)  # before the lookup: a taken name costs the same
        with lock:
            if username not in accounts and all(a.email != email for a in accounts.values()):
                accounts[username] = Account(username, email, password_hash)
        # A taken name or e-mail would get a mail instead; the answer is the same either way.
        return reply({"status": "created"}, 201)

    @api.route("/api/auth/login", methods=["POST"])
    def log_in(request: Request) -> Response:
        body = json_object(request)
        account = accounts.get(text(body, "username", max_length=254))
        verified = hasher.verify(text(body, "password", max_length=256),
                                 account.password_hash if account is not None else hasher.dummy)
        if account is None or not verified:
            raise ApiError(401, "invalid username or password")
        token = secrets.token_urlsafe(32)
        with lock:
            tokens[token] = account.username
        return reply({"auth": {"token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S}})

    @api.route("/api/me", methods=["GET", "DELETE"])
    def me(request: Request) -> Response:
        account = caller(request)
        if request.method == "GET":
            owned = sorted(s.slug for s in shelves.values() if s.owner == account.username)
            return reply({"username": account.username, "email": account.email, "shelves": owned})
        with lock:
            accounts.pop(account.username, None)
            for slug in [s.slug for s in shelves.values() if s.owner == account.username]:
                del shelves[slug]
            for token in [t for t, name in tokens.items() if name == account.username]:
                del tokens[token]
        return reply(None, 204)

    @api.route("/api/shelves/", methods=["POST"])
    def create_shelf(request: Request) -> Response:
        account = caller(request)
        body = json_object(request)
        slug = text(body, "slug", max_length=63, required=True)
        if not SLUG.match(slug):
            raise ApiError(400, "`slug` must be 3 to 63 lower-case letters, digits and dashes")
        title = text(body, "title", max_length=120, required=True)
        notes = text(body, "notes", max_length=2000)
        with lock:
            if slug in shelves:
                raise ApiError(409, "slug already taken")
            shelves[slug] = Shelf(slug, title, notes, account.username, now())
        return reply({"status": "created"}, 201)

    @api.route("/api/shelves/<slug>", methods=["GET", "PUT", "DELETE"])
    def shelf(request: Request, slug: str) -> Response:
        account = caller(request)
        if request.method == "GET":
            # planted: no owner check on read
            return reply(shelf_view(shelf_of(account, slug, check_owner=not planted)))
        if request.method == "DELETE":
            found = shelf_of(account, slug, check_owner=not planted)  # planted: no owner check on delete
            with lock:
                shelves.pop(found.slug, None)
            return reply(None, 204)
        found = shelf_of(account, slug)
        body = json_object(request)
        title, notes = text(body, "title", max_length=120, required=True), text(body, "notes", max_length=2000)
        with lock:
            found.title, found.notes = title, notes
        return reply(shelf_view(found))

    @api.route("/api/shelves/<slug>/books", methods=["GET"])
    def books(request: Request, slug: str) -> Response:
        found = shelf_of(caller(request), slug)
        return reply({"books": [book_view(found, book) for book in found.books.values()]})

    @api.route("/api/shelves/<slug>/books/<book_title>", methods=["GET", "PUT", "DELETE"])
    def book(request: Request, slug: str, book_title: str) -> Response:
        account = caller(request)
        if request.method == "PUT":
            found = shelf_of(account, slug, check_owner=not planted)  # planted: anyone puts books on any shelf
            body = json_object(request)
            if text(body, "title", max_length=80, required=True) != book_title:
                raise ApiError(400, "`title` must equal the bookTitle in the path")
            summary = text(body, "summary", max_length=2000)
            with lock:
                existing = found.books.get(book_title)
                if existing is not None:
                    existing.summary = summary
                    return reply(book_view(found, existing))
                found.books[book_title] = Book(book_title, summary, now())
                return reply(book_view(found, found.books[book_title]), 201)
        found = shelf_of(account, slug)
        current = book_of(found, book_title)
        if request.method == "DELETE":
            with lock:
                found.books.pop(current.title, None)
            return reply(None, 204)
        return reply(book_view(found, current))

    return api


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.keyed_shelf.app", "Reading lists (zoo target d)", argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request; errors still show
    server = make_server("127.0.0.1", args.port, create_app(args.variant), threaded=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
