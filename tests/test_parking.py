"""Parked threads: a thread idle for PARK_AFTER requests keeps its last turn serialised and
compressed, and nothing a report says changes (see prefixlint.threads)."""

from __future__ import annotations

import datetime
import os
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import write_log
from prefixlint import engine, threads
from prefixlint.cli import app
from prefixlint.model import Origin, Record
from prefixlint.providers import anthropic, openai
from prefixlint.report import json as json_report
from prefixlint.rules import RULES
from test_threads import MAIN_SYSTEM, MAIN_TOOLS, SUB_SYSTEM, SUB_TOOLS, TITLE_SYSTEM, anth, conversation

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CLEAN_ENV = {"FORCE_COLOR": None, "NO_COLOR": None, "COLUMNS": None, "PREFIXLINT_DEBUG": None, "GITHUB_ACTIONS": None}


START = datetime.datetime(2026, 1, 5, 10, 0)


def _stamp(minute: float) -> str:
    return (START + datetime.timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


SYSTEM = MAIN_SYSTEM + " Keep every change small and explain it in one sentence." * 120  # cacheable


def resuming_log() -> list[dict]:
    """Conversations that pause while others run, then resume: unchanged, with an edited system
    prompt, after a gap longer than the 5-minute TTL, with a summarisation fork, as an identical
    retry, and with a lightly edited first message; a title side call and a subagent between."""
    a = conversation("Fix the failing test in tests/test_parser.py", 6, "a")
    b = conversation("Add a --verbose flag to the CLI", 6, "b")
    c = conversation("Rename the config loader", 5, "c")
    d = conversation("Find every caller of parse_header()", 4, "d")
    e = conversation("Port the build to pyproject, run 2026-01-05 10:00", 4, "e")
    fillers = [conversation(f"Explain module number {n} of the repository", 3, f"f{n}") for n in range(4)]
    rows: list[tuple[float, str, dict]] = []
    t = 0.0

    def add(session: str, body: dict, step: float = 0.25) -> None:
        nonlocal t
        t += step
        rows.append((t, session, body))

    def filler(n: int) -> None:
        for turn in fillers[n]:
            add(f"f{n}", anth(SYSTEM, MAIN_TOOLS, turn))

    add("a", anth(SYSTEM, MAIN_TOOLS, a[0]))
    add("a-title", anth(TITLE_SYSTEM, None, a[0], model="claude-haiku-4-5", roll=False))
    add("b", anth(SYSTEM, MAIN_TOOLS, b[0]))
    add("c", anth(SYSTEM, MAIN_TOOLS, c[0]))
    add("e", anth(SYSTEM, MAIN_TOOLS, e[0]))
    add("e", anth(SYSTEM, MAIN_TOOLS, e[1]))
    for i in range(1, 3):
        add("a", anth(SYSTEM, MAIN_TOOLS, a[i]))
        add("b", anth(SYSTEM, MAIN_TOOLS, b[i]))
        add("c", anth(SYSTEM, MAIN_TOOLS, c[i]))
    filler(0)
    add("d", anth(SUB_SYSTEM, SUB_TOOLS, d[0], model="claude-haiku-4-5"))
    add("d", anth(SUB_SYSTEM, SUB_TOOLS, d[1], model="claude-haiku-4-5"))
    add("a", anth(SYSTEM, MAIN_TOOLS, a[3]))  # resumes unchanged
    add("b", anth(SYSTEM + " Today is 2026-01-05.", MAIN_TOOLS, b[3]))  # resumes, system edited
    filler(1)
    add("c", anth(SYSTEM, MAIN_TOOLS, c[3]), step=9.0)  # resumes after the TTL ran out
    add("c", anth(SYSTEM, MAIN_TOOLS, c[3]))  # the same request again: a retry
    filler(2)
    summary = a[3] + [{"role": "user", "content": "Summarize the conversation so far."}]
    add("a", anth("You summarise conversations.", None, summary))  # a compaction fork of a
    add("a", anth(SYSTEM, MAIN_TOOLS, a[4]))
    edited = [dict(m) for m in e[2]]
    edited[0] = {"role": "user", "content": "Port the build to pyproject, run 2026-01-05 10:07"}
    add("e", anth(SYSTEM, MAIN_TOOLS, edited))  # first message lightly edited
    filler(3)
    add("d", anth(SUB_SYSTEM, SUB_TOOLS, d[2], model="claude-haiku-4-5"))
    add("b", anth(SYSTEM + " Today is 2026-01-05.", MAIN_TOOLS, b[4]))
    add("a", anth(SYSTEM, MAIN_TOOLS, a[5]))
    out = []
    for minute, _session, body in rows:  # (no session key: the message index finds each conversation)
        out.append({"timestamp": _stamp(minute), "request": body})
    return out


class _Counting:
    """Counts parked turns and turns read back."""

    def __init__(self, monkeypatch) -> None:
        self.parked = self.read = 0
        make, read = threads.Parked.__init__, threads.Parked.prompt

        def counting_init(parked, head):
            make(parked, head)
            self.parked += 1

        def counting_prompt(parked):
            self.read += 1
            return read(parked)

        monkeypatch.setattr(threads.Parked, "__init__", counting_init)
        monkeypatch.setattr(threads.Parked, "prompt", counting_prompt)


def _report(monkeypatch, path: Path, park_after: int) -> bytes:
    monkeypatch.setattr(threads, "PARK_AFTER", park_after)
    monkeypatch.setattr(threads, "PARK_MIN", 0)  # (the fixtures' turns are small)
    result = CliRunner().invoke(app, ["check", "--isolated", "--format", "json", "--fail-on", "never", str(path)], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _fixture_logs() -> list[Path]:
    """Every log among the fixtures (request logs, traces, HAR files, VCR cassettes)."""
    found = []
    for folder in ("demo", "formats", "traces", "har", "cassettes"):
        found += [p for p in (FIXTURES / folder).iterdir() if p.is_file()]
    return sorted(found)


@pytest.mark.parametrize("log", ["resuming"] + [p.name for p in _fixture_logs()])
def test_report_is_the_same_when_every_idle_thread_is_parked(tmp_path, monkeypatch, log):
    """Parking after every request (PARK_AFTER 0: every thread but the one continued is parked,
    every continuation reads its last turn back) reports exactly what never parking does."""
    if log == "resuming":
        path = write_log(tmp_path / "resuming.jsonl", resuming_log())
    else:
        path = tmp_path / log
        shutil.copy(next(p for p in _fixture_logs() if p.name == log), path)
    never = _report(monkeypatch, path, 10**9)
    counting = _Counting(monkeypatch)
    always = _report(monkeypatch, path, 0)
    assert always == never
    report = orjson.loads(never)
    if report["summary"]["threads"] > 1:  # (a Claude Code transcript has usage, no requests to thread)
        assert counting.parked > 0
    if log == "resuming":
        assert counting.read > 5  # resumed threads were read back
        codes = {f["code"] for f in report["findings"]}
        assert {"PL201", "PL301", "PL306", "PL701"} <= codes  # on resumed turns: system or first message edited, a fork, a TTL gap


def test_an_idle_thread_is_parked_and_read_back_when_continued(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "PARK_AFTER", 2)
    monkeypatch.setattr(threads, "PARK_MIN", 0)
    a = conversation("Fix the failing test in tests/test_parser.py", 3, "a")
    others = [conversation(f"Explain module {n}", 1, f"o{n}")[0] for n in range(3)]
    records = [anth(MAIN_SYSTEM, MAIN_TOOLS, a[0]), anth(MAIN_SYSTEM, MAIN_TOOLS, a[1])]
    records += [anth(MAIN_SYSTEM, MAIN_TOOLS, m) for m in others] + [anth(MAIN_SYSTEM, MAIN_TOOLS, a[2])]
    log = write_log(tmp_path / "log.jsonl", records)
    seen = []
    for rec, prompt, assignment in engine.iter_turns(str(log), engine.Options()):
        t = assignment.thread
        seen.append((rec.origin.line, t.id, assignment.turn))
        if rec.origin.line == 2:
            thread_a, head_blocks, head_messages = t, list(prompt.blocks), list(prompt.messages)
        if rec.origin.line == 5:
            # two requests (lines 4 and 5) passed without T1: parked at the start of line 5
            assert thread_a.head is None and thread_a.parked is not None
            assert thread_a.length == len(head_messages)
            assert thread_a.opening is None
            assert thread_a.last().blocks == head_blocks  # read back equal
            assert thread_a.last().messages == head_messages
            assert thread_a.parked.kind == ("anthropic", "messages")  # (the record alone, normalised when read)
        if rec.origin.line == 6:
            assert t is thread_a and t.parked is None and t.head is prompt
            assert assignment.prev.blocks == head_blocks and assignment.prev.messages == head_messages
    assert seen == [(1, "T1", 1), (2, "T1", 2), (3, "T2", 1), (4, "T3", 1), (5, "T4", 1), (6, "T1", 3)]


def test_a_head_that_cannot_be_serialised_stays_as_it_is(monkeypatch):
    """A request rendered from a harness configuration carries its rendering (no builtin): its
    thread is not parked, and goes on as before."""
    monkeypatch.setattr(threads, "PARK_AFTER", 0)
    monkeypatch.setattr(threads, "PARK_MIN", 0)
    tracker = threads.ThreadTracker()

    def prompt(messages, line, harness=None):
        body = anth(MAIN_SYSTEM, MAIN_TOOLS, messages)
        return anthropic.normalize(body, Record(body, Origin("log", line), harness=harness))

    conv = conversation("Fix the failing test", 2, "x")
    other = conversation("Explain the repository", 1, "y")
    first = tracker.assign(prompt(conv[0], 1, harness=object()))
    plain = tracker.assign(prompt(other[0], 2))
    tracker.assign(prompt(conversation("Rename a module", 1, "z")[0], 3))
    assert first.thread.head is not None and first.thread.parked is None
    assert plain.thread.head is None and plain.thread.parked is not None
    again = tracker.assign(prompt(conv[1], 4))
    assert again.thread is first.thread and again.turn == 2


def test_a_small_last_turn_is_not_parked(monkeypatch):
    """Under PARK_MIN (rendered bytes) a last turn stays as it is; over it, it is parked."""
    monkeypatch.setattr(threads, "PARK_AFTER", 0)
    tracker = threads.ThreadTracker()

    def prompt(messages, line):
        body = anth(MAIN_SYSTEM, MAIN_TOOLS, messages)
        return anthropic.normalize(body, Record(body, Origin("log", line)))

    small = tracker.assign(prompt(conversation("Fix the failing test", 1, "x")[0], 1)).thread
    big = tracker.assign(prompt(conversation("Explain this: " + "word " * 5000, 1, "y")[0], 2)).thread
    tracker.assign(prompt(conversation("Rename a module", 1, "z")[0], 3))
    assert small.size < threads.PARK_MIN <= big.size
    assert small.head is not None and small.parked is None
    assert big.head is None and big.parked is not None


def test_a_parked_turn_reads_back_equal_to_the_one_parked():
    """Every field of the prompt, its record and origin, blocks, messages and settings (all but
    the derived values, which are recomputed when asked for)."""
    body = {"model": "gpt-5", "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "tool_choice": "auto", "prompt_cache_key": "k1", "user": "u",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x " * 3000},
                         {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                          "function": {"name": "f", "arguments": "{\"a\": 1.5}"}}]}]}
    record = Record(body, Origin("log.jsonl", 7), size=123, timestamp="2026-01-05T10:00:00Z", session="s",
                    headers={"x-request-id": "r"}, usage={"prompt_tokens": 10}, response_id="resp_1", url="https://api/x")
    head = openai.normalize_chat(body, record)
    head.derived["anything"] = object()
    back = threads.Parked(head).prompt()
    assert back == head
    assert back.record == head.record and back.record.origin == head.record.origin
    assert back.settings == head.settings and back.keys == head.keys
    assert back.derived == {}
    assert back.blocks[0] is not head.blocks[0]


PARKED_BODIES = {
    ("anthropic", "messages"): {
        "model": "claude-sonnet-4-5", "max_tokens": 64, "metadata": {"user_id": "u1"},
        "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "thinking": {"type": "enabled", "budget_tokens": 1024}, "tool_choice": {"type": "auto"},
        "messages": [{"role": "user", "content": "x " * 3000},
                     {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"},
                                                       {"type": "tool_use", "id": "t1", "name": "f", "input": {"b": 1, "a": [2.5, None]}}]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok",
                                                   "cache_control": {"type": "ephemeral"}}]}],
    },
    ("openai", "chat"): {
        "model": "gpt-5", "prompt_cache_key": "k1", "user": "u", "reasoning_effort": "low",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x " * 3000},
                     {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                      "function": {"name": "f", "arguments": "{\"b\": 1, \"a\": 1.5}"}}]},
                     {"role": "tool", "tool_call_id": "c1", "content": "done"}],
    },
    ("openai", "responses"): {
        "model": "gpt-5", "instructions": "Be brief.", "reasoning": {"effort": "low"}, "previous_response_id": None,
        "input": [{"role": "user", "content": "x " * 3000},
                  {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{\"a\": 1}"},
                  {"type": "function_call_output", "call_id": "c1", "output": "done"}],
    },
    ("gemini", "generate"): {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "object"}}]}],
        "contents": [{"role": "user", "parts": [{"text": "x " * 3000}]},
                     {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]},
                     {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"ok": True}}}]}],
    },
    ("bedrock", "converse"): {
        "modelId": "anthropic.claude-sonnet-4-5", "system": [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
        "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]},
        "messages": [{"role": "user", "content": [{"text": "x " * 3000}, {"cachePoint": {"type": "default"}}]},
                     {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}}]}],
    },
}


@pytest.mark.parametrize("kind", list(PARKED_BODIES), ids=["/".join(k) for k in PARKED_BODIES])
def test_a_normalised_turn_is_parked_as_its_record_and_read_back_equal(kind):
    """The usual turn (its record's body as normalised, marked so by iter_turns) is parked as its
    record alone; read back, it is normalised again: every field equal, keys as they were (the
    session key iter_turns added too), for every API."""
    from prefixlint import providers

    body = PARKED_BODIES[kind]
    record = Record(orjson.loads(orjson.dumps(body)), Origin("log.jsonl", 7), size=123,
                    timestamp="2026-01-05T10:00:00Z", session="s", headers={"x-request-id": "r"},
                    usage={"input_tokens": 10}, response_id="resp_1", url="https://api/x")
    assert providers.detect(record.body, record)[0] == kind
    head = providers.normalize(kind, record.body, record)
    head.derived[threads.NORMALIZED] = kind
    head.keys["session"] = "s"
    parked = threads.Parked(head)
    whole = threads.Parked(providers.normalize(kind, record.body, record))  # (not marked: parked whole)
    assert parked.kind == kind and whole.kind is None and len(parked.data) < len(whole.data)
    for _ in range(2):  # (a second time: the normalisers' memos now know the body)
        back = parked.prompt()
        assert back == head and back.record is not head.record
        assert back.keys == head.keys and back.keys["session"] == "s" and back.keys is not head.keys
        assert back.derived == {threads.NORMALIZED: kind}
        assert threads.Parked(back).kind == kind  # (and parks the same way again)


# --------------------------------------------------------------------------------------------------
# Property: random interleaved conversations that pause, resume, edit and fork report the same
# with every idle thread parked after each request as without parking.

PROPERTY = settings(
    max_examples=int(os.environ.get("HYP_EXAMPLES", 25)), deadline=None, derandomize=not os.environ.get("HYP_DB"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
OPS = ["append", "append", "append", "pause", "system", "edit", "tools", "model", "retry", "fork"]
steps = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(OPS)), min_size=1, max_size=40)


def _random_log(steps: list[tuple[int, str]]) -> list[dict]:
    """Four conversations driven by ``steps`` (which one, what happens before its next request);
    the fourth is sent as Chat Completions."""
    state = [{"messages": [{"role": "user", "content": f"Task {n}: fix the parser in module {n}."}],
              "system": SYSTEM, "tools": list(MAIN_TOOLS), "model": "claude-sonnet-4-5", "chat": n == 3}
             for n in range(4)]
    minute, rows = 0.0, []
    for i, (n, op) in enumerate(steps):
        c = state[n]
        minute += 0.2
        if op == "pause":
            minute += 7.0  # past the 5-minute TTL
        elif op == "system":
            c["system"] = SYSTEM + f" Session {i}."
        elif op == "edit" and len(c["messages"]) > 2:
            c["messages"][1] = {"role": "assistant", "content": f"(edited at step {i})"}
        elif op == "tools":
            c["tools"] = c["tools"][1:] or list(MAIN_TOOLS)
        elif op == "model":
            c["model"] = "claude-haiku-4-5" if c["model"] == "claude-sonnet-4-5" else "claude-sonnet-4-5"
        if op not in ("retry", "fork"):
            c["messages"] = c["messages"] + [
                {"role": "assistant", "content": f"Step {i}: reading module {n} " + "and its tests " * 40},
                {"role": "user", "content": f"Result of step {i}: " + "ok " * 60},
            ]
        if op == "fork":
            body = anth("You summarise conversations.", None, c["messages"] + [{"role": "user", "content": "Summarize the conversation so far."}])
        elif c["chat"]:
            body = {"model": "gpt-4o", "messages": [{"role": "system", "content": c["system"]}] + [
                {"role": m["role"], "content": m["content"] if isinstance(m["content"], str) else str(m["content"])}
                for m in c["messages"]]}
        else:
            body = anth(c["system"], c["tools"], c["messages"], model=c["model"])
        rows.append({"timestamp": _stamp(minute), "request": body})
    return rows


@PROPERTY
@given(steps=steps)
def test_random_resumed_conversations_report_the_same_when_parked(tmp_path_factory, steps):
    path = write_log(tmp_path_factory.mktemp("parking") / "log.jsonl", _random_log(steps))
    reports, kept = [], (threads.PARK_AFTER, threads.PARK_MIN)
    for park_after in (10**9, 0):
        # (not monkeypatch: hypothesis runs every example in one test)
        threads.PARK_AFTER, threads.PARK_MIN = park_after, 0
        try:
            reports.append(json_report.render(engine.run([str(path)], RULES, engine.Options())))
        finally:
            threads.PARK_AFTER, threads.PARK_MIN = kept
    assert reports[0] == reports[1]
