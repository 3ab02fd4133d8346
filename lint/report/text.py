"""Human-readable output with rich: colour on a terminal, plain text everywhere else.

Findings are grouped by file, then by thread. Written to a file or a pipe the output carries no
ANSI codes and is never wrapped (a path or an excerpt stays on one line, so it can be grepped).
Everything printed here comes from Findings, Diagnostics and the run summary, whose texts the
engine has already redacted; nothing is interpreted as rich markup.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO, Any

from prefixlint.cache.simulator import cache_totals
from prefixlint.engine import RunResult, Summary
from prefixlint.model import SEVERITIES, Diagnostic, Finding, Origin
from prefixlint.rulebase import Rule
from rich.console import Console
from rich.markdown import Markdown
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

PLAIN_WIDTH = 10_000  # no wrapping when the output is not a terminal

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_EXCERPT_ORDER = ("before", "after", "diff", "text")
_EXCERPT_MARK = {"before": ("-", "red"), "after": ("+", "green"), "diff": ("~", "yellow"), "text": (">", "dim")}


def console_for(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A console for ``file``: colours only on a terminal and without ``NO_COLOR``."""
    no_color = bool(os.environ.get("NO_COLOR"))
    options: dict[str, Any] = {
        "file": file,
        "stderr": stderr,
        "force_terminal": None,
        "no_color": no_color,
        "highlight": False,
        "markup": False,
        "emoji": False,
    }
    console = Console(**options)
    if not console.is_terminal:
        # A file or a pipe: never wrap, so paths and excerpts stay whole on their line.
        console = Console(**options, width=PLAIN_WIDTH, soft_wrap=True)
    return console


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _where(f: Finding) -> str:
    loc = f.location
    return str(Origin(loc.file, loc.line, loc.entry))


def _thread_order(thread: str | None) -> tuple[int, str]:
    if thread and thread[1:].isdigit():
        return int(thread[1:]), thread
    return (1 << 62, thread or "")


def _grouped(findings: Iterable[Finding]) -> dict[str, dict[str | None, list[Finding]]]:
    by_file: dict[str, dict[str | None, list[Finding]]] = {}
    for f in findings:
        by_file.setdefault(f.location.file, {}).setdefault(f.location.thread, []).append(f)
    return by_file


def _indented(console: Console, text: Text, indent: int) -> None:
    """Print ``text`` indented; on a terminal, wrapped lines keep the indentation."""
    if console.is_terminal:
        console.print(Padding(text, (0, 0, 0, indent), expand=False))
    else:
        console.print(Text(" " * indent) + text)


def _finding(console: Console, f: Finding) -> None:
    loc = f.location
    head = Text("    ")
    head.append(_where(f), style="bold")
    if loc.turn is not None:
        head.append(f"  turn {loc.turn}", style="dim")
    head.append("  ")
    head.append(f.severity, style=SEVERITY_STYLE.get(f.severity, ""))
    head.append("  ")
    head.append(f.code, style="bold")
    head.append(f" {f.name}")
    if loc.pointer:
        head.append("  at ", style="dim")
        head.append(loc.pointer, style="magenta")
    console.print(head)
    _indented(console, Text(f.message), 6)
    if f.excerpt:
        keys = [k for k in _EXCERPT_ORDER if k in f.excerpt] + [k for k in f.excerpt if k not in _EXCERPT_ORDER]
        for key in keys:
            mark, style = _EXCERPT_MARK.get(key, ("*", "dim"))
            line = Text()
            line.append(f"{mark} {key}: ", style=style)
            line.append(str(f.excerpt[key]))
            _indented(console, line, 8)
    if f.impact:
        _indented(console, Text("impact: " + impact_text(f.impact), style="dim"), 6)
    fix = Text()
    fix.append("fix: ", style="green")
    fix.append(f.fix)
    _indented(console, fix, 6)


def impact_text(impact: dict[str, Any] | None) -> str | None:
    """The impact figure in one sentence, e.g. '~2,011 tokens re-processed ..., $0.0069 ...'."""
    if not impact:
        return None
    tokens = impact.get("tokens") or 0
    if not tokens:
        note = impact.get("note")
        return str(note) if note else "no tokens re-processed"
    text = f"~{tokens:,} tokens re-processed instead of read from the cache"
    cost = impact.get("cost_usd")
    if cost is not None:
        text += f", ${cost:,.4f} at list price"
        if impact.get("model"):
            text += f" for {impact['model']}"
    if impact.get("estimated", True):
        text += " (estimated, calibrated on recorded usage)" if impact.get("calibrated") else " (estimated)"
    return text


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


THREAD_ROWS = 20


def render_threads(console: Console, threads: list) -> None:
    """Per-thread cache figures: predicted, ideal (append-only) and observed hit rates, losses."""
    if not threads:
        return
    shown = sorted(threads, key=lambda t: (-t.lost_tokens, t.file, _thread_order(t.thread)))[:THREAD_ROWS]
    table = Table(title="Cache by thread (token figures are estimates)", title_justify="left", box=None, pad_edge=False)
    for column, justify in (
        ("file", "left"), ("thread", "left"), ("requests", "right"), ("predicted", "right"), ("ideal", "right"),
        ("observed", "right"), ("tokens lost", "right"), ("cost lost", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for t in shown:
        table.add_row(
            t.file, t.thread, f"{t.requests:,}", _rate(t.predicted_rate), _rate(t.ideal_rate), _rate(t.observed_rate),
            f"{t.lost_tokens:,}", f"${t.lost_usd:,.4f}" if t.priced else "-",
        )
    console.print(table)
    if len(threads) > len(shown):
        console.print(Text(f"({len(threads) - len(shown):,} more threads with fewer tokens lost; all in --format json)", style="dim"))
    totals = cache_totals(threads)
    line = (
        f"Cache, all threads: predicted hit rate {_rate(totals['predicted_hit_rate'])}, ideal {_rate(totals['ideal_hit_rate'])}"
        f", observed {_rate(totals['observed_hit_rate'])}; ~{totals['lost_tokens']:,} tokens lost to findings"
    )
    if totals["lost_usd"] is not None:
        line += f" (${totals['lost_usd']:,.4f} at list price)"
    console.print(Text(line + "."))
    console.print()


def render_findings(console: Console, findings: list[Finding]) -> None:
    for file, threads in _grouped(findings).items():
        console.print(Text(file, style="bold underline"))
        for thread in sorted(threads, key=_thread_order):
            items = threads[thread]
            label = f"thread {thread}" if thread else "no thread"
            console.print(Text(f"  {label} ({_plural(len(items), 'finding')})", style="bold blue"))
            for f in items:
                _finding(console, f)
        console.print()


def render_diagnostics(console: Console, diagnostics: list[Diagnostic]) -> None:
    if not diagnostics:
        return
    console.print(Text(f"Input problems ({len(diagnostics)}):", style="bold"))
    for d in diagnostics:
        line = Text("  ")
        line.append(str(d.origin), style="bold")
        line.append(f": {d.message}")
        console.print(line)
    console.print()


def summary_lines(summary: Summary) -> list[Text]:
    s = summary
    checked = Text(
        f"Checked {_plural(s.files, 'file')}: {_plural(s.records, 'record')}, "
        f"{_plural(s.requests, 'request')} in {_plural(s.threads, 'thread')}"
        + (f"; {s.unreadable:,} unreadable (see input problems above)." if getattr(s, "unreadable", 0) else ".")
    )
    findings = Text("Findings: ")
    counts = [(sev, s.by_severity.get(sev, 0)) for sev in SEVERITIES]
    if not any(n for _, n in counts):
        findings.append("none", style="green")
    else:
        for i, (sev, n) in enumerate(counts):
            if i:
                findings.append(", ")
            word = sev if n == 1 or sev == "info" else sev + "s"
            findings.append(f"{n:,} {word}", style=SEVERITY_STYLE[sev] if n else "")
    findings.append(".")
    suppressed = {reason: n for reason, n in getattr(s, "suppressed", {}).items() if n}
    if suppressed:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(suppressed.items()))
        findings.append(f" Suppressed: {sum(suppressed.values()):,} ({reasons}).", style="dim")
    lines = [checked, findings]
    skipped = sum(s.skipped.values())
    if skipped:
        by_count = sorted(s.skipped.items(), key=lambda kv: (-kv[1], kv[0]))
        reasons = ", ".join(f"{reason} ({n:,})" for reason, n in by_count)
        lines.append(Text(f"Skipped {_plural(skipped, 'record')}, not requests: {reasons}.", style="dim"))
    if s.invalid:
        lines.append(Text(f"Invalid requests: {s.invalid:,} (see input problems above).", style="yellow"))
    return lines


def render(result: RunResult, console: Console) -> None:
    """The ``check`` report: findings by file and thread, input problems, the summary."""
    render_findings(console, result.findings)
    render_diagnostics(console, result.diagnostics)
    render_threads(console, result.threads)
    for line in summary_lines(result.summary):
        console.print(line)


# -- the rule catalogue -------------------------------------------------------------------------
_RULE_COLUMNS = ("code", "name", "category", "severity", "scope", "summary")


def render_rules(rules: list[Rule], console: Console) -> None:
    rows = [(r.code, r.name, r.category, r.severity, r.scope, r.summary) for r in rules]
    if console.is_terminal:
        table = Table(*(c.upper() for c in _RULE_COLUMNS), box=None, header_style="bold", pad_edge=False)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(_RULE_COLUMNS)] if rows else []
    for row in [tuple(c.upper() for c in _RULE_COLUMNS), *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        console.print(Text("  ".join(cells)))


def rule_header(rule: Rule) -> str:
    return f"{rule.code} {rule.name} ({rule.category}, {rule.severity})"


def render_rule(rule: Rule, console: Console) -> None:
    """A rule's documentation: Markdown on a terminal, the docstring as it is otherwise."""
    console.print(Text(rule_header(rule), style="bold"))
    console.print()
    if console.is_terminal:
        console.print(Markdown(rule.doc))
    else:
        console.print(Text(rule.doc))


# -- prefixlint diff ----------------------------------------------------------------------------
_KIND_WORDS = {
    "identical": "identical to the previous turn: the whole prompt can be read from the cache",
    "append": "append-only: the request extends the previous one, the cached prefix is reused",
    "edit": "edit: content already sent was changed",
    "delete": "delete: content already sent was removed",
    "insert": "insert: new content was placed before content already sent",
    "reorder": "reorder: the same items were sent in another order",
    "reserialize": "re-serialisation: the same content was serialised differently (key order, whitespace)",
    "setting": "setting change: a cache-key setting changed",
    "model": "model switch: caches are per model",
}


def _label(label: str, style: str = "bold") -> Text:
    """A Text starting with a styled label; what is appended after it stays unstyled."""
    text = Text()
    text.append(label, style=style)
    return text


def _side(label: str, r: Any, extra: str) -> Text:
    t = Text(f"{label:<9} ")
    t.append(r.origin, style="bold")
    t.append(f"  {r.provider} {r.api}  model {r.model or '?'}  ")
    t.append(f"{_plural(r.blocks, 'block')}, ~{r.tokens:,} tokens{extra}", style="dim")
    return t


def render_explanation(exp: Any, console: Console) -> None:
    """Print an :class:`prefixlint.explain.Explanation`."""
    where = ""
    if exp.thread is not None:
        where = f"  (thread {exp.thread}, turn {exp.turn}{', a fork of the thread' if exp.fork else ''})"
    console.print(_side("request", exp.request, where))
    if exp.previous is None:
        console.print(
            Text(
                f"This request starts thread {exp.thread}: there is no earlier turn to compare it with; "
                "its whole prompt is written to the cache.",
            )
        )
        return
    console.print(_side("previous", exp.previous, ""))
    total = exp.total_tokens or 1
    share = _label("shared prefix: ")
    share.append(
        f"{exp.shared_blocks:,} of {_plural(exp.total_blocks, 'block')}, "
        f"~{exp.shared_tokens:,} of ~{exp.total_tokens:,} tokens ({100 * exp.shared_tokens // total}%, estimated)"
    )
    if exp.model is not None:
        share.append("; the model changed, so none of it is read from the cache", style="red")
    console.print(share)
    change = _label("change: ")
    change.append(_KIND_WORDS.get(exp.kind, exp.kind), style="green" if exp.kind in ("identical", "append") else "red")
    if exp.section:
        change.append(f"  (section: {exp.section})")
    console.print(change)
    if exp.pointer or exp.before is not None or exp.after is not None:
        div = _label("first divergence: ")
        div.append(exp.pointer or "?", style="magenta")
        if exp.offset is not None:
            div.append(f" at character {exp.offset:,}")
        console.print(div)
        if exp.before is not None:
            console.print(_label("  - before: ", "red") + Text(exp.before))
        if exp.after is not None:
            console.print(_label("  + after:  ", "green") + Text(exp.after))
    if exp.model is not None:
        console.print(_label("model: ") + Text(f"{exp.model[0]} -> {exp.model[1]}"))
    if exp.settings:
        console.print(_label("settings changed:"))
        for s in exp.settings:
            label = f"{s.label} ({s.pointer})" if s.pointer else s.label
            console.print(Text(f"  {label}: {s.before if s.before is not None else '(absent)'} -> "
                               f"{s.after if s.after is not None else '(absent)'}"))
    if exp.sections:
        line = _label("sections: ")
        line.append(", ".join(f"{s.section} {s.kind} ({s.before}->{s.after})" for s in exp.sections))
        console.print(line)
    if exp.details:
        console.print(_label("details:"))
        for d in exp.details:
            console.print(Text(f"  {d}"))
    if exp.rules:
        console.print(_label("rules:"))
        for hit in exp.rules:
            t = Text("  ")
            t.append(hit.code, style="bold")
            t.append(f" {hit.name} ")
            t.append(hit.severity, style=SEVERITY_STYLE.get(hit.severity, ""))
            if hit.pointer:
                t.append(f" at {hit.pointer}", style="magenta")
            t.append(f": {hit.message}")
            console.print(t)
