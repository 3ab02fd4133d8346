"""Small helpers shared by rule modules (wording of consequences, lists of names)."""

from __future__ import annotations

from prefixlint.diff import Change
from prefixlint.rulebase import Pair

SECTION_WORDS = {
    "tools": "the tool definitions",
    "schema": "the response schema",
    "system": "the system prompt",
    "messages": "the conversation history",
}


def consequence(pair: Pair, pointer: str | None) -> str:
    """'everything from /tools/2 on (about N tokens) is re-processed at full price'."""
    change: Change = pair.change
    lost = max(0, change.new_tokens - change.shared_tokens)
    if pointer is not None:
        # Count from the block the finding points at (an earlier change is reported on its own).
        for i, block in enumerate(pair.new.blocks):
            if block.pointer == pointer or block.pointer.startswith(pointer + "/"):
                lost = sum(b.tokens for b in pair.new.blocks[max(i, change.shared_blocks) :])
                break
    where = pointer or "the divergence"
    return f"everything from {where} on (about {lost:,} tokens, estimated) is re-processed at full price"


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
