"""Cache reads dropped between two API calls of a Claude Code session: the prefix broke (inferred from usage).

## What it does
Reads Claude Code transcripts (`~/.claude/projects/<dir>/<session>.jsonl`, subagents in
`<session>/subagents/*.jsonl`), which record each API call's usage but neither the system
prompt nor the tools. Within one conversation (the main chain of a session, or one subagent
sidechain), a call should read from the cache at least what the previous call read: the
conversation only grows. When `cache_read_input_tokens` drops by more than 1,024 tokens from one
call to the next (a streamed reply written over several lines counts once), the call is reported,
with the explanation the transcript offers, checked in this order:
- a compaction (`type: "system"`, `subtype: "compact_boundary"`) since the previous call: the
  history was rewritten on purpose, nothing is reported;
- a model change (`message.model`): caches are per model; reported as info;
- a gap beyond the 5-minute TTL (1 hour when the previous call wrote with the 1-hour TTL)
  between the two calls' timestamps: the entry expired; reported as info;
- a Claude Code version change (`version`): a new release ships a new system prompt or tool
  set; reported as info;
- none of these: an unexplained prefix break, reported as a warning.
Every message starts with "inferred from usage:": the break is deduced from the recorded usage,
not seen in a request. The impact is the drop in tokens, priced as written again instead of read.

Providers: Anthropic (Claude Code transcripts).

## Why does this break the cache?
The Anthropic cache matches the longest cached prefix of tools, system prompt and messages. A
call that reads less than the previous one found its prefix changed earlier than before: a tool
definition or the system prompt changed (an MCP server reconnected, a setting or plugin was
toggled, a date or git status in the system prompt), a message in the history was edited, or the
entry expired. Everything after the change is processed again and written to the cache at 1.25x.

## Example
Call 12 of a session reads 84,000 tokens from the cache; call 13, 40 seconds later with the same
model and version and no compaction, reads 9,000 and writes 76,000: something in the first 9,000
tokens of the prefix (tools or system prompt) changed between the two calls.

## Fix
Unexplained drops: look for what changed between the two calls: MCP servers connecting or
disconnecting, `/model`, settings or permission-mode changes, memory files (`CLAUDE.md`) edited
mid-session; capture the raw requests (e.g. with claude-trace) and lint them to see the block that
changed. Gaps beyond the TTL: for sessions with long pauses, use the 1-hour TTL
(`"cache_control": {"type": "ephemeral", "ttl": "1h"}`) or keep the cache warm. Model switches
and version updates mid-session re-process the whole prefix once: avoid them in long sessions.

## Source
Anthropic prompt caching docs (prefix matching over tools, system, messages; caches per model;
5-minute TTL refreshed on each hit, optional 1-hour TTL; usage fields); Claude Code team,
"Prompt caching is everything" (2026-02); Claude Code transcript format (`compact_boundary`
records, `version`, streamed replies repeating `message.id`).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation

CODE = "PL704"
NAME = "cache-read-dropped"
CATEGORY = "ttl"
SEVERITY = "warning"
SCOPE = "usage"

MIN_TOKENS = 1024  # a smaller drop is noise
TTL_5M = 300.0
TTL_1H = 3600.0
POINTER = "/message/usage/cache_read_input_tokens"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} minutes" if seconds < 3600 else f"{seconds / 3600:.1f} hours"


def check(point) -> Iterator[Violation]:
    prev = point.prev
    if prev is None or point.compacted:
        return
    drop = prev.cache_read - point.cache_read
    if drop <= MIN_TOKENS:
        return
    what = (
        f"inferred from usage: cache reads dropped from {prev.cache_read:,} to {point.cache_read:,} tokens "
        f"({drop:,} fewer) between calls {prev.number} and {point.number} of this "
        f"{'subagent conversation' if point.sidechain else 'session'}"
    )
    if prev.model and point.model and prev.model != point.model:
        yield Violation(
            message=f"{what}; explained by a model change ({prev.model} -> {point.model}): caches are per model",
            fix="Avoid switching models in the middle of a long session: the new model re-processes the whole prefix once.",
            pointer=POINTER,
            severity="info",
            key="model",
        )
        return
    ttl = TTL_1H if prev.write_1h else TTL_5M
    if prev.time is not None and point.time is not None and point.time - prev.time > ttl:
        gap = point.time - prev.time
        yield Violation(
            message=(
                f"{what}; explained by a gap of {_minutes(gap)} between the calls, beyond the "
                f"{'1-hour' if ttl == TTL_1H else '5-minute'} TTL: the cache entry expired"
            ),
            fix=(
                "For sessions with long pauses, use the 1-hour TTL (`\"cache_control\": {\"type\": \"ephemeral\", "
                "\"ttl\": \"1h\"}`, written at 2x instead of 1.25x) or keep the cache warm before the TTL runs out."
            ),
            pointer=POINTER,
            severity="info",
            key="ttl",
        )
        return
    if prev.version and point.version and prev.version != point.version:
        yield Violation(
            message=(
                f"{what}; explained by a Claude Code version change ({prev.version} -> {point.version}): "
                "a new release changes the system prompt or tools"
            ),
            fix="Update Claude Code between sessions rather than in the middle of a long one.",
            pointer=POINTER,
            severity="info",
            key="version",
        )
        return
    yield Violation(
        message=(
            f"{what}, with no compaction, model change, pause beyond the TTL or version change in between: "
            "an unexplained prefix break (tools, system prompt or history changed)"
        ),
        fix=(
            "Look for what changed between the two calls (MCP servers connecting, settings or permission-mode "
            "changes, edited memory files); capture the raw requests (e.g. with claude-trace) and lint them to "
            "find the block that changed."
        ),
        pointer=POINTER,
        key="unexplained",
    )
