"""The exercise library: shared content that every signed-in user reads and administrators manage.

No ``from __future__ import annotations`` here: who may delete depends on a flaw switch and is chosen inside
``build_router``, so FastAPI must see real annotations.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo import db
from demo.auth import CurrentUser, User
from demo.deps import DbSession, delete_found, is_uuid, not_found, required_roles, role_guard
from demo.flaws import Flaws
from demo.roles import ADMIN
from demo.schemas import ExerciseIn, ExerciseOut

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"description": "Administrators only"}}


def find_exercise(session: Session, exercise_id: str) -> db.Exercise | None:
    return session.get(db.Exercise, exercise_id) if is_uuid(exercise_id) else None


def _out(row: db.Exercise) -> ExerciseOut:
    return ExerciseOut.model_validate(row, from_attributes=True)


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(
        prefix="/v1/exercises", tags=["exercises"], responses={401: {"description": "Missing or invalid token"}}
    )
    Admin = Annotated[User, Depends(role_guard(flaws, ADMIN))]
    admin_only = required_roles(ADMIN)

    @router.get("", response_model=list[ExerciseOut])
    def list_exercises(user: CurrentUser, session: DbSession) -> list[ExerciseOut]:
        return [_out(row) for row in session.scalars(select(db.Exercise).order_by(db.Exercise.title))]

    @router.get("/{exercise_id}", response_model=ExerciseOut, responses=NOT_FOUND)
    def get_exercise(exercise_id: str, user: CurrentUser, session: DbSession) -> ExerciseOut:
        row = find_exercise(session, exercise_id)
        if row is None:
            raise not_found()
        return _out(row)

    @router.post("", response_model=ExerciseOut, status_code=status.HTTP_201_CREATED, responses=FORBIDDEN,
                 openapi_extra=admin_only)
    def create_exercise(body: ExerciseIn, admin: Admin, session: DbSession, response: Response) -> ExerciseOut:
        row = db.Exercise(title=body.title, body=body.body, duration_minutes=body.duration_minutes,
                          created_by=admin.sub)
        session.add(row)
        session.commit()
        response.headers["Location"] = f"/v1/exercises/{row.id}"
        return _out(row)

    @router.put("/{exercise_id}", response_model=ExerciseOut, responses={**NOT_FOUND, **FORBIDDEN},
                openapi_extra=admin_only)
    def update_exercise(exercise_id: str, body: ExerciseIn, admin: Admin, session: DbSession) -> ExerciseOut:
        row = find_exercise(session, exercise_id)
        if row is None:
            raise not_found()
        row.title, row.body, row.duration_minutes = body.title, body.body, body.duration_minutes
        session.commit()
        return _out(row)

    if flaws.enabled("exercise_delete_without_role"):
        # FLAW exercise_delete_without_role: the delete checks the token, not the role; any patient deletes content.
        Deleter: Any = CurrentUser
    else:
        Deleter = Admin

    @router.delete("/{exercise_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **FORBIDDEN},
                   openapi_extra=admin_only)
    def delete_exercise(exercise_id: str, caller: Deleter, session: DbSession) -> Response:
        return delete_found(session, find_exercise(session, exercise_id))

    return router
