"""Google Gemini ``generateContent`` bodies (Gemini API and Vertex AI).

Gemini caches implicitly (2.5 and newer): a request whose leading tokens match a recent request
reads them from the cache. Google does not document how the request is rendered into tokens; we
use the order shared with the other providers, which also keeps every setting that precedes the
conversation in front of it: tool declarations (``tools``), the response schema
(``generationConfig.responseSchema``), the system instruction (``systemInstruction``), then the
conversation (``contents``). All three come before ``contents``, so whichever order Google uses, a
change to any of them re-processes the whole conversation.

Blocks: one per function declaration (``/tools/0/functionDeclarations/2``; a built-in tool such as
``googleSearch`` is one block of its own, ``/tools/1``), one for the schema, one per system part
(``/systemInstruction/parts/0``), one per content part (``/contents/1/parts/0``). A text part
renders like text everywhere else; ``functionCall.args`` and ``functionResponse.response`` keep
their key order and get a canonical hash; inline data is compared by content. Role ``model`` is
reported as ``assistant``.

Cache-key settings: ``toolConfig``, ``generationConfig.thinkingConfig`` and ``cachedContent``. A
``cachedContent`` request reads an explicit cache resource (created beforehand with the cached
system instruction, tools and leading contents); such a request cannot also set
``systemInstruction``, ``tools`` or ``toolConfig`` (the API answers 400), so its prompt holds only
the new contents. Both spellings the API accepts (camelCase and snake_case) are read.

The model comes from ``model`` in the body (``models/`` prefix removed) or from the request URL
(``.../models/gemini-2.5-flash:generateContent``, Vertex ``.../publishers/google/models/...``).
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

_URL_MODEL = re.compile(r"/models/([^/:?#]+)")


def _key(obj: dict[str, Any], camel: str) -> str | None:
    """The key under which ``obj`` spells a field (camelCase or snake_case), None when absent."""
    if camel in obj:
        return camel
    snake = re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()
    return snake if snake in obj else None


def _get(obj: Any, camel: str) -> Any:
    if not isinstance(obj, dict):
        return None
    key = _key(obj, camel)
    return obj[key] if key is not None else None


def model_name(body: dict[str, Any], record: Record) -> str | None:
    model = body.get("model")
    if isinstance(model, str) and model:
        return model.rsplit("models/", 1)[-1]
    match = _URL_MODEL.search(record.url or "")
    return unquote(match.group(1)) if match else None


def _declaration_block(decl: dict[str, Any], pointer: str) -> Block:
    name = decl.get("name")
    head = f"function\x00{name}\x00{decl.get('description', '')}".encode("utf-8", "surrogatepass")
    params = _get(decl, "parameters")
    if params is None:
        params = _get(decl, "parametersJsonSchema")
    parts = [(head, head), json_payload(params)]
    rest = {
        k: v
        for k, v in decl.items()
        if k not in ("name", "description", "parameters", "parametersJsonSchema", "parameters_json_schema")
    }
    if rest:
        parts.append(json_payload(dict(sorted(rest.items()))))
    return make_block("tools", pointer, "tool", decl, parts, name=str(name) if name is not None else None)


def _part(part: Any, pointer: str) -> tuple[str, list[tuple[bytes, bytes]]]:
    """Render one part; returns (kind, rendered parts)."""
    if isinstance(part, str):
        return "text", [text_part(part)]
    part = expect_dict(part, pointer)
    text = part.get("text")
    if isinstance(text, str):
        rest = {k: v for k, v in part.items() if k != "text"}
        rendered = [text_part(text)]
        if rest:
            rendered.append(json_payload(dict(sorted(rest.items()))))
        return ("thinking" if part.get("thought") else "text"), rendered
    call = _get(part, "functionCall")
    if isinstance(call, dict):
        head = f"functionCall\x00{call.get('id') or ''}\x00{call.get('name')}".encode()
        rendered = [(head, head), json_payload(call.get("args"))]
        signature = _get(part, "thoughtSignature")
        if signature is not None:
            rendered.append(json_payload(signature))
        return "tool_use", rendered
    response = _get(part, "functionResponse")
    if isinstance(response, dict):
        head = f"functionResponse\x00{response.get('id') or ''}\x00{response.get('name')}".encode()
        return "tool_result", [(head, head), json_payload(response.get("response"))]
    if _key(part, "inlineData") or _key(part, "fileData"):
        canon = json_payload(part)[1]
        return "image", [(canon, canon)]
    return "part", [json_payload(part)]


def _parts_of(content: Any, pointer: str) -> tuple[list[tuple[str, Any, str]], str | None]:
    """The (pointer, part, ...) items of a Content (or a bare string) and its role."""
    if isinstance(content, str):
        return [(pointer, content, "")], None
    content = expect_dict(content, pointer)
    role = content.get("role")
    key = _key(content, "parts") or "parts"
    parts = content.get(key)
    if isinstance(parts, (str, dict)):
        return [(f"{pointer}/{key}", parts, "")], role
    items = expect_list(parts if parts is not None else [], f"{pointer}/{key}")
    return [(f"{pointer}/{key}/{i}", part, "") for i, part in enumerate(items)], role


def normalize(body: dict[str, Any], record: Record) -> Prompt:
    blocks: list[Block] = []
    messages: list[Message] = []
    settings: dict[str, Setting] = {}

    tools_key = _key(body, "tools")
    if tools_key is not None and body[tools_key] is not None:
        tools = body[tools_key]
        if isinstance(tools, dict):  # one Tool object instead of a list (accepted by the API)
            items = [(f"/{tools_key}", tools)]
        else:
            items = [(f"/{tools_key}/{i}", t) for i, t in enumerate(expect_list(tools, f"/{tools_key}"))]
        for pointer, tool in items:
            tool = expect_dict(tool, pointer)
            decl_key = _key(tool, "functionDeclarations")
            if decl_key is not None:
                for j, decl in enumerate(expect_list(tool[decl_key], f"{pointer}/{decl_key}")):
                    dp = f"{pointer}/{decl_key}/{j}"
                    blocks.append(_declaration_block(expect_dict(decl, dp), dp))
                rest = {k: v for k, v in tool.items() if k != decl_key}
            else:
                rest = tool
            if rest:  # built-in tools (googleSearch, codeExecution, urlContext, ...)
                name = next(iter(rest)) if len(rest) == 1 else None
                blocks.append(make_block("tools", pointer, "tool", rest, [json_payload(rest)], name=name))

    gen_key = _key(body, "generationConfig")
    gen = body.get(gen_key) if gen_key else None
    if isinstance(gen, dict):
        for field in ("responseSchema", "responseJsonSchema"):
            key = _key(gen, field)
            if key is not None and gen[key] is not None:
                blocks.append(
                    make_block("schema", f"/{gen_key}/{key}", "schema", gen[key], [json_payload(gen[key])])
                )
                break
        key = _key(gen, "thinkingConfig")
        if key is not None:
            settings["thinkingConfig"] = Setting("thinkingConfig", f"/{gen_key}/{key}", gen[key])

    sys_key = _key(body, "systemInstruction")
    if sys_key is not None and body[sys_key] is not None:
        items, _role = _parts_of(body[sys_key], f"/{sys_key}")
        for pointer, part, _ in items:
            kind, rendered = _part(part, pointer)
            blocks.append(make_block("system", pointer, kind, part, rendered))

    contents = body.get("contents")
    if isinstance(contents, (str, dict)):
        contents = [contents]
        base = "/contents"
        pointers = [base]
    else:
        contents = expect_list(contents if contents is not None else [], "/contents")
        pointers = [f"/contents/{i}" for i in range(len(contents))]
    for i, (content, pointer) in enumerate(zip(contents, pointers)):
        items, role = _parts_of(content, pointer)
        role = "assistant" if role == "model" else (role if isinstance(role, str) and role else "user")
        first = len(blocks)
        for bp, part, _ in items:
            kind, rendered = _part(part, bp)
            blocks.append(make_block("messages", bp, kind, part, rendered, msg=i, role=role))
        messages.append(make_message(i, role, pointer, blocks, first))

    for field in ("toolConfig", "cachedContent"):
        key = _key(body, field)
        if key is not None and body[key] is not None:
            settings[field] = Setting(field, f"/{key}", body[key])

    return Prompt(
        provider="gemini",
        api="generate",
        model=model_name(body, record),
        blocks=blocks,
        messages=messages,
        settings=settings,
        record=record,
    )
