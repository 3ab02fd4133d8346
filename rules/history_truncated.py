"""The oldest messages of a conversation were dropped (a sliding window).

## What it does
Reports a turn whose conversation no longer starts with the messages the previous turn started
with: the oldest messages were dropped ("keep the last N messages", a token-budget window) and the
rest of the history follows unchanged, possibly with new messages appended. A window that keeps a
pinned first message (the task) and drops what follows it counts too, and so do oldest messages
replaced by fewer new ones (an in-place summary). Applies to Anthropic `messages`, OpenAI Chat
`messages` (after the leading system messages) and Responses `input`.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
A cached prefix is only reusable from its very first token. Once the first message changes, nothing
of the conversation matches any more: every message is processed again at full price and written
to the cache again. A window that slides by a message or two on every turn therefore re-processes
the whole conversation on every turn, which usually costs far more than the tokens it saves.

## Example
A chatbot keeps the last 20 messages. Turn 11 sends `/messages/0` = the 3rd message of the
conversation where turn 10 started with the 1st: the 20 kept messages are re-processed in full, and
again on turn 12, and on every turn after.

## Fix
Do not slide the window. Let the conversation grow and compact it rarely and deliberately: fork a
request with the identical prefix (same tools, system prompt and messages) that appends a "summarize
the conversation" instruction, then start a new conversation from the summary. If you must cut, cut a
large chunk only when the context is nearly full, so that the cache is rebuilt once per cut rather
than every turn; or use the provider's context editing knowingly, accepting one cache break per edit.

## Source
Anthropic prompt caching docs (byte-exact prefix from the first block; context editing invalidates
the cache at the cleared point); OpenAI prompt caching guide (exact prefix match from the first
token); Claude Code team, "Prompt caching is everything" (compaction forks with the identical prefix).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._history import PL302, analyse, reprocessed

CODE = "PL302"
NAME = "history-truncated"
CATEGORY = "history"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def check(pair: Pair) -> Iterator[Violation]:
    events = analyse(pair).of(PL302)
    if not events:
        return
    first = events[0]
    yield Violation(
        message=f"{first.text}: {reprocessed(pair, first.start)}; "
        "a window that slides re-processes the whole conversation on every turn",
        fix="Do not slide a window over the history: let it grow, and compact rarely and on purpose (fork with "
        "the identical prefix plus a summarize instruction, then start a new conversation from the summary); "
        "if you must cut, cut a large chunk only when the context is nearly full.",
        pointer=first.pointer,
        excerpt=first.excerpt,
    )
