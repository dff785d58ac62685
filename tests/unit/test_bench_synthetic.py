"""The benchmark's synthetic API (bench/synthetic.py): a valid document of exactly N operations, and a server that
behaves as its docstring says (owner checks, sequential ids, public listings and unsigned tokens where planted)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from bench.run import _target_detail, spread, table, targets
from bench.synthetic import (
    MIN_OPERATIONS,
    Layout,
    SyntheticApp,
    accepts_unsigned,
    no_owner_check,
    openapi_document,
    operation_count,
    public_listing,
    sequential_ids,
)
from fixtures.api.catalogue import build_catalogue


@pytest.mark.parametrize("operations", [MIN_OPERATIONS, 50, 200, 203, 800])
def test_document_has_the_requested_number_of_operations(operations: int) -> None:
    document = openapi_document(operations)
    assert operation_count(document) == operations
    # the harness's own loader (Schemathesis underneath) accepts it and sees every operation
    catalogue = build_catalogue(json.loads(json.dumps(document)), "0" * 64, public_operations=[], user_path_params=[])
    assert len(catalogue.operations) == operations
    public = {f"{op.method} {op.path}" for op in catalogue.operations if not op.needs_auth}
    assert public == {"GET /health", "POST /register", "POST /login", "GET /directory"}


def test_too_few_operations_are_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        Layout.of(MIN_OPERATIONS - 1)


def test_every_flaw_has_a_group_at_fifty_operations() -> None:
    groups = range(Layout.of(50).groups)
    for planted in (no_owner_check, sequential_ids, public_listing, accepts_unsigned):
        assert any(planted(index) for index in groups), planted.__name__
    assert any(not any(p(i) for p in (no_owner_check, sequential_ids, public_listing, accepts_unsigned))
               for i in groups), "a group without any flaw"


def call(app: SyntheticApp, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    status, payload = app.handle(method, path, headers, json.dumps(body).encode() if body is not None else b"")
    return status, json.loads(payload) if isinstance(payload, bytes) else payload


def signed_in(app: SyntheticApp, name: str) -> str:
    assert call(app, "POST", "/register", body={"username": name, "email": f"{name}@example.org",
                                                "password": "password-1"})[0] == 201
    status, answer = call(app, "POST", "/login", body={"username": name, "password": "password-1"})
    assert status == 200
    token: str = answer["access_token"]
    return token


def unsigned(token: str) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}."


def test_server_plants_its_flaws_only_where_the_layout_says() -> None:
    app = SyntheticApp(50)
    alice, bob = signed_in(app, "alice"), signed_in(app, "bob")
    for group in range(6):
        name = f"/r{group:03d}/entries"
        status, entry = call(app, "POST", name, alice, {"title": "alice's"})
        assert status == 201
        assert (entry["id"] == "1") == sequential_ids(group)
        foreign = call(app, "GET", f"{name}/{entry['id']}", bob)[0]
        assert (foreign == 200) == no_owner_check(group), group
        anonymous = call(app, "GET", name)[0]
        assert (anonymous == 200) == public_listing(group), group
        forged = call(app, "GET", f"{name}/{entry['id']}", unsigned(alice))[0]
        assert (forged == 200) == accepts_unsigned(group), group
        assert call(app, "GET", f"{name}/{entry['id']}", alice + "x")[0] == 401
    assert call(app, "POST", "/login", body={"username": "nobody", "password": "x"})[1]["detail"] == "no such user"
    assert call(app, "GET", "/_bench/stats")[0] == 200


def test_figures_and_targets() -> None:
    assert spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "runs": 3}
    size: dict[str, Any] = {"wall_s": {"median": 10.0}, "harness_to_raw": 0.6, "active_to_raw": 0.7,
                            "peak_rss_mb": {"max": 300.0}}
    found = targets({200: {**size, "operations": 200},
                     800: {**size, "operations": 800, "wall_s": {"median": 46.0}}})
    assert found["scaling_800_to_200"] == {"value": 4.6, "limit": 4.5, "met": False}
    assert found["harness_to_raw_rate"]["met"]
    assert found["peak_rss_mb_at_800"]["met"]


def test_the_raw_rate_target_is_judged_at_the_worst_size_and_names_every_size() -> None:
    sizes = {50: {"operations": 50, "harness_to_raw": 0.35, "active_to_raw": 0.48},
             200: {"operations": 200, "harness_to_raw": 0.52, "active_to_raw": 0.55}}
    target = targets(sizes)["harness_to_raw_rate"]
    assert (target["value"], target["at"], target["met"]) == (0.35, 50, False)
    assert target["by_size"] == {"50": [0.35, 0.48], "200": [0.52, 0.55]}
    assert "at 50 operations, the smallest" in _target_detail(target)
    assert "200: 0.52; 0.55" in _target_detail(target)


def test_the_table_names_the_commit_it_measured() -> None:
    result = {"started": "2026-12-03T04:00:00", "commit": "2834139abcde", "runs": 3,
              "machine_before": {"load_average": [0.1]}, "machine_after": {"load_average": [0.2]}, "sizes": []}
    assert "commit 2834139abcde" in table(result).splitlines()[0]
