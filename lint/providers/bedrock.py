"""Amazon Bedrock Converse bodies (``/model/{modelId}/converse`` and ``/converse-stream``).

Prefix order: ``toolConfig.tools`` -> ``system`` -> ``messages``, as for Claude on the Anthropic API.
One block per tool spec (``/toolConfig/tools/0``), per system content block (``/system/0``) and per
message content block (``/messages/0/content/1``). A ``toolUse.input`` keeps its key order and gets a
canonical hash; images and documents are compared by content.

A ``{"cachePoint": {...}}`` item is a marker, not content: it is no block of its own, and the block
before it (in prefix order, possibly in an earlier section) gets ``cache_control``
``{"type": "ephemeral"}`` (plus ``ttl`` when the cache point has one), so the breakpoint cache model
sees a checkpoint there. Moving a cache point therefore changes no block hash.

Cache-key settings: ``toolConfig.toolChoice`` and each key of ``additionalModelRequestFields`` (where
Claude's ``thinking`` goes). ``inferenceConfig`` (maxTokens, temperature, ...) is not part of the key.
The model comes from ``modelId``/``model`` in the body or from the URL (URL-decoded, so an ARN or
``us.anthropic.claude-...-v1:0`` inference profile comes out whole).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from prefixlint.model import Block, Message, Prompt, Record, Setting
from prefixlint.providers.base import (
    expect_dict,
    expect_list,
    json_payload,
    make_block,
    make_message,
    text_part,
)

_URL_MODEL = re.compile(r"/model/(.+?)/(?:converse|converse-stream|invoke|invoke-with-response-stream)(?:[/?#]|$)")
CONTENT_KEYS = frozenset(
    (
        "text",
        "toolUse",
        "toolResult",
        "image",
        "document",
        "video",
        "reasoningContent",
        "cachePoint",
        "guardContent",
        "citationsContent",
        "json",
    )
)


def model_name(body: dict[str, Any], record: Record) -> str | None:
    for key in ("modelId", "model"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    match = _URL_MODEL.search(record.url or "")
    return unquote(match.group(1)) if match else None


def _marker(point: Any) -> dict[str, Any]:
    marker: dict[str, Any] = {"type": "ephemeral"}
    if isinstance(point, dict) and point.get("ttl") is not None:
        marker["ttl"] = point["ttl"]
    return marker


def _attach(blocks: list[Block], point: Any) -> None:
    """A cache point marks the block before it (the first of two adjacent points wins)."""
    if blocks and not isinstance(blocks[-1].cache_control, dict):
        blocks[-1].cache_control = _marker(point)


def _tool_block(spec: dict[str, Any], tool: dict[str, Any], pointer: str) -> Block:
    name = spec.get("name")
    head = f"toolSpec\x00{name}\x00{spec.get('description', '')}".encode("utf-8", "surrogatepass")
    schema = spec.get("inputSchema")
    if isinstance(schema, dict) and "json" in schema and len(schema) == 1:
        schema = schema["json"]
    parts = [(head, head), json_payload(schema)]
    rest = {k: v for k, v in spec.items() if k not in ("name", "description", "inputSchema")}
    if rest:
        parts.append(json_payload(dict(sorted(rest.items()))))
    return make_block("tools", pointer, "tool", tool, parts, name=str(name) if name is not None else None)


def content_parts(item: Any, pointer: str) -> tuple[str, list[tuple[bytes, bytes]]]:
    """Render one content block; returns (kind, rendered parts)."""
    if isinstance(item, str):
        return "text", [text_part(item)]
    item = expect_dict(item, pointer)
    if isinstance(item.get("text"), str) and len(item) == 1:
        return "text", [text_part(item["text"])]
    use = item.get("toolUse")
    if isinstance(use, dict):
        head = f"toolUse\x00{use.get('toolUseId')}\x00{use.get('name')}".encode()
        return "tool_use", [(head, head), json_payload(use.get("input"))]
    result = item.get("toolResult")
    if isinstance(result, dict):
        head = f"toolResult\x00{result.get('toolUseId')}\x00{result.get('status') or ''}".encode()
        parts = [(head, head)]
        content = result.get("content")
        if isinstance(content, list):
            for i, sub in enumerate(content):
                sp = f"{pointer}/toolResult/content/{i}"
                if isinstance(sub, dict) and "json" in sub and len(sub) == 1:
                    parts.append(json_payload(sub["json"]))
                else:
                    parts.extend(content_parts(sub, sp)[1])
        elif content is not None:
            parts.append(json_payload(content))
        return "tool_result", parts
    if "reasoningContent" in item:
        return "thinking", [json_payload(item)]
    if any(k in item for k in ("image", "document", "video")):
        canon = json_payload(item)[1]
        return ("image" if "image" in item else "document"), [(canon, canon)]
    return "text" if "text" in item else "part", [json_payload(item)]


def normalize(body: dict[str, Any], record: Record) -> Prompt:
    blocks: list[Block] = []
    messages: list[Message] = []
    settings: dict[str, Setting] = {}

    config = body.get("toolConfig")
    if config is not None:
        config = expect_dict(config, "/toolConfig")
        for i, tool in enumerate(expect_list(config.get("tools") or [], "/toolConfig/tools")):
            pointer = f"/toolConfig/tools/{i}"
            tool = expect_dict(tool, pointer)
            if "cachePoint" in tool:
                _attach(blocks, tool["cachePoint"])
                continue
            spec = tool.get("toolSpec")
            if isinstance(spec, dict):
                blocks.append(_tool_block(spec, tool, pointer))
            else:  # system tools and anything newer
                name = next(iter(tool)) if len(tool) == 1 else None
                blocks.append(make_block("tools", pointer, "tool", tool, [json_payload(tool)], name=name))
        if config.get("toolChoice") is not None:
            settings["toolChoice"] = Setting("toolChoice", "/toolConfig/toolChoice", config["toolChoice"])

    system = body.get("system")
    if isinstance(system, str):
        if system:
            blocks.append(make_block("system", "/system", "text", system, [text_part(system)]))
    elif system is not None:
        for i, item in enumerate(expect_list(system, "/system")):
            pointer = f"/system/{i}"
            if isinstance(item, dict) and "cachePoint" in item:
                _attach(blocks, item["cachePoint"])
                continue
            kind, parts = content_parts(item, pointer)
            blocks.append(make_block("system", pointer, kind, item, parts))

    for i, msg in enumerate(expect_list(body.get("messages") or [], "/messages")):
        pointer = f"/messages/{i}"
        msg = expect_dict(msg, pointer)
        role = msg.get("role")
        role = role if isinstance(role, str) else "user"
        first = len(blocks)
        content = msg.get("content")
        if isinstance(content, str):
            blocks.append(
                make_block("messages", pointer + "/content", "text", content, [text_part(content)], msg=i, role=role)
            )
        else:
            for j, item in enumerate(expect_list(content if content is not None else [], pointer + "/content")):
                bp = f"{pointer}/content/{j}"
                if isinstance(item, dict) and "cachePoint" in item:
                    _attach(blocks, item["cachePoint"])
                    continue
                kind, parts = content_parts(item, bp)
                blocks.append(make_block("messages", bp, kind, item, parts, msg=i, role=role))
        messages.append(make_message(i, role, pointer, blocks, first))

    extra = body.get("additionalModelRequestFields")
    if isinstance(extra, dict):
        for key, value in extra.items():
            label = f"additionalModelRequestFields.{key}"
            settings[label] = Setting(label, f"/additionalModelRequestFields/{key}", value)

    return Prompt(
        provider="bedrock",
        api="converse",
        model=model_name(body, record),
        blocks=blocks,
        messages=messages,
        settings=settings,
        record=record,
    )
