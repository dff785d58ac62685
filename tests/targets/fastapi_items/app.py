"""Zoo target (a): a FastAPI back end that runs its own accounts, in the style of FastAPI's project generators.

OAuth2 password flow (form-encoded login at the scheme's tokenUrl) returning an HS256 JWT whose `sub` is the
integer user id; sign-up, password recovery with the e-mail in the path, `/users/me`, and items owned by users.

    python -m tests.targets.fastapi_items.app --port 8001 --variant planted|clean

Planted (see ground_truth.yaml): login, sign-up, recovery and e-mail change tell existing accounts apart; the
recovery is slower for existing accounts; any user reads any item; item ids are a counter. Clean: the same
answers (and the same work) for existing and unknown accounts, owner checks everywhere, UUIDv4 item ids.

No `from __future__ import annotations` here: FastAPI must see the real id type of the variant (int or UUID).
"""

import itertools
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field

from tests.targets.common import PLANTED, PasswordHasher, parse_args, serve

TOKEN_URL = "/api/login/access-token"
TOKEN_LIFETIME_S = 3600
RECOVERY_MAIL_S = 0.15  # building the reset token and handing the mail to the mail server
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"


class SignupIn(BaseModel):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=8, max_length=128)
    full_name: str | None = Field(default=None, max_length=255)


class UserUpdateMe(BaseModel):
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    full_name: str | None = Field(default=None, max_length=255)


class UserPublic(BaseModel):
    id: int
    email: str
    full_name: str | None
    is_active: bool
    email_change_pending: bool = False


class Message(BaseModel):
    message: str


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class ItemCreate(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2000)


class ItemUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2000)


@dataclass
class User:
    id: int
    email: str
    password_hash: str
    full_name: str | None
    pending_email: str | None = None

    def public(self) -> UserPublic:
        return UserPublic(id=self.id, email=self.email, full_name=self.full_name, is_active=True,
                          email_change_pending=self.pending_email is not None)


@dataclass
class Item:
    id: Any  # int (planted) or uuid.UUID (clean)
    title: str
    description: str | None
    owner_id: int

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description, "owner_id": self.owner_id}


# The login form as FastAPI's OAuth2PasswordRequestForm declares it (python-multipart is not needed: the body is
# parsed by hand, and a body that is not form-encoded gets FastAPI's usual 422 "Field required").
LOGIN_FORM_SCHEMA = {
    "title": "Body_login_access_token",
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "grant_type": {"type": "string", "pattern": "^password$", "title": "Grant Type"},
        "username": {"type": "string", "title": "Username"},
        "password": {"type": "string", "format": "password", "title": "Password"},
        "scope": {"type": "string", "default": "", "title": "Scope"},
        "client_id": {"type": "string", "title": "Client Id"},
        "client_secret": {"type": "string", "format": "password", "title": "Client Secret"},
    },
}


def create_app(variant: str) -> FastAPI:
    planted = variant == PLANTED
    secret = secrets.token_urlsafe(32)
    hasher = PasswordHasher(iterations=20_000)
    users: dict[int, User] = {}
    items: dict[Any, Item] = {}
    lock = threading.RLock()  # sync endpoints run in a thread pool; iterations below hold it too
    user_ids = itertools.count(1)
    item_counter = itertools.count(1)
    ItemId = int if planted else uuid.UUID

    def new_item_id() -> Any:
        return next(item_counter) if planted else uuid.uuid4()

    def by_email(email: str) -> User | None:
        with lock:
            return next((user for user in users.values() if user.email == email.lower()), None)

    app = FastAPI(title="Item Tracker", version="1.4.0", openapi_url="/api/openapi.json", docs_url="/api/docs")
    oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL)

    def current_user(token: Annotated[str, Depends(oauth2)]) -> User:
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
            user = users.get(int(claims["sub"]))
        except (jwt.PyJWTError, ValueError):
            user = None
        if user is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Could not validate credentials",
                                headers={"WWW-Authenticate": "Bearer"})
        return user

    CurrentUser = Annotated[User, Depends(current_user)]

    def own_item(item_id: Any, user: User, *, check_owner: bool = True) -> Item:
        item = items.get(item_id)
        if item is None or (check_owner and item.owner_id != user.id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Item not found")
        return item

    @app.get("/api/utils/health-check/", tags=["utils"])
    def health_check() -> bool:
        return True

    @app.post(TOKEN_URL, tags=["login"], response_model=Token, openapi_extra={"requestBody": {
        "required": True, "content": {"application/x-www-form-urlencoded": {"schema": LOGIN_FORM_SCHEMA}}}})
    async def login_access_token(request: Request) -> Token:
        form: dict[str, list[str]] = {}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)
        missing = [name for name in ("username", "password") if not form.get(name)]
        if missing:
            raise HTTPException(422, [{"type": "missing", "loc": ["body", name], "msg": "Field required",
                                       "input": None} for name in missing])
        user = by_email(form["username"][0])
        # Both variants verify a hash for unknown accounts too: this login leaks by its answer, not its time.
        ok = await run_in_threadpool(hasher.verify, form["password"][0], user.password_hash if user else hasher.dummy)
        if user is None and planted:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "User not found")
        if user is None or not ok:
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                "Incorrect password" if planted else "Incorrect email or password")
        claims = {"sub": str(user.id), "exp": int(time.time()) + TOKEN_LIFETIME_S}
        return Token(access_token=jwt.encode(claims, secret, algorithm="HS256"))

    @app.post("/api/users/signup", tags=["users"], response_model=UserPublic | Message)
    def register_user(body: SignupIn) -> UserPublic | Message:
        password_hash = hasher.hash(body.password)  # before the duplicate check: no timing difference here
        with lock:
            existing = by_email(body.email)
            if existing is None:
                user = User(next(user_ids), body.email.lower(), password_hash, body.full_name)
                users[user.id] = user
        if planted:
            if existing is not None:
                raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                    "The user with this email already exists in the system")
            return user.public()
        # Clean: the owner of an existing address would get a "someone tried to sign up" mail instead.
        return Message(message="Thanks! Check your inbox to finish the sign-up.")

    @app.post("/api/password-recovery/{email}", tags=["login"], response_model=Message)
    def recover_password(email: str) -> Message:
        user = by_email(email)
        if user is None and planted:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "The user with this email does not exist in the system.")
        if user is not None or not planted:
            time.sleep(RECOVERY_MAIL_S)  # clean: the same work for unknown addresses
        if planted:
            return Message(message="Password recovery email sent")
        return Message(message="If that account exists, we sent a password recovery email to it.")

    @app.get("/api/users/me", tags=["users"], response_model=UserPublic)
    def read_user_me(user: CurrentUser) -> UserPublic:
        return user.public()

    @app.patch("/api/users/me", tags=["users"], response_model=UserPublic)
    def update_user_me(body: UserUpdateMe, user: CurrentUser) -> UserPublic:
        with lock:
            if body.email is not None and body.email.lower() != user.email:
                taken = by_email(body.email) is not None
                if planted:
                    if taken:
                        raise HTTPException(status.HTTP_409_CONFLICT, "User with this email already exists")
                    user.email = body.email.lower()
                else:
                    # Clean: a new address counts only once confirmed from a mail sent to it (taken or not).
                    user.pending_email = body.email.lower()
            if body.full_name is not None:
                user.full_name = body.full_name
        return user.public()

    @app.delete("/api/users/me", tags=["users"], response_model=Message)
    def delete_user_me(user: CurrentUser) -> Message:
        with lock:
            users.pop(user.id, None)
            for item_id in [key for key, item in items.items() if item.owner_id == user.id]:
                del items[item_id]
        return Message(message="User deleted successfully")

    @app.get("/api/items/", tags=["items"])
    def read_items(user: CurrentUser, skip: int = 0, limit: int = 100) -> dict[str, Any]:
        limit = max(0, min(limit, 100))
        with lock:
            own = [item.public() for item in items.values() if item.owner_id == user.id]
        return {"data": own[skip:skip + limit], "count": len(own)}

    @app.post("/api/items/", tags=["items"])
    def create_item(body: ItemCreate, user: CurrentUser) -> dict[str, Any]:
        with lock:
            item = Item(new_item_id(), body.title, body.description, user.id)
            items[item.id] = item
        return item.public()

    @app.get("/api/items/{id}", tags=["items"])
    def read_item(id: ItemId, user: CurrentUser) -> dict[str, Any]:  # type: ignore[valid-type]
        return own_item(id, user, check_owner=not planted).public()

    @app.put("/api/items/{id}", tags=["items"])
    def update_item(id: ItemId, body: ItemUpdate, user: CurrentUser) -> dict[str, Any]:  # type: ignore[valid-type]
        with lock:
            item = own_item(id, user)
            item.title = body.title if body.title is not None else item.title
            item.description = body.description if body.description is not None else item.description
        return item.public()

    @app.delete("/api/items/{id}", tags=["items"], response_model=Message)
    def delete_item(id: ItemId, user: CurrentUser) -> Message:  # type: ignore[valid-type]
        with lock:
            items.pop(own_item(id, user).id)
        return Message(message="Item deleted successfully")

    return app


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.fastapi_items.app", "Item Tracker (zoo target a)", argv)
    serve(create_app(args.variant), args.port)


if __name__ == "__main__":
    main()
