"""The history rules (PL301-PL306) beyond their fixture cases: the shared analysis, edge cases of
message pairing, and behaviour that the YAML cases cannot show (messages, counts, caching)."""

from __future__ import annotations

import pytest

from conftest import brief
from prefixlint import providers
from prefixlint.diff import compare
from prefixlint.model import Origin, Record
from prefixlint.rulebase import Pair
from prefixlint.rules._history import _prepended, analyse

SYSTEM = [{"type": "text", "text": "You are a careful coding agent."}]


def claude(*messages, **extra):
    return {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": SYSTEM, "messages": list(messages), **extra}


def chat(*messages, model="gpt-4.1"):
    return {"model": model, "messages": [{"role": "system", "content": "You are helpful."}, *messages]}


def user(content):
    return {"role": "user", "content": content}


def assistant(content):
    return {"role": "assistant", "content": content}


def turns(*texts):
    """Alternating user and assistant messages with these texts, starting with the user."""
    return [user(t) if i % 2 == 0 else assistant(t) for i, t in enumerate(texts)]


def prompt(body, line=1):
    record = Record(body=body, origin=Origin("log.jsonl", line=line))
    kind, reason = providers.detect(body, record)
    assert kind is not None, reason
    return providers.normalize(kind, body, record)


def pair(prev_body, new_body, fork=False):
    prev, new = prompt(prev_body, 1), prompt(new_body, 2)
    return Pair(prev, new, compare(prev, new), "T1", 2, fork)


def codes(result, prefix="PL30"):
    return [(code, line, pointer) for code, line, _, pointer in brief(result) if code.startswith(prefix)]


def messages_of(result, code):
    return [f.message for f in result.findings if f.code == code]


# -- prepended content ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (["q"], ["ctx\n\nq"], "ctx\n\n"),
        (["q"], ["ctx", "q"], "ctx"),
        (["q", "img"], ["ctx", "q", "img"], "ctx"),
        (["q", "img"], ["a", "b", "q", "img"], "a\nb"),
        (["q"], ["q"], None),
        (["q"], ["q!"], None),
        ([""], ["x"], None),
        ([], ["x"], None),
        (["q", "img"], ["ctx q", "other"], None),
        (["long question"], ["q"], None),
    ],
)
def test_prepended(old, new, expected):
    assert _prepended(old, new) == expected


# -- the shared analysis ----------------------------------------------------------------------


def test_analysis_is_computed_once_per_pair():
    p = pair(claude(*turns("a", "b", "c")), claude(*turns("a", "B", "c", "d", "e")))
    first = analyse(p)
    assert analyse(p) is first
    other = pair(claude(*turns("a", "b", "c")), claude(*turns("a", "b!", "c", "d", "e")))
    assert analyse(other) is not first
    assert [e.code for e in first.of("PL301")] == ["PL301"]


def test_fork_is_left_to_compaction_rule():
    p = pair(claude(*turns("a", "b", "c")), claude(*turns("x", "b", "c", "d", "e")), fork=True)
    assert analyse(p).events == {}


def test_different_api_is_not_compared():
    # The same conversation sent to another API renders differently: model-switched reports it.
    p = pair(claude(*turns("a", "b", "c")), chat(*turns("a", "b", "c", "d", "e")))
    assert analyse(p).events == {}


def test_responses_with_previous_response_id_sends_only_new_items(lint):
    body = {"model": "gpt-5", "instructions": "Be brief."}
    first = {"request": {"body": {**body, "input": "What is 2+2?"}}, "response": {"body": {"id": "resp_1"}}}
    second = {
        "request": {"body": {**body, "previous_response_id": "resp_1", "input": [user("And 3+3?")]}},
        "response": {"body": {"id": "resp_2"}},
    }
    result = lint([first, second])
    assert result.summary.threads == 1
    assert codes(result) == []


def test_retry_with_context_put_in_front_is_still_an_insertion():
    # No growth (a retry), but the previous question came back with context in front of it.
    p = pair(
        claude(user("a"), assistant("b"), user("Why does it fail?")),
        claude(user("a"), assistant("b"), user("<context>log</context>\nWhy does it fail?")),
    )
    events = analyse(p)
    assert [e.pointer for e in events.of("PL303")] == ["/messages/2/content"]
    assert events.of("PL301") == []


def test_retry_with_other_question_is_a_branch():
    p = pair(claude(*turns("a", "b", "c", "d", "e")), claude(*turns("a", "b", "c2")))
    assert analyse(p).events == {}


def test_reordered_messages_count_as_moves():
    p = pair(
        claude(*turns("one", "two", "three", "four", "five")),
        claude(*turns("three", "four", "one", "two", "five", "six", "seven")),
    )
    events = analyse(p).of("PL301")
    assert events and all("moved" in e.text for e in events)
    assert analyse(p).of("PL303") == [] and analyse(p).of("PL302") == []


def test_moving_status_message_is_reported_as_insertion_and_edit():
    # A status message that must stay last and changes every turn: the new exchange is inserted
    # in front of it (PL303) and the message itself is edited (PL301).
    p = pair(
        chat(*turns("q1", "r1", "q2"), {"role": "system", "content": "Status: 3 open tickets."}),
        chat(*turns("q1", "r1", "q2", "r2", "q3"), {"role": "system", "content": "Status: 2 open tickets."}),
    )
    events = analyse(p)
    assert [e.pointer for e in events.of("PL303")] == ["/messages/4"]
    assert [e.pointer for e in events.of("PL301")] == ["/messages/6"]
    assert "now /messages/6" in events.of("PL301")[0].text


def test_thinking_added_to_an_old_message():
    thinking = {"type": "thinking", "thinking": "Check the docs.", "signature": "sig"}
    p = pair(
        claude(user("a"), assistant([{"type": "text", "text": "b"}]), user("c")),
        claude(user("a"), assistant([thinking, {"type": "text", "text": "b"}]), user("c"), assistant("d"), user("e")),
    )
    (event,) = analyse(p).of("PL304")
    assert "gained 1 thinking block" in event.text
    assert event.pointer == "/messages/1"


def test_reasoning_item_inserted_into_history():
    body = {"model": "gpt-5", "instructions": "Be brief."}
    call = {"type": "function_call", "call_id": "c1", "name": "ls", "arguments": "{}"}
    out = {"type": "function_call_output", "call_id": "c1", "output": "a.py"}
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "xyz"}
    p = pair(
        {**body, "input": [user("list files"), call, out]},
        {**body, "input": [user("list files"), reasoning, call, out, assistant("a.py"), user("thanks")]},
    )
    (event,) = analyse(p).of("PL304")
    assert event.pointer == "/input/1"
    assert analyse(p).of("PL303") == []


def test_large_rewritten_stretch_is_paired_by_position():
    n = 60
    old = [user(f"question {i}") if i % 2 == 0 else assistant(f"answer {i}") for i in range(n)]
    new = [user(f"QUESTION {i}") if i % 2 == 0 else assistant(f"ANSWER {i}") for i in range(n)]
    p = pair(claude(*turns("keep", "kept"), *old), claude(*turns("keep", "kept"), *new, assistant("x"), user("y")))
    events = analyse(p).of("PL301")
    assert len(events) == n
    assert events[0].pointer == "/messages/2/content"


# -- whole-catalogue behaviour ---------------------------------------------------------------


def test_one_finding_per_rule_and_turn_with_a_count(lint):
    result = lint(
        [
            claude(*turns("q1", "r1", "q2", "r2", "q3")),
            claude(*turns("q1", "r1 (edited)", "q2", "r2 (edited)", "q3", "r3", "q4")),
        ]
    )
    assert codes(result) == [("PL301", 2, "/messages/1/content")]
    assert "(and 1 more change to earlier messages in this turn)" in messages_of(result, "PL301")[0]


def test_excerpt_shows_the_first_difference(lint):
    long_text = "The parser splits the input on whitespace and " + "then tokenises each word. " * 10
    edited = long_text.replace("tokenises each word. ", "tokenizes each word. ", 1)
    result = lint(
        [
            claude(*turns("explain", long_text, "more")),
            claude(*turns("explain", edited, "more", "ok", "thanks")),
        ]
    )
    (finding,) = [f for f in result.findings if f.code == "PL301"]
    assert "tokenises" in finding.excerpt["before"] and "tokenizes" in finding.excerpt["after"]
    assert finding.excerpt["before"].startswith("…")


def test_tool_result_finding_names_the_tool_and_sizes(lint):
    call = assistant([{"type": "tool_use", "id": "toolu_9", "name": "grep", "input": {"pattern": "TODO"}}])
    full = user([{"type": "tool_result", "tool_use_id": "toolu_9", "content": "x.py:1: TODO\n" * 50}])
    cut = user([{"type": "tool_result", "tool_use_id": "toolu_9", "content": "[12 matches elided]"}])
    result = lint(
        [
            claude(user("find todos"), call, full),
            claude(user("find todos"), call, cut, assistant("50 TODOs."), user("fix them")),
        ]
    )
    (message,) = messages_of(result, "PL305")
    assert "`grep` (toolu_9)" in message and "650 to 19 characters" in message


def test_fork_finding_says_what_differs(lint):
    tools = [{"name": "ls", "description": "List files.", "input_schema": {"type": "object", "properties": {}}}]
    history = [user("tidy the repo"), assistant("Done: removed 3 files."), user("good")]
    result = lint(
        [
            claude(*history, tools=tools),
            claude(
                *history,
                assistant("Anything else?"),
                user("Summarize the conversation."),
                model="claude-haiku-4-5",
            ),
        ]
    )
    assert codes(result, "PL3") == [("PL306", 2, "/tools/0")]
    (message,) = messages_of(result, "PL306")
    assert "no tools" in message and "another model (`claude-haiku-4-5`" in message and "3 messages" in message
