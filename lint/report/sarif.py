"""SARIF 2.1.0 output (``--format sarif``), for GitHub code scanning and other SARIF viewers.

One run: ``tool.driver`` carries the whole rule catalogue (so ``ruleIndex`` is stable whatever
``--select`` chose), each finding is a result with a physical location (the log file and line,
relative to ``%SRCROOT%``, the current directory) and a logical one (the JSON pointer in the
request body), and input problems are tool execution notifications. ``partialFingerprints`` carry
the finding's fingerprint, which has no line number, so alerts survive lines added to a log.

Keys are written in a fixed order; everything comes from Findings, Diagnostics and the catalogue
(secrets are redacted before findings are made), never from the log itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

import orjson
from prefixlint import __version__
from prefixlint.engine import RunResult
from prefixlint.model import Diagnostic, Finding
from prefixlint.report.text import impact_text
from prefixlint.rulebase import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "prefixlintFingerprint/v1"

# SARIF has no "info" level: its lowest reportable one is "note".
LEVELS = {"error": "error", "warning": "warning", "info": "note"}

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
_HEADING = re.compile(r"^## ", re.MULTILINE)


def level(severity: str) -> str:
    return LEVELS.get(severity, "warning")


def relative_path(path: str, root: Path | None = None) -> str | None:
    """``path`` relative to ``root`` (default: the current directory) with forward slashes, or
    None when it lies outside ``root`` (e.g. an absolute path elsewhere, or another drive)."""
    base = (root or Path.cwd()).resolve()
    p = Path(path)
    if not p.is_absolute():
        p = base / p
    try:
        rel = os.path.relpath(os.path.normpath(p), base)
    except ValueError:  # another drive on Windows
        return None
    rel_posix = PurePath(rel).as_posix()
    if rel_posix == ".." or rel_posix.startswith("../"):
        return None
    return rel_posix


def artifact_location(path: str, root: Path | None = None) -> dict[str, str]:
    """A relative ``uri`` under ``%SRCROOT%`` where possible, else an absolute ``file:`` URI."""
    rel = relative_path(path, root)
    if rel is not None:
        return {"uri": quote(rel, safe="/"), "uriBaseId": SRCROOT}
    return {"uri": Path(path).resolve().as_uri()}


def doc_section(doc: str, heading: str) -> str:
    """The text under ``## heading`` in a rule's Markdown documentation ('' when absent)."""
    parts = _HEADING.split(doc)
    for part in parts[1:]:
        title, _, body = part.partition("\n")
        if title.strip() == heading:
            return body.strip()
    return ""


def reporting_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": doc_section(rule.doc, "What it does") or rule.summary},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {
            "category": rule.category,
            "scope": rule.scope,
            "tags": ["prompt-caching", rule.category],
        },
    }


def _fallback_descriptor(f: Finding) -> dict[str, Any]:
    """A finding whose code is not in the catalogue (a plugin, a test double): described by itself."""
    return {
        "id": f.code,
        "name": f.name,
        "shortDescription": {"text": f.name},
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": {"category": f.category, "tags": ["prompt-caching", f.category]},
    }


def message_text(f: Finding) -> str:
    lines = [f.message, f"Fix: {f.fix}"]
    impact = impact_text(f.impact)
    if impact:
        lines.append(f"Impact: {impact}")
    return "\n\n".join(lines)


def _location(f: Finding, root: Path | None) -> dict[str, Any]:
    loc = f.location
    physical: dict[str, Any] = {
        "artifactLocation": artifact_location(loc.file, root),
        "region": {"startLine": loc.line if loc.line is not None and loc.line >= 1 else 1},
    }
    out: dict[str, Any] = {"physicalLocation": physical}
    if loc.pointer is not None:
        out["logicalLocations"] = [{"fullyQualifiedName": loc.pointer, "kind": "element"}]
    if loc.entry is not None:
        out["properties"] = {"entry": loc.entry}
    return out


def _properties(f: Finding) -> dict[str, Any]:
    loc = f.location
    props: dict[str, Any] = {"category": f.category}
    if loc.thread is not None:
        props["thread"] = loc.thread
    if loc.turn is not None:
        props["turn"] = loc.turn
    if loc.entry is not None:
        props["entry"] = loc.entry
    if loc.pointer is not None:
        props["pointer"] = loc.pointer
    if f.impact:
        props["impact"] = {key: f.impact[key] for key in sorted(f.impact)}
    return props


def result_object(f: Finding, rule_index: int, root: Path | None = None) -> dict[str, Any]:
    return {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": message_text(f)},
        "locations": [_location(f, root)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": _properties(f),
    }


def notification(d: Diagnostic, root: Path | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(d.origin.file, root)}
    if d.origin.line is not None and d.origin.line >= 1:
        physical["region"] = {"startLine": d.origin.line}
    out: dict[str, Any] = {
        "level": "error",
        "message": {"text": d.message},
        "locations": [{"physicalLocation": physical}],
    }
    if d.origin.entry is not None:
        out["properties"] = {"entry": d.origin.entry}
    return out


def _root_uri(root: Path | None) -> str:
    uri = (root or Path.cwd()).resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def document(result: RunResult, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log as plain data. ``root`` is the directory ``%SRCROOT%`` stands for (default:
    the current directory, which in CI is the repository root)."""
    from prefixlint.rules import RULES

    rules = [reporting_descriptor(r) for r in RULES]
    index = {r.code: i for i, r in enumerate(RULES)}
    results = []
    for f in result.findings:
        if f.code not in index:
            index[f.code] = len(rules)
            rules.append(_fallback_descriptor(f))
        results.append(result_object(f, index[f.code], root))
    return {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "prefixlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not result.input_error,
                        "toolExecutionNotifications": [notification(d, root) for d in result.diagnostics],
                    }
                ],
                "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(root)}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(result: RunResult) -> bytes:
    """The ``check --format sarif`` report, UTF-8 encoded, ending with a newline."""
    return orjson.dumps(document(result), option=_OPTIONS)
