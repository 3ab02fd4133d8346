"""A tool's name, description or input schema changed within a conversation.

## What it does
Pairs the tool definitions of consecutive turns by name (and by position, to recognise a rename)
and reports each tool whose description or schema now differs in content, or that was renamed.
A change of key order only is reported by `unstable-json-key-order` instead.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Tool definitions are rendered first in the prefix. Any change to one of them (one word of a
description, a new enum value, a version string) is a different prefix from that tool on: the
remaining tools, the system prompt and the whole conversation are re-processed at full price.

## Example
Turn 1: `search` has the description "Search the web." Turn 2: "Search the web (results as of
10:42)." The second request misses the cache from `/tools/0` on.

## Fix
Keep tool definitions static for the life of a conversation. Put changing information (dates,
quotas, state) in the next user or tool-result message, e.g. as a `<system-reminder>`, not in
a description. Version-specific behaviour belongs in a new tool rather than an edited one.

## Source
Anthropic prompt caching docs ("What invalidates the cache": tool definitions); OpenAI prompt
caching guide (tools are part of the prefix).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prefixlint.diff import explain, first_difference
from prefixlint.model import Block, Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._util import consequence
from prefixlint.volatile import excerpt

CODE = "PL103"
NAME = "tool-definition-changed"
CATEGORY = "tools"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def parts(block: Block) -> tuple[Any, Any]:
    """(description, schema) of an Anthropic or OpenAI tool definition."""
    value = block.value if isinstance(block.value, dict) else {}
    fn = value.get("function") if isinstance(value.get("function"), dict) else value
    schema = fn.get("input_schema", fn.get("parameters"))
    return fn.get("description"), schema


def renamed_tools(prev: list[Block], new: list[Block]) -> list[tuple[str | None, str | None, Block]]:
    """Tools that kept their position and description or schema but changed name."""
    prev_names = {b.name for b in prev}
    new_names = {b.name for b in new}
    out = []
    for i, b in enumerate(new):
        if i < len(prev) and b.name not in prev_names and prev[i].name not in new_names:
            if parts(prev[i])[0] == parts(b)[0] or parts(prev[i])[1] == parts(b)[1]:
                out.append((prev[i].name, b.name, b))
    return out


def check(pair: Pair) -> Iterator[Violation]:
    if pair.fork or not pair.section("tools").changed:
        return
    prev = [b for b in pair.prev.blocks if b.section == "tools"]
    new = [b for b in pair.new.blocks if b.section == "tools"]
    fix = (
        "Keep tool definitions identical for the whole conversation; send changing information in the "
        "next user or tool-result message instead of editing a description or schema."
    )
    for old_name, new_name, block in renamed_tools(prev, new):
        yield Violation(
            message=f"tool `{old_name}` renamed to `{new_name}`: {consequence(pair, block.pointer)}",
            fix=fix,
            pointer=block.pointer,
            key=str(new_name),
        )
    by_name = {b.name: b for b in prev}
    for block in new:
        old = by_name.get(block.name)
        if old is None or old.hash == block.hash or old.canon == block.canon:
            continue
        (old_desc, old_schema), (new_desc, new_schema) = parts(old), parts(block)
        what = []
        excerpt_: dict[str, str] | None = None
        if old_desc != new_desc:
            what.append("description")
            a, b = str(old_desc or ""), str(new_desc or "")
            at = first_difference(a, b)
            excerpt_ = {"before": excerpt(a, at, at), "after": excerpt(b, at, at)}
        if old_schema != new_schema:
            what.append("input schema")
            lines = explain(old_schema, new_schema, limit=3)
            if excerpt_ is None and lines:
                excerpt_ = {"diff": "; ".join(lines)}
        if not what:
            what.append("definition")
            lines = explain(old.value, block.value, limit=3)
            excerpt_ = {"diff": "; ".join(lines)} if lines else None
        yield Violation(
            message=f"tool `{block.name}` changed its {' and '.join(what)}: {consequence(pair, block.pointer)}",
            fix=fix,
            pointer=block.pointer,
            excerpt=excerpt_,
            key=str(block.name),
        )
