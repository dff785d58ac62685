"""The interoperable export: is it valid FHIR R4, and does it hold the caller's data and only the caller's?

The export operations come from the spec, the path or the profile (fixtures/api/export.py). Each test user requests
its own export once per process (asynchronous exports are polled through `Content-Location`); the answer is judged
by real validators: the `fhir.resources` R4B models with the harness's Bundle rules (`structure`), and the HL7/HAPI
instance validator with the R4 core definitions, offline (`hapi`). Ownership: the canaries the seeder planted in each
user's objects, and the patients the references point at. Whether the export answers without credentials or to
another user is asked by unauthenticated_access, invalid_token and the cross-user checks, like for any operation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import pytest

from fixtures.analysis import fhir
from fixtures.api.export import HOW_TO_NAME, find_exports, manifest_urls, ndjson_bundle
from fixtures.engine.checks import CheckError, CheckItem, Failure, Severity, check
from fixtures.engine.fhir_validator import ValidatorUnavailable, java_validator, start_in_background

if TYPE_CHECKING:
    import httpx

    from fixtures.api.catalogue import Operation
    from fixtures.engine.context import CheckContext
    from fixtures.engine.harness import Harness
    from fixtures.engine.http import Exchange
    from fixtures.identity import TestUser

INVALID_TITLE = "Interoperable export is not valid FHIR R4"
FOREIGN_TITLE = "Interoperable export holds another user's data"
NOT_OWN_TITLE = "Interoperable export holds none of the caller's data"
VALIDATORS = {"structure": f"{fhir.STRUCTURE} (R4B) + Bundle rules", "hapi": f"{fhir.HAPI} instance validator (R4)"}
FIRST_ERRORS = 10
POLL_PAUSE_S = 1.0
NONE_FOUND = f"no export operation found (no FHIR media type, Bundle schema or export path in the spec); {HOW_TO_NAME}"


def export_items(harness: Harness) -> list[CheckItem] | str:
    exports = _exports(harness)
    if not exports:
        return NONE_FOUND
    return [CheckItem(found.operation, variant) for found in exports for variant in VALIDATORS]


def own_data_items(harness: Harness) -> list[CheckItem] | str:
    exports = _exports(harness)
    if not exports:
        return NONE_FOUND
    return [CheckItem(found.operation) for found in exports]


def _exports(harness: Harness) -> list[Any]:
    settings = harness.profile.export
    return find_exports(harness.catalogue, settings.operations, discover=settings.discover)


def _start_validator(harness: Harness) -> None:
    if harness.profile.export.java_validator:
        start_in_background()


@check("fhir_export_valid", title=INVALID_TITLE, severity=Severity.MEDIUM, items=export_items,
       prepare=_start_validator, prepare_variants=("hapi",))
def test_fhir_export_valid(operation: Operation, variant: str, ctx: CheckContext) -> None:
    caller = ctx.users[0]
    payload = _export_of(ctx, operation, caller).payload
    ctx.export = {"operation": operation.label, "validator": VALIDATORS[variant],
                  "profiles": fhir.claimed_profiles(payload),
                  "bundle_type": str(payload.get("type") or "") if payload.get("resourceType") == "Bundle" else ""}
    if variant == "hapi":
        issues = _hapi_issues(ctx, payload)
    else:
        issues = fhir.structure_issues(payload) + fhir.bundle_issues(payload, ctx.harness.profile.export.code_systems)
    errors = fhir.errors_of(issues)
    ctx.export.update(verdict="invalid" if errors else "valid", errors=len(errors),
                      warnings=sum(1 for issue in issues if issue.severity == fhir.WARNING),
                      first=[issue.to_dict() for issue in errors[:FIRST_ERRORS]])
    profiles = ctx.export["profiles"]
    ctx.note = (f"{VALIDATORS[variant]}: {len(errors)} error(s), {ctx.export['warnings']} warning(s); profiles "
                f"claimed in meta.profile: {', '.join(profiles) if profiles else 'none'}")
    if errors:
        raise Failure(INVALID_TITLE, f"{caller.key}'s export `{operation.label}` has {len(errors)} error(s) by "
                      f"{VALIDATORS[variant]}: {_first(errors)}", severity=Severity.MEDIUM)


def _first(errors: list[fhir.Issue]) -> str:
    """The first errors with their FHIRPath locations (the validators' own words, not translated)."""
    shown = "; ".join(f"{issue.location}: {issue.message}" for issue in errors[:5])
    return shown + (f" (+{len(errors) - 5})" if len(errors) > 5 else "")


def _hapi_issues(ctx: CheckContext, payload: dict[str, Any]) -> list[fhir.Issue]:
    if not ctx.harness.profile.export.java_validator:
        pytest.skip("the HAPI instance validator is switched off by the profile (export.java_validator: false)")
    validator = java_validator()
    why = validator.unavailable()
    if why:
        pytest.skip(f"the HAPI instance validator cannot run here: {why}")
    try:
        return validator.validate(payload)
    except ValidatorUnavailable as exc:
        raise CheckError(f"the HAPI instance validator failed: {exc}") from None


@check("fhir_export_own_data", title=FOREIGN_TITLE, severity=Severity.HIGH, items=own_data_items)
def test_fhir_export_own_data(operation: Operation, variant: str | None, ctx: CheckContext) -> None:
    if len(ctx.users) < 2:
        pytest.skip("the profile provisions one test user; another user's data needs two")
    people = [_person(ctx, user) for user in ctx.users]
    notes, missing = [], []
    for user, person in zip(ctx.users, people, strict=True):
        payload = _export_of(ctx, operation, user).payload
        verdict = fhir.judge_ownership(payload, person, [other for other in people if other is not person])
        if verdict.foreign:
            owner, what, where = verdict.foreign[0]
            raise Failure(FOREIGN_TITLE, f"{user.key}'s export `{operation.label}` holds {owner}'s {what} at {where}"
                          f" ({len(verdict.foreign)} value(s) of other users in all)", severity=Severity.HIGH)
        if len(verdict.patients) > 1:
            raise Failure(FOREIGN_TITLE, f"{user.key}'s export `{operation.label}` refers to {len(verdict.patients)} "
                          f"patients: {', '.join(verdict.patients[:5])}", severity=Severity.HIGH)
        if not verdict.own_canary_found:
            missing.append(user.key)
        notes.append(f"{user.key}: {len(verdict.patients)} patient(s)")
    ctx.note = (f"each user's export held no other test user's canary or identifier ({'; '.join(notes)})")
    seeded = {entry.owner for entry in ctx.harness.ledger.entries if not entry.deleted}
    if seeded and set(missing) >= seeded:
        raise Failure(NOT_OWN_TITLE, f"the export `{operation.label}` of {', '.join(missing)} holds none of the "
                      "objects the harness created for them (no canary of theirs in it)", severity=Severity.LOW)


def _person(ctx: CheckContext, user: TestUser) -> fhir.Person:
    identifiers = (user.sub, user.email, user.username, *(value for _name, value in user.path_ids))
    return fhir.Person(user.key, user.canary, tuple(value for value in identifiers if value))


# -- fetching an export, once per user and process ---------------------------------------------------------------
@dataclass(frozen=True)
class Export:
    payload: dict[str, Any]
    exchanges: tuple[Exchange, ...]


_fetched: dict[tuple[int, str, str], Export] = {}


def _export_of(ctx: CheckContext, op: Operation, user: TestUser) -> Export:
    """`user`'s export by `op` (fetched once per process; its exchanges join every item's evidence)."""
    key = (id(ctx.harness), op.label, user.key)
    if key not in _fetched:
        mark = len(ctx.exchanges)
        payload = _fetch(ctx, op, user)
        _fetched[key] = Export(payload, tuple(ctx.exchanges[mark:]))
    else:
        ctx.exchanges.extend(_fetched[key].exchanges)
    return _fetched[key]


def _fetch(ctx: CheckContext, op: Operation, user: TestUser) -> dict[str, Any]:
    bulk = "$export" in op.path

    def prefer_async(request: Any) -> Any:
        return request.with_headers(Prefer="respond-async", Accept="application/fhir+json") if bulk else request

    _request, response = ctx.baseline(op, user, shape=prefer_async)
    if response.status_code == 202:
        response = _poll(ctx, response, user)
    if "xml" in response.headers.get("content-type", "") and "json" not in response.headers.get("content-type", ""):
        pytest.skip(f"the export `{op.label}` answered FHIR XML; digasec validates the JSON form (ask for it with "
                    "Accept: application/fhir+json)")
    try:
        body = response.json()
    except ValueError:
        raise Failure(INVALID_TITLE, f"{user.key}'s export `{op.label}` answered {response.status_code} with a body "
                      "that is not JSON", severity=Severity.MEDIUM) from None
    urls = manifest_urls(body)
    if urls:
        return ndjson_bundle([_download(ctx, url, user).text for url in urls])
    if not isinstance(body, dict):
        raise Failure(INVALID_TITLE, f"{user.key}'s export `{op.label}` is not a FHIR resource (a JSON "
                      f"{type(body).__name__})", severity=Severity.MEDIUM)
    return body


def _poll(ctx: CheckContext, accepted: httpx.Response, user: TestUser) -> httpx.Response:
    """An asynchronous export: its status URL (Content-Location) polled until it stops answering 202."""
    location = accepted.headers.get("content-location")
    if not location:
        pytest.skip("the export answered 202 without a Content-Location to poll")
    deadline = time.monotonic() + ctx.harness.profile.export.poll_timeout_s
    while True:
        response = _download(ctx, location, user)
        if response.status_code != 202:
            return response
        if time.monotonic() > deadline:
            pytest.skip(f"the asynchronous export was not ready within export.poll_timeout_s "
                        f"({ctx.harness.profile.export.poll_timeout_s:g} s)")
        time.sleep(_retry_after(response))


def _download(ctx: CheckContext, url: str, user: TestUser) -> httpx.Response:
    """A GET of a URL the export named, as `user`: only on the target's own origin (nothing else is a target)."""
    base = ctx.harness.env.base_url
    absolute = urljoin(base.rstrip("/") + "/", url)
    if urlsplit(absolute)[:2] != urlsplit(base)[:2]:
        pytest.skip(f"the export points to {absolute}, which is not the target's origin {base}; digasec sends "
                    "nothing elsewhere")
    response, _exchange, _elapsed = ctx.send_url("GET", absolute, headers=ctx.credential_headers(user))
    if response.status_code >= 500:
        raise CheckError(f"GET {absolute} answered {response.status_code} while fetching the export")
    return response


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(5.0, max(POLL_PAUSE_S, float(response.headers.get("retry-after", POLL_PAUSE_S))))
    except ValueError:
        return POLL_PAUSE_S
