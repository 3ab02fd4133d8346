"""What a rule is, and what it is given.

A rule is a module in ``rules/`` (the catalogue, imported as ``prefixlint.rules``) whose docstring
is its documentation and which defines ``CODE``, ``NAME``, ``CATEGORY``, ``SEVERITY``, ``SCOPE``
and one generator ``check``. Rules only detect: the engine stamps code, name, category, severity,
location and fingerprint onto what they yield.

Scopes:
- ``request``: ``check(request: RequestContext)``, one request on its own. The engine reports a
  violation once per thread (the first turn where it appears), not on every request. A request
  rule that depends only on the blocks of some sections declares them in ``READS`` (e.g.
  ``READS = ("system",)``): the engine then runs it once per distinct content of those sections
  and reuses its violations for every request that repeats that content.
- A pair rule that describes a property of the whole conversation sets ``ONCE = True``: the engine
  then reports each of its (pointer, key) once per thread, like a request rule.
- A pair rule that can only report a change to what was sent before (an edited, removed, reordered
  or re-serialised block, another model or setting) sets ``QUIET_ON_APPEND = True``: the engine
  does not run it on a turn that only appends messages to the previous one (the same blocks from
  the start, byte for byte, then new messages; same API, model and settings; not a fork), the usual
  turn of an agent loop. Its tests must show it silent on such a turn.
- ``pair``: ``check(pair: Pair)``, two consecutive turns of a thread, with their Change computed once.
- ``usage``: ``check(point: CallPoint)``, one API call recorded in a log that holds usage but no
  requests (Claude Code transcripts, :mod:`prefixlint.sources.claude_code`), with ``point.prev``
  the previous call of its conversation. Findings are inferred from usage, never seen in a request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from prefixlint.diff import Change, SectionDiff, section_diff
from prefixlint.model import CATEGORIES, SECTIONS, SEVERITIES, Prompt, Violation

SCOPES = ("request", "pair", "usage")
DOC_SECTIONS = ("## What it does", "## Why does this break the cache?", "## Example", "## Fix", "## Source")
_CODE = re.compile(r"^PL[1-9][0-9]{2}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")


@dataclass(slots=True)
class RequestContext:
    prompt: Prompt
    thread: str
    turn: int
    cache: Any = None  # the cache model's TurnCache for this request


@dataclass(slots=True)
class Pair:
    prev: Prompt
    new: Prompt
    change: Change
    thread: str
    turn: int
    fork: bool = False
    _sections: dict[str, SectionDiff] = field(default_factory=dict)
    cache: Any = None  # the cache model's TurnCache for the new turn
    prev_cache: Any = None  # and for the previous turn
    memo: dict[str, Any] = field(default_factory=dict)  # analyses shared by several rules of one pair

    def section(self, name: str) -> SectionDiff:
        """The diff of one section, computed once per pair."""
        found = self._sections.get(name)
        if found is None:
            found = self._sections[name] = section_diff(self.prev, self.new, name)
        return found


@dataclass(slots=True, frozen=True)
class Rule:
    code: str
    name: str
    category: str
    severity: str
    scope: str
    check: Callable[[Any], Iterable[Violation]]
    doc: str
    module: str
    reads: tuple[str, ...] | None = None
    once: bool = False  # pair rule: report a (pointer, key) once per thread, like request rules
    quiet_on_append: bool = False  # pair rule: never reports on a turn that only appends messages
    options_schema: dict | None = field(default=None, hash=False, compare=False)  # JSON Schema of the rule's options (OPTIONS_SCHEMA); None: none

    @property
    def summary(self) -> str:
        """The first line of the documentation."""
        return self.doc.strip().splitlines()[0].rstrip(".")

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        rule = cls(
            code=module.CODE,
            name=module.NAME,
            category=module.CATEGORY,
            severity=module.SEVERITY,
            scope=module.SCOPE,
            check=module.check,
            doc=(module.__doc__ or "").strip(),
            module=module.__name__,
            reads=getattr(module, "READS", None),
            once=bool(getattr(module, "ONCE", False)),
            quiet_on_append=bool(getattr(module, "QUIET_ON_APPEND", False)),
            options_schema=getattr(module, "OPTIONS_SCHEMA", None),
        )
        problems = rule.problems()
        if problems:
            raise ValueError(f"rule module {module.__name__}: " + "; ".join(problems))
        return rule

    def problems(self) -> list[str]:
        out = []
        if not _CODE.match(self.code):
            out.append(f"code {self.code!r} must look like PL101")
        if not _NAME.match(self.name):
            out.append(f"name {self.name!r} must be kebab-case")
        if self.category not in CATEGORIES:
            out.append(f"unknown category {self.category!r}")
        if self.severity not in SEVERITIES:
            out.append(f"unknown severity {self.severity!r}")
        if self.scope not in SCOPES:
            out.append(f"unknown scope {self.scope!r}")
        if self.reads is not None and (self.scope != "request" or not set(self.reads) <= set(SECTIONS)):
            out.append(f"READS {self.reads!r} must name sections of a request-scope rule")
        if self.quiet_on_append and self.scope != "pair":
            out.append("QUIET_ON_APPEND is for pair rules")
        for heading in DOC_SECTIONS:
            if heading not in self.doc:
                out.append(f"documentation lacks the section {heading!r}")
        return out
