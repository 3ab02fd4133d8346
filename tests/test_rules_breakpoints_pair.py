"""The breakpoint rules that compare turns (PL604 breakpoint-beyond-lookback, PL605
breakpoint-on-changing-block, PL606 breakpoints-never-move) beyond their fixture cases: the numbers
in the messages, the impact, reporting once per conversation, automatic caching, and the cases
that must stay silent."""

from __future__ import annotations

import pytest

from conftest import brief

CC = {"type": "ephemeral"}
MODEL = "claude-sonnet-4-5"  # caches from 1,024 tokens
_SENTENCES = (
    "You are a careful coding agent working in one repository for one developer.",
    "Read every file you change and every file that calls into it before you edit anything.",
    "Prefer small reviewable edits, follow the surrounding conventions and never reformat unrelated code.",
    "Run the tests closest to your change first and the whole suite once at the end.",
    "Never print secrets, never rewrite history and never publish anything.",
    "Finish with a short plain summary of what you changed, why, and what you would do next.",
)
POLICY = " ".join(_SENTENCES * 9)  # about 1,200 tokens: enough for a breakpoint on its own
_PATH = {"type": "object", "properties": {"path": {"type": "string"}}}
TOOLS = [
    {"name": "read_file", "description": "Read a file.", "input_schema": _PATH},
    {"name": "run_tests", "description": "Run the tests.", "input_schema": {"type": "object", "properties": {}}},
]


def marked(text: str) -> dict:
    return {"type": "text", "text": text, "cache_control": CC}


def user(*blocks: dict) -> dict:
    return {"role": "user", "content": list(blocks)}


def request(messages: list, system=None, **extra) -> dict:
    body = {"model": MODEL, "max_tokens": 1024, "tools": TOOLS, "messages": messages, **extra}
    body["system"] = system if system is not None else [{"type": "text", "text": POLICY}]
    return body


def findings(result, code: str):
    return [f for f in result.findings if f.code == code]


def codes(result, code: str) -> list[tuple]:
    return [(c, line, turn, pointer) for c, line, turn, pointer in brief(result) if c == code]


# -- PL604 breakpoint-beyond-lookback ---------------------------------------------------------

QUESTION = "Rename the helper parse_row to parse_record everywhere."


def calls(n: int) -> dict:
    content = [
        {"type": "tool_use", "id": f"toolu_{i:02d}", "name": "read_file", "input": {"path": f"src/m{i}.py"}}
        for i in range(n)
    ]
    return {"role": "assistant", "content": content}


def results(n: int, mark_last: bool = True) -> dict:
    content = [{"type": "tool_result", "tool_use_id": f"toolu_{i:02d}", "content": f"module {i}"} for i in range(n)]
    if mark_last:
        content[-1]["cache_control"] = CC
    return {"role": "user", "content": content}


def fan_out(n: int, **first_marks) -> list[dict]:
    """Turn 1 marks its question (block 3); turn 2 appends n tool calls and n results."""
    first = request([user(marked(QUESTION))], **first_marks)
    second = request([user({"type": "text", "text": QUESTION}), calls(n), results(n)], **first_marks)
    return [first, second]


def test_pl604_message_names_the_positions_and_the_window(lint):
    result = lint(fan_out(12))
    assert codes(result, "PL604") == [("PL604", 2, 2, "/messages/2/content/11")]
    (finding,) = findings(result, "PL604")
    # blocks: 2 tools, 1 system, the question (3), 12 calls (4-15), 12 results (16-27)
    assert "breakpoint at block 27 (/messages/2/content/11) checks blocks 27..8" in finding.message
    assert "the previous request wrote at block 3 (/messages/0/content/0) is 24 blocks back" in finding.message
    assert "20-block lookback" in finding.message
    assert "this request added 24 blocks" in finding.message
    assert "/messages/0/content/0" in finding.fix and "4 breakpoints" in finding.fix
    assert finding.impact["tokens"] > 1024
    assert f"The {finding.impact['tokens']:,} tokens up to block 3" in finding.message
    assert finding.impact["cost_usd"] > 0


def test_pl604_nineteen_new_blocks_still_reach_the_previous_entry(lint):
    # 9 calls + 9 results: the last breakpoint is at block 21, the window 21..2 holds block 3
    assert codes(lint(fan_out(9)), "PL604") == []
    # 10 + 10: block 23, window 23..4, block 3 is outside
    assert codes(lint(fan_out(10)), "PL604") == [("PL604", 2, 2, "/messages/2/content/9")]


def test_pl604_counts_only_what_an_earlier_breakpoint_did_not_read(lint):
    system = [marked(POLICY)]
    first = request([user(marked(QUESTION))], system=system)
    second = request([user({"type": "text", "text": QUESTION}), calls(12), results(12)], system=system)
    result = lint([first, second])
    (finding,) = findings(result, "PL604")
    # the system breakpoint (block 2) is read; only the question (block 3) is lost
    assert f"The {finding.impact['tokens']:,} tokens of block 3 (estimated)" in finding.message
    assert "only the" in finding.message and "up to block 2 are read" in finding.message
    assert 0 < finding.impact["tokens"] < 100


def test_pl604_silent_when_the_previous_end_is_marked_too(lint):
    first = request([user(marked(QUESTION))])
    second = request([user(marked(QUESTION)), calls(12), results(12)])
    assert codes(lint([first, second]), "PL604") == []


def test_pl604_reports_every_turn_that_misses(lint):
    first, second = fan_out(12)
    second_plain = request([user({"type": "text", "text": QUESTION}), calls(12), results(12, mark_last=False)])
    more_calls = [{"type": "tool_use", "id": f"toolu_b{i}", "name": "run_tests", "input": {}} for i in range(12)]
    more_results = [{"type": "tool_result", "tool_use_id": f"toolu_b{i}", "content": "ok"} for i in range(12)]
    more_results[-1]["cache_control"] = CC
    appended = [{"role": "assistant", "content": more_calls}, {"role": "user", "content": more_results}]
    third = request(second_plain["messages"] + appended)
    result = lint([first, second, third])
    assert [(line, pointer) for _, line, _, pointer in codes(result, "PL604")] == [
        (2, "/messages/2/content/11"),
        (3, "/messages/4/content/11"),
    ]


def test_pl604_automatic_caching(lint):
    first, second = fan_out(12, cache_control=CC)
    second["messages"][2]["content"][-1].pop("cache_control")
    result = lint([first, second])
    (finding,) = findings(result, "PL604")
    assert finding.message.startswith("the automatic-caching breakpoint at block 27")
    assert "explicit `cache_control` breakpoint on /messages/0/content/0" in finding.fix


def test_pl604_not_for_an_expired_entry(lint):
    first, second = fan_out(12)
    records = [
        {"request": {"timestamp": "2026-03-02T10:00:00Z", "body": first}},
        {"request": {"timestamp": "2026-03-02T10:30:00Z", "body": second}},
    ]
    result = lint(records)
    assert result.summary.requests == 2
    assert codes(result, "PL604") == []  # the entry is gone anyway: gap-exceeds-ttl's case


# -- PL605 breakpoint-on-changing-block --------------------------------------------------------


def clock_system(clock: str) -> list[dict]:
    return [{"type": "text", "text": POLICY}, marked(f"Current time: {clock}")]


def growing(turns: int) -> list[list[dict]]:
    """The messages of each of ``turns`` turns of a growing conversation (no breakpoints)."""
    out, messages = [], []
    for i in range(turns):
        if messages:
            messages = messages + [{"role": "assistant", "content": f"Step {i} is done."}]
        messages = messages + [{"role": "user", "content": f"Continue with part {i} of the rename."}]
        out.append(messages)
    return out


def test_pl605_a_clock_is_reported_once_per_conversation(lint):
    clocks = ["09:15:02", "09:15:40", "09:16:11", "09:17:30"]
    bodies = [request(m, system=clock_system(c)) for m, c in zip(growing(4), clocks)]
    result = lint(bodies)
    assert codes(result, "PL605") == [("PL605", 2, 2, "/system/1")]
    (finding,) = findings(result, "PL605")
    assert "time of day, now `09:15:40`" in finding.message
    assert "no later request can read" in finding.message
    assert "/system/0, block 2" in finding.fix and "<system-reminder>" in finding.fix
    # the tools and the policy before the clock: processed and written again, at the write price
    assert finding.impact["tokens"] > 1024
    assert f"the {finding.impact['tokens']:,} tokens of identical content before it" in finding.message


def test_pl605_a_clock_that_starts_changing_later_is_reported_then(lint):
    clocks = ["09:15:02", "09:15:02", "09:15:02", "09:16:11"]
    bodies = [request(m, system=clock_system(c)) for m, c in zip(growing(4), clocks)]
    assert codes(lint(bodies), "PL605") == [("PL605", 4, 4, "/system/1")]


def test_pl605_an_edit_that_happens_once_is_not_reported(lint):
    notes = ["Notes: the reader is old.", "Notes: the reader is very old.", "Notes: the reader is very old."]
    bodies = [
        request(m, system=[{"type": "text", "text": POLICY}, marked(n)]) for m, n in zip(growing(3), notes)
    ]
    result = lint(bodies)
    assert codes(result, "PL605") == []
    assert [c for c, *_ in brief(result)] == ["PL201"]


def test_pl605_not_when_an_earlier_block_changed_too(lint):
    bodies = [request(m, system=clock_system(c)) for m, c in zip(growing(2), ["09:15:02", "09:15:40"])]
    bodies[1]["tools"] = TOOLS[:1]  # the prefix breaks before the clock: other rules say so
    assert codes(lint(bodies), "PL605") == []


def test_pl605_when_an_earlier_breakpoint_reads_the_stable_prefix(lint):
    system = lambda clock: [marked(POLICY), marked(f"Current time: {clock}")]  # noqa: E731
    bodies = [request(m, system=system(c)) for m, c in zip(growing(2), ["09:15:02", "09:15:40"])]
    (finding,) = findings(lint(bodies), "PL605")
    assert "paid for and never used" in finding.message
    assert finding.impact["tokens"] == 0


def test_pl605_automatic_caching_on_a_replaced_last_message(lint):
    examples = [
        {"role": "user", "content": "Classify: the build fails."},
        {"role": "assistant", "content": "bug"},
    ]
    questions = ["Classify: add an option.", "Classify: wrong totals.", "Classify: support gzip input."]
    bodies = [request(examples + [{"role": "user", "content": q}], cache_control=CC) for q in questions]
    result = lint(bodies)
    assert codes(result, "PL605") == [("PL605", 3, 3, "/messages/2/content")]
    (finding,) = findings(result, "PL605")
    assert finding.message.startswith("the automatic-caching breakpoint sits on the user message block")
    assert "with an explicit `cache_control` on the last block that stays identical" in finding.fix
    assert "(/messages/1/content, block 4;" in finding.fix
    assert "list with one text block" in finding.fix


def slot_requests(n: int) -> list[dict]:
    examples = [
        {"role": "user", "content": "Classify: the build fails."},
        {"role": "assistant", "content": "bug"},
    ]
    return [request(examples + [user(marked(f"Classify: question number {i} about the tool."))]) for i in range(n)]


def test_pl605_a_replaced_question_slot_is_reported_on_its_second_change(lint):
    result = lint(slot_requests(3))
    assert codes(result, "PL605") == [("PL605", 3, 3, "/messages/2/content/0")]
    (finding,) = findings(result, "PL605")
    assert "changed on this turn and on the previous one" in finding.message
    assert "/messages/1/content, block 4" in finding.fix


def test_pl605_a_replaced_question_slot_is_reported_once(lint):
    assert codes(lint(slot_requests(5)), "PL605") == [("PL605", 3, 3, "/messages/2/content/0")]


def test_pl605_silent_for_openai(lint):
    def chat(clock: str, messages: list[dict]) -> dict:
        return {"model": "gpt-5", "messages": [{"role": "system", "content": f"{POLICY} Time: {clock}"}, *messages]}

    first = [{"role": "user", "content": "Rename the helper."}]
    second = first + [{"role": "assistant", "content": "Done."}, {"role": "user", "content": "Run the tests."}]
    result = lint([chat("09:15:02", first), chat("09:15:40", second)])
    assert "PL201" in [c for c, *_ in brief(result)]  # one conversation, and its system prompt changed
    assert codes(result, "PL605") == []


# -- PL606 breakpoints-never-move --------------------------------------------------------------

REPLY = " ".join(
    (
        "I read the module and its callers and found the places that need the new name.",
        "The tests cover the main path and one edge case with empty fields.",
        "I will change the definition first, then the callers, then the tests, and run the suite.",
    )
    * 6
)


def system_only_thread(turns: int, system=None) -> list[dict]:
    system = system if system is not None else [marked(POLICY)]
    bodies, messages = [], []
    for i in range(turns):
        if messages:
            messages = messages + [{"role": "assistant", "content": f"Turn {i}. {REPLY}"}]
        messages = messages + [{"role": "user", "content": f"Please continue with part {i}."}]
        bodies.append(request(messages, system=system))
    return bodies


def test_pl606_reported_once_when_the_history_passes_half_of_the_prompt(lint):
    result = lint(system_only_thread(8))
    found = codes(result, "PL606")
    assert len(found) == 1
    (finding,) = findings(result, "PL606")
    line = finding.location.line
    assert line > 2  # not before the history is large
    assert "the breakpoint (/system/0) stays on the same block while the conversation grows" in finding.message
    share = int(finding.message.split("% of the prompt")[0].rsplit("(", 1)[1])
    assert share > 50
    assert "automatic caching" in finding.fix and f"/messages/{2 * (line - 1)}/content" in finding.fix
    # what a moving breakpoint would read on this turn: the previous request's history
    assert finding.impact["tokens"] > 0
    assert f"would read about {finding.impact['tokens']:,} more tokens" in finding.message


def test_pl606_reported_on_the_first_pair_when_the_history_is_already_large(lint):
    bodies = system_only_thread(6)[4:]  # a conversation picked up in the middle
    assert codes(lint(bodies), "PL606") == [("PL606", 2, 2, "/system/0")]


def test_pl606_several_fixed_breakpoints(lint):
    tools = [dict(t) for t in TOOLS]
    tools[-1]["cache_control"] = CC
    bodies = system_only_thread(8)
    for body in bodies:
        body["tools"] = tools
    (finding,) = findings(lint(bodies), "PL606")
    assert "the breakpoints (/tools/1, /system/0) stay on the same blocks" in finding.message


def test_pl606_four_fixed_breakpoints_leave_none_to_add(lint):
    tools = [{**t, "cache_control": CC} for t in TOOLS]
    system = [marked(POLICY), marked("Answer in English.")]
    bodies = system_only_thread(8, system=system)
    for body in bodies:
        body["tools"] = tools
    (finding,) = findings(lint(bodies), "PL606")
    assert finding.location.pointer == "/system/1"
    assert finding.fix.startswith("All 4 allowed breakpoints are fixed: move one of them (e.g. /tools/0")


def test_pl606_a_breakpoint_on_an_early_message(lint):
    document = [{"type": "text", "text": POLICY, "cache_control": CC}, {"type": "text", "text": "Summarise this."}]
    bodies, messages = [], [{"role": "user", "content": document}]
    for i in range(8):
        if i:
            messages = messages + [
                {"role": "assistant", "content": f"Turn {i}. {REPLY}"},
                {"role": "user", "content": f"Go on with part {i}."},
            ]
        bodies.append(request(messages))
    (finding,) = findings(lint(bodies), "PL606")
    assert finding.location.pointer == "/messages/0/content/0"


def test_pl606_silent_with_a_rolling_breakpoint(lint):
    bodies = system_only_thread(8)
    for body in bodies:
        last = body["messages"][-1]
        body["messages"][-1] = {"role": "user", "content": [marked(last["content"])]}
    assert codes(lint(bodies), "PL606") == []


def test_pl606_silent_without_any_breakpoint(lint):
    assert codes(lint(system_only_thread(8, system=[{"type": "text", "text": POLICY}])), "PL606") == []


@pytest.mark.parametrize("code", ["PL604", "PL605", "PL606"])
def test_silent_on_a_clean_agent_loop(lint, code):
    bodies = system_only_thread(6)
    for body in bodies:
        body["cache_control"] = CC
    assert codes(lint(bodies), code) == []
