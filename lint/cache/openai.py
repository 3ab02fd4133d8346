"""OpenAI's automatic prefix caching (Chat Completions and Responses; also OpenAI-compatible
servers with the same behaviour, such as DeepSeek's context caching).

- Every prompt of at least the model's minimum (1,024 tokens) is cached automatically, at no
  extra charge; a later request reads the longest cached prefix, in increments of the model's
  granularity (128 tokens for older models).
- Entries live 5-10 minutes idle in memory (``in_memory``), or 24 hours with
  ``prompt_cache_retention: "24h"``; ``prompt_cache_key`` is folded into the prefix hash because it
  routes requests (another key lands on another machine).
Source: reference/caching-rules.md (OpenAI prompt caching guide).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefixlint.cache.simulator import first_at_least, last_reply
from prefixlint.model import Prompt

if TYPE_CHECKING:
    from prefixlint.cache.simulator import CacheSimulator, TurnCache


def simulate(
    sim: CacheSimulator, prompt: Prompt, chain: list[bytes], turn: TurnCache, prev: TurnCache | None
) -> None:
    pricing, now, cum = turn.pricing, turn.time, turn.cum
    retention = prompt.settings.get("prompt_cache_retention")
    ttl_name = str(retention.value) if retention is not None else pricing.default_ttl
    ttl = pricing.ttl_seconds.get(ttl_name, pricing.ttl_seconds.get(pricing.default_ttl))
    best = -1
    replied = last_reply(prompt)
    # the first prefix of the minimum length (cum never decreases): shorter ones are not cached
    cacheable = first_at_least(cum, pricing.min_tokens)
    for j in range(len(chain) - 1, cacheable - 1, -1):
        state, entry = sim.probe(chain[j], now)
        if state == "pending" and j < replied:
            state = "hit"  # the request carries a reply that came after this prefix: it was readable
        if state == "hit":
            best = j
            break
        if state == "expired" and not turn.expired and entry is not None and now is not None:
            turn.expired.append((j, now - (entry.expires - (entry.ttl or 0)), entry.ttl or 0))
        elif state == "pending" and not turn.pending:
            turn.pending.append(j)
    turn.read_index = best
    if best >= 0:
        read = cum[best]
        if pricing.increment_tokens:
            read -= read % pricing.increment_tokens
        turn.read = read if read >= pricing.min_tokens else 0
    sim.put_from(chain, cum, cacheable, now, ttl)
