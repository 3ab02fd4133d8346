"""``prefixlint diff``: why did this request miss the cache?

Given one request of a log (``LOG:LINE``), run the log up to that line through the same pipeline as
the engine (sources -> providers -> threads) and explain the request against the previous turn of
its conversation. Given two requests, compare them directly (the first is the earlier one).

The result is a plain dataclass; the CLI and the renderers in ``prefixlint.report`` print it.
Everything derived from log content (excerpts, setting values, deepdiff lines, rule messages) is
redacted here, so no renderer can leak a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefixlint import engine, providers, sources
from prefixlint.diff import (
    EXCERPT_WIDTH,
    Change,
    compare,
    display_text,
    first_difference,
    section_diff,
)
from prefixlint.diff import explain as explain_values
from prefixlint.model import SECTIONS, BodyError, Diagnostic, InputError, Origin, Prompt
from prefixlint.providers.base import dumps
from prefixlint.redact import redact
from prefixlint.rulebase import Pair, Rule
from prefixlint.volatile import excerpt


class ExplainError(Exception):
    """The request named on the command line cannot be explained (exit code 2)."""


@dataclass(slots=True, frozen=True)
class Target:
    """A request named as ``LOG:LINE`` (JSON Lines) or ``LOG#ENTRY`` (a JSON array)."""

    path: str
    line: int | None = None
    entry: int | None = None

    def __str__(self) -> str:
        return str(Origin(self.path, self.line, self.entry))

    def matches(self, origin: Origin) -> bool:
        if self.line is not None:
            return origin.line == self.line and origin.entry is None
        return origin.entry == self.entry


def parse_target(spec: str) -> Target:
    """``log.jsonl:12`` -> Target("log.jsonl", line=12); ``log.json#3`` -> entry 3."""
    for sep, key in ((":", "line"), ("#", "entry")):
        path, found, number = spec.rpartition(sep)
        if found and path and number.isdigit():
            value = int(number)
            if key == "line" and value < 1:
                raise ExplainError(f"{spec}: line numbers start at 1")
            return Target(path, **{key: value})
    raise ExplainError(f"{spec}: expected LOG:LINE (or LOG#ENTRY for a JSON array)")


@dataclass(slots=True)
class Request:
    """One side of the comparison."""

    origin: str
    provider: str
    api: str
    model: str | None
    blocks: int
    messages: int
    tokens: int


@dataclass(slots=True)
class SettingChange:
    label: str
    pointer: str | None
    before: str | None  # compact JSON, redacted; None when the setting was absent
    after: str | None


@dataclass(slots=True)
class SectionChange:
    section: str
    kind: str  # same | append | edit | delete | insert | reorder | reserialize | added | removed
    before: int  # units (blocks; messages for the messages section) in the earlier request
    after: int


@dataclass(slots=True)
class RuleHit:
    code: str
    name: str
    severity: str
    pointer: str | None
    message: str


@dataclass(slots=True)
class Explanation:
    request: Request
    previous: Request | None
    thread: str | None = None
    turn: int | None = None
    fork: bool = False
    kind: str = "first-turn"  # Change.kind, or first-turn when the thread starts here
    section: str | None = None
    pointer: str | None = None
    shared_blocks: int = 0
    shared_tokens: int = 0
    total_blocks: int = 0
    total_tokens: int = 0
    offset: int | None = None
    before: str | None = None
    after: str | None = None
    model: tuple[str | None, str | None] | None = None
    settings: list[SettingChange] = field(default_factory=list)
    sections: list[SectionChange] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    rules: list[RuleHit] = field(default_factory=list)

    @property
    def reusable_tokens(self) -> int:
        """Tokens of the shared prefix a cache could serve (none after a model switch)."""
        return 0 if self.model is not None else self.shared_tokens


# -- reading ------------------------------------------------------------------------------------
def _check_path(path: str) -> None:
    if path == sources.STDIN:
        return
    p = Path(path)
    if not p.exists():
        raise ExplainError(f"{path}: no such file or directory")
    if p.is_dir():
        raise ExplainError(f"{path}: is a directory, not a log file")


def _prompt(record, provider: str | None) -> Prompt:
    kind, reason = providers.detect(record.body, record, provider)
    if kind is None:
        raise ExplainError(f"{record.origin}: not a request ({reason})")
    try:
        prompt = providers.normalize(kind, record.body, record)
    except BodyError as exc:
        raise ExplainError(redact(f"{record.origin}: invalid {kind[0]} request: {exc.message}")) from None
    if record.session is not None:
        prompt.keys["session"] = record.session
    return prompt


def _missing(target: Target, diagnostics: list[Diagnostic], seen_array: bool) -> ExplainError:
    for d in diagnostics:
        if d.origin.line == target.line and d.origin.entry == target.entry and d.origin.file:
            return ExplainError(redact(f"{target}: {d.message}"))
    if target.line is not None and seen_array:
        return ExplainError(f"{target}: the file is a JSON array; name a request as {target.path}#ENTRY")
    for d in diagnostics:
        if d.origin.line is None and d.origin.entry is None:
            return ExplainError(redact(str(d)))
    where = "entry" if target.entry is not None else "line"
    return ExplainError(f"{target}: no request at this {where}")


def _read(target: Target, session_key: str | None):
    """Yield (record, is_target) up to and including the target record."""
    _check_path(target.path)
    diagnostics: list[Diagnostic] = []
    seen_array = False
    try:
        for record in sources.read(target.path, diagnostics, session_key):
            seen_array = seen_array or record.origin.entry is not None
            hit = target.matches(record.origin)
            yield record, hit
            if hit:
                return
    except InputError as exc:
        raise ExplainError(str(exc)) from None
    raise _missing(target, diagnostics, seen_array)


def load(target: Target, provider: str | None = None, session_key: str | None = None) -> Prompt:
    """The request at ``target``, normalised."""
    for record, hit in _read(target, session_key):
        if hit:
            return _prompt(record, provider)
    raise AssertionError("unreachable")  # pragma: no cover


def _past(target: Target, origin: Origin) -> bool:
    if target.line is not None:
        return origin.line is not None and origin.line > target.line
    return origin.entry is not None and target.entry is not None and origin.entry > target.entry


def _in_thread(target: Target, provider: str | None, session_key: str | None):
    """The target request and its thread assignment, from the engine's own pipeline."""
    _check_path(target.path)
    options = engine.Options(provider=provider, session_key=session_key)
    try:
        for record, prompt, assignment in engine.iter_turns(target.path, options):
            if target.matches(record.origin):
                return prompt, assignment
            if _past(target, record.origin):
                break
    except InputError as exc:
        raise ExplainError(str(exc)) from None
    load(target, provider, session_key)  # raises the reason: not a request, invalid, no such line
    raise AssertionError("unreachable")  # pragma: no cover


# -- explaining ---------------------------------------------------------------------------------
def _request(p: Prompt) -> Request:
    return Request(
        origin=str(p.record.origin),
        provider=p.provider,
        api=p.api,
        model=redact(p.model) if isinstance(p.model, str) else p.model,
        blocks=len(p.blocks),
        messages=len(p.messages),
        tokens=p.tokens,
    )


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else dumps(value).decode("utf-8", "replace")
    if len(text) > 200:
        text = text[:199] + "…"
    return redact(text)


def _sections(prev: Prompt, new: Prompt) -> list[SectionChange]:
    out = []
    for name in SECTIONS:
        sd = section_diff(prev, new, name)
        if not sd.prev and not sd.new:
            continue
        out.append(SectionChange(name, sd.kind, len(sd.prev), len(sd.new)))
    return out


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def _divergence(change: Change) -> tuple[str | None, str | None, list[str]]:
    """Before/after excerpts and deepdiff lines, computed on redacted text.

    Redacting first and cutting the excerpt second means a secret can never be cut in half (and so
    escape redaction) at the edge of an excerpt.
    """
    old, new = change.prev_block, change.new_block
    old_text = redact(display_text(old)) if old is not None else None
    new_text = redact(display_text(new)) if new is not None else None
    if old_text is None or new_text is None:
        before = excerpt(old_text, 0, 0, EXCERPT_WIDTH) if old_text is not None else None
        after = excerpt(new_text, 0, 0, EXCERPT_WIDTH) if new_text is not None else None
        return before, after, []
    at = first_difference(old_text, new_text)
    details = explain_values(_redact_value(old.value), _redact_value(new.value)) if change.details else []
    return (
        excerpt(old_text, at, at, EXCERPT_WIDTH),
        excerpt(new_text, at, at, EXCERPT_WIDTH),
        [redact(line) for line in details],
    )


def _pointer(change: Change) -> str | None:
    if change.pointer is not None:
        return change.pointer
    if change.model is not None:
        return "/model"
    if change.settings:
        return change.settings[0][1]
    return None


def _rule_hits(pair: Pair, rules: list[Rule]) -> list[RuleHit]:
    hits = []
    for rule in rules:
        if rule.scope != "pair":
            continue
        for v in rule.check(pair):
            hits.append(RuleHit(rule.code, rule.name, v.severity or rule.severity, v.pointer, redact(v.message)))
    return hits


def explain_pair(
    prev: Prompt,
    new: Prompt,
    *,
    thread: str | None = None,
    turn: int | None = None,
    fork: bool = False,
    rules: list[Rule] | None = None,
) -> Explanation:
    change = compare(prev, new)
    before, after, details = _divergence(change)
    out = Explanation(
        request=_request(new),
        previous=_request(prev),
        thread=thread,
        turn=turn,
        fork=fork,
        kind=change.kind,
        section=change.section,
        pointer=_pointer(change),
        shared_blocks=change.shared_blocks,
        shared_tokens=change.shared_tokens,
        total_blocks=len(new.blocks),
        total_tokens=change.new_tokens,
        offset=change.offset,
        before=before,
        after=after,
        model=(_shown(change.model[0]), _shown(change.model[1])) if change.model else None,
        settings=[SettingChange(label, ptr, _shown(a), _shown(b)) for label, ptr, a, b in change.settings],
        sections=_sections(prev, new),
        details=details,
    )
    if rules:
        pair = Pair(prev, new, change, thread or "", turn or 0, fork)
        out.rules = _rule_hits(pair, rules)
    return out


def explain(
    first: str,
    second: str | None = None,
    *,
    provider: str | None = None,
    session_key: str | None = None,
    rules: list[Rule] | None = None,
) -> Explanation:
    """Explain ``first`` against its predecessor in its thread, or ``second`` against ``first``."""
    if second is not None:
        a, b = parse_target(first), parse_target(second)
        prev = load(a, provider, session_key)
        new = load(b, provider, session_key)
        return explain_pair(prev, new, rules=rules)
    target = parse_target(first)
    prompt, assignment = _in_thread(target, provider, session_key)
    if assignment.prev is None:
        return Explanation(
            request=_request(prompt),
            previous=None,
            thread=assignment.thread.id,
            turn=assignment.turn,
            total_blocks=len(prompt.blocks),
            total_tokens=prompt.tokens,
        )
    return explain_pair(
        assignment.prev,
        prompt,
        thread=assignment.thread.id,
        turn=assignment.turn,
        fork=assignment.fork,
        rules=rules,
    )
