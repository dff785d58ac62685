"""States only the harness created (an account it disabled) are graded info, unless the profile says such states
occur in production (checks.production_states)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from fixtures.api import account_flows as af
from fixtures.engine.checks import Severity
from fixtures.target.profile import CheckSettings
from suites.test_account_existence import _grade


def context(*states: str) -> Any:
    checks = CheckSettings(production_states=list(states))
    return SimpleNamespace(harness=SimpleNamespace(profile=SimpleNamespace(checks=checks)))


def test_only_the_disabled_account_differs_and_the_profile_is_silent_info_saying_why() -> None:
    severity, why = _grade(context(), [af.DISABLED])
    assert severity is Severity.INFO
    assert "only the account state the harness itself created differs (disabled_account)" in why
    assert "checks.production_states" in why


def test_declared_production_state_keeps_its_severity() -> None:
    assert _grade(context("disabled_account"), [af.DISABLED]) == (Severity.LOW, "")


def test_existing_accounts_that_differ_stay_medium() -> None:
    assert _grade(context(), [af.EXISTING, af.DISABLED]) == (Severity.MEDIUM, "")


def test_unknown_production_state_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match=r"unknown production state 'disabled'.*did you mean 'disabled_account'"):
        CheckSettings(production_states=["disabled"])
