"""An earlier tool result was truncated or replaced by a placeholder.

## What it does
Pairs the tool results of consecutive turns by their call id (Anthropic `tool_result` blocks,
OpenAI Chat `role: tool` messages, Responses `function_call_output` items) and reports a turn in
which a tool result the previous turn had sent comes back shorter ("first 2,000 characters kept",
`…(truncated)`) or replaced by a placeholder such as `[output elided]`. Other changes to a tool
result are reported by `history-rewritten`.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Old tool results sit in the middle of the cached prefix. Shortening one makes the request stop
matching at that result, so it and everything after it (the rest of the conversation) is processed
again at full price, usually far more tokens than the elision saved. Done every turn (for instance
"keep only the last three tool outputs in full"), it re-processes most of the conversation every turn.

## Example
Turn 5 sends the 40,000-character output of `read_file` at `/messages/2/content/0`. Turn 6 sends
it as "[output elided]": everything from that block on is re-processed.

## Fix
Leave old tool results untouched. If the context must shrink, do it rarely and in one step, as a
deliberate cache break (Anthropic context editing with `clear_tool_uses` is documented to invalidate
the cache at the cleared point), not a little more every turn. Better, keep big outputs out of the
conversation from the start: store them and return a short reference (a path or an id) with a tool
that reads parts of them on demand.

## Source
Anthropic prompt caching docs (byte-exact prefix; context editing invalidates the cache at the
cleared point); "Don't Break the Cache" (arXiv 2601.06007: dynamic tool results and caching);
Manus, "Context Engineering for AI Agents" (append-only context, the file system as memory).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._history import PL305, analyse, more, reprocessed

CODE = "PL305"
NAME = "tool-results-elided"
CATEGORY = "history"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def check(pair: Pair) -> Iterator[Violation]:
    events = analyse(pair).of(PL305)
    if not events:
        return
    first = events[0]
    yield Violation(
        message=f"{first.text}{more(events, 'elided tool result')}: {reprocessed(pair, first.start)}",
        fix="Leave old tool results untouched; if the context must shrink, cut once and on purpose (e.g. "
        "Anthropic context editing `clear_tool_uses`), or keep big outputs out of the conversation from the "
        "start (store them and return a short reference).",
        pointer=first.pointer,
        excerpt=first.excerpt,
        key=first.key,
    )
