"""The Markdown report for pull-request comments: structure, escaping, the length cap."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from prefixlint.cache.simulator import ThreadStats
from prefixlint.cli import app
from prefixlint.engine import RunResult, Summary
from prefixlint.model import Finding, Location
from prefixlint.report import markdown
from typer.testing import CliRunner

DEMO = "fixtures/demo/broken-agent-session.jsonl"
CLEAN_ENV = {"FORCE_COLOR": None, "NO_COLOR": None, "COLUMNS": None, "GITHUB_ACTIONS": None, "PREFIXLINT_DEBUG": None}


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def check(*args: str):
    return CliRunner().invoke(app, ["check", DEMO, "--format", "markdown", *args], env=CLEAN_ENV)


def table(lines: list[str], header: str) -> list[list[str]]:
    """The rows (cells split on unescaped pipes) of the table whose header line starts with ``header``."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = line.replace("\\|", "\x00").strip("|").split("|")
        rows.append([c.strip().replace("\x00", "\\|") for c in cells])
    return rows


def test_demo_report_structure(in_root):
    result = check()
    assert result.exit_code == 1, result.output
    text = result.stdout
    lines = text.splitlines()
    assert lines[0] == "## :x: prefixlint: 3 errors, 1 warning, 0 info"
    assert lines[2] == "Checked 1 file: 9 records, 9 requests in 3 threads."
    assert "### Findings" in lines and "### Cache by thread" in lines
    assert lines.index("### Findings") < lines.index("### Cache by thread")

    header = "| Location | Thread | Turn | Severity | Rule | Message | Impact |"
    assert header in lines
    assert lines[lines.index(header) + 1] == "| --- | --- | ---: | --- | --- | --- | ---: |"
    rows = table(lines, header)
    assert [r[:5] for r in rows] == [
        [f"{DEMO}:1", "T1", "1", "warning", "PL202 volatile-value-in-system-prompt"],
        [f"{DEMO}:4", "T1", "3", "error", "PL101 tool-set-changed"],
        [f"{DEMO}:8", "T1", "5", "error", "PL305 tool-results-elided"],
        [f"{DEMO}:9", "T1", "6", "error", "PL401 model-switched"],
    ]
    assert all(len(r) == 7 for r in rows)
    assert rows[0][6] == "~2,011 tokens, $0.0069"
    assert rows[1][5].startswith("tool list changed within the conversation (removed \\`edit_file\\`)")
    assert all(len(r[5]) <= markdown.MESSAGE_CHARS + 10 for r in rows)

    threads = table(lines, "| File | Thread | Requests |")
    assert [r[1:3] for r in threads] == [["T1", "6"], ["T2", "1"], ["T3", "2"]]
    assert threads[0][3:] == ["48%", "82%", "-", "6,800", "$0.0566"]
    assert any(line.startswith("All threads: predicted hit rate 48%, ideal (append-only) 74%") for line in lines)

    assert "<details><summary>How to fix (4 findings)</summary>" in lines
    assert lines[-1] == "</details>"
    details = "\n".join(lines[lines.index("<details><summary>How to fix (4 findings)</summary>"):])
    for code in ("PL202", "PL101", "PL305", "PL401"):
        assert f"- **{code} " in details
    assert "  - Fix: Keep one model per conversation;" in details
    assert text.endswith("</details>\n")


def test_output_file_is_deterministic(in_root, tmp_path):
    out = tmp_path / "comment.md"
    result = check("--output", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == check().stdout
    assert check("--output", str(tmp_path / "again.md")).exit_code == 1
    assert (tmp_path / "again.md").read_bytes() == out.read_bytes()


def _finding(n: int, message: str = "message", fix: str = "fix it", code: str = "PL101") -> Finding:
    loc = Location(file="a|b.jsonl", line=n, entry=None, pointer="/tools/0", thread="T1", turn=n)
    return Finding(code, "tool-set-changed", "tools", "error", message, fix, loc, f"fp{n}",
                   impact={"tokens": 1000 + n, "cost_usd": 0.01, "model": "m", "estimated": True, "calibrated": False})


def _result(findings: list[Finding], threads: list | None = None) -> RunResult:
    summary = Summary(files=1, records=len(findings), requests=len(findings), threads=1)
    for f in findings:
        summary.by_severity[f.severity] += 1
    return RunResult(findings=findings, summary=summary, diagnostics=[], threads=threads or [])


def test_cell_escaping():
    assert markdown.cell("a | b") == "a \\| b"
    assert markdown.cell("run `x|y`") == "run \\`x\\|y\\`"
    assert markdown.cell("line\nbreak\r\n  here") == "line break here"
    assert markdown.cell("<img src=x>") == "&lt;img src=x&gt;"
    assert markdown.cell("back\\slash|") == "back\\\\slash\\|"


def test_table_cells_cannot_break_rows():
    nasty = "tool `a|b` was\nremoved | <script>alert(1)</script>"
    text = markdown.document(_result([_finding(1, message=nasty, fix="use `x` <b>not</b> y")]))
    rows = [line for line in text.splitlines() if line.startswith("| a")]
    assert len(rows) == 1
    cells = rows[0].replace("\\|", "\x00").strip("|").split("|")
    assert len(cells) == 7
    assert "tool \\`a\\|b\\` was removed \\| &lt;script&gt;" in rows[0]
    assert "<script>" not in text and "<b>" not in text
    assert "  - Fix: use `x` &lt;b&gt;not&lt;/b&gt; y" in text
    assert rows[0].startswith("| a\\|b.jsonl:1 | T1 | 1 | error | PL101 tool-set-changed |")


def test_no_findings():
    thread = ThreadStats(file="x.jsonl", thread="T1", requests=2, total=200, predicted_read=100, ideal_read=100)
    text = markdown.document(_result([], [thread]))
    assert text.splitlines()[0] == "## :white_check_mark: prefixlint: no findings"
    assert "### Findings" not in text and "<details>" not in text
    assert "| x.jsonl | T1 | 2 | 50% | 50% | - | 0 | $0.0000 |" in text


def test_truncated_to_github_limit():
    findings = [_finding(i, message="x" * 150, fix="y" * 400) for i in range(1, 401)]
    text = markdown.document(_result(findings))
    assert len(text) <= markdown.MAX_CHARS
    rows = [line for line in text.splitlines() if line.startswith("| a")]
    assert 0 < len(rows) < 400
    assert f"> **Truncated:** {400 - len(rows):,} of 400 findings are not shown" in text
    assert f"How to fix ({len(rows):,} findings)" in text
    assert text.rstrip().endswith("</details>")
    # as many as fit: one more would not
    assert len(markdown._compose(_result(findings), markdown.ordered(findings), len(rows) + 1)) > markdown.MAX_CHARS


def test_small_limit_still_respected():
    findings = [_finding(i) for i in range(1, 30)]
    text = markdown.document(_result(findings), limit=500)
    assert len(text) <= 500
    assert "Truncated" in text


def test_render_is_utf8_bytes():
    data = markdown.render(_result([_finding(1, message="café … ok")]))
    assert isinstance(data, bytes)
    assert "café … ok" in data.decode("utf-8")
    assert markdown.render(_result([_finding(1)])) == markdown.render(_result([_finding(1)]))


def test_findings_grouped_by_thread():
    a = _finding(5)
    b = _finding(2)
    b.location.thread = "T10"
    c = _finding(9)
    c.location.thread = "T2"
    assert [f.location.thread for f in markdown.ordered([b, a, c])] == ["T1", "T2", "T10"]


def test_module_path_is_the_cli_format():
    assert Path(markdown.__file__).name == "markdown.py"
