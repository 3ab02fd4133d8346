"""Baselines: write, check against, suppress, report only new findings; stable fingerprints."""

from __future__ import annotations

import json
import shutil

import orjson
import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from conftest import FIXTURES
from prefixlint import engine
from prefixlint.cli import app
from prefixlint.rules import RULES

DEMO = FIXTURES / "demo" / "broken-agent-session.jsonl"
CLEAN_ENV = {"FORCE_COLOR": None, "NO_COLOR": None, "COLUMNS": None, "PREFIXLINT_DEBUG": None, "GITHUB_ACTIONS": None}


@pytest.fixture
def project(tmp_path, monkeypatch):
    shutil.copy(DEMO, tmp_path / "demo.jsonl")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str):
    return CliRunner().invoke(app, ["check", "--isolated", *args], env=CLEAN_ENV)


def report(result) -> dict:
    return orjson.loads(result.stdout)


def test_round_trip(project):
    written = cli("--write-baseline", "baseline.json", "demo.jsonl")
    assert written.exit_code == 0  # writing a baseline accepts today's findings
    assert "wrote 4 baseline entries to baseline.json" in written.stderr
    doc = json.loads((project / "baseline.json").read_text())
    assert doc["version"] == 1 and doc["tool"]["name"] == "prefixlint"
    assert sorted(e["code"] for e in doc["entries"]) == ["PL101", "PL202", "PL305", "PL401"]
    assert all(set(e) == {"fingerprint", "code", "name", "file", "thread", "turn", "pointer", "message"}
               for e in doc["entries"])
    assert all("line" not in e for e in doc["entries"])

    result = cli("-f", "json", "--baseline", "baseline.json", "demo.jsonl")
    assert result.exit_code == 0
    data = report(result)
    assert data["findings"] == []
    assert data["summary"]["suppressed"] == {"baseline": 4}
    assert data["summary"]["findings"] == {"error": 0, "warning": 0, "info": 0}
    text = cli("--baseline", "baseline.json", "demo.jsonl")
    assert text.exit_code == 0
    assert "Findings: none. Suppressed: 4 (baseline 4)." in text.stdout


def test_report_with_suppressed_counts_matches_the_schema(project):
    from importlib import resources

    cli("--write-baseline", "baseline.json", "demo.jsonl")
    data = report(cli("-f", "json", "--baseline", "baseline.json", "demo.jsonl"))
    schema = json.loads(resources.files("prefixlint").joinpath("schemas/report-v1.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(data)) == []
    plain = report(cli("-f", "json", "demo.jsonl"))
    assert "suppressed" not in plain["summary"]  # present only when something was suppressed
    assert list(Draft202012Validator(schema).iter_errors(plain)) == []


def test_baseline_file_is_deterministic(project):
    cli("--write-baseline", "one.json", "demo.jsonl")
    cli("--write-baseline", "two.json", "demo.jsonl")
    one = (project / "one.json").read_text()
    assert one == (project / "two.json").read_text()
    entries = json.loads(one)["entries"]
    assert entries == sorted(entries, key=lambda e: (e["file"], e["code"], e["fingerprint"]))


def test_a_new_finding_is_reported(project):
    cli("--select", "PL1,PL2", "--write-baseline", "baseline.json", "demo.jsonl")
    result = cli("-f", "json", "--baseline", "baseline.json", "demo.jsonl")
    assert result.exit_code == 1
    data = report(result)
    assert [(f["code"], f["location"]["line"]) for f in data["findings"]] == [("PL305", 8), ("PL401", 9)]
    assert data["summary"]["suppressed"] == {"baseline": 2}
    assert data["summary"]["findings"] == {"error": 2, "warning": 0, "info": 0}


def test_exit_code_considers_only_unsuppressed_findings(project):
    cli("--select", "PL101,PL305,PL401", "--write-baseline", "baseline.json", "demo.jsonl")
    result = cli("--baseline", "baseline.json", "demo.jsonl")
    assert result.exit_code == 0  # only the PL202 warning is new
    assert cli("--baseline", "baseline.json", "--fail-on", "warning", "demo.jsonl").exit_code == 1


def test_write_and_read_together_update_the_baseline(project):
    cli("--select", "PL1", "--write-baseline", "baseline.json", "demo.jsonl")
    result = cli("-f", "json", "--baseline", "baseline.json", "--write-baseline", "baseline.json", "demo.jsonl")
    assert report(result)["summary"]["suppressed"] == {"baseline": 1}
    assert len(json.loads((project / "baseline.json").read_text())["entries"]) == 4


def _unrelated_records() -> list[str]:
    """Lines of another conversation and records that are not requests."""
    other = {"model": "claude-haiku-4-5", "max_tokens": 64, "system": "Translate to French.",
             "messages": [{"role": "user", "content": "Good morning"}]}
    return [
        json.dumps({"session": "someone-else", "request": other}),
        json.dumps({"type": "response", "id": "msg_1", "usage": {"input_tokens": 3}}),
        json.dumps({"session": "someone-else", "request": {**other, "messages": [
            *other["messages"], {"role": "assistant", "content": "Bonjour"}, {"role": "user", "content": "Thanks"}]}}),
    ]


def test_fingerprints_survive_inserted_lines(project):
    cli("--write-baseline", "baseline.json", "demo.jsonl")
    before = report(cli("-f", "json", "demo.jsonl"))["findings"]
    lines = DEMO.read_text().splitlines()
    (project / "demo.jsonl").write_text("\n".join([*_unrelated_records(), *lines[:5], *_unrelated_records(),
                                                   *lines[5:]]) + "\n")
    after = report(cli("-f", "json", "demo.jsonl"))["findings"]
    assert [f["location"]["line"] for f in before] == [1, 4, 8, 9]
    assert [(f["code"], f["location"]["line"]) for f in after] == [
        ("PL202", 4), ("PL101", 7), ("PL305", 14), ("PL401", 15),
    ]
    assert {f["fingerprint"] for f in after} == {f["fingerprint"] for f in before}
    result = cli("-f", "json", "--baseline", "baseline.json", "demo.jsonl")
    assert result.exit_code == 0
    assert report(result)["findings"] == []
    assert report(result)["summary"]["suppressed"] == {"baseline": 4}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "baseline file not found"),
        ("{", "not a baseline (invalid JSON"),
        ("[]", "not a prefixlint baseline"),
        ('{"version": 2, "entries": []}', "not a prefixlint baseline (version"),
        ('{"version": 1, "entries": [{"code": "PL101"}]}', "not a prefixlint baseline (entries/0"),
    ],
)
def test_invalid_baseline_is_a_usage_error(project, content, problem):
    if content is not None:
        (project / "baseline.json").write_text(content)
    result = cli("--baseline", "baseline.json", "demo.jsonl")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("prefixlint: error: baseline.json: ") and problem in lines[0]


def test_unwritable_baseline_is_a_usage_error(project):
    result = cli("--write-baseline", str(project / "missing" / "b.json"), "demo.jsonl")
    assert result.exit_code == 2
    assert "cannot write the baseline" in result.stderr


def test_engine_apply_baseline_adjusts_the_summary(project):
    result = engine.run(["demo.jsonl"], RULES, engine.Options())
    keep = result.findings[0]
    engine.apply_baseline(result, {f.fingerprint for f in result.findings[1:]})
    assert result.findings == [keep]
    assert result.summary.suppressed == {"baseline": 3}
    assert sum(result.summary.by_severity.values()) == 1
