"""Anthropic Messages API bodies (also Claude on Bedrock InvokeModel and Google Cloud).

Prefix order: ``tools`` -> ``system`` -> ``messages``. One block per tool definition, per system
content block and per message content block (a string ``content`` is one block), which is also
how the provider counts positions for its 20-block lookback.
"""

from __future__ import annotations

from typing import Any

from prefixlint.model import Block, Message, Prompt, Record, Setting
from prefixlint.providers.base import (
    History,
    ListMemo,
    expect_dict,
    expect_list,
    expect_str,
    json_payload,
    make_block,
    make_message,
    text_part,
    without_cache_control,
)

# Keys of a request that are part of the cache key without being content (see
# reference/caching-rules.md, "What invalidates which level").
_SETTINGS = {
    "tool_choice": "/tool_choice",
    "thinking": "/thinking",
    "output_config": "/output_config",
    "speed": "/speed",
    "context_management": "/context_management",
}


def _tool_block(tool: dict[str, Any], pointer: str) -> Block:
    name = tool.get("name")
    parts = [
        (b"name\x00" + str(name).encode(), b"name\x00" + str(name).encode()),
        (
            b"description\x00" + str(tool.get("description", "")).encode("utf-8", "surrogatepass"),
            b"description\x00" + str(tool.get("description", "")).encode("utf-8", "surrogatepass"),
        ),
        json_payload(tool.get("input_schema")),
    ]
    rest = {k: v for k, v in tool.items() if k not in ("name", "description", "input_schema", "cache_control")}
    if rest:
        parts.append(json_payload(dict(sorted(rest.items()))))
    return make_block(
        "tools", pointer, "tool", tool, parts, name=str(name) if name is not None else None,
        cache_control=tool.get("cache_control"),
    )


# Versioned Anthropic-defined tools that run on the client and are rendered as tool definitions.
CLIENT_TOOL_TYPES = ("bash_", "text_editor_", "computer_", "memory_")


def is_server_tool(tool: dict[str, Any]) -> bool:
    """Server tools (web search, web fetch, code execution...) have a versioned ``type``.

    They are settings of the request (toggling one invalidates the system and messages caches),
    unlike the Anthropic-defined client tools (bash, text editor, computer, memory), which are
    rendered with the other tool definitions.
    """
    kind = tool.get("type")
    return (
        isinstance(kind, str)
        and kind != "custom"
        and "input_schema" not in tool
        and not kind.startswith(CLIENT_TOOL_TYPES)
    )


def content_parts(block: Any, pointer: str) -> list[tuple[bytes, bytes]]:
    """Render one content block of a message or a tool result."""
    if isinstance(block, str):
        return [text_part(block)]
    block = expect_dict(block, pointer)
    kind = block.get("type")
    if kind == "text":
        text = expect_str(block.get("text", ""), pointer + "/text")
        parts = [text_part(text)]
        if block.get("citations"):
            parts.append(json_payload(block["citations"]))
        return parts
    if kind == "tool_use" or kind == "server_tool_use":
        head = f"{kind}\x00{block.get('id')}\x00{block.get('name')}".encode()
        raw, canon = json_payload(block.get("input"))
        return [(head, head), (raw, canon)]
    if kind == "tool_result":
        head = f"tool_result\x00{block.get('tool_use_id')}\x00{bool(block.get('is_error'))}".encode()
        parts = [(head, head)]
        content = block.get("content")
        if isinstance(content, list):
            for i, sub in enumerate(content):
                parts.extend(content_parts(sub, f"{pointer}/content/{i}"))
        elif content is not None:
            parts.extend(content_parts(content, pointer + "/content"))
        return parts
    if kind == "thinking":
        raw = f"thinking\x00{block.get('thinking', '')}\x00{block.get('signature', '')}".encode(
            "utf-8", "surrogatepass"
        )
        return [(raw, raw)]
    if kind == "redacted_thinking":
        raw = f"redacted_thinking\x00{block.get('data', '')}".encode()
        return [(raw, raw)]
    # images, documents, search results and anything newer: the whole block, as JSON
    value = without_cache_control(block)
    canon = json_payload(value)[1]
    return [(canon, canon)] if kind in ("image", "document") else [json_payload(value)]


_TOOLS = ListMemo()  # tool lists already built (their blocks and server-tool settings)
_SYSTEM = ListMemo()  # system prompts (as a list of blocks) already built
_HISTORY = History()  # messages already built: see prefixlint.providers.base.History


def _message(i: int, msg: Any, state: bool, blocks: list[Block], messages: list[Message]) -> tuple:
    """Render message ``i`` into ``blocks`` and ``messages``; its entry for the history (see
    :class:`prefixlint.providers.base.History`)."""
    pointer = f"/messages/{i}"
    if type(msg) is not dict:
        msg = expect_dict(msg, pointer)
    role = msg.get("role")
    if type(role) is not str:
        role = expect_str(role, pointer + "/role")
    first = len(blocks)
    content = msg.get("content")
    if isinstance(content, str):
        blocks.append(
            make_block("messages", pointer + "/content", "text", content, [text_part(content)], msg=i, role=role)
        )
    else:
        if type(content) is not list:
            content = expect_list(content, pointer + "/content")
        for j, item in enumerate(content):
            bp = f"{pointer}/content/{j}"
            parts = content_parts(item, bp)
            if isinstance(item, dict):
                kind, cc = item.get("type", "text"), item.get("cache_control")
            else:
                kind, cc = "text", None
            blocks.append(make_block("messages", bp, str(kind), item, parts, msg=i, role=role, cache_control=cc))
    messages.append(make_message(i, role, pointer, blocks, first))
    return (state, first, blocks[first:], messages[-1])


def normalize(body: dict[str, Any], record: Record) -> Prompt:
    blocks: list[Block] = []
    messages: list[Message] = []
    settings: dict[str, Setting] = {}

    tools = body.get("tools")
    if tools is not None:
        tools = expect_list(tools, "/tools")
        raw, done = _TOOLS.find(tools)
        if done is not None:
            blocks.extend(done[0])
            settings.update(done[1])
            if raw is not None:  # (found by its serialisation, not by identity)
                _TOOLS.reuse(raw, tools, done, done[2])
        else:
            for i, tool in enumerate(tools):
                pointer = f"/tools/{i}"
                tool = expect_dict(tool, pointer)
                if is_server_tool(tool):
                    label = f"server tool {tool.get('name') or tool.get('type')}"
                    settings[label] = Setting(label, pointer, without_cache_control(tool))
                    continue
                blocks.append(_tool_block(tool, pointer))
            done = (blocks[:], dict(settings), tools[:])
            _TOOLS.store(raw, done, done[2])

    system = body.get("system")
    if isinstance(system, str):
        if system:
            blocks.append(make_block("system", "/system", "text", system, [text_part(system)]))
    elif system is not None:
        raw, done = _SYSTEM.find(expect_list(system, "/system"))
        if done is not None:
            blocks.extend(done[0])
            if raw is not None:  # (found by its serialisation, not by identity)
                _SYSTEM.reuse(raw, system, done, done[1])
        else:
            first = len(blocks)
            for i, item in enumerate(system):
                pointer = f"/system/{i}"
                item = expect_dict(item, pointer)
                blocks.append(
                    make_block(
                        "system", pointer, str(item.get("type", "text")), item, content_parts(item, pointer),
                        cache_control=item.get("cache_control"),
                    )
                )
            done = (blocks[first:], system[:])
            _SYSTEM.store(raw, done, done[1])

    _HISTORY.normalize(
        expect_list(body.get("messages"), "/messages"), blocks, messages, False, _message, record.repeats
    )

    for key, pointer in _SETTINGS.items():
        if key in body:
            settings[key] = Setting(key, pointer, body[key])
    tool_choice = body.get("tool_choice")
    if isinstance(tool_choice, dict) and "disable_parallel_tool_use" in tool_choice:
        rest = {k: v for k, v in tool_choice.items() if k != "disable_parallel_tool_use"}
        settings["tool_choice"] = Setting("tool_choice", "/tool_choice", rest)
        settings["disable_parallel_tool_use"] = Setting(
            "disable_parallel_tool_use", "/tool_choice/disable_parallel_tool_use",
            tool_choice["disable_parallel_tool_use"],
        )
    for name, value in (record.headers or {}).items():
        if isinstance(name, str) and name.lower() == "anthropic-beta":
            settings["anthropic-beta header"] = Setting("anthropic-beta header", None, value)

    keys: dict[str, str] = {}
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        keys["user"] = metadata["user_id"]

    model = body.get("model")
    return Prompt(
        provider="anthropic",
        api="messages",
        model=model if isinstance(model, str) else None,
        blocks=blocks,
        messages=messages,
        settings=settings,
        record=record,
        keys=keys,
        top_cache_control=body.get("cache_control"),
    )
