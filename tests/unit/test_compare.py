from __future__ import annotations

import json

import pytest

from fixtures.analysis.compare import (
    MASK,
    DynamicMask,
    NormalisedResponse,
    ResponseShape,
    apply_template,
    body_difference,
    build_template,
    cookie_names,
    diff_responses,
    flatten_json,
    learn_dynamic,
    mask_html,
    normalise,
    normalise_body,
    tokenize,
)

JSON = "application/json"
HTML = "text/html; charset=utf-8"


def json_shape(body: object, status: int = 404, headers: dict[str, str] | None = None) -> ResponseShape:
    return ResponseShape(status, {"content-type": JSON, **(headers or {})}, json.dumps(body))


def normalised(
    status: int = 404,
    *,
    headers: frozenset[str] = frozenset(),
    cookies: frozenset[str] = frozenset(),
    body: str = "",
    values: tuple[tuple[str, str], ...] = (),
) -> NormalisedResponse:
    return NormalisedResponse(status, headers, cookies, body, values)


# --- normalise_body ---------------------------------------------------------------------------------------------


def test_json_is_canonicalised_with_sorted_keys() -> None:
    assert normalise_body('{"b": 1,  "a": {"d": 2, "c": 3}}', JSON) == '{"a":{"c":3,"d":2},"b":1}'


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("2024-05-01T12:30:45.123Z", "<timestamp>"),
        ("2024-05-01 12:30:45+02:00", "<timestamp>"),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "<timestamp>"),
        ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "<uuid>"),
        ("0123456789abcdef0123", "<hex>"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-def_ghi", "<jwt>"),
        ("request aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z done", "request <random> done"),
    ],
)
def test_dynamic_json_strings_are_masked(value: str, masked: str) -> None:
    assert json.loads(normalise_body(json.dumps({"v": value}), JSON)) == {"v": masked}


@pytest.mark.parametrize("value", ["not found", "1990-01-01", "abc123", "Entry", "deadbeef"])
def test_ordinary_json_strings_are_kept(value: str) -> None:
    assert json.loads(normalise_body(json.dumps({"v": value}), JSON)) == {"v": value}


@pytest.mark.parametrize(
    ("number", "masked"),
    [(1714566645, "<epoch>"), (1714566645123, "<epoch>"), (1714566645.25, "<epoch>"), (404, 404), (123456, 123456)],
)
def test_epoch_like_numbers_are_masked(number: float, masked: object) -> None:
    assert json.loads(normalise_body(json.dumps({"t": number}), JSON)) == {"t": masked}


def test_booleans_are_never_masked_as_numbers() -> None:
    assert normalise_body('{"ok": true}', JSON) == '{"ok":true}'


def test_problem_json_counts_as_json() -> None:
    assert normalise_body('{"b":1, "a":2}', "application/problem+json") == '{"a":2,"b":1}'


def test_json_without_content_type_is_recognised() -> None:
    assert normalise_body('{"b":1, "a":2}', "") == '{"a":2,"b":1}'


def test_invalid_json_falls_back_to_text() -> None:
    assert normalise_body('{"broken": 2024-05-01T12:30:45Z', JSON) == '{"broken": <timestamp>'


def test_literals_echoed_from_the_request_are_masked() -> None:
    body = '{"detail": "Entry 4711 not found", "id": 4711, "other": 14711}'
    assert normalise_body(body, JSON, mask_literals=["4711"]) == (
        '{"detail":"Entry <input> not found","id":"<input>","other":14711}'
    )


def test_text_bodies_mask_timestamps_and_uuids() -> None:
    text = "error at 2024-05-01T12:30:45Z for 3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    assert normalise_body(text, "text/plain") == "error at <timestamp> for <uuid>"


def test_html_hidden_inputs_csrf_and_nonces_are_masked() -> None:
    html = (
        '<script nonce="r4nd0m">x</script>'
        '<input type="hidden" name="credentialId" value="abc">'
        '<input name="username" value="alice">'
        "<meta name='csrf-token' content='tok123'>"
        '<input value="t0k" name="_csrf" type="text">'
    )
    assert mask_html(html) == (
        f'<script nonce="{MASK}">x</script>'
        f'<input type="hidden" name="credentialId" value="{MASK}">'
        '<input name="username" value="alice">'
        f"<meta name='csrf-token' content=\"{MASK}\">"
        f'<input value="{MASK}" name="_csrf" type="text">'
    )


def test_keycloak_action_url_codes_are_masked() -> None:
    html = (
        '<form action="/realms/r/login-actions/authenticate?session_code=Ab1&amp;execution=e-2'
        '&amp;client_id=app&amp;tab_id=T3&amp;client_data=eyJ9&amp;kc_locale=de">'
    )
    assert normalise_body(html, HTML) == (
        f'<form action="/realms/r/login-actions/authenticate?session_code={MASK}&amp;execution={MASK}'
        f'&amp;client_id=app&amp;tab_id={MASK}&amp;client_data={MASK}&amp;kc_locale={MASK}">'
    )


# --- header and cookie names --------------------------------------------------------------------------------------


def test_always_dynamic_headers_are_left_out_and_cookie_names_kept() -> None:
    shape = ResponseShape(
        200,
        {
            "Date": "x",
            "Content-Length": "12",
            "ETag": '"1"',
            "X-Request-Id": "r",
            "Age": "3",
            "Set-Cookie": "KC_RESTART=abc; Path=/",
            "X-Foo": "1",
            "Content-Type": JSON,
        },
        "{}",
    )
    result = normalise(shape)
    assert result.header_names == frozenset({"x-foo", "content-type"})
    assert result.cookie_names == frozenset({"KC_RESTART"})


def test_cookie_names_of_joined_set_cookie_headers() -> None:
    value = "A=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/, B=2; Max-Age=0\nC=3"
    assert cookie_names({"set-cookie": value}) == frozenset({"A", "B", "C"})


def test_location_values_are_compared_with_codes_masked() -> None:
    first = normalise(ResponseShape(302, {"location": "/login?session_code=abc&error=unknown"}, ""))
    second = normalise(ResponseShape(302, {"location": "/login?session_code=xyz&error=unknown"}, ""))
    third = normalise(ResponseShape(302, {"location": "/login?session_code=xyz&error=password"}, ""))
    assert diff_responses(first, second) == []
    assert diff_responses(first, third) == [
        f"header location: '/login?session_code={MASK}&error=unknown' vs '/login?session_code={MASK}&error=password'"
    ]


# --- learn_dynamic ------------------------------------------------------------------------------------------------


def test_learn_dynamic_needs_two_samples() -> None:
    with pytest.raises(ValueError, match="at least 2 samples"):
        learn_dynamic([json_shape({})])


def test_learned_json_paths_are_masked_in_other_responses() -> None:
    samples = [
        json_shape({"error": "not found", "trace": "a1", "n": 1}),
        json_shape({"error": "not found", "trace": "b2", "n": 1}),
    ]
    mask = learn_dynamic(samples)
    assert mask.json_paths == frozenset({"/trace"})
    other = mask.apply(json_shape({"error": "not found", "trace": "zz", "n": 1}))
    assert other.body == f'{{"error":"not found","n":1,"trace":"{MASK}"}}'


def test_learned_mask_does_not_hide_real_differences() -> None:
    samples = [json_shape({"error": "not found", "trace": "a1"}), json_shape({"error": "not found", "trace": "b2"})]
    mask = learn_dynamic(samples)
    missing = mask.apply(json_shape({"error": "not found", "trace": "c3"}))
    foreign = mask.apply(json_shape({"error": "forbidden", "trace": "d4"}, status=403))
    assert diff_responses(missing, foreign) == [
        "status 404 vs 403",
        """body: '{"error":"not found","trace":"<dyn…' vs '{"error":"forbidden","trace":"<dyn…'""",
    ]


def test_json_paths_inside_lists_share_one_path() -> None:
    assert flatten_json({"items": [{"id": 1}, {"id": 2}]}) == {
        "": ["<object>"],
        "/items": ["<array:2>"],
        "/items/*": ["<object>", "<object>"],
        "/items/*/id": ["1", "2"],
    }


def test_list_of_varying_length_is_masked_whole() -> None:
    mask = learn_dynamic([json_shape({"items": [1]}), json_shape({"items": [1, 2]})])
    assert mask.apply(json_shape({"items": [1, 2, 3]})).body == f'{{"items":"{MASK}"}}'


def test_keys_present_in_some_samples_only_are_dropped() -> None:
    mask = learn_dynamic([json_shape({"a": 1, "debug": "x"}), json_shape({"a": 1})])
    assert mask.optional_json_paths == frozenset({"/debug"})
    assert mask.apply(json_shape({"a": 1, "debug": "y"})).body == '{"a":1}'


def test_keys_with_slashes_have_escaped_paths() -> None:
    mask = learn_dynamic([json_shape({"a/b": "x", "c~d": 1}), json_shape({"a/b": "y", "c~d": 1})])
    assert mask.json_paths == frozenset({"/a~1b"})


def test_identical_samples_learn_nothing() -> None:
    shape = json_shape({"error": "not found"})
    mask = learn_dynamic([shape, shape])
    assert mask.is_empty
    assert mask.apply(shape) == normalise(shape)


def test_headers_and_cookies_present_in_some_samples_only_are_ignored() -> None:
    first = json_shape({}, headers={"x-cache": "HIT", "set-cookie": "A=1, B=2"})
    second = json_shape({}, headers={"set-cookie": "A=3"})
    mask = learn_dynamic([first, second])
    assert mask.optional_headers == frozenset({"x-cache"})
    assert mask.optional_cookies == frozenset({"B"})
    assert diff_responses(mask.apply(first), mask.apply(second)) == []


def test_varying_location_values_are_dropped_but_the_name_is_kept() -> None:
    first = ResponseShape(302, {"location": "/a/1"}, "")
    second = ResponseShape(302, {"location": "/a/2"}, "")
    mask = learn_dynamic([first, second])
    assert mask.dynamic_header_values == frozenset({"location"})
    applied = mask.apply(ResponseShape(302, {"location": "/b"}, ""))
    assert applied.header_names == frozenset({"location"})
    assert applied.header_values == ()


def test_statuses_of_samples_are_recorded() -> None:
    mask = learn_dynamic([json_shape({}, status=200), json_shape({}, status=429)])
    assert mask.statuses == frozenset({200, 429})


def _page(code: str, node: str, error: str) -> ResponseShape:
    body = (
        f'<html><form action="/auth?x=1">\n<p>served by {node} in build {code}</p>\n'
        f'<span class="error">{error}</span></form></html>'
    )
    return ResponseShape(200, {"content-type": HTML}, body)


def test_text_tokens_that_vary_are_learned() -> None:
    error = "Invalid credentials"
    mask = learn_dynamic([_page("a1b2", "node-1", error), _page("c3d4", "node-2", error)])
    same = mask.apply(_page("e5f6", "node-3", "Invalid credentials"))
    also_same = mask.apply(_page("g7", "node-4", "Invalid credentials"))
    different = mask.apply(_page("h8i9", "node-5", "Unknown user"))
    assert MASK in same.body
    assert diff_responses(same, also_same) == []
    assert diff_responses(same, different) == [
        """body: '… class="error">Invalid credentials</span></form><…'"""
        """ vs '… class="error">Unknown user</span></form><…'"""
    ]


def test_template_masks_insertions_next_to_wildcards_only() -> None:
    template = build_template([tokenize("id 12 ok"), tokenize("id 345 ok")])
    assert apply_template(template, tokenize("id 6 7 ok")) == f"id {MASK} ok"
    assert apply_template(template, tokenize("id 6 ok extra")) == f"id {MASK} ok extra"


def test_template_keeps_regions_that_mix_wildcards_and_words() -> None:
    template = build_template([tokenize("a 1 b"), tokenize("a 2 b")])
    assert apply_template(template, tokenize("a 9 different")) == f"a {MASK} different"
    # "b" is missing next to the wildcard: the region could hide a real change, so it stays visible
    assert apply_template(template, tokenize("a xyz")) == "a xyz"


def test_insertions_between_samples_become_wildcards() -> None:
    template = build_template([tokenize("hello world"), tokenize("hello big world")])
    assert apply_template(template, tokenize("hello small world")) == f"hello {MASK}world"


# --- diff_responses -----------------------------------------------------------------------------------------------


def test_indistinguishable_responses_have_no_differences() -> None:
    response = normalised(headers=frozenset({"a"}), cookies=frozenset({"C"}), body="x")
    assert diff_responses(response, response) == []


def test_status_difference() -> None:
    assert diff_responses(normalised(404), normalised(401)) == ["status 404 vs 401"]


def test_header_set_differences_name_each_side() -> None:
    first = normalised(headers=frozenset({"x-foo", "x-both"}))
    second = normalised(headers=frozenset({"x-bar", "x-baz", "x-both"}))
    assert diff_responses(first, second) == [
        "header set: only in first: x-foo",
        "header set: only in second: x-bar, x-baz",
    ]


def test_cookie_name_difference() -> None:
    assert diff_responses(normalised(), normalised(cookies=frozenset({"KC_RESTART"}))) == [
        "cookie names: only in second: KC_RESTART"
    ]


def test_short_body_difference_is_shown_whole() -> None:
    assert diff_responses(normalised(body="no such user"), normalised(body="wrong password")) == [
        "body: 'no such user' vs 'wrong password'"
    ]


def test_body_difference_is_compact_for_long_bodies() -> None:
    common = "x" * 2000
    text = body_difference(f"{common} alpha {common}", f"{common} beta {common}")
    assert text == f"'…{'x' * 14} alpha {'x' * 14}…' vs '…{'x' * 14} beta {'x' * 14}…'"
    assert len(text) <= 300


def test_body_difference_with_several_far_apart_changes_shows_the_first() -> None:
    first = "start one " + "y " * 200 + "end one"
    second = "start two " + "y " * 200 + "end two"
    text = body_difference(first, second)
    assert text == "'start one y y y y y y y …' vs 'start two y y y y y y y …' (and 1 more differing part)"


def test_body_difference_counts_the_parts_not_shown() -> None:
    first = "one " + "y " * 100 + "two " + "y " * 100 + "three"
    second = "uno " + "y " * 100 + "dos " + "y " * 100 + "tres"
    assert body_difference(first, second).endswith("(and 2 more differing parts)")


def test_body_difference_against_empty_body() -> None:
    assert body_difference("", "some text") == "'' vs 'some text'"


def test_newlines_in_excerpts_are_escaped() -> None:
    assert body_difference("a\nb", "a\nc") == "'a\\nb' vs 'a\\nc'"


def test_all_differences_are_listed_in_order() -> None:
    first = normalised(404, headers=frozenset({"x-a"}), body="one", values=(("content-type", "application/json"),))
    second = normalised(
        401,
        headers=frozenset({"x-a", "www-authenticate"}),
        cookies=frozenset({"S"}),
        body="two",
        values=(("content-type", "text/html"),),
    )
    assert diff_responses(first, second) == [
        "status 404 vs 401",
        "header set: only in second: www-authenticate",
        "header content-type: 'application/json' vs 'text/html'",
        "cookie names: only in second: S",
        "body: 'one' vs 'two'",
    ]


def test_dynamic_mask_default_is_plain_normalisation() -> None:
    shape = json_shape({"at": "2024-05-01T12:30:45Z"})
    assert DynamicMask().apply(shape).body == '{"at":"<timestamp>"}'
