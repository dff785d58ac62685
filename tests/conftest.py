"""Lanes of `digasec selftest` (fixtures/selftest_lanes.py): with DIGASEC_SELFTEST_LANE set, a pytest session keeps
only the tests of that lane. Without it every test runs (a plain `pytest`, or a selftest that names tests)."""

from __future__ import annotations

import os
from collections.abc import Iterable

import pytest

from fixtures.selftest_lanes import LANE_ENV, PHASES

# A session fixture that boots a system, and the lane whose session owns it. A test goes to the lane of the first
# of these it uses (in this order), so each system boots in one lane only; tests that use none go to `rest`.
LANE_OF_FIXTURE = {
    "timing_scans": "timing",  # response times: measured with nothing else running
    "zoo_timing_scan": "timing",
    "demo_scan": "scans",
    "secure_scan": "scans",
    "parallel_scan": "scans",
    "engine": "scans",  # the Docker engine: its tests compare the engine's state before and after, so one lane
    "staging": "rest",
    "zoo_scan": "rest",  # (not the demo scans' lane: measured, scans 633 s and rest 359 s with the zoo in scans)
}
DEFAULT_LANE = "rest"


def lanes_used(fixturenames: Iterable[str]) -> set[str]:
    return {LANE_OF_FIXTURE[name] for name in fixturenames if name in LANE_OF_FIXTURE}


def lane_of(fixturenames: Iterable[str]) -> str:
    [lane] = lanes_used(fixturenames) or {DEFAULT_LANE}
    return lane


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test's booted systems belong to one lane (checked in every session, lanes or not); with a lane set,
    only its tests stay."""
    for item in items:
        used = lanes_used(getattr(item, "fixturenames", ()))
        if len(used) > 1:
            raise pytest.UsageError(f"{item.nodeid} uses systems of the lanes {sorted(used)} (tests/conftest.py: "
                                    "LANE_OF_FIXTURE): each would boot twice in the selftest; split the test")
    lane = os.environ.get(LANE_ENV)
    if not lane:
        return
    known = {name for phase in PHASES for name in phase}
    if lane not in known:
        raise pytest.UsageError(f"{LANE_ENV}={lane!r} is not a lane ({', '.join(sorted(known))})")
    keep = [item for item in items if lane_of(getattr(item, "fixturenames", ())) == lane]
    kept = {id(item) for item in keep}
    dropped = [item for item in items if id(item) not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest) -> None:
    """A lane's system asked for at run time (request.getfixturevalue) from a test of another lane would boot it a
    second time: name the fixture in the test's signature or in `usefixtures` instead."""
    lane, owner = os.environ.get(LANE_ENV), LANE_OF_FIXTURE.get(fixturedef.argname)
    if lane and owner and owner != lane:
        pytest.fail(f"{request.node.nodeid} asked for {fixturedef.argname} (lane {owner}) at run time in lane {lane}: "
                    "name it in the test's signature or @pytest.mark.usefixtures", pytrace=False)
