"""A conversation on an automatically caching API keeps sending prompts below the cache minimum.

## What it does
For OpenAI (Chat Completions and Responses) and OpenAI-compatible APIs that cache prefixes by
themselves (DeepSeek, Gemini's OpenAI endpoint), reports a conversation whose prompt is still
below the model's minimum cacheable length on its second turn or later (1,024 tokens for OpenAI;
the figure comes from the data tables), once per conversation. Only prompts of at least half the
minimum (and at least 256 tokens) are reported: a shorter conversation is small by nature and
cheap, and a one-off call is never reported. Token counts are estimates (about 4 bytes a token),
calibrated on the recorded usage when the log has it; a prompt within 5% under the minimum is too
close to call, and a request whose recorded usage shows cached tokens is left alone.

Providers: OpenAI (Chat, Responses), Gemini (automatic caching).

## Why does this break the cache?
Prompts shorter than the minimum are never cached: every turn is processed at full price and the
usage reports `cached_tokens: 0`, although each turn repeats the previous one. Nothing is wrong
with the request; the finding explains a zero hit rate, and points at conversations that hover just
below the threshold.

## Example
```json
{"model": "gpt-4.1",
 "messages": [{"role": "system", "content": "<about 600 tokens of instructions>"},
              {"role": "user", "content": "..."}, {"role": "assistant", "content": "..."},
              {"role": "user", "content": "..."}]}
```
Turn 2 sends about 700 tokens, below OpenAI's 1,024-token minimum: reported once, as info.

## Fix
Nothing, if prompts are short by nature: caching starts by itself once they reach the minimum.
Otherwise keep the stable part first and identical on every request (tools, response schema,
instructions, then the conversation), so that the prompts that cross the minimum share a cached
prefix; a static prefix just below the minimum (e.g. instructions plus the examples you send anyway)
may be worth completing so that it reaches it.

## Source
OpenAI prompt caching guide (automatic prefix caching for prompts of 1,024 tokens or more, exact
prefix match, tools and schema in the prefix; `cached_tokens` in the usage); DeepSeek context
caching docs (64-token units); figures from the dated data tables
(`prefixlint/data/cache-tables.json`).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import RequestContext
from prefixlint.rules.breakpoint_below_minimum import CLOSE
from prefixlint.rules.caching_not_configured import how_counted, model_name

CODE = "PL608"
NAME = "prompt-below-cache-minimum"
CATEGORY = "breakpoints"
SEVERITY = "info"
SCOPE = "request"

WORTH_TELLING = 256  # tokens: a prompt shorter than this is cheap whatever the minimum (DeepSeek's is 64)
_AUTOMATIC = {"openai": "OpenAI", "deepseek": "DeepSeek", "gemini": "Gemini"}  # providers that cache by themselves


def check(request: RequestContext) -> Iterator[Violation]:
    cache = request.cache
    if cache is None or cache.family != "openai" or request.turn < 2:
        return
    provider = _AUTOMATIC.get(cache.pricing.provider)
    minimum = cache.pricing.min_tokens
    total = cache.total
    if provider is None or not max(minimum / 2, WORTH_TELLING) <= total < minimum * CLOSE:
        return
    if cache.observed is not None and cache.observed.read:
        return  # the log shows cached tokens: the estimate is off, not the prompt
    yield Violation(
        message=f"turn {request.turn} of this conversation sends about {total:,} tokens ({how_counted(cache)}), "
        f"below the {minimum:,}-token minimum for {model_name(request)}: {provider} caches no prompt this short, "
        "so every turn so far was processed at full price",
        fix=f"Nothing to do if these prompts are short by nature: caching starts by itself at {minimum:,} tokens. "
        "Otherwise keep the stable part (tools, schema, instructions) first and identical on every request, so "
        "that prompts crossing the minimum share a cached prefix.",
        pointer=None,
        key="below-min",
        impact={
            "tokens": 0,
            "cost_usd": 0.0,
            "model": cache.pricing.model,
            "estimated": True,
            "calibrated": cache.calibrated,
            "note": "below the minimum nothing can be cached",
        },
    )
