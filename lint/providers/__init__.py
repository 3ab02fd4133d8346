"""Providers stage: detect which API a request body is for and normalise it into a Prompt.

A record that is no request at all (a response, a token-counting call, anything unknown) is not an
error: :func:`detect` returns ``None`` and a reason, and the engine counts it as skipped.
"""

from __future__ import annotations

from typing import Any

from prefixlint.model import Prompt, Record
from prefixlint.providers import anthropic, bedrock, gemini, openai

PROVIDER_CHOICES = ("anthropic", "openai", "openai-chat", "openai-responses", "gemini", "bedrock")

_NORMALIZERS = {
    ("anthropic", "messages"): anthropic.normalize,
    ("openai", "chat"): openai.normalize_chat,
    ("openai", "responses"): openai.normalize_responses,
    ("gemini", "generate"): gemini.normalize,
    ("bedrock", "converse"): bedrock.normalize,
}

_COUNTING = ("count_tokens", "count-tokens", ":counttokens", "/input_tokens")
_OPENAI_ROLES = frozenset(("system", "developer", "tool", "function"))
_ANTHROPIC_BLOCKS = frozenset(("tool_use", "tool_result", "thinking", "redacted_thinking", "document"))
_ANTHROPIC_KEYS = ("system", "anthropic_version", "cache_control", "thinking")
_OPENAI_KEYS = ("response_format", "reasoning_effort", "n", "logprobs", "functions")
_BEDROCK_KEYS = ("toolConfig", "inferenceConfig", "additionalModelRequestFields", "modelId")


def _list(value: Any) -> list[Any]:
    """A field that should be an array, or nothing when it has another shape (the normaliser
    reports the wrong type; detection only needs to look)."""
    return value if isinstance(value, list) else []


def _looks_anthropic(body: dict[str, Any]) -> bool | None:
    """True/False when the body says which API it is for, None when it could be either."""
    keys = body.keys()
    if not keys.isdisjoint(_ANTHROPIC_KEYS):  # (in C)
        return True
    if not keys.isdisjoint(_OPENAI_KEYS):
        return False
    for tool in _list(body.get("tools")):
        if isinstance(tool, dict):
            if "input_schema" in tool:
                return True
            if "function" in tool:
                return False
    for msg in _list(body.get("messages")):
        if not isinstance(msg, dict):
            continue
        if msg.get("role") in _OPENAI_ROLES or "tool_calls" in msg or "tool_call_id" in msg:
            return False
        content = msg.get("content")
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict):
                    if block.get("type") in _ANTHROPIC_BLOCKS or "cache_control" in block:
                        return True
                    if block.get("type") in ("image_url", "input_audio"):
                        return False
    model = body.get("model")
    if isinstance(model, str) and "claude" in model.lower():
        return True
    return None


def _looks_bedrock(body: dict[str, Any]) -> bool:
    """Converse content blocks are keyed by kind (``{"text": ...}``, ``{"toolUse": ...}``), never typed."""
    if not body.keys().isdisjoint(_BEDROCK_KEYS):  # (in C)
        return True
    # Converse blocks are untyped everywhere: the system prompt and the first and last messages tell
    if _untyped_blocks(body.get("system")):
        return True
    messages = body.get("messages")
    if isinstance(messages, list) and messages:
        for m in (messages[0], messages[-1]) if len(messages) > 1 else (messages[0],):
            if isinstance(m, dict) and _untyped_blocks(m.get("content")):
                return True
    return False


def _untyped_blocks(content: Any) -> bool:
    """A content list holding a Converse block: an object without "type", keyed by its kind."""
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and "type" not in block and any(k in block for k in bedrock.CONTENT_KEYS):
                return True
    return False


def detect(body: Any, record: Record, override: str | None = None) -> tuple[tuple[str, str] | None, str]:
    """Return ((provider, api), "") for a request body, or (None, reason) to skip the record."""
    if record.skip:
        return None, record.skip
    if not isinstance(body, dict):
        return None, "not a JSON object"
    url = (record.url or "").lower()
    path = url.split("?", 1)[0].rstrip("/")
    if path and any(marker in path for marker in _COUNTING):
        return None, "token-counting call"
    if path.endswith("/embeddings"):
        return None, "embeddings call"
    if path.endswith("/responses/compact"):
        return None, "compaction call (not linted yet)"
    if override == "gemini":
        return ("gemini", "generate"), ""
    if override == "bedrock":
        return ("bedrock", "converse"), ""
    if override == "anthropic":
        return ("anthropic", "messages"), ""
    if override == "openai-chat":
        return ("openai", "chat"), ""
    if override == "openai-responses":
        return ("openai", "responses"), ""
    if override == "openai":
        return (("openai", "responses") if "input" in body and "messages" not in body else ("openai", "chat")), ""
    if body.get("object") in ("chat.completion", "chat.completion.chunk", "response", "message") or (
        "choices" in body
    ):
        return None, "response, not a request"
    if body.get("type") == "message" and body.get("role") == "assistant":
        return None, "response, not a request"
    if ("candidates" in body or "usageMetadata" in body or "stopReason" in body) and "contents" not in body:
        return None, "response, not a request"
    if ":generatecontent" in path or ":streamgeneratecontent" in path or isinstance(body.get("contents"), list):
        return ("gemini", "generate"), ""
    if path.endswith(("/converse", "/converse-stream")) or (
        isinstance(body.get("messages"), list)
        and "/v1/messages" not in url
        and "chat/completions" not in url
        and _looks_bedrock(body)
    ):
        return ("bedrock", "converse"), ""
    if "messages" in body and isinstance(body["messages"], list):
        if "/v1/messages" in url:
            return ("anthropic", "messages"), ""
        if "chat/completions" in url:
            return ("openai", "chat"), ""
        if "model" not in body:
            return None, "no model: not a request body"
        verdict = _looks_anthropic(body)
        if verdict is None:
            # Only user/assistant messages with string content: both APIs render them alike.
            return ("openai", "chat"), ""
        return (("anthropic", "messages") if verdict else ("openai", "chat")), ""
    if "input" in body and ("model" in body or "previous_response_id" in body or "instructions" in body):
        return ("openai", "responses"), ""
    if "messages" in body:
        return ("anthropic", "messages") if "max_tokens" in body else ("openai", "chat"), ""
    return None, "unrecognised record"


def normalize(kind: tuple[str, str], body: dict[str, Any], record: Record) -> Prompt:
    return _NORMALIZERS[kind](body, record)
