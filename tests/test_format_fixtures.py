"""The bundled per-format fixtures (fixtures/formats, traces, har, cassettes) through the CLI:
each is detected from its content and gives exactly the findings it was written for."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from conftest import FIXTURES
from prefixlint.cli import app

CASES = {
    "formats/gemini-tool-added.jsonl": [("PL101", 2, None, "T1", 2, "/tools/0/functionDeclarations/1", "error")],
    "formats/bedrock-tool-removed.jsonl": [("PL101", 2, None, "T1", 2, "/toolConfig/tools/1", "error")],
    "formats/claude-code-transcript.jsonl": [
        ("PL704", 8, None, "S1", 3, "/message/usage/cache_read_input_tokens", "warning")
    ],
    # turn 3 of a previous_response_id chain drops a tool, turn 4 brings it back
    "formats/responses-chain.jsonl": [
        ("PL101", 3, None, "T1", 3, "/tools/1", "error"),
        ("PL101", 4, None, "T1", 4, "/tools/1", "error"),
    ],
    "cassettes/anthropic-tool-removed.yaml": [("PL101", 147, 1, "T1", 2, "/tools/1", "error")],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_format_fixture(name):
    result = CliRunner().invoke(app, ["check", str(FIXTURES / name), "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["diagnostics"] == []
    found = [
        (f["code"], f["location"]["line"], f["location"]["entry"], f["location"]["thread"], f["location"]["turn"],
         f["location"]["pointer"], f["severity"])
        for f in report["findings"]
    ]
    assert found == CASES[name]
    assert all(f["impact"] is not None for f in report["findings"])


def test_whole_fixture_tree_is_read_without_a_diagnostic():
    """`prefixlint check fixtures` finds every format by content and reads all of it."""
    result = CliRunner().invoke(app, ["check", str(FIXTURES), "--format", "json", "--fail-on", "never"])
    report = orjson.loads(result.stdout)
    assert report["diagnostics"] == []
    assert report["summary"]["files"] >= 10
