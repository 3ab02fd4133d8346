"""The data that flows between the stages: records, prompts, blocks, changes, findings.

Everything here is provider-neutral. ``sources`` produces :class:`Record`, ``providers`` turns a
record into a :class:`Prompt`, ``threads`` groups prompts into conversations, ``diff`` describes
how a turn relates to the previous one (:class:`Change`), rules yield :class:`Violation` and the
engine stamps them into :class:`Finding`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}
CATEGORIES = (
    "tools",
    "system",
    "history",
    "model",
    "params",
    "breakpoints",
    "ttl",
    "serialization",
    "config",
)

# Sections of a prompt, in the order providers build their prefix. A prompt uses a subset:
# Anthropic: tools, system, messages. OpenAI: tools, schema, system, messages.
SECTIONS = ("tools", "schema", "system", "messages")


class InputError(Exception):
    """An input path could not be read at all (exit code 2)."""


class BodyError(ValueError):
    """A request body has the wrong shape; carries the JSON pointer of the offending value."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


@dataclass(slots=True, frozen=True)
class Origin:
    """Where a record came from: a file and a line (JSON Lines) or an entry index (JSON array)."""

    file: str
    line: int | None = None
    entry: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.entry is not None:
            return f"{self.file}#{self.entry}"
        return self.file


@dataclass(slots=True)
class Record:
    """One request body plus whatever the log had beside it."""

    body: dict[str, Any]
    origin: Origin
    size: int = 0
    timestamp: str | None = None
    session: str | None = None
    headers: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
    response_id: str | None = None
    url: str | None = None
    skip: str | None = None  # set by a reader that knows the record is no request, with the reason
    output: list | None = None  # the response's output items (OpenAI Responses), when logged
    harness: Any = None  # a request rendered from a harness configuration: its harness.render.Rendering
    # (messages, earlier, k): the reader handed the body's message list ``messages`` over holding the
    # very objects ``earlier[:k]`` (an earlier line's list: see prefixlint.sources.splice), for the
    # normalisers to skip comparing them one by one; dropped once the request is normalised
    repeats: tuple[list, list, int] | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class Block:
    """One unit of the prefix: a tool definition, a system block, a message content block.

    ``hash`` covers exactly what the provider renders (``cache_control`` excluded), ``canon``
    the same with JSON payloads serialised with sorted keys: equal ``canon`` and different
    ``hash`` means the same content was re-serialised.
    """

    section: str
    pointer: str
    kind: str
    hash: bytes
    canon: bytes
    size: int
    value: Any
    msg: int | None = None
    role: str | None = None
    name: str | None = None
    cache_control: Any = None

    @property
    def tokens(self) -> int:
        return max(1, (self.size + 3) // 4)


@dataclass(slots=True)
class Message:
    """A message of the conversation section: its role, pointer and the span of its blocks."""

    index: int
    role: str
    pointer: str
    hash: bytes
    canon: bytes
    first: int
    count: int


@dataclass(slots=True)
class Setting:
    """A request setting that is part of the cache key (tool_choice, thinking, effort, ...)."""

    label: str
    pointer: str | None
    value: Any


@dataclass(slots=True)
class Prompt:
    """A provider-neutral request: the blocks in prefix order and the cache-key settings."""

    provider: str  # "anthropic" | "openai"
    api: str  # "messages" | "chat" | "responses"
    model: str | None
    blocks: list[Block]
    messages: list[Message]
    settings: dict[str, Setting]
    record: Record
    keys: dict[str, str] = field(default_factory=dict)
    top_cache_control: Any = None
    # Values derived from this prompt that several rules ask for (breakpoint markers, block columns,
    # section digests), computed once by whoever needs them first, and gone with the prompt.
    derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def section(self, name: str) -> list[Block]:
        return [b for b in self.blocks if b.section == name]

    @property
    def tokens(self) -> int:
        return sum(b.tokens for b in self.blocks)


@dataclass(slots=True)
class Violation:
    """What a rule yields: the engine turns it into a :class:`Finding`."""

    message: str
    fix: str
    pointer: str | None = None
    severity: str | None = None  # overrides the rule's default (e.g. a date alone is a warning)
    excerpt: dict[str, str] | None = None  # {"before": ..., "after": ...} or {"text": ...}
    key: str | None = None  # extra stable discriminator for the fingerprint
    impact: dict[str, Any] | None = None  # set by cache rules that know their cost better than the engine


@dataclass(slots=True)
class Location:
    file: str
    line: int | None
    entry: int | None
    pointer: str | None
    thread: str | None
    turn: int | None


@dataclass(slots=True)
class Finding:
    code: str
    name: str
    category: str
    severity: str
    message: str
    fix: str
    location: Location
    fingerprint: str
    excerpt: dict[str, str] | None = None
    impact: dict[str, Any] | None = None

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file, loc.line or 0, loc.entry or 0, self.code, loc.pointer or "")


@dataclass(slots=True)
class Diagnostic:
    """A problem with the input itself (not a finding): unreadable line, wrong types."""

    origin: Origin
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"
