"""Which exchanges a failed item keeps as its evidence (fixtures/engine/plugin.evidence_window)."""

from __future__ import annotations

from fixtures.engine.http import Exchange
from fixtures.engine.plugin import evidence_window


def exchange(n: int, role: str = "reference") -> Exchange:
    return Exchange(request=f"GET /{n}", response="HTTP/1.1 200 OK", status=200, role=role)


def test_the_last_exchanges_are_kept_in_order() -> None:
    sent = [exchange(n) for n in range(8)]
    assert [e.request for e in evidence_window(sent, 5)] == ["GET /3", "GET /4", "GET /5", "GET /6", "GET /7"]


def test_an_attack_followed_by_many_probes_stays_in_the_evidence() -> None:
    sent = [exchange(0), exchange(1, "attack"), *(exchange(n) for n in range(2, 9))]
    kept = evidence_window(sent, 5)
    assert [e.request for e in kept] == ["GET /1", "GET /5", "GET /6", "GET /7", "GET /8"]
    assert [e.role for e in kept].count("attack") == 1


def test_fewer_exchanges_than_the_limit_are_all_kept() -> None:
    sent = [exchange(0, "attack"), exchange(1)]
    assert evidence_window(sent, 5) == sent
