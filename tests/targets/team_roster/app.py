"""Zoo target (e): a team roster on a hand-written WSGI app (Werkzeug, Flask-like), whose users are named in
request bodies and query parameters instead of paths.

`PUT /api/profile` and `PUT /api/account/status` select the user they change by the `username` of their body;
`GET /api/notes?owner=<username>` lists the notes of the user its query names; `PUT /api/users/{username}/password`
sets the password of the user its path names and logs that user's other sessions out (the spec has no read of a
password: only a login shows the change). Notes are also named by id outside the path: `GET
/api/notes/lookup?note_id=<id>` reads one, `PUT /api/notes/edit` changes the one its body's `note_id` names. Own
sign-up and login; the opaque token travels as `Authorization: Bearer`. The OpenAPI document is the hand-written
`openapi.yaml` next to this file.

    python -m tests.targets.team_roster.app --port 8005 --variant planted|clean

Planted (see ground_truth.yaml): none of the four operations checks that the user it names is the caller, and the
note lookup and edit take anyone's note id, and the edit needs no token either. Clean: naming another user
is a 403, whether or not that user exists; another user's note id is a 404, as an unknown one. Everything else is
the same in both variants.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.targets.common import PLANTED, PasswordHasher, parse_args
from tests.targets.keyed_shelf.app import EMAIL, USERNAME, ApiError, WsgiApi, json_object, now, reply, text

TOKEN_LIFETIME_S = 3600


@dataclass
class Account:
    username: str
    email: str
    password_hash: str
    display_name: str = ""
    bio: str = ""
    status: str = ""


@dataclass
class Note:
    id: str
    owner: str
    title: str
    text: str
    created_at: str = field(default_factory=now)


def create_app(variant: str) -> WsgiApi:
    planted = variant == PLANTED
    hasher = PasswordHasher(iterations=20_000)
    accounts: dict[str, Account] = {}
    tokens: dict[str, str] = {}  # token -> username
    notes: dict[str, Note] = {}
    lock = threading.RLock()
    api = WsgiApi()

    def session(request: Request) -> tuple[Account, str]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        account = accounts.get(tokens.get(token.strip(), "")) if scheme.lower() == "bearer" else None
        if account is None:
            raise ApiError(401, "a valid bearer token is required")
        return account, token.strip()

    def caller(request: Request) -> Account:
        return session(request)[0]

    def named(me: Account, username: str) -> Account:
        """The account `username` names; clean: only the caller's own (403 otherwise, whether or not it exists)."""
        if not planted and username != me.username:
            raise ApiError(403, "you can only change your own account")
        account = accounts.get(username)
        if account is None:
            raise ApiError(404, "no such user")
        return account

    def account_view(account: Account) -> dict[str, str]:
        return {"username": account.username, "email": account.email, "display_name": account.display_name,
                "bio": account.bio, "status": account.status}

    def note_view(note: Note) -> dict[str, str]:
        return {"id": note.id, "owner": note.owner, "title": note.title, "text": note.text,
                "created_at": note.created_at}

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
        return reply({"status": "created"}, 201)  # the same answer for a taken name

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
            return reply(account_view(account))
        with lock:
            accounts.pop(account.username, None)
            for note_id in [n.id for n in notes.values() if n.owner == account.username]:
                del notes[note_id]
            for token in [t for t, name in tokens.items() if name == account.username]:
                del tokens[token]
        return reply(None, 204)

    @api.route("/api/profile", methods=["PUT"])
    def update_profile(request: Request) -> Response:
        me_ = caller(request)
        body = json_object(request)
        account = named(me_, text(body, "username", max_length=64, required=True))  # planted: anyone's
        display_name, bio = text(body, "display_name", max_length=100), text(body, "bio", max_length=2000)
        with lock:
            account.display_name, account.bio = display_name, bio
        return reply(account_view(account))

    @api.route("/api/account/status", methods=["PUT"])
    def set_status(request: Request) -> Response:
        me_ = caller(request)
        body = json_object(request)
        account = named(me_, text(body, "username", max_length=64, required=True))  # planted: anyone's
        status = text(body, "status", max_length=80)
        with lock:
            account.status = status
        return reply({"username": account.username, "status": account.status})

    @api.route("/api/users/<username>/password", methods=["PUT"])
    def set_password(request: Request, username: str) -> Response:
        me_, used = session(request)
        account = named(me_, username)  # planted: anyone's password
        body = json_object(request)
        password = text(body, "new_password", max_length=256, required=True)
        if len(password) < 8:
            raise ApiError(400, "`new_password` needs at least 8 characters")
        password_hash = hasher.hash(password)
        with lock:
            account.password_hash = password_hash
            for token in [t for t, name in tokens.items() if name == account.username and t != used]:
                del tokens[token]  # the user's other sessions end
        return reply(None, 204)

    @api.route("/api/notes", methods=["GET", "POST"])
    def notes_collection(request: Request) -> Response:
        account = caller(request)
        if request.method == "POST":
            body = json_object(request)
            note = Note(secrets.token_hex(12), account.username, text(body, "title", max_length=120, required=True),
                        text(body, "text", max_length=4000))
            with lock:
                notes[note.id] = note
            return reply(note_view(note), 201)
        owner = request.args.get("owner", "")
        if not owner:
            raise ApiError(400, "`owner` is required")
        if not planted and owner != account.username:  # planted: anyone's notes
            raise ApiError(403, "you can only list your own notes")
        return reply({"notes": [note_view(n) for n in notes.values() if n.owner == owner]})

    def notes_of(account: Account | None, note_id: str) -> Note:
        """The note `note_id` names; clean: only the caller's own (404 otherwise, whether or not it exists)."""
        found = notes.get(note_id)
        if found is None or (not planted and (account is None or found.owner != account.username)):
            raise ApiError(404, "note not found")
        return found

    @api.route("/api/notes/lookup", methods=["GET"])
    def note_lookup(request: Request) -> Response:
        account = caller(request)
        note_id = request.args.get("note_id", "")
        if not note_id:
            raise ApiError(400, "`note_id` is required")
        return reply(note_view(notes_of(account, note_id)))  # planted: anyone's note

    @api.route("/api/notes/edit", methods=["PUT"])
    def note_edit(request: Request) -> Response:
        anonymous = planted and not request.headers.get("Authorization")  # planted: no token needed
        account = None if anonymous else caller(request)
        body = json_object(request)
        found = notes_of(account, text(body, "note_id", max_length=64, required=True))  # planted: anyone's note
        title, note_text = text(body, "title", max_length=120), text(body, "text", max_length=4000)
        with lock:
            found.title, found.text = title or found.title, note_text
        return reply(note_view(found))

    @api.route("/api/notes/<note_id>", methods=["GET", "DELETE"])
    def note(request: Request, note_id: str) -> Response:
        account = caller(request)
        found = notes.get(note_id)
        if found is None or found.owner != account.username:
            raise ApiError(404, "note not found")
        if request.method == "DELETE":
            with lock:
                notes.pop(note_id, None)
            return reply(None, 204)
        return reply(note_view(found))

    return api


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.team_roster.app", "Team roster (zoo target e)", argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", args.port, create_app(args.variant), threaded=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
