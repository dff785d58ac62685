"""The zoo targets themselves, proven without digasec: every planted flaw of a ground truth shows on the planted
variant and not on the clean one, the ordinary flows work on both, and the OpenAPI documents say what the
profiles rely on (token URL, credential location, form-encoded login).

Each target runs as a child process on a free loopback port, started once per (target, variant).
"""

from __future__ import annotations

import contextlib
import itertools
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.targets import TARGETS
from tests.targets.common import CLEAN, PLANTED, VARIANTS, PasswordHasher
from tests.targets.header_notes.app import HASH_ITERATIONS
from tests.targets.numbered_users.probes import PROBES as NUMBERED_USERS_PROBES
from tests.targets.public_articles.probes import PROBES as PUBLIC_ARTICLES_PROBES
from tests.targets.runner import RunningTarget, ground_truth, profile_path, running

KNOWN_CHECKS = {"account_existence_leak", "account_existence_timing", "cross_user_read", "cross_user_write",
                "cross_user_delete", "cross_user_listing", "enumerable_id", "existence_oracle",
                "unauthenticated_access", "data_exposure", "function_level_access", "mass_assignment"}
PASSWORD = "correct horse battery"
_names = itertools.count(1)


def fresh(prefix: str = "zoo") -> str:
    return f"{prefix}{next(_names)}x{uuid.uuid4().hex[:6]}"


def answer(response: httpx.Response) -> tuple[int, str]:
    """What a caller sees of an answer, for comparing two cases (no answer here carries dynamic parts)."""
    return response.status_code, response.text


def median_time(call: Callable[[], Any], samples: int = 7) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timing_ratio(known: Callable[[], Any], unknown: Callable[[], Any], samples: int = 9) -> float:
    """Median time of `known` over that of `unknown`, sampled alternately so that both see the same load (a ratio,
    not a gap in seconds: this machine's speed and load vary, the shape of the difference does not)."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(samples):
        for is_known, call in ((True, known), (False, unknown)):
            started = time.perf_counter()
            call()
            times[is_known].append(time.perf_counter() - started)
    return statistics.median(times[True]) / max(statistics.median(times[False]), 1e-6)


@pytest.fixture(scope="module")
def started() -> Iterator[tuple[contextlib.ExitStack, dict[tuple[str, str], RunningTarget]]]:
    """The targets started so far in this module; all are stopped at its end."""
    with contextlib.ExitStack() as stack:
        yield stack, {}


@pytest.fixture
def targets(
    started: tuple[contextlib.ExitStack, dict[tuple[str, str], RunningTarget]],
) -> Iterator[Callable[[str, str], RunningTarget]]:
    """A target by name and variant, started on first use; the test's clients are closed after it."""
    stack, running_targets = started

    def get(name: str, variant: str) -> RunningTarget:
        if (name, variant) not in running_targets:
            running_targets[name, variant] = stack.enter_context(running(name, variant))
        return running_targets[name, variant]

    yield get
    for target in running_targets.values():
        target.close_clients()


# -- fastapi_items -----------------------------------------------------------------------------------------------
class Items:
    def __init__(self, target: RunningTarget) -> None:
        self.http = target.client()

    def signup(self, email: str) -> httpx.Response:
        return self.http.post("/api/users/signup", json={"email": email, "password": PASSWORD, "full_name": "Z"})

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.http.post("/api/login/access-token", data={"username": email, "password": password})

    def user(self) -> tuple[str, dict[str, str]]:
        email = f"{fresh()}@example.org"
        assert self.signup(email).is_success
        response = self.login(email)
        assert response.status_code == 200, response.text
        return email, {"Authorization": f"Bearer {response.json()['access_token']}"}


def items_login_message_leak(target: RunningTarget) -> bool:
    api = Items(target)
    email, _ = api.user()
    return answer(api.login(email, "wrong password!")) != answer(api.login(f"{fresh()}@example.org", "wrong!"))


def items_signup_duplicate_message(target: RunningTarget) -> bool:
    api, email = Items(target), f"{fresh()}@example.org"
    return answer(api.signup(email)) != answer(api.signup(email))


def items_recovery_unknown_404(target: RunningTarget) -> bool:
    api = Items(target)
    email, _ = api.user()
    known = api.http.post(f"/api/password-recovery/{email}")
    unknown = api.http.post(f"/api/password-recovery/{fresh()}@example.org")
    assert known.status_code == 200
    return answer(known) != answer(unknown)


def items_recovery_timing(target: RunningTarget) -> bool:
    api = Items(target)
    email, _ = api.user()
    ratio = timing_ratio(lambda: api.http.post(f"/api/password-recovery/{email}"),
                         lambda: api.http.post(f"/api/password-recovery/{fresh()}@example.org"))
    return ratio > 3  # 150 ms of mail preparation for existing accounts only


def items_email_change_conflict(target: RunningTarget) -> bool:
    api = Items(target)
    _, headers = api.user()
    other, _ = api.user()
    taken = api.http.patch("/api/users/me", json={"email": other}, headers=headers)
    free = api.http.patch("/api/users/me", json={"email": f"{fresh()}@example.org"}, headers=headers)
    return answer(taken) != answer(free)


def items_item_idor_read(target: RunningTarget) -> bool:
    api = Items(target)
    (_, owner), (_, other) = api.user(), api.user()
    item = api.http.post("/api/items/", json={"title": "mine"}, headers=owner).json()
    return api.http.get(f"/api/items/{item['id']}", headers=other).status_code == 200


def items_item_counter_ids(target: RunningTarget) -> bool:
    api = Items(target)
    (_, first), (_, second) = api.user(), api.user()
    ids = [api.http.post("/api/items/", json={"title": "t"}, headers=h).json()["id"] for h in (first, second)]
    return all(isinstance(i, int) for i in ids) and ids[1] == ids[0] + 1


# -- header_notes ------------------------------------------------------------------------------------------------
class Notes:
    def __init__(self, target: RunningTarget) -> None:
        self.http = target.client()

    def register(self, username: str, email: str | None = None) -> httpx.Response:
        return self.http.post("/register", json={"username": username, "email": email or f"{username}@example.org",
                                                 "password": PASSWORD})

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return self.http.post("/login", json={"username": username, "password": password})

    def user(self) -> tuple[str, dict[str, str]]:
        username = fresh("digasec-zoo-")
        assert self.register(username).json()["status"] == "success"
        response = self.login(username)
        assert response.json()["status"] == "success", response.text
        return username, {"X-Auth-Token": response.headers["X-Auth-Token"]}


def notes_login_message_leak(target: RunningTarget) -> bool:
    api = Notes(target)
    username, _ = api.user()
    return answer(api.login(username, "wrong password!")) != answer(api.login(fresh(), "wrong!"))


def notes_login_timing(target: RunningTarget) -> bool:
    api = Notes(target)
    username, _ = api.user()
    ratio = timing_ratio(lambda: api.login(username, "wrong password!"), lambda: api.login(fresh(), "wrong password!"))
    return ratio > 3  # a PBKDF2 verification (tens of ms) for existing usernames only; both cost the same when clean


def notes_register_username_taken(target: RunningTarget) -> bool:
    api, username = Notes(target), fresh("digasec-zoo-")
    return answer(api.register(username)) != answer(api.register(username, f"{fresh()}@example.org"))


def notes_notes_list_idor(target: RunningTarget) -> bool:
    api = Notes(target)
    (owner, owner_headers), (_, other_headers) = api.user(), api.user()
    api.http.post(f"/users/{owner}/notes", json={"subject": "canary-123"}, headers=owner_headers)
    return "canary-123" in api.http.get(f"/users/{owner}/notes", headers=other_headers).text


# -- cookie_journal ----------------------------------------------------------------------------------------------
class Journal:
    def __init__(self, target: RunningTarget) -> None:
        self.target = target
        self.http = target.client()

    def register(self, username: str, phone: str = "") -> httpx.Response:
        return self.http.post("/accounts", json={"username": username, "email": f"{username}@example.org",
                                                 "password": PASSWORD, "phone": phone})

    def session(self) -> httpx.Client:
        """A signed-in user of its own: a client holding the session cookies and sending the CSRF header."""
        username = fresh("digasec-zoo-")
        assert self.register(username).is_success
        client = self.target.client()
        assert client.post("/session", json={"username": username, "password": PASSWORD}).status_code == 200
        client.headers["X-CSRF-Token"] = client.cookies["csrf_token"]
        return client


def journal_register_conflict(target: RunningTarget) -> bool:
    api, username = Journal(target), fresh("digasec-zoo-")
    first = api.register(username)
    same_email = api.http.post("/accounts", json={"username": fresh(), "email": f"{username}@example.org",
                                                   "password": PASSWORD})
    assert (answer(first) != answer(same_email)) == (answer(first) != answer(api.register(username)))
    return answer(first) != answer(api.register(username))


def journal_reset_unknown_user(target: RunningTarget) -> bool:
    api, username = Journal(target), fresh("digasec-zoo-")
    api.register(username, phone="+4915100000001")
    known = api.http.post("/password-reset", json={"username": username})
    unknown = api.http.post("/password-reset", json={"username": fresh()})
    by_phone = api.http.post("/password-reset", json={"phone": "+4915100000001"})
    no_phone = api.http.post("/password-reset", json={"phone": "+4915199999999"})
    assert (answer(by_phone) != answer(no_phone)) == (answer(known) != answer(unknown))
    return answer(known) != answer(unknown)


def journal_entry_idor_write(target: RunningTarget) -> bool:
    api = Journal(target)
    owner, other = api.session(), api.session()
    entry = owner.post("/journal", json={"headline": "mine"}).json()
    other.patch(f"/journal/{entry['entry_id']}", json={"headline": "changed"})
    return bool(owner.get(f"/journal/{entry['entry_id']}").json()["headline"] == "changed")


def journal_entry_time_uuid(target: RunningTarget) -> bool:
    entry = Journal(target).session().post("/journal", json={"headline": "h"}).json()
    return uuid.UUID(entry["entry_id"]).version == 1


# -- keyed_shelf -------------------------------------------------------------------------------------------------
class Shelves:
    def __init__(self, target: RunningTarget) -> None:
        self.http = target.client()

    def signup(self, username: str, email: str | None = None) -> httpx.Response:
        return self.http.post("/api/auth/signup", json={"username": username, "password": PASSWORD,
                                                        "email": email or f"{username}@example.org"})

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return self.http.post("/api/auth/login", json={"username": username, "password": password})

    def user(self) -> tuple[str, dict[str, str]]:
        username = fresh("digasec-zoo-")
        assert self.signup(username).status_code == 201
        response = self.login(username)
        assert response.status_code == 200, response.text
        return username, {"Authorization": f"Bearer {response.json()['auth']['token']}"}

    def shelf(self, headers: dict[str, str], notes: str = "") -> str:
        """A new shelf of the caller's; its slug (the answer names none: the client chose it)."""
        slug = fresh("shelf-")
        response = self.http.post("/api/shelves/", json={"slug": slug, "title": "Reading", "notes": notes},
                                  headers=headers)
        assert (response.status_code, response.json()) == (201, {"status": "created"}), response.text
        return slug

    def put_book(self, headers: dict[str, str], slug: str, title: str, summary: str = "") -> httpx.Response:
        return self.http.put(f"/api/shelves/{slug}/books/{title}", json={"title": title, "summary": summary},
                             headers=headers)


def shelf_shelf_idor_read(target: RunningTarget) -> bool:
    api = Shelves(target)
    (_, owner), (_, other) = api.user(), api.user()
    slug = api.shelf(owner, notes="canary-shelf-42")
    response = api.http.get(f"/api/shelves/{slug}", headers=other)
    return response.status_code == 200 and "canary-shelf-42" in response.text


def shelf_book_idor_write(target: RunningTarget) -> bool:
    api = Shelves(target)
    (_, owner), (_, other) = api.user(), api.user()
    slug = api.shelf(owner)
    assert api.put_book(owner, slug, "The Hobbit", "mine").status_code == 201
    api.put_book(other, slug, "The Hobbit", "overwritten")
    return bool(api.http.get(f"/api/shelves/{slug}/books/The Hobbit", headers=owner).json()["summary"] == "overwritten")


def shelf_shelf_idor_delete(target: RunningTarget) -> bool:
    api = Shelves(target)
    (_, owner), (_, other) = api.user(), api.user()
    slug = api.shelf(owner)
    api.http.delete(f"/api/shelves/{slug}", headers=other)
    return api.http.get(f"/api/shelves/{slug}", headers=owner).status_code == 404


# -- team_roster -------------------------------------------------------------------------------------------------
class Roster(Shelves):
    """The same sign-up and login as keyed_shelf; users are named in bodies, a query and one path."""

    def note(self, headers: dict[str, str], text: str) -> None:
        assert self.http.post("/api/notes", json={"title": "Mine", "text": text}, headers=headers).status_code == 201

    def me(self, headers: dict[str, str]) -> dict[str, str]:
        answer: dict[str, str] = self.http.get("/api/me", headers=headers).json()
        return answer

    def note_id(self, headers: dict[str, str], text: str) -> str:
        response = self.http.post("/api/notes", json={"title": "Mine", "text": text}, headers=headers)
        assert response.status_code == 201
        note_id: str = response.json()["id"]
        return note_id


def roster_profile_update_by_username(target: RunningTarget) -> bool:
    api = Roster(target)
    (owner_name, owner), (_, other) = api.user(), api.user()
    api.http.put("/api/profile", json={"username": owner_name, "display_name": "Mallory", "bio": "pwned"},
                 headers=other)
    return api.me(owner)["bio"] == "pwned"


def roster_status_by_username(target: RunningTarget) -> bool:
    api = Roster(target)
    (owner_name, owner), (_, other) = api.user(), api.user()
    api.http.put("/api/account/status", json={"username": owner_name, "status": "pwned"}, headers=other)
    return api.me(owner)["status"] == "pwned"


def roster_notes_by_owner_query(target: RunningTarget) -> bool:
    api = Roster(target)
    (owner_name, owner), (_, other) = api.user(), api.user()
    api.note(owner, "canary-note-42")
    response = api.http.get("/api/notes", params={"owner": owner_name}, headers=other)
    return response.status_code == 200 and "canary-note-42" in response.text


def roster_note_lookup_by_query_id(target: RunningTarget) -> bool:
    api = Roster(target)
    (_, owner), (_, other) = api.user(), api.user()
    note_id = api.note_id(owner, "canary-note-43")
    response = api.http.get("/api/notes/lookup", params={"note_id": note_id}, headers=other)
    return response.status_code == 200 and "canary-note-43" in response.text


def roster_note_edit_without_token(target: RunningTarget) -> bool:
    api = Roster(target)
    (_, owner) = api.user()
    note_id = api.note_id(owner, "mine")
    api.http.put("/api/notes/edit", json={"note_id": note_id, "text": "pwned"})
    return api.http.get(f"/api/notes/{note_id}", headers=owner).json()["text"] == "pwned"


def roster_note_edit_by_body_id(target: RunningTarget) -> bool:
    api = Roster(target)
    (_, owner), (_, other) = api.user(), api.user()
    note_id = api.note_id(owner, "mine")
    api.http.put("/api/notes/edit", json={"note_id": note_id, "text": "pwned"}, headers=other)
    return api.http.get(f"/api/notes/{note_id}", headers=owner).json()["text"] == "pwned"


def roster_password_on_user_path(target: RunningTarget) -> bool:
    api = Roster(target)
    (owner_name, _), (_, other) = api.user(), api.user()
    api.http.put(f"/api/users/{owner_name}/password", json={"new_password": "taken over!"}, headers=other)
    return api.login(owner_name, "taken over!").status_code == 200


# -- open_directory ----------------------------------------------------------------------------------------------
class Directory:
    def __init__(self, target: RunningTarget) -> None:
        self.http = target.client()

    def register(self, username: str, phone: str = "+49 151 2345678") -> httpx.Response:
        return self.http.post("/register", json={"username": username, "email": f"{username}@example.org",
                                                 "password": PASSWORD, "phone": phone})

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return self.http.post("/login", json={"username": username, "password": password})

    def user(self) -> tuple[str, dict[str, str]]:
        username = fresh("digasec-zoo-")
        assert self.register(username).json()["status"] == "success"
        response = self.login(username)
        assert response.json()["status"] == "success", response.text
        return username, {"Authorization": f"Token {response.json()['data']['token']}"}


def directory_debug_users_passwords(target: RunningTarget) -> bool:
    api = Directory(target)
    username, _ = api.user()
    text = api.http.get("/debug/users").text
    return PASSWORD in text and f"{username}@example.org" in text


def directory_member_list_emails(target: RunningTarget) -> bool:
    api = Directory(target)
    username, _ = api.user()
    return f"{username}@example.org" in api.http.get("/users").text


def directory_member_lookup_email(target: RunningTarget) -> bool:
    api = Directory(target)
    username, _ = api.user()
    return f"{username}@example.org" in api.http.get(f"/users/{username}").text


def directory_member_lookup_tells_members(target: RunningTarget) -> bool:
    api = Directory(target)
    username, _ = api.user()
    known, unknown = api.http.get(f"/users/{username}"), api.http.get(f"/users/{fresh('digasec-zoo-')}")
    return known.json() != unknown.json()


def directory_admin_stats_anonymous(target: RunningTarget) -> bool:
    api = Directory(target)
    username, headers = api.user()
    assert api.http.get("/admin/stats", headers=headers).json() == {"status": "fail",
                                                                     "message": "administrators only"}
    return f"{username}@example.org" in api.http.get("/admin/stats").text


# -- role_desk ---------------------------------------------------------------------------------------------------
class Desk:
    """Patients register themselves; the therapist account `desk-therapist` and the staff account `desk-admin`
    exist from the start."""

    def __init__(self, target: RunningTarget) -> None:
        self.http = target.client()

    def register(self, username: str, **extra: Any) -> httpx.Response:
        return self.http.post("/api/auth/register", json={"username": username, "email": f"{username}@example.org",
                                                          "password": PASSWORD, **extra})

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.http.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def patient(self, **extra: Any) -> dict[str, str]:
        username = fresh("digasec-zoo-")
        assert self.register(username, **extra).status_code == 201
        return self.login(username)

    def staff(self) -> dict[str, str]:
        from tests.targets.role_desk.app import DEFAULT_STAFF_PASSWORD, STAFF_USERNAME

        return self.login(STAFF_USERNAME, DEFAULT_STAFF_PASSWORD)

    def therapist(self) -> dict[str, str]:
        from tests.targets.role_desk.app import DEFAULT_THERAPIST_PASSWORD, THERAPIST_USERNAME

        return self.login(THERAPIST_USERNAME, DEFAULT_THERAPIST_PASSWORD)

    def item(self, staff: dict[str, str]) -> str:
        response = self.http.post("/api/catalogue", json={"name": "Walk", "description": "10 min"}, headers=staff)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


def desk_catalogue_delete_without_role(target: RunningTarget) -> bool:
    api = Desk(target)
    staff, patient = api.staff(), api.patient()
    item = api.item(staff)
    api.http.delete(f"/api/catalogue/{item}", headers=patient)
    gone = api.http.get(f"/api/catalogue/{item}", headers=staff).status_code == 404
    api.http.delete(f"/api/catalogue/{item}", headers=staff)
    return gone


def desk_catalogue_entry_without_token(target: RunningTarget) -> bool:
    api = Desk(target)
    staff = api.staff()
    item = api.item(staff)
    readable = api.http.get(f"/api/catalogue/{item}").status_code == 200
    api.http.delete(f"/api/catalogue/{item}", headers=staff)
    return readable


def desk_patient_list_without_role(target: RunningTarget) -> bool:
    api = Desk(target)
    patient = api.patient()
    return api.http.get("/api/patients", headers=patient).status_code == 200


def desk_role_on_profile_update(target: RunningTarget) -> bool:
    api = Desk(target)
    patient = api.patient()
    api.http.patch("/api/me", json={"display_name": "P", "role": "staff"}, headers=patient)
    return bool(api.http.get("/api/me", headers=patient).json()["role"] == "staff")


def desk_admin_flag_at_registration(target: RunningTarget) -> bool:
    api = Desk(target)
    patient = api.patient(is_admin=True)
    return api.http.get("/api/admin/accounts", headers=patient).status_code == 200


PROBES: dict[str, dict[str, Callable[[RunningTarget], bool]]] = {
    "fastapi_items": {
        "login_message_leak": items_login_message_leak,
        "signup_duplicate_message": items_signup_duplicate_message,
        "recovery_unknown_404": items_recovery_unknown_404,
        "recovery_timing": items_recovery_timing,
        "email_change_conflict": items_email_change_conflict,
        "item_idor_read": items_item_idor_read,
        "item_counter_ids": items_item_counter_ids,
    },
    "header_notes": {
        "login_message_leak": notes_login_message_leak,
        "login_timing": notes_login_timing,
        "register_username_taken": notes_register_username_taken,
        "notes_list_idor": notes_notes_list_idor,
    },
    "cookie_journal": {
        "register_conflict": journal_register_conflict,
        "reset_unknown_user": journal_reset_unknown_user,
        "entry_idor_write": journal_entry_idor_write,
        "entry_time_uuid": journal_entry_time_uuid,
    },
    "keyed_shelf": {
        "shelf_idor_read": shelf_shelf_idor_read,
        "book_idor_write": shelf_book_idor_write,
        "shelf_idor_delete": shelf_shelf_idor_delete,
    },
    "team_roster": {
        "profile_update_by_username": roster_profile_update_by_username,
        "status_by_username": roster_status_by_username,
        "notes_by_owner_query": roster_notes_by_owner_query,
        "password_on_user_path": roster_password_on_user_path,
        "note_lookup_by_query_id": roster_note_lookup_by_query_id,
        "note_edit_by_body_id": roster_note_edit_by_body_id,
        "note_edit_without_token": roster_note_edit_without_token,
        "note_edit_answers_anyone": roster_note_edit_without_token,  # one flaw, seen by two checks
    },
    "role_desk": {
        "catalogue_delete_without_role": desk_catalogue_delete_without_role,
        "patient_list_without_role": desk_patient_list_without_role,
        "patient_list_cross_user": desk_patient_list_without_role,  # one flaw, seen by three checks
        "patient_list_exposes_others": desk_patient_list_without_role,
        "role_on_profile_update": desk_role_on_profile_update,
        "admin_flag_at_registration": desk_admin_flag_at_registration,
        "catalogue_entry_without_token": desk_catalogue_entry_without_token,
    },
    "open_directory": {
        "debug_users_passwords": directory_debug_users_passwords,
        "member_list_emails": directory_member_list_emails,
        "member_lookup_email": directory_member_lookup_email,
        "member_lookup_tells_members": directory_member_lookup_tells_members,
        "admin_stats_anonymous": directory_admin_stats_anonymous,
        "admin_stats_without_credentials": directory_admin_stats_anonymous,  # one flaw, seen by two checks
    },
    "numbered_users": NUMBERED_USERS_PROBES,
    "public_articles": PUBLIC_ARTICLES_PROBES,
}
FLAWS = [(name, flaw["id"]) for name in TARGETS for flaw in ground_truth(name)]


# -- the tests ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TARGETS)
def test_ground_truth_is_well_formed_and_probed(name: str) -> None:
    flaws = ground_truth(name)
    assert {flaw["id"] for flaw in flaws} == set(PROBES[name]), "every planted flaw has exactly one probe here"
    for flaw in flaws:
        assert set(flaw) == {"id", "check", "method", "path", "description"}, flaw
        assert flaw["check"] in KNOWN_CHECKS, flaw


@pytest.mark.parametrize("name", TARGETS)
def test_profiles_are_backend_api_without_keycloak_and_differ_only_in_the_variant(name: str) -> None:
    planted, clean = (profile_path(name, variant).read_text() for variant in VARIANTS)
    assert clean == planted.replace("planted", "clean")
    profile = yaml.safe_load(planted)
    assert "keycloak" not in profile
    assert profile["identity"]["provider"] == "backend_api"
    assert profile["environment"] == "ci"
    assert profile["backend"]["command"][:3] == ["{python}", "-m", f"tests.targets.{name}.app"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("name", "flaw"), FLAWS)
def test_planted_flaw_shows_only_on_the_planted_variant(
    name: str, flaw: str, variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    assert PROBES[name][flaw](targets(name, variant)) is (variant == PLANTED)


def openapi_document(name: str, target: RunningTarget) -> dict[str, Any]:
    """The document the target's profile reads: a file next to it (keyed_shelf) or one the app serves."""
    source = yaml.safe_load(profile_path(name, PLANTED).read_text())["backend"]["openapi"]
    if not source.startswith("/"):
        document: dict[str, Any] = yaml.safe_load((profile_path(name, PLANTED).parent / source).read_text())
        return document
    served: dict[str, Any] = target.client().get(source).json()
    return served


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", TARGETS)
def test_ground_truth_operations_are_in_the_openapi_document(
    name: str, variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    paths = openapi_document(name, targets(name, variant))["paths"]
    for flaw in ground_truth(name):
        assert flaw["method"].lower() in paths.get(flaw["path"], {}), flaw


@pytest.mark.parametrize("variant", VARIANTS)
def test_items_declares_the_oauth2_password_flow_with_a_form_login(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    document = targets("fastapi_items", variant).client().get("/api/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/login/access-token"
    login = document["paths"]["/api/login/access-token"]["post"]
    assert list(login["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_items_login_refuses_json_like_fastapi_and_the_jwt_names_the_integer_user(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    import jwt

    api = Items(targets("fastapi_items", variant))
    email, headers = api.user()
    assert api.http.post("/api/login/access-token", json={"username": email, "password": PASSWORD}).status_code == 422
    token = headers["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    me = api.http.get("/api/users/me", headers=headers).json()
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == str(me["id"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_items_owner_flow_and_account_deletion(variant: str, targets: Callable[[str, str], RunningTarget]) -> None:
    api = Items(targets("fastapi_items", variant))
    email, headers = api.user()
    item = api.http.post("/api/items/", json={"title": "t", "description": "d"}, headers=headers).json()
    path = f"/api/items/{item['id']}"
    assert api.http.put(path, json={"title": "u"}, headers=headers).json()["title"] == "u"
    assert [i["id"] for i in api.http.get("/api/items/", headers=headers).json()["data"]] == [item["id"]]
    assert api.http.delete(path, headers=headers).status_code == 200
    assert api.http.get(path, headers=headers).status_code == 404
    assert api.http.get("/api/users/me").status_code == 401
    assert api.http.delete("/api/users/me", headers=headers).status_code == 200
    assert api.login(email).status_code >= 400
    assert api.http.get("/api/users/me", headers=headers).status_code == 401


def test_items_clean_email_change_keeps_the_login(targets: Callable[[str, str], RunningTarget]) -> None:
    api = Items(targets("fastapi_items", CLEAN))
    email, headers = api.user()
    changed = api.http.patch("/api/users/me", json={"email": f"{fresh()}@example.org"}, headers=headers).json()
    assert changed["email"] == email
    assert changed["email_change_pending"]
    assert api.login(email).status_code == 200


@pytest.mark.parametrize("variant", VARIANTS)
def test_items_foreign_item_is_hidden_on_write_and_delete_in_both_variants(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    api = Items(targets("fastapi_items", variant))
    (_, owner), (_, other) = api.user(), api.user()
    item = api.http.post("/api/items/", json={"title": "mine"}, headers=owner).json()
    assert api.http.put(f"/api/items/{item['id']}", json={"title": "x"}, headers=other).status_code == 404
    assert api.http.delete(f"/api/items/{item['id']}", headers=other).status_code == 404
    assert api.http.get(f"/api/items/{item['id']}", headers=owner).json()["title"] == "mine"


@pytest.mark.parametrize("variant", VARIANTS)
def test_notes_answers_everything_with_http_200_and_takes_the_token_from_its_header(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    api = Notes(targets("header_notes", variant))
    username, headers = api.user()
    anonymous = api.http.get(f"/users/{username}/notes")
    bearer = api.http.get(f"/users/{username}", headers={"Authorization": f"Bearer {headers['X-Auth-Token']}"})
    for response in (anonymous, bearer, api.login(username, "wrong password!")):
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "fail", response.text
    assert api.http.get(f"/users/{username}", headers=headers).json()["data"]["username"] == username
    document = api.http.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["authToken"] == {
        "type": "apiKey", "in": "header", "name": "X-Auth-Token"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_notes_owner_flow_and_foreign_notes(variant: str, targets: Callable[[str, str], RunningTarget]) -> None:
    api = Notes(targets("header_notes", variant))
    (owner, headers), (_, other) = api.user(), api.user()
    note = api.http.post(f"/users/{owner}/notes", json={"subject": "s", "content": "c"}, headers=headers).json()["data"]
    path = f"/users/{owner}/notes/{note['note_id']}"
    assert api.http.get(path, headers=other).json()["status"] == "fail"
    assert api.http.put(path, json={"subject": "x"}, headers=other).json()["status"] == "fail"
    assert api.http.put(path, json={"subject": "t"}, headers=headers).json()["data"]["subject"] == "t"
    assert api.http.delete(path, headers=headers).json()["status"] == "success"
    assert api.http.delete("/account", headers=headers).json()["status"] == "success"
    assert api.login(owner).json()["status"] == "fail"


def test_notes_password_hash_is_costly_enough_to_be_measured() -> None:
    """A ratio against a one-iteration hash, not a time in seconds (this machine's speed and load vary)."""
    costly, cheap = PasswordHasher(HASH_ITERATIONS), PasswordHasher(1)
    stored, cheap_stored = costly.hash(PASSWORD), cheap.hash(PASSWORD)
    costly_s = median_time(lambda: costly.verify(PASSWORD, stored), samples=3)
    cheap_s = median_time(lambda: cheap.verify(PASSWORD, cheap_stored), samples=3)
    assert costly_s > 100 * max(cheap_s, 1e-7)


@pytest.mark.parametrize("variant", VARIANTS)
def test_journal_needs_the_session_cookie_and_the_csrf_header(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    api = Journal(targets("cookie_journal", variant))
    user = api.session()
    assert api.http.get("/journal").status_code == 401
    csrf = user.headers.pop("X-CSRF-Token")
    assert user.post("/journal", json={"headline": "h"}).status_code == 403
    user.headers["X-CSRF-Token"] = "forged"
    assert user.post("/journal", json={"headline": "h"}).status_code == 403
    user.headers["X-CSRF-Token"] = csrf
    entry = user.post("/journal", json={"headline": "h", "tags": ["a"]}).json()
    assert user.get("/journal").json() == [entry]
    assert user.delete(f"/journal/{entry['entry_id']}").status_code == 204
    assert user.delete("/accounts/self").status_code == 204
    assert user.get("/accounts/self").status_code == 401
    schemes = user.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": "sid"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_journal_foreign_entries_are_hidden_on_read_and_delete(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    api = Journal(targets("cookie_journal", variant))
    owner, other = api.session(), api.session()
    entry = owner.post("/journal", json={"headline": "mine"}).json()
    assert other.get(f"/journal/{entry['entry_id']}").status_code == 404
    assert other.delete(f"/journal/{entry['entry_id']}").status_code == 404
    assert other.get("/journal").json() == []
    assert owner.get(f"/journal/{entry['entry_id']}").status_code == 200


def test_shelf_openapi_file_is_small_with_client_chosen_keys_and_a_slashed_collection() -> None:
    document = openapi_document("keyed_shelf", None)  # type: ignore[arg-type]  # a file: no target needed
    operations = [(method, path) for path, item in document["paths"].items() for method in item
                  if method in {"get", "put", "post", "delete", "patch"}]
    assert len(operations) <= 12, "kept small so that its scan is quick"
    assert ("post", "/api/shelves/") in operations
    assert ("post", "/api/shelves") not in operations
    assert ("put", "/api/shelves/{slug}/books/{bookTitle}") in operations
    created = document["paths"]["/api/shelves/"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"] == {"$ref": "#/components/schemas/Status"}  # no id in the answer
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "The opaque token of POST /api/auth/login (auth.token)"}
    assert "servers" not in document


@pytest.mark.parametrize("variant", VARIANTS)
def test_shelf_owner_flow_with_client_chosen_keys(variant: str, targets: Callable[[str, str], RunningTarget]) -> None:
    api = Shelves(targets("keyed_shelf", variant))
    username, headers = api.user()
    other_name, other = api.user()
    unslashed = api.http.post("/api/shelves", json={"slug": fresh("shelf-"), "title": "t"}, headers=headers)
    assert unslashed.status_code == 308  # Flask's redirect to the collection's slashed path
    assert unslashed.headers["Location"].endswith("/api/shelves/")
    slug = api.shelf(headers, notes="n")
    taken = api.http.post("/api/shelves/", json={"slug": slug, "title": "t"}, headers=other)
    assert taken.status_code == 409  # slugs are unique across all users
    assert api.http.post("/api/shelves/", json={"slug": "No Slug", "title": "t"}, headers=headers).status_code == 400
    shelf = api.http.get(f"/api/shelves/{slug}", headers=headers).json()
    assert {k: shelf[k] for k in ("slug", "title", "notes", "owner", "book_count")} == {
        "slug": slug, "title": "Reading", "notes": "n", "owner": username, "book_count": 0}
    renamed = api.http.put(f"/api/shelves/{slug}", json={"title": "Later", "notes": ""}, headers=headers)
    assert (renamed.status_code, renamed.json()["title"]) == (200, "Later")
    title = "War and Peace"
    assert api.put_book(headers, slug, title, "s").status_code == 201  # PUT-create: the title is the key
    replaced = api.put_book(headers, slug, title, "t")
    assert (replaced.status_code, replaced.json()["summary"]) == (200, "t")
    mismatch = api.http.put(f"/api/shelves/{slug}/books/{title}", json={"title": "Other"}, headers=headers)
    assert mismatch.status_code == 400
    assert [b["title"] for b in api.http.get(f"/api/shelves/{slug}/books", headers=headers).json()["books"]] == [title]
    assert api.http.get(f"/api/shelves/{slug}/books/{title}", headers=headers).json()["shelf"] == slug
    assert api.http.get("/api/me", headers=headers).json() == {
        "username": username, "email": f"{username}@example.org", "shelves": [slug]}
    assert api.http.delete(f"/api/shelves/{slug}/books/{title}", headers=headers).status_code == 204
    assert api.http.get(f"/api/shelves/{slug}/books/{title}", headers=headers).status_code == 404
    assert api.http.delete(f"/api/shelves/{slug}", headers=headers).status_code == 204
    assert api.http.get(f"/api/shelves/{slug}", headers=headers).status_code == 404
    assert api.http.get("/api/me").status_code == 401
    assert api.http.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert api.http.delete("/api/me", headers=headers).status_code == 204
    assert api.login(username).status_code == 401
    assert api.http.get("/api/me", headers=headers).status_code == 401
    assert api.http.get("/api/me", headers=other).json()["username"] == other_name


@pytest.mark.parametrize("variant", VARIANTS)
def test_shelf_foreign_books_and_shelf_changes_are_hidden_in_both_variants(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    api = Shelves(targets("keyed_shelf", variant))
    (_, owner), (_, other) = api.user(), api.user()
    slug = api.shelf(owner)
    assert api.put_book(owner, slug, "Dune", "mine").status_code == 201
    assert api.http.get(f"/api/shelves/{slug}/books", headers=other).status_code == 404
    assert api.http.get(f"/api/shelves/{slug}/books/Dune", headers=other).status_code == 404
    assert api.http.delete(f"/api/shelves/{slug}/books/Dune", headers=other).status_code == 404
    assert api.http.put(f"/api/shelves/{slug}", json={"title": "x"}, headers=other).status_code == 404
    assert api.http.get(f"/api/shelves/{slug}", headers=owner).json()["title"] == "Reading"
    assert api.http.get(f"/api/shelves/{slug}/books/Dune", headers=owner).json()["summary"] == "mine"


def test_shelf_clean_answers_another_users_shelf_like_a_missing_one(
    targets: Callable[[str, str], RunningTarget],
) -> None:
    api = Shelves(targets("keyed_shelf", CLEAN))
    (_, owner), (_, other) = api.user(), api.user()
    slug = api.shelf(owner)
    assert api.put_book(owner, slug, "Emma").status_code == 201
    missing = fresh("shelf-")
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/books"), ("GET", "/books/Emma")):
        foreign = api.http.request(method, f"/api/shelves/{slug}{suffix}", headers=other)
        assert answer(foreign) == answer(api.http.request(method, f"/api/shelves/{missing}{suffix}", headers=other))
    foreign_put = api.put_book(other, slug, "Emma", "x")
    assert answer(foreign_put) == answer(api.put_book(other, missing, "Emma", "x"))
    assert foreign_put.status_code == 404


@pytest.mark.parametrize("variant", VARIANTS)
def test_shelf_account_flows_give_one_answer_for_known_and_unknown_names(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    api = Shelves(targets("keyed_shelf", variant))
    username, _ = api.user()
    assert answer(api.signup(username)) == answer(api.signup(fresh("digasec-zoo-")))
    assert answer(api.signup(fresh("digasec-zoo-"), f"{username}@example.org")) == answer(api.signup(fresh()))
    wrong = api.login(username, "wrong password!")
    assert wrong.status_code == 401
    assert answer(wrong) == answer(api.login(fresh(), "wrong password!"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_directory_answers_every_failure_with_http_200_and_takes_the_token_scheme_token(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    api = Directory(targets("open_directory", variant))
    username, headers = api.user()
    key = headers["Authorization"].removeprefix("Token ")
    failures = [api.http.get("/contacts"), api.http.get("/contacts", headers={"Authorization": f"Bearer {key}"}),
                api.http.get("/contacts", headers={"Authorization": "Token " + "0" * 40}),
                api.login(username, "wrong password!"), api.login(fresh(), "wrong password!"),
                api.http.get("/no/such/path"), api.http.get("/admin/stats", headers=headers)]
    for response in failures:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "fail", response.text
    assert answer(failures[3]) == answer(failures[4]), "one message for every failed login"
    assert api.http.get("/contacts", headers=headers).json() == {"status": "success", "data": []}
    document = api.http.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "`Token <key>` with the key from POST /login"}
    declared_public = {(method.upper(), path) for path, item in document["paths"].items()
                       for method, op in item.items() if op["security"] == []}
    assert {("GET", "/debug/users"), ("GET", "/users"), ("GET", "/users/{username}")} <= declared_public
    assert ("GET", "/admin/stats") not in declared_public


@pytest.mark.parametrize("variant", VARIANTS)
def test_directory_owner_flow_foreign_contacts_and_account_deletion(
    variant: str, targets: Callable[[str, str], RunningTarget]
) -> None:
    api = Directory(targets("open_directory", variant))
    (owner, headers), (_, other) = api.user(), api.user()
    contact = api.http.post("/contacts", json={"name": "Dr. Who", "phone": "+49 30 1234567"},
                            headers=headers).json()["data"]
    path = f"/contacts/{contact['contact_id']}"
    unknown = api.http.get("/contacts/" + "0" * 24, headers=other)
    for response in (api.http.get(path, headers=other), api.http.put(path, json={"name": "x"}, headers=other),
                     api.http.delete(path, headers=other)):
        assert answer(response) == answer(unknown), "another user's contact answers like an unknown one"
    assert api.http.get("/contacts", headers=other).json()["data"] == []
    assert api.http.put(path, json={"name": "Amy"}, headers=headers).json()["data"]["name"] == "Amy"
    assert api.http.get("/contacts", headers=headers).json()["data"][0]["contact_id"] == contact["contact_id"]
    assert api.http.delete(path, headers=headers).json()["status"] == "success"
    assert api.http.get(path, headers=headers).json()["status"] == "fail"
    me = api.http.get(f"/users/{owner}", headers=headers).json()["data"]
    assert me == {"username": owner, "email": f"{owner}@example.org", "phone": "+49 151 2345678"}
    assert api.http.delete("/account", headers=headers).json()["status"] == "success"
    assert api.login(owner).json()["status"] == "fail"


def test_directory_clean_shows_no_value_of_any_user_to_others(
    targets: Callable[[str, str], RunningTarget]
) -> None:
    """What makes the clean variant clean for data_exposure: nothing a user registered reaches an anonymous caller
    or another user, and the lookup refuses other and unknown names alike (no existence leak either)."""
    api = Directory(targets("open_directory", CLEAN))
    (owner, headers), (_, other) = api.user(), api.user()
    values = (owner, f"{owner}@example.org", "2345678", PASSWORD)
    for who in ({}, other):
        for path in ("/debug/users", "/users", f"/users/{owner}", "/admin/stats"):
            text = api.http.get(path, headers=who).text
            assert not [value for value in values if value in text.replace(" ", "")], (path, text)
    assert answer(api.http.get(f"/users/{owner}", headers=other)) == answer(
        api.http.get(f"/users/{fresh()}", headers=other))
    assert answer(api.http.get(f"/users/{owner}")) == answer(api.http.get(f"/users/{fresh()}"))
    assert api.http.get(f"/users/{owner}", headers=headers).json()["data"]["username"] == owner


@pytest.mark.parametrize("variant", VARIANTS)
def test_desk_roles_hold_where_nothing_is_planted(variant: str, targets: Callable[[str, str], RunningTarget]) -> None:
    """Both variants: patients may not create or change catalogue entries nor list accounts, staff may; therapists
    and staff list the patients, therapists may not manage the catalogue nor list accounts; a patient's journal is
    its own; the preset entries and the therapist and staff accounts are there from the start."""
    api = Desk(targets("role_desk", variant))
    staff, therapist, patient, other = api.staff(), api.therapist(), api.patient(), api.patient()
    assert len(api.http.get("/api/catalogue", headers=patient).json()["items"]) >= 2
    assert api.http.post("/api/catalogue", json={"name": "x"}, headers=patient).status_code == 403
    item = api.item(staff)
    assert api.http.put(f"/api/catalogue/{item}", json={"name": "y"}, headers=patient).status_code == 403
    assert api.http.get("/api/admin/accounts", headers=patient).status_code == 403
    assert api.http.get("/api/admin/accounts", headers=staff).status_code == 200
    assert api.http.get("/api/admin/accounts", headers=therapist).status_code == 403
    assert api.http.post("/api/catalogue", json={"name": "x"}, headers=therapist).status_code == 403
    for reader in (therapist, staff):
        names = [p["username"] for p in api.http.get("/api/patients", headers=reader).json()["patients"]]
        assert not {"desk-admin", "desk-therapist"} & set(names), names
        assert len(names) >= 2, names
    assert api.http.get("/api/patients").status_code == 401
    entry = api.http.post("/api/journal", json={"text": "mine"}, headers=patient).json()["id"]
    assert api.http.get(f"/api/journal/{entry}", headers=other).status_code == 404
    assert api.http.delete(f"/api/catalogue/{item}", headers=staff).status_code == 204
    assert api.http.get("/api/me", headers=patient).json()["role"] == "patient"
