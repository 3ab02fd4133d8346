"""Pair rules declared ``QUIET_ON_APPEND`` are skipped on turns that only append messages.

The declaration is a promise: such a rule never reports on a turn the engine's ``_only_appends``
accepts. These tests run every declared rule on every such turn of the rule fixtures, the format
fixtures and the recorded corpus (when present) and require silence; they check what
``_only_appends`` accepts and refuses, and that the engine really skips the rules then.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from conftest import CORPUS, FIXTURES, lint_records
from prefixlint import engine
from prefixlint.rules import RULES

QUIET = [r for r in RULES if r.quiet_on_append]


def _record_pairs(monkeypatch) -> list:
    """Make the engine remember every pair it judged append-only."""
    seen: list = []
    original = engine._only_appends

    def spy(pair):
        verdict = original(pair)
        if verdict:
            seen.append(pair)
        return verdict

    monkeypatch.setattr(engine, "_only_appends", spy)
    return seen


def _assert_quiet(pairs: list) -> None:
    for pair in pairs:
        for rule in QUIET:
            assert list(rule.check(pair)) == [], (rule.code, pair.new.record.origin)


def test_the_declared_rules():
    assert sorted(r.code for r in QUIET) == [
        "PL101", "PL102", "PL103", "PL201", "PL301", "PL302", "PL303", "PL304", "PL305", "PL306",
        "PL401", "PL501", "PL605", "PL801",
    ]


def _rule_cases():
    for path in sorted((FIXTURES / "rules").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for case in data["cases"]:
            if "requests" in case:
                yield pytest.param(case, id=f"{data['rule']}-{case['name']}")


@pytest.mark.parametrize("case", list(_rule_cases()))
def test_quiet_rules_are_silent_on_appending_turns_of_the_rule_fixtures(tmp_path, monkeypatch, case):
    pairs = _record_pairs(monkeypatch)
    lint_records(tmp_path, case["requests"], **case.get("options", {}))
    _assert_quiet(pairs)


def test_quiet_rules_are_silent_on_appending_turns_of_the_format_fixtures(monkeypatch):
    pairs = _record_pairs(monkeypatch)
    files = [str(p) for p in sorted((FIXTURES / "formats").rglob("*")) if p.is_file()]
    assert files
    engine.run(files, RULES, engine.Options())
    assert pairs, "no appending turn in the format fixtures: the test would prove nothing"
    _assert_quiet(pairs)


@pytest.mark.skipif(not (CORPUS / "cassettes").is_dir(), reason="corpus not present")
def test_quiet_rules_are_silent_on_appending_turns_of_the_cassette_corpus(monkeypatch):
    pairs = _record_pairs(monkeypatch)
    engine.run([str(CORPUS / "cassettes")], RULES, engine.Options())
    assert pairs
    _assert_quiet(pairs)


# -- what counts as appending ------------------------------------------------------------------

SYSTEM = "You are a careful agent. " * 80
TOOLS = [{"name": "read", "description": "Read a file.", "input_schema": {"type": "object"}}]


def _body(messages, **extra):
    body = {"model": "claude-sonnet-4-5", "max_tokens": 512, "system": SYSTEM, "tools": TOOLS,
            "messages": messages}
    body.update(extra)
    return body


TURN1 = [{"role": "user", "content": "Fix the failing test in a.py, please."}]
TURN2 = TURN1 + [{"role": "assistant", "content": "Looking at a.py now."},
                 {"role": "user", "content": "It is the second test."}]
TURN3 = TURN2 + [{"role": "assistant", "content": "Found it."}, {"role": "user", "content": "Good."}]


def _verdicts(tmp_path, monkeypatch, records) -> list[bool]:
    verdicts: list[bool] = []
    original = engine._only_appends

    def spy(pair):
        verdicts.append(original(pair))
        return verdicts[-1]

    monkeypatch.setattr(engine, "_only_appends", spy)
    lint_records(tmp_path, records)
    return verdicts


def test_a_grown_conversation_only_appends(tmp_path, monkeypatch):
    assert _verdicts(tmp_path, monkeypatch, [_body(TURN1), _body(TURN2)]) == [True]


def test_an_identical_retry_is_no_change(tmp_path, monkeypatch):
    # (a retry starts a sibling thread: no pair at all)
    assert _verdicts(tmp_path, monkeypatch, [_body(TURN1), _body(TURN1)]) == []


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(_body(TURN3, model="claude-opus-4-1"), id="model switched"),
        pytest.param(dict(_body(TURN3), system=SYSTEM + " Today is Monday."), id="system prompt edited"),
        pytest.param(dict(_body(TURN3), tools=TOOLS + [{"name": "write", "input_schema": {"type": "object"}}]),
                     id="tool added"),
        pytest.param(_body(TURN2[:1] + [{"role": "assistant", "content": "Looking at b.py now."}] + TURN3[2:]),
                     id="earlier message edited"),
        pytest.param(_body(TURN3, tool_choice={"type": "any"}), id="setting changed"),
    ],
)
def test_a_changed_prefix_is_not_appending(tmp_path, monkeypatch, second):
    assert _verdicts(tmp_path, monkeypatch, [_body(TURN2), second]) == [False]


def test_content_added_to_the_last_message_is_not_appending(tmp_path, monkeypatch):
    # The previous turn's blocks are all still a prefix, but its last message grew a block.
    first = _body(TURN1 + [{"role": "assistant", "content": "Looking."},
                           {"role": "user", "content": [{"type": "text", "text": "It is the second test."}]}])
    second = copy.deepcopy(first)
    second["messages"][2]["content"].append({"type": "text", "text": "Also the third."})
    second["messages"] += [{"role": "assistant", "content": "On it."}, {"role": "user", "content": "Thanks."}]
    assert _verdicts(tmp_path, monkeypatch, [first, second]) == [False]


def test_the_engine_does_not_run_quiet_rules_on_appending_turns(tmp_path, monkeypatch):
    calls: list[str] = []
    rules = []
    for rule in RULES:
        if rule.scope == "pair":
            def check(pair, _rule=rule):
                calls.append(_rule.code)
                return _rule.check(pair)

            rule = type(rule)(**{**{f: getattr(rule, f) for f in rule.__dataclass_fields__}, "check": check})
        rules.append(rule)
    log = tmp_path / "log.jsonl"
    import orjson

    log.write_bytes(b"".join(orjson.dumps(b) + b"\n" for b in [_body(TURN1), _body(TURN2)]))
    engine.run([str(log)], rules, engine.Options())
    pair_rules = {r.code for r in RULES if r.scope == "pair"}
    assert set(calls) == pair_rules - {r.code for r in QUIET}
    calls.clear()
    log.write_bytes(b"".join(orjson.dumps(b) + b"\n" for b in [_body(TURN1), _body(TURN2, model="claude-opus-4-1")]))
    engine.run([str(log)], rules, engine.Options())
    assert set(calls) == pair_rules
