"""Shared test helpers: write request sequences to a log and lint them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from prefixlint import engine
from prefixlint.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"


def _pointers(value, pointer=""):
    from prefixlint.harness.loader import escape

    yield pointer
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _pointers(item, f"{pointer}/{escape(str(key))}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _pointers(item, f"{pointer}/{i}")


def check_harness_document(loaded) -> None:
    """A translated harness document is valid against the harness schema and every value has a line."""
    from jsonschema import Draft202012Validator

    from prefixlint.harness import own

    assert [e.message for e in Draft202012Validator(own.schema()).iter_errors(loaded.doc)] == []
    assert [p for p in _pointers(loaded.doc) if p not in loaded.lines] == []


def write_log(path: Path, records: list) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def lint_records(tmp_path: Path, records: list, **options) -> engine.RunResult:
    log = write_log(tmp_path / "log.jsonl", records)
    return engine.run([str(log)], RULES, engine.Options(**options))


def brief(result: engine.RunResult) -> list[tuple]:
    """(code, line, turn, pointer) of every finding, in report order."""
    return [(f.code, f.location.line, f.location.turn, f.location.pointer) for f in result.findings]


@pytest.fixture
def lint(tmp_path):
    def _lint(records: list, **options) -> engine.RunResult:
        return lint_records(tmp_path, records, **options)

    return _lint


@pytest.fixture(autouse=True)
def _not_in_github_actions(monkeypatch):
    """The default report format depends on GITHUB_ACTIONS: tests choose it explicitly."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
