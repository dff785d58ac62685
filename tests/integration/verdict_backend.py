"""A tiny backend for the verdict tests (tests/integration/test_verdict_e2e.py), in one of three modes (VERDICT_MODE):

- `clean`: per-user notes behind HS256 tokens (key in VERDICT_KEY), owner checks everywhere, random ids;
- `empty`: an OpenAPI document without a single operation;
- `owner_refused`: the same operations, but every request with a valid token is refused (403), so no owner
  request succeeds and nearly every item has to be skipped.

Run: python tests/integration/verdict_backend.py PORT
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import uuid

import uvicorn
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

MODE = os.environ.get("VERDICT_MODE", "clean")
KEY = os.environ.get("VERDICT_KEY", "").encode()
bearer = HTTPBearer(auto_error=False)
app = FastAPI(title="verdict", version="1")
NOTES: dict[str, dict[str, str]] = {}


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def caller(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:  # noqa: B008 (FastAPI)
    """The token's `sub`: HS256 only, valid signature, not expired; anything else is 401."""
    if credentials is None or credentials.credentials.count(".") != 2:
        raise HTTPException(401, "not authenticated")
    head, claims, signature = credentials.credentials.split(".")
    try:
        header, payload = json.loads(_unb64(head)), json.loads(_unb64(claims))
        expected = hmac.new(KEY, f"{head}.{claims}".encode(), hashlib.sha256).digest()
        valid = header.get("alg") == "HS256" and hmac.compare_digest(_unb64(signature), expected)
    except (ValueError, TypeError):
        valid = False
    if not valid or not isinstance(payload.get("exp"), int) or payload["exp"] < time.time():
        raise HTTPException(401, "not authenticated")
    if MODE == "owner_refused":
        raise HTTPException(403, "forbidden")
    return str(payload["sub"])


class NoteIn(BaseModel):
    text: str


@app.get("/health", include_in_schema=False)
def health() -> dict[str, bool]:
    return {"ok": True}


if MODE != "empty":

    @app.get("/v1/notes")
    def list_notes(me: str = Depends(caller)) -> list[dict[str, str]]:
        return [note for note in NOTES.values() if note["owner"] == me]

    @app.post("/v1/notes", status_code=201)
    def create_note(body: NoteIn, me: str = Depends(caller)) -> dict[str, str]:
        note = {"id": str(uuid.uuid4()), "text": body.text, "owner": me}
        NOTES[note["id"]] = note
        return note

    @app.get("/v1/notes/{note_id}")
    def read_note(note_id: str, me: str = Depends(caller)) -> dict[str, str]:
        note = NOTES.get(note_id)
        if note is None or note["owner"] != me:
            raise HTTPException(404, "not found")
        return note

    @app.delete("/v1/notes/{note_id}", status_code=204)
    def delete_note(note_id: str, me: str = Depends(caller)) -> None:
        note = NOTES.get(note_id)
        if note is None or note["owner"] != me:
            raise HTTPException(404, "not found")
        del NOTES[note_id]


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
