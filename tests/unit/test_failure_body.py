"""Failures answered as 2xx: the body decides (JSend `status: fail`, `success: false`, `ok: false`, `error` without
data, or the profile's checks.failure_body), and a body that says "refused" never hides the owner's data."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest

from fixtures.analysis.compare import FailureBodyRule, distinctive_values, failure_in_body, owner_data_in
from fixtures.api.catalogue import Operation
from fixtures.engine.checks import Failure, Severity
from fixtures.engine.context import CheckContext
from fixtures.engine.health import RunHealth
from fixtures.engine.http import Request
from fixtures.identity import TestUser
from fixtures.target.profile import CheckSettings
from suites.test_authentication import _judge

JSON = "application/json"


@pytest.mark.parametrize(
    ("body", "telltale"),
    [
        ({"status": "fail", "message": "authentication required"}, '"status": "fail"'),
        ({"status": "error", "message": "boom"}, '"status": "error"'),
        ({"status": "FAILED"}, '"status": "FAILED"'),
        ({"success": False, "message": "not allowed"}, '"success": false'),
        ({"ok": False}, '"ok": false'),
        ({"error": "not allowed"}, "`error` with no data"),
        ({"errors": [{"message": "denied"}], "data": None}, "`errors` with no data"),
    ],
)
def test_failure_bodies_are_recognised(body: dict[str, object], telltale: str) -> None:
    found = failure_in_body(json.dumps(body), JSON)
    assert found is not None
    assert telltale in found


@pytest.mark.parametrize(
    "body",
    [
        {"status": "success", "data": {"id": 1}},
        {"status": "active", "name": "x"},  # a resource's own status field
        {"success": True},
        {"ok": True, "items": []},
        {"error": None, "data": {"id": 1}},
        {"error": "partial", "data": {"id": 1}},  # data came with it
        {"errors": []},
        [{"status": "fail"}],  # not an object at the top
        {"result": {"status": "fail"}},  # not top-level
        {"id": "job-7", "status": "failed", "created": "2026-01-01"},  # a resource's own field, no envelope
        {"note_id": "n1", "error": "timeout while syncing"},
    ],
)
def test_successes_and_other_shapes_say_nothing(body: object) -> None:
    assert failure_in_body(json.dumps(body), JSON) is None


def test_bodies_that_are_not_json_say_nothing() -> None:
    assert failure_in_body("error: denied", "text/plain") is None
    assert failure_in_body("<html>fail</html>", "text/html") is None
    assert failure_in_body('{"status": "fail"}', "") is not None  # no content type: JSON by its look


def test_the_profiles_rule_replaces_the_conventions() -> None:
    rule = FailureBodyRule("meta.outcome", ("denied", "false"))
    assert failure_in_body(json.dumps({"meta": {"outcome": "DENIED"}}), JSON, rule) == "`meta.outcome: DENIED` " \
        "(checks.failure_body)"
    assert failure_in_body(json.dumps({"meta": {"outcome": "granted"}}), JSON, rule) is None
    assert failure_in_body(json.dumps({"status": "fail"}), JSON, rule) is None  # only the profile's rule applies
    assert failure_in_body(json.dumps({"meta": {"outcome": False}}), JSON, rule) is not None


def test_profile_setting() -> None:
    settings = CheckSettings(failure_body={"field": "status", "values": ["fail", "error"]})
    assert settings.failure_rule() == FailureBodyRule("status", ("fail", "error"))
    assert CheckSettings().failure_rule() is None
    with pytest.raises(ValueError, match="values"):
        CheckSettings(failure_body={"field": "status"})


def test_distinctive_values_leave_out_words_short_values_and_keys() -> None:
    body = json.dumps({"status": "success", "data": [{"note_id": "9f2c4b1e0d7a4c3b", "subject": "cnryab12 visit",
                                                      "pinned": False, "count": 3, "created": 1764620000}]})
    assert distinctive_values(body, JSON) == ["9f2c4b1e0d7a4c3b", "cnryab12 visit", "1764620000"]


def test_the_owners_data_in_a_refusal_is_still_found() -> None:
    owner = json.dumps({"status": "success", "data": {"note_id": "9f2c4b1e0d7a4c3b", "subject": "Arztbrief"}})
    assert owner_data_in('{"status":"fail","message":"no"}', canaries=["cnry1"], owner_body=owner,
                         owner_content_type=JSON) is None
    leak = owner_data_in('{"status":"fail","data":{"note_id":"9f2c4b1e0d7a4c3b"}}', owner_body=owner,
                         owner_content_type=JSON)
    assert leak is not None
    assert "9f2c4b1e0d7a4c3b" in leak
    assert "canary" in (owner_data_in('{"status":"fail","x":"..cnry1c7.."}', canaries=["cnry1"]) or "")
    # what the request itself put there (the path's username) is an echo, not a leak
    owner_profile = json.dumps({"status": "success", "data": {"username": "digasec-run-user1"}})
    assert owner_data_in('{"status":"fail","message":"not allowed for digasec-run-user1"}', owner_body=owner_profile,
                         owner_content_type=JSON, asked="/users/digasec-run-user1") is None


# -- the authentication checks' verdict --------------------------------------------------------------------------
OWNER = TestUser(key="user1", username="run-user1", password="pw", email="u1@example.org", first_name="A",
                 last_name="B", sub="", canary="cnryowner1")
OP = Operation(method="GET", path="/users/{username}/notes", operation_id=None, tags=(), needs_auth=True,
               auth_reason="bearer", parameters=(), body_schema=None, body_media_type=None, user_params=("username",))
BASELINE = httpx.Response(200, json={"status": "success", "data": [{"note_id": "9f2c4b1e0d7a4c3b",
                                                                    "subject": "cnryowner1c4 note"}]})
ATTACK = Request("GET", "/users/run-user1/notes")


REJECTED = httpx.Response(401, json={"detail": "not authenticated"})


def ctx(failure_body: dict[str, object] | None = None, rejected: httpx.Response = REJECTED) -> CheckContext:
    """A context whose only request is the reference: the attack's request with a malformed token (`rejected`)."""
    profile = SimpleNamespace(checks=CheckSettings(failure_body=failure_body))
    context = CheckContext(SimpleNamespace(profile=profile, health=RunHealth()),  # type: ignore[arg-type]
                           "unauthenticated_access")
    context.send = lambda request, **kwargs: rejected  # type: ignore[method-assign]
    return context


def judge(context: CheckContext, body: dict[str, object], status: int = 200) -> None:
    _judge(context, httpx.Response(status, json=body), OP, (ATTACK, BASELINE), ATTACK, (OWNER, OWNER),
           "without any credentials", "Operation answers without credentials", Severity.HIGH, sent_credential=False)


def test_a_refusal_answered_200_is_a_pass_that_says_so() -> None:
    context = ctx()
    judge(context, {"status": "fail", "message": "authentication required"})
    assert "refused" in context.note
    assert '"status": "fail"' in context.note


def test_a_plain_200_is_still_a_finding() -> None:
    with pytest.raises(Failure, match="Expected 401, got `200 OK`"):
        judge(ctx(), {"status": "success", "data": []})


def test_a_refusal_that_carries_the_owners_data_is_a_finding() -> None:
    with pytest.raises(Failure, match="carries the owner's canary") as failure:
        judge(ctx(), {"status": "fail", "data": [{"subject": "cnryowner1c4 note"}]})
    assert '"status": "fail"' in failure.value.message
    with pytest.raises(Failure, match="9f2c4b1e0d7a4c3b"):
        judge(ctx(), {"status": "fail", "message": "not yours", "data": {"note_id": "9f2c4b1e0d7a4c3b"}})


def test_a_200_that_is_the_answer_to_a_malformed_token_too_is_a_refusal() -> None:
    # a backend that answers every failure with 200 and a body no convention names: the reference decides
    login_page = {"page": "sign-in", "hint": "please log in"}
    context = ctx(rejected=httpx.Response(200, json=login_page))
    judge(context, login_page)
    assert "the very answer to the same request with a malformed token" in context.note
    with pytest.raises(Failure, match="Expected 401"):  # unlike the reference: accepted
        judge(ctx(rejected=httpx.Response(200, json=login_page)), {"status": "success", "data": []})


def test_a_reference_that_gets_the_owners_answer_proves_nothing() -> None:
    owners = json.loads(BASELINE.text)
    with pytest.raises(Failure, match="Expected 401"):
        judge(ctx(rejected=httpx.Response(200, json=owners)), {"status": "success", "data": []})


def test_the_profiles_convention_decides_where_it_is_set() -> None:
    context = ctx({"field": "outcome", "values": ["denied"]})
    judge(context, {"outcome": "denied"})
    assert "checks.failure_body" in context.note
    with pytest.raises(Failure):
        judge(ctx({"field": "outcome", "values": ["denied"]}), {"status": "fail"})


def test_a_401_is_a_pass_without_a_note() -> None:
    context = ctx()
    judge(context, {"detail": "no"}, status=401)
    assert context.note == ""


def test_a_baseline_refused_in_the_body_skips_with_that_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    context = ctx()
    context.harness.identity = SimpleNamespace(users=[])  # type: ignore[attr-defined]
    sent: list[Request] = []

    def send(request: Request, **_: object) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"status": "fail", "message": "not allowed"})

    monkeypatch.setattr(context, "request_for", lambda *a, **k: ATTACK)
    monkeypatch.setattr(context, "token", lambda *a, **k: "token")
    monkeypatch.setattr(context, "send", send)
    with pytest.raises(pytest.skip.Exception) as skipped:
        context.baseline(OP, OWNER)
    assert "the owner's own request was refused in the body: `\"status\": \"fail\"`" in str(skipped.value)
    assert "not allowed" in str(skipped.value)
