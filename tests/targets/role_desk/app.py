"""Zoo target (h): a therapy-content desk with three roles, on a hand-written WSGI app (Werkzeug routing).

Roles, least privileged first: patient < therapist < staff. Patients register themselves, keep a journal of their
own and read the shared catalogue of exercises; therapists (and staff) list the patients; staff manage the
catalogue (create, change, delete) and list the accounts. The one therapist account (`desk-therapist`, password
from $ROLE_DESK_THERAPIST_PASSWORD) and the one staff account (`desk-admin`, password from
$ROLE_DESK_STAFF_PASSWORD; defaults below) exist from the start, as do two catalogue entries; a scan must leave
them as they were. Own sign-up and login; the opaque token travels as `Authorization: Bearer`. The OpenAPI
document is the hand-written `openapi.yaml` next to this file.

    python -m tests.targets.role_desk.app --port 8008 --variant planted|clean

Planted (see ground_truth.yaml): `DELETE /api/catalogue/{item_id}` has no role check (any signed-in user deletes
shared content); `GET /api/patients` has none either (a patient lists the other patients); `PATCH /api/me` takes
a `role` field (a patient makes itself staff); `POST /api/auth/register` takes an `is_admin` flag (the new account
is staff); `GET /api/catalogue/{item_id}` answers without a token too. Clean: the delete needs staff, the list a
therapist or staff, both fields are ignored, and every read needs a signed-in user.

With $ZOO_REQUEST_COUNTS_FILE set, the app writes there, when it stops, how many requests it answered per
operation (method and path template) and per role of the caller (`anonymous` without a valid token): how digasec's
request budget is measured (README, roles section). Not part of the API, not in the OpenAPI document.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.targets.common import PLANTED, PasswordHasher, parse_args, record_pre_existing, stop_on_sigterm

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
STAFF, THERAPIST, PATIENT = "staff", "therapist", "patient"
ROLES = (PATIENT, THERAPIST, STAFF)  # least privileged first
STAFF_USERNAME = "desk-admin"
STAFF_PASSWORD_ENV = "ROLE_DESK_STAFF_PASSWORD"
DEFAULT_STAFF_PASSWORD = "desk-staff-password-1"  # a test target's own account; the profiles read the same variable
THERAPIST_USERNAME = "desk-therapist"
THERAPIST_PASSWORD_ENV = "ROLE_DESK_THERAPIST_PASSWORD"
DEFAULT_THERAPIST_PASSWORD = "desk-therapist-password-1"  # likewise
PRESET_ACCOUNTS = (STAFF_USERNAME, THERAPIST_USERNAME)
REQUEST_COUNTS_ENV = "ZOO_REQUEST_COUNTS_FILE"
PRESET_ITEMS = (("Box breathing", "Four counts in, hold, out, hold."),
                ("Body scan", "Ten minutes, lying down."))

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
    role: str
    display_name: str = ""


@dataclass
class Entry:
    id: str
    text: str
    owner: str


@dataclass
class Item:
    id: str
    name: str
    description: str
    created_by: str


def reply(body: Any, status: int = 200) -> Response:
    if body is None:
        return Response(status=status)
    return Response(json.dumps(body), status=status, mimetype="application/json")


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


def create_app(variant: str) -> Callable[..., Any]:
    planted = variant == PLANTED
    hasher = PasswordHasher(iterations=20_000)
    staff_password = os.environ.get(STAFF_PASSWORD_ENV, DEFAULT_STAFF_PASSWORD)
    therapist_password = os.environ.get(THERAPIST_PASSWORD_ENV, DEFAULT_THERAPIST_PASSWORD)
    accounts = {STAFF_USERNAME: Account(STAFF_USERNAME, "desk@example.org", hasher.hash(staff_password), STAFF,
                                        "Desk"),
                THERAPIST_USERNAME: Account(THERAPIST_USERNAME, "therapist@example.org",
                                            hasher.hash(therapist_password), THERAPIST, "Therapist")}
    items = {item_id: Item(item_id, name, description, STAFF_USERNAME)
             for item_id, (name, description) in ((secrets.token_hex(8), entry) for entry in PRESET_ITEMS)}
    preset = {"accounts": list(PRESET_ACCOUNTS), "items": list(items)}  # what exists before any scan
    counts: Counter[tuple[str, str, str]] = Counter()  # (method, path template, caller's role) -> requests

    def pre_existing() -> dict[str, Any]:
        """The preset account and catalogue entries as they are now (None where one is gone)."""
        with lock:
            return {"accounts": {name: vars(accounts[name]) if name in accounts else None
                                 for name in preset["accounts"]},
                    "items": {item_id: vars(items[item_id]) if item_id in items else None
                              for item_id in preset["items"]}}

    entries: dict[str, Entry] = {}  # each patient's own journal
    tokens: dict[str, str] = {}
    lock = threading.RLock()
    url_map = Map([
        Rule("/api/health", endpoint="health", methods=["GET"]),
        Rule("/api/auth/register", endpoint="register", methods=["POST"]),
        Rule("/api/auth/login", endpoint="login", methods=["POST"]),
        Rule("/api/me", endpoint="me", methods=["GET", "PATCH", "DELETE"]),
        Rule("/api/catalogue", endpoint="catalogue", methods=["GET", "POST"]),
        Rule("/api/catalogue/<item_id>", endpoint="item", methods=["GET", "PUT", "DELETE"]),
        Rule("/api/journal", endpoint="journal", methods=["GET", "POST"]),
        Rule("/api/journal/<entry_id>", endpoint="entry", methods=["GET", "PUT", "DELETE"]),
        Rule("/api/patients", endpoint="patients", methods=["GET"]),
        Rule("/api/admin/accounts", endpoint="accounts", methods=["GET"]),
    ])

    def caller(request: Request) -> Account:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        account = accounts.get(tokens.get(token.strip(), "")) if scheme.lower() == "bearer" else None
        if account is None:
            raise ApiError(401, "a valid bearer token is required")
        return account

    def staff_only(account: Account) -> None:
        if account.role != STAFF:
            raise ApiError(403, "staff only")

    def therapist_or_staff(account: Account) -> None:
        if account.role not in (THERAPIST, STAFF):
            raise ApiError(403, "therapists and staff only")

    def me_view(account: Account) -> dict[str, Any]:
        return {"username": account.username, "email": account.email, "display_name": account.display_name,
                "role": account.role}

    def item_of(item_id: str) -> Item:
        item = items.get(item_id)
        if item is None:
            raise ApiError(404, "no such entry")
        return item

    def item_view(item: Item) -> dict[str, Any]:
        return {"id": item.id, "name": item.name, "description": item.description, "created_by": item.created_by}

    def health(request: Request) -> Response:
        return reply({"ok": True})

    def register(request: Request) -> Response:
        body = json_object(request)
        username, email = text(body, "username", max_length=64), text(body, "email", max_length=254).lower()
        password = text(body, "password", max_length=256)
        if not USERNAME.match(username) or not EMAIL.match(email) or len(password) < 8:
            raise ApiError(400, "invalid username, e-mail or password (at least 8 characters)")
        role = STAFF if planted and body.get("is_admin") is True else PATIENT  # planted: the flag is trusted
        password_hash = hasher.hash(password)
        with lock:
            if username not in accounts and all(a.email != email for a in accounts.values()):
                accounts[username] = Account(username, email, password_hash, role,
                                             text(body, "display_name", max_length=80))
        return reply({"status": "created"}, 201)

    def login(request: Request) -> Response:
        body = json_object(request)
        account = accounts.get(text(body, "username", max_length=254))
        verified = hasher.verify(text(body, "password", max_length=256),
                                 account.password_hash if account is not None else hasher.dummy)
        if account is None or not verified:
            raise ApiError(401, "invalid username or password")
        token = secrets.token_urlsafe(32)
        with lock:
            tokens[token] = account.username
        return reply({"token": token})

    def me(request: Request) -> Response:
        account = caller(request)
        if request.method == "GET":
            return reply(me_view(account))
        if request.method == "DELETE":
            if account.username in PRESET_ACCOUNTS:
                raise ApiError(403, "the desk's own accounts cannot be deleted")
            with lock:
                accounts.pop(account.username, None)
                for token in [t for t, name in tokens.items() if name == account.username]:
                    del tokens[token]
            return reply(None, 204)
        body = json_object(request)
        with lock:
            if "display_name" in body:
                account.display_name = text(body, "display_name", max_length=80)
            if planted and body.get("role") in ROLES:  # planted: the caller sets its own role
                account.role = body["role"]
        return reply(me_view(account))

    def catalogue(request: Request) -> Response:
        account = caller(request)
        if request.method == "GET":
            return reply({"items": [item_view(item) for item in items.values()]})
        staff_only(account)
        body = json_object(request)
        item = Item(secrets.token_hex(8), text(body, "name", max_length=120, required=True),
                    text(body, "description", max_length=2000), account.username)
        with lock:
            items[item.id] = item
        return reply(item_view(item), 201)

    def item(request: Request, item_id: str) -> Response:
        if planted and request.method == "GET" and not request.headers.get("Authorization"):
            return reply(item_view(item_of(item_id)))  # planted: an entry is read without a token
        account = caller(request)
        found = item_of(item_id)
        if request.method == "GET":
            return reply(item_view(found))
        if request.method == "DELETE":
            if not planted:  # planted: no role check on delete
                staff_only(account)
            with lock:
                items.pop(found.id, None)
            return reply(None, 204)
        staff_only(account)
        body = json_object(request)
        with lock:
            found.name = text(body, "name", max_length=120, required=True)
            found.description = text(body, "description", max_length=2000)
        return reply(item_view(found))

    def entry_view(entry: Entry) -> dict[str, Any]:
        return {"id": entry.id, "text": entry.text, "owner": entry.owner}

    def journal(request: Request) -> Response:
        account = caller(request)
        if request.method == "GET":
            return reply({"entries": [entry_view(e) for e in entries.values() if e.owner == account.username]})
        entry = Entry(secrets.token_hex(8), text(json_object(request), "text", max_length=2000, required=True),
                      account.username)
        with lock:
            entries[entry.id] = entry
        return reply(entry_view(entry), 201)

    def entry(request: Request, entry_id: str) -> Response:
        account = caller(request)
        found = entries.get(entry_id)
        if found is None or found.owner != account.username:  # in both variants: one's own entries only
            raise ApiError(404, "no such entry")
        if request.method == "GET":
            return reply(entry_view(found))
        if request.method == "DELETE":
            with lock:
                entries.pop(found.id, None)
            return reply(None, 204)
        new_text = text(json_object(request), "text", max_length=2000, required=True)
        with lock:
            found.text = new_text
        return reply(entry_view(found))

    def patient_list(request: Request) -> Response:
        account = caller(request)
        if not planted:  # planted: no role check, a patient lists the other patients
            therapist_or_staff(account)
        return reply({"patients": [{"username": a.username, "display_name": a.display_name}
                                   for a in accounts.values() if a.role == PATIENT]})

    def account_list(request: Request) -> Response:
        staff_only(caller(request))
        return reply({"accounts": [{"username": a.username, "role": a.role} for a in accounts.values()]})

    views: dict[str, View] = {"health": health, "register": register, "login": login, "me": me,
                              "catalogue": catalogue, "item": item, "journal": journal, "entry": entry,
                              "patients": patient_list, "accounts": account_list}

    def role_of(request: Request) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        account = accounts.get(tokens.get(token.strip(), "")) if scheme.lower() == "bearer" else None
        return account.role if account is not None else "anonymous"

    def count(environ: dict[str, Any], rule: str) -> None:
        request = Request(environ)
        with lock:
            counts[request.method, rule, role_of(request)] += 1

    def request_counts() -> list[dict[str, Any]]:
        with lock:
            return [{"method": method, "path": path, "role": role, "requests": n}
                    for (method, path, role), n in sorted(counts.items())]

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            rule, arguments = url_map.bind_to_environ(environ).match(return_rule=True)
        except HTTPException as exc:
            count(environ, "(no route)")
            return reply({"error": (exc.name or "error").lower()}, exc.code or 500)(environ, start_response)
        count(environ, rule.rule)  # before the view: the caller's role as it was when it sent the request
        try:
            response = views[str(rule.endpoint)](Request(environ), **arguments)
        except HTTPException as exc:
            response = reply({"error": (exc.name or "error").lower()}, exc.code or 500)
        except ApiError as exc:
            response = reply({"error": str(exc)}, exc.status)
        return response(environ, start_response)

    app.pre_existing = pre_existing  # type: ignore[attr-defined]  # read by main() at start and stop
    app.request_counts = request_counts  # type: ignore[attr-defined]  # written by main() at stop
    return app


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.role_desk.app", "Therapy-content desk with roles (zoo target h)", argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(args.variant)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    stop_on_sigterm()
    record_pre_existing("before", app.pre_existing())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        record_pre_existing("after", app.pre_existing())
        write_request_counts(app.request_counts())


def write_request_counts(counts: list[dict[str, Any]]) -> None:
    """The requests the app answered, per operation and caller's role, to $ZOO_REQUEST_COUNTS_FILE (if set)."""
    path = os.environ.get(REQUEST_COUNTS_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(counts, stream, indent=1)


if __name__ == "__main__":
    main()
