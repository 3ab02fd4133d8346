"""A 1-hour cache breakpoint follows a 5-minute one in an Anthropic request.

## What it does
Reads the TTL of every `cache_control` of one Anthropic Messages request in prefix order (tools ->
system -> messages, then request-level automatic caching, which marks the last block) and reports
the first `"ttl": "1h"` breakpoint that comes after a 5-minute one (`"ttl": "5m"` or a bare
`{"type": "ephemeral"}`). Also reports automatic caching whose TTL differs from an explicit
`cache_control` already on the last block, which the API rejects as well.

Providers: Anthropic, Bedrock Converse (breakpoint caching).

## Why does this break the cache?
Entries with a longer TTL must come first: a 1h entry after a 5m entry is refused with HTTP 400,
so the request fails instead of being cached. It typically appears when one code path caches
"the long-lived part" with 1h but a static system-prompt breakpoint before it keeps the default
5 minutes, or when automatic caching is switched to 1h while the system prompt keeps a 5m marker.

## Example
```json
{"model": "claude-sonnet-4-5", "max_tokens": 1024,
 "system": [{"type": "text", "text": "...", "cache_control": {"type": "ephemeral"}}],
 "messages": [{"role": "user", "content": [
   {"type": "text", "text": "<the contract>", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
   {"type": "text", "text": "Summarise clause 4."}]}]}
```
Reported at `/messages/0/content/0`: a 1h breakpoint after the 5m one at `/system/0`.

## Fix
Put the 1h breakpoints first, on the most stable prefix (tool definitions, static system prompt),
and the 5m ones after them (the rolling breakpoint on the conversation). Or give every breakpoint
the same TTL. With automatic caching, its `ttl` must match any `cache_control` on the last block.

## Source
Anthropic prompt caching docs (TTL: a 1h entry must come before any 5m entry in tools -> system
-> messages order, otherwise 400; a bare `ephemeral` counts as 5m; automatic caching is rejected
when the last block already has a different TTL).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import RequestContext
from prefixlint.rules.too_many_breakpoints import markers, rejected_impact

CODE = "PL602"
NAME = "longer-ttl-after-shorter"
CATEGORY = "breakpoints"
SEVERITY = "error"
SCOPE = "request"

_FIX = (
    "Put the 1h breakpoints first, on the stable prefix (tools, static system prompt), and the 5m ones after "
    "them (the rolling breakpoint on the conversation), or use one TTL for every breakpoint."
)


def _subject(pointer: str, automatic: bool) -> str:
    if automatic:
        return "the 1h breakpoint of automatic caching (top-level `cache_control`, on the last block)"
    return f"1h breakpoint at {pointer}"


def check(request: RequestContext) -> Iterator[Violation]:
    prompt = request.prompt
    found = markers(prompt)
    if len(found) < 2:
        return
    first_short = None
    late = []
    for m in found:
        if m.ttl == "5m" and first_short is None:
            first_short = m
        elif m.ttl == "1h" and first_short is not None:
            late.append(m)
    if late:
        m = late[0]
        bare = ""
        if first_short.bare:
            bare = " (a cachePoint without ttl counts as 5m)" if prompt.provider == "bedrock" else " (a bare `ephemeral` counts as 5m)"
        more = f"; {len(late) - 1} more 1h breakpoint(s) after it" if len(late) > 1 else ""
        yield Violation(
            message=f"{_subject(m.pointer, m.automatic)} follows the 5m one at {first_short.pointer}{bare}: 1h "
            f"entries must come before 5m ones (tools -> system -> messages), so the API rejects the request with "
            f"HTTP 400{more}",
            fix=_FIX,
            pointer=m.pointer,
            key="ttl-order",
            impact=rejected_impact(request.cache),
        )
        if m.automatic:
            return  # the same conflict as below, already told
    auto = found[-1]
    last = prompt.blocks[-1] if prompt.blocks else None
    if not auto.automatic or last is None or not isinstance(last.cache_control, dict):
        return
    explicit = next((m for m in found if m.pointer == last.pointer and not m.automatic), None)
    if explicit is None or explicit.ttl == auto.ttl or None in (explicit.ttl, auto.ttl):
        return
    yield Violation(
        message=f"automatic caching (`/cache_control`) has TTL {auto.ttl} but the last block {last.pointer}, where "
        f"it puts its breakpoint, already has cache_control with TTL {explicit.ttl}: the API rejects the request "
        "with HTTP 400",
        fix="Give the top-level `cache_control` the same `ttl` as the marker on the last block, or remove one "
        "of the two: automatic caching already marks the last block.",
        pointer="/cache_control",
        key="auto-ttl",
        impact=rejected_impact(request.cache),
    )
