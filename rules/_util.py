"""Small helpers shared by rule modules (wording of consequences, lists of names)."""

from __future__ import annotations

from prefixlint.cache.simulator import impact
from prefixlint.diff import Change
from prefixlint.rulebase import Pair

SECTION_WORDS = {
    "tools": "the tool definitions",
    "schema": "the response schema",
    "system": "the system prompt",
    "messages": "the conversation history",
}


def lost_tokens(pair: Pair, index: int | None) -> int:
    """Tokens re-processed from block ``index`` on (the whole prompt for None): the cache model's
    figure, the same as the finding's impact, or a plain estimate when there is no cache model."""
    if pair.cache is not None:
        return impact(pair.cache, pair.prev_cache, index, whole=index is None)["tokens"]
    return sum(b.tokens for b in pair.new.blocks[index or 0 :])


def block_index(pair: Pair, pointer: str | None) -> int | None:
    """Index in the new request of the block a pointer names (or the first block under it)."""
    if pointer is None:
        return None
    for i, block in enumerate(pair.new.blocks):
        if block.pointer == pointer or block.pointer.startswith(pointer + "/"):
            return i
    return None


def reprocessed_from(pair: Pair, index: int | None, where: str | None) -> str:
    """'everything from WHERE on (about N tokens, estimated) is re-processed at full price' ('the
    whole prompt' for ``where=None``), or, for a prompt too short to be cached at all, that the break
    will matter once the prompt grows."""
    lost = lost_tokens(pair, index)
    cache = pair.cache
    subject = f"everything from {where} on" if where is not None else "the whole prompt"
    if lost == 0 and cache is not None and min(cache.total, (pair.prev_cache or cache).total) < cache.pricing.min_tokens:
        return (
            f"{subject} would be re-processed, though nothing is cached yet: the prompt is below "
            f"the model's minimum cacheable length ({cache.pricing.min_tokens:,} tokens)"
        )
    return f"{subject} (about {lost:,} tokens, estimated) is re-processed at full price"


def consequence(pair: Pair, pointer: str | None) -> str:
    """'everything from /tools/2 on (about N tokens, estimated) is re-processed at full price'."""
    index = block_index(pair, pointer)
    if index is None:
        index = pair.change.shared_blocks
    return reprocessed_from(pair, index, pointer or "the divergence")


def names(items) -> str:
    items = list(items)
    shown = ", ".join(f"`{n}`" for n in items[:5])
    return shown + (f" and {len(items) - 5} more" if len(items) > 5 else "")


def excerpt_of(change: Change) -> dict[str, str] | None:
    out = {}
    if change.before is not None:
        out["before"] = change.before
    if change.after is not None:
        out["after"] = change.after
    return out or None
