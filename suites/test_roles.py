"""Who may do what: function-level access by role, and privilege escalation through writable fields.

Roles come from the profile (`identity.roles`, least privileged first); which role an operation needs from the
profile (`identity.role_operations`), the OpenAPI document (security scopes, `x-roles` / `x-required-roles` /
`x-permissions`), privileged path segments (`/admin`, `/internal`, `/management`) and, for the rest, evidence: the
most privileged role's own request succeeded and a lower role's was refused (fixtures/api/access.py).

`function_level_access`: an operation that needs a role is called by the privileged user first (its own request
on an object it created itself is the baseline), then the same request by each lower role and anonymously. A
success of a lower role is a finding, proved like a cross-user write: the privileged user re-reads the object
(changed or gone), or the answer carries what only the role should see. Only objects the harness created are
touched; state-changing operations that address no such object are not called.

`mass_assignment`: a registration, a change of one's own account and a creation are sent once as they are and once
with fields the caller should not set (read-only fields, fields that only answers carry, and well-known privileged
names with privileged values). A finding when the stored object, read back, carries such a value where the plain
request's did not, or when the account can now call an operation its role could not. The accounts it changes or
creates are its own (registered for the item) and are removed afterwards.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from fixtures.api.access import (
    Requirement,
    RoleOrder,
    Seen,
    Source,
    learned_requirement,
    raw_operation,
    requirement_in,
    role_order,
)
from fixtures.api.catalogue import OWN_ACCOUNT_SEGMENTS
from fixtures.api.resources import norm
from fixtures.engine.checks import CheckError, CheckItem, DoesNotApply, Failure, Severity, check, not_applicable
from fixtures.engine.seeder import user_identifier

if TYPE_CHECKING:
    import httpx

    from fixtures.api.catalogue import Operation
    from fixtures.engine.context import CheckContext
    from fixtures.engine.harness import Harness
    from fixtures.engine.http import Request
    from fixtures.identity import TestUser

ANONYMOUS = "anonymous"
GONE = (404, 410)
# Well-known names of fields that grant privileges or name an owner (issue 16); compared without case/punctuation.
PRIVILEGED_FIELDS = ("role", "roles", "admin", "is_admin", "is_superuser", "is_staff", "permissions", "verified",
                     "owner_id", "user_id", "tenant_id")
OWNERSHIP_FIELDS = frozenset({"ownerid", "userid", "tenantid", "owner", "createdby"})
_serial = itertools.count(1)
_MARKER = "m"  # what replaces the `c` of a canary in a replayed write: `<canary>m<n>` marks the attack's values


# -- the access model (pure helpers; unit-tested in tests/unit/test_roles_logic.py) --------------------------------
def requirement_of(harness: Harness, op: Operation, order: RoleOrder) -> Requirement:
    return requirement_in(harness.catalogue.document, op.method, op.path, order, harness.profile.identity)


def own_account_path(op: Operation) -> bool:
    """A path about the caller's own account (`/me`, `/account`): every role has one; roles do not apply."""
    return bool(op.segments) and not op.path_params and norm(op.segments[-1]) in OWN_ACCOUNT_SEGMENTS


def caller_role(order: RoleOrder, requirement: Requirement) -> str:
    """The role whose user sends the baseline: the most privileged one that may call the operation."""
    allowed = [role for role in order.names if order.allows(role, requirement.role)]
    return allowed[-1] if allowed else order.most_privileged


def _least_allowed(order: RoleOrder, requirement: Requirement) -> str:
    return next((role for role in order.names if order.allows(role, requirement.role)), order.most_privileged)


def attacker_roles(order: RoleOrder, requirement: Requirement) -> list[str]:
    """Who tries the operation: the roles below its requirement and anonymous; for an operation without a known
    requirement, every role but the most privileged (what they are let do becomes evidence)."""
    if requirement.role is None:
        return [role for role in order.names if role != order.most_privileged]
    return [*order.below(requirement.role), ANONYMOUS]


def with_marker(body: Any, canary: str, serial: int) -> Any:
    """`body` with every value of the form `<canary>c<n>` (the generated values of the baseline) replaced by
    `<canary>m<serial>`: the same request, with values the privileged user's re-read can recognise as the attack's."""
    if body is None:
        return None
    text = json.dumps(body)
    return json.loads(re.sub(rf"{re.escape(canary)}c\d+", f"{canary}{_MARKER}{serial}", text))


def access_record(requirement: Requirement, seen: Mapping[str, Seen], order: RoleOrder) -> dict[str, Any]:
    """What the report's access matrix takes from an item (result record `access`)."""
    return {"roles": list(order.names), "requires": requirement.role, "source": requirement.source.name.lower(),
            "detail": requirement.detail, "seen": {role: value.value for role, value in seen.items()}}


def privileged_value(name: str, schema: Mapping[str, Any], order: RoleOrder, other_owner: str) -> Any:
    """The value that would grant a privilege (or another owner) through field `name`, shaped as its schema says."""
    key = norm(name)
    kind = schema.get("type")
    if key in OWNERSHIP_FIELDS:
        return int(other_owner) if kind == "integer" and other_owner.isdigit() else other_owner
    if kind == "boolean" or key in {"admin", "isadmin", "issuperuser", "isstaff", "verified"}:
        return True
    top = order.most_privileged
    enum = [value for value in schema.get("enum", []) if isinstance(value, str)]
    if enum:
        top = next((value for value in enum if value.lower() == top.lower()), enum[-1])
    if kind == "array" or key in {"roles", "permissions"}:
        return [top]
    return top


def carries(stored: Any, field: str, value: Any) -> bool:
    """Whether a re-read object holds `value` at `field` (top level, or one level down: `{"user": {...}}`)."""
    if not isinstance(stored, Mapping):
        return False
    candidates = [stored, *(item for item in stored.values() if isinstance(item, Mapping))]
    for node in candidates:
        for key, found in node.items():
            if norm(str(key)) != norm(field):
                continue
            if found == value or (isinstance(value, list) and isinstance(found, list) and set(map(str, value))
                                  <= set(map(str, found))):
                return True
            if isinstance(value, bool) and str(found).lower() == str(value).lower():
                return True
            if not isinstance(value, bool) and str(found) == str(value):
                return True
    return False


def injected_fields(op: Operation, response_schemas: list[Mapping[str, Any]], order: RoleOrder,
                    other_owner: str) -> dict[str, Any]:
    """The fields `mass_assignment` adds to `op`'s body: read-only properties of the request schema, properties only
    the answers carry that look like privileges or ownership, and the well-known privileged names."""
    request = (op.body_schema or {}).get("properties") or {}
    fields: dict[str, Any] = {}
    for name, schema in request.items():
        if isinstance(schema, Mapping) and schema.get("readOnly"):
            fields[name] = privileged_value(name, schema, order, other_owner)
    sent = {norm(name) for name in request}
    for response in response_schemas:
        for name, schema in (response.get("properties") or {}).items():
            if norm(name) in sent or name in fields or not isinstance(schema, Mapping):
                continue
            if looks_privileged(name) or schema.get("type") == "boolean":
                fields[name] = privileged_value(name, schema, order, other_owner)
    for name in PRIVILEGED_FIELDS:
        if norm(name) not in sent and not any(norm(known) == norm(name) for known in fields):
            fields[name] = privileged_value(name, request.get(name) or {}, order, other_owner)
    return fields


def looks_privileged(name: str) -> bool:
    key = norm(name)
    return any(word in key for word in ("role", "admin", "permission", "owner", "tenant", "verified", "staff",
                                        "superuser", "scope", "group", "createdby"))


# -- function_level_access -----------------------------------------------------------------------------------------
def function_level_items(harness: Harness) -> list[CheckItem] | DoesNotApply:
    """Operation x lower role (and anonymous) for every operation that needs a role, and operation x role for the
    authenticated operations whose requirement only evidence can tell. With a single role the check does not
    apply."""
    order = role_order(harness.profile)
    if len(order.names) < 2:
        return DoesNotApply("the profile names a single role (identity.roles), so no operation needs a role that "
                            "another test user lacks; name the roles of the API to test who may call what")
    items = []
    for op in harness.catalogue.operations:
        if not op.needs_auth or op.removes_account:
            continue
        requirement = requirement_of(harness, op, order)
        if requirement.source is Source.NONE and (op.user_params or own_account_path(op)):
            continue  # the caller's own things: every role has them (cross-user checks ask who else may)
        reason = untouchable(harness, op)
        items += [CheckItem(op, role, reason) for role in attacker_roles(order, requirement)]
    return items


def untouchable(harness: Harness, op: Operation) -> str | None:
    """Why a state-changing operation is not called: it addresses no object the harness creates (only those may be
    changed or deleted), or None."""
    if op.read_only or op.object_params:
        return None
    if op.method == "POST" and harness.seeder.model.produced_by(op) is not None:
        return None  # it creates objects: the harness deletes them again
    return (f"`{op.label}` changes state but addresses no object the harness created; function_level_access calls "
            "only operations that read, create, or change and delete objects of the harness's own")


@check(
    "function_level_access",
    title="A lower role (or nobody) can call an operation that needs a role",
    severity=Severity.HIGH,
    items=function_level_items,
)
def test_function_level_access(operation: Operation, variant: str, ctx: CheckContext) -> None:
    op = operation
    order = role_order(ctx.harness.profile)
    requirement = requirement_of(ctx.harness, op, order)
    role = caller_role(order, requirement)
    privileged = _role_user(ctx, role)
    seen: dict[str, Seen] = {}
    ctx.access = access_record(requirement, seen, order)
    request, baseline = ctx.baseline(op, privileged, fresh=bool(op.object_params), refused=True)
    if not ctx.succeeded(baseline):
        seen[role] = Seen.REFUSED
        ctx.access = access_record(requirement, seen, order)
        pytest.skip(f"baseline failed: {privileged.key} (role {role}) was refused `{op.label}` itself (HTTP "
                    f"{baseline.status_code}); a lower role's call counts only where the privileged role's succeeds")
    seen[role] = Seen.ALLOWED
    if requirement.source is Source.NONE:
        _learn(ctx, op, order, requirement, privileged, role, variant, request, seen)
        return
    attacker = None if variant == ANONYMOUS else _role_user(ctx, variant)
    who = ANONYMOUS if attacker is None else f"{attacker.key} (role {variant})"
    serial = next(_serial)
    attack = _attack_request(ctx, op, request, privileged, serial)
    response = ctx.send(attack, bearer=None if attacker is None else ctx.token(attacker), op=op, creator=privileged,
                        role="attack", actor=ANONYMOUS if attacker is None else attacker.key)
    if response.status_code >= 500:
        raise CheckError(f"`{op.label}` answered {response.status_code} to {who}: no verdict")
    allowed = ctx.succeeded(response)
    seen[variant] = Seen.ALLOWED if allowed else Seen.REFUSED
    ctx.access = access_record(requirement, seen, order)
    if not allowed:
        return
    severity, proof = _effect(ctx, op, attack, privileged, response, serial)
    raise Failure(
        "Operation that needs a role answers a lower role or an anonymous caller",
        f"{who} got HTTP {response.status_code} for `{op.label}`, which {requirement.describe()}; {proof}",
        severity=severity,
    )


def _learn(ctx: CheckContext, op: Operation, order: RoleOrder, requirement: Requirement, privileged: TestUser,
           role: str, lower_role: str, request: Request, seen: dict[str, Seen]) -> None:
    """An operation nothing declares a role for: the lower role's user sends its own request (on an object of its
    own). Refused where the privileged role was let in: the operation needs a role (learned from evidence, a pass).
    Let in: it needs none (does not apply). Where the lower role can have no object of its own (shared content),
    it tries the privileged user's object; a refusal there may be about ownership, so nothing is learned."""
    lower = _role_user(ctx, lower_role)
    who = f"{lower.key} (role {lower_role})"
    own = True
    try:
        _sent, response = ctx.baseline(op, lower, fresh=bool(op.object_params), refused=True)
    except pytest.skip.Exception:
        own = False
        response = ctx.send(_attack_request(ctx, op, request, privileged, next(_serial)), bearer=ctx.token(lower),
                            op=op, creator=privileged, role="attack", actor=lower.key)
        if response.status_code >= 500:
            raise CheckError(f"`{op.label}` answered {response.status_code} to {who}: no verdict") from None
    allowed = ctx.succeeded(response)
    seen[lower_role] = Seen.ALLOWED if allowed else Seen.REFUSED
    learned = learned_requirement(requirement, seen, order) if own else requirement
    ctx.access = access_record(learned, seen, order)
    if allowed:
        not_applicable(f"`{op.label}` needs no particular role: {who} was let in like {privileged.key} (role "
                       f"{role}); nothing declares a role for it (identity.role_operations, x-roles, scopes)")
    if not own:
        not_applicable(f"`{op.label}`: {who} was refused an object of {privileged.key} (role {role}); that may be "
                       "about ownership, not the role, and nothing declares a role for it")
    ctx.note = f"learned from the calls: `{op.label}` {learned.describe()}"


def _role_user(ctx: CheckContext, role: str) -> TestUser:
    names = ctx.harness.profile.identity.role_names
    users = ctx.harness.identity.users_of(role, names)
    if not users:
        pytest.skip(f"no user of role {role} in this run: give identity.roles an account (or token) for it")
    return users[0]


def _attack_request(ctx: CheckContext, op: Operation, baseline: Request, owner: TestUser, serial: int) -> Request:
    """The privileged user's request once more: on a fresh object of its own where the call changes state, with
    marked values in place of the generated ones, so that a re-read shows whether the attack's values arrived."""
    request = ctx.replay(op, baseline, owner) if op.object_params else baseline
    if op.read_only:
        return request
    return dataclasses.replace(request, json=with_marker(request.json, owner.canary, serial),
                               params={key: with_marker(value, owner.canary, serial)
                                       for key, value in request.params.items()})


def _effect(ctx: CheckContext, op: Operation, attack: Request, owner: TestUser, response: httpx.Response,
            serial: int) -> tuple[Severity, str]:
    """How the lower role's success shows: the severity and the proof (the owner's re-read where there is one)."""
    if op.read_only:
        return Severity.HIGH, "the answer is what the privileged role's own request got"
    reader = ctx.harness.catalogue.find("GET", op.path) if op.object_params else None
    if op.method == "POST" and not op.object_params:
        return Severity.HIGH, "it created an object (removed again by the harness)"
    if reader is None:
        return Severity.MEDIUM, f"the API claims success; no GET `{op.path}` lets the owner re-read the object"
    reread = ctx.send(dataclasses.replace(attack, method="GET", json=None, params={}, media_type=None),
                      bearer=ctx.token(owner), role="proof", actor=owner.key)
    if op.method == "DELETE":
        if reread.status_code in GONE:
            return Severity.HIGH, f"the object is gone: its owner {owner.key} now gets HTTP {reread.status_code}"
        return Severity.MEDIUM, f"the API claims success, but {owner.key} still reads the object"
    marker = f"{owner.canary}{_MARKER}{serial}"
    if reread.is_success and marker in reread.text:
        return Severity.HIGH, f"the object was changed: {owner.key}'s re-read shows the attack's values"
    return Severity.MEDIUM, f"the API claims success; {owner.key}'s re-read does not show the attack's values"


# -- mass_assignment -----------------------------------------------------------------------------------------------
def mass_assignment_items(harness: Harness) -> list[CheckItem]:
    """Registration (the identity source's own), changes of the caller's own account, and creations."""
    items = []
    registration = getattr(getattr(harness.profile.identity, "backend", None), "registration", None)
    for op in harness.catalogue.operations:
        if op.body_schema is None and op.label != registration:
            continue
        if op.label == registration:
            reason = None if harness.source.can("register") else (
                f"`{op.label}` registers accounts, but the identity source cannot make accounts of the check's own")
            items.append(CheckItem(op, "registration", reason))
        elif op.needs_auth and op.method in ("PUT", "PATCH") and own_account_path(op):
            items.append(CheckItem(op, "self_update"))
        elif op.needs_auth and op.method == "POST" and harness.seeder.model.produced_by(op) is not None:
            items.append(CheckItem(op, "create"))
    return items


@check(
    "mass_assignment",
    title="Privileged or ownership fields are accepted from the client",
    severity=Severity.HIGH,
    items=mass_assignment_items,
)
def test_mass_assignment(operation: Operation, variant: str, ctx: CheckContext) -> None:
    op = operation
    order = role_order(ctx.harness.profile)
    other = ctx.user("user2") or ctx.users[-1]
    fields = injected_fields(op, _response_schemas(ctx, op), order, user_identifier("user_id", other))
    reference: TestUser | None = None
    if variant == "registration":
        reference, actor = _register(ctx, {}), _register(ctx, fields)
        reader = _own_account_reader(ctx)
        before = _read_json(ctx, reader, reference)
        after = _read_json(ctx, reader, actor) if actor is not None else None
    elif variant == "self_update":
        reference, actor = _register(ctx, {}), _register(ctx, {})
        assert actor is not None  # without extra fields, a refused registration is a CheckError
        assert reference is not None
        reader = ctx.harness.catalogue.find("GET", op.path)
        ctx.baseline(op, reference)
        before = _read_json(ctx, reader, reference)
        sent = ctx.send(_plus(ctx.request_for(op, actor), fields), bearer=ctx.token(actor), role="attack",
                        actor=actor.key)
        _no_server_error(op, sent)
        after = _read_json(ctx, reader, actor) if ctx.succeeded(sent) else None
    else:  # a creation, by the least privileged role that may call it
        actor = _role_user(ctx, _least_allowed(order, requirement_of(ctx.harness, op, order)))
        before, after = _created_twice(ctx, op, actor, fields)
    sent_fields = ", ".join(sorted(fields))
    if actor is None:
        ctx.note = f"sent {sent_fields}; the registration with them was refused"
        return
    stored = [name for name, value in fields.items()
              if carries(after, name, value) and not carries(before, name, value)]
    gained = _gained_operations(ctx, _privileged_reads(ctx, order), actor, reference) if reference else []
    if not stored and not gained:
        ctx.note = f"sent {sent_fields}; none was stored, and no operation of a higher role opened up"
        return
    what = []
    if stored:
        what.append("the stored object now carries " + ", ".join(f"{name}={json.dumps(fields[name])}"
                                                               for name in stored))
    if gained:
        what.append(f"the account can now call {', '.join(gained)}, which an account of its role cannot")
    ownership = all(norm(name) in OWNERSHIP_FIELDS for name in stored) and not gained
    raise Failure(
        "Privileged or ownership fields are accepted from the client",
        f"`{op.label}` ({variant}) accepted fields the caller must not set: {'; '.join(what)}",
        severity=Severity.MEDIUM if ownership else Severity.HIGH,
    )


def _register(ctx: CheckContext, extra: dict[str, Any]) -> TestUser | None:
    """An account of the item's own (removed by the item's teardown), registered with `extra` fields; None when the
    registration with `extra` was refused."""
    from fixtures.errors import IdentityError

    source = ctx.harness.source
    key = f"ma{next(_serial)}x{secrets.token_hex(2)}"  # new per account: credentials are cached by username
    register_with = getattr(source, "register_with", None)
    try:
        user = register_with(key, extra) if register_with is not None and extra else source.create_account(key)
    except IdentityError as exc:
        if extra:
            return None
        raise CheckError(f"an account of the check's own could not be registered: {exc}") from None
    ctx.harness.redactor.add_secret(user.password, f"password:{user.key}")
    ctx.throwaways.append(user)
    return user


def _plus(request: Request, fields: Mapping[str, Any]) -> Request:
    body = request.json if isinstance(request.json, dict) else {}
    return dataclasses.replace(request, json={**body, **fields})


def _no_server_error(op: Operation, response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise CheckError(f"`{op.label}` answered {response.status_code} to the request with added fields")


def _read_json(ctx: CheckContext, reader: Operation | None, user: TestUser | None, path: str | None = None) -> Any:
    """`user`'s read of an object (`reader`, at `path`) as JSON; None when there is no reader or no success."""
    if reader is None or user is None:
        return None
    from fixtures.engine.http import Request

    response = ctx.send(Request("GET", path or reader.path), bearer=ctx.token(user), role="proof", actor=user.key)
    try:
        return response.json() if response.is_success else None
    except ValueError:
        return None


def _own_account_reader(ctx: CheckContext) -> Operation | None:
    return next((op for op in ctx.harness.catalogue.operations
                 if op.method == "GET" and op.needs_auth and own_account_path(op)), None)


def _created_twice(ctx: CheckContext, op: Operation, user: TestUser, fields: Mapping[str, Any]) -> tuple[Any, Any]:
    """Create one object as it is and one with the added fields; both read back by their creator."""
    plan = ctx.harness.seeder.model.produced_by(op)
    reader = ctx.harness.catalogue.find("GET", plan.path) if plan is not None else None
    results: list[Any] = []
    for extra in ({}, fields):
        request = ctx.request_for(op, user)
        response = ctx.send(_plus(request, extra) if extra else request, bearer=ctx.token(user), op=op, creator=user,
                            role="attack" if extra else "baseline", actor=user.key)
        _no_server_error(op, response)
        if not ctx.succeeded(response):
            if not extra:
                pytest.skip(f"baseline failed: {user.key}'s own `{op.label}` answered {response.status_code}")
            return results[0], None  # refused with the added fields: nothing stored
        entry = ctx.harness.created_here.entries[-1] if ctx.harness.created_here.entries else None
        stored: Any = _json(response)
        if reader is not None and plan is not None and entry is not None and entry.resource == plan.path:
            stored = _read_json(ctx, reader, user, ctx.path_for(reader, user, entry)) or stored
        results.append(stored)
    return results[0], results[1]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _response_schemas(ctx: CheckContext, op: Operation) -> list[Mapping[str, Any]]:
    """The 2xx answer schemas of `op` and of the GET on its path (the object as the API shows it), resolved."""
    document = ctx.harness.catalogue.document
    schemas: list[Mapping[str, Any]] = []
    for candidate in (op, ctx.harness.catalogue.find("GET", op.path)):
        if candidate is None:
            continue
        responses = raw_operation(document, candidate.method, candidate.path).get("responses") or {}
        for status, answer in responses.items():
            if not str(status).startswith("2"):
                continue
            for media in ((_resolve(answer, document).get("content") or {}).values()):
                schema = _resolve((media or {}).get("schema") or {}, document)
                if schema.get("properties"):
                    schemas.append(schema)
    return schemas


def _resolve(node: Any, document: Mapping[str, Any]) -> dict[str, Any]:
    """A local `$ref` followed (a few levels)."""
    for _depth in range(5):
        if not isinstance(node, Mapping) or "$ref" not in node:
            break
        target: Any = document
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        node = target
    return dict(node) if isinstance(node, Mapping) else {}


def _privileged_reads(ctx: CheckContext, order: RoleOrder) -> list[Operation]:
    """Reads that need a role above the least privileged one and address no object: after an escalation attempt,
    the account tries them (harmless, they change nothing)."""
    if len(order.names) < 2:
        return []
    return [op for op in ctx.harness.catalogue.operations
            if op.read_only and op.needs_auth and not op.path_params
            and (requirement := requirement_of(ctx.harness, op, order)).role is not None
            and not order.allows(order.names[0], requirement.role)]


def _gained_operations(ctx: CheckContext, reads: list[Operation], user: TestUser, reference: TestUser) -> list[str]:
    """Which of `reads` the account `user` may call now, where `reference` (an ordinary account of the same role)
    is refused."""
    if not reads:
        return []
    from fixtures.engine.http import Request

    gained = [read for read in reads if ctx.succeeded(
        ctx.send(Request("GET", read.path), bearer=ctx.token(user), role="proof", actor=user.key))]
    # an ordinary account of the role that gets it as well shows that the operation is open to the role anyway
    gained = [read for read in gained if not ctx.succeeded(
        ctx.send(Request("GET", read.path), bearer=ctx.token(reference), role="reference", actor=reference.key))]
    return [f"`{read.label}`" for read in gained]

