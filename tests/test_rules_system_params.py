"""Unit tests for the system, params and serialisation rules (PL201, PL202, PL104, PL801, PL501).

The YAML cases prove where each rule fires; these tests pin down what the findings say (the cache
level lost, the value found, the key order shown) and the guards against false positives.
"""

from __future__ import annotations

import copy

import pytest

from prefixlint.model import Origin, Record
from prefixlint.providers import anthropic as provider
from prefixlint.rulebase import RequestContext
from prefixlint.rules import BY_CODE
from prefixlint.rules.volatile_value_in_system_prompt import scan

SYSTEM = "You are a support agent for Acme Inc. Answer from the order database."
U1 = {"role": "user", "content": "Where is my order #4411?"}
A1 = {"role": "assistant", "content": "Order #4411 shipped yesterday."}
U2 = {"role": "user", "content": "When will it arrive?"}


def anthropic(system=SYSTEM, messages=(U1,), **extra):
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": system, "messages": list(messages)}
    body.update(extra)
    return body


def openai_chat(messages, **extra):
    body = {"model": "gpt-4.1", "messages": list(messages)}
    body.update(extra)
    return body


def only(result, code):
    found = [f for f in result.findings if f.code == code]
    others = [f.code for f in result.findings if f.code != code]
    assert not others, f"unexpected findings: {others}"
    return found


# -- PL202 / shared scanner ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Knowledge cutoff: 2025-01-31.",
        "Write timestamps in ISO 8601, e.g. 2024-01-15T09:30:00Z.",
        "Trace ids are hex strings such as 9f86d081884c7d65.",
    ],
)
def test_scan_skips_constants(text):
    assert scan(text) == []


def test_scan_keeps_live_values_next_to_constants():
    text = "Knowledge cutoff: 2025-01-31. Current time: 2026-11-24T10:42:03Z."
    assert [v.value for v in scan(text)] == ["2026-11-24T10:42:03Z"]


def test_pl202_message_names_value_and_offset(lint):
    system = "You are a helpful assistant.\nCurrent time: 2026-11-24T10:42:03Z"
    (finding,) = only(lint([anthropic(system=system)]), "PL202")
    assert "ISO 8601 timestamp `2026-11-24T10:42:03Z`" in finding.message
    assert "at character 44" in finding.message
    assert finding.severity == "error"
    assert "2026-11-24T10:42:03Z" in finding.excerpt["text"]
    assert "<system-reminder>" in finding.fix


def test_pl202_date_alone_is_a_daily_warning(lint):
    (finding,) = only(lint([anthropic(system=SYSTEM + " Today is 2026-11-24.")]), "PL202")
    assert finding.severity == "warning"
    assert "changes daily" in finding.message


def test_pl202_counts_repeated_values_of_one_kind(lint):
    system = "Opened 2026-11-24T09:00:03Z, last sync 2026-11-24T10:42:03Z."
    (finding,) = only(lint([anthropic(system=system)]), "PL202")
    assert "(and 1 more)" in finding.message


# -- PL104 ------------------------------------------------------------------------------------------


def test_pl104_numbers_only_as_data():
    tool = {
        "name": "list_events",
        "description": "List events.",
        "input_schema": {
            "type": "object",
            "properties": {
                "limit": {"type": "integer", "maximum": 2147483647},
                "after": {"type": "integer", "default": 1764000123},
            },
        },
    }
    prompt = provider.normalize(anthropic(tools=[tool]), Record(body={}, origin=Origin("x")))
    found = list(BY_CODE["PL104"].check(RequestContext(prompt, "T1", 1)))
    assert len(found) == 1
    assert "`/input_schema/properties/after/default`" in found[0].message
    assert found[0].key == "epoch:/input_schema/properties/after/default"


# -- PL201 ------------------------------------------------------------------------------------------


def test_pl201_names_the_changed_timestamp(lint):
    first = anthropic(system=SYSTEM + "\nNow: 2026-11-24T10:42:03Z")
    second = anthropic(system=SYSTEM + "\nNow: 2026-11-24T10:44:10Z", messages=[U1, A1, U2])
    result = lint([first, second])
    (finding,) = [f for f in result.findings if f.code == "PL201"]
    assert "`2026-11-24T10:42:03Z` -> `2026-11-24T10:44:10Z`" in finding.message
    assert finding.excerpt["before"].endswith("10:42:03Z")
    assert finding.excerpt["after"].endswith("10:44:10Z")


def test_pl201_whitespace_only(lint):
    result = lint([anthropic(), anthropic(system=SYSTEM + "\n", messages=[U1, A1, U2])])
    (finding,) = only(result, "PL201")
    assert "whitespace only" in finding.message


def test_pl201_system_prompt_removed(lint):
    result = lint([anthropic(), anthropic(system=None, messages=[U1, A1, U2])])
    (finding,) = only(result, "PL201")
    assert "removed" in finding.message
    assert finding.location.pointer == "/system"


def test_pl201_openai_fix_suggests_appending_a_message(lint):
    sys1 = {"role": "system", "content": "You are a travel assistant."}
    sys2 = {"role": "system", "content": "You are a travel assistant. Be brief."}
    result = lint([openai_chat([sys1, U1]), openai_chat([sys2, U1, A1, U2])])
    (finding,) = only(result, "PL201")
    assert "developer or user message at the end" in finding.fix
    assert finding.message.startswith("system message edited at character 28")


# -- PL801 ------------------------------------------------------------------------------------------


def test_pl801_shows_key_orders_and_counts_other_blocks(lint):
    def call(i, args):
        return {"type": "tool_use", "id": f"toolu_0{i}", "name": "get_weather", "input": args}

    def result(i):
        return {"type": "tool_result", "tool_use_id": f"toolu_0{i}", "content": "19 C"}

    a = {"city": "Lisbon", "unit": "C"}
    b = {"unit": "C", "city": "Lisbon"}
    history = [U1, {"role": "assistant", "content": [call(1, a), call(2, a)]},
               {"role": "user", "content": [result(1), result(2)]}]
    resent = copy.deepcopy(history)
    resent[1]["content"] = [call(1, b), call(2, b)]
    out = lint([anthropic(messages=history), anthropic(messages=[*resent, A1, U2])])
    (finding,) = only(out, "PL801")
    assert "city, unit -> unit, city" in finding.message
    assert "1 later block re-serialised the same way" in finding.message
    assert finding.location.pointer == "/messages/1/content/0"
    assert finding.excerpt == {"before": '{"city":"Lisbon","unit":"C"}', "after": '{"unit":"C","city":"Lisbon"}'}


def test_pl801_silent_on_content_change(lint):
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    tool = {"name": "t", "description": "d", "input_schema": schema}
    changed = copy.deepcopy(tool)
    changed["input_schema"]["properties"]["b"] = {"type": "string"}
    result = lint([anthropic(tools=[tool]), anthropic(tools=[changed], messages=[U1, A1, U2])])
    assert [f.code for f in result.findings] == ["PL103"]


# -- PL501 ------------------------------------------------------------------------------------------


def test_pl501_defaults_equal_absent_values(lint):
    first = anthropic()
    second = anthropic(messages=[U1, A1, U2], tool_choice={"type": "auto"}, thinking={"type": "disabled"})
    assert lint([first, second]).findings == []


def test_pl501_tool_choice_names_the_lost_level(lint):
    first = anthropic(tool_choice={"type": "auto"})
    second = anthropic(messages=[U1, A1, U2], tool_choice={"type": "any"})
    (finding,) = only(lint([first, second]), "PL501")
    assert "tools and system prompt stay cached" in finding.message
    assert "messages cache is invalidated" in finding.message
    assert finding.excerpt == {"before": '{"type":"auto"}', "after": '{"type":"any"}'}


def test_client_tool_toggle_is_a_tool_set_change(lint):
    """Anthropic-defined client tools (bash, text editor...) are tool definitions, not settings."""
    bash = {"type": "bash_20250124", "name": "bash"}
    tool = {"name": "read", "description": "Read a file.", "input_schema": {"type": "object"}}
    result = lint([anthropic(tools=[tool]), anthropic(tools=[tool, bash], messages=[U1, A1, U2])])
    (finding,) = only(result, "PL101")
    assert "added `bash`" in finding.message
    assert finding.location.pointer == "/tools/1"


def test_pl501_cache_key_names_routing(lint):
    sys = {"role": "system", "content": "You are a travel assistant."}
    result = lint([
        openai_chat([sys, U1], prompt_cache_key="a"),
        openai_chat([sys, U1, A1, U2], prompt_cache_key="b"),
    ])
    (finding,) = only(result, "PL501")
    assert "routes" in finding.message and "256" in finding.message
    assert "constant for the conversation" in finding.fix


def test_pl501_schema_key_order_only_is_not_a_schema_change(lint):
    fmt1 = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object", "title": "x"}}}
    fmt2 = {"type": "json_schema", "json_schema": {"schema": {"title": "x", "type": "object"}, "name": "a"}}
    result = lint([openai_chat([U1], response_format=fmt1), openai_chat([U1, A1, U2], response_format=fmt2)])
    assert [f.code for f in result.findings] == ["PL801"]


def test_pl201_chained_responses_request_keeps_earlier_system_items(tmp_path):
    """With previous_response_id only new items are sent: a system item of turn 1 is not removed."""
    from conftest import lint_records

    records = [
        {"request": {"model": "gpt-5", "input": [{"role": "developer", "content": "Answer in French."}, {"role": "user", "content": "Hello"}]}, "response": {"id": "resp_1"}},
        {"request": {"model": "gpt-5", "previous_response_id": "resp_1", "input": [{"role": "user", "content": "And goodbye?"}]}, "response": {"id": "resp_2"}},
        {"request": {"model": "gpt-5", "previous_response_id": "resp_2", "instructions": "Be brief.", "input": [{"role": "user", "content": "Thanks"}]}},
    ]
    result = lint_records(tmp_path, records)
    # turn 2: nothing; turn 3 adds `instructions`, which chained requests do send every time
    assert [(f.code, f.location.line, f.location.pointer) for f in result.findings if f.code == "PL201"] == [
        ("PL201", 3, "/instructions")
    ]
