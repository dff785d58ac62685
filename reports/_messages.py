"""The harness's English messages, skip reasons, error reasons and notes in German, for the German report.

findings.json keeps the English text (the machine contract); report.html translates it when it is written.
`reports/messages.yaml` lists English templates with named placeholders (`{op}`) and their German form. A text
matches a template when the whole of it fits (an anchored regex built from the template); each placeholder's value
is translated again by the same catalogue (an embedded fragment such as "without any credentials"), and a value
the catalogue does not know (a backend excerpt, an id, a path, JSON) passes through unchanged. A text that matches
no template is tried as "; "-separated parts; what matches nothing stays English as written — never half-replaced.
Every step down translates a strictly shorter part (each template has literal text), so the recursion ends; the
German of each part is worked out once (a report asks for the same parts thousands of times).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reports._data import read_yaml

MESSAGES_PATH = Path(__file__).with_name("messages.yaml")
# `{name}`: any value, translated where the catalogue knows it; `{name!}`: the value must itself be a known text
# (a fragment such as a token variant's description), else the template does not match — so that no German
# frame ever holds an English phrase it was written for.
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(!?)\}")
_SEPARATOR = re.compile(r"(; | \| )")  # between the parts of a note or a message ("; ", " | ")
# Placeholders of these names hold one word (a user key, an HTTP method, a status code, a number), so that a value
# with spaces or brackets (a backend excerpt) cannot be split across them.
_SHAPES = {
    "user": r"\S+", "attacker": r"\S+", "victim": r"\S+", "owner": r"\S+", "method": r"\S+", "state": r"[a-z0-9_]+",
    "code": r"\d{3}", "other_code": r"\d{3}", "count": r"\d+", "total": r"\d+", "location": r"\w+", "role": r"\w+",
    "name": r"[^`]+", "excerpt": r"[^`]+", "rounds": r"\d+", "warmup": r"\d+", "seconds": r"[\d.]+",
    # numbers of the timing and id verdicts (a p-value, a median, bits)
    **{name: r"[-+]?[\d.]+(?:e[-+]?\d+)?" for name in ("p", "a", "b", "n_a", "n_b", "iqr_a", "iqr_b", "diff", "delta",
                                                     "alpha", "min", "bits", "low")},
}
_VERBATIM = frozenset({"key"})  # placeholders whose value is a name in the profile, never translated
_MAX_LENGTH = 5000  # longer texts (a long excerpt inside) stay as written: bounded matching time
# Two words in a row outside quotes and backticks: a value no template knows that reads as English text (an
# operation, a path, an id or a quoted excerpt does not).
_PROSE = re.compile(r"(?<![\w/{.-])[A-Za-z]{2,} [A-Za-z]{2,}(?![\w/}])")
_QUOTED = re.compile(r"`[^`]*`|(?<!\w)'[^']*'(?!\w)|\"[^\"]*\"")  # not the apostrophe of "Cliff's"
_MAX_SPLITS = 64  # ways to split one text over one template that are weighed (most values known wins)
_LIST_SEPARATORS = (", ", "; ", " | ")
# A reason the plugin prefixes with the exception's type (`fixtures.engine.checks.NotApplicable: …`): the type
# stays, the text after it is translated.
_TYPED = re.compile(r"(?P<kind>[A-Za-z_][\w.]*(?:Error|Exception|NotApplicable|Skipped|Timeout)): (?P<text>.+)",
                    re.DOTALL)


@dataclass(frozen=True)
class Template:
    english: str
    german: str
    required: frozenset[str]  # placeholders written `{name!}`
    fragment: bool = False  # from the `fragments` section: a part that messages embed
    appendix: bool = False  # from the `appendices` section: a sentence appended to any message (". Keycloak: …")

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """The anchored regex of the English (compiled on first use: a report tries a few of 600 templates)."""
        return compile_template(self.english)

    @functools.cached_property
    def verbatim(self) -> frozenset[str]:
        """Placeholders whose value stays as written: names in the profile (`_VERBATIM`) and every value the English
        shows in backticks (`{param}`: an operation, a path, a field name)."""
        return _VERBATIM | frozenset(re.findall(r"`\{([a-z_][a-z0-9_]*)!?\}`", self.english))

    @functools.cached_property
    def pieces(self) -> tuple[tuple[str, ...], tuple[tuple[str, re.Pattern[str]], ...]]:
        """The literal texts between the placeholders (one more than placeholders) and each placeholder's name
        and shape."""
        literals = tuple(_PLACEHOLDER.split(self.english)[::3])
        holes = tuple((name, re.compile(_SHAPES.get(name, ".+"), re.DOTALL))
                      for name, _ in _PLACEHOLDER.findall(self.english))
        return literals, holes

    @functools.cached_property
    def ends(self) -> tuple[str, str]:
        """The literal text the template starts and ends with ('' where it starts or ends with a placeholder)."""
        literals = self.pieces[0]
        return literals[0], literals[-1] if len(literals) > 1 else ""

    @functools.cached_property
    def inner(self) -> tuple[str, ...]:
        """The literal texts between the template's placeholders, longest first."""
        return tuple(sorted((piece for piece in self.pieces[0][1:-1] if piece), key=len, reverse=True))

    def may_match(self, text: str) -> bool:
        """A cheap test before the regex: the text starts and ends with the template's literal ends and holds
        each literal text between its placeholders."""
        head, tail = self.ends
        return text.startswith(head) and text.endswith(tail) and all(piece in text for piece in self.inner)

    @property
    def fixed_text(self) -> int:
        """How much literal text the template has: the more, the more specific (tried first)."""
        return len(_PLACEHOLDER.sub("", self.english))


def compile_template(english: str) -> re.Pattern[str]:
    """The anchored regex of an English template: literal text as is, each `{name}` a lazy group (of the name's
    shape, see `_SHAPES`; a name used twice must have the same value both times)."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _PLACEHOLDER.finditer(english):
        parts.append(re.escape(english[position:match.start()]))
        name = match.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{_SHAPES.get(name, '.+')}?)")
        seen.add(name)
        position = match.end()
    parts.append(re.escape(english[position:]))
    return re.compile("".join(parts), re.DOTALL)


@functools.cache
def catalogue() -> tuple[Template, ...]:
    """The templates of messages.yaml (its `messages` and `fragments`), most specific first."""
    raw: dict[str, list[dict[str, str]]] = read_yaml(MESSAGES_PATH)
    templates = []
    for section in ("messages", "fragments", "appendices"):
        for entry in raw.get(section) or []:
            english, german = entry["en"], entry["de"]
            names = {name for name, _ in _PLACEHOLDER.findall(english)}
            if names != {name for name, _ in _PLACEHOLDER.findall(german)}:
                raise ValueError(f"{MESSAGES_PATH.name}: placeholders differ between {english!r} and {german!r}")
            required = frozenset(name for name, mark in _PLACEHOLDER.findall(english) if mark)
            templates.append(Template(english, german, required, section == "fragments",
                                      section == "appendices"))
    if any(template.appendix and not template.pieces[0][0] for template in templates):
        raise ValueError(f"{MESSAGES_PATH.name}: an appendix must start with literal text")
    if any(not template.fixed_text for template in templates):  # its value would be the whole text, for ever
        raise ValueError(f"{MESSAGES_PATH.name}: every template needs literal text besides its placeholders")
    return tuple(sorted(templates, key=lambda template: -template.fixed_text))


_HEAD = 6  # templates are looked up by the first and last characters of a text (a report tries thousands of texts)


@functools.cache
def _by_head() -> dict[str, tuple[int, ...]]:
    """The catalogue's positions, grouped by the first `_HEAD` characters of each template's literal start."""
    groups: dict[str, list[int]] = {}
    for position, template in enumerate(catalogue()):
        groups.setdefault(template.ends[0][:_HEAD], []).append(position)
    return {head: tuple(positions) for head, positions in groups.items()}


@functools.lru_cache(maxsize=1 << 14)
def _candidates(head: str, tail: str) -> tuple[Template, ...]:
    """The templates, in the catalogue's order, whose literal start and end agree with a text that starts with
    `head` and ends with `tail`: a template's start (cut to `_HEAD`) is a prefix of `head`, or starts with it."""
    groups = _by_head()
    positions = {position for length in range(len(head) + 1) for position in groups.get(head[:length], ())}
    if len(head) < _HEAD:
        positions.update(position for start, members in groups.items()
                         if len(start) > len(head) and start.startswith(head) for position in members)
    templates = catalogue()
    return tuple(template for template in (templates[position] for position in sorted(positions))
                 if template.ends[1].endswith(tail) or tail.endswith(template.ends[1][-_HEAD:]))


@functools.lru_cache(maxsize=1 << 14)
def to_german(text: str) -> str:
    """`text` in German where the catalogue knows it; otherwise `text` unchanged."""
    if not text or len(text) > _MAX_LENGTH:
        return text
    try:
        whole = _translated(text, False)
        if whole is not None:
            return whole
        listed = _listed(text)
        return listed if listed is not None else _joined(text)
    except RecursionError:  # texts nested in texts deeper than Python's stack (never the harness's own): as written
        return text


def untranslated(text: str) -> list[str]:
    """The parts of `text` that `to_german` leaves English (for the catalogue's coverage test)."""
    if len(text) > _MAX_LENGTH:
        return [text]
    if _translated(text, False) is not None or _listed(text) is not None:
        return []
    return [part for part, german in _parts(text) if german is None]


def _translated(text: str, inside: bool) -> str | None:
    """The German of a text that one template matches as a whole (its values translated where known), or None."""
    scored = _scored(text, inside)
    return None if scored is None else scored[0]


@functools.lru_cache(maxsize=1 << 14)
def _known(text: str) -> str | None:
    """The German of a text the catalogue knows completely — by a template whose every value with words in it is
    known too, or as a list of such texts —, else None."""
    scored = _scored(text, True)
    if scored is not None and not scored[1]:
        return scored[0]
    return _listed(text)


@functools.lru_cache(maxsize=1 << 14)
def _scored(text: str, inside: bool) -> tuple[str, int] | None:
    """The German of a text that one template matches as a whole, and how many values in it stayed English (text
    with words that no template knows); the template leaving the fewest wins, then the most specific. None when no
    template matches. `inside`: the text is a part of a message (a placeholder's value, a list item), not a whole
    one."""
    best: tuple[str, int] | None = None
    for template in _candidates(text[:_HEAD], text[-_HEAD:]):
        if not (template.may_match(text) and template.pattern.fullmatch(text)):
            continue
        found = _best_values(template, text)
        if found is None:
            continue
        if best is None or found[1] < best[1]:
            best = _filled(template.german, found[0]), found[1]
        if not found[1]:
            break
    if best is not None and best[1]:
        listed = _listed(text)  # "a, b; c" whose every part is known beats a frame around English parts
        if listed is not None:
            return listed, 0
    if best is not None:
        return best
    typed = _TYPED.fullmatch(text)
    if typed:
        rest = _scored(typed["text"], True)
        return None if rest is None else (f"{typed['kind']}: {rest[0]}", rest[1])
    return _with_appendix(text, inside)


@functools.cache
def _appendices() -> tuple[Template, ...]:
    return tuple(template for template in catalogue() if template.appendix)


def _with_appendix(text: str, inside: bool) -> tuple[str, int] | None:
    """A known text followed by a known appendix (". Keycloak: …", "; caution: …"), the last appendix first. Inside
    a placeholder's value the text before it may be unknown (it passes through, like any unknown value); a whole
    message never gets a German appendix after an English sentence."""
    starts = sorted(((position, template) for template in _appendices()
                     for position in _occurrences(text, template.pieces[0][0], 1)),
                    key=lambda found: -found[0])
    for position, template in starts:
        tail = text[position:]
        if not template.pattern.fullmatch(tail):
            continue
        found = _best_values(template, tail)
        if found is None:
            continue
        head = _scored(text[:position], True)
        if head is None and inside:  # inside a value (a body excerpt before "(and 2 more …)")
            head = _value(text[:position]), int(_is_prose(text[:position]))
        if head is not None:
            return head[0] + _filled(template.german, found[0]), head[1] + found[1]
    return None


def _best_values(template: Template, text: str) -> tuple[dict[str, str], int] | None:
    """The placeholder values (in German where known) of the way to split `text` over the template that leaves the
    fewest values in English — the first such split on a tie (the shortest first values, as the regex would) —
    and how many it leaves; None when no split gives every required placeholder a known text."""
    best: tuple[int, dict[str, str], dict[str, str]] | None = None  # (English values, split, the known ones)
    for split in itertools.islice(_splits(template, text), _MAX_SPLITS):
        german = {name: known for name, value in split.items()
                  if name not in template.verbatim and (known := _known(value)) is not None}
        if not template.required <= german.keys():
            continue
        english = sum(1 for name, value in split.items()
                      if name not in german and name not in template.verbatim and _is_prose(value))
        if best is None or english < best[0]:
            best = english, split, german
        if not english:
            break
    if best is None:
        return None
    english, split, german = best
    # a value no template knows as a whole: its known "; "-separated parts in German, the rest as written
    return {name: value if name in template.verbatim else german.get(name) or _value(value)
            for name, value in split.items()}, english


def _is_prose(value: str) -> bool:
    return _PROSE.search(_QUOTED.sub(" ", value)) is not None


def _splits(template: Template, text: str) -> Iterator[dict[str, str]]:
    """Every way `text` fits the template: placeholder values in the order a lazy regex tries them."""
    literals, holes = template.pieces

    def walk(position: int, index: int, values: dict[str, str]) -> Iterator[dict[str, str]]:
        if index == len(holes):
            if position == len(text):
                yield values
            return
        name, shape = holes[index]
        following = literals[index + 1]
        last = index + 1 == len(holes)
        ends = [len(text) - len(following)] if last else _occurrences(text, following, position + 1)
        for end in ends:
            value = text[position:end]
            if end <= position or not shape.fullmatch(value) or values.get(name, value) != value:
                continue
            if last and not text.endswith(following):
                continue
            yield from walk(end + len(following), index + 1, {**values, name: value})

    if text.startswith(literals[0]):
        yield from walk(len(literals[0]), 0, {})


def _occurrences(text: str, literal: str, start: int) -> list[int]:
    if not literal:
        return list(range(start, len(text) + 1))
    found = []
    position = text.find(literal, start)
    while position != -1:
        found.append(position)
        position = text.find(literal, position + 1)
    return found


def _filled(german: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda found: values[found.group(1)], german)


def _value(value: str) -> str:
    """A placeholder's value: translated when the catalogue knows it (as a whole, as "; "-separated parts, or as a
    ", "-separated list of known texts), else as is."""
    whole = _translated(value, True)
    if whole is not None:
        return whole
    listed = _listed(value)
    if listed is not None:
        return listed
    return _joined(value) if _SEPARATOR.search(value) else value


@functools.lru_cache(maxsize=1 << 14)
def _listed(text: str) -> str | None:
    """A list joined with ", " (or "; ", " | ") whose every item the catalogue knows, in German; else None."""
    for separator in _LIST_SEPARATORS:
        items = text.split(separator)
        if len(items) < 2:
            continue
        german = [_known(item) for item in items]
        if all(item is not None for item in german):
            return separator.join(item for item in german if item is not None)
    return None


def _joined(text: str) -> str:
    return "".join(part if german is None else german for part, german in _parts(text))


def _parts(text: str) -> Iterator[tuple[str, str | None]]:
    """`text` split at "; " and " | " into the longest runs of parts a template matches (part, German or None);
    the separators come out as parts of their own, unchanged."""
    pieces = _SEPARATOR.split(text)  # text, separator, text, ...
    start = 0
    while start < len(pieces):
        for end in range(len(pieces), start, -2):
            run = "".join(pieces[start:end])
            german = _known(run) if end - start < len(pieces) else None
            if german is not None:
                yield run, german
                break
        else:
            end = start + 1
            yield pieces[start], None
        if end < len(pieces):
            yield pieces[end], pieces[end]  # the separator, as it is
        start = end + 1
