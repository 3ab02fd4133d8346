"""Baselines: record today's findings, report only new ones tomorrow.

A baseline is a JSON file written by ``prefixlint check --write-baseline FILE``::

    {"version": 1, "tool": {"name": "prefixlint", "version": "..."},
     "entries": [{"fingerprint", "code", "name", "file", "thread", "turn", "pointer", "message"}]}

Only ``fingerprint`` is matched: it names the rule, the file, the conversation (by the signature of
its first request), the turn within it and the JSON pointer, and never a line number, so a log
re-recorded with extra lines keeps its baseline. The other fields are there for people reading a
diff of the baseline (``message`` is a short hash, so that no log content is copied into it).
The file is deterministic: entries sorted by file, code and fingerprint, keys in a fixed order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from prefixlint.model import Finding

VERSION = 1

_SCHEMA = {
    "type": "object",
    "required": ["version", "entries"],
    "properties": {
        "version": {"const": VERSION},
        "tool": {"type": "object"},
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["fingerprint"],
                "properties": {"fingerprint": {"type": "string", "pattern": "^[0-9a-f]+$"}},
            },
        },
    },
}


class BaselineError(Exception):
    """A baseline that cannot be read: one line naming the file."""


def entry(f: Finding) -> dict:
    return {
        "fingerprint": f.fingerprint,
        "code": f.code,
        "name": f.name,
        "file": f.location.file,
        "thread": f.location.thread,
        "turn": f.location.turn,
        "pointer": f.location.pointer,
        "message": hashlib.sha256(f.message.encode("utf-8")).hexdigest()[:16],
    }


def document(findings: Iterable[Finding]) -> dict:
    from prefixlint import __version__

    entries = {}
    for f in findings:
        entries.setdefault(f.fingerprint, entry(f))
    ordered = sorted(entries.values(), key=lambda e: (e["file"], e["code"], e["fingerprint"]))
    return {"version": VERSION, "tool": {"name": "prefixlint", "version": __version__}, "entries": ordered}


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write(path: str, findings: Iterable[Finding]) -> int:
    """Write the baseline of ``findings`` to ``path``; the number of entries."""
    doc = document(findings)
    text = dumps(doc)
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(doc["entries"])


def load(path: str) -> set[str]:
    """The fingerprints recorded in the baseline at ``path``."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (write one with --write-baseline)") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a baseline (invalid JSON: {exc})") from None
    error = best_match(Draft202012Validator(_SCHEMA).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise BaselineError(f"{path}: not a prefixlint baseline ({where}: {error.message})")
    return {e["fingerprint"] for e in data["entries"]}
