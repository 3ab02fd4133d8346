"""Requests with the same cacheable prefix were sent in parallel, before the first one's cache entry was readable.

## What it does
Follows the log's timestamps through the cache model: a request whose prefix was written to the
cache by an earlier request that had not started to respond yet (an entry becomes readable only
once the first response begins; the model allows about a second) is reported, with the size of
the prefix it could have read. The typical case is a fan-out: N subagents, N samples or N
documents sent at once with the same tool definitions and system prompt. Identical requests start
sibling conversations, so each request is checked on its own and a conversation is reported once
per shared prefix: the first request of a fan-out writes the entry and is never reported, the 2nd
to Nth are, when the prefix they miss holds at least 1,024 tokens. A request that already carries a reply to the shared prefix (an assistant message
after it) was sent after that reply and is not reported, however close the timestamps (logs that
record when a response arrived make consecutive turns look simultaneous). Without timestamps
nothing is reported.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
A cache entry can be read only after the request that writes it has started to respond. Requests
sent at the same moment all look up the prefix before any entry exists, so every one of them
processes (and on Anthropic writes) the whole shared prefix at full price: a fan-out of 10
subagents on a 20,000-token prefix pays for 200,000 tokens instead of 20,000 plus 9 cheap reads.

## Example
An orchestrator sends three subagent requests within 300 ms; all carry the same 8,000-token system
prompt with a `cache_control` breakpoint and differ only in their task message. The first writes
the system prompt to the cache; the second and third miss it and write it again.

## Fix
Send one request first and wait for its first token (streaming: the first event), then fan out the
rest: they all read the shared prefix. Where the first real request cannot go ahead, pre-warm:
send the shared prefix alone with `max_tokens: 0` (Anthropic), wait for the answer, then fan out.

## Source
Anthropic prompt caching docs ("a cache entry is only available after the first response
begins"; parallel requests should wait for the first response; pre-warming with `max_tokens: 0`);
OpenAI prompt caching guide (automatic prefix caching of prompts from 1,024 tokens).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.cache.simulator import last_reply, tokens_impact
from prefixlint.model import Violation
from prefixlint.rulebase import RequestContext

CODE = "PL702"
NAME = "parallel-fanout-before-cache-ready"
CATEGORY = "ttl"
SEVERITY = "warning"
SCOPE = "request"
# Below this many tokens a parallel start costs too little to warn about (the system message of
# parallel workers, say).
MIN_LOST_TOKENS = 1024


def check(request: RequestContext) -> Iterator[Violation]:
    turn = request.cache
    if turn is None or turn.time is None or not turn.pending:
        return
    blocks = request.prompt.blocks
    # A request that carries a reply to the prefix (an assistant message after it) was sent once
    # that reply existed: it continues a conversation and is no parallel copy. Timestamps that
    # mark when a response arrived rather than when its request left make such turns look close.
    replied = last_reply(request.prompt)  # (only message blocks have the assistant role)
    waiting = [i for i in turn.pending if i < len(turn.cum) and i >= replied]
    if not waiting:
        return
    index = max(waiting)
    tokens = turn.cum[index] - turn.read
    if tokens < MIN_LOST_TOKENS:
        return  # a longer (or equal) prefix was read anyway, or too little is at stake to warn
    pointer = blocks[index].pointer
    rewritten = turn.family == "anthropic" and bool(turn.breakpoints)
    again = "processes and writes it again" if rewritten else "processes it again at full price"
    if request.prompt.provider == "anthropic":
        prewarm = "send the shared prefix alone with `max_tokens: 0` and wait for its answer"
    else:
        prewarm = "send one minimal request with the shared prefix and wait for its answer"
    yield Violation(
        message=(
            f"sent before an earlier request with the same prefix up to {pointer} (about {tokens:,} tokens, "
            f"estimated) had started to respond: its cache entry was not readable yet, so this request {again}"
        ),
        fix=(
            f"Send one request first and wait for its first token before fanning out the others, or {prewarm} "
            "before the fan-out; the parallel requests then read the shared prefix from the cache."
        ),
        pointer=pointer,
        impact=tokens_impact(turn, tokens, rewritten),
    )
