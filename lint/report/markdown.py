"""Markdown for a pull-request comment (``--format markdown``).

A title with the verdict, the findings as a table grouped by thread, the per-thread cache table,
and the fixes folded into a ``<details>`` block. GitHub refuses comments longer than 65,536
characters: when the report would be longer, the findings that do not fit are left out and a
note says how many. Table cells are escaped (``|``, backticks, ``<``, ``>``, backslashes,
newlines) so a message can never break the table or inject HTML. The output depends only on the
result: the same run gives the same bytes.
"""

from __future__ import annotations

from prefixlint.cache.simulator import cache_totals
from prefixlint.engine import RunResult
from prefixlint.model import SEVERITIES, Finding
from prefixlint.report.text import (
    THREAD_ROWS,
    _rate,
    _thread_order,
    _where,
    impact_text,
    summary_lines,
)

MAX_CHARS = 65_536  # GitHub's limit for an issue or pull-request comment
MESSAGE_CHARS = 160  # a message longer than this is shortened in the table (full text in the fixes)

_VERDICT_MARK = {"error": ":x:", "warning": ":warning:", "info": ":information_source:"}
_FINDING_COLUMNS = ("Location", "Thread", "Turn", "Severity", "Rule", "Message", "Impact")
_THREAD_COLUMNS = ("File", "Thread", "Requests", "Predicted", "Ideal", "Observed", "Tokens lost", "Cost lost")


def cell(value: object) -> str:
    """``value`` as the text of one table cell: nothing in it can end the cell or the row."""
    text = " ".join(str(value).split())  # newlines and runs of whitespace become one space
    for raw, escaped in (("\\", "\\\\"), ("|", "\\|"), ("`", "\\`"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(raw, escaped)
    return text


def prose(value: object) -> str:
    """Free text outside a table: code spans stay, but no raw HTML gets through."""
    return " ".join(str(value).split()).replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _row(cells: tuple | list) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(columns: tuple[str, ...], rows: list[list[str]], right: tuple[str, ...] = ()) -> list[str]:
    align = ["---:" if c in right else "---" for c in columns]
    return [_row(columns), _row(align), *(_row(r) for r in rows)]


def verdict(result: RunResult) -> str:
    counts = {sev: result.summary.by_severity.get(sev, 0) for sev in SEVERITIES}
    if not any(counts.values()):
        return ":white_check_mark: prefixlint: no findings"
    worst = next(sev for sev in SEVERITIES if counts[sev])
    parts = []
    for sev, n in counts.items():
        word = sev if n == 1 or sev == "info" else sev + "s"
        parts.append(f"{n:,} {word}")
    return f"{_VERDICT_MARK[worst]} prefixlint: {', '.join(parts)}"


def ordered(findings: list[Finding]) -> list[Finding]:
    """Findings grouped by file and thread (threads in number order), report order within."""
    index = {id(f): i for i, f in enumerate(findings)}
    return sorted(findings, key=lambda f: (f.location.file, _thread_order(f.location.thread), index[id(f)]))


def short_impact(impact: dict | None) -> str:
    if not impact:
        return "-"
    tokens = impact.get("tokens") or 0
    if not tokens and impact.get("note"):
        return shorten(str(impact["note"]), 60)
    text = f"~{tokens:,} tokens"
    if impact.get("cost_usd") is not None:
        text += f", ${impact['cost_usd']:,.4f}"
    return text


def finding_row(f: Finding) -> list[str]:
    loc = f.location
    return [
        cell(_where(f)),
        cell(loc.thread or "-"),
        "-" if loc.turn is None else str(loc.turn),
        cell(f.severity),
        cell(f"{f.code} {f.name}"),
        cell(shorten(f.message)),
        cell(short_impact(f.impact)),
    ]


def fix_item(f: Finding) -> list[str]:
    loc = f.location
    where = _where(f)
    if loc.thread:
        where += f", thread {loc.thread}"
    if loc.turn is not None:
        where += f", turn {loc.turn}"
    lines = [f"- **{cell(f.code)} {cell(f.name)}** ({cell(where)}): {prose(f.message)}", f"  - Fix: {prose(f.fix)}"]
    if loc.pointer:
        lines.append(f"  - At: {cell(loc.pointer)}")
    if f.impact:
        lines.append(f"  - Impact: {prose(impact_text(f.impact))}")
    return lines


def thread_section(threads: list) -> list[str]:
    if not threads:
        return []
    shown = sorted(threads, key=lambda t: (-t.lost_tokens, t.file, _thread_order(t.thread)))[:THREAD_ROWS]
    rows = [
        [
            cell(t.file), cell(t.thread), f"{t.requests:,}", _rate(t.predicted_rate), _rate(t.ideal_rate),
            _rate(t.observed_rate), f"{t.lost_tokens:,}", f"${t.lost_usd:,.4f}" if t.priced else "-",
        ]
        for t in shown
    ]
    out = ["### Cache by thread", ""]
    out += _table(_THREAD_COLUMNS, rows, right=_THREAD_COLUMNS[2:])
    if len(threads) > len(shown):
        out += ["", f"_{len(threads) - len(shown):,} more threads with fewer tokens lost (all in `--format json`)._"]
    totals = cache_totals(threads)
    line = (
        f"All threads: predicted hit rate {_rate(totals['predicted_hit_rate'])}, ideal (append-only) "
        f"{_rate(totals['ideal_hit_rate'])}, observed {_rate(totals['observed_hit_rate'])}; "
        f"~{totals['lost_tokens']:,} tokens lost to findings"
    )
    if totals["lost_usd"] is not None:
        line += f" (${totals['lost_usd']:,.4f} at list price)"
    return out + ["", line + ". Token figures are estimates."]


def _compose(result: RunResult, items: list[Finding], shown: int) -> str:
    head = [f"## {verdict(result)}", ""]
    head += [prose(line.plain) for line in summary_lines(result.summary) if not line.plain.startswith(("Findings:", "Invalid"))]
    if result.diagnostics:
        head += ["", f"{len(result.diagnostics):,} input problems (records that could not be read): see the text report."]
    body: list[str] = []
    if items:
        body += ["", "### Findings", ""]
        body += _table(_FINDING_COLUMNS, [finding_row(f) for f in items[:shown]], right=("Turn", "Impact"))
        if shown < len(items):
            body += [
                "",
                (f"> **Truncated:** {len(items) - shown:,} of {len(items):,} findings are not shown "
                f"(a comment holds at most {MAX_CHARS:,} characters); run `prefixlint check --format json` for all."),
            ]
    threads = thread_section(result.threads)
    if threads:
        body += ["", *threads]
    if items and shown:
        body += ["", f"<details><summary>How to fix ({shown:,} finding{'s' if shown != 1 else ''})</summary>", ""]
        for f in items[:shown]:
            body += fix_item(f)
        body += ["", "</details>"]
    return "\n".join(head + body) + "\n"


def document(result: RunResult, limit: int = MAX_CHARS) -> str:
    """The comment as text, at most ``limit`` characters."""
    items = ordered(result.findings)
    text = _compose(result, items, len(items))
    if len(text) <= limit:
        return text
    lo, hi = 0, len(items) - 1  # the largest number of findings that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(_compose(result, items, mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    text = _compose(result, items, lo)
    if len(text) > limit:  # even the frame is too long (huge thread table or file names): cut hard
        note = "\n\n> **Truncated** to fit a comment.\n"
        text = text[: max(0, limit - len(note))] + note
    return text


def render(result: RunResult) -> bytes:
    """The ``check --format markdown`` report, UTF-8 encoded."""
    return document(result).encode("utf-8")
