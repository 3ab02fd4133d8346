"""The versioned JSON report: shape, the shipped schema, stable fingerprints."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import orjson
import pytest

from conftest import write_log
from prefixlint import __version__, engine
from prefixlint.model import CATEGORIES, SEVERITIES
from prefixlint.report import json as json_report
from prefixlint.rules import RULES

TOOLS = [
    {"name": name, "description": f"The {name} tool.", "input_schema": {"type": "object", "properties": {}}}
    for name in ("read", "write", "search")
]
SYSTEM = "You are a careful coding agent working in a large repository."


def conversation(first: str = "Fix the failing test in tests/test_app.py") -> list[dict]:
    """Three turns: turn 2 removes the `write` tool, turn 3 switches model."""
    m1 = [{"role": "user", "content": first}]
    m2 = [*m1, {"role": "assistant", "content": f"Looking into: {first}"}, {"role": "user", "content": "Go on."}]
    m3 = [*m2, {"role": "assistant", "content": f"Done: {first}"}, {"role": "user", "content": "Write the summary."}]
    base = {"max_tokens": 1024, "system": SYSTEM}
    return [
        {"model": "claude-sonnet-4-5", **base, "tools": TOOLS, "messages": m1},
        {"model": "claude-sonnet-4-5", **base, "tools": [TOOLS[0], TOOLS[2]], "messages": m2},
        {"model": "claude-haiku-4-5", **base, "tools": [TOOLS[0], TOOLS[2]], "messages": m3},
    ]


RESPONSE = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "ok"}]}


@pytest.fixture(scope="module")
def schema() -> dict:
    text = resources.files("prefixlint").joinpath("schemas/report-v1.json").read_text(encoding="utf-8")
    data = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(data)
    return data


def validate(schema: dict, document: dict) -> None:
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)


def run(path) -> engine.RunResult:
    return engine.run([str(path)], RULES, engine.Options())


def test_schema_enums_match_the_model(schema):
    defs = schema["$defs"]
    assert tuple(defs["category"]["enum"]) == CATEGORIES
    assert tuple(defs["severity"]["enum"]) == SEVERITIES


def test_report_with_findings_diagnostics_and_skipped_records_validates(tmp_path, schema):
    log = tmp_path / "log.jsonl"
    lines = [orjson.dumps(r) for r in conversation()]
    lines.insert(1, orjson.dumps(RESPONSE))  # skipped: a response, not a request
    lines.append(b'{"model": "claude-sonnet-4-5", "messages": [')  # invalid JSON
    lines.append(b"\xff\xfe not utf-8")  # invalid UTF-8
    log.write_bytes(b"\n".join(lines) + b"\n")

    result = run(log)
    data = orjson.loads(json_report.render(result))
    validate(schema, data)

    assert data["version"] == 1
    assert data["tool"] == {"name": "prefixlint", "version": __version__}
    codes = [(f["code"], f["location"]["line"], f["location"]["pointer"]) for f in data["findings"]]
    assert ("PL101", 3, "/tools/1") in codes
    assert ("PL401", 4, "/model") in codes
    switched = next(f for f in data["findings"] if f["code"] == "PL401")
    assert switched["excerpt"] == {"before": "claude-sonnet-4-5", "after": "claude-haiku-4-5"}
    assert [(d["file"], d["line"]) for d in data["diagnostics"]] == [(str(log), 5), (str(log), 6)]
    assert data["summary"]["skipped"] == {"response, not a request": 1}
    assert data["summary"]["records"] == 4
    assert data["summary"]["requests"] == 3
    assert data["summary"]["findings"]["error"] == sum(f["severity"] == "error" for f in data["findings"])


def test_empty_report_validates(tmp_path, schema):
    log = write_log(tmp_path / "log.jsonl", conversation()[:1])
    data = orjson.loads(json_report.render(run(log)))
    validate(schema, data)
    assert data["findings"] == [] and data["diagnostics"] == []
    assert data["summary"]["findings"] == {"error": 0, "warning": 0, "info": 0}


def test_missing_path_report_validates(tmp_path, schema):
    result = engine.run([str(tmp_path / "missing.jsonl")], RULES, engine.Options())
    data = orjson.loads(json_report.render(result))
    validate(schema, data)
    assert data["diagnostics"][0]["line"] is None


def test_key_order_is_stable(tmp_path):
    log = write_log(tmp_path / "log.jsonl", conversation())
    data = orjson.loads(json_report.render(run(log)))
    assert list(data) == ["version", "tool", "findings", "diagnostics", "summary", "threads"]
    assert list(data["findings"][0]) == [
        "code", "name", "category", "severity", "message", "fix", "location", "fingerprint", "excerpt", "impact",
    ]
    assert list(data["findings"][0]["location"]) == ["file", "line", "entry", "pointer", "thread", "turn"]
    assert list(data["summary"]) == ["files", "records", "requests", "threads", "findings", "skipped", "invalid", "unreadable", "cache"]
    assert list(data["findings"][0]["impact"])[:5] == ["tokens", "cost_usd", "model", "estimated", "calibrated"]
    assert list(data["threads"][0]) == [
        "file", "thread", "requests", "model", "prompt_tokens", "predicted_read_tokens", "predicted_hit_rate",
        "ideal_hit_rate", "observed_requests", "observed_hit_rate", "lost_tokens", "lost_usd",
    ]
    # indent 2, one trailing newline
    raw = json_report.render(run(log))
    assert raw.startswith(b'{\n  "version": 1,') and raw.endswith(b"}\n")


def test_schema_rejects_unknown_keys_and_values(tmp_path, schema):
    log = write_log(tmp_path / "log.jsonl", conversation())
    data = orjson.loads(json_report.render(run(log)))
    extra = json.loads(json.dumps(data))
    extra["findings"][0]["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validate(schema, extra)
    bad = json.loads(json.dumps(data))
    bad["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validate(schema, bad)
    bad = json.loads(json.dumps(data))
    bad["findings"][0]["category"] = "misc"
    with pytest.raises(jsonschema.ValidationError):
        validate(schema, bad)
    bad = json.loads(json.dumps(data))
    del bad["summary"]["invalid"]
    with pytest.raises(jsonschema.ValidationError):
        validate(schema, bad)


def test_fingerprints_survive_lines_inserted_earlier(tmp_path):
    log = tmp_path / "log.jsonl"
    write_log(log, conversation())
    before = {(f.code, f.location.pointer): f.fingerprint for f in run(log).findings}

    unrelated = {
        "model": "claude-haiku-4-5",
        "max_tokens": 50,
        "system": "Generate a short title for the conversation.",
        "messages": [{"role": "user", "content": "Say hello in French"}],
    }
    write_log(log, [unrelated, RESPONSE, unrelated | {"messages": [{"role": "user", "content": "Bonjour"}]},
                    *conversation()])
    result = run(log)
    after = {(f.code, f.location.pointer): f.fingerprint for f in result.findings}
    lines = {f.code: f.location.line for f in result.findings}

    assert before and before == after
    assert lines["PL101"] == 5 and lines["PL401"] == 6  # the lines did move


def test_fingerprints_differ_between_findings(tmp_path):
    log = write_log(tmp_path / "log.jsonl", conversation() + conversation("Another task entirely, please"))
    prints = [f.fingerprint for f in run(log).findings]
    assert len(prints) == len(set(prints)) >= 4


def test_rules_and_explanation_documents(tmp_path):
    data = orjson.loads(json_report.render_rules(RULES))
    assert data["version"] == 1
    assert [r["code"] for r in data["rules"]] == [r.code for r in RULES]
    assert list(data["rules"][0]) == ["code", "name", "category", "severity", "scope", "summary"]
