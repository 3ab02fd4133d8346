"""Anthropic's prompt cache (Messages API; also Claude on Bedrock and Google Cloud).

- Writes happen only at breakpoints: a block with ``cache_control``, or, with request-level
  automatic caching (top-level ``cache_control``), the last block. Each write stores the prefix
  up to and including that block, if it reaches the model's minimum cacheable length.
- Reads: at each breakpoint the prefix hash is looked up, then up to ``lookback - 1`` earlier
  positions one block at a time (20 positions in all); the longest live entry found is read.
- TTL 5 minutes (``ephemeral``) or 1 hour (``"ttl": "1h"``), refreshed on every hit.
Source: reference/caching-rules.md (Anthropic prompt caching docs).
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import compress, count, islice, repeat
from operator import attrgetter
from typing import TYPE_CHECKING

from prefixlint.cache.simulator import Breakpoint, last_reply
from prefixlint.model import Prompt

if TYPE_CHECKING:
    from prefixlint.cache.simulator import CacheSimulator, TurnCache

LOOKBACK = 20
MAX_BREAKPOINTS = 4


def _ttl_name(marker: object) -> str:
    if isinstance(marker, dict) and marker.get("ttl") == "1h":
        return "1h"
    return "5m"


_CACHE_CONTROL = attrgetter("cache_control")


def marked_blocks(blocks: list, start: int = 0) -> list[int]:
    """Indices of the blocks from ``start`` on whose ``cache_control`` is an object (found in C:
    most blocks have none)."""
    flags = map(isinstance, map(_CACHE_CONTROL, islice(blocks, start, None)), repeat(dict))
    return list(compress(count(start), flags))


def breakpoints(prompt: Prompt, cum: list[int], marked: list[int]) -> list[Breakpoint]:
    """The request's breakpoints in block order: every block whose ``cache_control`` is an object
    (``marked``), then the last block when the request asks for automatic caching and it has no
    marker."""
    blocks = prompt.blocks
    out = []
    for i in marked:
        block = blocks[i]
        out.append(Breakpoint(i, block.pointer, _ttl_name(block.cache_control), False, cum[i]))
    auto = prompt.top_cache_control
    if isinstance(auto, dict) and prompt.blocks:
        last = len(prompt.blocks) - 1
        if not out or out[-1].index != last:
            out.append(Breakpoint(last, prompt.blocks[last].pointer, _ttl_name(auto), True, cum[last]))
    return out


def _rejected(points, limit: int) -> str | None:
    """Why the API refuses the request: too many breakpoints, or a 1h entry after a 5m one."""
    if len(points) > limit:
        return f"more than {limit} breakpoints"
    seen_short = False
    for bp in points:
        if bp.ttl == "5m":
            seen_short = True
        elif seen_short:
            return "a 1h breakpoint after a 5m one"
    return None


def simulate(
    sim: CacheSimulator, prompt: Prompt, chain: list[bytes], turn: TurnCache, prev: TurnCache | None
) -> None:
    pricing, now, cum = turn.pricing, turn.time, turn.cum
    shared = turn.shared  # leading blocks equal to prev's: equal blocks have equal cache_control
    if shared and prev is not None and prev.marked is not None:
        known = prev.marked
        turn.marked = known[: bisect_left(known, shared)] + marked_blocks(prompt.blocks, shared)
    else:
        turn.marked = marked_blocks(prompt.blocks)
    turn.breakpoints = breakpoints(prompt, cum, turn.marked)
    turn.rejected = _rejected(turn.breakpoints, pricing.max_breakpoints or MAX_BREAKPOINTS)
    if turn.rejected:
        return  # the API answers 400: nothing is read or written
    lookback = pricing.lookback_blocks or LOOKBACK
    best = -1
    seen_expired: set[int] = set()
    replied = last_reply(prompt)
    for bp in turn.breakpoints:
        found = False
        for j in range(bp.index, max(-1, bp.index - lookback), -1):
            state, entry = sim.probe(chain[j], now)
            if state == "pending" and j < replied:
                state = "hit"  # the request carries a reply that came after this prefix: it was readable
            if state == "hit":
                best = max(best, j)
                found = True
                break
            if state == "expired" and entry is not None and now is not None and entry.expires is not None:
                if j not in seen_expired:  # several breakpoints' windows may cover one entry
                    seen_expired.add(j)
                    turn.expired.append((j, now - (entry.expires - (entry.ttl or 0)), entry.ttl or 0))
            elif state == "pending":
                turn.pending.append(j)
        if not found:
            # An entry further back than the lookback window: it exists, but this breakpoint misses it.
            for j in range(bp.index - lookback, -1, -1):
                if sim.probe(chain[j], now)[0] == "hit":
                    turn.lookback_misses.append((bp, j))
                    break
    turn.read_index = best
    turn.read = cum[best] if best >= 0 else 0
    if best >= 0:
        sim.refresh(chain[best], now)
    last_write = -1
    for bp in turn.breakpoints:
        if bp.tokens < pricing.min_tokens:
            turn.below_minimum.append(bp)
            continue
        sim.put(chain[bp.index], bp.tokens, now, pricing.ttl_seconds.get(bp.ttl))
        last_write = max(last_write, bp.index)
    if last_write > best:
        turn.write = cum[last_write] - turn.read
