"""Zoo target (f): a small blog on Starlette, with objects that are public by design.

Published articles are readable by anyone, signed in or not (`GET /api/articles...` declares optional
authentication), and changeable only by their author; every signed-in user comments on and likes anyone's article.
Reading an article counts a view, so two reads of the same article differ (`views`). Drafts are private to their
author. Reading lists (`/api/collections`) are visible to every signed-in member but to nobody without an account
(the profiles declare them under `shared:`). Own sign-up and login; an opaque token as `Authorization: Bearer`.

    python -m tests.targets.public_articles.app --port 8007 --variant planted|clean

Planted (see ground_truth.yaml): any signed-in user changes anyone's article (`PATCH`, the author-only title and
text), and reads anyone's draft. Clean: neither. Everything else is the same in both variants.
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

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass
class Account:
    username: str
    email: str
    password_hash: str


@dataclass
class Article:
    article_id: str
    title: str
    body: str
    author: str
    created_at: str
    views: int = 0
    likes: set[str] = field(default_factory=set)
    comments: list[dict[str, str]] = field(default_factory=list)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def create_app(variant: str) -> Starlette:
    planted = variant == PLANTED
    hasher = PasswordHasher(iterations=20_000)
    accounts: dict[str, Account] = {}
    tokens: dict[str, str] = {}
    articles: dict[str, Article] = {}
    drafts: dict[str, dict[str, Any]] = {}  # draft_id -> draft (with its author and notes)
    collections: dict[str, dict[str, Any]] = {}
    lock = threading.RLock()

    def caller(request: Request, *, optional: bool = False) -> Account | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        account = accounts.get(tokens.get(token.strip(), "")) if scheme.lower() == "bearer" else None
        if account is None and not (optional and not request.headers.get("Authorization")):
            raise ApiError(401, "a valid bearer token is required")
        return account

    def signed_in(request: Request) -> Account:
        account = caller(request)
        assert account is not None
        return account

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            body = json.loads(raw)
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

    def article_of(article_id: str) -> Article:
        found = articles.get(article_id)
        if found is None:
            raise ApiError(404, "article not found")
        return found

    def article_view(article: Article, reader: Account | None) -> dict[str, Any]:
        view = {"article_id": article.article_id, "title": article.title, "body": article.body,
                "author": article.author, "created_at": article.created_at, "views": article.views,
                "like_count": len(article.likes), "comment_count": len(article.comments)}
        if reader is not None:
            view["liked_by_me"] = reader.username in article.likes
        return view

    def draft_of(me: Account, draft_id: str, *, check_owner: bool = True) -> dict[str, Any]:
        found = drafts.get(draft_id)
        if found is None or (check_owner and found["author"] != me.username):
            raise ApiError(404, "draft not found")
        return found

    def draft_view(draft: dict[str, Any]) -> dict[str, Any]:
        return {key: draft[key] for key in ("draft_id", "title", "body", "author", "updated_at")}

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def signup(request: Request) -> Response:
        body = await body_of(request)
        username, email = text(body, "username", 64), text(body, "email", 254).lower()
        password = text(body, "password", 256)
        if not USERNAME.match(username) or not EMAIL.match(email) or len(password) < 8:
            raise ApiError(400, "invalid username, e-mail or password (at least 8 characters)")
        password_hash = await run_in_threadpool(hasher.hash, password)
        with lock:
            if username not in accounts and all(a.email != email for a in accounts.values()):
                accounts[username] = Account(username, email, password_hash)
        return JSONResponse({"status": "created"}, status_code=201)  # the same answer for a taken name

    async def login(request: Request) -> Response:
        body = await body_of(request)
        account = accounts.get(text(body, "username", 254))
        verified = await run_in_threadpool(hasher.verify, text(body, "password", 256),
                                           account.password_hash if account else hasher.dummy)
        if account is None or not verified:
            raise ApiError(401, "invalid username or password")
        token = secrets.token_urlsafe(32)
        with lock:
            tokens[token] = account.username
        return JSONResponse({"token": token})

    async def me(request: Request) -> Response:
        account = signed_in(request)
        if request.method == "DELETE":
            with lock:
                accounts.pop(account.username, None)
                for token in [t for t, name in tokens.items() if name == account.username]:
                    del tokens[token]
            return Response(status_code=204)
        return JSONResponse({"username": account.username, "email": account.email})

    async def article_list(request: Request) -> Response:
        if request.method == "GET":
            reader = caller(request, optional=True)
            return JSONResponse({"articles": [article_view(a, reader) for a in articles.values()]})
        account = signed_in(request)
        body = await body_of(request)
        article = Article(secrets.token_hex(12), text(body, "title", 200, required=True), text(body, "body", 5000),
                          account.username, now())
        with lock:
            articles[article.article_id] = article
        return JSONResponse(article_view(article, account), status_code=201)

    async def article(request: Request) -> Response:
        article_id = request.path_params["article_id"]
        if request.method == "GET":
            reader = caller(request, optional=True)
            with lock:
                found = article_of(article_id)
                found.views += 1
            return JSONResponse(article_view(found, reader))
        account = signed_in(request)
        found = article_of(article_id)
        if found.author != account.username and not (planted and request.method == "PATCH"):
            raise ApiError(403, "only the author may change or delete an article")  # planted: anyone patches
        if request.method == "DELETE":
            with lock:
                articles.pop(article_id, None)
            return Response(status_code=204)
        body = await body_of(request)
        with lock:
            if "title" in body:
                found.title = text(body, "title", 200, required=True)
            if "body" in body:
                found.body = text(body, "body", 5000)
        return JSONResponse(article_view(found, account))

    async def comments(request: Request) -> Response:
        found = article_of(request.path_params["article_id"])
        if request.method == "GET":
            caller(request, optional=True)
            return JSONResponse({"comments": list(found.comments)})
        account = signed_in(request)
        body = await body_of(request)
        comment = {"comment_id": secrets.token_hex(8), "text": text(body, "text", 1000, required=True),
                   "author": account.username, "created_at": now()}
        with lock:
            found.comments.append(comment)
        return JSONResponse(comment, status_code=201)

    async def likes(request: Request) -> Response:
        account = signed_in(request)
        found = article_of(request.path_params["article_id"])
        with lock:
            found.likes.add(account.username)
        return JSONResponse({"liked": True, "like_count": len(found.likes)})

    async def draft_list(request: Request) -> Response:
        account = signed_in(request)
        if request.method == "GET":
            return JSONResponse({"drafts": [draft_view(d) for d in drafts.values() if d["author"] == account.username]})
        body = await body_of(request)
        draft = {"draft_id": secrets.token_hex(12), "title": text(body, "title", 200, required=True),
                 "body": text(body, "body", 5000), "author": account.username, "updated_at": now(), "notes": []}
        with lock:
            drafts[draft["draft_id"]] = draft
        return JSONResponse(draft_view(draft), status_code=201)

    async def draft(request: Request) -> Response:
        account = signed_in(request)
        draft_id = request.path_params["draft_id"]
        if request.method == "GET":  # planted: no owner check on read
            return JSONResponse(draft_view(draft_of(account, draft_id, check_owner=not planted)))
        found = draft_of(account, draft_id)
        if request.method == "DELETE":
            with lock:
                drafts.pop(draft_id, None)
            return Response(status_code=204)
        body = await body_of(request)
        with lock:
            found["title"], found["body"] = text(body, "title", 200, required=True), text(body, "body", 5000)
            found["updated_at"] = now()
        return JSONResponse(draft_view(found))

    async def draft_notes(request: Request) -> Response:
        found = draft_of(signed_in(request), request.path_params["draft_id"])
        if request.method == "GET":
            return JSONResponse({"notes": list(found["notes"])})
        body = await body_of(request)
        note = {"note_id": secrets.token_hex(8), "text": text(body, "text", 1000, required=True)}
        with lock:
            found["notes"].append(note)
        return JSONResponse(note, status_code=201)

    async def collection_list(request: Request) -> Response:
        account = signed_in(request)
        if request.method == "GET":  # every member sees every reading list
            return JSONResponse({"collections": list(collections.values())})
        body = await body_of(request)
        collection = {"collection_id": secrets.token_hex(12), "name": text(body, "name", 120, required=True),
                      "description": text(body, "description", 2000), "owner": account.username}
        with lock:
            collections[collection["collection_id"]] = collection
        return JSONResponse(collection, status_code=201)

    async def collection(request: Request) -> Response:
        account = signed_in(request)
        found = collections.get(request.path_params["collection_id"])
        if found is None or (request.method == "DELETE" and found["owner"] != account.username):
            raise ApiError(404, "collection not found")
        if request.method == "DELETE":
            with lock:
                collections.pop(found["collection_id"], None)
            return Response(status_code=204)
        return JSONResponse(found)

    def guarded(view: Any) -> Any:
        async def call(request: Request) -> Response:
            try:
                response: Response = await view(request)
            except ApiError as exc:
                return JSONResponse({"error": str(exc)}, status_code=exc.status)
            return response
        return call

    routes = [
        Route("/health", guarded(health), methods=["GET"]),
        Route("/openapi.json", guarded(openapi), methods=["GET"]),
        Route("/api/signup", guarded(signup), methods=["POST"]),
        Route("/api/login", guarded(login), methods=["POST"]),
        Route("/api/me", guarded(me), methods=["GET", "DELETE"]),
        Route("/api/articles", guarded(article_list), methods=["GET", "POST"]),
        Route("/api/articles/{article_id}", guarded(article), methods=["GET", "PATCH", "DELETE"]),
        Route("/api/articles/{article_id}/comments", guarded(comments), methods=["GET", "POST"]),
        Route("/api/articles/{article_id}/likes", guarded(likes), methods=["POST"]),
        Route("/api/drafts", guarded(draft_list), methods=["GET", "POST"]),
        Route("/api/drafts/{draft_id}", guarded(draft), methods=["GET", "PUT", "DELETE"]),
        Route("/api/drafts/{draft_id}/notes", guarded(draft_notes), methods=["GET", "POST"]),
        Route("/api/collections", guarded(collection_list), methods=["GET", "POST"]),
        Route("/api/collections/{collection_id}", guarded(collection), methods=["GET", "DELETE"]),
    ]
    return Starlette(routes=routes)


# -- the hand-written OpenAPI document (the same for both variants) -----------------------------------------------
OPTIONAL_AUTH: list[dict[str, list[str]]] = [{}, {"bearer": []}]  # anyone; a signed-in reader sees liked_by_me


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _string(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _answers(schema: dict[str, Any] | None, status: str = "200") -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "OK"}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return {status: answer, "401": {"description": "No or an invalid token"}, "404": {"description": "Not found"}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_ARTICLE = _obj({"article_id": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"},
                 "author": {"type": "string"}, "created_at": {"type": "string"}, "views": {"type": "integer"},
                 "like_count": {"type": "integer"}, "comment_count": {"type": "integer"},
                 "liked_by_me": {"type": "boolean"}})
_ARTICLE_IN = _obj({"title": _string(200), "body": _string(5000)}, ["title"])
_DRAFT = _obj({"draft_id": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"},
               "author": {"type": "string"}, "updated_at": {"type": "string"}})
_TEXT_IN = _obj({"text": _string(1000)}, ["text"])
_COLLECTION = _obj({"collection_id": {"type": "string"}, "name": {"type": "string"},
                    "description": {"type": "string"}, "owner": {"type": "string"}})
_ARTICLE_ID, _DRAFT_ID, _COLLECTION_ID = _param("article_id"), _param("draft_id"), _param("collection_id")

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Quill", "version": "0.9.0", "description": "Articles anyone may read; drafts; reading lists"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/signup": {"post": {"operationId": "signUp", "security": [], "requestBody": _body(_obj(
            {"username": _string(64), "email": {"type": "string", "format": "email"}, "password": _string(256)},
            ["username", "email", "password"])), "responses": {"201": {"description": "Accepted"}}}},
        "/api/login": {"post": {"operationId": "logIn", "security": [], "requestBody": _body(_obj(
            {"username": _string(254), "password": _string(256)}, ["username", "password"])),
            "responses": {"200": {"description": "A token", "content": {"application/json": {
                "schema": _obj({"token": {"type": "string"}}, ["token"])}}}, "401": {"description": "Refused"}}}},
        "/api/me": {"get": {"operationId": "getMe", "responses": _answers(_obj({"username": {"type": "string"}}))},
                    "delete": {"operationId": "deleteMe", "responses": _answers(None, "204")}},
        "/api/articles": {
            "get": {"operationId": "listArticles", "security": OPTIONAL_AUTH,
                    "responses": _answers(_obj({"articles": {"type": "array", "items": _ARTICLE}}))},
            "post": {"operationId": "publishArticle", "requestBody": _body(_ARTICLE_IN),
                     "responses": _answers(_ARTICLE, "201")}},
        "/api/articles/{article_id}": {
            "get": {"operationId": "readArticle", "security": OPTIONAL_AUTH, "parameters": [_ARTICLE_ID],
                    "responses": _answers(_ARTICLE)},
            "patch": {"operationId": "editArticle", "description": "Only the author may edit an article.",
                      "parameters": [_ARTICLE_ID], "requestBody": _body(_ARTICLE_IN), "responses": _answers(_ARTICLE)},
            "delete": {"operationId": "deleteArticle", "parameters": [_ARTICLE_ID],
                       "responses": _answers(None, "204")}},
        "/api/articles/{article_id}/comments": {
            "get": {"operationId": "listComments", "security": OPTIONAL_AUTH, "parameters": [_ARTICLE_ID],
                    "responses": _answers(_obj({"comments": {"type": "array", "items": {"type": "object"}}}))},
            "post": {"operationId": "comment", "parameters": [_ARTICLE_ID], "requestBody": _body(_TEXT_IN),
                     "responses": _answers(_obj({"comment_id": {"type": "string"}}), "201")}},
        "/api/articles/{article_id}/likes": {
            "post": {"operationId": "like", "parameters": [_ARTICLE_ID],
                     "responses": _answers(_obj({"liked": {"type": "boolean"}, "like_count": {"type": "integer"}}))}},
        "/api/drafts": {
            "get": {"operationId": "listDrafts",
                    "responses": _answers(_obj({"drafts": {"type": "array", "items": _DRAFT}}))},
            "post": {"operationId": "createDraft", "requestBody": _body(_ARTICLE_IN),
                     "responses": _answers(_DRAFT, "201")}},
        "/api/drafts/{draft_id}": {
            "get": {"operationId": "readDraft", "parameters": [_DRAFT_ID], "responses": _answers(_DRAFT)},
            "put": {"operationId": "saveDraft", "parameters": [_DRAFT_ID], "requestBody": _body(_ARTICLE_IN),
                    "responses": _answers(_DRAFT)},
            "delete": {"operationId": "deleteDraft", "parameters": [_DRAFT_ID], "responses": _answers(None, "204")}},
        "/api/drafts/{draft_id}/notes": {
            "get": {"operationId": "listDraftNotes", "parameters": [_DRAFT_ID],
                    "responses": _answers(_obj({"notes": {"type": "array", "items": {"type": "object"}}}))},
            "post": {"operationId": "addDraftNote", "parameters": [_DRAFT_ID], "requestBody": _body(_TEXT_IN),
                     "responses": _answers(_obj({"note_id": {"type": "string"}}), "201")}},
        "/api/collections": {
            "get": {"operationId": "listCollections", "description": "Every member's reading lists.",
                    "responses": _answers(_obj({"collections": {"type": "array", "items": _COLLECTION}}))},
            "post": {"operationId": "createCollection", "requestBody": _body(_obj(
                {"name": _string(120), "description": _string(2000)}, ["name"])),
                "responses": _answers(_COLLECTION, "201")}},
        "/api/collections/{collection_id}": {
            "get": {"operationId": "readCollection", "parameters": [_COLLECTION_ID],
                    "responses": _answers(_COLLECTION)},
            "delete": {"operationId": "deleteCollection", "parameters": [_COLLECTION_ID],
                       "responses": _answers(None, "204")}},
    },
}


def main(argv: list[str] | None = None) -> None:
    args = parse_args("python -m tests.targets.public_articles.app", "Public articles (zoo target f)", argv)
    serve(create_app(args.variant), args.port)


if __name__ == "__main__":
    main()
