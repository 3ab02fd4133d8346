"""The bundled demo logs (the README's quick start) give exactly the findings they are meant to."""

from __future__ import annotations

import subprocess
import sys

from conftest import FIXTURES, ROOT
from prefixlint import engine
from prefixlint.rules import RULES

CLEAN = FIXTURES / "demo" / "clean-agent-session.jsonl"
BROKEN = FIXTURES / "demo" / "broken-agent-session.jsonl"


def located(path):
    result = engine.run([str(path)], RULES, engine.Options())
    assert not result.diagnostics
    return result, [
        (f.code, f.severity, f.location.line, f.location.thread, f.location.turn, f.location.pointer)
        for f in result.findings
    ]


def test_clean_session_has_no_finding():
    result, found = located(CLEAN)
    assert found == []
    # main loop, title side call, subagent
    assert (result.summary.requests, result.summary.threads) == (9, 3)
    assert result.exit_code("info") == 0


def test_broken_session_findings():
    result, found = located(BROKEN)
    assert found == [
        ("PL202", "warning", 1, "T1", 1, "/system/0"),  # "Today is Monday, November 24, 2026."
        ("PL101", "error", 4, "T1", 3, "/tools/1"),  # edit_file removed ("plan mode")
        ("PL305", "error", 8, "T1", 5, "/messages/2/content/0"),  # an old tool result elided
        ("PL401", "error", 9, "T1", 6, "/model"),  # sonnet -> haiku
    ]
    assert result.summary.threads == 3
    assert result.exit_code("error") == 1


def test_quick_start_command_prints_the_report():
    proc = subprocess.run(
        [sys.executable, "-m", "prefixlint", "check", "fixtures/demo/broken-agent-session.jsonl"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert "fixtures/demo/broken-agent-session.jsonl:4" in out and "PL101 tool-set-changed" in out
    assert "thread T1" in out and "fix:" in out
    assert "Findings: 3 errors, 1 warning, 0 info." in out
    assert "\x1b[" not in out
