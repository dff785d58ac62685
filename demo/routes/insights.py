"""Aggregates over the caller's data and the FHIR export."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select

from demo import db, fhir
from demo.auth import BearerCredentials, CurrentUser, authenticate
from demo.deps import DbSession
from demo.flaws import Flaws
from demo.routes.profile import ensure_profile
from demo.schemas import Statistics

RECENT_NOTES = 3


class FhirResponse(Response):
    media_type = fhir.FHIR_MEDIA_TYPE

    def render(self, content: object) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["insights"], responses={401: {"description": "Missing or invalid token"}})

    @router.get("/statistics", response_model=Statistics)
    def get_statistics(request: Request, credentials: BearerCredentials, session: DbSession) -> Statistics:
        if flaws.enabled("statistics_expired_token"):
            # FLAW statistics_expired_token: the signature is checked, the expiry is not.
            user = authenticate(request, credentials, verify_expiry=False)
        else:
            user = authenticate(request, credentials)
        count, mean_mood = session.execute(
            select(func.count(db.DiaryEntry.id), func.avg(db.DiaryEntry.mood)).where(db.DiaryEntry.owner == user.sub)
        ).one()
        notes = session.scalars(
            select(db.DiaryEntry.note)
            .where(db.DiaryEntry.owner == user.sub, db.DiaryEntry.note != "")
            .order_by(db.DiaryEntry.created_at.desc())
            .limit(RECENT_NOTES)
        ).all()
        latest = session.scalars(
            select(db.QuestionnaireResponse)
            .where(db.QuestionnaireResponse.owner == user.sub)
            .order_by(db.QuestionnaireResponse.created_at.desc())
            .limit(1)
        ).first()
        active_reminders = session.scalar(
            select(func.count(db.Reminder.id)).where(db.Reminder.owner == user.sub, db.Reminder.active.is_(True))
        )
        return Statistics(
            diary_entry_count=count,
            mean_mood=None if mean_mood is None else round(float(mean_mood), 2),
            latest_phq9_score=None if latest is None else latest.score,
            latest_phq9_severity=None if latest is None else latest.severity,
            active_reminder_count=active_reminders or 0,
            recent_notes=list(notes),
        )

    @router.get(
        "/export/fhir",
        response_class=FhirResponse,
        responses={
            200: {
                "description": "The caller's data as a FHIR R4 Bundle (type collection)",
                "content": {fhir.FHIR_MEDIA_TYPE: {"schema": {"type": "object"}}},
            }
        },
    )
    def export_fhir(user: CurrentUser, session: DbSession) -> FhirResponse:
        profile = ensure_profile(session, user)
        diary = select(db.DiaryEntry).order_by(db.DiaryEntry.created_at)
        if not flaws.enabled("fhir_export_foreign_entry"):
            diary = diary.where(db.DiaryEntry.owner == user.sub)
        # FLAW fhir_export_foreign_entry: without the owner filter every user's diary entries join the bundle.
        entries = session.scalars(diary).all()
        responses = session.scalars(
            select(db.QuestionnaireResponse)
            .where(db.QuestionnaireResponse.owner == user.sub)
            .order_by(db.QuestionnaireResponse.created_at)
        ).all()
        bundle = fhir.export_bundle(profile, entries, responses)
        if flaws.enabled("fhir_export_invalid_structure"):
            bundle = fhir.drop_observation_status(bundle)  # FLAW: Observation.status (1..1) left out
        if flaws.enabled("fhir_export_missing_code_system"):
            bundle = fhir.drop_loinc_system(bundle)  # FLAW: LOINC codes without their code system
        return FhirResponse(bundle)

    return router
