"""The harness's English messages, skip reasons, error reasons and notes in German, for the German report.

findings.json keeps the English text (the machine contract); report.html translates it when it is written.
`reports/messages.yaml` lists English templates with named placeholders (`{op}`) and their German form. A text
matches a template when the whole of it fits (an anchored regex built from the template); each placeholder's value
is translated again by the same catalogue (an embedded fragment such as "without any credentials"), and a value
the catalogue does not know (a backend excerpt, an id, a path, JSON) passes through unchanged. A text that matches
no template is tried as "; "-separated parts; what matches nothing stays English as written — never half-replaced.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MESSAGES_PATH = Path(__file__).with_name("messages.yaml")
# `{name}`: any value, translated where the catalogue knows it; `{name!}`: the value must itself be a known text
# (a fragment such as a token variant's description), else the template does not match — so that no German
# frame ever holds an English phrase it was written for.
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(!?)\}")
_SEPARATOR = re.compile(r"(; | \| )")  # between the parts of a note or a message ("; ", " | ")
# Placeholders of these names hold one word (a user key, an HTTP method, a status code, a number), so that a value
# with spaces or brackets (a backend excerpt) cannot be split across them.
_SHAPES = {"user": r"\S+", "attacker": r"\S+", "victim": r"\S+", "owner": r"\S+", "method": r"\S+",
           "code": r"\d{3}", "other_code": r"\d{3}", "count": r"\d+", "total": r"\d+"}
_VERBATIM = frozenset({"key"})  # placeholders whose value is a name in the profile, never translated
_MAX_LENGTH = 5000  # longer texts (a long excerpt inside) stay as written: bounded matching time
_MAX_DEPTH = 6  # placeholders inside placeholders: deep enough for the harness's nesting, bounded for safety
# A reason the plugin prefixes with the exception's type (`fixtures.engine.checks.NotApplicable: …`): the type
# stays, the text after it is translated.
_TYPED = re.compile(r"(?P<kind>[A-Za-z_][\w.]*(?:Error|Exception|NotApplicable|Skipped|Timeout)): (?P<text>.+)",
                    re.DOTALL)


@dataclass(frozen=True)
class Template:
    english: str
    german: str
    pattern: re.Pattern[str]
    required: frozenset[str]  # placeholders written `{name!}`
    fragment: bool = False  # from the `fragments` section: a part that messages embed

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
    import yaml

    with MESSAGES_PATH.open(encoding="utf-8") as stream:
        raw: dict[str, list[dict[str, str]]] = yaml.safe_load(stream)
    templates = []
    for section in ("messages", "fragments"):
        for entry in raw.get(section) or []:
            english, german = entry["en"], entry["de"]
            names = {name for name, _ in _PLACEHOLDER.findall(english)}
            if names != {name for name, _ in _PLACEHOLDER.findall(german)}:
                raise ValueError(f"{MESSAGES_PATH.name}: placeholders differ between {english!r} and {german!r}")
            required = frozenset(name for name, mark in _PLACEHOLDER.findall(english) if mark)
            templates.append(Template(english, german, compile_template(english), required, section == "fragments"))
    return tuple(sorted(templates, key=lambda template: -template.fixed_text))


def to_german(text: str) -> str:
    """`text` in German where the catalogue knows it; otherwise `text` unchanged."""
    if not text or len(text) > _MAX_LENGTH:
        return text
    whole = _translated(text, 0)
    if whole is not None:
        return whole
    return _joined(text, 0)


def untranslated(text: str) -> list[str]:
    """The parts of `text` that `to_german` leaves English (for the catalogue's coverage test)."""
    if len(text) > _MAX_LENGTH:
        return [text]
    if _translated(text, 0) is not None:
        return []
    return [part for part, german in _parts(text, 0) if german is None]


def _translated(text: str, depth: int) -> str | None:
    """The German of a text that one template matches as a whole, or None."""
    if depth > _MAX_DEPTH:
        return None
    for template in catalogue():
        match = template.pattern.fullmatch(text)
        if not match:
            continue
        values = {name: value if name in _VERBATIM else _value(value, depth + 1)
                  for name, value in match.groupdict().items()}
        if any(values[name] == match[name] and _translated(match[name], depth + 1) is None
               for name in template.required):
            continue
        return _filled(template.german, values)
    typed = _TYPED.fullmatch(text)
    if typed:
        rest = _translated(typed["text"], depth + 1)
        return None if rest is None else f"{typed['kind']}: {rest}"
    return None


def _filled(german: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda found: values[found.group(1)], german)


def _value(value: str, depth: int) -> str:
    """A placeholder's value: translated when the catalogue knows it (also as "; "-separated parts), else as is."""
    whole = _translated(value, depth)
    if whole is not None:
        return whole
    return _joined(value, depth) if _SEPARATOR.search(value) else value


def _joined(text: str, depth: int) -> str:
    return "".join(part if german is None else german for part, german in _parts(text, depth))


def _parts(text: str, depth: int) -> Iterator[tuple[str, str | None]]:
    """`text` split at "; " and " | " into the longest runs of parts a template matches (part, German or None);
    the separators come out as parts of their own, unchanged."""
    pieces = _SEPARATOR.split(text)  # text, separator, text, ...
    start = 0
    while start < len(pieces):
        for end in range(len(pieces), start, -2):
            run = "".join(pieces[start:end])
            german = _translated(run, depth + 1) if end - start < len(pieces) else None
            if german is not None:
                yield run, german
                break
        else:
            end = start + 1
            yield pieces[start], None
        if end < len(pieces):
            yield pieces[end], pieces[end]  # the separator, as it is
        start = end + 1
