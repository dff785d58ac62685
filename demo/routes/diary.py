"""Diary entries: mood (1-10), a free-text note and tags."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo import db
from demo.auth import BearerCredentials, CurrentUser, authenticate
from demo.deps import DbSession, is_uuid, not_found
from demo.flaws import Flaws
from demo.schemas import DiaryEntryIn, DiaryEntryOut

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}


def find_entry(session: Session, entry_id: str, *, owner: str | None) -> db.DiaryEntry | None:
    """The entry with this id; with ``owner``, only if that user owns it."""
    if not is_uuid(entry_id):
        return None
    query = select(db.DiaryEntry).where(db.DiaryEntry.id == entry_id)
    if owner is not None:
        query = query.where(db.DiaryEntry.owner == owner)
    return session.scalars(query).first()


def _out(entry: db.DiaryEntry) -> DiaryEntryOut:
    return DiaryEntryOut.model_validate(entry, from_attributes=True)


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(
        prefix="/v1/diary-entries", tags=["diary"], responses={401: {"description": "Missing or invalid token"}}
    )

    @router.post("", response_model=DiaryEntryOut, status_code=status.HTTP_201_CREATED)
    def create_diary_entry(
        body: DiaryEntryIn, user: CurrentUser, session: DbSession, response: Response
    ) -> DiaryEntryOut:
        entry = db.DiaryEntry(owner=user.sub, mood=body.mood, note=body.note, tags=list(body.tags))
        session.add(entry)
        session.commit()
        response.headers["Location"] = f"/v1/diary-entries/{entry.id}"
        return _out(entry)

    @router.get("", response_model=list[DiaryEntryOut])
    def list_diary_entries(request: Request, credentials: BearerCredentials, session: DbSession) -> list[DiaryEntryOut]:
        if flaws.enabled("diary_list_alg_none"):
            # FLAW diary_list_alg_none: a token whose header says "alg": "none" is trusted without a signature.
            user = authenticate(request, credentials, accept_unsigned=True)
        else:
            user = authenticate(request, credentials)
        rows = session.scalars(
            select(db.DiaryEntry).where(db.DiaryEntry.owner == user.sub).order_by(db.DiaryEntry.created_at.desc())
        )
        return [_out(row) for row in rows]

    @router.get("/{entry_id}", response_model=DiaryEntryOut, responses=NOT_FOUND)
    def get_diary_entry(entry_id: str, user: CurrentUser, session: DbSession) -> DiaryEntryOut:
        if flaws.enabled("diary_item_idor_read"):
            # FLAW diary_item_idor_read: the entry is looked up by id alone, whoever owns it.
            entry = find_entry(session, entry_id, owner=None)
        else:
            entry = find_entry(session, entry_id, owner=user.sub)
        if entry is None:
            raise not_found()
        return _out(entry)

    @router.put("/{entry_id}", response_model=DiaryEntryOut, responses=NOT_FOUND)
    def update_diary_entry(entry_id: str, body: DiaryEntryIn, user: CurrentUser, session: DbSession) -> DiaryEntryOut:
        entry = find_entry(session, entry_id, owner=user.sub)
        if entry is None:
            raise not_found()
        entry.mood = body.mood
        entry.note = body.note
        entry.tags = list(body.tags)
        session.commit()
        return _out(entry)

    @router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
    def delete_diary_entry(entry_id: str, user: CurrentUser, session: DbSession) -> Response:
        entry = find_entry(session, entry_id, owner=user.sub)
        if entry is None:
            raise not_found()
        session.delete(entry)
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
