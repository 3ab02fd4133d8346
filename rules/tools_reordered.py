"""The same tools were sent in a different order.

## What it does
Reports a turn whose tool definitions are the same as the previous turn's (same names, same
definitions) but in a different order. Applies to Anthropic and OpenAI tool lists.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
The cache matches the prefix byte for byte, and tools come first. A different order is a different
prefix from the first moved tool on, so the system prompt and the whole conversation are
re-processed at full price. This usually comes from building the list from a set, a dict filled in
varying order, or plugins/MCP servers that register concurrently.

## Example
Turn 1 sends `[read, write, search]`, turn 2 sends `[search, read, write]`.

## Fix
Build the tool list in a deterministic order (a fixed list, or sorted by name) once per
conversation and reuse it; do not derive it from an unordered collection.

## Source
Anthropic prompt caching docs (tool definitions, including order, invalidate every level);
Manus, "Context Engineering for AI Agents" (keep the prefix stable).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._util import consequence

CODE = "PL102"
NAME = "tools-reordered"
CATEGORY = "tools"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def check(pair: Pair) -> Iterator[Violation]:
    if pair.fork:
        return
    prev = [b for b in pair.prev.blocks if b.section == "tools"]
    new = [b for b in pair.new.blocks if b.section == "tools"]
    prev_names = [b.name for b in prev]
    new_names = [b.name for b in new]
    if prev_names == new_names or sorted(map(str, prev_names)) != sorted(map(str, new_names)):
        return
    first = next(i for i, (a, b) in enumerate(zip(prev_names, new_names)) if a != b)
    pointer = new[first].pointer
    yield Violation(
        message=f"tools reordered: `{new_names[first]}` is now at position {first} where `{prev_names[first]}` "
        f"was; {consequence(pair, pointer)}",
        fix="Build the tool list in one fixed order (e.g. sorted by name) and reuse it on every turn.",
        pointer=pointer,
        excerpt={"before": ", ".join(map(str, prev_names)), "after": ", ".join(map(str, new_names))},
    )
