"""A timestamp, date or id that changes between requests is in a tool definition.

## What it does
Scans every tool definition (Anthropic `tools[]`, OpenAI Chat `tools[].function` and Responses
`tools[]`) for values that change with the clock or per request: timestamps, times of day, Unix
epochs, dates, UUIDs, request ids and hex nonces. It reads the description and every string inside
the input schema (`input_schema` / `parameters`: property descriptions, defaults, enums), and the
numbers that are data (`default`, `const`, `enum`; not limits such as `maximum`). A value is
reported once per conversation, per tool, per kind of value and per place.

Examples are left alone ("e.g. `2024-01-15T09:30:00Z`", values under an `examples` key), and so are
dates named as a cutoff or a release. A timestamp is an error; a date alone is a warning.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Tool definitions are the very first thing in the prefix on both Anthropic and OpenAI, and a cached
prefix is reused only when it is byte-identical. A value in a tool definition that changes on every
request makes every request a miss from that tool on: the remaining tools, the system prompt and the
whole conversation are re-processed at full price, every turn. A date does the same once a day.

## Example
```json
{"tools": [{"name": "search_orders",
            "description": "Search the customer's orders. Data is current as of 2026-11-24 10:42 UTC.",
            "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}]}
```
Reported as `ISO 8601 timestamp 2026-11-24 10:42 UTC in the description of tool search_orders`: the next
refresh of that sentence re-processes everything, system prompt and conversation included.

## Fix
Keep tool definitions static for the life of a conversation. Report freshness or state where it
changes anyway: in the tool result (`"as_of": "2026-11-24T10:42:03Z"` in the returned JSON) or in the
latest user message. A default such as "today" belongs in the tool's implementation (or in a
parameter the model fills in), not in the schema.

## Source
Anthropic prompt caching docs (tool definitions invalidate every cache level; byte-exact match);
OpenAI prompt caching guide (tools are part of the prefix) and Prompt Caching 201 cookbook (keep
timestamps out of the prompt); Manus, "Context Engineering for AI Agents" (keep the prefix stable).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prefixlint.model import Block, Violation
from prefixlint.rulebase import RequestContext
from prefixlint.rules.tool_definition_changed import parts
from prefixlint.rules.volatile_value_in_system_prompt import (
    describe,
    label,
    pick,
    scan,
    why,
)
from prefixlint.volatile import Volatile, excerpt

CODE = "PL104"
NAME = "volatile-value-in-tool-definition"
CATEGORY = "tools"
SEVERITY = "error"
SCOPE = "request"
READS = ("tools",)  # depends only on these blocks: run once per distinct content

# Schema keywords whose values are illustrations, not the prompt's live state.
_EXAMPLE_KEYS = frozenset(("examples", "example", "x-example", "x-examples"))
_DATA_KEYS = frozenset(("default", "const", "enum"))
_MAX_STRINGS = 2000  # strings scanned per schema: enough for real tools, bounded for hostile input


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _strings(value: Any, path: str, out: list[tuple[str, str]], data: bool = False) -> None:
    """Every string in a schema with its pointer relative to the schema, and the numbers that are
    data (a `default`, `const` or `enum` value; not limits such as `maximum: 2147483647`)."""
    if len(out) >= _MAX_STRINGS:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in _EXAMPLE_KEYS:
                _strings(item, f"{path}/{_escape(str(key))}", out, key in _DATA_KEYS)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _strings(item, f"{path}/{i}", out, data)
    elif isinstance(value, str):
        out.append((path, value))
    elif data and isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append((path, str(value)))


def _places(block: Block) -> Iterator[tuple[str, str, str]]:
    """(where, text, what it is) for the description and each schema value of a tool definition."""
    description, schema = parts(block)
    value = block.value if isinstance(block.value, dict) else {}
    if isinstance(value.get("function"), dict):
        root = "/function/parameters"
    elif "input_schema" in value:
        root = "/input_schema"
    else:
        root = "/parameters"
    if isinstance(description, str):
        yield "description", description, "description"
    found: list[tuple[str, str]] = []
    _strings(schema, root, found)
    for path, text in found:
        yield path, text, "schema"


def check(request: RequestContext) -> Iterator[Violation]:
    prompt = request.prompt
    for block in prompt.section("tools"):
        name = block.name or "?"
        for where, text, part in _places(block):
            picked: dict[str, tuple[Volatile, int]] = pick(scan(text))
            for kind, (v, count) in picked.items():
                more = f" (and {count - 1} more)" if count > 1 else ""
                at = f"at character {v.start + 1:,}" if part == "description" else f"at `{where}`"
                yield Violation(
                    message=f"{describe(v)} in the {part} of tool `{name}` {at}{more}: "
                    + why(v, "the later tools, the system prompt and the whole conversation"),
                    fix=_fix(v),
                    pointer=block.pointer,
                    severity=v.severity,
                    excerpt={"text": excerpt(text, v.start, v.end)},
                    key=f"{kind}:{where}",
                )


def _fix(v: Volatile) -> str:
    if v.kind in ("uuid", "request-id", "hex-nonce"):
        return (
            "Keep tool definitions static: drop the id from the definition and pass it where it is needed "
            "(the tool's implementation, or a parameter the model fills in from the conversation)."
        )
    what = "date" if v.severity == "warning" else label(v)
    return (
        f"Keep tool definitions static for the conversation: take the {what} out of the definition and "
        "report it in the tool result or the latest user message; compute defaults such as 'today' in the "
        "tool's implementation, not in the schema."
    )
