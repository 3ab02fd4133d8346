"""Helpers shared by the provider normalisers: hashing, rendering, block construction.

A block's identity is what the provider renders for it, never the JSON envelope around it:
``cache_control`` markers are left out, a string ``content`` renders like a single text block
with the same text, and only payloads that are rendered *as JSON* (tool schemas, tool inputs,
function-call arguments, response schemas) keep their key order. For those payloads the block
also gets a canonical hash (sorted keys), so a re-serialisation can be told from an edit.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from prefixlint.model import Block, BodyError, Message

_SORT = orjson.OPT_SORT_KEYS


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def dumps(value: Any, canonical: bool = False) -> bytes:
    try:
        return orjson.dumps(value, option=_SORT if canonical else 0)
    except TypeError:  # e.g. integers beyond 64 bits: fall back to the standard library
        import json

        return json.dumps(value, sort_keys=canonical, separators=(",", ":"), ensure_ascii=False).encode()


def without_cache_control(value: dict[str, Any]) -> dict[str, Any]:
    if "cache_control" not in value:
        return value
    return {k: v for k, v in value.items() if k != "cache_control"}


def json_payload(value: Any) -> tuple[bytes, bytes]:
    """Raw and canonical rendering of a payload that the provider renders as JSON."""
    raw = dumps(value)
    if isinstance(value, (dict, list)):
        return raw, dumps(value, canonical=True)
    return raw, raw


def json_string_payload(text: str) -> tuple[bytes, bytes]:
    """A JSON document carried as a string (OpenAI function-call arguments)."""
    raw = text.encode("utf-8", "surrogatepass")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw, raw
    return raw, dumps(parsed, canonical=True)


def make_block(
    section: str,
    pointer: str,
    kind: str,
    value: Any,
    parts: list[tuple[bytes, bytes]],
    *,
    msg: int | None = None,
    role: str | None = None,
    name: str | None = None,
    cache_control: Any = None,
) -> Block:
    """Build a block from its rendered parts (each a raw/canonical pair of bytes)."""
    if len(parts) == 1:
        raw, canon = parts[0]
    else:
        raw = b"\x1f".join(p[0] for p in parts)
        canon = b"\x1f".join(p[1] for p in parts)
    h = digest(raw)
    ch = h if canon is raw or canon == raw else digest(canon)
    return Block(
        section=section,
        pointer=pointer,
        kind=kind,
        hash=h,
        canon=ch,
        size=len(raw),
        value=value,
        msg=msg,
        role=role,
        name=name,
        cache_control=cache_control,
    )


def make_message(index: int, role: str, pointer: str, blocks: list[Block], first: int) -> Message:
    """A message's identity is its role and its blocks' hashes (no second digest needed)."""
    own = blocks[first:]
    tag = role.encode() + b"\x1e"
    if len(own) == 1:
        h, ch = tag + own[0].hash, tag + own[0].canon
    else:
        h = tag + b"".join(b.hash for b in own)
        ch = tag + b"".join(b.canon for b in own)
    return Message(index=index, role=role, pointer=pointer, hash=h, canon=ch, first=first, count=len(own))


def text_part(text: str) -> tuple[bytes, bytes]:
    raw = b"text\x00" + text.encode("utf-8", "surrogatepass")
    return raw, raw


def expect_list(value: Any, pointer: str) -> list[Any]:
    if not isinstance(value, list):
        raise BodyError(pointer, f"{pointer} must be an array, got {type_name(value)}")
    return value


def expect_dict(value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BodyError(pointer, f"{pointer} must be an object, got {type_name(value)}")
    return value


def expect_str(value: Any, pointer: str) -> str:
    if not isinstance(value, str):
        raise BodyError(pointer, f"{pointer} must be a string, got {type_name(value)}")
    return value


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
