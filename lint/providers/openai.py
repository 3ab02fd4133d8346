"""OpenAI Chat Completions and Responses bodies (and OpenAI-compatible servers).

Prefix order: tool definitions and the structured-output schema are rendered first, then the
instructions / leading system and developer messages, then the conversation. One block per tool,
one for the schema, one per message (Chat) or input item (Responses).
"""

from __future__ import annotations

from typing import Any

from prefixlint.model import Block, BodyError, Message, Prompt, Record, Setting
from prefixlint.providers.base import (
    History,
    ListMemo,
    expect_dict,
    expect_list,
    json_payload,
    json_string_payload,
    make_block,
    make_message,
    text_part,
    type_name,
)

_SYSTEM_ROLES = ("system", "developer")


def _tool_block(tool: dict[str, Any], pointer: str) -> Block:
    fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
    name = fn.get("name") or tool.get("type")
    text = f"{tool.get('type', 'function')}\x00{name}\x00{fn.get('description', '')}".encode("utf-8", "surrogatepass")
    parts = [(text, text), json_payload(fn.get("parameters"))]
    extra = {k: v for k, v in fn.items() if k not in ("name", "description", "parameters", "type")}
    if extra:
        parts.append(json_payload(dict(sorted(extra.items()))))
    return make_block("tools", pointer, "tool", tool, parts, name=str(name) if name is not None else None)


def _content_parts(content: Any, pointer: str) -> list[tuple[bytes, bytes]]:
    """A string content renders like a list holding one text part with the same text.

    Absent, null and empty content render alike (nothing).
    """
    if content is None or content == "" or content == []:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[tuple[bytes, bytes]] = []
    for i, part in enumerate(expect_list(content, pointer)):
        if isinstance(part, str):
            parts.append(text_part(part))
            continue
        part = expect_dict(part, f"{pointer}/{i}")
        if part.get("type") in ("text", "input_text", "output_text") and isinstance(part.get("text"), str):
            parts.append(text_part(part["text"]))
        else:
            canon = json_payload(part)[1]
            parts.append((canon, canon))
    return parts


def _chat_message_parts(msg: dict[str, Any], pointer: str) -> list[tuple[bytes, bytes]]:
    head = f"{msg.get('role')}\x00{msg.get('name') or ''}\x00{msg.get('tool_call_id') or ''}".encode()
    parts = [(head, head)]
    parts.extend(_content_parts(msg.get("content"), pointer + "/content"))
    calls = msg.get("tool_calls")
    if calls:
        for i, call in enumerate(expect_list(calls, pointer + "/tool_calls")):
            call = expect_dict(call, f"{pointer}/tool_calls/{i}")
            fn = call.get("function") if isinstance(call.get("function"), dict) else {}
            head = f"call\x00{call.get('id')}\x00{fn.get('name')}".encode()
            parts.append((head, head))
            args = fn.get("arguments")
            parts.append(json_string_payload(args) if isinstance(args, str) else json_payload(args))
    legacy = msg.get("function_call")
    if isinstance(legacy, dict):
        parts.append(json_payload(legacy))
    return parts


def _paths(pairs: dict[str, str]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(label, pointer, the pointer's keys) of the settings a normaliser reads."""
    return tuple((label, pointer, tuple(pointer.strip("/").split("/"))) for label, pointer in pairs.items())


_CHAT_SETTINGS = _paths({
    "reasoning_effort": "/reasoning_effort",
    "prompt_cache_key": "/prompt_cache_key",
    "prompt_cache_retention": "/prompt_cache_retention",
})
_RESPONSES_SETTINGS = _paths({
    "reasoning.effort": "/reasoning/effort",
    "prompt_cache_key": "/prompt_cache_key",
    "prompt_cache_retention": "/prompt_cache_retention",
})


def _settings(body: dict[str, Any], paths: tuple[tuple[str, str, tuple[str, ...]], ...]) -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    for label, pointer, tokens in paths:
        node: Any = body
        for token in tokens:
            node = node.get(token) if isinstance(node, dict) else None
        if node is not None:
            out[label] = Setting(label, pointer, node)
    return out


def _keys(body: dict[str, Any]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for name, key in (("prompt_cache_key", "cache_key"), ("safety_identifier", "user"), ("user", "user")):
        if isinstance(body.get(name), str) and key not in keys:
            keys[key] = body[name]
    return keys


_CHAT_TOOLS = ListMemo()  # tool lists already built
_CHAT_HISTORY = History()  # messages already built: see prefixlint.providers.base.History


def _chat_message(i: int, msg: Any, leading: bool, blocks: list[Block], messages: list[Message]) -> tuple:
    """Render message ``i`` into ``blocks`` (and ``messages``); its entry for the history (see
    :class:`prefixlint.providers.base.History`)."""
    pointer = f"/messages/{i}"
    msg = expect_dict(msg, pointer)
    role = msg.get("role")
    if not isinstance(role, str):
        raise BodyError(pointer + "/role", f"{pointer}/role must be a string")
    parts = _chat_message_parts(msg, pointer)
    first = len(blocks)
    if leading and role in _SYSTEM_ROLES:
        block = make_block("system", pointer, "message", msg, parts, role=role)
        blocks.append(block)
        return (True, first, [block], None)
    kind = "tool_result" if role == "tool" else ("tool_use" if msg.get("tool_calls") else "message")
    block = make_block("messages", pointer, kind, msg, parts, msg=i, role=role)
    blocks.append(block)
    messages.append(make_message(i, role, pointer, blocks, first))
    return (leading, first, [block], messages[-1])


def normalize_chat(body: dict[str, Any], record: Record) -> Prompt:
    blocks: list[Block] = []
    messages: list[Message] = []
    tools = body.get("tools")
    if tools is not None:
        tools = expect_list(tools, "/tools")
        raw, done = _CHAT_TOOLS.find(tools)
        if done is not None:
            blocks.extend(done[0])
            if raw is not None:  # (found by its serialisation, not by identity)
                _CHAT_TOOLS.reuse(raw, tools, done, done[1])
        else:
            for i, tool in enumerate(tools):
                blocks.append(_tool_block(expect_dict(tool, f"/tools/{i}"), f"/tools/{i}"))
            done = (blocks[:], tools[:])
            _CHAT_TOOLS.store(raw, done, done[1])
    legacy_functions = body.get("functions")
    if isinstance(legacy_functions, list):
        for i, fn in enumerate(legacy_functions):
            blocks.append(_tool_block(expect_dict(fn, f"/functions/{i}"), f"/functions/{i}"))
    fmt = body.get("response_format")
    if isinstance(fmt, dict):
        blocks.append(make_block("schema", "/response_format", "schema", fmt, [json_payload(fmt)]))

    _CHAT_HISTORY.normalize(
        expect_list(body.get("messages"), "/messages"), blocks, messages, True, _chat_message, record.repeats
    )

    settings = _settings(body, _CHAT_SETTINGS)
    model = body.get("model")
    return Prompt(
        provider="openai", api="chat", model=model if isinstance(model, str) else None,
        blocks=blocks, messages=messages, settings=settings, record=record, keys=_keys(body),
    )


def _item_parts(item: Any, pointer: str) -> tuple[str, str, list[tuple[bytes, bytes]]]:
    """Render one Responses input item; returns (role, kind, parts)."""
    if isinstance(item, str):
        return "user", "message", [text_part(item)]
    item = expect_dict(item, pointer)
    kind = item.get("type") or "message"
    if not isinstance(kind, str):
        raise BodyError(pointer + "/type", f"{pointer}/type must be a string, got {type_name(kind)}")
    if kind == "message" or ("role" in item and "type" not in item):
        role = str(item.get("role", "user"))
        head = f"message\x00{role}".encode()
        return role, "message", [(head, head), *_content_parts(item.get("content"), pointer + "/content")]
    if kind == "function_call":
        head = f"function_call\x00{item.get('call_id')}\x00{item.get('name')}".encode()
        args = item.get("arguments")
        payload = json_string_payload(args) if isinstance(args, str) else json_payload(args)
        return "assistant", "tool_use", [(head, head), payload]
    if kind == "function_call_output":
        head = f"function_call_output\x00{item.get('call_id')}".encode()
        output = item.get("output")
        payload = text_part(output) if isinstance(output, str) else json_payload(output)
        return "tool", "tool_result", [(head, head), payload]
    if kind == "reasoning":
        return "assistant", "thinking", [json_payload(item)]
    return "assistant" if kind.endswith("_call") else "user", kind, [json_payload(item)]


def normalize_responses(body: dict[str, Any], record: Record) -> Prompt:
    blocks: list[Block] = []
    messages: list[Message] = []
    tools = body.get("tools")
    if tools is not None:
        for i, tool in enumerate(expect_list(tools, "/tools")):
            blocks.append(_tool_block(expect_dict(tool, f"/tools/{i}"), f"/tools/{i}"))
    text = body.get("text")
    if isinstance(text, dict) and isinstance(text.get("format"), dict):
        fmt = text["format"]
        blocks.append(make_block("schema", "/text/format", "schema", fmt, [json_payload(fmt)]))
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        blocks.append(make_block("system", "/instructions", "text", instructions, [text_part(instructions)]))

    items = body.get("input")
    if isinstance(items, str):
        # A string input is rendered as the one user message it stands for.
        first = len(blocks)
        _role, kind, parts = _item_parts({"role": "user", "content": items}, "/input")
        blocks.append(make_block("messages", "/input", kind, items, parts, msg=0, role="user"))
        messages.append(make_message(0, "user", "/input", blocks, first))
    elif items is not None:
        leading = not instructions
        for i, item in enumerate(expect_list(items, "/input")):
            pointer = f"/input/{i}"
            role, kind, parts = _item_parts(item, pointer)
            if leading and role in _SYSTEM_ROLES:
                blocks.append(make_block("system", pointer, kind, item, parts, role=role))
                continue
            leading = False
            first = len(blocks)
            blocks.append(make_block("messages", pointer, kind, item, parts, msg=i, role=role))
            messages.append(make_message(i, role, pointer, blocks, first))

    settings = _settings(body, _RESPONSES_SETTINGS)
    keys = _keys(body)
    for name in ("previous_response_id", "conversation"):
        value = body.get(name)
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, str):
            keys[name] = value
    model = body.get("model")
    return Prompt(
        provider="openai", api="responses", model=model if isinstance(model, str) else None,
        blocks=blocks, messages=messages, settings=settings, record=record, keys=keys,
    )
