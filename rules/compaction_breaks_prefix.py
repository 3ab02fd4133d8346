"""A compaction (summarisation) request re-sends the conversation under another prefix.

## What it does
Reports a summarisation or compaction request that re-sends a conversation's history with a
different system prompt, a different tool list (often none) or a different model than the
conversation itself. Such a request is attached to the conversation as a *fork*: it is compared
with the conversation's last turn without becoming its next turn. The message says what differs and
how many tokens of history are processed again.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Tools and the system prompt come before the messages in the prefix (Anthropic: tools -> system ->
messages; OpenAI: tools, then instructions and messages), and the model is part of the cache key.
A summary request with its own system prompt or tools therefore cannot read any of the
conversation's cached history, even though every message is identical: the whole conversation,
typically the longest prompt of the session, is processed again at full price, at exactly the
moment it is largest.

## Example
Turn 40 of an agent loop sends 90,000 tokens under the agent's system prompt and 12 tools. The
compaction request sends the same 40 turns with the system prompt "You summarise conversations."
and no tools, plus "Summarize the conversation so far.": all 90,000 tokens are re-processed.

## Fix
Fork with the identical prefix: send the same model, the same tools and the same system prompt and
the conversation's messages unchanged, and append the summarize instruction as the last user
message (tell the model there not to call tools, or use `tool_choice` where that does not change
the cached prefix you need). The request then reads the whole history from the cache and pays full
price only for the instruction and the summary.

## Source
Claude Code team, "Prompt caching is everything" (compaction forks with the identical prefix and
appends the summarize instruction); Anthropic prompt caching docs (prefix order tools -> system ->
messages; changing tools or the system prompt invalidates the messages cache; caches are per
model); OpenAI prompt caching guide (tools are part of the prefix).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Prompt, Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._util import excerpt_of, lost_tokens, names

CODE = "PL306"
NAME = "compaction-breaks-prefix"
CATEGORY = "history"
SEVERITY = "warning"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def _tools(prompt: Prompt) -> list:
    return [b for b in prompt.blocks if b.section == "tools"]


def _differences(prev: Prompt, new: Prompt) -> list[str]:
    out = []
    old_tools, new_tools = _tools(prev), _tools(new)
    if [b.canon for b in old_tools] != [b.canon for b in new_tools]:
        if not new_tools:
            out.append("no tools")
        else:
            before = {b.name for b in old_tools}
            after = {b.name for b in new_tools}
            parts = []
            if after - before:
                parts.append(f"added {names(sorted(map(str, after - before)))}")
            if before - after:
                parts.append(f"without {names(sorted(map(str, before - after)))}")
            out.append("a different tool list" + (f" ({'; '.join(parts)})" if parts else ""))
    for section, label in (("schema", "response schema"), ("system", "system prompt")):
        old = [b.canon for b in prev.blocks if b.section == section]
        cur = [b.canon for b in new.blocks if b.section == section]
        if old != cur:
            out.append(f"no {label}" if not cur else f"a different {label}")
    if prev.model != new.model:
        out.append(f"another model (`{new.model}` instead of `{prev.model}`)")
    return out


def check(pair: Pair) -> Iterator[Violation]:
    if not pair.fork:
        return
    prev, new = pair.prev, pair.new
    what = _differences(prev, new) or ["a different prefix"]
    # The history the fork shares with the conversation, message by message.
    shared = 0
    for a, b in zip(prev.messages, new.messages):
        if a.canon != b.canon:
            break
        shared += 1
    history = sum(blk.tokens for m in new.messages[:shared] for blk in new.blocks[m.first : m.first + m.count])
    pointer = pair.change.pointer or "/system"
    lost = lost_tokens(pair, pair.change.shared_blocks)
    yield Violation(
        message=f"summarisation request re-sends the conversation's {shared} messages (about {history:,} tokens) "
        f"with {' and '.join(what)}: it cannot read the conversation's cache, so about {lost:,} tokens "
        "(estimated) are re-processed at full price",
        fix="Fork with the identical prefix: same model, tools and system prompt and the unchanged messages, then "
        "append the summarize instruction as the last user message.",
        pointer=pointer,
        excerpt=excerpt_of(pair.change),
    )
