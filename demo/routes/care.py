"""Therapists and administrators: a therapist's patients and their diaries; the administrators' account list.

A therapist sees only the patients assigned to it (``care_assignments``, made by the clinic's onboarding).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo import db
from demo.auth import User
from demo.deps import DbSession, is_uuid, not_found, required_roles, role_guard
from demo.flaws import Flaws
from demo.roles import ADMIN, THERAPIST
from demo.schemas import AccountOut, AssignedPatientOut, DiaryEntryOut

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}


def assignment(session: Session, therapist_id: str, patient_id: str) -> db.CareAssignment | None:
    query = select(db.CareAssignment).where(db.CareAssignment.therapist_id == therapist_id,
                                            db.CareAssignment.patient_id == patient_id)
    return session.scalars(query).first()


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(
        prefix="/v1",
        responses={401: {"description": "Missing or invalid token"}, 403: {"description": "Role missing"}},
    )
    Therapist = Annotated[User, Depends(role_guard(flaws, THERAPIST))]
    Admin = Annotated[User, Depends(role_guard(flaws, ADMIN))]

    @router.get("/therapist/patients", response_model=list[AssignedPatientOut], tags=["therapist"],
                openapi_extra=required_roles(THERAPIST))
    def list_my_patients(therapist: Therapist, session: DbSession) -> list[AssignedPatientOut]:
        rows = session.execute(
            select(db.CareAssignment, db.Profile)
            .join(db.Profile, db.Profile.user_id == db.CareAssignment.patient_id)
            .where(db.CareAssignment.therapist_id == therapist.sub)
            .order_by(db.Profile.display_name)
        )
        return [AssignedPatientOut(user_id=profile.user_id, display_name=profile.display_name,
                                   assigned_at=care.created_at) for care, profile in rows]

    @router.get("/therapist/patients/{patient_id}/diary-entries", response_model=list[DiaryEntryOut],
                tags=["therapist"], responses=NOT_FOUND, openapi_extra=required_roles(THERAPIST))
    def list_patient_diary(patient_id: str, therapist: Therapist, session: DbSession) -> list[DiaryEntryOut]:
        if not is_uuid(patient_id):
            raise not_found()
        if not flaws.enabled("therapist_reads_unassigned_patient") and assignment(
                session, therapist.sub, patient_id) is None:
            raise not_found()
        # FLAW therapist_reads_unassigned_patient (when on): the role is checked, the care assignment is not.
        rows = session.scalars(select(db.DiaryEntry).where(db.DiaryEntry.owner == patient_id)
                               .order_by(db.DiaryEntry.created_at.desc()))
        return [DiaryEntryOut.model_validate(row, from_attributes=True) for row in rows]

    @router.get("/admin/accounts", response_model=list[AccountOut], tags=["administration"],
                openapi_extra=required_roles(ADMIN))
    def list_accounts(admin: Admin, session: DbSession) -> list[AccountOut]:
        rows = session.scalars(select(db.Profile).order_by(db.Profile.created_at))
        return [AccountOut.model_validate(row, from_attributes=True) for row in rows]

    return router
