"""The catalogue documents itself, and the README's rule table matches it.

Set PREFIXLINT_UPDATE_README=1 to rewrite the table from the catalogue.
"""

from __future__ import annotations

import os
import re

from conftest import ROOT
from prefixlint.rulebase import DOC_SECTIONS
from prefixlint.rules import RULES, get

START, END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def rules_table() -> str:
    rows = ["| code | name | category | severity | what it detects |", "|---|---|---|---|---|"]
    for rule in RULES:
        rows.append(f"| {rule.code} | `{rule.name}` | {rule.category} | {rule.severity} | {rule.summary} |")
    return "\n".join(rows)


def test_registry_has_no_duplicates():
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))


def test_every_rule_is_documented():
    for rule in RULES:
        assert not rule.problems(), (rule.code, rule.problems())
        positions = [rule.doc.index(h) for h in DOC_SECTIONS]
        assert positions == sorted(positions), f"{rule.code}: sections out of order"
        for heading, body in zip(DOC_SECTIONS, re.split(r"^## .*$", rule.doc, flags=re.M)[1:]):
            assert len(body.strip()) > 40, f"{rule.code}: section {heading!r} is too short"
        assert "TODO" not in rule.doc


def test_lookup_by_code_and_name():
    for rule in RULES:
        assert get(rule.code.lower()) is rule
        assert get(rule.name) is rule
    assert get("PL000") is None


def test_readme_rule_table_matches_catalogue():
    readme = (ROOT / "README.md").read_text()
    table = rules_table()
    if os.environ.get("PREFIXLINT_UPDATE_README"):
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
        readme = f"{head}{START}\n{table}\n{END}{tail}"
        (ROOT / "README.md").write_text(readme)
    assert f"{START}\n{table}\n{END}" in readme
