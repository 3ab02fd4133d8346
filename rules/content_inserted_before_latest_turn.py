"""New content was inserted before messages the conversation had already sent.

## What it does
Reports a turn that puts new messages in front of messages that were already in the previous turn
(retrieved documents, memory, reminders or a status message inserted before the history, or before
the latest user message, on every request), rather than after them. It also reports the common
variant where the previous turn's last user message comes back with new content in front of it (for
instance retrieved context stuffed into that message): the new message starts with new text or new
blocks and ends with exactly the old content. Messages inserted to replace the oldest ones are
reported by `history-truncated` instead.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
The cached prefix ends where the new request first differs from the old one. Content inserted
before an existing message moves that message, and every message after it, to a new position in
the prefix: from the insertion point on, the whole history is processed again at full price and
written to the cache again, on every turn that inserts.

## Example
Turn 2 sends `[user "What changed in v2?"]`. Turn 3 sends `[user "Relevant docs: ...",
user "What changed in v2?", assistant "...", user "And in v3?"]`: the documents went in front of
the old question, so everything from `/messages/0` on is re-processed.

## Fix
Append, never insert: put new context after the history, in the newest user message (for instance
as a `<system-reminder>` or `<context>` block in front of the new question, not of an old one), and
leave it there in later turns. A status or date message that must come last belongs in the newest
user message too, instead of being moved behind every new turn.

## Source
Anthropic prompt caching docs (prefix order, byte-exact match; send changing information in later
messages); OpenAI Prompt Caching 201 cookbook (static content first, dynamic content last); Claude
Code team, "Prompt caching is everything" (`<system-reminder>` in the next message).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._history import PL303, analyse, more, reprocessed

CODE = "PL303"
NAME = "content-inserted-before-latest-turn"
CATEGORY = "history"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def check(pair: Pair) -> Iterator[Violation]:
    events = analyse(pair).of(PL303)
    if not events:
        return
    first = events[0]
    yield Violation(
        message=f"{first.text}{more(events, 'inserted message')}: {reprocessed(pair, first.start)}",
        fix="Append new context after the history, in the newest user message, and keep it unchanged in later "
        "turns; never insert messages or text in front of messages that were already sent.",
        pointer=first.pointer,
        excerpt=first.excerpt,
    )
