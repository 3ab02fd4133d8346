"""Claude Code transcripts: detection, per-call points (streamed replies counted once), and
PL704 (cache-read-dropped) findings inferred from usage."""

from __future__ import annotations

import orjson

from conftest import lint_records, write_log
from prefixlint import engine
from typer.testing import CliRunner

from prefixlint.cli import app
from prefixlint.model import Diagnostic
from prefixlint.rules import RULES
from prefixlint.sources import claude_code

SECRET = "hunter2-very-private-user-text"


def _ts(seconds: int) -> str:
    return f"2026-03-01T10:{seconds // 60:02d}:{seconds % 60:02d}Z"


class Session:
    """Writes transcript lines; every call's text is SECRET, which no message may quote."""

    def __init__(self, session="sess-1", version="2.1.0", model="claude-sonnet-4-5", sidechain=False, agent=None):
        self.session, self.version, self.model, self.sidechain, self.agent = session, version, model, sidechain, agent
        self.n = 0

    def _base(self, kind: str, t: int) -> dict:
        self.n += 1
        rec = {"type": kind, "uuid": f"{self.session}-{self.agent}-{self.n}", "parentUuid": None,
               "sessionId": self.session, "timestamp": _ts(t), "isSidechain": self.sidechain,
               "version": self.version, "cwd": "/repo"}
        if self.agent:
            rec["agentId"] = self.agent
        return rec

    def user(self, t: int) -> dict:
        rec = self._base("user", t)
        rec["message"] = {"role": "user", "content": SECRET}
        return rec

    def call(self, t: int, read: int, write: int = 500, mid: str | None = None, lines: int = 1, model=None) -> list[dict]:
        mid = mid or f"msg_{self.session}_{self.agent}_{self.n}"
        out = []
        for i in range(lines):
            rec = self._base("assistant", t)
            rec["requestId"] = "req_" + mid
            rec["message"] = {"id": mid, "model": model or self.model, "role": "assistant",
                              "content": [{"type": "text", "text": SECRET}],
                              "usage": {"input_tokens": 3, "cache_creation_input_tokens": write,
                                        "cache_read_input_tokens": read, "output_tokens": 10 + i}}
            out.append(rec)
        return out

    def compact(self, t: int) -> dict:
        rec = self._base("system", t)
        rec.update(subtype="compact_boundary", content=SECRET, compactMetadata={"trigger": "auto", "preTokens": 150000})
        return rec


def _found(result) -> list[tuple]:
    return [(f.code, f.location.line, f.location.thread, f.location.turn, f.severity) for f in result.findings]


def test_is_transcript_by_content(tmp_path):
    s = Session()
    summary = {"type": "summary", "summary": "x", "leafUuid": "u"}
    path = write_log(tmp_path / "log.jsonl", [summary, s.user(0), *s.call(5, 0)])
    assert claude_code.is_transcript(str(path))
    other = write_log(tmp_path / "requests.jsonl", [{"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": []}])
    assert not claude_code.is_transcript(str(other))
    assert not claude_code.is_transcript("-")


def test_streamed_reply_counts_once(tmp_path):
    s = Session()
    lines = [s.user(0), *s.call(5, 0, 20000, lines=3), s.user(6), *s.call(10, 20000, 800, lines=3)]
    path = write_log(tmp_path / "log.jsonl", lines)
    diagnostics: list[Diagnostic] = []
    points = list(claude_code.calls(str(path), diagnostics))
    assert [(p.origin.line, p.thread, p.number, p.cache_read) for p in points] == [(2, "S1", 1, 0), (6, "S1", 2, 20000)]
    assert points[1].prev is points[0] and not diagnostics
    result = lint_records(tmp_path, lines)
    assert result.findings == [] and not result.diagnostics
    assert result.summary.records == 8 and result.summary.requests == 2 and result.summary.threads == 1
    assert result.summary.skipped == {"transcript line (no API call)": 2, "transcript line (repeats a streamed reply)": 4}


def test_json_line_that_is_no_object_is_counted_as_skipped(tmp_path):
    """A bare number or list in a transcript is read (valid JSON) but is no record: skipped with a reason,
    never lost (records read = linted + skipped + unreadable)."""
    s = Session()
    lines = [s.user(0), *s.call(5, 0), 1, [2]]
    result = lint_records(tmp_path, lines)
    assert result.summary.records == 4 and result.summary.requests == 1 and result.summary.unreadable == 0
    assert result.summary.skipped == {"transcript line (no API call)": 1, "not a JSON object": 2}
    assert not result.diagnostics


def test_streamed_reply_repeating_lower_usage_is_no_drop(tmp_path):
    # the repeated lines of one reply are never compared with each other
    s = Session()
    lines = [*s.call(0, 30000, mid="m1"), *s.call(5, 40000, mid="m2", lines=3)]
    lines[-1]["message"]["usage"]["cache_read_input_tokens"] = 0
    assert lint_records(tmp_path, lines).findings == []


def test_main_session_and_sidechain_are_separate_threads(tmp_path):
    main_s = Session()
    side = Session(sidechain=True, agent="agent-1")
    lines = [
        *main_s.call(0, 0, 30000),           # 1: S1 call 1
        *side.call(2, 0, 8000),              # 2: S2 call 1 (subagent: small prefix, no drop vs main)
        *main_s.call(4, 30000, 500),         # 3: S1 call 2
        *side.call(6, 8000, 300),            # 4: S2 call 2
        *side.call(8, 1000, 7300),           # 5: S2 call 3: drop inside the sidechain
        *main_s.call(10, 30500, 200),        # 6: S1 call 3
    ]
    result = lint_records(tmp_path, lines)
    assert _found(result) == [("PL704", 5, "S2", 3, "warning")]
    assert "subagent" in result.findings[0].message
    assert result.summary.threads == 2


def test_compaction_explains_the_drop(tmp_path):
    s = Session()
    lines = [*s.call(0, 150000), s.compact(30), s.user(31), *s.call(40, 12000, 9000), *s.call(50, 2000, 900)]
    result = lint_records(tmp_path, lines)
    # the compaction silences the first drop only; the later one is unexplained
    assert _found(result) == [("PL704", 5, "S1", 3, "warning")]


def test_model_change_is_info(tmp_path):
    s = Session()
    lines = [*s.call(0, 40000), *s.call(20, 0, 41000, model="claude-opus-4-5")]
    result = lint_records(tmp_path, lines)
    assert _found(result) == [("PL704", 2, "S1", 2, "info")]
    f = result.findings[0]
    assert f.message.startswith("inferred from usage:")
    assert "claude-sonnet-4-5 -> claude-opus-4-5" in f.message


def test_gap_beyond_ttl_is_info_with_1h_fix(tmp_path):
    s = Session()
    lines = [*s.call(0, 40000), s.user(100), *s.call(7 * 60, 0, 41000)]
    result = lint_records(tmp_path, lines)
    assert _found(result) == [("PL704", 3, "S1", 2, "info")]
    f = result.findings[0]
    assert "7.0 minutes" in f.message and "5-minute TTL" in f.message
    assert '"ttl": "1h"' in f.fix


def test_gap_within_1h_ttl_is_unexplained(tmp_path):
    s = Session()
    first = s.call(0, 40000)
    first[0]["message"]["usage"]["cache_creation"] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 500}
    result = lint_records(tmp_path, [*first, *s.call(7 * 60, 0, 41000)])
    assert _found(result) == [("PL704", 2, "S1", 2, "warning")]


def test_version_change_is_info(tmp_path):
    s = Session()
    lines = [*s.call(0, 40000)]
    s.version = "2.1.1"
    lines += s.call(30, 10000, 30500)
    result = lint_records(tmp_path, lines)
    assert _found(result) == [("PL704", 2, "S1", 2, "info")]
    assert "2.1.0 -> 2.1.1" in result.findings[0].message


def test_unexplained_drop_is_warning_with_impact_and_no_content(tmp_path):
    s = Session()
    lines = [s.user(0), *s.call(5, 30000, lines=2), s.user(10), *s.call(15, 8000, 24000, lines=2)]
    result = lint_records(tmp_path, lines)
    assert _found(result) == [("PL704", 5, "S1", 2, "warning")]
    f = result.findings[0]
    assert f.message.startswith("inferred from usage:") and "30,000 to 8,000" in f.message
    assert f.location.pointer == "/message/usage/cache_read_input_tokens"
    assert f.impact["tokens"] == 22000 and f.impact["note"] == "inferred from recorded usage"
    assert f.impact["estimated"] is False and f.impact["calibrated"] is True
    assert f.impact["cost_usd"] is not None and f.impact["cost_usd"] > 0
    dumped = orjson.dumps([f.message, f.fix, f.excerpt]).decode()
    assert SECRET not in dumped


def test_small_drop_and_first_call_are_quiet(tmp_path):
    s = Session()
    result = lint_records(tmp_path, [*s.call(0, 30000), *s.call(5, 29500)])
    assert result.findings == []


def test_synthetic_and_malformed_lines(tmp_path):
    s = Session()
    synthetic = s.call(3, 0, 0, model="<synthetic>")
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [*s.call(0, 30000), *synthetic]) + b"{not json\n"
                     + orjson.dumps(s.call(9, 31000)[0]) + b"\n")
    result = engine.run([str(path)], RULES, engine.Options())
    assert result.findings == []
    assert [d.origin.line for d in result.diagnostics] == [3]
    assert result.summary.requests == 2


def test_transcript_discovered_in_directory(tmp_path):
    project = tmp_path / "projects" / "-repo"
    sub = project / "sess-1" / "subagents"
    sub.mkdir(parents=True)
    s = Session()
    write_log(project / "sess-1.jsonl", [*s.call(0, 30000), *s.call(5, 2000, 29000)])
    a = Session(sidechain=True, agent="a1")
    write_log(sub / "agent-a1.jsonl", [*a.call(0, 9000), *a.call(5, 9500)])
    result = CliRunner().invoke(app, ["check", str(tmp_path / "projects"), "--format", "json", "--fail-on", "warning"])
    assert result.exit_code == 1, result.output
    data = orjson.loads(result.stdout)
    assert data["summary"]["files"] == 2 and data["summary"]["requests"] == 4
    assert [(f["code"], f["location"]["line"], f["location"]["thread"], f["location"]["turn"], f["severity"])
            for f in data["findings"]] == [("PL704", 2, "S1", 2, "warning")]
    assert data["findings"][0]["location"]["file"].endswith("sess-1.jsonl")
