"""The cache entry of the previous turn expired: the pause between the two turns exceeds the TTL.

## What it does
Reads the timestamps of two consecutive turns of a conversation and the cache model's store: when
the entry that the previous turn wrote (or refreshed) had expired by the time of the next turn,
because the gap between their timestamps is longer than the entry's time to live, the new turn
is reported with the gap, the TTL and the tokens that are processed again instead of read. TTLs
come from the dated cache tables: Anthropic 5 minutes (`ephemeral`, refreshed on each hit) or
1 hour (`"ttl": "1h"`); OpenAI in-memory retention (5-10 minutes idle, modelled as 10 minutes)
or 24 hours (`prompt_cache_retention: "24h"`); DeepSeek (best-effort disk cache, an estimate).
Both turns need a timestamp (an envelope's `timestamp`, a claude-trace request time); without
them nothing is reported.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
A cache entry lives for its TTL after it was last written or read. A conversation that waits on a
human, on a long tool run or on a batch queue longer than that finds nothing in the cache: the
whole prefix it shares with the previous turn (tool definitions, system prompt, history) is
processed again at full price, and on Anthropic written to the cache again at the write
surcharge (1.25x for 5 minutes), although nothing in the request changed.

## Example
An Anthropic agent with automatic caching asks the user to confirm a plan. The user answers
12 minutes later: the next request re-sends the same 30,000-token prefix, but the 5-minute entry
expired 7 minutes before, so all 30,000 tokens are written again instead of read at 0.1x.

## Fix
- Anthropic: for conversations with long pauses (a human in the loop, long tool runs), use the
  1-hour TTL on the breakpoint (`"cache_control": {"type": "ephemeral", "ttl": "1h"}`, written
  at 2x instead of 1.25x: worth it when pauses of 5 to 60 minutes are common), or pre-warm:
  while waiting, send the same prefix with `max_tokens: 0` before the TTL runs out, which
  refreshes the entry for the price of a read.
- OpenAI: `prompt_cache_retention: "24h"` on the models that support it keeps the prefix for a
  day; otherwise pre-warm with a minimal request on the same prefix.
- DeepSeek: entries are cleared best-effort after hours; only pre-warming helps.

## Source
Anthropic prompt caching docs (5-minute default TTL refreshed on each hit, optional 1-hour TTL,
write multipliers 1.25x / 2x, pre-warming with `max_tokens: 0`); OpenAI prompt caching guide
(in-memory retention 5-10 minutes idle, `prompt_cache_retention: "24h"`); DeepSeek context
caching guide (best-effort disk cache cleared after hours to days).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.cache.simulator import tokens_impact
from prefixlint.model import Violation
from prefixlint.rulebase import Pair

CODE = "PL701"
NAME = "gap-exceeds-ttl"
CATEGORY = "ttl"
SEVERITY = "warning"
SCOPE = "pair"


def duration(seconds: float) -> str:
    """'45 s', '7 min 30 s', '1 h 5 min', '2 days 3 h'."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        m, rest = divmod(s, 60)
        return f"{m} min" + (f" {rest} s" if rest and m < 10 else "")
    if s < 86400:
        h, rest = divmod(s, 3600)
        return f"{h} h" + (f" {rest // 60} min" if rest >= 60 else "")
    d, rest = divmod(s, 86400)
    return f"{d} day{'s' if d > 1 else ''}" + (f" {rest // 3600} h" if rest >= 3600 else "")


def _ttl_name(turn, ttl: int) -> str:
    """The TTL setting that gave an entry ``ttl`` seconds (e.g. "5m", "in_memory")."""
    for name, seconds in turn.pricing.ttl_seconds.items():
        if seconds == ttl:
            return name
    return ""


def _fix(pair: Pair, ttl_name: str, gap: float) -> str:
    pricing = pair.cache.pricing
    if pair.cache.family == "anthropic":
        prewarm = "pre-warm while waiting: send the same prefix with `max_tokens: 0` before the TTL runs out"
        if ttl_name == "5m" and gap <= pricing.ttl_seconds.get("1h", 3600):
            return (
                'Use the 1-hour TTL for conversations with pauses like this one (`"cache_control": '
                '{"type": "ephemeral", "ttl": "1h"}` on the breakpoint; written at 2x instead of 1.25x), '
                f"or {prewarm}."
            )
        return prewarm[0].upper() + prewarm[1:] + "."
    if pricing.provider == "openai" and "24h" in pricing.ttl_seconds and ttl_name != "24h":
        return (
            'Set `prompt_cache_retention: "24h"` for conversations with long pauses (on models that support it), '
            "or pre-warm with a minimal request on the same prefix before the entry goes idle."
        )
    return "Pre-warm the cache while waiting: send a minimal request with the same prefix before the entry expires."


def check(pair: Pair) -> Iterator[Violation]:
    turn, prev = pair.cache, pair.prev_cache
    if turn is None or prev is None or turn.time is None or prev.time is None or not turn.expired:
        return
    gap = turn.time - prev.time
    # The longest entry that expired because the pause outlasted its TTL (an entry that expired
    # earlier, unused by the previous turn, is not this pause's doing).
    lapsed = [(index, ttl) for index, _age, ttl in turn.expired if ttl and gap > ttl and index < len(turn.cum)]
    if not lapsed:
        return
    index, ttl = max(lapsed)
    tokens = turn.cum[index] - turn.read
    if tokens <= 0:
        return
    ttl_name = _ttl_name(turn, ttl)
    pointer = pair.new.blocks[index].pointer
    kept = f"; the cache still served {turn.read:,} tokens" if turn.read else ""
    where = f"the {duration(ttl)} TTL" + (f" (`{ttl_name}`)" if ttl_name else "")
    rewritten = turn.family == "anthropic" and bool(turn.breakpoints)
    again = "processed and written to the cache again" if rewritten else "processed again at full price"
    yield Violation(
        message=(
            f"{duration(gap)} passed since the previous turn, longer than {where}: the cache entry of "
            f"the prefix up to {pointer} had expired, so about {tokens:,} tokens (estimated) are {again}{kept}"
        ),
        fix=_fix(pair, ttl_name, gap),
        pointer=pointer,
        impact=tokens_impact(turn, tokens, rewritten),
    )
