"""The model changed within a conversation.

## What it does
Reports a turn sent to a different `model` than the previous turn of the same conversation
(Anthropic and OpenAI).

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
The model is part of the cache key: caches are never shared between models. After a switch, the
whole prompt (tools, system prompt and every earlier message) is processed again at full price,
and switching back later misses once more if the old entry has expired.

## Example
Turns 1-9 go to `claude-sonnet-4-5`; turn 10 of the same conversation goes to `claude-haiku-4-5`
for a "cheap" step and re-processes the entire 80,000-token history.

## Fix
Keep one model for the life of a conversation. Hand work that suits another model to a subagent
with its own, short context (and its own cache), and return only the result to the main
conversation.

## Source
Anthropic prompt caching docs (caches are per model; the cache diagnostics beta reports
`model_changed`); Claude Code team, "Prompt caching is everything" (never switch models
mid-session, use a subagent).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair
from prefixlint.rules._util import reprocessed_from

CODE = "PL401"
NAME = "model-switched"
CATEGORY = "model"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends


def check(pair: Pair) -> Iterator[Violation]:
    if pair.fork or pair.change.model is None:
        return
    old, new = pair.change.model
    yield Violation(
        message=f"model switched from `{old}` to `{new}` within the conversation: caches are per model, so "
        + reprocessed_from(pair, None, None),
        fix="Keep one model per conversation; run steps that need another model as a subagent with its own "
        "context and return only its result.",
        pointer="/model",
        excerpt={"before": str(old), "after": str(new)},
    )
