"""A tool was added to or removed from the tool list within a conversation.

## What it does
Compares the tool definitions of consecutive turns of a conversation and reports a turn whose set
of tool names differs from the previous turn's: a tool added (anywhere in the list) or removed.
Applies to Anthropic `tools` and to OpenAI `tools` (Chat Completions and Responses).

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Tool definitions are the very first thing in the prefix (Anthropic renders tools, then system, then
messages; OpenAI renders tools before the messages). Adding or removing a tool changes the prefix
at that tool, so the system prompt and the whole conversation after it are re-processed at full
price, every time the list changes.

## Example
Turn 1 sends tools `[read, write, search]`; turn 2 of the same conversation, in "plan mode",
sends `[read, search]`: everything from `/tools/1` on is written to the cache again.

## Fix
Send the same tool list for the whole conversation and restrict what the model may call instead:
Anthropic `tool_choice`, or deferred tools (`defer_loading` with tool search) whose stubs stay in
place; OpenAI `tool_choice: {"type": "allowed_tools", ...}`. A task that needs a different tool set
belongs in a subagent (its own conversation). Plan mode can itself be a tool.

## Source
Anthropic prompt caching docs ("What invalidates the cache": tool definitions); OpenAI Prompt
Caching 201 cookbook (`allowed_tools`); Manus, "Context Engineering for AI Agents" (mask, don't
remove); Claude Code team, "Prompt caching is everything".
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._util import consequence, names
from prefixlint.rules.tool_definition_changed import renamed_tools

CODE = "PL101"
NAME = "tool-set-changed"
CATEGORY = "tools"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def check(pair: Pair) -> Iterator[Violation]:
    if pair.fork or not pair.section("tools").changed:
        return
    prev = [b for b in pair.prev.blocks if b.section == "tools"]
    new = [b for b in pair.new.blocks if b.section == "tools"]
    prev_names = {b.name for b in prev}
    new_names = {b.name for b in new}
    renamed = renamed_tools(prev, new)
    added = [b for b in new if b.name not in prev_names and b.name not in {r[1] for r in renamed}]
    removed = [b for b in prev if b.name not in new_names and b.name not in {r[0] for r in renamed}]
    if not added and not removed:
        return
    parts = []
    if added:
        parts.append(f"added {names(b.name for b in added)}")
    if removed:
        parts.append(f"removed {names(b.name for b in removed)}")
    # The first added tool, or else where the first removed tool was in the previous turn.
    pointer = added[0].pointer if added else removed[0].pointer
    if pair.new.provider == "openai":
        alt = 'keep every tool and limit the callable ones with `tool_choice: {"type": "allowed_tools", ...}`'
    else:
        alt = "keep every tool and steer with `tool_choice`, or defer tools (`defer_loading` + tool search)"
    yield Violation(
        message=f"tool list changed within the conversation ({'; '.join(parts)}): "
        + consequence(pair, pointer),
        fix=f"Send the same tools on every turn: {alt}; move work that needs other tools into a subagent.",
        pointer=pointer,
    )
