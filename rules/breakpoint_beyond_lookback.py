"""A breakpoint is too far after the previous cache write for the 20-block lookback to find it.

## What it does
Runs Anthropic's cache model over the conversation and reports a turn whose breakpoints find no
cache entry within their lookback window although an earlier request (normally the previous turn)
wrote one further back, and nothing else in the turn read that far. Blocks are counted from 0 in
prefix order: every tool definition, every system block and every content block of every message
(a string `content` is one block). The finding points at the breakpoint that missed and names the
position of the entry it could not reach.

Providers: Anthropic, Bedrock Converse (breakpoint caching).

## Why does this break the cache?
A breakpoint writes one cache entry: the hash of everything up to and including its block. On the
next request the API hashes the prefix at each breakpoint and, on a miss, walks back one block at a
time looking for an entry an earlier request wrote, but at most 20 positions, the breakpoint itself
counting as the first. The documentation's example: the previous write is at block 15 and the new
breakpoint at block 35, so blocks 35..16 are checked and 15 is not: a miss. The whole conversation
up to the old entry is processed again at full price and written to the cache again at the write
premium (1.25x for 5 minutes, 2x for an hour) instead of being read at 0.1x. A single breakpoint on
the last block misses this way whenever one turn appends more than 19 blocks: an assistant turn with
many parallel tool calls and the user turn with all their results, a pasted batch of images or
documents, or a history that grows by many small blocks between breakpoints.

## Example
Turn 1 ends with the user's question at block 4 and marks it with `cache_control`. The assistant
answers with 12 parallel `tool_use` blocks and turn 2 sends their 12 `tool_result` blocks, marking
only the last one, block 28: the lookback checks blocks 28..9, the entry at block 4 is out of reach,
and the tools, system prompt and question are written to the cache a second time.

## Fix
Keep a breakpoint within 20 blocks of the previous write: besides the breakpoint on the last block,
put one on the block where the previous request ended (it reads that entry exactly), so that in an
agent loop every request marks the end of the previous request and the end of its own content (up
to 4 breakpoints are allowed; keep one at the end of the static tools and system prompt). With
automatic caching (top-level `cache_control`), add an explicit breakpoint before a large append such
as a batch of tool results.

## Source
Anthropic prompt caching docs (a breakpoint writes one entry; the lookback checks at most 20
positions per breakpoint, the example with blocks 15 and 35; up to 4 breakpoints; automatic caching
uses the same lookback; write and read multipliers). Spring AI `AnthropicCacheStrategy`
(CONVERSATION_HISTORY and the 20-block lookback).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.cache.anthropic import LOOKBACK
from prefixlint.cache.simulator import TurnCache, tokens_impact
from prefixlint.model import Violation
from prefixlint.rulebase import Pair

CODE = "PL604"
NAME = "breakpoint-beyond-lookback"
CATEGORY = "breakpoints"
SEVERITY = "error"
SCOPE = "pair"


def _writer(pair: Pair, index: int) -> str:
    """Who wrote the entry at block ``index``: the previous turn when it had a breakpoint there."""
    prev = pair.prev_cache
    pointer = pair.new.blocks[index].pointer
    if prev is not None and any(bp.pointer == pointer and bp.index == index for bp in prev.breakpoints):
        return "the previous request"
    return "an earlier request"


def check(pair: Pair) -> Iterator[Violation]:
    cache: TurnCache | None = pair.cache
    if cache is None or cache.family != "anthropic" or not cache.lookback_misses:
        return
    window = cache.pricing.lookback_blocks or LOOKBACK
    reported: set[int] = set()
    for bp, j in cache.lookback_misses:
        # An entry at or before the one this turn read costs nothing; report each entry once, at the
        # first (nearest) breakpoint that missed it.
        if j <= cache.read_index or j in reported or j >= len(pair.new.blocks):
            continue
        reported.add(j)
        lost = cache.cum[j] - cache.read
        entry_pointer = pair.new.blocks[j].pointer
        oldest = max(0, bp.index - window + 1)
        grew = ""
        if pair.change.kind == "append":
            added = len(pair.new.blocks) - len(pair.prev.blocks)
            grew = f"; this request added {added} blocks after the previous one"
        kind = "automatic-caching breakpoint" if bp.automatic else "breakpoint"
        if cache.read_index >= 0:
            span = f"block {j}" if cache.read_index + 1 == j else f"blocks {cache.read_index + 1}..{j}"
            redone = (
                f"The {lost:,} tokens of {span} (estimated) are processed again at full "
                f"price and written to the cache again; only the {cache.read:,} tokens up to block "
                f"{cache.read_index} are read"
            )
        else:
            redone = (
                f"The {lost:,} tokens up to block {j} (estimated) are processed again at full price and written "
                "to the cache again"
            )
        message = (
            f"the {kind} at block {bp.index} ({bp.pointer}) checks blocks {bp.index}..{oldest} and finds no cache "
            f"entry: the entry {_writer(pair, j)} wrote at block {j} ({entry_pointer}) is {bp.index - j} blocks "
            f"back, beyond the {window}-block lookback{grew}. {redone}"
        )
        if entry_pointer.endswith(("/content", "/system")):
            entry_pointer += ", sent as a list with one text block"
        if bp.automatic:
            fix = (
                f"Add an explicit `cache_control` breakpoint on {entry_pointer} (block {j}, where the cached prefix "
                f"ends) whenever a request appends more than {window - 1} blocks at once, and keep automatic "
                "caching for the last block: in an agent loop, mark the end of the previous request on every request."
            )
        else:
            fix = (
                f"Also put `cache_control` on {entry_pointer} (block {j}, where the previous entry ends) so that a "
                f"breakpoint lies within {window} blocks of it, and keep the one on the last block: in an agent loop, "
                "mark the last block of the previous request and the last block of this one on every request (at "
                "most 4 breakpoints, one of them at the end of the static tools and system prompt). Automatic "
                "caching (top-level `cache_control`) can replace the breakpoint on the last block, not this one."
            )
        yield Violation(message=message, fix=fix, pointer=bp.pointer, impact=tokens_impact(cache, lost, True))
