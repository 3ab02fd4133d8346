"""A cache breakpoint marks a prefix shorter than the model's minimum cacheable length.

## What it does
For every cache breakpoint of an Anthropic Messages request (a `cache_control` marker, or the last
block under request-level automatic caching) compares the prefix it would cache, everything up to
and including the marked block, with the model's minimum cacheable length from the data tables
(e.g. 1,024 tokens for Sonnet 4.5, 4,096 for Opus 4.5 and Haiku 4.5). Reports a breakpoint below the
minimum, once per conversation, when the prompt as a whole reaches the minimum:

- a warning while no breakpoint reaches the minimum: nothing of the request is cached (told even if
  the short breakpoint was reported before, with what a cache could have served as impact);
- info while a later breakpoint of the request is cached: this one never is, but nothing is lost
  except one of the 4 slots (typical: a marker on the last of a few small tool definitions).

A request whose whole prompt is below the minimum (a short side call, the first turns of a chat)
is left alone: nothing could be cached there. Token counts are estimates (about 4 bytes a token),
calibrated on the recorded usage when the log has it; a prefix within 5% under the minimum is too
close to call and is not reported, nor is the last breakpoint when the recorded usage shows that
the request read from or wrote to the cache.

Providers: Anthropic, Bedrock Converse (breakpoint caching).

## Why does this break the cache?
Below the minimum the prefix is silently not cached: no error, both cache counters are 0, and the
request is processed (and billed) in full. A breakpoint placed to "cache the system prompt" on a
model whose minimum the system prompt does not reach does nothing, and still takes one of the 4
breakpoint slots. The minimums differ per model and changed several times in 2026, so a breakpoint
that worked on one model can stop working after a model upgrade.

## Example
```json
{"model": "claude-opus-4-5", "max_tokens": 1024,
 "system": [{"type": "text", "text": "<about 1,300 tokens of instructions>",
             "cache_control": {"type": "ephemeral"}}],
 "messages": [{"role": "user", "content": "..."}]}
```
Once the conversation has grown past 4,096 tokens, reported at `/system/0`: about 1,300 tokens,
below the 4,096-token minimum of Opus 4.5, and no other breakpoint, so nothing is cached (the same
breakpoint is cached on Sonnet 4.5, whose minimum is 1,024).

## Fix
Put the breakpoint where the prefix reaches the minimum: on the last message (the rolling
breakpoint, which moves forward every turn) or use top-level automatic caching. Remove a short
static breakpoint that sits before a cached one: it only takes one of the 4 slots.

## Source
Anthropic prompt caching docs (minimum cacheable prefix per model, docs of 2026-08: 512 / 1,024 /
2,048 / 4,096 tokens; shorter prefixes are not cached and both cache counters are 0; at most 4
breakpoints; automatic caching has the same minimums). Figures from the dated data tables
(`prefixlint/data/cache-tables.json`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prefixlint.cache.simulator import tokens_impact
from prefixlint.model import Violation
from prefixlint.rulebase import RequestContext
from prefixlint.rules.caching_not_configured import (
    how_counted,
    model_name,
    on_bedrock,
    repeated_tokens,
    saved_impact,
)

CODE = "PL603"
NAME = "breakpoint-below-minimum"
CATEGORY = "breakpoints"
SEVERITY = "warning"
SCOPE = "request"

CLOSE = 0.95  # an estimate within 5% under the minimum cannot tell: such a prefix is not called short
_BREAKPOINT_PROVIDERS = ("anthropic", "bedrock")
_AUTO_FIX = ', or add top-level `"cache_control": {"type": "ephemeral"}` (automatic caching)'


def _no_loss(request: RequestContext) -> dict[str, Any]:
    return tokens_impact(request.cache, 0, rewritten=False)


def check(request: RequestContext) -> Iterator[Violation]:
    cache = request.cache
    prompt = request.prompt
    if cache is None or cache.family != "anthropic" or cache.pricing.provider not in _BREAKPOINT_PROVIDERS:
        return
    breakpoints = cache.breakpoints
    minimum = cache.pricing.min_tokens
    # cached, or too close to the minimum to tell; the last one also when the log shows cache activity
    threshold = minimum * CLOSE
    cached = [bp for bp in breakpoints if bp.tokens >= threshold]
    below = [bp for bp in breakpoints if bp.tokens < threshold]
    observed = cache.observed
    if below and below[-1] is breakpoints[-1] and observed is not None and (observed.read or observed.write):
        cached.append(below.pop())
    if not below or (not cached and cache.total < minimum):
        return  # nothing short, or the whole prompt is below the minimum: nothing could be cached
    model = model_name(request)
    counted = how_counted(cache)
    slots = cache.pricing.max_breakpoints or 4
    for bp in below:
        # the last block under automatic caching is always the longest prefix: never in ``below``
        numbers = f"about {bp.tokens:,} tokens ({counted}), below the {minimum:,}-token minimum for {model}"
        if cached:
            message = (
                f"breakpoint at {bp.pointer} marks a prefix of {numbers}: only the later breakpoint at "
                f"{cached[0].pointer} is cached, this one never is, yet it takes one of the {slots} slots"
            )
            fix = (
                f"Remove this breakpoint, or move it to where the prefix reaches {minimum:,} tokens; the later "
                "breakpoints keep caching."
            )
            key, impact, severity = "bp", _no_loss(request), "info"
        else:
            message = (
                f"breakpoint at {bp.pointer} marks a prefix of {numbers}, and no breakpoint of this request reaches "
                f"the minimum: none of the prompt's {cache.total:,} tokens is cached"
            )
            fix = (
                f"Move the breakpoint to the last block{_AUTO_FIX if not on_bedrock(prompt) else ''}: that prefix "
                f"reaches {minimum:,} tokens and moves forward every turn."
            )
            # what a cache would serve on this turn, or, if its repeated part is too short, on the next one
            served = repeated_tokens(request)
            served = served if served >= minimum else cache.total
            key, impact, severity = "bp-none", saved_impact(request, served), None
        yield Violation(message=message, fix=fix, pointer=bp.pointer, severity=severity, key=key, impact=impact)
