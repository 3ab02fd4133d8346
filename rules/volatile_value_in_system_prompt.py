"""A timestamp, date or id that changes between requests is in the system prompt.

## What it does
Scans the text of every system block for values that change with the clock or per request: ISO
8601 and other timestamps, times of day, Unix epochs, dates, UUIDs, request ids and hex nonces.
The system prompt is Anthropic `system`, OpenAI leading `system`/`developer` messages and the
Responses `instructions`. A value is reported once per conversation (on the first request that
carries it), per system block and per kind of value.

Values that read as constants are left alone: examples ("e.g. `2024-01-15T09:30:00Z`") and dates
named as a knowledge cutoff or a release date. A timestamp is an error; a date alone is a warning,
because it only changes once a day.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Providers reuse a cached prefix only when it is byte-identical to an earlier request, and the system
prompt comes before the whole conversation (after the tools). A value that changes on every request
makes every request a miss from that value on: the rest of the system prompt and every message after
it are re-processed (and re-written to the cache) at full price, turn after turn. A date changes
once a day, so the first request of each day (and any conversation that spans midnight) misses. An
id minted per request or per session means no other request ever shares that prefix.

## Example
```json
{"model": "claude-sonnet-4-5", "max_tokens": 1024,
 "system": "You are a support agent for Acme.\nCurrent time: 2026-11-24T10:42:03Z\n<policies>...",
 "messages": [{"role": "user", "content": "Where is my order?"}]}
```
The next turn says `Current time: 2026-11-24T10:42:51Z`: the policies after it and the whole
conversation are re-processed. Reported as `ISO 8601 timestamp 2026-11-24T10:42:03Z in the system
prompt at character 49`.

## Fix
Keep the system prompt byte-identical for the whole conversation. Move the value to the end of the
prompt: the latest user message (on Anthropic, e.g. a `<system-reminder>` block in it) or request
metadata if the model does not need it. If the model needs the date, round it to the day and set it
once per session, or give it in the first user message. Keep ids out of the prompt altogether.

## Source
Anthropic prompt caching docs (prefix order tools -> system -> messages, byte-exact match; a
breakpoint on a block that changes every request never reads); OpenAI Prompt Caching 201 cookbook
(keep timestamps out of the prompt, use `metadata`); Manus, "Context Engineering for AI Agents" (no
timestamps at the start of the system prompt); Claude Code team, "Prompt caching is everything"
(send updates as `<system-reminder>` in the next message).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prefixlint.diff import display_text
from prefixlint.model import SEVERITY_RANK, Block, Prompt, Violation
from prefixlint.rulebase import RequestContext
from prefixlint.volatile import Volatile, excerpt, find_volatile

CODE = "PL202"
NAME = "volatile-value-in-system-prompt"
CATEGORY = "system"
SEVERITY = "error"
SCOPE = "request"
READS = ("system",)  # depends only on these blocks: run once per distinct content

# A value introduced as an example is a constant ("e.g. 2024-01-15T09:30:00Z", "such as 1700000000").
_EXAMPLE = re.compile(r"(?:\be\.?g\.|\bfor (?:example|instance)\b|\bexamples?\b|\bsuch as\b)[^.!?\n]{0,40}$", re.I)
# A date named as a cutoff or a release is a constant too ("Knowledge cutoff: 2025-01-31").
_CONSTANT_DATE = re.compile(
    r"\b(?:cut-?off|knowledge|trained|released?|release date|deprecated|sunset)\b[^.!?\n]{0,24}$", re.I
)
_ID_KINDS = ("uuid", "request-id", "hex-nonce")


def message_text(value: Any) -> str | None:
    """The text of a system block: Anthropic text block, OpenAI message/input item, or a string."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("text"), str):
        return value["text"]
    content = value.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part if isinstance(part, str) else part.get("text")
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and isinstance(part.get("text"), str))
        ]
        return "".join(texts)
    return None


def system_text(block: Block) -> str:
    """What a person reads in a system block (falls back to its JSON)."""
    text = message_text(block.value)
    return text if text is not None else display_text(block)


def scan(text: str) -> list[Volatile]:
    """find_volatile() without the values that read as constants (examples, cutoff dates)."""
    out = []
    for v in find_volatile(text):
        before = text[max(0, v.start - 60) : v.start]
        if _EXAMPLE.search(before):
            continue
        if v.kind == "date" and _CONSTANT_DATE.search(before):
            continue
        out.append(v)
    return out


def label(v: Volatile) -> str:
    return v.label.removesuffix(" (changes daily)")


def describe(v: Volatile) -> str:
    """'ISO 8601 timestamp `2026-11-24T10:42:03Z`'."""
    value = v.value if len(v.value) <= 60 else v.value[:59] + "…"
    return f"{label(v)} `{value}`"


def why(v: Volatile, rest: str) -> str:
    """How often the value changes and what that costs; ``rest`` names what follows it in the prefix."""
    if v.severity == "warning":
        return f"it changes daily, so the first request each day re-processes everything after it ({rest})"
    if v.kind in _ID_KINDS:
        return f"ids like this differ per request or per session, so no other request reuses what follows ({rest})"
    return f"it changes with the clock, so nearly every request re-processes everything after it ({rest})"


def pick(values: list[Volatile]) -> dict[str, tuple[Volatile, int]]:
    """Per kind: the first of its most severe values, and how many values of that kind there are."""
    out: dict[str, tuple[Volatile, int]] = {}
    for v in values:
        best = out.get(v.kind)
        if best is None:
            out[v.kind] = (v, 1)
        else:
            keep = v if SEVERITY_RANK[v.severity] > SEVERITY_RANK[best[0].severity] else best[0]
            out[v.kind] = (keep, best[1] + 1)
    return out


def where_to(prompt: Prompt) -> str:
    """Where a changing value belongs instead, in the provider's words."""
    if prompt.provider == "anthropic":
        return "the latest user message (e.g. a `<system-reminder>` block), or drop it if the model does not need it"
    return "the latest user message, or the request's `metadata` if the model does not need it"


def fix_for(v: Volatile, prompt: Prompt, part: str) -> str:
    if v.kind in _ID_KINDS:
        return (
            f"Keep ids out of {part}: log them on your side or send them as request metadata; if the model "
            "needs one, put it in the latest user message."
        )
    if v.severity == "warning":
        return (
            f"Keep {part} byte-identical: if the model needs today's date, set it once at the start of the "
            "session and keep it, or give it in the latest user message instead."
        )
    return (
        f"Move the {label(v)} out of {part} into {where_to(prompt)}; if the model only needs the date, "
        "round the value to the day and set it once per session."
    )


def check(request: RequestContext) -> Iterator[Violation]:
    prompt = request.prompt
    for block in prompt.section("system"):
        text = system_text(block)
        for kind, (v, count) in pick(scan(text)).items():
            more = f" (and {count - 1} more)" if count > 1 else ""
            yield Violation(
                message=f"{describe(v)} in the system prompt at character {v.start + 1:,}{more}: "
                + why(v, "the rest of the system prompt and the whole conversation"),
                fix=fix_for(v, prompt, "the system prompt"),
                pointer=block.pointer,
                severity=v.severity,
                excerpt={"text": excerpt(text, v.start, v.end)},
                key=kind,
            )
