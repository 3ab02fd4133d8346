"""A cache-key setting (tool_choice, thinking, effort, prompt_cache_key, response schema...) changed mid-conversation.

## What it does
Reports each setting that changed between consecutive turns of a conversation although it is not
prompt text, because the provider counts it as part of the cached prefix or its routing:

- Anthropic: `tool_choice`, `disable_parallel_tool_use`, `thinking`, `output_config` (effort),
  `speed`, `context_management`, server tools switched on or off (web search, web fetch, code
  execution) and the `anthropic-beta` header;
- OpenAI: `reasoning_effort` / `reasoning.effort`, `prompt_cache_key`, `prompt_cache_retention`,
  and the structured-output schema (`response_format`, Responses `text.format`) when its content
  changes (a change of key order only is `unstable-json-key-order`).

Each finding names the cache level that is lost and shows the value before and after. An absent
setting and its default are treated alike (`tool_choice` absent = `{"type": "auto"}`, `thinking`
absent = disabled), and the beta header is compared as a set. A hand-off to another API (Responses to
Chat, OpenAI to Anthropic) is left to `model-switched`: its settings are not comparable.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Anthropic keeps three cache levels, tools -> system -> messages, and documents which settings
invalidate which: `tool_choice` and `disable_parallel_tool_use` keep the tools and system caches
but invalidate the messages cache; the thinking configuration and `output_config.effort` invalidate
the messages cache (tools and system depending on the model); toggling web search or web fetch (and
`speed`) keeps only the tools cache; a different beta header set is a miss. So an agent that flips
`tool_choice` to force one tool call re-processes its entire conversation history on that turn,
and again when it flips back.

OpenAI renders the response schema right after the tools, so a schema change re-processes the
system prompt and the whole conversation. It routes requests by a hash of the first ~256 prompt
tokens combined with `prompt_cache_key`: a new key can send the conversation to a machine that never
cached it. Changing reasoning effort lowers cache hits as well.

## Example
Turn 3 of an Anthropic agent loop sends `"tool_choice": {"type": "tool", "name": "submit_report"}`
to force the final answer; turns 1-2 used `{"type": "auto"}`. The tools and system prompt are still
read from the cache, but the 40,000-token conversation is written again at 1.25x the input price.

## Fix
Choose these settings once per conversation and keep them. Instead of forcing a tool, keep
`tool_choice` at `auto` and say what is expected in the next user message (a `<system-reminder>`);
on OpenAI restrict tools with `tool_choice: {"type": "allowed_tools", ...}` set from the first turn.
Set thinking, effort and speed once; run a step that needs other settings as a subagent with its own
short context. Keep `prompt_cache_key` constant per conversation. Keep one response schema that
covers every answer shape (e.g. `anyOf` of the variants).

## Source
Anthropic prompt caching docs ("What invalidates the cache" table: tool_choice,
disable_parallel_tool_use, thinking, output_config.effort, web search/web fetch, speed; cache
diagnostics beta `cache_miss_reason` `unavailable` for settings and the beta header); OpenAI prompt
caching guide (schema in the prefix; routing on the first ~256 tokens with `prompt_cache_key`);
OpenAI Prompt Caching 201 cookbook (`allowed_tools`; changing reasoning effort lowers hits).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prefixlint.diff import explain, first_difference
from prefixlint.model import Violation
from prefixlint.providers.base import dumps
from prefixlint.rulebase import Pair
from prefixlint.rules._util import consequence
from prefixlint.volatile import excerpt

CODE = "PL501"
NAME = "cache-key-setting-changed"
CATEGORY = "params"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends

_ALL = frozenset(("tools", "schema", "system", "messages"))
_AFTER_TOOLS = frozenset(("schema", "system", "messages"))
_MESSAGES = frozenset(("messages",))

# (sections whose cached tokens are lost, what is kept and lost, ending of the sentence); "{tokens}"
# becomes the estimate. The Anthropic levels follow the docs' "What invalidates the cache" table.
_KEEP_TOOLS_SYSTEM = (
    _MESSAGES,
    "the tools and system prompt stay cached, but the messages cache is invalidated, so the conversation "
    "history{tokens} is re-processed at full price",
)
_THINKING = (
    _MESSAGES,
    "the messages cache is invalidated (on some models the tools and system caches too), so the conversation "
    "history{tokens} is re-processed at full price",
)
_KEEP_TOOLS = (
    frozenset(("system", "messages")),
    "only the tool definitions stay cached; the system and messages caches are invalidated, so the system "
    "prompt and the conversation{tokens} are re-processed at full price",
)
_BETA = (
    _MESSAGES,
    "a different beta set misses the cache (at least the messages cache; a fast-mode beta also "
    "invalidates the system cache), so the conversation history{tokens} is re-processed at full price",
)
_OPENAI_EFFORT = (
    _ALL,
    "OpenAI reports fewer cache hits across a reasoning effort change, so expect the conversation's "
    "cached prefix{tokens} to be re-processed at full price",
)
_OPENAI_KEY = (
    _ALL,
    "OpenAI routes on a hash of the first ~256 prompt tokens combined with `prompt_cache_key`, so this "
    "request can land on a machine that never cached the conversation: its cached prefix{tokens} is "
    "likely re-processed at full price",
)
_OPENAI_RETENTION = (
    _ALL,
    "entries written under one retention policy are not guaranteed to serve requests under the other, "
    "so the cached prefix{tokens} may be re-processed at full price",
)

_UNKNOWN = (_MESSAGES, "it is part of the cache key, so the conversation history{tokens} is re-processed at full price")

_EFFECTS = {
    "tool_choice": _KEEP_TOOLS_SYSTEM,
    "disable_parallel_tool_use": _KEEP_TOOLS_SYSTEM,
    "thinking": _THINKING,
    "output_config": _THINKING,
    "speed": _KEEP_TOOLS,
    "context_management": (
        _MESSAGES,
        "the cached conversation is not reused (the cache diagnostics report such setting changes as a "
        "miss), so the conversation history{tokens} is re-processed at full price",
    ),
    "anthropic-beta header": _BETA,
    "reasoning_effort": _OPENAI_EFFORT,
    "reasoning.effort": _OPENAI_EFFORT,
    "prompt_cache_key": _OPENAI_KEY,
    "prompt_cache_retention": _OPENAI_RETENTION,
}

_FIXES = {
    "tool_choice": "Keep `tool_choice` constant for the conversation (usually `auto`) and state what you expect in "
    "the next user message (e.g. a `<system-reminder>`: \"call submit_report next\") instead of forcing a tool.",
    "disable_parallel_tool_use": "Set `disable_parallel_tool_use` once per conversation and keep it; ask for one "
    "tool call at a time in the next user message if a single step needs it.",
    "thinking": "Choose the thinking configuration (type and budget) once per conversation and keep it; run a step "
    "that needs another budget as a subagent with its own short context.",
    "output_config": "Set `output_config` (effort) once per conversation and keep it; run a step that needs another "
    "effort as a subagent with its own short context.",
    "speed": "Choose `speed` once per conversation; switch between fast and standard only for a new conversation.",
    "context_management": "Configure `context_management` once per conversation and keep it; let its clearing "
    "strategy run instead of changing the configuration between turns.",
    "anthropic-beta header": "Send the same `anthropic-beta` header on every request of a conversation; enable the "
    "betas it needs from the first turn on.",
    "reasoning_effort": "Set `reasoning_effort` once per conversation; run a step that needs another effort as a "
    "separate request with its own short context.",
    "reasoning.effort": "Set `reasoning.effort` once per conversation; run a step that needs another effort as a "
    "separate request with its own short context.",
    "prompt_cache_key": "Keep `prompt_cache_key` constant for the conversation (derive it from the conversation or "
    "user id, never per request) and send it from the first request on.",
    "prompt_cache_retention": "Choose `prompt_cache_retention` once per conversation (e.g. `24h` for long-lived "
    "sessions) and send it on every request.",
}
_SERVER_FIX = (
    "Send the same server tools on every turn of the conversation; if a step must not use one, say so in the next "
    "user message instead of removing the tool."
)
_SCHEMA_FIX = (
    "Keep one response schema for the whole conversation: make it cover every answer shape (e.g. an `anyOf` of the "
    "variants) instead of swapping schemas between turns, or run the differently shaped step as a separate request."
)

# Settings whose absence means the same as a value.
_DEFAULTS: dict[str, Any] = {
    "tool_choice": {"type": "auto"},
    "disable_parallel_tool_use": False,
    "thinking": {"type": "disabled"},
}
_WARNINGS = frozenset(("prompt_cache_retention",))


def _short(value: Any, limit: int = 60) -> str:
    if value is None:
        return "(unset)"
    text = value if isinstance(value, str) else dumps(value).decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _betas(value: Any) -> frozenset[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return frozenset(str(item).strip() for item in items if str(item).strip())


def _same(label: str, old: Any, new: Any) -> bool:
    """Values that differ in form only (absent vs. default, the same betas in another order)."""
    if label == "anthropic-beta header":
        return _betas(old) == _betas(new)
    if label in _DEFAULTS:
        default = _DEFAULTS[label]
        return (default if old is None else old) == (default if new is None else new)
    return False


def _tokens(pair: Pair, sections: frozenset[str]) -> str:
    """' (about N tokens, estimated)': the part of these sections that the previous turn cached and that
    is now re-processed (blocks after an earlier content change are already lost: not counted)."""
    if pair.change.model:
        return ""  # the model switch already costs the whole prompt: do not count it twice
    count = sum(b.tokens for b in pair.new.blocks[: pair.change.shared_blocks] if b.section in sections)
    return f" (about {count:,} tokens, estimated)" if count else ""


def _server_tool(label: str, old: Any, new: Any) -> tuple[str, tuple[frozenset[str], str], str]:
    """(what happened, effect, fix) for a versioned Anthropic tool switched on, off or reconfigured."""
    value = new if isinstance(new, dict) else old if isinstance(old, dict) else {}
    kind = str(value.get("type", ""))
    name = value.get("name") or kind or label.removeprefix("server tool ")
    subject = f"server tool `{name}` (`{kind}`)"
    if old is None:
        what = f"{subject} added"
    elif new is None:
        what = f"{subject} removed"
    else:
        lines = explain(old, new, limit=2)
        what = f"{subject} reconfigured ({'; '.join(lines)})" if lines else f"{subject} reconfigured"
    return what, _KEEP_TOOLS, _SERVER_FIX


def _setting(pair: Pair, label: str, pointer: str | None, old: Any, new: Any) -> Violation | None:
    if _same(label, old, new):
        return None
    if label.startswith("server tool "):
        what, effect, fix = _server_tool(label, old, new)
    else:
        subject = "the `anthropic-beta` header" if label == "anthropic-beta header" else f"`{label}`"
        if old is None:
            what = f"{subject} set to `{_short(new)}` mid-conversation"
        elif new is None:
            what = f"{subject} dropped (was `{_short(old)}`)"
        elif isinstance(old, dict) and isinstance(new, dict) and len(_short(old, 200)) + len(_short(new, 200)) > 80:
            lines = explain(old, new, limit=2)
            what = f"{subject} changed ({'; '.join(lines)})" if lines else f"{subject} changed"
        else:
            what = f"{subject} changed from `{_short(old)}` to `{_short(new)}`"
        effect = _EFFECTS.get(label, _UNKNOWN)
        fix = _FIXES.get(label, f"Keep `{label}` constant for the whole conversation.")
    sections, sentence = effect
    return Violation(
        message=f"{what}: {sentence.format(tokens=_tokens(pair, sections))}",
        fix=fix,
        pointer=pointer,
        severity="warning" if label in _WARNINGS else None,
        excerpt={"before": _short(old, 200), "after": _short(new, 200)},
        key=label,
    )


def _schema(pair: Pair) -> Violation | None:
    diff = pair.section("schema")
    if diff.kind in ("same", "reserialize"):
        return None
    old = next(iter(pair.prev.section("schema")), None)
    new = next(iter(pair.new.section("schema")), None)
    pointer = (new or old).pointer if (new or old) else "/response_format"
    if old is None:
        what = "response schema added mid-conversation"
    elif new is None:
        what = "response schema removed mid-conversation"
    else:
        lines = explain(old.value, new.value, limit=2)
        what = f"response schema changed ({'; '.join(lines)})" if lines else "response schema changed"
    before = dumps(old.value).decode("utf-8", "replace") if old else "(none)"
    after = dumps(new.value).decode("utf-8", "replace") if new else "(none)"
    at = first_difference(before, after) if old and new else 0
    return Violation(
        message=f"{what}: it is rendered right after the tool definitions, so only the tools still match; "
        + consequence(pair, pointer),
        fix=_SCHEMA_FIX,
        pointer=pointer,
        excerpt={"before": excerpt(before, at, at), "after": excerpt(after, at, at)},
        key="response schema",
    )


def check(pair: Pair) -> Iterator[Violation]:
    if pair.fork or (pair.prev.provider, pair.prev.api) != (pair.new.provider, pair.new.api):
        return  # a hand-off to another API: its settings are not comparable (model-switched reports it)
    for label, pointer, old, new in pair.change.settings:
        found = _setting(pair, label, pointer, old, new)
        if found is not None:
            yield found
    found = _schema(pair)
    if found is not None:
        yield found
