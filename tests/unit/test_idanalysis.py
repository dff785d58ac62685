from __future__ import annotations

import os
import random
import secrets
import string
import time
import uuid
from collections.abc import Sequence

import pytest

from fixtures.analysis.idanalysis import (
    ChosenValue,
    IdVerdict,
    ObservedId,
    analyse_ids,
    chosen_value_in,
    is_integer_typed,
    without_chosen,
)

NOW_MS = 1_714_566_645_123  # 2024-05-01T12:30:45Z
NOW_S = NOW_MS / 1000 + 60  # the analysis runs a minute after the first id was made
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def observed(values: Sequence[str], owners: Sequence[str] | None = None) -> list[ObservedId]:
    owners = owners or ["alice", "bob"] * len(values)
    return [ObservedId(value, owner) for value, owner in zip(values, owners, strict=False)]


def judge(values: Sequence[str], owners: Sequence[str] | None = None, *, now: float = NOW_S) -> IdVerdict:
    return analyse_ids(observed(values, owners), now=now)


def uuid7(ms: int) -> str:
    value = (ms << 80) | (0x7 << 76) | (secrets.randbits(12) << 64) | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def uuid6(ticks: int) -> str:
    value = ((ticks >> 12) << 80) | (0x6 << 76) | ((ticks & 0xFFF) << 64) | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def ulid(ms: int) -> str:
    value = (ms << 80) | secrets.randbits(80)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def ksuid(seconds: int) -> str:
    value = ((seconds - 1_400_000_000) << 128) | secrets.randbits(128)
    digits = []
    for _ in range(27):
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def objectid(seconds: int, counter: int, process: str = "a1b2c3d4e5") -> str:
    return f"{seconds:08x}{process}{counter:06x}"


def base62(length: int, rng: random.Random | None = None) -> str:
    return "".join((rng or random.Random(secrets.randbits(64))).choice(BASE62) for _ in range(length))


def fixed_hex(rng: random.Random, nbytes: int) -> str:
    return rng.randbytes(nbytes).hex()


# --- insufficient data --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [[], ["42"]])
def test_fewer_than_two_ids_are_insufficient(values: list[str]) -> None:
    verdict = judge(values)
    assert verdict.kind == "insufficient"
    assert not verdict.enumerable


def test_identical_ids_are_insufficient() -> None:
    verdict = judge(["7", "7", "7"])
    assert verdict.kind == "insufficient"
    assert "same value" in verdict.message


# --- integers -----------------------------------------------------------------------------------------------------


def test_consecutive_integers_by_different_users() -> None:
    verdict = judge(["41", "42", "43"], ["alice", "bob", "alice"])
    assert verdict.enumerable
    assert verdict.kind == "sequential_integer"
    assert verdict.message.startswith("ids 41, 42, 43 were assigned to consecutive creations by different users")


def test_consecutive_integers_by_one_user_say_so() -> None:
    verdict = judge(["1", "2"], ["alice", "alice"])
    assert verdict.kind == "sequential_integer"
    assert "by one user" in verdict.message


def test_increasing_integers_with_small_gaps() -> None:
    verdict = judge(["100", "103", "110", "111"])
    assert verdict.kind == "sequential_integer"
    assert "by at most 7" in verdict.message


def test_long_id_lists_are_abbreviated_in_messages() -> None:
    verdict = judge([str(number) for number in range(10, 20)])
    assert "ids 10, 11, 12, 13, 14, ..." in verdict.message


def test_non_monotone_integers_in_a_small_range_are_enumerable() -> None:
    verdict = judge(["5812", "17", "93044", "611"])
    assert verdict.enumerable
    assert verdict.kind == "small_range_integer"
    assert "range of 93028 values" in verdict.message


def test_snowflake_style_integers_are_time_ordered() -> None:
    base = (NOW_MS - 1_288_834_974_657) << 22
    values = [str(base + (offset_ms << 22) + worker) for offset_ms, worker in ((0, 5), (1500, 9), (4200, 1))]
    verdict = judge(values)
    assert verdict.enumerable
    assert verdict.kind == "time_ordered_integer"


def test_random_63_bit_integers_fall_just_below_the_bar() -> None:
    rng = random.Random(7)
    values = [str(rng.getrandbits(63)) for _ in range(6)]
    verdict = judge(values)
    assert verdict.kind == "low_entropy_integer"
    assert verdict.entropy_bits is not None
    assert 60 < verdict.entropy_bits < 64


def test_random_large_integers_are_not_enumerable() -> None:
    rng = random.Random(3)
    values = [str(rng.getrandbits(128)) for _ in range(5)]
    verdict = judge(values)
    assert not verdict.enumerable
    assert verdict.kind == "random_integer"


def test_zero_padded_integers_are_integers() -> None:
    assert judge(["0007", "0008"]).kind == "sequential_integer"


# --- UUIDs --------------------------------------------------------------------------------------------------------


def test_random_uuids_are_fine() -> None:
    rng = random.Random(4)  # seeded: by chance one of 30 random hex digits repeats in 5 ids about once in 2,000 runs
    verdict = judge([str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(5)])
    assert not verdict.enumerable
    assert verdict.kind == "uuid_v4"
    assert verdict.entropy_bits == 122.0


def test_a_uuid_v4_variant_digit_shared_by_every_id_is_no_loss_of_entropy() -> None:
    rng = random.Random(7)
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(5)]
    same_variant = [str(uuid.UUID(hex=value.hex[:16] + "8" + value.hex[17:])) for value in ids]
    assert judge(same_variant).entropy_bits == 122.0


def test_uuid_v1_names_version_and_guessable_timestamp() -> None:
    verdict = judge([str(uuid.uuid1(node=0x0242AC110002)) for _ in range(3)], now=time.time())
    assert verdict.enumerable
    assert verdict.kind == "uuid_v1"
    assert "version-1" in verdict.message
    assert "timestamp part is guessable" in verdict.message
    assert "0242ac110002" in verdict.message


def test_uuid_v6_is_time_based() -> None:
    ticks = NOW_MS * 10_000 + 0x01B21DD213814000
    verdict = judge([uuid6(ticks), uuid6(ticks + 5_000_000)])
    assert verdict.enumerable
    assert verdict.kind == "uuid_v6"


def varied_uuid7s(*times_ms: int) -> list[str]:
    """UUIDv7s whose random hex digits differ at every position: in about one case of 15, three real ids have the
    same digit at some position, and a digit all samples share is judged not random (70 bits instead of 74)."""
    while True:
        values = [uuid7(ms) for ms in times_ms]
        random_parts = [value.replace("-", "")[13:] for value in values]  # after the version digit
        if all(len(set(column)) == len(values) for column in zip(*random_parts, strict=True)):
            return values


def test_uuid_v7_is_judged_by_its_random_bits_and_only_says_it_reveals_creation_time() -> None:
    verdict = judge(varied_uuid7s(NOW_MS, NOW_MS + 20, NOW_MS + 900))
    assert not verdict.enumerable  # 74 random bits: above the 64-bit bar
    assert verdict.kind == "uuid_v7"
    assert verdict.entropy_bits == 74.0
    assert "version-7" in verdict.message
    assert "reveal when each object was created" in verdict.message
    assert "2024-05-01T12:30:45Z" in verdict.message


def test_uuid_v7_with_a_stricter_bar_is_enumerable() -> None:
    values = [uuid7(NOW_MS), uuid7(NOW_MS + 20)]
    assert analyse_ids(observed(values), now=NOW_S, min_entropy_bits=80).enumerable
    assert not analyse_ids(observed(values), now=NOW_S, min_entropy_bits=74).enumerable


def test_uuid_v7_with_constant_random_digits_is_low_entropy() -> None:
    # rand_a a fixed counter value and the top of rand_b constant: only 40 bits of rand_b vary
    def fixed(ms: int) -> str:
        value = (ms << 80) | (0x7 << 76) | (0x001 << 64) | (0b10 << 62) | (0x2A << 40) | secrets.randbits(40)
        return str(uuid.UUID(int=value))

    verdict = judge([fixed(NOW_MS + step) for step in range(0, 50, 10)])
    assert verdict.enumerable
    assert verdict.kind == "uuid_v7"
    assert verdict.entropy_bits is not None
    assert verdict.entropy_bits < 64
    assert "random hex digits are the same in every id" in verdict.message


def test_uuid_v1_and_v6_stay_findings_next_to_v7() -> None:
    ticks = NOW_MS * 10_000 + 0x01B21DD213814000
    assert judge([uuid6(ticks), uuid6(ticks + 5_000_000)]).enumerable
    assert judge([str(uuid.uuid1()), str(uuid.uuid1())], now=time.time()).enumerable


def test_undashed_time_based_uuids_are_recognised() -> None:
    verdict = judge([uuid7(NOW_MS).replace("-", ""), uuid7(NOW_MS + 3).replace("-", "")])
    assert verdict.kind == "uuid_v7"
    assert judge([uuid.uuid1().hex, uuid.uuid1().hex], now=time.time()).kind == "uuid_v1"


def test_undashed_values_with_implausible_uuid_times_are_not_uuids() -> None:
    # version digit 7 and variant 8 by chance, but the decoded times lie centuries apart
    values = ["00000000000070008000000000000001", "ffff00000000700080000000000000ff"]
    assert judge(values).kind == "random_string"


def test_undashed_random_uuids_are_judged_as_hex() -> None:
    verdict = judge([uuid.uuid4().hex for _ in range(4)])
    assert not verdict.enumerable
    assert verdict.kind == "random_string"


def test_name_based_uuids_are_computable() -> None:
    verdict = judge([str(uuid.uuid5(uuid.NAMESPACE_DNS, name)) for name in ("alice", "bob")])
    assert verdict.enumerable
    assert verdict.kind == "uuid_v5"


def test_uuid_formatted_counter_is_low_entropy() -> None:
    values = [f"00000000-0000-4000-8000-{number:012x}" for number in range(1, 6)]
    verdict = judge(values)
    assert verdict.enumerable
    assert verdict.kind == "low_entropy_uuid_v4"
    assert "only 1 of 30 positions vary" in verdict.message


# --- time-prefixed strings ----------------------------------------------------------------------------------------


def test_ulids_have_a_timestamp_prefix_and_enough_random_bits() -> None:
    verdict = judge([ulid(NOW_MS), ulid(NOW_MS + 15)])
    assert not verdict.enumerable  # 80 random bits follow the time
    assert verdict.kind == "ulid"
    assert verdict.entropy_bits == 80.0
    assert "2024-05-01T12:30:45Z" in verdict.message
    assert "reveals when each object was created" in verdict.message


def test_ulids_whose_random_part_barely_varies_are_enumerable() -> None:
    rng = random.Random(3)
    values = [ulid(NOW_MS + step)[:10] + "0" * 10 + "".join(rng.choice(CROCKFORD) for _ in range(6))
              for step in range(4)]
    verdict = judge(values)
    assert verdict.kind == "ulid"
    assert verdict.enumerable


def test_lower_case_ulids_are_recognised() -> None:
    assert judge([ulid(NOW_MS).lower(), ulid(NOW_MS + 1).lower()]).kind == "ulid"


def test_ulids_from_years_ago_are_not_taken_for_creation_times() -> None:
    three_years_ms = 3 * 365 * 24 * 3600 * 1000
    verdict = judge([ulid(NOW_MS - three_years_ms), ulid(NOW_MS - three_years_ms + 5)])
    assert verdict.kind == "random_string"
    assert "base32 (Crockford)" in verdict.message


def test_ulids_more_than_a_day_apart_are_not_taken_for_creation_times() -> None:
    assert judge([ulid(NOW_MS - 2 * 24 * 3600 * 1000), ulid(NOW_MS)]).kind == "random_string"


def test_default_now_is_the_current_time() -> None:
    now_ms = int(time.time() * 1000)
    assert analyse_ids(observed([ulid(now_ms), ulid(now_ms + 1)])).kind == "ulid"
    assert analyse_ids(observed([ulid(NOW_MS), ulid(NOW_MS + 1)])).kind != "ulid"


def test_ksuids_have_a_timestamp_prefix_and_enough_random_bits() -> None:
    verdict = judge([ksuid(NOW_MS // 1000), ksuid(NOW_MS // 1000 + 2)])
    assert not verdict.enumerable
    assert verdict.kind == "ksuid"
    assert verdict.entropy_bits == 128.0


def test_objectids_are_predictable() -> None:
    seconds = NOW_MS // 1000
    verdict = judge([objectid(seconds, 10), objectid(seconds, 11), objectid(seconds + 1, 12)])
    assert verdict.enumerable
    assert verdict.kind == "objectid"
    assert "count up" in verdict.message
    assert "same for every id" in verdict.message


def test_time_prefixed_hex_that_is_not_an_objectid() -> None:
    seconds = NOW_MS // 1000
    verdict = judge([f"{seconds:08x}{secrets.token_hex(10)}", f"{seconds + 1:08x}{secrets.token_hex(10)}"])
    assert verdict.kind == "time_prefixed_hex"
    assert verdict.entropy_bits == 80.0
    assert not verdict.enumerable


def test_time_prefixed_hex_with_few_random_bits_is_enumerable() -> None:
    seconds = NOW_MS // 1000
    verdict = judge([f"{seconds:08x}{secrets.token_hex(6)}", f"{seconds + 1:08x}{secrets.token_hex(6)}"])
    assert verdict.kind == "time_prefixed_hex"
    assert verdict.enumerable
    assert verdict.entropy_bits == 48.0


def test_prefixes_that_decode_to_far_apart_times_are_not_timestamps() -> None:
    verdict = judge(["5a000000" + secrets.token_hex(12), "66000000" + secrets.token_hex(12)])
    assert verdict.kind == "random_string"


def test_timestamp_prefixes_going_backwards_are_not_creation_times() -> None:
    seconds = NOW_MS // 1000
    verdict = judge([f"{seconds + 600:08x}{secrets.token_hex(12)}", f"{seconds:08x}{secrets.token_hex(12)}"])
    assert verdict.kind != "time_prefixed_hex"


# --- prefix + counter, e-mail, strings ----------------------------------------------------------------------------


def test_prefix_and_counter() -> None:
    verdict = judge(["ENT-000123", "ENT-000124", "ENT-000125"])
    assert verdict.enumerable
    assert verdict.kind == "prefixed_counter"
    assert "'ENT-'" in verdict.message
    assert "ENT-000123, ENT-000124, ENT-000125" in verdict.message


def test_prefix_with_random_number_is_judged_as_a_string() -> None:
    rng = random.Random(11)
    verdict = judge([f"usr_{rng.getrandbits(200)}" for _ in range(3)])
    assert not verdict.enumerable
    assert verdict.kind == "random_string"


def test_email_addresses_are_guessable() -> None:
    verdict = judge(["alice@example.org", "bob@example.org"])
    assert verdict.enumerable
    assert verdict.kind == "email_address"


def test_random_base62_of_22_characters_is_fine() -> None:
    rng = random.Random(2)
    verdict = judge([base62(22, rng) for _ in range(3)])
    assert not verdict.enumerable
    assert verdict.kind == "random_string"
    assert verdict.entropy_bits is not None
    assert verdict.entropy_bits > 120


def test_short_random_hex_is_low_entropy_with_the_estimate_in_the_message() -> None:
    rng = random.Random(5)
    verdict = judge([fixed_hex(rng, 6) for _ in range(3)])
    assert verdict.enumerable
    assert verdict.kind == "low_entropy_string"
    assert "about 48 bits" in verdict.message
    assert "hex strings of 12 characters" in verdict.message


def test_short_usernames_are_low_entropy() -> None:
    verdict = judge(["alice", "bob", "carol"])
    assert verdict.enumerable
    assert "lower-case alphanumeric" in verdict.message


def test_shared_label_prefix_is_not_counted_as_entropy() -> None:
    rng = random.Random(9)
    verdict = judge([f"entry_{fixed_hex(rng, 7)}" for _ in range(3)])
    assert verdict.kind == "low_entropy_string"
    assert verdict.entropy_bits == 56.0


def test_future_timestamp_prefixes_are_not_creation_times() -> None:
    # 0xAAAAAAAA seconds is in 2060, decades after "now": a constant hex prefix, not a clock
    rng = random.Random(1)
    assert judge([f"AAAAAAAA{fixed_hex(rng, 12)}", f"AAAAAAAA{fixed_hex(rng, 12)}"]).kind == "random_string"


def test_constant_positions_lower_the_estimate_when_samples_suffice() -> None:
    values = [f"{'k' * 30}{suffix}" for suffix in ("Qz", "b7", "Xa", "m2")]
    verdict = judge(values)
    assert verdict.enumerable
    assert "only 2 of 32 positions vary" in verdict.message


def test_base64url_alphabet_is_recognised() -> None:
    verdict = judge([secrets.token_urlsafe(16) for _ in range(3)])
    assert "base64url" in verdict.message or "base62" in verdict.message
    assert not verdict.enumerable


def test_min_entropy_is_configurable() -> None:
    values = [secrets.token_hex(12) for _ in range(3)]
    assert not analyse_ids(observed(values), min_entropy_bits=64).enumerable
    assert analyse_ids(observed(values), min_entropy_bits=128).enumerable


def test_whitespace_around_ids_is_ignored() -> None:
    assert judge([" 1", "2 "]).kind == "sequential_integer"


def test_timing_of_real_uuid1_generation_is_plausible() -> None:
    # uuid1 from this very machine: the creation time decoded must be now
    value = uuid.uuid1()
    assert abs((value.time - 0x01B21DD213814000) / 1e7 - time.time()) < 60
    assert judge([str(value), str(uuid.uuid1())], now=time.time()).kind == "uuid_v1"


# --- is_integer_typed ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer"},
        {"type": "integer", "format": "int64", "minimum": 1},
        {"type": ["integer", "null"]},
        {"type": "string", "format": "int64"},
        {"type": "number", "format": "int32"},
        {"name": "entry_id", "in": "path", "schema": {"type": "integer"}},
        {"oneOf": [{"type": "integer"}, {"type": "null"}]},
        {"allOf": [{"type": "integer"}, {"minimum": 1, "type": "integer"}]},
    ],
)
def test_integer_typed_schemas(schema: dict[str, object]) -> None:
    assert is_integer_typed(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {},
        {"type": "string"},
        {"type": "string", "format": "uuid"},
        {"type": "number"},
        {"type": ["integer", "string"]},
        {"$ref": "#/components/schemas/Id"},
        {"name": "id", "in": "path", "schema": {"type": "string"}},
        {"oneOf": [{"type": "integer"}, {"type": "string"}]},
        {"anyOf": [{"type": "null"}]},
        {"type": "null"},
    ],
)
def test_not_integer_typed_schemas(schema: dict[str, object]) -> None:
    assert not is_integer_typed(schema)


def test_random_ids_are_judged_the_same_way_on_every_run() -> None:
    # guards against flaky verdicts: many independent draws of good ids must never be called enumerable
    for _ in range(200):
        assert not judge([str(uuid.uuid4()), str(uuid.uuid4())]).enumerable
        assert not judge([os.urandom(16).hex(), os.urandom(16).hex()]).enumerable
        assert not judge([base62(22), base62(22)]).enumerable


# --- values the harness chose itself ------------------------------------------------------------------------------
TAG = "digasec-20261201205000-a1b2c3"
CHOSEN = [
    *(ChosenValue(f"{TAG}-user{n}", "username") for n in (1, 2, 3)),
    *(ChosenValue(f"{TAG}-user{n}@example.org", "e-mail address") for n in (1, 2, 3)),
    ChosenValue("cnry0a1b2c3d4e5f", "canary"),
    ChosenValue("Jo", "name"),
]


def test_the_harness_usernames_would_be_a_counter_and_are_left_out() -> None:
    usernames = observed([f"{TAG}-user{n}" for n in (1, 2, 3)])
    assert analyse_ids(usernames).kind == "prefixed_counter"  # what the check must never report
    kept, dropped = without_chosen(usernames, CHOSEN)
    assert kept == []
    assert [chosen.what for _, chosen in dropped] == ["username"] * 3


def test_values_containing_a_chosen_value_are_left_out_case_insensitively() -> None:
    assert chosen_value_in(f"{TAG.upper()}-USER2@EXAMPLE.ORG", CHOSEN) == CHOSEN[4]
    assert chosen_value_in("note-cnry0a1b2c3d4e5fx7", CHOSEN) == CHOSEN[6]
    assert chosen_value_in(f"{TAG}-user3-diary", CHOSEN) == CHOSEN[2]


def test_short_chosen_values_count_only_when_equal() -> None:
    assert chosen_value_in("Jo", CHOSEN) == CHOSEN[7]
    assert chosen_value_in("aJo7xQ", CHOSEN) is None


def test_server_assigned_sequential_integers_stay_a_finding() -> None:
    ids = observed(["41", "42", "43"])
    kept, dropped = without_chosen(ids, CHOSEN)
    assert (kept, dropped) == (ids, [])
    verdict = analyse_ids(kept)
    assert verdict.enumerable
    assert verdict.kind == "sequential_integer"


def test_server_assigned_uuids_stay_judged_next_to_chosen_ones() -> None:
    subs = [str(uuid.uuid4()) for _ in range(3)]
    kept, dropped = without_chosen(observed([*subs, f"{TAG}-user1"]), CHOSEN)
    assert [item.value for item in kept] == subs
    assert len(dropped) == 1
    assert analyse_ids(kept).kind == "uuid_v4"
    assert not analyse_ids(kept).enumerable
