"""An Anthropic (or Bedrock Converse) request carries more than 4 cache breakpoints.

## What it does
Counts the cache breakpoints of one Anthropic Messages request: every `cache_control` marker on a
tool definition (client or server tool), a system block or a message content block, plus one for
request-level automatic caching (a top-level `cache_control`). Reports a request with more than the
model's maximum (4), pointing at the first breakpoint over the limit (the 5th in tools -> system ->
messages order; automatic caching comes last, at `/cache_control`). On Bedrock Converse it counts
the `{"cachePoint": {...}}` blocks in `toolConfig.tools`, `system` and the messages (at most 4
checkpoints) and points at the 5th.

Providers: Anthropic, Bedrock Converse.

## Why does this break the cache?
It does not just miss the cache: the API refuses the request with HTTP 400 "A maximum of 4 blocks
with cache_control may be provided". Automatic caching takes one of the 4 slots, so 4 explicit
markers plus a top-level `cache_control` are rejected too. The usual cause is a harness that adds a
marker to every new message and never removes the old ones: the conversation works for a few turns,
then every request fails.

## Example
```json
{"model": "claude-sonnet-4-5", "max_tokens": 1024,
 "cache_control": {"type": "ephemeral"},
 "tools": [{"name": "search", "...": "...", "cache_control": {"type": "ephemeral"}}],
 "system": [{"type": "text", "text": "...", "cache_control": {"type": "ephemeral"}}],
 "messages": [
   {"role": "user", "content": [{"type": "text", "text": "...", "cache_control": {"type": "ephemeral"}}]},
   {"role": "assistant", "content": "..."},
   {"role": "user", "content": [{"type": "text", "text": "...", "cache_control": {"type": "ephemeral"}}]}]}
```
Four explicit breakpoints and automatic caching: reported at `/cache_control` (the 5th).

## Fix
Keep at most 4: one on the last tool, one at the end of the static system prompt and one rolling
breakpoint on the last message (or top-level automatic caching instead of the rolling one). Remove
markers from older messages: a breakpoint still finds entries written up to 20 blocks earlier.

## Source
Anthropic prompt caching docs (at most 4 breakpoints per request, HTTP 400 "A maximum of 4 blocks
with cache_control may be provided"; automatic caching uses one of them and is rejected when 4
explicit breakpoints exist; 20-block lookback). Amazon Bedrock prompt caching docs (`cachePoint`
blocks in tools, system and messages; at most 4 cache checkpoints per request).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prefixlint.cache.anthropic import marked_blocks
from prefixlint.cache.simulator import tokens_impact
from prefixlint.model import Prompt, Violation
from prefixlint.rulebase import RequestContext

CODE = "PL601"
NAME = "too-many-breakpoints"
CATEGORY = "breakpoints"
SEVERITY = "error"
SCOPE = "request"

DEFAULT_MAX = 4  # when the request has no cache model figures (the tables give the model's maximum)
ERROR_TEXT = "A maximum of 4 blocks with cache_control may be provided"


@dataclass(slots=True, frozen=True)
class Marker:
    """One `cache_control` of a request, in prefix order."""

    pointer: str
    ttl: str | None  # "5m" | "1h"; None for a TTL the API does not document
    automatic: bool = False
    bare: bool = False  # no "ttl" given: the 5-minute default


def ttl_of(marker: dict[str, Any]) -> str | None:
    """'1h', '5m' (a bare ephemeral counts as 5 minutes) or None for anything else."""
    ttl = marker.get("ttl")
    if ttl is None or ttl == "5m":
        return "5m"
    return "1h" if ttl == "1h" else None


def _marker(pointer: str, cache_control: dict[str, Any], automatic: bool = False) -> Marker:
    return Marker(pointer, ttl_of(cache_control), automatic, "ttl" not in cache_control)


def markers(prompt: Prompt) -> list[Marker]:
    """Every `cache_control` of an Anthropic request in tools -> system -> messages order, then the
    request-level (automatic) one. Server tools count: they are no prefix blocks, but the API counts
    their markers. For Bedrock Converse: every `cachePoint` block, in the same order. Several rules
    ask for the same request: the answer is kept with it."""
    found = prompt.derived.get("markers")
    if found is None:
        found = prompt.derived["markers"] = _markers(prompt)
    return found


def _markers(prompt: Prompt) -> list[Marker]:
    if prompt.provider == "bedrock":
        return cache_points(prompt.record.body)
    if prompt.provider != "anthropic":
        return []
    out = []
    body = prompt.record.body
    tools = body.get("tools") if isinstance(body, dict) else None
    if isinstance(tools, list):
        for i, tool in enumerate(tools):
            if isinstance(tool, dict) and isinstance(tool.get("cache_control"), dict):
                out.append(_marker(f"/tools/{i}", tool["cache_control"]))
    blocks = prompt.blocks
    # the blocks with a cache_control object: as the cache model found them (mostly from the
    # previous turn), else looked for here the same way
    marked = prompt.derived.get("marked blocks")
    if marked is None:
        marked = marked_blocks(blocks)
    for i in marked:
        block = blocks[i]
        if block.section != "tools":
            out.append(_marker(block.pointer, block.cache_control))
    if isinstance(prompt.top_cache_control, dict):
        out.append(_marker("/cache_control", prompt.top_cache_control, automatic=True))
    return out


def cache_points(body: Any) -> list[Marker]:
    """The `cachePoint` blocks of a Bedrock Converse body, in toolConfig.tools -> system -> messages
    order, each at its own pointer."""
    if not isinstance(body, dict):
        return []
    config = body.get("toolConfig")
    places: list[tuple[str, Any]] = [
        ("/toolConfig/tools", config.get("tools") if isinstance(config, dict) else None),
        ("/system", body.get("system")),
    ]
    messages = body.get("messages")
    if isinstance(messages, list):
        places += [(f"/messages/{m}/content", msg.get("content")) for m, msg in enumerate(messages) if isinstance(msg, dict)]
    out = []
    for base, items in places:
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, dict) and isinstance(item.get("cachePoint"), dict):
                    out.append(_marker(f"{base}/{i}", item["cachePoint"]))
    return out


def rejected_impact(cache: Any) -> dict[str, Any] | None:
    """The impact of a request the API refuses: nothing is processed, nothing is cached."""
    if cache is None:
        return None
    note = "the API rejects the request with HTTP 400: it fails instead of being answered"
    return {**tokens_impact(cache, 0, rewritten=False), "note": note}


def check(request: RequestContext) -> Iterator[Violation]:
    found = markers(request.prompt)
    limit = request.cache.pricing.max_breakpoints if request.cache is not None else DEFAULT_MAX
    if limit is None or len(found) <= limit:
        return
    over = found[limit]
    if request.prompt.provider == "bedrock":
        message = (f"{len(found)} cachePoint checkpoints in one request, over the maximum of {limit}: Bedrock rejects "
                   "the request (ValidationException)")
        fix = (f"Keep at most {limit} cachePoint blocks: after the tools, after the static system prompt and one that "
               "moves to the end of the conversation; remove them from older messages: a checkpoint still finds "
               "entries up to 20 blocks back.")
    else:
        parts = f" ({len(found) - 1} explicit + automatic caching)" if found[-1].automatic else ""
        message = (f"{len(found)} cache_control breakpoints in one request{parts}, over the maximum of {limit}: the "
                   f'API rejects it with HTTP 400 "{ERROR_TEXT}"')
        fix = (f"Keep at most {limit}: one at the end of the static system prompt and one rolling on the last message "
               "(or top-level automatic caching, which takes a slot itself); drop the markers on older messages: a "
               "breakpoint still finds entries up to 20 blocks back.")
    yield Violation(
        message=message,
        fix=fix,
        pointer=over.pointer,
        key="max",
        impact=rejected_impact(request.cache),
    )
