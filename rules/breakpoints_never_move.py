"""The cache breakpoints stay on the same early blocks while the conversation grows.

## What it does
Compares consecutive turns of an Anthropic conversation and reports a conversation whose requests
keep their `cache_control` breakpoints on the same blocks (tool definitions, the system prompt, or an
early message) while messages are appended after them, once the part after the last breakpoint is
at least the model's minimum cacheable length and more than half of the prompt. This is the setup
of Spring AI's `SYSTEM_ONLY` / `SYSTEM_AND_TOOLS` strategies and of hand-written clients that mark
only the system prompt. It is reported once per conversation, on the first turn past the threshold.

Providers: Anthropic, Bedrock Converse (breakpoint caching).

## Why does this break the cache?
Anthropic writes cache entries only at breakpoints and reads only entries that earlier requests
wrote. With every breakpoint before the conversation, the tools and system prompt are read from the
cache, but the conversation history, which grows every turn and soon dwarfs them, is never written
and so never read: every request processes the whole history again at full price, where a
breakpoint that moves with the conversation would read it at a tenth of the price.

## Example
Every request of an agent loop marks only the end of the system prompt:
```json
{"system": [{"type": "text", "text": "<1,500 tokens>", "cache_control": {"type": "ephemeral"}}],
 "messages": ["<12 earlier messages, 9,000 tokens>", {"role": "user", "content": "Continue."}]}
```
1,500 tokens are read and 9,000 are processed at full price, on this turn and, growing, on every
turn after it.

## Fix
Keep the breakpoints on the tools and system prompt and add one that moves: request-level automatic
caching (top-level `"cache_control": {"type": "ephemeral"}` marks the last block of every request),
or `cache_control` on the last content block of each request (a rolling breakpoint; the previous
request's entry is then found by the lookback). In Spring AI use `CONVERSATION_HISTORY`. If a single
turn can append more than 19 blocks, see `breakpoint-beyond-lookback`.

## Source
Anthropic prompt caching docs (writes only at breakpoints, automatic caching moves its breakpoint
each turn, 20-block lookback, minimum cacheable length, read at 0.1x). Spring AI
`AnthropicCacheStrategy` and its PR #4546 (the CONVERSATION_HISTORY breakpoint on the last user
message so that the cached prefix grows each turn).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.cache.simulator import TurnCache, tokens_impact
from prefixlint.model import Violation
from prefixlint.rulebase import Pair

CODE = "PL606"
NAME = "breakpoints-never-move"
CATEGORY = "breakpoints"
SEVERITY = "warning"
SCOPE = "pair"
ONCE = True  # at most one finding per conversation and pointer (deduplicated by the engine)

TAIL_SHARE = 0.5  # report once the uncached tail is more than this share of the prompt


def _tail(turn: TurnCache) -> int:
    """Tokens after the last breakpoint: processed at full price on every request."""
    return turn.total - turn.breakpoints[-1].tokens if turn.breakpoints else turn.total


def _large(turn: TurnCache) -> bool:
    tail = _tail(turn)
    return tail >= turn.pricing.min_tokens and tail > TAIL_SHARE * turn.total


def _where(pointers: list[str]) -> str:
    shown = ", ".join(pointers[:4])
    if len(pointers) > 1:
        return f"the breakpoints ({shown}) stay on the same blocks"
    return f"the breakpoint ({shown}) stays on the same block"


def check(pair: Pair) -> Iterator[Violation]:
    cache, prev_cache = pair.cache, pair.prev_cache
    if pair.fork or cache is None or prev_cache is None or cache.family != "anthropic":
        return
    if pair.change.kind != "append" or pair.section("messages").kind != "append":
        return  # the conversation must grow; a broken prefix is reported by other rules
    if not cache.breakpoints or any(bp.automatic for bp in cache.breakpoints):
        return  # no caching at all (caching-not-configured), or automatic caching (it moves)
    pointers = [bp.pointer for bp in cache.breakpoints]
    if pointers != [bp.pointer for bp in prev_cache.breakpoints]:
        return
    last = cache.breakpoints[-1]
    if last.index >= len(pair.prev.blocks) - 1 or not _large(cache):
        return  # the previous request's end was marked, or the uncached tail is still small
    if pair.turn > 2 and _large(prev_cache):
        return  # already past the threshold on the previous turn: reported there
    tail = _tail(cache)
    share = round(100 * tail / cache.total) if cache.total else 0
    # What a moving breakpoint would read: the previous request's whole prompt.
    ideal = cache.tokens_before(len(pair.prev.blocks))
    lost = ideal - cache.read
    new_last = pair.new.blocks[-1].pointer
    if new_last.endswith("/content"):
        new_last += ", sent as a list with one text block"
    message = (
        f"{_where(pointers)} while the conversation grows: the {tail:,} tokens after "
        f"{last.pointer} ({share}% of the prompt, estimated) are never written to the cache, so every request "
        f"processes the whole history again at full price; a breakpoint that moves with the conversation "
        f"would read about {lost:,} more tokens on this turn alone"
        + (f" (only {cache.read:,} are read)" if cache.read else "")
    )
    limit = cache.pricing.max_breakpoints or 4
    if len(pointers) >= limit:
        fix = (
            f"All {len(pointers)} allowed breakpoints are fixed: move one of them (e.g. {pointers[0]}, whose "
            f"prefix the later ones include) to the last content block of every request (here {new_last}) so "
            "that the conversation is cached too."
        )
    else:
        keep = "the current breakpoint" if len(pointers) == 1 else "the current breakpoints"
        fix = (
            f"Keep {keep} and add one that moves with the conversation: request-level automatic caching "
            '(top-level `"cache_control": {"type": "ephemeral"}`), or `cache_control` on the last content block '
            f"of every request (here {new_last})."
        )
    fix += " In Spring AI, use the CONVERSATION_HISTORY strategy."
    yield Violation(message=message, fix=fix, pointer=last.pointer, impact=tokens_impact(cache, lost, False))
