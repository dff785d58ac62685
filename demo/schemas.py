"""Request and response bodies of the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from demo import phq9
from demo.roles import Role

Tag = Annotated[str, Field(min_length=1, max_length=40)]
Phq9Answer = Annotated[int, Field(ge=0, le=phq9.MAX_ITEM_SCORE)]
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
MIN_PASSWORD_LENGTH = 12  # the realm's password policy: length(12) and notUsername


def _reject_nul(value: Any) -> Any:
    """Text with NUL characters cannot be stored (PostgreSQL refuses it): a validation error, not a 500."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if isinstance(value, dict):
        for item in value.values():
            _reject_nul(item)
    elif isinstance(value, list):
        for item in value:
            _reject_nul(item)
    return value


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return _reject_nul(data)


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Info(BaseModel):
    name: str
    version: str


# --- profile ---


class ProfileOut(BaseModel):
    user_id: str
    email: str | None
    display_name: str
    birth_year: int | None
    therapy_goal: str | None
    role: Role
    created_at: datetime
    updated_at: datetime


class ProfileUpdate(_Input):
    display_name: str = Field(min_length=1, max_length=100)
    birth_year: int | None = Field(default=None, ge=1900)
    therapy_goal: str | None = Field(default=None, max_length=1000)

    @field_validator("birth_year")
    @classmethod
    def _not_in_future(cls, value: int | None) -> int | None:
        if value is not None and value > datetime.now(UTC).year:
            raise ValueError("birth_year lies in the future")
        return value


class _ProfileUpdateLenient(ProfileUpdate):
    """Only for the planted flaw profile_role_escalation: unknown fields are kept, not refused."""

    model_config = ConfigDict(extra="allow")


# named like the secure model, so that the OpenAPI document does not tell the variants apart
ProfileUpdateLenient = create_model("ProfileUpdate", __base__=_ProfileUpdateLenient)


class ConsentOut(BaseModel):
    consent_type: str
    version: str
    granted: bool
    updated_at: datetime


# --- diary ---


class DiaryEntryIn(_Input):
    mood: int = Field(ge=1, le=10, description="Self-rated mood, 1 (very bad) to 10 (very good)")
    note: str = Field(default="", max_length=5000)
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class DiaryEntryOut(BaseModel):
    id: str
    mood: int
    note: str
    tags: list[str]
    created_at: datetime
    updated_at: datetime


# --- questionnaires ---


class QuestionnaireResponseIn(_Input):
    questionnaire: Literal["PHQ-9"]
    answers: list[Phq9Answer] = Field(min_length=phq9.ITEM_COUNT, max_length=phq9.ITEM_COUNT)
    comment: str = Field(default="", max_length=2000)


class QuestionnaireResponseOut(BaseModel):
    id: str
    questionnaire: str
    answers: list[int]
    score: int
    severity: str
    comment: str
    created_at: datetime


# --- reminders (the response model is built in routes/reminders.py: its id type depends on a flaw) ---


class ReminderIn(_Input):
    title: str = Field(min_length=1, max_length=200)
    time_of_day: str = Field(pattern=TIME_OF_DAY_PATTERN, examples=["08:30"])
    active: bool = True


# --- insights ---


class Statistics(BaseModel):
    diary_entry_count: int
    mean_mood: float | None
    latest_phq9_score: int | None
    latest_phq9_severity: str | None
    active_reminder_count: int
    recent_notes: list[str] = Field(description="Notes of the three most recent diary entries")


# --- account ---


class RegistrationIn(_Input):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN, examples=["patient@example.org"])
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)

    @field_validator("email")
    @classmethod
    def _lower_case(cls, value: str) -> str:
        return value.lower()

    @model_validator(mode="after")
    def _password_policy(self) -> RegistrationIn:
        if self.password.lower() == self.email.lower():
            raise ValueError("the password must not be the e-mail address")
        return self


class PasswordResetIn(_Input):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN, examples=["patient@example.org"])

    @field_validator("email")
    @classmethod
    def _lower_case(cls, value: str) -> str:
        return value.lower()


class PasswordChange(_Input):
    current_password: str = Field(min_length=1, max_length=256)
    # no length rule of the backend's own: the realm's password policy decides what Keycloak takes
    new_password: str = Field(min_length=1, max_length=256)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return _reject_nul(data)

    username: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class Message(BaseModel):
    detail: str


# --- roles: therapists and administrators ---


class AssignedPatientOut(BaseModel):
    user_id: str
    display_name: str
    assigned_at: datetime


class ExerciseIn(_Input):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20000)
    duration_minutes: int = Field(ge=1, le=240)


class ExerciseOut(BaseModel):
    id: str
    title: str
    body: str
    duration_minutes: int
    created_at: datetime
    updated_at: datetime


class AccountOut(BaseModel):
    user_id: str
    email: str | None
    display_name: str
    role: Role
    created_at: datetime
