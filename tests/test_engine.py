"""Engine behaviour: per-thread reporting of request rules, selection, fingerprints, eviction."""

from __future__ import annotations

from conftest import brief
from prefixlint import engine
from prefixlint.model import Origin, Record
from prefixlint.providers import anthropic
from prefixlint.rules import RULES
from prefixlint.threads import ThreadTracker

SYSTEM = "You are a support agent. Session started 2026-11-24T10:42:03Z."


def body(first: str, turns: int = 1) -> dict:
    msgs = [{"role": "user", "content": first}]
    for i in range(turns - 1):
        msgs += [{"role": "assistant", "content": f"answer {i}"}, {"role": "user", "content": f"follow-up {i}"}]
    return {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": SYSTEM, "messages": msgs}


def test_request_rule_reports_once_per_thread_even_when_memoised(lint):
    result = lint([body("Where is my order?"), body("Cancel my plan"), body("Where is my order?", 2)])
    assert brief(result) == [("PL202", 1, 1, "/system"), ("PL202", 2, 1, "/system")]
    assert [f.location.thread for f in result.findings] == ["T1", "T2"]


def test_select_and_ignore(lint):
    records = [body("Where is my order?"), {**body("Where is my order?", 2), "model": "claude-haiku-4-5"}]
    assert [f.code for f in lint(records).findings] == ["PL202", "PL401"]
    assert [f.code for f in lint(records, select=["model"]).findings] == ["PL401"]
    assert [f.code for f in lint(records, select=["PL2"]).findings] == ["PL202"]
    assert [f.code for f in lint(records, ignore=["volatile-value-in-system-prompt"]).findings] == ["PL401"]
    assert engine.unknown_selectors(RULES, ["PL0", "history", "nope"]) == ["PL0", "nope"]


def test_fingerprints_ignore_line_numbers(tmp_path):
    from conftest import write_log

    records = [body("Where is my order?"), {**body("Where is my order?", 2), "model": "claude-haiku-4-5"}]
    a = engine.run([str(write_log(tmp_path / "a.jsonl", records))], RULES, engine.Options())
    unrelated = {"model": "gpt-5", "messages": [{"role": "user", "content": "unrelated"}]}
    (tmp_path / "b").mkdir()
    b = engine.run(
        [str(write_log(tmp_path / "b" / "a.jsonl", [unrelated, records[0], unrelated, records[1]]))],
        RULES,
        engine.Options(),
    )
    assert [f.location.line for f in b.findings] != [f.location.line for f in a.findings]
    assert [f.fingerprint for f in b.findings] != []
    assert sorted(f.fingerprint for f in a.findings) == sorted(
        f.fingerprint for f in engine.run([str(write_log(tmp_path / "a.jsonl", [unrelated, *records]))], RULES, engine.Options()).findings
    )


def test_tracker_forgets_least_recent_threads_beyond_its_cap():
    tracker = ThreadTracker(max_threads=2)

    def prompt(first, turns=1):
        b = body(first, turns)
        return anthropic.normalize(b, Record(body=b, origin=Origin("x")))

    a1 = tracker.assign(prompt("conversation A"))
    tracker.assign(prompt("conversation B"))
    tracker.assign(prompt("conversation C"))  # A is forgotten
    assert tracker.forgotten == 1 and len(tracker.live) == 2
    again = tracker.assign(prompt("conversation A", 2))
    assert again.prev is None and again.thread is not a1.thread  # a new thread, no false finding
    assert tracker.forgotten == 2  # the new thread pushed out B, the least recently continued
    c2 = tracker.assign(prompt("conversation C", 2))
    assert c2.prev is not None and c2.turn == 2


def test_a_break_in_a_prompt_too_short_to_cache_costs_nothing_yet(lint):
    small = {"model": "claude-sonnet-4-5", "max_tokens": 10, "system": "Be brief.",
             "tools": [{"name": "a", "description": "A.", "input_schema": {"type": "object"}},
                       {"name": "b", "description": "B.", "input_schema": {"type": "object"}}],
             "messages": [{"role": "user", "content": "hi"}]}
    second = {**small, "tools": small["tools"][:1],
              "messages": small["messages"] + [{"role": "assistant", "content": "yo"}, {"role": "user", "content": "ok"}]}
    (finding,) = lint([small, second]).findings
    assert finding.code == "PL101"
    assert "nothing is cached yet" in finding.message and "1,024 tokens" in finding.message
    assert finding.impact["tokens"] == 0 and "minimum cacheable length" in finding.impact["note"]
