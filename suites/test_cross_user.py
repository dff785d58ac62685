"""Cross-user access: can one test user read, change or delete another's objects, find them in listings, tell them
apart from ids that do not exist, or guess their ids?

Ownership, not similarity: every object attacked here was created by the harness, with its owner's canary in its
free-text fields (fixtures/engine/seeder.py). An attack counts only where the owner's own request succeeded. Writes and
deletes attack fresh objects only; those are deleted again as soon as the check is done, so that a canary the
attacker planted in them does not turn up in later responses.

Attacker/victim pairs are variants named `attacker->victim` over the first three test users (the default); with
fewer users the pairs that need a missing user are skipped and say so. With roles (identity.roles), cross_user_read
also tries the user of each higher role on user1's objects (`therapist-1->user1`): the harness never relates the two
accounts, so user1's canary in its answer is a leak, unless the profile says the role sees every user's data.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import uuid
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from fixtures.analysis import compare
from fixtures.analysis.idanalysis import ChosenValue, ObservedId, analyse_ids, is_integer_typed, without_chosen
from fixtures.api.access import above_test_users, higher_role_users
from fixtures.api.catalogue import OWN_ACCOUNT_SEGMENTS, VictimField, victim_fields
from fixtures.api.datagen import SHORT_CANARY_LENGTH, OwnAccount, own_account, short_canary, with_current_password
from fixtures.api.resources import ObjectField, ResourceModel, build_model, norm, object_fields
from fixtures.engine.checks import (
    CheckError,
    CheckItem,
    Failure,
    Severity,
    check,
    needs_authentication,
    not_applicable,
)
from fixtures.engine.context import BaselineServerError, aimed_at, path_values, with_field
from fixtures.engine.context import response_shape as _shape
from fixtures.engine.http import Request
from fixtures.engine.public import changed_apart_from_counters, object_reason, public_in, shared_reason, without
from fixtures.engine.seeder import SeedError, fill_path, resource_prefixes, user_identifier
from fixtures.engine.seeder import path_values as param_values
from fixtures.identity.base import role_user_key

if TYPE_CHECKING:
    import httpx

    from fixtures.api.catalogue import Operation
    from fixtures.engine.context import CheckContext
    from fixtures.engine.harness import Harness
    from fixtures.engine.seeder import Ledger, LedgerEntry
    from fixtures.identity import TestUser

PAIR_USERS = ("user1", "user2", "user3")
MALFORMED_ID = "not-an-id'"
GONE = (404, 410)
VALIDATION_STATUSES = (400, 422)
COUNTER_KINDS = frozenset({"sequential_integer", "small_range_integer", "prefixed_counter"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_INTEGER = re.compile(r"^-?\d+$")


# -- pure helpers (unit-tested in tests/unit/test_cross_user_logic.py) ------------------------------------------
def ordered_pairs(keys: Sequence[str]) -> tuple[str, ...]:
    """`attacker->victim` for every ordered pair of users, grouped by victim: user2->user1, user3->user1, ..."""
    return tuple(f"{attacker}->{victim}" for victim in keys for attacker in keys if attacker != victim)


def parse_pair(variant: str) -> tuple[str, str]:
    attacker, _, victim = variant.partition("->")
    return attacker, victim


PAIRS = ordered_pairs(PAIR_USERS)
ROLE_VICTIM = PAIR_USERS[0]


def role_pairs(roles: Sequence[str]) -> tuple[str, ...]:
    """`<role user>->user1` for each of `roles` (higher roles whose user attacks the test users' objects)."""
    return tuple(f"{role_user_key(role, 1)}->{ROLE_VICTIM}" for role in roles)


def excerpt(text: str, needle: str, *, width: int = 40) -> str:
    """Where `needle` occurs in `text`, with `width` characters either side, on one line."""
    at = text.find(needle)
    if at < 0:
        return ""
    start, end = max(at - width, 0), min(at + len(needle) + width, len(text))
    snippet = text[start:end].replace("\r", " ").replace("\n", " ")
    return f"{'…' if start else ''}{snippet}{'…' if end < len(text) else ''}"


def contains_value(text: str, value: str) -> bool:
    """Whether `value` occurs in `text` as a whole (`user1` is not in `user10`)."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", text) is not None


def foreign_canaries(text: str, canaries: Mapping[str, str], reader: str) -> dict[str, str]:
    """The users (key -> canary) other than `reader` whose canary occurs in `text`."""
    return {owner: canary for owner, canary in canaries.items() if owner != reader and canary in text}


def unused_id_like(value: str, known: Collection[str], *, rng: random.Random) -> str:
    """An id of the same shape as `value` that is none of the `known` ids: a fresh UUIDv4 for a UUID, a much
    larger number for an integer, otherwise each letter or digit replaced by one of the same kind."""
    for _attempt in range(50):
        candidate = _same_shape(value, known, rng)
        if candidate != value and candidate not in known:
            return candidate
    raise ValueError(f"cannot make an unused id of the shape of {value!r}")


def _same_shape(value: str, known: Collection[str], rng: random.Random) -> str:
    if _UUID.match(value):
        fresh = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return fresh.upper() if value.isupper() else fresh
    if _INTEGER.match(value):
        numbers = [int(item) for item in (*known, value) if _INTEGER.match(item)]
        candidate = str(max(numbers) + 1_000_000 + rng.randrange(1_000_000))
        return candidate.zfill(len(value)) if value.startswith("0") and len(value) > 1 else candidate
    hex_only = all(character in "0123456789abcdef" for character in value.lower() if character.isalnum())
    lower = "0123456789abcdef"[10:] if hex_only else "abcdefghijklmnopqrstuvwxyz"
    characters = []
    for character in value:
        if character.isdigit():
            characters.append(rng.choice("0123456789"))
        elif character.islower():
            characters.append(rng.choice(lower))
        elif character.isupper():
            characters.append(rng.choice(lower.upper()))
        else:
            characters.append(character)
    return "".join(characters)


def declared_violation(value: str, schema: Mapping[str, Any]) -> str | None:
    """How `value` breaks what the spec declares for a parameter (type, format, pattern, length, enum), if it does.

    A validation error to such a value is the spec's own, public rule: it tells nothing about other users' objects.
    """
    if is_integer_typed(schema) and not _INTEGER.match(value):
        return "the spec types the parameter as integer"
    if schema.get("format") == "uuid" and not _UUID.match(value):
        return "the spec declares format uuid"
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            if re.search(pattern, value) is None:
                return f"the spec's pattern {pattern!r} does not match it"
        except re.error:
            pass
    if isinstance(schema.get("maxLength"), int) and len(value) > schema["maxLength"]:
        return f"the spec allows at most {schema['maxLength']} characters"
    if isinstance(schema.get("minLength"), int) and len(value) < schema["minLength"]:
        return f"the spec needs at least {schema['minLength']} characters"
    if isinstance(schema.get("enum"), list) and value not in [str(item) for item in schema["enum"]]:
        return "the spec lists the allowed values (enum)"
    return None


def merge_masks(first: compare.DynamicMask, second: compare.DynamicMask) -> compare.DynamicMask:
    """What is dynamic in either of two requests' samples, to compare their answers with each other."""
    return compare.DynamicMask(
        json_paths=first.json_paths | second.json_paths,
        optional_json_paths=first.optional_json_paths | second.optional_json_paths,
        text_template=first.text_template if first.text_template is not None else second.text_template,
        optional_headers=first.optional_headers | second.optional_headers,
        optional_cookies=first.optional_cookies | second.optional_cookies,
        dynamic_header_values=first.dynamic_header_values | second.dynamic_header_values,
        statuses=first.statuses | second.statuses,
    )


def id_param_of(resource: str) -> str:
    """The parameter an item path ends in: /orders/{order_id} -> order_id."""
    return resource.rpartition("/")[2].strip("{}")


def harness_choices(users: Iterable[TestUser]) -> list[ChosenValue]:
    """What the test users' accounts hold that was chosen by the client side, not assigned by the server: usernames,
    e-mail addresses, names and canaries (`sub`, the server's id of a user, is not among them)."""
    chosen = []
    for user in users:
        chosen += [ChosenValue(user.username, "username"), ChosenValue(user.email, "e-mail address"),
                   ChosenValue(user.first_name, "name"), ChosenValue(user.last_name, "name"),
                   ChosenValue(user.canary, "canary"), ChosenValue(user.phone, "phone number")]
    return [item for item in chosen if item.value.strip()]


_CHOSEN_PLURALS = {"username": "usernames", "e-mail address": "e-mail addresses", "name": "names",
                   "phone number": "phone numbers",
                   "canary": "values made from its canaries"}
HARNESS_REGISTERS = frozenset({"keycloak_admin", "backend_api"})
"""Identity sources whose test accounts the harness registers itself (it picks their usernames and e-mails)."""


def chosen_ids_reason(param: str, dropped: Sequence[tuple[ObservedId, ChosenValue]], *, harness_made: bool) -> str:
    """Why ids that are the harness's own choices are not judged: `the ids of `{username}` are usernames the harness
    chose itself`."""
    kinds = list(dict.fromkeys(_CHOSEN_PLURALS.get(chosen.what, chosen.what) for _, chosen in dropped))
    who = ("the harness chose itself" if harness_made or all(c.what == "canary" for _, c in dropped)
           else "that came with the test accounts (named in the profile or the tokens), not assigned by the server")
    return f"the ids of `{{{param}}}` are {' and '.join(kinds)} {who}"


# -- victims named in the body or the query ----------------------------------------------------------------------
FIELD_MARK = ":"  # a variant `body.username:user2->user1`: user2 names user1 in the body field `username`
CREDENTIAL_ATTRIBUTES = {"password": "password", "email": "email", "username": "username", "phone": "phone"}
_CURRENT_WORDS = re.compile(r"(current|old|existing|previous|prev)", re.IGNORECASE)
KIND_WORDS = {"username": "username", "email": "e-mail address", "id": "user id", "phone": "phone number"}


def field_variants(op: Operation, pairs: Sequence[str] = PAIRS) -> tuple[str, ...]:
    """`<location>.<field>:<attacker>-><victim>` for every field of `op` that names a user, and every pair."""
    return tuple(f"{field.label}{FIELD_MARK}{pair}" for field in victim_fields(op) for pair in pairs)


def named_objects(op: Operation, model: ResourceModel) -> list[ObjectField]:
    """The fields of `op` that name an object of `model` (those that name a user are the user's, not the object's)."""
    return object_fields(op, model, skip=[field.name for field in victim_fields(op)])


def object_variants(op: Operation, model: ResourceModel, pairs: Sequence[str] = PAIRS) -> tuple[str, ...]:
    """`<location>.<field>:<attacker>-><victim>` for every field of `op` that names an object the model knows."""
    return tuple(f"{field.label}{FIELD_MARK}{pair}" for field in named_objects(op, model) for pair in pairs)


def split_variant(variant: str) -> tuple[str | None, str]:
    """`body.username:user2->user1` -> (`body.username`, `user2->user1`); `user2->user1` -> (None, `user2->user1`)."""
    named, mark, pair = variant.rpartition(FIELD_MARK)
    return (named, pair) if mark else (None, variant)


def cross_user_items(
    in_scope: Callable[[Operation], bool], precondition: Callable[[Operation], str | None], kind: str,
    *, higher_roles: bool = False,
) -> Callable[[Harness], list[CheckItem]]:
    """The items of a cross-user check: every ordered pair for each operation whose path names an object or a user
    (`in_scope`), and for each body field or query parameter that names a user (a `body.username:...` variant) of
    the operations of the same `kind` (read, write, delete) whose path names neither and that need a credential
    (the attacker's credential is what the item is about: a public login's `username` names no victim), and for each
    one that names an object the resource model knows (a `query.note_id:...` variant). With `higher_roles`, the
    user of each higher role (`higher_role_users`) attacks user1 as well, on the operations in scope."""
    def items(harness: Harness) -> list[CheckItem]:
        model = build_model(harness.catalogue, harness.profile.recipes)
        pairs = PAIRS + (role_pairs(higher_role_users(harness.profile)) if higher_roles else ())
        found = []
        for op in harness.catalogue.operations:
            if in_scope(op):
                reason = precondition(op)
                found += [CheckItem(op, pair, reason) for pair in pairs]
            elif _kind_of(op) == kind and op.needs_auth:  # a public sign-up's `username` is no victim
                found += [CheckItem(op, variant) for variant in field_variants(op)]
                found += [CheckItem(op, variant) for variant in object_variants(op, model)]
        return found

    return items


def _kind_of(op: Operation) -> str:
    return "read" if op.read_only else "delete" if op.method == "DELETE" else "write"


def element_with(payload: Any, value: str) -> Any:
    """The innermost JSON object in `payload` that holds `value` as one of its own field values (the entry of a list
    or a parent's answer that is the object with this key), or None."""
    if isinstance(payload, dict):
        for item in payload.values():
            inner = element_with(item, value)
            if inner is not None:
                return inner
        if any(isinstance(item, str | int) and not isinstance(item, bool) and str(item) == value
               for item in payload.values()):
            return payload
    elif isinstance(payload, list):
        for item in payload:
            inner = element_with(item, value)
            if inner is not None:
                return inner
    return None


def credential_changes(body: Any, account: OwnAccount, sender: TestUser, owner: TestUser) -> dict[str, str]:
    """What of `owner`'s login a request body of `sender`'s would set to `sender`'s own values, were it applied to
    `owner`'s account: role (password, email, username, phone) -> the new value. Current-password fields confirm,
    they set nothing."""
    if not isinstance(body, dict):
        return {}
    changes = {}
    for name, value in body.items():
        role = account.role_of(name, {}) if isinstance(value, str) else None
        if role not in CREDENTIAL_ATTRIBUTES or (role == "password" and _CURRENT_WORDS.search(name)):
            continue
        attribute = CREDENTIAL_ATTRIBUTES[role]
        if value == getattr(sender, attribute) and value != getattr(owner, attribute):
            changes[role] = value
    return changes


# -- scopes ------------------------------------------------------------------------------------------------------
def reads_objects(op: Operation) -> bool:
    """Read-only operations that name an object or a user in the path."""
    return op.read_only and bool(op.object_params or op.user_params)


def writes_objects(op: Operation) -> bool:
    """PUT, PATCH and POST (and other changing methods but DELETE) that name an object or a user in the path."""
    return not op.read_only and op.method != "DELETE" and bool(op.object_params or op.user_params)


def deletes_objects(op: Operation) -> bool:
    return op.method == "DELETE" and bool(op.object_params or op.user_params)


def reads_items(op: Operation) -> bool:
    return op.method in ("GET", "HEAD") and op.is_item


def names_ids(op: Operation) -> bool:
    """One GET per item path, and the GETs of user-scoped paths (the user ids the API exposes)."""
    return op.method == "GET" and (op.is_item or (op.is_user_scoped and not op.object_params))


def deletes_objects_not_accounts(op: Operation) -> str | None:
    """Deleting another user's account is attempted only on accounts of the check's own (CheckContext.actor_for):
    operations the catalogue recognises as removing an account. Other user-scoped deletions are not attempted."""
    reason = needs_authentication(op)
    if reason is None and not op.object_params and not op.removes_account:
        return (
            f"`{op.label}` deletes a user ({', '.join(f'`{{{name}}}`' for name in op.user_params)}), not an object: "
            "deleting another test user's account would break the run's other checks, so it is not attempted"
        )
    return reason


# -- checks ------------------------------------------------------------------------------------------------------
# Listings run first in a sequential run: they must see only what the owners themselves put into their objects.
@check(
    "cross_user_listing",
    title="Response to user B contains user A's data",
    severity=Severity.HIGH,
    in_scope=lambda op: op.read_only,
)
def test_cross_user_listing(operation: Operation, ctx: CheckContext) -> None:
    canaries = {user.key: user.canary for user in ctx.users}
    leaks, statuses, answered, publics = [], [], False, []
    for user in ctx.users:
        request = ctx.request_for(operation, user)
        response = ctx.send(request, bearer=ctx.token(user), role="attack", actor=user.key)
        _no_server_error(response, operation, request.path, f"as {user.key}")
        statuses.append(f"{user.key}: {response.status_code}")
        answered = answered or ctx.succeeded(response)
        text = _full_text(response)
        found = _foreign_in(ctx, text, user, canaries)
        if found:  # objects that everyone may read (public by design, or shared by the profile) are no leak
            public = public_in(ctx, response.text)
            found = _foreign_in(ctx, without(text, public), user, canaries) if public else found
            if public and not found:
                why = "; ".join(sorted(set(public.values())))
                publics.append(f"{user.key} sees other users' public objects ({why})")
        if found:
            seen = ", ".join(f"{owner}'s {what} in `{excerpt(text, canary, width=30)}`" for owner, (canary, what) in
                             found.items())
            leaks.append(f"the response to {user.key} (`{request.method} {request.path}`, {response.status_code}) "
                         f"holds {seen}")
    if leaks:
        raise Failure("Response to user B contains user A's data", f"`{operation.label}`: " + "; ".join(leaks),
                      severity=Severity.HIGH)
    if not answered:
        pytest.skip(
            f"baseline failed: no user's own valid request to `{operation.label}` succeeded ({', '.join(statuses)}); "
            "a response that carries no data cannot show a leak"
        )
    if publics:
        ctx.note = "not a leak: " + "; ".join(publics)


def _foreign_in(ctx: CheckContext, text: str, user: TestUser,
                canaries: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Other users' canaries in `text` (owner -> (canary, what)); a field with a small maxLength carries the short
    form of a canary."""
    found = {owner: (canary, "canary") for owner, canary in foreign_canaries(text, canaries, user.key).items()}
    created = _created(ctx)
    # every short form has SHORT_CANARY_LENGTH characters: look the text's pieces of that length up, instead of
    # searching the text for each of the forms (their number grows with the objects created)
    pieces = {text[at:at + SHORT_CANARY_LENGTH] for at in range(len(text) - SHORT_CANARY_LENGTH + 1)}
    for other in ctx.users:
        forms, positions = created.short_forms(other)
        hits = [positions[piece] for piece in pieces if piece in positions]
        short = forms[min(hits)][0] if hits else None  # the first form in the list that occurs, as before
        if other.key != user.key and other.key not in found and short is not None:
            found[other.key] = (short, f"short canary ({SHORT_CANARY_LENGTH} characters, 40 random bits)")
    return found


@check(
    "cross_user_read",
    title="User B can read user A's object",
    severity=Severity.HIGH,
    items=cross_user_items(reads_objects, needs_authentication, "read", higher_roles=True),
)
def test_cross_user_read(operation: Operation, variant: str, ctx: CheckContext) -> None:
    named, variant = split_variant(variant)
    if named:  # the victim is named in the body or the query, not in the path
        field = _named_field(ctx, operation, named)
        if isinstance(field, ObjectField):
            _object_read(ctx, operation, field, variant)
        else:
            _named_read(ctx, operation, field, variant)
        return
    if parse_pair(variant)[0] not in PAIR_USERS:
        _read_as_higher_role(ctx, operation, variant)
        return
    attacker, victim = _pair(ctx, variant)
    higher = above_test_users(ctx.harness.profile, ctx.harness.catalogue.document, operation)
    request, baseline = ctx.baseline(operation, victim, refused=higher is not None)
    if higher is not None and not ctx.succeeded(baseline):  # let in: a missing role check, and the pair applies
        not_applicable(f"`{operation.label}` {higher.describe()}, which the cross-user test users lack ({victim.key} "
                       f"was refused: {baseline.status_code}); the users of the higher roles try it on user1's data "
                       "(variants `<role>-1->user1`), function_level_access tests who may call it")
    # the owner reads once more before the attack: what differs between its two reads (counters, last_seen) is masked
    again = ctx.send(request, bearer=ctx.token(victim), role="reference", actor=victim.key)
    _no_server_error(again, operation, request.path, f"as its owner {victim.key}")
    reads = [baseline, again] if ctx.succeeded(again) and again.status_code == baseline.status_code else [baseline]
    # B's own request, for B's own object, succeeded; the attack is that very request aimed at A's object
    own_request, own = ctx.baseline(operation, attacker)
    attack = aimed_at(own_request, operation.path, request.path)
    response = ctx.send(attack, bearer=ctx.token(attacker), role="attack", actor=attacker.key)
    _no_server_error(response, operation, request.path, f"as {attacker.key}")
    _judge_read(ctx, operation, f"{attacker.key} requested {victim.key}'s `{request.path}`", response,
                lambda: _read_proof(ctx, operation, attack, reads, response, (own_request, own), attacker, victim),
                lambda: _public_read(ctx, operation, request, reads, (own_request, own), attacker, victim),
                victim)


def _judge_read(ctx: CheckContext, op: Operation, who: str, response: httpx.Response,
                proof_of: Callable[[], str | None], public_of: Callable[[], str | None], victim: TestUser) -> None:
    """The verdict on B's answer to a read aimed at A's object (`who` says what B sent): a finding with its proof
    (`proof_of`), a note why what B read is public by design (`public_of`, asked only when there is a proof), or a
    note that B got nothing of A's."""
    if not response.is_success:
        ctx.note = f"{who} and got {response.status_code}"
        return
    refusal = ctx.refused_in_body(response)
    proof = proof_of()
    if proof and refusal:
        proof = f"{proof}, although its body says the request was refused ({refusal})"
    public = public_of() if proof else None
    if proof and public:
        ctx.note = f"{who} and got {response.status_code}; not a finding: {public}"
        return
    if proof:
        raise Failure("User B can read user A's object",
                      f"`{op.label}`: {who} with its own token and got `{response.status_code} "
                      f"{response.reason_phrase}` {proof}", severity=Severity.HIGH)
    if refusal:
        ctx.note = (f"{who} and got {response.status_code}, but its body says the request was refused ({refusal}) "
                    f"and it shows nothing of {victim.key}'s")
        return
    ctx.note = (f"{who} and got {response.status_code}, but the answer shows nothing of {victim.key}'s: no canary, "
                f"no identifier, not {victim.key}'s own answer")


def _read_as_higher_role(ctx: CheckContext, op: Operation, variant: str) -> None:
    """The user of a higher role requests user1's object (or user1's data, where the path names the user). The
    operation may be one user1 cannot call itself (a therapist's view of a patient), so there is no owner's read to
    compare with: only user1's canary counts, which the answer can only hold if it is user1's data."""
    attacker_key, victim_key = parse_pair(variant)
    role_users = ctx.harness.identity.role_users.values()
    attacker = next((user for users in role_users for user in users if user.key == attacker_key), None)
    victim = ctx.user(victim_key)
    if attacker is None or victim is None:
        pytest.skip(f"no user {attacker_key if attacker is None else victim_key} in this run: the pair {variant} "
                    "needs it")
    shared = shared_reason(ctx.harness.profile, op.path)
    if shared:
        not_applicable(f"`{op.label}`: {shared}")
    path = ctx.target_path(op, victim, fresh=False)
    response = ctx.send(ctx.request_at(op, attacker, path), bearer=ctx.token(attacker), role="attack",
                        actor=attacker.key)
    _no_server_error(response, op, path, f"as {attacker.key}")
    if response.status_code in (401, *VALIDATION_STATUSES):
        pytest.skip(f"{attacker.key}'s request for {victim.key}'s `{path}` answered {response.status_code}: its "
                    "credential or the request was not accepted, so the answer says nothing about access")
    if not ctx.succeeded(response):
        ctx.note = f"{attacker.key} was refused {victim.key}'s `{path}` ({response.status_code})"
        return
    text = _full_text(response)
    public = public_in(ctx, response.text)  # objects everyone may read carry their owner's canary by design
    unshared = without(text, public) if public else text
    found = next((canary for canary, _short in owner_canaries(victim.canary, _object_canaries(ctx, victim))
                  if canary in unshared), None)
    if found is None:
        ctx.note = (f"{attacker.key} got {response.status_code} for {victim.key}'s `{path}`, but the answer holds no "
                    f"canary of {victim.key}'s")
        return
    raise Failure(
        "User B can read user A's object",
        f"`{op.label}`: {attacker.key} (a role above {victim.key}'s) requested {victim.key}'s `{path}` and got "
        f"`{response.status_code} {response.reason_phrase}` containing {victim.key}'s canary: "
        f"`{excerpt(text, found)}`. The harness never related the two accounts (no care relationship, team or "
        "assignment), so the role reads the data of users it has nothing to do with; if it may by design, set "
        "sees_all_users for the role (identity.roles)",
        severity=Severity.HIGH,
    )


@check(
    "cross_user_write",
    title="User B can change user A's object",
    severity=Severity.HIGH,
    items=cross_user_items(writes_objects, needs_authentication, "write"),
)
def test_cross_user_write(operation: Operation, variant: str, ctx: CheckContext) -> None:
    named, variant = split_variant(variant)
    if named:  # the victim is named in the body or the query, not in the path
        field = _named_field(ctx, operation, named)
        if isinstance(field, ObjectField):
            _object_change(ctx, operation, field, variant, delete=False)
        else:
            _named_write(ctx, operation, field, variant)
        return
    attacker, victim = _pair(ctx, variant)
    if operation.removes_account:  # e.g. POST /users/{user_id}/deactivate: accounts of the check's own
        _attack_account(ctx, operation, attacker, victim)
        return
    if _child_under_public_parent(ctx, operation, attacker, victim):
        return
    if ctx.harness.catalogue.find("GET", operation.path) is None:  # proof by a list, a parent or a login
        _write_proved_elsewhere(ctx, operation, attacker, victim)
        return
    reader = _state_reader(ctx, operation, "change")
    mark = ctx.created_mark()
    baseline: Request | None = None
    try:
        baseline, _ = ctx.baseline(operation, victim)
        path = baseline.path
        before = [_owner_read(ctx, reader, victim, path) for _ in range(2)]
        _require_readable(ctx, before, reader, victim, path, "after their own write")
        attacks = [_attack_write(ctx, operation, attacker, path)]
        after = _owner_read(ctx, reader, victim, path)
        _judge_write(ctx, operation, attacker, victim, path, before, attacks, after)
    finally:
        if baseline is not None and not operation.object_params:
            _restore(ctx, baseline, victim, attacker)  # a user-scoped resource: put the owner's own state back
        ctx.discard_since(mark)


@check(
    "cross_user_delete",
    title="User B can delete user A's object",
    severity=Severity.HIGH,
    items=cross_user_items(deletes_objects, deletes_objects_not_accounts, "delete"),
)
def test_cross_user_delete(operation: Operation, variant: str, ctx: CheckContext) -> None:
    named, variant = split_variant(variant)
    if named and isinstance(field := _named_field(ctx, operation, named), ObjectField):
        _object_change(ctx, operation, field, variant, delete=True)
        return
    if named:
        pytest.skip(f"`{operation.label}` names a user in `{named}`: deleting what it names could remove another "
                    "test user's seeded data, which later checks need, and no proof restores it; not attempted")
    attacker, victim = _pair(ctx, variant)
    if operation.removes_account:  # e.g. DELETE /users/{user_id}: accounts of the check's own
        _attack_account(ctx, operation, attacker, victim)
        return
    if ctx.harness.catalogue.find("GET", operation.path) is None:  # proof by a list or a parent
        _delete_proved_elsewhere(ctx, operation, attacker, victim)
        return
    reader = _state_reader(ctx, operation, "delete")
    mark = ctx.created_mark()
    try:
        own_request, _ = ctx.baseline(operation, attacker)  # B can delete an object of its own with this request
        entry = ctx.object_for(operation, victim, fresh=True)
        path = ctx.path_for(operation, victim, entry)
        before = _owner_read(ctx, reader, victim, path)
        _require_readable(ctx, [before], reader, victim, path, "before the attack")
        response = ctx.send(aimed_at(own_request, operation.path, path), bearer=ctx.token(attacker), role="attack",
                            actor=attacker.key)
        after = _owner_read(ctx, reader, victim, path)
        who = f"{attacker.key} sent `DELETE {path}` ({victim.key}'s object) and got `{response.status_code}`"
        after_refusal = ctx.refused_in_body(after)
        if after.status_code in GONE or after_refusal:
            answered = f"{after.status_code}" + (f", refused in the body: {after_refusal}" if after_refusal else "")
            raise Failure(
                "User B can delete user A's object",
                f"`{operation.label}`: {who}; {victim.key}'s re-read `{reader.method} {path}` then answered "
                f"{answered} (before: {before.status_code}, a success): the object is gone",
                severity=Severity.HIGH,
            )
        if not after.is_success:
            raise CheckError(f"{victim.key}'s re-read of `{path}` answered {after.status_code} after {who}: "
                             "cannot tell whether the object still exists")
        _no_server_error(response, operation, path, f"as {attacker.key}")
        _leak_in_refusal(ctx, operation, response, before, attacker, victim, path)
        if ctx.succeeded(response):
            raise Failure(
                "API claims success for deleting another user's object",
                f"`{operation.label}`: {who}, a success, but {victim.key}'s re-read still finds the object "
                f"({after.status_code})",
                severity=Severity.MEDIUM,
            )
    finally:
        ctx.discard_since(mark)


@check(
    "existence_oracle",
    title="Responses reveal whether another user's object exists",
    severity=Severity.MEDIUM,
    in_scope=reads_items,
    precondition=needs_authentication,
)
def test_existence_oracle(operation: Operation, ctx: CheckContext) -> None:
    victim, attacker = ctx.users[0], ctx.users[1]
    ctx.baseline(operation, victim)
    resource = resource_prefixes(operation)[-1]
    id_param = id_param_of(resource)
    entry = ctx.object_for(operation, victim, fresh=False)
    if entry is None:
        pytest.skip(f"`{operation.label}` names no object of {victim.key}")
    foreign = entry.params[id_param]
    params = {**_user_params(operation, victim), **entry.params}
    known = {e.object_id for e in (*ctx.harness.ledger.entries, *ctx.harness.created_here.entries)
             if e.resource == resource}
    rng = random.Random(zlib.crc32(f"{operation.label}|{foreign}".encode()))
    cases = {"non-existent id": unused_id_like(foreign, known, rng=rng)}
    deleted, why_not = _deleted_id(ctx, resource, victim)
    if deleted is not None:
        cases["deleted id"] = deleted
    notes = [] if deleted is not None else [f"no deleted id compared: {why_not}"]
    cases["malformed id"] = MALFORMED_ID if foreign != MALFORMED_ID else f"{MALFORMED_ID}!"

    asked = ctx.request_at(operation, attacker, fill_path(operation.path, {**params, id_param: foreign}))

    def ask(value: str) -> httpx.Response:  # one request, only the id differs
        path = fill_path(operation.path, {**params, id_param: value})
        response = ctx.send(aimed_at(asked, operation.path, path), bearer=ctx.token(attacker), role="attack",
                            actor=attacker.key)
        _no_server_error(response, operation, path, f"as {attacker.key}")
        return response

    first = ask(foreign)
    if ctx.succeeded(first):  # a 2xx that says "refused" in its body is compared like any other refusal
        pytest.skip(f"{attacker.key} can read {victim.key}'s object (see cross_user_read); existence is not the "
                    "question")
    unknown_first = ask(cases["non-existent id"])
    # samples of the same two requests show what changes by itself; the other cases are compared last
    foreign_again, unknown_again = ask(foreign), ask(cases["non-existent id"])
    answers = {"non-existent id": unknown_again}
    answers.update({label: ask(value) for label, value in cases.items() if label != "non-existent id"})
    mask = merge_masks(
        compare.learn_dynamic([_shape(first), _shape(foreign_again)], mask_literals=[foreign]),
        compare.learn_dynamic([_shape(unknown_first), _shape(unknown_again)], mask_literals=[cases["non-existent id"]]),
    )
    reference = mask.apply(_shape(foreign_again), mask_literals=[foreign])
    parameter = operation.parameter(id_param)
    findings = []
    for label, answer in answers.items():
        differences = compare.diff_responses(reference, mask.apply(_shape(answer), mask_literals=[cases[label]]))
        if not differences:
            continue
        violation = declared_violation(cases[label], parameter.schema) if parameter is not None else None
        if label == "malformed id" and answer.status_code in VALIDATION_STATUSES and violation:
            # the spec's own validation rule is public knowledge: it tells nothing about other users' objects
            notes.append(f"the malformed id `{cases[label]}` got {answer.status_code}, not counted: {violation}")
            continue
        findings.append(f"foreign id → {foreign_again.status_code} vs {label} → {answer.status_code} "
                        f"({'; '.join(differences)})")
    ctx.note = "; ".join(notes)
    if findings:
        raise Failure(
            "Responses reveal whether another user's object exists",
            f"`{operation.label}` as {attacker.key}: {victim.key}'s id `{foreign}` can be told apart: "
            + " | ".join(findings),
            severity=Severity.MEDIUM,
        )


@check(
    "enumerable_id",
    title="Ids are guessable",
    severity=Severity.MEDIUM,
    in_scope=names_ids,
)
def test_enumerable_id(operation: Operation, ctx: CheckContext) -> None:
    if operation.object_params:
        resource = resource_prefixes(operation)[-1]
        param = id_param_of(resource)
        entries = [entry for entry in ctx.harness.ledger.entries if entry.resource == resource]
        if not entries:
            reason = ctx.harness.ledger.failures.get(resource) or ctx.harness.seeder.skip_reason(resource)
            pytest.skip(reason or f"no object of `{resource}` was seeded, so no id of `{{{param}}}` was seen")
        observed = [ObservedId(entry.object_id, entry.owner) for entry in entries]
        what, title = f"`{{{param}}}` of `{resource}` (in creation order)", "Object ids are guessable"
        sources: list[tuple[TestUser | None, LedgerEntry | None]] = [(ctx.user(e.owner), e) for e in entries]
    else:
        param = operation.user_params[-1]
        observed = [ObservedId(user_identifier(param, user), user.key) for user in ctx.users]
        what, title = f"user ids `{{{param}}}` of the test users", "User ids are guessable"
        sources = [(user, None) for user in ctx.users]
    identity = ctx.harness.identity
    everyone = [*identity.users, *getattr(identity, "spare_users", [])]
    judged, dropped = without_chosen(observed, harness_choices(everyone))
    excluded = ""
    if dropped:
        harness_made = getattr(identity, "provider", "") in HARNESS_REGISTERS
        reason = chosen_ids_reason(param, dropped, harness_made=harness_made)
        if not judged:
            pytest.skip(f"{reason}; nothing to judge")
        excluded = f"; not judged: {len(dropped)} of {len(observed)} ids, {reason}"
    # evidence for a finding: the first three judged objects (or users), each read by its owner
    shown = [source for source, item in zip(sources, observed, strict=True) if item in judged][:3]
    parameter = operation.parameter(param)
    typed = parameter is not None and is_integer_typed(parameter.schema)
    typing = f"; the spec types `{{{param}}}` as integer" if typed else ""
    verdict = analyse_ids(judged)
    ctx.note = excluded.removeprefix("; ")
    if verdict.kind == "insufficient":
        pytest.skip(f"cannot judge {what}: {verdict.message}{typing}{excluded}")
    if not verdict.enumerable:
        ctx.note = f"{verdict.message}{excluded}"  # e.g. what a UUIDv7 reveals: when, not which
        return
    for user, entry in shown:
        if user is not None:
            ctx.send(ctx.request_at(operation, user, ctx.path_for(operation, user, entry)), bearer=ctx.token(user),
                     role="reference", actor=user.key)
    severity = Severity.HIGH if verdict.kind in COUNTER_KINDS or typed else Severity.MEDIUM
    raise Failure(title, f"{what}: {verdict.message}{typing}{excluded}", severity=severity)


# -- helpers that talk to the target -----------------------------------------------------------------------------
def _pair(ctx: CheckContext, variant: str) -> tuple[TestUser, TestUser]:
    attacker_key, victim_key = parse_pair(variant)
    attacker, victim = ctx.user(attacker_key), ctx.user(victim_key)
    if attacker is None or victim is None:
        missing = attacker_key if attacker is None else victim_key
        pytest.skip(f"the profile provisions {len(ctx.users)} test users, the pair {variant} needs {missing}: "
                    f"set identity.users to {len(PAIR_USERS)} to attack every pair")
    return attacker, victim


def _user_params(op: Operation, user: TestUser) -> dict[str, str]:
    return {name: user_identifier(name, user) for name in op.user_params}


def _no_server_error(response: httpx.Response, op: Operation, path: str, how: str) -> None:
    if response.status_code >= 500:
        raise CheckError(f"`{op.method} {path}` {how} answered {response.status_code}: no verdict possible")


def _full_text(response: httpx.Response) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return f"{headers}\n\n{response.text}"


def _read_proof(ctx: CheckContext, op: Operation, request: Request, owner_reads: Sequence[httpx.Response],
                response: httpx.Response, attackers: tuple[Request, httpx.Response], attacker: TestUser,
                victim: TestUser) -> str | None:
    """Why the attacker's 2xx shows the victim's object: a canary (or its short form), an identifier or the owner's
    very answer. `owner_reads`: the victim's reads before the attack (what differs between them is masked before
    bodies are compared); `attackers`: the attacker's own request for its own object and its answer."""
    text = _full_text(response)
    for canary, short in owner_canaries(victim.canary, _object_canaries(ctx, victim)):
        if canary in text:
            what = (f"short canary `{canary}` ({SHORT_CANARY_LENGTH} characters, 40 random bits: planted where a "
                    "field's maxLength has no room for the whole canary)") if short else "canary"
            return f"containing {victim.key}'s {what}: `{excerpt(text, canary)}`"
    asked = f"{request.path} {request.params} {request.json}"
    for label, value in (("e-mail address", victim.email), ("username", victim.username), ("user id", victim.sub)):
        if value and not contains_value(asked, value) and contains_value(text, value):
            return f"containing {victim.key}'s {label}: `{excerpt(text, value)}`"
    own_request, own = attackers
    baseline = owner_reads[0]
    literals = path_values(op.path, request.path)
    mask = compare.owner_mask([_shape(read) for read in owner_reads], mask_literals=literals)
    owner_specific = own.status_code != baseline.status_code or not compare.same_body(
        mask, _shape(own), _shape(baseline), first_literals=path_values(op.path, own_request.path),
        second_literals=literals)
    if owner_specific and compare.same_body(mask, _shape(response), _shape(baseline), first_literals=literals,
                                            second_literals=literals):
        compared = "normalised, without what differs between its own reads" if not mask.is_empty else "normalised"
        return (f"with the same body as {victim.key}'s own answer ({baseline.status_code}, {compared}), which "
                f"differs from what {attacker.key} gets for its own `{own_request.path}` ({own.status_code})")
    return None


def _public_read(ctx: CheckContext, op: Operation, request: Request, owner_reads: Sequence[httpx.Response],
                 attackers: tuple[Request, httpx.Response], attacker: TestUser, victim: TestUser) -> str | None:
    """Why what the attacker read is public by design, or None: the profile shares it (`shared:`), or the owner's
    own request, sent once more without any credential, shows the owner's object as well (an object the harness
    created: the path names one of the ledger's)."""
    shared = shared_reason(ctx.harness.profile, op.path)
    if shared:
        return shared
    if not op.object_params or not _names_created_object(ctx, request.path):
        return None
    anonymous = ctx.send(request, bearer=None, role="reference", actor="anonymous")
    if not ctx.succeeded(anonymous):
        return None
    if _read_proof(ctx, op, request, owner_reads, anonymous, attackers, attacker, victim) is None:
        return None
    return (f"{victim.key}'s own `{request.method} {request.path}` answers anonymous callers with the same object "
            f"({anonymous.status_code} without credentials): public by design")


def _names_created_object(ctx: CheckContext, path: str) -> bool:
    """Whether a concrete path lies under an object the harness created (`/articles/7/comments` under `/articles/7`)."""
    created = _created(ctx)
    return path in created.paths or any(path[:at] in created.trimmed for at, char in enumerate(path) if char == "/")


def owner_canaries(canary: str, object_canaries: Iterable[str] = ()) -> list[tuple[str, bool]]:
    """What a response is searched for to find a user's data: its canary, and the short forms (`True`) of it and of
    the canaries of its objects (a field with a small maxLength carries the short form: fixtures/api/datagen.py)."""
    found = [(canary, False), (short_canary(canary), True)]
    found += [(short_canary(other), True) for other in object_canaries if other and other != canary]
    return list(dict.fromkeys(found))


def _object_canaries(ctx: CheckContext, user: TestUser) -> list[str]:
    """The canaries of the objects created for `user` (seeded, and created in this process)."""
    return list(_created(ctx).canaries_by_owner.get(user.key, []))


class _Created:
    """What the cross-user checks look up among the objects the harness created (seeded, and created in this
    process), derived once for as long as neither ledger grows: each response searched used to walk them all, which
    made a scan quadratic in the API's size."""

    def __init__(self, entries: Sequence[LedgerEntry]) -> None:
        self.paths = {entry.path for entry in entries}
        self.trimmed = {entry.path.rstrip("/") for entry in entries}
        self.canaries_by_owner: dict[str, list[str]] = {}
        for entry in entries:
            if entry.canary:
                self.canaries_by_owner.setdefault(entry.owner, []).append(entry.canary)
        self._short: dict[tuple[str, str], tuple[list[tuple[str, bool]], dict[str, int]]] = {}

    def short_forms(self, user: TestUser) -> tuple[list[tuple[str, bool]], dict[str, int]]:
        """`owner_canaries` of `user` and its objects, and where each short form first appears in that list."""
        key = (user.key, user.canary)
        if key not in self._short:
            forms = owner_canaries(user.canary, self.canaries_by_owner.get(user.key, []))
            positions: dict[str, int] = {}
            for position, (form, is_short) in enumerate(forms):
                if is_short:
                    positions.setdefault(form, position)
            self._short[key] = forms, positions
        return self._short[key]


_CREATED: list[tuple[Ledger, Ledger, int, int, _Created]] = []  # the last run's ledgers, their sizes, the index


def _created(ctx: CheckContext) -> _Created:
    ledger, here = ctx.harness.ledger, ctx.harness.created_here
    if _CREATED:
        last_ledger, last_here, size, size_here, created = _CREATED[0]
        # both ledgers only ever append: the same ones at the same sizes hold the same entries
        if last_ledger is ledger and last_here is here and (size, size_here) == (len(ledger.entries),
                                                                             len(here.entries)):
            return created
    created = _Created((*ledger.entries, *here.entries))
    _CREATED[:] = [(ledger, here, len(ledger.entries), len(here.entries), created)]
    return created


def _state_reader(ctx: CheckContext, op: Operation, what: str) -> Operation:
    reader = ctx.harness.catalogue.find("GET", op.path)
    if reader is None:
        pytest.skip(
            f"the spec has no `GET {op.path}`, so the owner cannot re-read the object after the attempted {what}: "
            "without that state proof no verdict is possible"
        )
    return reader


def _owner_read(ctx: CheckContext, reader: Operation, owner: TestUser, path: str) -> httpx.Response:
    response = ctx.send(ctx.request_at(reader, owner, path), bearer=ctx.token(owner), role="proof", actor=owner.key)
    _no_server_error(response, reader, path, f"as its owner {owner.key}")
    return response


def _require_readable(ctx: CheckContext, reads: list[httpx.Response], reader: Operation, owner: TestUser, path: str,
                      when: str) -> None:
    for read in reads:
        refusal = ctx.refused_in_body(read)
        if not read.is_success or refusal:
            answered = f"{read.status_code}" + (f", refused in the body: {refusal}" if refusal else "")
            pytest.skip(
                f"baseline failed: {owner.key}'s own `{reader.method} {path}` {when} answered {answered}; without "
                "the owner's read there is no state proof"
            )


def _leak_in_refusal(ctx: CheckContext, op: Operation, response: httpx.Response, owners_read: httpx.Response,
                     attacker: TestUser, victim: TestUser, path: str) -> None:
    """A 2xx that says "refused" in its body is a refusal, unless it carries the victim's data (its canary, or
    distinctive values of the victim's own read of the object): then it is a leak whatever its status field says."""
    refusal = ctx.refused_in_body(response)
    if refusal is None:
        return
    leak = compare.owner_data_in(_full_text(response), canaries=[victim.canary], owner_body=owners_read.text,
                                 owner_content_type=owners_read.headers.get("content-type", ""), asked=path)
    if leak is not None:
        raise Failure("Response to user B contains user A's data",
                      f"`{op.label}`: {attacker.key} sent `{op.method} {path}` ({victim.key}'s object) and got "
                      f"`{response.status_code}`; the body says it refused ({refusal}), but it carries {victim.key}'s "
                      f"data: {leak}", severity=Severity.HIGH)
    ctx.note = (f"{attacker.key}'s `{op.method} {path}` answered {response.status_code}, but its body says the request "
                f"was refused: {refusal}")


def _attack_account(ctx: CheckContext, op: Operation, attacker_user: TestUser, victim_user: TestUser) -> None:
    """B removes A's account (`DELETE /users/{user_id}`, `POST /users/{user_id}/deactivate`): A and B are throwaway
    accounts of the check's own, never test users. The owner's baseline removes an account of its own first; the
    state proof is whether A can still log in afterwards."""
    owner = ctx.actor_for(op, victim_user)
    own_request, _ = ctx.baseline(op, owner)  # the owner can remove its own account (this throwaway account is gone)
    victim = ctx.actor_for(op, victim_user)
    attacker = ctx.actor_for(op, attacker_user)
    if not ctx.can_log_in(victim):
        raise CheckError(f"the throwaway account {victim.username} cannot log in right after its creation")
    path = ctx.path_for(op, victim, None)
    # the request that removed the owner's account, aimed at the victim's; where it carries the sender's own account
    # values (a password to confirm), the attacker's take their place
    swaps = {getattr(owner, name): getattr(attacker, name) for name in ("username", "email", "password")}
    response = ctx.send(aimed_at(own_request, op.path, path, swaps), bearer=ctx.token(attacker), role="attack",
                        actor=attacker.key)
    _no_server_error(response, op, path, f"as {attacker.key} ({attacker_user.key}'s stand-in)")
    who = (f"{attacker.key} (a throwaway account standing in for {attacker_user.key}) sent `{op.method} {path}` for "
           f"the account of {victim.key} (standing in for {victim_user.key}) and got `{response.status_code}`")
    if not ctx.can_log_in(victim):
        raise Failure("User B can delete user A's account",
                      f"`{op.label}`: {who}; {victim.key} can no longer log in: the account is gone or disabled",
                      severity=Severity.HIGH)
    if ctx.succeeded(response):
        raise Failure("API claims success for deleting another user's account",
                      f"`{op.label}`: {who}, a success, but {victim.key} can still log in", severity=Severity.MEDIUM)
    refusal = ctx.refused_in_body(response)
    ctx.note = f"{who}; {victim.key} can still log in" + (f" (refused in the body: {refusal})" if refusal else "")


def _attack_write(ctx: CheckContext, op: Operation, attacker: TestUser, path: str) -> httpx.Response:
    """The attacker's own request that succeeded for an object of its own (its baseline: the full body, or the
    required-only one where the full one was refused), sent once more, unchanged but for the target: the victim's
    `path`. A refusal of it is a refusal of the target, never of a malformed body."""
    own_request, _ = ctx.baseline(op, attacker)
    return ctx.send(aimed_at(own_request, op.path, path), bearer=ctx.token(attacker), op=op, creator=attacker,
                    role="attack", actor=attacker.key)


def _judge_write(ctx: CheckContext, op: Operation, attacker: TestUser, victim: TestUser, path: str,
                 before: list[httpx.Response], attacks: list[httpx.Response], after: httpx.Response) -> None:
    statuses = ", then ".join(f"`{response.status_code}`" for response in attacks)
    who = f"{attacker.key} sent `{op.method} {path}` ({victim.key}'s object) with its own data and got {statuses}"
    after_refusal = ctx.refused_in_body(after)
    if after.status_code in GONE or after_refusal:
        answered = f"{after.status_code}" + (f", refused in the body: {after_refusal}" if after_refusal else "")
        raise Failure("User B can change user A's object",
                      f"`{op.label}`: {who}; {victim.key}'s re-read then answered {answered} (before: a success): "
                      "the object is gone", severity=Severity.HIGH)
    if not after.is_success:
        raise CheckError(f"{victim.key}'s re-read of `{path}` answered {after.status_code} after {who}: cannot tell "
                         "whether the object changed")
    text = _full_text(after)
    for canary, short in owner_canaries(attacker.canary):
        if canary in text:
            what = f"short canary `{canary}`" if short else "canary"
            raise Failure("User B can change user A's object",
                          f"`{op.label}`: {who}; {victim.key}'s re-read now contains {attacker.key}'s {what}: "
                          f"`{excerpt(text, canary)}`", severity=Severity.HIGH)
    mask = compare.learn_dynamic([_shape(read) for read in before])
    differences = compare.diff_responses(mask.apply(_shape(before[-1])), mask.apply(_shape(after)))
    if differences:
        raise Failure("User B can change user A's object",
                      f"`{op.label}`: {who}; {victim.key}'s re-read differs from before: {'; '.join(differences)}",
                      severity=Severity.HIGH)
    for response in attacks:
        _no_server_error(response, op, path, f"as {attacker.key}")
    for response in attacks:
        _leak_in_refusal(ctx, op, response, before[-1], attacker, victim, path)
    if any(ctx.succeeded(response) for response in attacks):
        raise Failure("API claims success for a change to another user's object",
                      f"`{op.label}`: {who}, a success, but {victim.key}'s re-read shows the object unchanged",
                      severity=Severity.MEDIUM)


def parent_template(op: Operation) -> str | None:
    """For a POST that creates a child in a collection under an item (`POST /articles/{id}/comments`): the parent
    item path (`/articles/{id}`); otherwise None."""
    parent = op.path.rstrip("/").rpartition("/")[0]
    if op.method != "POST" or op.is_item or not op.object_params or not parent.endswith("}"):
        return None
    return parent


def _child_under_public_parent(ctx: CheckContext, op: Operation, attacker: TestUser, victim: TestUser) -> bool:
    """B creates its own child (a comment, a like) under A's object. Under a public object (anyone may read it) that
    is an interaction, not a cross-user write, as long as A's object is unchanged apart from counters: then the item
    passes with that note (True). Under a private object the usual write check runs (False)."""
    template = parent_template(op)
    reader = ctx.harness.catalogue.find("GET", template) if template else None
    if reader is None or ctx.harness.seeder.excluded(reader):
        return False
    mark = ctx.created_mark()
    try:
        entry = ctx.object_for(op, victim, fresh=True)
        if entry is None or entry.resource != reader.path:
            return False
        reason = object_reason(ctx, entry)
        if reason is None:
            return False
        before = [_owner_read(ctx, reader, victim, entry.path) for _ in range(2)]
        _require_readable(ctx, before, reader, victim, entry.path, "before the attack")
        path = ctx.path_for(op, victim, entry)
        attack = _attack_write(ctx, op, attacker, path)
        _no_server_error(attack, op, path, f"as {attacker.key}")
        after = _owner_read(ctx, reader, victim, entry.path)
        who = (f"{attacker.key} sent `{op.method} {path}` (a child of {victim.key}'s public `{entry.path}`) and got "
               f"`{attack.status_code}`")
        if not after.is_success:
            raise Failure("User B can change user A's object",
                          f"`{op.label}`: {who}; {victim.key}'s re-read of `{entry.path}` then answered "
                          f"{after.status_code} (before: a success)", severity=Severity.HIGH)
        changes = changed_apart_from_counters([read.text for read in before], after.text)
        if changes:
            raise Failure("User B can change user A's object",
                          f"`{op.label}`: {who}; {victim.key}'s `{entry.path}` changed beyond its counters: "
                          + "; ".join(changes[:5]), severity=Severity.HIGH)
        ctx.note = (f"{who}: its own object under another user's public object ({reason}); the parent is unchanged "
                    "apart from counters: an interaction, not a cross-user write")
        return True
    finally:
        ctx.discard_since(mark)


def _restore(ctx: CheckContext, request: Request, owner: TestUser, attacker: TestUser) -> None:
    """Send the owner's own request again (its account fields hold the owner's own values, so its login stays as it
    was). Where the attack set the owner's password to the attacker's, a request that names the current password
    needs the attacker's: tried once more with it."""
    response = ctx.send_quietly(request, owner)
    if response is not None and ctx.succeeded(response):
        return
    body = with_current_password(request.json, attacker.password, own_account(owner, ctx.harness.profile))
    if body is not None:
        ctx.send_quietly(dataclasses.replace(request, json=body), owner)


def _deleted_id(ctx: CheckContext, resource: str, owner: TestUser) -> tuple[str | None, str]:
    """The id of an object `owner` created and then deleted, or None and why the API does not allow that."""
    deleter = ctx.harness.catalogue.find("DELETE", resource)
    if deleter is None:
        return None, f"the spec has no `DELETE {resource}`"
    try:
        entry = ctx.harness.seeder.create(resource, owner, ctx.harness.created_here)
    except SeedError as exc:
        return None, str(exc)
    response = ctx.send(ctx.request_at(deleter, owner, entry.path), bearer=ctx.token(owner), role="reference",
                        actor=owner.key)
    if not ctx.succeeded(response):
        refusal = ctx.refused_in_body(response)
        return None, (f"{owner.key}'s own `DELETE {entry.path}` answered {response.status_code}"
                      + (f", refused in the body: {refusal}" if refusal else ""))
    entry.deleted = True
    return entry.object_id, ""


# -- victims named in the body or the query: the flows ----------------------------------------------------------
log = logging.getLogger("digasec")


def _named_field(ctx: CheckContext, op: Operation, label: str) -> VictimField | ObjectField:
    """The field of a `body.<field>:...` variant: one that names a user, or one that names an object."""
    fields: list[VictimField | ObjectField] = [*victim_fields(op), *named_objects(op, ctx.harness.seeder.model)]
    field = next((field for field in fields if field.label == label), None)
    if field is None:
        raise CheckError(f"`{op.label}` has no field `{label}` that names a user or an object")
    return field


def _naming(field: VictimField, user: TestUser, kind: str) -> str:
    """The value by which `field` names `user`, where it names users by `kind`."""
    if kind == "email":
        return user.email
    if kind == "phone":
        return user.phone
    if kind == "id":
        return user_identifier("user_id", user)
    return user.username


def _named_baseline(ctx: CheckContext, op: Operation, user: TestUser, field: VictimField,
                    kinds: Sequence[str]) -> tuple[Request, httpx.Response, str]:
    """`user`'s own request with its own name in `field`, succeeded: by the first of `kinds` (username, e-mail
    address, user id, ...) with which it does. A 5xx to it is a skip with that reason, never a verdict."""
    tried = []
    for kind in kinds:
        value = _naming(field, user, kind)
        if not value:
            tried.append(f"{user.key} has no {KIND_WORDS[kind]}")
            continue
        try:
            request, response = ctx.baseline(op, user, shape=_namer(field, value))
        except BaselineServerError as exc:
            tried.append(f"with its {KIND_WORDS[kind]}: {exc}")
            continue
        except pytest.skip.Exception as exc:
            if ctx.lost is not None or ctx.harness.health.lost_reason():
                raise
            tried.append(f"with its {KIND_WORDS[kind]}: {exc.msg}")
            continue
        return request, response, kind
    pytest.skip(f"baseline failed: {user.key}'s own `{op.label}` naming itself in `{field.label}` did not succeed "
                f"({'; '.join(tried)}); an attack counts only where the baseline succeeds")


def _namer(field: VictimField | ObjectField, value: str) -> Callable[[Request], Request]:
    return lambda request: with_field(request, field, value)


def _with_credentials(user: TestUser, changes: Mapping[str, str]) -> TestUser:
    """`user` with the login values a check changed (role -> new value)."""
    return dataclasses.replace(user, password=changes.get("password", user.password),
                               email=changes.get("email", user.email),
                               username=changes.get("username", user.username), phone=changes.get("phone", user.phone))


def _named_read(ctx: CheckContext, op: Operation, field: VictimField, pair: str) -> None:
    attacker, victim = _pair(ctx, pair)
    request, baseline, kind = _named_baseline(ctx, op, victim, field, field.kinds)
    again = ctx.send(request, bearer=ctx.token(victim), role="reference", actor=victim.key)
    _no_server_error(again, op, request.path, f"as {victim.key}, naming itself in `{field.label}`")
    reads = [baseline, again] if ctx.succeeded(again) and again.status_code == baseline.status_code else [baseline]
    own_request, own, _ = _named_baseline(ctx, op, attacker, field, (kind,))
    attack = with_field(own_request, field, _naming(field, victim, kind))
    response = ctx.send(attack, bearer=ctx.token(attacker), role="attack", actor=attacker.key)
    who = f"{attacker.key} sent `{op.label}` naming {victim.key} (its {KIND_WORDS[kind]}) in `{field.label}`"
    _no_server_error(response, op, attack.path, f"as {attacker.key}, naming {victim.key} in `{field.label}`")
    _judge_read(ctx, op, who, response,
                lambda: _read_proof(ctx, op, attack, reads, response, (own_request, own), attacker, victim),
                lambda: shared_reason(ctx.harness.profile, op.path), victim)


def _account_readers(ctx: CheckContext, op: Operation, field: VictimField) -> list[Operation]:
    """Reads that show a user's own account or data: GETs whose path names no object and either nothing at all
    (the operation's own path, `/me`, `/profile`, ...) or only the user, or that take the same field in the query."""
    readers = []
    for reader in ctx.harness.catalogue.operations:
        if reader.method != "GET" or reader.object_params or not reader.needs_auth:
            continue
        own = not reader.path_params and (
            reader.path.rstrip("/") == op.path.rstrip("/")
            or (bool(reader.segments) and norm(reader.segments[-1]) in OWN_ACCOUNT_SEGMENTS))
        same_field = any(p.location == "query" and p.name == field.name for p in reader.parameters)
        if own or bool(reader.user_params) or same_field:
            readers.append(reader)
    return readers


def _read_account(ctx: CheckContext, reader: Operation, user: TestUser, field: VictimField | None,
                  value: str) -> httpx.Response:
    request = ctx.request_at(reader, user, ctx.path_for(reader, user, None))
    if field is not None and reader.parameter(field.name, "query") is not None:
        request = with_field(request, VictimField("query", field.name, field.schema), value)
    response = ctx.send(request, bearer=ctx.token(user), role="proof", actor=user.key)
    _no_server_error(response, reader, request.path, f"as {user.key}")
    return response


def _named_write(ctx: CheckContext, op: Operation, field: VictimField, pair: str) -> None:
    """B's own request that succeeded with its own name in the field, sent with A's name there. Proof: A's own reads
    of its account (and of reads that take the same field) show B's canary afterwards, or A's login changed."""
    attacker, victim = _pair(ctx, pair)
    readers = _account_readers(ctx, op, field)
    mark = ctx.created_mark()
    mine: Request | None = None
    theirs: Request | None = None
    changes: dict[str, str] = {}
    try:
        mine, _, kind = _named_baseline(ctx, op, victim, field, field.kinds)
        value = _naming(field, victim, kind)
        before = {reader.label: _read_account(ctx, reader, victim, field, value) for reader in readers}
        before = {label: read for label, read in before.items() if ctx.succeeded(read)}
        theirs, _, _ = _named_baseline(ctx, op, attacker, field, (kind,))
        attack = with_field(theirs, field, value)
        account = own_account(attacker, ctx.harness.profile)
        changes = {role: new for role, new in credential_changes(attack.json, account, attacker, victim).items()
                   if role in ctx.login_values()}
        if not before and not changes:
            pytest.skip(f"no state proof for `{op.label}` naming a user in `{field.label}`: no read of the spec shows "
                        f"{victim.key}'s account ({', '.join(r.label for r in readers) or 'none found'}: a GET of "
                        "`/me`, `/profile`, the same path, a user path or one taking the same field), and the request "
                        "changes no value the harness logs in with")
        response = ctx.send(attack, bearer=ctx.token(attacker), op=op, creator=attacker, role="attack",
                            actor=attacker.key)
        who = (f"{attacker.key} sent `{op.label}` naming {victim.key} (its {KIND_WORDS[kind]}) in `{field.label}` "
               f"and got `{response.status_code}`")
        if changes:
            _judge_login(ctx, op, who, attacker, victim, changes)
        for label, earlier in before.items():
            reader = next(r for r in readers if r.label == label)
            later = _read_account(ctx, reader, victim, field, value)
            _judge_canary(op, who, attacker, victim, label, _full_text(earlier), _full_text(later))
        _no_server_error(response, op, attack.path, f"as {attacker.key}")
        shown = ", ".join(f"`{label}`" for label in before) or "login"
        ctx.note = f"{who}; {victim.key}'s own reads ({shown}) show nothing of {attacker.key}'s afterwards"
    finally:
        _restore_named(ctx, op, victim, mine, attacker, theirs, changes)
        ctx.discard_since(mark)


def _judge_canary(op: Operation, who: str, attacker: TestUser, victim: TestUser, where: str, before: str,
                  after: str) -> None:
    for canary, short in owner_canaries(attacker.canary):
        if canary in after and canary not in before:
            what = f"short canary `{canary}`" if short else "canary"
            raise Failure("User B can change user A's object",
                          f"`{op.label}`: {who}; {victim.key}'s own `{where}` now contains {attacker.key}'s {what}: "
                          f"`{excerpt(after, canary)}`", severity=Severity.HIGH)


def _judge_login(ctx: CheckContext, op: Operation, who: str, attacker: TestUser, victim: TestUser,
                 changes: Mapping[str, str]) -> None:
    """The state proof of a changed credential: the owner's own login first (where nothing changed, no failed login
    is spent on a test user), then the login with the values the attacker sent."""
    ctx.harness.tokens.forget(victim)
    if ctx.fresh_login(victim) is not None:
        return
    what = " and ".join(KIND_WORDS.get(role, role) for role in changes)
    if ctx.fresh_login(_with_credentials(victim, changes)) is not None:
        raise Failure("User B can change user A's object",
                      f"`{op.label}`: {who}; {victim.key} can no longer log in with its own credentials, but with the "
                      f"{what} {attacker.key} sent: the account is taken over", severity=Severity.HIGH)
    raise Failure("User B can change user A's object",
                  f"`{op.label}`: {who}; {victim.key} can no longer log in (neither with its own credentials nor with "
                  f"the {what} {attacker.key} sent)", severity=Severity.HIGH)


def _restore_login(ctx: CheckContext, victim: TestUser, changes: Mapping[str, str], request: Request) -> None:
    """Give `victim` its own credentials back after an attack that may have changed them: log in with what the
    attacker set and send the victim's own request (its own values) once more. What cannot be restored is logged;
    the run's health check then stops items that would need the lost credential."""
    tokens = ctx.harness.tokens
    tokens.forget(victim)
    if not changes or ctx.fresh_login(victim) is not None:
        return
    token = ctx.fresh_login(_with_credentials(victim, changes))
    if token is not None:
        account = own_account(victim, ctx.harness.profile)
        body = with_current_password(request.json, changes.get("password", ""), account) or request.json
        ctx.harness.client.send(dataclasses.replace(request, json=body), bearer=token)
    tokens.forget(victim)
    if ctx.fresh_login(victim) is None:
        log.warning("%s could not be given its own credentials back after a cross-user attack changed them",
                    victim.key)


def _restore_named(ctx: CheckContext, op: Operation, victim: TestUser, mine: Request | None, attacker: TestUser,
                   theirs: Request | None, changes: Mapping[str, str]) -> None:
    """Both users' own requests once more (their own names and values): the victim's state, and the attacker's where
    the attack changed its own account instead."""
    if mine is not None:
        _restore_login(ctx, victim, changes, mine)
        ctx.send_quietly(mine, victim)
    if theirs is not None:
        ctx.send_quietly(theirs, attacker)


# -- state proof without a GET on the same path -----------------------------------------------------------------
def _views(ctx: CheckContext, op: Operation, path: str) -> list[tuple[Operation, str, str | None]]:
    """Other reads that show what `path` (a concrete path of `op`) addresses: (reader, its concrete path, the key to
    find the object by in its answer). An object: its collection's GET (a list) and its parent's GET; a user path
    (`/users/{username}/password`): the GETs of the path's prefixes."""
    params = param_values(op.path, path)
    found: list[tuple[Operation, str, str | None]] = []
    prefixes = resource_prefixes(op)
    if prefixes:
        resource = ctx.harness.seeder.model.get(prefixes[-1])
        key = params.get(id_param_of(prefixes[-1]))
        candidates = list(resource.readers) if resource is not None else []
        if resource is not None and resource.parent is not None:
            parent = ctx.harness.seeder.model.get(resource.parent)
            candidates += [r for r in (parent.readers if parent else ()) if r.path == resource.parent]
        for reader in candidates:
            if reader.path != op.path and reader.method == "GET":
                found.append((reader, fill_path(reader.path, params), key))
        return found
    segments = op.path.rstrip("/").split("/")
    for end in range(len(segments) - 1, 1, -1):
        prefix = ctx.harness.catalogue.find("GET", "/".join(segments[:end]))
        if prefix is not None and not prefix.object_params:
            found.append((prefix, fill_path(prefix.path, params), None))
    return found


def _view_of(ctx: CheckContext, reader: Operation, owner: TestUser, path: str, key: str | None) -> tuple[bool, str]:
    """The owner's read through another operation: (whether it shows the object, the text of what shows it)."""
    response = _owner_read(ctx, reader, owner, path)
    if not ctx.succeeded(response):
        return False, ""
    if key is None:
        return True, _full_text(response)
    try:
        element = element_with(response.json(), key)
    except ValueError:
        return False, ""
    return element is not None, json.dumps(element, sort_keys=True) if element is not None else ""


def _no_proof(op: Operation, path: str, what: str) -> str:
    return (f"no state proof for `{op.label}`: the spec has no `GET {op.path}`, no list, search or parent read of the "
            f"spec shows {path}, and the request changes no value the harness logs in with; without a proof of the "
            f"{what} no verdict is possible")


def _write_proved_elsewhere(ctx: CheckContext, op: Operation, attacker: TestUser, victim: TestUser) -> None:
    """A write on a path without a GET of its own: proved by the owner's list or parent read of the object (the
    attacker's canary appears in its entry, or the entry is gone), or, where it sets a credential (a password change
    on the victim's user path), by logging in with the value the attacker sent."""
    mark = ctx.created_mark()
    baseline: Request | None = None
    changes: dict[str, str] = {}
    try:
        baseline, _ = ctx.baseline(op, victim)
        path = baseline.path
        own_request, _ = ctx.baseline(op, attacker)
        attack = aimed_at(own_request, op.path, path)
        if not op.object_params:
            account = own_account(attacker, ctx.harness.profile)
            changes = {role: new for role, new in credential_changes(attack.json, account, attacker, victim).items()
                       if role in ctx.login_values()}
        views = [(reader, where, key, *_view_of(ctx, reader, victim, where, key))
                 for reader, where, key in _views(ctx, op, path)]
        shown = [(reader, where, key, text) for reader, where, key, seen, text in views if seen]
        if not shown and not changes:
            pytest.skip(_no_proof(op, path, "change"))
        response = ctx.send(attack, bearer=ctx.token(attacker), op=op, creator=attacker, role="attack",
                            actor=attacker.key)
        who = f"{attacker.key} sent `{op.method} {path}` ({victim.key}'s) with its own data and got " \
              f"`{response.status_code}`"
        if changes:
            _judge_login(ctx, op, who, attacker, victim, changes)
        for reader, where, key, before in shown:
            seen, after = _view_of(ctx, reader, victim, where, key)
            if not seen:
                raise Failure("User B can change user A's object",
                              f"`{op.label}`: {who}; {victim.key}'s `GET {where}` no longer shows it (before: it did): "
                              "the object is gone", severity=Severity.HIGH)
            _judge_canary(op, who, attacker, victim, f"GET {where}", before, after)
        _no_server_error(response, op, path, f"as {attacker.key}")
        proofs = [f"`GET {where}`" for _, where, _, _ in shown] + (["login"] if changes else [])
        if ctx.succeeded(response):
            raise Failure("API claims success for a change to another user's object",
                          f"`{op.label}`: {who}, a success, but {victim.key}'s {' and '.join(proofs)} show it "
                          "unchanged", severity=Severity.MEDIUM)
        ctx.note = f"{who}; proved unchanged by {victim.key}'s {' and '.join(proofs)}"
    finally:
        if baseline is not None and not op.object_params:
            _restore_login(ctx, victim, changes, baseline)
            _restore(ctx, baseline, victim, attacker)
        ctx.discard_since(mark)


def _delete_proved_elsewhere(ctx: CheckContext, op: Operation, attacker: TestUser, victim: TestUser) -> None:
    """A delete on a path without a GET of its own: proved by the owner's list or parent read (its entry gone)."""
    mark = ctx.created_mark()
    try:
        own_request, _ = ctx.baseline(op, attacker)
        entry = ctx.object_for(op, victim, fresh=True)
        path = ctx.path_for(op, victim, entry)
        views = [(reader, where, key, *_view_of(ctx, reader, victim, where, key))
                 for reader, where, key in _views(ctx, op, path) if key is not None]
        shown = [(reader, where, key) for reader, where, key, seen, _ in views if seen]
        if not shown:
            pytest.skip(_no_proof(op, path, "delete"))
        response = ctx.send(aimed_at(own_request, op.path, path), bearer=ctx.token(attacker), role="attack",
                            actor=attacker.key)
        who = f"{attacker.key} sent `DELETE {path}` ({victim.key}'s object) and got `{response.status_code}`"
        for reader, where, key in shown:
            if not _view_of(ctx, reader, victim, where, key)[0]:
                raise Failure("User B can delete user A's object",
                              f"`{op.label}`: {who}; {victim.key}'s `GET {where}` no longer shows it (before: it "
                              "did): the object is gone", severity=Severity.HIGH)
        _no_server_error(response, op, path, f"as {attacker.key}")
        if ctx.succeeded(response):
            raise Failure("API claims success for deleting another user's object",
                          f"`{op.label}`: {who}, a success, but {victim.key}'s reads still show the object",
                          severity=Severity.MEDIUM)
    finally:
        ctx.discard_since(mark)


# -- objects named by id in the body or the query ---------------------------------------------------------------
def _seeded_object(ctx: CheckContext, field: ObjectField, user: TestUser, *, fresh: bool) -> LedgerEntry:
    """An object of the resource `field` names, owned by `user`: a seeded one, or a new one for calls that change
    state (deleted again by the check)."""
    seeder = ctx.harness.seeder
    if fresh:
        try:
            return seeder.create(field.resource, user, ctx.harness.created_here)
        except SeedError as exc:
            if exc.target_fault:
                raise CheckError(f"the object this check needs could not be created: {exc}") from None
            pytest.skip(str(exc))
    owned = ctx.harness.ledger.owned(field.resource, user.key)
    if not owned:
        failure = ctx.harness.ledger.failures.get(field.resource)
        if failure and field.resource in ctx.harness.ledger.faults:
            raise CheckError(f"seeding failed, so this check had no object to work on: {failure}")
        pytest.skip(failure or seeder.skip_reason(field.resource)
                    or f"no object of `{field.resource}` owned by {user.key} was seeded")
    return owned[0]


def _object_baseline(ctx: CheckContext, op: Operation, user: TestUser, field: ObjectField,
                     entry: LedgerEntry) -> tuple[Request, httpx.Response]:
    """`user`'s own request with the id of its own object in `field`, succeeded; otherwise (a 5xx too) a skip."""
    try:
        return ctx.baseline(op, user, shape=_namer(field, entry.object_id))
    except BaselineServerError as exc:
        why = str(exc)
    except pytest.skip.Exception as exc:
        if ctx.lost is not None or ctx.harness.health.lost_reason():
            raise
        why = str(exc.msg)
    pytest.skip(f"baseline failed: {user.key}'s own `{op.label}` with the id of its own object `{entry.path}` in "
                f"`{field.label}` did not succeed ({why}); an attack counts only where the baseline succeeds")


def _object_read(ctx: CheckContext, op: Operation, field: ObjectField, pair: str) -> None:
    """B's own request that read B's object by its id in the field, sent with A's object id there. Proof: A's canary,
    an identifier of A's, or A's own answer in B's 2xx."""
    attacker, victim = _pair(ctx, pair)
    theirs = _seeded_object(ctx, field, victim, fresh=False)
    request, baseline = _object_baseline(ctx, op, victim, field, theirs)
    again = ctx.send(request, bearer=ctx.token(victim), role="reference", actor=victim.key)
    _no_server_error(again, op, request.path, f"as {victim.key}, naming its own object in `{field.label}`")
    reads = [baseline, again] if ctx.succeeded(again) and again.status_code == baseline.status_code else [baseline]
    own_request, own = _object_baseline(ctx, op, attacker, field, _seeded_object(ctx, field, attacker, fresh=False))
    attack = with_field(own_request, field, theirs.object_id)
    response = ctx.send(attack, bearer=ctx.token(attacker), role="attack", actor=attacker.key)
    who = f"{attacker.key} sent `{op.label}` with the id of {victim.key}'s object `{theirs.path}` in `{field.label}`"
    _no_server_error(response, op, attack.path, f"as {attacker.key}, naming {victim.key}'s object in `{field.label}`")
    _judge_read(ctx, op, who, response,
                lambda: _read_proof(ctx, op, attack, reads, response, (own_request, own), attacker, victim),
                lambda: _public_object(ctx, op, field, request, reads, (own_request, own), attacker, victim), victim)


def _public_object(ctx: CheckContext, op: Operation, field: ObjectField, request: Request,
                   owner_reads: Sequence[httpx.Response], attackers: tuple[Request, httpx.Response],
                   attacker: TestUser, victim: TestUser) -> str | None:
    """Why the object read is public by design, or None: the profile shares it, or the owner's own request, sent
    without any credential, shows the owner's object as well."""
    shared = shared_reason(ctx.harness.profile, op.path) or shared_reason(ctx.harness.profile, field.resource)
    if shared:
        return shared
    anonymous = ctx.send(request, bearer=None, role="reference", actor="anonymous")
    if not ctx.succeeded(anonymous):
        return None
    if _read_proof(ctx, op, request, owner_reads, anonymous, attackers, attacker, victim) is None:
        return None
    return (f"{victim.key}'s own `{op.label}` naming its object in `{field.label}` answers anonymous callers with the "
            f"same object ({anonymous.status_code} without credentials): public by design")


def _object_views(ctx: CheckContext, field: ObjectField, entry: LedgerEntry) -> list[tuple[Operation, str, str | None]]:
    """The reads that show `entry` (an object of the resource `field` names): its item GET, its collection's GET
    and its parent's GET, as (reader, concrete path, the key to find it by in a list or parent answer)."""
    model = ctx.harness.seeder.model
    resource = model.get(field.resource)
    if resource is None:
        return []
    candidates = list(resource.readers)
    parent = model.get(resource.parent) if resource.parent else None
    candidates += [r for r in (parent.readers if parent else ()) if r.path == resource.parent]
    return [(reader, fill_path(reader.path, entry.params), None if reader.path == resource.path else entry.object_id)
            for reader in candidates if reader.method == "GET" and not ctx.harness.seeder.excluded(reader)]


def _object_change(ctx: CheckContext, op: Operation, field: ObjectField, pair: str, *, delete: bool) -> None:
    """B's own request that changed (or deleted) a fresh object of B's, named by its id in the field, sent with the
    id of a fresh object of A's. Proof: A's own reads of its object (its GET, a list or parent read) show B's
    canary afterwards, or no longer show the object."""
    attacker, victim = _pair(ctx, pair)
    what = "delete" if delete else "change"
    mark = ctx.created_mark()
    try:
        mine = _seeded_object(ctx, field, attacker, fresh=True)
        own_request, _ = _object_baseline(ctx, op, attacker, field, mine)
        theirs = _seeded_object(ctx, field, victim, fresh=True)
        views = [(reader, where, key, *_view_of(ctx, reader, victim, where, key))
                 for reader, where, key in _object_views(ctx, field, theirs)]
        shown = [(reader, where, key, text) for reader, where, key, seen, text in views if seen]
        if not shown:
            pytest.skip(f"no state proof for `{op.label}` naming an object in `{field.label}`: no read of the spec "
                        f"shows {victim.key}'s `{theirs.path}` to its owner (its GET, its collection's or its "
                        f"parent's); without a proof of the {what} no verdict is possible")
        attack = with_field(own_request, field, theirs.object_id)
        response = ctx.send(attack, bearer=ctx.token(attacker), op=op, creator=attacker, role="attack",
                            actor=attacker.key)
        who = (f"{attacker.key} sent `{op.label}` with the id of {victim.key}'s object `{theirs.path}` in "
               f"`{field.label}` and got `{response.status_code}`")
        for reader, where, key, before in shown:
            seen, after = _view_of(ctx, reader, victim, where, key)
            if not seen:
                raise Failure("User B can delete user A's object" if delete else "User B can change user A's object",
                              f"`{op.label}`: {who}; {victim.key}'s `GET {where}` no longer shows it (before: it did): "
                              "the object is gone", severity=Severity.HIGH)
            _judge_canary(op, who, attacker, victim, f"GET {where}", before, after)
        _no_server_error(response, op, attack.path, f"as {attacker.key}")
        proofs = " and ".join(f"`GET {where}`" for _, where, _, _ in shown)
        if ctx.succeeded(response):
            raise Failure("API claims success for deleting another user's object" if delete
                          else "API claims success for a change to another user's object",
                          f"`{op.label}`: {who}, a success, but {victim.key}'s {proofs} show the object unchanged",
                          severity=Severity.MEDIUM)
        ctx.note = f"{who}; proved unchanged by {victim.key}'s {proofs}"
    finally:
        ctx.discard_since(mark)
