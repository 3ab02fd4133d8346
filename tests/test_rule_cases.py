"""Every rule's YAML fixture cases: exact findings on exact request sequences.

One file per rule in ``fixtures/rules/CODE.yaml``; each case lists its requests (bodies or
envelopes, one per log line), or holds the text of a harness configuration (``harness:``), and the
findings expected from the *whole* catalogue, so a case also
proves that no other rule fires on it. Run one case with ``pytest -k PL101-case_name``.
"""

from __future__ import annotations

import pytest
import yaml

from conftest import FIXTURES, lint_records
from prefixlint import engine
from prefixlint.rules import RULES

CASE_FILES = sorted((FIXTURES / "rules").glob("*.yaml"))


def _cases():
    for path in CASE_FILES:
        data = yaml.safe_load(path.read_text())
        for case in data["cases"]:
            yield pytest.param(data["rule"], case, id=f"{data['rule']}-{case['name']}")


@pytest.mark.parametrize(("code", "case"), list(_cases()))
def test_rule_case(tmp_path, code, case):
    options = case.get("options", {})
    if "harness" in case:  # a harness configuration (its text, so that line numbers are the file's)
        config = tmp_path / "agent.harness.yaml"
        config.write_text(case["harness"])
        result = engine.run([str(config)], RULES, engine.Options(**options))
    else:
        result = lint_records(tmp_path, case["requests"], **options)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    expected = case["expect"] or []
    got = []
    for finding in result.findings:
        loc = finding.location
        full = {
            "code": finding.code,
            "line": loc.line,
            "turn": loc.turn,
            "thread": loc.thread,
            "pointer": loc.pointer,
            "severity": finding.severity,
        }
        got.append(full)
    # Compare on the keys each expectation names (code, line and pointer at least).
    assert len(got) == len(expected), f"expected {expected}, got {got}"
    for want, have in zip(expected, got):
        assert {k: have[k] for k in want} == want, f"expected {expected}, got {got}"


def test_every_rule_has_passing_and_failing_cases():
    by_rule: dict[str, list] = {}
    for path in CASE_FILES:
        data = yaml.safe_load(path.read_text())
        assert path.stem == data["rule"], f"{path.name} must be named after its rule"
        by_rule[data["rule"]] = data["cases"]
    for rule in RULES:
        cases = by_rule.get(rule.code)
        assert cases, f"{rule.code} has no fixture file"
        failing = [c for c in cases if any(e["code"] == rule.code for e in c["expect"] or [])]
        passing = [c for c in cases if not c["expect"]]
        assert failing, f"{rule.code} has no failing case"
        assert passing, f"{rule.code} has no passing case"
        for case in cases:
            for want in case["expect"] or []:
                assert {"code", "line", "pointer"} <= set(want), f"{rule.code}/{case['name']}: {want}"
