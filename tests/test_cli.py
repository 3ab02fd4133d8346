"""The command line: exact findings, exit codes, selection, input errors, the other commands."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
from typer.testing import CliRunner

from conftest import ROOT, write_log
from prefixlint import __version__, engine
from prefixlint import rules as catalogue
from prefixlint.cli import app
from prefixlint.model import Violation
from prefixlint.rulebase import DOC_SECTIONS, Rule

# Environment variables that would make rich colour a pipe: tests must see what a pipe sees.
CLEAN_ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "NO_COLOR": None,
             "COLUMNS": None, "PREFIXLINT_DEBUG": None}

TOOLS = [
    {"name": name, "description": f"{name.title()} a file.", "input_schema": {"type": "object", "properties": {}}}
    for name in ("read", "write", "search")
]
SYSTEM = "You are a coding agent. Keep changes small."


def conversation(topic: str = "the failing test", systems: list[str] | None = None, drop_tool: bool = True) -> list:
    """Turn 2 removes the `write` tool (/tools/1) unless told not to, turn 3 switches the model."""
    systems = systems or [SYSTEM] * 3
    later = [TOOLS[0], TOOLS[2]] if drop_tool else TOOLS
    m1 = [{"role": "user", "content": f"Please fix {topic}."}]
    m2 = [*m1, {"role": "assistant", "content": f"Reading {topic} first."}, {"role": "user", "content": "Go on."}]
    m3 = [*m2, {"role": "assistant", "content": f"Fixed {topic}."}, {"role": "user", "content": "Summarise."}]
    return [
        {"model": "claude-sonnet-4-5", "max_tokens": 512, "system": systems[0], "tools": TOOLS, "messages": m1},
        {"model": "claude-sonnet-4-5", "max_tokens": 512, "system": systems[1], "tools": later, "messages": m2},
        {"model": "claude-haiku-4-5", "max_tokens": 512, "system": systems[2], "tools": later, "messages": m3},
    ]


EXPECTED = [
    ("PL101", "log.jsonl:2", "T1", 2, "/tools/1"),
    ("PL401", "log.jsonl:3", "T1", 3, "/model"),
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_log(tmp_path / "log.jsonl", conversation())
    return "log.jsonl"


def invoke(runner: CliRunner, *args: str, input: bytes | str | None = None, env: dict | None = None):
    return runner.invoke(app, list(args), input=input, env={**CLEAN_ENV, **(env or {})})


def found(result) -> list[tuple]:
    data = orjson.loads(result.stdout)
    out = []
    for f in data["findings"]:
        loc = f["location"]
        where = f"{loc['file']}:{loc['line']}" if loc["line"] is not None else f"{loc['file']}#{loc['entry']}"
        out.append((f["code"], where, loc["thread"], loc["turn"], loc["pointer"]))
    return out


def codes(result) -> list[str]:
    return [f["code"] for f in orjson.loads(result.stdout)["findings"]]


def one_error_line(result, *needles: str) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("prefixlint: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in result.output
    return lines[0]


# -- check: findings and reports --------------------------------------------------------------------
def test_check_reports_exact_findings(runner, log):
    result = invoke(runner, "check", log, "--format", "json")
    assert result.exit_code == 1, result.output
    assert found(result) == EXPECTED
    assert result.stderr == ""


def test_text_report_shows_every_field_and_no_ansi(runner, log):
    result = invoke(runner, "check", log)
    assert result.exit_code == 1
    out = result.stdout
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0] == "log.jsonl"
    assert lines[1].strip().startswith("thread T1")
    header = next(line for line in lines if "PL101" in line)
    for part in ("log.jsonl:2", "turn 2", "error", "PL101 tool-set-changed", "/tools/1"):
        assert part in header
    assert any(line.strip().startswith("tool list changed") for line in lines)
    assert any(line.strip() == "- before: claude-sonnet-4-5" for line in lines)
    assert any(line.strip() == "+ after: claude-haiku-4-5" for line in lines)
    assert sum(line.strip().startswith("fix: ") for line in lines) == 2
    assert "Checked 1 file: 3 records, 3 requests in 1 thread." in out
    assert "Findings: 2 errors, 0 warnings, 0 info." in out


def test_text_report_does_not_wrap_long_paths(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    deep = tmp_path / ("a-rather-long-directory-name-" * 6) / "logs"
    deep.mkdir(parents=True)
    path = write_log(deep / "conversation-with-a-long-file-name.jsonl", conversation())
    result = invoke(runner, "check", str(path), env={"COLUMNS": "40"})
    assert result.stdout.splitlines()[2] == f"    {path}:2  turn 2  error  PL101 tool-set-changed  at /tools/1"


def test_no_color_and_output_file(runner, log, tmp_path):
    out = tmp_path / "report.txt"
    result = invoke(runner, "check", log, "--output", str(out), env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    assert result.stdout == ""
    text = out.read_text()
    assert "PL401 model-switched" in text and "\x1b[" not in text


def test_output_file_json(runner, log, tmp_path):
    out = tmp_path / "report.json"
    result = invoke(runner, "check", log, "-f", "json", "-o", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    assert [f["code"] for f in orjson.loads(out.read_bytes())["findings"]] == ["PL101", "PL401"]


def test_output_file_that_cannot_be_written(runner, log, tmp_path):
    result = invoke(runner, "check", log, "--output", str(tmp_path / "no-such-dir" / "r.json"))
    assert result.exit_code == 2
    one_error_line(result, "cannot write")


def test_stdin(runner, tmp_path):
    data = b"".join(orjson.dumps(r) + b"\n" for r in conversation())
    result = invoke(runner, "check", "-", "--format", "json", input=data)
    assert result.exit_code == 1, result.output
    assert found(result) == [(code, where.replace("log.jsonl", "<stdin>"), *rest) for code, where, *rest in EXPECTED]


def test_clean_log_exits_zero(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_log(tmp_path / "ok.jsonl", conversation()[:1])
    result = invoke(runner, "check", "ok.jsonl")
    assert result.exit_code == 0
    assert "Findings: none." in result.stdout


# -- exit codes -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fail_on", "code"), [("error", 1), ("warning", 1), ("info", 1), ("never", 0)])
def test_fail_on_with_errors(runner, log, fail_on, code):
    assert invoke(runner, "check", log, "--fail-on", fail_on).exit_code == code


def _fake_rule(severity: str) -> Rule:
    def check(pair):
        yield Violation(message=f"a {severity}", fix="nothing", pointer="/messages")

    return Rule(f"PL99{'ewi'.index(severity[0])}", f"test-{severity}-rule", "config", severity, "pair", check,
                "doc", "tests")


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("warning", {"error": 0, "warning": 1, "info": 1, "never": 0}),
        ("info", {"error": 0, "warning": 0, "info": 1, "never": 0}),
    ],
)
def test_fail_on_thresholds(runner, tmp_path, monkeypatch, severity, expected):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(catalogue, "RULES", [_fake_rule(severity)])
    turns = conversation()
    same_tools = [turns[0], {**turns[1], "tools": TOOLS}]  # a clean append: only the fake rule fires
    write_log(tmp_path / "log.jsonl", same_tools)
    for fail_on, code in expected.items():
        result = invoke(runner, "check", "log.jsonl", "--fail-on", fail_on, "--format", "json")
        assert result.exit_code == code, (fail_on, result.output)
        assert [f["severity"] for f in orjson.loads(result.stdout)["findings"]] == [severity]


def test_invalid_fail_on_is_a_usage_error(runner, log):
    result = invoke(runner, "check", log, "--fail-on", "sometimes")
    assert result.exit_code == 2
    one_error_line(result, "--fail-on")


# -- selection --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--select", "PL101"], ["PL101"]),
        (["--select", "pl401"], ["PL401"]),
        (["--select", "PL1"], ["PL101"]),
        (["--select", "PL4"], ["PL401"]),
        (["--select", "tools"], ["PL101"]),
        (["--select", "model"], ["PL401"]),
        (["--select", "model-switched"], ["PL401"]),
        (["--select", "PL101,model-switched"], ["PL101", "PL401"]),
        (["--select", "PL101", "--select", "model"], ["PL101", "PL401"]),
        (["--ignore", "PL101"], ["PL401"]),
        (["--ignore", "PL1"], ["PL401"]),
        (["--ignore", "tools,model"], []),
        (["--ignore", "tool-set-changed"], ["PL401"]),
        (["--select", "PL1,PL4", "--ignore", "PL401"], ["PL101"]),
        (["--select", "ALL"], ["PL101", "PL401"]),
    ],
)
def test_select_and_ignore(runner, log, args, expected):
    result = invoke(runner, "check", log, "--format", "json", *args)
    assert codes(result) == expected
    assert result.exit_code == (1 if expected else 0)


@pytest.mark.parametrize("args", [["--select", "PL999"], ["--ignore", "no-such-rule"], ["--select", "PL101,bogus"]])
def test_unknown_selector_is_a_usage_error(runner, log, args):
    result = invoke(runner, "check", log, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    one_error_line(result, args[1].split(",")[-1])


# -- usage and input errors -------------------------------------------------------------------------
def test_no_paths_is_a_usage_error(runner):
    result = invoke(runner, "check")
    assert result.exit_code == 2
    one_error_line(result)


@pytest.mark.parametrize("args", [["check", "--no-such-option", "x"], ["frobnicate"], [], ["check", "-f", "xml", "x"]])
def test_click_usage_errors_are_one_line(runner, args):
    result = invoke(runner, *args)
    assert result.exit_code == 2
    one_error_line(result)


def test_missing_path_still_lints_the_others(runner, log):
    result = invoke(runner, "check", "missing.jsonl", log, "--format", "json")
    assert result.exit_code == 2
    one_error_line(result, "missing.jsonl", "no such file or directory")
    assert found(result) == EXPECTED
    data = orjson.loads(result.stdout)
    assert [(d["file"], d["line"]) for d in data["diagnostics"]] == [("missing.jsonl", None)]


def test_invalid_lines_become_diagnostics(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    turns = [orjson.dumps(r) for r in conversation()]
    data = b"\n".join([turns[0], b'{"model": "claude-sonnet-4-5", "messages": [}', turns[1], b"\xff\xfe{}", turns[2]])
    (tmp_path / "bad.jsonl").write_bytes(data + b"\n")

    result = invoke(runner, "check", "bad.jsonl", "--format", "json")
    assert result.exit_code == 1  # the readable lines are linted and judged on their findings
    report = orjson.loads(result.stdout)
    assert [(d["file"], d["line"]) for d in report["diagnostics"]] == [("bad.jsonl", 2), ("bad.jsonl", 4)]
    assert "invalid JSON" in report["diagnostics"][0]["message"]
    assert "invalid UTF-8" in report["diagnostics"][1]["message"]
    assert [(f["code"], f["location"]["line"]) for f in report["findings"]] == [("PL101", 3), ("PL401", 5)]

    text = invoke(runner, "check", "bad.jsonl")
    assert text.exit_code == 1
    assert invoke(runner, "check", "bad.jsonl", "--fail-on", "never").exit_code == 0
    assert "bad.jsonl:2: invalid JSON" in text.stdout
    assert "bad.jsonl:4: invalid UTF-8" in text.stdout
    assert "Traceback" not in text.output


def test_unexpected_errors_are_one_line(runner, log, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(engine, "run", boom)
    result = invoke(runner, "check", log)
    assert result.exit_code == 2
    one_error_line(result, "internal error", "kaboom")


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"prefixlint {__version__}"


# -- rules, rule ------------------------------------------------------------------------------------
def test_rules_lists_every_rule(runner):
    result = invoke(runner, "rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "CATEGORY", "SEVERITY", "SCOPE", "SUMMARY"]
    for rule in catalogue.RULES:
        row = next(line for line in lines if line.startswith(rule.code + " "))
        assert row.split()[:5] == [rule.code, rule.name, rule.category, rule.severity, rule.scope]
        assert row.endswith(rule.summary)
    assert len(lines) == len(catalogue.RULES) + 1


def test_rules_json(runner):
    result = invoke(runner, "rules", "--format", "json")
    data = orjson.loads(result.stdout)
    assert [(r["code"], r["name"]) for r in data["rules"]] == [(r.code, r.name) for r in catalogue.RULES]


@pytest.mark.parametrize("key", ["PL101", "pl101", "tool-set-changed"])
def test_rule_prints_its_documentation(runner, key):
    result = invoke(runner, "rule", key)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "PL101 tool-set-changed (tools, error)"
    for heading in DOC_SECTIONS:
        assert heading in lines
    assert "\x1b[" not in result.stdout


def test_unknown_rule(runner):
    result = invoke(runner, "rule", "PL999")
    assert result.exit_code == 2
    one_error_line(result, "PL999")


# -- diff -------------------------------------------------------------------------------------------
def test_diff_explains_the_model_switch(runner, log):
    result = invoke(runner, "diff", f"{log}:3")
    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = out.splitlines()
    assert lines[0].startswith("request   log.jsonl:3  anthropic messages  model claude-haiku-4-5")
    assert "(thread T1, turn 3)" in lines[0]
    assert lines[1].startswith("previous  log.jsonl:2  anthropic messages  model claude-sonnet-4-5")
    shared = next(line for line in lines if line.startswith("shared prefix: "))
    assert shared.startswith("shared prefix: 6 of 8 blocks")
    assert "the model changed" in shared
    assert "change: model switch" in out
    assert "model: claude-sonnet-4-5 -> claude-haiku-4-5" in lines
    assert any(line.startswith("sections: tools same (2->2), system same (1->1), messages append (3->5)")
               for line in lines)
    assert any("PL401 model-switched" in line for line in lines)


def test_diff_json_explains_the_removed_tool(runner, log):
    result = invoke(runner, "diff", f"{log}:2", "--format", "json")
    assert result.exit_code == 0, result.output
    exp = orjson.loads(result.stdout)["explanation"]
    assert exp["request"]["origin"] == "log.jsonl:2"
    assert exp["previous"]["origin"] == "log.jsonl:1"
    assert (exp["thread"], exp["turn"]) == ("T1", 2)
    assert (exp["kind"], exp["section"], exp["pointer"]) == ("delete", "tools", "/tools/1")
    assert exp["shared_blocks"] == 1 and exp["total_blocks"] == 6
    assert 0 < exp["shared_tokens"] < exp["total_tokens"]
    assert exp["before"].startswith('{"name":"write"') and exp["after"].startswith('{"name":"search"')
    assert exp["details"] == []  # the blocks at a deletion are different tools: nothing to deepdiff
    assert {s["section"]: s["kind"] for s in exp["sections"]} == {
        "tools": "delete", "system": "same", "messages": "append",
    }
    assert [r["code"] for r in exp["rules"]] == ["PL101"]


def test_diff_of_two_requests(runner, log):
    result = invoke(runner, "diff", f"{log}:1", f"{log}:3", "--format", "json")
    assert result.exit_code == 0, result.output
    exp = orjson.loads(result.stdout)["explanation"]
    assert exp["previous"]["origin"] == "log.jsonl:1" and exp["request"]["origin"] == "log.jsonl:3"
    assert exp["thread"] is None
    assert exp["model"] == {"before": "claude-sonnet-4-5", "after": "claude-haiku-4-5"}
    assert exp["reusable_tokens"] == 0


def test_diff_of_a_first_turn(runner, log):
    result = invoke(runner, "diff", f"{log}:1")
    assert result.exit_code == 0
    assert "starts thread T1" in result.stdout


def test_diff_settings_change(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    turns = conversation()
    write_log(tmp_path / "s.jsonl", [turns[0], {**turns[0], "tool_choice": {"type": "any"},
                                                 "messages": turns[1]["messages"]}])
    result = invoke(runner, "diff", "s.jsonl:2")
    assert result.exit_code == 0, result.output
    assert 'tool_choice (/tool_choice): (absent) -> {"type":"any"}' in result.stdout


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("log.jsonl:9", "no request at this line"),
        ("log.jsonl:0", "line numbers start at 1"),
        ("missing.jsonl:1", "no such file or directory"),
        ("log.jsonl", "expected LOG:LINE"),
        ("mixed.jsonl:2", "not a request"),
        ("mixed.jsonl:3", "invalid JSON"),
    ],
)
def test_diff_errors(runner, log, tmp_path, target, needle):
    (tmp_path / "mixed.jsonl").write_bytes(
        orjson.dumps(conversation()[0]) + b"\n" + orjson.dumps({"type": "message", "role": "assistant"}) + b"\n{\n"
    )
    result = invoke(runner, "diff", target)
    assert result.exit_code == 2
    one_error_line(result, needle)
    assert result.stdout == ""


def test_diff_takes_at_most_two_requests(runner, log):
    result = invoke(runner, "diff", f"{log}:1", f"{log}:2", f"{log}:3")
    assert result.exit_code == 2
    one_error_line(result)


# -- secrets ----------------------------------------------------------------------------------------
SECRET_KEY = "sk-ant-api03-" + "Qm7xT2vLp9" * 8 + "AA"
BEARER = "eyZ0bGciOiJIUzI1NiJ9abcdefghij0123456789xyzXYZ"


def test_secrets_never_reach_any_output(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    systems = [
        f"You are a coding agent. Today is {day}. Use key {SECRET_KEY} for the API. "
        f"Send Authorization: Bearer {BEARER} on every call."
        for day in ("Monday", "Tuesday", "Wednesday")
    ]
    write_log(tmp_path / "secret.jsonl", conversation(systems=systems, drop_tool=False))
    outputs = []
    for args in (
        ["check", "secret.jsonl"],
        ["check", "secret.jsonl", "--format", "json"],
        ["diff", "secret.jsonl:2"],
        ["diff", "secret.jsonl:2", "--format", "json"],
        ["diff", "secret.jsonl:1", "secret.jsonl:3"],
    ):
        result = invoke(runner, *args)
        assert result.exit_code in (0, 1), result.output
        outputs.append(result.output)
    everything = "\n".join(outputs)
    for fragment in ("Qm7xT2vLp9", "sk-ant-api03", BEARER[:12], BEARER[-12:]):
        assert fragment not in everything
    diff_text = outputs[2]
    assert "first divergence: /system" in diff_text
    assert "Today is Monday. Use key [REDACTED]" in diff_text
    assert "Today is Tuesday. Use key [REDACTED]" in diff_text
    assert "[REDACTED]" in outputs[3]


# -- a real process ---------------------------------------------------------------------------------
def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    return env


def test_python_dash_m(tmp_path):
    write_log(tmp_path / "log.jsonl", conversation())
    proc = subprocess.run(
        [sys.executable, "-m", "prefixlint", "check", "log.jsonl", "--format", "json"],
        cwd=tmp_path, capture_output=True, env=_env(), timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    data = orjson.loads(proc.stdout)
    got = [(f["code"], f"{f['location']['file']}:{f['location']['line']}", f["location"]["thread"],
            f["location"]["turn"], f["location"]["pointer"]) for f in data["findings"]]
    assert got == EXPECTED
    assert proc.stderr == b""

    missing = subprocess.run(
        [sys.executable, "-m", "prefixlint", "check", "nope.jsonl"], cwd=tmp_path, capture_output=True, env=_env(),
        timeout=120,
    )
    assert missing.returncode == 2
    assert missing.stderr.decode().splitlines() == ["prefixlint: error: nope.jsonl: no such file or directory"]


def test_broken_pipe_is_quiet(tmp_path):
    records = []
    for i in range(300):
        records.extend(conversation(f"bug number {i} in module_{i}.py"))
    write_log(tmp_path / "big.jsonl", records)
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefixlint", "check", "big.jsonl"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert first.strip() == b"big.jsonl"
    assert b"Traceback" not in err and b"Exception ignored" not in err and b"BrokenPipe" not in err
    assert proc.returncode in (0, 1)


def test_package_metadata_maps_the_console_script():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'prefixlint = "prefixlint.cli:main"' in text


def test_secret_cut_at_the_excerpt_edge_does_not_leak(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    systems = [f"Day {day}. padding paddi {SECRET_KEY} end." for day in ("Monday", "Tuesday", "Wednesday")]
    write_log(tmp_path / "edge.jsonl", conversation(systems=systems, drop_tool=False))
    result = invoke(runner, "check", "edge.jsonl", "--format", "json")
    assert "sk-ant-api03" not in result.stdout and "Qm7x" not in result.stdout


def test_directory_without_logs_warns(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    proc = subprocess.run(
        [sys.executable, "-m", "prefixlint", "check", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    assert proc.stderr == "prefixlint: warning: no log files found (looked for *.json, *.jsonl, *.ndjson, *.har and their .gz or .zst, VCR cassettes and harness configurations)\n"


def test_a_file_with_nothing_readable_exits_2(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.jsonl").write_bytes(b"{not json\n\xff\xfe\n")
    result = invoke(runner, "check", "junk.jsonl", "--fail-on", "never")
    assert result.exit_code == 2
    assert "junk.jsonl:1: invalid JSON" in result.stdout and "junk.jsonl:2: invalid UTF-8" in result.stdout


def test_cache_tables_override_changes_the_prediction(runner, tmp_path):
    demo = str(ROOT / "fixtures" / "demo" / "broken-agent-session.jsonl")
    base = orjson.loads(invoke(runner, "check", demo, "--format", "json").stdout)
    (tmp_path / "tables.yaml").write_text(
        "providers:\n  anthropic:\n    models:\n      - match: claude-sonnet-4-5\n        min_tokens: 100000\n"
    )
    result = invoke(runner, "check", demo, "--format", "json", "--cache-tables", str(tmp_path / "tables.yaml"))
    changed = orjson.loads(result.stdout)
    assert base["summary"]["cache"]["predicted_hit_rate"] > 0.3
    # no prefix reaches the new minimum on claude-sonnet-4-5: nothing is predicted to be cached there
    sonnet = [t for t in changed["threads"] if t["model"] == "claude-sonnet-4-5"]
    assert sonnet and all(t["predicted_read_tokens"] == 0 for t in sonnet)
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("providers: {anthropic: {models: [{match: x, min_tokens: many}]}}", "min_tokens: 'many' is not of type 'integer'"),
        ("- just a list", "cache tables must be a mapping"),
        ("key: [unclosed", "not valid YAML or JSON"),
    ],
)
def test_invalid_cache_tables_are_a_usage_error(runner, tmp_path, content, message):
    (tmp_path / "tables.yaml").write_text(content)
    demo = str(ROOT / "fixtures" / "demo" / "clean-agent-session.jsonl")
    result = invoke(runner, "check", demo, "--cache-tables", str(tmp_path / "tables.yaml"))
    assert result.exit_code == 2
    one_error_line(result, "tables.yaml", message)
