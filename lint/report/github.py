"""GitHub Actions annotations (``--format github``, the default when ``GITHUB_ACTIONS=true``).

One workflow command per finding::

    ::error file=logs/run.jsonl,line=4,title=PL101 tool-set-changed::tool list changed ... (fix: ...)

(``warning`` findings are ``::warning``, ``info`` ones ``::notice``), one ``::error`` per input
problem, then a plain summary line. Values are escaped as the runner expects: ``%``, CR and LF in
the message; additionally ``:`` and ``,`` in property values (file, title).
"""

from __future__ import annotations

from prefixlint.engine import RunResult
from prefixlint.model import SEVERITIES, Diagnostic, Finding
from prefixlint.report.sarif import relative_path

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """A command's message: ``%``, ``\\r`` and ``\\n`` percent-encoded (``%`` first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: as a message, and ``:`` and ``,`` too (they delimit properties)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _path(file: str) -> str:
    rel = relative_path(file)
    return rel if rel is not None else file.replace("\\", "/")


def command(name: str, properties: list[tuple[str, str]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{name} {props}::{escape_data(message)}" if props else f"::{name}::{escape_data(message)}"


def annotation(f: Finding) -> str:
    loc = f.location
    props = [("file", _path(loc.file))]
    if loc.line is not None:
        props.append(("line", str(loc.line)))
    title = f"{f.code} {f.name}"
    if loc.line is None and loc.entry is not None:
        title += f" (entry {loc.entry})"
    props.append(("title", title))
    return command(COMMANDS.get(f.severity, "warning"), props, f"{f.message} (fix: {f.fix})")


def diagnostic(d: Diagnostic) -> str:
    props = [("file", _path(d.origin.file))]
    if d.origin.line is not None:
        props.append(("line", str(d.origin.line)))
    message = d.message if d.origin.entry is None else f"entry {d.origin.entry}: {d.message}"
    return command("error", props, message)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def summary_line(result: RunResult) -> str:
    """'prefixlint: 4 findings (3 errors, 1 warning, 0 info) in 9 requests, 3 threads, 1 file.'"""
    s = result.summary
    counts = {sev: s.by_severity.get(sev, 0) for sev in SEVERITIES}
    total = len(result.findings)
    parts = [_count(counts["error"], "error"), _count(counts["warning"], "warning"), f"{counts['info']:,} info"]
    text = (
        f"prefixlint: {_count(total, 'finding')} ({', '.join(parts)}) in "
        f"{_count(s.requests, 'request')}, {_count(s.threads, 'thread')}, {_count(s.files, 'file')}"
    )
    if result.diagnostics:
        text += f"; {_count(len(result.diagnostics), 'input problem')}"
    return text + "."


def lines(result: RunResult) -> list[str]:
    out = [annotation(f) for f in result.findings]
    out.extend(diagnostic(d) for d in result.diagnostics)
    out.append(escape_data(summary_line(result)))
    return out


def render(result: RunResult) -> bytes:
    """The ``check --format github`` report, UTF-8 encoded, one line each, ending with a newline."""
    return ("\n".join(lines(result)) + "\n").encode("utf-8")
