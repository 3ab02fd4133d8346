"""An Anthropic (or Bedrock Converse) conversation long enough to cache has no cache breakpoint at all.

## What it does
Reports an Anthropic Messages request without any `cache_control` (none on tools, system or
message blocks, and no top-level automatic caching) whose prompt is long enough to be cached: from
the second turn of a conversation on, when the part it repeats from the previous turn reaches the
model's minimum cacheable length (e.g. 1,024 tokens for Sonnet 4.5, 4,096 for Opus 4.5 and Haiku
4.5); on a first turn, when the prompt is at least twice the minimum. Reported once per
conversation, at `/cache_control` (where automatic caching would go). Token counts are estimates,
calibrated on the recorded usage when the log has it. On Bedrock Converse, a request without any
`cachePoint` block is reported the same way, at `/messages` (Converse has no request-level
automatic caching), for the models the cache tables list (Claude 3 and later, Nova); older Claude
models and other Bedrock models cannot cache.

Providers: Anthropic, Bedrock Converse (models with prompt caching).

## Why does this break the cache?
Anthropic caches nothing unless the request asks for it: without a breakpoint no entry is written,
so every turn processes the tools, the system prompt and the whole conversation so far at full
price, although all of it except the newest messages was already sent on the previous turn. A cache
read costs a tenth of the input price.

## Example
```json
{"model": "claude-sonnet-4-5", "max_tokens": 1024,
 "system": "<6,000 tokens of instructions>",
 "messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."},
              {"role": "user", "content": "..."}]}
```
Turn 2 re-sends the 6,000-token system prompt and the first exchange without any `cache_control`.

## Fix
Add request-level automatic caching, `"cache_control": {"type": "ephemeral"}` at the top of the
request: it puts the breakpoint on the last block and moves it forward by itself every turn. Or mark
the last block yourself (and the end of the static system prompt, so that it survives changes in
the conversation). On Bedrock's InvokeModel integration, which does not support automatic caching,
mark the last block. A one-off request that is never repeated does not need it: a cache write
costs 1.25x the input price.

## Source
Anthropic prompt caching docs (writes happen only at breakpoints; automatic caching launched
2026-02-19 puts the breakpoint on the last cacheable block and moves it each turn, not supported on
the legacy Bedrock integration; minimum cacheable prefix per model; 5m writes 1.25x, reads 0.1x
the input price). Figures from the dated data tables (`prefixlint/data/cache-tables.json`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prefixlint.cache.simulator import tokens_impact
from prefixlint.model import Prompt, Violation
from prefixlint.rulebase import RequestContext
from prefixlint.rules.too_many_breakpoints import markers

CODE = "PL607"
NAME = "caching-not-configured"
CATEGORY = "breakpoints"
SEVERITY = "warning"
SCOPE = "request"

FIRST_TURN_FACTOR = 2  # a first turn (no evidence yet that the prefix is re-sent) must be this many minimums
_BREAKPOINT_PROVIDERS = ("anthropic", "bedrock")  # caches only where told to (DeepSeek's endpoint caches by itself)

FIX = (
    'Add top-level `"cache_control": {"type": "ephemeral"}` (automatic caching: the breakpoint goes on the last '
    "block and moves forward every turn), or put `cache_control` on the last block and at the end of the static "
    "system prompt; skip it only for one-off requests that are never repeated."
)
FIX_CONVERSE = (
    'Add a `{"cachePoint": {"type": "default"}}` block after the static system prompt and one at the end of the '
    "last message, moved forward every turn (a checkpoint finds the previous one's entry up to 20 blocks back); skip "
    "it only for one-off requests that are never repeated."
)
FIX_BEDROCK = (
    'Put `"cache_control": {"type": "ephemeral"}` on the last block of every request and at the end of the static '
    "system prompt (Bedrock's InvokeModel integration does not support top-level automatic caching); skip it only "
    "for one-off requests that are never repeated."
)


def on_bedrock(prompt: Prompt) -> bool:
    """A Claude request in Bedrock InvokeModel form (``anthropic_version: bedrock-...``)."""
    body = prompt.record.body
    version = body.get("anthropic_version") if isinstance(body, dict) else None
    return isinstance(version, str) and version.startswith("bedrock")


def how_counted(cache: Any) -> str:
    return "calibrated on recorded usage" if cache.calibrated else "estimated"


def model_name(request: RequestContext) -> str:
    return request.cache.pricing.model or request.prompt.model or "this model"


def repeated_tokens(request: RequestContext) -> int:
    """Tokens of this request a cache could have served: from turn 2 on, everything before the latest
    assistant reply (what the previous turn sent); on a first turn, the whole prompt (what the next
    turn would read)."""
    cache = request.cache
    if request.turn < 2 or not request.prompt.messages:
        return cache.total
    messages = request.prompt.messages
    last = next((m for m in reversed(messages) if m.role == "assistant"), messages[-1])
    return cache.tokens_before(last.first)


def saved_impact(request: RequestContext, tokens: int) -> dict[str, Any]:
    """Tokens a cache could have served and what reading them instead would save."""
    return tokens_impact(request.cache, tokens, rewritten=False)


def check(request: RequestContext) -> Iterator[Violation]:
    cache = request.cache
    prompt = request.prompt
    converse = prompt.provider == "bedrock"
    if cache is None or cache.pricing.provider not in _BREAKPOINT_PROVIDERS:
        return
    if prompt.provider != "anthropic" and not (converse and cache.pricing.matched is not None):
        return  # on Converse: a model the tables do not list (Llama, Claude 2) has no prompt caching
    if markers(prompt):
        return
    minimum = cache.pricing.min_tokens
    model = model_name(request)
    counted = how_counted(cache)
    if request.turn >= 2:
        repeated = repeated_tokens(request)
        if repeated < minimum:
            return
        message = (
            f"no {'cachePoint' if converse else 'cache_control'} in this conversation: turn {request.turn} re-processes "
            f"at full price about {repeated:,} tokens ({counted}) already sent on the previous turn, above the "
            f"{minimum:,}-token minimum for {model}; without a {'checkpoint Bedrock' if converse else 'breakpoint Anthropic'} "
            "caches nothing"
        )
    else:
        repeated = cache.total
        if repeated < FIRST_TURN_FACTOR * minimum:
            return
        message = (
            f"no {'cachePoint' if converse else 'cache_control'} on a prompt of about {repeated:,} tokens ({counted}), at "
            f"least twice the {minimum:,}-token "
            f"minimum for {model}: nothing is cached, so a next turn (or any request repeating its prefix) "
            "re-processes it at full price"
        )
    yield Violation(
        message=message,
        fix=FIX_CONVERSE if converse else FIX_BEDROCK if on_bedrock(prompt) else FIX,
        pointer="/messages" if converse else "/cache_control",
        key="none",
        impact=saved_impact(request, repeated),
    )
