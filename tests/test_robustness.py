"""Bad input never raises: bodies with wrong types anywhere are diagnosed or linted, never a traceback."""

from __future__ import annotations

import copy
import random

import orjson
import pytest

from prefixlint import engine
from prefixlint.rules import RULES

ANTHROPIC = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "tools": [{"name": "a", "description": "d", "input_schema": {"type": "object"}}, {"type": "web_search_20250305", "name": "web_search"}],
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "system": [{"type": "text", "text": "You are helpful.", "cache_control": {"type": "ephemeral"}}],
    "metadata": {"user_id": "u1"},
    "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"}, {"type": "tool_use", "id": "t1", "name": "a", "input": {"q": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "r"}]}]},
    ],
}
CHAT = {
    "model": "gpt-5",
    "tools": [{"type": "function", "function": {"name": "a", "description": "d", "parameters": {"type": "object"}}}],
    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
    "reasoning_effort": "low",
    "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "a", "arguments": "{\"q\": 1}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
    ],
}
RESPONSES = {
    "model": "gpt-5",
    "instructions": "Be brief.",
    "reasoning": {"effort": "low"},
    "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
    "input": [
        {"role": "user", "content": "hi"},
        {"type": "function_call", "call_id": "c1", "name": "a", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "r"},
        {"type": "reasoning", "summary": []},
    ],
}
WRONG = [None, 0, 1.5, True, "x", [], {}, [None], {"type": None}, {"type": "text"}, [1, "a"], {"text": 5}]


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


def _mutate(body, path, new):
    body = copy.deepcopy(body)
    if not path:
        return new
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return body


def test_wrong_types_anywhere_never_raise(tmp_path):
    rng = random.Random(7)
    lines = []
    for base in (ANTHROPIC, CHAT, RESPONSES):
        paths = list(_paths(base))
        for path in paths:
            for wrong in rng.sample(WRONG, 4):
                # a valid first turn, then the mutated one: exercises threads, diff and every rule
                lines.append(orjson.dumps(base))
                lines.append(orjson.dumps(_mutate(base, path, wrong)))
    log = tmp_path / "mutations.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    result = engine.run([str(log)], RULES, engine.Options())
    assert result.summary.records == len(lines)
    assert result.summary.requests + result.summary.invalid + sum(result.summary.skipped.values()) == len(lines)
    for d in result.diagnostics:
        assert d.origin.line is not None and d.message
        assert "internal error" not in d.message, str(d)


def test_binary_garbage_never_raises(tmp_path):
    rng = random.Random(3)
    log = tmp_path / "garbage.jsonl"
    log.write_bytes(b"\n".join(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(200)))
    result = engine.run([str(log)], RULES, engine.Options())
    assert result.summary.records + len(result.diagnostics) >= 1
    assert result.exit_code("never") == (2 if result.summary.records == 0 else 0)


def test_a_crashing_rule_costs_one_diagnostic_not_the_run(tmp_path, monkeypatch):
    from prefixlint.rulebase import Rule

    def boom(_ctx):
        raise KeyError("surprise")

    broken = Rule("PL999", "always-crashes", "config", "error", "request", boom, "doc", "test")
    log = tmp_path / "log.jsonl"
    log.write_bytes(orjson.dumps(ANTHROPIC) + b"\n" + orjson.dumps({**ANTHROPIC, "model": "claude-haiku-4-5"}) + b"\n")
    result = engine.run([str(log)], [broken, *RULES], engine.Options())
    assert [str(d) for d in result.diagnostics] == [
        f"{log}:1: internal error in rule PL999 (always-crashes): KeyError: 'surprise'",
        f"{log}:2: internal error in rule PL999 (always-crashes): KeyError: 'surprise'",
    ]
    assert [f.code for f in result.findings] == ["PL401"]


@pytest.mark.parametrize("scope", ["request", "pair"])
@pytest.mark.parametrize("reads", [None, ("system",)])
def test_a_rule_that_crashes_after_a_violation_reports_nothing_for_that_record(tmp_path, scope, reads):
    """A generator rule that yields a violation and then raises: the record gets the diagnostic and
    none of that rule's findings (its violations are collected before any is reported), the other
    rules still run, for request and pair rules alike."""
    from prefixlint.model import Violation
    from prefixlint.rulebase import Rule

    def half(_arg):
        yield Violation("half a finding", "no fix")
        raise ValueError("midway")

    broken = Rule("PL998", "crashes-midway", "config", "error", scope, half, "doc", "test",
                  reads=reads if scope == "request" else None)
    log = tmp_path / "log.jsonl"
    log.write_bytes(orjson.dumps(ANTHROPIC) + b"\n" + orjson.dumps({**ANTHROPIC, "model": "claude-haiku-4-5"}) + b"\n")
    result = engine.run([str(log)], [broken, *RULES], engine.Options())
    lines = [1, 2] if scope == "request" else [2]  # (a pair rule runs from the second turn on)
    assert [str(d) for d in result.diagnostics] == [
        f"{log}:{n}: internal error in rule PL998 (crashes-midway): ValueError: midway" for n in lines
    ]
    assert [f.code for f in result.findings] == ["PL401"]


def test_wrong_shaped_fields_during_detection(tmp_path):
    """Found by the hostile-input suite with random seeds: detection iterated a non-list `tools`."""
    log = tmp_path / "log.json"
    log.write_bytes(orjson.dumps([{"model": "claude-sonnet-4-5", "messages": [], "tools": 1}]))
    result = engine.run([str(log)], RULES, engine.Options())
    assert [d.message for d in result.diagnostics] == ["invalid anthropic request: /tools must be an array, got a number"]
    assert result.summary.invalid == 1
