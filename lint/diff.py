"""Diff stage: how a turn relates to the previous turn of its thread.

Turns are compared by their chains of block hashes: the first block whose hash differs is where the
new request stops extending the cached prefix. Each section (tools, schema, system, messages) is
then classified on its own (append, edit, delete, insert, reorder, re-serialisation), and only the
divergent blocks are explained in detail, with deepdiff and a short before/after excerpt.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import accumulate, groupby
from operator import attrgetter
from typing import Any

from prefixlint.model import SECTIONS, Block, Prompt
from prefixlint.providers.base import common_prefix, token_counts
from prefixlint.volatile import excerpt

EXCERPT_WIDTH = 40


@dataclass(slots=True)
class SectionDiff:
    """How one section changed. Units are blocks, except for ``messages`` where they are messages."""

    section: str
    kind: str  # same | append | edit | delete | insert | reorder | reserialize | added | removed
    prev: list[Any]
    new: list[Any]
    opcodes: list[tuple[str, int, int, int, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.kind not in ("same", "append") or (self.kind == "append" and self.section != "messages")


@dataclass(slots=True)
class Change:
    """The relation of a turn to its predecessor."""

    kind: str  # identical | append | edit | delete | insert | reorder | reserialize | setting | model
    section: str | None = None
    prev_block: Block | None = None
    new_block: Block | None = None
    shared_blocks: int = 0
    shared_tokens: int = 0
    prev_tokens: int = 0
    new_tokens: int = 0
    settings: list[tuple[str, str | None, Any, Any]] = field(default_factory=list)
    model: tuple[str | None, str | None] | None = None
    offset: int | None = None
    before: str | None = None
    after: str | None = None
    details: list[str] = field(default_factory=list)

    @property
    def breaks_prefix(self) -> bool:
        return self.kind not in ("identical", "append")

    @property
    def pointer(self) -> str | None:
        block = self.new_block or self.prev_block
        return block.pointer if block else None


def display_text(block: Block) -> str:
    """What a person should see of a block: its text, or its JSON as sent."""
    value = block.value
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("text"), str) and value.get("type") in ("text", None) and len(value) <= 3:
            return value["text"]
        if value.get("type") == "tool_result" and isinstance(value.get("content"), str):
            return value["content"]
        if "role" in value and isinstance(value.get("content"), str) and not value.get("tool_calls"):
            return value["content"]
        if value.get("type") == "thinking" and isinstance(value.get("thinking"), str):
            return value["thinking"]
        value = {k: v for k, v in value.items() if k != "cache_control"}
    from prefixlint.providers.base import dumps

    return dumps(value).decode("utf-8", "replace")


def first_difference(a: str, b: str) -> int:
    """Offset of the first differing character (binary search on slices: fast on long texts)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:
        mid = (lo + hi) // 2
        if a[lo : mid + 1] == b[lo : mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _shorten(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def explain(prev: Any, new: Any, limit: int = 5) -> list[str]:
    """A few lines saying what differs inside two JSON values (cache_control ignored)."""
    if not isinstance(prev, (dict, list)) or not isinstance(new, (dict, list)):
        return []
    from deepdiff import DeepDiff  # imported when first needed: it takes a while to import

    try:
        diff = DeepDiff(prev, new, exclude_regex_paths=[r"\['cache_control'\]$"], max_diffs=200, verbose_level=2)
    except Exception:  # deepdiff on exotic input must never take the run down
        return []
    lines: list[str] = []
    for report_type in sorted(diff.tree):
        levels = [(level.path(output_format="list"), level) for level in diff.tree[report_type]]
        for path, level in sorted(levels, key=lambda item: [str(p) for p in item[0]]):
            where = "/" + "/".join(str(p) for p in path) if path else "/"
            if report_type == "values_changed" or report_type == "type_changes":
                lines.append(f"{where}: {_shorten(level.t1)} -> {_shorten(level.t2)}")
            elif report_type.endswith("_added"):
                lines.append(f"{where}: added {_shorten(level.t2)}")
            elif report_type.endswith("_removed"):
                lines.append(f"{where}: removed {_shorten(level.t1)}")
            else:
                lines.append(f"{where}: {report_type.replace('_', ' ')}")
            if len(lines) >= limit:
                return lines
    return lines


_SECTION = attrgetter("section")
_MESSAGE_HASH = attrgetter("hash")  # of a message or a block
_CANON = attrgetter("canon")


def _sections(prompt: Prompt) -> list[str]:
    """The section of every block of a prompt, computed once (kept with the prompt)."""
    found = prompt.derived.get("sections")
    if found is None:
        found = prompt.derived["sections"] = list(map(_SECTION, prompt.blocks))
    return found


def blocks_of(prompt: Prompt, sections: tuple[str, ...]) -> list[Block]:
    """The blocks of some sections, in order: a slice of the prompt's blocks when the section is
    one run of blocks, as providers lay sections out (the runs are found once per prompt)."""
    runs = _section_runs(prompt)
    blocks = prompt.blocks
    if len(sections) == 1 and runs is not False:
        found = runs.get(sections[0])
        return blocks[found[0] : found[1]] if found else []
    column = _sections(prompt)
    return [b for b, s in zip(blocks, column) if s in sections]


def sections_of(prompt: Prompt) -> Collection[str]:
    """The sections a prompt has blocks in."""
    runs = _section_runs(prompt)
    return runs.keys() if runs is not False else set(_sections(prompt))


def _section_runs(prompt: Prompt) -> dict[str, tuple[int, int]] | bool:
    """Section -> (start, end) of its blocks when every section is one run of blocks; False
    otherwise. Found once per prompt."""
    runs = prompt.derived.get("runs")
    if runs is None:
        runs = prompt.derived["runs"] = _runs(_sections(prompt))
    return runs


def _runs(column: list[str]) -> dict[str, tuple[int, int]] | bool:
    runs: dict[str, tuple[int, int]] = {}
    start = 0
    for section, group in groupby(column):
        end = start + len(list(group))
        if section in runs:
            return False
        runs[section] = (start, end)
        start = end
    return runs


def inherit_runs(prompt: Prompt, earlier: Prompt, shared: int) -> str | None:
    """Give ``prompt`` the section runs of ``earlier`` without looking at all its blocks, when
    their first ``shared`` blocks are equal and ``prompt``'s blocks after them extend the last run
    of ``earlier`` (the usual next turn: messages replaced or appended at the end). Returns the
    section of that run, or None when the runs are not found this way."""
    runs = _section_runs(earlier)
    if not runs:
        return None
    last, (start, _end) = next(reversed(runs.items()))
    blocks = prompt.blocks
    if start > shared or start >= len(blocks) or any(b.section != last for b in blocks[shared:]):
        return None
    runs = dict(runs)
    runs[last] = (start, len(blocks))
    prompt.derived["runs"] = runs
    return last


def running_tokens(prompt: Prompt) -> list[int]:
    """Running totals of the blocks' estimated tokens, computed once per prompt (the previous turn's
    were computed when it was the new one)."""
    found = prompt.derived.get("running tokens")
    if found is None:
        found = prompt.derived["running tokens"] = list(accumulate(token_counts(prompt.blocks)))
    return found


def _units(prompt: Prompt, section: str, canonical: bool = False, earlier: Prompt | None = None) -> list[bytes]:
    """The hashes (or canonical hashes) of a section's units, computed once per prompt (kept with
    the prompt: its next turn compares with it again). ``earlier``: a prompt whose message units
    serve for the messages ``prompt`` repeats of it."""
    key = ("units", section, canonical)
    found = prompt.derived.get(key)
    if found is None:
        unit = _CANON if canonical else _MESSAGE_HASH
        if section != "messages":
            found = list(map(unit, blocks_of(prompt, (section,))))
        elif earlier is not None and earlier.messages and prompt.messages[: len(earlier.messages)] == earlier.messages:
            # The usual next turn: the earlier messages (equal messages have equal hashes), then new ones.
            found = _units(earlier, section, canonical) + list(map(unit, prompt.messages[len(earlier.messages) :]))
        else:
            found = list(map(unit, prompt.messages))
        prompt.derived[key] = found
    return found


def section_diff(prev: Prompt, new: Prompt, section: str) -> SectionDiff:
    a, b = _units(prev, section), _units(new, section, earlier=prev)
    if a == b:
        return SectionDiff(section, "same", a, b)
    if not a:
        return SectionDiff(section, "added", a, b)
    if not b:
        return SectionDiff(section, "removed", a, b)
    if b[: len(a)] == a:
        return SectionDiff(section, "append", a, b)
    if _units(prev, section, True) == _units(new, section, True, prev):
        return SectionDiff(section, "reserialize", a, b)
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    changes = [op for op in opcodes if op[0] != "equal"]
    tags = {op[0] for op in changes}
    if section != "messages" and sorted(a) == sorted(b):
        kind = "reorder"
    elif tags == {"insert"}:
        kind = "insert"
    elif tags <= {"delete", "insert"} and all(op[0] == "delete" or op[1] == len(a) for op in changes):
        kind = "delete"
    else:
        kind = "edit"
    return SectionDiff(section, kind, a, b, opcodes)


def compare(prev: Prompt, new: Prompt, equal: int | None = None) -> Change:
    """Where ``new`` stops extending ``prev``, what kind of change it is, with an excerpt.
    ``equal``: how many leading blocks the two share as equal Block objects, when known already
    (the cache model counts them)."""
    pb, nb = prev.blocks, new.blocks
    # The blocks both share from the start: equal Block objects (compared in C), then equal hashes.
    i = common_prefix(pb, nb) if equal is None else equal
    n = min(len(pb), len(nb))
    while i < n and pb[i].hash == nb[i].hash:
        i += 1
    prev_running, new_running = running_tokens(prev), running_tokens(new)
    change = Change(
        kind="identical",
        shared_blocks=i,
        shared_tokens=new_running[i - 1] if i else 0,
        prev_tokens=prev_running[-1] if prev_running else 0,
        new_tokens=new_running[-1] if new_running else 0,
    )
    if prev.model != new.model:
        change.model = (prev.model, new.model)
    for label in sorted(set(prev.settings) | set(new.settings)):
        old, cur = prev.settings.get(label), new.settings.get(label)
        old_v = old.value if old else None
        new_v = cur.value if cur else None
        if old_v != new_v:
            change.settings.append((label, (cur or old).pointer, old_v, new_v))  # type: ignore[union-attr]

    if i == len(pb):
        change.kind = "append" if len(nb) > len(pb) else "identical"
    else:
        prev_block = pb[i]
        new_block = nb[i] if i < len(nb) else None
        section = prev_block.section
        if new_block is not None and new_block.section != section:
            # The previous turn had more blocks in this section (or the new turn has fewer).
            if SECTIONS.index(new_block.section) < SECTIONS.index(section):
                section = new_block.section
        change.section = section
        change.kind = section_diff(prev, new, section).kind
        change.kind = {"added": "insert", "removed": "delete", "append": "insert", "same": "edit"}.get(
            change.kind, change.kind
        )
        change.prev_block = prev_block if prev_block.section == section else None
        change.new_block = new_block if new_block is not None and new_block.section == section else None
        _describe(change)
    if change.kind in ("identical", "append"):
        if change.model:
            change.kind = "model"
        elif change.settings:
            change.kind = "setting"
    return change


def _describe(change: Change) -> None:
    old, new = change.prev_block, change.new_block
    if old is None or new is None:
        if old is not None:
            change.before = excerpt(display_text(old), 0, 0, EXCERPT_WIDTH)
        if new is not None:
            change.after = excerpt(display_text(new), 0, 0, EXCERPT_WIDTH)
        return
    old_text = display_text(old)
    new_text = display_text(new)
    offset = first_difference(old_text, new_text)
    change.offset = offset
    change.before = excerpt(old_text, offset, offset, EXCERPT_WIDTH)
    change.after = excerpt(new_text, offset, offset, EXCERPT_WIDTH)
    if change.kind in ("edit", "reserialize"):
        # Only an edited block is the same item in two versions; after a deletion, insertion or
        # reorder the two blocks at the divergence are different items, not worth a deepdiff.
        change.details = explain(old.value, new.value)


def pointer_of(section: str, prompt: Prompt) -> str:
    """JSON pointer of a section's first block in a prompt (for messages when none diverges)."""
    for block in prompt.blocks:
        if block.section == section:
            return block.pointer
    return {"tools": "/tools", "system": "/system", "messages": "/messages", "schema": "/response_format"}[section]
