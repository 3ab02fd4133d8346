"""The same JSON was re-sent with another key order (or formatting) between two turns.

## What it does
Walks the blocks of two consecutive turns position by position, as long as their content is the
same once JSON keys are sorted, and reports the first block whose bytes changed anyway: a tool's
input schema, a `tool_use` input (Anthropic), the `arguments` of a tool call (OpenAI Chat
`tool_calls[].function.arguments`, Responses `function_call`), or the response schema. The finding
names the object whose keys moved, shows both orders, and counts the other blocks of the turn that
were re-serialised the same way. A whitespace-only re-encoding of an `arguments` string is reported
too.

Providers: Anthropic, OpenAI (Chat, Responses), Gemini, Bedrock Converse.

## Why does this break the cache?
Payloads rendered as JSON are part of the prefix byte for byte, keys in the order they were sent.
`{"city": "Paris", "unit": "C"}` and `{"unit": "C", "city": "Paris"}` mean the same thing but are
different prefixes, so the cache misses from that block on: a re-ordered tool schema costs the whole
prompt, a re-ordered tool call in the history costs everything after it. This typically comes from
Go or Swift maps (randomised iteration order), from re-encoding the model's tool call through a
dict or struct instead of passing it back as received, or from merging schemas at runtime.

## Example
Turn 2 carries the model's tool call as `"arguments": "{\\"city\\":\\"Paris\\",\\"unit\\":\\"C\\"}"`.
Turn 3 re-sends the same call parsed and re-encoded: `"{\\"unit\\":\\"C\\",\\"city\\":\\"Paris\\"}"`.
Same call, different bytes: the history from that message on is re-processed.

## Fix
Serialise JSON with a stable key order (`json.dumps(..., sort_keys=True)`, an ordered map or a fixed
struct instead of a Go/Swift map) and build tool schemas once per conversation. Send tool calls back
exactly as the model returned them: keep the original `arguments` string or `input` object rather
than parsing and re-encoding it.

## Source
Anthropic prompt caching docs (byte-exact prefix match; `tool_use` input objects must keep a stable
key order, Go and Swift randomise it); OpenAI prompt caching guide (exact prefix match, tools and
schema are part of the prefix); Manus, "Context Engineering for AI Agents" (deterministic JSON key
order).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from prefixlint.model import Block, Violation
from prefixlint.providers.base import dumps
from prefixlint.rulebase import Pair
from prefixlint.rules._util import consequence
from prefixlint.volatile import excerpt

CODE = "PL801"
NAME = "unstable-json-key-order"
CATEGORY = "serialization"
SEVERITY = "error"
SCOPE = "pair"
QUIET_ON_APPEND = True  # reports only changes to what was sent before: not run on a turn that only appends

_WIDTH = 40


def _escape(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _payloads(block: Block) -> list[tuple[str, str, Any]]:
    """(what, relative pointer, value) of each payload a block renders as JSON."""
    value = block.value
    if not isinstance(value, dict):
        return []
    if block.section == "tools":
        fn = value.get("function") if isinstance(value.get("function"), dict) else None
        if fn is not None:
            return [(f"the parameters of tool `{block.name}`", "/function/parameters", fn.get("parameters"))]
        if "input_schema" in value:
            return [(f"the input schema of tool `{block.name}`", "/input_schema", value.get("input_schema"))]
        return [(f"the parameters of tool `{block.name}`", "/parameters", value.get("parameters"))]
    if block.section == "schema":
        return [("the response schema", "", value)]
    kind = value.get("type")
    if kind in ("tool_use", "server_tool_use"):
        return [(f"the input of tool call `{value.get('name')}`", "/input", value.get("input"))]
    if kind == "function_call":
        return [(f"the arguments of function call `{value.get('name')}`", "/arguments", value.get("arguments"))]
    if isinstance(value.get("tool_calls"), list):
        out = []
        for i, call in enumerate(value["tool_calls"]):
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                what = f"the arguments of tool call `{fn.get('name')}`"
                out.append((what, f"/tool_calls/{i}/function/arguments", fn.get("arguments")))
        return out
    if kind is not None:
        return [(f"the `{kind}` block", "", {k: v for k, v in value.items() if k != "cache_control"})]
    return []


def _as_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _order_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """The first object (by path) whose keys are the same but in another order."""
    if isinstance(a, dict) and isinstance(b, dict):
        ka = [k for k in a if k != "cache_control"]
        kb = [k for k in b if k != "cache_control"]
        if ka != kb and sorted(ka) == sorted(kb):
            return path or "/", a, b
        for key in ka:
            if key in b:
                found = _order_difference(a[key], b[key], f"{path}/{_escape(key)}")
                if found:
                    return found
    elif isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = _order_difference(x, y, f"{path}/{i}")
            if found:
                return found
    return None


def _keys(obj: dict[str, Any]) -> str:
    keys = [k for k in obj if k != "cache_control"]
    shown = ", ".join(keys[:6]) + (", …" if len(keys) > 6 else "")
    return shown


def _text(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value).decode("utf-8", "replace")


_ORDER_CAUSE = "typical of Go/Swift maps or of JSON re-encoded through a dict"
_FORMAT_CAUSE = "typical of JSON parsed and re-encoded instead of sent back as received"


def _explain(old: Block, new: Block) -> tuple[str, str, dict[str, str] | None]:
    """(what changed and its likely cause, the payload's name, excerpt) for one re-serialised block."""
    old_payloads = _payloads(old)
    for (what, where, a), (_, _, b) in zip(old_payloads, _payloads(new)):
        if _text(a) == _text(b):
            continue
        found = _order_difference(_as_json(a), _as_json(b))
        if found is not None:
            path, obj_a, obj_b = found
            sa, sb = _text(obj_a), _text(obj_b)
            at = next((i for i, (x, y) in enumerate(zip(sa, sb)) if x != y), 0)
            desc = (
                f"same content, different key order in {what} "
                f"(at `{where}{'' if path == '/' else path}`: {_keys(obj_a)} -> {_keys(obj_b)}), {_ORDER_CAUSE}"
            )
            return desc, what, {"before": excerpt(sa, at, at, _WIDTH), "after": excerpt(sb, at, at, _WIDTH)}
        sa, sb = _text(a), _text(b)
        at = next((i for i, (x, y) in enumerate(zip(sa, sb)) if x != y), min(len(sa), len(sb)))
        desc = f"same content, different JSON formatting (whitespace or escaping) in {what}, {_FORMAT_CAUSE}"
        return desc, what, {"before": excerpt(sa, at, at, _WIDTH), "after": excerpt(sb, at, at, _WIDTH)}
    what = old_payloads[0][0] if old_payloads else f"a `{new.kind}` block"
    return f"same content, different bytes in {what}, {_ORDER_CAUSE}", what, None


def check(pair: Pair) -> Iterator[Violation]:
    if pair.fork:
        return
    found: list[tuple[Block, Block]] = []
    for old, new in zip(pair.prev.blocks, pair.new.blocks):
        if old.canon != new.canon:
            break
        if old.hash != new.hash:
            found.append((old, new))
    if not found:
        return
    old, new = found[0]
    desc, what, excerpt_ = _explain(old, new)
    others = len(found) - 1
    more = f"; {others} later block{'s' if others > 1 else ''} re-serialised the same way" if others else ""
    if new.section in ("tools", "schema"):
        fix = (
            f"Build {what} once with a fixed key order (a literal, a file, or `sort_keys=True`) and send the "
            "same bytes on every turn; never assemble it from a Go/Swift map or a merged dict."
        )
    else:
        kept = "the `input` object with its keys in the order received" if pair.new.provider == "anthropic" else (
            "the original `arguments` string"
        )
        fix = (
            f"Send tool calls back exactly as the model returned them: keep {kept} instead of decoding and "
            "re-encoding it; where you must encode JSON, use a stable key order (`sort_keys=True`, an ordered map "
            "or a struct, never a Go/Swift map)."
        )
    yield Violation(
        message=f"{desc}{more}: "
        + consequence(pair, new.pointer),
        fix=fix,
        pointer=new.pointer,
        excerpt=excerpt_,
    )
