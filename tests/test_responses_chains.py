"""OpenAI Responses chains: `previous_response_id` and `conversation` requests carry only their new
input items; they are linted as the prompt the provider really processes (see prefixlint.chains)."""

from __future__ import annotations

from conftest import brief, lint_records, write_log
from prefixlint import engine
from prefixlint.chains import CARRIED

MODEL = "gpt-5"
# Long enough that the first turn alone passes OpenAI's 1,024-token caching minimum.
INSTRUCTIONS = "You are a careful coding assistant. Follow the repository conventions. " * 80
TOOLS = [
    {"type": "function", "name": "read_file", "description": "Read a file.",
     "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}},
    {"type": "function", "name": "run_tests", "description": "Run the test suite.",
     "parameters": {"type": "object", "properties": {}}},
]
QUESTIONS = [
    "Why does tests/test_app.py fail?",
    "Show me the failing assertion.",
    "Fix it, please.",
    "Now run the tests again.",
]


def answer(rid: str, text: str) -> dict:
    return {"id": rid, "output": [
        {"type": "message", "id": f"msg_{rid}", "status": "completed", "role": "assistant",
         "content": [{"type": "output_text", "text": text}]},
    ]}


def chain(prefix: str = "a", turns: int = 4, link: str = "previous", **edits) -> list[dict]:
    """A chain of `turns` requests; `edits` maps a turn number (t3=...) to body overrides."""
    records = []
    for n in range(1, turns + 1):
        body = {"model": MODEL, "instructions": INSTRUCTIONS, "tools": TOOLS,
                "input": [{"role": "user", "content": f"[{prefix}] {QUESTIONS[(n - 1) % len(QUESTIONS)]}"}]}
        if link == "previous" and n > 1:
            body["previous_response_id"] = f"resp_{prefix}{n - 1}"
        elif link == "conversation":
            body["conversation"] = f"conv_{prefix}" if n % 2 else {"id": f"conv_{prefix}"}
        body.update(edits.get(f"t{n}", {}))
        records.append({"request": {"body": body}, "response": answer(f"resp_{prefix}{n}", f"Answer {n} of {prefix}.")})
    return records


def assignments(tmp_path, records) -> list[tuple]:
    log = write_log(tmp_path / "chain.jsonl", records)
    return [(rec.origin.line, a.thread.id, a.turn) for rec, _p, a in engine.iter_turns(str(log), engine.Options())]


def test_append_only_chain_is_one_thread_without_finding_and_reads_the_cache(tmp_path):
    records = chain()
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T1", 2), (3, "T1", 3), (4, "T1", 4)]
    result = lint_records(tmp_path, records)
    assert brief(result) == []
    assert result.summary.threads == 1
    (stats,) = result.threads
    reads = [t.read for t in stats.turns]
    assert reads[0] == 0 and all(r > 0 for r in reads[1:])
    # The cached prefix grows with the chain (in 128-token steps): never shrinks.
    assert reads[1] <= reads[2] <= reads[3]


def test_effective_prompt_carries_earlier_items_and_outputs(tmp_path):
    log = write_log(tmp_path / "chain.jsonl", chain(turns=3))
    prompts = [p for _r, p, _a in engine.iter_turns(str(log), engine.Options())]
    third = prompts[2]
    assert [b.pointer for b in third.blocks] == [
        "/tools/0", "/tools/1", "/instructions",
        f"{CARRIED}/input/0", f"{CARRIED}/output/0",
        f"{CARRIED}/input/0", f"{CARRIED}/output/0",
        "/input/0",
    ]
    assert [m.role for m in third.messages] == ["user", "assistant", "user", "assistant", "user"]
    assert [m.index for m in third.messages] == [0, 1, 2, 3, 4]
    # The head of turn 2 is a prefix of turn 3: an append.
    assert [b.hash for b in prompts[1].blocks] == [b.hash for b in third.blocks[:6]]


def test_chain_changing_instructions_is_reported_at_the_new_request(tmp_path):
    records = chain(t3={"instructions": INSTRUCTIONS + "Today is 2025-06-01."})
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T1", 2), (3, "T1", 3), (4, "T1", 4)]
    result = lint_records(tmp_path, records)
    # Turn 4 sends the old instructions again: a second edit of the prefix.
    assert brief(result) == [
        ("PL201", 3, 3, "/instructions"), ("PL202", 3, 3, "/instructions"), ("PL201", 4, 4, "/instructions"),
    ]


def test_chain_dropping_instructions_is_reported(tmp_path):
    # Instructions are not carried over by the server: a chained request without them removes them.
    records = chain(turns=2, t2={"instructions": None})
    result = lint_records(tmp_path, records)
    assert [(c, line, ptr) for c, line, _t, ptr in brief(result) if c == "PL201"] == [("PL201", 2, "/instructions")]


def test_chain_dropping_a_tool_is_reported(tmp_path):
    records = chain(t3={"tools": TOOLS[:1]})
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T1", 2), (3, "T1", 3), (4, "T1", 4)]
    result = lint_records(tmp_path, records)
    codes = [(c, line, turn, ptr) for c, line, turn, ptr in brief(result) if c == "PL101"]
    # Turn 4 sends the tool again: removed, then added back.
    assert codes == [("PL101", 3, 3, "/tools/1"), ("PL101", 4, 4, "/tools/1")]
    assert not any(f.location.pointer and f.location.pointer.startswith(CARRIED) for f in result.findings)


def test_chain_switching_model_is_reported(tmp_path):
    records = chain(turns=3, t3={"model": "gpt-4.1"})
    result = lint_records(tmp_path, records)
    assert [(c, line, turn) for c, line, turn, _p in brief(result) if c == "PL401"] == [("PL401", 3, 3)]


def test_conversation_id_chain(tmp_path):
    records = chain(link="conversation")
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T1", 2), (3, "T1", 3), (4, "T1", 4)]
    result = lint_records(tmp_path, records)
    assert brief(result) == []
    (stats,) = result.threads
    assert all(t.read > 0 for t in stats.turns[1:])


def test_conversation_ids_partition_like_sessions(tmp_path):
    # Two conversations with the same first request are two threads, each chained on its own.
    a, b = chain("x", 2, link="conversation"), chain("x", 2, link="conversation")
    for r in b:
        r["request"]["body"]["conversation"] = "conv_other"
        r["response"]["id"] = r["response"]["id"].replace("resp_", "resp_o")
    records = [a[0], b[0], a[1], b[1]]
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T2", 1), (3, "T1", 2), (4, "T2", 2)]


def test_two_interleaved_chains(tmp_path):
    a, b = chain("a"), chain("b", t3={"tools": TOOLS[:1]})
    records = [x for pair in zip(a, b) for x in pair]
    assert assignments(tmp_path, records) == [
        (1, "T1", 1), (2, "T2", 1), (3, "T1", 2), (4, "T2", 2),
        (5, "T1", 3), (6, "T2", 3), (7, "T1", 4), (8, "T2", 4),
    ]
    result = lint_records(tmp_path, records)
    assert [(c, line, f.location.thread, ptr) for f, (c, line, _t, ptr) in zip(result.findings, brief(result))
            if c == "PL101"] == [("PL101", 6, "T2", "/tools/1"), ("PL101", 8, "T2", "/tools/1")]
    reads = {t.thread: [p.read > 0 for p in t.turns] for t in result.threads}
    # T2's first turn reads the tools and instructions T1 cached; its turn 3 breaks the prefix at the
    # second tool, leaving nothing long enough shared.
    assert reads == {"T1": [False, True, True, True], "T2": [True, True, False, True]}


def test_chain_whose_parent_is_missing_starts_a_new_thread(tmp_path):
    records = chain()
    del records[1]  # turn 3 names resp_a2, which the log never recorded
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T2", 1), (3, "T2", 2)]
    result = lint_records(tmp_path, records)
    assert brief(result) == []
    assert result.diagnostics == []
    assert result.summary.threads == 2


def test_chain_without_logged_output_still_links(tmp_path):
    records = chain(turns=3)
    for r in records:
        r["response"] = {"id": r["response"]["id"]}
    assert assignments(tmp_path, records) == [(1, "T1", 1), (2, "T1", 2), (3, "T1", 3)]
    log = write_log(tmp_path / "chain.jsonl", records)
    last = [p for _r, p, _a in engine.iter_turns(str(log), engine.Options())][-1]
    assert [m.role for m in last.messages] == ["user", "user", "user"]
    assert brief(lint_records(tmp_path, records)) == []


def test_branch_from_an_earlier_response_starts_a_new_thread(tmp_path):
    # Only the thread's last turn is held: a second child of resp_a1 cannot be rebuilt.
    records = chain(turns=2)
    retry = {"request": {"body": {**records[1]["request"]["body"], "input": "Something else?"}},
             "response": {"id": "resp_z"}}
    assert assignments(tmp_path, [*records, retry]) == [(1, "T1", 1), (2, "T1", 2), (3, "T2", 1)]


def test_developer_item_sent_mid_chain_is_a_new_message_not_a_system_edit(tmp_path):
    records = chain(turns=3, t3={"input": [{"role": "developer", "content": "Reminder: be brief."},
                                           {"role": "user", "content": "Fix it, please."}]})
    log = write_log(tmp_path / "chain.jsonl", records)
    third = [p for _r, p, _a in engine.iter_turns(str(log), engine.Options())][-1]
    assert [b.pointer for b in third.section("system")] == ["/instructions"]
    assert [m.pointer for m in third.messages][-2:] == ["/input/0", "/input/1"]
    assert brief(lint_records(tmp_path, records)) == []
