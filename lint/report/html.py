"""A self-contained HTML page (``--format html``): the report a person would rather look at.

On top, the verdict and a summary (counts by severity, cache totals). Then one section per
conversation thread: a timeline with one bar per turn, the part read from the cache in green and
the part re-processed in orange (``read`` and ``total - read`` of ``ThreadStats.turns``), the
recorded cache read as a dark tick when the log had usage; a turn where a finding broke the cache
carries a red marker with the rule code, linking to the finding's card below the timeline
(message, fix, excerpt, impact).

The page is one file that works offline: inline CSS, no script, no font, image or stylesheet
loaded from anywhere. Every text from the run goes through :func:`html.escape`. Stable hooks for
tests and styling: ``id="summary"``, ``class="thread"`` (``data-thread``), ``class="turn"``
(``data-turn``), ``class="finding"`` (``data-code``, ``data-severity``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from prefixlint import __version__
from prefixlint.cache.simulator import MAX_TURN_POINTS, cache_totals
from prefixlint.engine import RunResult
from prefixlint.model import SEVERITIES, Finding
from prefixlint.report.text import (
    _EXCERPT_ORDER,
    _rate,
    _thread_order,
    _where,
    impact_text,
    summary_lines,
)

_EXCERPT_LABEL = {"before": "before", "after": "after", "diff": "diff", "text": "excerpt"}

CSS = """
:root{--ok:#2e9d5b;--re:#f0a04b;--err:#d64545;--warn:#c98a00;--info:#2f7bbf;--ink:#1d2430;--muted:#667085;
--line:#e4e7ec;--bg:#f6f7f9;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
header h1{font-size:22px;margin:0 0 2px}
header .verdict{font-size:17px;font-weight:600;margin:0 0 16px}
.verdict.error{color:var(--err)}.verdict.warning{color:var(--warn)}.verdict.info{color:var(--info)}
.verdict.clean{color:var(--ok)}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
section.card,#summary{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 20px;
margin:0 0 18px}
#summary .stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(118px,1fr));gap:10px;margin:4px 0 10px}
.stat{border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.stat b{display:block;font-size:20px}.stat span{color:var(--muted);font-size:12px}
.stat.error b{color:var(--err)}.stat.warning b{color:var(--warn)}.stat.info b{color:var(--info)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
td.nowrap{white-space:nowrap}
td.num,th.num{white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}
.muted{color:var(--muted)}
.thread h2{font-size:17px;margin:0 0 2px}
.thread .meta{color:var(--muted);margin:0 0 12px}
.legend{display:flex;gap:16px;color:var(--muted);font-size:12px;margin:0 0 8px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-2px;margin-right:5px}
.swatch.read{background:var(--ok)}.swatch.re{background:var(--re)}
.swatch.tick{width:3px;background:var(--ink)}.swatch.brk{background:var(--err)}
.timeline{list-style:none;margin:0 0 14px;padding:0}
.turn{display:grid;grid-template-columns:64px 1fr 250px 150px;align-items:center;gap:10px;padding:3px 6px;
border-radius:6px}
.turn:nth-child(even){background:#fafbfc}
.turn.break{background:#fdf0f0}
.turn .label{color:var(--muted);font-variant-numeric:tabular-nums}
.turn.break .label{color:var(--err);font-weight:600}
.track{position:relative;height:16px;background:#eef0f3;border-radius:4px}
.bar{position:absolute;left:0;top:0;bottom:0;display:flex;border-radius:4px;overflow:hidden}
.bar .read{background:var(--ok)}.bar .re{background:var(--re)}
.turn.break .track{box-shadow:0 0 0 2px var(--err)}
.obs{position:absolute;top:-3px;bottom:-3px;width:3px;margin-left:-1px;background:var(--ink);border-radius:1px}
.nums{font-size:12px;color:var(--muted);font-variant-numeric:tabular-nums;white-space:nowrap}
.marks{display:flex;gap:4px;flex-wrap:wrap}
.marker{display:inline-block;background:var(--err);color:#fff;border-radius:4px;padding:0 6px;font-size:12px;
font-weight:600;text-decoration:none}
.marker.warning{background:var(--warn)}.marker.info{background:var(--info)}
.finding{border:1px solid var(--line);border-left:4px solid var(--err);border-radius:8px;padding:10px 14px;
margin:10px 0;background:#fff}
.finding.warning{border-left-color:var(--warn)}.finding.info{border-left-color:var(--info)}
.finding:target{box-shadow:0 0 0 3px #f7c6c6}
.finding h3{font-size:14px;margin:0 0 4px}
.sev{display:inline-block;border-radius:4px;padding:0 6px;font-size:11px;font-weight:700;text-transform:uppercase;
color:#fff;background:var(--err);margin-right:6px;vertical-align:1px}
.sev.warning{background:var(--warn)}.sev.info{background:var(--info)}
.finding .where{color:var(--muted);font-size:12px;margin:0 0 6px}
.finding p{margin:4px 0}
.finding p code{background:#eef0f3;border-radius:3px;padding:0 3px}
.finding .fix{background:#eef8f1;border-radius:6px;padding:6px 10px}
.finding .impact{color:var(--muted)}
pre.excerpt{margin:4px 0;padding:4px 10px;border-radius:6px;white-space:pre-wrap;word-break:break-all;
background:#f3f4f6}
pre.excerpt.before{background:#fdecec}pre.excerpt.after{background:#e8f6ec}
.note{color:var(--muted);font-size:12px}
footer{color:var(--muted);font-size:12px;text-align:center}
"""


def e(value: object) -> str:
    """Escaped text (also safe inside a double-quoted attribute)."""
    return html.escape(str(value), quote=True)


def rich(value: object) -> str:
    """Escaped text in which `backtick spans` become <code> elements."""
    parts = e(value).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return e(value)
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word if n == 1 else word + 's'}"


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole > 0 else "0%"


def verdict(result: RunResult) -> tuple[str, str]:
    """(css class, text) of the verdict line."""
    counts = {sev: result.summary.by_severity.get(sev, 0) for sev in SEVERITIES}
    if not any(counts.values()):
        return "clean", "No findings: nothing in these requests breaks the cached prefix."
    worst = next(sev for sev in SEVERITIES if counts[sev])
    parts = [f"{n:,} {sev if n == 1 or sev == 'info' else sev + 's'}" for sev, n in counts.items()]
    return worst, ", ".join(parts)


def _summary(result: RunResult) -> list[str]:
    s = result.summary
    totals = cache_totals(result.threads)
    out = ['<section id="summary">', "<h2>Summary</h2>", '<div class="stats">']
    for sev in SEVERITIES:
        n = s.by_severity.get(sev, 0)
        out.append(f'<div class="stat {sev}" data-severity="{sev}"><b>{n:,}</b><span>{e(sev)}</span></div>')
    lost_usd = "-" if totals["lost_usd"] is None else f"${totals['lost_usd']:,.4f}"
    for value, label in (
        (_rate(totals["predicted_hit_rate"]), "predicted hit rate"),
        (_rate(totals["ideal_hit_rate"]), "ideal (append-only)"),
        (_rate(totals["observed_hit_rate"]), "observed hit rate"),
        (f"{totals['lost_tokens']:,}", "tokens lost to findings"),
        (lost_usd, "cost lost (list price)"),
    ):
        out.append(f'<div class="stat"><b>{e(value)}</b><span>{e(label)}</span></div>')
    out.append("</div>")
    for line in summary_lines(s):
        if not line.plain.startswith("Findings:"):
            out.append(f'<p class="muted">{e(line.plain)}</p>')
    if result.threads:
        out.append('<table class="threads"><thead><tr><th>thread</th><th>file</th><th>model</th>')
        out.append("".join(f'<th class="num">{c}</th>' for c in (
            "requests", "predicted", "ideal", "observed", "tokens lost", "cost lost")) + "</tr></thead><tbody>")
        for i, t in enumerate(result.threads):
            cost = f"${t.lost_usd:,.4f}" if t.priced else "-"
            cells = (f"{t.requests:,}", _rate(t.predicted_rate), _rate(t.ideal_rate), _rate(t.observed_rate),
                     f"{t.lost_tokens:,}", cost)
            out.append(
                f'<tr><td><a href="#thread-{i + 1}">{e(t.thread)}</a></td><td class="mono">{e(t.file)}</td>'
                f"<td class=\"nowrap\">{e(t.model or '-')}</td>" + "".join(f'<td class="num">{e(c)}</td>' for c in cells) + "</tr>"
            )
        out.append("</tbody></table>")
        out.append('<p class="note">Token figures are estimates (about 4 bytes a token, calibrated on recorded '
                   "usage where the log has it); costs are at dated list prices.</p>")
    out.append("</section>")
    return out


def _finding(f: Finding, anchor: str) -> list[str]:
    loc = f.location
    sev = e(f.severity)
    where = [f'<span class="mono">{e(_where(f))}</span>']
    if loc.thread:
        where.append(f"thread {e(loc.thread)}")
    if loc.turn is not None:
        where.append(f"turn {loc.turn}")
    if loc.pointer:
        where.append(f'at <code>{e(loc.pointer)}</code>')
    turn = "" if loc.turn is None else f' data-turn="{loc.turn}"'
    out = [
        f'<article class="finding {sev}" id="{e(anchor)}" data-code="{e(f.code)}" data-severity="{sev}"{turn}>',
        (f'<h3><span class="sev {sev}">{sev}</span>{e(f.code)} {e(f.name)} <span class="muted">({e(f.category)})'
        "</span></h3>"),
        f'<div class="where">{" · ".join(where)}</div>',
        f'<p class="message">{rich(f.message)}</p>',
    ]
    if f.excerpt:
        keys = [k for k in _EXCERPT_ORDER if k in f.excerpt] + [k for k in f.excerpt if k not in _EXCERPT_ORDER]
        for key in keys:
            label = _EXCERPT_LABEL.get(key, key)
            out.append(f'<pre class="excerpt {e(key)}"><b>{e(label)}:</b> {e(f.excerpt[key])}</pre>')
    if f.impact:
        out.append(f'<p class="impact">Impact: {e(impact_text(f.impact))}</p>')
    out.append(f'<p class="fix"><b>Fix:</b> {rich(f.fix)}</p>')
    out.append("</article>")
    return out


def _turn(point, scale: int, marks: list[tuple[str, str, str]]) -> str:
    total, read = point.total, min(point.read, point.total)
    cls = "turn break" if marks else "turn"
    width = _pct(total, scale)
    bar = (
        f'<div class="bar" style="width:{width}">'
        f'<span class="read" style="width:{_pct(read, total)}"></span>'
        f'<span class="re" style="width:{_pct(total - read, total)}"></span></div>'
    )
    observed = ""
    tip = f"{point.origin}: {total:,} tokens, {read:,} read from the cache, {total - read:,} re-processed"
    if point.observed_read is not None:
        observed = f'<span class="obs" style="left:{_pct(min(point.observed_read, scale), scale)}"></span>'
        tip += f"; recorded cache read {point.observed_read:,}"
    links = "".join(
        f'<a class="marker {e(sev)}" href="#{e(anchor)}" data-code="{e(code)}">{e(code)}</a>'
        for code, sev, anchor in marks
    )
    nums = f"{read:,} cached · {total - read:,} re-processed"
    if point.observed_read is not None:
        nums += f" · {point.observed_read:,} observed"
    return (
        f'<li class="{cls}" data-turn="{point.turn}" title="{e(tip)}">'
        f'<span class="label">turn {point.turn}</span>'
        f'<div class="track">{bar}{observed}</div>'
        f'<span class="nums">{e(nums)}</span><span class="marks">{links}</span></li>'
    )


def _thread(index: int, t, findings: list[tuple[Finding, str]]) -> list[str]:
    rates = (f"predicted hit rate {_rate(t.predicted_rate)}, ideal {_rate(t.ideal_rate)}, "
             f"observed {_rate(t.observed_rate)}; ~{t.lost_tokens:,} tokens lost")
    if t.priced:
        rates += f" (${t.lost_usd:,.4f})"
    out = [
        f'<section class="thread card" id="thread-{index}" data-thread="{e(t.thread)}" data-file="{e(t.file)}">',
        (f'<h2>Thread {e(t.thread)} <span class="muted">· {_plural(t.requests, "request")} · {e(t.model or "?")}'
        "</span></h2>"),
        f'<p class="meta"><span class="mono">{e(t.file)}</span> · {e(rates)}</p>',
        ('<div class="legend"><span><i class="swatch read"></i>read from the cache</span>'
        '<span><i class="swatch re"></i>re-processed</span><span><i class="swatch tick"></i>recorded cache read</span>'
        '<span><i class="swatch brk"></i>finding on this turn</span></div>'),
        '<ol class="timeline">',
    ]
    by_turn: dict[int, list[tuple[str, str, str]]] = {}
    for f, anchor in findings:
        if f.location.turn is not None:
            by_turn.setdefault(f.location.turn, []).append((f.code, f.severity, anchor))
    scale = max((p.total for p in t.turns), default=0) or 1
    for point in t.turns:
        out.append(_turn(point, scale, by_turn.get(point.turn, [])))
    out.append("</ol>")
    if t.requests > len(t.turns):
        out.append(f'<p class="note">Timeline of the first {len(t.turns):,} of {t.requests:,} turns '
                   f"(at most {MAX_TURN_POINTS:,} are kept per thread).</p>")
    for f, anchor in findings:
        out += _finding(f, anchor)
    out.append("</section>")
    return out


def _diagnostics(result: RunResult) -> list[str]:
    if not result.diagnostics:
        return []
    out = ['<section class="card" id="diagnostics">', f"<h2>Input problems ({len(result.diagnostics):,})</h2>", "<ul>"]
    out += [f'<li><span class="mono">{e(d.origin)}</span>: {e(d.message)}</li>' for d in result.diagnostics]
    return out + ["</ul>", "</section>"]


def _anchored(findings: Iterable[Finding]) -> list[tuple[Finding, str]]:
    return [(f, f"finding-{i + 1}") for i, f in enumerate(findings)]


def document(result: RunResult) -> str:
    """The whole page as text."""
    findings = _anchored(result.findings)
    by_thread: dict[tuple[str, str | None], list[tuple[Finding, str]]] = {}
    for f, anchor in findings:
        by_thread.setdefault((f.location.file, f.location.thread), []).append((f, anchor))
    cls, text = verdict(result)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No request may leave the page: no scripts, nothing loaded, even by a later edit.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>prefixlint report: {e(text)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f'<header><h1>prefixlint report</h1><p class="verdict {cls}">{e(text)}</p></header>',
        *_summary(result),
    ]
    threads = sorted(enumerate(result.threads), key=lambda it: (it[1].file, _thread_order(it[1].thread)))
    shown: set[tuple[str, str | None]] = set()
    for i, t in threads:
        key = (t.file, t.thread)
        shown.add(key)
        out += _thread(i + 1, t, by_thread.get(key, []))
    rest = [item for key, items in by_thread.items() if key not in shown for item in items]
    if rest:
        out += ['<section class="card" id="other-findings">', f"<h2>Other findings ({len(rest):,})</h2>"]
        for f, anchor in rest:
            out += _finding(f, anchor)
        out.append("</section>")
    out += _diagnostics(result)
    out += [f"<footer>prefixlint {e(__version__)}</footer>", "</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(result: RunResult) -> bytes:
    """The ``check --format html`` report: one UTF-8 page, no external resources."""
    return document(result).encode("utf-8")
