"""A backend that misbehaves on purpose: 5xx, slow, empty, non-JSON and huge answers, and (with CRASH=1) an
operation that ends the process. Tokens are only checked for presence: the subject is the harness's handling of
bad answers, not authentication. Run: python -m tests.integration.misbehaving_backend PORT"""

from __future__ import annotations

import os
import sys
import time

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False)
app = FastAPI(title="misbehaving", version="0.0.1")


def signed_in(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:  # noqa: B008 (FastAPI)
    if credentials is None or credentials.credentials.count(".") != 2:
        raise HTTPException(401, "no token")
    return credentials.credentials


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/boom", dependencies=[Depends(bearer)])
def boom() -> None:
    raise HTTPException(500, "internal error")


@app.get("/v1/slow", dependencies=[Depends(signed_in)])
def slow() -> dict[str, str]:
    time.sleep(3)
    return {"done": "late"}


@app.get("/v1/empty", dependencies=[Depends(bearer)])
def empty() -> Response:
    return Response(status_code=200)


@app.get("/v1/text", dependencies=[Depends(signed_in)])
def text() -> Response:
    return Response("plain text, not JSON", media_type="text/plain")


@app.get("/v1/huge", dependencies=[Depends(signed_in)])
def huge() -> Response:
    return Response('{"items": "' + "x" * 5_000_000 + '"}', media_type="application/json")


if os.environ.get("CRASH") == "1":

    @app.get("/v1/crash", dependencies=[Depends(signed_in)])
    def crash(request: Request) -> None:
        os._exit(1)



# -- transport faults (tests/integration/test_transport_e2e.py) --------------------------------------
# FAULT_TRICKLE=1: GET /v1/trickle answers 200 and then one byte every 200 ms (at most 60 s).
# FAULT_ENDLESS=1: GET /v1/endless answers 200 and an endless fast body (at most 500 MB).
# FAULT_REDIRECT_TO=URL: GET /v1/moved answers 302 with that Location (e.g. another loopback port).
# FAULT_READY_STATUS=CODE: GET /v1/ready answers with that status (a readiness path without public answer).
# All four accept anonymous callers, so that `unauthenticated_access` alone reaches them.
from collections.abc import Iterator  # noqa: E402 (this block stays self-contained)

if os.environ.get("FAULT_TRICKLE") == "1":
    from fastapi.responses import StreamingResponse as _TrickleResponse

    @app.get("/v1/trickle", dependencies=[Depends(bearer)])
    def trickle() -> _TrickleResponse:
        def body() -> Iterator[bytes]:
            for _ in range(300):
                yield b"x"
                time.sleep(0.2)

        return _TrickleResponse(body(), media_type="application/json")


if os.environ.get("FAULT_ENDLESS") == "1":
    from fastapi.responses import StreamingResponse as _EndlessResponse

    @app.get("/v1/endless", dependencies=[Depends(bearer)])
    def endless() -> _EndlessResponse:
        chunk = b"y" * 65536

        def body() -> Iterator[bytes]:
            for _ in range(8000):
                yield chunk

        return _EndlessResponse(body(), media_type="text/plain")


if os.environ.get("FAULT_REDIRECT_TO"):

    @app.get("/v1/moved", dependencies=[Depends(bearer)])
    def moved() -> Response:
        return Response(status_code=302, headers={"Location": os.environ["FAULT_REDIRECT_TO"]})


if os.environ.get("FAULT_READY_STATUS"):

    @app.get("/v1/ready")
    def ready() -> Response:
        return Response(status_code=int(os.environ["FAULT_READY_STATUS"]))
# -- end of transport faults ---------------------------------------------------------------------------------------


# ==== run-health faults (issue 13; tests/integration/test_run_health_e2e.py) ========================================
# HEALTH_NOTES=1 replaces the /v1 operations above by an API of owned notes (POST/GET /v1/notes, GET/DELETE
# /v1/notes/{note_id}; the owner is the token's `sub`). Faults, each switched by a variable:
#   FAULT_KNOWN_TOKENS=A,B      only these tokens are accepted (forged ones are refused, as a real backend would)
#   FAULT_STORE=FILE            every change of the notes is written to FILE (JSON), so a test counts what is left
#   FAULT_REVOKE_AFTER=N        every token is refused (401) after N authenticated requests
#   FAULT_FAIL_CREATES=K        the first K creations answer 500 (nothing is created)
#   FAULT_SLOW_CREATE=S         a creation takes S seconds, stored before its answer is sent
#   FAULT_EMPTY_SPEC=1          the OpenAPI document declares no operation at all
if os.environ.get("HEALTH_NOTES") == "1" or os.environ.get("FAULT_EMPTY_SPEC") == "1":
    import base64
    import json
    import threading
    import uuid

    from fastapi.routing import APIRoute
    from pydantic import BaseModel

    _health_lock = threading.Lock()
    _health_notes: dict[str, dict[str, str]] = {}
    _health_counts = {"authenticated": 0, "creations": 0}
    app.router.routes[:] = [r for r in app.router.routes if not getattr(r, "path", "").startswith("/v1/")]
    if os.environ.get("FAULT_EMPTY_SPEC") == "1":
        for route in app.router.routes:
            if isinstance(route, APIRoute):
                route.include_in_schema = False
    app.openapi_schema = None

    class NoteIn(BaseModel):
        title: str

    def _health_store() -> None:
        path = os.environ.get("FAULT_STORE")
        if path:
            with open(path + ".tmp", "w", encoding="utf-8") as handle:
                json.dump({"notes": _health_notes}, handle)
            os.replace(path + ".tmp", path)

    def note_owner(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:  # noqa: B008
        token = signed_in(credentials)
        known = [known for known in os.environ.get("FAULT_KNOWN_TOKENS", "").split(",") if known]
        if known and token not in known:
            raise HTTPException(401, "unknown token")
        with _health_lock:
            _health_counts["authenticated"] += 1
            revoke_after = int(os.environ.get("FAULT_REVOKE_AFTER", "0"))
            if revoke_after and _health_counts["authenticated"] > revoke_after:
                raise HTTPException(401, "token revoked")
        payload = token.split(".")[1]
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            raise HTTPException(401, "bad token") from None
        return str(claims.get("sub") or "")

    if os.environ.get("HEALTH_NOTES") == "1":

        @app.post("/v1/notes", status_code=201)
        def create_note(note: NoteIn, owner: str = Depends(note_owner)) -> dict[str, str]:
            with _health_lock:
                _health_counts["creations"] += 1
                if _health_counts["creations"] <= int(os.environ.get("FAULT_FAIL_CREATES", "0")):
                    raise HTTPException(500, "database is down")
                note_id = uuid.uuid4().hex
                _health_notes[note_id] = {"owner": owner, "title": note.title}
                _health_store()
            time.sleep(float(os.environ.get("FAULT_SLOW_CREATE", "0")))
            return {"id": note_id, "title": note.title}

        @app.get("/v1/notes")
        def list_notes(owner: str = Depends(note_owner)) -> list[dict[str, str]]:
            return [{"id": key, "title": note["title"]} for key, note in _health_notes.items()
                    if note["owner"] == owner]

        @app.get("/v1/notes/{note_id}")
        def read_note(note_id: str, owner: str = Depends(note_owner)) -> dict[str, str]:
            note = _health_notes.get(note_id)
            if note is None or note["owner"] != owner:
                raise HTTPException(404, "no such note")
            return {"id": note_id, "title": note["title"]}

        @app.delete("/v1/notes/{note_id}", status_code=204)
        def delete_note(note_id: str, owner: str = Depends(note_owner)) -> Response:
            with _health_lock:
                note = _health_notes.get(note_id)
                if note is None or note["owner"] != owner:
                    raise HTTPException(404, "no such note")
                del _health_notes[note_id]
                _health_store()
            return Response(status_code=204)
# ==== end of run-health faults =======================================================================================


# ==== replayed attacks (issue 14 item 4; tests/integration/test_replayed_attacks_e2e.py) ============================
# REPLAY_MEMOS=1 replaces the /v1 operations above by an API of owned memos (POST /v1/memos, GET/DELETE
# /v1/memos/{memo_id}; the owner is the token's `sub`). Only the tokens in REPLAY_KNOWN_TOKENS=A,B are accepted.
# The creation's optional `tag` names a tag that must exist, and none does: a body with a tag answers 404 whoever
# sends it, so only the required-only body succeeds. Fault:
#   FAULT_LAX_CREATE=1    the creation accepts any JWT-shaped token (forged ones too) and takes its `sub`
if os.environ.get("REPLAY_MEMOS") == "1":
    import base64 as _b64
    import json as _json
    import threading as _threading
    import uuid as _uuid

    from pydantic import BaseModel as _BaseModel

    _memo_lock = _threading.Lock()
    _memos: dict[str, dict[str, str]] = {}
    app.router.routes[:] = [r for r in app.router.routes if not getattr(r, "path", "").startswith("/v1/")]
    app.openapi_schema = None

    class MemoIn(_BaseModel):
        title: str
        tag: str | None = None  # optional in the spec; see above

    def _memo_sub(token: str) -> str:
        payload = token.split(".")[1]
        try:
            claims = _json.loads(_b64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            raise HTTPException(401, "bad token") from None
        return str(claims.get("sub") or "")

    def memo_owner(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:  # noqa: B008
        token = signed_in(credentials)
        if token not in os.environ.get("REPLAY_KNOWN_TOKENS", "").split(","):
            raise HTTPException(401, "unknown token")
        return _memo_sub(token)

    def memo_creator(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:  # noqa: B008
        if os.environ.get("FAULT_LAX_CREATE") == "1":
            return _memo_sub(signed_in(credentials))
        return memo_owner(credentials)

    @app.post("/v1/memos", status_code=201)
    def create_memo(memo: MemoIn, owner: str = Depends(memo_creator)) -> dict[str, str]:
        if memo.tag is not None:
            raise HTTPException(404, "no such tag")
        with _memo_lock:
            memo_id = _uuid.uuid4().hex
            _memos[memo_id] = {"owner": owner, "title": memo.title}
        return {"id": memo_id, "title": memo.title}

    @app.get("/v1/memos/{memo_id}")
    def read_memo(memo_id: str, owner: str = Depends(memo_owner)) -> dict[str, str]:
        memo = _memos.get(memo_id)
        if memo is None or memo["owner"] != owner:
            raise HTTPException(404, "no such memo")
        return {"id": memo_id, "title": memo["title"]}

    @app.delete("/v1/memos/{memo_id}", status_code=204)
    def delete_memo(memo_id: str, owner: str = Depends(memo_owner)) -> Response:
        with _memo_lock:
            memo = _memos.get(memo_id)
            if memo is None or memo["owner"] != owner:
                raise HTTPException(404, "no such memo")
            del _memos[memo_id]
        return Response(status_code=204)
# ==== end of replayed attacks =======================================================================================


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
