"""Probes of the numbered_users target's planted flaws, without digasec (tests/unit/test_zoo_targets.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.targets.runner import RunningTarget

PASSWORD = "correct horse battery"


def account(target: RunningTarget) -> tuple[int, dict[str, str]]:
    """A new account: its user id (from the registration answer) and the headers with its token."""
    http = target.client()
    email = f"zoo{uuid.uuid4().hex[:10]}@example.org"
    registered = http.post("/api/register", json={"email": email, "password": PASSWORD, "name": "Z"})
    assert registered.status_code == 201, registered.text
    token = http.post("/api/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    return int(registered.json()["id"]), {"Authorization": f"Bearer {token}"}


def records_idor_read(target: RunningTarget) -> bool:
    http = target.client()
    (owner_id, owner), (_, other) = account(target), account(target)
    assert http.post(f"/api/users/{owner_id}/records", json={"kind": "pulse", "note": "canary-rec-7"},
                     headers=owner).status_code == 201
    response = http.get(f"/api/users/{owner_id}/records", headers=other)
    return response.status_code == 200 and "canary-rec-7" in response.text


PROBES: dict[str, Callable[[RunningTarget], bool]] = {"records_idor_read": records_idor_read}
