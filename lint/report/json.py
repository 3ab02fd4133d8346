"""Versioned JSON output (``--format json``), described by ``prefixlint/schemas/report-v1.json``.

Version 1 is frozen: keys are only ever added in a new version. Keys are written in a fixed order
(orjson keeps insertion order), findings in report order, skipped reasons sorted.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from prefixlint import __version__
from prefixlint.cache.simulator import cache_totals
from prefixlint.engine import RunResult
from prefixlint.model import SEVERITIES, Diagnostic, Finding
from prefixlint.rulebase import Rule

VERSION = 1
SCHEMA = "schemas/report-v1.json"

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def _tool() -> dict[str, str]:
    return {"name": "prefixlint", "version": __version__}


def finding(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "code": f.code,
        "name": f.name,
        "category": f.category,
        "severity": f.severity,
        "message": f.message,
        "fix": f.fix,
        "location": {
            "file": loc.file,
            "line": loc.line,
            "entry": loc.entry,
            "pointer": loc.pointer,
            "thread": loc.thread,
            "turn": loc.turn,
        },
        "fingerprint": f.fingerprint,
        "excerpt": dict(f.excerpt) if f.excerpt else None,
        "impact": dict(f.impact) if f.impact else None,
    }


def diagnostic(d: Diagnostic) -> dict[str, Any]:
    return {"file": d.origin.file, "line": d.origin.line, "entry": d.origin.entry, "message": d.message}


def document(result: RunResult) -> dict[str, Any]:
    """The report as plain data, in the shape of report-v1.json."""
    s = result.summary
    return {
        "version": VERSION,
        "tool": _tool(),
        "findings": [finding(f) for f in result.findings],
        "diagnostics": [diagnostic(d) for d in result.diagnostics],
        "summary": {
            "files": s.files,
            "records": s.records,
            "requests": s.requests,
            "threads": s.threads,
            "findings": {sev: s.by_severity.get(sev, 0) for sev in SEVERITIES},
            "skipped": {reason: s.skipped[reason] for reason in sorted(s.skipped)},
            "invalid": s.invalid,
            "unreadable": getattr(s, "unreadable", 0),
            "cache": cache_totals(result.threads),
            **_suppressed(s),
        },
        "threads": [thread(t) for t in result.threads],
    }


def _suppressed(s: Any) -> dict[str, Any]:
    """``suppressed`` (findings not reported, by reason), present only when there are any."""
    counts = {reason: n for reason, n in sorted(getattr(s, "suppressed", {}).items()) if n}
    return {"suppressed": counts} if counts else {}


def thread(t: Any) -> dict[str, Any]:
    """Per-thread cache figures (token counts are estimates)."""
    return {
        "file": t.file,
        "thread": t.thread,
        "requests": t.requests,
        "model": t.model,
        "prompt_tokens": t.total,
        "predicted_read_tokens": t.predicted_read,
        "predicted_hit_rate": t.predicted_rate,
        "ideal_hit_rate": t.ideal_rate,
        "observed_requests": t.observed_requests,
        "observed_hit_rate": t.observed_rate,
        "lost_tokens": t.lost_tokens,
        "lost_usd": round(t.lost_usd, 6) if t.priced else None,
    }


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=_OPTIONS)


def render(result: RunResult) -> bytes:
    """The ``check --format json`` report, UTF-8 encoded, ending with a newline."""
    return dumps(document(result))


def render_rules(rules: list[Rule]) -> bytes:
    """``prefixlint rules --format json``: the catalogue."""
    return dumps(
        {
            "version": VERSION,
            "tool": _tool(),
            "rules": [
                {
                    "code": r.code,
                    "name": r.name,
                    "category": r.category,
                    "severity": r.severity,
                    "scope": r.scope,
                    "summary": r.summary,
                }
                for r in rules
            ],
        }
    )


def render_explanation(explanation: Any) -> bytes:
    """``prefixlint diff --format json``: an :class:`prefixlint.explain.Explanation` as data."""
    data = asdict(explanation)
    if data.get("model") is not None:
        data["model"] = {"before": data["model"][0], "after": data["model"][1]}
    data["reusable_tokens"] = explanation.reusable_tokens
    return dumps({"version": VERSION, "tool": _tool(), "explanation": data})
