from __future__ import annotations

import re

from fixtures.api.catalogue import build_catalogue
from fixtures.api.datagen import ValueGenerator
from tests.unit.spec_samples import notes_api


def note_schema():
    cat = build_catalogue(notes_api(), "0" * 64, public_operations=[], user_path_params=[])
    return cat.find("POST", "/notes").body_schema


def test_generated_body_is_valid_and_carries_the_canary():
    import jsonschema_rs

    schema = note_schema()
    body = ValueGenerator(canary="cnryabc123", seed=1).value_for(schema)
    jsonschema_rs.validator_for(schema).validate(body)
    assert "cnryabc123" in body["text"]
    assert len(body["text"]) <= 80
    assert 1 <= body["stars"] <= 5
    assert body["kind"] == "a"
    assert re.fullmatch(r"[A-Z]{3}-[0-9]{2}", body["code"])
    assert len(body["labels"]) >= 2
    assert "id" not in body  # readOnly


def test_generation_is_deterministic_for_a_seed():
    schema = note_schema()
    first = ValueGenerator(canary="cnry1", seed=7).value_for(schema)
    second = ValueGenerator(canary="cnry1", seed=7).value_for(schema)
    assert first == second


def test_short_max_length_still_fits():
    value = ValueGenerator(canary="cnry0123456789", seed=1).value_for({"type": "string", "maxLength": 5})
    assert len(value) <= 5


def test_pattern_generation_survives_warnings_as_errors():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = ValueGenerator(canary="c", seed=1).value_for({"type": "string", "pattern": r"^\d{2}:\d{2}$"})
    assert re.fullmatch(r"[0-9]{2}:[0-9]{2}", value)
