"""Probes of the public_articles target's planted flaws, without digasec (tests/unit/test_zoo_targets.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.targets.runner import RunningTarget

PASSWORD = "correct horse battery"


def account(target: RunningTarget) -> dict[str, str]:
    """A new account's credential headers."""
    http = target.client()
    username = f"zoo{uuid.uuid4().hex[:10]}"
    assert http.post("/api/signup", json={"username": username, "email": f"{username}@example.org",
                                          "password": PASSWORD}).status_code == 201
    token = http.post("/api/login", json={"username": username, "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def article_patch_by_others(target: RunningTarget) -> bool:
    http = target.client()
    owner, other = account(target), account(target)
    article = http.post("/api/articles", json={"title": "mine", "body": "b"}, headers=owner).json()
    http.patch(f"/api/articles/{article['article_id']}", json={"title": "defaced"}, headers=other)
    return http.get(f"/api/articles/{article['article_id']}").json()["title"] == "defaced"


def draft_idor_read(target: RunningTarget) -> bool:
    http = target.client()
    owner, other = account(target), account(target)
    draft = http.post("/api/drafts", json={"title": "secret", "body": "canary-draft-9"}, headers=owner).json()
    response = http.get(f"/api/drafts/{draft['draft_id']}", headers=other)
    return response.status_code == 200 and "canary-draft-9" in response.text


PROBES: dict[str, Callable[[RunningTarget], bool]] = {
    "article_patch_by_others": article_patch_by_others,
    "draft_idor_read": draft_idor_read,
}
