"""GitHub Actions annotations: exact lines for the demo log, workflow-command escaping."""

from __future__ import annotations

import orjson
from conftest import FIXTURES, ROOT
from prefixlint import engine
from prefixlint.cli import app
from prefixlint.model import Diagnostic, Finding, Location, Origin
from prefixlint.report import github
from typer.testing import CliRunner

DEMO = FIXTURES / "demo" / "broken-agent-session.jsonl"
DEMO_REL = "fixtures/demo/broken-agent-session.jsonl"

DEMO_LINES = [
    (
        "::warning file=fixtures/demo/broken-agent-session.jsonl,line=1,title=PL202 volatile-value-in-system-prompt::"
        "date `Monday, November 24, 2026` in the system prompt at character 7,946: it changes daily, so the first "
        "request each day re-processes everything after it (the rest of the system prompt and the whole conversation) "
        "(fix: Keep the system prompt byte-identical: if the model needs today's date, set it once at the start of the "
        "session and keep it, or give it in the latest user message instead.)"
    ),
    (
        "::error file=fixtures/demo/broken-agent-session.jsonl,line=4,title=PL101 tool-set-changed::"
        "tool list changed within the conversation (removed `edit_file`): everything from /tools/1 on (about 2,219 "
        "tokens, estimated) is re-processed at full price (fix: Send the same tools on every turn: keep every tool and "
        "steer with `tool_choice`, or defer tools (`defer_loading` + tool search); move work that needs other tools into "
        "a subagent.)"
    ),
    (
        "::error file=fixtures/demo/broken-agent-session.jsonl,line=8,title=PL305 tool-results-elided::"
        "the tool result of `bash` (toolu_01demo00) at /messages/2/content/0 was cut from 76 to 15 characters: "
        "everything from /messages/2/content/0 on (about 166 tokens, estimated) is re-processed at full price "
        "(fix: Leave old tool results untouched; if the context must shrink, cut once and on purpose (e.g. Anthropic "
        "context editing `clear_tool_uses`), or keep big outputs out of the conversation from the start (store them and "
        "return a short reference).)"
    ),
    (
        "::error file=fixtures/demo/broken-agent-session.jsonl,line=9,title=PL401 model-switched::"
        "model switched from `claude-sonnet-4-5` to `claude-opus-4-1` within the conversation: caches are per model, so "
        "the whole prompt (about 2,404 tokens, estimated) is re-processed at full price (fix: Keep one model per "
        "conversation; run steps that need another model as a subagent with its own context and return only its result.)"
    ),
    "prefixlint: 4 findings (3 errors, 1 warning, 0 info) in 9 requests, 3 threads, 1 file.",
]


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def test_demo_log_lines_are_exact(monkeypatch):
    monkeypatch.chdir(ROOT)
    res = invoke("check", "--format", "github", DEMO_REL)
    assert res.exit_code == 1
    assert res.stdout_bytes.decode("utf-8") == "\n".join(DEMO_LINES) + "\n"


def test_output_file(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "annotations.txt"
    res = invoke("check", "--format", "github", "--output", str(out), DEMO_REL)
    assert res.exit_code == 1 and res.stdout_bytes == b""
    assert out.read_text(encoding="utf-8").splitlines() == DEMO_LINES


def test_github_actions_is_the_default_format_in_actions(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    res = invoke("check", DEMO_REL)
    assert res.exit_code == 1
    assert res.stdout_bytes.decode("utf-8").splitlines() == DEMO_LINES


def test_without_github_actions_the_default_is_text(monkeypatch):
    monkeypatch.chdir(ROOT)
    res = invoke("check", DEMO_REL)
    assert res.exit_code == 1
    assert "::error" not in res.stdout_bytes.decode("utf-8")


def test_absolute_path_under_the_workspace_is_relative(monkeypatch):
    monkeypatch.chdir(ROOT)
    out = github.render(engine.run([str(DEMO.resolve())], _rules(), engine.Options()))
    assert out.decode("utf-8").splitlines() == DEMO_LINES


def _rules():
    from prefixlint.rules import RULES

    return RULES


def _finding(message: str, fix: str, file: str = "logs/run.jsonl", line: int | None = 3, entry=None, sev="info"):
    return Finding(
        code="PL999",
        name="odd-name",
        category="config",
        severity=sev,
        message=message,
        fix=fix,
        location=Location(file=file, line=line, entry=entry, pointer="/system/0", thread="T1", turn=2),
        fingerprint="0" * 32,
    )


def _result(findings=(), diagnostics=()) -> engine.RunResult:
    summary = engine.Summary(files=1, records=2, requests=2, threads=1)
    for f in findings:
        summary.by_severity[f.severity] += 1
    return engine.RunResult(findings=list(findings), summary=summary, diagnostics=list(diagnostics))


def test_escaping_of_data_and_properties():
    f = _finding("100% sure, really: yes\r\nsecond line", "use a, b: c", file="logs/a,b:c%.jsonl")
    first = github.render(_result([f])).decode("utf-8").splitlines()[0]
    assert first == (
        "::notice file=logs/a%2Cb%3Ac%25.jsonl,line=3,title=PL999 odd-name::"
        "100%25 sure, really: yes%0D%0Asecond line (fix: use a, b: c)"
    )


def test_escape_functions():
    assert github.escape_data("a%b\nc\rd:e,f") == "a%25b%0Ac%0Dd:e,f"
    assert github.escape_property("a%b\nc\rd:e,f") == "a%25b%0Ac%0Dd%3Ae%2Cf"
    assert github.escape_data("%0A") == "%250A"  # '%' first, so existing escapes are not decoded


def test_severities_map_to_commands_and_summary_counts():
    findings = [_finding("e", "f", sev="error"), _finding("w", "f", sev="warning"), _finding("i", "f", sev="info")]
    out = github.render(_result(findings)).decode("utf-8").splitlines()
    assert [line.split(" ", 1)[0] for line in out[:3]] == ["::error", "::warning", "::notice"]
    assert out[3] == "prefixlint: 3 findings (1 error, 1 warning, 1 info) in 2 requests, 1 thread, 1 file."
    assert len(out) == 4


def test_entry_without_line_omits_line_and_names_the_entry():
    out = github.annotation(_finding("m", "f", file="logs/run.json", line=None, entry=7))
    assert out == "::notice file=logs/run.json,title=PL999 odd-name (entry 7)::m (fix: f)"


def test_diagnostics_are_error_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = orjson.loads(DEMO.read_bytes().splitlines()[0])
    (tmp_path / "bad.jsonl").write_bytes(orjson.dumps(first) + b"\n{not json\n")
    res = invoke("check", "--format", "github", "bad.jsonl")
    lines = res.stdout_bytes.decode("utf-8").splitlines()
    errors = [line for line in lines if line.startswith("::error file=bad.jsonl,line=2::")]
    assert len(errors) == 1 and len(errors[0]) > len("::error file=bad.jsonl,line=2::")
    assert lines[-1].startswith("prefixlint: ") and lines[-1].endswith("; 1 input problem.")


def test_diagnostic_escaping_and_entries():
    d = Diagnostic(origin=Origin(file="x,y.json", entry=4), message="bad value: 50%\nnext")
    assert github.diagnostic(d) == "::error file=x%2Cy.json::entry 4: bad value: 50%25%0Anext"


def test_empty_run_prints_only_the_summary():
    assert (
        github.render(_result())
        == b"prefixlint: 0 findings (0 errors, 0 warnings, 0 info) in 2 requests, 1 thread, 1 file.\n"
    )
