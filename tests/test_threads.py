"""Thread reconstruction on interleaved logs, and the identity rules of block hashing."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import brief, write_log
from prefixlint import engine, threads
from prefixlint.diff import _runs
from prefixlint.model import Origin, Record
from prefixlint.providers import anthropic, openai
from prefixlint.rules import RULES

MAIN_TOOLS = [
    {"name": "read_file", "description": "Read a file.", "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}},
    {"name": "bash", "description": "Run a shell command.", "input_schema": {"type": "object", "properties": {"cmd": {"type": "string"}}}},
    {"name": "task", "description": "Start a subagent.", "input_schema": {"type": "object", "properties": {"prompt": {"type": "string"}}}},
]
SUB_TOOLS = MAIN_TOOLS[:2]
MAIN_SYSTEM = "You are a coding agent working in the user's repository. Be concise."
SUB_SYSTEM = "You are a search subagent. Report file paths only."
TITLE_SYSTEM = "Write a five-word title for this conversation."


def _roll(messages: list[dict]) -> list[dict]:
    """The rolling breakpoint: one cache_control on the last block of the last message."""
    out = []
    for i, m in enumerate(messages):
        content = m["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        content = [dict(b) for b in content]
        if i == len(messages) - 1:
            content[-1]["cache_control"] = {"type": "ephemeral"}
        out.append({"role": m["role"], "content": content})
    return out


def anth(system, tools, messages, model="claude-sonnet-4-5", roll=True):
    body = {"model": model, "max_tokens": 2048, "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]}
    if tools:
        body["tools"] = tools
    body["messages"] = _roll(messages) if roll else messages
    return body


def conversation(first: str, turns: int, tag: str) -> list[list[dict]]:
    """Message lists of successive requests of one append-only agent loop."""
    msgs = [{"role": "user", "content": first}]
    out = [list(msgs)]
    for i in range(turns - 1):
        msgs = msgs + [
            {"role": "assistant", "content": [{"type": "tool_use", "id": f"toolu_{tag}{i}", "name": "bash", "input": {"cmd": f"ls {tag} {i}"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{tag}{i}", "content": f"output {tag} {i}"}]},
        ]
        out.append(list(msgs))
    return out


def assignments(tmp_path, records, **options) -> list[tuple[int, str, int]]:
    log = write_log(tmp_path / "log.jsonl", records)
    return [
        (rec.origin.line, a.thread.id, a.turn)
        for rec, _prompt, a in engine.iter_turns(str(log), engine.Options(**options))
    ]


def interleaved_log() -> list[dict]:
    main = conversation("Fix the failing test in tests/test_parser.py", 5, "m")
    other_user = conversation("Add a --verbose flag to the CLI", 4, "u")
    sub = conversation("Find every caller of parse_header()", 3, "s")
    return [
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[0]),  # 1 T1
        anth(TITLE_SYSTEM, None, main[0], model="claude-haiku-4-5", roll=False),  # 2 title side call: T2
        anth(MAIN_SYSTEM, MAIN_TOOLS, other_user[0]),  # 3 parallel user, same system and tools: T3
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[1]),  # 4 T1
        anth(SUB_SYSTEM, SUB_TOOLS, sub[0], model="claude-haiku-4-5"),  # 5 subagent: T4
        anth(MAIN_SYSTEM, MAIN_TOOLS, other_user[1]),  # 6 T3
        anth(SUB_SYSTEM, SUB_TOOLS, sub[1], model="claude-haiku-4-5"),  # 7 T4
        anth(SUB_SYSTEM, SUB_TOOLS, sub[2], model="claude-haiku-4-5"),  # 8 T4
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[2]),  # 9 T1
        anth(MAIN_SYSTEM, MAIN_TOOLS, other_user[2]),  # 10 T3
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[3]),  # 11 T1
        anth(MAIN_SYSTEM, MAIN_TOOLS, other_user[3]),  # 12 T3
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[4]),  # 13 T1
    ]


EXPECTED_INTERLEAVED = [
    (1, "T1", 1), (2, "T2", 1), (3, "T3", 1), (4, "T1", 2), (5, "T4", 1), (6, "T3", 2), (7, "T4", 2),
    (8, "T4", 3), (9, "T1", 3), (10, "T3", 3), (11, "T1", 4), (12, "T3", 4), (13, "T1", 5),
]


def test_interleaved_conversations_are_separated(tmp_path):
    assert assignments(tmp_path, interleaved_log()) == EXPECTED_INTERLEAVED


def test_interleaved_clean_log_has_no_findings(lint):
    result = lint(interleaved_log())
    assert brief(result) == []
    assert result.summary.threads == 4


def test_session_key_partitions_identical_prefixes(tmp_path):
    """Two users who send the very same first turns are told apart by their session."""
    conv = conversation("Explain this repository", 3, "x")
    records = []
    for i in range(3):
        for user in ("alice", "bob"):
            records.append({"session": user, "request": anth(MAIN_SYSTEM, MAIN_TOOLS, conv[i])})
    got = assignments(tmp_path, records)
    assert [t for _, t, _ in got] == ["T1", "T2", "T1", "T2", "T1", "T2"]
    assert [turn for _, _, turn in got] == [1, 1, 2, 2, 3, 3]


def test_user_given_session_key_pointer(tmp_path):
    conv = conversation("Explain this repository", 2, "x")
    records = []
    for i in range(2):
        for user in ("u-1", "u-2"):
            body = anth(MAIN_SYSTEM, MAIN_TOOLS, conv[i])
            body["metadata"] = {"user_id": user}
            records.append(body)
    got = assignments(tmp_path, records, session_key="/metadata/user_id")
    assert [(t, n) for _, t, n in got] == [("T1", 1), ("T2", 1), ("T1", 2), ("T2", 2)]


def test_identical_request_starts_a_sibling_thread(tmp_path):
    """A retry or a parallel fan-out of the same request is not an edit of the other branch."""
    conv_a = conversation("Survey the codebase", 2, "a")
    conv_b = conversation("Survey the codebase", 2, "b")
    records = [
        anth(SUB_SYSTEM, SUB_TOOLS, conv_a[0]),
        anth(SUB_SYSTEM, SUB_TOOLS, conv_b[0]),
        anth(SUB_SYSTEM, SUB_TOOLS, conv_a[1]),
        anth(SUB_SYSTEM, SUB_TOOLS, conv_b[1]),
    ]
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T2", 1), (3, "T1", 2), (4, "T2", 2)]


BREAKS = {
    "system timestamp": lambda conv: anth(MAIN_SYSTEM + " Now: 2026-11-24T10:42:03Z", MAIN_TOOLS, conv),
    "tool removed": lambda conv: anth(MAIN_SYSTEM, MAIN_TOOLS[:2], conv),
    "model swap": lambda conv: anth(MAIN_SYSTEM, MAIN_TOOLS, conv, model="claude-opus-4-5"),
    "edited first message": lambda conv: anth(
        MAIN_SYSTEM, MAIN_TOOLS, [{"role": "user", "content": "Fix the failing test in tests/test_parser.py please"}] + conv[1:]
    ),
    "context prepended": lambda conv: anth(
        MAIN_SYSTEM, MAIN_TOOLS, [{"role": "user", "content": "Relevant docs: parser.md"}, {"role": "assistant", "content": "Noted."}] + conv
    ),
    "sliding window": lambda conv: anth(MAIN_SYSTEM, MAIN_TOOLS, conv[2:]),
}


@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_a_breaking_turn_stays_in_its_conversation(tmp_path, kind):
    """The break is attributed to its own conversation even beside a look-alike one."""
    main = conversation("Fix the failing test in tests/test_parser.py", 4, "m")
    other = conversation("Add a --verbose flag to the CLI", 4, "u")
    records = [
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[0]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, other[0]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[1]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, other[1]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[2]),
        BREAKS[kind](main[3]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, other[2]),
    ]
    got = assignments(tmp_path, records)
    assert got[5] == (6, "T1", 4)
    assert got[6] == (7, "T2", 3)


def test_compaction_request_is_a_fork(tmp_path):
    main = conversation("Fix the failing test in tests/test_parser.py", 4, "m")
    summary_request = anth(
        "You summarise conversations.", None, main[2] + [{"role": "user", "content": "Summarize the conversation so far."}]
    )
    records = [
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[0]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[1]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[2]),
        summary_request,
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[3]),
    ]
    log = write_log(tmp_path / "log.jsonl", records)
    turns = list(engine.iter_turns(str(log), engine.Options()))
    forks = [(rec.origin.line, a.thread.id, a.fork) for rec, _p, a in turns]
    assert forks == [(1, "T1", False), (2, "T1", False), (3, "T1", False), (4, "T1", True), (5, "T1", False)]
    # The turn after the fork is still compared with the last real turn (line 3), not the fork.
    assert turns[4][2].prev is turns[2][1]


def test_previous_response_id_links_turns(tmp_path):
    records = [
        {"request": {"model": "gpt-5", "instructions": "Be brief.", "input": "What is 2+2?"}, "response": {"id": "resp_a1"}},
        {"request": {"model": "gpt-5", "instructions": "Be brief.", "input": "Hello"}, "response": {"id": "resp_b1"}},
        {"request": {"model": "gpt-5", "previous_response_id": "resp_a1", "input": "And times 3?"}, "response": {"id": "resp_a2"}},
        {"request": {"model": "gpt-5", "previous_response_id": "resp_b1", "input": "Bye"}},
    ]
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T2", 1), (3, "T1", 2), (4, "T2", 2)]


# -- identity rules ------------------------------------------------------------------------

def _record(body):
    return Record(body=body, origin=Origin("x.jsonl", line=1))


def test_string_content_equals_single_text_block():
    a = anthropic.normalize({"model": "m", "messages": [{"role": "user", "content": "hello"}]}, _record({}))
    b = anthropic.normalize(
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]}, _record({})
    )
    assert a.blocks[0].hash == b.blocks[0].hash
    assert a.messages[0].hash == b.messages[0].hash
    c = openai.normalize_chat({"model": "m", "messages": [{"role": "user", "content": "hello"}]}, _record({}))
    d = openai.normalize_chat(
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]}, _record({})
    )
    assert c.blocks[0].hash == d.blocks[0].hash


def test_cache_control_is_not_content():
    plain = {"type": "text", "text": "hello"}
    marked = {"type": "text", "text": "hello", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    a = anthropic.normalize({"model": "m", "system": [plain], "messages": [{"role": "user", "content": [plain]}]}, _record({}))
    b = anthropic.normalize({"model": "m", "system": [marked], "messages": [{"role": "user", "content": [marked]}]}, _record({}))
    assert [x.hash for x in a.blocks] == [x.hash for x in b.blocks]
    assert b.blocks[0].cache_control == {"type": "ephemeral", "ttl": "1h"}


def test_key_order_changes_hash_but_not_canonical_hash():
    a = anthropic.normalize(
        {"model": "m", "messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1, "b": 2}}]}]},
        _record({}),
    )
    b = anthropic.normalize(
        {"model": "m", "messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"b": 2, "a": 1}}]}]},
        _record({}),
    )
    assert a.blocks[0].hash != b.blocks[0].hash
    assert a.blocks[0].canon == b.blocks[0].canon


def test_rolling_breakpoint_and_string_to_block_switch_give_no_finding(lint):
    """Real Claude Code logs resend old string messages as text blocks; the breakpoint moves."""
    turn1 = anth(MAIN_SYSTEM, MAIN_TOOLS, [{"role": "user", "content": "Fix the bug"}], roll=False)
    turn2 = anth(
        MAIN_SYSTEM,
        MAIN_TOOLS,
        [
            {"role": "user", "content": [{"type": "text", "text": "Fix the bug"}]},
            {"role": "assistant", "content": "Looking."},
            {"role": "user", "content": [{"type": "text", "text": "Thanks", "cache_control": {"type": "ephemeral"}}]},
        ],
        roll=False,
    )
    turn3 = anth(
        MAIN_SYSTEM,
        MAIN_TOOLS,
        [
            {"role": "user", "content": "Fix the bug"},
            {"role": "assistant", "content": [{"type": "text", "text": "Looking."}]},
            {"role": "user", "content": "Thanks"},
            {"role": "assistant", "content": "Done."},
            {"role": "user", "content": [{"type": "text", "text": "Great", "cache_control": {"type": "ephemeral"}}]},
        ],
        roll=False,
    )
    result = lint([turn1, turn2, turn3])
    assert brief(result) == []
    assert result.summary.threads == 1


def test_edited_turn_is_not_captured_by_a_side_call_on_the_first_message(tmp_path):
    """A title call repeating message 0 must not win over the real conversation after an edit."""
    main = conversation("Fix the failing test in tests/test_parser.py", 4, "m")
    edited = [dict(m) for m in main[3]]
    edited[2] = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_m0", "content": "[elided]"}]}
    records = [
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[0]),
        anth(TITLE_SYSTEM, None, main[0], model="claude-haiku-4-5", roll=False),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[1]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[2]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, edited),
    ]
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T2", 1), (3, "T1", 2), (4, "T1", 3), (5, "T1", 4)]


def test_light_edit_of_a_lone_first_message_stays_in_its_thread(tmp_path):
    """Turn 1 had one message; turn 2 re-sends it with a refreshed timestamp plus a reply."""
    first = "Context: generated at 2026-11-24T10:42:03Z. Fix the failing test in tests/test_parser.py"
    edited = first.replace("10:42:03", "10:43:19")
    records = [
        anth(MAIN_SYSTEM, MAIN_TOOLS, [{"role": "user", "content": first}]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, [{"role": "user", "content": "Unrelated question about billing"}]),
        anth(
            MAIN_SYSTEM,
            MAIN_TOOLS,
            [{"role": "user", "content": edited}, {"role": "assistant", "content": "Looking."}, {"role": "user", "content": "Go on."}],
        ),
    ]
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T2", 1), (3, "T1", 2)]


def test_requests_from_one_template_are_different_conversations(tmp_path):
    records = [
        anth(MAIN_SYSTEM, MAIN_TOOLS, [{"role": "user", "content": "Fix the failing test in tests/test_a.py"}]),
        anth(
            MAIN_SYSTEM,
            MAIN_TOOLS,
            [
                {"role": "user", "content": "Fix the failing test in tests/test_b.py"},
                {"role": "assistant", "content": "Looking."},
                {"role": "user", "content": "Go on."},
            ],
        ),
    ]
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T2", 1)]


def test_conversations_repeating_canned_messages_are_kept_apart(tmp_path):
    """600 conversations under one system prompt, each opening with its own task and then sharing
    a canned reply and a canned "Continue.": none continues another (no history-rewritten finding),
    also once the canned messages are in more live threads than the search counts as evidence."""
    words = ["alpha", "beta", "gamma", "delta", "river", "stone", "cloud", "paper", "glass", "metal"]
    records = []
    for i in range(600):
        task = " ".join(words[(i * 7 + k * (i % 9 + 1)) % len(words)] for k in range(24)) + f" (ticket {chr(65 + i % 26)}{i})"
        records.append({"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "You are the team's assistant. " * 8,
                        "messages": [{"role": "user", "content": task}, {"role": "assistant", "content": "Working on it."},
                                     {"role": "user", "content": "Continue."}]})
    result = engine.run([str(write_log(tmp_path / "log.jsonl", records))], RULES, engine.Options())
    assert result.findings == [] and result.summary.threads == 600


def test_a_lightly_edited_first_message_still_continues_its_thread(tmp_path):
    system = "You are the team's assistant. " * 8
    first = {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": system,
             "messages": [{"role": "user", "content": "Fix the parser. Sent at 2026-01-05T09:00:00Z."}]}
    second = {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": system,
              "messages": [{"role": "user", "content": "Fix the parser. Sent at 2026-01-05T09:00:42Z."},
                           {"role": "assistant", "content": "Working on it."}, {"role": "user", "content": "Continue."}]}
    result = engine.run([str(write_log(tmp_path / "log.jsonl", [first, second]))], RULES, engine.Options())
    assert result.summary.threads == 1
    assert [(f.code, f.location.turn) for f in result.findings] == [("PL301", 2)]


def _incremental_log() -> list[dict]:
    """Turns that extend their thread's head (the usual case), and turns that only look like they
    might: edited history, a sliding window, tools edited at the same count, a fork, a retry."""
    main = conversation("Fix the failing test in tests/test_parser.py", 6, "m")
    edited_tools = [dict(MAIN_TOOLS[0], description="Read a file, carefully."), *MAIN_TOOLS[1:]]
    edited_first = [{"role": "user", "content": "Fix the failing test in tests/test_lexer.py"}, *main[3][1:]]
    return [
        *interleaved_log(),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[0]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[1]),
        anth(MAIN_SYSTEM, MAIN_TOOLS, main[1]),  # a retry
        anth(MAIN_SYSTEM, edited_tools, main[2]),  # tools edited, as many blocks as before
        anth("A new system prompt.", edited_tools, main[3]),  # system edited
        anth(MAIN_SYSTEM, edited_tools, edited_first),  # history edited
        anth(MAIN_SYSTEM, edited_tools, main[4][3:]),  # a sliding window
        anth("You summarise conversations.", None, main[4] + [{"role": "user", "content": "Summarize the conversation."}]),
        anth(MAIN_SYSTEM, edited_tools, main[5], roll=False),
        anth(MAIN_SYSTEM, edited_tools, main[5] + [{"role": "assistant", "content": "Done."}]),
    ]


def test_a_turn_is_measured_from_the_head_it_extends(tmp_path, monkeypatch):
    """What the tracker derives from a thread's head (a request's tools and system keys, message
    hashes, size, section runs) is what the request's own blocks and messages give, and the
    threads are the same as when every request is measured as a whole."""
    records = _incremental_log()
    monkeypatch.setattr(threads.ThreadTracker, "_measure", lambda self, p: threads._measures(p))
    as_a_whole = assignments(tmp_path, records)
    monkeypatch.undo()

    inherited = []
    assign = threads.ThreadTracker.assign

    def checked(self, p):
        whole = threads._measures(dataclasses.replace(p, derived={}))
        assert self._measure(p) == whole
        assert p.derived["runs"] == _runs([b.section for b in p.blocks])
        inherited.append("sections" not in p.derived)  # the runs came from the head's
        return assign(self, p)

    monkeypatch.setattr(threads.ThreadTracker, "assign", checked)
    assert assignments(tmp_path, records) == as_a_whole
    assert inherited[7:13] == [True] * 6  # the interleaved threads' later turns: repeated objects


def test_shape_index_follows_each_thread():
    """ThreadTracker.by_shape holds each live thread once, under its partition and current shape,
    with its current number of messages (the edited-first search skips a shape without a thread
    that has fewer messages than the request)."""
    tracker = threads.ThreadTracker(max_threads=2)

    def assign(body, line, session=None):
        record = Record(body, Origin("log", line), session=session)
        prompt = anthropic.normalize(body, record)
        if session:
            prompt.keys["session"] = session
        return tracker.assign(prompt).thread

    def index():
        return {key: (sorted(b.numbers), dict(b.lengths)) for key, b in tracker.by_shape.items()}

    conv = conversation("Fix the failing test in tests/test_parser.py", 3, "m")
    t1 = assign(anth(MAIN_SYSTEM, MAIN_TOOLS, conv[0]), 1)
    assert index() == {(None, t1.shape): ([1], {1: 1})}
    main_shape = t1.shape
    assert assign(anth(MAIN_SYSTEM, SUB_TOOLS, conv[1]), 2) is t1  # a tool removed: another shape
    assert index() == {(None, t1.shape): ([1], {3: 1})} and t1.shape != main_shape
    t2 = assign(anth(MAIN_SYSTEM, MAIN_TOOLS, conversation("Explain the repository", 1, "e")[0]), 3, "s")
    assert index() == {(None, t1.shape): ([1], {3: 1}), ("s", main_shape): ([2], {1: 1})}
    assign(anth(SUB_SYSTEM, SUB_TOOLS, conversation("Find callers", 1, "f")[0]), 4)  # a third: t1 forgotten
    assert 1 not in {n for b in tracker.by_shape.values() for n in b.numbers}
    assert sum(len(b.numbers) for b in tracker.by_shape.values()) == len(tracker.live) == 2
    assert t2.number in tracker.live
