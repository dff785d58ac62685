"""The planted flaws: their ids and the switch set read from ``DEMO_FLAWS``.

Every flaw id here has a row in ``ground_truth.yaml`` (a unit test keeps both in step). Code asks
``flaws.enabled("flaw_id")`` right next to the secure behaviour; asking for an id that does not exist is a
programming error and raises ``KeyError``.
"""

from __future__ import annotations

from dataclasses import dataclass

FLAW_IDS: tuple[str, ...] = (
    "reminder_item_no_auth",
    "diary_list_alg_none",
    "statistics_expired_token",
    "diary_item_idor_read",
    "reminder_idor_write",
    "questionnaire_idor_delete",
    "reminder_list_leak",
    "reminder_sequential_ids",
    "user_profile_no_owner_check",
    "questionnaire_existence_oracle",
    "login_user_enumeration",
    "register_user_enumeration",
    "password_reset_user_enumeration",
    "password_reset_timing",
    # -- the interoperable export (issue 19) --
    "fhir_export_invalid_structure",
    "fhir_export_missing_code_system",
    "fhir_export_foreign_entry",
    # roles (issue 16)
    "exercise_delete_without_role",
    "therapist_reads_unassigned_patient",
    "profile_role_escalation",
)


class UnknownFlawError(ValueError):
    """``DEMO_FLAWS`` names a flaw that does not exist."""


@dataclass(frozen=True)
class Flaws:
    """The set of planted flaws that are switched on."""

    active: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(self.active - set(FLAW_IDS))
        if unknown:
            raise UnknownFlawError(_unknown_message(unknown[0]))

    def enabled(self, flaw_id: str) -> bool:
        if flaw_id not in FLAW_IDS:
            raise KeyError(f"no such flaw: {flaw_id!r}")
        return flaw_id in self.active

    def describe(self) -> str:
        """``none``, ``all`` or the active ids in catalogue order, for logs."""
        if not self.active:
            return "none"
        if len(self.active) == len(FLAW_IDS):
            return "all"
        return ",".join(flaw_id for flaw_id in FLAW_IDS if flaw_id in self.active)


def _unknown_message(flaw_id: str) -> str:
    return (
        f"DEMO_FLAWS: unknown flaw id {flaw_id!r}. "
        f"Use 'all', 'none' or a comma-separated list of: {', '.join(FLAW_IDS)}"
    )


def parse_flaws(value: str | None) -> Flaws:
    """Parse a ``DEMO_FLAWS`` value: ``all``, ``none`` (also empty or unset) or comma-separated flaw ids."""
    text = (value or "").strip()
    if text.lower() in ("", "none"):
        return Flaws()
    if text.lower() == "all":
        return Flaws(frozenset(FLAW_IDS))
    ids = [part.strip() for part in text.split(",") if part.strip()]
    for flaw_id in ids:
        if flaw_id.lower() in ("all", "none"):
            raise UnknownFlawError(f"DEMO_FLAWS: {flaw_id!r} stands alone; it cannot be combined with flaw ids")
        if flaw_id not in FLAW_IDS:
            raise UnknownFlawError(_unknown_message(flaw_id))
    return Flaws(frozenset(ids))
