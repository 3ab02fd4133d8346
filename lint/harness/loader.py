"""Read a configuration file (YAML, JSON or Java .properties) into plain values plus the line of
every value, safely.

Harness configurations are small, hand-written files: they are read whole (at most ``MAX_BYTES``),
composed with PyYAML's pure-Python safe composer (no tags, no code) and turned into values node by
node with a budget, so an alias bomb or a recursive alias is refused with a one-line error instead
of expanding, and deep nesting is refused before Python's recursion limit. JSON is YAML here.

``Loaded.lines`` maps the JSON pointer (RFC 6901) of every value to its 1-based line: a mapping
value's line is the line of its key, so that findings point at ``model: ...`` rather than at the
value's own line when it is a block below the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_BYTES = 4 * 2**20  # larger files are no harness configuration
MAX_NODES = 200_000  # values built, aliases expanded included
MAX_DEPTH = 64


class HarnessError(Exception):
    """A configuration that cannot be read or is invalid: ``message`` names the problem, ``line``
    where it is (1-based) when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(slots=True)
class Loaded:
    """A document and the line of each of its values, by JSON pointer (``""`` is the document)."""

    doc: Any
    lines: dict[str, int] = field(default_factory=dict)
    # Line of the first character of a block scalar's text (``|`` / ``>``), by pointer: the text
    # of a template starts there, so a character offset in it maps to a line.
    text_lines: dict[str, int] = field(default_factory=dict)

    def line(self, pointer: str, default: int = 1) -> int:
        """The line of ``pointer``, or of its closest ancestor that has one."""
        found = nearest(self.lines, pointer)
        return default if found is None else found


def nearest(mapping: dict[str, Any], pointer: str | None) -> Any:
    """The value of ``pointer`` in ``mapping``, or of its closest ancestor there (``""`` is the
    root); None when not even the root is there."""
    probe = pointer or ""
    while True:
        found = mapping.get(probe)
        if found is not None or not probe:
            return found
        probe = probe.rsplit("/", 1)[0]


def escape(token: str) -> str:
    """One JSON-pointer reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def load_yaml(data: bytes) -> Loaded:
    """Parse YAML (or JSON) bytes; raise :class:`HarnessError` with the line of the problem."""
    if len(data) > MAX_BYTES:
        raise HarnessError(f"larger than {MAX_BYTES // 2**20} MiB: not a harness configuration")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise HarnessError(f"invalid UTF-8 (byte 0x{data[exc.start]:02x})", line) from None
    try:
        loader = yaml.SafeLoader(text)  # the reader checks the characters here already
    except yaml.reader.ReaderError as exc:
        raise HarnessError(f"invalid YAML: a character YAML does not allow ({exc.reason})", _line_at(text, exc.position)) from None
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        raise HarnessError(f"invalid YAML: a character YAML does not allow ({exc.reason})", _line_at(text, exc.position)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "malformed"
        raise HarnessError(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise HarnessError(f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    except RecursionError:
        raise HarnessError(f"YAML nested deeper than {MAX_DEPTH} levels: refused") from None
    finally:
        loader.dispose()
    loaded = Loaded(None)
    if node is None:
        return loaded
    builder = _Builder(loader, loaded)
    loaded.doc = builder.value(node, "", node.start_mark.line + 1, 0)
    return loaded


def _line_at(text: str, position: int | None) -> int | None:
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else None


def _characters(text: str, line: int) -> str:
    """``text`` with the surrogate pairs of its escapes as the characters they stand for: YAML reads
    ``"\\ud83d\\ude00"`` (how JSON writes a character beyond U+FFFF) as two surrogates, JSON as one
    character. A lone surrogate is no character: refused."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise HarnessError("a string holds a lone surrogate escape (\\ud800-\\udfff): no character", line) from None
    return text


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, loaded: Loaded) -> None:
        self.loader = loader
        self.loaded = loaded
        self.nodes = 0
        self.open: set[int] = set()  # ids of the collections being built (a recursive alias)

    def value(self, node: yaml.Node, pointer: str, line: int, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise HarnessError(
                f"more than {MAX_NODES} values (aliases expanded): refused (possible alias bomb)", line
            )
        if depth > MAX_DEPTH:
            raise HarnessError(f"YAML nested deeper than {MAX_DEPTH} levels: refused", line)
        self.loaded.lines.setdefault(pointer, line)
        if isinstance(node, yaml.ScalarNode):
            if node.style in ("|", ">"):
                self.loaded.text_lines.setdefault(pointer, node.start_mark.line + 2)
            try:
                value = self.loader.construct_object(node, deep=True)
            except Exception as exc:  # noqa: BLE001 - the safe constructor's errors: a tag it refuses, 2024-13-45
                problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                raise HarnessError(f"invalid YAML: {problem}", node.start_mark.line + 1) from None
            return _characters(value, node.start_mark.line + 1) if isinstance(value, str) else value
        if id(node) in self.open:
            raise HarnessError("recursive YAML alias: refused", node.start_mark.line + 1)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [
                    self.value(item, f"{pointer}/{i}", item.start_mark.line + 1, depth + 1)
                    for i, item in enumerate(node.value)
                ]
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise HarnessError("YAML merge keys (<<) are not supported here", key_node.start_mark.line + 1)
                key = self.value(key_node, pointer + "/~key", key_node.start_mark.line + 1, depth + 1)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    raise HarnessError("a mapping key must be a string", key_node.start_mark.line + 1)
                key = str(key).lower() if isinstance(key, bool) else str(key)
                if key in result:
                    raise HarnessError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
                result[key] = self.value(value_node, f"{pointer}/{escape(key)}", key_node.start_mark.line + 1, depth + 1)
            self.loaded.lines.pop(pointer + "/~key", None)
            return result
        finally:
            self.open.discard(id(node))


def load_properties(data: bytes) -> Loaded:
    """Java ``.properties``: ``key=value`` / ``key: value`` / ``key value`` lines, ``#``/``!``
    comments, ``\\`` line continuations. The document is a flat mapping key -> string; the pointer
    of a key is ``/`` + the escaped key."""
    if len(data) > MAX_BYTES:
        raise HarnessError(f"larger than {MAX_BYTES // 2**20} MiB: not a configuration file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # the format's historical encoding
    doc: dict[str, str] = {}
    loaded = Loaded(doc)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i
        logical = lines[i].lstrip()
        while logical.endswith("\\") and not logical.endswith("\\\\") and i + 1 < len(lines):
            i += 1
            logical = logical[:-1] + lines[i].lstrip()
        i += 1
        if not logical or logical[0] in "#!":
            continue
        key, value = _split_property(logical)
        doc[key] = value
        loaded.lines[f"/{escape(key)}"] = start + 1
    loaded.lines[""] = 1
    return loaded


def _split_property(line: str) -> tuple[str, str]:
    key = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            key.append(line[i + 1])
            i += 2
            continue
        if ch in "=: \t":
            break
        key.append(ch)
        i += 1
    rest = line[i:].lstrip(" \t")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t")
    return "".join(key), rest
