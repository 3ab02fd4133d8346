"""prefixlint's own harness format: validate a document against ``schemas/harness-v1.json`` and
build the :class:`Harness` the renderer works from (templates compiled, tool files read).

Every part keeps the config pointer it came from, so that the renderer can map each pointer of a
rendered request body back to a line of the configuration (:class:`Place`).
"""

from __future__ import annotations

import functools
import glob
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from prefixlint.harness.loader import HarnessError, Loaded, escape, load_yaml, nearest
from prefixlint.harness.template import Template, compile_template, lifetime_by_name

MARKER = "harness/v1"
DEFAULT_SYSTEM_TOKENS = 1500
DEFAULT_TOOL_TOKENS = 300


@functools.cache
def schema() -> dict:
    return json.loads(resources.files("prefixlint").joinpath("schemas/harness-v1.json").read_text("utf-8"))


@dataclass(slots=True, frozen=True)
class Place:
    """Where something of the configuration is written: a file and a line."""

    file: str
    line: int


@dataclass(slots=True)
class Variable:
    name: str
    lifetime: str | None  # None: unknown (undeclared and nothing in its name)
    example: Any
    declared: bool
    by_name: bool  # undeclared, lifetime taken from the name
    place: Place  # its declaration, or its first use in the template


@dataclass(slots=True)
class System:
    template: Template
    place: Place  # the 'system' key
    text_file: str  # where the template text is (the config, or the referenced file)
    text_line: int | None  # line of the text's first character, when known (block scalar, file)

    def place_of(self, offset: int) -> Place:
        """The line of a character offset in the template text."""
        return self.place_of_line(self.template.text.count("\n", 0, offset))

    def place_of_line(self, index: int) -> Place:
        """The line of the template's line ``index`` (0-based)."""
        if self.text_line is None:
            return Place(self.text_file, self.place.line)
        return Place(self.text_file, self.text_line + index)


@dataclass(slots=True)
class Tool:
    definition: dict[str, Any]
    place: Place
    unordered: bool = False  # from a glob read in file-system order


@dataclass(slots=True)
class Breakpoint:
    at: str
    role: str | None
    index: int | None
    ttl: str | None
    place: Place
    ttl_place: Place  # the line that sets its TTL (the breakpoint's own, or the default 'cache.ttl')


@dataclass(slots=True)
class Harness:
    file: str
    name: str | None
    provider: str
    model: str
    places: dict[str, Place]  # config pointer -> place, for the keys the renderer maps to
    system: System | None = None
    variables: dict[str, Variable] = field(default_factory=dict)
    tools: list[Tool] = field(default_factory=list)
    tool_order: str = "declared"
    strategy: str = "none"
    ttl: str | None = None
    breakpoints: list[Breakpoint] = field(default_factory=list)
    prompt_cache_key: Template | None = None
    retention: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    window: int | None = None
    system_tokens: int = DEFAULT_SYSTEM_TOKENS
    placeholder_tools: int = 0
    tool_tokens: int = DEFAULT_TOOL_TOKENS

    def place(self, pointer: str) -> Place:
        """Where ``pointer`` (or its closest ancestor) is written; the file's first line otherwise."""
        return nearest(self.places, pointer) or Place(self.file, 1)


def is_own(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("prefixlint") == MARKER


def build(loaded: Loaded, file: str) -> Harness:
    """Validate ``loaded.doc`` and build the harness; :class:`HarnessError` names the key and line."""
    from prefixlint.config import schema_problem

    doc = loaded.doc
    problem = schema_problem(doc, schema())
    if problem is not None:
        message, path = problem
        pointer = "".join(f"/{escape(str(p))}" for p in path)
        raise HarnessError(message, loaded.line(pointer))
    base = os.path.dirname(file)

    def at(pointer: str) -> Place:
        return Place(file, loaded.line(pointer))

    places = {pointer: Place(file, line) for pointer, line in loaded.lines.items()}
    model = doc["model"]
    provider = doc.get("provider") or ("anthropic" if model.lower().startswith("claude") else "openai")
    harness = Harness(file=file, name=doc.get("name"), provider=provider, model=model, places=places)
    declared = doc.get("variables") or {}
    if "system" in doc:
        harness.system = _system(doc["system"], loaded, file, base)
    for name, spec in declared.items():
        harness.variables[name] = Variable(
            name, spec["lifetime"], spec.get("example"), True, False, at(f"/variables/{escape(name)}")
        )
    cache = doc.get("cache") or {}
    if "prompt_cache_key" in cache:
        harness.prompt_cache_key = _compile(cache["prompt_cache_key"], None, loaded.line("/cache/prompt_cache_key"))
    used: list[tuple[str, Place]] = []
    if harness.system is not None:
        for name in harness.system.template.names:
            used.append((name, harness.system.place_of(harness.system.template.offsets[name])))
    if harness.prompt_cache_key is not None:
        used += [(n, at("/cache/prompt_cache_key")) for n in harness.prompt_cache_key.names]
    for name, place in used:
        if name not in harness.variables:
            lifetime = lifetime_by_name(name)
            harness.variables[name] = Variable(name, lifetime, None, False, lifetime is not None, place)
    for i, entry in enumerate(doc.get("tools") or []):
        harness.tools.extend(_tools(entry, at(f"/tools/{i}"), base))
    harness.tool_order = doc.get("tool_order", "declared")
    harness.strategy = cache.get("strategy") or ("breakpoints" if cache.get("breakpoints") else "none")
    harness.ttl = cache.get("ttl")
    for i, spec in enumerate(cache.get("breakpoints") or []):
        if spec["at"] == "messages" and "role" not in spec and "index" not in spec:
            raise HarnessError(f"cache.breakpoints[{i}]: 'at: messages' needs a 'role' or an 'index'", loaded.line(f"/cache/breakpoints/{i}"))
        ttl_pointer = f"/cache/breakpoints/{i}/ttl" if "ttl" in spec else "/cache/ttl" if "ttl" in cache else f"/cache/breakpoints/{i}"
        harness.breakpoints.append(
            Breakpoint(spec["at"], spec.get("role"), spec.get("index"), spec.get("ttl"), at(f"/cache/breakpoints/{i}"), at(ttl_pointer))
        )
    if harness.strategy == "breakpoints" and not harness.breakpoints:
        raise HarnessError("cache.strategy is 'breakpoints' but no breakpoints are listed", loaded.line("/cache/strategy"))
    harness.retention = cache.get("retention")
    harness.settings = dict(doc.get("settings") or {})
    harness.window = (doc.get("history") or {}).get("window")
    assume = doc.get("assume") or {}
    harness.system_tokens = assume.get("system_tokens", DEFAULT_SYSTEM_TOKENS)
    harness.placeholder_tools = assume.get("tools", 0)
    harness.tool_tokens = assume.get("tool_tokens", DEFAULT_TOOL_TOKENS)
    return harness


def _compile(text: str, syntax: str | None, line: int, offset_line: int | None = None) -> Template:
    try:
        return compile_template(text, syntax)
    except HarnessError as exc:
        within = (offset_line + exc.line - 1) if (exc.line and offset_line) else line
        raise HarnessError(exc.message, within) from None


def _system(spec: Any, loaded: Loaded, file: str, base: str) -> System:
    line = loaded.line("/system")
    if isinstance(spec, str):
        text_line = loaded.text_lines.get("/system")
        return System(_compile(spec, None, line, text_line), Place(file, line), file, text_line)
    if "text" in spec:
        text_line = loaded.text_lines.get("/system/text")
        return System(compile_template(spec["text"], "plain"), Place(file, line), file, text_line)
    if "template" in spec:
        text_line = loaded.text_lines.get("/system/template")
        return System(_compile(spec["template"], spec.get("syntax"), line, text_line), Place(file, line), file, text_line)
    path = os.path.join(base, spec["file"])
    try:
        with open(path, "rb") as handle:
            text = handle.read(4 * 2**20).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HarnessError(f"system.file: cannot read {spec['file']}: {getattr(exc, 'strerror', None) or exc}", loaded.line("/system/file")) from None
    try:
        template = compile_template(text, spec.get("syntax"))
    except HarnessError as exc:
        where = f"{spec['file']}:{exc.line}" if exc.line else spec["file"]
        raise HarnessError(f"system.file: {where}: {exc.message}", loaded.line("/system/file")) from None
    return System(template, Place(file, line), path, 1)


def _tools(entry: dict[str, Any], place: Place, base: str) -> list[Tool]:
    if "file" in entry:
        return [Tool(t, place) for t in _tool_file(os.path.join(base, entry["file"]), entry["file"], place)]
    if "glob" in entry:
        found = sorted(glob.glob(os.path.join(base, entry["glob"])))
        if not found:
            raise HarnessError(f"tools: the glob {entry['glob']!r} matches no file", place.line)
        unordered = entry.get("order", "unordered") == "unordered"
        return [Tool(t, place, unordered) for path in found for t in _tool_file(path, os.path.relpath(path, base), place)]
    return [Tool(entry, place)]


def _tool_file(path: str, shown: str, place: Place) -> list[dict[str, Any]]:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        loaded = load_yaml(data)
    except OSError as exc:
        raise HarnessError(f"tools: cannot read {shown}: {exc.strerror or exc}", place.line) from None
    except HarnessError as exc:
        raise HarnessError(f"tools: {shown}: {exc.message}", place.line) from None
    tools = loaded.doc if isinstance(loaded.doc, list) else [loaded.doc]
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise HarnessError(f"tools: {shown}: a tool definition needs a 'name'", place.line)
    return tools
