"""A message that was already sent was edited, deleted or moved in a later turn.

## What it does
Pairs the messages of consecutive turns of a conversation and reports a turn that changes a message
the previous turn had already sent: its text edited, a content block added to or removed from it,
its role changed, a tool call or tool result rewritten, a message deleted from the middle of the
history, or messages reordered. The report shows the first changed block, with a before/after
excerpt around the first differing character (and, for JSON blocks such as tool calls, what changed
inside them). One finding per turn; the message says how many more earlier messages changed.

Other history changes have their own rules: dropping the oldest messages is `history-truncated`,
new messages or content put in front of existing ones is `content-inserted-before-latest-turn`,
altered thinking is `thinking-blocks-altered`, shortened tool results are `tool-results-elided`,
and a change of JSON key order only is `unstable-json-key-order`. A retry is not a rewrite: when
the new turn is not longer than the previous one and only its latest messages differ (a regenerated
answer, an edited last question), the conversation has branched and nothing is reported; neither
is an assistant prefill that ended the previous turn and comes back completed.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
The cache matches a byte-identical prefix: Anthropic hashes tools, system, then every message
content block in order, OpenAI the rendered prompt from its first token. Editing message N means the
new request stops matching at message N, so that message and every message after it (usually the
whole rest of the conversation, which grows every turn) is processed again at full price and written
to the cache again, instead of being read at a tenth of the price.

## Example
Turn 3 sends `[user "Fix the failing test", assistant "I will run the tests.", user "1 failed"]`.
Turn 4 re-sends the second message as "I'll run the tests." (the client re-rendered the reply from
its own storage): everything from `/messages/1/content/0` on is re-processed.

## Fix
Treat every message that has been sent as immutable. Store the exact content blocks you sent and
received, and send them back byte for byte. To correct or update something, append a new message
(for instance a `<system-reminder>` in the next user message) instead of editing an old one. If the
history has to be shortened, do it rarely and all at once (see `history-truncated`).

## Source
Anthropic prompt caching docs (prefix order tools -> system -> messages, byte-exact match, "what
invalidates the cache"); OpenAI prompt caching guide (exact prefix match); Manus, "Context
Engineering for AI Agents" (append-only context); Claude Code team, "Prompt caching is everything"
(send updates in the next message).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._history import PL301, analyse, more, reprocessed

CODE = "PL301"
NAME = "history-rewritten"
CATEGORY = "history"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def check(pair: Pair) -> Iterator[Violation]:
    events = analyse(pair).of(PL301)
    if not events:
        return
    first = events[0]
    yield Violation(
        message=f"{first.text}{more(events, 'change to earlier messages', 'changes to earlier messages')}: "
        + reprocessed(pair, first.start),
        fix="Treat sent messages as immutable: send every earlier message back exactly as it was sent, and "
        "append corrections or updates as a new message instead of editing an old one.",
        pointer=first.pointer,
        excerpt=first.excerpt,
    )
