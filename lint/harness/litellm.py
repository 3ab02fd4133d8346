"""LiteLLM proxy ``config.yaml`` -> prefixlint harness documents, one per ``model_list`` entry.

What LiteLLM does with ``litellm_params.cache_control_injection_points`` (its
``AnthropicCacheControlHook``): each ``location: message`` point adds ``cache_control`` to the
messages it targets, in the OpenAI message list the client sent (where the system prompt is message
0). ``index`` (an integer, or a string holding one; negative counts from the end) targets that one
message and wins over ``role``; ``role`` targets EVERY message of that role, so ``role: user``
marks every user turn of the conversation. ``control`` defaults to ``{type: ephemeral}``.
``location: tool_config`` is only honoured for Bedrock (a cache point after the tools). Older LiteLLM
releases send every marker (Anthropic rejects more than four); newer ones stop after four, the
earliest points and messages first, so the tail of a long conversation is never marked.

The markers reach the provider as Anthropic-style ``cache_control`` for Claude models on the
Anthropic API, Bedrock and Vertex AI, so those map to provider ``anthropic``. OpenAI models (and
Azure OpenAI) cache automatically and drop the markers: provider ``openai``, automatic caching.
Entries of other providers (Gemini, Ollama, ...) and wildcard routes are not linted (a note says so).

Mapping of the points: ``role: system`` and ``index: 0`` -> ``at: system``; ``role: user|assistant``
-> ``at: messages`` with that role; ``index: N`` -> ``at: messages`` with ``index: N - 1`` (prefixlint
counts messages without the system prompt) or ``index: N`` when negative; ``control.ttl`` -> ``ttl``;
``tool_config`` on Bedrock -> ``at: tools``. A proxy configuration holds neither the system prompt
nor the tools (the client sends them), so every document assumes a 1,500-token system prompt and
four 300-token tools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from prefixlint.harness.loader import HarnessError, Loaded, escape

__all__ = ["KEYS_IGNORED", "KEYS_READ", "Note", "is_litellm", "notes", "translate", "translate_each"]

ASSUME = {"system_tokens": 1500, "tools": 4}
IGNORED = "ignored: does not change the prompt"

KEYS_READ: dict[str, str] = {
    "model_list[].model_name": "name",
    "model_list[].litellm_params.model": "provider and model",
    "model_list[].litellm_params.cache_control_injection_points": "cache.breakpoints (Anthropic models)",
    "model_list[].litellm_params.prompt_cache_key": "cache.prompt_cache_key (OpenAI models)",
    "model_list[].litellm_params.prompt_cache_retention": "cache.retention (OpenAI models)",
    **{f"model_list[].litellm_params.{k}": f"settings.{k}" for k in (
        "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "stop", "seed",
        "thinking", "reasoning_effort", "tool_choice", "parallel_tool_calls",
    )},
}
KEYS_IGNORED = (
    "Every other litellm_params key (api_key, api_base, api_version, rpm, tpm, timeout, max_retries, "
    "aws_*/vertex_* credentials, ...), model_info, and the top-level litellm_settings, "
    "general_settings, router_settings and environment_variables: they do not change the prompt. "
    "litellm_settings.cache / cache_params configure LiteLLM's own response cache, not the "
    "provider's prompt cache."
)

_SETTINGS = (
    "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "stop", "seed",
    "thinking", "reasoning_effort", "tool_choice", "parallel_tool_calls",
)
_INTEGERS = ("max_tokens", "max_completion_tokens", "top_k", "seed")
_NUMBERS = ("temperature", "top_p")
_OPENAI_BARE = ("gpt-", "gpt4", "o1", "o3", "o4", "chatgpt-", "codex-")


@dataclass(frozen=True, slots=True)
class Note:
    """A key that is ignored, or a remark on how a key was mapped: ``key`` as a dotted path, its
    line."""

    key: str
    line: int
    message: str


def is_litellm(loaded: Loaded) -> bool:
    """A LiteLLM proxy configuration: a top-level ``model_list`` of mappings."""
    doc = loaded.doc
    if not isinstance(doc, dict) or not isinstance(doc.get("model_list"), list):
        return False
    items = doc["model_list"]
    return not items or any(isinstance(i, dict) and ("litellm_params" in i or "model_name" in i) for i in items)


def translate(loaded: Loaded, path: str) -> list[Loaded]:
    """One harness document per linted ``model_list`` entry, each with the line of every value in
    the source file. Raises :class:`HarnessError` (with a line) for the first invalid entry."""
    out = []
    for item in translate_each(loaded, path):
        if isinstance(item, HarnessError):
            raise item
        out.append(item)
    return out


def translate_each(loaded: Loaded, path: str) -> list[Loaded | HarnessError]:
    """Like :func:`translate`, but an invalid entry is its :class:`HarnessError` in the list, so
    that the other entries of the model list can still be linted."""
    return _Translator(loaded).run()[0]


def notes(loaded: Loaded, path: str) -> list[Note]:
    """The keys ignored and the remarks made while translating, in line order."""
    return _Translator(loaded).run()[1]


def provider_of(model: str) -> tuple[str | None, str, bool]:
    """``(provider, model id, bedrock)`` for a LiteLLM model string; provider None: not linted."""
    text = model.strip()
    low = text.lower()
    if "*" in low:
        return None, text, False
    prefix, slash, rest = text.partition("/")
    if not slash:
        prefix, rest = "", text
    p, r = prefix.lower(), rest.lower()
    if p == "anthropic":
        return "anthropic", rest, False
    if p == "bedrock":
        for route in ("converse/", "invoke/"):
            if r.startswith(route):
                rest, r = rest[len(route):], r[len(route):]
        return ("anthropic" if "claude" in r else None), rest, True
    if p in ("vertex_ai", "vertex_ai_beta"):
        return ("anthropic" if "claude" in r else None), rest, False
    if p in ("openai", "azure", "chatgpt"):
        return "openai", rest, False
    if p == "openrouter":
        sub, _, name = r.partition("/")
        if sub == "anthropic":
            return "anthropic", rest, False
        if sub == "openai":
            return "openai", rest, False
        return None, rest, False
    if not p:
        if r.startswith("claude"):
            return "anthropic", rest, False
        if r.startswith(_OPENAI_BARE):
            return "openai", rest, False
    return None, text, False


class _Translator:
    def __init__(self, loaded: Loaded) -> None:
        if not isinstance(loaded.doc, dict):
            raise HarnessError("not a LiteLLM configuration: the document is not a mapping", loaded.line(""))
        self.loaded = loaded
        self.notes: list[Note] = []

    def line(self, pointer: str) -> int:
        return self.loaded.line(pointer)

    def note(self, key: str, pointer: str, message: str) -> None:
        self.notes.append(Note(key, self.line(pointer), message))

    def fail(self, message: str, pointer: str) -> HarnessError:
        return HarnessError(message, self.line(pointer))

    def run(self) -> tuple[list[Loaded | HarnessError], list[Note]]:
        doc = self.loaded.doc
        models = doc.get("model_list")
        if not isinstance(models, list):
            raise self.fail("model_list: expected a list of models", "/model_list")
        for key, value in doc.items():
            if key == "model_list":
                continue
            message = IGNORED
            if key == "litellm_settings" and isinstance(value, dict) and ("cache" in value or "cache_params" in value):
                message = "ignored: LiteLLM's response cache (cache / cache_params) is not the provider's prompt cache"
            self.note(key, f"/{escape(key)}", message)
        docs: list[Loaded | HarnessError] = []
        for i, item in enumerate(models):
            try:
                translated = self.entry(i, item)
            except HarnessError as exc:
                docs.append(exc)
                continue
            if translated is not None:
                docs.append(translated)
        self.notes.sort(key=lambda n: n.line)
        return docs, self.notes

    def entry(self, i: int, entry: Any) -> Loaded | None:
        base, where = f"/model_list/{i}", f"model_list[{i}]"
        pbase, pwhere = f"{base}/litellm_params", f"{where}.litellm_params"
        if not isinstance(entry, dict):
            raise self.fail(f"{where}: expected a mapping with model_name and litellm_params", base)
        name = entry.get("model_name")
        if name is None or isinstance(name, (dict, list)) or str(name).strip() == "":
            raise self.fail(f"{where}: model_name is missing or not a string", f"{base}/model_name")
        name = str(name)
        params = entry.get("litellm_params")
        if not isinstance(params, dict):
            raise self.fail(f"{pwhere}: expected a mapping", pbase)
        model = params.get("model")
        if not isinstance(model, str) or not model.strip():
            message = f"{pwhere}.model: expected a model name such as anthropic/claude-sonnet-4-5"
            raise self.fail(message, f"{pbase}/model")
        for key in entry:
            if key not in ("model_name", "litellm_params"):
                self.note(f"{where}.{key}", f"{base}/{escape(key)}", IGNORED)

        provider, model_id, bedrock = provider_of(model)
        if provider is None:
            reason = "a wildcard route" if "*" in model else "a provider prefixlint does not lint"
            self.note(f"{pwhere}.model", f"{pbase}/model", f"{model}: {reason}; {name} is not linted")
            for key in params:
                if key != "model":
                    self.note(f"{pwhere}.{key}", f"{pbase}/{escape(key)}", "ignored: the model is not linted")
            return None

        model_line = self.line(f"{pbase}/model")
        lines: dict[str, int] = {"": self.line(base), "/prefixlint": self.line(base)}
        lines["/name"] = self.line(f"{base}/model_name")
        lines["/provider"] = lines["/model"] = model_line
        doc: dict[str, Any] = {"prefixlint": "harness/v1", "name": name, "provider": provider, "model": model_id}

        points_ptr = f"{pbase}/cache_control_injection_points"
        points = params.get("cache_control_injection_points")
        if points is not None and not isinstance(points, list):
            raise self.fail(f"{pwhere}.cache_control_injection_points: expected a list", points_ptr)
        points = points or []

        cache: dict[str, Any]
        if provider == "anthropic":
            breakpoints, bp_lines = self.breakpoints(pwhere, points_ptr, points, bedrock)
            cache_line = self.line(points_ptr) if "cache_control_injection_points" in params else self.line(pbase)
            if breakpoints:
                cache = {"strategy": "breakpoints", "breakpoints": breakpoints}
                lines["/cache/breakpoints"] = cache_line
                lines.update(bp_lines)
            else:
                cache = {"strategy": "none"}
            lines["/cache"] = lines["/cache/strategy"] = cache_line
        else:
            cache = {"strategy": "automatic"}
            lines["/cache"] = lines["/cache/strategy"] = model_line
            if points:
                message = "no effect on an OpenAI model: OpenAI caches automatically (automatic caching assumed)"
                self.note(f"{pwhere}.cache_control_injection_points", points_ptr, message)
            key = params.get("prompt_cache_key")
            if key is not None:
                if not isinstance(key, str):
                    raise self.fail(f"{pwhere}.prompt_cache_key: expected a string", f"{pbase}/prompt_cache_key")
                cache["prompt_cache_key"] = key
                lines["/cache/prompt_cache_key"] = self.line(f"{pbase}/prompt_cache_key")
            retention = params.get("prompt_cache_retention")
            if retention is not None:
                ptr = f"{pbase}/prompt_cache_retention"
                if retention not in ("in_memory", "24h"):
                    message = f"{pwhere}.prompt_cache_retention: expected in_memory or 24h, found {retention!r}"
                    raise self.fail(message, ptr)
                cache["retention"] = retention
                lines["/cache/retention"] = self.line(ptr)
        doc["cache"] = cache

        settings: dict[str, Any] = {}
        for key in _SETTINGS:
            if params.get(key) is None:
                continue
            value = params[key]
            ptr = f"{pbase}/{key}"
            if key in _INTEGERS and (not isinstance(value, int) or isinstance(value, bool)):
                raise self.fail(f"{pwhere}.{key}: expected an integer, found {value!r}", ptr)
            if key in _NUMBERS and not _number(value):
                raise self.fail(f"{pwhere}.{key}: expected a number, found {value!r}", ptr)
            if not _jsonable(value):
                raise self.fail(f"{pwhere}.{key}: expected JSON values (strings, numbers, lists, mappings)", ptr)
            settings[key] = value
            self.copy_lines(value, ptr, f"/settings/{key}", lines)
        if settings:
            doc["settings"] = settings
            lines["/settings"] = self.line(pbase)

        read = {"model", "cache_control_injection_points", *_SETTINGS}
        if provider == "openai":
            read |= {"prompt_cache_key", "prompt_cache_retention"}
        for key in params:
            if key not in read:
                self.note(f"{pwhere}.{key}", f"{pbase}/{escape(key)}", IGNORED)

        doc["assume"] = dict(ASSUME)
        for ptr in ("/assume", *(f"/assume/{k}" for k in ASSUME)):
            lines[ptr] = lines[""]
        return Loaded(doc, lines)

    def breakpoints(self, where: str, points_ptr: str, points: list, bedrock: bool) -> tuple[list, dict[str, int]]:
        out: list[dict] = []
        lines: dict[str, int] = {}
        for j, point in enumerate(points):
            ptr = f"{points_ptr}/{j}"
            key = f"{where}.cache_control_injection_points[{j}]"
            if not isinstance(point, dict):
                raise self.fail(f"{key}: expected a mapping with location, role or index, and control", ptr)
            ttl, ttl_line = self.control(key, ptr, point)
            location = point.get("location")
            target: dict[str, Any] | None
            target_lines: dict[str, int] = {}
            if location == "tool_config":
                if not bedrock:
                    self.note(key, ptr, "location: tool_config is only honoured for Bedrock models: ignored")
                    continue
                target = {"at": "tools"}
                target_lines["at"] = self.line(f"{ptr}/location")
            elif location == "message":
                target = self.message_target(key, ptr, point, target_lines)
                if target is None:
                    continue
            else:
                message = f"location {location!r}: LiteLLM injects only at location: message (tool_config: Bedrock)"
                self.note(key, ptr, message + ", ignored")
                continue
            if ttl is not None:
                target["ttl"] = ttl
            k = len(out)
            out.append(target)
            lines[f"/cache/breakpoints/{k}"] = self.line(ptr)
            for field in target:
                field_line = ttl_line if field == "ttl" else target_lines.get(field)
                lines[f"/cache/breakpoints/{k}/{field}"] = field_line or self.line(ptr)
        return out, lines

    def message_target(self, key: str, ptr: str, point: dict, target_lines: dict[str, int]) -> dict | None:
        index = point.get("index")
        if isinstance(index, str):
            try:
                index = int(index.strip())
            except ValueError:
                self.note(key, f"{ptr}/index", f"index {point['index']!r} is not an integer: LiteLLM ignores it")
                index = None
        elif index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise self.fail(f"{key}.index: expected an integer, found {index!r}", f"{ptr}/index")
        if index is not None:
            target_lines["at"] = target_lines["index"] = self.line(f"{ptr}/index")
            if "role" in point and point["role"] is not None:
                self.note(key, f"{ptr}/role", "role is not used when index is set (LiteLLM targets the index)")
            if index == 0:
                return {"at": "system"}
            return {"at": "messages", "index": index - 1 if index > 0 else index}
        role = point.get("role")
        if role is None:
            self.note(key, ptr, "neither role nor index: LiteLLM marks no message")
            return None
        role_line = self.line(f"{ptr}/role")
        target_lines["at"] = target_lines["role"] = role_line
        if role == "system":
            return {"at": "system"}
        if role in ("user", "assistant"):
            return {"at": "messages", "role": role}
        if role == "tool":
            message = "role: tool marks tool results, which the synthetic conversation does not hold: ignored"
            self.note(key, f"{ptr}/role", message)
            return None
        raise HarnessError(f"{key}.role: expected system, user or assistant, found {role!r}", role_line)

    def control(self, key: str, ptr: str, point: dict) -> tuple[str | None, int | None]:
        control = point.get("control")
        if control is None:
            return None, None
        if not isinstance(control, dict):
            raise self.fail(f"{key}.control: expected a mapping such as {{type: ephemeral}}", f"{ptr}/control")
        kind = control.get("type", "ephemeral")
        if kind != "ephemeral":
            raise self.fail(f"{key}.control.type: expected ephemeral, found {kind!r}", f"{ptr}/control/type")
        ttl = control.get("ttl")
        if ttl is None:
            return None, None
        if ttl not in ("5m", "1h"):
            raise self.fail(f"{key}.control.ttl: expected 5m or 1h, found {ttl!r}", f"{ptr}/control/ttl")
        return ttl, self.line(f"{ptr}/control/ttl")

    def copy_lines(self, value: Any, src: str, dst: str, lines: dict[str, int]) -> None:
        lines[dst] = self.line(src)
        if isinstance(value, dict):
            for k, v in value.items():
                self.copy_lines(v, f"{src}/{escape(str(k))}", f"{dst}/{escape(str(k))}", lines)
        elif isinstance(value, list):
            for n, v in enumerate(value):
                self.copy_lines(v, f"{src}/{n}", f"{dst}/{n}", lines)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(_jsonable(v) for v in value.values())
    return False
