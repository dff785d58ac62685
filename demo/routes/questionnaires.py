"""Questionnaire responses (PHQ-9) with the computed total score and severity band."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo import db, phq9
from demo.auth import CurrentUser
from demo.deps import DbSession, is_uuid, not_found
from demo.flaws import Flaws
from demo.schemas import QuestionnaireResponseIn, QuestionnaireResponseOut

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}


def find_response(session: Session, response_id: str, *, owner: str | None) -> db.QuestionnaireResponse | None:
    """The response with this id; with ``owner``, only if that user owns it."""
    if not is_uuid(response_id):
        return None
    query = select(db.QuestionnaireResponse).where(db.QuestionnaireResponse.id == response_id)
    if owner is not None:
        query = query.where(db.QuestionnaireResponse.owner == owner)
    return session.scalars(query).first()


def _out(row: db.QuestionnaireResponse) -> QuestionnaireResponseOut:
    return QuestionnaireResponseOut.model_validate(row, from_attributes=True)


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(
        prefix="/v1/questionnaire-responses",
        tags=["questionnaires"],
        responses={401: {"description": "Missing or invalid token"}},
    )

    @router.post("", response_model=QuestionnaireResponseOut, status_code=status.HTTP_201_CREATED)
    def create_questionnaire_response(
        body: QuestionnaireResponseIn, user: CurrentUser, session: DbSession, response: Response
    ) -> QuestionnaireResponseOut:
        total = phq9.score(body.answers)
        row = db.QuestionnaireResponse(
            owner=user.sub,
            questionnaire=body.questionnaire,
            answers=list(body.answers),
            score=total,
            severity=phq9.severity(total),
            comment=body.comment,
        )
        session.add(row)
        session.commit()
        response.headers["Location"] = f"/v1/questionnaire-responses/{row.id}"
        return _out(row)

    @router.get("", response_model=list[QuestionnaireResponseOut])
    def list_questionnaire_responses(user: CurrentUser, session: DbSession) -> list[QuestionnaireResponseOut]:
        rows = session.scalars(
            select(db.QuestionnaireResponse)
            .where(db.QuestionnaireResponse.owner == user.sub)
            .order_by(db.QuestionnaireResponse.created_at.desc())
        )
        return [_out(row) for row in rows]

    @router.get("/{response_id}", response_model=QuestionnaireResponseOut, responses=NOT_FOUND)
    def get_questionnaire_response(response_id: str, user: CurrentUser, session: DbSession) -> QuestionnaireResponseOut:
        if flaws.enabled("questionnaire_existence_oracle"):
            # FLAW questionnaire_existence_oracle: malformed, unknown and foreign ids get different answers.
            if not is_uuid(response_id):
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "response_id must be a UUID")
            row = find_response(session, response_id, owner=None)
            if row is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "questionnaire response not found")
            if row.owner != user.sub:
                raise HTTPException(status.HTTP_403_FORBIDDEN, "questionnaire response belongs to another user")
        else:
            row = find_response(session, response_id, owner=user.sub)
            if row is None:
                raise not_found()
        return _out(row)

    @router.delete("/{response_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
    def delete_questionnaire_response(response_id: str, user: CurrentUser, session: DbSession) -> Response:
        if flaws.enabled("questionnaire_idor_delete"):
            # FLAW questionnaire_idor_delete: the response is deleted by id alone, whoever owns it.
            row = find_response(session, response_id, owner=None)
        else:
            row = find_response(session, response_id, owner=user.sub)
        if row is None:
            raise not_found()
        session.delete(row)
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
