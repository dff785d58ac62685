"""Reminders (title, time of day, active).

No ``from __future__ import annotations`` here: the id type of the path parameter and of the response model
depends on a flaw switch and is chosen inside ``build_router``, so FastAPI must see real annotations.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo import db
from demo.auth import BearerCredentials, CurrentUser, authenticate
from demo.deps import DbSession, is_uuid, not_found
from demo.flaws import Flaws
from demo.schemas import ReminderIn

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}
MAX_BIGINT = 2**63 - 1


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(
        prefix="/v1/reminders", tags=["reminders"], responses={401: {"description": "Missing or invalid token"}}
    )

    if flaws.enabled("reminder_sequential_ids"):
        # FLAW reminder_sequential_ids: the API exposes the table's auto-increment key as the reminder id.
        sequential_ids = True
        ReminderId: Any = Annotated[int, Path(ge=1, le=MAX_BIGINT)]
        id_type: type = int
    else:
        sequential_ids = False
        ReminderId = Annotated[str, Path()]
        id_type = str

    class ReminderOut(BaseModel):
        id: id_type  # type: ignore[valid-type]
        title: str
        time_of_day: str
        active: bool
        created_at: datetime
        updated_at: datetime

    def public_id(row: db.Reminder) -> int | str:
        return row.id if sequential_ids else row.public_id

    def out(row: db.Reminder) -> ReminderOut:
        return ReminderOut(
            id=public_id(row),
            title=row.title,
            time_of_day=row.time_of_day,
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def find_reminder(session: Session, reminder_id: int | str, *, owner: str | None) -> db.Reminder | None:
        """The reminder with this id; with ``owner``, only if that user owns it."""
        if isinstance(reminder_id, str) and not is_uuid(reminder_id):
            return None
        column = db.Reminder.id if sequential_ids else db.Reminder.public_id
        query = select(db.Reminder).where(column == reminder_id)
        if owner is not None:
            query = query.where(db.Reminder.owner == owner)
        return session.scalars(query).first()

    @router.post("", response_model=ReminderOut, status_code=status.HTTP_201_CREATED)
    def create_reminder(body: ReminderIn, user: CurrentUser, session: DbSession, response: Response) -> ReminderOut:
        row = db.Reminder(owner=user.sub, title=body.title, time_of_day=body.time_of_day, active=body.active)
        session.add(row)
        session.commit()
        response.headers["Location"] = f"/v1/reminders/{public_id(row)}"
        return out(row)

    @router.get("", response_model=list[ReminderOut])
    def list_reminders(user: CurrentUser, session: DbSession) -> list[ReminderOut]:
        if flaws.enabled("reminder_list_leak"):
            # FLAW reminder_list_leak: no owner filter, every user's reminders are listed.
            query = select(db.Reminder)
        else:
            query = select(db.Reminder).where(db.Reminder.owner == user.sub)
        rows = session.scalars(query.order_by(db.Reminder.time_of_day, db.Reminder.created_at))
        return [out(row) for row in rows]

    @router.get("/{reminder_id}", response_model=ReminderOut, responses=NOT_FOUND)
    def get_reminder(
        reminder_id: ReminderId, request: Request, credentials: BearerCredentials, session: DbSession
    ) -> ReminderOut:
        if credentials is None and flaws.enabled("reminder_item_no_auth"):
            # FLAW reminder_item_no_auth: without any token the reminder is returned, whoever owns it.
            row = find_reminder(session, reminder_id, owner=None)
        else:
            user = authenticate(request, credentials)
            row = find_reminder(session, reminder_id, owner=user.sub)
        if row is None:
            raise not_found()
        return out(row)

    @router.put("/{reminder_id}", response_model=ReminderOut, responses=NOT_FOUND)
    def update_reminder(
        reminder_id: ReminderId, body: ReminderIn, user: CurrentUser, session: DbSession
    ) -> ReminderOut:
        if flaws.enabled("reminder_idor_write"):
            # FLAW reminder_idor_write: the reminder is updated by id alone, whoever owns it.
            row = find_reminder(session, reminder_id, owner=None)
        else:
            row = find_reminder(session, reminder_id, owner=user.sub)
        if row is None:
            raise not_found()
        row.title = body.title
        row.time_of_day = body.time_of_day
        row.active = body.active
        session.commit()
        return out(row)

    @router.delete("/{reminder_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
    def delete_reminder(reminder_id: ReminderId, user: CurrentUser, session: DbSession) -> Response:
        row = find_reminder(session, reminder_id, owner=user.sub)
        if row is None:
            raise not_found()
        session.delete(row)
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
