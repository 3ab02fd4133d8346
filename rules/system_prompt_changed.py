"""The system prompt changed between two turns of a conversation.

## What it does
Compares the system prompt of consecutive turns of a conversation (Anthropic `system`, OpenAI
leading `system`/`developer` messages, Responses `instructions`) and reports the first system block
whose content changed, or a system block added or removed. The finding shows the text before and
after the first difference and says when the change is a volatile value (a timestamp, a date, an
id). A re-serialisation that keeps the content (JSON key order) is left to `unstable-json-key-order`;
a summarisation request sent under its own system prompt is left to the compaction rule, and a
hand-off to another API to `model-switched`.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
A cached prefix is reused only when it is byte-identical. The system prompt comes right after the
tool definitions and before every message, so an edit anywhere in it ends the reusable prefix there:
the rest of the system prompt and the whole conversation history are re-processed and written to the
cache again at full price. An agent that refreshes its system prompt on every turn (a clock, a list
of open files, a to-do list, a memory dump) pays for its entire history on every turn.

## Example
Turn 1:
```json
{"model": "claude-sonnet-4-5", "max_tokens": 1024,
 "system": "You are a coding agent.\nOpen files: src/app.py\n...",
 "messages": [{"role": "user", "content": "Fix the failing test."}]}
```
Turn 2 re-sends the history but the system prompt says `Open files: src/app.py, tests/test_app.py`:
everything from `/system` on is re-processed; the history of a long session can be 100,000 tokens.

## Fix
Keep the system prompt static for the life of the conversation. Send what changed as a new message
at the end of the prompt instead of editing the start: on Anthropic a `<system-reminder>` block in
the next user message (or tool result); on OpenAI a new developer or user message appended to the
conversation. Values that change with the clock belong there too (see
`volatile-value-in-system-prompt`).

## Source
Anthropic prompt caching docs (prefix order tools -> system -> messages; a system change invalidates
the system and messages caches; the cache diagnostics beta reports `system_changed`); OpenAI prompt
caching guide (exact prefix match; instructions precede the input); Claude Code team, "Prompt caching
is everything" (static system prompt first, updates as `<system-reminder>` in the next message).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from prefixlint.diff import explain, first_difference
from prefixlint.model import Block, Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._util import consequence
from prefixlint.rules.volatile_value_in_system_prompt import (
    label,
    scan,
    system_text,
    where_to,
)
from prefixlint.volatile import Volatile, excerpt

CODE = "PL201"
NAME = "system-prompt-changed"
CATEGORY = "system"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends

_SPACE = re.compile(r"\s+")
_SHOWN = 40  # characters of the changed region shown in an excerpt


def _changed_region(a: str, b: str) -> tuple[int, int, int]:
    """(start, end in a, end in b) of the span between the common prefix and the common suffix."""
    start = first_difference(a, b)
    tail_a, tail_b = a[start:], b[start:]
    common = first_difference(tail_a[::-1], tail_b[::-1])
    return start, len(a) - common, len(b) - common


def _volatile_in(text: str, start: int, end: int) -> Volatile | None:
    """The first volatile value overlapping text[start:end] (a point when start == end)."""
    stop = max(end, start + 1)
    for v in scan(text):
        if v.start < stop and v.end > start:
            return v
    return None


def _fix(pair: Pair, value: Volatile | None) -> str:
    if value is not None:
        return (
            f"Keep the system prompt identical for the whole conversation: move the {label(value)} into "
            f"{where_to(pair.new)}; if the model only needs the date, round it to the day and set it once per session."
        )
    if pair.new.provider == "anthropic":
        where = "send updates as a `<system-reminder>` block in the next user message (or tool result)"
    else:
        where = "send updates as a new developer or user message at the end of the conversation"
    return f"Keep the system prompt identical for the whole conversation; {where} instead of editing it."


def _noun(block: Block) -> str:
    """How the provider calls this part of the system prompt."""
    if block.pointer == "/instructions":
        return "instructions"
    if block.role in ("system", "developer"):
        return f"{block.role} message"
    return "system prompt" if block.pointer == "/system" else "system block"


def _edited(pair: Pair, old: Block, new: Block) -> Violation:
    a, b = system_text(old), system_text(new)
    pointer = new.pointer
    if a == b:
        # Same text, different block: a role (system <-> developer), a name, citations...
        lines = explain(old.value, new.value, limit=3)
        what = "; ".join(lines) if lines else "the block's fields"
        return Violation(
            message=f"{_noun(new)} changed with the same text ({what}): {consequence(pair, pointer)}",
            fix=_fix(pair, None),
            pointer=pointer,
            excerpt={"diff": what} if lines else None,
        )
    start, end_a, end_b = _changed_region(a, b)
    excerpt_ = {
        "before": excerpt(a, start, min(end_a, start + _SHOWN)),
        "after": excerpt(b, start, min(end_b, start + _SHOWN)),
    }
    value = _volatile_in(b, start, end_b)
    if value is not None:
        old_value = _volatile_in(a, start, end_a)
        shown = f"`{old_value.value}` -> `{value.value}`" if old_value else f"now `{value.value}`"
        what = f"the {label(value)} in the {_noun(new)} changed ({shown})"
    elif _SPACE.sub(" ", a).strip() == _SPACE.sub(" ", b).strip():
        what = f"{_noun(new)} changed in whitespace only, at character {start + 1:,}"
    else:
        what = f"{_noun(new)} edited at character {start + 1:,}"
    return Violation(
        message=f"{what}: {consequence(pair, pointer)}",
        fix=_fix(pair, value),
        pointer=pointer,
        excerpt=excerpt_,
    )


def check(pair: Pair) -> Iterator[Violation]:
    if pair.fork or pair.section("system").kind in ("same", "reserialize"):
        return
    if (pair.prev.provider, pair.prev.api) != (pair.new.provider, pair.new.api):
        return  # a hand-off to another API renders the system prompt differently (model-switched reports it)
    prev = pair.prev.section("system")
    new = pair.new.section("system")
    i = 0
    while i < len(prev) and i < len(new) and prev[i].canon == new[i].canon:
        i += 1
    if i == len(prev) == len(new):
        return
    prev_keys = [b.canon for b in prev]
    new_keys = [b.canon for b in new]
    grown, shrunk = len(new) - len(prev), len(prev) - len(new)
    if grown > 0 and new_keys[:i] + new_keys[i + grown :] == prev_keys:
        pointer = new[i].pointer
        text = system_text(new[i])
        if not prev:
            what = "a system prompt was added mid-conversation"
        else:
            noun = _noun(new[i])
            what = f"a {noun} was added" if grown == 1 else f"{grown} {noun}s were added"
            if noun.endswith("message"):
                what += " ahead of the conversation"
        yield Violation(
            message=f"{what}: {consequence(pair, pointer)}",
            fix=_fix(pair, None),
            pointer=pointer,
            excerpt={"after": excerpt(text, 0, 0, 2 * _SHOWN)},
        )
        return
    if shrunk > 0 and prev_keys[:i] + prev_keys[i + shrunk :] == new_keys:
        # The removed block has no pointer in the new request: name where it was.
        pointer = prev[i].pointer
        if not new:
            what = "the system prompt was removed mid-conversation"
        else:
            noun = _noun(prev[i])
            what = f"a {noun} was removed" if shrunk == 1 else f"{shrunk} {noun}s were removed"
        yield Violation(
            message=f"{what}: {consequence(pair, pointer)}",
            fix=_fix(pair, None),
            pointer=pointer,
            excerpt={"before": excerpt(system_text(prev[i]), 0, 0, 2 * _SHOWN)},
        )
        return
    if i < len(prev) and i < len(new):
        yield _edited(pair, prev[i], new[i])
