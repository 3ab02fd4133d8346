"""Thinking blocks of an earlier assistant message were dropped or changed.

## What it does
Reports a turn in which an assistant message that the previous turn sent with `thinking` or
`redacted_thinking` blocks (Anthropic) comes back with those blocks dropped, changed or added,
while the rest of the message is unchanged; and, for the OpenAI Responses API, a `reasoning` input
item of the previous turn that was dropped, changed or newly inserted into the history. When the
rest of the message changed as well, the turn is reported by `history-rewritten`.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Thinking blocks are part of the cached prefix when they are sent back, and clients must pass them
back unmodified. Dropping or editing one makes the request stop matching at that assistant message,
so it and everything after it is re-processed at full price. The severity is a warning because on
older Claude models (Haiku, and Opus/Sonnet before Opus 4.5 and Sonnet 4.6) the API itself strips
thinking from earlier turns once a new user turn that is not a tool result arrives, so dropping it
there costs little; on newer models earlier thinking stays in the prompt and dropping it breaks the
prefix. Inside a tool-use loop, the last assistant turn's thinking must be sent back anyway.

## Example
Turn 2 sends `[user, assistant [thinking, text "Use a queue."], user "Why?"]`. Turn 3 stores only the
text: `[user, assistant [text "Use a queue."], user "Why?", assistant ..., user ...]`. On Opus 4.5
everything from `/messages/1` on is re-processed.

## Fix
Keep every content block of the assistant's reply exactly as the API returned it, thinking and
signature included, and send it back unchanged in every later turn (Responses: send the `reasoning`
items back as returned, with `encrypted_content` when you do not store responses). Let the API
decide what to strip.

## Source
Anthropic prompt caching docs (thinking blocks are cached as part of the prefix; older models strip
earlier thinking after a new non-tool-result user turn; clients must pass thinking blocks back
unmodified); Anthropic extended thinking docs (preserving thinking blocks in tool use).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._history import PL304, analyse, more, reprocessed

CODE = "PL304"
NAME = "thinking-blocks-altered"
CATEGORY = "history"
SEVERITY = "warning"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def check(pair: Pair) -> Iterator[Violation]:
    events = analyse(pair).of(PL304)
    if not events:
        return
    first = events[0]
    if pair.new.api == "responses":
        fix = (
            "Send every `reasoning` item back exactly as it was returned (with `encrypted_content` when responses "
            "are not stored), in its place in the history."
        )
    else:
        fix = (
            "Send every assistant message back with all its content blocks exactly as the API returned them, "
            "`thinking` and `redacted_thinking` (with their signatures) included; let the API strip old thinking."
        )
    yield Violation(
        message=f"{first.text}{more(events, 'message with altered thinking', 'messages with altered thinking')}: "
        f"{reprocessed(pair, first.start)} on models that keep earlier thinking",
        fix=fix,
        pointer=first.pointer,
        excerpt=first.excerpt,
    )
