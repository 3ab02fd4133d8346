"""Turn diff: where a turn stops extending the previous one, and what kind of change it is."""

from __future__ import annotations

import dataclasses

import pytest

from prefixlint.diff import compare, first_difference, section_diff
from prefixlint.model import Origin, Record
from prefixlint.providers import anthropic, openai

TOOLS = [
    {"name": "a", "description": "Tool a.", "input_schema": {"type": "object", "properties": {"x": {"type": "string"}}}},
    {"name": "b", "description": "Tool b.", "input_schema": {"type": "object"}},
]
U0 = {"role": "user", "content": "Fix the parser please."}
A0 = {"role": "assistant", "content": [{"type": "tool_use", "id": "t0", "name": "a", "input": {"x": "1", "y": "2"}}]}
R0 = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t0", "content": "ok"}]}
U1 = {"role": "user", "content": "Thanks."}


def prompt(messages, tools=TOOLS, system="You are a coding agent.", **extra):
    body = {"model": "claude-sonnet-4-5", "max_tokens": 10, "tools": tools, "system": system, "messages": messages, **extra}
    return anthropic.normalize(body, Record(body=body, origin=Origin("x")))


BASE = prompt([U0, A0, R0])

CASES = {
    "append": (prompt([U0, A0, R0, {"role": "assistant", "content": "Done."}, U1]), "append", None, None),
    "identical": (prompt([U0, A0, R0]), "identical", None, None),
    "edit": (prompt([{"role": "user", "content": "Fix the lexer please."}, A0, R0]), "edit", "messages", "/messages/0/content"),
    "delete": (prompt([A0, R0]), "delete", "messages", "/messages/0/content/0"),
    "insert": (prompt([U0, {"role": "assistant", "content": "Hm."}, U1, A0, R0]), "insert", "messages", "/messages/1/content"),
    "reorder": (prompt([U0, A0, R0], tools=[TOOLS[1], TOOLS[0]]), "reorder", "tools", "/tools/0"),
    "reserialize": (
        prompt([U0, {"role": "assistant", "content": [{"type": "tool_use", "id": "t0", "name": "a", "input": {"y": "2", "x": "1"}}]}, R0]),
        "reserialize",
        "messages",
        "/messages/1/content/0",
    ),
    "setting": (prompt([U0, A0, R0, U1], tool_choice={"type": "any"}), "setting", None, None),
    "model": (
        anthropic.normalize(
            {"model": "claude-haiku-4-5", "tools": TOOLS, "system": "You are a coding agent.", "messages": [U0, A0, R0]},
            Record(body={}, origin=Origin("x")),
        ),
        "model",
        None,
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_change_kinds(name):
    new, kind, section, pointer = CASES[name]
    change = compare(BASE, new)
    assert (change.kind, change.section, change.pointer) == (kind, section, pointer)
    assert change.breaks_prefix == (kind not in ("append", "identical"))


def test_shared_prefix_and_excerpt():
    new = prompt([{"role": "user", "content": "Fix the lexer please."}, A0, R0])
    change = compare(BASE, new)
    assert change.shared_blocks == 3  # two tools and the system prompt
    assert change.shared_tokens == sum(b.tokens for b in BASE.blocks[:3])
    assert change.offset == len("Fix the ")
    assert (change.before, change.after) == ("Fix the parser please.", "Fix the lexer please.")


def test_deepdiff_explains_only_the_divergent_block():
    new = prompt([U0, A0, R0], tools=[{**TOOLS[0], "input_schema": {"type": "object", "properties": {"x": {"type": "integer"}}}}, TOOLS[1]])
    change = compare(BASE, new)
    assert (change.kind, change.pointer) == ("edit", "/tools/0")
    assert change.details == ["/input_schema/properties/x/type: 'string' -> 'integer'"]


def test_setting_change_is_listed():
    change = compare(BASE, prompt([U0, A0, R0, U1], thinking={"type": "enabled", "budget_tokens": 2048}))
    assert change.settings == [("thinking", "/thinking", None, {"type": "enabled", "budget_tokens": 2048})]


def test_sliding_window_is_a_deletion_at_the_front():
    sd = section_diff(BASE, prompt([R0, U1]), "messages")
    assert sd.kind == "delete"
    assert sd.opcodes[0][:3] == ("delete", 0, 2)


def test_openai_system_section_and_first_difference():
    def chat(system):
        body = {"model": "gpt-5", "messages": [{"role": "system", "content": system}, {"role": "user", "content": "hi"}]}
        return openai.normalize_chat(body, Record(body=body, origin=Origin("x")))

    change = compare(chat("Today is 2026-11-24."), chat("Today is 2026-11-25."))
    assert (change.kind, change.section, change.pointer, change.offset) == ("edit", "system", "/messages/0", 18)
    assert first_difference("abc", "abd") == 2 and first_difference("abc", "abc") == 3 and first_difference("", "x") == 0


def _laid_out(*sections: str):
    """A prompt whose blocks are in these sections (nothing else about them matters here)."""
    block = BASE.blocks[0]
    blocks = [dataclasses.replace(block, section=s, size=i) for i, s in enumerate(sections)]
    return dataclasses.replace(BASE, blocks=blocks, messages=[], derived={})


@pytest.mark.parametrize(
    "earlier, later, shared, grown",
    [
        (("tools", "system", "messages", "messages"), ("tools", "system", "messages", "messages", "messages"), 3, "messages"),
        (("tools", "system", "messages", "messages"), ("tools", "system", "messages"), 2, "messages"),
        (("tools", "system"), ("tools", "system", "system"), 1, "system"),
        (("tools", "system", "messages"), ("tools", "system"), 2, None),  # the last run is gone
        (("tools", "system", "messages"), ("tools", "system", "messages", "tools"), 2, None),  # another section after it
        (("tools", "system", "messages", "messages"), ("tools", "system", "messages"), 1, None),  # shared ends before it
        (("tools", "messages", "tools"), ("tools", "messages", "tools", "tools"), 2, None),  # no runs to inherit
        ((), ("messages",), 0, None),
    ],
)
def test_inherited_section_runs_are_those_of_the_blocks(earlier, later, shared, grown):
    from prefixlint.diff import _runs, blocks_of, inherit_runs

    old, new = _laid_out(*earlier), _laid_out(*later)
    assert inherit_runs(new, old, shared) == grown
    assert ("runs" in new.derived) == (grown is not None)
    assert new.derived.get("runs", _runs(list(later))) == _runs(list(later))
    for section in ("tools", "system", "messages"):
        assert blocks_of(new, (section,)) == [b for b in new.blocks if b.section == section]


def test_units_of_a_section_that_is_not_one_run():
    from prefixlint.diff import _units

    p = _laid_out("tools", "messages", "tools")
    p.blocks[2] = dataclasses.replace(p.blocks[2], hash=b"other")
    assert _units(p, "tools") == [p.blocks[0].hash, b"other"]
    assert _units(p, "messages") == []


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("canonical", [False, True])
def test_message_units_from_the_previous_turn_are_those_of_the_messages(name, canonical):
    from prefixlint.diff import _units

    prev, new = dataclasses.replace(BASE, derived={}), dataclasses.replace(CASES[name][0], derived={})
    # the previous turn's units, as copies to tell them from the messages' own hashes
    theirs = [bytes(bytearray(m.canon if canonical else m.hash)) for m in prev.messages]
    prev.derived["units", "messages", canonical] = theirs
    got = _units(new, "messages", canonical, earlier=prev)
    assert got == [m.canon if canonical else m.hash for m in new.messages]
    # they serve when the new turn repeats the previous turn's messages (equal, not the same objects)
    repeats = new.messages[: len(prev.messages)] == prev.messages
    assert repeats == (name in ("append", "identical", "reorder", "setting", "model"))
    assert (got[0] is theirs[0]) == repeats
