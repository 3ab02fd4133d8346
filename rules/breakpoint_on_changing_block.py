"""A cache breakpoint sits on a block whose content changes on every request.

## What it does
Compares consecutive turns of an Anthropic conversation and reports a breakpoint (`cache_control`,
or the automatic-caching breakpoint on the last block) that stays on the same block while the
block's content changes and everything before it stays identical: a clock or a status line in a
marked system block, or a latest user message that replaces the previous one instead of being
appended after it. To tell a block that changes on every request from a one-off edit, the rule asks
for evidence: the change is a volatile value (a timestamp, a date, an id), or the previous turn did
not read its entry at that block either. It is reported once per conversation (the first turn with
the evidence); a normal rolling breakpoint, which moves to the new last block each turn while the
previous one is re-sent unchanged, is never reported.

Providers: Anthropic, Bedrock Converse (breakpoint caching).

## Why does this break the cache?
A breakpoint writes one cache entry: the hash of everything up to and including its block. When
that block differs on the next request, the entry is never read, but the request pays the write
premium (1.25x for 5 minutes, 2x for an hour) to store a new one that the following request cannot
read either. Nothing is written at earlier positions, so the identical content before the block,
usually the tools and the static system prompt, is processed again at full price on every request
unless another breakpoint covers it. Anthropic's documentation names this as a common mistake.

## Example
```json
{"system": [{"type": "text", "text": "You are a support agent. <3,000 tokens of policies>"},
            {"type": "text", "text": "Current time: 14:02:11", "cache_control": {"type": "ephemeral"}}],
 "messages": [...]}
```
Every request writes tools + system + clock to the cache and none reads it back: the 3,000 tokens
of policies are processed again each time.

## Fix
Put the breakpoint on the last block that stays identical (here the end of the static system
prompt, `/system/0`) and move what changes after it: into the newest user message or the end of the
conversation, as a `<system-reminder>`. For a latest message that replaces the previous one, mark the
block before it, or append new messages instead of replacing the last one.

## Source
Anthropic prompt caching docs ("a breakpoint on a block that changes every request (timestamp,
the new user message in a design that never re-sends it): every request writes, none reads; put the
breakpoint on the last block that stays identical"; writes happen only at breakpoints; write and read
multipliers). Manus, "Context Engineering for AI Agents" (no timestamps at the start of the prompt).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.cache.simulator import tokens_impact
from prefixlint.diff import display_text, first_difference
from prefixlint.model import Block, Violation
from prefixlint.rulebase import Pair
from prefixlint.volatile import Volatile, find_volatile

CODE = "PL605"
NAME = "breakpoint-on-changing-block"
CATEGORY = "breakpoints"
SEVERITY = "warning"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends
ONCE = True  # at most one finding per conversation and pointer (deduplicated by the engine)

_CONTEXT = 40  # characters on each side of the change searched for a volatile value


def volatile_change(old: Block, new: Block) -> Volatile | None:
    """The volatile value (timestamp, date, id) in the region where the block's text changed."""
    a, b = display_text(old), display_text(new)
    start = first_difference(a, b)
    common = first_difference(a[start:][::-1], b[start:][::-1])
    end = max(len(b) - common, start + 1)
    lo = max(0, start - _CONTEXT)
    for v in find_volatile(b[lo : end + _CONTEXT]):
        if v.start + lo < end and v.end + lo > start:
            return v
    return None


def _noun(block: Block) -> str:
    if block.section == "system":
        return "system block"
    if block.section == "tools":
        return "tool definition"
    return f"{block.role or 'message'} message block"


def check(pair: Pair) -> Iterator[Violation]:
    cache, prev_cache = pair.cache, pair.prev_cache
    if pair.fork or cache is None or prev_cache is None or cache.family != "anthropic":
        return
    if pair.change.model is not None or pair.change.settings:
        return  # nothing is read anyway; model-switched / cache-key-setting-changed report it
    k = pair.change.shared_blocks  # the first block that differs: everything before it is identical
    if k >= len(pair.new.blocks) or k >= len(pair.prev.blocks):
        return  # an append: a rolling breakpoint on a new block is the normal case
    new_bp = next((bp for bp in cache.breakpoints if bp.index == k), None)
    old_bp = next((bp for bp in prev_cache.breakpoints if bp.index == k), None)
    block, old = pair.new.blocks[k], pair.prev.blocks[k]
    if new_bp is None or old_bp is None or block.pointer != old.pointer or new_bp.pointer != old_bp.pointer:
        return
    # Evidence that the block changes on every request, and that this is the first turn to show it.
    prev_fresh = (
        pair.turn >= 3 and prev_cache.read_index < k and not prev_cache.expired and not prev_cache.pending
    )
    value = volatile_change(old, block)
    if value is not None:
        if pair.turn >= 3 and prev_cache.read_index < k:
            return  # the previous turn already missed here: reported on an earlier turn
        evidence = f"it holds a {value.label}, now `{value.value}`"
    elif prev_fresh:
        evidence = "it changed on this turn and on the previous one"
    else:
        return
    stable = cache.tokens_before(k)
    lost = stable - cache.read
    where = f"the {_noun(block)} at {block.pointer}"
    kind = "the automatic-caching breakpoint" if new_bp.automatic else "a cache breakpoint"
    if not cache.read:
        cost = (
            f"the {stable:,} tokens of identical content before it (estimated) are processed again at full "
            "price and written to the cache again on every request"
        )
    elif lost > 0:
        cost = (
            f"{lost:,} of the {stable:,} tokens of identical content before it (estimated) are processed again "
            f"and written to the cache again on every request (an earlier breakpoint reads {cache.read:,})"
        )
    else:
        written = cache.cum[k] - cache.read
        cost = f"its entry (about {written:,} tokens written, estimated) is paid for and never used"
    message = (
        f"{kind} sits on {where}, which changes on every request ({evidence}): each request writes a cache "
        f"entry that no later request can read; {cost}"
    )
    if k > 0:
        target = pair.new.blocks[k - 1]
        where_to = f"{target.pointer}, block {k - 1}"
        if target.pointer.endswith(("/content", "/system")):
            where_to += "; send that string as a list with one text block, which can carry `cache_control`"
        explicit = " with an explicit `cache_control`" if new_bp.automatic else ""
        move = (
            f"Put the breakpoint{explicit} on the last block that stays identical ({where_to}) so that every "
            "request reads everything before the changing block."
        )
    else:
        move = "Start the prompt with content that stays identical and put the breakpoint at its end."
    if block.section == "messages":
        after = " To continue a conversation, append new messages after the latest one instead of replacing it."
    else:
        after = (
            " Move the changing content after the cached prefix: into the newest user message (as a "
            "`<system-reminder>`) or the end of the conversation."
        )
    yield Violation(
        message=message,
        fix=move + after,
        pointer=new_bp.pointer,
        impact=tokens_impact(cache, lost, True),
    )
