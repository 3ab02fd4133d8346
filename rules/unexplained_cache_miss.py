"""The provider read far less from the cache than the request allowed, and nothing in the log explains it.

## What it does
Compares what the log recorded about a request's cache reads with what the cache model predicts
from the requests before it. When the provider read much less than the model expects (more than
1,024 tokens and more than a quarter of the prompt short), although the prefix had been sent by
an earlier request, is still within its TTL and nothing in this request changed it, the request
is reported rather than silently counted: the shortfall is real money, and its cause lies outside
the request. Reported once per conversation for each place where the provider's read stopped.
Only requests with recorded usage are checked; the fields read are:
- Anthropic (also Bedrock InvokeModel, Claude Code transcripts): `cache_read_input_tokens`, with
  `input_tokens` and `cache_creation_input_tokens` for the prompt size;
- OpenAI Chat Completions: `prompt_tokens_details.cached_tokens` of `prompt_tokens`; Responses:
  `input_tokens_details.cached_tokens` of `input_tokens`;
- DeepSeek: `prompt_cache_hit_tokens` and `prompt_cache_miss_tokens`.
Predicted reads are rescaled to the recorded prompt size, so that the model's token estimates do
not count as a miss. The threshold was calibrated on 2,000 recorded DeepSeek agent steps
(mini-swe-agent): 97% of steps are within it (DeepSeek's reads differ from the model's by a
step's reply or by one late-persisted step); beyond it are steps that read nothing at all during
a provider-side outage, or only the shared template, or an entry many steps old.

Providers: Anthropic, OpenAI (Chat, Responses) (needs recorded usage).

## Why does this break the cache?
Nothing in the request did; that is the point of the finding. Possible causes:
- eviction or expiry on the provider's side before the TTL the model assumes (caches are
  best-effort: under load, entries go early; DeepSeek's disk cache persists entries late);
- routing: OpenAI routes by a hash of the first ~256 tokens combined with `prompt_cache_key`, and
  above ~15 requests per minute for one prefix and key, requests spill over to machines that do
  not hold it;
- another organisation, workspace or API key: caches are isolated per organisation (and per
  workspace on the Claude API), so a log that merges several sees entries the request cannot;
- a prefix the log does not show as sent: requests missing from the log, or a gateway that
  rewrites requests (adds a system prompt, reorders tools) before they reach the provider.

## Example
Turn 7 of an OpenAI agent re-sends its 12,000-token history unchanged, 20 seconds after turn 6;
the model expects about 11,900 cached tokens, the response says `cached_tokens: 0`: the request
landed on another machine or the entry was evicted, and 12,000 tokens were billed at full price.

## Fix
Check that the log holds every request and what reaches the provider (a gateway can rewrite it).
On OpenAI, set a stable `prompt_cache_key` per conversation (or per user) and stay under ~15
requests per minute per prefix and key. Keep requests that should share a cache in one
organisation and workspace. If misses recur for one provider, track the observed hit rate and
raise it with the provider.

## Source
Anthropic prompt caching docs (usage fields; caches isolated per organisation and, since
2026-02-05, per workspace); OpenAI prompt caching guide (routing by prefix hash and
`prompt_cache_key`, ~15 requests per minute per prefix, usage `cached_tokens`); DeepSeek context
caching guide (`prompt_cache_hit_tokens` / `prompt_cache_miss_tokens`, best-effort caching).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.cache.simulator import tokens_impact
from prefixlint.model import Violation
from prefixlint.rulebase import RequestContext

CODE = "PL703"
NAME = "unexplained-cache-miss"
CATEGORY = "ttl"
SEVERITY = "info"
SCOPE = "request"

MIN_TOKENS = 1024  # a shortfall must exceed this many tokens...
MIN_SHARE = 0.25  # ...and this share of the recorded prompt


def _block_at(cum: list[float], tokens: float) -> int:
    """Index of the block that holds token position ``tokens`` (the first block not wholly read)."""
    for i, end in enumerate(cum):
        if end > tokens:
            return i
    return len(cum) - 1


def check(request: RequestContext) -> Iterator[Violation]:
    turn = request.cache
    if turn is None or turn.observed is None or not turn.read or not turn.total or not request.prompt.blocks:
        return
    observed = turn.observed
    if observed.total <= 0:
        return
    # Compare in the recorded units: the model's estimate of this prompt may drift from its size.
    scale = observed.total / turn.total
    predicted = int(turn.read * scale)
    missing = predicted - observed.read
    if missing <= max(MIN_TOKENS, MIN_SHARE * observed.total):
        return
    cum = [c * scale for c in turn.cum]
    stop = _block_at(cum, observed.read)
    pointer = request.prompt.blocks[stop].pointer
    expected_to = request.prompt.blocks[turn.read_index].pointer if 0 <= turn.read_index < len(cum) else None
    what = f"the prefix up to {expected_to}" if expected_to else "the prefix"
    if observed.read:
        read = f"read only {observed.read:,} tokens from the cache (its read stops in {pointer})"
    else:
        read = "read nothing from the cache"
    pricing = turn.pricing
    if pricing.provider == "openai":
        causes = "routing (prefix hash + `prompt_cache_key`, ~15 requests/min per prefix), early eviction"
    elif pricing.provider == "deepseek":
        causes = "DeepSeek's best-effort cache (entries persisted late or evicted)"
    else:
        causes = "early eviction"
    rewritten = turn.family == "anthropic" and observed.write > 0
    yield Violation(
        message=(
            f"the provider {read} where the cache model expects about {predicted:,} ({what}, sent by an "
            f"earlier request and still within its TTL): {missing:,} tokens re-processed that no change in "
            f"the request explains; possible causes: {causes}, another organisation or workspace, or "
            "requests missing from the log"
        ),
        fix=(
            "Check that the log holds every request and that nothing (a gateway, another API key) changes or "
            "re-routes requests on their way to the provider"
            + ("; set a stable `prompt_cache_key` per conversation" if pricing.provider == "openai" else "")
            + "; if misses recur, track the observed hit rate and raise it with the provider."
        ),
        pointer=pointer,
        impact=tokens_impact(turn, missing, rewritten),
    )
