"""Spring AI ``application.yml`` / ``application.properties`` -> prefixlint harness documents.

Spring AI configures its Anthropic chat model with keys under ``spring.ai.anthropic.chat``: Spring
AI 1.x spells them ``spring.ai.anthropic.chat.options.<key>``, Spring AI 2.x drops the ``options``
level (and still binds the 1.x spelling, deprecated). Both are read; when a file holds both, the
2.x spelling wins. Spring AI 2.x also has provider-neutral defaults under ``spring.ai.prompt-cache``
(``strategy``, ``ttl``, ``min-content-length``).

The caching strategy decides where Spring AI puts ``cache_control`` (its ``CacheEligibilityResolver``
and ``AnthropicChatModel#createRequest``): on the last tool for TOOLS_ONLY, SYSTEM_AND_TOOLS and
CONVERSATION_HISTORY; on the system prompt for SYSTEM_ONLY, SYSTEM_AND_TOOLS and
CONVERSATION_HISTORY; on the last user message for CONVERSATION_HISTORY only. The tools' and the
system prompt's TTL is the one of message type SYSTEM, the last user message's the one of USER;
every ``cache_control`` Spring AI sends carries its TTL (5 minutes unless configured).

Spring's relaxed binding is followed: a key may be written in kebab-case, camelCase or with
underscores, in upper or lower case, nested or dotted at any level of a YAML file, and a map key
in brackets (``message-type-ttl[SYSTEM]``); enum values ignore case, ``-`` and ``_``. When a key is
written twice, the last one wins, as in Spring. ``${NAME:default}`` placeholders resolve to their
default; a placeholder without a default leaves the key unset (with a note).

A Spring configuration holds neither the system prompt nor the tools (they are built in code), so
every document assumes a 1,500-token system prompt and four 300-token tools: Spring AI
applications usually register tools, and tools come first in the cached prefix whatever the
strategy, so a tool list is assumed even for NONE and SYSTEM_ONLY.

Out of scope: profile-specific documents (``---`` with ``spring.config.activate.on-profile``;
a multi-document YAML file is refused by the loader), ``application-<profile>.yml`` overlays,
environment variables and command-line overrides, options set in code (``ChatClient``
``defaultOptions``, per-request ``AnthropicChatOptions``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from prefixlint.harness.loader import HarnessError, Loaded, escape

__all__ = ["KEYS_IGNORED", "KEYS_READ", "Note", "is_spring", "notes", "translate"]

ASSUME = {"system_tokens": 1500, "tools": 4}
GENERIC_MODEL = "claude"  # when no model is configured: Spring AI's default depends on its version
NO_MODEL = "no model set: Spring AI's default model depends on its version; "
TOOL_CHOICE = '{"type": "auto"}'

# Keys read, relative to spring.ai.anthropic.chat (or spring.ai.anthropic.chat.options), and what
# each becomes in the harness document.
KEYS_READ: dict[str, str] = {
    "model": "model",
    "max-tokens": "settings.max_tokens",
    "temperature": "settings.temperature",
    "top-p": "settings.top_p",
    "top-k": "settings.top_k",
    "thinking.type": "settings.thinking.type",
    "thinking.budget-tokens": "settings.thinking.budget_tokens",
    "tool-choice": "settings.tool_choice (a JSON object, as Spring AI parses it)",
    "disable-parallel-tool-use": "settings.tool_choice.disable_parallel_tool_use",
    "cache-options.strategy": "cache.strategy and cache.breakpoints",
    "cache-options.message-type-ttl.<TYPE>": "breakpoint ttl (SYSTEM: tools and system; USER: last user message)",
    "cache-options.message-type-min-content-lengths.<TYPE>": "read; the placeholders are assumed long enough",
    "cache-options.multi-block-system-caching": "read; no effect on the single placeholder system prompt",
    "cache-options.cache-tool-results": "read; tool results are not part of the synthetic conversation",
    "spring.ai.prompt-cache.strategy": "cache.strategy when cache-options.strategy is not set",
    "spring.ai.prompt-cache.ttl": "the default ttl of every message type",
    "spring.ai.prompt-cache.min-content-length": "read; the placeholders are assumed long enough",
    "spring.ai.model.chat": "which chat model is active (anthropic, openai, none)",
    "spring.ai.openai.chat[.options].model": "model of an OpenAI document (automatic caching)",
}
KEYS_IGNORED = (
    "Every other key under spring.ai.anthropic (api-key, base-url, version, beta-version, metadata, "
    "stop-sequences, http-headers, web-search-tool, service-tier, inference-geo, output-config, "
    "tool-names, tool-callbacks, internal-tool-execution-enabled, ...) and outside spring.ai "
    "(server, logging, datasource, ...): they do not change the prompt prefix."
)

_STRATEGIES = ("NONE", "SYSTEM_ONLY", "TOOLS_ONLY", "SYSTEM_AND_TOOLS", "CONVERSATION_HISTORY")
_TTLS = {"FIVEMINUTES": "5m", "ONEHOUR": "1h"}
_MESSAGE_TYPES = ("SYSTEM", "USER", "ASSISTANT", "TOOL")
_SEGMENT = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")
_PLACEHOLDER = re.compile(r"\$\{([^}:]*)(?::([^}]*))?\}")
_DURATION = re.compile(r"^([+-]?\d+)\s*(ns|us|ms|s|m|h|d)?$", re.I)
_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.I)

ANTHROPIC = ("spring", "ai", "anthropic")
OPENAI = ("spring", "ai", "openai")
PROMPT_CACHE = ("spring", "ai", "promptcache")


@dataclass(frozen=True, slots=True)
class Note:
    """A key that is ignored, or a remark on how a key was mapped: ``key`` as written, its line."""

    key: str
    line: int
    message: str


@dataclass(slots=True)
class _Entry:
    canon: tuple[str, ...]  # relaxed-binding canonical form of every segment
    written: str  # the dotted key as written
    value: Any
    line: int
    pointer: str  # in the source document


def canonical(segment: str) -> str:
    """Spring's uniform form of one key segment: lower case, without ``-`` and ``_``."""
    return segment.replace("-", "").replace("_", "").lower()


def _enum(value: str) -> str:
    return value.replace("-", "").replace("_", "").replace(" ", "").upper()


def _segments(key: str) -> list[str]:
    """``a.b[c.d].e`` -> ``[a, b, c.d, e]``."""
    return [bracket or plain for bracket, plain in _SEGMENT.findall(key)]


class _Flat:
    """The document as (canonical key -> entry), plus the line of every key prefix."""

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.entries: dict[tuple[str, ...], _Entry] = {}
        self.overridden: list[_Entry] = []
        self.prefix_lines: dict[tuple[str, ...], int] = {}
        if isinstance(loaded.doc, dict):
            self._walk(loaded.doc, "", (), "")

    def _walk(self, node: dict, pointer: str, canon: tuple[str, ...], written: str) -> None:
        for key, value in node.items():
            ptr = f"{pointer}/{_escape(key)}"
            line = self.loaded.line(ptr)
            segs = _segments(str(key))
            path = canon
            for seg in segs:
                path = (*path, canonical(seg))
                self.prefix_lines.setdefault(path, line)
            name = f"{written}.{key}" if written else str(key)
            if isinstance(value, dict) and value:
                self._walk(value, ptr, path, name)
                continue
            entry = _Entry(path, name, value, line, ptr)
            previous = self.entries.pop(path, None)  # the last one wins, and moves to the end
            if previous is not None:
                self.overridden.append(previous)
            self.entries[path] = entry

    def under(self, prefix: tuple[str, ...]) -> list[_Entry]:
        n = len(prefix)
        return [e for e in self.entries.values() if e.canon[:n] == prefix]


def _escape(key: Any) -> str:
    return escape(str(key))


def is_spring(loaded: Loaded) -> bool:
    """A Spring configuration with an Anthropic (or OpenAI) chat model: a key under
    ``spring.ai.anthropic`` (or ``spring.ai.openai.chat``)."""
    if not isinstance(loaded.doc, dict):
        return False
    flat = _Flat(loaded)
    return any(p[:3] == ANTHROPIC or p[:4] == (*OPENAI, "chat") for p in flat.prefix_lines)


def translate(loaded: Loaded, path: str) -> list[Loaded]:
    """The harness documents of a Spring configuration (at most one per provider), each with the
    line of every value in the source file. Raises :class:`HarnessError` for invalid values."""
    return _Translator(loaded, path).run()[0]


def notes(loaded: Loaded, path: str) -> list[Note]:
    """The keys ignored and the remarks made while translating, in line order."""
    return _Translator(loaded, path).run()[1]


class _Translator:
    def __init__(self, loaded: Loaded, path: str) -> None:
        if not isinstance(loaded.doc, dict):
            raise HarnessError("not a Spring configuration: the document is not a mapping", loaded.line(""))
        self.loaded = loaded
        self.file = PurePath(path).name or path
        self.flat = _Flat(loaded)
        self.notes: list[Note] = []
        self.used: set[tuple[str, ...]] = set()

    # -- values ---------------------------------------------------------------------------------

    def note(self, entry: _Entry | None, message: str, line: int | None = None, key: str = "") -> None:
        key = entry.written if entry else key
        self.notes.append(Note(key, line if line is not None else (entry.line if entry else 1), message))

    def get(self, *canon: str) -> _Entry | None:
        """The entry of a single-valued key; a mapping under it is an error."""
        key = tuple(canon)
        entry = self.flat.entries.get(key)
        if entry is not None:
            self.used.add(entry.canon)
        children = [e for e in self.flat.entries.values() if e.canon[: len(key)] == key and len(e.canon) > len(key)]
        if children:
            name = entry.written if entry else children[0].written.rsplit(".", 1)[0]
            line = children[0].line if entry else self.flat.prefix_lines.get(key, children[0].line)
            raise HarnessError(f"{name}: expected a value, found a mapping", line)
        return entry

    def scalar(self, entry: _Entry) -> str | None:
        """The value as Spring sees it: a string, placeholders resolved (None: unresolvable)."""
        value = entry.value
        if isinstance(value, (dict, list)):
            found = "list" if isinstance(value, list) else "mapping"
            raise HarnessError(f"{entry.written}: expected a single value, found a {found}", entry.line)
        if value is None:
            return None
        text = str(value).lower() if isinstance(value, bool) else str(value)
        missing: list[str] = []

        def resolve(match: re.Match) -> str:
            if match.group(2) is None:
                missing.append(match.group(1))
                return ""
            return match.group(2)

        resolved = _PLACEHOLDER.sub(resolve, text)
        if missing:
            self.note(entry, f"placeholder ${{{missing[0]}}} has no default: the key is treated as unset")
            return None
        if resolved != text:
            self.note(entry, f"placeholder resolved to its default {resolved!r}")
        return resolved.strip()

    def integer(self, entry: _Entry) -> int | None:
        if isinstance(entry.value, int) and not isinstance(entry.value, bool):
            return entry.value
        text = self.scalar(entry)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise HarnessError(f"{entry.written}: expected an integer, found {text!r}", entry.line) from None

    def number(self, entry: _Entry) -> float | int | None:
        if isinstance(entry.value, (int, float)) and not isinstance(entry.value, bool):
            return entry.value
        text = self.scalar(entry)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            raise HarnessError(f"{entry.written}: expected a number, found {text!r}", entry.line) from None
        return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value

    def boolean(self, entry: _Entry) -> bool | None:
        if isinstance(entry.value, bool):
            return entry.value
        text = self.scalar(entry)
        if text is None:
            return None
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise HarnessError(f"{entry.written}: expected true or false, found {text!r}", entry.line)

    def choice(self, entry: _Entry, allowed: tuple[str, ...] | dict[str, str], what: str) -> str | None:
        text = self.scalar(entry)
        if text is None:
            return None
        value = _enum(text)
        names = {_enum(a): a for a in allowed}
        if value not in names:
            listed = ", ".join(allowed)
            raise HarnessError(f"{entry.written}: unknown {what} {text!r} (one of {listed})", entry.line)
        return names[value]

    def duration_ttl(self, entry: _Entry) -> str | None:
        """A Spring ``Duration`` (``5m``, ``1h``, ``PT1H``, a number of milliseconds) as the TTL
        Spring AI sends: 1h above five minutes, else 5m."""
        text = self.scalar(entry)
        if text is None:
            return None
        seconds: float | None = None
        match = _DURATION.match(text)
        if match:
            unit = (match.group(2) or "ms").lower()
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
            seconds = int(match.group(1)) * scale
        else:
            iso = _ISO_DURATION.match(text)
            if iso and any(iso.groups()):
                d, h, m, s = (float(g) if g else 0.0 for g in iso.groups())
                seconds = d * 86400 + h * 3600 + m * 60 + s
        if seconds is None or seconds <= 0:
            raise HarnessError(f"{entry.written}: expected a duration such as 5m or 1h, found {text!r}", entry.line)
        return "1h" if seconds > 300 else "5m"

    # -- the documents --------------------------------------------------------------------------

    def run(self) -> tuple[list[Loaded], list[Note]]:
        docs: list[Loaded] = []
        active = None
        selector = self.get("spring", "ai", "model", "chat")
        if selector is not None:
            active = (self.scalar(selector) or "").strip().lower() or None
        has_anthropic = ANTHROPIC in self.flat.prefix_lines
        has_openai = (*OPENAI, "chat") in self.flat.prefix_lines
        if has_anthropic and active in (None, "anthropic"):
            docs.append(self.anthropic())
        elif has_anthropic:
            self.note(selector, f"spring.ai.model.chat={active}: the Anthropic chat model is not active, not linted")
        if has_openai and active in (None, "openai"):
            docs.append(self.openai())
        elif has_openai:
            self.note(selector, f"spring.ai.model.chat={active}: the OpenAI chat model is not active, not linted")
        for entry in self.flat.overridden:
            self.note(entry, "written again further down: ignored (the last one wins)")
        for entry in self.flat.entries.values():
            if entry.canon not in self.used:
                self.note(entry, self._ignored_reason(entry))
        self.notes.sort(key=lambda n: n.line)
        return docs, self.notes

    def _ignored_reason(self, entry: _Entry) -> str:
        if entry.canon[:2] != ("spring", "ai"):
            if entry.canon[:4] == ("spring", "config", "activate", "onprofile"):
                return "profile-specific configuration: prefixlint lints the file as if the profile were active"
            return "ignored: not a Spring AI key"
        if entry.canon[:3] in (ANTHROPIC, OPENAI, PROMPT_CACHE):
            return "ignored: does not change the prompt prefix (or not read by prefixlint)"
        return "ignored: not an Anthropic or OpenAI chat key"

    def _chat(self, base: tuple[str, ...], *key: str) -> _Entry | None:
        """A chat option: ``<base>.chat.<key>`` (2.x) or ``<base>.chat.options.<key>`` (1.x)."""
        new = self.get(*base, "chat", *key)
        old = self.get(*base, "chat", "options", *key)
        if new is not None and old is not None:
            self.note(old, f"also set as {new.written} (line {new.line}), which wins")
            return new
        return new or old

    def _chat_under(self, base: tuple[str, ...], *key: str) -> list[_Entry]:
        new = self.flat.under((*base, "chat", *key))
        old = self.flat.under((*base, "chat", "options", *key))
        # a map: entries of both spellings, the 2.x one winning per map key
        seen = {e.canon[len(base) + 1 + len(key):] for e in new}
        merged = new + [e for e in old if e.canon[len(base) + 2 + len(key):] not in seen]
        for e in merged:
            self.used.add(e.canon)
        return merged

    def _base_line(self, base: tuple[str, ...]) -> int:
        return self.flat.prefix_lines.get(base, 1)

    def anthropic(self) -> Loaded:
        base_line = self._base_line(ANTHROPIC)
        lines: dict[str, int] = {}
        doc: dict[str, Any] = {
            "prefixlint": "harness/v1",
            "name": f"{self.file}: spring.ai.anthropic",
            "provider": "anthropic",
        }
        for ptr in ("", "/prefixlint", "/name", "/provider"):
            lines[ptr] = base_line

        model_entry = self._chat(ANTHROPIC, "model")
        model = self.scalar(model_entry) if model_entry else None
        if model:
            doc["model"] = model
            lines["/model"] = model_entry.line
        else:
            doc["model"] = GENERIC_MODEL
            lines["/model"] = model_entry.line if model_entry else base_line
            assumed = NO_MODEL + "a generic Claude model is assumed"
            self.note(model_entry, assumed, lines["/model"], "spring.ai.anthropic.chat.model")

        doc["cache"], cache_lines = self.cache(base_line)
        lines.update(cache_lines)

        return self.finish(doc, lines, base_line, ANTHROPIC)

    def cache(self, base_line: int) -> tuple[dict, dict[str, int]]:
        strategy_entry = self._chat(ANTHROPIC, "cacheoptions", "strategy")
        portable = self.get(*PROMPT_CACHE, "strategy")
        strategy = self.choice(strategy_entry, _STRATEGIES, "cache strategy") if strategy_entry else None
        if strategy is not None and portable is not None:
            self.note(portable, f"{strategy_entry.written} (line {strategy_entry.line}) wins for the Anthropic model")
        if strategy is None and portable is not None:
            strategy = self.choice(portable, _STRATEGIES, "cache strategy")
            strategy_entry = portable if strategy is not None else strategy_entry
        line = strategy_entry.line if strategy_entry is not None and strategy is not None else base_line
        strategy = strategy or "NONE"

        # TTLs: the portable default, then per message type
        default_ttl, default_ttl_line = "5m", None
        portable_ttl = self.get(*PROMPT_CACHE, "ttl")
        if portable_ttl is not None:
            ttl = self.duration_ttl(portable_ttl)
            if ttl is not None:
                default_ttl, default_ttl_line = ttl, portable_ttl.line
        ttls: dict[str, tuple[str, int | None]] = {t: (default_ttl, default_ttl_line) for t in _MESSAGE_TYPES}
        for entry in self._chat_under(ANTHROPIC, "cacheoptions", "messagetypettl"):
            mtype = self._message_type(entry, "messagetypettl")
            ttl = self.choice(entry, ("FIVE_MINUTES", "ONE_HOUR"), "TTL")
            if ttl is not None:
                ttls[mtype] = (_TTLS[_enum(ttl)], entry.line)
        for entry in self._chat_under(ANTHROPIC, "cacheoptions", "messagetypemincontentlengths"):
            self._message_type(entry, "messagetypemincontentlengths")
            if self.integer(entry) is not None:
                self.note(entry, "minimum content length: the placeholder prompt and messages are assumed to reach it")
        for entry, message in (
            (
                self.get(*PROMPT_CACHE, "mincontentlength"),
                "minimum content length: the placeholders are assumed to reach it",
            ),
            (
                self._chat(ANTHROPIC, "cacheoptions", "multiblocksystemcaching"),
                "multi-block system caching: no effect on a single system prompt",
            ),
            (
                self._chat(ANTHROPIC, "cacheoptions", "cachetoolresults"),
                "tool-result caching: tool results are not part of the synthetic conversation",
            ),
        ):
            if entry is not None:
                if entry.canon[-1] == "mincontentlength":
                    self.integer(entry)
                else:
                    self.boolean(entry)
                self.note(entry, message)

        lines = {"/cache": line, "/cache/strategy": line}
        if strategy == "NONE":
            return {"strategy": "none"}, lines
        places = {
            "SYSTEM_ONLY": ("system",),
            "TOOLS_ONLY": ("tools",),
            "SYSTEM_AND_TOOLS": ("tools", "system"),
            "CONVERSATION_HISTORY": ("tools", "system", "last-user-message"),
        }[strategy]
        breakpoints = []
        lines["/cache/breakpoints"] = line
        for i, at in enumerate(places):
            ttl, ttl_line = ttls["USER" if at == "last-user-message" else "SYSTEM"]
            breakpoints.append({"at": at, "ttl": ttl})
            lines[f"/cache/breakpoints/{i}"] = line
            lines[f"/cache/breakpoints/{i}/at"] = line
            lines[f"/cache/breakpoints/{i}/ttl"] = ttl_line or line
        return {"strategy": "breakpoints", "breakpoints": breakpoints}, lines

    def _message_type(self, entry: _Entry, map_key: str) -> str:
        index = entry.canon.index(map_key)
        rest = entry.canon[index + 1 :]
        if len(rest) != 1 or _enum(rest[0]) not in _MESSAGE_TYPES:
            raise HarnessError(
                f"{entry.written}: unknown message type {'.'.join(rest)!r} (one of {', '.join(_MESSAGE_TYPES)})",
                entry.line,
            )
        return _enum(rest[0])

    def finish(self, doc: dict, lines: dict[str, int], base_line: int, base: tuple[str, ...]) -> Loaded:
        """Add the request settings and the assumed system prompt and tools to a document."""
        settings, settings_lines = self.settings(base_line, base)
        if settings:
            doc["settings"] = settings
            lines.update(settings_lines)
        doc["assume"] = dict(ASSUME)
        lines["/assume"] = base_line
        for key in ASSUME:
            lines[f"/assume/{key}"] = base_line
        return Loaded(doc, lines)

    def settings(self, base_line: int, base: tuple[str, ...] = ANTHROPIC) -> tuple[dict, dict[str, int]]:
        settings: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key, name, convert in (
            (("maxtokens",), "max_tokens", self.integer),
            (("temperature",), "temperature", self.number),
            (("topp",), "top_p", self.number),
            (("topk",), "top_k", self.integer),
        ):
            entry = self._chat(base, *key)
            if entry is not None:
                value = convert(entry)
                if value is not None:
                    settings[name] = value
                    lines[f"/settings/{name}"] = entry.line
        if base != ANTHROPIC:
            lines["/settings"] = min(lines.values(), default=base_line)
            return settings, lines

        thinking_type = self._chat(base, "thinking", "type")
        budget = self._chat(base, "thinking", "budgettokens")
        if thinking_type is not None or budget is not None:
            thinking: dict[str, Any] = {}
            if thinking_type is not None:
                value = self.choice(thinking_type, ("ENABLED", "DISABLED", "ADAPTIVE"), "thinking type")
                if value is not None:
                    thinking["type"] = value.lower()
                    lines["/settings/thinking/type"] = thinking_type.line
            if budget is not None:
                value = self.integer(budget)
                if value is not None:
                    thinking["budget_tokens"] = value
                    lines["/settings/thinking/budget_tokens"] = budget.line
            if thinking:
                settings["thinking"] = thinking
                lines["/settings/thinking"] = min(e.line for e in (thinking_type, budget) if e is not None)

        nested = [e for e in self._chat_under(base, "toolchoice") if e.canon[-1] != "toolchoice"]
        if nested:
            message = f"{nested[0].written}: tool-choice is a JSON string, e.g. '{TOOL_CHOICE}'"
            raise HarnessError(message, nested[0].line)
        choice = self._chat(base, "toolchoice")
        if choice is not None:
            text = self.scalar(choice)
            if text is not None:
                try:
                    value = json.loads(text)
                except ValueError:
                    value = None
                if not isinstance(value, dict) or not isinstance(value.get("type"), str):
                    raise HarnessError(
                        f"{choice.written}: expected a JSON object such as {TOOL_CHOICE}, found {text!r}", choice.line
                    )
                settings["tool_choice"] = value
                lines["/settings/tool_choice"] = choice.line
                for k in value:
                    lines[f"/settings/tool_choice/{_escape(k)}"] = choice.line
        parallel = self._chat(base, "disableparalleltooluse")
        if parallel is not None:
            value = self.boolean(parallel)
            if value:
                tool_choice = settings.setdefault("tool_choice", {"type": "auto"})
                lines.setdefault("/settings/tool_choice", parallel.line)
                lines.setdefault("/settings/tool_choice/type", parallel.line)
                if isinstance(tool_choice.get("type"), str) and tool_choice["type"] != "none":
                    tool_choice["disable_parallel_tool_use"] = True
                    lines["/settings/tool_choice/disable_parallel_tool_use"] = parallel.line
        lines["/settings"] = min(lines.values(), default=base_line)
        return settings, lines

    def openai(self) -> Loaded:
        base = (*OPENAI, "chat")
        base_line = self._base_line(base)
        doc: dict[str, Any] = {
            "prefixlint": "harness/v1",
            "name": f"{self.file}: spring.ai.openai",
            "provider": "openai",
        }
        lines = {ptr: base_line for ptr in ("", "/prefixlint", "/name", "/provider")}
        model_entry = self._chat(OPENAI, "model")
        model = self.scalar(model_entry) if model_entry else None
        if model:
            doc["model"] = model
            lines["/model"] = model_entry.line
        else:
            doc["model"] = "gpt"
            lines["/model"] = model_entry.line if model_entry else base_line
            assumed = NO_MODEL + "a generic GPT model is assumed"
            self.note(model_entry, assumed, lines["/model"], "spring.ai.openai.chat.model")
        doc["cache"] = {"strategy": "automatic"}
        lines["/cache"] = lines["/cache/strategy"] = lines["/model"]
        return self.finish(doc, lines, base_line, OPENAI)
