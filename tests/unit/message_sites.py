"""The English texts the harness can put into a result's message, reason or note, found in its source by AST.

A *site* is a call or assignment that produces such a text: `Failure(title, message)`, `pytest.skip(reason)`,
`pytest.mark.skip(reason=...)`, `not_applicable(reason)`, `CheckError(text)`, `DoesNotApply(text)`,
`SeedError(text)`, `ctx.note = ...` / `ctx.note += ...`, `_add_note(ctx, text)`. Its text becomes *templates*: the
literal text with a `{}` hole for every value filled in at run time (an f-string's `{…}`, a variable, a call's
result).

Rules for what is not a template of its own:
- an argument that is only a hole (a variable or call passed through, e.g. `pytest.skip(reason)`) is followed once:
  to the string assignments of that name in the same function or module, or to the string `return`s of a function
  of the same module; a value from elsewhere (another module, an exception's text) is no template here — its own
  module is scanned where it is made, or it is backend text that passes through;
- inside a template a conditional of literals (`"a" if c else "b"`) yields one template per branch; any other
  expression is a hole.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (
    *sorted((ROOT / "suites").glob("*.py")),
    *(ROOT / "fixtures" / "engine" / name for name in ("plugin.py", "seeder.py", "context.py", "checks.py",
                                                       "health.py")),
    ROOT / "fixtures" / "api" / "account_flows.py",
)
# Modules whose functions make text that messages embed (a timing verdict, an id verdict, a response difference, an
# account flow's description): every string these functions (or module-level names) build is a fragment — its
# own catalogue entry, so that a German frame never holds it in English. None: every function of the module.
FRAGMENT_SOURCES: dict[str, frozenset[str] | None] = {
    "fixtures/analysis/timing.py": frozenset({"decide_timing_leak", "_unmet_conditions", "describe", "caution"}),
    "fixtures/analysis/idanalysis.py": None,
    "fixtures/analysis/compare.py": frozenset({"diff_responses", "_set_differences", "body_difference"}),
    "fixtures/analysis/forged_tokens.py": frozenset({"grade_expired_acceptance"}),
    "fixtures/analysis/exposure.py": frozenset({"belongings", "describe"}),
    "fixtures/api/account_flows.py": None,
    "fixtures/api/catalogue.py": frozenset({"_needs_auth", "account_removal"}),
    "suites/test_account_existence.py": frozenset({"_grade", "_advice", "_answers", "_said", "_status_story"}),
    "suites/test_authentication.py": frozenset({"NEEDS_KEYCLOAK"}),
}
HOLE = "\x00"  # a value filled in at run time (shown as `{}`)
_PRODUCERS_ARG0 = frozenset({"skip", "not_applicable", "CheckError", "DoesNotApply", "SeedError"})
_NOTE_HELPERS = frozenset({"_add_note"})  # (ctx, text): a sentence added to the item's note


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    template: str

    fragment: bool = False  # a part a message embeds (a local variable's text, an item of a joined list)

    def __str__(self) -> str:
        kind = "fragment" if self.fragment else "message"
        return f"{self.path}:{self.line}: {kind} {self.template.replace(HOLE, '{}')!r}"


def sites() -> list[Site]:
    found: dict[tuple[str, str], Site] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for site in _Scanner(tree, str(path.relative_to(ROOT))).sites():
            found.setdefault((site.path, site.template), site)
    for relative, names in FRAGMENT_SOURCES.items():
        tree = ast.parse((ROOT / relative).read_text(encoding="utf-8"))
        for site in _Scanner(tree, relative).fragment_sites(names):
            found.setdefault((site.path, site.template), site)
    return sorted(found.values(), key=lambda site: (site.path, site.line))


class _Scanner:
    def __init__(self, tree: ast.Module, path: str) -> None:
        self.tree = tree
        self.path = path
        self.functions = {node.name: node for node in ast.walk(tree)
                          if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent

    def sites(self) -> Iterator[Site]:
        for node in ast.walk(self.tree):
            for expression in self._produced(node):
                self.fragments: list[tuple[int, str]] = []
                for template in self._templates(expression, node, top=True, seen=frozenset()):
                    if _has_words(template):
                        yield Site(self.path, node.lineno, template)  # type: ignore[attr-defined]
                for line, template in self.fragments:
                    if _has_words(template):
                        yield Site(self.path, line, template, fragment=True)

    def fragment_sites(self, names: frozenset[str] | None) -> Iterator[Site]:
        """Every text the named functions (or module-level assignments) build, as fragments: the outermost string
        expressions, not docstrings, raised errors, dictionary keys, comparisons or bare identifiers."""
        roots: list[ast.AST] = [node for node in ast.walk(self.tree)
                                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                                and (names is None or node.name in names)]
        roots += [node.value for node in self.tree.body if isinstance(node, ast.Assign) and names is not None
                  and any(isinstance(target, ast.Name) and target.id in names for target in node.targets)]
        for root in roots:
            self.fragments = []  # names followed inside are strings of these roots too: collected as they are
            for node in _outermost_strings(root):
                for template in self._templates(node, root, top=False, seen=frozenset()):
                    if _is_sentence(template):
                        yield Site(self.path, node.lineno, template, fragment=True)

    def _fragments_of(self, node: ast.expr, site: ast.AST, seen: frozenset[str]) -> None:
        """A hole's value when it is text made in the same function: a local variable's string assignments, the
        items appended to a list that is joined (`"; ".join(leaks)`)."""
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "join" and node.args:
            node = node.args[0]
            if isinstance(node, ast.Name):
                for call in ast.walk(self._scope(site)):
                    if (isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "append" and call.args
                            and getattr(call.func, "value", None) and getattr(call.func.value, "id", "") == node.id):
                        self.fragments += [(call.lineno, t) for t in self._templates(call.args[0], site, top=True,
                                                                                     seen=seen) if t != HOLE]
                return
        if isinstance(node, ast.Name) and node.id not in seen:
            self.fragments += [(getattr(site, "lineno", 0), t)
                               for t in self._followed_name(node.id, site, seen | {node.id})]

    def _produced(self, node: ast.AST) -> list[ast.expr]:
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            if name == "Failure":
                return node.args[1:2] or ([keywords["message"]] if "message" in keywords else [])
            if name in _PRODUCERS_ARG0:
                return node.args[:1] or ([keywords["reason"]] if "reason" in keywords else [])
            if name in _NOTE_HELPERS:
                return node.args[1:2]
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Attribute) and target.attr == "note" for target in targets):
                return [node.value]
        return []

    def _templates(self, node: ast.expr, site: ast.AST, *, top: bool, seen: frozenset[str]) -> list[str]:
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, str) else [HOLE]
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inner = value.value if isinstance(value, ast.FormattedValue) else value
                parts.append(self._templates(inner, site, top=False, seen=seen))
                if parts[-1] == [HOLE]:
                    self._fragments_of(inner, site, seen)
            return ["".join(combination) for combination in itertools.product(*parts)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self._templates(node.left, site, top=top, seen=seen)
            right = self._templates(node.right, site, top=top, seen=seen)
            return [a + b for a, b in itertools.product(left, right)]
        if isinstance(node, ast.IfExp):
            return self._templates(node.body, site, top=top, seen=seen) + self._templates(
                node.orelse, site, top=top, seen=seen)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and top:
            return [t for value in node.values for t in self._templates(value, site, top=top, seen=seen)]
        if top and isinstance(node, ast.Name) and node.id not in seen:
            return self._followed_name(node.id, site, seen | {node.id}) or [HOLE]
        if top and isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in self.functions and name not in seen:
                return self._returns(self.functions[name], seen | {name}) or [HOLE]
        if top:
            self._fragments_of(node, site, seen)
        return [HOLE]

    def _scope(self, site: ast.AST) -> ast.AST:
        scope: ast.AST = site
        while scope in self.parents and not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            scope = self.parents[scope]
        return scope if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) else self.tree

    def _followed_name(self, name: str, site: ast.AST, seen: frozenset[str]) -> list[str]:
        scope = self._scope(site)
        values = [node.value for node in ast.walk(scope) if isinstance(node, ast.Assign)
                  and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)]
        if not values and scope is not self.tree:
            values = [node.value for node in self.tree.body if isinstance(node, ast.Assign)
                      and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)]
        return [t for value in values for t in self._templates(value, site, top=True, seen=seen) if t != HOLE]

    def _returns(self, function: ast.FunctionDef | ast.AsyncFunctionDef, seen: frozenset[str]) -> list[str]:
        returned = [node.value for node in ast.walk(function) if isinstance(node, ast.Return) and node.value]
        return [t for value in returned for t in self._templates(value, function, top=True, seen=seen) if t != HOLE]


def _is_stringish(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_stringish(node.left) or _is_stringish(node.right)
    return isinstance(node, ast.JoinedStr)


def _outermost_strings(root: ast.AST) -> Iterator[ast.expr]:
    """The string expressions under `root` that are not part of a larger one, skipping docstrings, `raise`, keys
    and comparisons (a string there is a lookup, not text for a reader)."""
    body = getattr(root, "body", None)
    docstring = body[0] if isinstance(body, list) and body and isinstance(body[0], ast.Expr) else None
    stack: list[ast.AST] = [root]
    while stack:
        node = stack.pop()
        if node is docstring or isinstance(node, ast.Raise | ast.Compare | ast.Subscript | ast.Dict):
            if isinstance(node, ast.Dict):
                stack += [value for value in node.values if value is not None]
            continue
        if node is not root and _is_stringish(node):
            yield node  # type: ignore[misc]
            continue
        stack += list(ast.iter_child_nodes(node))


def _is_sentence(template: str) -> bool:
    """Text for a reader: words of three letters or more and a space between words (an identifier such as
    `uuid_v4`, a header name or a date format is not)."""
    text = template.replace(HOLE, "x").strip()
    return " " in text and re.search(r"[A-Za-z]{3,}", template.replace(HOLE, " ")) is not None


def _has_words(template: str) -> bool:
    """Whether the template has text of its own (not only holes, quotes and punctuation like "`{} {}`")."""
    return sum(char.isalpha() for char in template.replace(HOLE, "")) >= 3


if __name__ == "__main__":
    for found in sites():
        print(found)
